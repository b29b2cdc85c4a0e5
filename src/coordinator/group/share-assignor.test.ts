// The "simple" share assignor as a pure function: balance, stickiness across joins and leaves,
// partitions shared when members outnumber them, differing subscriptions, and a seeded randomized
// property test of its invariants.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TopicPartitions } from './consumer-group.js';
import { type ShareAssignorMember, simpleAssign } from './share-assignor.js';

const A = 'topicA';
const B = 'topicB';

function member(memberId: string, topics: string[], assignment: TopicPartitions = new Map()): ShareAssignorMember {
  return { memberId, subscribedTopicIds: new Set(topics), assignment };
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

function sizes(result: Map<string, TopicPartitions>): number[] {
  return [...result.values()].map((partitions) => [...partitions.values()].reduce((sum, set) => sum + set.size, 0));
}

function holders(result: Map<string, TopicPartitions>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const partitions of result.values()) for (const [topicId, set] of partitions) for (const partition of set) counts.set(`${topicId}:${partition}`, (counts.get(`${topicId}:${partition}`) ?? 0) + 1);
  return counts;
}

function spread(values: number[]): number {
  return Math.max(...values) - Math.min(...values);
}

function keys(partitions: TopicPartitions | undefined): string[] {
  return [...(partitions ?? new Map<string, Set<number>>())].flatMap(([topicId, set]) => [...set].map((partition) => `${topicId}:${partition}`)).sort();
}

