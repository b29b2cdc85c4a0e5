/**
 * Typed window and session stores over the bytes port, with Kafka Streams' key layouts so a
 * byte-ordered range scan finds a key's windows in time order: a window store keys its entries
 * `[key][window start, 8 bytes][sequence number, 4 bytes]` (the sequence number tells apart the
 * duplicates a join store keeps), a session store `[key][session end, 8][session start, 8]`.
 * Windows older than the retention (rounded down to Kafka's segment boundaries) are not written,
 * not returned, and purged as stream time moves.
 */
import type { KeyValueBytesStore } from './bytes-store.js';
import type { Serde } from '../serdes.js';
import type { StoreLogging, ValueCodec } from './key-value-store.js';

export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** A key and the window it was aggregated in (Kafka's Windowed<K>). */
export interface Windowed<K> {
  readonly key: K;
  readonly window: TimeWindow;
}

export interface WindowStore<K, V> {
  readonly name: string;
  put(key: K, value: V | null, windowStart: number): Promise<void>;
  fetch(key: K, windowStart: number): Promise<V | null>;
  /** The key's windows with timeFrom <= start <= timeTo, oldest first. */
  fetchRange(key: K, timeFrom: number, timeTo: number): AsyncIterable<{ windowStart: number; value: V }>;
  all(): AsyncIterable<{ key: K; windowStart: number; value: V }>;
  /** Moves the store's stream time on (drops expired windows from sight and, now and then, from the bytes). */
  observeStreamTime(streamTimeMs: number): Promise<void>;
  flush(): Promise<void>;
}

export interface SessionStore<K, V> {
  readonly name: string;
  put(key: K, window: TimeWindow, value: V | null): Promise<void>;
  /** The key's sessions ending at or after `earliestEnd` and starting at or before `latestStart`. */
  findSessions(key: K, earliestEnd: number, latestStart: number): AsyncIterable<{ window: TimeWindow; value: V }>;
  fetchSession(key: K, window: TimeWindow): Promise<V | null>;
  all(): AsyncIterable<{ key: K; window: TimeWindow; value: V }>;
  observeStreamTime(streamTimeMs: number): Promise<void>;
  flush(): Promise<void>;
}

function long(value: number): Uint8Array {
  const out = new Uint8Array(8);
  // Negative times clamp to 0 so they sort first (Kafka refuses negative timestamps anyway).
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, Math.trunc(value))));
  return out;
}

function readLong(bytes: Uint8Array, offset: number): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

const MAX_SEQ = Uint8Array.from([0xff, 0xff, 0xff, 0xff]);
const ZERO_SEQ = new Uint8Array(4);

function seq(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0);
  return out;
}

/** Shared by both kinds: key encoding, logging, retention. */
abstract class TimeStore<K, V> {
  protected streamTime = Number.NEGATIVE_INFINITY;
  private lastPurge = Number.NEGATIVE_INFINITY;

  constructor(
    readonly name: string,
    protected readonly bytes: KeyValueBytesStore,
    protected readonly keySerde: Serde<K>,
    protected readonly codec: ValueCodec<V>,
    protected readonly serdeTopic: string,
    private readonly logging: StoreLogging | undefined,
    protected readonly retentionMs: number,
    /** How many bytes follow the key in a stored key. */
    private readonly suffixLength: number,
  ) {}

  protected encodeKey(key: K): Uint8Array {
    const bytes = this.keySerde.serialize(this.serdeTopic, key);
    if (bytes === null) throw new Error(`store ${this.name}: a key may not serialize to null`);
    return bytes;
  }

  protected decodeKey(stored: Uint8Array): K {
    return this.keySerde.deserialize(this.serdeTopic, stored.subarray(0, stored.length - this.suffixLength)) as K;
  }

  /**
   * The earliest time (window start or session end) still retained. Kafka keeps windows in
   * segments of max(retention / 2, 60 s) and drops a segment only once all of it is older than
   * the retention; the same boundary is used here so the same windows are found.
   */
  protected get retainedFrom(): number {
    if (!Number.isFinite(this.retentionMs) || !Number.isFinite(this.streamTime)) return Number.NEGATIVE_INFINITY;
    const segment = Math.max(this.retentionMs / 2, 60_000);
    return Math.floor((this.streamTime - this.retentionMs) / segment) * segment;
  }

  protected async write(storedKey: Uint8Array, value: V | null): Promise<void> {
    const stored = value === null || value === undefined ? null : this.codec.toStore(this.serdeTopic, value);
    if (stored === null) await this.bytes.delete(storedKey);
    else await this.bytes.put(storedKey, stored);
    if (!this.logging) return;
    const now = this.logging.currentTimestamp();
    if (stored === null) this.logging.sink.logChange(this.name, storedKey, null, now);
    else {
      const { value: logged, timestamp } = this.codec.toChangelog(stored, now);
      this.logging.sink.logChange(this.name, storedKey, logged, timestamp);
    }
  }

  /** Stored keys of `key` between two suffixes, exactly that key (a longer key sharing the prefix is skipped). */
  protected async *scanKey(keyBytes: Uint8Array, fromSuffix: Uint8Array, toSuffix: Uint8Array): AsyncIterable<{ key: Uint8Array; value: Uint8Array }> {
    for await (const entry of this.bytes.range({ from: concat(keyBytes, fromSuffix), to: concat(keyBytes, toSuffix) })) {
      if (entry.key.length === keyBytes.length + this.suffixLength && startsWith(entry.key, keyBytes)) yield entry;
    }
  }

