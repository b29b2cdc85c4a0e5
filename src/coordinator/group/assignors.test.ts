// The KIP-848 server-side assignors as pure functions: validity (each partition to exactly one
// subscriber), balance, stickiness, determinism, range's co-partitioning, and a seeded
// randomized property run over a few hundred groups.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AssignorMember, type AssignorTopic, rangeAssignor, type ServerAssignor, serverAssignorNamed, type TargetAssignment, uniformAssignor } from './assignors.js';

function topicsOf(spec: Record<string, number>): Map<string, AssignorTopic> {
  return new Map(Object.entries(spec).map(([topicId, numPartitions]) => [topicId, { topicId, name: `name-${topicId}`, numPartitions }]));
}

function member(memberId: string, topicIds: string[], assignment: TargetAssignment | Record<string, number[]> = {}): AssignorMember {
  const previous = assignment instanceof Map ? (assignment.get(memberId) ?? new Map<string, Set<number>>()) : new Map(Object.entries(assignment).map(([topicId, partitions]) => [topicId, new Set(partitions)]));
  return { memberId, instanceId: null, rackId: null, subscribedTopicIds: new Set(topicIds), assignment: previous };
}

/** The same members again, each with `previous` as its previous assignment. */
function withPrevious(members: readonly AssignorMember[], previous: TargetAssignment): AssignorMember[] {
  return members.map((m) => ({ ...m, assignment: previous.get(m.memberId) ?? new Map() }));
}

function countOf(assignment: TargetAssignment, memberId: string): number {
  let count = 0;
  for (const partitions of assignment.get(memberId)?.values() ?? []) count += partitions.size;
  return count;
}

/** Every partition of a subscribed topic exactly once, only to subscribers; nothing else; every member present. */
function assertValid(members: readonly AssignorMember[], topics: ReadonlyMap<string, AssignorTopic>, assignment: TargetAssignment): void {
  assert.deepEqual(new Set(assignment.keys()), new Set(members.map((m) => m.memberId)), 'every member appears');
  const byId = new Map(members.map((m) => [m.memberId, m]));
  const seen = new Map<string, Set<number>>();
  for (const [memberId, topicMap] of assignment) {
    for (const [topicId, partitions] of topicMap) {
      assert.ok(byId.get(memberId)!.subscribedTopicIds.has(topicId), `${memberId} got ${topicId} without subscribing`);
      const topic = topics.get(topicId);
      assert.ok(topic, `unknown topic ${topicId} assigned`);
      let taken = seen.get(topicId);
      if (!taken) seen.set(topicId, (taken = new Set()));
      for (const partition of partitions) {
        assert.ok(Number.isInteger(partition) && partition >= 0 && partition < topic.numPartitions, `${topicId}-${partition} does not exist`);
        assert.ok(!taken.has(partition), `${topicId}-${partition} assigned twice`);
        taken.add(partition);
      }
    }
  }
  for (const topic of topics.values()) {
    const subscribed = members.some((m) => m.subscribedTopicIds.has(topic.topicId));
    assert.equal(seen.get(topic.topicId)?.size ?? 0, subscribed ? topic.numPartitions : 0, `partitions of ${topic.topicId} assigned`);
  }
}

function spread(assignment: TargetAssignment, memberIds: readonly string[]): number {
  const counts = memberIds.map((memberId) => countOf(assignment, memberId));
  return Math.max(...counts) - Math.min(...counts);
}

/** A plain, order-independent rendering to compare two assignments by value. */
function render(assignment: TargetAssignment): string {
  return JSON.stringify(
    [...assignment]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([memberId, topicMap]) => [memberId, [...topicMap].sort(([a], [b]) => (a < b ? -1 : 1)).map(([topicId, partitions]) => [topicId, [...partitions].sort((a, b) => a - b)])]),
  );
}

/** mulberry32: a tiny seeded PRNG, so a failing random case can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** The same members with their Sets and Maps rebuilt in shuffled insertion order. */
function reordered(members: readonly AssignorMember[], random: () => number): AssignorMember[] {
  return shuffled(members, random).map((m) => ({
    ...m,
    subscribedTopicIds: new Set(shuffled([...m.subscribedTopicIds], random)),
    assignment: new Map(shuffled([...m.assignment], random).map(([topicId, partitions]) => [topicId, new Set(shuffled([...partitions], random))])),
  }));
}

