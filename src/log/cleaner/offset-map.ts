// The cleaner's key → latest offset map, fixed in size (Kafka's SkimpyOffsetMap): one buffer of
// slots, each an MD5 hash of a record key and the offset last seen for it, found by open
// addressing. Memory never grows with the number of keys; a pass stops adding once it is full.
import { createHash } from 'node:crypto';
import { assert } from '../../base/assert.js';
import { CLEANER_OFFSET_MAP_LOAD_FACTOR } from '../log-limits.js';

/** MD5 digests: 16 bytes make a collision (which would drop a live record) practically impossible. */
const HASH_BYTES = 16;
const OFFSET_BYTES = 8;
const SLOT_BYTES = HASH_BYTES + OFFSET_BYTES;
/** Stored in a slot's offset field while the slot is free (real offsets are never negative). */
const FREE_SLOT = -1;

export class OffsetMap {
  /** Slots the buffer holds. */
  readonly slots: number;
  /** Entries the map accepts before `isFull` (slots times the load factor). */
  readonly maxEntries: number;
  readonly #buffer: Buffer;
  readonly #offsets: Float64Array;
  #entries = 0;
  #lookups = 0;
  #probes = 0;
  /** The largest offset put since the last clear, or -1. */
  #latestOffset = -1;

  /** A map using at most `memoryBytes` (log.cleaner.dedupe.buffer.size). */
  constructor(memoryBytes: number, loadFactor = CLEANER_OFFSET_MAP_LOAD_FACTOR) {
    this.slots = Math.floor(memoryBytes / SLOT_BYTES);
    assert(this.slots >= 2, `offset map of ${memoryBytes} bytes holds fewer than two keys`);
    this.maxEntries = Math.max(1, Math.floor(this.slots * loadFactor));
    this.#buffer = Buffer.alloc(this.slots * HASH_BYTES);
    // Offsets live in their own typed array: 8 bytes per slot, read without decoding.
    this.#offsets = new Float64Array(this.slots).fill(FREE_SLOT);
  }

  get size(): number {
    return this.#entries;
  }

  get isFull(): boolean {
    return this.#entries >= this.maxEntries;
  }

  /** Room left before the load factor is reached. */
  get remaining(): number {
    return this.maxEntries - this.#entries;
  }

  get latestOffset(): number {
    return this.#latestOffset;
  }

  /** Probes per lookup so far: 1.0 is a perfect hash, a growing number means a crowded map. */
  get collisionRate(): number {
    return this.#lookups === 0 ? 0 : this.#probes / this.#lookups;
  }

  /** Bytes the map holds in memory. */
  get memoryBytes(): number {
    return this.slots * SLOT_BYTES;
  }

  /** Records `offset` as the latest for `key`; callers put offsets in increasing order. */
  put(key: Buffer, offset: number): void {
    assert(offset >= 0, `offset map put of negative offset ${offset}`);
    const hash = hashKey(key);
    const slot = this.#find(hash);
    if (this.#offsets[slot] === FREE_SLOT) {
      assert(!this.isFull, 'offset map put beyond its load factor');
      hash.copy(this.#buffer, slot * HASH_BYTES);
      this.#entries += 1;
    }
    this.#offsets[slot] = offset;
    if (offset > this.#latestOffset) this.#latestOffset = offset;
  }

  /** The latest offset put for `key`, or -1 if none. */
  get(key: Buffer): number {
    return this.#offsets[this.#find(hashKey(key))]!;
  }

  clear(): void {
    this.#offsets.fill(FREE_SLOT);
    this.#entries = 0;
    this.#lookups = 0;
    this.#probes = 0;
    this.#latestOffset = -1;
  }

  /** The slot holding `hash`, or the free slot where it would go (linear probing). */
  #find(hash: Buffer): number {
    this.#lookups += 1;
    let slot = hash.readUInt32BE(0) % this.slots;
    for (;;) {
      this.#probes += 1;
      if (this.#offsets[slot] === FREE_SLOT) return slot;
      if (this.#buffer.compare(hash, 0, HASH_BYTES, slot * HASH_BYTES, (slot + 1) * HASH_BYTES) === 0) return slot;
      slot = slot + 1 === this.slots ? 0 : slot + 1;
    }
  }
}

function hashKey(key: Buffer): Buffer {
  return createHash('md5').update(key).digest();
}

/** Bytes one entry takes, for sizing a map to a number of keys. */
export const OFFSET_MAP_SLOT_BYTES = SLOT_BYTES;
