import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import { isKafkaError } from '../base/kafka-error.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { buildRecordBatchSync } from '../protocol/records/record-batch.js';
import type { LogConfig } from './log-config.js';
import type { PartitionLog } from './partition-log.js';
import { buildBatch } from '../testing/test-batches.js';
import { ManualClock, openTestLogManager } from '../testing/log-support.js';

const everything = { maxBytes: 1 << 30, maxOffset: Number.MAX_SAFE_INTEGER, minOneBatch: true };
const START_MS = 1_700_000_000_000;

async function openLog(config: Partial<LogConfig>, clock = new ManualClock(START_MS), fs = new MemoryFileSystem()) {
  const manager = await openTestLogManager({ fs, clock, config, extra: { retentionCheckIntervalMs: 60_000 } });
  const log = await manager.createLog('events', 0);
  return { manager, log, clock, fs };
}

/** Appends `count` batches of two 100-byte records, the i-th stamped `timestampMs + i`. */
async function appendBatches(log: PartitionLog, count: number, timestampMs: number) {
  for (let index = 0; index < count; index += 1) {
    await log.append(buildBatch({ count: 2, valueBytes: 100, timestampMs: timestampMs + index }), { leaderEpoch: 0, appendTimeMs: timestampMs });
  }
  log.updateHighWatermark(log.logEndOffset);
}

async function logFiles(fs: MemoryFileSystem, log: PartitionLog): Promise<string[]> {
  return (await fs.readdir(log.dir)).map((entry) => entry.name).sort();
}