const ids = (count: number) => Array.from({ length: count }, (_, i) => `m${String(i).padStart(3, '0')}`);

describe('uniform assignor', () => {
  const topics = topicsOf({ t1: 7, t2: 5, t3: 0 });

  it('assigns every partition exactly once, balanced within one, for homogeneous subscriptions', () => {
    const members = ids(4).map((id) => member(id, ['t1', 't2', 't3']));
    const result = uniformAssignor.assign(members, topics);
    assertValid(members, topics, result);
    assert.equal(spread(result, ids(4)), 0);
  });

  it('gives every member an entry, an empty map when there is nothing for it', () => {
    const members = ids(5).map((id) => member(id, ['t2']));
    members.push(member('idle', []));
    const result = uniformAssignor.assign(members, topicsOf({ t2: 3 }));
    assertValid(members, topicsOf({ t2: 3 }), result);
    assert.equal(result.get('idle')!.size, 0);
    assert.equal(ids(5).filter((id) => countOf(result, id) === 1).length, 3);
  });

  it('returns an empty assignment for an empty group', () => {
    assert.equal(uniformAssignor.assign([], topics).size, 0);
  });

  it('ignores subscribed topic ids that are not in the topic map', () => {
    const members = [member('a', ['t2', 'gone']), member('b', ['t2', 'gone'])];
    const result = uniformAssignor.assign(members, topicsOf({ t2: 4 }));
    assertValid(members, topicsOf({ t2: 4 }), result);
    for (const topicMap of result.values()) assert.deepEqual([...topicMap.keys()], ['t2']);
  });

  it('assigns no partition of a topic nobody subscribes to', () => {
    const members = [member('a', ['t1']), member('b', ['t1'])];
    const result = uniformAssignor.assign(members, topics);
    assertValid(members, topics, result);
    for (const topicMap of result.values()) assert.ok(!topicMap.has('t2'));
  });

  it('keeps a stable assignment when nothing changed', () => {
    const members = ids(3).map((id) => member(id, ['t1', 't2']));
    const first = uniformAssignor.assign(members, topics);
    const second = uniformAssignor.assign(withPrevious(members, first), topics);
    assert.equal(render(second), render(first));
  });

  it('moves only partitions to a new member when one joins', () => {
    const members = ids(3).map((id) => member(id, ['t1', 't2']));
    const before = uniformAssignor.assign(members, topics);
    const joined = [...withPrevious(members, before), member('m999', ['t1', 't2'])];
    const after = uniformAssignor.assign(joined, topics);
    assertValid(joined, topics, after);
    assert.ok(spread(after, [...ids(3), 'm999']) <= 1);
    for (const id of ids(3)) {
      for (const [topicId, partitions] of after.get(id)!) {
        for (const partition of partitions) assert.ok(before.get(id)!.get(topicId)?.has(partition), `${id} gained ${topicId}-${partition}`);
      }
    }
    assert.equal(countOf(after, 'm999'), 3);
  });

  it('lets the remaining members keep all theirs when one leaves', () => {
    const members = ids(4).map((id) => member(id, ['t1', 't2']));
    const before = uniformAssignor.assign(members, topics);
    const remaining = withPrevious(members, before).filter((m) => m.memberId !== 'm001');
    const after = uniformAssignor.assign(remaining, topics);
    assertValid(remaining, topics, after);
    assert.ok(spread(after, ['m000', 'm002', 'm003']) <= 1);
    for (const m of remaining) {
      for (const [topicId, partitions] of before.get(m.memberId)!) {
        for (const partition of partitions) assert.ok(after.get(m.memberId)!.get(topicId)?.has(partition), `${m.memberId} lost ${topicId}-${partition}`);
      }
    }
  });

  it('keeps up to the quota of an unbalanced previous assignment and drops what no longer exists', () => {
    const members = [member('a', ['t1'], { t1: [0, 1, 2, 3, 4, 5, 6, 9] }), member('b', ['t1'], { t1: [1], t2: [0] }), member('c', ['t1'])];
    const result = uniformAssignor.assign(members, topics);
    assertValid(members, topics, result);
    assert.deepEqual([...result.get('a')!.get('t1')!], [0, 1, 2]);
    assert.ok(!result.get('b')!.has('t2'));
    assert.ok(spread(result, ['a', 'b', 'c']) <= 1);
  });

  it('gives a partition two previous owners claim to one of them', () => {
    const members = [member('a', ['t2'], { t2: [0, 1] }), member('b', ['t2'], { t2: [1, 2] })];
    const result = uniformAssignor.assign(members, topicsOf({ t2: 4 }));
    assertValid(members, topicsOf({ t2: 4 }), result);
  });

  it('gives the same answer whatever the input order', () => {
    const random = prng(7);
    const members = ids(6).map((id, i) => member(id, i % 2 ? ['t1', 't2'] : ['t1'], { t1: [i], t2: [i % 5] }));
    const expected = render(uniformAssignor.assign(members, topics));
    for (let round = 0; round < 20; round++) assert.equal(render(uniformAssignor.assign(reordered(members, random), new Map(shuffled([...topics], random)))), expected);
  });

  it('balances heterogeneous subscriptions where it can', () => {
    // a and b share t1; c alone has t2: c takes all of t2, t1 splits between a and b.
    const heterogeneous = topicsOf({ t1: 6, t2: 3, t3: 4 });
    const members = [member('a', ['t1']), member('b', ['t1', 't3']), member('c', ['t2', 't3'])];
    const result = uniformAssignor.assign(members, heterogeneous);
    assertValid(members, heterogeneous, result);
    assert.deepEqual(result.get('c')!.get('t2'), new Set([0, 1, 2]));
    // 13 partitions over three members, and every move is possible: 4/4/5 in some order.
    assert.deepEqual(['a', 'b', 'c'].map((id) => countOf(result, id)).sort(), [4, 4, 5]);
  });

  it('keeps previous owners in heterogeneous groups within their share', () => {
    const heterogeneous = topicsOf({ t1: 4, t2: 4 });
    const previous = { t1: [0, 1, 2, 3] };
    const members = [member('a', ['t1'], previous), member('b', ['t1', 't2']), member('c', ['t2'])];
    const result = uniformAssignor.assign(members, heterogeneous);
    assertValid(members, heterogeneous, result);
    // a had all of t1; balance with b (t1, t2) and c (t2) takes only what is needed from a.
    assert.equal(countOf(result, 'a'), 3);
    for (const partition of result.get('a')!.get('t1')!) assert.ok(previous.t1.includes(partition));
    const counts = ['a', 'b', 'c'].map((id) => countOf(result, id));
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1);
  });

  it('assigns 1,000 members over 10,000 partitions quickly', () => {
    const big = topicsOf(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`topic-${i}`, 100])));
    const topicIds = [...big.keys()];
    const members = ids(1000).map((id) => member(id, topicIds));
    let start = performance.now();
    const first = uniformAssignor.assign(members, big);
    assert.ok(performance.now() - start < 1000, `homogeneous took ${performance.now() - start} ms`);
    assertValid(members, big, first);
    assert.ok(spread(first, ids(1000)) <= 1);
    const random = prng(11);
    const mixed = ids(1000).map((id) => member(id, topicIds.filter(() => random() < 0.3), first));
    start = performance.now();
    const second = uniformAssignor.assign(mixed, big);
    assert.ok(performance.now() - start < 1000, `heterogeneous took ${performance.now() - start} ms`);
    assertValid(mixed, big, second);
  });
});

