// The records a KIP-848 consumer group keeps in `__consumer_offsets`, in Kafka's framing (an int16
// key version that names the record type, then the key struct; an int16 value version, then the
// value struct; a null value deletes the key): the group epoch (3), each member's subscription (5),
// the target assignment's epoch (6) and each member's target (7), and each member's current
// assignment (8). Key 4 (the subscribed topics' metadata, which Kafka 4.1 replaced by a hash) is
// read and ignored: this coordinator recomputes it from the metadata image.
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import {
  type ConsumerGroupCurrentMemberAssignmentValue,
  type ConsumerGroupMemberMetadataValue,
  decodeConsumerGroupCurrentMemberAssignmentKey,
  decodeConsumerGroupCurrentMemberAssignmentValue,
  decodeConsumerGroupMemberMetadataKey,
  decodeConsumerGroupMemberMetadataValue,
  decodeConsumerGroupMetadataKey,
  decodeConsumerGroupMetadataValue,
  decodeConsumerGroupPartitionMetadataKey,
  decodeConsumerGroupTargetAssignmentMemberKey,
  decodeConsumerGroupTargetAssignmentMemberValue,
  decodeConsumerGroupTargetAssignmentMetadataKey,
  decodeConsumerGroupTargetAssignmentMetadataValue,
  encodeConsumerGroupCurrentMemberAssignmentKey,
  encodeConsumerGroupCurrentMemberAssignmentValue,
  encodeConsumerGroupMemberMetadataKey,
  encodeConsumerGroupMemberMetadataValue,
  encodeConsumerGroupMetadataKey,
  encodeConsumerGroupMetadataValue,
  encodeConsumerGroupTargetAssignmentMemberKey,
  encodeConsumerGroupTargetAssignmentMemberValue,
  encodeConsumerGroupTargetAssignmentMetadataKey,
  encodeConsumerGroupTargetAssignmentMetadataValue,
} from '../../protocol/messages/records/index.js';
import { ConsumerGroupMember, ConsumerGroupModel, type MemberStateValue, type TopicPartitions, fromTopicPartitions, toTopicPartitions } from './consumer-group.js';

/** A record for `__consumer_offsets` (group-records.ts's OffsetsRecord, restated: that module reads these). */
type OffsetsRecord = { key: Buffer; value: Buffer | null };

export const ConsumerRecordKey = {
  groupEpoch: 3,
  partitionMetadata: 4,
  memberMetadata: 5,
  targetAssignmentEpoch: 6,
  targetAssignmentMember: 7,
  currentAssignment: 8,
} as const;

const VALUE_VERSION = 0;

export type DecodedConsumerGroupRecord =
  | { type: 'consumer-epoch'; group: string; epoch: number | null }
  | { type: 'consumer-member'; group: string; memberId: string; metadata: ConsumerGroupMemberMetadataValue | null }
  | { type: 'consumer-target-epoch'; group: string; epoch: number | null }
  | { type: 'consumer-target'; group: string; memberId: string; partitions: { topicId: string; partitions: number[] }[] | null }
  | { type: 'consumer-current'; group: string; memberId: string; assignment: ConsumerGroupCurrentMemberAssignmentValue | null }
  | { type: 'consumer-ignored'; group: string };

function frame(version: number, encode: (writer: Writer) => void): Buffer {
  const writer = new Writer(64);
  writer.writeInt16(version);
  encode(writer);
  return writer.toBuffer();
}

function valueOf(encode: (writer: Writer) => void): Buffer {
  return frame(VALUE_VERSION, encode);
}

export function groupEpochRecord(groupId: string, epoch: number | null): OffsetsRecord {
  const key = frame(ConsumerRecordKey.groupEpoch, (writer) => encodeConsumerGroupMetadataKey(writer, ConsumerRecordKey.groupEpoch, { groupId }));
  return { key, value: epoch === null ? null : valueOf((writer) => encodeConsumerGroupMetadataValue(writer, VALUE_VERSION, { epoch })) };
}

