// Helpers for cleaner tests: keyed record batches, a compacted log on a memory file system, and a
// full read of a log's records. Imported by tests only.
import assert from 'node:assert/strict';
import type { MemoryFileSystem } from '../base/memory-file-system.js';
import { hasValidCrc, readBaseOffset, readLastOffset } from '../protocol/records/batch-header.js';
import type { KafkaRecord } from '../protocol/records/record.js';
import { type DecodedBatch, type RecordBatchOptions, buildRecordBatchSync, decodeRecordBatchSync } from '../protocol/records/record-batch.js';
import type { LogConfig } from '../log/log-config.js';
import type { LogManager } from '../log/log-manager.js';
import type { PartitionLog } from '../log/partition-log.js';
import { ManualClock, openTestLogManager } from './log-support.js';

export const START_MS = 1_700_000_000_000;

export const compactedConfig: Partial<LogConfig> = {
  segmentBytes: 2048,
  cleanupPolicy: ['compact'],
  minCleanableDirtyRatio: 0.01,
  deleteRetentionMs: 10_000,
  fileDeleteDelayMs: 0,
};

/** One record: key `k<key>`, value `v<value>` or a tombstone when value is null. */
export interface KeyedRecord {
  readonly key: number;
  readonly value: string | null;
}

export function keyedBatch(records: readonly KeyedRecord[], timestampMs: number, options: RecordBatchOptions = {}): Buffer {
  return buildRecordBatchSync(
    records.map((record) => ({ key: Buffer.from(`k${record.key}`), value: record.value === null ? null : Buffer.from(record.value), timestamp: timestampMs })),
    options,
  );
}

export async function openCompactedLog(fs: MemoryFileSystem, clock: ManualClock, config: Partial<LogConfig> = {}, dedupeBufferBytes?: number): Promise<{ manager: LogManager; log: PartitionLog }> {
  const manager = await openTestLogManager({
    fs,
    clock,
    config: { ...compactedConfig, ...config },
    extra: { startBackgroundWork: false, retentionCheckIntervalMs: Number.POSITIVE_INFINITY, cleaner: { dedupeBufferBytes: dedupeBufferBytes ?? 1024 * 1024 } },
  });
  const log = await manager.createLog('compacted', 0);
  return { manager, log };
}

/** Appends and moves the high watermark (the replica manager's job in the broker). */
export async function appendCommitted(log: PartitionLog, batch: Buffer, nowMs = START_MS): Promise<number> {
  const result = await log.append(batch, { leaderEpoch: 0, appendTimeMs: nowMs });
  log.updateHighWatermark(log.logEndOffset);
  return result.baseOffset;
}

/** Appends `updates` single-record batches cycling over `keys` keys; returns the latest offset and value per key. */
export async function appendUpdates(log: PartitionLog, keys: number, updates: number, timestampMs = START_MS, firstKey = 0): Promise<Map<number, { offset: number; value: string }>> {
  const latest = new Map<number, { offset: number; value: string }>();
  for (let index = 0; index < updates; index += 1) {
    const key = firstKey + (index % keys);
    const value = `value-${index}`;
    const offset = await appendCommitted(log, keyedBatch([{ key, value }], timestampMs));
    latest.set(key, { offset, value });
  }
  return latest;
}

export interface LogContents {
  readonly batches: DecodedBatch[];
  readonly records: KafkaRecord[];
}

/** Every batch from the log start to the log end, read from disk (CRC checked), offsets checked increasing. */
export async function readLog(log: PartitionLog): Promise<LogContents> {
  const batches: DecodedBatch[] = [];
  let next = log.logStartOffset;
  let previousLast = -1;
  while (next < log.logEndOffset) {
    const result = await log.read(next, { maxBytes: 1 << 20, maxOffset: log.logEndOffset, minOneBatch: true });
    if (result.chunks.length === 0) break;
    for (const chunk of result.chunks) {
      assert.ok(hasValidCrc(chunk), `batch at ${readBaseOffset(chunk)} has a valid CRC`);
      assert.ok(readBaseOffset(chunk) > previousLast, `batch at ${readBaseOffset(chunk)} follows ${previousLast}`);
      previousLast = readLastOffset(chunk);
      batches.push(decodeRecordBatchSync(chunk));
      next = previousLast + 1;
    }
  }
  const records = batches.flatMap((batch) => batch.records);
  for (let index = 1; index < records.length; index += 1) assert.ok(records[index]!.offset > records[index - 1]!.offset, 'record offsets increase');
  return { batches, records };
}

export { ManualClock };
