// Groups of either kind as tools show them (the CLI's `conveyor groups`, the HTTP API, the web
// console): classic groups (JoinGroup/SyncGroup, described by DescribeGroups) and KIP-848 consumer
// groups (ConsumerGroupHeartbeat). As in Kafka 4, DescribeGroups answers GROUP_ID_NOT_FOUND for a
// consumer group, which ConsumerGroupDescribe describes instead; ListGroups v5 tells each group's
// type. One mapping of both answers into plain views, so the three tools cannot drift apart.
import { ErrorCode } from '../base/error-codes.js';
import type { DescribedGroup as ConsumerDescribedGroup, TopicPartitions } from '../protocol/messages/consumer-group-describe.js';
import type { DescribedGroup as ClassicDescribedGroup } from '../protocol/messages/describe-groups.js';
import { type ApiDescriptor, ConsumerGroupDescribeApi, DescribeGroupsApi, ListGroupsApi } from '../protocol/messages/index.js';
import { decodeConsumerProtocolAssignment } from '../protocol/messages/records/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { KafkaResponseError } from './cluster-client.js';

export interface TopicPartitionsView {
  topic: string;
  partitions: number[];
}

export interface ConsumerGroupMemberView {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  memberEpoch: number;
  clientId: string;
  host: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  /** What the member owns now. */
  assignment: TopicPartitionsView[];
  /** What the coordinator wants it to own; differs from `assignment` while it reconciles. */
  targetAssignment: TopicPartitionsView[];
}

/** A KIP-848 consumer group, from one ConsumerGroupDescribe group. */
export interface ConsumerGroupView {
  groupId: string;
  /** Empty, Assigning, Reconciling, Stable (or Dead). */
  state: string;
  assignor: string;
  groupEpoch: number;
  assignmentEpoch: number;
  members: ConsumerGroupMemberView[];
}

export interface ClassicGroupMemberView {
  memberId: string;
  instanceId: string | null;
  clientId: string;
  host: string;
  /** Decoded for protocol type "consumer" only: other protocols (Connect's) have their own blobs. */
  assignment: TopicPartitionsView[];
}

/** A classic group, from one DescribeGroups group. */
export interface ClassicGroupView {
  groupId: string;
  state: string;
  protocolType: string;
  /** The chosen protocol: the assignor's name for protocol type "consumer" (range, cooperative-sticky...). */
  protocol: string;
  members: ClassicGroupMemberView[];
}

/** A group of either kind; `type` is ListGroups v5's group type. */
export type AnyGroupView = ({ type: 'classic' } & ClassicGroupView) | ({ type: 'consumer' } & ConsumerGroupView);

/** One group as ListGroups names it. */
export interface ListedGroupView {
  groupId: string;
  /** 'classic' or 'consumer' (ListGroups v5; older brokers know only classic groups). */
  type: string;
  state: string;
  protocolType: string;
}

/**
 * Sends one request to one broker (a group's coordinator, or the broker whose groups are listed) at
 * most at `maxVersion`: the CLI sends on its one connection, the HTTP API and the console through a
 * ClusterClient with an address.
 */
// biome-ignore lint/suspicious/noExplicitAny: the callers encode requests and decode responses only.
export type GroupRequest = <Request, Response>(api: ApiDescriptor<any, Response, Request, any>, request: Request, maxVersion: number) => Promise<Response>;

const CONSUMER_PROTOCOL_ASSIGNMENT_MAX_VERSION = 3;

/** A ConsumerGroupDescribe group as a plain view (topic ids dropped: tools name topics). */
export function consumerGroupView(group: ConsumerDescribedGroup): ConsumerGroupView {
  return {
    groupId: group.groupId,
    state: group.groupState,
    assignor: group.assignorName,
    groupEpoch: group.groupEpoch,
    assignmentEpoch: group.assignmentEpoch,
    members: group.members.map((member) => ({
      memberId: member.memberId,
      instanceId: member.instanceId,
      rackId: member.rackId,
      memberEpoch: member.memberEpoch,
      clientId: member.clientId,
      host: member.clientHost,
      subscribedTopicNames: member.subscribedTopicNames,
      subscribedTopicRegex: member.subscribedTopicRegex,
      assignment: named(member.assignment.topicPartitions),
      targetAssignment: named(member.targetAssignment.topicPartitions),
    })),
  };
}

/** A DescribeGroups group as a plain view, its members' consumer-protocol assignments decoded. */
export function classicGroupView(group: ClassicDescribedGroup): ClassicGroupView {
  return {
    groupId: group.groupId,
    state: group.groupState,
    protocolType: group.protocolType,
    protocol: group.protocolData,
    members: group.members.map((member) => ({
      memberId: member.memberId,
      instanceId: member.groupInstanceId ?? null,
      clientId: member.clientId,
      host: member.clientHost,
      assignment: group.protocolType === 'consumer' ? consumerProtocolAssignment(member.memberAssignment) : [],
    })),
  };
}

