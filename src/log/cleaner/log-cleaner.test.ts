import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFileSystem } from '../../base/memory-file-system.js';
import { BatchAttribute, CompressionType } from '../../protocol/records/batch-header.js';
import { ControlRecordType, buildControlBatchSync } from '../../protocol/records/control-record.js';
import { CLEANED_FILE_SUFFIX, LOG_FILE_SUFFIX, offsetFileName, SWAP_FILE_SUFFIX } from '../log-file-names.js';
import { waitFor } from '../../testing/log-support.js';
import { type CleanerPause, type CleanerPausePoint, setCleanerPauseHookForTests } from './log-cleaner.js';
import { OFFSET_MAP_SLOT_BYTES } from './offset-map.js';
import { ManualClock, START_MS, appendCommitted, appendUpdates, keyedBatch, openCompactedLog, readLog } from '../../testing/test-compaction.js';

function latestByKey(records: { key: Buffer | null; value: Buffer | null; offset: number }[]): Map<string, { offset: number; value: string | null }> {
  return new Map(records.map((record) => [record.key!.toString(), { offset: record.offset, value: record.value?.toString() ?? null }]));
}

describe('log cleaner', () => {
  it('keeps exactly the latest record per key at its original offset', async () => {
    const clock = new ManualClock(START_MS);
    const { manager, log } = await openCompactedLog(new MemoryFileSystem(), clock);
    const latest = await appendUpdates(log, 20, 600);
    const endOffset = log.logEndOffset;
    const [stats] = await manager.cleaner!.cleanNow();
    assert.ok(stats && stats.recordsRemoved > 0);
    const { records } = await readLog(log);
    // The active segment is never cleaned: its records are all there; below it one record per key.
    const activeBase = log.segmentBaseOffsets.at(-1)!;
    const cleanedPart = records.filter((record) => record.offset < activeBase);
    const keysBelow = new Set(cleanedPart.map((record) => record.key!.toString()));
    assert.equal(cleanedPart.length, keysBelow.size, 'one record per key below the active segment');
    for (const record of cleanedPart) {
      const expected = latest.get(Number(record.key!.toString().slice(1)))!;
      if (expected.offset < activeBase) assert.deepEqual({ offset: record.offset, value: record.value!.toString() }, expected);
    }
    for (const [key, expected] of latest) {
      const found = records.find((record) => record.offset === expected.offset);
      assert.equal(found?.value?.toString(), expected.value, `latest of k${key} is still at offset ${expected.offset}`);
    }
    assert.equal(log.logEndOffset, endOffset);
    await manager.close();
  });

  it('removes tombstones only after delete.retention.ms from their first cleaning', async () => {
    const clock = new ManualClock(START_MS);
    const { manager, log } = await openCompactedLog(new MemoryFileSystem(), clock, { deleteRetentionMs: 10_000 });
    await appendUpdates(log, 10, 100);
    for (let key = 0; key < 5; key += 1) await appendCommitted(log, keyedBatch([{ key, value: null }], START_MS));
    await appendUpdates(log, 10_000, 40, START_MS, 100); // pushes the tombstones out of the active segment
    await manager.cleaner!.cleanNow();
    const afterFirst = latestByKey((await readLog(log)).records);
    for (let key = 0; key < 5; key += 1) assert.equal(afterFirst.get(`k${key}`)?.value, null, `tombstone of k${key} kept before the horizon`);
    const withHorizon = (await readLog(log)).batches.filter((batch) => batch.records.some((record) => record.value === null));
    assert.ok(withHorizon.every((batch) => (batch.attributes & BatchAttribute.deleteHorizon) !== 0 && batch.baseTimestamp === START_MS + 10_000));
    // Record timestamps survive the horizon in the base timestamp.
    assert.ok(withHorizon.every((batch) => batch.records.every((record) => record.timestamp === START_MS)));
    assert.deepEqual(await manager.cleaner!.cleanNow(), [], 'nothing is due before the horizon');
    clock.advance(10_001);
    const [stats] = await manager.cleaner!.cleanNow();
    assert.equal(stats?.tombstonesRemoved, 5);
    const afterSecond = latestByKey((await readLog(log)).records);
    for (let key = 0; key < 5; key += 1) assert.equal(afterSecond.has(`k${key}`), false, `tombstone of k${key} gone`);
    for (let key = 5; key < 10; key += 1) assert.ok(afterSecond.get(`k${key}`)?.value?.startsWith('value-'));
    await manager.close();
  });

  it('honours min.compaction.lag.ms and min.cleanable.dirty.ratio', async () => {
    const clock = new ManualClock(START_MS);
    const { manager, log } = await openCompactedLog(new MemoryFileSystem(), clock, { minCompactionLagMs: 60_000, minCleanableDirtyRatio: 0.5 });
    await appendUpdates(log, 300, 300, START_MS);
    await appendUpdates(log, 5, 300, START_MS, 1000);
    assert.deepEqual(await manager.cleaner!.cleanNow(), [], 'records younger than the lag stay');
    clock.advance(60_001);
    assert.equal((await manager.cleaner!.cleanNow()).length, 1);
    // Little new dirty data next to 300 clean keys: the ratio stays under 0.5, so no pass.
    await appendUpdates(log, 5, 20, clock.nowMs() - 120_000);
    await appendUpdates(log, 1000, 30, clock.nowMs(), 2000);
    assert.deepEqual(await manager.cleaner!.cleanNow(), []);
    await manager.close();
  });

  it('cleans past max.compaction.lag.ms whatever the dirty ratio', async () => {
    const clock = new ManualClock(START_MS);
    const { manager, log } = await openCompactedLog(new MemoryFileSystem(), clock, { minCleanableDirtyRatio: 0.99, maxCompactionLagMs: 30_000 });
    await appendUpdates(log, 500, 200, START_MS);
    assert.equal((await manager.cleaner!.cleanNow()).length, 1, 'first pass: everything is dirty');
    await appendUpdates(log, 1, 30, START_MS + 1);
    await appendUpdates(log, 10_000, 20, START_MS + 1, 1000);
    assert.deepEqual(await manager.cleaner!.cleanNow(), []);
    clock.advance(30_001);
    assert.equal((await manager.cleaner!.cleanNow()).length, 1);
    await manager.close();
  });

  it('recompresses with the batch codec and keeps control batches and each producer last batch', async () => {
    const clock = new ManualClock(START_MS);
    const { manager, log } = await openCompactedLog(new MemoryFileSystem(), clock);
    for (let round = 0; round < 30; round += 1) {
      const records = Array.from({ length: 5 }, (_, index) => ({ key: index, value: `r${round}-${index}-${'x'.repeat(50)}` }));
      await appendCommitted(log, keyedBatch(records, START_MS, { compression: round % 2 === 0 ? CompressionType.gzip : CompressionType.lz4 }));
    }
    const producerBatch = await appendCommitted(log, keyedBatch([{ key: 0, value: 'from-producer' }], START_MS, { producerId: 42, producerEpoch: 0, baseSequence: 0 }));
    await appendCommitted(log, buildControlBatchSync({ type: ControlRecordType.commit, producerId: 43, producerEpoch: 0, coordinatorEpoch: 1, timestamp: START_MS }));
    await appendUpdates(log, 5, 40, START_MS); // supersedes k0..k4, including the producer's record
    await appendUpdates(log, 10_000, 40, START_MS, 100);
    await manager.cleaner!.cleanNow();
    const { batches } = await readLog(log);
    const active = log.segmentBaseOffsets.at(-1)!;
    const compressed = batches.filter((batch) => batch.baseOffset < active && batch.compression !== CompressionType.none);
    for (const batch of compressed) assert.ok(batch.compression === CompressionType.gzip || batch.compression === CompressionType.lz4);
    const producer = batches.find((batch) => batch.producerId === 42);
    assert.ok(producer, 'the producer last batch survives');
    assert.equal(producer.baseOffset, producerBatch);
    assert.equal(producer.records.length, 0, 'emptied of its superseded record');
    assert.equal(producer.baseSequence, 0);
    assert.ok(batches.some((batch) => batch.control && batch.producerId === 43), 'the transaction marker is kept');
    await manager.close();
  });

  it('works incrementally when the offset map is smaller than the keys', async () => {
    const clock = new ManualClock(START_MS);
    // Room for 100 keys: 400 keys take several passes, each ending where the map filled.
    const { manager, log } = await openCompactedLog(new MemoryFileSystem(), clock, { segmentBytes: 4096 }, Math.ceil(100 / 0.9) * OFFSET_MAP_SLOT_BYTES + OFFSET_MAP_SLOT_BYTES);
    const latest = await appendUpdates(log, 400, 2000);
    await appendUpdates(log, 100_000, 30, START_MS, 1000);
    let passes = 0;
    for (;;) {
      const stats = await manager.cleaner!.cleanNow();
      if (stats.length === 0) break;
      passes += 1;
      assert.ok(passes < 50, 'cleaning converges');
    }
    assert.ok(passes >= 3, `passes ${passes}`);
    const { records } = await readLog(log);
    for (const [key, expected] of latest) {
      assert.equal(records.find((record) => record.key?.toString() === `k${key}` && record.offset === expected.offset)?.value?.toString(), expected.value);
    }
    await manager.close();
  });

  it('keeps appending and reading while a clean is in progress', async () => {
    const clock = new ManualClock(START_MS);
    const { manager, log } = await openCompactedLog(new MemoryFileSystem(), clock);
    await appendUpdates(log, 50, 1000);
    const cleaning = manager.cleaner!.cleanNow();
    let appended = 0;
    let done = false;
    void cleaning.then(() => (done = true));
    while (!done) {
      await appendCommitted(log, keyedBatch([{ key: 1000 + appended, value: 'during' }], START_MS));
      await log.read(log.logStartOffset, { maxBytes: 4096, maxOffset: log.highWatermark, minOneBatch: true });
      appended += 1;
      // Requests arrive as I/O events; on the memory file system the loop must give way like one.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await cleaning;
    assert.ok(appended > 5, `appends during the clean: ${appended}`);
    const { records } = await readLog(log);
    assert.equal(records.filter((record) => record.value?.toString() === 'during').length, appended);
    await manager.close();
  });
});

describe('log cleaner pause points (a test hook)', () => {
  it('holds a pass before the swap and after its commit point for as long as the hook waits', async () => {
    const fs = new MemoryFileSystem();
    const clock = new ManualClock(START_MS);
    const { manager, log } = await openCompactedLog(fs, clock);
    const latest = await appendUpdates(log, 15, 400);
    const dir = '/data/compacted-0';
    const names = async () => (await fs.readdir(dir)).map((entry) => entry.name).sort();
    // The hook holds the first arrival at each point until the test lets it go.
    const arrivals: CleanerPause[] = [];
    let release: (() => void) | undefined;
    const removeHook = setCleanerPauseHookForTests((pause) => {
      arrivals.push(pause);
      if (arrivals.filter((arrival) => arrival.point === pause.point).length > 1) return undefined;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    try {
      let settled = false;
      const cleaning = manager.cleaner!.cleanNow().finally(() => {
        settled = true;
      });
      const heldAt = async (point: CleanerPausePoint): Promise<CleanerPause> => {
        await waitFor(() => release !== undefined);
        const pause = arrivals.at(-1)!;
        assert.equal(pause.point, point);
        assert.deepEqual([pause.topic, pause.partition], ['compacted', 0]);
        // However long the test takes, the cleaner stays where it is.
        const before = await names();
        for (let turn = 0; turn < 50; turn += 1) await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(await names(), before, `nothing moves while held at ${point}`);
        assert.equal(settled, false, `the pass waits at ${point}`);
        return pause;
      };

      const beforeSwap = await heldAt('before-swap');
      const cleanedName = `${offsetFileName(beforeSwap.baseOffset, LOG_FILE_SUFFIX)}${CLEANED_FILE_SUFFIX}`;
      assert.ok((await names()).includes(cleanedName), `${cleanedName} is written before the swap`);
      assert.ok((await names()).includes(offsetFileName(beforeSwap.baseOffset, LOG_FILE_SUFFIX)), 'the old segment is in place');
      const letGo = release!;
      release = undefined;
      letGo();

      const committed = await heldAt('swap-committed');
      assert.equal(committed.baseOffset, beforeSwap.baseOffset, 'the same group reaches its commit point');
      const swapName = `${offsetFileName(committed.baseOffset, LOG_FILE_SUFFIX)}${SWAP_FILE_SUFFIX}`;
      assert.ok((await names()).includes(swapName), `${swapName} is the commit point`);
      assert.ok(!(await names()).includes(cleanedName));
      assert.ok((await names()).includes(offsetFileName(committed.baseOffset, LOG_FILE_SUFFIX)), 'the old segment is still in place');
      release!();

      const [stats] = await cleaning;
      assert.ok(stats && stats.recordsRemoved > 0);
      assert.ok(arrivals.filter((arrival) => arrival.point === 'before-swap').length >= 1);
      assert.deepEqual((await names()).filter((name) => name.endsWith(CLEANED_FILE_SUFFIX) || name.endsWith(SWAP_FILE_SUFFIX)), [], 'no temporary files once released');
      const { records } = await readLog(log);
      for (const [key, expected] of latest) assert.equal(records.find((record) => record.offset === expected.offset)?.value?.toString(), expected.value, `k${key} kept`);
    } finally {
      removeHook();
      await manager.close();
    }
  });
});
