import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import { isKafkaError } from '../base/kafka-error.js';
import type { FileSystem } from '../base/file-system.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import {
  hasValidCrc,
  readBaseOffset,
  readLastOffset,
  readMaxTimestamp,
  readPartitionLeaderEpoch,
} from '../protocol/records/batch-header.js';
import type { PartitionLog } from './partition-log.js';
import { buildControlBatchSync, ControlRecordType } from '../protocol/records/control-record.js';
import { buildRecordBatchSync } from '../protocol/records/record-batch.js';
import { buildBatch } from '../testing/test-batches.js';
import { ManualClock, openTestLogManager, waitFor } from '../testing/log-support.js';

const everything = { maxBytes: 1 << 30, maxOffset: Number.MAX_SAFE_INTEGER, minOneBatch: true };

async function appendMany(log: PartitionLog, count: number, options: Parameters<typeof buildBatch>[0] = {}, epoch = 0) {
  const results = [];
  for (let index = 0; index < count; index += 1) {
    results.push(await log.append(buildBatch({ count: 2, ...options, timestampMs: (options.timestampMs ?? 1000) + index * 10 }), { leaderEpoch: epoch, appendTimeMs: 5 }));
  }
  return results;
}

/** `memory` behind the port, noting each fsync (`sync <path>`) and truncation (`truncate <path>`) of a file. */
function observedFileSystem(memory: MemoryFileSystem, events: string[]): FileSystem {
  return {
    open: async (path, mode) => {
      const handle = await memory.open(path, mode);
      return {
        path: handle.path,
        read: (...args) => handle.read(...args),
        write: (...args) => handle.write(...args),
        truncate: (length) => {
          events.push(`truncate ${path}`);
          return handle.truncate(length);
        },
        size: () => handle.size(),
        sync: () => {
          events.push(`sync ${path}`);
          return handle.sync();
        },
        close: () => handle.close(),
      };
    },
    readFile: (path) => memory.readFile(path),
    writeFile: (path, data) => memory.writeFile(path, data),
    rename: (from, to) => memory.rename(from, to),
    unlink: (path) => memory.unlink(path),
    mkdir: (path) => memory.mkdir(path),
    removeTree: (path) => memory.removeTree(path),
    readdir: (path) => memory.readdir(path),
    stat: (path) => memory.stat(path),
    syncDirectory: (path) => memory.syncDirectory(path),
    space: (path) => memory.space(path),
  };
}

function expectKafkaError(code: number) {
  return (error: unknown) => isKafkaError(error) && error.errorCode === code;
}

/** Reads the whole log from disk (bypassing nothing: the tail cache answers if it can). */
async function readAllOffsets(log: PartitionLog, from = log.logStartOffset): Promise<number[]> {
  const offsets: number[] = [];
  let next = from;
  while (next < log.logEndOffset) {
    const result = await log.read(next, { ...everything, maxBytes: 4096 });
    assert.ok(result.chunks.length > 0, `no data at ${next}`);
    for (const chunk of result.chunks) {
      assert.ok(hasValidCrc(chunk));
      offsets.push(readBaseOffset(chunk));
      next = readLastOffset(chunk) + 1;
    }
  }
  return offsets;
}

