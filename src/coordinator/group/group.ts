// One classic consumer group as Kafka's group coordinator keeps it: its state (Empty,
// PreparingRebalance, CompletingRebalance, Stable, Dead), generation, chosen protocol, leader,
// members (dynamic and static), members that still owe a re-join, and its committed offsets.
import { assert } from '../../base/assert.js';
import type { GroupMetadataValue } from '../../protocol/messages/records/index.js';
import type { ConsumerGroupModel, ConsumerGroupStateName } from './consumer-group.js';
import type { CommittedOffset } from './group-records.js';

export const GroupState = {
  empty: 'Empty',
  preparingRebalance: 'PreparingRebalance',
  completingRebalance: 'CompletingRebalance',
  stable: 'Stable',
  dead: 'Dead',
} as const;
type ClassicGroupStateName = (typeof GroupState)[keyof typeof GroupState];
/** A classic group's state, or a KIP-848 consumer group's (Empty, Assigning, Reconciling, Stable). */
export type GroupStateName = ClassicGroupStateName | ConsumerGroupStateName;

/** The states each state may be entered from, as Kafka's GroupMetadata defines them. */
const VALID_PREVIOUS_STATES: Record<ClassicGroupStateName, readonly GroupStateName[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export interface MemberProtocol {
  name: string;
  metadata: Buffer;
}

export interface JoinOutcome {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
  skipAssignment: boolean;
}

export interface SyncOutcome {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export const EMPTY_ASSIGNMENT = Buffer.alloc(0);

export class GroupMember {
  assignment: Buffer = EMPTY_ASSIGNMENT;
  /** Completes this member's parked JoinGroup; set while the member waits for the join phase to end. */
  awaitingJoin: ((outcome: JoinOutcome) => void) | undefined;
  /** Completes this member's parked SyncGroup; set while it waits for the leader's assignment. */
  awaitingSync: ((outcome: SyncOutcome) => void) | undefined;
  /** Joined during the current rebalance rather than re-joining from the previous generation. */
  isNew = false;
  cancelSessionTimer: (() => void) | undefined;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    public protocolType: string,
    public protocols: MemberProtocol[],
  ) {}

  metadataFor(protocolName: string): Buffer {
    const protocol = this.protocols.find((candidate) => candidate.name === protocolName);
    assert(protocol, `member ${this.memberId} does not support protocol ${protocolName}`);
    return protocol.metadata;
  }

  /** Whether a re-join carries the same protocols in the same order with the same metadata. */
  hasSameProtocols(protocols: readonly MemberProtocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every((protocol, index) => protocol.name === this.protocols[index]!.name && protocol.metadata.equals(this.protocols[index]!.metadata))
    );
  }
}

export interface StoredOffset {
  topic: string;
  partition: number;
  committed: CommittedOffset;
}