describe('range assignor', () => {
  it('splits each topic into contiguous ranges, the first members one more', () => {
    const topics = topicsOf({ t1: 7 });
    const members = [member('c', ['t1']), member('a', ['t1']), member('b', ['t1'])];
    const result = rangeAssignor.assign(members, topics);
    assertValid(members, topics, result);
    assert.deepEqual(result.get('a')!.get('t1'), new Set([0, 1, 2]));
    assert.deepEqual(result.get('b')!.get('t1'), new Set([3, 4]));
    assert.deepEqual(result.get('c')!.get('t1'), new Set([5, 6]));
  });

  it('co-partitions topics with the same partition count', () => {
    const topics = topicsOf({ orders: 5, payments: 5, other: 2 });
    const members = [member('x', ['orders', 'payments', 'other']), member('y', ['orders', 'payments']), member('z', ['orders', 'payments', 'other'])];
    const result = rangeAssignor.assign(members, topics);
    assertValid(members, topics, result);
    for (const id of ['x', 'y', 'z']) assert.deepEqual(result.get(id)!.get('orders'), result.get(id)!.get('payments'));
    assert.deepEqual(result.get('x')!.get('other'), new Set([0]));
    assert.deepEqual(result.get('z')!.get('other'), new Set([1]));
  });

  it('ignores unknown topics, empty groups and input order', () => {
    const topics = topicsOf({ t1: 3, lonely: 4 });
    assert.equal(rangeAssignor.assign([], topics).size, 0);
    const members = [member('a', ['t1', 'gone']), member('b', ['t1']), member('c', ['t1']), member('d', ['t1'])];
    const result = rangeAssignor.assign(members, topics);
    assertValid(members, topics, result);
    assert.equal(result.get('d')!.size, 0);
    assert.equal(render(rangeAssignor.assign(reordered(members, prng(3)), topics)), render(result));
  });
});

