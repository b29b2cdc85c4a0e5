// The quorum under the deterministic simulator (src/testing/simulation): a share of the seed
// campaign on every `npm test`, exact replay of a seed, proof that the invariants catch defects
// (a flush that lies, a vote that is not persisted), and the quorum's behaviours one by one:
// a quorum of one, failover after a crash and after a clean stop, pre-vote against a returning
// isolated node, and check-quorum resigning a leader cut off from the majority.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { KafkaError } from '../../src/base/kafka-error.js';
import type { RaftNode } from '../../src/quorum/raft-node.js';
import { RaftCluster, type RaftClusterOptions } from '../../src/testing/simulation/raft-cluster.js';
import { RaftInvariants } from '../../src/testing/simulation/raft-invariants.js';
import { runRaftSeed } from '../../src/testing/simulation/raft-simulation.js';
import type { Sabotage } from '../../src/testing/simulation/sabotage.js';
import { staticVoter } from '../../src/quorum/voter-set.js';
import { SeededRandom } from '../../src/testing/simulation/seeded-random.js';
import { SimScheduler } from '../../src/testing/simulation/sim-scheduler.js';

/** Seeds per `npm test` run; the on-demand campaign (`npm run simulate -- --seeds 100000`) runs more. */
const SEEDS = Number(process.env.CONVEYOR_SIM_SEEDS ?? 240);
const FIRST_SEED = Number(process.env.CONVEYOR_SIM_FROM ?? 1);

describe('raft simulation: seeds with faults', () => {
  const chunks = 4;
  const perChunk = Math.ceil(SEEDS / chunks);
  for (let chunk = 0; chunk < chunks; chunk++) {
    const from = FIRST_SEED + chunk * perChunk;
    const to = Math.min(FIRST_SEED + SEEDS, from + perChunk);
    it(`seeds ${from}..${to - 1} keep every safety invariant and recover after healing`, async () => {
      const failures: string[] = [];
      let acknowledged = 0;
      let elections = 0;
      for (let seed = from; seed < to; seed++) {
        const result = await runRaftSeed({ seed });
        acknowledged += result.acknowledgedAppends;
        elections += result.highestEpoch;
        if (!result.ok) failures.push(`seed ${seed} (replay: npm run simulate -- --seed ${seed}): ${result.violations.slice(0, 3).join('; ')}`);
      }
      assert.deepEqual(failures, []);
      // The runs did real work: appends committed and leaders elected under the faults.
      assert.ok(acknowledged > (to - from) * 10, `only ${acknowledged} appends acknowledged`);
      assert.ok(elections >= to - from, `only ${elections} epochs reached`);
    });
  }
});

describe('raft simulation: replay and the checker', () => {
  it('replays a seed exactly, and another seed differs', async () => {
    const first = await runRaftSeed({ seed: 4242 });
    const again = await runRaftSeed({ seed: 4242 });
    const other = await runRaftSeed({ seed: 4243 });
    assert.equal(again.traceDigest, first.traceDigest);
    assert.deepEqual(again.faults, first.faults);
    assert.equal(again.acknowledgedAppends, first.acknowledgedAppends);
    assert.notEqual(other.traceDigest, first.traceDigest);
  });

  it('catches a log whose flush lies: acknowledged data is lost in a crash', async () => {
    const caught = await failingSeeds({ flushLies: true }, 10);
    assert.ok(caught.length >= 5, `only ${caught.length} of 10 seeds caught the lying flush`);
    assert.ok(caught.some((violations) => violations.some((text) => /durable|lost durable/.test(text))), 'no durability violation reported');
  });

  it('catches a quorum-state file that is never written: a restarted node forgets its epoch', async () => {
    // The node's own log still shows the epochs it led (it refuses to vote again in those), so
    // only some schedules turn the forgotten file into a visible fault.
    const caught = await failingSeeds({ forgetsVotes: true }, 40);
    assert.ok(caught.length >= 4, `only ${caught.length} of 40 seeds caught the forgotten votes`);
    assert.ok(caught.some((violations) => violations.some((text) => /went back from epoch|two leaders/.test(text))), 'no epoch or leader violation reported');
  });

  it('catches snapshots that leave out a committed batch: a node that loads one has lost it', async () => {
    const caught = await failingSeeds({ snapshotDropsLast: true }, 10, 3);
    assert.ok(caught.length >= 5, `only ${caught.length} of 10 seeds caught the lossy snapshots`);
    assert.ok(caught.some((violations) => violations.some((text) => /should start/.test(text))), 'no state violation reported');
  });
});

