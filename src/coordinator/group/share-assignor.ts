// The "simple" share-group assignor (KIP-932), Kafka's only one: a pure function from the members'
// subscriptions, the assignable partitions and the previous target to the next target. Its goals,
// in order: every assignable partition goes to at least one subscribed member, members' sizes differ
// by at most one (where their subscriptions allow it), and members keep what they had. Unlike a
// consumer group's assignor, one partition may go to several members: when members outnumber a
// topic's partitions, each partition is shared by up to ceil(subscribers / partitions) of them,
// since share consumers of one partition each acquire different records.
import { type TopicPartitions, addTo } from './consumer-group.js';

export const SIMPLE_ASSIGNOR_NAME = 'simple';

export interface ShareAssignorMember {
  memberId: string;
  /** The topic ids the member subscribes to (topics that do not exist are simply absent from `topics`). */
  subscribedTopicIds: ReadonlySet<string>;
  /** Its previous target: kept where balance allows. */
  assignment: TopicPartitions;
}

/** topic id -> the partitions that may be assigned (those whose share-partition state was initialized). */
export type AssignableTopics = ReadonlyMap<string, readonly number[]>;

interface Slot {
  topicId: string;
  partition: number;
  key: string;
  /** Members subscribed to its topic, in member-id order. */
  candidates: string[];
  candidateSet: ReadonlySet<string>;
  /** How many members may share it before it counts as overloaded. */
  cap: number;
  holders: Set<string>;
}

function slotKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The next target assignment: member id -> partitions, one entry per member (empty when it gets
 * nothing). Deterministic: ties go to the earlier member id, then the lower topic id and partition.
 */
export function simpleAssign(members: readonly ShareAssignorMember[], topics: AssignableTopics): Map<string, TopicPartitions> {
  const memberIds = members.map((member) => member.memberId).sort(byId);
  const byMember = new Map(members.map((member) => [member.memberId, member]));
  const held = new Map<string, Set<string>>(memberIds.map((memberId) => [memberId, new Set<string>()]));
  const slots = buildSlots(memberIds, byMember, topics);

  keepPrevious(members, slots, held);
  trimOverloaded(slots, held);
  assignUnheld(slots, held);
  feedEmptyMembers(memberIds, slots, held, false);
  rebalance(memberIds, slots, held);
  // Heterogeneous subscriptions can leave a member whose every partition is already shared as
  // widely as its cap allows: it shares one anyway rather than idle.
  feedEmptyMembers(memberIds, slots, held, true);

  const result = new Map<string, TopicPartitions>();
  for (const memberId of memberIds) {
    const partitions: TopicPartitions = new Map();
    for (const key of held.get(memberId)!) {
      const slot = slots.get(key)!;
      addTo(partitions, slot.topicId, slot.partition);
    }
    result.set(memberId, partitions);
  }
  return result;
}

/** One slot per assignable partition some member subscribes to, with its sharing cap. */
function buildSlots(memberIds: readonly string[], byMember: ReadonlyMap<string, ShareAssignorMember>, topics: AssignableTopics): Map<string, Slot> {
  const slots = new Map<string, Slot>();
  for (const topicId of [...topics.keys()].sort(byId)) {
    const partitions = [...new Set(topics.get(topicId)!)].sort((a, b) => a - b);
    const candidates = memberIds.filter((memberId) => byMember.get(memberId)!.subscribedTopicIds.has(topicId));
    const candidateSet = new Set(candidates);
    if (candidates.length === 0 || partitions.length === 0) continue;
    // Shared only when the topic's subscribers outnumber its partitions.
    const cap = Math.max(1, Math.ceil(candidates.length / partitions.length));
    for (const partition of partitions) {
      const key = slotKey(topicId, partition);
      slots.set(key, { topicId, partition, key, candidates, candidateSet, cap, holders: new Set() });
    }
  }
  return slots;
}

function give(slot: Slot, memberId: string, held: Map<string, Set<string>>): void {
  slot.holders.add(memberId);
  held.get(memberId)!.add(slot.key);
}

