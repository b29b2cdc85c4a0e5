// What the web console shows, read from the cluster over the Kafka protocol only (src/client), so
// the console works against any Kafka-protocol cluster: the overview (brokers, controller, quorum,
// partition health), pages of topics and groups filtered on the server (a cluster may have tens of
// thousands), one topic's partitions, sizes and configs, records read by offset or timestamp, a
// group's members, assignments and lag (classic groups and KIP-848 consumer groups, through the
// mapping of src/client/consumer-groups.ts; a KIP-932 share group's members and, per
// share-partition, its start offset and lag), and offset resets.
import { ErrorCode, errorName } from '../base/error-codes.js';
import { AdminClient, ConfigResource, type TopicInfo, type PartitionOffsets, OffsetSpec, configSourceNames } from '../client/admin-client.js';
import { type ClusterClient, KafkaResponseError, ToolError, hostPort } from '../client/cluster-client.js';
import { Consumer } from '../client/consumer.js';
import { type GroupRequest, type SharePartitionOffsetView, describeGroupsAt, describeShareGroupsAt, listGroupsAt, shareGroupOffsetsAt } from '../client/consumer-groups.js';
import { commitGroupOffsets, fetchGroupOffsets, findGroupCoordinator } from '../client/group-offsets.js';
import { DescribeClusterApi, DescribeQuorumApi, DescribeShareGroupOffsetsApi, type MetadataResponse, ShareGroupDescribeApi } from '../protocol/messages/index.js';

/** A page of a filtered list: `total` matches, `items` from `offset`. */
export interface Page<T> {
  total: number;
  offset: number;
  limit: number;
  items: T[];
}

export interface TopicRow {
  name: string;
  internal: boolean;
  partitions: number;
  replicationFactor: number;
  underReplicated: number;
  offline: number;
}

export interface GroupRow {
  groupId: string;
  /** 'classic', 'consumer' (KIP-848) or 'share' (KIP-932), from ListGroups v5. */
  type: string;
  state: string;
  protocolType: string;
}

/** How long a list of every topic or group is reused: paging and filtering should not re-read 10,000 topics per click. */
const LIST_CACHE_MS = 2_000;
const MAX_PAGE = 500;

/** The metadata quorum's topic (KRaft's __cluster_metadata-0). */
const METADATA_TOPIC = '__cluster_metadata';
/** Share group ids remembered for the lag sampler; the sampler itself watches at most 20 groups. */
const MAX_SHARE_GROUP_IDS = 1_000;

export class ClusterView {
  readonly admin: AdminClient;
  private topicsCache: { at: number; topics: Promise<TopicInfo[]> } | undefined;
  private groupsCache: { at: number; groups: Promise<GroupRow[]> } | undefined;
  /** Groups group() found to be share groups: totalLag() sums their share lag, not committed offsets' lag. */
  private readonly shareGroupIds = new Set<string>();

  constructor(readonly cluster: ClusterClient) {
    this.admin = new AdminClient(cluster);
  }

  /** Forgets the cached lists, after the console created or deleted something. */
  invalidate(): void {
    this.topicsCache = undefined;
    this.groupsCache = undefined;
  }

  async overview() {
    const metadata = await this.cluster.metadata(null);
    const brokers = await this.brokers(metadata);
    let quorum: unknown = null;
    let quorumError: string | null = null;
    try {
      quorum = await this.quorum(metadata);
    } catch (error) {
      quorumError = messageOf(error);
    }
    const health = { topics: 0, partitions: 0, underReplicated: 0, offline: 0, internalTopics: 0 };
    const leaders = new Map<number, number>();
    for (const topic of metadata.topics) {
      if (topic.errorCode !== ErrorCode.NONE) continue;
      if (topic.isInternal) health.internalTopics++;
      else health.topics++;
      for (const partition of topic.partitions) {
        health.partitions++;
        if (partition.leaderId < 0) health.offline++;
        else leaders.set(partition.leaderId, (leaders.get(partition.leaderId) ?? 0) + 1);
        if (partition.isrNodes.length < partition.replicaNodes.length) health.underReplicated++;
      }
    }
    return {
      clusterId: metadata.clusterId ?? null,
      controllerId: metadata.controllerId ?? -1,
      brokers: brokers.map((broker) => ({ ...broker, leaders: leaders.get(broker.nodeId) ?? 0 })),
      quorum,
      quorumError,
      health,
    };
  }

