// TxnOffsetCommit (key 28), versions 0-4.
// Commits a consumer group's offsets inside the producer's transaction: the group coordinator
// writes them to `__consumer_offsets` as the producer's transactional batch and makes them the
// group's committed offsets only when the COMMIT marker arrives (an ABORT drops them). The group's
// offsets partition must be in the transaction (AddOffsetsToTxn first), else INVALID_TXN_STATE;
// the transaction coordinator is asked wherever it is (transaction-verification.ts).
// Version notes: v2+ carry the committed leader epoch; v3+ flexible, with generation id, member
// id and group instance id checked as OffsetCommit does (generation -1 skips the checks).
import { ErrorCode } from '../../base/error-codes.js';
import { CONSUMER_OFFSETS_TOPIC } from '../../metadata/topic-name.js';
import { TxnOffsetCommitApi, type TxnOffsetCommitRequest, type TxnOffsetCommitResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const txnOffsetCommitHandler = defineHandler({
  api: TxnOffsetCommitApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker }) {
    const producerId = Number(request.producerId);
    const partition = broker.groupCoordinator.partitionFor(request.groupId);
    const hosted = broker.replicaManager.get(CONSUMER_OFFSETS_TOPIC, partition);
    const verified = await broker.transactionVerifier.verify(CONSUMER_OFFSETS_TOPIC, partition, hosted, request.transactionalId, producerId, request.producerEpoch);
    if (verified !== ErrorCode.NONE) return response(request, () => verificationError(verified));
    const errors = await broker.groupCoordinator.commitTransactionalOffsets({
      groupId: request.groupId,
      producerId,
      producerEpoch: request.producerEpoch,
      generationId: request.generationId ?? -1,
      memberId: request.memberId ?? '',
      groupInstanceId: request.groupInstanceId ?? null,
      offsets: request.topics.flatMap((topic) =>
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
    return response(request, () => errors[at++]!);
  },
  errorResponse(request, errorCode) {
    return response(request, () => errorCode);
  },
});

/** The verification's error as TxnOffsetCommit names it: no answer from the transaction coordinator is a retriable load in progress. */
function verificationError(errorCode: number): number {
  if (errorCode === ErrorCode.INVALID_PRODUCER_EPOCH) return ErrorCode.PRODUCER_FENCED;
  return errorCode === ErrorCode.NOT_ENOUGH_REPLICAS ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : errorCode;
}

function response(request: TxnOffsetCommitRequest, errorFor: () => number): TxnOffsetCommitResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((entry) => ({ partitionIndex: entry.partitionIndex, errorCode: errorFor() })),
    })),
  };
}
