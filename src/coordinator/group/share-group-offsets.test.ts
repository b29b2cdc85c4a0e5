// DescribeShareGroupOffsets on the group coordinator, without I/O: a stepped clock, an in-memory
// `__consumer_offsets`, a fake share-state persister that answers summaries, and a fake source of
// end offsets. Start offsets, lag (end - SPSO - delivery complete count), the partitions of a
// null topic list, unknown topics and partitions, failed summaries and end offsets, and groups that
// are not share groups. DeleteShareGroupOffsets: only of an empty share group; the states are
// deleted and the topic leaves the initialized partitions, also after a replay; failures stay.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { silentLogger } from '../../base/logger.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import { MemoryOffsetsTopic, StepClock, imageWithTopics, random } from '../../testing/group-support.js';
import type { ShareStateKey, ShareStatePersister, ShareStateResult, ShareStateSummary } from '../share/share-state-persister.js';
import type { GroupCoordinatorConfig } from './group-context.js';
import { GroupCoordinator } from './group-coordinator.js';
import { type EndOffset, type EndOffsetWanted, ZERO_TOPIC_ID, endOffsetKey } from './share-group-offsets.js';

const ORDERS = 'AAAAAAAAAAAAAAAAAAAAAg';

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

/** Initialized states answer their summary as set by the test (SPSO -1 until then, as Kafka's). */
class SummaryPersister implements ShareStatePersister {
  readonly summaries = new Map<string, ShareStateSummary>();
  readonly summaryCalls: ShareStateKey[] = [];
  readonly deleteCalls: ShareStateKey[] = [];
  deleteFailsWith: number = ErrorCode.NONE;

  static id(key: ShareStateKey): string {
    return `${key.groupId}:${key.topicId}:${key.partition}`;
  }

  set(groupId: string, partition: number, summary: Partial<ShareStateSummary>): void {
    this.summaries.set(SummaryPersister.id({ groupId, topicId: ORDERS, partition }), { errorCode: ErrorCode.NONE, stateEpoch: 1, leaderEpoch: 0, startOffset: -1, deliveryCompleteCount: -1, ...summary });
  }

  async initialize(key: ShareStateKey): Promise<ShareStateResult> {
    if (!this.summaries.has(SummaryPersister.id(key))) this.set(key.groupId, key.partition, {});
    return { errorCode: ErrorCode.NONE };
  }
  async delete(key: ShareStateKey): Promise<ShareStateResult> {
    this.deleteCalls.push(key);
    if (this.deleteFailsWith !== ErrorCode.NONE) return { errorCode: this.deleteFailsWith };
    this.summaries.delete(SummaryPersister.id(key));
    return { errorCode: ErrorCode.NONE };
  }
  async readSummary(key: ShareStateKey): Promise<ShareStateSummary> {
    this.summaryCalls.push(key);
    // As the share coordinator: a state never initialized is no error, only absent.
    return this.summaries.get(SummaryPersister.id(key)) ?? { errorCode: ErrorCode.NONE, stateEpoch: 0, leaderEpoch: 0, startOffset: -1, deliveryCompleteCount: -1 };
  }
  read(): never {
    throw new Error('not used by the group coordinator');
  }
  write(): never {
    throw new Error('not used by the group coordinator');
  }
}

/** End offsets by partition of `orders`; records what was asked. */
function endOffsetsOf(ends: Record<number, EndOffset>) {
  const asked: EndOffsetWanted[][] = [];
  const source = async (wanted: readonly EndOffsetWanted[]) => {
    asked.push([...wanted]);
    return new Map(wanted.map((entry) => [endOffsetKey(entry.topicId, entry.partition), ends[entry.partition]]));
  };
  return { source, asked };
}

const MEMBER = 'member-1'.padEnd(22, 'x');

function coordinatorOn(topic: MemoryOffsetsTopic, image: MetadataImage, persister: SummaryPersister): GroupCoordinator {
  return new GroupCoordinator({ clock: new StepClock(), random, logger: silentLogger, config: groupConfig, image, partitions: topic, shareStatePersister: persister });
}

async function setup() {
  const persister = new SummaryPersister();
  const topic = new MemoryOffsetsTopic();
  const image = imageWithTopics();
  const coordinator = coordinatorOn(topic, image, persister);
  // One member subscribing to `orders` initializes both of its partitions.
  const joined = await coordinator.shareGroupHeartbeat({ groupId: 'sg', memberId: MEMBER, memberEpoch: 0, rackId: null, subscribedTopicNames: ['orders'], clientId: 'c', clientHost: '/127.0.0.1' });
  assert.equal(joined.errorCode, ErrorCode.NONE);
  const leave = async () => {
    const left = await coordinator.shareGroupHeartbeat({ groupId: 'sg', memberId: MEMBER, memberEpoch: -1, rackId: null, subscribedTopicNames: null, clientId: 'c', clientHost: '/127.0.0.1' });
    assert.equal(left.errorCode, ErrorCode.NONE);
  };
  return { coordinator, persister, topic, image, leave };
}

