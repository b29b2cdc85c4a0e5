// WriteShareGroupState (key 85), versions 0-1: a share-partition's leader records what changed
// (new start offset, the ranges whose delivery state or count changed) with the share coordinator
// (this broker, as the leader of the key's `__share_group_state` partition), which answers once
// the record is committed. Errors per partition as Kafka: INVALID_REQUEST (never initialized),
// FENCED_LEADER_EPOCH, FENCED_STATE_EPOCH, UNKNOWN_TOPIC_OR_PARTITION, NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE; a request without group, topics or
// partitions gets no results.
// Version notes: v1 adds DeliveryCompleteCount (KIP-1226); v0 writes it as -1 (unknown).
// Only brokers send it: authorizes CLUSTER_ACTION, as Kafka's KafkaApis, else
// CLUSTER_AUTHORIZATION_FAILED for every partition.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { WriteShareGroupStateApi, type WriteShareGroupStateRequest, type WriteShareGroupStateResponse } from '../../protocol/messages/index.js';
import { answerWriteShareGroupState } from '../../coordinator/share/share-state-coordinator.js';
import { defineHandler } from './handler.js';

export const writeShareGroupStateHandler = defineHandler({
  api: WriteShareGroupStateApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.CLUSTER_ACTION)) return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    return answerWriteShareGroupState(broker.shareStateCoordinator, request);
  },
  errorResponse(request, errorCode) {
    return everyPartition(request, errorCode);
  },
});

function everyPartition(request: WriteShareGroupStateRequest, errorCode: number): WriteShareGroupStateResponse {
  return {
    results: request.topics.map((topic) => ({
      topicId: topic.topicId,
      partitions: topic.partitions.map((entry) => ({ partition: entry.partition, errorCode, errorMessage: null })),
    })),
  };
}
