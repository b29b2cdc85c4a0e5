/**
 * Conveyor Streams' persistent key-value bytes store, on LevelDB (classic-level, N-API prebuilds,
 * nothing to compile), where Kafka Streams uses RocksDB.
 *
 * Writes go to an ordered in-memory write buffer (the in-memory store's OrderedBytesMap, a null
 * value marking a delete) and reach LevelDB in one batch on `flush()`, which the runtime calls
 * before it writes a checkpoint, or when the buffer outgrows its limits. Reads look in the buffer
 * first; range scans merge the buffer with a LevelDB iterator in key order, the buffer's entries
 * (and its deletes) hiding the disk's. What was written and not flushed is lost if the process
 * dies: the changelog topic holds it, and the runtime replays the changelog from the checkpoint.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import type { BytesRange, KeyValueBytes, KeyValueBytesStore, KeyValueBytesStoreSupplier } from './bytes-store.js';
import { OrderedBytesMap, type OrderedSlot } from './in-memory-bytes-store.js';
import { compareBytes } from './key-order.js';

/** Buffered writes (distinct keys) that make a put flush the buffer to LevelDB. */
export const WRITE_BUFFER_MAX_ENTRIES = 10_000;
/** Buffered key and value bytes that make a put flush the buffer to LevelDB. */
export const WRITE_BUFFER_MAX_BYTES = 16 * 1024 * 1024;
/** Entries a range scan reads from LevelDB per native call. */
const DISK_READ_BATCH = 256;

export interface LevelBytesStoreOptions {
  readonly maxBufferEntries?: number;
  readonly maxBufferBytes?: number;
}

type Database = ClassicLevel<Uint8Array, Uint8Array>;

