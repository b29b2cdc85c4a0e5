// Kafka's classic rebalance protocol over one group: JoinGroup, SyncGroup, Heartbeat and
// LeaveGroup, session and rebalance timeouts, static membership and the initial rebalance delay.
// Waiting JoinGroup and SyncGroup requests are parked callbacks on their members, completed by
// events (the last member joining, the leader's assignment, a timer for the rebalance timeout);
// nothing polls. Every transition runs to completion; only record writes are awaited.
import { ErrorCode } from '../../base/error-codes.js';
import { randomUuid } from '../../base/uuid.js';
import { EMPTY_ASSIGNMENT, type Group, GroupMember, GroupState, type JoinOutcome, type MemberProtocol, type SyncOutcome } from './group.js';
import type { GroupContext } from './group-context.js';
import { groupMetadataRecord } from './group-records.js';

export const UNKNOWN_MEMBER_ID = '';

export interface JoinGroupInput {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  /** JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED and its id (KIP-394). */
  requireKnownMemberId: boolean;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: MemberProtocol[];
}

export interface SyncGroupInput {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

export function joinError(memberId: string, errorCode: number): JoinOutcome {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leaderId: '', memberId, members: [], skipAssignment: false };
}

export function syncError(errorCode: number): SyncOutcome {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_ASSIGNMENT };
}

export class GroupMembership {
  constructor(private readonly context: GroupContext) {}

  private get nowMs(): number {
    return this.context.clock.nowMs();
  }

  // ---- JoinGroup ----

  join(group: Group, input: JoinGroupInput): Promise<JoinOutcome> {
    return new Promise((resolve) => {
      if (input.memberId === UNKNOWN_MEMBER_ID) this.joinNewMember(group, input, resolve);
      else this.joinKnownMember(group, input, resolve);
    });
  }

