import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import type { FileHandle, FileSystem, OpenMode } from '../base/file-system.js';
import { KafkaError } from '../base/kafka-error.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { BatchField, rewriteCrc } from '../protocol/records/batch-header.js';
import type { LogManager } from './log-manager.js';
import type { PartitionLog } from './partition-log.js';
import { buildBatch } from '../testing/test-batches.js';
import { openTestLogManager, recordingLogger } from '../testing/log-support.js';

const config = { segmentBytes: 2000, indexIntervalBytes: 200 };
const SEGMENT_FILE = /\.(log|index|timeindex)$/;

/** The paths each kind of call touched, to show what opening a log reads and writes. */
class RecordingFileSystem implements FileSystem {
  readonly reads: string[] = [];
  readonly writes: string[] = [];

  constructor(readonly inner: FileSystem) {}

  open(path: string, mode: OpenMode): Promise<FileHandle> {
    (mode === 'create' ? this.writes : this.reads).push(path);
    return this.inner.open(path, mode);
  }

  readFile(path: string): Promise<Buffer> {
    this.reads.push(path);
    return this.inner.readFile(path);
  }

  writeFile(path: string, data: Buffer): Promise<void> {
    this.writes.push(path);
    return this.inner.writeFile(path, data);
  }

  rename(from: string, to: string): Promise<void> {
    this.writes.push(to);
    return this.inner.rename(from, to);
  }

  unlink(path: string): Promise<void> {
    this.writes.push(path);
    return this.inner.unlink(path);
  }

  mkdir(path: string): Promise<boolean> {
    return this.inner.mkdir(path);
  }

  removeTree(path: string): Promise<void> {
    this.writes.push(path);
    return this.inner.removeTree(path);
  }

  readdir(path: string) {
    return this.inner.readdir(path);
  }

  stat(path: string) {
    this.reads.push(path);
    return this.inner.stat(path);
  }

  syncDirectory(path: string): Promise<void> {
    return this.inner.syncDirectory(path);
  }

  space(path: string) {
    return this.inner.space(path);
  }

  clear(): void {
    this.reads.length = 0;
    this.writes.length = 0;
  }
}

/** An idempotent producer's batch: producer id 7, epoch 0, `baseSequence`. */
function producerBatch(baseSequence: number): Buffer {
  const batch = buildBatch({ count: 2, valueBytes: 20 });
  batch.writeBigInt64BE(7n, BatchField.producerId);
  batch.writeInt16BE(0, BatchField.producerEpoch);
  batch.writeInt32BE(baseSequence, BatchField.baseSequence);
  rewriteCrc(batch);
  return batch;
}

/** A log of 60 two-record batches over several segments, log start 10, high watermark 100; and an empty log. */
async function cleanlyClosedLogs(fs: FileSystem): Promise<{ bytes: number }> {
  const manager = await openTestLogManager({ fs, config });
  const log = await manager.createLog('events', 0);
  for (let index = 0; index < 60; index += 1) {
    await log.append(producerBatch(index * 2), { leaderEpoch: index < 30 ? 1 : 2, appendTimeMs: 0 });
  }
  log.updateHighWatermark(100);
  assert.ok(log.maybeIncrementLogStartOffset(10));
  const empty = await manager.createLog('empty', 0);
  // As the broker does when it becomes leader of a partition.
  empty.leaderEpochCache.assign(0, empty.nextOffset);
  const bytes = await log.size();
  await manager.close();
  return { bytes };
}

async function reopen(fs: FileSystem, logger = recordingLogger().logger): Promise<{ manager: LogManager; log: PartitionLog }> {
  const manager = await openTestLogManager({ fs, config, logger });
  assert.equal(manager.hadCleanShutdown, true);
  return { manager, log: manager.get('events', 0)! };
}

