// ConsumerGroupHeartbeat (KIP-848) over one consumer group: members join with epoch 0, leave with
// -1 (or -2, a static member that will come back), and otherwise heartbeat with their epoch. A
// change of membership, subscription or subscribed topics bumps the group epoch; the next
// heartbeat computes the target assignment with the server-side assignor; every heartbeat moves
// its member one reconciliation step towards its target (consumer-group.ts). Each change is
// written to `__consumer_offsets` before the member hears of it. Session timeouts remove silent
// members; a member that does not revoke within its rebalance timeout is removed too.
import { RE2JS } from 're2js';
import { ErrorCode } from '../../base/error-codes.js';
import { randomUuid } from '../../base/uuid.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import { internalTopics } from '../../metadata/topic-name.js';
import { type AssignorMember, type AssignorTopic, type ServerAssignor, serverAssignorNamed } from './assignors.js';
import {
  ConsumerGroupMember,
  type ConsumerGroupModel,
  JOIN_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  MemberState,
  type TopicPartitions,
  fromTopicPartitions,
  isSubset,
  reconcile,
  samePartitions,
  toTopicPartitions,
} from './consumer-group.js';
import {
  currentAssignmentRecord,
  groupEpochRecord,
  memberMetadataRecord,
  memberTombstones,
  targetAssignmentEpochRecord,
  targetAssignmentMemberRecord,
} from './consumer-group-records.js';
import type { Group } from './group.js';
import type { GroupContext } from './group-context.js';
import type { MigrationPolicy } from './group-migration.js';
import type { OffsetsRecord } from './group-records.js';

export interface ConsumerHeartbeatInput {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: { topicId: string; partitions: number[] }[] | null;
  clientId: string;
  clientHost: string;
  /** v0: the coordinator makes up a new member's id; v1+: the client brings its own (KIP-1082). */
  apiVersion: number;
}

export interface ConsumerHeartbeatOutcome {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicId: string; partitions: number[] }[] | null;
}

