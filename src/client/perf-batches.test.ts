import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompressionType, hasValidCrc } from '../protocol/records/batch-header.js';
import { decodeRecordBatchSync } from '../protocol/records/record-batch.js';
import { BatchFactory, forEachBatch, makePayload, valueOffsets } from './perf-batches.js';

test('built batches decode, carry the payload and the timestamp, and pass the CRC', () => {
  const payload = makePayload(100);
  const factory = new BatchFactory(payload);
  const batch = factory.build(300, 1_700_000_000_000);
  assert.ok(hasValidCrc(batch));
  const decoded = decodeRecordBatchSync(batch);
  assert.equal(decoded.records.length, 300);
  assert.equal(decoded.maxTimestamp, 1_700_000_000_000);
  assert.deepEqual(decoded.records[299]!.value, payload);
  assert.equal(decoded.records[299]!.offset, 299);
});

test('send times land in each value and the value walker finds them', () => {
  const factory = new BatchFactory(makePayload(64));
  const sendTimes = Float64Array.from([1.5, 2.5, 3.5]);
  const batch = factory.build(3, 1000, sendTimes);
  assert.ok(hasValidCrc(batch));
  const offsets = valueOffsets(batch);
  assert.deepEqual(offsets.map((at) => batch.readDoubleLE(at)), [1.5, 2.5, 3.5]);
});

test('compressed templates decode and forEachBatch skips a partial trailing batch', () => {
  const factory = new BatchFactory(makePayload(200), CompressionType.lz4);
  const first = factory.build(50, 1);
  const second = factory.build(10, 2);
  assert.equal(decodeRecordBatchSync(first).records.length, 50);
  const records = Buffer.concat([first, second, second.subarray(0, 30)]);
  const sizes: number[] = [];
  forEachBatch(records, (_position, size) => sizes.push(size));
  assert.deepEqual(sizes, [first.length, second.length]);
  assert.ok(new BatchFactory(makePayload(1000)).recordsPerBatch(16_384) >= 15);
});

test('a released batch lends its memory to the next one, which is built whole', () => {
  const factory = new BatchFactory(makePayload(100));
  const first = factory.build(20, 1000, Float64Array.from({ length: 20 }, (_, index) => index));
  const second = factory.build(10, 2000);
  assert.notEqual(second.buffer, first.buffer, 'memory still in use is never handed out again');
  factory.release(first);
  const third = factory.build(15, 3000, Float64Array.from({ length: 15 }, (_, index) => 100 + index));
  assert.equal(third.buffer, first.buffer);
  assert.ok(hasValidCrc(third));
  const decoded = decodeRecordBatchSync(third);
  assert.equal(decoded.records.length, 15);
  assert.equal(decoded.maxTimestamp, 3000);
  assert.deepEqual(valueOffsets(third).map((at) => third.readDoubleLE(at)), Array.from({ length: 15 }, (_, index) => 100 + index));
});
