// ListOffsets over TCP: earliest (-2), latest (-1), max timestamp (-3) and the first offset at or
// after a timestamp, on empty and filled partitions, across the versions clients send.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { type TestBroker, createTopic, listOffset, metadata, produceOk, startTestBroker, uniqueTopic } from './helpers.js';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;

function batchWithTimestamps(timestamps: number[]): Buffer {
  return buildRecordBatchSync(timestamps.map((timestamp) => ({ value: Buffer.from(`at ${timestamp}`), timestamp })));
}

describe('ListOffsets', () => {
  let broker: TestBroker;
  const empty = uniqueTopic('empty');
  const filled = uniqueTopic('filled');
  before(async () => {
    broker = await startTestBroker();
    await createTopic(broker.client, empty);
    await createTopic(broker.client, filled);
    await produceOk(broker.client, filled, 0, batchWithTimestamps([1000, 1001, 1002])); // offsets 0-2
    await produceOk(broker.client, filled, 0, batchWithTimestamps([5000])); // offset 3
    await produceOk(broker.client, filled, 0, batchWithTimestamps([3000, 3001])); // offsets 4-5
  });
  after(async () => {
    await broker.close();
  });

  for (const version of [1, 2, 5, 7, 9]) {
    it(`v${version}: earliest and latest of an empty and a filled partition`, async () => {
      const emptyEarliest = await listOffset(broker.client, empty, 0, EARLIEST, version);
      const emptyLatest = await listOffset(broker.client, empty, 0, LATEST, version);
      assert.deepEqual([emptyEarliest.errorCode, emptyEarliest.offset, emptyLatest.offset], [ErrorCode.NONE, 0n, 0n]);
      const earliest = await listOffset(broker.client, filled, 0, EARLIEST, version);
      const latest = await listOffset(broker.client, filled, 0, LATEST, version);
      assert.deepEqual([earliest.errorCode, earliest.offset, latest.errorCode, latest.offset], [ErrorCode.NONE, 0n, ErrorCode.NONE, 6n]);
      assert.equal(latest.timestamp, -1n);
    });

    it(`v${version}: the first batch at or after a timestamp`, async () => {
      const cases: [number, bigint][] = [
        [0, 0n],
        [1003, 3n],
        [3001, 3n],
        [5000, 3n],
        [5001, -1n],
      ];
      for (const [timestamp, offset] of cases) {
        const result = await listOffset(broker.client, filled, 0, timestamp, version);
        assert.equal(result.errorCode, ErrorCode.NONE);
        assert.equal(result.offset, offset, `timestamp ${timestamp}`);
      }
      const none = await listOffset(broker.client, empty, 0, 1000, version);
      assert.deepEqual([none.errorCode, none.offset], [ErrorCode.NONE, -1n]);
    });
  }

  // Kafka (LogSegment.findOffsetByTimestamp) returns the first *record* whose timestamp is at or
  // after the target, with that record's timestamp; not the batch's base offset and max timestamp.
  it('the first record at or after a timestamp, with its own timestamp (v1, v9)', async () => {
    const cases: [number, bigint, bigint][] = [
      [0, 0n, 1000n],
      [1000, 0n, 1000n],
      [1001, 1n, 1001n],
      [1002, 2n, 1002n],
      [1003, 3n, 5000n],
    ];
    for (const version of [1, 9]) {
      for (const [timestamp, offset, found] of cases) {
        const result = await listOffset(broker.client, filled, 0, timestamp, version);
        assert.deepEqual([result.offset, result.timestamp], [offset, found], `v${version} timestamp ${timestamp}`);
      }
    }
  });

  for (const version of [7, 9]) {
    it(`v${version}: max timestamp (-3) finds the record with the largest timestamp`, async () => {
      const result = await listOffset(broker.client, filled, 0, MAX_TIMESTAMP, version);
      assert.deepEqual([result.errorCode, result.offset, result.timestamp], [ErrorCode.NONE, 3n, 5000n]);
      const none = await listOffset(broker.client, empty, 0, MAX_TIMESTAMP, version);
      assert.equal(none.errorCode, ErrorCode.NONE);
      assert.equal(none.offset, -1n);
    });
  }

  // Kafka 3.8+ (UnifiedLog.fetchOffsetByTimestamp) finds the exact record holding the largest
  // timestamp, even inside a multi-record batch.
  it('max timestamp (-3) names the record, not the batch, when the maximum is inside a batch', async () => {
    const topic = uniqueTopic('max-inside');
    await createTopic(broker.client, topic);
    await produceOk(broker.client, topic, 0, batchWithTimestamps([2000, 9000, 100]));
    const result = await listOffset(broker.client, topic, 0, MAX_TIMESTAMP, 9);
    assert.deepEqual([result.errorCode, result.offset, result.timestamp], [ErrorCode.NONE, 1n, 9000n]);
  });

  it('returns the leader epoch (v4+) and UNKNOWN_TOPIC_OR_PARTITION for unknown partitions', async () => {
    const epoch = (await metadata(broker.client, [filled])).topics[0]?.partitions[0]?.leaderEpoch;
    const latest = await listOffset(broker.client, filled, 0, LATEST, 7);
    assert.equal(latest.leaderEpoch, epoch);
    const unknownPartition = await listOffset(broker.client, filled, 4, LATEST, 7);
    assert.equal(unknownPartition.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const unknownTopic = await listOffset(broker.client, uniqueTopic('nope'), 0, EARLIEST, 1);
    assert.equal(unknownTopic.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('latest follows new appends', async () => {
    const topic = uniqueTopic('moving');
    await createTopic(broker.client, topic);
    for (let round = 1; round <= 3; round++) {
      await produceOk(broker.client, topic, 0, batchWithTimestamps([Date.now(), Date.now()]));
      assert.equal((await listOffset(broker.client, topic, 0, LATEST)).offset, BigInt(round * 2));
    }
  });
});
