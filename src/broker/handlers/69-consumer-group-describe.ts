// ConsumerGroupDescribe (key 69), versions 0-1: KIP-848 consumer groups as their coordinator sees
// them: state (Empty, Assigning, Reconciling, Stable), group and assignment epochs, the assignor,
// and each member's subscription, current and target assignment with topic names. A group that is
// missing or classic answers GROUP_ID_NOT_FOUND with a message, as Kafka. v1 (Kafka 4.1, KIP-1099)
// adds each member's MemberType: Kafka 4.2's ConsumerGroupMember reports 0 for a classic-protocol
// member inside a consumer group and 1 otherwise; Conveyor's consumer groups hold no classic
// members (a classic group becomes a consumer group only when empty), so every member is 1.
// Authorizes DESCRIBE on each group, as Kafka's KafkaApis: else GROUP_AUTHORIZATION_FAILED; a
// described group's authorized operations when asked.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { ConsumerGroupDescribeApi, type ConsumerGroupDescribeResponse } from '../../protocol/messages/index.js';
import { AUTHORIZED_OPERATIONS_OMITTED, authorizedOperations } from '../authorized-operations.js';
import { defineHandler } from './handler.js';

type DescribedGroup = ConsumerGroupDescribeResponse['groups'][number];

/** MemberType in v1+: 0 is a classic-protocol member, 1 a consumer-protocol member (-1 unknown). */
const CLASSIC_MEMBER_TYPE = 0;
const CONSUMER_MEMBER_TYPE = 1;

export const consumerGroupDescribeHandler = defineHandler({
  api: ConsumerGroupDescribeApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, { broker, connection }) {
    const groups: DescribedGroup[] = [];
    for (const groupId of request.groupIds) {
      if (!broker.authorization.group(connection, AclOperation.DESCRIBE, groupId)) {
        groups.push(groupError(groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED));
        continue;
      }
      const [described] = await broker.groupCoordinator.consumerGroupDescribe([groupId]);
      const ok = described!.errorCode === ErrorCode.NONE;
      groups.push({
        ...described!,
        members: described!.members.map((member) => ({
          ...member,
          assignment: { topicPartitions: member.assignment },
          targetAssignment: { topicPartitions: member.targetAssignment },
          memberType: member.usesClassicProtocol ? CLASSIC_MEMBER_TYPE : CONSUMER_MEMBER_TYPE,
        })),
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
