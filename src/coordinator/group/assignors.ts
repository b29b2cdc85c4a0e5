// The server-side assignors of KIP-848's consumer group protocol: the coordinator computes each
// member's target assignment itself with 'uniform' (balanced and sticky, Kafka's default) or
// 'range' (co-partitioning). A pure module: members and topics in, target assignment out, no I/O.
//
// Determinism matters more than anywhere else here: every coordinator replaying the same records
// must reach the same target, so nothing depends on the order of the input array or of a Map;
// members are ordered by memberId and topics by topicId (code-unit order, not locale order).
//
// Racks (AssignorMember.rackId) are ignored for now: Kafka's rack-aware placement only matters
// when partition replicas are spread over racks, and Conveyor does not model replica racks.

/** A member as the assignor sees it. Topic ids are Kafka topic ids as strings (the coordinator's TopicImage.topicId). */
export interface AssignorMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  /** Topic ids this member subscribes to that exist now (already resolved from names/regex). */
  subscribedTopicIds: ReadonlySet<string>;
  /** The member's previous target assignment (topicId -> partitions); empty for a new member. Used for stickiness. */
  assignment: ReadonlyMap<string, ReadonlySet<number>>;
}
export interface AssignorTopic {
  topicId: string;
  name: string;
  numPartitions: number;
}
/** memberId -> topicId -> partitions. Every member of the input appears in the output (possibly with an empty map). */
export type TargetAssignment = Map<string, Map<string, Set<number>>>;
export interface ServerAssignor {
  /** The name clients send in ConsumerGroupHeartbeat.ServerAssignor: 'uniform' or 'range'. */
  readonly name: string;
  assign(members: readonly AssignorMember[], topics: ReadonlyMap<string, AssignorTopic>): TargetAssignment;
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The members in memberId order with their subscriptions cut down to known topics, sorted. */
interface Participant {
  member: AssignorMember;
  topicIds: string[];
}

function participantsOf(members: readonly AssignorMember[], topics: ReadonlyMap<string, AssignorTopic>): Participant[] {
  return [...members]
    .sort((a, b) => compareStrings(a.memberId, b.memberId))
    .map((member) => ({ member, topicIds: [...member.subscribedTopicIds].filter((topicId) => topics.has(topicId)).sort(compareStrings) }));
}

function partitionCount(topics: ReadonlyMap<string, AssignorTopic>, topicId: string): number {
  return Math.max(0, Math.floor(topics.get(topicId)?.numPartitions ?? 0));
}

/** Turns per-member (topicId, partition) lists into the output shape, members and topics in sorted order. */
function toTargetAssignment(participants: readonly Participant[], owned: readonly (readonly OwnedPartition[])[]): TargetAssignment {
  const result: TargetAssignment = new Map();
  participants.forEach((participant, index) => {
    const byTopic = new Map<string, number[]>();
    for (const [topicId, partition] of owned[index] ?? []) {
      let list = byTopic.get(topicId);
      if (!list) byTopic.set(topicId, (list = []));
      list.push(partition);
    }
    const topicMap = new Map<string, Set<number>>();
    for (const topicId of [...byTopic.keys()].sort(compareStrings)) topicMap.set(topicId, new Set(byTopic.get(topicId)!.sort((a, b) => a - b)));
    result.set(participant.member.memberId, topicMap);
  });
  return result;
}

type OwnedPartition = readonly [topicId: string, partition: number];

const compareOwned = (a: OwnedPartition, b: OwnedPartition): number => compareStrings(a[0], b[0]) || a[1] - b[1];

/** Which partitions of each topic are already taken, so a partition two previous owners both claim goes to one. */
class Claims {
  private readonly taken = new Map<string, Uint8Array>();
  constructor(private readonly topics: ReadonlyMap<string, AssignorTopic>) {}
  /** Marks (topicId, partition) taken; false when it was already taken or does not exist. */
  claim(topicId: string, partition: number): boolean {
    let flags = this.taken.get(topicId);
    if (!flags) this.taken.set(topicId, (flags = new Uint8Array(partitionCount(this.topics, topicId))));
    if (!Number.isInteger(partition) || partition < 0 || partition >= flags.length || flags[partition]) return false;
    flags[partition] = 1;
    return true;
  }
  release(topicId: string, partition: number): void {
    const flags = this.taken.get(topicId);
    if (flags) flags[partition] = 0;
  }
  isTaken(topicId: string, partition: number): boolean {
    return this.taken.get(topicId)?.[partition] === 1;
  }
}

/** A member's previous partitions it may still own: subscribed topic, existing partition, sorted. */
function previousPartitions(participant: Participant): OwnedPartition[] {
  const subscribed = new Set(participant.topicIds);
  const previous: OwnedPartition[] = [];
  for (const [topicId, partitions] of participant.member.assignment) {
    if (!subscribed.has(topicId)) continue;
    for (const partition of partitions) previous.push([topicId, partition]);
  }
  return previous.sort(compareOwned);
}

// ---------------------------------------------------------------------------------------------
// uniform

/**
 * True when every member that subscribes to anything subscribes to the same topics. Members with
 * no (known) topic get nothing either way, so they do not make the group heterogeneous.
 */
function isHomogeneous(participants: readonly Participant[]): boolean {
  let shape: string | undefined;
  for (const { topicIds } of participants) {
    if (topicIds.length === 0) continue;
    const key = topicIds.join('\u0000');
    if (shape === undefined) shape = key;
    else if (shape !== key) return false;
  }
  return true;
}

/**
 * Same subscriptions everywhere: with P partitions and N members each member gets floor(P/N),
 * and P % N of them one more. A member keeps its previous partitions up to that quota (the extra
 * slots go first to members that already had more than the minimum, so fewer partitions move),
 * and the partitions left over fill the members below quota in memberId order.
 */
function assignHomogeneous(participants: readonly Participant[], topics: ReadonlyMap<string, AssignorTopic>): OwnedPartition[][] {
  const owned: OwnedPartition[][] = participants.map(() => []);
  const active = participants.map((participant, index) => ({ participant, index })).filter(({ participant }) => participant.topicIds.length > 0);
  if (active.length === 0) return owned;
  const topicIds = active[0]!.participant.topicIds;
  const total = topicIds.reduce((sum, topicId) => sum + partitionCount(topics, topicId), 0);
  const minQuota = Math.floor(total / active.length);
  let extras = total % active.length;
  const claims = new Claims(topics);

  for (const { participant, index } of active) {
    const kept = owned[index]!;
    for (const entry of previousPartitions(participant)) if (claims.claim(entry[0], entry[1])) kept.push(entry);
  }
  for (const { index } of active) {
    const kept = owned[index]!;
    if (kept.length <= minQuota) continue;
    let keep = minQuota;
    if (extras > 0) {
      keep++;
      extras--;
    }
    for (const entry of kept.splice(keep)) claims.release(entry[0], entry[1]);
  }

  const pool: OwnedPartition[] = [];
  for (const topicId of topicIds) {
    for (let partition = 0; partition < partitionCount(topics, topicId); partition++) {
      if (!claims.isTaken(topicId, partition)) pool.push([topicId, partition]);
    }
  }
  let next = 0;
  for (const { index } of active) {
    const list = owned[index]!;
    while (list.length < minQuota) list.push(pool[next++]!);
  }
  for (const { index } of active) {
    if (extras === 0) break;
    const list = owned[index]!;
    if (list.length === minQuota) {
      list.push(pool[next++]!);
      extras--;
    }
  }
  if (next !== pool.length) throw new Error(`uniform assignor: ${pool.length - next} partitions left unassigned`);
  return owned;
}

/** A binary min-heap of member indexes ordered by their current partition count, then index. */
class LeastLoadedHeap {
  private readonly items: number[] = [];
  constructor(private readonly counts: Int32Array) {}
  private less(a: number, b: number): boolean {
    return this.counts[a]! - this.counts[b]! < 0 || (this.counts[a] === this.counts[b] && a < b);
  }
  push(item: number): void {
    const items = this.items;
    items.push(item);
    let at = items.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.less(items[at]!, items[parent]!)) break;
      [items[at], items[parent]] = [items[parent]!, items[at]!];
      at = parent;
    }
  }
  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let at = 0;
    for (;;) {
      const left = at * 2 + 1;
      const right = left + 1;
      let smallest = at;
      if (left < items.length && this.less(items[left]!, items[smallest]!)) smallest = left;
      if (right < items.length && this.less(items[right]!, items[smallest]!)) smallest = right;
      if (smallest === at) break;
      [items[at], items[smallest]] = [items[smallest]!, items[at]!];
      at = smallest;
    }
    return top;
  }
}

