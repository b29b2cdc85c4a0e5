// KIP-848 consumer groups driven without I/O: the reconciliation step alone, then the coordinator
// with a stepped clock and an in-memory `__consumer_offsets` (joins, revocation before assignment,
// fencing, timeouts, static members, regex subscriptions, replay on another coordinator, offset
// commits with member epochs, and groups changing protocol).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { silentLogger } from '../../base/logger.js';
import { addTopic, imageWithTopics, MemoryOffsetsTopic, random, StepClock } from '../../testing/group-support.js';
import { rangeAssignor, uniformAssignor } from './assignors.js';
import { MemberState, type MemberAssignment, reconcile, toTopicPartitions, type TopicPartitions } from './consumer-group.js';
import type { ConsumerHeartbeatInput, ConsumerHeartbeatOutcome } from './consumer-membership.js';
import type { GroupCoordinatorConfig } from './group-context.js';
import { GroupCoordinator } from './group-coordinator.js';

const ORDERS = 'AAAAAAAAAAAAAAAAAAAAAg';
const PAYMENTS = 'AAAAAAAAAAAAAAAAAAAAAw';

const tp = (entries: Record<string, number[]>): TopicPartitions => toTopicPartitions(Object.entries(entries).map(([topicId, partitions]) => ({ topicId, partitions })));
const list = (partitions: TopicPartitions | null | undefined) =>
  partitions === null || partitions === undefined ? null : Object.fromEntries([...partitions].filter(([, set]) => set.size > 0).map(([topicId, set]) => [topicId, [...set].sort((a, b) => a - b)]));

describe('reconcile: one step towards the target', () => {
  const stable = (memberEpoch: number, assigned: TopicPartitions): MemberAssignment => ({ state: MemberState.stable, memberEpoch, previousMemberEpoch: memberEpoch - 1, assigned, pendingRevocation: new Map() });
  const free = () => false;

  test('revokes what the target dropped before anything new, at the same epoch', () => {
    const next = reconcile(stable(1, tp({ [ORDERS]: [0, 1] })), 2, tp({ [ORDERS]: [1], [PAYMENTS]: [0] }), free, null);
    assert.equal(next.state, MemberState.unrevokedPartitions);
    assert.equal(next.memberEpoch, 1);
    assert.deepEqual(list(next.assigned), { [ORDERS]: [1] });
    assert.deepEqual(list(next.pendingRevocation), { [ORDERS]: [0] });
  });

  test('moves to the target epoch once the member no longer reports the revoked partitions', () => {
    const unrevoked = reconcile(stable(1, tp({ [ORDERS]: [0, 1] })), 2, tp({ [ORDERS]: [1], [PAYMENTS]: [0] }), free, null);
    assert.equal(reconcile(unrevoked, 2, tp({ [ORDERS]: [1], [PAYMENTS]: [0] }), free, tp({ [ORDERS]: [0, 1] })), unrevoked, 'still owns partition 0');
    const next = reconcile(unrevoked, 2, tp({ [ORDERS]: [1], [PAYMENTS]: [0] }), free, tp({ [ORDERS]: [1] }));
    assert.equal(next.state, MemberState.stable);
    assert.equal(next.memberEpoch, 2);
    assert.equal(next.previousMemberEpoch, 1);
    assert.deepEqual(list(next.assigned), { [ORDERS]: [1], [PAYMENTS]: [0] });
  });

  test('a member that already gave the partitions up skips the revocation step', () => {
    const next = reconcile(stable(1, tp({ [ORDERS]: [0, 1] })), 2, tp({ [ORDERS]: [1] }), free, tp({ [ORDERS]: [1] }));
    assert.equal(next.state, MemberState.stable);
    assert.equal(next.memberEpoch, 2);
  });

  test('waits for partitions another member still owns, and takes them once released', () => {
    let ownedElsewhere = true;
    const waiting = reconcile(stable(1, tp({ [ORDERS]: [0] })), 2, tp({ [ORDERS]: [0, 1] }), () => ownedElsewhere, null);
    assert.equal(waiting.state, MemberState.unreleasedPartitions);
    assert.equal(waiting.memberEpoch, 2);
    assert.deepEqual(list(waiting.assigned), { [ORDERS]: [0] });
    assert.equal(reconcile(waiting, 2, tp({ [ORDERS]: [0, 1] }), () => ownedElsewhere, null), waiting, 'nothing changed yet');
    ownedElsewhere = false;
    const done = reconcile(waiting, 2, tp({ [ORDERS]: [0, 1] }), () => ownedElsewhere, null);
    assert.equal(done.state, MemberState.stable);
    assert.deepEqual(list(done.assigned), { [ORDERS]: [0, 1] });
  });

  test('a stable member at the target epoch is left as it is', () => {
    const member = stable(3, tp({ [ORDERS]: [0] }));
    assert.equal(reconcile(member, 3, tp({ [ORDERS]: [0] }), free, null), member);
  });
});

