/**
 * Store definitions: what a topology declares about a state store (name, serdes, where its bytes
 * live, whether it is logged to a changelog). The bytes store itself is made per task, by the
 * supplier given here or, when none, by the runner's default (in memory in the test driver).
 */
import type { KeyValueBytesStoreSupplier } from './bytes-store.js';
import type { Serde } from '../serdes.js';

export interface StoreDefinition<K = unknown, V = unknown> {
  readonly name: string;
  /** keyValue; window (key + window start); session (key + session end and start). */
  readonly kind: 'keyValue' | 'window' | 'session';
  /** Window and session stores: how long (ms of stream time) a window is kept after its end. */
  readonly retentionMs?: number;
  /** Window stores of a stream-stream join keep every record, several per key and timestamp. */
  readonly retainDuplicates?: boolean;
  readonly keySerde: Serde<K> | undefined;
  readonly valueSerde: Serde<V> | undefined;
  /** Absent: the runner picks (in memory in the test driver, the runtime's persistent default live). */
  readonly supplier: KeyValueBytesStoreSupplier | undefined;
  readonly loggingEnabled: boolean;
  /** DSL stores keep each value's timestamp beside it (Kafka's timestamped key-value store). */
  readonly timestamped: boolean;
}

/** A builder in the shape of Kafka's StoreBuilder, for the Processor API. */
export class KeyValueStoreBuilder<K, V> {
  constructor(private definition: StoreDefinition<K, V>) {}

  get name(): string {
    return this.definition.name;
  }

  withLoggingDisabled(): this {
    this.definition = { ...this.definition, loggingEnabled: false };
    return this;
  }

  withLoggingEnabled(): this {
    this.definition = { ...this.definition, loggingEnabled: true };
    return this;
  }

  build(): StoreDefinition<K, V> {
    return this.definition;
  }
}

/** Kafka's `Stores` factory, for key-value stores. */
export const Stores = {
  keyValueStoreBuilder<K, V>(
    nameOrSupplier: string | KeyValueBytesStoreSupplier,
    keySerde?: Serde<K>,
    valueSerde?: Serde<V>,
  ): KeyValueStoreBuilder<K, V> {
    const supplier = typeof nameOrSupplier === 'string' ? undefined : nameOrSupplier;
    const name = typeof nameOrSupplier === 'string' ? nameOrSupplier : nameOrSupplier.name;
    return new KeyValueStoreBuilder<K, V>({ name, kind: 'keyValue', keySerde, valueSerde, supplier, loggingEnabled: true, timestamped: false });
  },
};