/** The groups one broker coordinates, with their types (ListGroups up to v5). */
export async function listGroupsAt(request: GroupRequest): Promise<ListedGroupView[]> {
  const response = await request(ListGroupsApi, { statesFilter: [], typesFilter: [] }, 5);
  if (response.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(response.errorCode, 'listing groups');
  return response.groups.map((group) => ({ groupId: group.groupId, type: group.groupType ?? 'classic', state: group.groupState ?? '', protocolType: group.protocolType }));
}

/**
 * `groupIds` described at their coordinator: one DescribeGroups for all, then one
 * ConsumerGroupDescribe for those it answered GROUP_ID_NOT_FOUND (v6) or Dead with nothing known
 * (below v6), which is how Kafka 4 answers a consumer group.
 * `consumerGroupIds` (known from ListGroups v5) go straight to ConsumerGroupDescribe. A group
 * neither knows is left out; other errors throw. A classic group the coordinator does not know comes
 * back as Kafka answers it: state Dead, no members, no protocol type (callers decide what that is).
 */
export async function describeGroupsAt(request: GroupRequest, groupIds: readonly string[], consumerGroupIds: ReadonlySet<string> = new Set()): Promise<AnyGroupView[]> {
  const views: AnyGroupView[] = [];
  const consumerIds = groupIds.filter((groupId) => consumerGroupIds.has(groupId));
  const classicIds = groupIds.filter((groupId) => !consumerGroupIds.has(groupId));
  // Below v6 Kafka 4 answers a consumer group (and a missing group) Dead, with no error and no
  // protocol type; from v6 with GROUP_ID_NOT_FOUND. Either may be a consumer group.
  const deadUnknown = new Map<string, AnyGroupView>();
  if (classicIds.length > 0) {
    const response = await request(DescribeGroupsApi, { groups: classicIds, includeAuthorizedOperations: false }, 6);
    for (const group of response.groups) {
      if (group.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) consumerIds.push(group.groupId);
      else if (group.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(group.errorCode, `describing group '${group.groupId}'`);
      else if (group.groupState === 'Dead' && group.members.length === 0 && group.protocolType === '') deadUnknown.set(group.groupId, { type: 'classic', ...classicGroupView(group) });
      else views.push({ type: 'classic', ...classicGroupView(group) });
    }
  }
  const asked = [...consumerIds, ...deadUnknown.keys()];
  if (asked.length > 0) {
    const response = await request(ConsumerGroupDescribeApi, { groupIds: asked, includeAuthorizedOperations: false }, 0).catch((error: unknown) => {
      // A broker without ConsumerGroupDescribe has no consumer groups: the Dead answers stand.
      if (consumerIds.length === 0) return undefined;
      throw error;
    });
    for (const group of response?.groups ?? []) {
      if (group.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) continue;
      if (group.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(group.errorCode, `describing group '${group.groupId}'`, group.errorMessage);
      deadUnknown.delete(group.groupId);
      views.push({ type: 'consumer', ...consumerGroupView(group) });
    }
    views.push(...deadUnknown.values());
  }
  const order = new Map(groupIds.map((groupId, index) => [groupId, index]));
  return views.sort((a, b) => (order.get(a.groupId) ?? 0) - (order.get(b.groupId) ?? 0));
}

/** Each (topic, partition) a member owns, one entry per partition. */
export function partitionsOf(assignment: readonly TopicPartitionsView[]): { topic: string; partition: number }[] {
  return assignment.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
}

function named(topicPartitions: readonly TopicPartitions[]): TopicPartitionsView[] {
  return topicPartitions.map(({ topicName, partitions }) => ({ topic: topicName, partitions: [...partitions] }));
}

/**
 * The partitions a classic consumer's assignment blob hands out; none when it is empty or does not
 * decode (a version newer than the codec is read as the newest the codec knows, as Kafka's tools do).
 */
export function consumerProtocolAssignment(assignment: Buffer | Uint8Array): TopicPartitionsView[] {
  if (assignment.length < 2) return [];
  try {
    const reader = new Reader(Buffer.from(assignment.buffer, assignment.byteOffset, assignment.byteLength));
    const version = reader.readInt16();
    const decoded = decodeConsumerProtocolAssignment(reader, Math.min(Math.max(version, 0), CONSUMER_PROTOCOL_ASSIGNMENT_MAX_VERSION));
    return decoded.assignedPartitions.map(({ topic, partitions }) => ({ topic, partitions: [...partitions] }));
  } catch {
    return [];
  }
}