describe('simpleAssign', () => {
  test('balances partitions across members (sizes within one) and gives each partition to one member', () => {
    const result = simpleAssign([member('m1', [A]), member('m2', [A]), member('m3', [A])], new Map([[A, range(8)]]));
    assert.ok(spread(sizes(result)) <= 1, `sizes ${sizes(result)}`);
    const counts = holders(result);
    assert.equal(counts.size, 8);
    for (const count of counts.values()) assert.equal(count, 1);
  });

  test('more members than partitions: every member gets one, partitions shared by at most ceil(members/partitions)', () => {
    const members = range(5).map((index) => member(`m${index}`, [A]));
    const result = simpleAssign(members, new Map([[A, [0, 1]]]));
    assert.deepEqual(sizes(result), [1, 1, 1, 1, 1]);
    const counts = [...holders(result).values()].sort();
    assert.deepEqual(counts, [2, 3]);
  });

  test('only assignable partitions are handed out', () => {
    const result = simpleAssign([member('m1', [A])], new Map([[A, [1]]]));
    assert.deepEqual(keys(result.get('m1')), [`${A}:1`]);
    const none = simpleAssign([member('m1', [A])], new Map([[A, []]]));
    assert.deepEqual(keys(none.get('m1')), []);
  });

  test('sticky: a joining member takes only what balance requires, the rest stays', () => {
    const first = simpleAssign([member('m1', [A]), member('m2', [A])], new Map([[A, range(6)]]));
    const second = simpleAssign(
      [member('m1', [A], first.get('m1')), member('m2', [A], first.get('m2')), member('m3', [A])],
      new Map([[A, range(6)]]),
    );
    assert.deepEqual(sizes(second), [2, 2, 2]);
    for (const id of ['m1', 'm2']) {
      const kept = keys(second.get(id)).filter((key) => keys(first.get(id)).includes(key));
      assert.equal(kept.length, 2, `${id} keeps two of its three`);
    }
  });

  test('sticky: when a member leaves, the others keep theirs and share out its partitions', () => {
    const first = simpleAssign([member('m1', [A]), member('m2', [A]), member('m3', [A])], new Map([[A, range(6)]]));
    const second = simpleAssign([member('m1', [A], first.get('m1')), member('m3', [A], first.get('m3'))], new Map([[A, range(6)]]));
    for (const id of ['m1', 'm3']) for (const key of keys(first.get(id))) assert.ok(keys(second.get(id)).includes(key), `${id} kept ${key}`);
    assert.deepEqual(sizes(second), [3, 3]);
  });

  test('a partition no longer subscribed is revoked', () => {
    const previous: TopicPartitions = new Map([[B, new Set([0])], [A, new Set([0])]]);
    const result = simpleAssign([member('m1', [A], previous)], new Map([[A, [0]], [B, [0]]]));
    assert.deepEqual(keys(result.get('m1')), [`${A}:0`]);
  });

  test('differing subscriptions: each member gets only its topics, every partition goes to a subscriber', () => {
    const result = simpleAssign([member('m1', [A]), member('m2', [A, B]), member('m3', [B])], new Map([[A, range(3)], [B, range(3)]]));
    for (const key of keys(result.get('m1'))) assert.ok(key.startsWith(A));
    for (const key of keys(result.get('m3'))) assert.ok(key.startsWith(B));
    assert.equal(holders(result).size, 6);
    assert.ok(spread(sizes(result)) <= 1, `sizes ${sizes(result)}`);
  });

  test('differing subscriptions: a member of a small topic shares it rather than idle', () => {
    const result = simpleAssign([member('m1', [A, B]), member('m2', [A]), member('m3', [A])], new Map([[A, [0]], [B, [0]]]));
    for (const id of ['m1', 'm2', 'm3']) assert.ok(keys(result.get(id)).length > 0, `${id} gets something`);
  });

  test('deterministic for the same input', () => {
    const members = [member('m2', [A, B]), member('m1', [A])];
    const topics = new Map([[A, range(5)], [B, range(2)]]);
    assert.deepEqual(simpleAssign(members, topics), simpleAssign([...members].reverse(), topics));
  });
});

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('simpleAssign properties (seeded)', () => {
  test('homogeneous: balanced, every partition covered, sharing within ceil(M/P), stable under rerun', () => {
    const next = seeded(932);
    for (let round = 0; round < 300; round++) {
      const memberCount = 1 + Math.floor(next() * 12);
      const partitionCount = 1 + Math.floor(next() * 12);
      const partitions = range(partitionCount);
      // Previous assignments: random leftovers, some of them stale.
      const members = range(memberCount).map((index) => {
        const previous: TopicPartitions = new Map([[A, new Set(range(partitionCount + 2).filter(() => next() < 0.3))]]);
        return member(`m${index}`, [A], previous);
      });
      const result = simpleAssign(members, new Map([[A, partitions]]));
      const memberSizes = sizes(result);
      assert.ok(spread(memberSizes) <= 1, `round ${round}: sizes ${memberSizes}`);
      const counts = holders(result);
      assert.equal(counts.size, partitionCount, `round ${round}: every partition assigned`);
      const cap = Math.max(1, Math.ceil(memberCount / partitionCount));
      for (const [key, count] of counts) assert.ok(count <= cap, `round ${round}: ${key} shared ${count} > ${cap}`);
      for (const partitionsOf of result.values()) for (const partition of partitionsOf.get(A) ?? []) assert.ok(partition < partitionCount);
      // Feeding the result back changes nothing (stickiness at its fixed point).
      const again = simpleAssign(members.map((each) => member(each.memberId, [A], result.get(each.memberId))), new Map([[A, partitions]]));
      assert.deepEqual(again, result, `round ${round}: rerun is stable`);
    }
  });

  test('heterogeneous: only subscribed topics, every partition with a subscriber covered, every subscriber fed', () => {
    const next = seeded(4_2);
    const topicIds = ['t0', 't1', 't2'];
    for (let round = 0; round < 300; round++) {
      const topics = new Map(topicIds.map((topicId) => [topicId, range(Math.floor(next() * 5))]));
      const members = range(1 + Math.floor(next() * 8)).map((index) => member(`m${index}`, topicIds.filter(() => next() < 0.5)));
      const result = simpleAssign(members, topics);
      const counts = holders(result);
      for (const each of members) {
        const assigned = keys(result.get(each.memberId));
        for (const key of assigned) assert.ok(each.subscribedTopicIds.has(key.split(':')[0]!), `round ${round}: ${each.memberId} got ${key}`);
        const available = [...each.subscribedTopicIds].some((topicId) => (topics.get(topicId) ?? []).length > 0);
        assert.equal(assigned.length > 0, available, `round ${round}: ${each.memberId} fed iff it can be`);
      }
      for (const [topicId, partitions] of topics) {
        const subscribed = members.some((each) => each.subscribedTopicIds.has(topicId));
        for (const partition of partitions) assert.equal(counts.has(`${topicId}:${partition}`), subscribed, `round ${round}: ${topicId}:${partition}`);
      }
    }
  });
});
