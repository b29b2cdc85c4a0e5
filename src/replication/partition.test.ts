import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildBatch } from '../testing/test-batches.js';
import { ManualClock, openTestLogManager } from '../testing/log-support.js';
import { type IsrProposal, IsrManager, wantedIsr } from './isr-manager.js';
import { silentLogger } from '../base/logger.js';
import { Partition } from './partition.js';

const LAG_MS = 10_000;

async function leaderOf(isr: number[]) {
  const manager = await openTestLogManager();
  const log = await manager.createLog('t', 0);
  const partition = new Partition('t', 0, 'AAAAAAAAAAAAAAAAAAAAAQ', log, 1);
  partition.assign({ leaderId: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2, 3], isr }, 0);
  const append = async () => (await partition.append(buildBatch({ count: 1 }), 0)).lastOffset;
  return { partition, append };
}

test('the high watermark is the lowest log end in the ISR and never moves back', async () => {
  const { partition, append } = await leaderOf([1, 2, 3]);
  await append();
  await append();
  assert.equal(partition.highWatermark, 0, 'no follower has fetched');
  partition.updateFollower(2, 2, 1);
  assert.equal(partition.highWatermark, 0, 'follower 3 is in the ISR and has nothing');
  partition.updateFollower(3, 1, 1);
  assert.equal(partition.highWatermark, 1);
  partition.updateFollower(3, 2, 2);
  assert.equal(partition.highWatermark, 2);
  partition.updateFollower(3, 1, 3);
  assert.equal(partition.highWatermark, 2, 'the high watermark moved back');
});

test('a follower that keeps up with a moving log end stays in the ISR; one that stops leaves it after replica.lag.time.max.ms', async () => {
  const { partition, append } = await leaderOf([1, 2, 3]);
  let now = 0;
  // Steady appends: each fetch reaches the log end of the previous fetch, never the current one.
  for (let round = 0; round < 30; round++) {
    await append();
    now += 1000;
    partition.updateFollower(2, partition.log.logEndOffset - 1, now);
    partition.updateFollower(3, round === 0 ? 0 : Math.min(partition.log.logEndOffset - 1, 1), now);
  }
  assert.deepEqual(wantedIsr(partition, now, LAG_MS), [1, 2], 'follower 2 kept up and stays; follower 3 stopped at offset 1 and leaves');
});

test('a follower outside the ISR is proposed once it reaches the high watermark', async () => {
  const { partition, append } = await leaderOf([1, 2]);
  await append();
  await append();
  partition.updateFollower(2, 2, 1);
  assert.equal(partition.highWatermark, 2);
  partition.updateFollower(3, 1, 1);
  assert.equal(wantedIsr(partition, 1, LAG_MS), undefined, 'behind the high watermark: not yet');
  partition.updateFollower(3, 2, 2);
  assert.deepEqual(wantedIsr(partition, 2, LAG_MS), [1, 2, 3]);
});

test('a caught-up follower joins only if its broker may (unfenced, in the epoch it fetched with); members stay whatever the leader\'s image says', async () => {
  const { partition, append } = await leaderOf([1, 2]);
  await append();
  partition.updateFollower(2, 1, 1, 7);
  partition.updateFollower(3, 1, 1, 4);
  const registered = new Map([
    [2, { fenced: true, brokerEpoch: 7 }],
    [3, { fenced: true, brokerEpoch: 4 }],
  ]);
  const eligible = (brokerId: number, fetchedBrokerEpoch: number) => {
    const broker = registered.get(brokerId);
    return broker !== undefined && !broker.fenced && broker.brokerEpoch === fetchedBrokerEpoch;
  };
  assert.equal(wantedIsr(partition, 1, LAG_MS, eligible), undefined, 'broker 3 is fenced: not proposed (member 2 stays though fenced: the controller removes fenced members)');
  registered.set(3, { fenced: false, brokerEpoch: 5 });
  assert.equal(wantedIsr(partition, 1, LAG_MS, eligible), undefined, 'broker 3 registered again since that fetch');
  partition.updateFollower(3, 1, 2, 5);
  assert.deepEqual(wantedIsr(partition, 2, LAG_MS, eligible), [1, 2, 3]);
});

