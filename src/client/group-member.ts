// One consumer-group member for tools: finds the group coordinator, joins (protocol type
// "consumer", assignor "range"), assigns the topic's partitions round-robin when it leads, keeps
// the membership alive with heartbeats, reads and commits offsets, and leaves on close.
// A rebalance signalled by a heartbeat is reported through `rebalanceNeeded`; the caller rejoins.
import { ErrorCode } from '../base/error-codes.js';
import {
  FindCoordinatorApi,
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

const SESSION_TIMEOUT_MS = 30_000;
const REBALANCE_TIMEOUT_MS = 60_000;
const HEARTBEAT_INTERVAL_MS = 3_000;
/** JoinGroup retries (MEMBER_ID_REQUIRED, a rebalance already running) before giving up. */
const JOIN_ATTEMPTS_MAX = 10;
const GROUP_KEY_TYPE = 0;
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
    private readonly topic: string,
    private readonly partitionCount: number,
  ) {}

  /** Joins (or rejoins) the group and returns the partitions of the topic assigned to this member. */
  async join(): Promise<number[]> {
    this.stopHeartbeats();
    if (this.coordinator === '') this.coordinator = await this.findCoordinator();
    for (let attempt = 0; attempt < JOIN_ATTEMPTS_MAX; attempt++) {
      const joined = await this.cluster.request(JoinGroupApi, {
        groupId: this.groupId,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
        memberId: this.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: ASSIGNOR, metadata: subscription(this.topic) }],
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
      return assignedPartitions(synced.assignment, this.topic);
    }
    throw new ToolError(`could not join group '${this.groupId}' after ${JOIN_ATTEMPTS_MAX} attempts`);
  }

  /** Committed offsets of `partitions`; partitions without a commit are left out. */
  async committed(partitions: number[]): Promise<Map<number, number>> {
    const response = await this.cluster.request(OffsetFetchApi, {
      groupId: this.groupId,
      topics: [{ name: this.topic, partitionIndexes: partitions }],
      requireStable: false,
    }, { address: this.coordinator, minVersion: 1, maxVersion: 7 });
    if (response.errorCode) throw new KafkaResponseError(response.errorCode, `reading offsets of group '${this.groupId}'`);
    const offsets = new Map<number, number>();
    for (const partition of response.topics?.[0]?.partitions ?? []) {
      if (partition.errorCode === ErrorCode.NONE && partition.committedOffset >= 0n) offsets.set(partition.partitionIndex, Number(partition.committedOffset));
    }
    return offsets;
  }

  async commit(offsets: ReadonlyMap<number, number>): Promise<void> {
    if (offsets.size === 0) return;
    const response = await this.cluster.request(OffsetCommitApi, {
      groupId: this.groupId,
      generationIdOrMemberEpoch: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [{ name: this.topic, partitions: [...offsets].map(([partitionIndex, offset]) => ({ partitionIndex, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null })) }],
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

  private async findCoordinator(): Promise<string> {
    const response = await this.cluster.request(FindCoordinatorApi, { key: this.groupId, keyType: GROUP_KEY_TYPE }, { maxVersion: 3 });
    if (response.errorCode) throw new KafkaResponseError(response.errorCode, `finding the coordinator of group '${this.groupId}'`, response.errorMessage);
    const host = response.host ?? '';
    return host.includes(':') ? `[${host}]:${response.port}` : `${host}:${response.port}`;
  }

  /** Round-robin over the members that subscribe to the topic, in member id order. */
  private assign(members: { memberId: string; metadata: Buffer }[]): { memberId: string; assignment: Buffer }[] {
    const subscribers = members.filter((member) => subscribedTopics(member.metadata).includes(this.topic)).map((member) => member.memberId).sort();
    const owned = new Map(members.map((member) => [member.memberId, [] as number[]]));
    for (let partition = 0; partition < this.partitionCount && subscribers.length > 0; partition++) owned.get(subscribers[partition % subscribers.length]!)!.push(partition);
    return [...owned].map(([memberId, partitions]) => ({ memberId, assignment: assignment(this.topic, partitions) }));
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

function subscription(topic: string): Buffer {
  const writer = new Writer();
  writer.writeInt16(0);
  encodeConsumerProtocolSubscription(writer, 0, { topics: [topic], userData: null });
  return writer.toBuffer();
}

function assignment(topic: string, partitions: number[]): Buffer {
  const writer = new Writer();
  writer.writeInt16(0);
  encodeConsumerProtocolAssignment(writer, 0, { assignedPartitions: partitions.length > 0 ? [{ topic, partitions }] : [], userData: null });
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

function assignedPartitions(blob: Buffer, topic: string): number[] {
  if (blob.length < 2) return [];
  const reader = new Reader(blob);
  const version = Math.min(Math.max(reader.readInt16(), 0), 3);
  return decodeConsumerProtocolAssignment(reader, version).assignedPartitions.find((entry) => entry.topic === topic)?.partitions ?? [];
}
