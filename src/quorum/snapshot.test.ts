// Metadata snapshots on disk (KIP-630): the `.checkpoint` layout (header, records, footer, CRCs),
// the store's atomic writes, chunked receipt and crash leftovers, and a Raft log that starts from a
// snapshot: trimmed below it, emptied when it does not reach it or disagrees with it at its end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../base/logger.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { ManualClock } from '../testing/log-support.js';
import { defaultLogConfig } from '../log/log-config.js';
import { LogManager } from '../log/log-manager.js';
import { PartitionRaftLog } from './partition-raft-log.js';
import { decodeSnapshot, encodeSnapshot, SnapshotFormatError } from './snapshot-file.js';
import { SnapshotStore, snapshotFileName } from './snapshot-store.js';

const logger = createLogger(() => {}, 'silent');

describe('snapshot file', () => {
  const values = Array.from({ length: 5000 }, (_, index) => Buffer.from(`record-${index}`));

  it('round-trips the records across several batches, between a header and a footer', () => {
    const bytes = encodeSnapshot({ offset: 120, epoch: 3 }, values, 1_700_000_000_000);
    assert.deepEqual(decodeSnapshot(bytes), values);
    assert.equal(snapshotFileName({ offset: 120, epoch: 3 }), '00000000000000000120-0000000003.checkpoint');
  });

  it('refuses a corrupt byte, a torn end and a missing footer', () => {
    const bytes = encodeSnapshot({ offset: 9, epoch: 1 }, values.slice(0, 10), 0);
    const corrupt = Buffer.from(bytes);
    corrupt[corrupt.length - 30]! ^= 0xff;
    assert.throws(() => decodeSnapshot(corrupt), SnapshotFormatError);
    assert.throws(() => decodeSnapshot(bytes.subarray(0, bytes.length - 5)), SnapshotFormatError);
    // Cut exactly after the data batch: whole batches, but no footer.
    const withoutFooter = encodeSnapshot({ offset: 9, epoch: 1 }, [], 0);
    assert.doesNotThrow(() => decodeSnapshot(withoutFooter));
    const footerless = bytes.subarray(0, bytes.length - (withoutFooter.length - headerLength(withoutFooter)));
    assert.throws(() => decodeSnapshot(footerless), /incomplete/);
  });
});

describe('snapshot store', () => {
  it('writes atomically, serves chunks, receives a snapshot in chunks, and drops partial files on open', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/meta');
    const store = await SnapshotStore.open(fs, '/meta', logger);
    const first = { offset: 10, epoch: 1 };
    const bytes = encodeSnapshot(first, [Buffer.from('a'), Buffer.from('b')], 0);
    await store.write(first, bytes);
    assert.deepEqual(store.latest, first);
    assert.equal(await store.size(first), bytes.length);
    assert.deepEqual(await store.read(first, 5, 7), bytes.subarray(5, 12));

    const receiver = await SnapshotStore.open(fs, '/meta', logger);
    const second = { offset: 20, epoch: 2 };
    const incoming = encodeSnapshot(second, [Buffer.from('c')], 0);
    assert.equal(await receiver.receive(second, 0, incoming.subarray(0, 50), incoming.length), false);
    assert.deepEqual(receiver.partial, { id: second, position: 50 });
    // A chunk at the wrong position is ignored; the right one completes it.
    assert.equal(await receiver.receive(second, 10, incoming.subarray(10), incoming.length), false);
    assert.equal(await receiver.receive(second, 50, incoming.subarray(50), incoming.length), true);
    assert.deepEqual(receiver.latest, second);
    assert.deepEqual(decodeSnapshot(await receiver.readAll(second)), [Buffer.from('c')]);
    await receiver.deleteBefore(second);
    assert.deepEqual((await fs.readdir('/meta')).map((entry) => entry.name).sort(), [snapshotFileName(second)]);

    // A crash mid-fetch leaves a .part file, which the next open removes.
    const third = { offset: 30, epoch: 2 };
    await receiver.receive(third, 0, incoming.subarray(0, 20), 1000);
    const reopened = await SnapshotStore.open(fs, '/meta', logger);
    assert.deepEqual(reopened.latest, second);
    assert.ok((await fs.readdir('/meta')).every((entry) => !entry.name.endsWith('.part')));
  });
});

describe('a Raft log that starts from a snapshot', () => {
  async function logWith(epochs: number[]): Promise<{ manager: LogManager; raftLog: PartitionRaftLog; fs: MemoryFileSystem }> {
    const fs = new MemoryFileSystem();
    const manager = await LogManager.open({ fs, dataDir: '/data', clock: new ManualClock(0), logger, defaults: { ...defaultLogConfig }, checkpointIntervalMs: Number.POSITIVE_INFINITY });
    const log = await manager.createLog('__cluster_metadata', 0);
    const raftLog = await PartitionRaftLog.open(log);
    for (const [index, epoch] of epochs.entries()) await raftLog.appendAsLeader([{ value: Buffer.from(`v${index}`), timestamp: 0 }], epoch);
    await raftLog.flush();
    return { manager, raftLog, fs };
  }

  async function reopen(manager: LogManager, snapshot: { offset: number; epoch: number }): Promise<PartitionRaftLog> {
    return PartitionRaftLog.open(manager.get('__cluster_metadata', 0)!, snapshot);
  }

  it('drops the batches below the snapshot and answers epochs from it', async () => {
    const { manager, raftLog } = await logWith([1, 1, 2, 2, 3]);
    await raftLog.deleteBefore({ offset: 3, epoch: 2 });
    assert.equal(raftLog.startOffset, 3);
    assert.deepEqual(raftLog.batches().map((batch) => batch.baseOffset), [3, 4]);
    assert.deepEqual(raftLog.endOffsetForEpoch(2), { offset: 4, epoch: 2 });
    assert.deepEqual(raftLog.endOffsetForEpoch(1), { offset: -1, epoch: -1 });
    await assert.rejects(raftLog.deleteBefore({ offset: 9, epoch: 3 }), /flushed end/);
    // Reopened from the same snapshot, the log starts there again.
    const again = await reopen(manager, { offset: 3, epoch: 2 });
    assert.equal(again.startOffset, 3);
    assert.equal(again.resetAtOpen, false);
    assert.equal(again.endOffset, 5);
  });

  it('empties a log that does not reach the snapshot, or disagrees with it at its end', async () => {
    const short = await logWith([1, 1]);
    const behind = await reopen(short.manager, { offset: 6, epoch: 4 });
    assert.equal(behind.resetAtOpen, true);
    assert.equal(behind.startOffset, 6);
    assert.equal(behind.endOffset, 6);
    assert.equal(behind.lastEpoch, 4);
    assert.deepEqual(behind.endOffsetForEpoch(5), { offset: 6, epoch: 4 });

    const divergent = await logWith([1, 1, 2, 2]);
    const replaced = await reopen(divergent.manager, { offset: 3, epoch: 3 });
    assert.equal(replaced.resetAtOpen, true);
    assert.equal(replaced.endOffset, 3);
    assert.deepEqual(replaced.batches(), []);
  });
});

function headerLength(bytes: Buffer): number {
  // The first batch is the header: its length field (offset 8) plus the 12 bytes before it.
  return bytes.readInt32BE(8) + 12;
}
