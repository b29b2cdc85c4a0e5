// The share coordinator driven without I/O: an in-memory `__share_group_state`, a manual clock,
// and Kafka 4.2's rules for share-partition state (initialize, read, write, merge, fencing,
// delete, snapshots, replay, loading and hosting).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { KafkaError } from '../../base/kafka-error.js';
import { silentLogger } from '../../base/logger.js';
import { Reader } from '../../protocol/primitives/reader.js';
import { decodeRecordBatchSync, recordBatchSpans } from '../../protocol/records/record-batch.js';
import { StepClock, settle } from '../../testing/group-support.js';
import { DATA_TOPIC_ID, MemoryShareStateTopic, SHARE_STATE_TOPIC_ID, imageWithShareStateTopic } from '../../testing/share-support.js';
import { javaStringHashCode } from '../group/group-partition.js';
import type { PersistedStateBatch } from './share-partition.js';
import {
  type ShareStateCoordinatorConfig,
  ShareStateCoordinator,
  answerReadShareGroupStateSummary,
  answerWriteShareGroupState,
  combineStateBatches,
  parseShareStateCoordinatorKey,
  shareStateCoordinatorKey,
  shareStatePartitionFor,
} from './share-state-coordinator.js';
import type { ShareStateKey, ShareStateWrite } from './share-state-persister.js';
import { decodeShareStateRecord, shareSnapshotRecord, shareUpdateRecord } from './share-state-records.js';

const KEY: ShareStateKey = { groupId: 'g1', topicId: DATA_TOPIC_ID, partition: 0 };

function setup(config: Partial<ShareStateCoordinatorConfig> = {}, topic = new MemoryShareStateTopic()) {
  const clock = new StepClock();
  const image = imageWithShareStateTopic();
  const coordinator = new ShareStateCoordinator({ clock, logger: silentLogger, image, partitions: topic, config });
  return { coordinator, clock, topic, image };
}

function batch(firstOffset: number, lastOffset: number, deliveryState: number, deliveryCount: number): PersistedStateBatch {
  return { firstOffset, lastOffset, deliveryState, deliveryCount };
}

function write(overrides: Partial<ShareStateWrite> = {}): ShareStateWrite {
  return { stateEpoch: 1, leaderEpoch: -1, startOffset: -1, deliveryCompleteCount: -1, stateBatches: [], ...overrides };
}

/** The record types (0 snapshot, 1 update) in a partition's log, tombstones as 'x'. */
function recordTypes(topic: MemoryShareStateTopic, partition: number): string[] {
  const types: string[] = [];
  for (const chunk of topic.logs.get(partition) ?? []) {
    for (const span of recordBatchSpans(chunk)) {
      for (const record of decodeRecordBatchSync(chunk, span.position).records) {
        types.push(record.value === null ? 'x' : String(new Reader(record.key as Buffer).readInt16()));
      }
    }
  }
  return types;
}

test('a key maps to its __share_group_state partition as Kafka: abs(hash("group:topicId:partition")) % n', () => {
  assert.equal(shareStateCoordinatorKey(KEY), `g1:${DATA_TOPIC_ID}:0`);
  for (const partition of [0, 1, 7, 123]) {
    const key = { ...KEY, partition };
    assert.equal(shareStatePartitionFor(key, 50), Math.abs(javaStringHashCode(`g1:${DATA_TOPIC_ID}:${partition}`)) % 50);
  }
  // Java's "polygenelubricants".hashCode() is Integer.MIN_VALUE, which Kafka's Utils.abs maps to 0.
  assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
});

test('a FindCoordinator share key parses as Kafka validates it', () => {
  assert.deepEqual(parseShareStateCoordinatorKey(`g1:${DATA_TOPIC_ID}:3`), { groupId: 'g1', topicId: DATA_TOPIC_ID, partition: 3 });
  assert.deepEqual(parseShareStateCoordinatorKey(` g1 :${DATA_TOPIC_ID}:-1`), { groupId: 'g1', topicId: DATA_TOPIC_ID, partition: -1 });
  for (const bad of ['', 'g1', `g1:${DATA_TOPIC_ID}`, `a:b:${DATA_TOPIC_ID}:0`, ` :${DATA_TOPIC_ID}:0`, 'g1:not-a-uuid:0', `g1:${DATA_TOPIC_ID}:x`, `g1:${DATA_TOPIC_ID}:2147483648`]) {
    assert.equal(parseShareStateCoordinatorKey(bad), undefined, bad);
  }
});

