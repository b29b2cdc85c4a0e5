// A consumer group of Kafka's next-generation rebalance protocol (KIP-848): the group epoch (bumped
// by every membership or subscription change), the target assignment the server-side assignor
// computed at some epoch, and each member's current assignment on its way to its target. Members
// reconcile one heartbeat at a time: a member first gives up what its target no longer holds
// (revoke before assign), and it is given a partition only once no other member owns it.
//
// A member may also speak the classic protocol (JoinGroup, SyncGroup, Heartbeat) inside a consumer
// group, after an online upgrade or when an old client joins one: it then carries its classic
// session timeout and supported protocols (Kafka's ClassicMemberMetadata).

/** topic id -> partitions. */
export type TopicPartitions = Map<string, Set<number>>;

/** Kafka's MemberState, with its byte values as ConsumerGroupCurrentMemberAssignmentValue stores them. */
export const MemberState = {
  /** Waiting for the member to confirm it revoked its partitions pending revocation. */
  unrevokedPartitions: 0,
  /** At the target epoch, waiting for partitions other members still own. */
  unreleasedPartitions: 1,
  stable: 2,
} as const;
export type MemberStateValue = (typeof MemberState)[keyof typeof MemberState];

export const ConsumerGroupState = {
  empty: 'Empty',
  assigning: 'Assigning',
  reconciling: 'Reconciling',
  stable: 'Stable',
} as const;
export type ConsumerGroupStateName = (typeof ConsumerGroupState)[keyof typeof ConsumerGroupState];

/** Member epochs with a meaning of their own in ConsumerGroupHeartbeat. */
export const JOIN_GROUP_MEMBER_EPOCH = 0;
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

/** Where a member stands in reconciliation: what ConsumerGroupCurrentMemberAssignmentValue stores. */
export interface MemberAssignment {
  state: MemberStateValue;
  memberEpoch: number;
  previousMemberEpoch: number;
  assigned: TopicPartitions;
  pendingRevocation: TopicPartitions;
}

/** What a member speaking the classic protocol inside a consumer group brought with its JoinGroup. */
export interface ClassicMemberMetadata {
  sessionTimeoutMs: number;
  /** Its JoinGroup protocols in preference order: names (range, cooperative-sticky, ...) and subscription blobs. */
  supportedProtocols: { name: string; metadata: Buffer }[];
}

export class ConsumerGroupMember implements MemberAssignment {
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = '';
  clientHost = '';
  subscribedTopicNames: string[] = [];
  subscribedTopicRegex: string | null = null;
  serverAssignor: string | null = null;
  rebalanceTimeoutMs = -1;
  state: MemberStateValue = MemberState.stable;
  memberEpoch = 0;
  previousMemberEpoch = 0;
  assigned: TopicPartitions = new Map();
  pendingRevocation: TopicPartitions = new Map();
  /** Set while the member speaks the classic protocol; null for a ConsumerGroupHeartbeat member. */
  classic: ClassicMemberMetadata | null = null;
  cancelSessionTimer: (() => void) | undefined;
  cancelRebalanceTimer: (() => void) | undefined;
  /** A classic member told to rejoin (REBALANCE_IN_PROGRESS) is removed if it does not within its rebalance timeout. */
  cancelJoinTimer: (() => void) | undefined;
  /** A classic member that joined is removed if it does not sync within its rebalance timeout. */
  cancelSyncTimer: (() => void) | undefined;

  constructor(public memberId: string) {}

  get usesClassicProtocol(): boolean {
    return this.classic !== null;
  }

  setAssignment(next: MemberAssignment): void {
    this.state = next.state;
    this.memberEpoch = next.memberEpoch;
    this.previousMemberEpoch = next.previousMemberEpoch;
    this.assigned = next.assigned;
    this.pendingRevocation = next.pendingRevocation;
  }

  stopTimers(): void {
    this.cancelSessionTimer?.();
    this.cancelSessionTimer = undefined;
    this.cancelRebalanceTimer?.();
    this.cancelRebalanceTimer = undefined;
    this.cancelJoinTimer?.();
    this.cancelJoinTimer = undefined;
    this.cancelSyncTimer?.();
    this.cancelSyncTimer = undefined;
  }
}

function partitionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

