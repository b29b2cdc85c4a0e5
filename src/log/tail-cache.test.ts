import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReadBufferPool, ReadLease } from './read-buffer-pool.js';
import { TailCache, TailCacheBudget } from './tail-cache.js';

const entry = (baseOffset: number, bytes = 10) => ({ baseOffset, lastOffset: baseOffset + 1, batch: Buffer.alloc(bytes, baseOffset) });
const newLease = () => new ReadLease(new ReadBufferPool(1024, 0));

describe('tail cache', () => {
  it('answers reads it covers and stays within its limits', () => {
    // Chunks of 20 bytes hold two 10-byte batches; 50 bytes per partition is two whole chunks.
    const budget = new TailCacheBudget(100, 20);
    const cache = new TailCache(budget, 50);
    for (let offset = 0; offset < 20; offset += 2) cache.append(entry(offset));
    assert.equal(cache.bytes, 40);
    assert.equal(budget.usedBytes, 40);
    assert.equal(cache.firstOffset, 12);
    assert.equal(cache.read(10, 100, 1000, true), undefined);
    assert.deepEqual(cache.read(13, 18, 1000, true)!.chunks.map((chunk) => chunk[0]), [12, 14, 16]);
    assert.equal(cache.read(12, 100, 15, true)!.chunks.length, 1);
    assert.equal(cache.read(12, 100, 5, false)!.chunks.length, 0);
    // The batch 14..15 holds offset 15, so it goes too, and with it the chunk it shared with 12..13.
    cache.truncateFrom(15);
    assert.equal(cache.bytes, 20);
    assert.deepEqual(cache.read(12, 100, 1000, true)!.chunks.map((chunk) => chunk[0]), [12]);
  });

  it('shares a global budget, evicting the coldest cache first', () => {
    const budget = new TailCacheBudget(40, 20);
    const cold = new TailCache(budget, 100);
    const hot = new TailCache(budget, 100);
    cold.append(entry(0, 20));
    hot.append(entry(0, 20));
    hot.append(entry(2, 20));
    assert.equal(budget.usedBytes, 40);
    assert.equal(cold.bytes, 0);
    assert.equal(hot.bytes, 40);
  });

  it('copies small batches into chunks and keeps larger ones as they are', () => {
    const cache = new TailCache(new TailCacheBudget(1000, 20), 100);
    const small = entry(0, 10);
    cache.append(small);
    small.batch.fill(99);
    assert.equal(cache.read(0, 10, 100, true)!.chunks[0]![0], 0, 'a copy, unaffected by the caller reusing its buffer');
    const large = entry(2, 30);
    cache.append(large);
    assert.equal(cache.read(2, 10, 100, true)!.chunks[0], large.batch);
    assert.equal(cache.bytes, 20 + 30);
  });

  it('reuses a chunk only once no entry and no lease refers to it', () => {
    const budget = new TailCacheBudget(1000, 20);
    const cache = new TailCache(budget, 40);
    cache.append(entry(0));
    cache.append(entry(2));
    const lease = newLease();
    const read = cache.read(0, 100, 100, true, lease)!;
    assert.deepEqual(read.chunks.map((chunk) => chunk[0]), [0, 2]);
    // Two more chunks' worth evicts the first chunk, which the lease still pins.
    for (let offset = 4; offset < 12; offset += 2) cache.append(entry(offset));
    assert.equal(cache.firstOffset, 4);
    assert.equal(budget.freeChunks, 0);
    assert.deepEqual(read.chunks.map((chunk) => chunk[0]), [0, 2], 'the leased bytes are untouched');
    lease.release();
    assert.equal(budget.freeChunks, 1);
    // The next new chunk is the one given back (and the chunk of 4..7, evicted now, takes its place).
    cache.append(entry(12));
    assert.equal(budget.freeChunks, 1);
    assert.deepEqual(read.chunks.map((chunk) => chunk[0]), [12, 2], 'the released views now show new bytes');
  });

  it('never reuses a chunk a reader saw without a lease', () => {
    const budget = new TailCacheBudget(1000, 20);
    const cache = new TailCache(budget, 20);
    cache.append(entry(0));
    const read = cache.read(0, 100, 100, true)!;
    for (let offset = 2; offset < 12; offset += 2) cache.append(entry(offset));
    assert.equal(cache.firstOffset, 8);
    assert.deepEqual(read.chunks.map((chunk) => chunk[0]), [0]);
    // The chunks evicted without a reader (4..7) were recycled; the one read without a lease was not.
    assert.equal(budget.freeChunks, 1);
  });

  it('a lease released before it pins makes the chunk escape', () => {
    const budget = new TailCacheBudget(1000, 20);
    const cache = new TailCache(budget, 20);
    cache.append(entry(0));
    const lease = newLease();
    lease.release();
    cache.read(0, 100, 100, true, lease);
    cache.append(entry(2));
    cache.append(entry(4));
    assert.equal(budget.freeChunks, 0);
  });

  it('caches nothing when the budget cannot hold one chunk', () => {
    const budget = new TailCacheBudget(0, 20);
    const cache = new TailCache(budget, 100);
    cache.append(entry(0));
    assert.equal(cache.read(0, 100, 100, true), undefined);
    assert.equal(budget.usedBytes, 0);
    assert.equal(budget.freeChunks, 0, 'no chunk was taken');
  });
});
