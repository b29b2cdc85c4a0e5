// DescribeGroups (key 15), versions 0-5.
// Each group's state, protocol type, chosen protocol and members (client id, host, and in Stable
// their subscription metadata and assignment). A group that does not exist is reported as Dead
// with no error, as Kafka does.
// Version notes: v1+ throttle time; v3+ the group's authorized operations when asked; v4+
// group.instance.id; v5 flexible.
import { DescribeGroupsApi } from '../../protocol/messages/index.js';
import { AUTHORIZED_OPERATIONS_OMITTED, authorizedOperations } from '../authorized-operations.js';
import { defineHandler } from './handler.js';

export const describeGroupsHandler = defineHandler({
  api: DescribeGroupsApi,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, { broker }) {
    const groups = [];
    for (const groupId of request.groups) {
      const described = await broker.groupCoordinator.describeGroup(groupId);
      groups.push({
        errorCode: described.errorCode,
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
        authorizedOperations: authorizedOperations('group', request.includeAuthorizedOperations),
      });
    }
    return { throttleTimeMs: 0, groups };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => ({
        errorCode,
        groupId,
        groupState: '',
        protocolType: '',
        protocolData: '',
        members: [],
        authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      })),
    };
  },
});