describe('partition log append and read', () => {
  it('assigns offsets, stamps the epoch, and reads batches back', async () => {
    const manager = await openTestLogManager();
    const log = await manager.createLog('orders', 0);
    const first = await log.append(buildBatch({ count: 3 }), { leaderEpoch: 4, appendTimeMs: 99 });
    const second = await log.append(buildBatch({ count: 2 }), { leaderEpoch: 4, appendTimeMs: 99 });
    assert.deepEqual(first, { baseOffset: 0, lastOffset: 2, logAppendTimeMs: -1, logStartOffset: 0 });
    assert.deepEqual([second.baseOffset, second.lastOffset], [3, 4]);
    assert.equal(log.logEndOffset, 5);
    const result = await log.read(0, everything);
    assert.equal(result.chunks.length, 2);
    assert.equal(readPartitionLeaderEpoch(result.chunks[0]!), 4);
    assert.equal(readBaseOffset(result.chunks[1]!), 3);
    assert.ok(result.chunks.every((chunk) => hasValidCrc(chunk)));
    assert.equal(log.leaderEpochCache.latestEpoch, 4);
    await manager.close();
  });

  it('keeps call order for concurrent appends and coalesces them', async () => {
    const manager = await openTestLogManager();
    const log = await manager.createLog('t', 0);
    const promises = Array.from({ length: 50 }, (_, index) => log.append(buildBatch({ count: 1 + (index % 3) }), { leaderEpoch: 0, appendTimeMs: 0 }));
    assert.equal(log.nextOffset, promises.length + 49);
    assert.equal(log.logEndOffset, 0);
    const results = await Promise.all(promises);
    for (let index = 1; index < results.length; index += 1) assert.equal(results[index]!.baseOffset, results[index - 1]!.lastOffset + 1);
    assert.equal(log.logEndOffset, log.nextOffset);
    assert.deepEqual(await readAllOffsets(log), results.map((result) => result.baseOffset));
    await manager.close();
  });

  it('stamps LogAppendTime and keeps the CRC valid', async () => {
    const manager = await openTestLogManager();
    const log = await manager.createLog('t', 0, { messageTimestampType: 'LogAppendTime' });
    const result = await log.append(buildBatch({ count: 2, timestampMs: 10 }), { leaderEpoch: 0, appendTimeMs: 123_456 });
    assert.equal(result.logAppendTimeMs, 123_456);
    const [chunk] = (await log.read(0, everything)).chunks;
    assert.equal(readMaxTimestamp(chunk!), 123_456);
    assert.ok(hasValidCrc(chunk!));
    await manager.close();
  });

  it('refuses batches over max.message.bytes', async () => {
    const manager = await openTestLogManager({ config: { maxMessageBytes: 200 } });
    const log = await manager.createLog('t', 0);
    await assert.rejects(log.append(buildBatch({ count: 1, valueBytes: 500 }), { leaderEpoch: 0, appendTimeMs: 0 }), expectKafkaError(ErrorCode.MESSAGE_TOO_LARGE));
    assert.equal(log.nextOffset, 0);
    await manager.close();
  });

  it('throws OFFSET_OUT_OF_RANGE outside the log and returns nothing at the end', async () => {
    const manager = await openTestLogManager();
    const log = await manager.createLog('t', 0);
    await appendMany(log, 3);
    await assert.rejects(log.read(7, everything), expectKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));
    await assert.rejects(log.read(-1, everything), expectKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));
    assert.equal((await log.read(6, everything)).chunks.length, 0);
    await manager.close();
  });
});

