// A segment's sparse time index (`.timeindex`): entries of int64 timestamp and int32 relative
// offset, added when the segment's max timestamp grows at an index point. The offset is the base
// offset of the batch holding that timestamp; the last entry carries the segment's max timestamp.
import { type IndexFileWrite, SparseIndex } from './sparse-index.js';

export const TIME_INDEX_ENTRY_BYTES = 12;

export interface TimestampOffset {
  readonly timestamp: number;
  readonly offset: number;
}

const codec = {
  entryBytes: TIME_INDEX_ENTRY_BYTES,
  write(buffer: Buffer, position: number, key: number, value: number): void {
    buffer.writeBigInt64BE(BigInt(key), position);
    buffer.writeInt32BE(value, position + 8);
  },
  readKey: (buffer: Buffer, position: number) => Number(buffer.readBigInt64BE(position)),
  readValue: (buffer: Buffer, position: number) => buffer.readInt32BE(position + 8),
};

export class TimeIndex {
  readonly baseOffset: number;
  readonly #entries: SparseIndex;

  constructor(baseOffset: number, maxIndexBytes: number, capacityEntries = 0) {
    this.baseOffset = baseOffset;
    const maxEntries = Math.floor(maxIndexBytes / TIME_INDEX_ENTRY_BYTES);
    this.#entries = new SparseIndex(codec, Math.max(maxEntries, capacityEntries));
  }

  /** Reads a time index file's bytes, or returns why they are not a valid time index. */
  static parse(baseOffset: number, maxIndexBytes: number, bytes: Buffer): TimeIndex | string {
    if (bytes.length % TIME_INDEX_ENTRY_BYTES !== 0) return `size ${bytes.length} is not a multiple of ${TIME_INDEX_ENTRY_BYTES}`;
    let previousTimestamp = Number.NEGATIVE_INFINITY;
    let previousOffset = 0;
    for (let position = 0; position < bytes.length; position += TIME_INDEX_ENTRY_BYTES) {
      const timestamp = codec.readKey(bytes, position);
      const relativeOffset = codec.readValue(bytes, position);
      if (timestamp <= previousTimestamp) return `timestamps not increasing at entry ${position / TIME_INDEX_ENTRY_BYTES}`;
      if (relativeOffset < previousOffset) return `offsets decreasing at entry ${position / TIME_INDEX_ENTRY_BYTES}`;
      previousTimestamp = timestamp;
      previousOffset = relativeOffset;
    }
    const index = new TimeIndex(baseOffset, maxIndexBytes, bytes.length / TIME_INDEX_ENTRY_BYTES);
    index.#entries.loadFrom(bytes);
    return index;
  }

  get entryCount(): number {
    return this.#entries.count;
  }

  get isFull(): boolean {
    return this.#entries.isFull;
  }

  /** Adds an entry if `timestamp` is newer than the last one; `force` ignores a full index. */
  maybeAppend(timestamp: number, offset: number, force = false): void {
    const last = this.#entries.lastKey();
    if (timestamp < 0 || (last !== undefined && timestamp <= last)) return;
    const relative = offset - this.baseOffset;
    const count = this.#entries.count;
    if (count > 0 && relative < this.#entries.value(count - 1)) return;
    this.#entries.append(timestamp, relative, force);
  }

  /**
   * The offset of the last entry whose timestamp is strictly below `timestamp` (every batch up to
   * it is older, so a scan for the first batch at or after `timestamp` may start there), or the
   * segment's base offset.
   */
  lookup(timestamp: number): number {
    const index = this.#entries.floorIndex(timestamp, true);
    return index < 0 ? this.baseOffset : this.baseOffset + this.#entries.value(index);
  }

  lastEntry(): TimestampOffset | undefined {
    const count = this.#entries.count;
    if (count === 0) return undefined;
    return { timestamp: this.#entries.key(count - 1), offset: this.baseOffset + this.#entries.value(count - 1) };
  }

  /** Drops entries for offsets at or past `offset`. */
  truncateToOffset(offset: number): void {
    let keep = this.#entries.count;
    while (keep > 0 && this.baseOffset + this.#entries.value(keep - 1) >= offset) keep -= 1;
    this.#entries.truncateToCount(keep);
  }

  pendingWrite(): IndexFileWrite | undefined {
    return this.#entries.pendingWrite();
  }

  markPersisted(): void {
    this.#entries.markPersisted();
  }

  markFileUnknown(): void {
    this.#entries.markFileUnknown();
  }
}