  /** The time an entry expires by (window start, or session end). */
  protected abstract entryTime(storedKey: Uint8Array): number;

  async observeStreamTime(streamTimeMs: number): Promise<void> {
    if (streamTimeMs <= this.streamTime) return;
    this.streamTime = streamTimeMs;
    // Purge in steps of half the retention, as segments would drop (not on every record).
    if (streamTimeMs - this.lastPurge < Math.max(1, this.retentionMs / 2)) return;
    this.lastPurge = streamTimeMs;
    const expired: Uint8Array[] = [];
    for await (const entry of this.bytes.range()) if (this.entryTime(entry.key) < this.retainedFrom) expired.push(entry.key);
    for (const key of expired) await this.bytes.delete(key);
  }

  flush(): Promise<void> {
    return this.bytes.flush();
  }
}

export class TypedWindowStore<K, V> extends TimeStore<K, V> implements WindowStore<K, V> {
  private sequence = 0;

  constructor(
    name: string,
    bytes: KeyValueBytesStore,
    keySerde: Serde<K>,
    codec: ValueCodec<V>,
    serdeTopic: string,
    logging: StoreLogging | undefined,
    retentionMs: number,
    private readonly retainDuplicates: boolean,
  ) {
    super(name, bytes, keySerde, codec, serdeTopic, logging, retentionMs, 12);
  }

  protected entryTime(storedKey: Uint8Array): number {
    return readLong(storedKey, storedKey.length - 12);
  }

  async put(key: K, value: V | null, windowStart: number): Promise<void> {
    // Kafka drops writes to windows already past retention.
    if (windowStart < this.retainedFrom) return;
    if (this.retainDuplicates && value === null) return;
    const suffix = this.retainDuplicates ? seq(++this.sequence) : ZERO_SEQ;
    await this.write(concat(this.encodeKey(key), long(windowStart), suffix), value);
  }

  async fetch(key: K, windowStart: number): Promise<V | null> {
    if (windowStart < this.retainedFrom) return null;
    const found = await this.bytes.get(concat(this.encodeKey(key), long(windowStart), ZERO_SEQ));
    return found === undefined ? null : this.codec.fromStore(this.serdeTopic, found);
  }

  async *fetchRange(key: K, timeFrom: number, timeTo: number): AsyncIterable<{ windowStart: number; value: V }> {
    const from = Math.max(timeFrom, this.retainedFrom);
    if (timeTo < from) return;
    for await (const entry of this.scanKey(this.encodeKey(key), concat(long(from), ZERO_SEQ), concat(long(timeTo), MAX_SEQ))) {
      yield { windowStart: this.entryTime(entry.key), value: this.codec.fromStore(this.serdeTopic, entry.value) };
    }
  }

  async *all(): AsyncIterable<{ key: K; windowStart: number; value: V }> {
    for await (const entry of this.bytes.range()) {
      const windowStart = this.entryTime(entry.key);
      if (windowStart < this.retainedFrom) continue;
      yield { key: this.decodeKey(entry.key), windowStart, value: this.codec.fromStore(this.serdeTopic, entry.value) };
    }
  }
}

export class TypedSessionStore<K, V> extends TimeStore<K, V> implements SessionStore<K, V> {
  constructor(
    name: string,
    bytes: KeyValueBytesStore,
    keySerde: Serde<K>,
    codec: ValueCodec<V>,
    serdeTopic: string,
    logging: StoreLogging | undefined,
    retentionMs: number,
  ) {
    super(name, bytes, keySerde, codec, serdeTopic, logging, retentionMs, 16);
  }

  protected entryTime(storedKey: Uint8Array): number {
    return readLong(storedKey, storedKey.length - 16);
  }

  private window(storedKey: Uint8Array): TimeWindow {
    return { start: readLong(storedKey, storedKey.length - 8), end: readLong(storedKey, storedKey.length - 16) };
  }

  async put(key: K, window: TimeWindow, value: V | null): Promise<void> {
    if (value !== null && window.end < this.retainedFrom) return;
    await this.write(concat(this.encodeKey(key), long(window.end), long(window.start)), value);
  }

  async fetchSession(key: K, window: TimeWindow): Promise<V | null> {
    const found = await this.bytes.get(concat(this.encodeKey(key), long(window.end), long(window.start)));
    return found === undefined ? null : this.codec.fromStore(this.serdeTopic, found);
  }

  async *findSessions(key: K, earliestEnd: number, latestStart: number): AsyncIterable<{ window: TimeWindow; value: V }> {
    const from = Math.max(earliestEnd, this.retainedFrom);
    const max = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    for await (const entry of this.scanKey(this.encodeKey(key), concat(long(from), long(0)), concat(max, max))) {
      const window = this.window(entry.key);
      if (window.start <= latestStart) yield { window, value: this.codec.fromStore(this.serdeTopic, entry.value) };
    }
  }

  async *all(): AsyncIterable<{ key: K; window: TimeWindow; value: V }> {
    for await (const entry of this.bytes.range()) {
      const window = this.window(entry.key);
      if (window.end < this.retainedFrom) continue;
      yield { key: this.decodeKey(entry.key), window, value: this.codec.fromStore(this.serdeTopic, entry.value) };
    }
  }
}