describe('partition log segments and indexes', () => {
  it('rolls by segment.bytes, each segment within the limit', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openTestLogManager({ fs, config: { segmentBytes: 1000, indexIntervalBytes: 200 } });
    const log = await manager.createLog('t', 0);
    const results = await appendMany(log, 40, { valueBytes: 40 });
    assert.ok(log.segmentCount > 5, `only ${log.segmentCount} segments`);
    const bases = log.segmentBaseOffsets;
    for (let index = 1; index < bases.length; index += 1) assert.ok(bases[index]! > bases[index - 1]!);
    for (const base of bases) {
      const size = (await fs.stat(`/data/t-0/${String(base).padStart(20, '0')}.log`)).size;
      assert.ok(size > 0 && size <= 1000, `segment ${base} has ${size} bytes`);
    }
    assert.deepEqual(results.map((result) => result.baseOffset), results.map((_, index) => index * 2));
    await manager.close();
  });

  it('finds every offset through the sparse index after a restart (disk reads, not cache)', async () => {
    const fs = new MemoryFileSystem();
    const config = { segmentBytes: 4000, indexIntervalBytes: 150 };
    const manager = await openTestLogManager({ fs, config });
    const log = await manager.createLog('t', 0);
    await appendMany(log, 100, { valueBytes: 20 });
    await manager.close();
    const reopened = await openTestLogManager({ fs, config });
    const again = reopened.get('t', 0)!;
    assert.equal(again.logEndOffset, 200);
    for (const offset of [0, 1, 2, 57, 58, 99, 150, 199]) {
      const result = await again.read(offset, { maxBytes: 1, maxOffset: 200, minOneBatch: true });
      assert.equal(result.fromCache, false);
      assert.equal(result.chunks.length, 1);
      assert.equal(readBaseOffset(result.chunks[0]!), offset - (offset % 2));
    }
    assert.deepEqual(await readAllOffsets(again), Array.from({ length: 100 }, (_, index) => index * 2));
    await reopened.close();
  });

  it('rolls by segment.ms using the first batch timestamp', async () => {
    const manager = await openTestLogManager({ config: { segmentMs: 1000 } });
    const log = await manager.createLog('t', 0);
    await log.append(buildBatch({ timestampMs: 10_000 }), { leaderEpoch: 0, appendTimeMs: 0 });
    await log.append(buildBatch({ timestampMs: 10_500 }), { leaderEpoch: 0, appendTimeMs: 0 });
    assert.equal(log.segmentCount, 1);
    await log.append(buildBatch({ timestampMs: 11_001 }), { leaderEpoch: 0, appendTimeMs: 0 });
    assert.deepEqual(log.segmentBaseOffsets, [0, 2]);
    await manager.close();
  });

  it('rolls when the offset index is full', async () => {
    const manager = await openTestLogManager({ config: { segmentIndexBytes: 16, indexIntervalBytes: 1 } });
    const log = await manager.createLog('t', 0);
    await appendMany(log, 10);
    assert.ok(log.segmentCount >= 3, `segments ${log.segmentBaseOffsets}`);
    assert.equal((await readAllOffsets(log)).length, 10);
    await manager.close();
  });
});

describe('partition log read limits', () => {
  it('returns whole batches within maxBytes, or the first batch alone with minOneBatch', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openTestLogManager({ fs });
    const log = await manager.createLog('t', 0);
    const batchBytes = buildBatch({ count: 2, valueBytes: 100 }).length;
    await appendMany(log, 10, { valueBytes: 100 });
    await manager.close();
    const reopened = await openTestLogManager({ fs });
    const disk = reopened.get('t', 0)!;
    assert.equal(log.isClosed, true);
    {
      const source = disk;
      const three = await source.read(0, { maxBytes: batchBytes * 3 + 10, maxOffset: 100, minOneBatch: true });
      assert.equal(three.chunks.length, 3);
      assert.equal(three.bytes, batchBytes * 3);
      const tooSmall = await source.read(0, { maxBytes: 10, maxOffset: 100, minOneBatch: false });
      assert.equal(tooSmall.chunks.length, 0);
      const one = await source.read(0, { maxBytes: 10, maxOffset: 100, minOneBatch: true });
      assert.equal(one.chunks.length, 1);
      const bounded = await source.read(3, { maxBytes: 1 << 20, maxOffset: 6, minOneBatch: true });
      assert.deepEqual(bounded.chunks.map((chunk) => readBaseOffset(chunk)), [2, 4]);
    }
    await reopened.close();
  });

  it('serves recent batches from the tail cache, same bytes as disk', async () => {
    const manager = await openTestLogManager();
    const log = await manager.createLog('t', 0);
    await appendMany(log, 5);
    const cached = await log.read(4, everything);
    assert.equal(cached.fromCache, true);
    assert.deepEqual(cached.chunks.map((chunk) => readBaseOffset(chunk)), [4, 6, 8]);
    const limited = await log.read(0, { maxBytes: 1, maxOffset: 4, minOneBatch: false });
    assert.equal(limited.chunks.length, 0);
    await manager.close();
  });
});