export function memberMetadataRecord(groupId: string, memberId: string, member: ConsumerGroupMember | null): OffsetsRecord {
  const key = frame(ConsumerRecordKey.memberMetadata, (writer) => encodeConsumerGroupMemberMetadataKey(writer, ConsumerRecordKey.memberMetadata, { groupId, memberId }));
  if (member === null) return { key, value: null };
  const value: ConsumerGroupMemberMetadataValue = {
    instanceId: member.instanceId,
    rackId: member.rackId,
    clientId: member.clientId,
    clientHost: member.clientHost,
    subscribedTopicNames: member.subscribedTopicNames,
    subscribedTopicRegex: member.subscribedTopicRegex,
    rebalanceTimeoutMs: member.rebalanceTimeoutMs,
    serverAssignor: member.serverAssignor,
    classicMemberMetadata: member.classic === null ? null : { sessionTimeoutMs: member.classic.sessionTimeoutMs, supportedProtocols: member.classic.supportedProtocols },
  };
  return { key, value: valueOf((writer) => encodeConsumerGroupMemberMetadataValue(writer, VALUE_VERSION, value)) };
}

export function targetAssignmentEpochRecord(groupId: string, epoch: number | null): OffsetsRecord {
  const key = frame(ConsumerRecordKey.targetAssignmentEpoch, (writer) => encodeConsumerGroupTargetAssignmentMetadataKey(writer, ConsumerRecordKey.targetAssignmentEpoch, { groupId }));
  return { key, value: epoch === null ? null : valueOf((writer) => encodeConsumerGroupTargetAssignmentMetadataValue(writer, VALUE_VERSION, { assignmentEpoch: epoch })) };
}

export function targetAssignmentMemberRecord(groupId: string, memberId: string, partitions: TopicPartitions | null): OffsetsRecord {
  const key = frame(ConsumerRecordKey.targetAssignmentMember, (writer) => encodeConsumerGroupTargetAssignmentMemberKey(writer, ConsumerRecordKey.targetAssignmentMember, { groupId, memberId }));
  if (partitions === null) return { key, value: null };
  return { key, value: valueOf((writer) => encodeConsumerGroupTargetAssignmentMemberValue(writer, VALUE_VERSION, { topicPartitions: fromTopicPartitions(partitions) })) };
}

export function currentAssignmentRecord(groupId: string, memberId: string, member: ConsumerGroupMember | null): OffsetsRecord {
  const key = frame(ConsumerRecordKey.currentAssignment, (writer) => encodeConsumerGroupCurrentMemberAssignmentKey(writer, ConsumerRecordKey.currentAssignment, { groupId, memberId }));
  if (member === null) return { key, value: null };
  const value: ConsumerGroupCurrentMemberAssignmentValue = {
    memberEpoch: member.memberEpoch,
    previousMemberEpoch: member.previousMemberEpoch,
    state: member.state,
    assignedPartitions: fromTopicPartitions(member.assigned),
    partitionsPendingRevocation: fromTopicPartitions(member.pendingRevocation),
  };
  return { key, value: valueOf((writer) => encodeConsumerGroupCurrentMemberAssignmentValue(writer, VALUE_VERSION, value)) };
}

/** The tombstones that take a member out of the log, in Kafka's order: current, target, subscription. */
export function memberTombstones(groupId: string, memberId: string): OffsetsRecord[] {
  return [currentAssignmentRecord(groupId, memberId, null), targetAssignmentMemberRecord(groupId, memberId, null), memberMetadataRecord(groupId, memberId, null)];
}

