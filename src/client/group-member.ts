// One consumer-group member for tools and Connect's sink tasks: finds the group coordinator, joins
// (protocol type "consumer", assignor "range"), assigns each topic's partitions round-robin over
// its subscribers when it leads, keeps the membership alive with heartbeats, reads and commits
// offsets, and leaves on close.
// A rebalance signalled by a heartbeat is reported through `rebalanceNeeded`; the caller rejoins.
import { ErrorCode } from '../base/error-codes.js';
import {
  HeartbeatApi,
  JoinGroupApi,
  LeaveGroupApi,
  OffsetCommitApi,
  OffsetFetchApi,
  SyncGroupApi,
} from '../protocol/messages/index.js';
import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from '../protocol/messages/records/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { type ClusterClient, KafkaResponseError, ToolError } from './cluster-client.js';
import { findGroupCoordinator } from './group-offsets.js';

const SESSION_TIMEOUT_MS = 30_000;
const REBALANCE_TIMEOUT_MS = 60_000;
const HEARTBEAT_INTERVAL_MS = 3_000;
/** JoinGroup retries (MEMBER_ID_REQUIRED, a rebalance already running) before giving up. */
const JOIN_ATTEMPTS_MAX = 10;
const ASSIGNOR = 'range';

export class GroupMember {
  private coordinator = '';
  private memberId = '';
  private generationId = -1;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** Set when a heartbeat learns that the group is rebalancing. */
  rebalanceNeeded = false;

  constructor(
    private readonly cluster: ClusterClient,
    readonly groupId: string,
    /** The subscribed topics and their partition counts. */
    private readonly topics: ReadonlyMap<string, number>,
  ) {}