async function failingSeeds(sabotage: Sabotage, count: number, snapshotEvery?: number): Promise<string[][]> {
  const caught: string[][] = [];
  for (let seed = 1; seed <= count; seed++) {
    const result = await runRaftSeed({ seed, sabotage, ...(snapshotEvery !== undefined ? { snapshotEvery } : {}) });
    if (!result.ok) caught.push([...result.violations]);
  }
  return caught;
}

interface Harness {
  scheduler: SimScheduler;
  cluster: RaftCluster;
  invariants: RaftInvariants;
  leader(): RaftNode | undefined;
}

async function harness(voterCount: number, seed = 1, observers: number[] = [], more: Partial<RaftClusterOptions> = {}): Promise<Harness> {
  const scheduler = new SimScheduler();
  const voters = Array.from({ length: voterCount }, (_, index) => index + 1);
  let invariants: RaftInvariants | undefined;
  const cluster = new RaftCluster({ scheduler, random: new SeededRandom(seed), voters, observers, onViolation: (text) => invariants?.violation(text), ...more });
  invariants = new RaftInvariants(cluster);
  const checks = invariants;
  scheduler.afterEachEvent(() => checks.checkStep());
  await cluster.startAll();
  const leader = () => cluster.running().find((raft) => raft.role.kind === 'leader');
  return { scheduler, cluster, invariants: checks, leader };
}

/** Appends through the leader and runs the simulation until the append is committed. */
async function commit(h: Harness, value: string): Promise<number> {
  const leader = h.leader();
  assert.ok(leader, 'no leader to append to');
  let offset: number | undefined;
  let failure: unknown;
  leader.append([{ value: Buffer.from(value), timestamp: h.scheduler.nowMs() }]).then(
    (lastOffset) => {
      offset = lastOffset;
    },
    (error: unknown) => {
      failure = error;
    },
  );
  await h.scheduler.runUntil(() => offset !== undefined || failure !== undefined, 10_000);
  if (failure) throw failure;
  assert.ok(offset !== undefined, 'the append did not commit within 10 s');
  return offset;
}

