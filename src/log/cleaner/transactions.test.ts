import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFileSystem } from '../../base/memory-file-system.js';
import { readBaseOffset, readLastOffset } from '../../protocol/records/batch-header.js';
import { ControlRecordType, type ControlRecordTypeValue, buildControlBatchSync } from '../../protocol/records/control-record.js';
import type { PartitionLog } from '../partition-log.js';
import { type KeyedRecord, ManualClock, START_MS, appendCommitted, appendUpdates, keyedBatch, openCompactedLog, readLog } from '../../testing/test-compaction.js';

/** A transactional producer writing to the compacted log: data batches in sequence, then a marker. */
function transactionalProducer(log: PartitionLog, producerId: number) {
  let sequence = 0;
  return {
    async write(records: readonly KeyedRecord[]): Promise<number> {
      const batch = keyedBatch(records, START_MS, { producerId, producerEpoch: 0, baseSequence: sequence, transactional: true });
      sequence += records.length;
      return appendCommitted(log, batch);
    },
    end(type: ControlRecordTypeValue): Promise<number> {
      return appendCommitted(log, buildControlBatchSync({ type, producerId, producerEpoch: 0, coordinatorEpoch: 1, timestamp: START_MS }));
    },
  };
}

/** Every record of key `k<key>` in the log, oldest first. */
async function recordsOf(log: PartitionLog, key: number): Promise<{ offset: number; value: string | null }[]> {
  const { records } = await readLog(log);
  return records.filter((record) => record.key?.toString() === `k${key}`).map((record) => ({ offset: record.offset, value: record.value?.toString() ?? null }));
}

/** The stored bytes of every batch at or after `from`, by base offset. */
async function rawBatchesFrom(log: PartitionLog, from: number): Promise<Map<number, string>> {
  const batches = new Map<number, string>();
  let next = from;
  while (next < log.logEndOffset) {
    const { chunks } = await log.read(next, { maxBytes: 1 << 20, maxOffset: log.logEndOffset, minOneBatch: true });
    if (chunks.length === 0) break;
    for (const chunk of chunks) {
      if (readBaseOffset(chunk) >= from) batches.set(readBaseOffset(chunk), chunk.toString('hex'));
      next = readLastOffset(chunk) + 1;
    }
  }
  return batches;
}

