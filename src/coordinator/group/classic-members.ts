// Classic clients inside a KIP-848 consumer group (Kafka 4.0): JoinGroup, SyncGroup, Heartbeat and
// LeaveGroup from members that speak the classic protocol, answered from the consumer group's own
// state, so a group can move between the protocols one consumer at a time (group-migration.ts).
// A classic member's generation is its member epoch. Its JoinGroup runs the steps of a
// ConsumerGroupHeartbeat (subscription, group epoch, target assignment, one reconciliation step
// with the partitions its subscription says it owns) and is answered at once, with no leader;
// SyncGroup hands it its current assignment. Heartbeat answers REBALANCE_IN_PROGRESS while the
// member has something to catch up on (a newer group epoch, partitions to revoke, or partitions it
// waited for that are free now), and it rejoins. A member told to rejoin that does not, or that
// joined and does not sync, within its rebalance timeout is fenced.
import { ErrorCode } from '../../base/error-codes.js';
import { randomUuid } from '../../base/uuid.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import { ConsumerGroupMember, type ConsumerGroupModel, MemberState, type TopicPartitions, addTo } from './consumer-group.js';
import { groupEpochRecord, memberTombstones, targetAssignmentMemberRecord } from './consumer-group-records.js';
import type { ConsumerGroupMembership } from './consumer-membership.js';
import { decodeSubscription } from './consumer-protocol.js';
import type { Group, JoinOutcome, SyncOutcome } from './group.js';
import type { GroupContext } from './group-context.js';
import { type JoinGroupInput, type MemberIdentity, type SyncGroupInput, UNKNOWN_MEMBER_ID, joinError, syncError } from './group-membership.js';
import { classicAssignment } from './group-migration.js';
import type { OffsetsRecord } from './group-records.js';

export class ClassicMembersOfConsumerGroups {
  constructor(
    private readonly context: GroupContext,
    private readonly image: MetadataImage,
    private readonly consumers: ConsumerGroupMembership,
    private readonly maxSize: number,
  ) {}

  // ---- JoinGroup ----

