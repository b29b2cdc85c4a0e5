// InitializeShareGroupState (key 83), version 0: a group coordinator asks the share coordinator
// (this broker, as the leader of the key's `__share_group_state` partition) to start, or restart
// at a newer state epoch, the state of share-partitions (KIP-932). Errors per partition as Kafka:
// FENCED_STATE_EPOCH (an older state epoch), UNKNOWN_TOPIC_OR_PARTITION, NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, INVALID_REQUEST (negative partition);
// a request without group, topics or partitions gets no results.
// Only brokers send it: authorizes CLUSTER_ACTION, as Kafka's KafkaApis, else
// CLUSTER_AUTHORIZATION_FAILED for every partition.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { InitializeShareGroupStateApi, type InitializeShareGroupStateRequest, type InitializeShareGroupStateResponse } from '../../protocol/messages/index.js';
import { answerInitializeShareGroupState } from '../../coordinator/share/share-state-coordinator.js';
import { defineHandler } from './handler.js';

export const initializeShareGroupStateHandler = defineHandler({
  api: InitializeShareGroupStateApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.CLUSTER_ACTION)) return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    return answerInitializeShareGroupState(broker.shareStateCoordinator, request);
  },
  errorResponse(request, errorCode) {
    return everyPartition(request, errorCode);
  },
});

function everyPartition(request: InitializeShareGroupStateRequest, errorCode: number): InitializeShareGroupStateResponse {
  return {
    results: request.topics.map((topic) => ({
      topicId: topic.topicId,
      partitions: topic.partitions.map((entry) => ({ partition: entry.partition, errorCode, errorMessage: null })),
    })),
  };
}
