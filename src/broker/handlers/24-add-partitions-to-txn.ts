// AddPartitionsToTxn (key 24), versions 0-3.
// Adds partitions to the producer's ongoing transaction (starting one if none is open), recorded
// in `__transaction_state` before the answer. Unknown partitions fail with
// UNKNOWN_TOPIC_OR_PARTITION and the others of the request with OPERATION_NOT_ATTEMPTED;
// CONCURRENT_TRANSACTIONS while the previous transaction's markers are being written.
// Authorizes as Kafka's KafkaApis (v0-3, from clients): WRITE on the transactional id, else
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every partition; then WRITE on each topic: a refused
// topic's partitions get TOPIC_AUTHORIZATION_FAILED (an internal topic's always, with an
// authorizer), unknown ones UNKNOWN_TOPIC_OR_PARTITION, the rest OPERATION_NOT_ATTEMPTED, and
// nothing is added. (v4+, which needs CLUSTER_ACTION in Kafka, is not served.)
// Version notes: only 0-3 are advertised (PROTOCOL-NOTES 1.3): v4+ is the batched broker-to-
// coordinator form, and platformatic would send it if advertised; v2+ get PRODUCER_FENCED (older
// versions INVALID_PRODUCER_EPOCH); v3+ flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { internalTopics } from '../../metadata/topic-name.js';
import { AddPartitionsToTxnApi, type AddPartitionsToTxnRequest, type AddPartitionsToTxnResponse } from '../../protocol/messages/index.js';
import { fencedForVersion } from './22-init-producer-id.js';
import { defineHandler } from './handler.js';

const PRODUCER_FENCED_VERSION = 2;

export const addPartitionsToTxnHandler = defineHandler({
  api: AddPartitionsToTxnApi,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, { broker, apiVersion, connection }) {
    const topics = request.v3AndBelowTopics ?? [];
    const transactionalId = request.v3AndBelowTransactionalId ?? '';
    const { authorization } = broker;
    if (!authorization.transactionalId(connection, AclOperation.WRITE, transactionalId)) return response(topics, () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    // Kafka leaves internal topics out of what it asks the authorizer, so they are never authorized.
    const refused = new Set(topics.map((topic) => topic.name).filter((name) => (authorization.enabled && internalTopics.has(name)) || !authorization.topic(connection, AclOperation.WRITE, name)));
    if (refused.size > 0) {
      return response(topics, (name, partition) => {
        if (refused.has(name)) return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        return broker.image.partition(name, partition) === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED;
      });
    }
    const partitions = topics.flatMap((topic) => topic.partitions.map((partition) => ({ topic: topic.name, partition })));
    const errors = await broker.transactionCoordinator.addPartitions(
      transactionalId,
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

function response(topics: NonNullable<AddPartitionsToTxnRequest['v3AndBelowTopics']>, errorFor: (topic: string, partition: number) => number): AddPartitionsToTxnResponse {
  return {
    throttleTimeMs: 0,
    resultsByTopicV3AndBelow: topics.map((topic) => ({
      name: topic.name,
      resultsByPartition: topic.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: errorFor(topic.name, partitionIndex) })),
    })),
  };
}