export class ConsumerGroupModel {
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerGroupMember>();
  /** group.instance.id -> the member id holding it. */
  readonly staticMembers = new Map<string, string>();
  /** memberId -> its target assignment at assignmentEpoch. */
  readonly targetAssignment = new Map<string, TopicPartitions>();
  /** Who owns each partition now (assigned or pending revocation): a partition is handed out only when free. */
  private readonly owners = new Map<string, string>();
  /** The subscribed topics' shape (ids and partition counts) the group epoch was last bumped for. */
  subscriptionSignature = '';
  /** The metadata image's topicsVersion that signature was computed at. */
  topicsVersionSeen = -1;

  get state(): ConsumerGroupStateName {
    if (this.members.size === 0) return ConsumerGroupState.empty;
    if (this.groupEpoch > this.assignmentEpoch) return ConsumerGroupState.assigning;
    for (const member of this.members.values()) {
      if (member.memberEpoch !== this.assignmentEpoch || member.state !== MemberState.stable) return ConsumerGroupState.reconciling;
    }
    return ConsumerGroupState.stable;
  }

  /** The member that owns `partition` of `topicId`, if any. */
  ownerOf(topicId: string, partition: number): string | undefined {
    return this.owners.get(partitionKey(topicId, partition));
  }

  addMember(member: ConsumerGroupMember): void {
    this.members.set(member.memberId, member);
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
    this.claim(member);
  }

  /** Removes the member and releases everything it owned; its target assignment goes too. */
  removeMember(memberId: string): ConsumerGroupMember | undefined {
    const member = this.members.get(memberId);
    if (member === undefined) return undefined;
    this.release(member);
    member.stopTimers();
    this.members.delete(memberId);
    this.targetAssignment.delete(memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === memberId) this.staticMembers.delete(member.instanceId);
    return member;
  }

  /** Moves the member's reconciliation forward, keeping the ownership index in step. */
  updateAssignment(member: ConsumerGroupMember, next: MemberAssignment): void {
    this.release(member);
    member.setAssignment(next);
    this.claim(member);
  }

  private claim(member: ConsumerGroupMember): void {
    for (const partitions of [member.assigned, member.pendingRevocation]) {
      for (const [topicId, set] of partitions) for (const partition of set) this.owners.set(partitionKey(topicId, partition), member.memberId);
    }
  }

  private release(member: ConsumerGroupMember): void {
    for (const partitions of [member.assigned, member.pendingRevocation]) {
      for (const [topicId, set] of partitions) {
        for (const partition of set) {
          const key = partitionKey(topicId, partition);
          if (this.owners.get(key) === member.memberId) this.owners.delete(key);
        }
      }
    }
  }

  /** Whether every member but `memberId` speaks the classic protocol (Kafka's check before a downgrade). */
  allMembersUseClassicProtocolExcept(memberId: string): boolean {
    for (const member of this.members.values()) if (member.memberId !== memberId && !member.usesClassicProtocol) return false;
    return true;
  }

  /** The server assignor most members asked for (ties to the earlier name), else `fallback`. */
  preferredAssignor(fallback: string): string {
    const votes = new Map<string, number>();
    for (const member of this.members.values()) if (member.serverAssignor !== null) votes.set(member.serverAssignor, (votes.get(member.serverAssignor) ?? 0) + 1);
    let best = fallback;
    let bestVotes = 0;
    for (const [name, count] of [...votes].sort(([a], [b]) => a.localeCompare(b))) {
      if (count > bestVotes) {
        best = name;
        bestVotes = count;
      }
    }
    return best;
  }
}

/**
 * The next step of a member's reconciliation towards its target (Kafka's CurrentAssignmentBuilder):
 * partitions the target dropped are revoked first, at the member's current epoch; once the member
 * no longer reports owning them it moves to the target epoch with the target's partitions that no
 * other member owns, and waits (UNRELEASED_PARTITIONS) for the rest. `owned` is what the member
 * reported owning in this heartbeat (null: unchanged since its last report).
 */
