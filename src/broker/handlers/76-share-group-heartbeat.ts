// ShareGroupHeartbeat (key 76), version 1 only (Kafka 4.1 removed v0; librdkafka 2.15 pins v1):
// KIP-932 share groups. One request joins (member epoch 0, with a member id the client made up),
// heartbeats, or leaves (-1) a share group; the coordinator answers with the member's epoch and,
// on a join, a full request, or a change, the partitions it consumes now (shared with other
// members when members outnumber partitions). Errors as Kafka: INVALID_REQUEST (with the reason),
// FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, GROUP_MAX_SIZE_REACHED, GROUP_ID_NOT_FOUND (an unknown
// group with epoch != 0, or a group of another type), NOT_COORDINATOR.
// Authorizes as Kafka's KafkaApis: READ on the group (else GROUP_AUTHORIZATION_FAILED), then
// DESCRIBE on every subscribed topic named (else TOPIC_AUTHORIZATION_FAILED, v1+), so a client
// cannot learn of topics it may not see.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { ShareGroupHeartbeatApi, type ShareGroupHeartbeatResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const shareGroupHeartbeatHandler = defineHandler({
  api: ShareGroupHeartbeatApi,
  minVersion: 1,
  maxVersion: 1,
  async handle(request, { broker, clientId, connection }): Promise<ShareGroupHeartbeatResponse> {
    if (!broker.authorization.group(connection, AclOperation.READ, request.groupId)) return failure(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const topics = new Set(request.subscribedTopicNames ?? []);
    for (const topic of topics) if (!broker.authorization.topic(connection, AclOperation.DESCRIBE, topic)) return failure(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const outcome = await broker.groupCoordinator.shareGroupHeartbeat({
      groupId: request.groupId,
      memberId: request.memberId,
      memberEpoch: request.memberEpoch,
      rackId: request.rackId,
      subscribedTopicNames: request.subscribedTopicNames,
      clientId: clientId ?? '',
      clientHost: `/${connection.remoteAddress}`,
    });
    return {
      throttleTimeMs: 0,
      errorCode: outcome.errorCode,
      errorMessage: outcome.errorMessage,
      memberId: outcome.memberId,
      memberEpoch: outcome.memberEpoch,
      heartbeatIntervalMs: outcome.heartbeatIntervalMs,
      assignment: outcome.assignment === null ? null : { topicPartitions: outcome.assignment },
    };
  },
  errorResponse(_request, errorCode) {
    return failure(errorCode);
  },
});

function failure(errorCode: number): ShareGroupHeartbeatResponse {
  return { throttleTimeMs: 0, errorCode, errorMessage: null, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}
