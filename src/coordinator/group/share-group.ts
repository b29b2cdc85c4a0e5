// A share group (KIP-932): members that share the records of their subscribed partitions instead
// of owning partitions exclusively. The group epoch moves with every change of membership,
// subscription or subscribed topics, the "simple" assignor computes a target assignment at that
// epoch, and a member takes its target at once (no revocation: partitions are not exclusive). A
// partition is assignable only once its share-partition state was initialized with the share
// coordinator; the group tracks which partitions are initializing and which are initialized.
import type { TopicPartitions } from './consumer-group.js';

export const ShareGroupState = {
  empty: 'Empty',
  stable: 'Stable',
  dead: 'Dead',
} as const;
export type ShareGroupStateName = (typeof ShareGroupState)[keyof typeof ShareGroupState];

/** Kafka's MemberState.STABLE: a share member is always stable (ShareGroupCurrentMemberAssignmentValue.State). */
export const SHARE_MEMBER_STATE_STABLE = 2;

/** Member ids are chosen by the client (a Uuid string); Kafka caps their length at 36. */
export const MAX_SHARE_MEMBER_ID_LENGTH = 36;

export class ShareGroupMember {
  rackId: string | null = null;
  clientId = '';
  clientHost = '';
  /** Sorted, without duplicates. */
  subscribedTopicNames: string[] = [];
  memberEpoch = 0;
  previousMemberEpoch = 0;
  assigned: TopicPartitions = new Map();
  cancelSessionTimer: (() => void) | undefined;

  constructor(readonly memberId: string) {}

  stopTimers(): void {
    this.cancelSessionTimer?.();
    this.cancelSessionTimer = undefined;
  }
}

/** A topic's partitions in ShareGroupStatePartitionMetadataValue, by topic id. */
export interface ShareTopicPartitions {
  topicName: string;
  partitions: Set<number>;
}

export class ShareGroupModel {
  groupEpoch = 0;
  /** The subscribed topics' metadata hash the group epoch was last bumped for (ShareGroupMetadataValue). */
  metadataHash = 0n;
  assignmentEpoch = 0;
  readonly members = new Map<string, ShareGroupMember>();
  /** memberId -> its target assignment at assignmentEpoch. */
  readonly targetAssignment = new Map<string, TopicPartitions>();
  /** Partitions whose state the coordinator asked the share coordinator to initialize. */
  readonly initializing = new Map<string, ShareTopicPartitions>();
  /** When each initializing partition ("topicId:partition") was last asked for; -Infinity after a load. */
  readonly initializingSinceMs = new Map<string, number>();
  /** Partitions whose share state exists: the only assignable ones. */
  readonly initialized = new Map<string, ShareTopicPartitions>();
  /** Set once DeleteGroups removed the group; a heartbeat still in flight then changes nothing. */
  deleted = false;

  constructor(readonly groupId: string) {}

  get state(): ShareGroupStateName {
    if (this.deleted) return ShareGroupState.dead;
    return this.members.size === 0 ? ShareGroupState.empty : ShareGroupState.stable;
  }

  /** The names every member subscribes to, together. */
  subscribedTopicNames(): Set<string> {
    const names = new Set<string>();
    for (const member of this.members.values()) for (const name of member.subscribedTopicNames) names.add(name);
    return names;
  }

  removeMember(memberId: string): ShareGroupMember | undefined {
    const member = this.members.get(memberId);
    if (member === undefined) return undefined;
    member.stopTimers();
    this.members.delete(memberId);
    this.targetAssignment.delete(memberId);
    return member;
  }

  stopTimers(): void {
    for (const member of this.members.values()) member.stopTimers();
  }

  isInitialized(topicId: string, partition: number): boolean {
    return this.initialized.get(topicId)?.partitions.has(partition) ?? false;
  }

  isInitializing(topicId: string, partition: number): boolean {
    return this.initializing.get(topicId)?.partitions.has(partition) ?? false;
  }
}

export function addPartition(map: Map<string, ShareTopicPartitions>, topicId: string, topicName: string, partition: number): void {
  let entry = map.get(topicId);
  if (entry === undefined) map.set(topicId, (entry = { topicName, partitions: new Set() }));
  entry.partitions.add(partition);
}

export function removePartition(map: Map<string, ShareTopicPartitions>, topicId: string, partition: number): void {
  const entry = map.get(topicId);
  if (entry === undefined) return;
  entry.partitions.delete(partition);
  if (entry.partitions.size === 0) map.delete(topicId);
}

/**
 * A 64-bit FNV-1a hash of the subscribed topics' shape (ids, names, partition counts), stored as
 * ShareGroupMetadataValue.MetadataHash. Kafka hashes the same facts (plus racks) with its own
 * function; the value only has to let this coordinator notice, after a load, that the topics
 * changed while nobody watched, so it need not match Kafka's bit for bit.
 */
export function metadataHash(topics: readonly { topicId: string; name: string; numPartitions: number }[]): bigint {
  if (topics.length === 0) return 0n;
  const text = [...topics]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ topicId, name, numPartitions }) => `${topicId}/${name}/${numPartitions}`)
    .join(',');
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  // Stored as a signed int64.
  return BigInt.asIntN(64, hash);
}
