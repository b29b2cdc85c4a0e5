// The storage shared by the offset index and the time index: a sorted, append-only list of
// (key, value) pairs held in memory, persisted to its file incrementally (only new entries are
// written; a truncation shrinks the file), and looked up by binary search.

export interface IndexEntryCodec {
  readonly entryBytes: number;
  write(buffer: Buffer, position: number, key: number, value: number): void;
  readKey(buffer: Buffer, position: number): number;
  readValue(buffer: Buffer, position: number): number;
}

export interface IndexFileWrite {
  /** Shrink the file to this many bytes first (entries were truncated away). */
  readonly truncateToBytes: number | undefined;
  readonly position: number;
  readonly data: Buffer;
}

const INITIAL_CAPACITY = 16;

export class SparseIndex {
  readonly maxEntries: number;
  readonly #codec: IndexEntryCodec;
  #keys = new Float64Array(INITIAL_CAPACITY);
  #values = new Float64Array(INITIAL_CAPACITY);
  #count = 0;
  /** Entries at the front known to be identical in the file. */
  #persistedCount = 0;
  /** Entries the file currently holds. */
  #fileCount = 0;

  constructor(codec: IndexEntryCodec, maxEntries: number) {
    this.#codec = codec;
    this.maxEntries = Math.max(1, maxEntries);
  }

  /** Fills the index from file bytes already validated by the caller; they count as persisted. */
  loadFrom(bytes: Buffer): void {
    const count = Math.floor(bytes.length / this.#codec.entryBytes);
    this.#count = 0;
    for (let index = 0; index < count; index += 1) {
      const position = index * this.#codec.entryBytes;
      this.#push(this.#codec.readKey(bytes, position), this.#codec.readValue(bytes, position));
    }
    this.#persistedCount = count;
    this.#fileCount = count;
  }

  get count(): number {
    return this.#count;
  }

  get isFull(): boolean {
    return this.#count >= this.maxEntries;
  }

  key(index: number): number {
    return this.#keys[index]!;
  }

  value(index: number): number {
    return this.#values[index]!;
  }

  lastKey(): number | undefined {
    return this.#count > 0 ? this.#keys[this.#count - 1] : undefined;
  }

  /** Appends unless full (`force` ignores fullness); callers keep keys increasing. */
  append(key: number, value: number, force = false): boolean {
    if (this.isFull && !force) return false;
    this.#push(key, value);
    return true;
  }

  /** Index of the last entry whose key is <= target (or < target when `strict`), or -1. */
  floorIndex(target: number, strict = false): number {
    let low = 0;
    let high = this.#count - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const key = this.#keys[middle]!;
      if (key < target || (!strict && key === target)) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  /** Keeps only the first `count` entries. */
  truncateToCount(count: number): void {
    if (count >= this.#count) return;
    this.#count = Math.max(0, count);
    this.#persistedCount = Math.min(this.#persistedCount, this.#count);
  }

  /** What must be written to bring the file up to date, or undefined if it already is. */
  pendingWrite(): IndexFileWrite | undefined {
    const needsTruncate = this.#fileCount > this.#persistedCount;
    if (!needsTruncate && this.#persistedCount === this.#count) return undefined;
    const size = this.#codec.entryBytes;
    const data = Buffer.alloc((this.#count - this.#persistedCount) * size);
    for (let index = this.#persistedCount; index < this.#count; index += 1) {
      this.#codec.write(data, (index - this.#persistedCount) * size, this.#keys[index]!, this.#values[index]!);
    }
    return {
      truncateToBytes: needsTruncate ? this.#persistedCount * size : undefined,
      position: this.#persistedCount * size,
      data,
    };
  }

  /** Records that the last `pendingWrite()` reached the file. */
  markPersisted(): void {
    this.#persistedCount = this.#count;
    this.#fileCount = this.#count;
  }

  /** Records that the file's content is unknown, so the next write rewrites it whole. */
  markFileUnknown(): void {
    this.#persistedCount = 0;
    this.#fileCount = Number.POSITIVE_INFINITY;
  }

  #push(key: number, value: number): void {
    if (this.#count === this.#keys.length) this.#grow();
    this.#keys[this.#count] = key;
    this.#values[this.#count] = value;
    this.#count += 1;
  }

  #grow(): void {
    const capacity = Math.min(this.#keys.length * 2, Math.max(this.maxEntries, INITIAL_CAPACITY));
    const keys = new Float64Array(Math.max(capacity, this.#count + 1));
    const values = new Float64Array(keys.length);
    keys.set(this.#keys);
    values.set(this.#values);
    this.#keys = keys;
    this.#values = values;
  }
}
