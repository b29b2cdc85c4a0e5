/**
 * The byte-level key-value store every Conveyor Streams state store sits on, in memory or on disk.
 * Typed stores (key-value, window, session) encode their keys and values with serdes and keep them
 * here; the runtime logs every write to the store's changelog topic and restores from it.
 *
 * Keys are ordered as unsigned bytes, lexicographically (a shorter key before any key it
 * prefixes), as Kafka Streams' Bytes comparator orders them, so range scans over encoded keys
 * (a window store's key + timestamp) return what Kafka Streams would.
 */

export interface KeyValueBytes {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface BytesRange {
  /** The first key to return, inclusive; omitted: from the first key. */
  readonly from?: Uint8Array;
  /** The last key to return, inclusive (as Kafka Streams' `range(from, to)`); omitted: to the last key. */
  readonly to?: Uint8Array;
  /** Descending order of key instead of ascending. */
  readonly reverse?: boolean;
}

export interface KeyValueBytesStore {
  readonly name: string;
  /** Whether the store keeps its data on disk across restarts (then the runtime restores only the changelog's tail). */
  readonly persistent: boolean;
  /** Opens the store, creating it on first use. Called once, before any other method. */
  open(): Promise<void>;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  /** Removes `key`; removing an absent key is not an error. */
  delete(key: Uint8Array): Promise<void>;
  /** Writes many entries at once (a changelog restore batch); a null value deletes its key. */
  putAll(entries: readonly { key: Uint8Array; value: Uint8Array | null }[]): Promise<void>;
  /** The entries whose keys fall in `range`, in key order; writes made during the iteration may or may not be seen. */
  range(range?: BytesRange): AsyncIterable<KeyValueBytes>;
  /** An estimate of the number of entries (exact for the in-memory store). */
  approximateNumEntries(): Promise<number>;
  /** Makes every completed write durable (a no-op in memory); the runtime calls it before it writes a checkpoint. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Closes the store if open and removes all of its data (a store found corrupt is rebuilt from its changelog). */
  destroy(): Promise<void>;
}

/** Makes stores of one kind; `directory` is the task's state directory, used by persistent stores only. */
export interface KeyValueBytesStoreSupplier {
  readonly name: string;
  readonly persistent: boolean;
  get(directory: string | undefined): KeyValueBytesStore;
}