  /** Joins (or rejoins) the group and returns the partitions assigned to this member, by topic. */
  async join(): Promise<Map<string, number[]>> {
    this.stopHeartbeats();
    if (this.coordinator === '') this.coordinator = await findGroupCoordinator(this.cluster, this.groupId);
    for (let attempt = 0; attempt < JOIN_ATTEMPTS_MAX; attempt++) {
      const joined = await this.cluster.request(JoinGroupApi, {
        groupId: this.groupId,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: ASSIGNOR, metadata: subscription([...this.topics.keys()]) }],
        reason: null,
      }, { address: this.coordinator, minVersion: 4, maxVersion: 5 });
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED || joined.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED ? joined.memberId : '';
        continue;
      }
      if (joined.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (joined.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(joined.errorCode, `joining group '${this.groupId}'`);
      this.memberId = joined.memberId;
      this.generationId = joined.generationId;
      const assignments = joined.leader === joined.memberId ? this.assign(joined.members) : [];
      const synced = await this.cluster.request(SyncGroupApi, {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: ASSIGNOR,
        assignments,
      }, { address: this.coordinator, maxVersion: 3 });
      if (synced.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (synced.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(synced.errorCode, `syncing group '${this.groupId}'`);
      this.rebalanceNeeded = false;
      this.startHeartbeats();
      return assignedPartitions(synced.assignment);
    }
    throw new ToolError(`could not join group '${this.groupId}' after ${JOIN_ATTEMPTS_MAX} attempts`);
  }

  /** Committed offsets of `partitions` (by topic); partitions without a commit are left out. */
  async committed(partitions: ReadonlyMap<string, readonly number[]>): Promise<Map<string, Map<number, number>>> {
    const response = await this.cluster.request(OffsetFetchApi, {
      groupId: this.groupId,
      topics: [...partitions].map(([name, indexes]) => ({ name, partitionIndexes: [...indexes] })),
      requireStable: false,
    }, { address: this.coordinator, minVersion: 1, maxVersion: 7 });
    if (response.errorCode) throw new KafkaResponseError(response.errorCode, `reading offsets of group '${this.groupId}'`);
    const offsets = new Map<string, Map<number, number>>();
    for (const topic of response.topics ?? []) {
      const byPartition = new Map<number, number>();
      for (const partition of topic.partitions) {
        if (partition.errorCode === ErrorCode.NONE && partition.committedOffset >= 0n) byPartition.set(partition.partitionIndex, Number(partition.committedOffset));
      }
      offsets.set(topic.name, byPartition);
    }
    return offsets;
  }

  /** Commits the next offset to read of each partition, by topic. */
  async commit(offsets: ReadonlyMap<string, ReadonlyMap<number, number>>): Promise<void> {
    const topics = [...offsets].filter(([, byPartition]) => byPartition.size > 0);
    if (topics.length === 0) return;
    const response = await this.cluster.request(OffsetCommitApi, {
      groupId: this.groupId,
      generationIdOrMemberEpoch: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: topics.map(([name, byPartition]) => ({
        name,
        partitions: [...byPartition].map(([partitionIndex, offset]) => ({ partitionIndex, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null })),
      })),
    }, { address: this.coordinator, minVersion: 2, maxVersion: 7 });
    const failed = response.topics.flatMap((topic) => topic.partitions).find((partition) => partition.errorCode !== ErrorCode.NONE);
    if (failed) throw new KafkaResponseError(failed.errorCode, `committing offsets of group '${this.groupId}'`);
  }

  async leave(): Promise<void> {
    this.stopHeartbeats();
    if (this.memberId === '') return;
    await this.cluster.request(LeaveGroupApi, { groupId: this.groupId, memberId: this.memberId, members: [{ memberId: this.memberId, groupInstanceId: null }] }, {
      address: this.coordinator,
      maxVersion: 4,
    }).catch(() => undefined);
    this.memberId = '';
  }

  /** Per topic, round-robin over the members that subscribe to it, in member id order. */
  private assign(members: { memberId: string; metadata: Buffer }[]): { memberId: string; assignment: Buffer }[] {
    const subscriptions = new Map(members.map((member) => [member.memberId, subscribedTopics(member.metadata)]));
    const owned = new Map(members.map((member) => [member.memberId, new Map<string, number[]>()]));
    for (const [topic, partitionCount] of this.topics) {
      const subscribers = members.filter((member) => subscriptions.get(member.memberId)!.includes(topic)).map((member) => member.memberId).sort();
      for (let partition = 0; partition < partitionCount && subscribers.length > 0; partition++) {
        const byTopic = owned.get(subscribers[partition % subscribers.length]!)!;
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      }
    }
    return [...owned].map(([memberId, byTopic]) => ({ memberId, assignment: assignment(byTopic) }));
  }

  private startHeartbeats(): void {
    this.heartbeatTimer = setInterval(() => {
      this.cluster
        .request(HeartbeatApi, { groupId: this.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null }, { address: this.coordinator, maxVersion: 3 })
        .then((response) => {
          if (response.errorCode !== ErrorCode.NONE) this.rebalanceNeeded = true;
        }, () => {
          this.rebalanceNeeded = true;
        });
    }, HEARTBEAT_INTERVAL_MS);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}

function subscription(topics: string[]): Buffer {
  const writer = new Writer();
  writer.writeInt16(0);
  encodeConsumerProtocolSubscription(writer, 0, { topics, userData: null });
  return writer.toBuffer();
}

function assignment(byTopic: ReadonlyMap<string, number[]>): Buffer {
  const writer = new Writer();
  writer.writeInt16(0);
  encodeConsumerProtocolAssignment(writer, 0, { assignedPartitions: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })), userData: null });
  return writer.toBuffer();
}

function subscribedTopics(metadata: Buffer): string[] {
  try {
    const reader = new Reader(metadata);
    const version = Math.min(Math.max(reader.readInt16(), 0), 3);
    return decodeConsumerProtocolSubscription(reader, version).topics;
  } catch {
    return [];
  }
}

function assignedPartitions(blob: Buffer): Map<string, number[]> {
  if (blob.length < 2) return new Map();
  const reader = new Reader(blob);
  const version = Math.min(Math.max(reader.readInt16(), 0), 3);
  return new Map(decodeConsumerProtocolAssignment(reader, version).assignedPartitions.map((entry) => [entry.topic, entry.partitions]));
}