export function reconcile(
  member: MemberAssignment,
  targetEpoch: number,
  target: TopicPartitions,
  ownedByOther: (topicId: string, partition: number) => boolean,
  owned: TopicPartitions | null,
): MemberAssignment {
  switch (member.state) {
    case MemberState.unrevokedPartitions:
      if (owned === null || intersects(owned, member.pendingRevocation)) return member;
      return nextAssignment(member, member.assigned, targetEpoch, target, ownedByOther, owned);
    case MemberState.unreleasedPartitions:
      return nextAssignment(member, member.assigned, targetEpoch, target, ownedByOther, owned);
    case MemberState.stable:
      if (member.memberEpoch === targetEpoch) return member;
      return nextAssignment(member, member.assigned, targetEpoch, target, ownedByOther, owned);
  }
}

function nextAssignment(
  member: MemberAssignment,
  current: TopicPartitions,
  targetEpoch: number,
  target: TopicPartitions,
  ownedByOther: (topicId: string, partition: number) => boolean,
  owned: TopicPartitions | null,
): MemberAssignment {
  const kept: TopicPartitions = new Map();
  const revoking: TopicPartitions = new Map();
  const granted: TopicPartitions = new Map();
  let unreleased = false;
  for (const topicId of new Set([...current.keys(), ...target.keys()])) {
    const have = current.get(topicId) ?? new Set<number>();
    const want = target.get(topicId) ?? new Set<number>();
    for (const partition of have) addTo(want.has(partition) ? kept : revoking, topicId, partition);
    for (const partition of want) {
      if (have.has(partition)) continue;
      if (ownedByOther(topicId, partition)) unreleased = true;
      else addTo(granted, topicId, partition);
    }
  }
  // The member still holds partitions its target dropped: it gives them up before it gets more.
  if (revoking.size > 0 && (owned === null || intersects(owned, revoking))) {
    return { state: MemberState.unrevokedPartitions, memberEpoch: member.memberEpoch, previousMemberEpoch: member.previousMemberEpoch, assigned: kept, pendingRevocation: revoking };
  }
  for (const [topicId, partitions] of granted) for (const partition of partitions) addTo(kept, topicId, partition);
  const next: MemberAssignment = {
    state: unreleased ? MemberState.unreleasedPartitions : MemberState.stable,
    memberEpoch: targetEpoch,
    previousMemberEpoch: member.memberEpoch === targetEpoch ? member.previousMemberEpoch : member.memberEpoch,
    assigned: kept,
    pendingRevocation: new Map(),
  };
  return sameMemberAssignment(member, next) ? member : next;
}

export function addTo(partitions: TopicPartitions, topicId: string, partition: number): void {
  let set = partitions.get(topicId);
  if (set === undefined) partitions.set(topicId, (set = new Set()));
  set.add(partition);
}

export function intersects(a: TopicPartitions, b: TopicPartitions): boolean {
  for (const [topicId, partitions] of b) {
    const other = a.get(topicId);
    if (other === undefined) continue;
    for (const partition of partitions) if (other.has(partition)) return true;
  }
  return false;
}

/** Whether every partition of `a` is in `b`. */
export function isSubset(a: TopicPartitions, b: TopicPartitions): boolean {
  for (const [topicId, partitions] of a) {
    if (partitions.size === 0) continue;
    const other = b.get(topicId);
    if (other === undefined) return false;
    for (const partition of partitions) if (!other.has(partition)) return false;
  }
  return true;
}

export function samePartitions(a: TopicPartitions, b: TopicPartitions): boolean {
  return isSubset(a, b) && isSubset(b, a);
}

function sameMemberAssignment(a: MemberAssignment, b: MemberAssignment): boolean {
  return (
    a.state === b.state &&
    a.memberEpoch === b.memberEpoch &&
    a.previousMemberEpoch === b.previousMemberEpoch &&
    samePartitions(a.assigned, b.assigned) &&
    samePartitions(a.pendingRevocation, b.pendingRevocation)
  );
}

export function toTopicPartitions(list: readonly { topicId: string; partitions: readonly number[] }[]): TopicPartitions {
  const partitions: TopicPartitions = new Map();
  for (const { topicId, partitions: each } of list) for (const partition of each) addTo(partitions, topicId, partition);
  return partitions;
}

/** The wire and record form: topics and partitions sorted, empty topics left out. */
export function fromTopicPartitions(partitions: TopicPartitions): { topicId: string; partitions: number[] }[] {
  return [...partitions]
    .filter(([, set]) => set.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topicId, set]) => ({ topicId, partitions: [...set].sort((x, y) => x - y) }));
}
