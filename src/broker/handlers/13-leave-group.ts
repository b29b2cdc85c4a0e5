// LeaveGroup (key 13), versions 0-5.
// Removes members at once, so their partitions move without waiting for a session timeout.
// Version notes: v0-2 one member id with the result as the top-level error; v3+ a batch of
// members (by member id and/or group.instance.id) with one result each; v5 a reason.
// Authorizes READ on the group, as Kafka's KafkaApis: else GROUP_AUTHORIZATION_FAILED, top-level
// only (no member results, as Kafka's LeaveGroupRequest.getErrorResponse).
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { LeaveGroupApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

const BATCHED_VERSION = 3;

export const leaveGroupHandler = defineHandler({
  api: LeaveGroupApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, { broker, apiVersion, connection }) {
    if (!broker.authorization.group(connection, AclOperation.READ, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    const members =
      apiVersion >= BATCHED_VERSION
        ? (request.members ?? []).map(({ memberId, groupInstanceId }) => ({ memberId, groupInstanceId }))
        : [{ memberId: request.memberId ?? '', groupInstanceId: null }];
    const result = await broker.groupCoordinator.leaveGroup(request.groupId, members);
    if (apiVersion < BATCHED_VERSION) {
      const errorCode = result.errorCode !== ErrorCode.NONE ? result.errorCode : (result.memberErrors[0] ?? ErrorCode.NONE);
      return { throttleTimeMs: 0, errorCode };
    }
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      members: members.map((member, index) => ({ ...member, errorCode: result.memberErrors[index] ?? ErrorCode.NONE })),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      errorCode,
      members: (request.members ?? []).map(({ memberId, groupInstanceId }) => ({ memberId, groupInstanceId, errorCode })),
    };
  },
});
