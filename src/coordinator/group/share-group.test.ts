// KIP-932 share groups on the group coordinator, driven without I/O: a stepped clock, an in-memory
// `__consumer_offsets` and a fake share-state persister. Joins and leaves, request checks, epochs
// and fencing, session expiry, assignment balance, partition initialization (pending, failed and
// retried), replay on another coordinator, ShareGroupDescribe, ListGroups, DescribeGroups,
// DeleteGroups, and the group id namespace shared with classic and consumer groups.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { silentLogger } from '../../base/logger.js';
import { decodeRecordBatchSync, recordBatchSpans } from '../../protocol/records/record-batch.js';
import { addTopic, imageWithTopics, MemoryOffsetsTopic, random, StepClock } from '../../testing/group-support.js';
import type { ShareStateKey, ShareStatePersister, ShareStateResult } from '../share/share-state-persister.js';
import type { GroupCoordinatorConfig } from './group-context.js';
import { GroupCoordinator, type GroupCoordinatorOptions } from './group-coordinator.js';
import { type DecodedShareGroupRecord, decodeShareGroupRecord } from './share-group-records.js';
import type { ShareHeartbeatInput } from './share-membership.js';

const ORDERS = 'AAAAAAAAAAAAAAAAAAAAAg';
const PAYMENTS = 'AAAAAAAAAAAAAAAAAAAAAw';
const SESSION_MS = 45_000;

const groupConfig: GroupCoordinatorConfig = {
  offsetsTopicNumPartitions: 4,
  offsetsRetentionMs: 60_000,
  offsetsRetentionCheckIntervalMs: 10_000_000,
  groupInitialRebalanceDelayMs: 0,
  groupMinSessionTimeoutMs: 1_000,
  groupMaxSessionTimeoutMs: 60_000,
  groupMaxSize: 3,
  offsetMetadataMaxBytes: 100,
};

/** The share coordinator stand-in: remembers initialized states; a test may fail or hold its answers. */
class FakePersister implements ShareStatePersister {
  readonly states = new Map<string, number>();
  readonly initializeCalls: { key: ShareStateKey; stateEpoch: number; startOffset: number }[] = [];
  readonly deleteCalls: ShareStateKey[] = [];
  failWith: number = ErrorCode.NONE;
  /** While set, initialize answers wait until the test calls release(). */
  private held: (() => void)[] | undefined;

  hold(): void {
    this.held = [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const resume of waiting) resume();
  }

  static id(key: ShareStateKey): string {
    return `${key.groupId}:${key.topicId}:${key.partition}`;
  }

  async initialize(key: ShareStateKey, stateEpoch: number, startOffset: number): Promise<ShareStateResult> {
    this.initializeCalls.push({ key, stateEpoch, startOffset });
    if (this.held !== undefined) await new Promise<void>((resume) => this.held!.push(resume));
    if (this.failWith !== ErrorCode.NONE) return { errorCode: this.failWith };
    this.states.set(FakePersister.id(key), stateEpoch);
    return { errorCode: ErrorCode.NONE };
  }
  async delete(key: ShareStateKey): Promise<ShareStateResult> {
    this.deleteCalls.push(key);
    if (this.failWith !== ErrorCode.NONE) return { errorCode: this.failWith };
    this.states.delete(FakePersister.id(key));
    return { errorCode: ErrorCode.NONE };
  }
  read(): never {
    throw new Error('not used by the group coordinator');
  }
  write(): never {
    throw new Error('not used by the group coordinator');
  }
  readSummary(): never {
    throw new Error('not used by the group coordinator');
  }
}

function setup(extra: Partial<GroupCoordinatorOptions> = {}, topic = new MemoryOffsetsTopic(), image = imageWithTopics(), persister = new FakePersister()) {
  const clock = new StepClock();
  if (image.topic('payments') === undefined) addTopic(image, 'payments', PAYMENTS, 6);
  const coordinator = new GroupCoordinator({
    clock,
    random,
    logger: silentLogger,
    config: groupConfig,
    image,
    partitions: topic,
    shareStatePersister: persister,
    ...extra,
  });
  return { coordinator, clock, topic, image, persister };
}

function input(memberId: string, memberEpoch: number, extra: Partial<ShareHeartbeatInput> = {}): ShareHeartbeatInput {
  return {
    groupId: 'sg',
    memberId,
    memberEpoch,
    rackId: null,
    subscribedTopicNames: memberEpoch === 0 ? ['orders'] : null,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    ...extra,
  };
}