const groupConfig: GroupCoordinatorConfig = {
  offsetsTopicNumPartitions: 4,
  offsetsRetentionMs: 60_000,
  offsetsRetentionCheckIntervalMs: 10_000,
  groupInitialRebalanceDelayMs: 0,
  groupMinSessionTimeoutMs: 1_000,
  groupMaxSessionTimeoutMs: 60_000,
  groupMaxSize: 3,
  offsetMetadataMaxBytes: 100,
};

const SESSION_MS = 10_000;

function setup(topic = new MemoryOffsetsTopic(), image = imageWithTopics(), clock = new StepClock(), perGroup?: (groupId: string) => { sessionTimeoutMs?: number; heartbeatIntervalMs?: number }) {
  const coordinator = new GroupCoordinator({
    clock,
    random,
    logger: silentLogger,
    config: groupConfig,
    consumerConfig: { sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 1_000, maxSize: 3, assignors: [uniformAssignor, rangeAssignor], ...(perGroup ? { groupConfig: perGroup } : {}) },
    image,
    partitions: topic,
  });
  return { coordinator, clock, topic, image };
}

function input(memberId: string, memberEpoch: number, extra: Partial<ConsumerHeartbeatInput> = {}): ConsumerHeartbeatInput {
  const joining = memberEpoch === 0;
  return {
    groupId: 'g',
    memberId,
    memberEpoch,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: joining ? 30_000 : -1,
    subscribedTopicNames: joining ? ['orders'] : null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: joining ? [] : null,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    apiVersion: 1,
    ...extra,
  };
}

/** A client of the protocol: remembers its epoch and what it owns, and reports it as the Java consumer does. */
class Member {
  epoch = 0;
  owned: TopicPartitions = new Map();
  last: ConsumerHeartbeatOutcome | undefined;

  constructor(
    private readonly coordinator: GroupCoordinator,
    readonly memberId: string,
    private readonly extra: Partial<ConsumerHeartbeatInput> = {},
  ) {}

  async heartbeat(extra: Partial<ConsumerHeartbeatInput> = {}): Promise<ConsumerHeartbeatOutcome> {
    const outcome = await this.coordinator.consumerGroupHeartbeat(input(this.memberId, this.epoch, { ...this.extra, ...(this.epoch > 0 ? { topicPartitions: this.ownedList() } : {}), ...extra }));
    this.last = outcome;
    if (outcome.errorCode !== ErrorCode.NONE) return outcome;
    this.epoch = outcome.memberEpoch;
    // A new assignment replaces what it owns: revoked partitions are given up at once here.
    if (outcome.assignment !== null) this.owned = toTopicPartitions(outcome.assignment);
    return outcome;
  }

  ownedList() {
    return [...this.owned].map(([topicId, set]) => ({ topicId, partitions: [...set] }));
  }

  get partitions() {
    return list(this.owned) ?? {};
  }
}

/** Heartbeats every member in turn until none of them changes. */
async function settleGroup(members: Member[]): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const before = JSON.stringify(members.map((member) => [member.epoch, member.partitions]));
    for (const member of members) await member.heartbeat();
    if (JSON.stringify(members.map((member) => [member.epoch, member.partitions])) === before) return;
  }
  assert.fail('the group did not settle in 10 rounds');
}

function assertNoPartitionTwice(members: Member[]): void {
  const seen = new Set<string>();
  for (const member of members) {
    for (const [topicId, set] of member.owned) {
      for (const partition of set) {
        const key = `${topicId}:${partition}`;
        assert.ok(!seen.has(key), `${key} owned by two members`);
        seen.add(key);
      }
    }
  }
}

