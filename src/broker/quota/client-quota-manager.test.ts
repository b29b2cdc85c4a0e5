import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../testing/log-support.js';
import { ClientQuotaManager, type QuotaSource, type ResolvedQuota } from './client-quota-manager.js';

const WINDOW = { samples: 11, sampleMs: 1000 };

/** Quotas by user (entity `user=<name>`), changed by the test; the version moves on every change. */
function userQuotas(initial: Record<string, number>) {
  const quotas = new Map(Object.entries(initial));
  let version = 0;
  const source: QuotaSource = {
    version: () => version,
    resolve: (user): ResolvedQuota | undefined => (quotas.has(user) ? { bound: quotas.get(user)!, entity: `user=${user}` } : undefined),
  };
  return { source, set: (user: string, bound: number) => { quotas.set(user, bound); version++; } };
}

describe('ClientQuotaManager', () => {
  it('throttles by how far the measured rate is above the quota, over the measured window, at most the whole window', () => {
    const clock = new ManualClock();
    const { source } = userQuotas({ alice: 1000 });
    const quotas = new ClientQuotaManager(source, clock, WINDOW);
    // 5,000 bytes at once count as spread over 10 samples' time: 500 B/s, within 1,000 B/s.
    assert.equal(quotas.recordAndGetThrottleTimeMs('alice', 'p1', 5_000), 0);
    // 20,000 bytes: 2,000 B/s over a 10 s window, twice the quota: wait 10 s for it to fall back.
    assert.equal(quotas.recordAndGetThrottleTimeMs('alice', 'p1', 15_000), 10_000);
    // Far above the quota, the wait is at most the whole window (11 x 1 s).
    assert.equal(quotas.recordAndGetThrottleTimeMs('alice', 'p1', 1_000_000), 11_000);
    // A client without a quota is never throttled, and gets no measure.
    assert.equal(quotas.recordAndGetThrottleTimeMs('bob', 'p1', 1_000_000), 0);
    assert.equal(quotas.sensorCount, 1);
  });

  it("reports each entity's rate and the average throttle time of its requests in the window, with its tags", () => {
    const clock = new ManualClock();
    const source: QuotaSource = { version: () => 0, resolve: (user) => (user === 'alice' ? { bound: 1000, entity: 'user=alice', tags: { user: 'alice', clientId: '' } } : undefined) };
    const quotas = new ClientQuotaManager(source, clock, WINDOW);
    assert.deepEqual(quotas.figures(), [], 'nothing measured yet');
    assert.equal(quotas.recordAndGetThrottleTimeMs('alice', 'p1', 5_000), 0);
    assert.equal(quotas.recordAndGetThrottleTimeMs('alice', 'p2', 15_000), 10_000);
    assert.deepEqual(quotas.figures(), [{ user: 'alice', clientId: '', rate: 2_000, throttleTimeMs: 5_000 }], '20,000 B over 10 s; throttled 0 and 10,000 ms');
    clock.advance(12_000);
    assert.deepEqual(quotas.figures(), [{ user: 'alice', clientId: '', rate: 0, throttleTimeMs: 0 }], 'the window has passed');
  });

  it('every client id of a user with a user-level quota shares its measure; samples older than the window stop counting', () => {
    const clock = new ManualClock();
    const { source } = userQuotas({ alice: 1000 });
    const quotas = new ClientQuotaManager(source, clock, WINDOW);
    assert.equal(quotas.recordAndGetThrottleTimeMs('alice', 'one', 8_000), 0);
    assert.ok(quotas.recordAndGetThrottleTimeMs('alice', 'two', 8_000) > 0, 'the second client id adds to the same measure');
    clock.advance(12_000);
    assert.equal(quotas.recordAndGetThrottleTimeMs('alice', 'three', 8_000), 0, 'the window has moved past the earlier bytes');
  });

  it('takes a changed quota at once (the image version moved)', () => {
    const clock = new ManualClock();
    const { source, set } = userQuotas({ alice: 1000 });
    const quotas = new ClientQuotaManager(source, clock, WINDOW);
    assert.ok(quotas.recordAndGetThrottleTimeMs('alice', 'p', 30_000) > 0);
    set('alice', 1_000_000);
    assert.equal(quotas.recordAndGetThrottleTimeMs('alice', 'p', 1), 0);
  });
});

describe('ClientQuotaManager for request_percentage', () => {
  it('bounds the throttle time by maxThrottleMs, and counts late records for the next requests only', () => {
    const clock = new ManualClock();
    const { source } = userQuotas({ alice: 1 });
    const quotas = new ClientQuotaManager(source, clock, WINDOW, { maxThrottleMs: 1000 });
    // 1% of a thread: 0.1 percent-seconds over the 10 s window is within it.
    assert.equal(quotas.recordAndGetThrottleTimeMs('alice', 'c', 0.1), 0);
    quotas.record('alice', 'c', 50);
    // The late record was counted: the next request is throttled (5% of a thread against 1%: for
    // 40 s of the 10 s window), at most one sample.
    assert.equal(quotas.recordAndGetThrottleTimeMs('alice', 'c', 0.01), 1000);
    quotas.unrecord('alice', 'c', 50.11);
    assert.equal(quotas.recordAndGetThrottleTimeMs('alice', 'c', 0.01), 0, 'taken back');
  });
});
