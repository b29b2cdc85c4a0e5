// Reused buffers for segment reads that fetches send. A consumer reading from the page cache makes
// the broker read about a megabyte per fetch; a new buffer each time is a megabyte of external
// memory per fetch, and V8 answers a gigabyte a second of it with a full GC every few dozen
// milliseconds. Buffers from this pool are reused instead, under one rule: a buffer goes back only
// through a lease, and a lease is released only by a caller that knows nothing refers to the bytes
// any more (the fetch path, once the response was written to the socket). A pooled buffer that
// no lease takes back (a reader that keeps its chunks, a read-ahead nobody took) is simply left
// to the garbage collector, so forgetting to release costs an allocation, never corrupts data.
import { READ_POOL_FREE_MAX, READ_POOL_SLAB_BYTES } from './log-limits.js';

/** Fixed-size buffers, kept for reuse up to a count. */
export class ReadBufferPool {
  readonly slabBytes: number;
  readonly #maxFree: number;
  readonly #free: Buffer[] = [];

  constructor(slabBytes: number, maxFree: number) {
    this.slabBytes = slabBytes;
    this.#maxFree = maxFree;
  }

  /** Buffers waiting for reuse (tests). */
  get freeCount(): number {
    return this.#free.length;
  }

  /**
   * A whole slab (`slabBytes` long) for a read of `length` bytes, or undefined when it would not fit
   * or is small enough that a buffer of its own costs little (a sixteenth of a slab or less).
   */
  acquire(length: number): Buffer | undefined {
    if (length > this.slabBytes || length <= this.slabBytes / 16) return undefined;
    // allocUnsafeSlow: a buffer of its own, never a slice of Node's shared small-buffer pool.
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.slabBytes);
  }

  /** Takes back a slab from acquire() that nothing refers to any more. */
  release(slab: Buffer): void {
    if (slab.length !== this.slabBytes || this.#free.length >= this.#maxFree || this.#free.includes(slab)) return;
    this.#free.push(slab);
  }
}

/** Memory a reader was given a view of, kept from reuse while a lease pins it (tail-cache chunks). */
export interface Pinnable {
  pin(): void;
  unpin(): void;
  /** A reader keeps views past any lease: the memory must never be reused. */
  escape(): void;
}

/**
 * The pooled slabs one reader's reads used, and the shared memory they gave it views of (pinned);
 * released together when the reader is done with them.
 */
export class ReadLease {
  readonly #pool: ReadBufferPool;
  #slabs: Buffer[] = [];
  #pinned: Pinnable[] = [];
  #released = false;

  constructor(pool: ReadBufferPool) {
    this.#pool = pool;
  }

  /** A slab for a read of `length` bytes that this lease owns, or undefined (too large, or released). */
  slabFor(length: number): Buffer | undefined {
    if (this.#released) return undefined;
    const slab = this.#pool.acquire(length);
    if (slab !== undefined) this.#slabs.push(slab);
    return slab;
  }

  /** Makes this lease the owner of a slab acquired earlier without one (a read-ahead it took). */
  adopt(slab: Buffer): void {
    if (!this.#released) this.#slabs.push(slab);
  }

  /** Keeps `memory` from reuse until release(); after release, it may never be reused. */
  pin(memory: Pinnable): void {
    if (this.#released) {
      memory.escape();
      return;
    }
    memory.pin();
    this.#pinned.push(memory);
  }

  /** Gives every slab back to the pool and unpins what was pinned; the reader must hold no view of them any more. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const slab of this.#slabs) this.#pool.release(slab);
    for (const memory of this.#pinned) memory.unpin();
    this.#slabs = [];
    this.#pinned = [];
  }
}

/** Shared by every segment of the process (one broker, or several in a test). */
export const readBufferPool = new ReadBufferPool(READ_POOL_SLAB_BYTES, READ_POOL_FREE_MAX);
