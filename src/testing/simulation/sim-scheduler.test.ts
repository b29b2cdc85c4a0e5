// The simulation scheduler: events run in (time, insertion) order, cancel works, the microtasks an
// event starts finish before the next event, runUntil/runFor bound virtual time, failures surface,
// hooks run after every event, and a node's clock can cancel all its timers at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFileSystem } from '../../base/memory-file-system.js';
import { SeededRandom } from './seeded-random.js';
import { SIMULATION_START_WALL_MS, SimScheduler } from './sim-scheduler.js';

describe('SimScheduler', () => {
  it('runs events by due time, then by insertion order', async () => {
    const scheduler = new SimScheduler();
    const order: string[] = [];
    scheduler.schedule(10, () => order.push('b@10'));
    scheduler.schedule(5, () => order.push('a@5'));
    scheduler.schedule(10, () => order.push('c@10'));
    scheduler.schedule(0, () => {
      order.push('zero');
      // Scheduled now for now: after everything already due now.
      scheduler.schedule(0, () => order.push('zero-again'));
    });
    scheduler.schedule(0, () => order.push('zero-second'));
    await scheduler.runFor(100);
    assert.deepEqual(order, ['zero', 'zero-second', 'zero-again', 'a@5', 'b@10', 'c@10']);
    assert.equal(scheduler.monotonicMs(), 100);
    assert.equal(scheduler.eventsRun, 6);
  });

  it('orders thousands of random timers with cancels exactly like a sort by (time, sequence)', async () => {
    const random = new SeededRandom(17);
    const scheduler = new SimScheduler();
    const expected: { atMs: number; sequence: number }[] = [];
    const ran: number[] = [];
    const cancels: (() => void)[] = [];
    for (let sequence = 0; sequence < 3000; sequence++) {
      const atMs = random.nextInt(500);
      cancels.push(scheduler.schedule(atMs, () => ran.push(sequence)));
      expected.push({ atMs, sequence });
    }
    const cancelled = new Set<number>();
    for (let index = 0; index < 1000; index++) {
      const sequence = random.nextInt(3000);
      cancelled.add(sequence);
      cancels[sequence]!();
    }
    assert.equal(scheduler.pendingCount, 3000 - cancelled.size);
    while (await scheduler.step()) {}
    const order = expected
      .filter((timer) => !cancelled.has(timer.sequence))
      .sort((a, b) => a.atMs - b.atMs || a.sequence - b.sequence)
      .map((timer) => timer.sequence);
    assert.deepEqual(ran, order);
  });

  it('cancels: a cancelled timer never runs, and cancelling twice or after running is harmless', async () => {
    const scheduler = new SimScheduler();
    let ran = 0;
    const cancel = scheduler.schedule(5, () => ran++);
    const runs = scheduler.schedule(1, () => ran++);
    assert.equal(scheduler.pendingCount, 2);
    cancel();
    cancel();
    assert.equal(scheduler.pendingCount, 1);
    assert.equal(await scheduler.step(), true);
    runs();
    assert.equal(await scheduler.step(), false);
    assert.equal(ran, 1);
    assert.equal(scheduler.monotonicMs(), 1, 'time stays at the last event when nothing is left');
  });

  it('keeps wall time as start plus virtual time; a clock jump moves wall time only', async () => {
    const scheduler = new SimScheduler();
    assert.equal(scheduler.nowMs(), SIMULATION_START_WALL_MS);
    await scheduler.runFor(250);
    assert.equal(scheduler.nowMs(), SIMULATION_START_WALL_MS + 250);
    scheduler.jumpWallClock(-60_000);
    assert.equal(scheduler.nowMs(), SIMULATION_START_WALL_MS + 250 - 60_000);
    assert.equal(scheduler.monotonicMs(), 250);
    assert.equal(new SimScheduler({ startWallMs: 5 }).nowMs(), 5);
  });

  it('finishes an event’s promise chains, memory file system included, before the next event', async () => {
    const scheduler = new SimScheduler();
    const fs = new MemoryFileSystem();
    const log: string[] = [];
    scheduler.schedule(1, () => {
      void (async () => {
        await fs.mkdir('/data');
        await fs.writeFile('/data/a', Buffer.from('hello'));
        for (let index = 0; index < 50; index++) await Promise.resolve();
        log.push(`written ${(await fs.readFile('/data/a')).toString()}`);
      })();
    });
    scheduler.schedule(1, () => log.push('second event'));
    await scheduler.step();
    assert.deepEqual(log, ['written hello']);
    await scheduler.step();
    assert.deepEqual(log, ['written hello', 'second event']);
  });

  it('runUntil stops at the event that makes the predicate true, or at the limit', async () => {
    const scheduler = new SimScheduler();
    let count = 0;
    for (let atMs = 10; atMs <= 100; atMs += 10) scheduler.schedule(atMs, () => count++);
    assert.equal(await scheduler.runUntil(() => count === 3, 1000), true);
    assert.equal(scheduler.monotonicMs(), 30);
    assert.equal(await scheduler.runUntil(() => count === 3, 1000), true, 'a predicate already true runs nothing');
    assert.equal(scheduler.monotonicMs(), 30);
    assert.equal(await scheduler.runUntil(() => count === 100, 45), false);
    assert.equal(scheduler.monotonicMs(), 75, 'a failed wait uses up its whole limit');
    assert.equal(count, 7);
    await scheduler.runFor(25);
    assert.equal(count, 10, 'runFor runs events due exactly at its end');
    assert.equal(await scheduler.runUntil(() => false, 500), false);
    assert.equal(scheduler.monotonicMs(), 600);
  });

  it('rejects the run with a callback’s error, and stays failed', async () => {
    const scheduler = new SimScheduler();
    scheduler.schedule(1, () => {
      throw new Error('boom');
    });
    scheduler.schedule(2, () => {});
    await assert.rejects(scheduler.runUntil(() => false, 10), /boom/);
    await assert.rejects(scheduler.step(), /boom/);
  });

  it('rejects the run with an error reported through fail from a promise continuation', async () => {
    const scheduler = new SimScheduler();
    scheduler.schedule(1, () => {
      void Promise.reject(new Error('async boom')).catch((error) => scheduler.fail(error));
    });
    await assert.rejects(scheduler.runFor(10), /async boom/);
  });

  it('runs afterEachEvent hooks after every event until removed; a throwing hook fails the run', async () => {
    const scheduler = new SimScheduler();
    const seen: number[] = [];
    let state = 0;
    for (let atMs = 1; atMs <= 3; atMs++) scheduler.schedule(atMs, () => void Promise.resolve().then(() => state++));
    const remove = scheduler.afterEachEvent(() => seen.push(state));
    await scheduler.step();
    await scheduler.step();
    remove();
    await scheduler.step();
    assert.deepEqual(seen, [1, 2], 'hooks see the state after the event’s microtasks');
    scheduler.afterEachEvent(() => {
      if (state > 3) throw new Error('invariant broken');
    });
    scheduler.schedule(1, () => state++);
    await assert.rejects(scheduler.runFor(5), /invariant broken/);
  });

  it('gives each node a clock whose timers can be cancelled together', async () => {
    const scheduler = new SimScheduler();
    const first = scheduler.clockFor('node-1');
    const second = scheduler.clockFor('node-2');
    const ran: string[] = [];
    first.schedule(5, () => ran.push('first-a'));
    first.schedule(7, () => ran.push('first-b'));
    const cancelled = first.schedule(6, () => ran.push('first-cancelled'));
    second.schedule(5, () => ran.push('second'));
    cancelled();
    assert.equal(first.pendingCount, 2);
    assert.equal(scheduler.pendingCount, 3);
    first.cancelAll();
    assert.equal(first.pendingCount, 0);
    first.schedule(8, () => ran.push('first-after-cancel'));
    await scheduler.runFor(10);
    assert.deepEqual(ran, ['second', 'first-after-cancel']);
    assert.equal(first.nowMs(), scheduler.nowMs());
    assert.equal(first.monotonicMs(), 10);

    first.schedule(1, () => ran.push('killed'));
    first.halt();
    first.schedule(1, () => ran.push('armed by a dead node'));
    await scheduler.runFor(10);
    assert.equal(ran.length, 2);
    assert.equal(first.halted, true);
    assert.equal(scheduler.pendingCount, 0);
  });
});
