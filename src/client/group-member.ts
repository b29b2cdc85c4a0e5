// One consumer-group member for tools and Connect's sink tasks, over classic-group.ts: joins
// (protocol type "consumer", assignor "range"), assigns each topic's partitions round-robin over
// its subscribers when it leads, reads and commits offsets, and leaves on close.
// A rebalance signalled by a heartbeat is reported through `rebalanceNeeded`; the caller rejoins.
import { ErrorCode } from '../base/error-codes.js';
import { OffsetCommitApi, OffsetFetchApi } from '../protocol/messages/index.js';
import {
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
} from '../protocol/messages/records/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { ClassicGroupMember, type GroupTimeouts } from './classic-group.js';
import { type ClusterClient, KafkaResponseError } from './cluster-client.js';
import { committedByTopic } from './group-offsets.js';

const DEFAULT_TIMEOUTS: GroupTimeouts = { sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 60_000, heartbeatIntervalMs: 3_000 };
const ASSIGNOR = 'range';

export class GroupMember {
  private readonly membership: ClassicGroupMember;

  constructor(
    private readonly cluster: ClusterClient,
    readonly groupId: string,
    /** The subscribed topics and their partition counts. */
    private readonly topics: ReadonlyMap<string, number>,
    /** The member's timeouts (Kafka consumer's session.timeout.ms, max.poll.interval.ms, heartbeat.interval.ms). */
    timeouts: GroupTimeouts = DEFAULT_TIMEOUTS,
  ) {
    this.membership = new ClassicGroupMember(cluster, groupId, timeouts);
  }

  /** Set when a heartbeat learns that the group is rebalancing; the caller rejoins. */
  get rebalanceNeeded(): boolean {
    return this.membership.rebalanceNeeded;
  }

  private get coordinator(): string {
    return this.membership.coordinatorAddress;
  }

  /** Joins (or rejoins) the group and returns the partitions assigned to this member, by topic. */
  async join(): Promise<Map<string, number[]>> {
    const joined = await this.membership.join({
      protocolType: 'consumer',
      protocols: [{ name: ASSIGNOR, metadata: subscription([...this.topics.keys()]) }],
      assign: (_protocol, members) => this.assign(members),
    });
    return assignedPartitions(joined.assignment);
  }

  /** Committed offsets of `partitions` (by topic); partitions without a commit are left out. */
  async committed(partitions: ReadonlyMap<string, readonly number[]>): Promise<Map<string, Map<number, number>>> {
    const response = await this.cluster.request(OffsetFetchApi, {
      groupId: this.groupId,
      topics: [...partitions].map(([name, indexes]) => ({ name, partitionIndexes: [...indexes] })),
      requireStable: false,
    }, { address: this.coordinator, minVersion: 1, maxVersion: 7 });
    if (response.errorCode) throw new KafkaResponseError(response.errorCode, `reading offsets of group '${this.groupId}'`);
    return committedByTopic(response);
  }

  /** Commits the next offset to read of each partition, by topic. */
  async commit(offsets: ReadonlyMap<string, ReadonlyMap<number, number>>): Promise<void> {
    const topics = [...offsets].filter(([, byPartition]) => byPartition.size > 0);
    if (topics.length === 0) return;
    const response = await this.cluster.request(OffsetCommitApi, {
      groupId: this.groupId,
      generationIdOrMemberEpoch: this.membership.generationId,
      memberId: this.membership.memberId,
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
    await this.membership.leave();
  }

  /** Per topic, round-robin over the members that subscribe to it, in member id order. */
  private assign(members: readonly { memberId: string; metadata: Buffer }[]): Map<string, Buffer> {
    const subscriptions = new Map(members.map((member) => [member.memberId, subscribedTopics(member.metadata)]));
    const owned = new Map(members.map((member) => [member.memberId, new Map<string, number[]>()]));
    for (const [topic, partitionCount] of this.topics) {
      const subscribers = members.filter((member) => subscriptions.get(member.memberId)!.includes(topic)).map((member) => member.memberId).sort();
      for (let partition = 0; partition < partitionCount && subscribers.length > 0; partition++) {
        const byTopic = owned.get(subscribers[partition % subscribers.length]!)!;
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
      }
    }
    return new Map([...owned].map(([memberId, byTopic]) => [memberId, assignment(byTopic)]));
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