describe('opening logs after a clean shutdown', () => {
  it('reads no segment file and writes nothing, and keeps every offset, epoch and producer', async () => {
    const memory = new MemoryFileSystem();
    const { bytes } = await cleanlyClosedLogs(memory);
    const fs = new RecordingFileSystem(memory);
    const { manager, log } = await reopen(fs);
    assert.deepEqual(fs.reads.filter((path) => SEGMENT_FILE.test(path)), []);
    assert.deepEqual(fs.writes, ['/data/.kafka_cleanshutdown']);
    assert.equal(log.logEndOffset, 120);
    assert.equal(log.nextOffset, 120);
    assert.equal(log.highWatermark, 100);
    assert.equal(log.logStartOffset, 10);
    assert.equal(log.recoveryPoint, 120);
    assert.deepEqual(log.leaderEpochCache.entries, [{ epoch: 1, startOffset: 10 }, { epoch: 2, startOffset: 60 }]);
    assert.equal(log.producerState.producerCount, 1);
    assert.equal(await log.size(), bytes);

    // The broker assigns the empty log's epoch again: the checkpoint already says so.
    const empty = manager.get('empty', 0)!;
    assert.deepEqual(empty.leaderEpochCache.entries, []);
    empty.leaderEpochCache.assign(0, empty.nextOffset);
    await empty.leaderEpochCache.persist();
    assert.deepEqual(fs.writes, ['/data/.kafka_cleanshutdown']);
    await manager.close();
  });

  it('loads the active segment on the first read and append, which land at the right offsets', async () => {
    const fs = new MemoryFileSystem();
    await cleanlyClosedLogs(fs);
    const { manager, log } = await reopen(fs);
    const active = log.segments().at(-1)!;
    assert.equal(active.isLoaded, false);
    const tail = await log.read(98, { maxBytes: 1 << 20, maxOffset: 100, minOneBatch: true });
    assert.equal(tail.fromCache, false);
    assert.equal(Buffer.concat(tail.chunks).readBigInt64BE(0), 98n);
    // A retried batch is recognised from the restored producer state, a new one is appended after the end.
    assert.equal((await log.append(producerBatch(118), { leaderEpoch: 2, appendTimeMs: 0 })).baseOffset, 118);
    assert.equal((await log.append(producerBatch(120), { leaderEpoch: 3, appendTimeMs: 0 })).baseOffset, 120);
    assert.equal(log.logEndOffset, 122);
    assert.deepEqual(log.leaderEpochCache.entries.at(-1), { epoch: 3, startOffset: 120 });
    await manager.close();

    const again = await reopen(fs);
    assert.equal(again.log.logEndOffset, 122);
    const read = await again.log.read(120, { maxBytes: 1 << 20, maxOffset: 122, minOneBatch: true });
    assert.equal(Buffer.concat(read.chunks).readBigInt64BE(0), 120n);
    assert.equal((await again.log.append(buildBatch(), { leaderEpoch: 3, appendTimeMs: 0 })).baseOffset, 122);
    await again.manager.close();
  });

  it('reads the active segment at open when the producer snapshot does not match the checkpoint', async () => {
    const memory = new MemoryFileSystem();
    await cleanlyClosedLogs(memory);
    await memory.unlink('/data/events-0/00000000000000000120.snapshot');
    const fs = new RecordingFileSystem(memory);
    const { manager, log } = await reopen(fs);
    assert.ok(fs.reads.some((path) => path.endsWith('.log')));
    assert.equal(log.logEndOffset, 120);
    assert.equal(log.producerState.producerCount, 1);
    assert.equal((await log.append(buildBatch(), { leaderEpoch: 2, appendTimeMs: 0 })).baseOffset, 120);
    await manager.close();
  });

  it('trusts the files over the checkpoint when the active segment turns out shorter', async () => {
    const fs = new MemoryFileSystem();
    await cleanlyClosedLogs(fs);
    const manager = await openTestLogManager({ fs, config });
    const log = manager.get('events', 0)!;
    const active = log.segments().at(-1)!;
    await manager.close();
    // Cut the last batch off behind the broker's back, keeping checkpoints and snapshot.
    const file = await fs.readFile(active.logPath);
    const lastBatchBytes = buildBatch({ count: 2, valueBytes: 20 }).length;
    await fs.writeFile(active.logPath, file.subarray(0, file.length - lastBatchBytes));

    const recorder = recordingLogger();
    const reopened = await reopen(fs, recorder.logger);
    assert.equal(reopened.log.logEndOffset, 120);
    await assert.rejects(reopened.log.append(buildBatch(), { leaderEpoch: 2, appendTimeMs: 0 }), (error: unknown) => error instanceof KafkaError && error.errorCode === ErrorCode.KAFKA_STORAGE_ERROR);
    assert.ok(recorder.lines.some((line) => /does not end at the checkpointed log end offset/.test(line)));
    assert.equal(reopened.log.logEndOffset, 118);
    assert.equal(reopened.log.highWatermark, 100);
    assert.equal((await reopened.log.append(buildBatch(), { leaderEpoch: 2, appendTimeMs: 0 })).baseOffset, 118);
    await reopened.manager.close();
  });

  it('still recovers after an unclean shutdown: a torn tail is cut at open', async () => {
    const fs = new MemoryFileSystem();
    await cleanlyClosedLogs(fs);
    await fs.unlink('/data/.kafka_cleanshutdown');
    const manager = await openTestLogManager({ fs, config });
    const active = manager.get('events', 0)!.segments().at(-1)!;
    await manager.close();
    await fs.unlink('/data/.kafka_cleanshutdown');
    const file = await fs.readFile(active.logPath);
    await fs.writeFile(active.logPath, file.subarray(0, file.length - 10));

    const recorder = recordingLogger();
    const reopened = await openTestLogManager({ fs, config, logger: recorder.logger });
    assert.equal(reopened.hadCleanShutdown, false);
    const log = reopened.get('events', 0)!;
    assert.equal(log.segments().at(-1)!.isLoaded, true);
    assert.equal(log.logEndOffset, 118);
    assert.ok(recorder.warnings().some((line) => /truncating log segment/.test(line)));
    assert.equal((await log.append(buildBatch(), { leaderEpoch: 2, appendTimeMs: 0 })).baseOffset, 118);
    await reopened.close();
  });
});