test('records: Snapshot (type 0), Update (type 1) and the tombstone round-trip in Kafka framing', () => {
  const snapshot = { snapshotEpoch: 2, stateEpoch: 3, leaderEpoch: 4, startOffset: 10, deliveryCompleteCount: 5, createTimestamp: 7, writeTimestamp: 8, stateBatches: [batch(10, 12, 2, 1)] };
  const encoded = shareSnapshotRecord(KEY, snapshot);
  assert.equal(encoded.key.readInt16BE(0), 0);
  assert.equal(encoded.value?.readInt16BE(0), 0);
  assert.deepEqual(decodeShareStateRecord(encoded.key, encoded.value), { type: 'snapshot', key: KEY, value: snapshot });
  const update = { snapshotEpoch: 2, leaderEpoch: 4, startOffset: -1, deliveryCompleteCount: -1, stateBatches: [batch(13, 13, 4, 2)] };
  const encodedUpdate = shareUpdateRecord(KEY, update);
  assert.equal(encodedUpdate.key.readInt16BE(0), 1);
  assert.deepEqual(decodeShareStateRecord(encodedUpdate.key, encodedUpdate.value), { type: 'update', key: KEY, value: update });
  const tombstone = shareSnapshotRecord(KEY, null);
  assert.equal(tombstone.value, null);
  assert.deepEqual(decodeShareStateRecord(tombstone.key, null), { type: 'snapshot', key: KEY, value: null });
});

test('initialize then read: the state epoch and start offset, no batches', async () => {
  const { coordinator, topic } = setup();
  assert.equal((await coordinator.initialize(KEY, 3, -1)).errorCode, ErrorCode.NONE);
  assert.deepEqual(await coordinator.read(KEY, 0), { errorCode: ErrorCode.NONE, stateEpoch: 3, startOffset: -1, stateBatches: [] });
  assert.deepEqual(recordTypes(topic, coordinator.partitionFor(KEY)), ['0']);
  assert.equal(coordinator.storedState(KEY)?.state.snapshotEpoch, 0);
  // Initializing again starts afresh with the next snapshot epoch.
  await coordinator.initialize(KEY, 3, 100);
  assert.equal(coordinator.storedState(KEY)?.state.snapshotEpoch, 1);
  assert.equal((await coordinator.read(KEY, 0)).startOffset, 100);
});

test('writes merge: later ranges split earlier ones, -1 keeps the start offset, ranges below it go', async () => {
  const { coordinator } = setup();
  await coordinator.initialize(KEY, 1, 0);
  assert.equal((await coordinator.write(KEY, write({ startOffset: 0, stateBatches: [batch(0, 9, 0, 1)] }))).errorCode, ErrorCode.NONE);
  assert.equal((await coordinator.write(KEY, write({ stateBatches: [batch(5, 7, 2, 1)] }))).errorCode, ErrorCode.NONE);
  let read = await coordinator.read(KEY, 0);
  assert.equal(read.startOffset, 0);
  assert.deepEqual(read.stateBatches, [batch(0, 4, 0, 1), batch(5, 7, 2, 1), batch(8, 9, 0, 1)]);
  await coordinator.write(KEY, write({ startOffset: 6, deliveryCompleteCount: 2, stateBatches: [batch(8, 9, 0, 2)] }));
  read = await coordinator.read(KEY, 0);
  assert.equal(read.startOffset, 6);
  assert.deepEqual(read.stateBatches, [batch(6, 7, 2, 1), batch(8, 9, 0, 2)]);
  const summary = await coordinator.readSummary(KEY, 0);
  assert.deepEqual(summary, { errorCode: ErrorCode.NONE, stateEpoch: 1, leaderEpoch: 0, startOffset: 6, deliveryCompleteCount: 2 });
});

test('combineStateBatches: higher delivery count, then higher state, wins an overlap; equal neighbours join', () => {
  assert.deepEqual(combineStateBatches([batch(0, 9, 0, 1)], [batch(3, 4, 4, 1)], -1), [batch(0, 2, 0, 1), batch(3, 4, 4, 1), batch(5, 9, 0, 1)]);
  // A lower delivery count does not override (Kafka's precedence, not arrival order).
  assert.deepEqual(combineStateBatches([batch(0, 9, 0, 3)], [batch(3, 4, 2, 1)], -1), [batch(0, 9, 0, 3)]);
  assert.deepEqual(combineStateBatches([batch(0, 4, 2, 1)], [batch(5, 9, 2, 1)], -1), [batch(0, 9, 2, 1)]);
  assert.deepEqual(combineStateBatches([batch(0, 4, 2, 1), batch(10, 12, 0, 1)], [batch(3, 11, 0, 2)], 2), [batch(2, 2, 2, 1), batch(3, 11, 0, 2), batch(12, 12, 0, 1)]);
  assert.deepEqual(combineStateBatches([batch(0, 4, 2, 1)], [], 5), []);
  assert.deepEqual(combineStateBatches([batch(0, 4, 2, 1)], [], 3), [batch(3, 4, 2, 1)]);
});

