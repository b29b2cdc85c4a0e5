import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { FileSystem } from '../base/file-system.js';
import { pathExists } from '../base/file-system.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { NodeFileSystem } from '../node/node-file-system.js';
import { readBaseOffset } from '../protocol/records/batch-header.js';
import type { PartitionLog } from './partition-log.js';
import { buildRecordBatchSync } from '../protocol/records/record-batch.js';
import { buildBatch } from '../testing/test-batches.js';
import { openTestLogManager, readBatches } from '../testing/log-support.js';

const config = { segmentBytes: 2000, indexIntervalBytes: 200 };

async function restartKeepsEverything(fs: FileSystem, dataDir: string): Promise<void> {
  const manager = await openTestLogManager({ fs, dataDir, config });
  const log = await manager.createLog('events', 3);
  await manager.createLog('__cluster_metadata', 0);
  for (let index = 0; index < 60; index += 1) {
    await log.append(buildBatch({ count: 2, valueBytes: 20, timestampMs: 5000 + index }), { leaderEpoch: index < 30 ? 1 : 2, appendTimeMs: 0 });
  }
  log.updateHighWatermark(100);
  assert.ok(log.maybeIncrementLogStartOffset(10));
  const before = await log.read(0 + 10, { maxBytes: 1 << 20, maxOffset: 120, minOneBatch: true });
  await manager.close();
  assert.equal(await pathExists(fs, `${dataDir}/.kafka_cleanshutdown`), true);

  const reopened = await openTestLogManager({ fs, dataDir, config });
  assert.equal(reopened.hadCleanShutdown, true);
  assert.equal(await pathExists(fs, `${dataDir}/.kafka_cleanshutdown`), false);
  assert.equal(reopened.size, 2);
  assert.ok(reopened.get('__cluster_metadata', 0));
  const again = reopened.get('events', 3)!;
  assert.equal(again.logEndOffset, 120);
  assert.equal(again.nextOffset, 120);
  assert.equal(again.highWatermark, 100);
  assert.equal(again.logStartOffset, 10);
  assert.equal(again.recoveryPoint, 120);
  assert.deepEqual(again.leaderEpochCache.entries, [{ epoch: 1, startOffset: 10 }, { epoch: 2, startOffset: 60 }]);
  assert.deepEqual(again.segmentBaseOffsets, log.segmentBaseOffsets);
  const after = await again.read(10, { maxBytes: 1 << 20, maxOffset: 120, minOneBatch: true });
  assert.equal(after.fromCache, false);
  // A disk read stops at the end of a segment; the tail cache is not bound by segments.
  assert.ok(after.chunks.length > 0);
  assert.deepEqual(Buffer.concat(after.chunks), Buffer.concat(before.chunks).subarray(0, after.bytes));
  assert.deepEqual(await again.offsetForTimestamp(5030), { offset: 58, timestamp: 5030 });
  assert.equal((await again.append(buildBatch(), { leaderEpoch: 2, appendTimeMs: 0 })).baseOffset, 120);
  await reopened.close();
}

