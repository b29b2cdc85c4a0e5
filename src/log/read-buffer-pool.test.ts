import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { silentLogger } from '../base/logger.js';
import { hasValidCrc, patchBaseOffsetAndEpoch, readLastOffsetDelta, readMaxTimestamp } from '../protocol/records/batch-header.js';
import type { BatchHeaderInfo } from './batch-scanner.js';
import { FileHandleCache } from './file-handle-cache.js';
import { READ_POOL_SLAB_BYTES } from './log-limits.js';
import { ReadBufferPool, ReadLease, readBufferPool } from './read-buffer-pool.js';
import { Segment } from './segment.js';
import { buildBatch } from '../testing/test-batches.js';

describe('read buffer pool', () => {
  it('lends slabs for reads that fit and are not tiny, and takes each back once', () => {
    const pool = new ReadBufferPool(1024, 2);
    assert.equal(pool.acquire(2048), undefined, 'larger than a slab');
    assert.equal(pool.acquire(64), undefined, 'a sixteenth of a slab or less');
    const slab = pool.acquire(600)!;
    assert.equal(slab.length, 1024);
    pool.release(slab);
    pool.release(slab);
    assert.equal(pool.freeCount, 1, 'a second release of the same slab is ignored');
    assert.equal(pool.acquire(1024), slab, 'reused');
    assert.notEqual(pool.acquire(1024), slab, 'a new one while the first is lent');
  });

  it('keeps at most maxFree slabs', () => {
    const pool = new ReadBufferPool(1024, 2);
    const slabs = [pool.acquire(1000)!, pool.acquire(1000)!, pool.acquire(1000)!];
    for (const slab of slabs) pool.release(slab);
    assert.equal(pool.freeCount, 2);
  });

  it('a lease gives back what it took and adopted, once, and lends nothing after', () => {
    const pool = new ReadBufferPool(1024, 8);
    const lease = new ReadLease(pool);
    const taken = lease.slabFor(1000)!;
    const adopted = pool.acquire(1000)!;
    lease.adopt(adopted);
    assert.equal(pool.freeCount, 0);
    lease.release();
    lease.release();
    assert.equal(pool.freeCount, 2);
    assert.equal(lease.slabFor(1000), undefined);
    assert.ok([taken, adopted].includes(pool.acquire(1000)!));
  });
});

describe('leased segment reads', () => {
  const settings = { segmentIndexBytes: 10 * 1024 * 1024, indexIntervalBytes: 4096 };

  async function segmentWith(batchCount: number, valueBytes: number): Promise<{ segment: Segment; batches: Buffer[] }> {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/p');
    const segment = await Segment.create({ fs, handles: new FileHandleCache(fs, 16, silentLogger), logger: silentLogger }, '/p', 0, settings, 0);
    const batches: Buffer[] = [];
    const headers: BatchHeaderInfo[] = [];
    let position = 0;
    for (let index = 0; index < batchCount; index += 1) {
      const batch = buildBatch({ values: [`v${index}`], valueBytes });
      patchBaseOffsetAndEpoch(batch, 0, index, 0);
      headers.push({ position, size: batch.length, baseOffset: index, lastOffset: index + readLastOffsetDelta(batch), maxTimestamp: readMaxTimestamp(batch) });
      batches.push(batch);
      position += batch.length;
    }
    await segment.append(batches, headers, true);
    return { segment, batches };
  }

  it('serves views of pooled slabs, which a released lease lets the next read reuse with the right bytes', async () => {
    // 40 batches of about 100 KiB: each 1 MiB read returns about ten of them.
    const { segment, batches } = await segmentWith(40, 100 * 1024);
    let offset = 0;
    const slabsSeen = new Set<ArrayBufferLike>();
    while (offset < batches.length) {
      const lease = new ReadLease(readBufferPool);
      const read = await segment.read(offset, batches.length, 1024 * 1024, true, lease);
      assert.ok(read.chunks.length > 0);
      for (const chunk of read.chunks) {
        assert.ok(chunk.equals(batches[offset]!), `batch ${offset} as stored`);
        assert.ok(hasValidCrc(chunk));
        assert.equal(chunk.buffer.byteLength, READ_POOL_SLAB_BYTES, 'a view of a pooled slab');
        slabsSeen.add(chunk.buffer);
        offset += 1;
      }
      lease.release();
    }
    // The first read and each read-ahead after it take a slab; released ones come back around.
    assert.ok(slabsSeen.size < 4, `${slabsSeen.size} slabs for four reads`);
  });

  it('reads without a lease never take pooled slabs for themselves', async () => {
    const { segment, batches } = await segmentWith(12, 100 * 1024);
    // Whatever the pool holds is ready for reuse: a read that took from it would get one of these.
    const lendable = new Set<ArrayBufferLike>();
    for (let count = readBufferPool.freeCount; count > 0; count -= 1) lendable.add(readBufferPool.acquire(READ_POOL_SLAB_BYTES)!.buffer);
    for (const buffer of lendable) readBufferPool.release(Buffer.from(buffer));
    const first = await segment.read(0, batches.length, 1024 * 1024, true);
    assert.ok(first.chunks.length > 0);
    for (const chunk of first.chunks) assert.equal(lendable.has(chunk.buffer), false, 'a buffer of its own');
    // The next read takes the read-ahead (a pooled slab); with no lease it is never given back.
    const second = await segment.read(first.chunks.length, batches.length, 1024 * 1024, true);
    assert.ok(second.chunks[0]!.equals(batches[first.chunks.length]!));
  });
});
