/**
 * StreamsBuilder: where a DSL program starts (streams, tables and global tables from topics) and
 * what it builds (the Topology). Names come from one counter per builder, as in Kafka.
 */
import type { Topology } from '../topology/topology.js';
import type { StoreDefinition, KeyValueStoreBuilder } from '../state/stores.js';
import { BuilderCore } from './internal.js';
import { GlobalKTable, KStream, KTable } from './dsl.js';
import { tableSourceProcessor, storeGetter, type OldValues } from './processors.js';
import type { Consumed, Materialized } from './options.js';

export class StreamsBuilder {
  private readonly core = new BuilderCore();

  /** A stream of the records of one topic, several topics, or every topic matching a pattern. */
  stream<K, V>(topics: string | readonly string[] | RegExp, consumed?: Consumed<K, V>): KStream<K, V> {
    const name = consumed?.processorName ?? this.core.newProcessorName('KSTREAM-SOURCE-');
    this.core.topology.addSource(name, topics, {
      keySerde: consumed?.keySerde,
      valueSerde: consumed?.valueSerde,
      timestampExtractor: consumed?.timestampExtractor,
    });
    const sourceTopics = topics instanceof RegExp ? [] : typeof topics === 'string' ? [topics] : topics;
    return new KStream<K, V>(this.core, name, {
      keySerde: consumed?.keySerde,
      valueSerde: consumed?.valueSerde,
      sourceTopics: new Set(sourceTopics),
      repartitionRequired: false,
    });
  }

  /**
   * A table of a topic: each record is its key's latest value. The store (`<topic>-STATE-STORE-N`
   * unless Materialized.as names it) is only written when something needs it: a name, a join, or a
   * groupBy, as in Kafka.
   */
  table<K, V>(topic: string, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    const store = this.core.storeNameOf(materialized, `${topic}-`);
    const consumedName = consumed?.processorName;
    const sourceName = consumedName ?? this.core.newProcessorName('KSTREAM-SOURCE-');
    const tableSourceName = this.core.suffixedOrGenerated(consumedName, '-table-source', 'KTABLE-SOURCE-');
    const keySerde = consumed?.keySerde ?? materialized?.keySerde;
    const valueSerde = consumed?.valueSerde ?? materialized?.valueSerde;
    const topology = this.core.topology;
    topology.addSource(sourceName, topic, { keySerde, valueSerde, timestampExtractor: consumed?.timestampExtractor });
    let materializedStore: string | undefined;
    const materialize = (): string => {
      if (materializedStore === undefined) {
        materializedStore = store.name;
        this.core.addStore(store.name, materialized, keySerde, valueSerde, tableSourceName);
      }
      return materializedStore;
    };
    const oldValues: OldValues = { enabled: false };
    topology.addProcessor(tableSourceName, tableSourceProcessor(() => materializedStore, oldValues), sourceName);
    if (store.queryable) materialize();
    return new KTable<K, V>(this.core, tableSourceName, {
      keySerde,
      valueSerde,
      sourceTopics: new Set([topic]),
      storeName: store.name,
      queryableStoreName: store.queryable ? store.name : undefined,
      oldValues,
      getter: () => storeGetter<V>(materialize()),
      // Old values come from the store, so a table asked for them is materialized (Kafka's forceMaterialization).
      onSendOldValues: () => void materialize(),
    });
  }

  /** A table of the whole topic on every instance (all partitions), for joins by a key taken from the stream. */
  globalTable<K, V>(topic: string, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>): GlobalKTable<K, V> {
    const store = this.core.storeNameOf(materialized, `${topic}-`);
    const sourceName = consumed?.processorName ?? this.core.newProcessorName('KSTREAM-SOURCE-');
    const processorName = this.core.suffixedOrGenerated(consumed?.processorName, '-table-source', 'KTABLE-SOURCE-');
    const keySerde = consumed?.keySerde ?? materialized?.keySerde;
    const valueSerde = consumed?.valueSerde ?? materialized?.valueSerde;
    const definition: StoreDefinition = {
      name: store.name,
      kind: 'keyValue',
      keySerde: materialized?.keySerde ?? keySerde,
      valueSerde: materialized?.valueSerde ?? valueSerde,
      supplier: materialized?.supplier,
      loggingEnabled: false,
      timestamped: true,
    };
    this.core.topology.addGlobalStore(
      definition,
      sourceName,
      topic,
      { keySerde, valueSerde, timestampExtractor: consumed?.timestampExtractor },
      processorName,
      tableSourceProcessor(() => store.name, { enabled: false }),
    );
    return new GlobalKTable<K, V>(store.name, keySerde, valueSerde);
  }

  /** Adds a store for Processor API processors of this program (connect it with KStream.process(..., storeName)). */
  addStateStore(store: StoreDefinition<any, any> | KeyValueStoreBuilder<any, any>): this {
    this.core.topology.addStateStore(store);
    return this;
  }

  build(): Topology {
    return this.core.topology;
  }
}