  async join(group: Group, model: ConsumerGroupModel, input: JoinGroupInput): Promise<JoinOutcome> {
    const unknown = input.memberId === UNKNOWN_MEMBER_ID;
    const memberId = unknown ? randomUuid(this.context.random) : input.memberId;
    if (!this.supportsProtocols(model, input)) return joinError(input.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const holderId = input.groupInstanceId === null ? undefined : model.staticMembers.get(input.groupInstanceId);
    if (holderId === undefined && !model.members.has(memberId) && model.members.size >= this.maxSize) return joinError(input.memberId, ErrorCode.GROUP_MAX_SIZE_REACHED);
    // JoinGroup v4+: a new dynamic member first learns its id and comes back with it (KIP-394).
    if (unknown && input.requireKnownMemberId && input.groupInstanceId === null) return joinError(memberId, ErrorCode.MEMBER_ID_REQUIRED);
    const subscription = decodeSubscription(input.protocols[0]!.metadata);
    if (subscription === undefined) return joinError(input.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const records: OffsetsRecord[] = [];
    const found = this.joiningMember(group, model, memberId, unknown, input, holderId, records);
    if (typeof found === 'number') return joinError(input.memberId, found);
    const { member, isNew } = found;
    const before = member.subscribedTopicNames.join('\u0000');
    const changed = this.updateMember(member, input, subscription) || isNew;
    const subscriptionChanged = isNew || member.subscribedTopicNames.join('\u0000') !== before;
    const owned: TopicPartitions = new Map();
    for (const { topic, partitions } of subscription.ownedPartitions ?? []) {
      const topicId = this.image.topic(topic)?.topicId;
      if (topicId !== undefined) for (const partition of partitions) addTo(owned, topicId, partition);
    }
    member.cancelJoinTimer?.();
    member.cancelJoinTimer = undefined;
    this.consumers.advance(group, model, member, changed, owned, records, subscriptionChanged);
    if (records.length > 0) {
      const stored = await this.context.store(group, records);
      if (stored !== ErrorCode.NONE) return joinError(member.memberId, stored);
    }
    // The group went back to classic while the records were written, this member in it: it rejoins
    // the classic rebalance under its id (as Kafka, whose next SyncGroup says the same). Fenced meanwhile: a new join.
    if (group.consumer !== model) return joinError(member.memberId, group.members.has(member.memberId) ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.UNKNOWN_MEMBER_ID);
    if (model.members.get(member.memberId) !== member) return joinError(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    this.armTimer(group, model, member, 'sync');
    return {
      errorCode: ErrorCode.NONE,
      generationId: member.memberEpoch,
      protocolType: 'consumer',
      protocolName: member.classic!.supportedProtocols[0]!.name,
      leaderId: '',
      memberId: member.memberId,
      members: [],
      skipAssignment: false,
    };
  }

  /** Kafka's rule: protocol type consumer, and a protocol every classic member of the group supports. */
  private supportsProtocols(model: ConsumerGroupModel, input: JoinGroupInput): boolean {
    if (input.protocolType !== 'consumer' || input.protocols.length === 0) return false;
    const classicMembers = [...model.members.values()].filter((member) => member.classic !== null);
    return input.protocols.some(({ name }) => classicMembers.every((member) => member.classic!.supportedProtocols.some((protocol) => protocol.name === name)));
  }

  /** The member a JoinGroup speaks for: known, new, or a static member's new incarnation taking the old one's place. */
  private joiningMember(
    group: Group,
    model: ConsumerGroupModel,
    memberId: string,
    unknown: boolean,
    input: JoinGroupInput,
    holderId: string | undefined,
    records: OffsetsRecord[],
  ): { member: ConsumerGroupMember; isNew: boolean } | number {
    if (input.groupInstanceId !== null) {
      if (unknown) {
        // As the classic protocol: a static member that comes back under a new id replaces the old incarnation.
        if (holderId !== undefined) return { member: this.replaceStaticMember(group, model, model.members.get(holderId)!, memberId, records), isNew: false };
      } else if (holderId === undefined) {
        return ErrorCode.UNKNOWN_MEMBER_ID;
      } else if (holderId !== memberId) {
        // A stale incarnation with its old id: the live one keeps the instance id.
        return ErrorCode.FENCED_INSTANCE_ID;
      }
    }
    const existing = model.members.get(memberId);
    if (existing !== undefined) {
      if (existing.classic === null) return ErrorCode.UNKNOWN_MEMBER_ID;
      return { member: existing, isNew: false };
    }
    const member = new ConsumerGroupMember(memberId);
    member.instanceId = input.groupInstanceId;
    model.addMember(member);
    return { member, isNew: true };
  }

  private replaceStaticMember(group: Group, model: ConsumerGroupModel, old: ConsumerGroupMember, memberId: string, records: OffsetsRecord[]): ConsumerGroupMember {
    const target = model.targetAssignment.get(old.memberId);
    model.removeMember(old.memberId);
    records.push(...memberTombstones(group.groupId, old.memberId));
    const member = new ConsumerGroupMember(memberId);
    member.instanceId = old.instanceId;
    member.rackId = old.rackId;
    member.subscribedTopicNames = old.subscribedTopicNames;
    member.subscribedTopicRegex = old.subscribedTopicRegex;
    member.serverAssignor = old.serverAssignor;
    member.setAssignment({ state: MemberState.stable, memberEpoch: 0, previousMemberEpoch: 0, assigned: old.assigned, pendingRevocation: new Map() });
    model.addMember(member);
    if (target !== undefined) {
      model.targetAssignment.set(memberId, target);
      records.push(targetAssignmentMemberRecord(group.groupId, memberId, target));
    }
    return member;
  }

  /** Applies the JoinGroup's fields; true when anything the member's record holds changed. */
  private updateMember(member: ConsumerGroupMember, input: JoinGroupInput, subscription: { topics: string[]; rackId?: string | null }): boolean {
    const topics = [...new Set(subscription.topics)].sort();
    const protocols = input.protocols.map(({ name, metadata }) => ({ name, metadata }));
    const sameProtocols =
      member.classic !== null &&
      member.classic.sessionTimeoutMs === input.sessionTimeoutMs &&
      member.classic.supportedProtocols.length === protocols.length &&
      protocols.every((protocol, index) => protocol.name === member.classic!.supportedProtocols[index]!.name && protocol.metadata.equals(member.classic!.supportedProtocols[index]!.metadata));
    const rackId = subscription.rackId ?? member.rackId;
    const changed =
      !sameProtocols ||
      topics.join('\u0000') !== member.subscribedTopicNames.join('\u0000') ||
      member.subscribedTopicRegex !== null ||
      rackId !== member.rackId ||
      input.rebalanceTimeoutMs !== member.rebalanceTimeoutMs ||
      input.clientId !== member.clientId ||
      input.clientHost !== member.clientHost;
    member.subscribedTopicNames = topics;
    member.subscribedTopicRegex = null;
    member.rackId = rackId;
    member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
    member.clientId = input.clientId;
    member.clientHost = input.clientHost;
    member.classic = { sessionTimeoutMs: input.sessionTimeoutMs, supportedProtocols: protocols };
    return changed;
  }

  // ---- SyncGroup ----

  sync(group: Group, model: ConsumerGroupModel, input: SyncGroupInput): SyncOutcome {
    const found = this.knownClassicMember(model, input.memberId, input.groupInstanceId);
    if (typeof found === 'number') return syncError(found);
    const member = found;
    if (input.generationId !== member.memberEpoch) return syncError(ErrorCode.ILLEGAL_GENERATION);
    const protocol = member.classic!.supportedProtocols[0]!;
    if ((input.protocolType !== null && input.protocolType !== 'consumer') || (input.protocolName !== null && input.protocolName !== protocol.name)) {
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (this.mustRejoinForNewEpoch(model, member)) {
      this.armTimer(group, model, member, 'join');
      return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    member.cancelSyncTimer?.();
    member.cancelSyncTimer = undefined;
    this.consumers.scheduleSessionExpiry(group, model, member);
    return { errorCode: ErrorCode.NONE, protocolType: 'consumer', protocolName: protocol.name, assignment: classicAssignment(member.assigned, protocol.metadata, this.image) };
  }

  /** A newer group epoch than the member's, unless it is still revoking (its next rejoin comes by itself). */
  private mustRejoinForNewEpoch(model: ConsumerGroupModel, member: ConsumerGroupMember): boolean {
    return model.groupEpoch > member.memberEpoch && member.state !== MemberState.unrevokedPartitions;
  }

  // ---- Heartbeat ----

  heartbeat(group: Group, model: ConsumerGroupModel, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const found = this.knownClassicMember(model, memberId, groupInstanceId);
    if (typeof found === 'number') return found;
    const member = found;
    if (generationId !== member.memberEpoch) return ErrorCode.ILLEGAL_GENERATION;
    this.consumers.scheduleSessionExpiry(group, model, member);
    if (model.groupEpoch > member.memberEpoch || member.state === MemberState.unrevokedPartitions || (member.state === MemberState.unreleasedPartitions && this.awaitedPartitionsAreFree(model, member))) {
      this.armTimer(group, model, member, 'join');
      return ErrorCode.REBALANCE_IN_PROGRESS;
    }
    return ErrorCode.NONE;
  }

  /** Whether every partition the member's target holds but it does not is free now, so a rejoin gets them. */
  private awaitedPartitionsAreFree(model: ConsumerGroupModel, member: ConsumerGroupMember): boolean {
    const target = model.targetAssignment.get(member.memberId) ?? new Map<string, Set<number>>();
    for (const [topicId, partitions] of target) {
      for (const partition of partitions) {
        if (member.assigned.get(topicId)?.has(partition)) continue;
        const owner = model.ownerOf(topicId, partition);
        if (owner !== undefined && owner !== member.memberId) return false;
      }
    }
    return true;
  }

  // ---- LeaveGroup ----

  /** One error code per leaving member; the group epoch moves once if any left. */
  async leave(group: Group, model: ConsumerGroupModel, leaving: readonly MemberIdentity[]): Promise<number[]> {
    const records: OffsetsRecord[] = [];
    const errors = leaving.map(({ memberId, groupInstanceId }) => {
      let member: ConsumerGroupMember | undefined;
      if (groupInstanceId === null) member = model.members.get(memberId);
      else {
        const holderId = model.staticMembers.get(groupInstanceId);
        member = holderId === undefined ? undefined : model.members.get(holderId);
        if (member !== undefined && memberId !== UNKNOWN_MEMBER_ID && member.memberId !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      }
      if (member === undefined || member.classic === null) return ErrorCode.UNKNOWN_MEMBER_ID;
      model.removeMember(member.memberId);
      records.push(...memberTombstones(group.groupId, member.memberId));
      return ErrorCode.NONE;
    });
    if (records.length === 0) return errors;
    model.groupEpoch++;
    records.push(groupEpochRecord(group.groupId, model.groupEpoch));
    this.consumers.refreshState(group, model);
    const stored = await this.context.store(group, records);
    return stored === ErrorCode.NONE ? errors : errors.map((errorCode) => (errorCode === ErrorCode.NONE ? stored : errorCode));
  }

  // ---- Shared checks and timers ----

  /** The classic member a SyncGroup or Heartbeat names: UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, or the member. */
  private knownClassicMember(model: ConsumerGroupModel, memberId: string, groupInstanceId: string | null): ConsumerGroupMember | number {
    let member: ConsumerGroupMember | undefined;
    if (groupInstanceId === null) member = model.members.get(memberId);
    else {
      const holderId = model.staticMembers.get(groupInstanceId);
      if (holderId === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (holderId !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      member = model.members.get(holderId);
    }
    if (member === undefined || member.classic === null) return ErrorCode.UNKNOWN_MEMBER_ID;
    return member;
  }

  /**
   * 'join': the member was told to rejoin and is fenced unless it does within its rebalance timeout
   * (armed once; a JoinGroup cancels it). 'sync': it joined and is fenced unless it syncs in time.
   */
  private armTimer(group: Group, model: ConsumerGroupModel, member: ConsumerGroupMember, kind: 'join' | 'sync'): void {
    if (kind === 'join' && member.cancelJoinTimer !== undefined) return;
    if (kind === 'sync') member.cancelSyncTimer?.();
    const cancel = this.context.clock.schedule(Math.max(member.rebalanceTimeoutMs, 0), () => {
      if (kind === 'join') member.cancelJoinTimer = undefined;
      else member.cancelSyncTimer = undefined;
      if (group.consumer !== model || model.members.get(member.memberId) !== member) return;
      this.context.logger.info(kind === 'join' ? 'classic member did not rejoin within its rebalance timeout' : 'classic member did not sync within its rebalance timeout', {
        group: group.groupId,
        member: member.memberId,
      });
      void this.consumers.fence(group, model, member);
    });
    if (kind === 'join') member.cancelJoinTimer = cancel;
    else member.cancelSyncTimer = cancel;
  }
}