describe('retention', () => {
  it('deletes segments past retention.ms by their largest timestamp, advancing the log start offset', async () => {
    const { manager, log, clock, fs } = await openLog({ segmentBytes: 1024, retentionMs: 60_000, fileDeleteDelayMs: 1_000 });
    await appendBatches(log, 20, START_MS - 120_000);
    await appendBatches(log, 10, START_MS);
    const segmentsBefore = log.segmentCount;
    assert.ok(segmentsBefore > 4);
    const deleted = await manager.retention.checkNow();
    assert.ok(deleted > 0);
    assert.equal(log.segmentCount, segmentsBefore - deleted);
    assert.ok(log.logStartOffset >= 30, `log start ${log.logStartOffset}`);
    assert.equal(log.segmentBaseOffsets[0], log.logStartOffset);
    // The old records are gone for readers; the recent ones stay.
    await assert.rejects(log.read(0, everything), (error) => isKafkaError(error) && error.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.ok((await log.read(log.logStartOffset, everything)).chunks.length > 0);
    // Files wait as `.deleted` for file.delete.delay.ms, then go.
    assert.ok((await logFiles(fs, log)).some((name) => name.endsWith('.log.deleted')));
    clock.advance(1_000);
    await waitUntil(async () => !(await logFiles(fs, log)).some((name) => name.endsWith('.deleted')));
    assert.equal(log.pendingFileDeletionCount, 0);
    await manager.close();
  });

  it('deletes the oldest segments beyond retention.bytes, never the active one', async () => {
    const { manager, log } = await openLog({ segmentBytes: 1024, retentionBytes: 2048, retentionMs: Number.POSITIVE_INFINITY });
    await appendBatches(log, 40, START_MS);
    const largestSegment = Math.max(...log.segments().map((segment) => segment.size));
    await manager.retention.checkNow();
    // Kafka's rule: delete a segment only while the log stays at or above retention.bytes without it.
    const remaining = log.segments().reduce((sum, segment) => sum + segment.size, 0);
    assert.ok(remaining >= 2048 && remaining < 2048 + largestSegment, `remaining ${remaining}`);
    assert.ok(log.segmentCount >= 2);
    assert.ok(log.logStartOffset > 0);
    await manager.close();
  });

  it('rolls a wholly expired active segment, then deletes everything', async () => {
    const { manager, log, clock } = await openLog({ segmentBytes: 1_000_000, retentionMs: 60_000 });
    await appendBatches(log, 5, START_MS);
    assert.equal(log.segmentCount, 1);
    clock.advance(120_000);
    await manager.retention.checkNow();
    assert.equal(log.logStartOffset, 10);
    assert.equal(log.logEndOffset, 10);
    assert.equal(log.segmentCount, 1);
    assert.equal(log.segmentBaseOffsets[0], 10);
    // The log goes on from where it was.
    const next = await log.append(buildBatch({ count: 1, timestampMs: clock.nowMs() }), { leaderEpoch: 0, appendTimeMs: clock.nowMs() });
    assert.equal(next.baseOffset, 10);
    await manager.close();
  });

  it('keeps everything under cleanup.policy=compact alone, and never deletes above the high watermark', async () => {
    const compacted = await openLog({ segmentBytes: 1024, retentionMs: 1, cleanupPolicy: ['compact'] });
    for (let index = 0; index < 20; index += 1) {
      const batch = buildRecordBatchSync([{ key: Buffer.from(`k${index}`), value: Buffer.alloc(300), timestamp: START_MS - 120_000 }]);
      await compacted.log.append(batch, { leaderEpoch: 0, appendTimeMs: START_MS });
    }
    compacted.log.updateHighWatermark(compacted.log.logEndOffset);
    assert.ok(compacted.log.segmentCount > 2);
    assert.equal(await compacted.manager.retention.checkNow(), 0);
    await compacted.manager.close();
    const uncommitted = await openLog({ segmentBytes: 1024, retentionMs: 1 });
    await appendBatches(uncommitted.log, 20, START_MS - 120_000);
    uncommitted.log.updateHighWatermark(0);
    assert.equal(await uncommitted.manager.retention.checkNow(), 0);
    await uncommitted.manager.close();
  });

  it('runs on its own every log.retention.check.interval.ms and checkpoints the new log start offset', async () => {
    const { manager, log, clock, fs } = await openLog({ segmentBytes: 1024, retentionMs: 60_000 });
    await appendBatches(log, 20, START_MS - 120_000);
    await appendBatches(log, 5, START_MS);
    clock.advance(60_000);
    await waitUntil(async () => log.logStartOffset > 0);
    await waitUntil(async () => (await fs.readFile('/data/log-start-offset-checkpoint')).toString().includes(`events 0 ${log.logStartOffset}`));
    await manager.close();
    // A restart keeps the advanced start.
    const reopened = await openTestLogManager({ fs, clock, config: { segmentBytes: 1024 } });
    assert.equal(reopened.get('events', 0)!.logStartOffset, log.logStartOffset);
    await reopened.close();
  });

  it('refuses records without a key in a compacted log, as Kafka does', async () => {
    const { manager, log } = await openLog({ cleanupPolicy: ['compact', 'delete'] });
    await assert.rejects(
      log.append(buildBatch({ count: 1 }), { leaderEpoch: 0, appendTimeMs: START_MS }),
      (error) => isKafkaError(error) && error.errorCode === ErrorCode.INVALID_RECORD && /without key/.test(error.message),
    );
    assert.equal(log.nextOffset, 0);
    await manager.close();
  });

  it('drops stranded .deleted files at load', async () => {
    const { manager, log, fs, clock } = await openLog({ segmentBytes: 1024, retentionMs: 60_000, fileDeleteDelayMs: 3_600_000 });
    await appendBatches(log, 20, START_MS - 120_000);
    await appendBatches(log, 5, START_MS);
    await manager.retention.checkNow();
    assert.ok((await logFiles(fs, log)).some((name) => name.endsWith('.deleted')));
    // No close: as after a crash, the next load finds the renamed files.
    const reopened = await openTestLogManager({ fs, clock, config: { segmentBytes: 1024 } });
    assert.ok(!(await logFiles(fs, reopened.get('events', 0)!)).some((name) => name.endsWith('.deleted')));
    assert.equal(reopened.get('events', 0)!.segmentBaseOffsets[0], log.logStartOffset);
    await reopened.close();
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
