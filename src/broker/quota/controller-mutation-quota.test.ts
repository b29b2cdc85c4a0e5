import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../testing/log-support.js';
import { ControllerMutationQuotaManager } from './controller-mutation-quota.js';
import type { QuotaSource, ResolvedQuota } from './quota-sensors.js';

const WINDOW = { samples: 11, sampleMs: 1000 };

/** controller_mutation_rate by user (entity `user=<name>`). */
function userQuotas(quotas: Record<string, number>): QuotaSource {
  return {
    version: () => 0,
    resolve: (user): ResolvedQuota | undefined => (user in quotas ? { bound: quotas[user]!, entity: `user=${user}` } : undefined),
    anySet: () => Object.keys(quotas).length > 0,
  };
}

describe('ControllerMutationQuotaManager', () => {
  it('strict: admits any topic while tokens are left, then refuses every topic with the time until the bucket is back at zero', () => {
    const clock = new ManualClock();
    const manager = new ControllerMutationQuotaManager(userQuotas({ alice: 1 }), clock, WINDOW);
    const first = manager.quotaFor('alice', 'admin', true)!;
    // A burst of 11 tokens: a topic of 15 partitions is admitted whole, the bucket goes to -4.
    assert.equal(first.record(15), true);
    assert.equal(first.throttleTimeMs(), 0, 'a strict quota that refused nothing does not throttle');
    assert.equal(first.record(1), false, 'the next topic of the same request is refused');
    assert.equal(first.throttleTimeMs(), 4000);
    clock.advance(1000);
    assert.equal(first.throttleTimeMs(), 3000, 'the throttle time is reported less the time since it was decided');
    const second = manager.quotaFor('alice', 'other-client', true)!;
    assert.equal(second.record(1), false, 'every client id of the user shares the bucket');
    assert.equal(second.throttleTimeMs(), 3000);
    clock.advance(3000);
    assert.equal(manager.quotaFor('alice', 'admin', true)!.record(1), true, 'back at zero: admitted again');
  });

  it('permissive: admits every topic and throttles as soon as the bucket is below zero', () => {
    const clock = new ManualClock();
    const manager = new ControllerMutationQuotaManager(userQuotas({ alice: 2 }), clock, WINDOW);
    const quota = manager.quotaFor('alice', 'admin', false)!;
    assert.equal(quota.record(20), true);
    assert.equal(quota.throttleTimeMs(), 0, '22 - 20 tokens left');
    assert.equal(quota.record(10), true);
    assert.equal(quota.throttleTimeMs(), 4000, '-8 tokens at 2 per second');
    assert.equal(quota.record(10), true);
    assert.equal(quota.throttleTimeMs(), 9000);
  });

  it('applies to no client without a quota, and to nobody with none set', () => {
    const clock = new ManualClock();
    const manager = new ControllerMutationQuotaManager(userQuotas({ alice: 1 }), clock, WINDOW);
    assert.equal(manager.quotaFor('bob', 'admin', true), undefined);
    assert.equal(manager.appliesTo('bob', 'admin'), false);
    assert.equal(manager.appliesTo('alice', 'admin'), true);
    assert.equal(new ControllerMutationQuotaManager(userQuotas({}), clock, WINDOW).quotaFor('alice', 'admin', true), undefined);
    assert.equal(manager.sensorCount, 0, 'a bucket is made only for a client asking for a quota it has');
  });
});