export function heartbeatError(errorCode: number, errorMessage: string | null = null): ConsumerHeartbeatOutcome {
  return { errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}

/** The request checks Kafka makes before it looks at the group: INVALID_REQUEST with a reason. */
export function heartbeatRequestProblem(input: ConsumerHeartbeatInput): string | undefined {
  if (input.groupId === '') return "GroupId can't be empty.";
  if (input.instanceId === '') return "InstanceId can't be empty.";
  if (input.rackId === '') return "RackId can't be empty.";
  if (input.apiVersion >= 1 && input.memberId === '') return "MemberId can't be empty.";
  if (input.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) return `MemberEpoch ${input.memberEpoch} is invalid.`;
  if (input.memberEpoch > JOIN_GROUP_MEMBER_EPOCH && input.memberId === '') return "MemberId can't be empty.";
  if (input.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH && input.instanceId === null) return 'InstanceId can not be null when MemberEpoch is -2 (a static member leaving).';
  if (input.memberEpoch === JOIN_GROUP_MEMBER_EPOCH) {
    if (input.rebalanceTimeoutMs === -1) return 'RebalanceTimeoutMs must be provided in first request.';
    if (input.topicPartitions === null || input.topicPartitions.some(({ partitions }) => partitions.length > 0)) return 'TopicPartitions must be empty when (re-)joining.';
    if (input.subscribedTopicNames === null && input.subscribedTopicRegex === null) return 'Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.';
  }
  return undefined;
}

export interface ConsumerMembershipConfig {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxSize: number;
  /** The enabled server assignors, the first being the default. */
  assignors: readonly ServerAssignor[];
  /** group.consumer.migration.policy: whether non-empty groups move between the classic and consumer protocols (default bidirectional). */
  migrationPolicy?: MigrationPolicy;
  /** A group's own configs (consumer.session.timeout.ms, consumer.heartbeat.interval.ms), over the values above. */
  groupConfig?: (groupId: string) => { sessionTimeoutMs?: number; heartbeatIntervalMs?: number };
}

export class ConsumerGroupMembership {
  private readonly regexes = new Map<string, RE2JS>();

  constructor(
    private readonly context: GroupContext,
    private readonly image: MetadataImage,
    private readonly config: ConsumerMembershipConfig,
  ) {}

  get defaultAssignorName(): string {
    return this.config.assignors[0]!.name;
  }

  /** UNSUPPORTED_ASSIGNOR or INVALID_REGULAR_EXPRESSION with a message, or undefined. */
  subscriptionProblem(input: ConsumerHeartbeatInput): { errorCode: number; message: string } | undefined {
    if (input.serverAssignor !== null && !this.config.assignors.some((assignor) => assignor.name === input.serverAssignor)) {
      return { errorCode: ErrorCode.UNSUPPORTED_ASSIGNOR, message: `ServerAssignor ${input.serverAssignor} is not supported. Supported assignors: ${this.config.assignors.map((assignor) => assignor.name).join(', ')}.` };
    }
    if (input.subscribedTopicRegex !== null && input.subscribedTopicRegex !== '') {
      try {
        this.regex(input.subscribedTopicRegex);
      } catch (error) {
        return { errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION, message: `SubscribedTopicRegex \`${input.subscribedTopicRegex}\` is not a valid regular expression: ${(error as Error).message}.` };
      }
    }
    return undefined;
  }

  private regex(source: string): RE2JS {
    let compiled = this.regexes.get(source);
    if (compiled === undefined) {
      compiled = RE2JS.compile(source);
      this.regexes.set(source, compiled);
    }
    return compiled;
  }

  async heartbeat(group: Group, model: ConsumerGroupModel, input: ConsumerHeartbeatInput): Promise<ConsumerHeartbeatOutcome> {
    if (input.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || input.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return this.leave(group, model, input);
    const records: OffsetsRecord[] = [];
    const joining = input.memberEpoch === JOIN_GROUP_MEMBER_EPOCH;
    let member: ConsumerGroupMember;
    let bumpEpoch = false;
    if (joining) {
      const found = this.joiningMember(group, model, input, records);
      if ('errorCode' in found) return found;
      member = found.member;
      bumpEpoch = found.isNew;
    } else {
      const known = model.members.get(input.memberId);
      if (known === undefined) return heartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${input.memberId} is not a member of group ${input.groupId}.`);
      if (input.instanceId !== null && known.instanceId !== null && known.instanceId !== input.instanceId) {
        return heartbeatError(ErrorCode.FENCED_INSTANCE_ID, `Member ${input.memberId} holds instance id ${known.instanceId}, not ${input.instanceId}.`);
      }
      if (this.isFenced(known, input)) {
        return heartbeatError(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The member's epoch ${input.memberEpoch} is not the coordinator's ${known.memberEpoch}: it must give up its partitions and rejoin.`,
        );
      }
      member = known;
    }
    const before = { epoch: member.memberEpoch, assigned: member.assigned };
    const owned: TopicPartitions | null = joining ? new Map() : input.topicPartitions === null ? null : toTopicPartitions(input.topicPartitions);
    this.advance(group, model, member, this.updateMember(member, input) || bumpEpoch, owned, records);
    if (records.length > 0) {
      const errorCode = await this.context.store(group, records);
      if (errorCode !== ErrorCode.NONE) return heartbeatError(errorCode);
    }
    const changed = joining || member.memberEpoch !== before.epoch || !samePartitions(member.assigned, before.assigned) || (owned !== null && !samePartitions(owned, member.assigned));
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.groupConfig(group.groupId).heartbeatIntervalMs,
      assignment: changed ? fromTopicPartitions(member.assigned) : null,
    };
  }

  /**
   * What every change of a member sets off, for ConsumerGroupHeartbeat and for a classic member's
   * JoinGroup alike: its subscription record when it changed, a new group epoch when it or the
   * subscribed topics changed, the target assignment for that epoch, and one reconciliation step
   * given the partitions the member says it owns. The records go to `records`; timers and the
   * group's state follow. `subscriptionChanged` (by default any change) moves the group epoch.
   */
  advance(group: Group, model: ConsumerGroupModel, member: ConsumerGroupMember, memberChanged: boolean, owned: TopicPartitions | null, records: OffsetsRecord[], subscriptionChanged = memberChanged): void {
    if (memberChanged) records.push(memberMetadataRecord(group.groupId, member.memberId, member));
    if (this.subscribedTopicsChanged(model) || subscriptionChanged) {
      model.groupEpoch++;
      records.push(groupEpochRecord(group.groupId, model.groupEpoch));
    }
    if (model.groupEpoch > model.assignmentEpoch) records.push(...this.computeTargetAssignment(group, model));
    if (this.reconcileMember(model, member, owned)) records.push(currentAssignmentRecord(group.groupId, member.memberId, member));
    this.scheduleTimers(group, model, member);
    this.refreshState(group, model);
  }

  /** The member a join (epoch 0) speaks for: new, a dynamic member re-joining, or a static member's new incarnation. */
  private joiningMember(group: Group, model: ConsumerGroupModel, input: ConsumerHeartbeatInput, records: OffsetsRecord[]): { member: ConsumerGroupMember; isNew: boolean } | ConsumerHeartbeatOutcome {
    const memberId = input.memberId !== '' ? input.memberId : this.newMemberId(model);
    if (input.instanceId !== null) {
      const holderId = model.staticMembers.get(input.instanceId);
      const holder = holderId === undefined ? undefined : model.members.get(holderId);
      if (holder !== undefined && holder.memberId !== memberId) {
        // As Kafka: only a holder on this protocol must have left first (-2); a classic holder (a
        // client being upgraded, which never sends LeaveGroup on close) is replaced at once.
        if (holder.classic === null && holder.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          return heartbeatError(ErrorCode.UNRELEASED_INSTANCE_ID, `Static member ${holder.memberId} with instance id ${input.instanceId} is still in the group; it has to leave (or its session expire) first.`);
        }
        return { member: this.replaceStaticMember(group, model, holder, memberId, records), isNew: false };
      }
    }
    const existing = model.members.get(memberId);
    if (existing !== undefined) return { member: existing, isNew: false };
    if (model.members.size >= this.config.maxSize) return heartbeatError(ErrorCode.GROUP_MAX_SIZE_REACHED, `The group ${input.groupId} has reached its maximum size of ${this.config.maxSize} members.`);
    const member = new ConsumerGroupMember(memberId);
    member.instanceId = input.instanceId;
    model.addMember(member);
    return { member, isNew: true };
  }

  /** A member id for a v0 join (v1 clients bring their own, KIP-1082): a Kafka Uuid, as Kafka makes it. */
  private newMemberId(model: ConsumerGroupModel): string {
    for (;;) {
      const candidate = randomUuid(this.context.random);
      if (!model.members.has(candidate)) return candidate;
    }
  }

  /** A static member came back under a new member id: it takes the old one's place and partitions, with no rebalance. */
  private replaceStaticMember(group: Group, model: ConsumerGroupModel, old: ConsumerGroupMember, memberId: string, records: OffsetsRecord[]): ConsumerGroupMember {
    const target = model.targetAssignment.get(old.memberId);
    model.removeMember(old.memberId);
    records.push(...memberTombstones(group.groupId, old.memberId));
    const member = new ConsumerGroupMember(memberId);
    for (const key of ['instanceId', 'rackId', 'clientId', 'clientHost', 'subscribedTopicNames', 'subscribedTopicRegex', 'serverAssignor', 'rebalanceTimeoutMs'] as const) {
      (member as unknown as Record<string, unknown>)[key] = old[key];
    }
    member.setAssignment({ state: MemberState.stable, memberEpoch: 0, previousMemberEpoch: 0, assigned: old.assigned, pendingRevocation: new Map() });
    model.addMember(member);
    if (target !== undefined) {
      model.targetAssignment.set(memberId, target);
      records.push(targetAssignmentMemberRecord(group.groupId, memberId, target));
    }
    records.push(memberMetadataRecord(group.groupId, memberId, member));
    return member;
  }

  /** A known member's epoch is fenced unless it is current, or the previous one with a response lost on the way. */
  private isFenced(member: ConsumerGroupMember, input: ConsumerHeartbeatInput): boolean {
    if (input.memberEpoch > member.memberEpoch) return true;
    if (input.memberEpoch === member.memberEpoch) return false;
    if (input.memberEpoch !== member.previousMemberEpoch || input.topicPartitions === null) return true;
    return !isSubset(toTopicPartitions(input.topicPartitions), member.assigned);
  }

  /** Applies the request's non-null fields; true when the stored subscription changed. */
  private updateMember(member: ConsumerGroupMember, input: ConsumerHeartbeatInput): boolean {
    // A member heard on this protocol no longer speaks the classic one (as Kafka clears ClassicMemberMetadata).
    let changed = member.classic !== null;
    member.classic = null;
    const set = <K extends 'rackId' | 'clientId' | 'clientHost' | 'subscribedTopicRegex' | 'serverAssignor' | 'rebalanceTimeoutMs'>(key: K, value: ConsumerGroupMember[K]) => {
      if (member[key] === value) return;
      member[key] = value;
      changed = true;
    };
    if (input.rackId !== null) set('rackId', input.rackId);
    set('clientId', input.clientId);
    set('clientHost', input.clientHost);
    if (input.rebalanceTimeoutMs !== -1) set('rebalanceTimeoutMs', input.rebalanceTimeoutMs);
    if (input.serverAssignor !== null) set('serverAssignor', input.serverAssignor);
    // Names and a regular expression may come together (librdkafka sends both in a full request:
    // the names it subscribed to, and its ^patterns joined); the subscription is their union. An
    // empty regular expression means none.
    if (input.subscribedTopicNames !== null) {
      const names = [...new Set(input.subscribedTopicNames)].sort();
      if (names.join('\u0000') !== member.subscribedTopicNames.join('\u0000')) {
        member.subscribedTopicNames = names;
        changed = true;
      }
    }
    if (input.subscribedTopicRegex !== null) set('subscribedTopicRegex', input.subscribedTopicRegex === '' ? null : input.subscribedTopicRegex);
    return changed;
  }

  /** The topic ids a member subscribes to that exist now: by name, or every non-internal topic its regex matches in full. */
  subscribedTopicIds(member: ConsumerGroupMember): Set<string> {
    const ids = new Set<string>();
    for (const name of member.subscribedTopicNames) {
      const topic = this.image.topic(name);
      if (topic !== undefined) ids.add(topic.topicId);
    }
    if (member.subscribedTopicRegex !== null) {
      const regex = this.regex(member.subscribedTopicRegex);
      for (const [name, topic] of this.image.topicsByName) if (!internalTopics.has(name) && regex.matches(name)) ids.add(topic.topicId);
    }
    return ids;
  }

  /** Whether the subscribed topics appeared, went or changed partition counts since the group epoch last moved. */
  private subscribedTopicsChanged(model: ConsumerGroupModel): boolean {
    if (model.topicsVersionSeen === this.image.topicsVersion) return false;
    model.topicsVersionSeen = this.image.topicsVersion;
    const signature = this.subscriptionSignature(model);
    if (signature === model.subscriptionSignature) return false;
    model.subscriptionSignature = signature;
    return true;
  }

  private subscriptionSignature(model: ConsumerGroupModel): string {
    const ids = new Set<string>();
    for (const member of model.members.values()) for (const id of this.subscribedTopicIds(member)) ids.add(id);
    return [...ids]
      .sort()
      .map((id) => `${id}/${this.image.topicsById.get(id)?.partitions.size ?? 0}`)
      .join(',');
  }

  /** Runs the group's assignor for the current group epoch; the records of every target that changed, then the epoch. */
  private computeTargetAssignment(group: Group, model: ConsumerGroupModel): OffsetsRecord[] {
    const assignor = serverAssignorNamed(model.preferredAssignor(this.defaultAssignorName)) ?? this.config.assignors[0]!;
    const topics = new Map<string, AssignorTopic>();
    const members: AssignorMember[] = [];
    for (const member of model.members.values()) {
      const subscribed = this.subscribedTopicIds(member);
      for (const topicId of subscribed) {
        const topic = this.image.topicsById.get(topicId);
        if (topic !== undefined) topics.set(topicId, { topicId, name: topic.name, numPartitions: topic.partitions.size });
      }
      members.push({ memberId: member.memberId, instanceId: member.instanceId, rackId: member.rackId, subscribedTopicIds: subscribed, assignment: model.targetAssignment.get(member.memberId) ?? new Map() });
    }
    const target = assignor.assign(members, topics);
    const records: OffsetsRecord[] = [];
    for (const member of members) {
      const next: TopicPartitions = target.get(member.memberId) ?? new Map();
      const previous = model.targetAssignment.get(member.memberId);
      if (previous === undefined || !samePartitions(previous, next)) records.push(targetAssignmentMemberRecord(group.groupId, member.memberId, next));
      model.targetAssignment.set(member.memberId, next);
    }
    model.assignmentEpoch = model.groupEpoch;
    model.subscriptionSignature = this.subscriptionSignature(model);
    model.topicsVersionSeen = this.image.topicsVersion;
    records.push(targetAssignmentEpochRecord(group.groupId, model.assignmentEpoch));
    this.context.logger.debug('computed target assignment', { group: group.groupId, epoch: model.assignmentEpoch, assignor: assignor.name, members: members.length, topics: topics.size });
    return records;
  }

  /** One reconciliation step for `member`; true when its current assignment changed. */
  private reconcileMember(model: ConsumerGroupModel, member: ConsumerGroupMember, owned: TopicPartitions | null): boolean {
    const target = model.targetAssignment.get(member.memberId) ?? new Map<string, Set<number>>();
    const ownedByOther = (topicId: string, partition: number) => {
      const owner = model.ownerOf(topicId, partition);
      return owner !== undefined && owner !== member.memberId;
    };
    const next = reconcile(member, model.assignmentEpoch, target, ownedByOther, owned);
    if (next === member) return false;
    model.updateAssignment(member, next);
    return true;
  }

  /** Re-arms the session timer; arms the rebalance timer while the member owes a revocation. */
  private scheduleTimers(group: Group, model: ConsumerGroupModel, member: ConsumerGroupMember): void {
    this.scheduleSessionExpiry(group, model, member);
    if (member.state !== MemberState.unrevokedPartitions) {
      member.cancelRebalanceTimer?.();
      member.cancelRebalanceTimer = undefined;
      return;
    }
    if (member.cancelRebalanceTimer !== undefined) return;
    const epoch = member.memberEpoch;
    member.cancelRebalanceTimer = this.context.clock.schedule(Math.max(member.rebalanceTimeoutMs, 0), () => {
      member.cancelRebalanceTimer = undefined;
      if (model.members.get(member.memberId) !== member || member.state !== MemberState.unrevokedPartitions || member.memberEpoch !== epoch) return;
      this.context.logger.info('member did not revoke its partitions within its rebalance timeout', { group: group.groupId, member: member.memberId });
      void this.fence(group, model, member);
    });
  }

  /** The session timeout and heartbeat interval of `groupId`: its group configs, else the broker's. */
  private groupConfig(groupId: string): { sessionTimeoutMs: number; heartbeatIntervalMs: number } {
    const own = this.config.groupConfig?.(groupId);
    return { sessionTimeoutMs: own?.sessionTimeoutMs ?? this.config.sessionTimeoutMs, heartbeatIntervalMs: own?.heartbeatIntervalMs ?? this.config.heartbeatIntervalMs };
  }

  /** (Re)arms the member's session: the group's consumer session timeout, or the one a classic member joined with. */
  scheduleSessionExpiry(group: Group, model: ConsumerGroupModel, member: ConsumerGroupMember): void {
    member.cancelSessionTimer?.();
    const sessionTimeoutMs = member.classic?.sessionTimeoutMs ?? this.groupConfig(group.groupId).sessionTimeoutMs;
    member.cancelSessionTimer = this.context.clock.schedule(sessionTimeoutMs, () => {
      member.cancelSessionTimer = undefined;
      if (model.members.get(member.memberId) !== member) return;
      this.context.logger.info('consumer group member session expired', { group: group.groupId, member: member.memberId });
      void this.fence(group, model, member);
    });
  }

  /**
   * Set by the coordinator: when taking `member` out leaves only classic members and Kafka would
   * take the group back to the classic protocol (an online downgrade), does so and returns the
   * write of its records; otherwise undefined.
   */
  downgrade: ((group: Group, model: ConsumerGroupModel, member: ConsumerGroupMember) => Promise<number> | undefined) | undefined;

  /** Takes a member out (session expiry, rebalance timeout, leave): its partitions free, the group epoch moves. */
  fence(group: Group, model: ConsumerGroupModel, member: ConsumerGroupMember): Promise<number> {
    const downgraded = this.downgrade?.(group, model, member);
    if (downgraded !== undefined) return downgraded;
    model.removeMember(member.memberId);
    model.groupEpoch++;
    this.refreshState(group, model);
    return this.context.store(group, [...memberTombstones(group.groupId, member.memberId), groupEpochRecord(group.groupId, model.groupEpoch)]);
  }

  private async leave(group: Group, model: ConsumerGroupModel, input: ConsumerHeartbeatInput): Promise<ConsumerHeartbeatOutcome> {
    const heldBy = input.instanceId === null ? undefined : model.staticMembers.get(input.instanceId);
    const member = model.members.get(heldBy ?? input.memberId);
    if (member === undefined) return heartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${input.memberId} is not a member of group ${input.groupId}.`);
    if (heldBy !== undefined && input.memberId !== '' && heldBy !== input.memberId) {
      return heartbeatError(ErrorCode.FENCED_INSTANCE_ID, `Instance id ${input.instanceId} is held by member ${heldBy}, not ${input.memberId}.`);
    }
    let errorCode: number;
    if (input.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // It will come back under a new member id and take its partitions back: the group does not rebalance meanwhile.
      model.updateAssignment(member, { state: MemberState.stable, memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH, previousMemberEpoch: member.memberEpoch, assigned: member.assigned, pendingRevocation: new Map() });
      member.cancelRebalanceTimer?.();
      member.cancelRebalanceTimer = undefined;
      this.refreshState(group, model);
      errorCode = await this.context.store(group, [currentAssignmentRecord(group.groupId, member.memberId, member)]);
    } else {
      errorCode = await this.fence(group, model, member);
    }
    if (errorCode !== ErrorCode.NONE) return heartbeatError(errorCode);
    return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: member.memberId, memberEpoch: input.memberEpoch, heartbeatIntervalMs: 0, assignment: null };
  }

  /** The group's state as ListGroups shows it; the time it last changed starts offset retention when it empties. */
  refreshState(group: Group, model: ConsumerGroupModel): void {
    const state = model.state;
    if (group.state === state) return;
    group.state = state;
    group.currentStateTimestampMs = this.context.clock.nowMs();
  }

  /**
   * After a load: every member restored gets a session to heartbeat within. The subscribed topics
   * count as seen when the stored target assignment covers exactly their partitions; otherwise
   * they changed while no coordinator watched, and the next heartbeat moves the group epoch.
   */
  restore(group: Group, model: ConsumerGroupModel): void {
    if (this.targetCoversSubscriptions(model)) {
      model.subscriptionSignature = this.subscriptionSignature(model);
      model.topicsVersionSeen = this.image.topicsVersion;
    }
    for (const member of model.members.values()) this.scheduleTimers(group, model, member);
    this.refreshState(group, model);
  }

  private targetCoversSubscriptions(model: ConsumerGroupModel): boolean {
    const expected = new Set<string>();
    for (const member of model.members.values()) {
      for (const topicId of this.subscribedTopicIds(member)) {
        const count = this.image.topicsById.get(topicId)?.partitions.size ?? 0;
        for (let partition = 0; partition < count; partition++) expected.add(`${topicId}:${partition}`);
      }
    }
    let covered = 0;
    for (const target of model.targetAssignment.values()) {
      for (const [topicId, partitions] of target) {
        for (const partition of partitions) {
          if (!expected.has(`${topicId}:${partition}`)) return false;
          covered++;
        }
      }
    }
    return covered === expected.size;
  }

  /** Stops every member's timers (unload, shutdown, deletion). */
  shutdown(model: ConsumerGroupModel): void {
    for (const member of model.members.values()) member.stopTimers();
  }
}
