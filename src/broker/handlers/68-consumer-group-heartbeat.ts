// ConsumerGroupHeartbeat (key 68), versions 0-1: Kafka 4's consumer group protocol (KIP-848).
// One request joins (member epoch 0), heartbeats, or leaves (-1; -2 for a static member that will
// return) a consumer group; the coordinator computes assignments on the server and answers each
// member with its epoch and, when it changed, the partitions it may now own. Errors as Kafka:
// INVALID_REQUEST (with the reason), UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION,
// FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, UNRELEASED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED,
// GROUP_ID_NOT_FOUND (a classic group with members that cannot be upgraded online: the migration
// policy, another protocol type, a subscription that does not decode), NOT_COORDINATOR. A join to
// a classic group with members otherwise upgrades it in place (Kafka 4.0's online migration).
// Version notes: v1 adds SubscribedTopicRegex (RE2 syntax, matched against whole topic names) and
// the client generates its own member id (KIP-1082); v0 members get one from the coordinator.
// Authorizes READ on the group, as Kafka's KafkaApis: else GROUP_AUTHORIZATION_FAILED.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { ConsumerGroupHeartbeatApi, type ConsumerGroupHeartbeatResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const consumerGroupHeartbeatHandler = defineHandler({
  api: ConsumerGroupHeartbeatApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, { broker, apiVersion, clientId, connection }): Promise<ConsumerGroupHeartbeatResponse> {
    if (!broker.authorization.group(connection, AclOperation.READ, request.groupId)) return failure(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const outcome = await broker.groupCoordinator.consumerGroupHeartbeat({
      groupId: request.groupId,
      memberId: request.memberId,
      memberEpoch: request.memberEpoch,
      instanceId: request.instanceId,
      rackId: request.rackId,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      subscribedTopicNames: request.subscribedTopicNames,
      subscribedTopicRegex: apiVersion >= 1 ? (request.subscribedTopicRegex ?? null) : null,
      serverAssignor: request.serverAssignor,
      topicPartitions: request.topicPartitions,
      clientId: clientId ?? '',
      clientHost: `/${connection.remoteAddress}`,
      apiVersion,
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

function failure(errorCode: number): ConsumerGroupHeartbeatResponse {
  return { throttleTimeMs: 0, errorCode, errorMessage: null, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}
