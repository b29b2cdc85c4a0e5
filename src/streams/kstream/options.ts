/**
 * The DSL's parameter objects, named as Kafka Streams names them: Consumed, Produced, Grouped,
 * Joined, Materialized, Repartitioned, Named and Branched. Each is an immutable value built with
 * static factories and `with...` methods.
 */
import type { Serde } from '../serdes.js';
import type { KeyValueBytesStoreSupplier } from '../state/bytes-store.js';
import type { StreamPartitioner, TimestampExtractor } from '../topology/topology.js';

export interface KeyValue<K, V> {
  readonly key: K;
  readonly value: V;
}

export function keyValue<K, V>(key: K, value: V): KeyValue<K, V> {
  return { key, value };
}

/** A processor's name chosen by the user instead of the generated `KSTREAM-...-0000000001`. */
export class Named {
  private constructor(readonly name: string | undefined) {}
  static as(name: string): Named {
    if (!name) throw new Error('Named.as: the name may not be empty');
    return new Named(name);
  }
  /** @internal */
  static of(named: Named | string | undefined): string | undefined {
    return typeof named === 'string' ? named : named?.name;
  }
}

export class Consumed<K, V> {
  private constructor(
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly timestampExtractor: TimestampExtractor | undefined,
    readonly processorName: string | undefined,
  ) {}
  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Consumed<K, V> {
    return new Consumed(keySerde, valueSerde, undefined, undefined);
  }
  static as<K, V>(processorName: string): Consumed<K, V> {
    return new Consumed<K, V>(undefined, undefined, undefined, processorName);
  }
  withTimestampExtractor(extractor: TimestampExtractor): Consumed<K, V> {
    return new Consumed(this.keySerde, this.valueSerde, extractor, this.processorName);
  }
  withName(processorName: string): Consumed<K, V> {
    return new Consumed(this.keySerde, this.valueSerde, this.timestampExtractor, processorName);
  }
  withKeySerde(serde: Serde<K>): Consumed<K, V> {
    return new Consumed(serde, this.valueSerde, this.timestampExtractor, this.processorName);
  }
  withValueSerde(serde: Serde<V>): Consumed<K, V> {
    return new Consumed(this.keySerde, serde, this.timestampExtractor, this.processorName);
  }
}

export class Produced<K, V> {
  private constructor(
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly partitioner: StreamPartitioner<K, V> | undefined,
    readonly processorName: string | undefined,
  ) {}
  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>, partitioner?: StreamPartitioner<K, V>): Produced<K, V> {
    return new Produced(keySerde, valueSerde, partitioner, undefined);
  }
  static as<K, V>(processorName: string): Produced<K, V> {
    return new Produced<K, V>(undefined, undefined, undefined, processorName);
  }
  withStreamPartitioner(partitioner: StreamPartitioner<K, V>): Produced<K, V> {
    return new Produced(this.keySerde, this.valueSerde, partitioner, this.processorName);
  }
  withName(processorName: string): Produced<K, V> {
    return new Produced(this.keySerde, this.valueSerde, this.partitioner, processorName);
  }
}

export class Grouped<K, V> {
  private constructor(
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly name: string | undefined,
  ) {}
  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Grouped<K, V> {
    return new Grouped(keySerde, valueSerde, undefined);
  }
  /** Names the repartition topic (`<app>-<name>-repartition`) and its processors. */
  static as<K, V>(name: string): Grouped<K, V> {
    return new Grouped<K, V>(undefined, undefined, name);
  }
  withName(name: string): Grouped<K, V> {
    return new Grouped(this.keySerde, this.valueSerde, name);
  }
}

export class Joined<K, V, VO> {
  private constructor(
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly otherValueSerde: Serde<VO> | undefined,
    readonly name: string | undefined,
  ) {}
  static with<K, V, VO>(keySerde?: Serde<K>, valueSerde?: Serde<V>, otherValueSerde?: Serde<VO>): Joined<K, V, VO> {
    return new Joined(keySerde, valueSerde, otherValueSerde, undefined);
  }
  static as<K, V, VO>(name: string): Joined<K, V, VO> {
    return new Joined<K, V, VO>(undefined, undefined, undefined, name);
  }
  withName(name: string): Joined<K, V, VO> {
    return new Joined(this.keySerde, this.valueSerde, this.otherValueSerde, name);
  }
}

