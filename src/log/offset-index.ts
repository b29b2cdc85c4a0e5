// A segment's sparse offset index (`.index`): entries of int32 offset relative to the segment's
// base offset and int32 byte position of a batch, one every index.interval.bytes. The offset is
// the batch's last offset, so a lookup lands at or before the batch holding the target.
import { type IndexFileWrite, SparseIndex } from './sparse-index.js';

export const OFFSET_INDEX_ENTRY_BYTES = 8;

export interface OffsetPosition {
  readonly offset: number;
  readonly position: number;
}

const codec = {
  entryBytes: OFFSET_INDEX_ENTRY_BYTES,
  write(buffer: Buffer, position: number, key: number, value: number): void {
    buffer.writeInt32BE(key, position);
    buffer.writeInt32BE(value, position + 4);
  },
  readKey: (buffer: Buffer, position: number) => buffer.readInt32BE(position),
  readValue: (buffer: Buffer, position: number) => buffer.readInt32BE(position + 4),
};

export class OffsetIndex {
  readonly baseOffset: number;
  readonly #entries: SparseIndex;

  constructor(baseOffset: number, maxIndexBytes: number, capacityEntries = 0) {
    this.baseOffset = baseOffset;
    const maxEntries = Math.floor(maxIndexBytes / OFFSET_INDEX_ENTRY_BYTES);
    this.#entries = new SparseIndex(codec, Math.max(maxEntries, capacityEntries));
  }

  /** Reads an index file's bytes, or returns why they cannot belong to a log of `logBytes`. */
  static parse(baseOffset: number, maxIndexBytes: number, bytes: Buffer, logBytes: number): OffsetIndex | string {
    if (bytes.length % OFFSET_INDEX_ENTRY_BYTES !== 0) return `size ${bytes.length} is not a multiple of ${OFFSET_INDEX_ENTRY_BYTES}`;
    let previousOffset = -1;
    let previousPosition = -1;
    for (let position = 0; position < bytes.length; position += OFFSET_INDEX_ENTRY_BYTES) {
      const relativeOffset = codec.readKey(bytes, position);
      const filePosition = codec.readValue(bytes, position);
      if (relativeOffset <= previousOffset) return `offsets not increasing at entry ${position / OFFSET_INDEX_ENTRY_BYTES}`;
      if (filePosition <= previousPosition || filePosition >= logBytes) {
        return `position ${filePosition} out of order or past the log (${logBytes} bytes)`;
      }
      previousOffset = relativeOffset;
      previousPosition = filePosition;
    }
    const index = new OffsetIndex(baseOffset, maxIndexBytes, bytes.length / OFFSET_INDEX_ENTRY_BYTES);
    index.#entries.loadFrom(bytes);
    return index;
  }

  get entryCount(): number {
    return this.#entries.count;
  }

  get isFull(): boolean {
    return this.#entries.isFull;
  }

  /** Adds an entry for the batch ending at `lastOffset` stored at `position`. */
  append(lastOffset: number, position: number): void {
    const relative = lastOffset - this.baseOffset;
    const previous = this.#entries.lastKey();
    if (previous !== undefined && relative <= previous) return;
    this.#entries.append(relative, position);
  }

  /** The last entry whose offset is <= `offset`, or the segment start. */
  lookup(offset: number): OffsetPosition {
    const index = this.#entries.floorIndex(offset - this.baseOffset);
    if (index < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.#entries.key(index), position: this.#entries.value(index) };
  }

  lastEntry(): OffsetPosition | undefined {
    const count = this.#entries.count;
    if (count === 0) return undefined;
    return { offset: this.baseOffset + this.#entries.key(count - 1), position: this.#entries.value(count - 1) };
  }

  /** Drops entries pointing at or past `position` (the log was truncated there). */
  truncateToPosition(position: number): void {
    let keep = this.#entries.count;
    while (keep > 0 && this.#entries.value(keep - 1) >= position) keep -= 1;
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
