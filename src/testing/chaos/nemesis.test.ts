import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNemesis, planFaults } from './nemesis.js';

describe('chaos nemesis schedule', () => {
  it('is the same for the same seed, different for another, and fills the run with faults and quiet periods in bounds', () => {
    const options = { seed: 11, kinds: parseNemesis('kill,pause,partition'), totalMs: 600_000, minFaultMs: 4_000, maxFaultMs: 9_000, minQuietMs: 3_000, maxQuietMs: 6_000 };
    const plan = planFaults(options);
    assert.deepEqual(planFaults(options), plan);
    assert.notDeepEqual(planFaults({ ...options, seed: 12 }), plan);
    const total = plan.reduce((sum, fault) => sum + fault.durationMs + fault.quietMs, 0);
    assert.ok(total >= 600_000 && total < 600_000 + 9_000 + 6_000, `the periods add up to the run (${total} ms)`);
    for (const fault of plan) {
      assert.ok(fault.durationMs >= 4_000 && fault.durationMs <= 9_000);
      assert.ok(fault.quietMs >= 3_000 && fault.quietMs <= 6_000);
      assert.equal(fault.shape !== undefined, fault.kind === 'partition', 'partitions, and only they, have a shape');
      assert.equal(fault.disk !== undefined, fault.kind === 'disk');
    }
    assert.deepEqual(new Set(plan.map((fault) => fault.kind)), new Set(['kill', 'pause', 'partition']), 'every asked kind comes up, no other');
    assert.deepEqual(new Set(plan.filter((fault) => fault.kind === 'partition').map((fault) => fault.shape)), new Set(['isolate', 'split', 'bridge', 'client']));
    assert.ok(plan.some((fault) => fault.target === 'leader') && plan.some((fault) => fault.target === 'controller') && plan.some((fault) => fault.target === 'coordinator'));
  });

  it('refuses an unknown nemesis, naming it', () => {
    assert.throws(() => parseNemesis('kill,flood'), /--nemesis .* got 'kill,flood'/);
    assert.throws(() => planFaults({ seed: 1, kinds: [], totalMs: 1000 }), /at least one/);
  });

  it('fills a log directory on a leader or a random node', () => {
    const disk = planFaults({ seed: 3, kinds: ['disk'], totalMs: 300_000 });
    assert.deepEqual(new Set(disk.map((fault) => fault.disk)), new Set(['full', 'read-only']));
    assert.deepEqual(new Set(disk.map((fault) => fault.target)), new Set(['leader', 'random']));
    assert.ok(disk.every((fault) => fault.target === 'leader' || fault.target === 'random'));
  });
});
