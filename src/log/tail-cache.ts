// Recently appended batches of one partition kept in memory, so consumers reading at the end of
// the log are served without touching disk. Entries are contiguous: the cache answers a read only
// if its first batch starts at or before the fetch offset. Bytes are bounded per partition and,
// through a shared TailCacheBudget, across all partitions.
//
// Memory: a batch up to a chunk's size is copied into a fixed-size chunk that the budget hands out
// and takes back, so caching allocates nothing per batch. (Kept as its own buffer, a batch lives
// the ~100 ms it stays cached, outlives V8's young generation and is promoted; the external memory
// of promoted buffers counts against V8's old-generation limit, and at 10 MB/s it made the broker
// run a full collection about once a second.) A larger batch, from a throughput load, is kept as
// it is. A chunk is reused only when no cache entry and no reader refers to it: a reader with a
// ReadLease pins the chunks it was given views of until the lease is released (the fetch path
// does that once the response is written); a reader without a lease makes them escape, and an
// escaped chunk is left to the garbage collector instead of being reused.
import { TAIL_CACHE_BYTES_PER_PARTITION, TAIL_CACHE_BYTES_TOTAL, TAIL_CACHE_CHUNK_BYTES, TAIL_CACHE_FREE_CHUNKS_MAX } from './log-limits.js';
import type { Pinnable, ReadLease } from './read-buffer-pool.js';

export interface CachedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly batch: Buffer;
}

export interface CachedRead {
  readonly chunks: Buffer[];
  readonly bytes: number;
}

interface Entry extends CachedBatch {
  /** The chunk holding the batch's copy; undefined for a batch kept as it is. */
  readonly chunk: TailChunk | undefined;
}

/** One reusable block of memory that consecutive batches of one cache are copied into. */
class TailChunk implements Pinnable {
  readonly buffer: Buffer;
  readonly #budget: TailCacheBudget;
  /** Bytes handed out; the next batch goes right after them. */
  used = 0;
  /** Cache entries in this chunk: a cache holds the chunk while it has any (the open one always does). */
  entries = 0;
  #pins = 0;
  #escaped = false;

  constructor(buffer: Buffer, budget: TailCacheBudget) {
    this.buffer = buffer;
    this.#budget = budget;
  }

  /** A reused chunk starts empty (it has no entries, or it would not have been reused). */
  reset(): void {
    this.used = 0;
  }

  pin(): void {
    this.#pins += 1;
  }

  unpin(): void {
    this.#pins -= 1;
    this.recycleIfFree();
  }

  escape(): void {
    this.#escaped = true;
  }

  /** Back to the budget's free list once nothing refers to the bytes. */
  recycleIfFree(): void {
    if (this.entries === 0 && this.#pins === 0 && !this.#escaped) this.#budget.recycle(this);
  }
}

/** The shared byte budget and chunk pool; the least recently appended-to caches give up bytes first. */
export class TailCacheBudget {
  readonly limitBytes: number;
  readonly chunkBytes: number;
  #usedBytes = 0;
  readonly #caches = new Map<TailCache, true>();
  readonly #free: TailChunk[] = [];

  constructor(limitBytes = TAIL_CACHE_BYTES_TOTAL, chunkBytes = TAIL_CACHE_CHUNK_BYTES) {
    this.limitBytes = limitBytes;
    this.chunkBytes = chunkBytes;
  }

  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Chunks waiting for reuse (tests). */
  get freeChunks(): number {
    return this.#free.length;
  }