/** Decodes a consumer group record given its key version (3 to 8); undefined for other versions. */
export function decodeConsumerGroupRecord(keyVersion: number, keyReader: Reader, value: Buffer | null): DecodedConsumerGroupRecord | undefined {
  const valueReader = value === null ? null : new Reader(value);
  const valueVersion = valueReader?.readInt16() ?? 0;
  switch (keyVersion) {
    case ConsumerRecordKey.groupEpoch: {
      const { groupId } = decodeConsumerGroupMetadataKey(keyReader, keyVersion);
      return { type: 'consumer-epoch', group: groupId, epoch: valueReader === null ? null : decodeConsumerGroupMetadataValue(valueReader, valueVersion).epoch };
    }
    case ConsumerRecordKey.partitionMetadata:
      return { type: 'consumer-ignored', group: decodeConsumerGroupPartitionMetadataKey(keyReader, keyVersion).groupId };
    case ConsumerRecordKey.memberMetadata: {
      const { groupId, memberId } = decodeConsumerGroupMemberMetadataKey(keyReader, keyVersion);
      return { type: 'consumer-member', group: groupId, memberId, metadata: valueReader === null ? null : decodeConsumerGroupMemberMetadataValue(valueReader, valueVersion) };
    }
    case ConsumerRecordKey.targetAssignmentEpoch: {
      const { groupId } = decodeConsumerGroupTargetAssignmentMetadataKey(keyReader, keyVersion);
      return { type: 'consumer-target-epoch', group: groupId, epoch: valueReader === null ? null : decodeConsumerGroupTargetAssignmentMetadataValue(valueReader, valueVersion).assignmentEpoch };
    }
    case ConsumerRecordKey.targetAssignmentMember: {
      const { groupId, memberId } = decodeConsumerGroupTargetAssignmentMemberKey(keyReader, keyVersion);
      return { type: 'consumer-target', group: groupId, memberId, partitions: valueReader === null ? null : decodeConsumerGroupTargetAssignmentMemberValue(valueReader, valueVersion).topicPartitions };
    }
    case ConsumerRecordKey.currentAssignment: {
      const { groupId, memberId } = decodeConsumerGroupCurrentMemberAssignmentKey(keyReader, keyVersion);
      return { type: 'consumer-current', group: groupId, memberId, assignment: valueReader === null ? null : decodeConsumerGroupCurrentMemberAssignmentValue(valueReader, valueVersion) };
    }
    default:
      return undefined;
  }
}

function memberStateFromRecord(state: number): MemberStateValue {
  return state === 0 || state === 1 || state === 2 ? state : 2;
}

/** What a load gathers of one consumer group: the last value per key, tombstones forgetting. */
export class ConsumerGroupReplay {
  epoch: number | null = null;
  targetEpoch: number | null = null;
  readonly members = new Map<string, ConsumerGroupMemberMetadataValue>();
  readonly targets = new Map<string, { topicId: string; partitions: number[] }[]>();
  readonly current = new Map<string, ConsumerGroupCurrentMemberAssignmentValue>();

  apply(record: DecodedConsumerGroupRecord): void {
    switch (record.type) {
      case 'consumer-epoch':
        this.epoch = record.epoch;
        return;
      case 'consumer-target-epoch':
        this.targetEpoch = record.epoch;
        return;
      case 'consumer-member':
        setOrDelete(this.members, record.memberId, record.metadata);
        return;
      case 'consumer-target':
        setOrDelete(this.targets, record.memberId, record.partitions);
        return;
      case 'consumer-current':
        setOrDelete(this.current, record.memberId, record.assignment);
        return;
      case 'consumer-ignored':
        return;
    }
  }

  /** The group as its records left it; undefined when its epoch record was deleted (or never written). */
  restore(): ConsumerGroupModel | undefined {
    if (this.epoch === null) return undefined;
    const model = new ConsumerGroupModel();
    model.groupEpoch = this.epoch;
    model.assignmentEpoch = this.targetEpoch ?? 0;
    for (const [memberId, metadata] of this.members) {
      const member = new ConsumerGroupMember(memberId);
      member.instanceId = metadata.instanceId;
      member.rackId = metadata.rackId;
      member.clientId = metadata.clientId;
      member.clientHost = metadata.clientHost;
      member.subscribedTopicNames = metadata.subscribedTopicNames;
      member.subscribedTopicRegex = metadata.subscribedTopicRegex;
      member.rebalanceTimeoutMs = metadata.rebalanceTimeoutMs;
      member.serverAssignor = metadata.serverAssignor;
      const classic = metadata.classicMemberMetadata ?? null;
      member.classic = classic === null ? null : { sessionTimeoutMs: classic.sessionTimeoutMs, supportedProtocols: classic.supportedProtocols };
      const current = this.current.get(memberId);
      if (current !== undefined) {
        member.setAssignment({
          state: memberStateFromRecord(current.state),
          memberEpoch: current.memberEpoch,
          previousMemberEpoch: current.previousMemberEpoch,
          assigned: toTopicPartitions(current.assignedPartitions),
          pendingRevocation: toTopicPartitions(current.partitionsPendingRevocation),
        });
      }
      model.addMember(member);
      model.targetAssignment.set(memberId, toTopicPartitions(this.targets.get(memberId) ?? []));
    }
    return model;
  }
}

function setOrDelete<V>(map: Map<string, V>, key: string, value: V | null): void {
  if (value === null) map.delete(key);
  else map.set(key, value);
}
