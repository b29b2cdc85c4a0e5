// AddPartitionsToTxn (key 24), versions 0-3.
// Adds partitions to the producer's ongoing transaction (starting one if none is open), recorded
// in `__transaction_state` before the answer. Unknown partitions fail with
// UNKNOWN_TOPIC_OR_PARTITION and the others of the request with OPERATION_NOT_ATTEMPTED;
// CONCURRENT_TRANSACTIONS while the previous transaction's markers are being written.
// Version notes: only 0-3 are advertised (PROTOCOL-NOTES 1.3): v4+ is the batched broker-to-
// coordinator form, and platformatic would send it if advertised; v2+ get PRODUCER_FENCED (older
// versions INVALID_PRODUCER_EPOCH); v3+ flexible.
import { AddPartitionsToTxnApi, type AddPartitionsToTxnRequest, type AddPartitionsToTxnResponse } from '../../protocol/messages/index.js';
import { fencedForVersion } from './22-init-producer-id.js';
import { defineHandler } from './handler.js';

const PRODUCER_FENCED_VERSION = 2;

export const addPartitionsToTxnHandler = defineHandler({
  api: AddPartitionsToTxnApi,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, { broker, apiVersion }) {
    const topics = request.v3AndBelowTopics ?? [];
    const partitions = topics.flatMap((topic) => topic.partitions.map((partition) => ({ topic: topic.name, partition })));
    const errors = await broker.transactionCoordinator.addPartitions(
      request.v3AndBelowTransactionalId ?? '',
      Number(request.v3AndBelowProducerId ?? -1n),
      request.v3AndBelowProducerEpoch ?? -1,
      partitions,
    );
    let at = 0;
    return response(topics, () => fencedForVersion(errors[at++]!, apiVersion, PRODUCER_FENCED_VERSION));
  },
  errorResponse(request, errorCode) {
    return response(request.v3AndBelowTopics ?? [], () => errorCode);
  },
});

function response(topics: NonNullable<AddPartitionsToTxnRequest['v3AndBelowTopics']>, errorFor: () => number): AddPartitionsToTxnResponse {
  return {
    throttleTimeMs: 0,
    resultsByTopicV3AndBelow: topics.map((topic) => ({
      name: topic.name,
      resultsByPartition: topic.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: errorFor() })),
    })),
  };
}