describe('log cleaner and transactions', () => {
  it('drops records of an aborted transaction so the committed value of their key survives', async () => {
    const clock = new ManualClock(START_MS);
    const { manager, log } = await openCompactedLog(new MemoryFileSystem(), clock);
    const committed = await appendCommitted(log, keyedBatch([{ key: 1, value: 'v1' }], START_MS));
    const producer = transactionalProducer(log, 7);
    const abortedData = await producer.write([{ key: 1, value: 'v2' }, { key: 2, value: 'aborted-only' }]);
    const marker = await producer.end(ControlRecordType.abort);
    assert.deepEqual(log.producerState.abortedTransactions(0, log.logEndOffset).map((entry) => [entry.firstOffset, entry.lastOffset]), [[abortedData, marker]]);
    await appendUpdates(log, 10_000, 60, START_MS, 100); // pushes the transaction out of the active segment
    const endOffset = log.logEndOffset;

    const [stats] = await manager.cleaner!.cleanNow();
    assert.ok(stats !== undefined && stats.endOffset > marker, 'the pass covered the transaction');
    assert.deepEqual(await recordsOf(log, 1), [{ offset: committed, value: 'v1' }], 'v1 survives at its offset, v2 is gone');
    assert.deepEqual(await recordsOf(log, 2), [], 'a key written only by the aborted transaction is gone');
    const { batches } = await readLog(log);
    const markerBatch = batches.find((batch) => batch.control);
    assert.equal(markerBatch?.baseOffset, marker, 'the abort marker is kept at its offset');
    // The producer's only data batch stays, emptied, so its sequence state survives.
    const producerBatch = batches.find((batch) => batch.producerId === 7 && !batch.control);
    assert.equal(producerBatch?.baseOffset, abortedData);
    assert.equal(producerBatch?.records.length, 0);
    assert.equal(log.logEndOffset, endOffset);

    // A second pass finds the same: v1 is the latest value of k1 for good.
    await appendUpdates(log, 10_000, 60, START_MS, 20_000);
    await manager.cleaner!.cleanNow();
    assert.deepEqual(await recordsOf(log, 1), [{ offset: committed, value: 'v1' }]);
    await manager.close();
  });

  it('compacts committed transactional records like any other', async () => {
    const clock = new ManualClock(START_MS);
    const { manager, log } = await openCompactedLog(new MemoryFileSystem(), clock);
    await appendCommitted(log, keyedBatch([{ key: 3, value: 'plain' }], START_MS));
    const producer = transactionalProducer(log, 8);
    await producer.write([{ key: 1, value: 'a' }]);
    await producer.write([{ key: 1, value: 'b' }, { key: 3, value: 'from-txn' }]);
    const firstMarker = await producer.end(ControlRecordType.commit);
    const latest = await producer.write([{ key: 1, value: 'c' }]);
    const secondMarker = await producer.end(ControlRecordType.commit);
    await appendUpdates(log, 10_000, 60, START_MS, 100);

    await manager.cleaner!.cleanNow();
    assert.deepEqual(await recordsOf(log, 1), [{ offset: latest, value: 'c' }], 'the latest committed value wins');
    assert.deepEqual((await recordsOf(log, 3)).map((record) => record.value), ['from-txn'], 'a committed transaction supersedes an older plain value');
    const markers = (await readLog(log)).batches.filter((batch) => batch.control).map((batch) => batch.baseOffset);
    assert.deepEqual(markers, [firstMarker, secondMarker], 'commit markers are kept');
    await manager.close();
  });

  it('never cleans past the last stable offset: an open transaction and what follows stay as written', async () => {
    const clock = new ManualClock(START_MS);
    const { manager, log } = await openCompactedLog(new MemoryFileSystem(), clock);
    await appendUpdates(log, 5, 200); // dirty data below the transaction, worth a pass
    const producer = transactionalProducer(log, 9);
    const openFirst = await producer.write([{ key: 4, value: 'open-1' }]);
    await appendUpdates(log, 5, 60, START_MS); // supersedes k0..k4 above the open transaction
    await producer.write([{ key: 4, value: 'open-2' }]);
    await appendUpdates(log, 10_000, 60, START_MS, 100);
    assert.equal(log.producerState.lastStableOffset(log.highWatermark), openFirst);
    const untouched = await rawBatchesFrom(log, openFirst);

    const [stats] = await manager.cleaner!.cleanNow();
    assert.ok(stats !== undefined && stats.recordsRemoved > 0, 'the part below the transaction was cleaned');
    assert.ok(stats.endOffset <= openFirst, `pass ended at ${stats.endOffset}, at or before ${openFirst}`);
    assert.deepEqual(await rawBatchesFrom(log, openFirst), untouched, 'every batch from the last stable offset on is unchanged');
    assert.deepEqual((await recordsOf(log, 4)).filter((record) => record.offset >= openFirst).map((record) => record.value)[0], 'open-1');

    // Once it aborts, its records go and the newer plain values of k4 remain.
    await producer.end(ControlRecordType.abort);
    await appendUpdates(log, 10_000, 60, START_MS, 20_000);
    await manager.cleaner!.cleanNow();
    const k4 = (await recordsOf(log, 4)).map((record) => record.value);
    assert.equal(k4.includes('open-1') || k4.includes('open-2'), false, `aborted values gone: ${k4.join(',')}`);
    assert.equal(k4.length, 1, 'one value of k4 is left');
    await manager.close();
  });
});
