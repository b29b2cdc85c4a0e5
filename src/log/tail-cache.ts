// Recently appended batches of one partition kept in memory, so consumers reading at the end of
// the log are served without touching disk. Entries are contiguous: the cache answers a read only
// if its first batch starts at or before the fetch offset. Bytes are bounded per partition and,
// through a shared TailCacheBudget, across all partitions.
import { TAIL_CACHE_BYTES_PER_PARTITION, TAIL_CACHE_BYTES_TOTAL } from './log-limits.js';

export interface CachedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly batch: Buffer;
}

export interface CachedRead {
  readonly chunks: Buffer[];
  readonly bytes: number;
}

/** The shared byte budget; the least recently appended-to caches give up bytes first. */
export class TailCacheBudget {
  readonly limitBytes: number;
  #usedBytes = 0;
  readonly #caches = new Map<TailCache, true>();

  constructor(limitBytes = TAIL_CACHE_BYTES_TOTAL) {
    this.limitBytes = limitBytes;
  }

  get usedBytes(): number {
    return this.#usedBytes;
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
}

export class TailCache {
  readonly #budget: TailCacheBudget;
  readonly #limitBytes: number;
  /** Slots before #head are evicted and cleared, so they do not keep their batches alive. */
  #entries: (CachedBatch | undefined)[] = [];
  #head = 0;
  #bytes = 0;

  constructor(budget: TailCacheBudget, limitBytes = TAIL_CACHE_BYTES_PER_PARTITION) {
    this.#budget = budget;
    this.#limitBytes = limitBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get firstOffset(): number | undefined {
    return this.#entries[this.#head]?.baseOffset;
  }

  /** Adds the batch that now ends the log; a batch too big for the cache restarts it empty. */
  append(entry: CachedBatch): void {
    if (entry.batch.length > this.#limitBytes) {
      this.clear();
      return;
    }
    this.#entries.push(entry);
    this.#bytes += entry.batch.length;
    this.evictUntil(this.#limitBytes);
    this.#budget.charge(this, entry.batch.length);
  }

  /**
   * Whole batches from the one holding `fetchOffset`, stopping before `endOffset` (exclusive) or
   * `maxBytes`; undefined if the cache does not reach back to `fetchOffset`.
   */
  read(fetchOffset: number, endOffset: number, maxBytes: number, minOneBatch: boolean): CachedRead | undefined {
    const first = this.#entries[this.#head];
    if (first === undefined || first.baseOffset > fetchOffset) return undefined;
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (let index = this.#findFirst(fetchOffset); index < this.#entries.length; index += 1) {
      const entry = this.#entries[index]!;
      if (entry.baseOffset >= endOffset) break;
      const fits = bytes + entry.batch.length <= maxBytes || (chunks.length === 0 && minOneBatch);
      if (!fits) break;
      chunks.push(entry.batch);
      bytes += entry.batch.length;
    }
    return { chunks, bytes };
  }

  /** Drops cached batches at or past `offset` (the log was truncated). */
  truncateFrom(offset: number): void {
    let freed = 0;
    while (this.#entries.length > this.#head && this.#entries.at(-1)!.lastOffset >= offset) {
      freed += this.#entries.pop()!.batch.length;
    }
    this.#release(freed);
  }

  /** Drops cached batches that start before `offset` (retention deleted them, or the cleaner rewrote them). */
  evictBelow(offset: number): void {
    let freed = 0;
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.baseOffset < offset) {
      freed += this.#entries[this.#head]!.batch.length;
      this.#entries[this.#head] = undefined;
      this.#head += 1;
    }
    this.#release(freed);
  }

  /** Evicts oldest batches until the cache holds at most `targetBytes`. */
  evictUntil(targetBytes: number): void {
    let freed = 0;
    while (this.#bytes - freed > targetBytes && this.#head < this.#entries.length) {
      freed += this.#entries[this.#head]!.batch.length;
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