test('fencing: an older state epoch (Initialize, Write) and an older leader epoch (Write, Read) are refused', async () => {
  const { coordinator } = setup();
  await coordinator.initialize(KEY, 2, 0);
  assert.equal((await coordinator.initialize(KEY, 1, 0)).errorCode, ErrorCode.FENCED_STATE_EPOCH);
  assert.equal((await coordinator.write(KEY, write({ stateEpoch: 1 }))).errorCode, ErrorCode.FENCED_STATE_EPOCH);
  assert.equal((await coordinator.write(KEY, write({ stateEpoch: -1 }))).errorCode, ErrorCode.NONE);
  // A Read with a newer leader epoch records it...
  assert.equal((await coordinator.read(KEY, 5)).errorCode, ErrorCode.NONE);
  assert.equal((await coordinator.readSummary(KEY, 0)).leaderEpoch, 5);
  // ...so the previous leader's writes and reads are fenced; -1 in a Write means "no epoch".
  assert.equal((await coordinator.write(KEY, write({ stateEpoch: 2, leaderEpoch: 4 }))).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal((await coordinator.write(KEY, write({ stateEpoch: 2, leaderEpoch: 5 }))).errorCode, ErrorCode.NONE);
  assert.equal((await coordinator.write(KEY, write({ stateEpoch: 2, leaderEpoch: -1 }))).errorCode, ErrorCode.NONE);
  assert.equal((await coordinator.read(KEY, 4)).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  // A Write does not raise the recorded leader epoch (only a Read does).
  await coordinator.write(KEY, write({ stateEpoch: 2, leaderEpoch: 9 }));
  assert.equal((await coordinator.read(KEY, 6)).errorCode, ErrorCode.NONE);
  // A newer state epoch may re-initialize; the leader epoch stays fenced.
  assert.equal((await coordinator.initialize(KEY, 3, 0)).errorCode, ErrorCode.NONE);
  assert.equal((await coordinator.write(KEY, write({ stateEpoch: 2 }))).errorCode, ErrorCode.FENCED_STATE_EPOCH);
  assert.equal((await coordinator.read(KEY, 5)).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
});

test('a never-initialized share-partition: Write and Read are INVALID_REQUEST, the summary says uninitialized', async () => {
  const { coordinator, topic } = setup();
  const written = await coordinator.write(KEY, write());
  assert.equal(written.errorCode, ErrorCode.INVALID_REQUEST);
  assert.match(written.errorMessage ?? '', /uninitialized/);
  assert.equal((await coordinator.read(KEY, 0)).errorCode, ErrorCode.INVALID_REQUEST);
  assert.deepEqual(await coordinator.readSummary(KEY, 0), { errorCode: ErrorCode.NONE, errorMessage: null, stateEpoch: 0, leaderEpoch: 0, startOffset: -1, deliveryCompleteCount: -1 });
  assert.equal(topic.appends, 0);
});

test('delete writes a tombstone; the state is gone (a Read is INVALID_REQUEST, as Kafka) and may be initialized again', async () => {
  const { coordinator, topic } = setup();
  await coordinator.initialize(KEY, 1, 0);
  await coordinator.write(KEY, write({ stateBatches: [batch(0, 1, 2, 1)] }));
  assert.equal((await coordinator.delete(KEY)).errorCode, ErrorCode.NONE);
  assert.deepEqual(recordTypes(topic, coordinator.partitionFor(KEY)), ['0', '1', 'x']);
  assert.equal((await coordinator.read(KEY, 0)).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal((await coordinator.readSummary(KEY, 0)).startOffset, -1);
  // Deleting what is not there succeeds without a record.
  assert.equal((await coordinator.delete(KEY)).errorCode, ErrorCode.NONE);
  assert.equal(topic.appends, 3);
  // The fencing epochs went with it: epoch 0 initializes afresh.
  assert.equal((await coordinator.initialize(KEY, 0, 5)).errorCode, ErrorCode.NONE);
  assert.equal(coordinator.storedState(KEY)?.state.snapshotEpoch, 0);
});

test('after snapshotUpdateRecordsPerSnapshot Updates, a Write writes a merged Snapshot with the next snapshot epoch', async () => {
  const { coordinator, topic } = setup({ snapshotUpdateRecordsPerSnapshot: 2 });
  await coordinator.initialize(KEY, 1, 0);
  for (let offset = 0; offset < 5; offset++) await coordinator.write(KEY, write({ stateBatches: [batch(offset, offset, 2, 1)] }));
  assert.deepEqual(recordTypes(topic, coordinator.partitionFor(KEY)), ['0', '1', '1', '0', '1', '1']);
  const stored = coordinator.storedState(KEY);
  assert.equal(stored?.state.snapshotEpoch, 1);
  assert.deepEqual(stored?.state.stateBatches, [batch(0, 4, 2, 1)]);
});

test('replay after unload restores the identical state (snapshots, updates, leader epoch, tombstones)', async () => {
  const { coordinator, topic, clock, image } = setup({ snapshotUpdateRecordsPerSnapshot: 2 });
  const other: ShareStateKey = { ...KEY, groupId: 'g2' };
  const gone: ShareStateKey = { ...KEY, groupId: 'g3' };
  await coordinator.initialize(KEY, 1, 0);
  await coordinator.initialize(other, 4, 10);
  await coordinator.initialize(gone, 1, 0);
  await coordinator.read(KEY, 3);
  for (let offset = 0; offset < 4; offset++) await coordinator.write(KEY, write({ startOffset: offset === 3 ? 1 : -1, deliveryCompleteCount: offset, stateBatches: [batch(offset, offset + 1, offset % 2 === 0 ? 2 : 0, 1)] }));
  await coordinator.write(other, write({ stateEpoch: 4, stateBatches: [batch(10, 20, 0, 1)] }));
  await coordinator.delete(gone);
  const before = [coordinator.storedState(KEY), coordinator.storedState(other)];
  assert.ok(before[0] !== undefined && before[1] !== undefined);
  // The same log, loaded by a fresh coordinator (as after a restart) and by this one after an unload.
  const fresh = new ShareStateCoordinator({ clock, logger: silentLogger, image, partitions: topic, config: { snapshotUpdateRecordsPerSnapshot: 2 } });
  for (const partition of new Set([coordinator.partitionFor(KEY), coordinator.partitionFor(other), coordinator.partitionFor(gone)])) coordinator.unload(partition);
  assert.equal(coordinator.storedState(KEY), undefined);
  for (const subject of [coordinator, fresh]) {
    assert.deepEqual((await subject.read(KEY, 3)).stateBatches, before[0]?.state.stateBatches);
    assert.equal((await subject.read(gone, 0)).errorCode, ErrorCode.INVALID_REQUEST);
    await subject.readSummary(other, 0);
    assert.deepEqual([subject.storedState(KEY), subject.storedState(other)], before);
    assert.equal((await subject.write(KEY, write({ leaderEpoch: 2 }))).errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  }
});

test('a request waits for its partition to load, then answers COORDINATOR_LOAD_IN_PROGRESS until it has', async () => {
  const topic = new MemoryShareStateTopic();
  const { coordinator, clock } = setup({ loadWaitMs: 100 }, topic);
  await coordinator.initialize(KEY, 1, 0);
  coordinator.unload(coordinator.partitionFor(KEY));
  let release = () => {};
  topic.loadGate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const waiting = coordinator.read(KEY, 0);
  await settle();
  await clock.advance(100);
  assert.equal((await waiting).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  release();
  topic.loadGate = undefined;
  await settle();
  assert.deepEqual(await coordinator.read(KEY, 0), { errorCode: ErrorCode.NONE, stateEpoch: 1, startOffset: 0, stateBatches: [] });
});

test('deleted topics: their share-partitions get tombstones, other topics keep their state', async () => {
  const { coordinator, topic, image } = setup();
  const otherTopic: ShareStateKey = { ...KEY, topicId: SHARE_STATE_TOPIC_ID };
  await coordinator.initialize(KEY, 1, 0);
  await coordinator.initialize({ ...KEY, partition: 1 }, 1, 0);
  await coordinator.initialize(otherTopic, 1, 0);
  const appends = topic.appends;
  const topicImage = image.topicsById.get(DATA_TOPIC_ID);
  assert.ok(topicImage !== undefined);
  image.topicsById.delete(DATA_TOPIC_ID);
  const deleted = await coordinator.onTopicsDeleted(new Set([DATA_TOPIC_ID]));
  assert.deepEqual(deleted.map((key) => key.partition).sort(), [0, 1]);
  assert.equal(topic.appends, appends + 2);
  assert.equal(coordinator.storedState(KEY), undefined);
  assert.equal(coordinator.storedState({ ...KEY, partition: 1 }), undefined);
  assert.equal(coordinator.storedState(otherTopic)?.state.stateEpoch, 1);
});

test('a key whose partition is not hosted here is NOT_COORDINATOR; a stopped coordinator is not available', async () => {
  const topic = new MemoryShareStateTopic();
  const { coordinator } = setup({}, topic);
  topic.notHosted.add(coordinator.partitionFor(KEY));
  assert.equal((await coordinator.initialize(KEY, 1, 0)).errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal((await coordinator.read(KEY, 0)).errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(topic.appends, 0);
  topic.notHosted.clear();
  coordinator.stop();
  assert.equal((await coordinator.readSummary(KEY, 0)).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
});

test('a failed append answers the coordinator error and leaves the state as it was', async () => {
  const topic = new MemoryShareStateTopic();
  const { coordinator } = setup({}, topic);
  await coordinator.initialize(KEY, 1, 0);
  topic.appendFailures.push(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'moved'), new Error('disk'));
  assert.equal((await coordinator.write(KEY, write({ stateBatches: [batch(0, 0, 2, 1)] }))).errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal((await coordinator.read(KEY, 7)).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.deepEqual(coordinator.storedState(KEY)?.state.stateBatches, []);
  assert.equal(coordinator.storedState(KEY)?.fenceLeaderEpoch, 0);
});

test('unknown topic or partition, empty group and negative partition are refused as Kafka does', async () => {
  const { coordinator } = setup();
  assert.equal((await coordinator.initialize({ ...KEY, topicId: 'AAAAAAAAAAAAAAAAAAAABQ' }, 1, 0)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal((await coordinator.initialize({ ...KEY, partition: 4 }, 1, 0)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal((await coordinator.initialize({ ...KEY, partition: -1 }, 1, 0)).errorCode, ErrorCode.INVALID_REQUEST);
  assert.equal((await coordinator.initialize({ ...KEY, groupId: '' }, 1, 0)).errorCode, ErrorCode.INVALID_REQUEST);
});

test('concurrent writes to one key apply in order, each seeing the last', async () => {
  const { coordinator } = setup();
  await coordinator.initialize(KEY, 1, 0);
  const results = await Promise.all([0, 1, 2].map((offset) => coordinator.write(KEY, write({ stateBatches: [batch(offset, offset, 2, 1)] }))));
  assert.deepEqual(results.map((result) => result.errorCode), [0, 0, 0]);
  assert.deepEqual((await coordinator.read(KEY, 0)).stateBatches, [batch(0, 2, 2, 1)]);
});

test('the RPC answers: one result per partition, and an empty group gets no results (Kafka)', async () => {
  const { coordinator } = setup();
  await coordinator.initialize(KEY, 1, 0);
  const response = await answerWriteShareGroupState(coordinator, {
    groupId: 'g1',
    topics: [{ topicId: DATA_TOPIC_ID, partitions: [
      { partition: 0, stateEpoch: 1, leaderEpoch: 0, startOffset: 0n, deliveryCompleteCount: 1, stateBatches: [{ firstOffset: 0n, lastOffset: 0n, deliveryState: 2, deliveryCount: 1 }] },
      { partition: 1, stateEpoch: 1, leaderEpoch: 0, startOffset: 0n, stateBatches: [] },
    ] }],
  });
  assert.deepEqual(response.results[0]?.partitions.map((entry) => entry.errorCode), [ErrorCode.NONE, ErrorCode.INVALID_REQUEST]);
  assert.deepEqual(await answerWriteShareGroupState(coordinator, { groupId: '', topics: [{ topicId: DATA_TOPIC_ID, partitions: [] }] }), { results: [] });
  const summary = await answerReadShareGroupStateSummary(coordinator, { groupId: 'g1', topics: [{ topicId: DATA_TOPIC_ID, partitions: [{ partition: 0, leaderEpoch: 0 }] }] });
  assert.deepEqual(summary.results[0]?.partitions[0], { partition: 0, errorCode: 0, errorMessage: null, stateEpoch: 1, leaderEpoch: 0, startOffset: 0n, deliveryCompleteCount: 1 });
});
