import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Clock } from '../../base/clock.js';
import { DelayedOperation, DelayedOperations } from './delayed-operations.js';

function manualClock() {
  let now = 0;
  const timers: { at: number; callback: () => void; cancelled: boolean }[] = [];
  const clock: Clock = {
    nowMs: () => now,
    monotonicMs: () => now,
    schedule(delayMs, callback) {
      const timer = { at: now + delayMs, callback, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const timer of timers.filter((entry) => !entry.cancelled && entry.at <= now)) {
      timer.cancelled = true;
      timer.callback();
    }
  };
  return { clock, advance };
}

class Counter extends DelayedOperation {
  completions = 0;
  constructor(public ready: () => boolean) {
    super();
  }
  canComplete(): boolean {
    return this.ready();
  }
  protected onComplete(): void {
    this.completions++;
  }
}

test('completes at once when ready, on an event when the condition holds, and on timeout', () => {
  const { clock, advance } = manualClock();
  const operations = new DelayedOperations<Counter>(clock, 100);
  const immediate = new Counter(() => true);
  operations.tryCompleteElseWatch(immediate, ['a'], 1000);
  assert.equal(immediate.completions, 1);

  let bytes = 0;
  const byEvent = new Counter(() => bytes >= 10);
  operations.tryCompleteElseWatch(byEvent, ['a', 'b'], 1000);
  assert.equal(operations.size, 1);
  bytes = 5;
  operations.checkAndComplete('b');
  assert.equal(byEvent.completions, 0);
  bytes = 10;
  operations.checkAndComplete('a');
  assert.equal(byEvent.completions, 1);
  assert.equal(operations.size, 0);
  advance(2000);
  assert.equal(byEvent.completions, 1, 'the timer of a completed operation is cancelled');

  const byTimeout = new Counter(() => false);
  operations.tryCompleteElseWatch(byTimeout, ['c'], 500);
  advance(499);
  assert.equal(byTimeout.completions, 0);
  advance(1);
  assert.equal(byTimeout.completions, 1);
  operations.checkAndComplete('c');
  assert.equal(byTimeout.completions, 1);
  assert.equal(operations.size, 0);
});

test('beyond the pending limit operations complete at once; completeAll drains', () => {
  const { clock } = manualClock();
  const operations = new DelayedOperations<Counter>(clock, 2);
  const parked = [new Counter(() => false), new Counter(() => false)];
  for (const operation of parked) operations.tryCompleteElseWatch(operation, ['k'], 1000);
  const overflow = new Counter(() => false);
  operations.tryCompleteElseWatch(overflow, ['k'], 1000);
  assert.equal(overflow.completions, 1);
  operations.completeAll();
  assert.deepEqual(parked.map((operation) => operation.completions), [1, 1]);
  assert.equal(operations.size, 0);
});
