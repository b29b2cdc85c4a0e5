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
/** Entries a range scan reads from LevelDB in its first native call, then 4x more each call, up to the last. */
const FIRST_DISK_READ = 32;
const LAST_DISK_READ = 1024;

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

  range(range: BytesRange = {}): AsyncIterable<KeyValueBytes> {
    const db = this.openDb();
    if (range.from !== undefined && range.to !== undefined && compareBytes(range.from, range.to) > 0) return EMPTY_SCAN;
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<KeyValueBytes> => {
        this.activeScans++;
        const disk = db.iterator({
          reverse: range.reverse === true,
          ...(range.from === undefined ? {} : { gte: range.from }),
          ...(range.to === undefined ? {} : { lte: range.to }),
        });
        return new MergedScan(this.buffer, this.buffer.slots(range), disk, range.reverse === true, () => {
          this.activeScans--;
        });
      },
    };
  }

  /**
   * The number of entries. The first call counts LevelDB's keys (one pass); after that, each
   * flush keeps the count by looking up its keys before writing them, so later calls cost only a
   * look-up of each buffered key.
   */
  async approximateNumEntries(): Promise<number> {
    const db = this.openDb();
    await this.flushing.catch(() => {});
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
    // A failed flush was reported to its caller; the next one tries again with what is buffered.
    this.flushing = this.flushing.catch(() => {}).then(() => this.writeBuffer(db));
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

  /** Flushes a full buffer, unless a scan is under way: its flushed entries would stay buffered anyway (see activeScans). */
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

const EMPTY_SCAN: AsyncIterable<KeyValueBytes> = {
  [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }),
};

/** What `MergedScan.advance` answers when it needs the next batch from LevelDB first. */
const NEED_DISK = Symbol('need disk');

/**
 * A range scan over the write buffer's slots and LevelDB's entries in one key order (descending
 * when reversed), the buffer winning on equal keys. A disk entry is checked against the buffer
 * again as it is returned: a write made during the scan, behind the buffer's cursor, still
 * replaces it. Written out as an async iterator, not an async generator, so that a step served
 * from memory costs one resolved promise; LevelDB is read in batches that grow from small (a
 * window fetch reads a few entries) to large (a full scan).
 */
class MergedScan implements AsyncIterator<KeyValueBytes> {
  private memory: IteratorResult<OrderedSlot<Uint8Array | null>>;
  private batch: [Uint8Array, Uint8Array][] = [];
  private position = 0;
  private diskDone = false;
  private batchSize = FIRST_DISK_READ;
  private ended = false;
  private readonly direction: number;

  constructor(
    private readonly buffer: OrderedBytesMap<Uint8Array | null>,
    private readonly buffered: Generator<OrderedSlot<Uint8Array | null>>,
    private readonly disk: { nextv(size: number): Promise<[Uint8Array, Uint8Array][]>; close(): Promise<void> },
    reverse: boolean,
    private readonly onEnd: () => void,
  ) {
    this.memory = buffered.next();
    this.direction = reverse ? -1 : 1;
  }

  async next(): Promise<IteratorResult<KeyValueBytes>> {
    for (;;) {
      const step = this.advance();
      if (step !== NEED_DISK) {
        if (step.done) await this.end();
        return step;
      }
      try {
        this.batch = await this.disk.nextv(this.batchSize);
      } catch (error) {
        await this.end();
        throw error;
      }
      this.batchSize = Math.min(this.batchSize * 4, LAST_DISK_READ);
      this.position = 0;
      this.diskDone = this.batch.length === 0;
    }
  }

  async return(): Promise<IteratorResult<KeyValueBytes>> {
    await this.end();
    return { done: true, value: undefined };
  }

  /** The next entry, the end, or NEED_DISK when the disk's batch is used up. */
  private advance(): IteratorResult<KeyValueBytes> | typeof NEED_DISK {
    for (;;) {
      if (this.position >= this.batch.length && !this.diskDone) return NEED_DISK;
      const onDisk = this.position < this.batch.length ? this.batch[this.position] : undefined;
      const memory = this.memory;
      if (memory.done && onDisk === undefined) return { done: true, value: undefined };
      const order = memory.done ? 1 : onDisk === undefined ? -1 : this.direction * compareBytes(memory.value.key, onDisk[0]);
      if (order <= 0) {
        const slot = memory.value!;
        this.memory = this.buffered.next();
        if (order === 0) this.position++;
        if (slot.value !== null) return { done: false, value: { key: slot.key, value: slot.value } };
        continue;
      }
      this.position++;
      const [key, value] = onDisk!;
      const newer = this.buffer.slot(key);
      if (newer === undefined) return { done: false, value: { key: plain(key), value: plain(value) } };
      if (newer.value !== null) return { done: false, value: { key: newer.key, value: newer.value } };
    }
  }

  private async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.buffered.return(undefined);
    this.onEnd();
    await this.disk.close();
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
