// ReadShareGroupStateSummary (key 87), versions 0-1: a group coordinator reads share-partitions'
// state epoch, leader epoch and start offset from the share coordinator (this broker, as the
// leader of the key's `__share_group_state` partition), e.g. for DescribeShareGroupOffsets. Never
// fenced, and records nothing. A share-partition never initialized (or deleted) answers NONE with
// start offset -1. Errors per partition as Kafka: UNKNOWN_TOPIC_OR_PARTITION, NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, INVALID_REQUEST (negative partition);
// a request without group, topics or partitions gets no results.
// Version notes: v0 answers LeaderEpoch too (Kafka 4.2's v0 differs from 4.0's on the wire); v1
// adds DeliveryCompleteCount (KIP-1226).
// Only brokers send it: authorizes CLUSTER_ACTION, as Kafka's KafkaApis, else
// CLUSTER_AUTHORIZATION_FAILED for every partition.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { ReadShareGroupStateSummaryApi, type ReadShareGroupStateSummaryRequest, type ReadShareGroupStateSummaryResponse } from '../../protocol/messages/index.js';
import { answerReadShareGroupStateSummary } from '../../coordinator/share/share-state-coordinator.js';
import { defineHandler } from './handler.js';

export const readShareGroupStateSummaryHandler = defineHandler({
  api: ReadShareGroupStateSummaryApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.CLUSTER_ACTION)) return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    return answerReadShareGroupStateSummary(broker.shareStateCoordinator, request);
  },
  errorResponse(request, errorCode) {
    return everyPartition(request, errorCode);
  },
});

function everyPartition(request: ReadShareGroupStateSummaryRequest, errorCode: number): ReadShareGroupStateSummaryResponse {
  return {
    results: request.topics.map((topic) => ({
      topicId: topic.topicId,
      partitions: topic.partitions.map((entry) => ({ partition: entry.partition, errorCode, errorMessage: null, stateEpoch: 0, leaderEpoch: 0, startOffset: -1n, deliveryCompleteCount: -1 })),
    })),
  };
}