describe('partition log timestamps, epochs, truncation', () => {
  it('finds offsets by timestamp and the max timestamp', async () => {
    const fs = new MemoryFileSystem();
    const config = { segmentBytes: 800, indexIntervalBytes: 100 };
    const manager = await openTestLogManager({ fs, config });
    const log = await manager.createLog('t', 0);
    await appendMany(log, 30, { timestampMs: 1000 });
    await manager.close();
    const reopened = await openTestLogManager({ fs, config });
    const again = reopened.get('t', 0)!;
    // Batch i has timestamps 1000 + 10i and 1001 + 10i, so max timestamp 1001 + 10i.
    assert.deepEqual(await again.offsetForTimestamp(0), { offset: 0, timestamp: 1001 });
    assert.deepEqual(await again.offsetForTimestamp(1001), { offset: 0, timestamp: 1001 });
    assert.deepEqual(await again.offsetForTimestamp(1002), { offset: 2, timestamp: 1011 });
    assert.deepEqual(await again.offsetForTimestamp(1155), { offset: 32, timestamp: 1161 });
    assert.deepEqual(await again.offsetForTimestamp(1291), { offset: 58, timestamp: 1291 });
    assert.equal(await again.offsetForTimestamp(1292), null);
    assert.deepEqual(await again.maxTimestampOffset(), { offset: 58, timestamp: 1291 });
    await reopened.close();
  });

  it('tracks leader epochs and answers endOffsetFor', async () => {
    const manager = await openTestLogManager();
    const log = await manager.createLog('t', 0);
    await appendMany(log, 2, {}, 1);
    await appendMany(log, 3, {}, 3);
    assert.deepEqual(log.leaderEpochCache.entries, [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 4 }]);
    assert.deepEqual(log.leaderEpochCache.endOffsetFor(1), { epoch: 1, endOffset: 4 });
    assert.deepEqual(log.leaderEpochCache.endOffsetFor(2), { epoch: 1, endOffset: 4 });
    assert.deepEqual(log.leaderEpochCache.endOffsetFor(3), { epoch: 3, endOffset: 10 });
    assert.deepEqual(log.leaderEpochCache.endOffsetFor(4), { epoch: -1, endOffset: -1 });
    await manager.close();
  });

  it('forgets ended transactions once the high watermark passes their markers (a follower nobody reads)', async () => {
    const manager = await openTestLogManager();
    const log = await manager.createLog('t', 0);
    for (let round = 0; round < 50; round += 1) {
      const records = buildRecordBatchSync([{ key: null, value: Buffer.from('v') }], { producerId: 7, producerEpoch: 0, baseSequence: round, transactional: true });
      const marker = buildControlBatchSync({ type: ControlRecordType.commit, producerId: 7, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 0 });
      await log.append(records, { leaderEpoch: 0, appendTimeMs: 5 });
      await log.append(marker, { leaderEpoch: 0, appendTimeMs: 5 });
      log.updateHighWatermark(log.logEndOffset);
    }
    assert.equal(log.producerState.completingCount, 0, 'every marker is below the high watermark');
    await manager.close();
  });

  it('a truncation deletes the producer snapshots above it: a crash after it rebuilds the producer state from the batches written in their place', async () => {
    const fs = new MemoryFileSystem();
    const transactional = (producerId: number, baseSequence: number) =>
      buildRecordBatchSync([{ key: null, value: Buffer.from('v') }], { producerId, producerEpoch: 0, baseSequence, transactional: true });
    const marker = (producerId: number, type: 0 | 1) => buildControlBatchSync({ type, producerId, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 0 });
    const first = await openTestLogManager({ fs });
    const log = await first.createLog('t', 0);
    await log.append(transactional(7, 0), { leaderEpoch: 0, appendTimeMs: 5 }); // offset 0
    await log.append(marker(7, ControlRecordType.commit), { leaderEpoch: 0, appendTimeMs: 5 }); // offset 1, never replicated
    await log.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 5 }); // offset 2
    log.updateHighWatermark(1);
    await first.close(); // a clean shutdown: the producer snapshot at 3

    const second = await openTestLogManager({ fs });
    const follower = second.get('t', 0)!;
    await follower.truncateTo(1); // the new leader's log diverges at 1
    await follower.append(transactional(9, 0), { leaderEpoch: 1, appendTimeMs: 5 }); // offset 1: producer 9's transaction, still open
    await follower.append(buildBatch(), { leaderEpoch: 1, appendTimeMs: 5 }); // offset 2
    await follower.append(buildBatch(), { leaderEpoch: 1, appendTimeMs: 5 }); // offset 3
    assert.equal(follower.producerState.lastStableOffset(4), 0, "producer 7's transaction is open again and holds the LSO");

    // A crash (no close): the next start must not restore the snapshot at 3, which describes the truncated batches.
    const third = await openTestLogManager({ fs });
    const again = third.get('t', 0)!;
    assert.equal(again.logEndOffset, 4);
    assert.equal(again.producerState.hasOngoingTransaction(9, 0), true, "producer 9's transaction at offset 1 is known as open");
    assert.equal(again.producerState.lastStableOffset(4), 0, "producer 7's records at 0 are still in an open transaction");
    await third.close();
    await second.close().catch(() => undefined);
  });

  it('as a follower, takes batches with gaps between them (a compacted leader dropped whole batches), never going back', async () => {
    const manager = await openTestLogManager();
    const log = await manager.createLog('t', 0);
    await log.appendAsFollower(buildBatch({ count: 2, baseOffset: 0 }));
    await log.appendAsFollower(buildBatch({ count: 2, baseOffset: 7 }));
    assert.equal(log.logEndOffset, 9);
    assert.deepEqual(await readAllOffsets(log), [0, 7]);
    await assert.rejects(log.appendAsFollower(buildBatch({ count: 1, baseOffset: 8 })), expectKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));
    await manager.close();
  });

  it('truncates to an offset across segments and appends again', async () => {
    const manager = await openTestLogManager({ config: { segmentBytes: 500 } });
    const log = await manager.createLog('t', 0);
    await appendMany(log, 20, {}, 1);
    await appendMany(log, 5, {}, 2);
    log.updateHighWatermark(50);
    await log.truncateTo(13);
    assert.equal(log.logEndOffset, 12);
    assert.equal(log.nextOffset, 12);
    assert.equal(log.highWatermark, 12);
    assert.equal(log.leaderEpochCache.latestEpoch, 1);
    const next = await log.append(buildBatch(), { leaderEpoch: 3, appendTimeMs: 0 });
    assert.equal(next.baseOffset, 12);
    assert.deepEqual(await readAllOffsets(log), [0, 2, 4, 6, 8, 10, 12]);
    await log.truncateFullyAndStartAt(100);
    assert.equal(log.logStartOffset, 100);
    assert.equal(log.logEndOffset, 100);
    assert.equal((await log.append(buildBatch(), { leaderEpoch: 3, appendTimeMs: 0 })).baseOffset, 100);
    await manager.close();
  });
});