/**
 * Different subscriptions: best effort, as Kafka's uniform assignor. Every member first keeps all
 * its previous partitions that are still valid (a partition two members claim goes to the first
 * in memberId order). The unowned partitions go, most constrained topics (fewest subscribers)
 * first, each to the subscriber holding the fewest partitions (tie: memberId order). A balancing
 * pass then moves a partition from a member to another subscriber of its topic holding at least
 * two fewer, until no such move exists; so a previous owner keeps a partition unless balance needs
 * it elsewhere.
 *
 * Why keep everything first rather than cap each owner at a computed fair share: the balancing
 * pass can leave a member above any such share, and a cap would then take partitions away on the
 * next run with nothing changed. Keeping all makes the assignment a fixed point: fed its own
 * result, it returns it unchanged.
 */
function assignHeterogeneous(participants: readonly Participant[], topics: ReadonlyMap<string, AssignorTopic>): OwnedPartition[][] {
  const counts = new Int32Array(participants.length);
  const subscribers = new Map<string, number[]>();
  participants.forEach(({ topicIds }, index) => {
    for (const topicId of topicIds) {
      let list = subscribers.get(topicId);
      if (!list) subscribers.set(topicId, (list = []));
      list.push(index);
    }
  });
  const topicIds = [...subscribers.keys()].sort(compareStrings);
  const owners = new Map<string, Int32Array>(topicIds.map((topicId) => [topicId, new Int32Array(partitionCount(topics, topicId)).fill(-1)]));

  participants.forEach((participant, index) => {
    for (const [topicId, partition] of previousPartitions(participant)) {
      const topicOwners = owners.get(topicId)!;
      if (!Number.isInteger(partition) || partition < 0 || partition >= topicOwners.length || topicOwners[partition] !== -1) continue;
      topicOwners[partition] = index;
      counts[index]!++;
    }
  });

  const byConstraint = [...topicIds].sort((a, b) => subscribers.get(a)!.length - subscribers.get(b)!.length || compareStrings(a, b));
  for (const topicId of byConstraint) {
    const topicOwners = owners.get(topicId)!;
    const heap = new LeastLoadedHeap(counts);
    for (const index of subscribers.get(topicId)!) heap.push(index);
    for (let partition = 0; partition < topicOwners.length; partition++) {
      if (topicOwners[partition] !== -1) continue;
      const index = heap.pop()!;
      topicOwners[partition] = index;
      counts[index]!++;
      heap.push(index);
    }
  }

  balance(topicIds, subscribers, owners, counts);

  const owned: OwnedPartition[][] = participants.map(() => []);
  for (const topicId of topicIds) owners.get(topicId)!.forEach((index, partition) => owned[index]!.push([topicId, partition]));
  return owned;
}