  /** Accounts `bytes` added by `cache`, evicting from cold caches while over the limit. */
  charge(cache: TailCache, bytes: number): void {
    this.#usedBytes += bytes;
    this.#caches.delete(cache);
    this.#caches.set(cache, true);
    for (const coldest of this.#caches.keys()) {
      if (this.#usedBytes <= this.limitBytes) break;
      coldest.evictUntil(Math.max(0, coldest.bytes - (this.#usedBytes - this.limitBytes)));
    }
  }

  release(cache: TailCache, bytes: number): void {
    this.#usedBytes -= bytes;
    if (cache.bytes === 0) this.#caches.delete(cache);
  }

  takeChunk(): TailChunk {
    const chunk = this.#free.pop();
    if (chunk === undefined) return new TailChunk(Buffer.allocUnsafeSlow(this.chunkBytes), this);
    chunk.reset();
    return chunk;
  }

  recycle(chunk: TailChunk): void {
    if (this.#free.length < TAIL_CACHE_FREE_CHUNKS_MAX) this.#free.push(chunk);
  }
}

export class TailCache {
  readonly #budget: TailCacheBudget;
  readonly #limitBytes: number;
  /** Slots before #head are evicted and cleared, so they do not keep their batches alive. */
  #entries: (Entry | undefined)[] = [];
  #head = 0;
  /** Bytes held: whole chunks, plus batches kept as they are. */
  #bytes = 0;
  /** The chunk new small batches are copied into. */
  #open: TailChunk | undefined;

  constructor(budget: TailCacheBudget, limitBytes = TAIL_CACHE_BYTES_PER_PARTITION) {
    this.#budget = budget;
    // A cache must be able to hold the chunk it is appending into.
    this.#limitBytes = Math.max(limitBytes, budget.chunkBytes);
  }

  get bytes(): number {
    return this.#bytes;
  }

  get firstOffset(): number | undefined {
    return this.#entries[this.#head]?.baseOffset;
  }

  /**
   * Adds the batch that now ends the log (copied when small). A batch too big for the cache
   * restarts it empty; a budget too small for one chunk (`conveyor.tail.cache.bytes` 0) caches
   * nothing.
   */
  append(entry: CachedBatch): void {
    const size = entry.batch.length;
    if (size > this.#limitBytes || this.#budget.limitBytes < this.#budget.chunkBytes) {
      this.clear();
      return;
    }
    let added = 0;
    let chunk: TailChunk | undefined;
    let batch: Buffer;
    if (size <= this.#budget.chunkBytes) {
      chunk = this.#open;
      if (chunk === undefined || chunk.buffer.length - chunk.used < size) {
        // The full chunk stays held by its entries (never empty: its last entry's eviction drops it).
        chunk = this.#budget.takeChunk();
        this.#open = chunk;
        added = chunk.buffer.length;
      }
      batch = chunk.buffer.subarray(chunk.used, chunk.used + size);
      entry.batch.copy(batch);
      chunk.used += size;
      chunk.entries += 1;
    } else {
      // Entries keep log order within a chunk, so a batch kept as it is ends the open chunk.
      this.#open = undefined;
      batch = ownedBatch(entry.batch);
      added = size;
    }
    this.#entries.push({ baseOffset: entry.baseOffset, lastOffset: entry.lastOffset, batch, chunk });
    this.#bytes += added;
    this.evictUntil(this.#limitBytes);
    this.#budget.charge(this, added);
  }

  /**
   * Whole batches from the one holding `fetchOffset`, stopping before `endOffset` (exclusive) or
   * `maxBytes`; undefined if the cache does not reach back to `fetchOffset`. The returned views of
   * chunks stay valid while `lease` is unreleased; without a lease, for good.
   */
  read(fetchOffset: number, endOffset: number, maxBytes: number, minOneBatch: boolean, lease?: ReadLease): CachedRead | undefined {
    const first = this.#entries[this.#head];
    if (first === undefined || first.baseOffset > fetchOffset) return undefined;
    const chunks: Buffer[] = [];
    let bytes = 0;
    let pinned: TailChunk | undefined;
    for (let index = this.#findFirst(fetchOffset); index < this.#entries.length; index += 1) {
      const entry = this.#entries[index]!;
      if (entry.baseOffset >= endOffset) break;
      const fits = bytes + entry.batch.length <= maxBytes || (chunks.length === 0 && minOneBatch);
      if (!fits) break;
      chunks.push(entry.batch);
      bytes += entry.batch.length;
      // A chunk's entries are consecutive: pin each chunk once per read.
      if (entry.chunk !== undefined && entry.chunk !== pinned) {
        pinned = entry.chunk;
        if (lease === undefined) pinned.escape();
        else lease.pin(pinned);
      }
    }
    return { chunks, bytes };
  }

  /** Drops cached batches at or past `offset` (the log was truncated). */
  truncateFrom(offset: number): void {
    let freed = 0;
    while (this.#entries.length > this.#head && this.#entries.at(-1)!.lastOffset >= offset) {
      freed += this.#forget(this.#entries.pop()!);
    }
    this.#release(freed);
  }

  /** Drops cached batches that start before `offset` (retention deleted them, or the cleaner rewrote them). */
  evictBelow(offset: number): void {
    let freed = 0;
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.baseOffset < offset) {
      freed += this.#forget(this.#entries[this.#head]!);
      this.#entries[this.#head] = undefined;
      this.#head += 1;
    }
    this.#release(freed);
  }

  /** Evicts oldest batches until the cache holds at most `targetBytes`. */
  evictUntil(targetBytes: number): void {
    let freed = 0;
    while (this.#bytes - freed > targetBytes && this.#head < this.#entries.length) {
      freed += this.#forget(this.#entries[this.#head]!);
      this.#entries[this.#head] = undefined;
      this.#head += 1;
    }
    // Compact the array now and then instead of shifting on every eviction.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    this.#release(freed);
  }

  clear(): void {
    this.evictUntil(0);
  }

  /** Bytes an entry's removal frees: its own, or its chunk's once the chunk has no entries left. */
  #forget(entry: Entry): number {
    const chunk = entry.chunk;
    if (chunk === undefined) return entry.batch.length;
    chunk.entries -= 1;
    if (chunk.entries > 0) return 0;
    if (chunk === this.#open) this.#open = undefined;
    chunk.recycleIfFree();
    return chunk.buffer.length;
  }

  #release(bytes: number): void {
    if (bytes === 0) return;
    this.#bytes -= bytes;
    if (this.#head === this.#entries.length) {
      this.#entries = [];
      this.#head = 0;
    }
    this.#budget.release(this, bytes);
  }

  #findFirst(fetchOffset: number): number {
    let low = this.#head;
    let high = this.#entries.length - 1;
    let found = this.#entries.length;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.#entries[middle]!.lastOffset >= fetchOffset) {
        found = middle;
        high = middle - 1;
      } else {
        low = middle + 1;
      }
    }
    return found;
  }
}

/**
 * A batch kept as it is. A small view into a much larger buffer (a whole produce request) is
 * copied, so the cache does not pin the request's memory.
 */
function ownedBatch(batch: Buffer): Buffer {
  return batch.buffer.byteLength > 2 * batch.length + 8192 ? Buffer.from(batch) : batch;
}