describe('partition log segment roll', () => {
  it("appends after a roll do not wait for the finished segment's fsync; the recovery point moves once it is done", async () => {
    const memory = new MemoryFileSystem();
    let releaseSync: () => void = () => {};
    const gate = new Promise<void>((resolve) => (releaseSync = resolve));
    const gatedPaths = new Set<string>();
    // The port, with the fsync of the first segment's log file held until the test opens the gate.
    const fs: FileSystem = {
      open: async (path, mode) => {
        const handle = await memory.open(path, mode);
        if (!path.endsWith('00000000000000000000.log')) return handle;
        return {
          path: handle.path,
          read: (...args) => handle.read(...args),
          write: (...args) => handle.write(...args),
          truncate: (...args) => handle.truncate(...args),
          size: () => handle.size(),
          sync: async () => {
            if (gatedPaths.has(path)) await gate;
            return handle.sync();
          },
          close: () => handle.close(),
        };
      },
      readFile: (path) => memory.readFile(path),
      writeFile: (path, data) => memory.writeFile(path, data),
      rename: (from, to) => memory.rename(from, to),
      unlink: (path) => memory.unlink(path),
      mkdir: (path) => memory.mkdir(path),
      removeTree: (path) => memory.removeTree(path),
      readdir: (path) => memory.readdir(path),
      stat: (path) => memory.stat(path),
      syncDirectory: (path) => memory.syncDirectory(path),
      space: (path) => memory.space(path),
    };
    const manager = await openTestLogManager({ fs, config: { segmentBytes: 300 } });
    const log = await manager.createLog('t', 0);
    gatedPaths.add(`${log.dir}/00000000000000000000.log`);
    await appendMany(log, 4);
    assert.ok(log.segmentBaseOffsets.length > 1, 'the first segment rolled');
    // The first segment's fsync is still held: appends go on all the same.
    const more = await appendMany(log, 3);
    assert.equal(more.length, 3);
    assert.equal(log.recoveryPoint, 0, 'nothing counts as durable before the fsync');
    releaseSync();
    await waitFor(() => log.recoveryPoint > 0);
    assert.ok(log.recoveryPoint <= log.logEndOffset);
    await manager.close();
  });
});

