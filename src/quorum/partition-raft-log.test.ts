// The Raft log over a partition log: its in-memory list of batches must describe what the
// partition log holds, also after a truncation at an offset inside one of its batches.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../base/logger.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { defaultLogConfig } from '../log/log-config.js';
import { LogManager } from '../log/log-manager.js';
import { ManualClock } from '../testing/log-support.js';
import { PartitionRaftLog } from './partition-raft-log.js';

const logger = createLogger(() => {}, 'silent');
const TOPIC = '__cluster_metadata';

async function openLog(fs: MemoryFileSystem): Promise<PartitionRaftLog> {
  const manager = await LogManager.open({ fs, dataDir: '/data', clock: new ManualClock(0), logger, defaults: { ...defaultLogConfig }, checkpointIntervalMs: Number.POSITIVE_INFINITY });
  return PartitionRaftLog.open(manager.get(TOPIC, 0) ?? (await manager.createLog(TOPIC, 0)));
}

const records = (count: number) => Array.from({ length: count }, (_, index) => ({ value: Buffer.from(`v${index}`), timestamp: 0 }));
const described = (log: PartitionRaftLog) => log.batches().map((batch) => [batch.baseOffset, batch.lastOffset, batch.epoch]);

describe('partition raft log', () => {
  it('drops a batch that a truncation inside it removed, so its epochs and durable batches match the disk (seed 842759)', async () => {
    // The leader wrote [0] in epoch 1, then [1] in epoch 2 and [2] in epoch 4.
    const leader = await openLog(new MemoryFileSystem());
    await leader.appendAsLeader(records(1), 1);
    await leader.appendAsLeader(records(1), 2);
    await leader.appendAsLeader(records(1), 4);

    // This node holds [0] and then [1..2] as one batch of epoch 1, all flushed.
    const fs = new MemoryFileSystem({ strictPowerLoss: { seed: 842759 } });
    const follower = await openLog(fs);
    await follower.appendAsLeader(records(1), 1);
    await follower.appendAsLeader(records(2), 1);
    await follower.flush();
    assert.deepEqual(described(follower), [[0, 0, 1], [1, 2, 1]]);

    // The leader's epoch 2 ends at 2 (where epoch 4 starts): a truncation inside [1..2], which the
    // partition log removes whole.
    await follower.truncateTo(2);
    assert.equal(follower.endOffset, 1);
    assert.deepEqual(described(follower), [[0, 0, 1]]);
    assert.equal(follower.lastEpoch, 1);
    assert.deepEqual(follower.endOffsetForEpoch(1), { epoch: 1, offset: 1 });
    assert.equal(follower.flushedEndOffset, 1);

    await follower.appendAsFollower(await leader.read(1, 1 << 20));
    await follower.flush();
    assert.deepEqual(described(follower), [[0, 0, 1], [1, 1, 2], [2, 2, 4]]);
    // Epoch 1 ends where epoch 2 starts, not past the removed batch.
    assert.deepEqual(follower.endOffsetForEpoch(1), { epoch: 1, offset: 1 });
    assert.deepEqual(follower.endOffsetForEpoch(3), { epoch: 2, offset: 2 });

    // Everything the list calls durable is what the disk holds after a power loss.
    const durable = follower.batches().filter((batch) => batch.lastOffset < follower.flushedEndOffset);
    fs.simulatePowerLoss();
    const recovered = await openLog(fs);
    assert.deepEqual(recovered.batches(), durable);
  });
});
