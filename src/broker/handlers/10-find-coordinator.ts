// FindCoordinator (key 10), versions 0-6.
// Every coordinator lives on this broker for now: key type 0 (group) answers with this node once
// `__consumer_offsets` exists, key type 1 (transaction) once `__transaction_state` exists, each
// created through the controller on first need as Kafka does (offsets.topic.num.partitions or
// transaction.state.log.num.partitions partitions, cleanup.policy=compact). Unknown key types get
// INVALID_REQUEST. The coordinator's endpoint is the one for the listener the request arrived on.
// Version notes: v1+ key type, throttle time and error message; v4+ batched CoordinatorKeys and a
// Coordinators array (platformatic and Java send only these).
import { ErrorCode } from '../../base/error-codes.js';
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
  async handle(request, { broker, apiVersion, connection }) {
    const keyType = request.keyType ?? KEY_TYPE_GROUP;
    const keys = apiVersion >= BATCHED_VERSION ? (request.coordinatorKeys ?? []) : [request.key ?? ''];
    const coordinators: Coordinator[] = [];
    for (const key of keys) coordinators.push(await findCoordinator(broker, key, keyType, connection.listenerName));
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

async function findCoordinator(broker: BrokerServices, key: string, keyType: number, listenerName: string): Promise<Coordinator> {
  if (keyType !== KEY_TYPE_GROUP && keyType !== KEY_TYPE_TRANSACTION) return coordinatorError(key, ErrorCode.INVALID_REQUEST, `unknown key type ${keyType}`);
  const errorCode = keyType === KEY_TYPE_GROUP ? await broker.groupCoordinator.ensureOffsetsTopic() : await broker.transactionCoordinator.ensureStateTopic();
  if (errorCode !== ErrorCode.NONE) return coordinatorError(key, errorCode, null);
  const self = advertisedBrokers(broker.image, listenerName).find((candidate) => candidate.nodeId === broker.nodeId);
  if (!self) return coordinatorError(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'this broker is not registered yet');
  return { key, nodeId: self.nodeId, host: self.host, port: self.port, errorCode: ErrorCode.NONE, errorMessage: null };
}