describe('log manager', () => {
  it('restart keeps everything (memory file system)', async () => {
    await restartKeepsEverything(new MemoryFileSystem(), '/data');
  });

  it('restart keeps everything (node file system, temporary directory)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'conveyor-log-'));
    try {
      await restartKeepsEverything(new NodeFileSystem(), root);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('writes checkpoints in Kafka text format', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openTestLogManager({ fs });
    const log = await manager.createLog('a-b', 1);
    await log.append(buildBatch({ count: 3 }), { leaderEpoch: 5, appendTimeMs: 0 });
    log.updateHighWatermark(3);
    await manager.close();
    const text = async (name: string) => (await fs.readFile(`/data/${name}`)).toString();
    assert.equal(await text('recovery-point-offset-checkpoint'), '0\n1\na-b 1 3\n');
    assert.equal(await text('log-start-offset-checkpoint'), '0\n1\na-b 1 0\n');
    assert.equal(await text('replication-offset-checkpoint'), '0\n1\na-b 1 3\n');
    assert.equal(await text('a-b-1/leader-epoch-checkpoint'), '0\n1\n5 0\n');
    const files = (await fs.readdir('/data/a-b-1')).map((entry) => entry.name).sort();
    // A clean close also leaves the producer state snapshot at the log end offset, as Kafka does.
    assert.deepEqual(files, ['00000000000000000000.index', '00000000000000000000.log', '00000000000000000000.timeindex', '00000000000000000003.snapshot', 'leader-epoch-checkpoint']);
  });

  it('creates logs idempotently, also concurrently, and rejects illegal names', async () => {
    const manager = await openTestLogManager();
    const [first, second] = await Promise.all([manager.createLog('t', 0), manager.createLog('t', 0)]);
    assert.equal(first, second);
    assert.equal(await manager.createLog('t', 0), first);
    await assert.rejects(manager.createLog('bad name', 0));
    await assert.rejects(manager.createLog('t', -1));
    await manager.close();
  });

  it('creates many logs at once with a few shared syncs of the data dir, and writes no leader-epoch checkpoint yet', async () => {
    const memory = new MemoryFileSystem();
    const manager = await openTestLogManager({ fs: memory, dataDir: '/data' });
    let syncs = 0;
    const syncDirectory = memory.syncDirectory.bind(memory);
    memory.syncDirectory = async (path: string) => {
      if (path === '/data') syncs += 1;
      await syncDirectory(path);
    };
    const logs = await Promise.all(Array.from({ length: 100 }, (_, partition) => manager.createLog('wide', partition)));
    assert.ok(syncs >= 1 && syncs <= 10, `${syncs} syncs`);
    for (const log of logs) log.leaderEpochCache.assign(3, 0);
    assert.equal(await pathExists(memory, '/data/wide-7/leader-epoch-checkpoint'), false);
    await manager.close();
    assert.equal((await memory.readFile('/data/wide-7/leader-epoch-checkpoint')).toString(), '0\n1\n3 0\n');
  });

  it('deletes a log by renaming its directory, then removing it', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openTestLogManager({ fs });
    const log = await manager.createLog('gone', 0);
    await log.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 });
    await manager.deleteLog('gone', 0);
    assert.equal(manager.get('gone', 0), undefined);
    await manager.deletionsSettled();
    assert.deepEqual((await fs.readdir('/data')).filter((entry) => entry.isDirectory), []);
    await fs.mkdir('/data/old-0.0123abcd-delete');
    await manager.close();
    const reopened = await openTestLogManager({ fs });
    await reopened.deletionsSettled();
    assert.equal(reopened.size, 0);
    assert.equal(await pathExists(fs, '/data/old-0.0123abcd-delete'), false);
    await reopened.close();
  });

  it('applies config updates to new appends', async () => {
    const manager = await openTestLogManager();
    const log = await manager.createLog('t', 0);
    manager.updateConfig('t', 0, { messageTimestampType: 'LogAppendTime' });
    const result = await log.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 77 });
    assert.equal(result.logAppendTimeMs, 77);
    await manager.close();
  });

  // How long these reopens take is a benchmark figure (bench/log-manager-open.ts), not an assertion.
  it('reopens 1,000 partitions with bounded file handles', async () => {
    const fs = new MemoryFileSystem();
    const extra = { openFileHandlesMax: 64 };
    const manager = await openTestLogManager({ fs, extra });
    for (let partition = 0; partition < 1000; partition += 1) {
      const log = await manager.createLog('wide', partition);
      await log.append(buildBatch({ count: 2 }), { leaderEpoch: 0, appendTimeMs: 0 });
    }
    assert.ok(manager.openFileHandleCount <= 64);
    await manager.close();
    const reopened = await openTestLogManager({ fs, extra });
    assert.equal(reopened.hadCleanShutdown, true);
    assert.equal(reopened.size, 1000);
    assert.ok(reopened.openFileHandleCount <= 64);
    const sample = reopened.get('wide', 999)!;
    assert.equal(sample.logEndOffset, 2);
    assert.equal(readBaseOffset((await sample.read(0, { maxBytes: 1000, maxOffset: 2, minOneBatch: true })).chunks[0]!), 0);
    await reopened.close();
  });

  it('reopens 1,000 partitions on a real disk', async () => {
    const root = await mkdtemp(join(tmpdir(), 'conveyor-wide-'));
    try {
      const fs = new NodeFileSystem();
      const manager = await openTestLogManager({ fs, dataDir: root });
      await Promise.all(
        Array.from({ length: 1000 }, async (_, partition) => {
          const log = await manager.createLog('wide', partition);
          await log.append(buildBatch({ count: 2 }), { leaderEpoch: 0, appendTimeMs: 0 });
        }),
      );
      await manager.close();
      const reopened = await openTestLogManager({ fs, dataDir: root });
      assert.equal(reopened.hadCleanShutdown, true);
      assert.equal(reopened.size, 1000);
      for (const partition of [0, 500, 999]) {
        const log = reopened.get('wide', partition)!;
        assert.equal(log.logEndOffset, 2, `partition ${partition} ends where it was closed`);
        const read = await log.read(0, { maxBytes: 1000, maxOffset: 2, minOneBatch: true });
        assert.equal(readBaseOffset(read.chunks[0]!), 0, `partition ${partition} reads its batch back`);
      }
      await reopened.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('the clean shutdown marker carries the broker epoch (KIP-966)', () => {
  it('records the epoch a clean close was given, and none after a close without one or a crash', async () => {
    const fs = new MemoryFileSystem();
    const dataDir = '/epoch';
    const first = await openTestLogManager({ fs, dataDir, config });
    assert.equal(first.previousBrokerEpoch, -1, 'a new data dir');
    await first.close(7);
    assert.equal((await fs.readFile(`${dataDir}/.kafka_cleanshutdown`)).toString(), '{"version":0,"brokerEpoch":7}', "Kafka's marker content");
    const second = await openTestLogManager({ fs, dataDir, config });
    assert.equal(second.previousBrokerEpoch, 7);
    await second.close();
    const third = await openTestLogManager({ fs, dataDir, config });
    assert.deepEqual([third.hadCleanShutdown, third.previousBrokerEpoch], [true, -1], 'clean, but no epoch (a single node)');
    // Opened and never closed: the next start finds no marker.
    const fourth = await openTestLogManager({ fs, dataDir, config });
    assert.deepEqual([fourth.hadCleanShutdown, fourth.previousBrokerEpoch], [false, -1]);
  });
});

describe('log manager with several log directories (log.dirs)', () => {
  const dirs = ['/d1', '/d2', '/d3'];
  const openDirs = (fs: FileSystem, extra: Parameters<typeof openTestLogManager>[0] = {}) =>
    openTestLogManager({ fs, dataDir: dirs[0], config, ...extra, extra: { dataDirs: dirs, ...extra.extra } });

  it('places each new log in the directory with the fewest, and finds every log again after a restart', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openDirs(fs);
    await manager.createLog('meta', 0, {}, '/d1');
    const created = await Promise.all([0, 1, 2, 3, 4].map((partition) => manager.createLog('t', partition)));
    const placed = created.map((log) => manager.logDirOf(log.topic, log.partition));
    // /d1 already holds one log: the five go 2-2-1 over /d2, /d3, /d1 (fewest first, log.dirs order on ties).
    assert.deepEqual(placed, ['/d2', '/d3', '/d1', '/d2', '/d3']);
    for (const log of created) await log.append(buildBatch({ count: 3 }), { leaderEpoch: 0, appendTimeMs: 0 });
    await manager.close();
    for (const dir of dirs) assert.equal(await pathExists(fs, `${dir}/.kafka_cleanshutdown`), true, `${dir} closed cleanly`);
    assert.match((await fs.readFile('/d2/recovery-point-offset-checkpoint')).toString(), /^0\n2\nt 0 3\nt 3 3\n$/);

    const reopened = await openDirs(fs);
    assert.equal(reopened.hadCleanShutdown, true);
    assert.equal(reopened.size, 6);
    for (const [partition, dir] of placed.entries()) {
      assert.equal(reopened.logDirOf('t', partition), dir);
      assert.equal(reopened.get('t', partition)!.logEndOffset, 3);
    }
    await reopened.close();
  });

  it('refuses to start when one partition is found in two directories', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openDirs(fs);
    await manager.createLog('t', 0, {}, '/d2');
    await manager.close();
    await fs.mkdir('/d3/t-0');
    await assert.rejects(openDirs(fs), /t-0 found in both \/d2 and \/d3/);
  });

  it('an I/O error in one log fails its whole directory once; the other directories carry on', async () => {
    const fs = new MemoryFileSystem();
    const failures: string[] = [];
    const manager = await openDirs(fs, { config: { ...config, flushMessages: 1 }, extra: { onLogDirFailure: (dir) => failures.push(dir) } });
    const logs = await Promise.all([0, 1, 2, 3, 4, 5].map((partition) => manager.createLog('t', partition)));
    const inD2 = logs.filter((log) => manager.logDirOf(log.topic, log.partition) === '/d2');
    assert.equal(inD2.length, 2);
    fs.setFaultInjector((operation, path) => (operation === 'sync' && path.startsWith(inD2[0]!.dir) ? 'EIO' : undefined));
    await assert.rejects(inD2[0]!.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 }), /KAFKA_STORAGE_ERROR|fsync/);
    fs.setFaultInjector(undefined);
    assert.deepEqual(failures, ['/d2']);
    assert.deepEqual(manager.logDirs, [{ path: '/d1', offline: false }, { path: '/d2', offline: true }, { path: '/d3', offline: false }]);
    for (const log of logs) assert.equal(log.isOffline, inD2.includes(log), `${log.dir} offline only if in /d2`);
    await assert.rejects(inD2[1]!.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 }), /offline/);
    // New logs avoid the failed directory; logs elsewhere take writes.
    const next = await manager.createLog('u', 0);
    assert.notEqual(manager.logDirOf('u', 0), '/d2');
    assert.equal((await next.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 })).baseOffset, 0);
    await manager.close();
    assert.equal(await pathExists(fs, '/d2/.kafka_cleanshutdown'), false, 'a failed directory gets no clean-shutdown marker');
    assert.equal(await pathExists(fs, '/d1/.kafka_cleanshutdown'), true);
  });

  it('a directory that cannot be read at start is offline; the rest load', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openDirs(fs);
    await manager.createLog('t', 0, {}, '/d1');
    await manager.createLog('t', 1, {}, '/d3');
    await manager.close();
    const failures: string[] = [];
    fs.setFaultInjector((operation, path) => (path.startsWith('/d3') ? 'EIO' : undefined));
    const reopened = await openDirs(fs, { extra: { onLogDirFailure: (dir) => failures.push(dir) } });
    fs.setFaultInjector(undefined);
    assert.deepEqual(failures, ['/d3']);
    assert.equal(reopened.get('t', 0)?.isOffline, false);
    assert.equal(reopened.get('t', 1), undefined, 'the log in the failed directory is not served');
    await reopened.close();
  });

  it('offlineOnWriteError: a full disk fails the directory (a cluster moves leadership away)', async () => {
    const fs = new MemoryFileSystem();
    const failures: string[] = [];
    const manager = await openDirs(fs, { extra: { offlineOnWriteError: true, onLogDirFailure: (dir) => failures.push(dir) } });
    const log = await manager.createLog('t', 0, {}, '/d3');
    fs.setCapacityBytes(fs.usedBytes + 10);
    await assert.rejects(log.append(buildBatch({ count: 5 }), { leaderEpoch: 0, appendTimeMs: 0 }));
    fs.setCapacityBytes(Number.POSITIVE_INFINITY);
    assert.deepEqual(failures, ['/d3']);
    assert.equal(log.isOffline, true);
    await manager.close();
  });
});