  /** Every registered broker (DescribeCluster v2 marks fenced ones), else Metadata's. */
  private async brokers(metadata: MetadataResponse) {
    if ((await this.cluster.versionOf(DescribeClusterApi.apiKey)) >= 2) {
      const described = await this.cluster.request(DescribeClusterApi, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: true }, { minVersion: 2 });
      if (described.errorCode === ErrorCode.NONE) {
        return described.brokers.map((broker) => ({ nodeId: broker.brokerId, host: broker.host, port: broker.port, rack: broker.rack, fenced: broker.isFenced ?? false })).sort((a, b) => a.nodeId - b.nodeId);
      }
    }
    return metadata.brokers.map((broker) => ({ nodeId: broker.nodeId, host: broker.host, port: broker.port, rack: broker.rack ?? null, fenced: null as boolean | null })).sort((a, b) => a.nodeId - b.nodeId);
  }

  /** DescribeQuorum from the active controller (a Kafka broker that is not one answers with an error, shown as such). */
  private async quorum(metadata: MetadataResponse) {
    const controller = metadata.brokers.find((broker) => broker.nodeId === metadata.controllerId);
    const address = controller === undefined ? undefined : hostPort(controller.host, controller.port);
    const response = await this.cluster.request(DescribeQuorumApi, { topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }] }, { ...(address === undefined ? {} : { address }), maxVersion: 2 });
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(response.errorCode, 'DescribeQuorum', response.errorMessage);
    const partition = response.topics[0]?.partitions[0];
    if (partition === undefined) throw new ToolError('DescribeQuorum answered without the metadata partition');
    if (partition.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(partition.errorCode, 'DescribeQuorum');
    const now = Date.now();
    const replica = (state: (typeof partition.currentVoters)[number], role: string) => ({
      replicaId: state.replicaId,
      role: state.replicaId === partition.leaderId ? 'leader' : role,
      logEndOffset: Number(state.logEndOffset),
      lag: Number(partition.highWatermark) - Number(state.logEndOffset),
      lastCaughtUpMsAgo: state.lastCaughtUpTimestamp === undefined || state.lastCaughtUpTimestamp < 0n ? null : now - Number(state.lastCaughtUpTimestamp),
    });
    return {
      leaderId: partition.leaderId,
      leaderEpoch: partition.leaderEpoch,
      highWatermark: Number(partition.highWatermark),
      voters: partition.currentVoters.map((state) => replica(state, 'voter')),
      observers: partition.observers.map((state) => replica(state, 'observer')),
    };
  }

  private allTopics(): Promise<TopicInfo[]> {
    const now = Date.now();
    if (this.topicsCache === undefined || now - this.topicsCache.at > LIST_CACHE_MS) {
      const topics = this.admin.listTopics(true);
      topics.catch(() => (this.topicsCache = undefined));
      this.topicsCache = { at: now, topics };
    }
    return this.topicsCache.topics;
  }

  /** One page of the topics whose name contains `filter`, with their partition health. */
  async topics(filter: string, offset: number, limit: number, includeInternal: boolean): Promise<Page<TopicRow>> {
    const needle = filter.toLowerCase();
    const matching = (await this.allTopics()).filter((topic) => (includeInternal || !topic.internal) && topic.name.toLowerCase().includes(needle));
    const size = clampLimit(limit);
    const items = matching.slice(offset, offset + size).map((topic) => ({
      name: topic.name,
      internal: topic.internal,
      partitions: topic.partitions.length,
      replicationFactor: topic.partitions[0]?.replicas.length ?? 0,
      underReplicated: topic.partitions.filter((partition) => partition.isr.length < partition.replicas.length).length,
      offline: topic.partitions.filter((partition) => partition.leader < 0).length,
    }));
    return { total: matching.length, offset, limit: size, items };
  }

  /** A topic's partitions (leader, replicas, ISR, offsets, bytes on disk) and configs. */
  async topic(name: string) {
    const topic = await this.admin.describeTopic(name);
    const [offsets, sizes, configs] = await Promise.all([
      this.admin.partitionOffsets(topic).catch(() => [] as PartitionOffsets[]),
      this.partitionSizes(topic),
      this.admin.describeConfigs(ConfigResource.topic, name).catch(() => []),
    ]);
    const offsetsOf = new Map(offsets.map((entry) => [entry.partition, entry]));
    return {
      name: topic.name,
      topicId: topic.topicId,
      internal: topic.internal,
      partitions: topic.partitions.map((partition) => ({
        ...partition,
        earliest: offsetsOf.get(partition.partition)?.earliest ?? -1,
        latest: offsetsOf.get(partition.partition)?.latest ?? -1,
        size: sizes.get(partition.partition) ?? null,
      })),
      size: [...sizes.values()].reduce((sum, size) => sum + size, 0),
      configs: configs.map((entry) => ({ name: entry.name, value: entry.sensitive ? null : entry.value, source: entry.source, readOnly: entry.readOnly, sensitive: entry.sensitive })),
    };
  }

  /** Bytes of each partition's leader replica (DescribeLogDirs to each leader); empty when a broker refuses. */
  private async partitionSizes(topic: TopicInfo): Promise<Map<number, number>> {
    const sizes = new Map<number, number>();
    const leaders = new Set(topic.partitions.map((partition) => partition.leader).filter((leader) => leader >= 0));
    await Promise.all([...leaders].map(async (leader) => {
      const partitions = topic.partitions.filter((partition) => partition.leader === leader).map((partition) => ({ topic: topic.name, partition: partition.partition }));
      try {
        for (const dir of await this.admin.describeLogDirs(leader, partitions)) {
          for (const replica of dir.partitions) if (replica.topic === topic.name && !replica.future) sizes.set(replica.partition, replica.size);
        }
      } catch {
        // Sizes are a nicety: a broker without DescribeLogDirs (or the permission) leaves them out.
      }
    }));
    return sizes;
  }

  /**
   * Up to `limit` records of one partition from `offset` (or from the first record at or after
   * `timestamp`); waits at most `timeoutMs` for records that are not there yet.
   */
  async records(topicName: string, partition: number, from: { offset?: number; timestamp?: number }, limit: number, timeoutMs: number) {
    const topic = await this.admin.describeTopic(topicName);
    if (!topic.partitions.some((info) => info.partition === partition)) throw new ToolError(`topic '${topicName}' has no partition ${partition}`);
    const single = { ...topic, partitions: topic.partitions.filter((info) => info.partition === partition) };
    const [earliest, latest] = await Promise.all([this.admin.listOffsets(single, OffsetSpec.earliest), this.admin.listOffsets(single, OffsetSpec.latest)]);
    const start = earliest.get(partition) ?? 0;
    const end = latest.get(partition) ?? 0;
    let position = from.offset ?? start;
    if (from.timestamp !== undefined) {
      const found = (await this.admin.listOffsets(single, from.timestamp)).get(partition) ?? -1;
      position = found < 0 ? end : found;
    }
    if (position < 0) position = Math.max(start, end + position);
    position = Math.min(Math.max(position, start), end);
    const consumer = new Consumer(this.cluster, single, new Map([[partition, position]]));
    const records = [];
    const deadline = Date.now() + timeoutMs;
    while (records.length < limit) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 && (consumer.positions.get(partition) ?? 0) >= end) break;
      const batch = await consumer.poll(Math.max(0, Math.min(remaining, 1_000)));
      records.push(...batch);
      if (batch.length === 0 && (remaining <= 0 || (consumer.positions.get(partition) ?? 0) >= end && timeoutMs === 0)) break;
    }
    const page = records.slice(0, limit);
    return {
      partition,
      earliest: start,
      latest: Math.max(end, consumer.ends.get(partition) ?? end),
      nextOffset: page.length > 0 ? page[page.length - 1]!.offset + 1 : position,
      records: page.map((record) => ({
        offset: record.offset,
        timestamp: record.timestamp,
        key: encoded(record.key),
        value: encoded(record.value),
        headers: record.headers.map((header) => ({ name: header.key, value: encoded(header.value) })),
      })),
    };
  }

  /** Every group of every broker (ListGroups goes to each, as Kafka's admin client does). */
  private allGroups(): Promise<GroupRow[]> {
    const now = Date.now();
    if (this.groupsCache === undefined || now - this.groupsCache.at > LIST_CACHE_MS) {
      const groups = this.listGroups();
      groups.catch(() => (this.groupsCache = undefined));
      this.groupsCache = { at: now, groups };
    }
    return this.groupsCache.groups;
  }

  private async listGroups(): Promise<GroupRow[]> {
    const metadata = await this.cluster.metadata([]);
    const answers = await Promise.all(metadata.brokers.map((broker) => listGroupsAt(this.requestAt(hostPort(broker.host, broker.port)))));
    const groups = new Map<string, GroupRow>();
    for (const group of answers.flat()) groups.set(group.groupId, group);
    return [...groups.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  async groups(filter: string, offset: number, limit: number): Promise<Page<GroupRow>> {
    const needle = filter.toLowerCase();
    const matching = (await this.allGroups()).filter((group) => group.groupId.toLowerCase().includes(needle));
    const size = clampLimit(limit);
    return { total: matching.length, offset, limit: size, items: matching.slice(offset, offset + size) };
  }

  /**
   * A group's state, members with their assignments, and per partition its committed offset, end
   * offset and lag. A KIP-848 consumer group adds its epochs and assignor, and each member's epoch,
   * subscription and target assignment. A share group is what neither DescribeGroups nor
   * ConsumerGroupDescribe knows (as Kafka answers them): see shareGroup().
   */
  async group(groupId: string) {
    const address = await findGroupCoordinator(this.cluster, groupId);
    const [group] = await describeGroupsAt(this.requestAt(address), [groupId]);
    if (group === undefined) return this.shareGroup(groupId, address);
    // Below DescribeGroups v6 a group the coordinator does not know as classic comes back Dead and
    // empty: it may be a share group.
    if (group.type === 'classic' && group.state === 'Dead' && group.members.length === 0 && group.protocolType === '') {
      const share = await this.shareGroup(groupId, address).catch(() => undefined);
      if (share !== undefined) return share;
    }
    this.shareGroupIds.delete(groupId);
    const committed = await fetchGroupOffsets(this.cluster, groupId);
    const owners = new Map<string, string>();
    for (const member of group.members) for (const { topic, partitions } of member.assignment) for (const partition of partitions) owners.set(`${topic}:${partition}`, member.memberId);
    const lags = await this.lags(committed);
    const common = {
      groupId,
      coordinator: address,
      offsets: lags.map((entry) => ({ ...entry, memberId: owners.get(`${entry.topic}:${entry.partition}`) ?? null })),
      totalLag: lags.reduce((sum, entry) => sum + Math.max(0, entry.lag), 0),
    };
    const member = (entry: (typeof group.members)[number]) => ({ memberId: entry.memberId, clientId: entry.clientId, clientHost: entry.host, groupInstanceId: entry.instanceId, assignment: entry.assignment });
    if (group.type === 'classic') return { ...common, type: group.type, state: group.state, protocolType: group.protocolType, protocol: group.protocol, members: group.members.map(member) };
    return {
      ...common,
      type: group.type,
      state: group.state,
      protocolType: 'consumer',
      protocol: group.assignor,
      assignor: group.assignor,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      members: group.members.map((entry) => ({
        ...member(entry),
        memberEpoch: entry.memberEpoch,
        rackId: entry.rackId,
        subscribedTopicNames: entry.subscribedTopicNames,
        subscribedTopicRegex: entry.subscribedTopicRegex,
        targetAssignment: entry.targetAssignment,
      })),
    };
  }

  /**
   * A KIP-932 share group (ShareGroupDescribe v1) with, per share-partition, its start offset and
   * lag (DescribeShareGroupOffsets v1; lag counts the records in flight or not yet delivered, as
   * kafka-share-groups.sh's LAG). It commits no offsets: `offsets` stays empty. When the offsets
   * cannot be read the group is still shown, with `shareOffsetsError`.
   */
  private async shareGroup(groupId: string, address: string) {
    // A broker without share groups would refuse the request: the group is simply not found.
    const served = (await this.cluster.versionOf(ShareGroupDescribeApi.apiKey)) >= 1;
    const [group] = served ? await describeShareGroupsAt(this.requestAt(address), [groupId]) : [];
    if (group === undefined) throw new KafkaResponseError(ErrorCode.GROUP_ID_NOT_FOUND, `describing group '${groupId}'`);
    this.rememberShareGroup(groupId);
    let shareOffsets: SharePartitionOffsetView[] = [];
    let shareOffsetsError: string | null = null;
    try {
      shareOffsets = await this.shareOffsets(groupId, address);
    } catch (error) {
      shareOffsetsError = messageOf(error);
    }
    return {
      groupId,
      coordinator: address,
      type: 'share' as const,
      state: group.state,
      protocolType: 'share',
      protocol: group.assignor,
      assignor: group.assignor,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      members: group.members.map((member) => ({
        memberId: member.memberId,
        clientId: member.clientId,
        clientHost: member.host,
        groupInstanceId: null,
        memberEpoch: member.memberEpoch,
        rackId: member.rackId,
        subscribedTopicNames: member.subscribedTopicNames,
        assignment: member.assignment,
      })),
      offsets: [] as never[],
      shareOffsets: shareOffsets.map(({ topic, partition, startOffset, lag, error }) => ({ topic, partition, startOffset, lag, error })),
      shareOffsetsError,
      totalLag: shareLag(shareOffsets),
    };
  }

  /** A share group's start offset and lag per share-partition; none from a broker without DescribeShareGroupOffsets. */
  private async shareOffsets(groupId: string, address: string): Promise<SharePartitionOffsetView[]> {
    if ((await this.cluster.versionOf(DescribeShareGroupOffsetsApi.apiKey)) < 0) throw new ToolError('the broker does not serve DescribeShareGroupOffsets');
    return shareGroupOffsetsAt(this.requestAt(address), groupId);
  }

  private rememberShareGroup(groupId: string): void {
    if (this.shareGroupIds.size >= MAX_SHARE_GROUP_IDS) this.shareGroupIds.clear();
    this.shareGroupIds.add(groupId);
  }

  /** Requests to the broker at `address` (a group's coordinator, or a broker whose groups are listed). */
  private requestAt(address: string): GroupRequest {
    return (api, request, maxVersion) => this.cluster.request(api, request, { address, maxVersion });
  }

  /** Committed offsets with the partitions' end offsets and the lag between them. */
  async lags(committed: readonly { topic: string; partition: number; offset: number }[]) {
    const topics = [...new Set(committed.map((entry) => entry.topic))];
    const ends = new Map<string, number>();
    await Promise.all(topics.map(async (name) => {
      try {
        const topic = await this.admin.describeTopic(name);
        for (const [partition, offset] of await this.admin.listOffsets(topic, OffsetSpec.latest)) ends.set(`${name}:${partition}`, offset);
      } catch {
        // A deleted topic's offsets stay committed; its lag is unknown.
      }
    }));
    return committed
      .map((entry) => {
        const end = ends.get(`${entry.topic}:${entry.partition}`) ?? -1;
        return { topic: entry.topic, partition: entry.partition, committed: entry.offset, end, lag: end < 0 ? -1 : Math.max(0, end - entry.offset) };
      })
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /** Resets the group's offsets of `topic` (every partition) to earliest, latest, an offset or a timestamp; the group must be empty. */
  async resetOffsets(groupId: string, topicName: string, to: { kind: 'earliest' | 'latest' | 'offset' | 'timestamp'; value?: number }) {
    const topic = await this.admin.describeTopic(topicName);
    const earliest = await this.admin.listOffsets(topic, OffsetSpec.earliest);
    const latest = await this.admin.listOffsets(topic, OffsetSpec.latest);
    const target = to.kind === 'timestamp' ? await this.admin.listOffsets(topic, to.value ?? 0) : undefined;
    const offsets = topic.partitions.map(({ partition }) => {
      const low = earliest.get(partition) ?? 0;
      const high = latest.get(partition) ?? 0;
      let offset = to.kind === 'earliest' ? low : to.kind === 'latest' ? high : to.kind === 'offset' ? (to.value ?? 0) : (target?.get(partition) ?? -1);
      if (offset < 0) offset = high;
      return { topic: topicName, partition, offset: Math.min(Math.max(offset, low), high) };
    });
    await commitGroupOffsets(this.cluster, groupId, offsets);
    return offsets;
  }

  /** Total committed lag of a group, or a share group's total share lag (for the lag-over-time chart). */
  async totalLag(groupId: string): Promise<number> {
    if (this.shareGroupIds.has(groupId)) {
      const address = await findGroupCoordinator(this.cluster, groupId);
      return shareLag(await this.shareOffsets(groupId, address));
    }
    const lags = await this.lags(await fetchGroupOffsets(this.cluster, groupId));
    return lags.reduce((sum, entry) => sum + Math.max(0, entry.lag), 0);
  }

  /** SCRAM users and their mechanisms. */
  async users() {
    const users = await this.admin.describeUserScramCredentials(null);
    return users.filter((user) => user.errorCode === ErrorCode.NONE).map((user) => ({ user: user.user, credentials: user.credentials }));
  }

  /** Configs of the topic, for the topic page (sensitive values hidden). */
  configSourceName(code: number): string {
    return configSourceNames[code] ?? String(code);
  }
}

/** Bytes as the browser wants them: base64 (it decodes and shows JSON, text or hex), null kept. */
function encoded(value: Buffer | null): string | null {
  return value === null ? null : value.toString('base64');
}

/** The records a share group has not finished with, over its share-partitions (unknown lags count 0). */
function shareLag(offsets: readonly SharePartitionOffsetView[]): number {
  return offsets.reduce((sum, entry) => sum + Math.max(0, entry.lag ?? 0), 0);
}

function clampLimit(limit: number): number {
  return Number.isFinite(limit) && limit > 0 ? Math.min(Math.floor(limit), MAX_PAGE) : 50;
}

export function messageOf(error: unknown): string {
  if (error instanceof KafkaResponseError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

export { errorName };
