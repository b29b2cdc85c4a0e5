// The records a share group keeps in `__consumer_offsets`, in Kafka 4.2's formats and framing (an
// int16 key version naming the record type, the key struct; an int16 value version, the flexible
// value struct; a null value deletes the key): each member's subscription (10), the group epoch
// and metadata hash (11), the target assignment's epoch (12) and each member's target (13), each
// member's current assignment (14), and which share-partitions are initializing or initialized (15).
// Type 9 (the subscribed topics' metadata, dropped in Kafka 4.2) is skipped on load.
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import {
  type ShareGroupCurrentMemberAssignmentValue,
  type ShareGroupMemberMetadataValue,
  type ShareGroupStatePartitionMetadataValue,
  decodeShareGroupCurrentMemberAssignmentKey,
  decodeShareGroupCurrentMemberAssignmentValue,
  decodeShareGroupMemberMetadataKey,
  decodeShareGroupMemberMetadataValue,
  decodeShareGroupMetadataKey,
  decodeShareGroupMetadataValue,
  decodeShareGroupStatePartitionMetadataKey,
  decodeShareGroupStatePartitionMetadataValue,
  decodeShareGroupTargetAssignmentMemberKey,
  decodeShareGroupTargetAssignmentMemberValue,
  decodeShareGroupTargetAssignmentMetadataKey,
  decodeShareGroupTargetAssignmentMetadataValue,
  encodeShareGroupCurrentMemberAssignmentKey,
  encodeShareGroupCurrentMemberAssignmentValue,
  encodeShareGroupMemberMetadataKey,
  encodeShareGroupMemberMetadataValue,
  encodeShareGroupMetadataKey,
  encodeShareGroupMetadataValue,
  encodeShareGroupStatePartitionMetadataKey,
  encodeShareGroupStatePartitionMetadataValue,
  encodeShareGroupTargetAssignmentMemberKey,
  encodeShareGroupTargetAssignmentMemberValue,
  encodeShareGroupTargetAssignmentMetadataKey,
  encodeShareGroupTargetAssignmentMetadataValue,
} from '../../protocol/messages/records/index.js';
import { type TopicPartitions, fromTopicPartitions, toTopicPartitions } from './consumer-group.js';
import { SHARE_MEMBER_STATE_STABLE, ShareGroupMember, ShareGroupModel, type ShareTopicPartitions } from './share-group.js';

/** A record for `__consumer_offsets` (group-records.ts's OffsetsRecord, restated to keep this module a leaf). */
type OffsetsRecord = { key: Buffer; value: Buffer | null };

export const ShareRecordKey = {
  partitionMetadata: 9,
  memberMetadata: 10,
  groupEpoch: 11,
  targetAssignmentEpoch: 12,
  targetAssignmentMember: 13,
  currentAssignment: 14,
  statePartitionMetadata: 15,
} as const;

const VALUE_VERSION = 0;

export type DecodedShareGroupRecord =
  | { type: 'share-member'; group: string; memberId: string; metadata: ShareGroupMemberMetadataValue | null }
  | { type: 'share-epoch'; group: string; epoch: { epoch: number; metadataHash: bigint } | null }
  | { type: 'share-target-epoch'; group: string; epoch: number | null }
  | { type: 'share-target'; group: string; memberId: string; partitions: { topicId: string; partitions: number[] }[] | null }
  | { type: 'share-current'; group: string; memberId: string; assignment: ShareGroupCurrentMemberAssignmentValue | null }
  | { type: 'share-state-partitions'; group: string; metadata: ShareGroupStatePartitionMetadataValue | null }
  | { type: 'share-ignored'; group: string };

function frame(version: number, encode: (writer: Writer) => void): Buffer {
  const writer = new Writer(64);
  writer.writeInt16(version);
  encode(writer);
  return writer.toBuffer();
}

function valueOf(encode: (writer: Writer) => void): Buffer {
  return frame(VALUE_VERSION, encode);
}

export function shareMemberMetadataRecord(groupId: string, memberId: string, member: ShareGroupMember | null): OffsetsRecord {
  const key = frame(ShareRecordKey.memberMetadata, (writer) => encodeShareGroupMemberMetadataKey(writer, ShareRecordKey.memberMetadata, { groupId, memberId }));
  if (member === null) return { key, value: null };
  const value: ShareGroupMemberMetadataValue = { rackId: member.rackId, clientId: member.clientId, clientHost: member.clientHost, subscribedTopicNames: member.subscribedTopicNames };
  return { key, value: valueOf((writer) => encodeShareGroupMemberMetadataValue(writer, VALUE_VERSION, value)) };
}

export function shareGroupEpochRecord(groupId: string, epoch: { epoch: number; metadataHash: bigint } | null): OffsetsRecord {
  const key = frame(ShareRecordKey.groupEpoch, (writer) => encodeShareGroupMetadataKey(writer, ShareRecordKey.groupEpoch, { groupId }));
  return { key, value: epoch === null ? null : valueOf((writer) => encodeShareGroupMetadataValue(writer, VALUE_VERSION, epoch)) };
}

