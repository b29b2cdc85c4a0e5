/**
 * Typed key-value stores over the bytes port. Keys and values go through the store's serdes; the
 * byte order of the encoded keys is the order of `range` and `all`, as in Kafka Streams. Every
 * write is reported to the changelog sink (when logging is on) so the runtime can write it to
 * `<application.id>-<store>-changelog`; the DSL's timestamped stores log the plain value with the
 * value's timestamp as the changelog record's timestamp, as Kafka's timestamped stores do.
 */
import type { KeyValueBytesStore } from './bytes-store.js';
import type { Serde } from '../serdes.js';

export interface KeyValue<K, V> {
  readonly key: K;
  readonly value: V;
}

/** A value with the timestamp of the record that last wrote it (Kafka's ValueAndTimestamp). */
export interface ValueAndTimestamp<V> {
  readonly value: V;
  readonly timestamp: number;
}

/** Where a store reports its writes; a null value is a delete (a changelog tombstone). */
export interface ChangelogSink {
  logChange(storeName: string, key: Uint8Array, value: Uint8Array | null, timestampMs: number): void;
}

export interface ReadOnlyKeyValueStore<K, V> {
  readonly name: string;
  get(key: K): Promise<V | null>;
  /** Entries with from <= key <= to in the encoded keys' byte order; null bounds are open. */
  range(from: K | null, to: K | null): AsyncIterable<KeyValue<K, V>>;
  reverseRange(from: K | null, to: K | null): AsyncIterable<KeyValue<K, V>>;
  all(): AsyncIterable<KeyValue<K, V>>;
  reverseAll(): AsyncIterable<KeyValue<K, V>>;
  approximateNumEntries(): Promise<number>;
}

export interface KeyValueStore<K, V> extends ReadOnlyKeyValueStore<K, V> {
  /** Writes `value` for `key`; null deletes. */
  put(key: K, value: V | null): Promise<void>;
  /** Writes only when the key has no value; returns the value found (null when written). */
  putIfAbsent(key: K, value: V): Promise<V | null>;
  putAll(entries: readonly KeyValue<K, V | null>[]): Promise<void>;
  /** Removes the key, returning the value it had. */
  delete(key: K): Promise<V | null>;
  flush(): Promise<void>;
}

export type TimestampedKeyValueStore<K, V> = KeyValueStore<K, ValueAndTimestamp<V>>;

/** Encodes a value for the bytes store, and the value logged to the changelog with its timestamp. */
export interface ValueCodec<V> {
  toStore(topic: string, value: V): Uint8Array | null;
  fromStore(topic: string, bytes: Uint8Array): V;
  /** The changelog form: the plain value bytes and the record timestamp to log them with. */
  toChangelog(stored: Uint8Array, fallbackTimestamp: number): { value: Uint8Array; timestamp: number };
}

export function plainCodec<V>(serde: Serde<V>): ValueCodec<V> {
  return {
    toStore: (topic, value) => serde.serialize(topic, value),
    fromStore: (topic, bytes) => serde.deserialize(topic, bytes) as V,
    toChangelog: (stored, fallbackTimestamp) => ({ value: stored, timestamp: fallbackTimestamp }),
  };
}

/** Kafka's timestamped format: 8 bytes of big-endian timestamp, then the value's bytes. */
export function encodeTimestamped(timestamp: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + value.length);
  new DataView(out.buffer).setBigInt64(0, BigInt(Math.trunc(timestamp)));
  out.set(value, 8);
  return out;
}

export function decodeTimestamped(bytes: Uint8Array): { timestamp: number; value: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { timestamp: Number(view.getBigInt64(0)), value: bytes.subarray(8) };
}

export function timestampedCodec<V>(serde: Serde<V>): ValueCodec<ValueAndTimestamp<V>> {
  return {
    toStore: (topic, vt) => {
      const bytes = serde.serialize(topic, vt.value);
      return bytes === null ? null : encodeTimestamped(vt.timestamp, bytes);
    },
    fromStore: (topic, bytes) => {
      const { timestamp, value } = decodeTimestamped(bytes);
      return { value: serde.deserialize(topic, value) as V, timestamp };
    },
    toChangelog: (stored) => decodeTimestamped(stored),
  };
}

export interface StoreLogging {
  readonly sink: ChangelogSink;
  /** The timestamp to log a plain store's writes with: the current record's. */
  readonly currentTimestamp: () => number;
}

class TypedKeyValueStore<K, V> implements KeyValueStore<K, V> {
  constructor(
    readonly name: string,
    private readonly bytes: KeyValueBytesStore,
    private readonly keySerde: Serde<K>,
    private readonly codec: ValueCodec<V>,
    /** The topic name given to serdes (the changelog topic, as Kafka does). */
    private readonly serdeTopic: string,
    private readonly logging: StoreLogging | undefined,
  ) {}