/** A share consumer: remembers its epoch and its last assignment. */
class Member {
  epoch = 0;
  assignment: Record<string, number[]> = {};

  constructor(
    private readonly coordinator: GroupCoordinator,
    readonly memberId: string,
    private readonly extra: Partial<ShareHeartbeatInput> = {},
  ) {}

  async heartbeat(extra: Partial<ShareHeartbeatInput> = {}) {
    const outcome = await this.coordinator.shareGroupHeartbeat(input(this.memberId, this.epoch, { ...this.extra, ...(this.epoch !== 0 ? { subscribedTopicNames: null } : {}), ...extra }));
    if (outcome.errorCode !== ErrorCode.NONE) return outcome;
    this.epoch = outcome.memberEpoch;
    if (outcome.assignment !== null) this.assignment = Object.fromEntries(outcome.assignment.map(({ topicId, partitions }) => [topicId, partitions]));
    return outcome;
  }

  get size(): number {
    return Object.values(this.assignment).reduce((sum, partitions) => sum + partitions.length, 0);
  }
}

async function settleGroup(members: Member[]): Promise<void> {
  for (let round = 0; round < 5; round++) for (const member of members) await member.heartbeat();
}

/** Every share group record in the in-memory log, in order. */
function shareRecords(topic: MemoryOffsetsTopic): DecodedShareGroupRecord[] {
  const decoded: DecodedShareGroupRecord[] = [];
  for (const log of topic.logs.values()) {
    for (const chunk of log) {
      for (const span of recordBatchSpans(chunk)) {
        for (const record of decodeRecordBatchSync(chunk, span.position).records) {
          const share = record.key === null ? undefined : decodeShareGroupRecord(record.key, record.value);
          if (share !== undefined) decoded.push(share);
        }
      }
    }
  }
  return decoded;
}

const memberId = (index: number) => `member-${index}`.padEnd(22, 'x');

