// Read-ahead for sequential readers of segment files. A consumer's next fetch starts where its last
// one ended, so once a read from disk is served, the bytes after it are read in the background
// while the response travels and the client works; the next fetch finds them in memory instead of
// waiting for the file system. All read-aheads of the process share one byte budget and give way
// oldest first, so abandoned ones (a consumer that left) cannot pin memory.
import { READ_AHEAD_BYTES_TOTAL } from './log-limits.js';

export interface ReadAhead {
  /** File position of the first byte. */
  readonly position: number;
  /** Bytes asked for (the read may return fewer only at the end of the file). */
  readonly length: number;
  /** The bytes, or undefined when the read failed (the reader then reads the file itself). */
  readonly data: Promise<Buffer | undefined>;
  /** The pooled buffer `data` views, for the lease of whoever takes the read-ahead (read-buffer-pool.ts). */
  readonly slab: Buffer | undefined;
}

interface Entry {
  readonly length: number;
  /** Forgets the read-ahead in its owner (a segment's map). */
  readonly drop: () => void;
}

/** The process-wide budget: entries in the order they were made, oldest first. */
export class ReadAheadBudget {
  readonly #maxBytes: number;
  readonly #entries = new Map<ReadAhead, Entry>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Makes room for `length` bytes, evicting the oldest read-aheads; false if it can never fit. */
  reserve(length: number): boolean {
    if (length > this.#maxBytes) return false;
    for (const [readAhead, entry] of this.#entries) {
      if (this.#bytes + length <= this.#maxBytes) break;
      this.release(readAhead);
      entry.drop();
    }
    return true;
  }

  /** Accounts a read-ahead made after `reserve`. */
  add(readAhead: ReadAhead, drop: () => void): void {
    this.#entries.set(readAhead, { length: readAhead.length, drop });
    this.#bytes += readAhead.length;
  }

  /** The read-ahead was used or dropped by its owner. */
  release(readAhead: ReadAhead): void {
    const entry = this.#entries.get(readAhead);
    if (entry === undefined) return;
    this.#entries.delete(readAhead);
    this.#bytes -= entry.length;
  }
}

/** Shared by every segment of the process (one broker, or several in a test). */
export const readAheadBudget = new ReadAheadBudget(READ_AHEAD_BYTES_TOTAL);