/** A Uint8Array over a Buffer's bytes: stores answer plain Uint8Arrays, whichever store it is. */
function plain(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

export class LevelBytesStore implements KeyValueBytesStore {
  readonly persistent = true;
  private db: Database | undefined;
  /** Writes not yet in LevelDB: a value, or null for a delete. */
  private readonly buffer = new OrderedBytesMap<Uint8Array | null>();
  private bufferBytes = 0;
  private readonly maxBufferEntries: number;
  private readonly maxBufferBytes: number;
  /** The flush under way, which the next one waits for, so batches reach LevelDB in order. */
  private flushing: Promise<void> = Promise.resolve();
  /**
   * Range scans under way. A scan's LevelDB iterator reads a snapshot taken when it started, so a
   * flush during a scan keeps the flushed entries in the buffer, where the scan still finds them.
   */
  private activeScans = 0;
  /** The number of keys in LevelDB once counted (approximateNumEntries), kept up to date by flushes. */
  private diskCount: number | undefined;

  /** `location` is the store's own directory: `<task directory>/rocksdb/<name>`. */
  constructor(
    readonly name: string,
    readonly location: string,
    options: LevelBytesStoreOptions = {},
  ) {
    this.maxBufferEntries = options.maxBufferEntries ?? WRITE_BUFFER_MAX_ENTRIES;
    this.maxBufferBytes = options.maxBufferBytes ?? WRITE_BUFFER_MAX_BYTES;
  }

  async open(): Promise<void> {
    await mkdir(this.location, { recursive: true });
    const db: Database = new ClassicLevel<Uint8Array, Uint8Array>(this.location, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    this.db = db;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const db = this.openDb();
    const slot = this.buffer.slot(key);
    if (slot !== undefined) return slot.value ?? undefined;
    const value = db.getSync(key);
    return value === undefined ? undefined : plain(value);
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.openDb();
    this.buffer.set(key, value.slice());
    this.bufferBytes += key.length + value.length;
    await this.flushIfFull();
  }

  async delete(key: Uint8Array): Promise<void> {
    this.openDb();
    this.buffer.set(key, null);
    this.bufferBytes += key.length;
    await this.flushIfFull();
  }

  async putAll(entries: readonly { key: Uint8Array; value: Uint8Array | null }[]): Promise<void> {
    this.openDb();
    for (const { key, value } of entries) {
      this.buffer.set(key, value === null ? null : value.slice());
      this.bufferBytes += key.length + (value === null ? 0 : value.length);
    }
    await this.flushIfFull();
  }

  async *range(range: BytesRange = {}): AsyncIterable<KeyValueBytes> {
    const db = this.openDb();
    if (range.from !== undefined && range.to !== undefined && compareBytes(range.from, range.to) > 0) return;
    this.activeScans++;
    const disk = db.iterator({
      reverse: range.reverse === true,
      ...(range.from === undefined ? {} : { gte: range.from }),
      ...(range.to === undefined ? {} : { lte: range.to }),
    });
    try {
      yield* this.merge(this.buffer.slots(range), disk, range.reverse === true);
    } finally {
      this.activeScans--;
      await disk.close();
    }
  }

  /**
   * The buffer's slots and the disk's entries in one key order (descending when `reverse`), the
   * buffer winning on equal keys. A disk entry is checked against the buffer again as it is
   * returned: a write made during the scan, behind the buffer's cursor, still replaces it.
   */
  private async *merge(
    buffered: Generator<OrderedSlot<Uint8Array | null>>,
    disk: { nextv(size: number): Promise<[Uint8Array, Uint8Array][]> },
    reverse: boolean,
  ): AsyncGenerator<KeyValueBytes> {
    const direction = reverse ? -1 : 1;
    let memory = buffered.next();
    let batch: [Uint8Array, Uint8Array][] = [];
    let position = 0;
    let diskDone = false;
    for (;;) {
      if (position >= batch.length && !diskDone) {
        batch = await disk.nextv(DISK_READ_BATCH);
        position = 0;
        diskDone = batch.length === 0;
      }
      const onDisk = position < batch.length ? batch[position] : undefined;
      if (memory.done && onDisk === undefined) return;
      const order = memory.done ? 1 : onDisk === undefined ? -1 : direction * compareBytes(memory.value.key, onDisk[0]);
      if (order <= 0) {
        const slot = memory.value!;
        memory = buffered.next();
        if (order === 0) position++;
        if (slot.value !== null) yield { key: slot.key, value: slot.value };
        continue;
      }
      position++;
      const [key, value] = onDisk!;
      const newer = this.buffer.slot(key);
      if (newer === undefined) yield { key: plain(key), value: plain(value) };
      else if (newer.value !== null) yield { key: newer.key, value: newer.value };
    }
  }

  /**
   * The number of entries. The first call counts LevelDB's keys (one pass); after that, each
   * flush keeps the count by looking up its keys before writing them, so later calls cost only a
   * look-up of each buffered key.
   */
  async approximateNumEntries(): Promise<number> {
    const db = this.openDb();
    await this.flushing;
    if (this.diskCount === undefined) this.diskCount = await countKeys(db);
    let count = this.diskCount;
    for (const slot of this.buffer.slots()) {
      const onDisk = db.getSync(slot.key) !== undefined;
      if (slot.value === null && onDisk) count--;
      else if (slot.value !== null && !onDisk) count++;
    }
    return count;
  }

  /** Writes the buffer to LevelDB in one batch. */
  flush(): Promise<void> {
    const db = this.openDb();
    this.flushing = this.flushing.then(() => this.writeBuffer(db));
    return this.flushing;
  }

  private async writeBuffer(db: Database): Promise<void> {
    if (this.buffer.size === 0) return;
    const written: [OrderedSlot<Uint8Array | null>, Uint8Array | null][] = [];
    const batch = db.batch();
    let countChange = 0;
    for (const slot of this.buffer.slots()) {
      if (this.diskCount !== undefined) countChange += countChangeOf(db, slot);
      if (slot.value === null) batch.del(slot.key);
      else batch.put(slot.key, slot.value);
      written.push([slot, slot.value]);
    }
    await batch.write();
    if (this.diskCount !== undefined) this.diskCount += countChange;
    // Slots rewritten while the batch was written stay for the next flush; so does everything
    // while a scan's snapshot of LevelDB is older than this batch.
    if (this.activeScans > 0) return;
    for (const [slot, value] of written) {
      if (this.buffer.slot(slot.key) === slot && slot.value === value) this.buffer.delete(slot.key);
    }
    this.bufferBytes = 0;
    for (const slot of this.buffer.slots()) this.bufferBytes += slot.key.length + (slot.value?.length ?? 0);
  }

  private async flushIfFull(): Promise<void> {
    if (this.activeScans > 0) return;
    if (this.buffer.size >= this.maxBufferEntries || this.bufferBytes >= this.maxBufferBytes) await this.flush();
  }

  /** Writes the buffer and closes LevelDB: a closed store reopens with everything it was given. */
  async close(): Promise<void> {
    if (this.db === undefined) return;
    await this.flush();
    await this.db.close();
    this.db = undefined;
    this.diskCount = undefined;
  }

  /** Closes without writing the buffer, and removes the store's directory. */
  async destroy(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    this.buffer.clear();
    this.bufferBytes = 0;
    this.diskCount = undefined;
    if (db !== undefined) {
      await this.flushing.catch(() => {});
      await db.close();
    }
    await rm(this.location, { recursive: true, force: true });
  }

  private openDb(): Database {
    if (this.db === undefined) throw new Error(`state store ${this.name} is not open`);
    return this.db;
  }
}

/** How writing `slot` changes the number of keys in LevelDB. */
function countChangeOf(db: Database, slot: OrderedSlot<Uint8Array | null>): number {
  const onDisk = db.getSync(slot.key) !== undefined;
  if (slot.value === null) return onDisk ? -1 : 0;
  return onDisk ? 0 : 1;
}

async function countKeys(db: Database): Promise<number> {
  const keys = db.keys();
  let count = 0;
  try {
    for (;;) {
      const batch = await keys.nextv(4096);
      if (batch.length === 0) return count;
      count += batch.length;
    }
  } finally {
    await keys.close();
  }
}

/**
 * The supplier of LevelDB stores named `name`, each in `<task directory>/rocksdb/<name>`. The
 * folder is called rocksdb although it holds LevelDB files: it is Kafka Streams' layout
 * (`state.dir/<application.id>/<task>/rocksdb/<store>`), which tools and operators know.
 */
export function levelBytesStoreSupplier(name: string, options: LevelBytesStoreOptions = {}): KeyValueBytesStoreSupplier {
  return {
    name,
    persistent: true,
    get: (directory) => {
      if (directory === undefined) throw new Error(`persistent state store ${name} needs its task's state directory`);
      return new LevelBytesStore(name, join(directory, 'rocksdb', name), options);
    },
  };
}