export class Repartitioned<K, V> {
  private constructor(
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly name: string | undefined,
    readonly numberOfPartitions: number | undefined,
    readonly partitioner: StreamPartitioner<K, V> | undefined,
  ) {}
  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Repartitioned<K, V> {
    return new Repartitioned(keySerde, valueSerde, undefined, undefined, undefined);
  }
  static as<K, V>(name: string): Repartitioned<K, V> {
    return new Repartitioned<K, V>(undefined, undefined, name, undefined, undefined);
  }
  static numberOfPartitions<K, V>(partitions: number): Repartitioned<K, V> {
    return new Repartitioned<K, V>(undefined, undefined, undefined, partitions, undefined);
  }
  withNumberOfPartitions(partitions: number): Repartitioned<K, V> {
    return new Repartitioned(this.keySerde, this.valueSerde, this.name, partitions, this.partitioner);
  }
  withStreamPartitioner(partitioner: StreamPartitioner<K, V>): Repartitioned<K, V> {
    return new Repartitioned(this.keySerde, this.valueSerde, this.name, this.numberOfPartitions, partitioner);
  }
  withName(name: string): Repartitioned<K, V> {
    return new Repartitioned(this.keySerde, this.valueSerde, name, this.numberOfPartitions, this.partitioner);
  }
}

export class Materialized<K, V> {
  private constructor(
    readonly storeName: string | undefined,
    readonly supplier: KeyValueBytesStoreSupplier | undefined,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly loggingEnabled: boolean,
  ) {}
  /** A store with this name: queryable, and its changelog named `<app>-<name>-changelog`. */
  static as<K, V>(nameOrSupplier: string | KeyValueBytesStoreSupplier): Materialized<K, V> {
    return typeof nameOrSupplier === 'string'
      ? new Materialized<K, V>(nameOrSupplier, undefined, undefined, undefined, true)
      : new Materialized<K, V>(nameOrSupplier.name, nameOrSupplier, undefined, undefined, true);
  }
  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Materialized<K, V> {
    return new Materialized(undefined, undefined, keySerde, valueSerde, true);
  }
  withKeySerde(serde: Serde<K>): Materialized<K, V> {
    return new Materialized(this.storeName, this.supplier, serde, this.valueSerde, this.loggingEnabled);
  }
  withValueSerde(serde: Serde<V>): Materialized<K, V> {
    return new Materialized(this.storeName, this.supplier, this.keySerde, serde, this.loggingEnabled);
  }
  withLoggingDisabled(): Materialized<K, V> {
    return new Materialized(this.storeName, this.supplier, this.keySerde, this.valueSerde, false);
  }
  withLoggingEnabled(): Materialized<K, V> {
    return new Materialized(this.storeName, this.supplier, this.keySerde, this.valueSerde, true);
  }
}

/** One branch of `split()`: its name suffix and what to do with its stream. */
export class Branched<K, V> {
  private constructor(
    readonly name: string | undefined,
    readonly chain: ((stream: any) => any) | undefined,
    readonly consumer: ((stream: any) => void) | undefined,
  ) {}
  static as<K, V>(name: string): Branched<K, V> {
    return new Branched<K, V>(name, undefined, undefined);
  }
  /** The branch's stream goes through `chain`; its result (if any) is put in the result map. */
  static withFunction<K, V>(chain: (stream: any) => any, name?: string): Branched<K, V> {
    return new Branched<K, V>(name, chain, undefined);
  }
  /** The branch's stream is given to `consumer`; nothing is put in the result map. */
  static withConsumer<K, V>(consumer: (stream: any) => void, name?: string): Branched<K, V> {
    return new Branched<K, V>(name, undefined, consumer);
  }
}

/** Serdes and a name for a stream-stream join (its repartition topics and window stores). */
export class StreamJoined<K, V, VO> {
  private constructor(
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    readonly otherValueSerde: Serde<VO> | undefined,
    readonly name: string | undefined,
    readonly loggingEnabled: boolean,
  ) {}
  static with<K, V, VO>(keySerde?: Serde<K>, valueSerde?: Serde<V>, otherValueSerde?: Serde<VO>): StreamJoined<K, V, VO> {
    return new StreamJoined(keySerde, valueSerde, otherValueSerde, undefined, true);
  }
  static as<K, V, VO>(name: string): StreamJoined<K, V, VO> {
    return new StreamJoined<K, V, VO>(undefined, undefined, undefined, name, true);
  }
  withName(name: string): StreamJoined<K, V, VO> {
    return new StreamJoined(this.keySerde, this.valueSerde, this.otherValueSerde, name, this.loggingEnabled);
  }
  withLoggingDisabled(): StreamJoined<K, V, VO> {
    return new StreamJoined(this.keySerde, this.valueSerde, this.otherValueSerde, this.name, false);
  }
}
