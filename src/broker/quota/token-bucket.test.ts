import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../testing/log-support.js';
import { TokenBucket, throttleTimeMs } from './token-bucket.js';

describe('TokenBucket', () => {
  it('starts full with a burst of quota x samples x sample size, and may go negative', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { samples: 11, sampleMs: 1000 });
    assert.equal(bucket.tokens(2), 22);
    bucket.record(2, 30);
    assert.equal(bucket.tokens(2), -8);
    // -8 tokens at 2 per second: 4 s until the bucket is back at zero.
    assert.equal(throttleTimeMs(bucket.tokens(2), 2), 4000);
  });

  it('refills at the quota rate, never above the burst', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { samples: 5, sampleMs: 2000 });
    bucket.record(1, 10);
    assert.equal(bucket.tokens(1), 0);
    clock.advance(2500);
    assert.equal(bucket.tokens(1), 2.5);
    clock.advance(60_000);
    assert.equal(bucket.tokens(1), 10, 'the burst is 1 x 5 x 2 s');
    assert.equal(throttleTimeMs(bucket.tokens(1), 1), 0);
  });

  it('takes a changed quota at the next look: a smaller burst caps what was saved', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, { samples: 10, sampleMs: 1000 });
    assert.equal(bucket.tokens(10), 100);
    bucket.record(1, 0);
    assert.equal(bucket.tokens(1), 10);
  });
});