  private encodeKey(key: K): Uint8Array {
    const bytes = this.keySerde.serialize(this.serdeTopic, key);
    if (bytes === null) throw new Error(`store ${this.name}: a key may not serialize to null`);
    return bytes;
  }

  private log(key: Uint8Array, stored: Uint8Array | null): void {
    if (!this.logging) return;
    const now = this.logging.currentTimestamp();
    if (stored === null) {
      this.logging.sink.logChange(this.name, key, null, now);
      return;
    }
    const { value, timestamp } = this.codec.toChangelog(stored, now);
    this.logging.sink.logChange(this.name, key, value, timestamp);
  }

  async get(key: K): Promise<V | null> {
    const bytes = await this.bytes.get(this.encodeKey(key));
    return bytes === undefined ? null : this.codec.fromStore(this.serdeTopic, bytes);
  }

  async put(key: K, value: V | null): Promise<void> {
    const keyBytes = this.encodeKey(key);
    const stored = value === null || value === undefined ? null : this.codec.toStore(this.serdeTopic, value);
    if (stored === null) await this.bytes.delete(keyBytes);
    else await this.bytes.put(keyBytes, stored);
    this.log(keyBytes, stored);
  }

  async putIfAbsent(key: K, value: V): Promise<V | null> {
    const found = await this.get(key);
    if (found === null) await this.put(key, value);
    return found;
  }

  async putAll(entries: readonly KeyValue<K, V | null>[]): Promise<void> {
    for (const entry of entries) await this.put(entry.key, entry.value);
  }

  async delete(key: K): Promise<V | null> {
    const found = await this.get(key);
    const keyBytes = this.encodeKey(key);
    await this.bytes.delete(keyBytes);
    this.log(keyBytes, null);
    return found;
  }

  private async *scan(from: K | null, to: K | null, reverse: boolean): AsyncIterable<KeyValue<K, V>> {
    const range = {
      ...(from !== null ? { from: this.encodeKey(from) } : {}),
      ...(to !== null ? { to: this.encodeKey(to) } : {}),
      reverse,
    };
    for await (const entry of this.bytes.range(range)) {
      yield {
        key: this.keySerde.deserialize(this.serdeTopic, entry.key) as K,
        value: this.codec.fromStore(this.serdeTopic, entry.value),
      };
    }
  }

  range(from: K | null, to: K | null): AsyncIterable<KeyValue<K, V>> {
    return this.scan(from, to, false);
  }

  reverseRange(from: K | null, to: K | null): AsyncIterable<KeyValue<K, V>> {
    return this.scan(from, to, true);
  }

  all(): AsyncIterable<KeyValue<K, V>> {
    return this.scan(null, null, false);
  }

  reverseAll(): AsyncIterable<KeyValue<K, V>> {
    return this.scan(null, null, true);
  }

  approximateNumEntries(): Promise<number> {
    return this.bytes.approximateNumEntries();
  }

  flush(): Promise<void> {
    return this.bytes.flush();
  }
}

export function keyValueStore<K, V>(
  name: string,
  bytes: KeyValueBytesStore,
  keySerde: Serde<K>,
  valueSerde: Serde<V>,
  serdeTopic: string,
  logging?: StoreLogging,
): KeyValueStore<K, V> {
  return new TypedKeyValueStore(name, bytes, keySerde, plainCodec(valueSerde), serdeTopic, logging);
}

export function timestampedKeyValueStore<K, V>(
  name: string,
  bytes: KeyValueBytesStore,
  keySerde: Serde<K>,
  valueSerde: Serde<V>,
  serdeTopic: string,
  logging?: StoreLogging,
): TimestampedKeyValueStore<K, V> {
  return new TypedKeyValueStore(name, bytes, keySerde, timestampedCodec(valueSerde), serdeTopic, logging);
}

/** A read-only view giving the plain values of a timestamped store (what interactive queries return). */
export function plainValues<K, V>(store: ReadOnlyKeyValueStore<K, ValueAndTimestamp<V>>): ReadOnlyKeyValueStore<K, V> {
  const unwrap = async function* (source: AsyncIterable<KeyValue<K, ValueAndTimestamp<V>>>) {
    for await (const entry of source) yield { key: entry.key, value: entry.value.value };
  };
  return {
    name: store.name,
    get: async (key) => (await store.get(key))?.value ?? null,
    range: (from, to) => unwrap(store.range(from, to)),
    reverseRange: (from, to) => unwrap(store.reverseRange(from, to)),
    all: () => unwrap(store.all()),
    reverseAll: () => unwrap(store.reverseAll()),
    approximateNumEntries: () => store.approximateNumEntries(),
  };
}
