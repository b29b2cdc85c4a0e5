import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  BatchField,
  CompressionType,
  batchSize,
  hasValidCrc,
  isControlBatch,
  isTransactionalBatch,
  readBaseOffset,
  readCompression,
  readLastOffset,
  readRecordsCount,
} from './batch-header.js';
import { CompressionError } from './compression-error.js';
import { RecordDecodeError, type RecordInput } from './record.js';
import {
  type DecodedBatch,
  TimestampType,
  buildRecordBatch,
  buildRecordBatchSync,
  decodeRecordBatch,
  decodeRecordBatchSync,
  decodeRecordBatches,
  decodeRecordBatchesSync,
  readRecordBatchHeader,
  recordBatchSpans,
} from './record-batch.js';

const CODECS = [CompressionType.none, CompressionType.gzip, CompressionType.snappy, CompressionType.lz4, CompressionType.zstd];
const T0 = 1_700_000_000_000;

const sampleRecords: RecordInput[] = [
  { timestamp: T0, key: Buffer.from('key-0'), value: Buffer.from('value-0'), headers: [] },
  { timestamp: T0 + 5, key: null, value: Buffer.from('no key'), headers: [{ key: 'trace', value: Buffer.from('abc') }] },
  { timestamp: T0 - 3, key: Buffer.from('tombstone'), value: null, headers: [{ key: 'null-header', value: null }] },
  { timestamp: T0 + 1, key: Buffer.alloc(0), value: Buffer.alloc(0), headers: [{ key: 'ключ-🚀', value: Buffer.alloc(0) }, { key: '', value: Buffer.from([0]) }] },
];

function assertRecordsMatch(decoded: DecodedBatch, inputs: readonly RecordInput[], baseOffset: number): void {
  assert.equal(decoded.records.length, inputs.length);
  decoded.records.forEach((record, index) => {
    const input = inputs[index]!;
    assert.equal(record.offset, input.offset ?? baseOffset + index);
    if (input.timestamp !== undefined && decoded.timestampType === TimestampType.createTime) assert.equal(record.timestamp, input.timestamp);
    assert.deepEqual(record.key, input.key ?? null);
    assert.deepEqual(record.value, input.value ?? null);
    assert.deepEqual(record.headers, input.headers ?? []);
  });
}

describe('buildRecordBatch / decodeRecordBatch round trips', () => {
  for (const compression of CODECS) {
    it(`codec ${compression}: records, nulls and headers survive`, async () => {
      const batch = await buildRecordBatch(sampleRecords, { compression });
      assert.ok(hasValidCrc(batch));
      assert.equal(batchSize(batch), batch.length);
      assert.equal(readCompression(batch), compression);
      const decoded = await decodeRecordBatch(batch);
      assert.equal(decoded.recordsCount, 4);
      assert.equal(decoded.lastOffsetDelta, 3);
      assert.equal(decoded.baseTimestamp, T0);
      assert.equal(decoded.maxTimestamp, T0 + 5);
      assert.equal(decoded.compression, compression);
      assertRecordsMatch(decoded, sampleRecords, 0);
      assert.deepEqual(decodeRecordBatchSync(buildRecordBatchSync(sampleRecords, { compression })).records, decoded.records);
    });

    it(`codec ${compression}: a large batch of 20,000 records`, async () => {
      const records = Array.from({ length: 20_000 }, (_, index) => ({
        timestamp: T0 + index,
        key: Buffer.from(`key-${index % 97}`),
        value: index % 10 === 0 ? randomBytes(200) : Buffer.from(`value ${index} `.repeat(5)),
        headers: index % 3 === 0 ? [{ key: 'i', value: Buffer.from(String(index)) }] : [],
      }));
      const batch = await buildRecordBatch(records, { compression, baseOffset: 1_000_000 });
      const decoded = await decodeRecordBatch(batch, 0, { maxDecompressedBytes: 64 * 1024 * 1024 });
      assertRecordsMatch(decoded, records, 1_000_000);
      assert.equal(readLastOffset(batch), 1_019_999);
    });
  }

  it('carries every header option', async () => {
    const options = {
      baseOffset: 2 ** 40 + 17,
      producerId: 2 ** 33 + 5,
      producerEpoch: 7,
      baseSequence: 1234,
      transactional: true,
      partitionLeaderEpoch: 42,
      compression: CompressionType.lz4,
    };
    const batch = await buildRecordBatch(sampleRecords, options);
    const header = readRecordBatchHeader(batch);
    assert.equal(header.baseOffset, options.baseOffset);
    assert.equal(header.producerId, options.producerId);
    assert.equal(header.producerEpoch, 7);
    assert.equal(header.baseSequence, 1234);
    assert.equal(header.transactional, true);
    assert.equal(header.control, false);
    assert.equal(header.partitionLeaderEpoch, 42);
    assert.equal(header.magic, 2);
    assert.equal(header.sizeInBytes, batch.length);
    assert.ok(isTransactionalBatch(batch));
    assert.equal(readBaseOffset(batch), options.baseOffset);
    const decoded = await decodeRecordBatch(batch);
    assertRecordsMatch(decoded, sampleRecords, options.baseOffset);
  });

  it('uses Kafka defaults: no producer, no sequence, no leader epoch, CreateTime', async () => {
    const header = readRecordBatchHeader(await buildRecordBatch([{ timestamp: T0, value: Buffer.from('v') }]));
    assert.deepEqual(
      [header.producerId, header.producerEpoch, header.baseSequence, header.partitionLeaderEpoch, header.timestampType, header.attributes],
      [-1, -1, -1, -1, TimestampType.createTime, 0],
    );
  });

  it('LogAppendTime batches report the max timestamp for every record', async () => {
    const batch = await buildRecordBatch(sampleRecords, { timestampType: TimestampType.logAppendTime, maxTimestamp: T0 + 999 });
    const decoded = await decodeRecordBatch(batch);
    assert.equal(decoded.attributes & 0x08, 0x08);
    assert.ok(decoded.records.every((record) => record.timestamp === T0 + 999));
  });

  it('keeps explicit offsets with gaps and an explicit lastOffsetDelta (compaction output)', async () => {
    const records = [
      { offset: 100, timestamp: T0, value: Buffer.from('a') },
      { offset: 103, timestamp: T0, value: Buffer.from('b') },
      { offset: 110, timestamp: T0, value: Buffer.from('c') },
    ];
    const batch = await buildRecordBatch(records, { baseOffset: 100, lastOffsetDelta: 12 });
    const decoded = await decodeRecordBatch(batch);
    assert.deepEqual(decoded.records.map((record) => record.offset), [100, 103, 110]);
    assert.equal(decoded.lastOffsetDelta, 12);
  });

  it('encodes timestamp deltas beyond 32 bits and negative deltas as varlongs', async () => {
    const records = [
      { timestamp: T0, value: Buffer.from('a') },
      { timestamp: T0 + 2 ** 40, value: Buffer.from('b') },
      { timestamp: 0, value: Buffer.from('c') },
    ];
    const decoded = await decodeRecordBatch(await buildRecordBatch(records));
    assert.deepEqual(decoded.records.map((record) => record.timestamp), [T0, T0 + 2 ** 40, 0]);
    assert.equal(decoded.maxTimestamp, T0 + 2 ** 40);
  });

  it('builds empty batches (what compaction can leave)', async () => {
    const batch = await buildRecordBatch([], { baseOffset: 50, lastOffsetDelta: 4 });
    assert.equal(readRecordsCount(batch), 0);
    const decoded = await decodeRecordBatch(batch);
    assert.equal(decoded.records.length, 0);
    assert.equal(decoded.baseTimestamp, -1);
  });

  it('control batches set the control attribute', async () => {
    const batch = await buildRecordBatch([{ timestamp: T0, key: Buffer.alloc(4), value: Buffer.alloc(6) }], { control: true, transactional: true });
    assert.ok(isControlBatch(batch));
    assert.equal((await decodeRecordBatch(batch)).control, true);
  });
});

