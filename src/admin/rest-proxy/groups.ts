// Consumer groups as the HTTP API shows them: ListGroups (asked of every broker, as each
// coordinates its own groups), DescribeGroups and OffsetFetch at the group's coordinator, and the
// log end offsets of the partitions the group commits or is assigned, for lag. These wrappers would
// better live in src/client (an admin client's listGroups/describeGroup); they use only
// ClusterClient's requests and group-offsets.ts's coordinator lookup.
import { ErrorCode } from '../../base/error-codes.js';
import { type AdminClient, OffsetSpec } from '../../client/admin-client.js';
import { KafkaResponseError, hostPort } from '../../client/cluster-client.js';
import { fetchGroupOffsets, findGroupCoordinator } from '../../client/group-offsets.js';
import { assignedPartitions } from '../../coordinator/group/consumer-protocol.js';
import { DescribeGroupsApi, ListGroupsApi } from '../../protocol/messages/index.js';
import { notFound } from './errors.js';

export interface ListedGroup {
  groupId: string;
  state: string;
  protocolType: string;
  coordinator: number;
}

export interface GroupMemberInfo {
  memberId: string;
  instanceId: string | null;
  clientId: string;
  host: string;
  assignments: { topic: string; partition: number }[];
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  /** The assignor (the classic protocol's chosen protocol name, e.g. range). */
  protocol: string;
  coordinator: number;
  members: GroupMemberInfo[];
}

export interface PartitionLag {
  topic: string;
  partition: number;
  currentOffset: number;
  logEndOffset: number;
  lag: number;
  member: GroupMemberInfo | undefined;
}

/** Every group of the cluster, each from the broker that coordinates it, sorted by id. */
export async function listGroups(admin: AdminClient): Promise<ListedGroup[]> {
  const brokers = await admin.describeBrokers();
  const lists = await Promise.all(brokers.filter((broker) => broker.fenced !== true).map(async (broker) => {
    const response = await admin.cluster.request(ListGroupsApi, { statesFilter: [], typesFilter: [] }, { address: await admin.cluster.addressOf(broker.nodeId), maxVersion: 4 });
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(response.errorCode, `listing the groups of broker ${broker.nodeId}`);
    return response.groups.map((group) => ({ groupId: group.groupId, state: group.groupState ?? 'Unknown', protocolType: group.protocolType, coordinator: broker.nodeId }));
  }));
  // Each group once, should two brokers both list it (a coordinator moving).
  const unique = new Map(lists.flat().map((group) => [group.groupId, group]));
  return [...unique.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

/** One group, from its coordinator; 404 when the group does not exist. */
export async function describeGroup(admin: AdminClient, groupId: string): Promise<GroupDescription> {
  const address = await findGroupCoordinator(admin.cluster, groupId);
  const coordinator = (await admin.describeBrokers()).find((broker) => hostPort(broker.host, broker.port) === address)?.nodeId ?? -1;
  const [group] = await describeAt(admin, address, coordinator, [groupId]);
  if (group === undefined) throw notFound(`Consumer group '${groupId}' not found`);
  return group;
}

/**
 * The listed groups described, one DescribeGroups per coordinator for all its groups (a console
 * listing a thousand groups makes a request per broker, not per group); a group that went away
 * between the two requests is left out.
 */
export async function describeListedGroups(admin: AdminClient, groups: readonly ListedGroup[]): Promise<GroupDescription[]> {
  const byCoordinator = new Map<number, string[]>();
  for (const group of groups) byCoordinator.set(group.coordinator, [...(byCoordinator.get(group.coordinator) ?? []), group.groupId]);
  const described = await Promise.all([...byCoordinator].map(async ([coordinator, ids]) => describeAt(admin, await admin.cluster.addressOf(coordinator), coordinator, ids)));
  return described.flat().sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

/** DescribeGroups of `groupIds` at the coordinator `address`; unknown groups are left out, other errors throw. */
async function describeAt(admin: AdminClient, address: string, coordinator: number, groupIds: readonly string[]): Promise<GroupDescription[]> {
  const response = await admin.cluster.request(DescribeGroupsApi, { groups: [...groupIds], includeAuthorizedOperations: false }, { address, maxVersion: 5 });
  const found: GroupDescription[] = [];
  for (const group of response.groups) {
    if (group.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) continue;
    if (group.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(group.errorCode, `describing group '${group.groupId}'`);
    // A coordinator answers Dead, without error, for a group it does not know (Kafka's behaviour).
    if (group.groupState === 'Dead' && group.members.length === 0 && group.protocolType === '') continue;
    found.push({
      groupId: group.groupId,
      state: group.groupState,
      protocolType: group.protocolType,
      protocol: group.protocolData,
      coordinator,
      members: group.members.map((member) => ({
        memberId: member.memberId,
        instanceId: member.groupInstanceId ?? null,
        clientId: member.clientId,
        host: member.clientHost,
        assignments: assignedPartitions(member.memberAssignment).flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition }))),
      })),
    });
  }
  return found;
}

/** Per partition the group commits or is assigned: committed offset, log end offset and lag (Kafka's kafka-consumer-groups view). */
export async function groupLags(admin: AdminClient, group: GroupDescription): Promise<PartitionLag[]> {
  const committed = await fetchGroupOffsets(admin.cluster, group.groupId);
  const owners = new Map<string, GroupMemberInfo>();
  for (const member of group.members) for (const { topic, partition } of member.assignments) owners.set(`${partition}:${topic}`, member);
  const keys = new Map<string, { topic: string; partition: number }>();
  for (const { topic, partition } of [...committed, ...group.members.flatMap((member) => member.assignments)]) keys.set(`${partition}:${topic}`, { topic, partition });
  const ends = new Map<string, number>();
  for (const topicName of new Set([...keys.values()].map(({ topic }) => topic))) {
    const topic = await admin.describeTopic(topicName).catch(() => undefined);
    if (!topic) continue;
    for (const [partition, offset] of await admin.listOffsets(topic, OffsetSpec.latest)) ends.set(`${partition}:${topicName}`, offset);
  }
  const offsets = new Map(committed.map(({ topic, partition, offset }) => [`${partition}:${topic}`, offset]));
  return [...keys]
    .map(([key, { topic, partition }]) => {
      const currentOffset = offsets.get(key) ?? -1;
      const logEndOffset = ends.get(key) ?? -1;
      const lag = currentOffset >= 0 && logEndOffset >= 0 ? Math.max(0, logEndOffset - currentOffset) : Math.max(0, logEndOffset);
      return { topic, partition, currentOffset, logEndOffset, lag, member: owners.get(key) };
    })
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}