describe('moving a log to another log directory (AlterReplicaLogDirs)', () => {
  const dirs = ['/d1', '/d2'];
  const openDirs = (fs: FileSystem) => openTestLogManager({ fs, dataDir: dirs[0], config, extra: { dataDirs: dirs } });

  it('copies the log, takes the old copy away, and keeps offsets, epochs and producer state', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openDirs(fs);
    const log = await manager.createLog('t', 0, { segmentBytes: 600 }, '/d1');
    for (let index = 0; index < 20; index += 1) await log.append(buildBatch({ count: 3 }), { leaderEpoch: index < 10 ? 1 : 2, appendTimeMs: 0 });
    const idempotent = () => buildRecordBatchSync([{ key: null, value: Buffer.from('once') }], { producerId: 42, producerEpoch: 0, baseSequence: 0 });
    assert.equal((await log.append(idempotent(), { leaderEpoch: 2, appendTimeMs: 0 })).baseOffset, 60);
    log.updateHighWatermark(45);
    const segmentsBefore = (await fs.readdir('/d1/t-0')).filter((entry) => entry.name.endsWith('.log')).length;
    assert.ok(segmentsBefore > 1, 'several segments to copy');
    const moved = await manager.moveLog('t', 0, '/d2');
    assert.equal(manager.logDirOf('t', 0), '/d2');
    assert.equal(manager.get('t', 0), moved);
    assert.deepEqual([moved.logStartOffset, moved.logEndOffset, moved.highWatermark], [0, 61, 45]);
    assert.deepEqual(moved.producerState.checkAppend(idempotent()), { baseOffset: 60, lastOffset: 60 }, 'a retried batch is still known as a duplicate');
    assert.deepEqual(moved.leaderEpochCache.entries, [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 30 }]);
    const read = await moved.read(0, { maxBytes: 1 << 20, maxOffset: 60, minOneBatch: true });
    assert.equal(read.chunks.reduce((count, chunk) => count + chunk.length, 0) > 0, true);
    assert.equal(readBaseOffset(read.chunks[0]!), 0);
    assert.equal((await moved.append(buildBatch(), { leaderEpoch: 2, appendTimeMs: 0 })).baseOffset, 61);
    await manager.deletionsSettled();
    assert.deepEqual((await fs.readdir('/d1')).filter((entry) => entry.isDirectory).map((entry) => entry.name), [], 'nothing left in /d1');
    await manager.close();
    const reopened = await openDirs(fs);
    assert.equal(reopened.logDirOf('t', 0), '/d2');
    assert.equal(reopened.get('t', 0)!.logEndOffset, 62);
    await reopened.close();
  });

  it('copies while the log takes appends; pause() comes once, then the log refuses appends until the moved one takes over', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openDirs(fs);
    const log = await manager.createLog('t', 0, { segmentBytes: 600 }, '/d1');
    for (let index = 0; index < 10; index += 1) await log.append(buildBatch({ count: 2 }), { leaderEpoch: 3, appendTimeMs: 0 });
    log.updateHighWatermark(log.logEndOffset);
    let pauses = 0;
    const move = manager.moveLog('t', 0, '/d2', () => {
      pauses += 1;
    });
    // Appends (and the high watermark) keep moving while the copy fills.
    const appendedDuring: number[] = [];
    const futures: (string | undefined)[] = [];
    while (pauses === 0) {
      futures.push(manager.futureOf('t', 0)?.logDir);
      try {
        appendedDuring.push((await log.append(buildBatch({ count: 2 }), { leaderEpoch: 3, appendTimeMs: 0 })).baseOffset);
        log.updateHighWatermark(log.logEndOffset);
      } catch (error) {
        assert.match(String(error), /moving to another log directory/);
        break;
      }
    }
    const moved = await move;
    assert.equal(pauses, 1);
    assert.ok(appendedDuring.length > 0, 'appends went on during the copy');
    assert.ok(futures.includes('/d2'), 'the copy shows as the future log in /d2 while it fills');
    assert.equal(manager.futureOf('t', 0), undefined, 'no future log once moved');
    assert.equal(moved.logEndOffset, log.logEndOffset);
    const before = Array.from({ length: 10 }, (_, index) => index * 2);
    assert.deepEqual(await readOffsetsOf(moved), [...before, ...appendedDuring], 'every batch, those appended during the copy too');
    assert.deepEqual(moved.leaderEpochCache.entries, [{ epoch: 3, startOffset: 0 }]);
    assert.equal(manager.logDirOf('t', 0), '/d2');
    await assert.rejects(log.append(buildBatch(), { leaderEpoch: 3, appendTimeMs: 0 }), /closed|moving/);
    await manager.close();
  });

  it('after a crash mid-move: a copy beside a live log is dropped; a complete copy whose original is gone becomes the log', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openDirs(fs);
    const log = await manager.createLog('t', 0, {}, '/d1');
    await log.append(buildBatch({ count: 4 }), { leaderEpoch: 0, appendTimeMs: 0 });
    await manager.close();
    // An unfinished copy next to the original: the original wins.
    await fs.mkdir('/d2/t-0.00000000000a-future');
    let reopened = await openDirs(fs);
    assert.equal(reopened.logDirOf('t', 0), '/d1');
    await reopened.deletionsSettled();
    assert.equal(await pathExists(fs, '/d2/t-0.00000000000a-future'), false);
    await reopened.close();
    // The copy was complete and the original already renamed away: the copy is the log now.
    await fs.rename('/d1/t-0', '/d2/t-0.00000000000b-future');
    reopened = await openDirs(fs);
    assert.equal(reopened.logDirOf('t', 0), '/d2');
    assert.equal(reopened.get('t', 0)!.logEndOffset, 4);
    await reopened.close();
  });

  it('refuses destinations that are not log directories, and a second move while one runs', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openDirs(fs);
    await manager.createLog('t', 0, {}, '/d1');
    await assert.rejects(manager.moveLog('t', 0, '/elsewhere'), /not a log directory/);
    const original = manager.get('t', 0);
    const first = manager.moveLog('t', 0, '/d2');
    await assert.rejects(manager.moveLog('t', 0, '/d2'), /being moved/);
    assert.equal(await manager.createLog('t', 0), original, 'while the copy fills, the log in place serves');
    const moved = await first;
    assert.notEqual(moved, original);
    assert.equal(await manager.createLog('t', 0), moved);
    await manager.close();
  });

  it('cancelMove gives the copy up (its -future directory removed) and the log stays, also once sealed for the last records', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openDirs(fs);
    const log = await manager.createLog('t', 0, {}, '/d1');
    for (let index = 0; index < 5; index += 1) await log.append(buildBatch({ count: 2 }), { leaderEpoch: 1, appendTimeMs: 0 });
    log.updateHighWatermark(log.logEndOffset);
    const futureDirs = async () => (await fs.readdir('/d2')).filter((entry) => entry.name.endsWith('-future'));

    // Given up as it starts: no future log from then on, and the log where it was.
    const move = manager.moveLog('t', 0, '/d2');
    const cancelled = manager.cancelMove('t', 0);
    assert.equal(manager.futureOf('t', 0), undefined);
    assert.equal(await move, log, 'the log stays, the same one');
    await cancelled;
    assert.equal(manager.logDirOf('t', 0), '/d1');
    assert.equal(manager.isMoving('t', 0), false);
    assert.deepEqual(await futureDirs(), []);

    // Given up once the log is sealed (pause): it is opened again where it was, whole.
    const sealedMove = manager.moveLog('t', 0, '/d2', () => void manager.cancelMove('t', 0));
    const stayed = await sealedMove;
    assert.equal(manager.get('t', 0), stayed);
    assert.equal(manager.logDirOf('t', 0), '/d1');
    assert.deepEqual(await futureDirs(), []);
    assert.deepEqual(await readOffsetsOf(stayed), [0, 2, 4, 6, 8]);
    assert.equal((await stayed.append(buildBatch(), { leaderEpoch: 1, appendTimeMs: 0 })).baseOffset, 10);
    // Nothing to give up: resolves at once; a later move goes ahead.
    await manager.cancelMove('t', 0);
    assert.equal(manager.logDirOf('t', 0), '/d1');
    await manager.moveLog('t', 0, '/d2');
    assert.equal(manager.logDirOf('t', 0), '/d2');
    await manager.close();
  });
});

describe('logFailureFailsDirectory: false (one directory on a single node)', () => {
  it('an I/O error takes only its own log offline', async () => {
    const fs = new MemoryFileSystem();
    const failures: string[] = [];
    const manager = await openTestLogManager({ fs, config: { ...config, flushMessages: 1 }, extra: { logFailureFailsDirectory: false, onLogDirFailure: (dir) => failures.push(dir) } });
    const [broken, healthy] = await Promise.all([manager.createLog('t', 0), manager.createLog('t', 1)]);
    fs.setFaultInjector((operation, path) => (operation === 'sync' && path.startsWith(broken!.dir) ? 'EIO' : undefined));
    await assert.rejects(broken!.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 }));
    fs.setFaultInjector(undefined);
    assert.equal(broken!.isOffline, true);
    assert.equal(healthy!.isOffline, false);
    assert.deepEqual(failures, []);
    assert.deepEqual(manager.logDirs, [{ path: '/data', offline: false }]);
    assert.equal((await healthy!.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 })).baseOffset, 0);
    await manager.close();
  });
});

/** The base offset of every batch in the log, read through its read path. */
async function readOffsetsOf(log: PartitionLog): Promise<number[]> {
  return (await readBatches(log)).map((batch) => readBaseOffset(batch));
}
