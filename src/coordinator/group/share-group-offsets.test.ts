// DescribeShareGroupOffsets on the group coordinator, without I/O: a stepped clock, an in-memory
// `__consumer_offsets`, a fake share-state persister that answers summaries, and a fake source of
// end offsets. Start offsets, lag (end - SPSO - delivery complete count), the partitions of a
// null topic list, unknown topics and partitions, failed summaries and end offsets, and groups that
// are not share groups.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { silentLogger } from '../../base/logger.js';
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
  async delete(): Promise<ShareStateResult> {
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

async function setup() {
  const persister = new SummaryPersister();
  const coordinator = new GroupCoordinator({
    clock: new StepClock(),
    random,
    logger: silentLogger,
    config: groupConfig,
    image: imageWithTopics(),
    partitions: new MemoryOffsetsTopic(),
    shareStatePersister: persister,
  });
  // One member subscribing to `orders` initializes both of its partitions.
  const joined = await coordinator.shareGroupHeartbeat({ groupId: 'sg', memberId: 'member-1'.padEnd(22, 'x'), memberEpoch: 0, rackId: null, subscribedTopicNames: ['orders'], clientId: 'c', clientHost: '/127.0.0.1' });
  assert.equal(joined.errorCode, ErrorCode.NONE);
  return { coordinator, persister };
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
