// ShareGroupDescribe (key 77), version 1 only (Kafka 4.1 removed v0): KIP-932 share groups as
// their coordinator sees them: state (Empty, Stable), group and assignment epochs, the assignor
// ("simple"), and each member's subscription and assignment with topic names. A group that is
// missing or of another type answers GROUP_ID_NOT_FOUND with a message, as Kafka.
// Authorizes DESCRIBE on each group, as Kafka's KafkaApis: else GROUP_AUTHORIZATION_FAILED; a
// described group's authorized operations when asked.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { ShareGroupDescribeApi, type ShareGroupDescribeResponse } from '../../protocol/messages/index.js';
import { AUTHORIZED_OPERATIONS_OMITTED, authorizedOperations } from '../authorized-operations.js';
import { defineHandler } from './handler.js';

type DescribedGroup = ShareGroupDescribeResponse['groups'][number];

export const shareGroupDescribeHandler = defineHandler({
  api: ShareGroupDescribeApi,
  minVersion: 1,
  maxVersion: 1,
  async handle(request, { broker, connection }) {
    const groups: DescribedGroup[] = [];
    for (const groupId of request.groupIds) {
      if (!broker.authorization.group(connection, AclOperation.DESCRIBE, groupId)) {
        groups.push(groupError(groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED));
        continue;
      }
      const [described] = await broker.groupCoordinator.shareGroupDescribe([groupId]);
      const ok = described!.errorCode === ErrorCode.NONE;
      groups.push({
        ...described!,
        members: described!.members.map((member) => ({ ...member, assignment: { topicPartitions: member.assignment } })),
        authorizedOperations: ok
          ? authorizedOperations('group', request.includeAuthorizedOperations, (operation) => broker.authorization.group(connection, operation, groupId, false))
          : AUTHORIZED_OPERATIONS_OMITTED,
      });
    }
    return { throttleTimeMs: 0, groups };
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, groups: request.groupIds.map((groupId) => groupError(groupId, errorCode)) };
  },
});

function groupError(groupId: string, errorCode: number): DescribedGroup {
  return { errorCode, errorMessage: null, groupId, groupState: '', groupEpoch: -1, assignmentEpoch: -1, assignorName: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}
