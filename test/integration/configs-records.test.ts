// Record-level admin APIs and the produce-side topic configs over TCP: DeleteRecords (log start
// moves, OFFSET_OUT_OF_RANGE above the high watermark, -1 = high watermark), DescribeLogDirs,
// OffsetForLeaderEpoch from the leader epoch cache, message.timestamp.before/after.max.ms
// (INVALID_TIMESTAMP with record errors) and compression.type (the broker recompresses).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { DeleteRecordsApi, DescribeLogDirsApi, OffsetForLeaderEpochApi } from '../../src/protocol/messages/index.js';
import { CompressionType } from '../../src/protocol/records/batch-header.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import type { RawClient } from '../support/raw-client.js';
import {
  type TestBroker,
  batchOf,
  createTopic,
  decodeBatches,
  fetchPartition,
  listOffset,
  produce,
  produceOk,
  readAll,
  startTestBroker,
  uniqueTopic,
  valuesOf,
} from './helpers.js';

async function deleteRecords(client: RawClient, topic: string, partition: number, offset: number, version = 2) {
  const response = await client.request(DeleteRecordsApi, version, { topics: [{ name: topic, partitions: [{ partitionIndex: partition, offset: BigInt(offset) }] }], timeoutMs: 5000 });
  return response.topics[0]!.partitions[0]!;
}

