// Heartbeat (key 12), versions 0-4.
// Keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to re-join, ILLEGAL_GENERATION,
// UNKNOWN_MEMBER_ID and FENCED_INSTANCE_ID fence stale members, as Kafka.
// Authorizes READ on the group, as Kafka's KafkaApis: else GROUP_AUTHORIZATION_FAILED.
// Version notes: v3+ group.instance.id; v4 flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { HeartbeatApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const heartbeatHandler = defineHandler({
  api: HeartbeatApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.group(connection, AclOperation.READ, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const errorCode = await broker.groupCoordinator.heartbeat(request.groupId, request.memberId, request.groupInstanceId ?? null, request.generationId);
    return { throttleTimeMs: 0, errorCode };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode };
  },
});