describe('ConsumerGroupHeartbeat', () => {
  test('refuses malformed requests with INVALID_REQUEST and a reason, unknown assignors and bad regular expressions', async () => {
    const { coordinator } = setup();
    const problems: [Partial<ConsumerHeartbeatInput>, number, RegExp][] = [
      [{ groupId: '' }, ErrorCode.INVALID_REQUEST, /GroupId/],
      [{ memberId: '' }, ErrorCode.INVALID_REQUEST, /MemberId/],
      [{ rebalanceTimeoutMs: -1 }, ErrorCode.INVALID_REQUEST, /RebalanceTimeoutMs/],
      [{ topicPartitions: null }, ErrorCode.INVALID_REQUEST, /TopicPartitions/],
      [{ subscribedTopicNames: null }, ErrorCode.INVALID_REQUEST, /SubscribedTopicNames or SubscribedTopicRegex/],
      [{ memberEpoch: -3 }, ErrorCode.INVALID_REQUEST, /MemberEpoch/],
      [{ serverAssignor: 'sticky' }, ErrorCode.UNSUPPORTED_ASSIGNOR, /uniform, range/],
      [{ subscribedTopicNames: null, subscribedTopicRegex: 'orders(' }, ErrorCode.INVALID_REGULAR_EXPRESSION, /orders\(/],
      [{ subscribedTopicNames: null, subscribedTopicRegex: 'o(?=r)' }, ErrorCode.INVALID_REGULAR_EXPRESSION, /not a valid regular expression/],
    ];
    for (const [extra, errorCode, message] of problems) {
      const outcome = await coordinator.consumerGroupHeartbeat(input('m1', 0, extra));
      assert.equal(outcome.errorCode, errorCode, JSON.stringify(extra));
      assert.match(outcome.errorMessage ?? '', message);
    }
    assert.equal(coordinator.listGroups().groups.length, 0, 'no refused request created a group');
  });

  test('a v0 member gets its id from the coordinator; a v1 member keeps its own', async () => {
    const { coordinator } = setup();
    const v0 = await coordinator.consumerGroupHeartbeat(input('', 0, { apiVersion: 0 }));
    assert.equal(v0.errorCode, ErrorCode.NONE);
    assert.match(v0.memberId ?? '', /^[A-Za-z0-9_-]{22}$/);
    const v1 = await coordinator.consumerGroupHeartbeat(input('my-own-id', 0));
    assert.equal(v1.memberId, 'my-own-id');
  });

  test('members join, revoke before the new member is assigned, and no partition is ever owned twice', async () => {
    const { coordinator, image } = setup();
    addTopic(image, 'big', 'AAAAAAAAAAAAAAAAAAAABA', 6);
    const subscribe = { subscribedTopicNames: ['big'] };
    const a = new Member(coordinator, 'a', subscribe);
    const first = await a.heartbeat();
    assert.equal(first.memberEpoch, 1);
    assert.equal(first.heartbeatIntervalMs, 1_000);
    assert.deepEqual(a.partitions, { AAAAAAAAAAAAAAAAAAAABA: [0, 1, 2, 3, 4, 5] });

    const b = new Member(coordinator, 'b', subscribe);
    const joined = await b.heartbeat();
    assert.equal(joined.memberEpoch, 2, 'b is at the new target epoch');
    assert.deepEqual(b.partitions, {}, 'b gets nothing a still owns');
    assertNoPartitionTwice([a, b]);

    // a learns that three partitions go: it keeps epoch 1 and is told to give them up.
    const revoke = await a.heartbeat();
    assert.equal(revoke.memberEpoch, 1);
    assert.equal(Object.values(a.partitions).flat().length, 3);
    assertNoPartitionTwice([a, b]);
    assert.equal((await coordinator.consumerGroupDescribe(['g']))[0]!.groupState, 'Reconciling');

    // Having given them up (its next heartbeat says so), a moves to epoch 2; then b gets them.
    assert.equal((await a.heartbeat()).memberEpoch, 2);
    await b.heartbeat();
    assert.equal(Object.values(b.partitions).flat().length, 3);
    assertNoPartitionTwice([a, b]);

    const [described] = await coordinator.consumerGroupDescribe(['g']);
    assert.equal(described!.groupState, 'Stable');
    assert.equal(described!.groupEpoch, 2);
    assert.equal(described!.assignmentEpoch, 2);
    assert.equal(described!.assignorName, 'uniform');
    for (const member of described!.members) assert.deepEqual(member.assignment, member.targetAssignment);
    assert.deepEqual(described!.members.map((member) => member.assignment[0]!.topicName), ['big', 'big']);
  });

  test('fences a member whose epoch is ahead, or behind without a lost response to explain it', async () => {
    const { coordinator } = setup();
    const a = new Member(coordinator, 'a');
    await a.heartbeat();
    const ahead = await coordinator.consumerGroupHeartbeat(input('a', 5, { topicPartitions: a.ownedList() }));
    assert.equal(ahead.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    const b = new Member(coordinator, 'b');
    await b.heartbeat();
    await settleGroup([a, b]);
    assert.equal(a.epoch, 2);
    // Epoch 1 is a's previous epoch: a retry of a request whose response was lost, owning a subset, is accepted.
    const retried = await coordinator.consumerGroupHeartbeat(input('a', 1, { topicPartitions: a.ownedList() }));
    assert.equal(retried.errorCode, ErrorCode.NONE);
    assert.equal(retried.memberEpoch, 2);
    const stale = await coordinator.consumerGroupHeartbeat(input('a', 1, { topicPartitions: [{ topicId: ORDERS, partitions: [0, 1] }] }));
    assert.equal(stale.errorCode, ErrorCode.FENCED_MEMBER_EPOCH, 'claims a partition it no longer has');
    const unknown = await coordinator.consumerGroupHeartbeat(input('nobody', 1, { topicPartitions: [] }));
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('a member that stops heartbeating is removed after the session timeout and its partitions move', async () => {
    const { coordinator, clock } = setup();
    const a = new Member(coordinator, 'a');
    const b = new Member(coordinator, 'b');
    await a.heartbeat();
    await b.heartbeat();
    await settleGroup([a, b]);
    assert.equal(Object.values(b.partitions).flat().length, 1);
    for (let elapsed = 0; elapsed < SESSION_MS + 2_000; elapsed += 2_000) {
      await clock.advance(2_000);
      await a.heartbeat();
    }
    assert.deepEqual(a.partitions, { [ORDERS]: [0, 1] });
    assert.equal((await b.heartbeat()).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('a group\'s own consumer.session.timeout.ms and consumer.heartbeat.interval.ms override the broker\'s', async () => {
    const { coordinator, clock } = setup(undefined, undefined, undefined, (groupId) => (groupId === 'g' ? { sessionTimeoutMs: 3_000, heartbeatIntervalMs: 500 } : {}));
    const a = new Member(coordinator, 'a');
    const b = new Member(coordinator, 'b');
    assert.equal((await a.heartbeat()).heartbeatIntervalMs, 500);
    await b.heartbeat();
    await settleGroup([a, b]);
    // b stops; well before the broker's 10 s session it is gone under the group's 3 s.
    for (let elapsed = 0; elapsed < 4_000; elapsed += 1_000) {
      await clock.advance(1_000);
      await a.heartbeat();
    }
    assert.equal((await b.heartbeat()).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.deepEqual(a.partitions, { [ORDERS]: [0, 1] });
  });

  test('a member that does not revoke within its rebalance timeout is removed', async () => {
    const { coordinator, clock } = setup();
    const a = new Member(coordinator, 'a', { rebalanceTimeoutMs: 3_000 });
    await a.heartbeat();
    const b = new Member(coordinator, 'b');
    await b.heartbeat();
    // a is told to revoke but keeps reporting the partition (a stuck rebalance listener).
    const told = await coordinator.consumerGroupHeartbeat(input('a', 1, { topicPartitions: a.ownedList() }));
    assert.equal(told.assignment?.[0]?.partitions.length, 1);
    for (let elapsed = 0; elapsed < 4_000; elapsed += 1_000) {
      await clock.advance(1_000);
      await coordinator.consumerGroupHeartbeat(input('a', 1, { topicPartitions: [{ topicId: ORDERS, partitions: [0, 1] }] }));
      await b.heartbeat();
    }
    assert.equal((await coordinator.consumerGroupHeartbeat(input('a', 1, { topicPartitions: [] }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    await b.heartbeat();
    assert.deepEqual(b.partitions, { [ORDERS]: [0, 1] });
  });

  test('a static member that leaves with epoch -2 comes back under a new id with its partitions, without a new group epoch', async () => {
    const { coordinator } = setup();
    const a = new Member(coordinator, 'a1', { instanceId: 'host-a' });
    const b = new Member(coordinator, 'b');
    await a.heartbeat();
    await b.heartbeat();
    await settleGroup([a, b]);
    const before = (await coordinator.consumerGroupDescribe(['g']))[0]!;
    const left = await coordinator.consumerGroupHeartbeat(input('a1', -2, { instanceId: 'host-a' }));
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.memberEpoch, -2);
    const back = new Member(coordinator, 'a2', { instanceId: 'host-a' });
    await back.heartbeat();
    assert.deepEqual(back.partitions, a.partitions, 'the same partitions as before');
    const after = (await coordinator.consumerGroupDescribe(['g']))[0]!;
    assert.equal(after.groupEpoch, before.groupEpoch);
    assert.deepEqual(after.members.map((member) => member.memberId).sort(), ['a2', 'b']);
    // While the instance id is held by a live member, another incarnation is refused.
    const twin = await coordinator.consumerGroupHeartbeat(input('a3', 0, { instanceId: 'host-a' }));
    assert.equal(twin.errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);
  });

  test('a regular expression subscription picks up a topic created later, and a partition count change moves the group epoch', async () => {
    const { coordinator, image } = setup();
    const a = new Member(coordinator, 'a', { subscribedTopicNames: null, subscribedTopicRegex: 'ord.*|pay.*' });
    await a.heartbeat();
    assert.deepEqual(a.partitions, { [ORDERS]: [0, 1] });
    addTopic(image, 'payments', PAYMENTS, 1);
    addTopic(image, 'xpayments', 'AAAAAAAAAAAAAAAAAAAABQ', 1);
    await a.heartbeat();
    assert.deepEqual(a.partitions, { [ORDERS]: [0, 1], [PAYMENTS]: [0] }, 'matched in full: xpayments is not');
    assert.equal(a.epoch, 2);
    image.apply({ type: 'Partition', topicId: PAYMENTS, partitionId: 1, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
    await a.heartbeat();
    assert.deepEqual(a.partitions, { [ORDERS]: [0, 1], [PAYMENTS]: [0, 1] });
    assert.equal(a.epoch, 3);
    await a.heartbeat();
    assert.equal(a.epoch, 3, 'nothing changed: no new epoch');
  });

  test('names and a regular expression together (as librdkafka sends them) subscribe to their union; an empty expression is none', async () => {
    const { coordinator, image } = setup();
    addTopic(image, 'payments', PAYMENTS, 1);
    const a = new Member(coordinator, 'a', { subscribedTopicNames: [], subscribedTopicRegex: '(^pay.*)' });
    assert.equal((await a.heartbeat()).errorCode, ErrorCode.NONE);
    assert.deepEqual(a.partitions, { [PAYMENTS]: [0] });
    // Full requests every time, as librdkafka sends them after a subscription change.
    const both = { subscribedTopicNames: ['orders'], subscribedTopicRegex: '(^pay.*)' };
    await a.heartbeat(both);
    await a.heartbeat(both);
    assert.deepEqual(a.partitions, { [ORDERS]: [0, 1], [PAYMENTS]: [0] });
    const namesOnly = { subscribedTopicNames: ['orders'], subscribedTopicRegex: '' };
    for (let round = 0; round < 3; round++) await a.heartbeat(namesOnly);
    assert.deepEqual(a.partitions, { [ORDERS]: [0, 1] });
    const [described] = await coordinator.consumerGroupDescribe(['g']);
    assert.equal(described!.members[0]!.subscribedTopicRegex, null);
  });

  test('the group max size refuses one member too many; a member that leaves with -1 gives its partitions back at once', async () => {
    const { coordinator } = setup();
    const members = ['a', 'b', 'c'].map((id) => new Member(coordinator, id));
    for (const member of members) await member.heartbeat();
    assert.equal((await new Member(coordinator, 'd').heartbeat()).errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
    await settleGroup(members);
    const leaving = members.find((member) => Object.keys(member.partitions).length > 0)!;
    const left = await coordinator.consumerGroupHeartbeat(input(leaving.memberId, -1));
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.memberEpoch, -1);
    const rest = members.filter((member) => member !== leaving);
    await settleGroup(rest);
    assert.equal(rest.flatMap((member) => Object.values(member.partitions).flat()).length, 2);
    assertNoPartitionTwice(rest);
  });

  test('another coordinator loads the group from the log: members keep their epochs and partitions', async () => {
    const topic = new MemoryOffsetsTopic();
    const first = setup(topic);
    const a = new Member(first.coordinator, 'a', { instanceId: 'host-a' });
    const b = new Member(first.coordinator, 'b', { subscribedTopicNames: null, subscribedTopicRegex: 'orders' });
    await a.heartbeat();
    await b.heartbeat();
    await settleGroup([a, b]);
    const before = (await first.coordinator.consumerGroupDescribe(['g']))[0]!;
    first.coordinator.stop();

    const second = setup(topic);
    await second.coordinator.start();
    const loaded = (await second.coordinator.consumerGroupDescribe(['g']))[0]!;
    assert.deepEqual(loaded, before);
    const moved = [new Member(second.coordinator, 'a', { instanceId: 'host-a' }), new Member(second.coordinator, 'b')];
    for (const [index, member] of moved.entries()) {
      const original = [a, b][index]!;
      member.epoch = original.epoch;
      member.owned = original.owned;
      const outcome = await member.heartbeat();
      assert.equal(outcome.errorCode, ErrorCode.NONE);
      assert.equal(outcome.memberEpoch, original.epoch);
    }
    second.coordinator.stop();
  });

  test('partitions added while no coordinator watched move the group epoch at the first heartbeat after a load', async () => {
    const topic = new MemoryOffsetsTopic();
    const first = setup(topic);
    const a = new Member(first.coordinator, 'a');
    await a.heartbeat();
    first.coordinator.stop();
    const second = setup(topic);
    second.image.apply({ type: 'Partition', topicId: ORDERS, partitionId: 2, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
    await second.coordinator.start();
    const moved = new Member(second.coordinator, 'a');
    moved.epoch = a.epoch;
    moved.owned = a.owned;
    await moved.heartbeat();
    assert.equal(moved.epoch, 2);
    assert.deepEqual(moved.partitions, { [ORDERS]: [0, 1, 2] });
    second.coordinator.stop();
  });

  test('offset commits and fetches carry the member epoch: STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, v9 required', async () => {
    const { coordinator } = setup();
    const a = new Member(coordinator, 'a');
    await a.heartbeat();
    const commit = (memberId: string, generationId: number, apiVersion = 9) =>
      coordinator.commitOffsets({ groupId: 'g', apiVersion, memberId, generationId, groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'orders', partition: 0, offset: 5, leaderEpoch: -1, metadata: null }] });
    assert.deepEqual(await commit('a', 1), [ErrorCode.NONE]);
    assert.deepEqual(await commit('a', 7), [ErrorCode.STALE_MEMBER_EPOCH]);
    assert.deepEqual(await commit('a', 1, 8), [ErrorCode.UNSUPPORTED_VERSION]);
    assert.deepEqual(await commit('x', 1), [ErrorCode.UNKNOWN_MEMBER_ID]);
    assert.deepEqual(await commit('', -1), [ErrorCode.UNKNOWN_MEMBER_ID], 'no commits from outside the group while it has members');
    assert.equal((await coordinator.fetchOffsets('g', [{ topic: 'orders', partitions: [0] }], false, { memberId: 'a', memberEpoch: 1 })).topics[0]!.partitions[0]!.offset, 5);
    assert.equal((await coordinator.fetchOffsets('g', [{ topic: 'orders', partitions: [0] }], false, { memberId: 'a', memberEpoch: 0 })).errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    assert.equal((await coordinator.fetchOffsets('g', [{ topic: 'orders', partitions: [0] }], false, { memberId: 'x', memberEpoch: 1 })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const txn = await coordinator.commitTransactionalOffsets({ groupId: 'g', producerId: 1, producerEpoch: 0, generationId: 4, memberId: 'a', groupInstanceId: null, offsets: [{ topic: 'orders', partition: 1, offset: 1, leaderEpoch: -1, metadata: null }] });
    assert.deepEqual(txn, [ErrorCode.ILLEGAL_GENERATION]);
    await coordinator.consumerGroupHeartbeat(input('a', -1));
    assert.deepEqual(await commit('', -1), [ErrorCode.NONE], 'an empty group takes commits from outside');
  });

  test('groups change protocol when empty; listing and describing tell the kinds apart', async () => {
    const { coordinator } = setup();
    // A classic group with a member whose subscription is not the consumer protocol's cannot be
    // upgraded online (group-migration.test.ts covers groups that can).
    const join = await coordinator.joinGroup({
      groupId: 'g',
      memberId: '',
      groupInstanceId: null,
      requireKnownMemberId: false,
      clientId: 'c',
      clientHost: '/127.0.0.1',
      rebalanceTimeoutMs: 5_000,
      sessionTimeoutMs: 5_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    });
    assert.equal(join.errorCode, ErrorCode.NONE);
    assert.equal((await coordinator.consumerGroupHeartbeat(input('a', 0))).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    await coordinator.syncGroup({ groupId: 'g', generationId: join.generationId, memberId: join.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] });
    assert.deepEqual(
      await coordinator.commitOffsets({ groupId: 'g', memberId: join.memberId, generationId: join.generationId, groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'orders', partition: 0, offset: 9, leaderEpoch: -1, metadata: null }] }),
      [ErrorCode.NONE],
    );
    await coordinator.leaveGroup('g', [{ memberId: join.memberId, groupInstanceId: null }]);
    // Empty now: the consumer protocol takes it over and the committed offset stays.
    const a = new Member(coordinator, 'a');
    assert.equal((await a.heartbeat()).errorCode, ErrorCode.NONE);
    assert.equal((await coordinator.fetchOffsets('g', [{ topic: 'orders', partitions: [0] }])).topics[0]!.partitions[0]!.offset, 9);
    assert.deepEqual(coordinator.listGroups().groups.map(({ groupId, type, protocolType }) => ({ groupId, type, protocolType })), [{ groupId: 'g', type: 'consumer', protocolType: 'consumer' }]);
    assert.deepEqual(coordinator.listGroups([], ['classic']).groups, []);
    assert.equal((await coordinator.describeGroup('g')).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    // A classic member with such a subscription cannot join it while it has members, nor can the group be deleted.
    const refused = await coordinator.joinGroup({ groupId: 'g', memberId: '', groupInstanceId: null, requireKnownMemberId: false, clientId: 'c', clientHost: '/h', rebalanceTimeoutMs: 5_000, sessionTimeoutMs: 5_000, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('m') }] });
    assert.equal(refused.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.deepEqual(await coordinator.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP }]);
    await coordinator.consumerGroupHeartbeat(input('a', -1));
    assert.equal(coordinator.listGroups().groups[0]!.state, 'Empty');
    // Empty again: back to classic, offsets kept.
    const rejoined = await coordinator.joinGroup({ groupId: 'g', memberId: '', groupInstanceId: null, requireKnownMemberId: false, clientId: 'c', clientHost: '/h', rebalanceTimeoutMs: 5_000, sessionTimeoutMs: 5_000, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('m') }] });
    assert.equal(rejoined.errorCode, ErrorCode.NONE);
    assert.equal(coordinator.listGroups().groups[0]!.type, 'classic');
    assert.equal((await coordinator.fetchOffsets('g', [{ topic: 'orders', partitions: [0] }])).topics[0]!.partitions[0]!.offset, 9);
    coordinator.stop();
  });

  test('an empty consumer group is deleted with its records: another coordinator loads nothing of it', async () => {
    const topic = new MemoryOffsetsTopic();
    const { coordinator } = setup(topic);
    const a = new Member(coordinator, 'a');
    await a.heartbeat();
    await coordinator.commitOffsets({ groupId: 'g', apiVersion: 9, memberId: 'a', generationId: 1, groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'orders', partition: 0, offset: 3, leaderEpoch: -1, metadata: null }] });
    await coordinator.consumerGroupHeartbeat(input('a', -1));
    assert.deepEqual(await coordinator.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    coordinator.stop();
    const second = setup(topic);
    await second.coordinator.start();
    assert.deepEqual(second.coordinator.listGroups().groups, []);
    assert.equal((await second.coordinator.consumerGroupDescribe(['g']))[0]!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    second.coordinator.stop();
  });
});
