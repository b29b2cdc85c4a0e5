// Builds small, valid, uncompressed record batches v2 (CRC32C included) for log tests.
// Imported by tests only.
import { BATCH_HEADER_BYTES, BatchField, rewriteCrc } from '../protocol/records/batch-header.js';
import { varIntSize, writeVarInt } from '../protocol/primitives/varint.js';

export interface TestBatchOptions {
  /** Record values; each record gets timestamp `timestampMs + index`. */
  values?: readonly (string | Buffer)[];
  /** Shortcut for `count` records with values 'v0', 'v1', ... */
  count?: number;
  timestampMs?: number;
  /** Pads each value to at least this many bytes (to make batches of a known size). */
  valueBytes?: number;
  baseOffset?: number;
}

function encodeRecord(offsetDelta: number, timestampDelta: number, value: Buffer): Buffer {
  const bodyBytes = 1 + varIntSize(timestampDelta) + varIntSize(offsetDelta) + varIntSize(-1) + varIntSize(value.length) + value.length + varIntSize(0);
  const record = Buffer.alloc(varIntSize(bodyBytes) + bodyBytes);
  let position = writeVarInt(record, 0, bodyBytes);
  record.writeInt8(0, position);
  position += 1;
  position = writeVarInt(record, position, timestampDelta);
  position = writeVarInt(record, position, offsetDelta);
  position = writeVarInt(record, position, -1);
  position = writeVarInt(record, position, value.length);
  position += value.copy(record, position);
  writeVarInt(record, position, 0);
  return record;
}

export function buildBatch(options: TestBatchOptions = {}): Buffer {
  const rawValues = options.values ?? Array.from({ length: options.count ?? 1 }, (_, index) => `v${index}`);
  const values = rawValues.map((value) => {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    const padTo = options.valueBytes ?? 0;
    return bytes.length >= padTo ? bytes : Buffer.concat([bytes, Buffer.alloc(padTo - bytes.length, 0x61)]);
  });
  const timestampMs = options.timestampMs ?? 1_700_000_000_000;
  const records = values.map((value, index) => encodeRecord(index, index, value));
  const batch = Buffer.alloc(BATCH_HEADER_BYTES + records.reduce((sum, record) => sum + record.length, 0));
  batch.writeBigInt64BE(BigInt(options.baseOffset ?? 0), BatchField.baseOffset);
  batch.writeInt32BE(batch.length - 12, BatchField.length);
  batch.writeInt32BE(-1, BatchField.partitionLeaderEpoch);
  batch.writeInt8(2, BatchField.magic);
  batch.writeInt16BE(0, BatchField.attributes);
  batch.writeInt32BE(values.length - 1, BatchField.lastOffsetDelta);
  batch.writeBigInt64BE(BigInt(timestampMs), BatchField.baseTimestamp);
  batch.writeBigInt64BE(BigInt(timestampMs + values.length - 1), BatchField.maxTimestamp);
  batch.writeBigInt64BE(-1n, BatchField.producerId);
  batch.writeInt16BE(-1, BatchField.producerEpoch);
  batch.writeInt32BE(-1, BatchField.baseSequence);
  batch.writeInt32BE(values.length, BatchField.recordsCount);
  let position = BATCH_HEADER_BYTES;
  for (const record of records) position += record.copy(batch, position);
  rewriteCrc(batch);
  return batch;
}
