import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TailCache, TailCacheBudget } from './tail-cache.js';

const entry = (baseOffset: number, bytes = 10) => ({ baseOffset, lastOffset: baseOffset + 1, batch: Buffer.alloc(bytes, baseOffset) });

describe('tail cache', () => {
  it('answers reads it covers and stays within its limits', () => {
    const budget = new TailCacheBudget(100);
    const cache = new TailCache(budget, 50);
    for (let offset = 0; offset < 20; offset += 2) cache.append(entry(offset));
    assert.equal(cache.bytes, 50);
    assert.equal(cache.firstOffset, 10);
    assert.equal(cache.read(8, 100, 1000, true), undefined);
    assert.deepEqual(cache.read(13, 18, 1000, true)!.chunks.map((chunk) => chunk[0]), [12, 14, 16]);
    assert.equal(cache.read(12, 100, 15, true)!.chunks.length, 1);
    assert.equal(cache.read(12, 100, 5, false)!.chunks.length, 0);
    // The batch 14..15 holds offset 15, so it goes too.
    cache.truncateFrom(15);
    assert.equal(cache.bytes, 20);
  });

  it('shares a global budget, evicting the coldest cache first', () => {
    const budget = new TailCacheBudget(40);
    const cold = new TailCache(budget, 100);
    const hot = new TailCache(budget, 100);
    cold.append(entry(0, 20));
    hot.append(entry(0, 20));
    hot.append(entry(2, 20));
    assert.equal(budget.usedBytes, 40);
    assert.equal(cold.bytes, 0);
    assert.equal(hot.bytes, 40);
  });
});
