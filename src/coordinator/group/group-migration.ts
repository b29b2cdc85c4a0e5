// Kafka 4.0's online migration of a group between the classic and the consumer protocols, under
// group.consumer.migration.policy. Upgrade: the first ConsumerGroupHeartbeat to a non-empty
// classic group turns it into a consumer group whose members keep speaking the classic protocol;
// each keeps its generation as member epoch and its last assignment, so nothing moves until the
// new member's arrival bumps the group epoch. Downgrade: when the last member speaking the consumer
// protocol leaves (or is fenced) and only classic members remain, the group becomes a classic
// group again at its group epoch, each member holding its target assignment, and rebalances. These
// functions build the other kind's state and its records; the coordinator swaps them in.
import type { MetadataImage } from '../../metadata/metadata-image.js';
import { ConsumerGroupMember, ConsumerGroupModel, MemberState, type TopicPartitions, addTo } from './consumer-group.js';
import {
  currentAssignmentRecord,
  groupEpochRecord,
  memberMetadataRecord,
  memberTombstones,
  targetAssignmentEpochRecord,
  targetAssignmentMemberRecord,
} from './consumer-group-records.js';
import { assignedPartitions, decodeSubscription, encodeAssignment } from './consumer-protocol.js';
import { type Group, GroupMember } from './group.js';
import type { OffsetsRecord } from './group-records.js';

export const MIGRATION_POLICIES = ['bidirectional', 'upgrade', 'downgrade', 'disabled'] as const;
export type MigrationPolicy = (typeof MIGRATION_POLICIES)[number];

export function upgradeEnabled(policy: MigrationPolicy): boolean {
  return policy === 'bidirectional' || policy === 'upgrade';
}

export function downgradeEnabled(policy: MigrationPolicy): boolean {
  return policy === 'bidirectional' || policy === 'downgrade';
}

/**
 * The consumer group a non-empty classic group of protocol type `consumer` becomes, or why it
 * cannot (a subscription that does not decode). Members are Stable at the classic generation with
 * their last assignment as current and target; one in the middle of a rebalance is told to rejoin
 * by the coordinator, which then reconciles it as any classic member.
 */
export function consumerGroupFromClassic(group: Group, image: MetadataImage): ConsumerGroupModel | { problem: string } {
  const model = new ConsumerGroupModel();
  model.groupEpoch = group.generationId;
  model.assignmentEpoch = group.generationId;
  for (const classic of group.members.values()) {
    const metadata = group.protocolName !== null && classic.protocols.some(({ name }) => name === group.protocolName) ? classic.metadataFor(group.protocolName) : classic.protocols[0]?.metadata;
    const subscription = metadata === undefined ? undefined : decodeSubscription(metadata);
    if (subscription === undefined) return { problem: `the subscription of member ${classic.memberId} is not a valid consumer protocol subscription` };
    const assigned: TopicPartitions = new Map();
    for (const { topic, partitions } of assignedPartitions(classic.assignment)) {
      const topicId = image.topic(topic)?.topicId;
      if (topicId !== undefined) for (const partition of partitions) addTo(assigned, topicId, partition);
    }
    const member = new ConsumerGroupMember(classic.memberId);
    member.instanceId = classic.groupInstanceId;
    member.rackId = subscription.rackId ?? null;
    member.clientId = classic.clientId;
    member.clientHost = classic.clientHost;
    member.subscribedTopicNames = [...new Set(subscription.topics)].sort();
    member.rebalanceTimeoutMs = classic.rebalanceTimeoutMs;
    member.classic = { sessionTimeoutMs: classic.sessionTimeoutMs, supportedProtocols: classic.protocols.map(({ name, metadata }) => ({ name, metadata })) };
    member.setAssignment({ state: MemberState.stable, memberEpoch: group.generationId, previousMemberEpoch: group.generationId, assigned, pendingRevocation: new Map() });
    model.addMember(member);
    model.targetAssignment.set(member.memberId, assigned);
  }
  return model;
}

/** The records that create `model` in `__consumer_offsets`, in Kafka's order. */
export function consumerGroupRecords(groupId: string, model: ConsumerGroupModel): OffsetsRecord[] {
  const members = [...model.members.values()];
  return [
    ...members.map((member) => memberMetadataRecord(groupId, member.memberId, member)),
    groupEpochRecord(groupId, model.groupEpoch),
    ...members.map((member) => targetAssignmentMemberRecord(groupId, member.memberId, model.targetAssignment.get(member.memberId) ?? new Map())),
    targetAssignmentEpochRecord(groupId, model.assignmentEpoch),
    ...members.map((member) => currentAssignmentRecord(groupId, member.memberId, member)),
  ];
}

/** The records that delete a consumer group's membership state (its offsets stay). */
export function consumerGroupTombstones(groupId: string, model: ConsumerGroupModel): OffsetsRecord[] {
  return [...[...model.members.keys()].flatMap((memberId) => memberTombstones(groupId, memberId)), targetAssignmentEpochRecord(groupId, null), groupEpochRecord(groupId, null)];
}

/**
 * The classic members a consumer group's members become when `leavingMemberId` goes, each with its
 * JoinGroup protocols (the coordinator then gives each its target assignment, `classicAssignment`,
 * in the version of its subscription for the protocol the group chose).
 */
export function classicMembersFromConsumerGroup(model: ConsumerGroupModel, leavingMemberId: string): GroupMember[] {
  const members: GroupMember[] = [];
  for (const member of model.members.values()) {
    if (member.memberId === leavingMemberId || member.classic === null) continue;
    members.push(
      new GroupMember(
        member.memberId,
        member.instanceId,
        member.clientId,
        member.clientHost,
        member.rebalanceTimeoutMs,
        member.classic.sessionTimeoutMs,
        'consumer',
        member.classic.supportedProtocols.map(({ name, metadata }) => ({ name, metadata })),
      ),
    );
  }
  return members;
}

/** `partitions` by topic name, for an embedded-protocol assignment (topics gone from the image are left out). */
export function namedPartitions(partitions: TopicPartitions, image: MetadataImage): { topic: string; partitions: number[] }[] {
  const named: { topic: string; partitions: number[] }[] = [];
  for (const [topicId, set] of partitions) {
    const topic = image.topicsById.get(topicId)?.name;
    if (topic !== undefined && set.size > 0) named.push({ topic, partitions: [...set].sort((a, b) => a - b) });
  }
  return named.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
}

/** A classic member's assignment blob: `partitions` in the version of its subscription for `protocolName`. */
export function classicAssignment(partitions: TopicPartitions, subscription: Buffer, image: MetadataImage): Buffer {
  return encodeAssignment(namedPartitions(partitions, image), subscription);
}