/**
 * Moves partitions from the most loaded owner within a topic to its least loaded subscriber while
 * they differ by two or more. Each move lowers the sum of squared counts by at least 2, so the
 * loop ends; the sweep limit is only a guard.
 */
function balance(topicIds: readonly string[], subscribers: ReadonlyMap<string, readonly number[]>, owners: ReadonlyMap<string, Int32Array>, counts: Int32Array): void {
  const maxSweeps = counts.length + [...owners.values()].reduce((sum, topicOwners) => sum + topicOwners.length, 0) + 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let moved = false;
    for (const topicId of topicIds) {
      const members = subscribers.get(topicId)!;
      if (members.length < 2) continue;
      const topicOwners = owners.get(topicId)!;
      const held = new Map<number, number[]>();
      topicOwners.forEach((index, partition) => {
        let list = held.get(index);
        if (!list) held.set(index, (list = []));
        list.push(partition);
      });
      for (;;) {
        let most = -1;
        for (const index of held.keys()) if (most === -1 || counts[index]! > counts[most]! || (counts[index] === counts[most] && index < most)) most = index;
        let least = -1;
        for (const index of members) if (least === -1 || counts[index]! < counts[least]!) least = index;
        if (most === -1 || counts[most]! - counts[least]! < 2) break;
        const list = held.get(most)!;
        const partition = list.pop()!;
        if (list.length === 0) held.delete(most);
        let target = held.get(least);
        if (!target) held.set(least, (target = []));
        target.push(partition);
        topicOwners[partition] = least;
        counts[most]!--;
        counts[least]!++;
        moved = true;
      }
    }
    if (!moved) return;
  }
}

