/**
 * What every DSL object shares: the topology being written, the name counter (one per builder,
 * shared by processors and stores, 10 digits, as Kafka numbers them), and the repartition step
 * (sink to `<name>-repartition`, source from it) that key-changing operators need before state.
 */
import type { DefaultSerdes, Serde, SerdeWithDefaults } from '../serdes.js';
import type { Change, ProcessorContext, StreamRecord } from '../processor/api.js';
import { Topology, type StreamPartitioner } from '../topology/topology.js';
import type { StoreDefinition } from '../state/stores.js';
import type { KeyValueBytesStoreSupplier } from '../state/bytes-store.js';
import type { Materialized } from './options.js';

export const REPARTITION_SUFFIX = '-repartition';

export class BuilderCore {
  readonly topology = new Topology();
  private index = 0;

  newProcessorName(prefix: string): string {
    return `${prefix}${String(this.index++).padStart(10, '0')}`;
  }

  /**
   * `<name><suffix>` for a user-named operator, else a generated name; the counter index is drawn
   * either way, as Kafka's NamedInternal.suffixWithOrElseGet does, so naming one operator does not
   * renumber the others.
   */
  suffixedOrGenerated(userName: string | undefined, suffix: string, prefix: string): string {
    const generated = this.newProcessorName(prefix);
    return userName === undefined ? generated : `${userName}${suffix}`;
  }

  newStoreName(prefix: string): string {
    return `${prefix}STATE-STORE-${String(this.index++).padStart(10, '0')}`;
  }

  /** The store name of a Materialized, generating one with `prefix` (burning a counter index) when it has none. */
  storeNameOf(materialized: Materialized<any, any> | undefined, prefix: string): { name: string; queryable: boolean } {
    if (materialized?.storeName) return { name: materialized.storeName, queryable: true };
    return { name: this.newStoreName(prefix), queryable: false };
  }

  /**
   * Writes a repartition topic: [null-key filter →] sink → topic → source. Names follow Kafka: the
   * three processor names are always drawn from the counter; a user-given prefix (not a generated
   * `KSTREAM-...-0000000000` one) names them `<topic>-sink`, `<topic>-filter`, `<topic>-source`.
   */
  repartition(
    prefix: string,
    parentName: string,
    keySerde: Serde<any> | undefined,
    valueSerde: Serde<any> | undefined,
    options: { nullKeyFilter: boolean; partitioner?: StreamPartitioner<any, any>; partitions?: number },
  ): { sourceName: string; topic: string } {
    const topic = prefix.endsWith(REPARTITION_SUFFIX) ? prefix : `${prefix}${REPARTITION_SUFFIX}`;
    const generatedSink = this.newProcessorName('KSTREAM-SINK-');
    const generatedFilter = this.newProcessorName('KSTREAM-FILTER-');
    const generatedSource = this.newProcessorName('KSTREAM-SOURCE-');
    const generated = /^KSTREAM.*-[0-9]{10}$/.test(prefix);
    const sinkName = generated ? generatedSink : `${topic}-sink`;
    const filterName = generated ? generatedFilter : `${topic}-filter`;
    const sourceName = generated ? generatedSource : `${topic}-source`;
    let sinkParent = parentName;
    if (options.nullKeyFilter) {
      this.topology.addProcessor(filterName, nullKeyFilter, parentName);
      sinkParent = filterName;
    }
    this.topology.addSink(sinkName, topic, { keySerde, valueSerde, partitioner: options.partitioner }, sinkParent);
    this.topology.addRepartitionTopic(topic, options.partitions);
    this.topology.addSource(sourceName, topic, { keySerde, valueSerde });
    return { sourceName, topic };
  }

