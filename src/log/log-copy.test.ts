import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readBaseOffset } from '../protocol/records/batch-header.js';
import { openTestLogManager, readBatches } from '../testing/log-support.js';
import { buildBatch } from '../testing/test-batches.js';
import { carryOver, catchUp } from './log-copy.js';
import type { PartitionLog } from './partition-log.js';

async function batchesOf(log: PartitionLog): Promise<{ base: number; epoch: number }[]> {
  return (await readBatches(log)).map((batch) => ({ base: readBaseOffset(batch), epoch: batch.readInt32BE(12) }));
}

describe('copying a log while it changes (log-copy)', () => {
  it('copies below the high watermark, then starts again when the source truncates what the copy has', async () => {
    const manager = await openTestLogManager({ config: { segmentBytes: 400 } });
    const source = await manager.createLog('t', 0);
    const copy = await manager.createLog('copy', 0);
    for (let index = 0; index < 6; index += 1) await source.append(buildBatch({ count: 2 }), { leaderEpoch: 1, appendTimeMs: 0 });
    source.updateHighWatermark(8);
    await catchUp(source, copy, () => source.highWatermark);
    assert.equal(copy.logEndOffset, 8, 'only what is below the high watermark');
    // Copied past what the source then loses: a truncation to 6 and new records of epoch 2.
    await catchUp(source, copy, () => source.logEndOffset);
    assert.equal(copy.logEndOffset, 12);
    await source.truncateTo(6);
    for (let index = 0; index < 3; index += 1) await source.append(buildBatch({ count: 2 }), { leaderEpoch: 2, appendTimeMs: 0 });
    await catchUp(source, copy, () => source.logEndOffset);
    assert.deepEqual(await batchesOf(copy), await batchesOf(source));
    assert.deepEqual(copy.leaderEpochCache.entries, source.leaderEpochCache.entries);
    await manager.close();
  });

  it('starts again from the source start when the start moved past the copy; carries the start and epochs over', async () => {
    const manager = await openTestLogManager();
    const source = await manager.createLog('t', 0);
    const copy = await manager.createLog('copy', 0);
    for (let index = 0; index < 5; index += 1) await source.append(buildBatch({ count: 2 }), { leaderEpoch: 4, appendTimeMs: 0 });
    source.updateHighWatermark(10);
    await catchUp(source, copy, () => 4);
    assert.equal(copy.logEndOffset, 4);
    assert.equal(source.maybeIncrementLogStartOffset(6), true);
    await catchUp(source, copy, () => source.logEndOffset);
    assert.equal(copy.logStartOffset, 6, 'the copy starts where the source now starts');
    assert.deepEqual((await batchesOf(copy)).map((batch) => batch.base), [6, 8]);
    // An epoch begun at the log end with nothing written yet, and the high watermark.
    source.leaderEpochCache.assign(5, source.logEndOffset);
    carryOver(source, copy);
    assert.deepEqual(copy.leaderEpochCache.entries, source.leaderEpochCache.entries);
    assert.equal(copy.highWatermark, 10);
    await manager.close();
  });

  it('gives up between rounds when told to', async () => {
    const manager = await openTestLogManager();
    const source = await manager.createLog('t', 0);
    const copy = await manager.createLog('copy', 0);
    await source.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 });
    await assert.rejects(catchUp(source, copy, () => source.logEndOffset, () => true), /stopped/);
    await manager.close();
  });
});