describe('DescribeShareGroupOffsets', () => {
  test('all partitions: start offset, leader epoch and lag = end - SPSO - delivery complete count', async () => {
    const { coordinator, persister } = await setup();
    persister.set('sg', 0, { startOffset: 10, leaderEpoch: 3, deliveryCompleteCount: 2 });
    const { source, asked } = endOffsetsOf({ 0: { offset: 25 }, 1: { offset: 7 } });
    const result = await coordinator.describeShareGroupOffsets('sg', null, source);
    assert.equal(result.errorCode, ErrorCode.NONE);
    assert.deepEqual(result.topics, [
      {
        topicName: 'orders',
        topicId: ORDERS,
        partitions: [
          { partitionIndex: 0, startOffset: 10, leaderEpoch: 3, lag: 13, errorCode: ErrorCode.NONE, errorMessage: null },
          // Initialized but never written by a leader: no SPSO yet, so no lag, and no end offset asked.
          { partitionIndex: 1, startOffset: -1, leaderEpoch: 0, lag: -1, errorCode: ErrorCode.NONE, errorMessage: null },
        ],
      },
    ]);
    assert.deepEqual(asked, [[{ topicName: 'orders', topicId: ORDERS, partition: 0 }]]);
  });

  test('acknowledging records lowers the lag; delivering them does not', async () => {
    const { coordinator, persister } = await setup();
    const { source } = endOffsetsOf({ 0: { offset: 5 } });
    persister.set('sg', 0, { startOffset: 0, deliveryCompleteCount: 0 });
    const before = await coordinator.describeShareGroupOffsets('sg', [{ topicName: 'orders', partitions: [0] }], source);
    assert.equal(before.topics[0]?.partitions[0]?.lag, 5);
    // Records 0-2 accepted: the SPSO moves to 3; record 4 archived above it.
    persister.set('sg', 0, { startOffset: 3, deliveryCompleteCount: 1 });
    const after = await coordinator.describeShareGroupOffsets('sg', [{ topicName: 'orders', partitions: [0] }], source);
    assert.equal(after.topics[0]?.partitions[0]?.lag, 1);
  });

  test('named partitions: unknown topics answer start offset -1 with the zero topic id, after the known ones', async () => {
    const { coordinator, persister } = await setup();
    persister.set('sg', 1, { startOffset: 4, deliveryCompleteCount: 0 });
    const { source } = endOffsetsOf({ 1: { offset: 4 } });
    const result = await coordinator.describeShareGroupOffsets(
      'sg',
      [
        { topicName: 'missing', partitions: [0, 2] },
        { topicName: 'orders', partitions: [1] },
      ],
      source,
    );
    assert.deepEqual(result.topics, [
      { topicName: 'orders', topicId: ORDERS, partitions: [{ partitionIndex: 1, startOffset: 4, leaderEpoch: 0, lag: 0, errorCode: ErrorCode.NONE, errorMessage: null }] },
      {
        topicName: 'missing',
        topicId: ZERO_TOPIC_ID,
        partitions: [0, 2].map((partitionIndex) => ({ partitionIndex, startOffset: -1, leaderEpoch: 0, lag: -1, errorCode: ErrorCode.NONE, errorMessage: null })),
      },
    ]);
  });

  test('a failed summary is absence of data; a failed end offset is the partition error; an unknown end offset is lag -1', async () => {
    const { coordinator, persister } = await setup();
    persister.set('sg', 0, { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, startOffset: 9, leaderEpoch: 4, deliveryCompleteCount: 0 });
    persister.set('sg', 1, { startOffset: 2, deliveryCompleteCount: 0 });
    const failedEnd = await coordinator.describeShareGroupOffsets('sg', null, endOffsetsOf({ 1: { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER } }).source);
    assert.deepEqual(failedEnd.topics[0]?.partitions, [
      { partitionIndex: 0, startOffset: -1, leaderEpoch: 0, lag: -1, errorCode: ErrorCode.NONE, errorMessage: null },
      { partitionIndex: 1, startOffset: 0, leaderEpoch: 0, lag: -1, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, errorMessage: null },
    ]);
    const unknownEnd = await coordinator.describeShareGroupOffsets('sg', null, endOffsetsOf({}).source);
    assert.deepEqual(unknownEnd.topics[0]?.partitions[1], { partitionIndex: 1, startOffset: 2, leaderEpoch: 0, lag: -1, errorCode: ErrorCode.NONE, errorMessage: null });
  });

  test('a group that is not a share group, or none, has no initialized partitions: empty, as Kafka 4.2', async () => {
    const { coordinator, persister } = await setup();
    // A simple consumer's commit makes a classic group.
    const committed = await coordinator.commitOffsets({ groupId: 'classic', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }] });
    assert.deepEqual(committed, [ErrorCode.NONE]);
    for (const groupId of ['classic', 'nobody']) {
      const result = await coordinator.describeShareGroupOffsets(groupId, null, endOffsetsOf({}).source);
      assert.deepEqual(result, { groupId, errorCode: ErrorCode.NONE, errorMessage: null, topics: [] });
    }
    assert.deepEqual(persister.summaryCalls, []);
  });

  test('an empty topic list reads nothing', async () => {
    const { coordinator, persister } = await setup();
    const result = await coordinator.describeShareGroupOffsets('sg', [], endOffsetsOf({}).source);
    assert.deepEqual(result.topics, []);
    assert.deepEqual(persister.summaryCalls, []);
  });
});