  /** Adds a DSL key-value store (timestamped, logged unless Materialized says not). */
  addStore(
    name: string,
    materialized: Materialized<any, any> | undefined,
    keySerde: Serde<any> | undefined,
    valueSerde: Serde<any> | undefined,
    ...processors: string[]
  ): StoreDefinition {
    const supplier: KeyValueBytesStoreSupplier | undefined = materialized?.supplier;
    const definition: StoreDefinition = {
      name,
      kind: 'keyValue',
      keySerde: materialized?.keySerde ?? keySerde,
      valueSerde: materialized?.valueSerde ?? valueSerde,
      supplier,
      loggingEnabled: materialized?.loggingEnabled ?? true,
      timestamped: true,
    };
    this.topology.addStateStore(definition, ...processors);
    return definition;
  }
}

/** Adds a DSL window or session store, retained `retentionMs` of stream time. */
export function addTimeStore(
  core: BuilderCore,
  name: string,
  kind: 'window' | 'session',
  retentionMs: number,
  materialized: Materialized<any, any> | undefined,
  keySerde: Serde<any> | undefined,
  valueSerde: Serde<any> | undefined,
  retainDuplicates: boolean,
  ...processors: string[]
): void {
  const definition: StoreDefinition = {
    name,
    kind,
    keySerde: materialized?.keySerde ?? keySerde,
    valueSerde: materialized?.valueSerde ?? valueSerde,
    supplier: materialized?.supplier,
    loggingEnabled: materialized?.loggingEnabled ?? true,
    timestamped: kind === 'window',
    retentionMs,
    retainDuplicates,
  };
  core.topology.addStateStore(definition, ...processors);
}

/** Drops records with a null key before a repartition topic (they could not be partitioned by key). */
function nullKeyFilter() {
  let context: ProcessorContext;
  return {
    init(ctx: ProcessorContext) {
      context = ctx;
    },
    process(record: StreamRecord<unknown, unknown>) {
      if (record.key === null || record.key === undefined) return;
      return context.forward(record);
    },
  };
}

/**
 * The value serde of a KTable's repartition topic, carrying a Change (new and old value) in one
 * record: 1 flag byte (1 = new present, 2 = old present), the new value's length (4 bytes), then
 * the new and old values' bytes. Only this library reads these topics. An unset inner serde is
 * the app's default value serde, known when a task is created.
 */
export function changeSerde<V>(inner: Serde<V> | undefined): SerdeWithDefaults<Change<V>> {
  const unresolved = (): never => {
    throw new Error('change serde used before the default value serde was given');
  };
  const resolved = inner ? changeSerdeOf(inner) : undefined;
  return {
    serialize: (topic, change) => (resolved ? resolved.serialize(topic, change) : unresolved()),
    deserialize: (topic, bytes) => (resolved ? resolved.deserialize(topic, bytes) : unresolved()),
    withDefaults: (defaults: DefaultSerdes) => {
      const serde = inner ?? (defaults.value as Serde<V> | undefined);
      if (!serde) throw new Error('no value serde given and no default: pass one to the operator or set default.value.serde');
      return changeSerdeOf(serde);
    },
  };
}

function changeSerdeOf<V>(serde: Serde<V>): Serde<Change<V>> {
  return {
    serialize(topic, change) {
      if (change === null) return null;
      const newBytes = change.newValue === null ? null : serde.serialize(topic, change.newValue);
      const oldBytes = change.oldValue === null ? null : serde.serialize(topic, change.oldValue);
      const out = new Uint8Array(5 + (newBytes?.length ?? 0) + (oldBytes?.length ?? 0));
      out[0] = (newBytes ? 1 : 0) | (oldBytes ? 2 : 0);
      new DataView(out.buffer).setUint32(1, newBytes?.length ?? 0);
      if (newBytes) out.set(newBytes, 5);
      if (oldBytes) out.set(oldBytes, 5 + (newBytes?.length ?? 0));
      return out;
    },
    deserialize(topic, bytes) {
      if (bytes === null) return null;
      const newLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
      const newValue = bytes[0]! & 1 ? serde.deserialize(topic, bytes.subarray(5, 5 + newLength)) : null;
      const oldValue = bytes[0]! & 2 ? serde.deserialize(topic, bytes.subarray(5 + newLength)) : null;
      return { newValue, oldValue };
    },
  };
}
