// The replication simulation (src/testing/simulation/replication-simulation.ts): three brokers with
// the real partition log, replica manager, follower fetchers and ISR manager on the simulated
// network, a client appending with acks=all, and kill -9 crashes, restarts, isolation, delay and
// message loss. Each seed must keep every acknowledged record, at most one leader per epoch, and
// end with a full ISR of identical replicas. A sabotaged controller that elects outside the ISR
// must be caught, so the checks are shown to be able to fail.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runReplicationSeed } from '../../src/testing/simulation/replication-simulation.js';

/** Seeds per `npm test` run (CONVEYOR_REPLICATION_SIM_SEEDS for more, CONVEYOR_REPLICATION_SIM_FROM to move the window). */
const SEEDS = Number(process.env.CONVEYOR_REPLICATION_SIM_SEEDS ?? 200);
const FIRST_SEED = Number(process.env.CONVEYOR_REPLICATION_SIM_FROM ?? 1);

describe('replication simulation: seeds with faults', () => {
  const chunks = 2;
  const perChunk = Math.ceil(SEEDS / chunks);
  for (let chunk = 0; chunk < chunks; chunk++) {
    const from = FIRST_SEED + chunk * perChunk;
    const to = Math.min(FIRST_SEED + SEEDS, from + perChunk);
    it(`seeds ${from}..${to - 1} lose no acknowledged record and recover a full ISR of identical replicas`, async () => {
      const failures: string[] = [];
      let acknowledged = 0;
      let elections = 0;
      for (let seed = from; seed < to; seed++) {
        const result = await runReplicationSeed({ seed });
        acknowledged += result.acknowledged;
        elections += result.leaderEpochs;
        if (!result.ok) failures.push(`seed ${seed}: ${result.violations.slice(0, 3).join('; ')}`);
      }
      assert.deepEqual(failures, []);
      // The runs did real work: records acknowledged and leaders elected under the faults.
      assert.ok(acknowledged > (to - from) * 20, `only ${acknowledged} records acknowledged`);
      assert.ok(elections >= to - from, `only ${elections} leader elections`);
    });
  }
});

describe('replication simulation: replay and the checks', () => {
  it('replays a seed exactly', async () => {
    const first = await runReplicationSeed({ seed: 77 });
    const again = await runReplicationSeed({ seed: 77 });
    assert.deepEqual(again.faults, first.faults);
    assert.equal(again.acknowledged, first.acknowledged);
    assert.equal(again.leaderEpochs, first.leaderEpochs);
    assert.equal(again.recoveryMs, first.recoveryMs);
  });

  it('catches acknowledged records lost to a controller that elects outside the ISR', async () => {
    let caught = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const result = await runReplicationSeed({ seed, electOutsideIsr: true });
      if (result.violations.some((violation) => /acknowledged .* in the leader's log|differs from the leader's/.test(violation))) caught++;
    }
    assert.ok(caught >= 3, `only ${caught} of 12 seeds caught the unclean elections`);
  });
});
