// Record batches for load tools. Every record of a run carries the same payload, so a batch of
// `count` records is built once and reused: sending one costs a copy, a timestamp patch and a
// native CRC32C, not per-record encoding. End-to-end runs also stamp each record's send time into
// the first 8 bytes of its value. A batch's memory is reused once its request has been written.
import {
  BatchField,
  CompressionType,
  readCompression,
  readRecordsCount,
  rewriteCrc,
  BATCH_HEADER_BYTES,
  batchSize,
} from '../protocol/records/batch-header.js';
import { buildRecordBatchSync } from '../protocol/records/record-batch.js';

/** Bytes of the send time stamped into values in end-to-end runs (a float64 of milliseconds). */
export const SEND_TIME_BYTES = 8;
/** Distinct batch sizes kept as templates; a rate-limited run produces many small batch sizes. */
const TEMPLATE_CACHE_MAX = 4096;
/** Sent batches' memory kept for reuse: about one per request in flight. */
const FREE_BATCHES_MAX = 16;

/** `sizeBytes` random capital letters: printable (kcat reads them as lines) and as Kafka's perf tool makes them. */
export function makePayload(sizeBytes: number, seed = 1): Buffer {
  const payload = Buffer.allocUnsafe(sizeBytes);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < sizeBytes; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    payload[index] = 65 + ((state >>> 0) % 26);
  }
  return payload;
}

interface Template {
  batch: Buffer;
  /** Where each record's value starts (uncompressed batches only). */
  valueOffsets: number[];
}

export class BatchFactory {
  private readonly templates = new Map<number, Template>();
  /** Memory of sent batches given back by release(), reused by build(). */
  private readonly free: ArrayBuffer[] = [];

  constructor(
    private readonly payload: Buffer,
    private readonly compression: number = CompressionType.none,
  ) {}

  /** How many records of this payload fit in `batchSizeBytes` (at least one). */
  recordsPerBatch(batchSizeBytes: number): number {
    const perRecord = this.payload.length + 8;
    return Math.max(1, Math.floor((batchSizeBytes - BATCH_HEADER_BYTES) / perRecord));
  }

  /**
   * A fresh batch of `count` records stamped with `timestampMs`; with `sendTimes`, record i's value
   * starts with sendTimes[i] (uncompressed only: a compressed batch would need recompressing).
   */
  build(count: number, timestampMs: number, sendTimes?: Float64Array): Buffer {
    const template = this.template(count);
    const batch = this.memoryFor(template.batch.length);
    template.batch.copy(batch);
    batch.writeBigInt64BE(BigInt(timestampMs), BatchField.baseTimestamp);
    batch.writeBigInt64BE(BigInt(timestampMs), BatchField.maxTimestamp);
    if (sendTimes !== undefined && this.compression === CompressionType.none) {
      for (let index = 0; index < count; index++) batch.writeDoubleLE(sendTimes[index]!, template.valueOffsets[index]!);
    }
    rewriteCrc(batch);
    return batch;
  }

  /**
   * Takes back a batch from build() once nothing reads it any more (its request was written), so
   * a run at a steady rate allocates no new batch memory: a new buffer per request is external
   * memory V8 only counts down when it collects, and at tens of MB/s that makes it collect often.
   */
  release(batch: Buffer): void {
    if (this.free.length < FREE_BATCHES_MAX && batch.buffer instanceof ArrayBuffer) this.free.push(batch.buffer);
  }

  private memoryFor(length: number): Buffer {
    const index = this.free.findIndex((memory) => memory.byteLength >= length);
    const memory = index >= 0 ? this.free.splice(index, 1)[0]! : new ArrayBuffer(2 ** Math.ceil(Math.log2(Math.max(length, 1024))));
    return Buffer.from(memory, 0, length);
  }

  private template(count: number): Template {
    const cached = this.templates.get(count);
    if (cached !== undefined) return cached;
    const records = Array.from({ length: count }, () => ({ key: null, value: this.payload, timestamp: 0 }));
    const batch = buildRecordBatchSync(records, { compression: this.compression, baseTimestamp: 0 });
    const template = { batch, valueOffsets: this.compression === CompressionType.none ? valueOffsets(batch) : [] };
    if (this.templates.size >= TEMPLATE_CACHE_MAX) this.templates.clear();
    this.templates.set(count, template);
    return template;
  }
}

/** Where each record's value starts in an uncompressed batch at `position`; -1 for null values. */
export function valueOffsets(buffer: Buffer, position = 0): number[] {
  const offsets: number[] = [];
  if (readCompression(buffer, position) !== CompressionType.none) return offsets;
  const count = readRecordsCount(buffer, position);
  const cursor = { at: position + BATCH_HEADER_BYTES };
  for (let index = 0; index < count; index++) {
    const length = readVarInt(buffer, cursor);
    const end = cursor.at + length;
    cursor.at += 1;
    skipVarInt(buffer, cursor);
    skipVarInt(buffer, cursor);
    const keyLength = readVarInt(buffer, cursor);
    if (keyLength > 0) cursor.at += keyLength;
    const valueLength = readVarInt(buffer, cursor);
    offsets.push(valueLength >= 0 ? cursor.at : -1);
    cursor.at = end;
  }
  return offsets;
}

/** Batches in a fetched records buffer: calls `visit` per whole batch; a partial trailing batch is ignored. */
export function forEachBatch(records: Buffer, visit: (position: number, size: number) => void): void {
  let position = 0;
  while (position + BATCH_HEADER_BYTES <= records.length) {
    const size = batchSize(records, position);
    if (size < BATCH_HEADER_BYTES || position + size > records.length) return;
    visit(position, size);
    position += size;
  }
}

function readVarInt(buffer: Buffer, cursor: { at: number }): number {
  let raw = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    const byte = buffer[cursor.at++]!;
    raw |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
  }
  return (raw >>> 1) ^ -(raw & 1);
}

function skipVarInt(buffer: Buffer, cursor: { at: number }): void {
  while ((buffer[cursor.at++]! & 0x80) !== 0);
}
