// Groups of either kind as tools show them (the CLI's `conveyor groups`, the HTTP API, the web
// console): classic groups (JoinGroup/SyncGroup, described by DescribeGroups) and KIP-848 consumer
// groups (ConsumerGroupHeartbeat). As in Kafka 4, DescribeGroups answers GROUP_ID_NOT_FOUND for a
// consumer group, which ConsumerGroupDescribe describes instead; ListGroups v5 tells each group's
// type. One mapping of both answers into plain views, so the three tools cannot drift apart.
// KIP-932 share groups (ShareGroupDescribe, DescribeShareGroupOffsets) have views of their own:
// they commit no offsets; their progress is each share-partition's start offset and lag.
import { ErrorCode, errorName } from '../base/error-codes.js';
import type { DescribedGroup as ConsumerDescribedGroup, TopicPartitions } from '../protocol/messages/consumer-group-describe.js';
import type { DescribedGroup as ClassicDescribedGroup } from '../protocol/messages/describe-groups.js';
import type { DescribeShareGroupOffsetsResponse } from '../protocol/messages/describe-share-group-offsets.js';
import { type ApiDescriptor, ConsumerGroupDescribeApi, DescribeGroupsApi, DescribeShareGroupOffsetsApi, ListGroupsApi, ShareGroupDescribeApi } from '../protocol/messages/index.js';
import type { DescribedGroup as ShareDescribedGroup } from '../protocol/messages/share-group-describe.js';
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

export interface ShareGroupMemberView {
  memberId: string;
  rackId: string | null;
  memberEpoch: number;
  clientId: string;
  host: string;
  subscribedTopicNames: string[];
  /** The partitions whose records the member is sent (shared with the group's other members). */
  assignment: TopicPartitionsView[];
}

/** A KIP-932 share group, from one ShareGroupDescribe group. */
export interface ShareGroupView {
  groupId: string;
  /** Empty or Stable (or Dead). */
  state: string;
  /** "simple". */
  assignor: string;
  groupEpoch: number;
  assignmentEpoch: number;
  members: ShareGroupMemberView[];
}

/**
 * One share-partition of a share group, from DescribeShareGroupOffsets. `lag` is Kafka's share
 * lag (KIP-1226): the partition's end offset minus the start offset minus the records above it
 * already acknowledged or archived, that is the records the group has not finished with: in
 * flight (delivered, not yet acknowledged) or not yet delivered. Kafka's kafka-share-groups.sh
 * shows them as START-OFFSET and LAG.
 */
export interface SharePartitionOffsetView {
  topic: string;
  partition: number;
  /** The share-partition start offset (SPSO); null until a leader first wrote the state. */
  startOffset: number | null;
  leaderEpoch: number;
  /** null when unknown: no start offset yet, a broker older than DescribeShareGroupOffsets v1, or the end offset unknown. */
  lag: number | null;
  /** The partition's error name, null when none. */
  error: string | null;
}

/** A group of either kind; `type` is ListGroups v5's group type. */
export type AnyGroupView = ({ type: 'classic' } & ClassicGroupView) | ({ type: 'consumer' } & ConsumerGroupView);

/** One group as ListGroups names it. */
export interface ListedGroupView {
  groupId: string;
  /** 'classic', 'consumer' or 'share' (ListGroups v5; older brokers know only classic groups). */
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

/** A ShareGroupDescribe group as a plain view. */
export function shareGroupView(group: ShareDescribedGroup): ShareGroupView {
  return {
    groupId: group.groupId,
    state: group.groupState,
    assignor: group.assignorName,
    groupEpoch: group.groupEpoch,
    assignmentEpoch: group.assignmentEpoch,
    members: group.members.map((member) => ({
      memberId: member.memberId,
      rackId: member.rackId,
      memberEpoch: member.memberEpoch,
      clientId: member.clientId,
      host: member.clientHost,
      subscribedTopicNames: member.subscribedTopicNames,
      assignment: named(member.assignment.topicPartitions),
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

/**
 * `groupIds` described at their coordinator with ShareGroupDescribe v1: share groups only. A group
 * that does not exist or is of another kind (GROUP_ID_NOT_FOUND) is left out; other errors throw.
 */
export async function describeShareGroupsAt(request: GroupRequest, groupIds: readonly string[]): Promise<ShareGroupView[]> {
  if (groupIds.length === 0) return [];
  const response = await request(ShareGroupDescribeApi, { groupIds: [...groupIds], includeAuthorizedOperations: false }, 1);
  const views: ShareGroupView[] = [];
  for (const group of response.groups) {
    if (group.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) continue;
    if (group.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(group.errorCode, `describing share group '${group.groupId}'`, group.errorMessage);
    views.push(shareGroupView(group));
  }
  return views;
}

/**
 * A share group's start offset and lag per share-partition it initialized (DescribeShareGroupOffsets
 * up to v1, topics null, at the group's coordinator), sorted by topic and partition.
 */
export async function shareGroupOffsetsAt(request: GroupRequest, groupId: string): Promise<SharePartitionOffsetView[]> {
  const response = await request(DescribeShareGroupOffsetsApi, { groups: [{ groupId, topics: null }] }, 1);
  const group = response.groups.find((entry) => entry.groupId === groupId);
  if (group === undefined) return [];
  if (group.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(group.errorCode, `describing offsets of share group '${groupId}'`, group.errorMessage);
  return sharePartitionOffsetViews(group.topics);
}

/** DescribeShareGroupOffsets topics as plain views: -1 (unknown) becomes null. */
export function sharePartitionOffsetViews(topics: DescribeShareGroupOffsetsResponse['groups'][number]['topics']): SharePartitionOffsetView[] {
  return topics
    .flatMap((topic) =>
      topic.partitions.map((partition) => ({
        topic: topic.topicName,
        partition: partition.partitionIndex,
        startOffset: partition.errorCode === ErrorCode.NONE && partition.startOffset >= 0n ? Number(partition.startOffset) : null,
        leaderEpoch: partition.leaderEpoch,
        lag: partition.errorCode === ErrorCode.NONE && partition.lag !== undefined && partition.lag >= 0n ? Number(partition.lag) : null,
        error: partition.errorCode === ErrorCode.NONE ? null : errorName(partition.errorCode),
      })),
    )
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
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
