// The group coordinator driven without I/O: a manual clock, an in-memory `__consumer_offsets`,
// and the classic protocol's paths (join, sync, fencing, timeouts, static members, replay).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { silentLogger } from '../../base/logger.js';
import { KafkaError } from '../../base/kafka-error.js';
import { type GroupCoordinatorConfig } from './group-context.js';
import { GroupCoordinator } from './group-coordinator.js';
import type { JoinGroupInput } from './group-membership.js';
import { javaStringHashCode, offsetsPartitionFor } from './group-partition.js';
import { readLastOffsetDelta } from '../../protocol/records/batch-header.js';
import { MemoryOffsetsTopic, StepClock as ManualClock, imageWithTopics, random, settle } from '../../testing/group-support.js';

const config: GroupCoordinatorConfig = {
  offsetsTopicNumPartitions: 4,
  offsetsRetentionMs: 60_000,
  offsetsRetentionCheckIntervalMs: 10_000,
  groupInitialRebalanceDelayMs: 0,
  groupMinSessionTimeoutMs: 1_000,
  groupMaxSessionTimeoutMs: 60_000,
  groupMaxSize: 3,
  offsetMetadataMaxBytes: 100,
};

function setup(overrides: Partial<GroupCoordinatorConfig> = {}, topic = new MemoryOffsetsTopic(), clock = new ManualClock()) {
  const coordinator = new GroupCoordinator({ clock, random, logger: silentLogger, config: { ...config, ...overrides }, image: imageWithTopics(), partitions: topic });
  return { coordinator, clock, topic };
}

function joinInput(memberId = '', extra: Partial<JoinGroupInput> = {}): JoinGroupInput {
  return {
    groupId: 'g',
    memberId,
    groupInstanceId: null,
    requireKnownMemberId: false,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    rebalanceTimeoutMs: 5_000,
    sessionTimeoutMs: 3_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    ...extra,
  };
}

test('partition for a group is abs(Java hashCode) % partitions', () => {
  assert.equal(javaStringHashCode('hello'), 99162322);
  assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
  assert.equal(offsetsPartitionFor('polygenelubricants', 50), 0);
  assert.equal(offsetsPartitionFor('hello', 50), 99162322 % 50);
});