export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class Group {
  state: GroupStateName = GroupState.empty;
  /**
   * Set while the group is a KIP-848 consumer group (ConsumerGroupHeartbeat): its epochs, members
   * and assignments. The classic fields (members, generation, protocol) then stay empty; the
   * offsets are shared by both kinds, so a group keeps them when it changes kind.
   */
  consumer: ConsumerGroupModel | undefined;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, GroupMember>();
  /** group.instance.id to the member id that currently holds it. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet, with their expiry. */
  readonly pendingMembers = new Map<string, () => void>();
  readonly offsets = new Map<string, StoredOffset>();
  currentStateTimestampMs: number;
  /** Cancels the timer that ends the current join phase (rebalance timeout or initial delay). */
  cancelJoinTimer: (() => void) | undefined;
  /** A member joined during the initial rebalance delay, which therefore extends once more. */
  newMemberAdded = false;

  constructor(
    readonly groupId: string,
    nowMs: number,
  ) {
    this.currentStateTimestampMs = nowMs;
  }

  is(state: GroupStateName): boolean {
    return this.state === state;
  }

  transitionTo(state: ClassicGroupStateName, nowMs: number): void {
    assert(VALID_PREVIOUS_STATES[state].includes(this.state), `group ${this.groupId} cannot move from ${this.state} to ${state}`);
    this.state = state;
    this.currentStateTimestampMs = nowMs;
  }

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  /** Kafka's group type as ListGroups v5 shows it. */
  get type(): 'classic' | 'consumer' {
    return this.consumer === undefined ? 'classic' : 'consumer';
  }

  addMember(member: GroupMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    if (this.leaderId === null) this.leaderId = member.memberId;
  }

  removeMember(memberId: string): GroupMember | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.members.delete(memberId);
    member.cancelSessionTimer?.();
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) this.staticMembers.delete(member.groupInstanceId);
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
    return member;
  }

  /** Moves a static member to a new member id, keeping its assignment (KIP-345). */
  replaceStaticMember(oldMemberId: string, newMemberId: string): GroupMember {
    const member = this.members.get(oldMemberId);
    assert(member && member.groupInstanceId !== null, `no static member ${oldMemberId} in ${this.groupId}`);
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    this.staticMembers.set(member.groupInstanceId, newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    return member;
  }

  /** Whether `groupInstanceId` is held by a different member id than `memberId`. */
  isStaticMemberFenced(memberId: string, groupInstanceId: string | null | undefined): boolean {
    if (groupInstanceId === null || groupInstanceId === undefined) return false;
    const holder = this.staticMembers.get(groupInstanceId);
    return holder !== undefined && holder !== memberId;
  }

  /** Protocol names every current member supports. */
  candidateProtocols(): Set<string> {
    let candidates: Set<string> | undefined;
    for (const member of this.members.values()) {
      const names = new Set(member.protocols.map((protocol) => protocol.name));
      candidates = candidates === undefined ? names : new Set([...candidates].filter((name) => names.has(name)));
    }
    return candidates ?? new Set();
  }

  /** Whether a member offering `protocols` of `protocolType` can join without breaking the common protocol. */
  supportsProtocols(protocolType: string, protocols: readonly MemberProtocol[]): boolean {
    if (this.isEmpty) return protocolType.length > 0 && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    const candidates = this.candidateProtocols();
    return protocols.some((protocol) => candidates.has(protocol.name));
  }

  /** Kafka's vote: each member names its most preferred candidate; the most named wins. */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const member of this.members.values()) {
      const choice = member.protocols.find((protocol) => candidates.has(protocol.name));
      assert(choice, `member ${member.memberId} has no candidate protocol`);
      votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best: string | undefined;
    for (const [name, count] of votes) if (best === undefined || count > votes.get(best)!) best = name;
    assert(best !== undefined, `group ${this.groupId} has no members to vote`);
    return best;
  }

  hasAllMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const member of this.members.values()) if (member.awaitingJoin === undefined) return false;
    return true;
  }

  /** The longest rebalance timeout of any member: how long a rebalance waits for re-joins. */
  rebalanceTimeoutMs(): number {
    let timeoutMs = 0;
    for (const member of this.members.values()) timeoutMs = Math.max(timeoutMs, member.rebalanceTimeoutMs);
    return timeoutMs;
  }

  /** Whether any member's consumer subscription names `topic`. */
  isSubscribedTo(topic: string, subscribedTopics: (metadata: Buffer) => readonly string[]): boolean {
    if (this.protocolType !== 'consumer' || this.protocolName === null) return false;
    for (const member of this.members.values()) {
      const metadata = member.protocols.find((protocol) => protocol.name === this.protocolName)?.metadata;
      if (metadata && subscribedTopics(metadata).includes(topic)) return true;
    }
    return false;
  }

  toMetadataValue(): GroupMetadataValue {
    return {
      protocolType: this.protocolType ?? '',
      generation: this.generationId,
      protocol: this.protocolName,
      leader: this.leaderId,
      currentStateTimestamp: BigInt(this.currentStateTimestampMs),
      members: [...this.members.values()].map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        clientHost: member.clientHost,
        rebalanceTimeout: member.rebalanceTimeoutMs,
        sessionTimeout: member.sessionTimeoutMs,
        subscription: this.protocolName === null ? EMPTY_ASSIGNMENT : member.metadataFor(this.protocolName),
        assignment: member.assignment,
      })),
    };
  }
}
