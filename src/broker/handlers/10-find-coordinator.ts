// FindCoordinator (key 10), versions 0-6.
// A key's coordinator is the leader of its partition of the internal topic: key type 0 (group) of
// `__consumer_offsets`, key type 1 (transaction) of `__transaction_state`, each created through the
// controller on first need as Kafka does (offsets.topic.num.partitions or
// transaction.state.log.num.partitions partitions, cleanup.policy=compact, replicated). A partition
// without a live leader answers COORDINATOR_NOT_AVAILABLE (the client retries), as does a broker
// whose session may have lapsed (its image may be old). Unknown key types
// get INVALID_REQUEST. Key type 2 (v6+, KIP-932) finds the share coordinator of a share-partition,
// "<groupId>:<topicId>:<partition>", the leader of its `__share_group_state` partition: brokers ask
// it (CLUSTER_ACTION), clients never do. The coordinator's endpoint is the one for the listener the
// request arrived on.
// Authorizes each key as Kafka's KafkaApis, before anything is looked up or created: DESCRIBE on
// the group (else GROUP_AUTHORIZATION_FAILED) or on the transactional id (else
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED); below v4 with Kafka's message for the error.
// Version notes: v1+ key type, throttle time and error message; v4+ batched CoordinatorKeys and a
// Coordinators array (platformatic and Java send only these).
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { parseShareStateCoordinatorKey } from '../../coordinator/share/share-state-coordinator.js';
import { CONSUMER_OFFSETS_TOPIC, SHARE_GROUP_STATE_TOPIC, TRANSACTION_STATE_TOPIC } from '../../metadata/topic-name.js';
import { FindCoordinatorApi } from '../../protocol/messages/index.js';
import type { Coordinator } from '../../protocol/messages/find-coordinator.js';
import { advertisedBrokers } from '../advertised-brokers.js';
import type { BrokerServices } from '../broker-services.js';
import type { ConnectionInfo } from '../network/index.js';
import { defineHandler } from './handler.js';

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;
const KEY_TYPE_SHARE = 2;
/** Key type 2 came with FindCoordinator v6. */
const SHARE_KEY_VERSION = 6;
const BATCHED_VERSION = 4;

export const findCoordinatorHandler = defineHandler({
  api: FindCoordinatorApi,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, { broker, apiVersion, connection }) {
    const keyType = request.keyType ?? KEY_TYPE_GROUP;
    const keys = apiVersion >= BATCHED_VERSION ? (request.coordinatorKeys ?? []) : [request.key ?? ''];
    const coordinators: Coordinator[] = [];
    for (const key of keys) {
      const refused = keyType === KEY_TYPE_SHARE && apiVersion < SHARE_KEY_VERSION ? { errorCode: ErrorCode.INVALID_REQUEST, message: 'key type 2 needs FindCoordinator v6' } : authorizationError(broker, connection, key, keyType);
      // Kafka's batched answer carries no message (v4+); the single one carries the error's (Errors.message()).
      if (refused !== undefined) coordinators.push(coordinatorError(key, refused.errorCode, apiVersion >= BATCHED_VERSION ? null : refused.message));
      else coordinators.push(await findCoordinator(broker, key, keyType, connection.listenerName));
    }
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

/** The key's authorization failure, if the principal may not DESCRIBE it. */
function authorizationError(broker: BrokerServices, connection: ConnectionInfo, key: string, keyType: number): { errorCode: number; message: string } | undefined {
  if (keyType === KEY_TYPE_GROUP && !broker.authorization.group(connection, AclOperation.DESCRIBE, key)) {
    return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, message: 'Group authorization failed.' };
  }
  if (keyType === KEY_TYPE_TRANSACTION && !broker.authorization.transactionalId(connection, AclOperation.DESCRIBE, key)) {
    return { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, message: 'Transactional Id authorization failed.' };
  }
  if (keyType === KEY_TYPE_SHARE && !broker.authorization.cluster(connection, AclOperation.CLUSTER_ACTION)) {
    return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, message: 'Cluster authorization failed.' };
  }
  return undefined;
}

function coordinatorError(key: string, errorCode: number, errorMessage: string | null): Coordinator {
  return { key, nodeId: -1, host: '', port: -1, errorCode, errorMessage };
}

/** The internal topic partition a key's coordinator leads, or the error for the key. */
async function coordinatorPartition(broker: BrokerServices, key: string, keyType: number): Promise<{ topic: string; partition: number } | { errorCode: number; errorMessage: string | null }> {
  if (keyType === KEY_TYPE_GROUP) {
    const errorCode = await broker.groupCoordinator.ensureOffsetsTopic();
    return errorCode === ErrorCode.NONE ? { topic: CONSUMER_OFFSETS_TOPIC, partition: broker.groupCoordinator.partitionFor(key) } : { errorCode, errorMessage: null };
  }
  if (keyType === KEY_TYPE_TRANSACTION) {
    const errorCode = await broker.transactionCoordinator.ensureStateTopic();
    return errorCode === ErrorCode.NONE ? { topic: TRANSACTION_STATE_TOPIC, partition: broker.transactionCoordinator.partitionFor(key) } : { errorCode, errorMessage: null };
  }
  if (keyType === KEY_TYPE_SHARE) {
    const shareKey = parseShareStateCoordinatorKey(key);
    if (shareKey === undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `'${key}' is not a share-partition key (groupId:topicId:partition)` };
    const errorCode = await broker.shareStateCoordinator.ensureStateTopic();
    return errorCode === ErrorCode.NONE ? { topic: SHARE_GROUP_STATE_TOPIC, partition: broker.shareStateCoordinator.partitionFor(shareKey) } : { errorCode, errorMessage: null };
  }
  return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `unknown key type ${keyType}` };
}

async function findCoordinator(broker: BrokerServices, key: string, keyType: number, listenerName: string): Promise<Coordinator> {
  const located = await coordinatorPartition(broker, key, keyType);
  if ('errorCode' in located) return coordinatorError(key, located.errorCode, located.errorMessage);
  // A broker whose session may have lapsed (cut off, or paused past broker.session.timeout.ms) may
  // name itself from an image the cluster has moved past: the client asks another broker instead.
  if (broker.controllerChannel.mayBeStale()) return coordinatorError(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, 'this broker may be cut off from the cluster (no heartbeat accepted within broker.session.timeout.ms); ask another');
  // The coordinator is the leader of the key's partition of the internal topic.
  const { topic, partition } = located;
  const leader = broker.image.topic(topic)?.partitions.get(partition)?.leader ?? -1;
  const found = advertisedBrokers(broker.image, listenerName).find((candidate) => candidate.nodeId === leader);
  if (!found) return coordinatorError(key, ErrorCode.COORDINATOR_NOT_AVAILABLE, `${topic}-${partition} has no live leader`);
  return { key, nodeId: found.nodeId, host: found.host, port: found.port, errorCode: ErrorCode.NONE, errorMessage: null };
}
