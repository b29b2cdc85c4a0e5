// Consumer groups as the HTTP API shows them: ListGroups v5 (asked of every broker, as each
// coordinates its own groups; it tells each group's type), DescribeGroups for classic groups and
// ConsumerGroupDescribe for KIP-848 consumer groups at the group's coordinator (the shared mapping
// of src/client/consumer-groups.ts), OffsetFetch, and the log end offsets of the partitions the
// group commits or is assigned, for lag.
import { type AdminClient, OffsetSpec } from '../../client/admin-client.js';
import { hostPort } from '../../client/cluster-client.js';
import { type AnyGroupView, type GroupRequest, describeGroupsAt, listGroupsAt, partitionsOf } from '../../client/consumer-groups.js';
import { fetchGroupOffsets, findGroupCoordinator } from '../../client/group-offsets.js';
import { notFound } from './errors.js';

export interface ListedGroup {
  groupId: string;
  /** 'classic' or 'consumer' (KIP-848). */
  type: string;
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
  /** 'classic' or 'consumer' (KIP-848). */
  type: 'classic' | 'consumer';
  state: string;
  protocolType: string;
  /** The assignor: the classic protocol's chosen protocol name (e.g. range), a consumer group's server-side assignor (uniform, range). */
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
    const listed = await listGroupsAt(requestAt(admin, await admin.cluster.addressOf(broker.nodeId)));
    // Consumer groups of either protocol, as Kafka's consumer-groups tool lists them (share groups are another resource).
    return listed.filter((group) => group.type === 'classic' || group.type === 'consumer').map((group) => ({ ...group, state: group.state || 'Unknown', coordinator: broker.nodeId }));
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
 * The listed groups described, one DescribeGroups (classic groups) and one ConsumerGroupDescribe
 * (consumer groups) per coordinator for all its groups (a console listing a thousand groups makes a
 * request or two per broker, not per group); a group that went away between the requests is left out.
 */
export async function describeListedGroups(admin: AdminClient, groups: readonly ListedGroup[]): Promise<GroupDescription[]> {
  const byCoordinator = new Map<number, ListedGroup[]>();
  for (const group of groups) byCoordinator.set(group.coordinator, [...(byCoordinator.get(group.coordinator) ?? []), group]);
  const described = await Promise.all([...byCoordinator].map(async ([coordinator, listed]) => {
    const consumerIds = new Set(listed.filter((group) => group.type === 'consumer').map((group) => group.groupId));
    return describeAt(admin, await admin.cluster.addressOf(coordinator), coordinator, listed.map((group) => group.groupId), consumerIds);
  }));
  return described.flat().sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

/** Requests to the broker at `address`, at the best common version up to `maxVersion`. */
function requestAt(admin: AdminClient, address: string): GroupRequest {
  return (api, request, maxVersion) => admin.cluster.request(api, request, { address, maxVersion });
}

/** `groupIds` described at the coordinator `address` (either kind); unknown groups are left out, other errors throw. */
async function describeAt(admin: AdminClient, address: string, coordinator: number, groupIds: readonly string[], consumerIds?: ReadonlySet<string>): Promise<GroupDescription[]> {
  const views = await describeGroupsAt(requestAt(admin, address), groupIds, consumerIds);
  // A coordinator answers Dead, without error, for a classic group it does not know (Kafka's behaviour).
  return views.filter((view) => !(view.type === 'classic' && view.state === 'Dead' && view.members.length === 0 && view.protocolType === '')).map((view) => description(view, coordinator));
}

function description(view: AnyGroupView, coordinator: number): GroupDescription {
  return {
    groupId: view.groupId,
    type: view.type,
    state: view.state,
    // A consumer group's members all speak the consumer protocol.
    protocolType: view.type === 'consumer' ? 'consumer' : view.protocolType,
    protocol: view.type === 'consumer' ? view.assignor : view.protocol,
    coordinator,
    members: view.members.map((member) => ({ memberId: member.memberId, instanceId: member.instanceId, clientId: member.clientId, host: member.host, assignments: partitionsOf(member.assignment) })),
  };
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
