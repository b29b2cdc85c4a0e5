// ReadShareGroupState (key 84), version 0: a share-partition's leader reads the state it starts
// from (state epoch, start offset, the in-flight ranges' delivery state and count) from the share
// coordinator (this broker, as the leader of the key's `__share_group_state` partition). A newer
// LeaderEpoch is recorded, fencing the previous leader's writes. Errors per partition as Kafka:
// INVALID_REQUEST (never initialized, or deleted), FENCED_LEADER_EPOCH (an older leader epoch),
// UNKNOWN_TOPIC_OR_PARTITION, NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
// COORDINATOR_NOT_AVAILABLE; a request without group, topics or partitions gets no results.
// Only brokers send it: authorizes CLUSTER_ACTION, as Kafka's KafkaApis, else
// CLUSTER_AUTHORIZATION_FAILED for every partition.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { ReadShareGroupStateApi, type ReadShareGroupStateRequest, type ReadShareGroupStateResponse } from '../../protocol/messages/index.js';
import { answerReadShareGroupState } from '../../coordinator/share/share-state-coordinator.js';
import { defineHandler } from './handler.js';

export const readShareGroupStateHandler = defineHandler({
  api: ReadShareGroupStateApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.CLUSTER_ACTION)) return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    return answerReadShareGroupState(broker.shareStateCoordinator, request);
  },
  errorResponse(request, errorCode) {
    return everyPartition(request, errorCode);
  },
});

function everyPartition(request: ReadShareGroupStateRequest, errorCode: number): ReadShareGroupStateResponse {
  return {
    results: request.topics.map((topic) => ({
      topicId: topic.topicId,
      partitions: topic.partitions.map((entry) => ({ partition: entry.partition, errorCode, errorMessage: null, stateEpoch: 0, startOffset: -1n, stateBatches: [] })),
    })),
  };
}