test('strict min ISR (KIP-966): the high watermark stays while the ISR is smaller than min ISR, and moves once it is not', async () => {
  const manager = await openTestLogManager();
  const partition = new Partition('t', 0, 'AAAAAAAAAAAAAAAAAAAAAQ', await manager.createLog('t', 0), 1);
  partition.assign({ leaderId: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1, 2, 3], isr: [1], minIsr: 2 }, 0);
  await partition.append(buildBatch({ count: 1 }), 0);
  await partition.append(buildBatch({ count: 1 }), 0);
  partition.updateFollower(2, 1, 1);
  assert.equal(partition.highWatermark, 0, 'the leader alone is below min ISR: nothing commits');
  assert.deepEqual(wantedIsr(partition, 1, LAG_MS), [1, 2], 'a follower at the high watermark still joins the ISR');
  partition.assign({ leaderId: 1, leaderEpoch: 0, partitionEpoch: 1, replicas: [1, 2, 3], isr: [1, 2], minIsr: 2 }, 1);
  assert.equal(partition.highWatermark, 1, 'at min ISR the high watermark is the lowest log end in the ISR');
  partition.updateFollower(2, 2, 2);
  assert.equal(partition.highWatermark, 2);
});

test('an ISR proposal names each member by the broker epoch of the fetches it rests on (a restarted follower is not proposed on its old position)', async () => {
  const { partition, append } = await leaderOf([1, 2]);
  await append();
  partition.updateFollower(2, 1, 1, 5);
  partition.updateFollower(3, 1, 1, 8);
  const proposals: IsrProposal[] = [];
  const manager = new IsrManager({
    clock: new ManualClock(1),
    logger: silentLogger,
    lagTimeMaxMs: LAG_MS,
    ledPartitions: () => [partition],
    alterPartition: async (sent) => {
      proposals.push(...sent);
      return sent.map(() => 0);
    },
  });
  manager.check(partition);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(proposals.map((proposal) => [proposal.isr, proposal.memberEpochs]), [[[1, 2, 3], [-1, 5, 8]]]);
  manager.stop();
});

test('a new leader epoch starts at the log end: the high watermark is behind it until the ISR has the log up to it (KIP-207)', async () => {
  const { partition, append } = await leaderOf([1, 2]);
  await append();
  await append();
  await append();
  partition.updateFollower(2, 1, 1);
  assert.equal(partition.highWatermark, 1);
  assert.equal(partition.leaderEpochStartOffset, 0, 'epoch 0 began on an empty log');
  assert.equal(partition.highWatermarkBehindEpochStart, false);
  // Leader again in a new epoch with records 1-2 above the high watermark.
  partition.assign({ leaderId: 1, leaderEpoch: 1, partitionEpoch: 1, replicas: [1, 2, 3], isr: [1, 2] }, 2);
  assert.equal(partition.leaderEpochStartOffset, 3, 'the log end when it became leader of epoch 1');
  assert.equal(partition.highWatermarkBehindEpochStart, true);
  partition.assign({ leaderId: 1, leaderEpoch: 1, partitionEpoch: 2, replicas: [1, 2, 3], isr: [1, 2] }, 3);
  assert.equal(partition.leaderEpochStartOffset, 3, 'an ISR change within the epoch keeps it');
  await append();
  partition.updateFollower(2, 2, 4);
  assert.equal(partition.highWatermarkBehindEpochStart, true, 'high watermark 2 is still below 3');
  partition.updateFollower(2, 3, 5);
  assert.equal(partition.highWatermark, 3);
  assert.equal(partition.highWatermarkBehindEpochStart, false, 'the high watermark reached the epoch start');
  assert.equal(partition.leaderEpochStartOffset, 3);
  partition.assign({ leaderId: 2, leaderEpoch: 2, partitionEpoch: 3, replicas: [1, 2, 3], isr: [1, 2] }, 6);
  assert.equal(partition.leaderEpochStartOffset, -1, 'a follower has none');
  assert.equal(partition.highWatermarkBehindEpochStart, false);
});