export function shareTargetAssignmentEpochRecord(groupId: string, epoch: number | null): OffsetsRecord {
  const key = frame(ShareRecordKey.targetAssignmentEpoch, (writer) => encodeShareGroupTargetAssignmentMetadataKey(writer, ShareRecordKey.targetAssignmentEpoch, { groupId }));
  return { key, value: epoch === null ? null : valueOf((writer) => encodeShareGroupTargetAssignmentMetadataValue(writer, VALUE_VERSION, { assignmentEpoch: epoch })) };
}

export function shareTargetAssignmentMemberRecord(groupId: string, memberId: string, partitions: TopicPartitions | null): OffsetsRecord {
  const key = frame(ShareRecordKey.targetAssignmentMember, (writer) => encodeShareGroupTargetAssignmentMemberKey(writer, ShareRecordKey.targetAssignmentMember, { groupId, memberId }));
  if (partitions === null) return { key, value: null };
  return { key, value: valueOf((writer) => encodeShareGroupTargetAssignmentMemberValue(writer, VALUE_VERSION, { topicPartitions: fromTopicPartitions(partitions) })) };
}

export function shareCurrentAssignmentRecord(groupId: string, memberId: string, member: ShareGroupMember | null): OffsetsRecord {
  const key = frame(ShareRecordKey.currentAssignment, (writer) => encodeShareGroupCurrentMemberAssignmentKey(writer, ShareRecordKey.currentAssignment, { groupId, memberId }));
  if (member === null) return { key, value: null };
  const value: ShareGroupCurrentMemberAssignmentValue = {
    memberEpoch: member.memberEpoch,
    previousMemberEpoch: member.previousMemberEpoch,
    state: SHARE_MEMBER_STATE_STABLE,
    assignedPartitions: fromTopicPartitions(member.assigned),
  };
  return { key, value: valueOf((writer) => encodeShareGroupCurrentMemberAssignmentValue(writer, VALUE_VERSION, value)) };
}

function topicList(map: ReadonlyMap<string, ShareTopicPartitions>): { topicId: string; topicName: string; partitions: number[] }[] {
  return [...map]
    .filter(([, entry]) => entry.partitions.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topicId, { topicName, partitions }]) => ({ topicId, topicName, partitions: [...partitions].sort((x, y) => x - y) }));
}

/** The group's initializing and initialized share-partitions, whole (each record replaces the last). */
export function shareStatePartitionsRecord(groupId: string, model: ShareGroupModel | null): OffsetsRecord {
  const key = frame(ShareRecordKey.statePartitionMetadata, (writer) => encodeShareGroupStatePartitionMetadataKey(writer, ShareRecordKey.statePartitionMetadata, { groupId }));
  if (model === null) return { key, value: null };
  const value: ShareGroupStatePartitionMetadataValue = { initializingTopics: topicList(model.initializing), initializedTopics: topicList(model.initialized), deletingTopics: [] };
  return { key, value: valueOf((writer) => encodeShareGroupStatePartitionMetadataValue(writer, VALUE_VERSION, value)) };
}

/** The tombstones that take a member out of the log, in Kafka's order: current, target, subscription. */
export function shareMemberTombstones(groupId: string, memberId: string): OffsetsRecord[] {
  return [shareCurrentAssignmentRecord(groupId, memberId, null), shareTargetAssignmentMemberRecord(groupId, memberId, null), shareMemberMetadataRecord(groupId, memberId, null)];
}

/** The tombstones that delete an empty share group: its partition states, target epoch, then group epoch. */
export function shareGroupTombstones(groupId: string): OffsetsRecord[] {
  return [shareStatePartitionsRecord(groupId, null), shareTargetAssignmentEpochRecord(groupId, null), shareGroupEpochRecord(groupId, null)];
}