  private joinNewMember(group: Group, input: JoinGroupInput, respond: (outcome: JoinOutcome) => void): void {
    if (group.is(GroupState.dead)) return respond(joinError(input.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(input.protocolType, input.protocols)) return respond(joinError(input.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const newMemberId = `${input.clientId}-${randomUuid(this.context.random)}`;
    if (input.groupInstanceId !== null) {
      const existing = group.staticMembers.get(input.groupInstanceId);
      if (existing !== undefined) return this.replaceStaticMember(group, existing, newMemberId, input, respond);
      return this.addMemberAndRebalance(group, newMemberId, input, respond);
    }
    if (group.members.size + group.pendingMembers.size >= this.context.config.groupMaxSize) {
      return respond(joinError(UNKNOWN_MEMBER_ID, ErrorCode.GROUP_MAX_SIZE_REACHED));
    }
    if (input.requireKnownMemberId) {
      // The member must come back with this id; until then it holds a place and blocks the join
      // phase, and it is forgotten after one session timeout.
      const cancel = this.context.clock.schedule(input.sessionTimeoutMs, () => this.expirePendingMember(group, newMemberId));
      group.pendingMembers.set(newMemberId, cancel);
      return respond(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    this.addMemberAndRebalance(group, newMemberId, input, respond);
  }

  private joinKnownMember(group: Group, input: JoinGroupInput, respond: (outcome: JoinOutcome) => void): void {
    const { memberId } = input;
    if (group.is(GroupState.dead)) return respond(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(input.protocolType, input.protocols)) return respond(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const pendingExpiry = group.pendingMembers.get(memberId);
    if (pendingExpiry !== undefined) {
      pendingExpiry();
      group.pendingMembers.delete(memberId);
      if (group.members.size >= this.context.config.groupMaxSize) return respond(joinError(memberId, ErrorCode.GROUP_MAX_SIZE_REACHED));
      return this.addMemberAndRebalance(group, memberId, input, respond);
    }
    if (group.isStaticMemberFenced(memberId, input.groupInstanceId)) return respond(joinError(memberId, ErrorCode.FENCED_INSTANCE_ID));
    const member = group.members.get(memberId);
    if (!member) return respond(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    switch (group.state) {
      case GroupState.preparingRebalance:
        return this.updateMemberAndRebalance(group, member, input, respond);
      case GroupState.completingRebalance:
        // A re-join with unchanged protocols means the member lost the join response: send it again.
        if (member.hasSameProtocols(input.protocols)) return respond(this.joinOutcome(group, member));
        return this.updateMemberAndRebalance(group, member, input, respond);
      case GroupState.stable:
        if (member.memberId === group.leaderId || !member.hasSameProtocols(input.protocols)) return this.updateMemberAndRebalance(group, member, input, respond);
        return respond(this.joinOutcome(group, member));
      default:
        return respond(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private addMemberAndRebalance(group: Group, memberId: string, input: JoinGroupInput, respond: (outcome: JoinOutcome) => void): void {
    const member = new GroupMember(
      memberId,
      input.groupInstanceId,
      input.clientId,
      input.clientHost,
      input.rebalanceTimeoutMs,
      input.sessionTimeoutMs,
      input.protocolType,
      input.protocols,
    );
    member.isNew = true;
    member.awaitingJoin = respond;
    group.addMember(member);
    if (group.is(GroupState.preparingRebalance) && group.cancelJoinTimer !== undefined && group.generationId === 0) group.newMemberAdded = true;
    this.maybePrepareRebalance(group, `member ${memberId} joined`);
    this.checkJoinComplete(group);
  }

  private updateMemberAndRebalance(group: Group, member: GroupMember, input: JoinGroupInput, respond: (outcome: JoinOutcome) => void): void {
    member.protocols = input.protocols;
    member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
    member.sessionTimeoutMs = input.sessionTimeoutMs;
    member.clientId = input.clientId;
    member.clientHost = input.clientHost;
    // A second join from the same member replaces the first; the first still gets an answer so the
    // connection's responses stay in order.
    member.awaitingJoin?.(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    member.awaitingJoin = respond;
    this.maybePrepareRebalance(group, `member ${member.memberId} re-joined`);
    this.checkJoinComplete(group);
  }

  /** A static member restarted with a new member id: it takes over the old id's place (KIP-345). */
  private replaceStaticMember(group: Group, oldMemberId: string, newMemberId: string, input: JoinGroupInput, respond: (outcome: JoinOutcome) => void): void {
    const old = group.members.get(oldMemberId)!;
    old.awaitingJoin?.(joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    old.awaitingJoin = undefined;
    old.awaitingSync?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    old.awaitingSync = undefined;
    const member = group.replaceStaticMember(oldMemberId, newMemberId);
    if (group.is(GroupState.stable) && member.hasSameProtocols(input.protocols)) {
      // Same subscription: keep the generation and the assignment, so no rebalance happens.
      member.clientId = input.clientId;
      member.clientHost = input.clientHost;
      member.sessionTimeoutMs = input.sessionTimeoutMs;
      member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
      this.scheduleSessionExpiry(group, member);
      void this.context.store(group, [groupMetadataRecord(group.groupId, group.toMetadataValue())]).then((errorCode) => {
        if (errorCode !== ErrorCode.NONE) return respond(joinError(newMemberId, errorCode));
        const outcome = this.joinOutcome(group, member);
        // The leader keeps its role but need not assign again (JoinGroup v9 SkipAssignment).
        respond(member.memberId === group.leaderId ? { ...outcome, skipAssignment: true, members: outcome.members } : outcome);
      });
      return;
    }
    this.updateMemberAndRebalance(group, member, input, respond);
  }

  private joinOutcome(group: Group, member: GroupMember): JoinOutcome {
    const isLeader = member.memberId === group.leaderId;
    const protocolName = group.protocolName;
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName,
      leaderId: group.leaderId ?? '',
      memberId: member.memberId,
      members:
        isLeader && protocolName !== null
          ? [...group.members.values()].map((each) => ({ memberId: each.memberId, groupInstanceId: each.groupInstanceId, metadata: each.metadataFor(protocolName) }))
          : [],
      skipAssignment: false,
    };
  }

  // ---- Rebalance ----

  maybePrepareRebalance(group: Group, reason: string): void {
    if (group.is(GroupState.stable) || group.is(GroupState.completingRebalance) || group.is(GroupState.empty)) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.is(GroupState.completingRebalance)) this.failPendingSyncs(group, ErrorCode.REBALANCE_IN_PROGRESS);
    const wasEmpty = group.is(GroupState.empty);
    group.transitionTo(GroupState.preparingRebalance, this.nowMs);
    this.context.logger.debug('preparing rebalance', { group: group.groupId, generation: group.generationId, reason });
    if (wasEmpty) return this.startInitialDelay(group);
    this.startRebalanceTimer(group, group.rebalanceTimeoutMs());
    // As a delayed operation, the join phase first checks whether it can complete right away.
    this.checkJoinComplete(group);
  }

  /**
   * group.initial.rebalance.delay.ms: the first rebalance of an empty group waits this long, and
   * again while new members keep arriving, up to the longest rebalance timeout, so a group of
   * consumers starting together gets one rebalance instead of one per member.
   */
  private startInitialDelay(group: Group): void {
    const delayMs = this.context.config.groupInitialRebalanceDelayMs;
    let remainingMs = Math.max(group.rebalanceTimeoutMs() - delayMs, 0);
    group.newMemberAdded = false;
    const arm = (waitMs: number) => {
      group.cancelJoinTimer = this.context.clock.schedule(waitMs, () => {
        group.cancelJoinTimer = undefined;
        if (group.newMemberAdded && remainingMs > 0) {
          group.newMemberAdded = false;
          const nextMs = Math.min(delayMs, remainingMs);
          remainingMs -= nextMs;
          arm(nextMs);
          return;
        }
        this.completeJoin(group);
      });
    };
    arm(delayMs);
  }

  private startRebalanceTimer(group: Group, timeoutMs: number): void {
    group.cancelJoinTimer?.();
    group.cancelJoinTimer = this.context.clock.schedule(timeoutMs, () => {
      group.cancelJoinTimer = undefined;
      this.completeJoin(group);
    });
  }

  /** The event that may end the join phase: every member (and no pending one) has re-joined. */
  checkJoinComplete(group: Group): void {
    if (!group.is(GroupState.preparingRebalance) || !group.hasAllMembersJoined()) return;
    // During the initial delay the timer decides; otherwise all members present ends the wait.
    if (group.generationId === 0 && group.cancelJoinTimer !== undefined && this.context.config.groupInitialRebalanceDelayMs > 0) return;
    group.cancelJoinTimer?.();
    group.cancelJoinTimer = undefined;
    this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    if (!group.is(GroupState.preparingRebalance)) return;
    for (const member of [...group.members.values()]) {
      if (member.awaitingJoin === undefined) {
        this.context.logger.debug('removing member that did not re-join', { group: group.groupId, member: member.memberId });
        group.removeMember(member.memberId);
      }
    }
    for (const [memberId, cancel] of group.pendingMembers) {
      cancel();
      group.pendingMembers.delete(memberId);
    }
    group.generationId++;
    if (group.isEmpty) {
      group.protocolName = null;
      group.transitionTo(GroupState.empty, this.nowMs);
      void this.context.store(group, [groupMetadataRecord(group.groupId, group.toMetadataValue())]);
      return;
    }
    group.protocolName = group.selectProtocol();
    if (group.leaderId === null || !group.members.has(group.leaderId)) group.leaderId = group.members.keys().next().value ?? null;
    group.transitionTo(GroupState.completingRebalance, this.nowMs);
    this.context.logger.debug('join phase complete', { group: group.groupId, generation: group.generationId, members: group.members.size, protocol: group.protocolName });
    for (const member of group.members.values()) {
      const respond = member.awaitingJoin!;
      member.awaitingJoin = undefined;
      member.isNew = false;
      this.scheduleSessionExpiry(group, member);
      respond(this.joinOutcome(group, member));
    }
  }

  private failPendingSyncs(group: Group, errorCode: number): void {
    for (const member of group.members.values()) {
      const respond = member.awaitingSync;
      member.awaitingSync = undefined;
      respond?.(syncError(errorCode));
    }
  }

  // ---- SyncGroup ----

  sync(group: Group, input: SyncGroupInput): Promise<SyncOutcome> {
    const problem = this.memberProblem(group, input.memberId, input.groupInstanceId, input.generationId);
    if (problem !== ErrorCode.NONE) return Promise.resolve(syncError(problem));
    if ((input.protocolType !== null && input.protocolType !== group.protocolType) || (input.protocolName !== null && input.protocolName !== group.protocolName)) {
      return Promise.resolve(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const member = group.members.get(input.memberId)!;
    switch (group.state) {
      case GroupState.preparingRebalance:
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case GroupState.stable:
        this.scheduleSessionExpiry(group, member);
        return Promise.resolve(this.syncOutcome(group, member));
      case GroupState.completingRebalance:
        return new Promise((resolve) => {
          member.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
          member.awaitingSync = resolve;
          this.scheduleSessionExpiry(group, member);
          if (member.memberId === group.leaderId) void this.storeAssignment(group, input.assignments);
        });
      default:
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  /** Writes the leader's assignment, then (if the generation still stands) hands it out: Stable. */
  private async storeAssignment(group: Group, assignments: { memberId: string; assignment: Buffer }[]): Promise<void> {
    const generationId = group.generationId;
    const byMember = new Map(assignments.map(({ memberId, assignment }) => [memberId, assignment]));
    for (const member of group.members.values()) member.assignment = byMember.get(member.memberId) ?? EMPTY_ASSIGNMENT;
    const errorCode = await this.context.store(group, [groupMetadataRecord(group.groupId, group.toMetadataValue())]);
    if (!group.is(GroupState.completingRebalance) || group.generationId !== generationId) return;
    if (errorCode !== ErrorCode.NONE) {
      for (const member of group.members.values()) member.assignment = EMPTY_ASSIGNMENT;
      this.failPendingSyncs(group, errorCode);
      this.prepareRebalance(group, 'storing the assignment failed');
      return;
    }
    group.transitionTo(GroupState.stable, this.nowMs);
    for (const member of group.members.values()) {
      const respond = member.awaitingSync;
      member.awaitingSync = undefined;
      respond?.(this.syncOutcome(group, member));
    }
  }

  private syncOutcome(group: Group, member: GroupMember): SyncOutcome {
    return { errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
  }

  // ---- Heartbeat ----

  heartbeat(group: Group, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const problem = this.memberProblem(group, memberId, groupInstanceId, generationId);
    if (problem !== ErrorCode.NONE) return problem;
    const member = group.members.get(memberId)!;
    switch (group.state) {
      case GroupState.completingRebalance:
      case GroupState.stable:
        this.scheduleSessionExpiry(group, member);
        return ErrorCode.NONE;
      case GroupState.preparingRebalance:
        this.scheduleSessionExpiry(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        return ErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  /** The fencing checks shared by SyncGroup, Heartbeat and OffsetCommit. */
  memberProblem(group: Group, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (group.is(GroupState.dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (!group.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    return ErrorCode.NONE;
  }

  // ---- LeaveGroup ----

  leave(group: Group, leaving: readonly MemberIdentity[]): number[] {
    return leaving.map((identity) => this.leaveOne(group, identity));
  }

  private leaveOne(group: Group, { memberId, groupInstanceId }: MemberIdentity): number {
    if (group.is(GroupState.dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (groupInstanceId !== null) {
      const holder = group.staticMembers.get(groupInstanceId);
      if (holder === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (memberId !== UNKNOWN_MEMBER_ID && holder !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      this.removeMemberAndUpdate(group, holder, `static member ${groupInstanceId} left`);
      return ErrorCode.NONE;
    }
    const pendingExpiry = group.pendingMembers.get(memberId);
    if (pendingExpiry !== undefined) {
      pendingExpiry();
      group.pendingMembers.delete(memberId);
      this.checkJoinComplete(group);
      return ErrorCode.NONE;
    }
    if (!group.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.removeMemberAndUpdate(group, memberId, `member ${memberId} left`);
    return ErrorCode.NONE;
  }

  removeMemberAndUpdate(group: Group, memberId: string, reason: string): void {
    const member = group.removeMember(memberId);
    if (!member) return;
    member.awaitingJoin?.(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    member.awaitingSync?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    member.awaitingJoin = undefined;
    member.awaitingSync = undefined;
    if (group.is(GroupState.stable) || group.is(GroupState.completingRebalance)) this.prepareRebalance(group, reason);
    else if (group.is(GroupState.preparingRebalance)) {
      if (group.isEmpty && group.generationId > 0) {
        group.cancelJoinTimer?.();
        group.cancelJoinTimer = undefined;
        this.completeJoin(group);
      } else this.checkJoinComplete(group);
    }
  }

  // ---- Session timeouts ----

  /** (Re)arms the member's session timer: a heartbeat, join or sync proves it alive. */
  scheduleSessionExpiry(group: Group, member: GroupMember): void {
    member.cancelSessionTimer?.();
    member.cancelSessionTimer = this.context.clock.schedule(member.sessionTimeoutMs, () => {
      member.cancelSessionTimer = undefined;
      if (group.members.get(member.memberId) !== member) return;
      // A member parked in JoinGroup or SyncGroup is waiting on us, not silent.
      if (member.awaitingJoin !== undefined || member.awaitingSync !== undefined) return this.scheduleSessionExpiry(group, member);
      this.context.logger.info('member session expired', { group: group.groupId, member: member.memberId });
      this.removeMemberAndUpdate(group, member.memberId, `member ${member.memberId} session timed out`);
    });
  }

  private expirePendingMember(group: Group, memberId: string): void {
    if (!group.pendingMembers.delete(memberId)) return;
    this.checkJoinComplete(group);
  }

  /** Answers every parked request with `errorCode` and stops the group's timers (shutdown, deletion). */
  shutdown(group: Group, errorCode: number): void {
    group.cancelJoinTimer?.();
    group.cancelJoinTimer = undefined;
    for (const cancel of group.pendingMembers.values()) cancel();
    group.pendingMembers.clear();
    for (const member of group.members.values()) {
      member.cancelSessionTimer?.();
      member.cancelSessionTimer = undefined;
      member.awaitingJoin?.(joinError(member.memberId, errorCode));
      member.awaitingSync?.(syncError(errorCode));
      member.awaitingJoin = undefined;
      member.awaitingSync = undefined;
    }
  }
}