export const uniformAssignor: ServerAssignor = {
  name: 'uniform',
  assign(members, topics) {
    const participants = participantsOf(members, topics);
    const owned = isHomogeneous(participants) ? assignHomogeneous(participants, topics) : assignHeterogeneous(participants, topics);
    return toTargetAssignment(participants, owned);
  },
};

// ---------------------------------------------------------------------------------------------
// range

/**
 * Per topic, its subscribers in memberId order take contiguous ranges, the first
 * (partitions % subscribers) one partition more, as the classic client-side RangeAssignor. So
 * members subscribed to the same topics with equal partition counts get the same partition
 * numbers in each (co-partitioning), which is what range is for.
 *
 * Kafka's server-side RangeAssignor is also sticky while membership is unchanged; this one
 * recomputes the ranges from scratch each time, which gives the same result when neither the
 * members nor the partition counts changed, and ignores the previous assignment otherwise.
 */
export const rangeAssignor: ServerAssignor = {
  name: 'range',
  assign(members, topics) {
    const participants = participantsOf(members, topics);
    const owned: OwnedPartition[][] = participants.map(() => []);
    const subscribers = new Map<string, number[]>();
    participants.forEach(({ topicIds }, index) => {
      for (const topicId of topicIds) {
        let list = subscribers.get(topicId);
        if (!list) subscribers.set(topicId, (list = []));
        list.push(index);
      }
    });
    for (const topicId of [...subscribers.keys()].sort(compareStrings)) {
      const members = subscribers.get(topicId)!;
      const total = partitionCount(topics, topicId);
      const base = Math.floor(total / members.length);
      const extra = total % members.length;
      let start = 0;
      members.forEach((index, position) => {
        const length = base + (position < extra ? 1 : 0);
        for (let partition = start; partition < start + length; partition++) owned[index]!.push([topicId, partition]);
        start += length;
      });
    }
    return toTargetAssignment(participants, owned);
  },
};

// ---------------------------------------------------------------------------------------------
// names

const ASSIGNOR_PACKAGE = 'org.apache.kafka.coordinator.group.assignor.';

const assignorsByName = new Map<string, ServerAssignor>([
  ['uniform', uniformAssignor],
  ['range', rangeAssignor],
  [`${ASSIGNOR_PACKAGE}UniformAssignor`, uniformAssignor],
  [`${ASSIGNOR_PACKAGE}RangeAssignor`, rangeAssignor],
]);

/**
 * Resolves a name from config (group.consumer.assignors, whose default lists Kafka's class names)
 * or from a client's ConsumerGroupHeartbeat.ServerAssignor ('uniform', 'range'). Exact and
 * case-sensitive, as Kafka matches them; undefined if unknown. A config list must be split and
 * trimmed by its caller.
 */
export function serverAssignorNamed(name: string): ServerAssignor | undefined {
  return assignorsByName.get(name);
}