function take(slot: Slot, memberId: string, held: Map<string, Set<string>>): void {
  slot.holders.delete(memberId);
  held.get(memberId)!.delete(slot.key);
}

/** Stickiness: what each member had and may still have (subscribed, assignable). */
function keepPrevious(members: readonly ShareAssignorMember[], slots: Map<string, Slot>, held: Map<string, Set<string>>): void {
  for (const member of members) {
    for (const [topicId, partitions] of member.assignment) {
      if (!member.subscribedTopicIds.has(topicId)) continue;
      for (const partition of partitions) {
        const slot = slots.get(slotKey(topicId, partition));
        if (slot !== undefined) give(slot, member.memberId, held);
      }
    }
  }
}

/** A partition shared by more members than its cap loses its most loaded holders. */
function trimOverloaded(slots: Map<string, Slot>, held: Map<string, Set<string>>): void {
  for (const slot of slots.values()) {
    while (slot.holders.size > slot.cap) {
      const [loaded] = [...slot.holders].sort((a, b) => held.get(b)!.size - held.get(a)!.size || byId(a, b));
      take(slot, loaded!, held);
    }
  }
}

/** Every partition nobody holds goes to its least loaded subscriber. */
function assignUnheld(slots: Map<string, Slot>, held: Map<string, Set<string>>): void {
  for (const slot of slots.values()) {
    if (slot.holders.size > 0) continue;
    give(slot, leastLoaded(slot.candidates, held)!, held);
  }
}

function leastLoaded(memberIds: readonly string[], held: Map<string, Set<string>>): string | undefined {
  let best: string | undefined;
  for (const memberId of memberIds) if (best === undefined || held.get(memberId)!.size < held.get(best)!.size) best = memberId;
  return best;
}

/** A member with nothing shares the least shared partition it subscribes to (below its cap unless `overCap`). */
function feedEmptyMembers(memberIds: readonly string[], slots: Map<string, Slot>, held: Map<string, Set<string>>, overCap: boolean): void {
  for (const memberId of memberIds) {
    if (held.get(memberId)!.size > 0) continue;
    let best: Slot | undefined;
    for (const slot of slots.values()) {
      if (!slot.candidateSet.has(memberId)) continue;
      if (!overCap && slot.holders.size >= slot.cap) continue;
      if (best === undefined || slot.holders.size < best.holders.size) best = slot;
    }
    if (best !== undefined) give(best, memberId, held);
  }
}

/**
 * Moves single partitions from the most loaded members to members holding at least two fewer
 * that subscribe to them. A move keeps every partition's sharing count and lowers the sum of the
 * squared sizes, so this ends; for identical subscriptions it ends with sizes within one.
 */
function rebalance(memberIds: readonly string[], slots: Map<string, Slot>, held: Map<string, Set<string>>): void {
  for (;;) {
    const move = findMove(memberIds, slots, held);
    if (move === undefined) return;
    take(move.slot, move.from, held);
    give(move.slot, move.to, held);
  }
}

function findMove(memberIds: readonly string[], slots: Map<string, Slot>, held: Map<string, Set<string>>): { slot: Slot; from: string; to: string } | undefined {
  const size = (memberId: string) => held.get(memberId)!.size;
  const givers = [...memberIds].sort((a, b) => size(b) - size(a) || byId(a, b));
  const takers = [...memberIds].sort((a, b) => size(a) - size(b) || byId(a, b));
  for (const from of givers) {
    if (size(takers[0]!) + 2 > size(from)) break;
    // The giver's highest partition moves, so lower ones stay where they were.
    const owned = [...held.get(from)!].map((key) => slots.get(key)!).sort((a, b) => byId(b.topicId, a.topicId) || b.partition - a.partition);
    for (const to of takers) {
      if (size(to) + 2 > size(from)) break;
      for (const slot of owned) {
        if (!slot.holders.has(to) && slot.candidateSet.has(to)) return { slot, from, to };
      }
    }
  }
  return undefined;
}