test('two members join, the leader assigns, both sync to Stable', async () => {
  const { coordinator } = setup();
  await coordinator.start();
  const first = await coordinator.joinGroup(joinInput());
  assert.equal(first.errorCode, ErrorCode.NONE);
  assert.equal(first.generationId, 1);
  const sync1 = await coordinator.syncGroup({ groupId: 'g', generationId: 1, memberId: first.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [{ memberId: first.memberId, assignment: Buffer.from('a1') }] });
  assert.equal(sync1.assignment.toString(), 'a1');
  // A second member triggers a rebalance: the first learns through its heartbeat and re-joins.
  const secondJoin = coordinator.joinGroup(joinInput());
  await settle();
  assert.equal(await coordinator.heartbeat('g', first.memberId, null, 1), ErrorCode.REBALANCE_IN_PROGRESS);
  const [rejoin, second] = await Promise.all([coordinator.joinGroup(joinInput(first.memberId)), secondJoin]);
  assert.equal(rejoin.generationId, 2);
  assert.equal(second.generationId, 2);
  assert.equal(rejoin.leaderId, first.memberId);
  assert.equal(rejoin.members.length, 2);
  assert.equal(second.members.length, 0);
  const followerSync = coordinator.syncGroup({ groupId: 'g', generationId: 2, memberId: second.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  const leaderSync = await coordinator.syncGroup({
    groupId: 'g',
    generationId: 2,
    memberId: first.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [
      { memberId: first.memberId, assignment: Buffer.from('x') },
      { memberId: second.memberId, assignment: Buffer.from('y') },
    ],
  });
  assert.equal(leaderSync.assignment.toString(), 'x');
  assert.equal((await followerSync).assignment.toString(), 'y');
  assert.equal((await coordinator.describeGroup('g')).state, 'Stable');
  assert.equal(await coordinator.heartbeat('g', second.memberId, null, 1), ErrorCode.ILLEGAL_GENERATION);
  assert.equal(await coordinator.heartbeat('g', 'nobody', null, 2), ErrorCode.UNKNOWN_MEMBER_ID);
});

test('no common protocol gets INCONSISTENT_GROUP_PROTOCOL; bad session timeout gets INVALID_SESSION_TIMEOUT', async () => {
  const { coordinator } = setup();
  await coordinator.joinGroup(joinInput());
  const other = await coordinator.joinGroup(joinInput('', { protocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.alloc(0) }] }));
  assert.equal(other.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal((await coordinator.joinGroup(joinInput('', { sessionTimeoutMs: 10 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  assert.equal((await coordinator.joinGroup(joinInput('', { groupId: '' }))).errorCode, ErrorCode.INVALID_GROUP_ID);
});

test('v4+ new members first get MEMBER_ID_REQUIRED; the group refuses members past group.max.size', async () => {
  const { coordinator } = setup({ groupMaxSize: 1 });
  const required = await coordinator.joinGroup(joinInput('', { requireKnownMemberId: true }));
  assert.equal(required.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.ok(required.memberId.startsWith('client-'));
  const joined = await coordinator.joinGroup(joinInput(required.memberId, { requireKnownMemberId: true }));
  assert.equal(joined.errorCode, ErrorCode.NONE);
  assert.equal((await coordinator.joinGroup(joinInput())).errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
});

test('a silent member is removed after its session timeout; a leaving one at once', async () => {
  const { coordinator, clock } = setup();
  const first = await coordinator.joinGroup(joinInput());
  await coordinator.syncGroup({ groupId: 'g', generationId: 1, memberId: first.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  await clock.advance(3_001);
  const described = await coordinator.describeGroup('g');
  assert.equal(described.state, 'Empty');
  assert.equal(described.members.length, 0);
  const again = await coordinator.joinGroup(joinInput());
  const left = await coordinator.leaveGroup('g', [{ memberId: again.memberId, groupInstanceId: null }]);
  assert.deepEqual(left.memberErrors, [ErrorCode.NONE]);
  assert.equal((await coordinator.describeGroup('g')).state, 'Empty');
});

test('a static member restarting with the same instance id keeps its assignment without a rebalance', async () => {
  const { coordinator } = setup();
  const first = await coordinator.joinGroup(joinInput('', { groupInstanceId: 'instance-1' }));
  await coordinator.syncGroup({ groupId: 'g', generationId: 1, memberId: first.memberId, groupInstanceId: 'instance-1', protocolType: null, protocolName: null, assignments: [{ memberId: first.memberId, assignment: Buffer.from('kept') }] });
  const restarted = await coordinator.joinGroup(joinInput('', { groupInstanceId: 'instance-1' }));
  assert.equal(restarted.errorCode, ErrorCode.NONE);
  assert.equal(restarted.generationId, 1);
  assert.notEqual(restarted.memberId, first.memberId);
  const sync = await coordinator.syncGroup({ groupId: 'g', generationId: 1, memberId: restarted.memberId, groupInstanceId: 'instance-1', protocolType: null, protocolName: null, assignments: [] });
  assert.equal(sync.assignment.toString(), 'kept');
  assert.equal(await coordinator.heartbeat('g', first.memberId, 'instance-1', 1), ErrorCode.FENCED_INSTANCE_ID);
});

test('committed offsets, metadata and leader epochs survive a replay; deletion and expiry write tombstones', async () => {
  const topic = new MemoryOffsetsTopic();
  const { coordinator, clock } = setup({}, topic);
  const errors = await coordinator.commitOffsets({
    groupId: 'g',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    offsets: [
      { topic: 'orders', partition: 0, offset: 42, leaderEpoch: 3, metadata: 'meta' },
      { topic: 'orders', partition: 9, offset: 1, leaderEpoch: -1, metadata: null },
      { topic: 'orders', partition: 1, offset: 1, leaderEpoch: -1, metadata: 'x'.repeat(101) },
    ],
  });
  assert.deepEqual(errors, [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.OFFSET_METADATA_TOO_LARGE]);
  const replayed = setup({}, topic, clock).coordinator;
  await replayed.start();
  const fetched = await replayed.fetchOffsets('g', [{ topic: 'orders', partitions: [0, 1] }]);
  assert.deepEqual(fetched.topics[0]!.partitions, [
    { partition: 0, offset: 42, leaderEpoch: 3, metadata: 'meta', errorCode: ErrorCode.NONE },
    { partition: 1, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE },
  ]);
  assert.deepEqual(await replayed.deleteGroups(['g', 'missing']), [
    { groupId: 'g', errorCode: ErrorCode.NONE },
    { groupId: 'missing', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
  ]);
  const afterDelete = setup({}, topic, clock).coordinator;
  await afterDelete.start();
  assert.deepEqual((await afterDelete.fetchOffsets('g', null)).topics, []);
  await afterDelete.commitOffsets({ groupId: 'e', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'orders', partition: 0, offset: 5, leaderEpoch: -1, metadata: '' }] });
  await clock.advance(70_001);
  assert.deepEqual(afterDelete.listGroups().groups, []);
  afterDelete.stop();
  coordinator.stop();
  replayed.stop();
});

/** An in-memory `__consumer_offsets` read one batch at a time, whose reads from one offset wait until released. */
class SteppedOffsetsTopic extends MemoryOffsetsTopic {
  #held: { fromOffset: number; reached: () => void; released: Promise<void> } | undefined;

  /** The next read from `fromOffset` waits: `reached` resolves once it is asked, `release` lets it answer. */
  hold(fromOffset: number): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    this.#held = { fromOffset, reached, released: new Promise<void>((resolve) => (release = resolve)) };
    return { reached: reachedPromise, release };
  }

  override async read(partition: number, fromOffset: number) {
    const held = this.#held;
    if (held !== undefined && held.fromOffset === fromOffset) {
      this.#held = undefined;
      held.reached();
      await held.released;
    }
    const { chunks, highWatermark } = await super.read(partition, 0);
    let next = 0;
    for (const chunk of chunks) {
      if (next >= fromOffset) return { chunks: [chunk], highWatermark };
      next += readLastOffsetDelta(chunk) + 1;
    }
    return { chunks: [], highWatermark };
  }
}

test('a transaction marker written while its partition loads commits the offsets of its transaction (the load keeps them)', async () => {
  const topic = new SteppedOffsetsTopic();
  const { coordinator: before, clock } = setup({}, topic);
  const offsets = (offset: number) => [{ topic: 'orders', partition: 0, offset, leaderEpoch: -1, metadata: null }];
  assert.deepEqual(await before.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, offsets: offsets(5) }), [ErrorCode.NONE]);
  assert.deepEqual(await before.commitTransactionalOffsets({ groupId: 'g', producerId: 7, producerEpoch: 0, generationId: -1, memberId: '', groupInstanceId: null, offsets: offsets(9) }), [ErrorCode.NONE]);
  before.stop();
  // The partition moves to a new coordinator. Its load has replayed the offset 5 (log offset 0) and
  // the transaction's offset 9 (1), and waits for its read from 2 when the transaction's COMMIT
  // marker arrives (the transaction coordinator writes it there, at 2).
  const held = topic.hold(2);
  const after = setup({}, topic, clock).coordinator;
  const fetching = after.fetchOffsets('g', [{ topic: 'orders', partitions: [0] }]);
  await held.reached;
  const marking = after.writeTransactionMarker(offsetsPartitionFor('g', config.offsetsTopicNumPartitions), 7, 0, true, 0);
  await settle();
  held.release();
  await marking;
  const committed = (fetched: Awaited<typeof fetching>) => fetched.topics[0]!.partitions[0]!.offset;
  assert.equal(committed(await fetching), 9, 'the offset the load found when it finished');
  assert.equal(committed(await after.fetchOffsets('g', [{ topic: 'orders', partitions: [0] }])), 9, 'the offset once the marker was written');
  after.stop();
});

test('group members are fenced from committing by generation; a non-empty group cannot be deleted', async () => {
  const { coordinator } = setup();
  const member = await coordinator.joinGroup(joinInput());
  const commit = (generationId: number, memberId: string) =>
    coordinator.commitOffsets({ groupId: 'g', generationId, memberId, groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: '' }] });
  assert.deepEqual(await commit(1, member.memberId), [ErrorCode.REBALANCE_IN_PROGRESS]);
  await coordinator.syncGroup({ groupId: 'g', generationId: 1, memberId: member.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  assert.deepEqual(await commit(1, member.memberId), [ErrorCode.NONE]);
  assert.deepEqual(await commit(0, member.memberId), [ErrorCode.ILLEGAL_GENERATION]);
  assert.deepEqual(await commit(-1, ''), [ErrorCode.UNKNOWN_MEMBER_ID]);
  assert.deepEqual(await coordinator.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP }]);
  coordinator.stop();
});

test('a failed write to __consumer_offsets answers as Kafka: NOT_COORDINATOR when the partition left or its log is offline, COORDINATOR_NOT_AVAILABLE otherwise', async () => {
  class FailingOffsetsTopic extends MemoryOffsetsTopic {
    failure: unknown;
    override async append(partition: number, batch: Buffer): Promise<void> {
      if (this.failure !== undefined) throw this.failure;
      return super.append(partition, batch);
    }
  }
  const topic = new FailingOffsetsTopic();
  const { coordinator } = setup({}, topic);
  const commit = () => coordinator.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: '' }] });
  const cases: [unknown, number][] = [
    [new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'log offline'), ErrorCode.NOT_COORDINATOR],
    [new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'leadership moved'), ErrorCode.NOT_COORDINATOR],
    [new KafkaError(ErrorCode.NOT_ENOUGH_REPLICAS, 'isr too small'), ErrorCode.COORDINATOR_NOT_AVAILABLE],
    [new Error('anything else'), ErrorCode.COORDINATOR_NOT_AVAILABLE],
  ];
  for (const [failure, expected] of cases) {
    topic.failure = failure;
    assert.deepEqual(await commit(), [expected], String(failure));
  }
  topic.failure = undefined;
  assert.deepEqual(await commit(), [ErrorCode.NONE]);
  coordinator.stop();
});
