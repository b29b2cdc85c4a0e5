// TxnOffsetCommit (key 28), versions 0-4.
// Commits a consumer group's offsets inside the producer's transaction: the group coordinator
// writes them to `__consumer_offsets` as the producer's transactional batch and makes them the
// group's committed offsets only when the COMMIT marker arrives (an ABORT drops them). The group's
// offsets partition must be in the transaction (AddOffsetsToTxn first), else INVALID_TXN_STATE;
// the transaction coordinator is asked wherever it is (transaction-verification.ts).
// Authorizes as Kafka's KafkaApis, before anything else: WRITE on the transactional id (else
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every partition), READ on the group (else
// GROUP_AUTHORIZATION_FAILED), then READ on each topic: a refused topic's partitions get
// TOPIC_AUTHORIZATION_FAILED, and when no partition that exists is left Kafka answers at once
// (UNKNOWN_TOPIC_OR_PARTITION for the unknown ones) without asking either coordinator.
// Version notes: v2+ carry the committed leader epoch; v3+ flexible, with generation id, member
// id and group instance id checked as OffsetCommit does (generation -1 skips the checks).
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { CONSUMER_OFFSETS_TOPIC } from '../../metadata/topic-name.js';
import { TxnOffsetCommitApi, type TxnOffsetCommitRequest, type TxnOffsetCommitResponse } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

type RequestTopics = TxnOffsetCommitRequest['topics'];

export const txnOffsetCommitHandler = defineHandler({
  api: TxnOffsetCommitApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker, connection }) {
    const { authorization } = broker;
    if (!authorization.transactionalId(connection, AclOperation.WRITE, request.transactionalId)) return response(request.topics, () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!authorization.group(connection, AclOperation.READ, request.groupId)) return response(request.topics, () => ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const refused = new Set(request.topics.map((topic) => topic.name).filter((name) => !authorization.topic(connection, AclOperation.READ, name)));
    if (refused.size === 0) return commit(broker, request, request.topics);
    const authorized = request.topics.filter((topic) => !refused.has(topic.name));
    const anyExists = authorized.some((topic) => topic.partitions.some((entry) => broker.image.partition(topic.name, entry.partitionIndex) !== undefined));
    const answered = anyExists ? await commit(broker, request, authorized) : response(authorized, () => ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    // The answered partitions' errors, in request order among the refused ones.
    const answeredErrors = answered.topics.flatMap((topic) => topic.partitions.map((entry) => entry.errorCode));
    let at = 0;
    return response(request.topics, (topic) => (refused.has(topic) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : answeredErrors[at++]!));
  },
  errorResponse(request, errorCode) {
    return response(request.topics, () => errorCode);
  },
});

/** Verifies that the transaction holds the group's offsets partition, then commits `topics` in it. */
async function commit(broker: BrokerServices, request: TxnOffsetCommitRequest, topics: RequestTopics): Promise<TxnOffsetCommitResponse> {
  const producerId = Number(request.producerId);
  const partition = broker.groupCoordinator.partitionFor(request.groupId);
  const hosted = broker.replicaManager.get(CONSUMER_OFFSETS_TOPIC, partition);
  const verified = await broker.transactionVerifier.verify(CONSUMER_OFFSETS_TOPIC, partition, hosted, request.transactionalId, producerId, request.producerEpoch);
  if (verified !== ErrorCode.NONE) return response(topics, () => verificationError(verified));
  const errors = await broker.groupCoordinator.commitTransactionalOffsets({
    groupId: request.groupId,
    producerId,
    producerEpoch: request.producerEpoch,
    generationId: request.generationId ?? -1,
    memberId: request.memberId ?? '',
    groupInstanceId: request.groupInstanceId ?? null,
    offsets: topics.flatMap((topic) =>
      topic.partitions.map((entry) => ({
        topic: topic.name,
        partition: entry.partitionIndex,
        offset: Number(entry.committedOffset),
        leaderEpoch: entry.committedLeaderEpoch ?? -1,
        metadata: entry.committedMetadata,
      })),
    ),
  });
  let at = 0;
  return response(topics, () => errors[at++]!);
}

/** The verification's error as TxnOffsetCommit names it: no answer from the transaction coordinator is a retriable load in progress. */
function verificationError(errorCode: number): number {
  if (errorCode === ErrorCode.INVALID_PRODUCER_EPOCH) return ErrorCode.PRODUCER_FENCED;
  return errorCode === ErrorCode.NOT_ENOUGH_REPLICAS ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : errorCode;
}

function response(topics: RequestTopics, errorFor: (topic: string) => number): TxnOffsetCommitResponse {
  return {
    throttleTimeMs: 0,
    topics: topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((entry) => ({ partitionIndex: entry.partitionIndex, errorCode: errorFor(topic.name) })),
    })),
  };
}