describe('partition log durability and I/O errors', () => {
  it('rejects with KAFKA_STORAGE_ERROR when the disk is full and stays consistent', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openTestLogManager({ fs });
    const log = await manager.createLog('t', 0);
    await appendMany(log, 3);
    fs.setCapacityBytes(fs.usedBytes + 10);
    const failing = [log.append(buildBatch({ count: 2 }), { leaderEpoch: 0, appendTimeMs: 0 }), log.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 })];
    for (const promise of failing) await assert.rejects(promise, expectKafkaError(ErrorCode.KAFKA_STORAGE_ERROR));
    assert.equal(log.logEndOffset, 6);
    assert.equal(log.nextOffset, 6);
    fs.setCapacityBytes(Number.POSITIVE_INFINITY);
    assert.equal((await log.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 })).baseOffset, 6);
    assert.deepEqual(await readAllOffsets(log), [0, 2, 4, 6]);
    await manager.close();
  });

  it('with flush.messages=1 a failed fsync refuses the append before the log end moves, and takes the log offline', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openTestLogManager({ fs, config: { flushMessages: 1 } });
    const log = await manager.createLog('t', 0);
    await appendMany(log, 2);
    log.updateHighWatermark(log.logEndOffset);
    fs.setFaultInjector((operation) => (operation === 'sync' ? 'EIO' : undefined));
    const refused = log.append(buildBatch({ count: 3 }), { leaderEpoch: 0, appendTimeMs: 0 });
    const queuedBehind = log.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 });
    await assert.rejects(refused, expectKafkaError(ErrorCode.KAFKA_STORAGE_ERROR));
    await assert.rejects(queuedBehind, expectKafkaError(ErrorCode.KAFKA_STORAGE_ERROR));
    // The batch is in the file, but it never counted as written: no high watermark can reach it.
    assert.equal(log.logEndOffset, 4);
    assert.equal(log.updateHighWatermark(100), 4);
    assert.equal(log.isOffline, true);
    fs.setFaultInjector(undefined);
    // Offline until reopened, as Kafka's offline log dir: the disk working again changes nothing.
    await assert.rejects(log.read(0, everything), expectKafkaError(ErrorCode.KAFKA_STORAGE_ERROR));
    await assert.rejects(log.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 }), expectKafkaError(ErrorCode.KAFKA_STORAGE_ERROR));
    await manager.close();
    const reopened = await openTestLogManager({ fs, config: { flushMessages: 1 } });
    assert.equal(reopened.hadCleanShutdown, false, 'an offline log leaves no clean-shutdown marker');
    const again = reopened.get('t', 0)!;
    assert.equal(again.isOffline, false);
    assert.equal((await again.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 })).baseOffset, again.logEndOffset - 1);
    await reopened.close();
  });

  it('a failed scheduled flush (flush.ms) takes the log offline', async () => {
    const fs = new MemoryFileSystem();
    const clock = new ManualClock();
    const manager = await openTestLogManager({ fs, clock, config: { flushMs: 1000 } });
    const log = await manager.createLog('t', 0);
    await appendMany(log, 2);
    fs.setFaultInjector((operation) => (operation === 'sync' ? 'EIO' : undefined));
    clock.advance(1000);
    await waitFor(() => log.isOffline);
    fs.setFaultInjector(undefined);
    await assert.rejects(log.read(0, everything), expectKafkaError(ErrorCode.KAFKA_STORAGE_ERROR));
    await manager.close();
    assert.equal((await openTestLogManager({ fs })).hadCleanShutdown, false, 'an offline log leaves no clean-shutdown marker');
  });

  it('with flush.messages=1 an acknowledged append survives power loss', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openTestLogManager({ fs, config: { flushMessages: 1 } });
    const log = await manager.createLog('t', 0);
    await appendMany(log, 4);
    fs.simulatePowerLoss();
    const reopened = await openTestLogManager({ fs });
    assert.equal(reopened.hadCleanShutdown, false);
    assert.equal(reopened.get('t', 0)!.logEndOffset, 8);
    await reopened.close();
  });

  it('a flush syncs only the segment files written since their last fsync; a new log\'s files are created, not emptied', async () => {
    const memory = new MemoryFileSystem();
    const events: string[] = [];
    const manager = await openTestLogManager({ fs: observedFileSystem(memory, events), config: { flushMessages: 1, indexIntervalBytes: 200 } });
    const log = await manager.createLog('t', 0);
    const segmentEvents = () => events.filter((event) => /\.(log|index|timeindex)$/.test(event)).map((event) => event.replace(`${log.dir}/00000000000000000000`, ''));
    // Its directory is new: no file of these names can be there to empty, and the empty indexes
    // have nothing to make durable (their names go with the directory's sync).
    assert.deepEqual(segmentEvents(), []);
    await appendMany(log, 1);
    assert.deepEqual(segmentEvents(), ['sync .log'], 'a batch that adds no index entry costs one fsync');
    events.length = 0;
    await appendMany(log, 3);
    assert.ok(segmentEvents().includes('sync .index') && segmentEvents().includes('sync .timeindex'), 'indexes with new entries are synced');
    events.length = 0;
    await appendMany(log, 1);
    assert.deepEqual(segmentEvents(), ['sync .log']);
    memory.simulatePowerLoss();
    const reopened = await openTestLogManager({ fs: memory, config: { indexIntervalBytes: 200 } });
    assert.equal(reopened.get('t', 0)!.logEndOffset, 10);
    assert.deepEqual(await readAllOffsets(reopened.get('t', 0)!), [0, 2, 4, 6, 8]);
    await reopened.close();
  });

  it('without a flush, power loss drops unsynced appends; flushed ones are kept', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openTestLogManager({ fs });
    const log = await manager.createLog('t', 0);
    await appendMany(log, 3);
    await log.flush();
    assert.equal(log.recoveryPoint, 6);
    await appendMany(log, 2);
    fs.simulatePowerLoss();
    const reopened = await openTestLogManager({ fs });
    const again = reopened.get('t', 0)!;
    assert.equal(again.logEndOffset, 6);
    assert.deepEqual(await readAllOffsets(again), [0, 2, 4]);
    await reopened.close();
  });

  it('a truncation is durable before anything is appended over it: the truncated batches never come back', async () => {
    for (const segmentBytes of [1 << 20, 100]) {
      const fs = new MemoryFileSystem();
      const manager = await openTestLogManager({ fs, config: { segmentBytes } });
      const log = await manager.createLog('t', 0);
      await appendMany(log, 3);
      await log.flush();
      await log.truncateTo(2);
      await appendMany(log, 1, { timestampMs: 9000 }, 1);
      fs.simulatePowerLoss();
      const reopened = await openTestLogManager({ fs });
      const again = reopened.get('t', 0)!;
      assert.equal(again.logEndOffset, 2, `segment.bytes=${segmentBytes}: the log ends at the truncation (the epoch-1 batch was never synced)`);
      assert.deepEqual(await readAllOffsets(again), [0]);
      assert.deepEqual(again.leaderEpochCache.entries.map((entry) => entry.epoch), [0]);
      await reopened.close();
    }
  });

  it('flushes on flush.ms through the clock', async () => {
    const fs = new MemoryFileSystem();
    const clock = new ManualClock();
    const manager = await openTestLogManager({ fs, clock, config: { flushMs: 1000 } });
    const log = await manager.createLog('t', 0);
    await appendMany(log, 2);
    assert.equal(log.recoveryPoint, 0);
    clock.advance(999);
    await waitFor(() => true);
    assert.equal(log.recoveryPoint, 0);
    clock.advance(1);
    await waitFor(() => log.recoveryPoint === 4);
    fs.simulatePowerLoss();
    const reopened = await openTestLogManager({ fs });
    assert.equal(reopened.get('t', 0)!.logEndOffset, 4);
    await reopened.close();
  });
});