describe('randomized groups (seeded)', () => {
  function randomCase(seed: number) {
    const random = prng(seed);
    const topicCount = 1 + Math.floor(random() * 5);
    const topics = topicsOf(Object.fromEntries(Array.from({ length: topicCount }, (_, i) => [`t${i}`, Math.floor(random() * 20)])));
    const topicIds = [...topics.keys()];
    const homogeneous = random() < 0.5;
    const common = topicIds.filter(() => random() < 0.7);
    const memberIds = ids(Math.floor(random() * 12));
    const members = memberIds.map((id) => {
      const subscribed = homogeneous ? common : topicIds.filter(() => random() < 0.5);
      if (random() < 0.2) subscribed.push('unknown');
      // An arbitrary, possibly overlapping or stale previous assignment.
      const previous: Record<string, number[]> = {};
      for (const topicId of [...topicIds, 'unknown']) if (random() < 0.4) previous[topicId] = Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * 25));
      return member(id, subscribed, previous);
    });
    return { random, topics, members, memberIds, homogeneous, common };
  }

  for (const assignor of [uniformAssignor, rangeAssignor] as ServerAssignor[]) {
    it(`${assignor.name}: valid and deterministic over 300 cases; uniform is balanced for homogeneous ones`, () => {
      for (let seed = 1; seed <= 300; seed++) {
        const { random, topics, members, memberIds, homogeneous, common } = randomCase(seed);
        const result = assignor.assign(members, topics);
        try {
          assertValid(members, topics, result);
          assert.equal(render(assignor.assign(reordered(members, random), topics)), render(result));
          if (assignor === uniformAssignor && homogeneous && common.length > 0 && memberIds.length > 0) assert.ok(spread(result, memberIds) <= 1, 'balanced within one');
          if (assignor === uniformAssignor) {
            // Steady state: feeding the result back changes nothing.
            assert.equal(render(assignor.assign(withPrevious(members, result), topics)), render(result), 'stable');
          }
        } catch (error) {
          assert.fail(`seed ${seed}: ${(error as Error).message}`);
        }
      }
    });
  }

  it('uniform, heterogeneous: no partition could move to a subscriber with two fewer', () => {
    for (let seed = 1000; seed < 1300; seed++) {
      const { topics, members } = randomCase(seed);
      const result = uniformAssignor.assign(members, topics);
      for (const owner of members) {
        for (const [topicId, partitions] of result.get(owner.memberId)!) {
          if (partitions.size === 0) continue;
          for (const other of members) {
            if (!other.subscribedTopicIds.has(topicId)) continue;
            assert.ok(countOf(result, owner.memberId) - countOf(result, other.memberId) < 2, `seed ${seed}: ${owner.memberId} could give ${topicId} to ${other.memberId}`);
          }
        }
      }
    }
  });
});

describe('serverAssignorNamed', () => {
  it('resolves the short names and Kafka class names, case-sensitively', () => {
    assert.equal(serverAssignorNamed('uniform'), uniformAssignor);
    assert.equal(serverAssignorNamed('range'), rangeAssignor);
    assert.equal(serverAssignorNamed('org.apache.kafka.coordinator.group.assignor.UniformAssignor'), uniformAssignor);
    assert.equal(serverAssignorNamed('org.apache.kafka.coordinator.group.assignor.RangeAssignor'), rangeAssignor);
    assert.equal(serverAssignorNamed('Uniform'), undefined);
    assert.equal(serverAssignorNamed('sticky'), undefined);
    assert.equal(serverAssignorNamed(''), undefined);
    assert.equal(uniformAssignor.name, 'uniform');
    assert.equal(rangeAssignor.name, 'range');
  });
});