describe('decodeRecordBatch rejects corrupt batches', () => {
  it('CRC mismatch (unless verifyCrc is off)', async () => {
    const batch = await buildRecordBatch(sampleRecords);
    batch[batch.length - 1]! ^= 0x01;
    await assert.rejects(decodeRecordBatch(batch), RecordDecodeError);
    await decodeRecordBatch(batch, 0, { verifyCrc: false }).catch((error: unknown) => assert.ok(error instanceof RecordDecodeError));
  });

  it('truncation, short length, wrong magic', async () => {
    const batch = await buildRecordBatch(sampleRecords);
    await assert.rejects(decodeRecordBatch(batch.subarray(0, batch.length - 1)), RecordDecodeError);
    await assert.rejects(decodeRecordBatch(batch.subarray(0, 30)), RecordDecodeError);
    const short = Buffer.from(batch);
    short.writeInt32BE(20, BatchField.length);
    await assert.rejects(decodeRecordBatch(short), RecordDecodeError);
    const legacy = Buffer.from(batch);
    legacy[BatchField.magic] = 1;
    await assert.rejects(decodeRecordBatch(legacy), RecordDecodeError);
  });

  it('record count disagreeing with the records', async () => {
    const batch = await buildRecordBatch(sampleRecords);
    for (const count of [3, 5, -1, 1_000_000]) {
      const altered = Buffer.from(batch);
      altered.writeInt32BE(count, BatchField.recordsCount);
      assert.throws(() => decodeRecordBatchSync(altered, 0, { verifyCrc: false }), RecordDecodeError);
    }
  });

  it('compressed records beyond maxDecompressedBytes', async () => {
    const batch = await buildRecordBatch([{ timestamp: T0, value: Buffer.alloc(2_000_000) }], { compression: CompressionType.zstd });
    await assert.rejects(decodeRecordBatch(batch, 0, { maxDecompressedBytes: 1_000_000 }), CompressionError);
  });
});

describe('concatenated batches', () => {
  it('decodes every complete batch and stops at a truncated tail', async () => {
    const first = await buildRecordBatch(sampleRecords, { baseOffset: 0, compression: CompressionType.gzip });
    const second = await buildRecordBatch(sampleRecords.slice(0, 2), { baseOffset: 4 });
    const third = await buildRecordBatch(sampleRecords.slice(0, 1), { baseOffset: 6, compression: CompressionType.snappy });
    const all = Buffer.concat([first, second, third]);
    const spans = [...recordBatchSpans(all)];
    assert.deepEqual(spans, [
      { position: 0, sizeInBytes: first.length },
      { position: first.length, sizeInBytes: second.length },
      { position: first.length + second.length, sizeInBytes: third.length },
    ]);
    for (const cut of [all.length - 1, all.length - third.length + 11, all.length - third.length + 5]) {
      const truncated = all.subarray(0, cut);
      const decoded: DecodedBatch[] = [];
      for await (const batch of decodeRecordBatches(truncated)) decoded.push(batch);
      assert.deepEqual(decoded.map((batch) => batch.baseOffset), [0, 4]);
      assert.deepEqual([...decodeRecordBatchesSync(truncated)].map((batch) => batch.records.length), [4, 2]);
    }
    const offsets: number[] = [];
    for await (const batch of decodeRecordBatches(all)) offsets.push(...batch.records.map((record) => record.offset));
    assert.deepEqual(offsets, [0, 1, 2, 3, 4, 5, 6]);
  });
});