describe('ShareGroupHeartbeat', () => {
  test('a join initializes the subscribed partitions first and gets them in its first response', async () => {
    const { coordinator, persister, topic } = setup();
    const outcome = await coordinator.shareGroupHeartbeat(input(memberId(1), 0));
    assert.equal(outcome.errorCode, ErrorCode.NONE);
    assert.equal(outcome.memberId, memberId(1));
    // Epoch 1: the join; epoch 2: the initialized partitions became assignable.
    assert.equal(outcome.memberEpoch, 2);
    assert.equal(outcome.heartbeatIntervalMs, 5_000);
    assert.deepEqual(outcome.assignment, [{ topicId: ORDERS, partitions: [0, 1] }]);
    assert.deepEqual(
      persister.initializeCalls.map(({ key, stateEpoch, startOffset }) => [key.topicId, key.partition, stateEpoch, startOffset]),
      [
        [ORDERS, 0, 1, -1],
        [ORDERS, 1, 1, -1],
      ],
    );
    const states = shareRecords(topic).filter((record) => record.type === 'share-state-partitions');
    assert.deepEqual(
      states.map((record) => (record.type === 'share-state-partitions' ? [record.metadata!.initializingTopics.length, record.metadata!.initializedTopics.length] : [])),
      [
        [1, 0],
        [0, 1],
      ],
    );
    const epochs = shareRecords(topic).filter((record) => record.type === 'share-epoch');
    assert.deepEqual(
      epochs.map((record) => (record.type === 'share-epoch' ? record.epoch!.epoch : -1)),
      [1, 2],
    );
    // A heartbeat with nothing new: no assignment in the answer, no records.
    const before = shareRecords(topic).length;
    const again = await coordinator.shareGroupHeartbeat(input(memberId(1), 2, { subscribedTopicNames: null }));
    assert.equal(again.memberEpoch, 2);
    assert.equal(again.assignment, null);
    assert.equal(shareRecords(topic).length, before);
    // A full request (names sent again) carries the assignment.
    const full = await coordinator.shareGroupHeartbeat(input(memberId(1), 2, { subscribedTopicNames: ['orders'] }));
    assert.deepEqual(full.assignment, [{ topicId: ORDERS, partitions: [0, 1] }]);
  });

  test('request checks answer INVALID_REQUEST with the reason', async () => {
    const { coordinator } = setup();
    const cases: [Partial<ShareHeartbeatInput> & { memberEpoch?: number }, string][] = [
      [{ memberId: '' }, 'Invalid member id in the request.'],
      [{ memberId: 'x'.repeat(37) }, 'Invalid member id in the request.'],
      [{ groupId: '' }, "GroupId can't be empty."],
      [{ rackId: '' }, "RackId can't be empty."],
      [{ subscribedTopicNames: null }, 'SubscribedTopicNames must be set in first request.'],
      [{ subscribedTopicNames: [] }, 'SubscribedTopicNames must be set in first request.'],
      [{ memberEpoch: -2 }, 'MemberEpoch is invalid.'],
    ];
    for (const [extra, message] of cases) {
      const outcome = await coordinator.shareGroupHeartbeat({ ...input(memberId(1), 0), ...extra });
      assert.equal(outcome.errorCode, ErrorCode.INVALID_REQUEST, message);
      assert.equal(outcome.errorMessage, message);
    }
    assert.equal((await coordinator.shareGroupHeartbeat(input('x'.repeat(36), 0))).errorCode, ErrorCode.NONE, '36 characters are fine');
  });

  test('unknown group or member, and the group id namespace shared with other group types', async () => {
    const { coordinator } = setup();
    assert.equal((await coordinator.shareGroupHeartbeat(input(memberId(1), 3))).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal((await coordinator.shareGroupHeartbeat(input(memberId(1), -1))).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    await coordinator.shareGroupHeartbeat(input(memberId(1), 0));
    assert.equal((await coordinator.shareGroupHeartbeat(input(memberId(2), 3))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await coordinator.shareGroupHeartbeat(input(memberId(2), -1))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    // A consumer group's id is not a share group's, and the other way round.
    const consumer = await coordinator.consumerGroupHeartbeat({
      groupId: 'cg', memberId: memberId(9), memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ['orders'],
      subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [], clientId: 'c', clientHost: '/h', apiVersion: 1,
    });
    assert.equal(consumer.errorCode, ErrorCode.NONE);
    const wrongType = await coordinator.shareGroupHeartbeat(input(memberId(1), 0, { groupId: 'cg' }));
    assert.equal(wrongType.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(wrongType.errorMessage, 'Group cg is not a share group.');
    const intoShare = await coordinator.consumerGroupHeartbeat({
      groupId: 'sg', memberId: memberId(9), memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ['orders'],
      subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [], clientId: 'c', clientHost: '/h', apiVersion: 1,
    });
    assert.equal(intoShare.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    const join = await coordinator.joinGroup({
      groupId: 'sg', memberId: '', groupInstanceId: null, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], clientId: 'c', clientHost: '/h', requireKnownMemberId: false, reason: null,
    } as Parameters<GroupCoordinator['joinGroup']>[0]);
    assert.equal(join.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.deepEqual(await coordinator.commitOffsets({ groupId: 'sg', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }] }), [
      ErrorCode.GROUP_ID_NOT_FOUND,
    ]);
    assert.equal((await coordinator.fetchOffsets('sg', null)).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  test('GROUP_MAX_SIZE_REACHED for a new member of a full group; members already in may rejoin', async () => {
    const { coordinator } = setup({ shareConfig: { maxSize: 2 } });
    await coordinator.shareGroupHeartbeat(input(memberId(1), 0));
    await coordinator.shareGroupHeartbeat(input(memberId(2), 0));
    const third = await coordinator.shareGroupHeartbeat(input(memberId(3), 0));
    assert.equal(third.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
    assert.equal(third.errorMessage, 'The share group has reached its maximum capacity of 2 members.');
    assert.equal((await coordinator.shareGroupHeartbeat(input(memberId(2), 0))).errorCode, ErrorCode.NONE);
  });

  test('epochs: above the member is fenced, the previous one is accepted, older ones are fenced; epoch 0 rejoins', async () => {
    const { coordinator } = setup();
    const first = new Member(coordinator, memberId(1));
    await first.heartbeat();
    assert.equal(first.epoch, 2);
    const second = new Member(coordinator, memberId(2));
    await second.heartbeat();
    // The group moved to epoch 3; the first member's next heartbeat takes it there.
    await first.heartbeat();
    assert.equal(first.epoch, 3);
    const above = await coordinator.shareGroupHeartbeat(input(memberId(1), 4, { subscribedTopicNames: null }));
    assert.equal(above.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    const previous = await coordinator.shareGroupHeartbeat(input(memberId(1), 2, { subscribedTopicNames: null }));
    assert.equal(previous.errorCode, ErrorCode.NONE, 'a lost response: the previous epoch is accepted');
    assert.equal(previous.memberEpoch, 3);
    const older = await coordinator.shareGroupHeartbeat(input(memberId(1), 1, { subscribedTopicNames: null }));
    assert.equal(older.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    const rejoin = await coordinator.shareGroupHeartbeat(input(memberId(1), 0));
    assert.equal(rejoin.errorCode, ErrorCode.NONE);
    assert.equal(rejoin.memberEpoch, 3, 'same subscription: no new epoch');
    assert.notEqual(rejoin.assignment, null, 'a join always gets its assignment');
  });

  test('assignment balance: six partitions over three members, two partitions over three members', async () => {
    const { coordinator } = setup();
    const members = [1, 2, 3].map((index) => new Member(coordinator, memberId(index), { subscribedTopicNames: ['payments'] }));
    await settleGroup(members);
    assert.deepEqual(members.map((member) => member.size), [2, 2, 2]);
    const all = members.flatMap((member) => member.assignment[PAYMENTS] ?? []).sort();
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5]);
    const sharing = [1, 2, 3].map((index) => new Member(coordinator, memberId(index), { groupId: 'two' }));
    await settleGroup(sharing);
    assert.deepEqual(sharing.map((member) => member.size), [1, 1, 1], 'members outnumber partitions: every member gets one');
    const covered = new Set(sharing.flatMap((member) => member.assignment[ORDERS] ?? []));
    assert.deepEqual([...covered].sort(), [0, 1]);
  });

  test('a member leaving with -1: tombstones, a new group epoch, the others take its partitions', async () => {
    const { coordinator, topic } = setup();
    const members = [1, 2].map((index) => new Member(coordinator, memberId(index), { subscribedTopicNames: ['payments'] }));
    await settleGroup(members);
    const epoch = (await coordinator.shareGroupDescribe(['sg']))[0]!.groupEpoch;
    const left = await coordinator.shareGroupHeartbeat(input(memberId(2), -1));
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.memberEpoch, -1);
    const described = (await coordinator.shareGroupDescribe(['sg']))[0]!;
    assert.equal(described.groupEpoch, epoch + 1);
    assert.deepEqual(described.members.map((member) => member.memberId), [memberId(1)]);
    const tombstones = shareRecords(topic).slice(-4);
    assert.deepEqual(
      tombstones.map((record) => record.type),
      ['share-current', 'share-target', 'share-member', 'share-epoch'],
    );
    assert.ok(tombstones.slice(0, 3).every((record) => 'memberId' in record && record.memberId === memberId(2)));
    await members[0]!.heartbeat();
    assert.equal(members[0]!.size, 6);
  });

  test('session expiry removes a silent member and moves the group epoch; a group override shortens it', async () => {
    const { coordinator, clock } = setup({ shareGroupConfig: (groupId) => (groupId === 'fast' ? { sessionTimeoutMs: 5_000, heartbeatIntervalMs: 1_000 } : {}) });
    const quiet = new Member(coordinator, memberId(1));
    const chatty = new Member(coordinator, memberId(2));
    await quiet.heartbeat();
    await chatty.heartbeat();
    for (let elapsed = 0; elapsed < SESSION_MS; elapsed += 10_000) {
      await clock.advance(10_000);
      await chatty.heartbeat();
    }
    const described = (await coordinator.shareGroupDescribe(['sg']))[0]!;
    assert.deepEqual(described.members.map((member) => member.memberId), [memberId(2)]);
    assert.equal((await coordinator.shareGroupHeartbeat(input(memberId(1), quiet.epoch, { subscribedTopicNames: null }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(chatty.size, 2);

    const fast = new Member(coordinator, memberId(3), { groupId: 'fast' });
    const joined = await fast.heartbeat();
    assert.equal(joined.heartbeatIntervalMs, 1_000);
    await clock.advance(5_001);
    assert.deepEqual((await coordinator.shareGroupDescribe(['fast']))[0]!.members, []);
    assert.equal((await coordinator.shareGroupDescribe(['fast']))[0]!.groupState, 'Empty');
  });

  test('initialization pending: a member joining meanwhile gets nothing yet, and its share once the states exist', async () => {
    const { coordinator, persister } = setup();
    persister.hold();
    const first = new Member(coordinator, memberId(1), { subscribedTopicNames: ['payments'] });
    const second = new Member(coordinator, memberId(2), { subscribedTopicNames: ['payments'] });
    const firstJoin = first.heartbeat();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(persister.initializeCalls.length, 6, 'asked for every partition of the subscribed topic');
    const secondJoin = await second.heartbeat();
    assert.equal(secondJoin.errorCode, ErrorCode.NONE);
    assert.deepEqual(secondJoin.assignment, [], 'nothing initialized yet');
    assert.equal(persister.initializeCalls.length, 6, 'partitions being initialized are not asked for twice');
    persister.release();
    const firstOutcome = await firstJoin;
    assert.equal(first.size, 3, 'the initialized partitions are shared out between both members');
    assert.equal(firstOutcome.memberEpoch, 3);
    await second.heartbeat();
    assert.equal(second.size, 3);
    assert.equal(second.epoch, 3);
    const all = [...(first.assignment[PAYMENTS] ?? []), ...(second.assignment[PAYMENTS] ?? [])].sort();
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5]);
  });

  test('failed initialization: nothing assigned, asked again at the next heartbeat, then assigned', async () => {
    const { coordinator, clock, persister } = setup({ shareConfig: { initializeRetryIntervalMs: 30_000 } });
    persister.failWith = ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const member = new Member(coordinator, memberId(1));
    const first = await member.heartbeat();
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.deepEqual(first.assignment, [], 'nothing is initialized: nothing assignable');
    assert.equal(persister.initializeCalls.length, 2);
    // A refusal un-initializes at once (Kafka's uninitializeShareGroupState), well within the retry interval.
    persister.failWith = ErrorCode.NONE;
    await clock.advance(1_000);
    const later = await member.heartbeat();
    assert.equal(persister.initializeCalls.length, 4);
    assert.deepEqual(later.assignment, [{ topicId: ORDERS, partitions: [0, 1] }]);
    assert.equal(persister.initializeCalls[2]!.stateEpoch, 1, 'state epoch = the group epoch when asked');
  });

  test('a partition added to a subscribed topic is initialized and assigned; a deleted topic leaves the metadata', async () => {
    const { coordinator, image, persister, topic } = setup();
    const member = new Member(coordinator, memberId(1), { subscribedTopicNames: ['orders', 'payments'] });
    await member.heartbeat();
    assert.equal(member.size, 8);
    image.apply({ type: 'Partition', topicId: ORDERS, partitionId: 2, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
    await member.heartbeat();
    assert.deepEqual(member.assignment[ORDERS], [0, 1, 2]);
    assert.equal(persister.initializeCalls.at(-1)!.key.partition, 2);
    image.apply({ type: 'RemoveTopic', topicId: PAYMENTS });
    await member.heartbeat();
    assert.deepEqual(Object.keys(member.assignment), [ORDERS]);
    const last = shareRecords(topic).filter((record) => record.type === 'share-state-partitions').at(-1);
    assert.ok(last?.type === 'share-state-partitions');
    assert.deepEqual(last.metadata!.initializedTopics.map(({ topicId }) => topicId), [ORDERS]);
  });
});

describe('share groups: replay, describe, list, delete', () => {
  test('a coordinator that loads the partition afresh has the same group, and its members keep their epochs', async () => {
    const shared = new MemoryOffsetsTopic();
    const image = imageWithTopics();
    const { coordinator } = setup({}, shared, image);
    const members = [1, 2, 3].map((index) => new Member(coordinator, memberId(index), { subscribedTopicNames: ['payments'], rackId: index === 1 ? 'rack-a' : null }));
    await settleGroup(members);
    await coordinator.shareGroupHeartbeat(input(memberId(3), -1));
    const before = (await coordinator.shareGroupDescribe(['sg']))[0]!;
    coordinator.stop();

    const { coordinator: replayed, persister } = setup({}, shared, image);
    const after = (await replayed.shareGroupDescribe(['sg']))[0]!;
    assert.deepEqual(after, before);
    // The members carry on at their epochs; nothing needs initializing again.
    const outcome = await replayed.shareGroupHeartbeat(input(memberId(1), members[0]!.epoch, { subscribedTopicNames: null }));
    assert.equal(outcome.errorCode, ErrorCode.NONE);
    assert.equal(persister.initializeCalls.length, 0);
    assert.equal(replayed.listGroups([], ['share']).groups.length, 1);
  });

  test('ShareGroupDescribe: states, epochs, assignor, members with topic names; other groups are not found', async () => {
    const { coordinator } = setup();
    const member = new Member(coordinator, memberId(1), { rackId: 'rack-a', subscribedTopicNames: ['payments', 'orders'] });
    await member.heartbeat();
    const [described, missing, empty] = await coordinator.shareGroupDescribe(['sg', 'missing', '']);
    assert.deepEqual(described, {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId: 'sg',
      groupState: 'Stable',
      groupEpoch: 2,
      assignmentEpoch: 2,
      assignorName: 'simple',
      members: [
        {
          memberId: memberId(1),
          rackId: 'rack-a',
          memberEpoch: 2,
          clientId: 'client',
          clientHost: '/127.0.0.1',
          subscribedTopicNames: ['orders', 'payments'],
          assignment: [
            { topicId: ORDERS, topicName: 'orders', partitions: [0, 1] },
            { topicId: PAYMENTS, topicName: 'payments', partitions: [0, 1, 2, 3, 4, 5] },
          ],
        },
      ],
    });
    assert.equal(missing!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(empty!.errorCode, ErrorCode.INVALID_GROUP_ID);
    await coordinator.commitOffsets({ groupId: 'classic', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }] });
    const [classic] = await coordinator.shareGroupDescribe(['classic']);
    assert.equal(classic!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(classic!.errorMessage, 'Group classic is not a share group.');
    const [asConsumer] = await coordinator.consumerGroupDescribe(['sg']);
    assert.equal(asConsumer!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  test('ListGroups shows share groups (type filter "share", state filter); DescribeGroups answers as for a non-classic group', async () => {
    const { coordinator } = setup();
    await coordinator.shareGroupHeartbeat(input(memberId(1), 0));
    await coordinator.commitOffsets({ groupId: 'classic', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }] });
    assert.deepEqual(coordinator.listGroups([], ['share']).groups, [{ groupId: 'sg', protocolType: 'share', state: 'Stable', type: 'share' }]);
    assert.deepEqual(coordinator.listGroups(['empty'], ['share']).groups, []);
    assert.deepEqual(coordinator.listGroups([], ['classic']).groups.map(({ groupId }) => groupId), ['classic']);
    assert.deepEqual(coordinator.listGroups().groups.map(({ groupId }) => groupId).sort(), ['classic', 'sg']);
    const described = await coordinator.describeGroup('sg');
    assert.equal(described.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(described.state, 'Dead');
    assert.equal(described.errorMessage, 'Group sg is not a classic group.');
  });

  test('DeleteGroups: refused with members; an empty share group loses its share-partition states and its records', async () => {
    const shared = new MemoryOffsetsTopic();
    const image = imageWithTopics();
    const { coordinator, persister } = setup({}, shared, image);
    const member = new Member(coordinator, memberId(1));
    await member.heartbeat();
    assert.deepEqual(await coordinator.deleteGroups(['sg']), [{ groupId: 'sg', errorCode: ErrorCode.NON_EMPTY_GROUP }]);
    await coordinator.shareGroupHeartbeat(input(memberId(1), -1));
    persister.failWith = ErrorCode.COORDINATOR_NOT_AVAILABLE;
    assert.deepEqual(await coordinator.deleteGroups(['sg']), [{ groupId: 'sg', errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }], 'the states could not go: the group stays');
    assert.equal(coordinator.listGroups([], ['share']).groups.length, 1);
    persister.failWith = ErrorCode.NONE;
    assert.deepEqual(await coordinator.deleteGroups(['sg']), [{ groupId: 'sg', errorCode: ErrorCode.NONE }]);
    assert.deepEqual(persister.deleteCalls.slice(-2).map(({ topicId, partition }) => [topicId, partition]), [
      [ORDERS, 0],
      [ORDERS, 1],
    ]);
    assert.equal(persister.states.size, 0);
    assert.deepEqual(coordinator.listGroups().groups, []);
    assert.equal((await coordinator.shareGroupDescribe(['sg']))[0]!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    coordinator.stop();
    const { coordinator: replayed } = setup({}, shared, image);
    assert.equal((await replayed.shareGroupDescribe(['sg']))[0]!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND, 'gone after a load too');
    // The id is free again, for any group type.
    assert.equal((await replayed.shareGroupHeartbeat(input(memberId(1), 0))).memberEpoch, 2);
  });
});
