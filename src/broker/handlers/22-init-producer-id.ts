// InitProducerId (key 22), versions 0-5.
// Without a transactional id: a fresh producer id (epoch 0) from a block the controller reserved
// durably (ProducerIdsRecord), so ids are never reused, even after a restart. With one: the
// transaction coordinator bumps the epoch (fencing older instances), aborting an ongoing
// transaction of a previous instance first; past epoch 32766 a new producer id is issued.
// Authorizes as Kafka's KafkaApis: with a transactional id (even an empty one), WRITE on it, else
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED; without one (idempotence), IDEMPOTENT_WRITE on the cluster
// (its denial not logged) or WRITE on at least one topic (authorizeByResourceType, KIP-679), else
// CLUSTER_AUTHORIZATION_FAILED.
// Version notes: v0 is kept for librdkafka 2.0.2 (it looks for InitProducerId v0 to enable
// idempotence); v2+ flexible; v3+ carry the current producer id and epoch (KIP-360); before v4
// PRODUCER_FENCED is reported as INVALID_PRODUCER_EPOCH, which older clients understand.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation, AclResourceType, CLUSTER_RESOURCE_NAME } from '../../metadata/acl.js';
import { InitProducerIdApi } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import type { ConnectionInfo } from '../network/index.js';
import { defineHandler } from './handler.js';

const PRODUCER_FENCED_VERSION = 4;

export const initProducerIdHandler = defineHandler({
  api: InitProducerIdApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, { broker, apiVersion, connection }) {
    const refused = authorizationError(broker, connection, request.transactionalId);
    if (refused !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: refused, producerId: -1n, producerEpoch: -1 };
    const result = await broker.transactionCoordinator.initProducerId({
      transactionalId: request.transactionalId,
      transactionTimeoutMs: request.transactionTimeoutMs,
      producerId: Number(request.producerId ?? -1n),
      producerEpoch: request.producerEpoch ?? -1,
    });
    return {
      throttleTimeMs: 0,
      errorCode: fencedForVersion(result.errorCode, apiVersion, PRODUCER_FENCED_VERSION),
      producerId: BigInt(result.producerId),
      producerEpoch: result.producerEpoch,
    };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 };
  },
});

function authorizationError(broker: BrokerServices, connection: ConnectionInfo, transactionalId: string | null): number {
  const { authorization } = broker;
  if (transactionalId !== null) {
    return authorization.transactionalId(connection, AclOperation.WRITE, transactionalId) ? ErrorCode.NONE : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  }
  const idempotent =
    authorization.authorize(connection, AclOperation.IDEMPOTENT_WRITE, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, false) ||
    authorization.authorizeByResourceType(connection, AclOperation.WRITE, AclResourceType.TOPIC);
  return idempotent ? ErrorCode.NONE : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
}

/** Kafka answers PRODUCER_FENCED only to versions that know it; older ones get INVALID_PRODUCER_EPOCH. */
export function fencedForVersion(errorCode: number, apiVersion: number, firstVersionWithFenced: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < firstVersionWithFenced ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;
}