describe('DeleteShareGroupOffsets', () => {
  const initializedTopics = async (coordinator: GroupCoordinator) => (await coordinator.describeShareGroupOffsets('sg', null, endOffsetsOf({}).source)).topics.map((topic) => topic.topicName);

  test('refuses a group with members, a missing group and a group of another type', async () => {
    const { coordinator, persister } = await setup();
    assert.deepEqual(await coordinator.deleteShareGroupOffsets('sg', ['orders']), { errorCode: ErrorCode.NON_EMPTY_GROUP, errorMessage: 'Share group sg is not empty.', responses: [] });
    assert.equal((await coordinator.deleteShareGroupOffsets('nobody', ['orders'])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    await coordinator.commitOffsets({ groupId: 'classic', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }] });
    assert.deepEqual(await coordinator.deleteShareGroupOffsets('classic', ['orders']), { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group classic is not a share group.', responses: [] });
    assert.deepEqual(persister.deleteCalls, []);
  });

  test("deletes an empty group's states of a topic, which leaves its initialized partitions, also after a replay", async () => {
    const { coordinator, persister, topic, image, leave } = await setup();
    await leave();
    const result = await coordinator.deleteShareGroupOffsets('sg', ['orders', 'missing']);
    assert.deepEqual(result, {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses: [
        { topicName: 'missing', topicId: ZERO_TOPIC_ID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' },
        { topicName: 'orders', topicId: ORDERS, errorCode: ErrorCode.NONE, errorMessage: null },
      ],
    });
    assert.deepEqual(persister.deleteCalls.map((key) => [key.groupId, key.topicId, key.partition]).sort(), [['sg', ORDERS, 0], ['sg', ORDERS, 1]]);
    assert.deepEqual(await initializedTopics(coordinator), []);
    // Nothing left to delete the second time.
    assert.deepEqual((await coordinator.deleteShareGroupOffsets('sg', ['orders'])).responses, [{ topicName: 'orders', topicId: ZERO_TOPIC_ID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'There is no offset information to delete.' }]);
    // The record is in the log: a coordinator replaying it knows no initialized partitions either.
    const replayed = coordinatorOn(topic, image, persister);
    assert.deepEqual(await initializedTopics(replayed), []);
    assert.equal((await replayed.shareGroupDescribe(['sg']))[0]?.errorCode, ErrorCode.NONE);
  });

  test('a failed state deletion is the topic error, and the topic stays for a retry', async () => {
    const { coordinator, persister, leave } = await setup();
    await leave();
    persister.deleteFailsWith = ErrorCode.COORDINATOR_NOT_AVAILABLE;
    assert.deepEqual((await coordinator.deleteShareGroupOffsets('sg', ['orders'])).responses, [{ topicName: 'orders', topicId: ORDERS, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: null }]);
    assert.deepEqual(await initializedTopics(coordinator), ['orders']);
    persister.deleteFailsWith = ErrorCode.NONE;
    assert.equal((await coordinator.deleteShareGroupOffsets('sg', ['orders'])).responses[0]?.errorCode, ErrorCode.NONE);
    assert.deepEqual(await initializedTopics(coordinator), []);
  });
});