describe('raft quorum behaviours', () => {
  it('a quorum of one elects itself at once and commits on its own flush', async () => {
    const h = await harness(1);
    await h.scheduler.drain();
    assert.equal(h.leader()?.nodeId, 1);
    assert.equal(h.scheduler.monotonicMs(), 0, 'no timer was needed to elect');
    const offset = await commit(h, 'alone');
    assert.equal(offset, 1, 'offset 0 is the LeaderChange record of epoch 1');
    assert.equal(h.leader()!.highWatermark, 2);
    assert.deepEqual(h.invariants.violations, []);
  });

  it('elects one leader among three, commits on a majority, and fails over when the leader crashes', async () => {
    const h = await harness(3);
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 5000), 'no leader within 5 s');
    const first = h.leader()!;
    const offset = await commit(h, 'before');
    await h.scheduler.runUntil(() => h.cluster.running().every((raft) => raft.highWatermark > offset), 2000);
    h.cluster.crash(first.nodeId);
    const crashedAt = h.scheduler.monotonicMs();
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 10_000), 'no new leader within 10 s');
    const second = h.leader()!;
    assert.notEqual(second.nodeId, first.nodeId);
    assert.ok(second.epoch > first.epoch);
    // Kafka's target: a new leader within the election timeout plus a second of the kill (fetch
    // timeout 2 s, election timeout 1-2 s here).
    assert.ok(h.scheduler.monotonicMs() - crashedAt <= 2000 + 2000 + 1000, `failover took ${h.scheduler.monotonicMs() - crashedAt} ms`);
    await commit(h, 'after');
    await h.cluster.start(first.nodeId);
    assert.ok(await h.scheduler.runUntil(() => h.cluster.running().every((raft) => raft.leaderId === second.nodeId && raft.highWatermark > offset + 1), 10_000));
    h.invariants.checkDurability();
    assert.deepEqual(h.invariants.violations, []);
  });

  it('moves leadership within 200 ms of simulated time after a clean stop (EndQuorumEpoch), to its first preferred candidate in one election', async () => {
    // Several seeds: without the ranking the EndQuorumEpoch carries (v1's PreferredCandidates),
    // both survivors stand at once and some seeds split the vote.
    for (const seed of [7, 8, 9, 10, 11, 12]) {
      const h = await harness(3, seed);
      assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 5000));
      await commit(h, 'x');
      const first = h.leader()!;
      const preferred = first.voters.filter((id) => id !== first.nodeId)[0];
      let stopped = false;
      const stoppedAt = h.scheduler.monotonicMs();
      void h.cluster.stop(first.nodeId).then(() => {
        stopped = true;
      });
      assert.ok(await h.scheduler.runUntil(() => stopped && h.leader() !== undefined, 5000));
      const elapsed = h.scheduler.monotonicMs() - stoppedAt;
      assert.ok(elapsed <= 200, `seed ${seed}: a new leader took ${elapsed} ms after a clean stop`);
      assert.equal(h.leader()!.epoch, first.epoch + 1, `seed ${seed}: more than one election`);
      assert.equal(h.leader()!.nodeId, preferred, `seed ${seed}: not the first preferred candidate`);
      assert.deepEqual(h.invariants.violations, []);
    }
  });

  it('pre-vote: an isolated voter that returns does not depose a healthy leader', async () => {
    const h = await harness(3, 3);
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 5000));
    const leader = h.leader()!;
    const epoch = leader.epoch;
    const follower = h.cluster.running().find((raft) => raft !== leader)!;
    h.cluster.network.isolate(follower.nodeId);
    await h.scheduler.runFor(15_000);
    // Cut off, it tried pre-votes (prospective) but never bumped the epoch: no one granted them.
    assert.equal(follower.epoch, epoch);
    h.cluster.network.heal();
    await h.scheduler.runFor(5000);
    assert.equal(h.leader(), leader, 'the healthy leader kept its leadership');
    assert.equal(leader.epoch, epoch);
    assert.equal(follower.leaderId, leader.nodeId);
    assert.deepEqual(h.invariants.violations, []);
  });

  it('an observer finds the leader, replicates the log without voting, and follows the next leader', async () => {
    const h = await harness(3, 11, [101]);
    const observer = () => h.cluster.running().find((raft) => raft.nodeId === 101)!;
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 5000));
    const offset = await commit(h, 'seen by the observer');
    assert.ok(await h.scheduler.runUntil(() => observer().highWatermark > offset, 5000), 'the observer did not catch up');
    assert.equal(observer().role.kind, 'follower');
    assert.equal(observer().leaderId, h.leader()!.nodeId);
    assert.deepEqual(observer().log.batches(), h.leader()!.log.batches().filter((batch) => batch.lastOffset < observer().log.endOffset));
    const old = h.leader()!;
    h.cluster.crash(old.nodeId);
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 10_000));
    await commit(h, 'after the failover');
    assert.ok(await h.scheduler.runUntil(() => observer().leaderId === h.leader()!.nodeId && observer().highWatermark === h.leader()!.highWatermark, 10_000));
    assert.deepEqual(h.invariants.violations, []);
  });

  it('check-quorum: a leader cut off from the majority resigns, and the majority elects another', async () => {
    const h = await harness(5, 5);
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 5000));
    const old = h.leader()!;
    h.cluster.network.isolate(old.nodeId);
    assert.ok(await h.scheduler.runUntil(() => old.role.kind !== 'leader', 10_000), 'the isolated leader kept leading');
    // Kafka resigns when no majority fetched within 1.5 fetch timeouts.
    assert.ok(h.scheduler.monotonicMs() <= 5000 + 3000 + 1000 + 1000);
    assert.ok(await h.scheduler.runUntil(() => h.cluster.running().some((raft) => raft !== old && raft.role.kind === 'leader'), 10_000));
    // The cut-off leader cannot commit: an append is refused (it is no longer leader).
    await assert.rejects(old.append([{ value: Buffer.from('lost'), timestamp: 0 }]), (error: unknown) => error instanceof KafkaError && error.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER);
    assert.deepEqual(h.invariants.violations, []);
  });

  it('voter changes (KIP-853): an observer that caught up is added, the leader removes itself and hands over, refusals name the reason', async () => {
    const h = await harness(3, 11, [101, 102]);
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 5000));
    await commit(h, 'before the change');
    const leader = h.leader()!;
    h.cluster.crash(102);
    await h.scheduler.runFor(500);
    const settle = async (change: Promise<void>): Promise<unknown> => {
      let outcome: unknown = 'pending';
      change.then(
        () => {
          outcome = undefined;
        },
        (error: unknown) => {
          outcome = error;
        },
      );
      await h.scheduler.runUntil(() => outcome !== 'pending', 10_000);
      return outcome;
    };
    const code = (outcome: unknown) => (outcome instanceof KafkaError ? outcome.errorCode : outcome);
    assert.equal(code(await settle(leader.addVoter(staticVoter(2)))), ErrorCode.DUPLICATE_VOTER);
    assert.equal(code(await settle(leader.addVoter(staticVoter(102)))), ErrorCode.REQUEST_TIMED_OUT, 'a node that is down was added');
    assert.equal(code(await settle(leader.removeVoter(7))), ErrorCode.VOTER_NOT_FOUND);
    assert.equal(await settle(leader.addVoter(staticVoter(101))), undefined);
    assert.ok(await h.scheduler.runUntil(() => h.cluster.running().every((raft) => raft.voters.join(',') === '1,2,3,101'), 5000), 'not every node sees the new voter');
    assert.equal(h.cluster.nodes.get(101)!.raft!.isVoter, true);

    // The leader removes itself: it leads until that commits, then resigns; the others elect a leader.
    assert.equal(await settle(leader.removeVoter(leader.nodeId)), undefined);
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined && h.leader() !== leader, 10_000), 'no new leader after the old one removed itself');
    assert.equal(leader.isVoter, false);
    assert.ok(!h.leader()!.voters.includes(leader.nodeId));
    await commit(h, 'after the handover');
    // The removed node keeps the log as an observer.
    assert.ok(await h.scheduler.runUntil(() => leader.role.kind === 'follower' && leader.leaderId === h.leader()!.nodeId, 10_000), 'the removed node does not follow the new leader');
    h.invariants.checkDurability();
    assert.deepEqual(h.invariants.violations, []);
  });

  it('a lagging node finishes fetching a snapshot while the leader takes newer ones faster than it fetches', async () => {
    // Commits go on all through the fetch and the leader snapshots every 2 batches, so a newer
    // snapshot exists long before the laggard has all of one in 64-byte chunks. The leader keeps
    // the snapshot being fetched and the log after it; dropping them at each new snapshot sent the
    // laggard back to the start for ever (seed 600303 of a campaign).
    const h = await harness(3, 7, [], { snapshotEveryBatches: 2, config: { fetchSnapshotMaxBytes: 64 } });
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 5000));
    const laggard = h.cluster.nodeIds.find((id) => id !== h.leader()!.nodeId)!;
    h.cluster.crash(laggard);
    for (let index = 0; index < 40; index++) await commit(h, `before-${index}`);
    await h.cluster.start(laggard);
    const node = h.cluster.nodes.get(laggard)!;
    const leaderSnapshot = () => h.leader()!.latestSnapshot!.offset;
    const startedAt = leaderSnapshot();
    let index = 0;
    while ((node.stateMachine?.loads ?? 0) === 0 && index < 200) await commit(h, `during-${index++}`);
    assert.ok(leaderSnapshot() > startedAt, 'the leader took no snapshot during the fetch: the test shows nothing');
    assert.ok((node.stateMachine?.loads ?? 0) >= 1, `the laggard loaded no snapshot in ${index} commits made meanwhile`);
    const caughtUp = () => node.raft!.log.endOffset >= h.leader()!.log.endOffset;
    assert.ok(await h.scheduler.runUntil(caughtUp, 5000), 'the laggard did not catch up with the log after the snapshot');
    h.invariants.checkDurability();
    assert.deepEqual(h.invariants.violations, []);
  });

  it('a snapshot fetch interrupted by the leader\'s crash completes from the next leader, and the state loads', async () => {
    // Behaviour only: this schedule does not make the two leaders' snapshots of one id differ, so
    // it passed with the defect that seed 515517 of a 20,000-seed campaign hit (a part fetched from
    // one leader resumed from another, whose snapshot of that id has other bytes: its header
    // timestamp); the campaign's seeds are what catch that.
    const h = await harness(3, 21, [], { snapshotEveryBatches: 2, config: { fetchSnapshotMaxBytes: 64 } });
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 5000));
    const first = h.leader()!;
    const laggard = h.cluster.nodeIds.find((id) => id !== first.nodeId)!;
    h.cluster.crash(laggard);
    for (let index = 0; index < 12; index++) await commit(h, `entry-${index}`);
    await h.scheduler.runFor(2000);
    await h.cluster.start(laggard);
    const node = h.cluster.nodes.get(laggard)!;
    // Mid-fetch: following, with a snapshot to fetch, and some chunks of it received.
    const midFetch = () => {
      const role = node.raft?.role;
      return role?.kind === 'follower' && role.snapshot !== undefined && role.snapshotChunks > 1;
    };
    assert.ok(await h.scheduler.runUntil(midFetch, 5000), 'the laggard never got part way through a snapshot');
    h.cluster.crash(first.nodeId);
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined && (node.stateMachine?.loads ?? 0) >= 1, 10_000), 'the laggard did not load a snapshot');
    await h.cluster.start(first.nodeId);
    await commit(h, 'after');
    h.invariants.checkDurability();
    assert.deepEqual(h.invariants.violations, []);
  });

  it('snapshots: the log before the previous snapshot goes, a node that was down catches up through FetchSnapshot in chunks, and a restart loads the snapshot', async () => {
    const h = await harness(3, 7, [], { snapshotEveryBatches: 3, config: { fetchSnapshotMaxBytes: 100 } });
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 5000));
    const laggard = h.cluster.running().find((raft) => raft.role.kind !== 'leader')!.nodeId;
    h.cluster.crash(laggard);
    let last = 0;
    for (let index = 0; index < 20; index++) last = await commit(h, `entry-${index}`);
    const leader = h.leader()!;
    await h.scheduler.runFor(100);
    const snapshot = leader.latestSnapshot;
    assert.ok(snapshot && snapshot.offset > 10, `the leader took no snapshot past offset 10 (${JSON.stringify(snapshot)})`);
    // The log starts at the snapshot before the newest, kept for followers still fetching it.
    assert.ok(leader.log.startOffset > 0 && leader.log.startOffset < snapshot.offset, `the log starts at ${leader.log.startOffset}, the newest snapshot at ${snapshot.offset}`);
    assert.ok(leader.log.batches().every((batch) => batch.baseOffset >= leader.log.startOffset));

    await h.cluster.start(laggard);
    const node = h.cluster.nodes.get(laggard)!;
    assert.ok(await h.scheduler.runUntil(() => (node.raft?.highWatermark ?? 0) > last && (node.stateMachine?.nextOffset ?? 0) > last, 10_000), 'the laggard did not catch up');
    assert.ok(h.cluster.snapshotsFetched >= 1, 'the laggard did not fetch a snapshot');
    assert.ok(node.raft!.log.startOffset >= snapshot.offset, 'the laggard kept a log from before the snapshot');
    const leaderState = h.cluster.nodes.get(leader.nodeId)!.stateMachine!;
    assert.deepEqual(node.stateMachine!.applied.slice(0, leaderState.applied.length), leaderState.applied);

    // Everyone restarts: each state machine starts from its own newest snapshot, not from offset 0.
    const stopped = Promise.all(h.cluster.nodeIds.map((id) => h.cluster.stop(id)));
    assert.ok(await h.scheduler.runUntil(() => h.cluster.down().length === h.cluster.nodeIds.length, 10_000), 'the nodes did not stop');
    await stopped;
    for (const id of h.cluster.nodeIds) await h.cluster.start(id);
    await h.scheduler.runFor(50);
    for (const id of h.cluster.nodeIds) {
      const machine = h.cluster.nodes.get(id)!.stateMachine!;
      assert.ok(machine.loads >= 1, `node ${id} did not load its snapshot`);
      assert.ok(machine.nextOffset >= snapshot.offset, `node ${id} restarted at ${machine.nextOffset}`);
    }
    assert.ok(await h.scheduler.runUntil(() => h.leader() !== undefined, 5000));
    await commit(h, 'after the restart');
    h.invariants.checkDurability();
    assert.deepEqual(h.invariants.violations, []);
  });
});
