// DescribeGroups (key 15), versions 0-6.
// Each classic group's state, protocol type, chosen protocol and members (client id, host, and in
// Stable their subscription metadata and assignment). A group that does not exist, or is a KIP-848
// consumer group, is reported as Dead: with no error below v6, with GROUP_ID_NOT_FOUND and a
// message from v6 (KIP-1043), as Kafka 4 does.
// Authorizes DESCRIBE on each group, as Kafka's KafkaApis: the refused ones answer
// GROUP_AUTHORIZATION_FAILED, listed first as Kafka does; a described group's authorized
// operations (v3+, when asked) are those the authorizer grants the principal on it.
// Version notes: v1+ throttle time; v3+ the group's authorized operations when asked; v4+
// group.instance.id; v5 flexible; v6 an error message per group.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { DescribeGroupsApi, type DescribeGroupsResponse } from '../../protocol/messages/index.js';
import { AUTHORIZED_OPERATIONS_OMITTED, authorizedOperations } from '../authorized-operations.js';
import { defineHandler } from './handler.js';

type DescribedGroup = DescribeGroupsResponse['groups'][number];

const ERROR_MESSAGE_VERSION = 6;

export const describeGroupsHandler = defineHandler({
  api: DescribeGroupsApi,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, { broker, connection, apiVersion }) {
    const allowed = request.groups.filter((groupId) => broker.authorization.group(connection, AclOperation.DESCRIBE, groupId));
    const groups = request.groups.filter((groupId) => !allowed.includes(groupId)).map((groupId) => groupError(groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED));
    for (const groupId of allowed) {
      const described = await broker.groupCoordinator.describeGroup(groupId);
      const notFound = described.errorCode === ErrorCode.GROUP_ID_NOT_FOUND && apiVersion < ERROR_MESSAGE_VERSION;
      const errorCode = notFound ? ErrorCode.NONE : described.errorCode;
      groups.push({
        errorCode,
        errorMessage: notFound ? null : (described.errorMessage ?? null),
        groupId,
        groupState: described.state,
        protocolType: described.protocolType,
        protocolData: described.protocolName,
        members: described.members.map((member) => ({
          memberId: member.memberId,
          groupInstanceId: member.groupInstanceId,
          clientId: member.clientId,
          clientHost: member.clientHost,
          memberMetadata: member.metadata,
          memberAssignment: member.assignment,
        })),
        // Kafka fills it in only for a group described without error.
        authorizedOperations:
          errorCode === ErrorCode.NONE
            ? authorizedOperations('group', request.includeAuthorizedOperations, (operation) => broker.authorization.group(connection, operation, groupId, false))
            : AUTHORIZED_OPERATIONS_OMITTED,
      });
    }
    return { throttleTimeMs: 0, groups };
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, groups: request.groups.map((groupId) => groupError(groupId, errorCode)) };
  },
});

/** Kafka's DescribeGroupsResponse.groupError. */
function groupError(groupId: string, errorCode: number): DescribedGroup {
  return { errorCode, errorMessage: null, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}
