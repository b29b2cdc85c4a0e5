// DeleteShareGroupState (key 86), version 0: a group coordinator asks the share coordinator (this
// broker, as the leader of the key's `__share_group_state` partition) to forget share-partitions'
// state (a deleted share group, or its offsets deleted): a tombstone each; deleting what is not
// there succeeds. Errors per partition as Kafka: UNKNOWN_TOPIC_OR_PARTITION, NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, INVALID_REQUEST (negative partition);
// a request without group, topics or partitions gets no results.
// Only brokers send it: authorizes CLUSTER_ACTION, as Kafka's KafkaApis, else
// CLUSTER_AUTHORIZATION_FAILED for every partition.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { DeleteShareGroupStateApi, type DeleteShareGroupStateRequest, type DeleteShareGroupStateResponse } from '../../protocol/messages/index.js';
import { answerDeleteShareGroupState } from '../../coordinator/share/share-state-coordinator.js';
import { defineHandler } from './handler.js';

export const deleteShareGroupStateHandler = defineHandler({
  api: DeleteShareGroupStateApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.CLUSTER_ACTION)) return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    return answerDeleteShareGroupState(broker.shareStateCoordinator, request);
  },
  errorResponse(request, errorCode) {
    return everyPartition(request, errorCode);
  },
});

function everyPartition(request: DeleteShareGroupStateRequest, errorCode: number): DeleteShareGroupStateResponse {
  return {
    results: request.topics.map((topic) => ({
      topicId: topic.topicId,
      partitions: topic.partitions.map((entry) => ({ partition: entry.partition, errorCode, errorMessage: null })),
    })),
  };
}