describe('DeleteRecords, DescribeLogDirs, OffsetForLeaderEpoch', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(() => broker.close());

  it('DeleteRecords moves the log start offset; fetch below it is out of range', async () => {
    const topic = uniqueTopic('delete-records');
    await createTopic(broker.client, topic);
    await produceOk(broker.client, topic, 0, batchOf(['a', 'b', 'c', 'd', 'e']));
    await produceOk(broker.client, topic, 0, batchOf(['f', 'g', 'h', 'i', 'j']));
    for (const version of [0, 1, 2]) {
      const result = await deleteRecords(broker.client, topic, 0, 3 + version, version);
      assert.equal(result.errorCode, ErrorCode.NONE);
      assert.equal(result.lowWatermark, BigInt(3 + version));
    }
    assert.equal(Number((await listOffset(broker.client, topic, 0, -2)).offset), 5);
    assert.equal((await fetchPartition(broker.client, topic, 0, 2)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.deepEqual(valuesOf(await readAll(broker.client, topic, 0, 5)).slice(0, 5), ['f', 'g', 'h', 'i', 'j']);
    assert.equal((await deleteRecords(broker.client, topic, 0, 1)).lowWatermark, 5n, 'never moves back');
    assert.equal((await deleteRecords(broker.client, topic, 0, 11)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    const toEnd = await deleteRecords(broker.client, topic, 0, -1);
    assert.equal(toEnd.lowWatermark, 10n);
    assert.equal((await deleteRecords(broker.client, uniqueTopic('missing'), 0, 1)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('DescribeLogDirs lists the log directory with the requested partitions', async () => {
    const topic = uniqueTopic('log-dirs');
    await createTopic(broker.client, topic, 3);
    for (const version of [0, 1, 2, 3, 4]) {
      const all = await broker.client.request(DescribeLogDirsApi, version, { topics: null });
      assert.equal(all.results.length, 1);
      assert.equal(all.results[0]!.errorCode, ErrorCode.NONE);
      assert.equal(all.results[0]!.topics.find((entry) => entry.name === topic)?.partitions.length, 3, `v${version}`);
      const some = await broker.client.request(DescribeLogDirsApi, version, { topics: [{ topic, partitions: [1] }] });
      assert.deepEqual(some.results[0]!.topics.map((entry) => [entry.name, entry.partitions.map((partition) => partition.partitionIndex)]), [[topic, [1]]]);
    }
    const sizeOf = async (version: number) => {
      const response = await broker.client.request(DescribeLogDirsApi, version, { topics: [{ topic, partitions: [1] }] });
      return response.results[0]!.topics[0]!.partitions[0]!.partitionSize;
    };
    assert.equal(await sizeOf(4), 0n, 'an empty partition');
    await produceOk(broker.client, topic, 1, batchOf(['a', 'b', 'c']));
    const afterOne = await sizeOf(4);
    assert.ok(afterOne > 0n, `size ${afterOne} after producing`);
    await produceOk(broker.client, topic, 1, batchOf(['d'.repeat(500), 'e'.repeat(500)]));
    const afterTwo = await sizeOf(0);
    assert.ok(afterTwo >= afterOne + 1000n, `size ${afterTwo} grows with the data (was ${afterOne})`);
  });

  it('OffsetForLeaderEpoch answers from the leader epoch cache', async () => {
    const topic = uniqueTopic('epochs');
    await createTopic(broker.client, topic);
    await produceOk(broker.client, topic, 0, batchOf(['a', 'b', 'c']));
    for (const version of [0, 1, 2, 3, 4]) {
      const response = await broker.client.request(OffsetForLeaderEpochApi, version, {
        replicaId: -1,
        topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }, { partition: 7, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
      });
      const [known, unknown] = response.topics[0]!.partitions;
      assert.equal(known!.errorCode, ErrorCode.NONE);
      assert.equal(known!.endOffset, 3n, `v${version}`);
      if (version >= 1) assert.equal(known!.leaderEpoch, 0);
      assert.equal(unknown!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    }
    const fenced = await broker.client.request(OffsetForLeaderEpochApi, 4, {
      replicaId: -1,
      topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: 3, leaderEpoch: 0 }] }],
    });
    assert.equal(fenced.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
  });
});

describe('Produce with topic timestamp limits and compression.type', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(() => broker.close());

  it('refuses batches with a record outside message.timestamp.before/after.max.ms, naming the records', async () => {
    const topic = uniqueTopic('timestamps');
    await createTopic(broker.client, topic, 1, { 'message.timestamp.before.max.ms': '3600000', 'message.timestamp.after.max.ms': '60000' });
    const now = Date.now();
    const tooOld = await produce(broker.client, topic, 0, batchOfTimestamps([now, now - 2 * 3_600_000]));
    assert.equal(tooOld.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.deepEqual(tooOld.recordErrors?.map((error) => error.batchIndex), [1]);
    assert.match(tooOld.errorMessage ?? '', /message\.timestamp\.before\.max\.ms/);
    const future = await produce(broker.client, topic, 0, batchOfTimestamps([now + 10 * 60_000]));
    assert.equal(future.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.equal((await produce(broker.client, topic, 0, batchOf(['fresh', 'recent'], { baseTimestamp: now - 60_000 }))).errorCode, ErrorCode.NONE);
    assert.deepEqual(valuesOf(await readAll(broker.client, topic, 0)), ['fresh', 'recent']);
  });

  it('recompresses batches to the topic codec and leaves producer-codec topics byte-identical', async () => {
    const gzipTopic = uniqueTopic('gzip');
    await createTopic(broker.client, gzipTopic, 1, { 'compression.type': 'gzip' });
    await produceOk(broker.client, gzipTopic, 0, batchOf(['one', 'two', 'three']));
    await produceOk(broker.client, gzipTopic, 0, batchOf(['four'], { compression: CompressionType.snappy }));
    const stored = decodeBatches((await fetchPartition(broker.client, gzipTopic, 0, 0)).records);
    assert.deepEqual(stored.map((batch) => batch.compression), [CompressionType.gzip, CompressionType.gzip]);
    assert.deepEqual(stored.flatMap((batch) => batch.records.map((record) => [record.offset, record.key?.toString(), record.value?.toString()])), [
      [0, 'k0', 'one'],
      [1, 'k1', 'two'],
      [2, 'k2', 'three'],
      [3, 'k0', 'four'],
    ]);
    const plainTopic = uniqueTopic('uncompressed');
    await createTopic(broker.client, plainTopic, 1, { 'compression.type': 'uncompressed' });
    await produceOk(broker.client, plainTopic, 0, batchOf(['x'], { compression: CompressionType.gzip }));
    assert.equal(decodeBatches((await fetchPartition(broker.client, plainTopic, 0, 0)).records)[0]!.compression, CompressionType.none);
    const asProduced = uniqueTopic('producer');
    await createTopic(broker.client, asProduced);
    await produceOk(broker.client, asProduced, 0, batchOf(['y'], { compression: CompressionType.lz4 }));
    assert.equal(decodeBatches((await fetchPartition(broker.client, asProduced, 0, 0)).records)[0]!.compression, CompressionType.lz4);
  });
});

/** One batch whose records carry the given timestamps (the first is the batch's base). */
function batchOfTimestamps(timestamps: number[]): Buffer {
  return buildRecordBatchSync(timestamps.map((timestamp, index) => ({ value: Buffer.from(`v${index}`), timestamp })));
}