/** Decodes a share group record (key types 9 to 15); undefined for any other record. */
export function decodeShareGroupRecord(key: Buffer, value: Buffer | null): DecodedShareGroupRecord | undefined {
  const keyReader = new Reader(key);
  const keyVersion = keyReader.readInt16();
  if (keyVersion < ShareRecordKey.partitionMetadata || keyVersion > ShareRecordKey.statePartitionMetadata) return undefined;
  const valueReader = value === null ? null : new Reader(value);
  const valueVersion = valueReader?.readInt16() ?? 0;
  switch (keyVersion) {
    case ShareRecordKey.partitionMetadata: {
      // Kafka 4.0-4.1's ShareGroupPartitionMetadataKey: the same key layout as type 11 (a group id).
      const groupId = keyReader.readString();
      return { type: 'share-ignored', group: groupId };
    }
    case ShareRecordKey.memberMetadata: {
      const { groupId, memberId } = decodeShareGroupMemberMetadataKey(keyReader, keyVersion);
      return { type: 'share-member', group: groupId, memberId, metadata: valueReader === null ? null : decodeShareGroupMemberMetadataValue(valueReader, valueVersion) };
    }
    case ShareRecordKey.groupEpoch: {
      const { groupId } = decodeShareGroupMetadataKey(keyReader, keyVersion);
      return { type: 'share-epoch', group: groupId, epoch: valueReader === null ? null : decodeShareGroupMetadataValue(valueReader, valueVersion) };
    }
    case ShareRecordKey.targetAssignmentEpoch: {
      const { groupId } = decodeShareGroupTargetAssignmentMetadataKey(keyReader, keyVersion);
      return { type: 'share-target-epoch', group: groupId, epoch: valueReader === null ? null : decodeShareGroupTargetAssignmentMetadataValue(valueReader, valueVersion).assignmentEpoch };
    }
    case ShareRecordKey.targetAssignmentMember: {
      const { groupId, memberId } = decodeShareGroupTargetAssignmentMemberKey(keyReader, keyVersion);
      return { type: 'share-target', group: groupId, memberId, partitions: valueReader === null ? null : decodeShareGroupTargetAssignmentMemberValue(valueReader, valueVersion).topicPartitions };
    }
    case ShareRecordKey.currentAssignment: {
      const { groupId, memberId } = decodeShareGroupCurrentMemberAssignmentKey(keyReader, keyVersion);
      return { type: 'share-current', group: groupId, memberId, assignment: valueReader === null ? null : decodeShareGroupCurrentMemberAssignmentValue(valueReader, valueVersion) };
    }
    default: {
      const { groupId } = decodeShareGroupStatePartitionMetadataKey(keyReader, keyVersion);
      return { type: 'share-state-partitions', group: groupId, metadata: valueReader === null ? null : decodeShareGroupStatePartitionMetadataValue(valueReader, valueVersion) };
    }
  }
}

/** What a load gathers of one share group: the last value per key, tombstones forgetting. */
export class ShareGroupReplay {
  epoch: { epoch: number; metadataHash: bigint } | null = null;
  targetEpoch: number | null = null;
  statePartitions: ShareGroupStatePartitionMetadataValue | null = null;
  readonly members = new Map<string, ShareGroupMemberMetadataValue>();
  readonly targets = new Map<string, { topicId: string; partitions: number[] }[]>();
  readonly current = new Map<string, ShareGroupCurrentMemberAssignmentValue>();

  apply(record: DecodedShareGroupRecord): void {
    switch (record.type) {
      case 'share-epoch':
        this.epoch = record.epoch;
        return;
      case 'share-target-epoch':
        this.targetEpoch = record.epoch;
        return;
      case 'share-state-partitions':
        this.statePartitions = record.metadata;
        return;
      case 'share-member':
        setOrDelete(this.members, record.memberId, record.metadata);
        return;
      case 'share-target':
        setOrDelete(this.targets, record.memberId, record.partitions);
        return;
      case 'share-current':
        setOrDelete(this.current, record.memberId, record.assignment);
        return;
      case 'share-ignored':
        return;
    }
  }

  /** The group as its records left it; undefined when its epoch record was deleted (or never written). */
  restore(groupId: string): ShareGroupModel | undefined {
    if (this.epoch === null) return undefined;
    const model = new ShareGroupModel(groupId);
    model.groupEpoch = this.epoch.epoch;
    model.metadataHash = this.epoch.metadataHash;
    model.assignmentEpoch = this.targetEpoch ?? 0;
    for (const [memberId, metadata] of this.members) {
      const member = new ShareGroupMember(memberId);
      member.rackId = metadata.rackId;
      member.clientId = metadata.clientId;
      member.clientHost = metadata.clientHost;
      member.subscribedTopicNames = [...metadata.subscribedTopicNames];
      const current = this.current.get(memberId);
      if (current !== undefined) {
        member.memberEpoch = current.memberEpoch;
        member.previousMemberEpoch = current.previousMemberEpoch;
        member.assigned = toTopicPartitions(current.assignedPartitions);
      }
      model.members.set(memberId, member);
      model.targetAssignment.set(memberId, toTopicPartitions(this.targets.get(memberId) ?? []));
    }
    for (const { topicId, topicName, partitions } of this.statePartitions?.initializedTopics ?? []) {
      model.initialized.set(topicId, { topicName, partitions: new Set(partitions) });
    }
    for (const { topicId, topicName, partitions } of this.statePartitions?.initializingTopics ?? []) {
      model.initializing.set(topicId, { topicName, partitions: new Set(partitions) });
      // Whether the share coordinator answered before the load is unknown: ask again at the next heartbeat.
      for (const partition of partitions) model.initializingSinceMs.set(`${topicId}:${partition}`, -Infinity);
    }
    return model;
  }
}

function setOrDelete<V>(map: Map<string, V>, key: string, value: V | null): void {
  if (value === null) map.delete(key);
  else map.set(key, value);
}
