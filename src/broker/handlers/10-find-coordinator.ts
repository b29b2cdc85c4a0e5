// FindCoordinator (key 10), versions 0-6.
// Every coordinator lives on this broker for now: key type 0 (group) answers with this node once
// `__consumer_offsets` exists, creating it through the controller on first need as Kafka does
// (offsets.topic.num.partitions partitions, cleanup.policy=compact); key type 1 (transaction)
// answers with this node too. Unknown key types get INVALID_REQUEST.
// Version notes: v1+ key type, throttle time and error message; v4+ batched CoordinatorKeys and a
// Coordinators array (platformatic and Java send only these).
import { ErrorCode } from '../../base/error-codes.js';
import { CONSUMER_OFFSETS_TOPIC } from '../../metadata/topic-name.js';
import { FindCoordinatorApi } from '../../protocol/messages/index.js';
import type { Coordinator } from '../../protocol/messages/find-coordinator.js';
import { advertisedBrokers } from '../advertised-brokers.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;
const BATCHED_VERSION = 4;

export const findCoordinatorHandler = defineHandler({
  api: FindCoordinatorApi,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, { broker, apiVersion }) {
    const keyType = request.keyType ?? KEY_TYPE_GROUP;
    const keys = apiVersion >= BATCHED_VERSION ? (request.coordinatorKeys ?? []) : [request.key ?? ''];
    const coordinators: Coordinator[] = [];
    for (const key of keys) coordinators.push(await findCoordinator(broker, key, keyType));
    if (apiVersion >= BATCHED_VERSION) return { throttleTimeMs: 0, coordinators };
    const { errorCode, errorMessage, nodeId, host, port } = coordinators[0]!;
    return { throttleTimeMs: 0, errorCode, errorMessage, nodeId, host, port };
  },
  errorResponse(request, errorCode, { apiVersion }) {
    if (apiVersion >= BATCHED_VERSION) {
      return { throttleTimeMs: 0, coordinators: (request.coordinatorKeys ?? []).map((key) => coordinatorError(key, errorCode, null)) };
    }
    return { throttleTimeMs: 0, errorCode, errorMessage: null, nodeId: -1, host: '', port: -1 };
  },
});

function coordinatorError(key: string, errorCode: number, errorMessage: string | null): Coordinator {
  return { key, nodeId: -1, host: '', port: -1, errorCode, errorMessage };
}

async function findCoordinator(broker: BrokerServices, key: string, keyType: number): Promise<Coordinator> {
  if (keyType !== KEY_TYPE_GROUP && keyType !== KEY_TYPE_TRANSACTION) return coordinatorError(key, ErrorCode.INVALID_REQUEST, `unknown key type ${keyType}`);
  if (keyType === KEY_TYPE_GROUP) {
    const errorCode = await ensureOffsetsTopic(broker);
    if (errorCode !== ErrorCode.NONE) return coordinatorError(key, errorCode, null);
  }
  const self = advertisedBrokers(broker.image).find((candidate) => candidate.nodeId === broker.nodeId);
  if (!self) return coordinatorError(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'this broker is not registered yet');
  return { key, nodeId: self.nodeId, host: self.host, port: self.port, errorCode: ErrorCode.NONE, errorMessage: null };
}

/** Creates `__consumer_offsets` on first need; concurrent callers race harmlessly (TOPIC_ALREADY_EXISTS). */
async function ensureOffsetsTopic(broker: BrokerServices): Promise<number> {
  if (broker.image.topic(CONSUMER_OFFSETS_TOPIC)) return ErrorCode.NONE;
  const [result] = await broker.controller.createTopics(
    [
      {
        name: CONSUMER_OFFSETS_TOPIC,
        numPartitions: broker.config.offsetsTopicNumPartitions,
        replicationFactor: -1,
        assignments: [],
        configs: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.bytes', value: String(100 * 1024 * 1024) },
        ],
      },
    ],
    false,
  );
  if (result && result.errorCode !== ErrorCode.NONE && result.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
    broker.logger.warn('creating __consumer_offsets failed', { errorCode: result.errorCode, message: result.errorMessage });
    return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }
  return broker.image.topic(CONSUMER_OFFSETS_TOPIC) ? ErrorCode.NONE : ErrorCode.COORDINATOR_NOT_AVAILABLE;
}
