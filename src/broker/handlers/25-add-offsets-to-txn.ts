// AddOffsetsToTxn (key 25), versions 0-4.
// Adds the group's `__consumer_offsets` partition to the producer's transaction, so the
// transaction's markers reach it and commit (or drop) the offsets TxnOffsetCommit wrote there.
// The offsets topic is created on first need (a transactional producer may send offsets before any
// consumer group ever looked up its coordinator), as FindCoordinator does for groups.
// Authorizes as Kafka's KafkaApis, before anything else: WRITE on the transactional id (else
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then READ on the group (else GROUP_AUTHORIZATION_FAILED).
// Version notes: v2+ get PRODUCER_FENCED (older versions INVALID_PRODUCER_EPOCH); v3+ flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { CONSUMER_OFFSETS_TOPIC } from '../../metadata/topic-name.js';
import { AddOffsetsToTxnApi } from '../../protocol/messages/index.js';
import { fencedForVersion } from './22-init-producer-id.js';
import { defineHandler } from './handler.js';

const PRODUCER_FENCED_VERSION = 2;

export const addOffsetsToTxnHandler = defineHandler({
  api: AddOffsetsToTxnApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker, apiVersion, connection }) {
    if (!broker.authorization.transactionalId(connection, AclOperation.WRITE, request.transactionalId)) return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    if (!broker.authorization.group(connection, AclOperation.READ, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const offsetsTopic = await broker.groupCoordinator.ensureOffsetsTopic();
    if (offsetsTopic !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: offsetsTopic };
    const errorCode = await broker.transactionCoordinator.addOffsetsPartition(
      request.transactionalId,
      Number(request.producerId),
      request.producerEpoch,
      CONSUMER_OFFSETS_TOPIC,
      broker.groupCoordinator.partitionFor(request.groupId),
    );
    return { throttleTimeMs: 0, errorCode: fencedForVersion(errorCode, apiVersion, PRODUCER_FENCED_VERSION) };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode };
  },
});
