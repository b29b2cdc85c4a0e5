/**
 * The DSL: KStream, KTable, their grouped forms, split branches and GlobalKTable. Each operator
 * writes its processors (and stores, and repartition topics) into the builder's topology at once,
 * drawing names from the builder's counter in the order Kafka Streams draws them, so describe()
 * prints the same names as the same Java program would.
 */
import type { Serde } from '../serdes.js';
import { Serdes } from '../serdes.js';
import type { ProcessorSupplier } from '../processor/api.js';
import type { TopicNameExtractor } from '../topology/topology.js';
import { addTimeStore, BuilderCore, changeSerde } from './internal.js';
import { JoinWindows, SessionWindows, SlidingWindows, Suppressed, TimeWindows, windowedSerde, type Windowed } from './windows.js';
import {
  joinWindowProcessor,
  sessionAggregateProcessor,
  slidingAggregateProcessor,
  streamStreamJoinProcessor,
  suppressProcessor,
  windowAggregateProcessor,
  type BufferedRecord,
} from './windowed-processors.js';
import type { DefaultSerdes, SerdeWithDefaults } from '../serdes.js';
import {
  foreignTableProcessor,
  registrationProcessor,
  responseResolverProcessor,
  responseSerde,
  storedSubscriptionSerde,
  subscriptionProcessor,
  subscriptionSerde,
} from './fk-join.js';
import {
  Branched,
  Grouped,
  Joined,
  Materialized,
  Named,
  Produced,
  Repartitioned,
  StreamJoined,
  type KeyValue,
} from './options.js';
import {
  branchProcessor,
  computedGetter,
  filterProcessor,
  flatMapProcessor,
  flatMapValuesProcessor,
  joinGetter,
  mapProcessor,
  mapValuesProcessor,
  passThroughProcessor,
  peekProcessor,
  selectKeyProcessor,
  storeGetter,
  streamAggregateProcessor,
  streamReduceProcessor,
  streamTableJoinProcessor,
  tableAggregateProcessor,
  tableMergeProcessor,
  tableSelectProcessor,
  tableSourceProcessor,
  tableTableJoinProcessor,
  tableToStreamProcessor,
  tableTransformProcessor,
  type OldValues,
  type TableJoinKind,
  type ValueGetterSupplier,
} from './processors.js';

type NamedArg = Named | string | undefined;

/** What a stream knows besides its node: its serdes, the topics it comes from, whether its key changed. */
interface StreamState<K, V> {
  readonly keySerde: Serde<K> | undefined;
  readonly valueSerde: Serde<V> | undefined;
  /** Raw names of the topics the stream reads (for co-partitioning checks of joins). */
  readonly sourceTopics: ReadonlySet<string>;
  /** A key-changing operator ran since the last source: grouping or joining must repartition first. */
  readonly repartitionRequired: boolean;
}

export class KStream<K, V> {
  /** @internal */
  constructor(
    private readonly core: BuilderCore,
    /** The processor node this stream's records leave from. */
    readonly name: string,
    private readonly state: StreamState<K, V>,
  ) {}

  /** @internal */
  get sourceTopics(): ReadonlySet<string> {
    return this.state.sourceTopics;
  }

  private next<K2, V2>(name: string, supplier: ProcessorSupplier<any, any>, changes: Partial<StreamState<K2, V2>>): KStream<K2, V2> {
    this.core.topology.addProcessor(name, supplier, this.name);
    return new KStream<K2, V2>(this.core, name, { ...(this.state as unknown as StreamState<K2, V2>), ...changes });
  }

  private nameOr(named: NamedArg, prefix: string): string {
    return Named.of(named) ?? this.core.newProcessorName(prefix);
  }

  filter(predicate: (key: K, value: V) => boolean, named?: NamedArg): KStream<K, V> {
    return this.next(this.nameOr(named, 'KSTREAM-FILTER-'), filterProcessor(predicate, false), {});
  }

  filterNot(predicate: (key: K, value: V) => boolean, named?: NamedArg): KStream<K, V> {
    return this.next(this.nameOr(named, 'KSTREAM-FILTER-'), filterProcessor(predicate, true), {});
  }

  map<K2, V2>(mapper: (key: K, value: V) => KeyValue<K2, V2>, named?: NamedArg): KStream<K2, V2> {
    return this.next(this.nameOr(named, 'KSTREAM-MAP-'), mapProcessor(mapper), {
      keySerde: undefined,
      valueSerde: undefined,
      repartitionRequired: true,
    });
  }

  mapValues<V2>(mapper: (value: V, key: K) => V2, named?: NamedArg): KStream<K, V2> {
    return this.next(this.nameOr(named, 'KSTREAM-MAPVALUES-'), mapValuesProcessor(mapper), { valueSerde: undefined });
  }

  flatMap<K2, V2>(mapper: (key: K, value: V) => Iterable<KeyValue<K2, V2>>, named?: NamedArg): KStream<K2, V2> {
    return this.next(this.nameOr(named, 'KSTREAM-FLATMAP-'), flatMapProcessor(mapper), {
      keySerde: undefined,
      valueSerde: undefined,
      repartitionRequired: true,
    });
  }

  flatMapValues<V2>(mapper: (value: V, key: K) => Iterable<V2>, named?: NamedArg): KStream<K, V2> {
    return this.next(this.nameOr(named, 'KSTREAM-FLATMAPVALUES-'), flatMapValuesProcessor(mapper), { valueSerde: undefined });
  }

  selectKey<K2>(selector: (key: K, value: V) => K2, named?: NamedArg): KStream<K2, V> {
    return this.next(this.nameOr(named, 'KSTREAM-KEY-SELECT-'), selectKeyProcessor(selector), {
      keySerde: undefined,
      repartitionRequired: true,
    });
  }

  peek(action: (key: K, value: V) => void, named?: NamedArg): KStream<K, V> {
    return this.next(this.nameOr(named, 'KSTREAM-PEEK-'), peekProcessor(action, true), {});
  }

  foreach(action: (key: K, value: V) => void, named?: NamedArg): void {
    this.next(this.nameOr(named, 'KSTREAM-FOREACH-'), peekProcessor(action, false), {});
  }

  /** Runs a Processor API processor on this stream, connected to the named stores (added with builder.addStateStore). */
  process<K2, V2>(supplier: ProcessorSupplier<K, V, K2, V2>, named?: NamedArg, ...storeNames: string[]): KStream<K2, V2> {
    const name = this.nameOr(named, 'KSTREAM-PROCESSOR-');
    const stream = this.next<K2, V2>(name, supplier as ProcessorSupplier<any, any>, {
      keySerde: undefined,
      valueSerde: undefined,
      repartitionRequired: true,
    });
    for (const store of storeNames) this.core.topology.connect(name, store);
    return stream;
  }

  merge(other: KStream<K, V>, named?: NamedArg): KStream<K, V> {
    const name = this.nameOr(named, 'KSTREAM-MERGE-');
    this.core.topology.addProcessor(name, passThroughProcessor(), this.name, other.name);
    return new KStream<K, V>(this.core, name, {
      keySerde: undefined,
      valueSerde: undefined,
      sourceTopics: new Set([...this.state.sourceTopics, ...other.state.sourceTopics]),
      repartitionRequired: this.state.repartitionRequired || other.state.repartitionRequired,
    });
  }

  /** Splits the stream: each record goes to the first branch whose predicate it meets. */
  split(named?: NamedArg): BranchedKStream<K, V> {
    const name = this.nameOr(named, 'KSTREAM-BRANCH-');
    const branches: { predicate: ((key: any, value: any) => boolean) | undefined; child: string }[] = [];
    this.core.topology.addProcessor(name, branchProcessor(branches), this.name);
    return new BranchedKStream<K, V>(this.core, name, this.state, branches);
  }

  to(topic: string | TopicNameExtractor<K, V>, produced?: Produced<K, V>): void {
    const name = produced?.processorName ?? this.core.newProcessorName('KSTREAM-SINK-');
    this.core.topology.addSink(
      name,
      topic,
      {
        keySerde: produced?.keySerde ?? this.state.keySerde,
        valueSerde: produced?.valueSerde ?? this.state.valueSerde,
        partitioner: produced?.partitioner,
      },
      this.name,
    );
  }

  /** Writes the stream through a repartition topic `<app>-<name>-repartition` and reads it back. */
  repartition(repartitioned?: Repartitioned<K, V>): KStream<K, V> {
    const name = repartitioned?.name ?? this.core.newProcessorName('KSTREAM-REPARTITION-');
    const keySerde = repartitioned?.keySerde ?? this.state.keySerde;
    const valueSerde = repartitioned?.valueSerde ?? this.state.valueSerde;
    const { sourceName, topic } = this.core.repartition(name, this.name, keySerde, valueSerde, {
      nullKeyFilter: false,
      partitioner: repartitioned?.partitioner,
      partitions: repartitioned?.numberOfPartitions,
    });
    return new KStream<K, V>(this.core, sourceName, { keySerde, valueSerde, sourceTopics: new Set([topic]), repartitionRequired: false });
  }

  /** @internal The stream as a join or aggregation needs it: repartitioned if its key changed. */
  repartitionedFor(prefix: string, keySerde: Serde<K> | undefined, valueSerde: Serde<V> | undefined): KStream<K, V> {
    if (!this.state.repartitionRequired) return this;
    const { sourceName, topic } = this.core.repartition(prefix, this.name, keySerde, valueSerde, { nullKeyFilter: true });
    return new KStream<K, V>(this.core, sourceName, { keySerde, valueSerde, sourceTopics: new Set([topic]), repartitionRequired: false });
  }

  toTable(named?: NamedArg, materialized?: Materialized<K, V>): KTable<K, V> {
    const name = this.nameOr(named, 'KSTREAM-TOTABLE-');
    const store = this.core.storeNameOf(materialized, 'KSTREAM-TOTABLE-');
    const keySerde = materialized?.keySerde ?? this.state.keySerde;
    const valueSerde = materialized?.valueSerde ?? this.state.valueSerde;
    const input = this.repartitionedFor(name, keySerde, valueSerde);
    const oldValues: OldValues = { enabled: false };
    this.core.topology.addProcessor(name, tableSourceProcessor(() => store.name, oldValues), input.name);
    this.core.addStore(store.name, materialized, keySerde, valueSerde, name);
    return new KTable<K, V>(this.core, name, {
      keySerde,
      valueSerde,
      sourceTopics: input.state.sourceTopics,
      storeName: store.name,
      queryableStoreName: store.queryable ? store.name : undefined,
      oldValues,
      getter: () => storeGetter<V>(store.name),
      onSendOldValues: () => {},
    });
  }

  groupByKey(grouped?: Grouped<K, V>): KGroupedStream<K, V> {
    return new KGroupedStream<K, V>(this.core, this, {
      keySerde: grouped?.keySerde ?? this.state.keySerde,
      valueSerde: grouped?.valueSerde ?? this.state.valueSerde,
      repartitionName: grouped?.name,
    });
  }

  groupBy<K2>(selector: (key: K, value: V) => K2, grouped?: Grouped<K2, V>): KGroupedStream<K2, V> {
    const name = grouped?.name ?? this.core.newProcessorName('KSTREAM-KEY-SELECT-');
    const keyed = this.next<K2, V>(name, selectKeyProcessor(selector), { keySerde: undefined, repartitionRequired: true });
    return new KGroupedStream<K2, V>(this.core, keyed, {
      keySerde: grouped?.keySerde,
      valueSerde: grouped?.valueSerde ?? this.state.valueSerde,
      repartitionName: grouped?.name,
    });
  }

  /** Stream-table join: each stream record meets the table's value for its key at that moment; records without a match are dropped. */
  join<VT, VR>(table: KTable<K, VT>, joiner: (value: V, tableValue: VT, key: K) => VR, joined?: Joined<K, V, VT>): KStream<K, VR>;
  /** Stream-globalTable join: the table is looked up by `keySelector(key, value)`. */
  join<GK, GV, VR>(table: GlobalKTable<GK, GV>, keySelector: (key: K, value: V) => GK, joiner: (value: V, tableValue: GV, key: K) => VR, named?: NamedArg): KStream<K, VR>;
  /** Stream-stream join: records of the same key whose timestamps are within the join window. */
  join<VO, VR>(other: KStream<K, VO>, joiner: (value: V, otherValue: VO, key: K) => VR, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  join(table: KTable<any, any> | GlobalKTable<any, any> | KStream<any, any>, a: any, b?: any, c?: any): KStream<K, any> {
    if (table instanceof KStream) return this.streamJoin(table, a, b, c, 'inner');
    return table instanceof GlobalKTable ? this.globalJoin(table, a, b, c, false) : this.tableJoin(table, a, b, false);
  }

  /** As join, but a stream record without a table match is joined with null. */
  leftJoin<VT, VR>(table: KTable<K, VT>, joiner: (value: V, tableValue: VT | null, key: K) => VR, joined?: Joined<K, V, VT>): KStream<K, VR>;
  leftJoin<GK, GV, VR>(table: GlobalKTable<GK, GV>, keySelector: (key: K, value: V) => GK, joiner: (value: V, tableValue: GV | null, key: K) => VR, named?: NamedArg): KStream<K, VR>;
  /** Stream-stream left join: a record matched by nothing is joined with null once its window closes. */
  leftJoin<VO, VR>(other: KStream<K, VO>, joiner: (value: V, otherValue: VO | null, key: K) => VR, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  leftJoin(table: KTable<any, any> | GlobalKTable<any, any> | KStream<any, any>, a: any, b?: any, c?: any): KStream<K, any> {
    if (table instanceof KStream) return this.streamJoin(table, a, b, c, 'left');
    return table instanceof GlobalKTable ? this.globalJoin(table, a, b, c, true) : this.tableJoin(table, a, b, true);
  }

  /** Stream-stream outer join: unmatched records of either side are joined with null once their window closes. */
  outerJoin<VO, VR>(
    other: KStream<K, VO>,
    joiner: (value: V | null, otherValue: VO | null, key: K) => VR,
    windows: JoinWindows,
    streamJoined?: StreamJoined<K, V, VO>,
  ): KStream<K, VR> {
    return this.streamJoin(other, joiner, windows, streamJoined, 'outer');
  }

  private streamJoin<VO, VR>(
    other: KStream<K, VO>,
    joiner: (value: any, otherValue: any, key: K) => VR,
    windows: JoinWindows,
    streamJoined: StreamJoined<K, V, VO> | undefined,
    kind: 'inner' | 'left' | 'outer',
  ): KStream<K, VR> {
    const userName = streamJoined?.name;
    const keySerde = streamJoined?.keySerde ?? this.state.keySerde ?? other.state.keySerde;
    const left = this.repartitionedFor(userName ? `${userName}-left` : this.name, keySerde, streamJoined?.valueSerde ?? this.state.valueSerde);
    const right = other.repartitionedFor(userName ? `${userName}-right` : other.name, keySerde, streamJoined?.otherValueSerde ?? other.state.valueSerde);
    const leftOuter = kind !== 'inner';
    const rightOuter = kind === 'outer';
    const thisWindowed = this.core.suffixedOrGenerated(userName, '-this-windowed', 'KSTREAM-WINDOWED-');
    const otherWindowed = this.core.suffixedOrGenerated(userName, '-other-windowed', 'KSTREAM-WINDOWED-');
    const joinThisGenerated = this.core.newProcessorName(rightOuter ? 'KSTREAM-OUTERTHIS-' : 'KSTREAM-JOINTHIS-');
    const joinOtherGenerated = this.core.newProcessorName(leftOuter ? 'KSTREAM-OUTEROTHER-' : 'KSTREAM-JOINOTHER-');
    const joinThis = userName ? `${userName}-${rightOuter ? 'outer-this-join' : 'this-join'}` : joinThisGenerated;
    const joinOther = userName ? `${userName}-${leftOuter ? 'outer-other-join' : 'other-join'}` : joinOtherGenerated;
    const mergeName = userName ? `${userName}-merge` : this.core.newProcessorName('KSTREAM-MERGE-');
    // Kafka names the stores after the generated processor names (a user name does not rename
    // them), and the shared store of unmatched records after this side's index.
    const outerStore = leftOuter ? `${joinThisGenerated.replace(/^KSTREAM-(JOIN|OUTER)THIS-/, 'KSTREAM-OUTERSHARED-')}-store` : undefined;
    const thisStore = `${joinThisGenerated}-store`;
    const otherStore = `${joinOtherGenerated}-store`;
    const topology = this.core.topology;
    const retention = windows.sizeMs + windows.graceMs;
    const logging = streamJoined?.loggingEnabled === false ? Materialized.with<any, any>().withLoggingDisabled() : undefined;
    topology.addProcessor(thisWindowed, joinWindowProcessor(thisStore), left.name);
    topology.addProcessor(otherWindowed, joinWindowProcessor(otherStore), right.name);
    const common = { windows, joiner: joiner as (l: unknown, r: unknown, k: unknown) => unknown, outerStore };
    topology.addProcessor(joinThis, streamStreamJoinProcessor({ ...common, otherStore, isLeftSide: true, emitUnmatched: leftOuter }), thisWindowed);
    topology.addProcessor(joinOther, streamStreamJoinProcessor({ ...common, otherStore: thisStore, isLeftSide: false, emitUnmatched: rightOuter }), otherWindowed);
    topology.addProcessor(mergeName, passThroughProcessor(), joinThis, joinOther);
    const leftValueSerde = streamJoined?.valueSerde ?? this.state.valueSerde;
    const rightValueSerde = streamJoined?.otherValueSerde ?? other.state.valueSerde;
    addTimeStore(this.core, thisStore, 'window', retention, logging, keySerde, leftValueSerde, true, thisWindowed, joinOther);
    addTimeStore(this.core, otherStore, 'window', retention, logging, keySerde, rightValueSerde, true, otherWindowed, joinThis);
    if (outerStore) {
      this.core.topology.addStateStore(
        {
          name: outerStore,
          kind: 'keyValue',
          keySerde: Serdes.String(),
          valueSerde: unmatchedSerde(keySerde, leftValueSerde, rightValueSerde),
          supplier: undefined,
          loggingEnabled: streamJoined?.loggingEnabled ?? true,
          timestamped: false,
        },
        joinThis,
        joinOther,
      );
    }
    topology.addCopartitionGroup([...left.state.sourceTopics, ...right.state.sourceTopics]);
    return new KStream<K, VR>(this.core, mergeName, {
      keySerde,
      valueSerde: undefined,
      sourceTopics: new Set([...left.state.sourceTopics, ...right.state.sourceTopics]),
      repartitionRequired: false,
    });
  }

  private tableJoin<VT, VR>(table: KTable<K, VT>, joiner: (value: V, tableValue: VT, key: K) => VR, joined: Joined<K, V, VT> | undefined, left: boolean): KStream<K, VR> {
    const input = this.repartitionedFor(
      joined?.name ?? this.name,
      joined?.keySerde ?? this.state.keySerde,
      joined?.valueSerde ?? this.state.valueSerde,
    );
    const name = joined?.name ?? this.core.newProcessorName(left ? 'KSTREAM-LEFTJOIN-' : 'KSTREAM-JOIN-');
    const getter = table.valueGetterSupplier();
    this.core.topology.addProcessor(name, streamTableJoinProcessor(getter, joiner, left, undefined), input.name);
    for (const store of getter.storeNames()) this.core.topology.connect(name, store);
    this.core.topology.addCopartitionGroup([...input.state.sourceTopics, ...table.sourceTopics]);
    return new KStream<K, VR>(this.core, name, {
      keySerde: joined?.keySerde ?? this.state.keySerde,
      valueSerde: undefined,
      sourceTopics: input.state.sourceTopics,
      repartitionRequired: false,
    });
  }

  private globalJoin<GK, GV, VR>(
    table: GlobalKTable<GK, GV>,
    keySelector: (key: K, value: V) => GK,
    joiner: (value: V, tableValue: GV, key: K) => VR,
    named: NamedArg,
    left: boolean,
  ): KStream<K, VR> {
    const name = this.nameOr(named, left ? 'KSTREAM-LEFTJOIN-' : 'KSTREAM-JOIN-');
    // Global stores are read through the task's global stores, not connected (Kafka lists no store here).
    const getter = storeGetter<GV>(table.storeName);
    return this.next<K, VR>(name, streamTableJoinProcessor(getter, joiner, left, keySelector), { valueSerde: undefined });
  }
}

/** split()'s result: add branches, then end with defaultBranch() or noDefaultBranch() to get them by name. */
export class BranchedKStream<K, V> {
  private readonly result = new Map<string, KStream<K, V>>();

  /** @internal */
  constructor(
    private readonly core: BuilderCore,
    private readonly splitterName: string,
    private readonly state: StreamState<K, V>,
    private readonly branches: { predicate: ((key: any, value: any) => boolean) | undefined; child: string }[],
  ) {}

  private add(predicate: ((key: K, value: V) => boolean) | undefined, branched: Branched<K, V> | undefined, index: number): void {
    const child = `${this.splitterName}${branched?.name ?? index}`;
    this.core.topology.addProcessor(child, passThroughProcessor(), this.splitterName);
    this.branches.push({ predicate, child });
    const stream = new KStream<K, V>(this.core, child, this.state);
    if (branched?.consumer) {
      branched.consumer(stream);
    } else if (branched?.chain) {
      const out = branched.chain(stream);
      if (out) this.result.set(child, out);
    } else {
      this.result.set(child, stream);
    }
  }

  branch(predicate: (key: K, value: V) => boolean, branched?: Branched<K, V>): this {
    this.add(predicate, branched, this.branches.length + 1);
    return this;
  }

  /** The records no predicate took; an unnamed default branch is named `<split name>0`. */
  defaultBranch(branched?: Branched<K, V>): Map<string, KStream<K, V>> {
    this.add(undefined, branched, 0);
    return this.result;
  }

  noDefaultBranch(): Map<string, KStream<K, V>> {
    return this.result;
  }
}

interface TableState<K, V> {
  readonly keySerde: Serde<K> | undefined;
  readonly valueSerde: Serde<V> | undefined;
  readonly sourceTopics: ReadonlySet<string>;
  /** The store this node writes, when it is materialized. */
  readonly storeName: string | undefined;
  readonly queryableStoreName: string | undefined;
  readonly oldValues: OldValues;
  /** How to read this table's value for a key (materializing a source table on first use). */
  readonly getter: () => ValueGetterSupplier<V>;
  /** Called when downstream needs old values: the parent must send them too, or a source must materialize. */
  readonly onSendOldValues: () => void;
  /** A windowed aggregation's grace period: when its windows close (for suppress). */
  readonly windowGraceMs?: number;
}

export class KTable<K, V> {
  /** @internal */
  constructor(
    private readonly core: BuilderCore,
    readonly name: string,
    private readonly state: TableState<K, V>,
  ) {}

  /** The store to query for this table's values (Materialized.as), or undefined. */
  get queryableStoreName(): string | undefined {
    return this.state.queryableStoreName;
  }

  /** @internal */
  get sourceTopics(): ReadonlySet<string> {
    return this.state.sourceTopics;
  }

  /** @internal */
  valueGetterSupplier(): ValueGetterSupplier<V> {
    return this.state.getter();
  }

  /** @internal Makes this node forward old values too (groupBy's subtractor and outer joins need them). */
  enableSendingOldValues(): void {
    if (this.state.oldValues.enabled) return;
    this.state.oldValues.enabled = true;
    this.state.onSendOldValues();
  }

  private transform<V2>(
    prefix: string,
    compute: (key: K, value: V) => V2 | null,
    named: NamedArg,
    materialized: Materialized<K, V2> | undefined,
    isFilter: boolean,
  ): KTable<K, V2> {
    const store = materialized ? this.core.storeNameOf(materialized, prefix) : undefined;
    const name = Named.of(named) ?? this.core.newProcessorName(prefix);
    const oldValues: OldValues = { enabled: false };
    this.core.topology.addProcessor(name, tableTransformProcessor(compute, store?.name, oldValues, isFilter), this.name);
    const keySerde = materialized?.keySerde ?? this.state.keySerde;
    const valueSerde = materialized?.valueSerde ?? (isFilter ? (this.state.valueSerde as unknown as Serde<V2>) : undefined);
    if (store) this.core.addStore(store.name, materialized, keySerde, valueSerde, name);
    return new KTable<K, V2>(this.core, name, {
      keySerde,
      valueSerde,
      sourceTopics: this.state.sourceTopics,
      storeName: store?.name,
      queryableStoreName: store?.queryable ? store.name : undefined,
      oldValues,
      getter: () => (store ? storeGetter<V2>(store.name) : computedGetter<V2>(this.valueGetterSupplier(), compute)),
      onSendOldValues: () => {
        if (!store) this.enableSendingOldValues();
      },
    });
  }

  filter(predicate: (key: K, value: V) => boolean, named?: NamedArg, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.transform('KTABLE-FILTER-', (k, v) => (predicate(k, v) ? v : null), named, materialized, true);
  }

  filterNot(predicate: (key: K, value: V) => boolean, named?: NamedArg, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.transform('KTABLE-FILTER-', (k, v) => (predicate(k, v) ? null : v), named, materialized, true);
  }

  mapValues<V2>(mapper: (value: V, key: K) => V2, named?: NamedArg, materialized?: Materialized<K, V2>): KTable<K, V2> {
    return this.transform('KTABLE-MAPVALUES-', (k, v) => mapper(v, k), named, materialized, false);
  }

  /** The table's updates as a stream (a deleted key as a null value). */
  toStream(named?: NamedArg): KStream<K, V>;
  toStream<K2>(mapper: (key: K, value: V) => K2, named?: NamedArg): KStream<K2, V>;
  toStream(a?: NamedArg | ((key: K, value: V) => unknown), b?: NamedArg): KStream<any, V> {
    const mapper = typeof a === 'function' ? (a as (key: K, value: V) => unknown) : undefined;
    const named = typeof a === 'function' ? b : a;
    const name = Named.of(named) ?? this.core.newProcessorName('KTABLE-TOSTREAM-');
    this.core.topology.addProcessor(name, tableToStreamProcessor(mapper), this.name);
    return new KStream<any, V>(this.core, name, {
      keySerde: mapper ? undefined : this.state.keySerde,
      valueSerde: this.state.valueSerde,
      sourceTopics: this.state.sourceTopics,
      repartitionRequired: mapper !== undefined,
    });
  }

  /**
   * Holds updates back: until a window closes (one final result per window of a windowed
   * aggregation) or for a time limit. The buffer is a logged store, restored with the task.
   */
  suppress(suppressed: Suppressed): KTable<K, V> {
    if (suppressed.mode === 'untilWindowCloses' && this.state.windowGraceMs === undefined) {
      throw new Error('suppress(untilWindowCloses) needs a windowed table (groupByKey().windowedBy(...) then an aggregation)');
    }
    const name = suppressed.name ?? this.core.newProcessorName('KTABLE-SUPPRESS-');
    const storeName = suppressed.name ? `${suppressed.name}-store` : this.core.newStoreName('KTABLE-SUPPRESS-');
    const grace = this.state.windowGraceMs ?? 0;
    const duration = suppressed.mode === 'untilWindowCloses' ? grace : suppressed.timeLimitMs;
    this.core.topology.addProcessor(
      name,
      suppressProcessor(storeName, suppressed.mode, () => duration, suppressed.buffer.maxRecords, suppressed.buffer.whenFull),
      this.name,
    );
    this.core.topology.addStateStore(
      {
        name: storeName,
        kind: 'keyValue',
        keySerde: this.state.keySerde,
        valueSerde: bufferedRecordSerde(this.state.valueSerde),
        supplier: undefined,
        loggingEnabled: true,
        timestamped: false,
      },
      name,
    );
    return new KTable<K, V>(this.core, name, {
      ...this.state,
      storeName: undefined,
      queryableStoreName: undefined,
      oldValues: { enabled: false },
      getter: () => {
        throw new Error('a suppressed table cannot be joined or queried');
      },
      onSendOldValues: () => {},
    });
  }

  /** Re-keys the table for an aggregation; updates travel as (new, old) pairs through a repartition topic. */
  groupBy<K2, V2>(selector: (key: K, value: V) => KeyValue<K2, V2>, grouped?: Grouped<K2, V2>): KGroupedTable<K2, V2> {
    const name = grouped?.name ?? this.core.newProcessorName('KTABLE-SELECT-');
    this.enableSendingOldValues();
    this.core.topology.addProcessor(name, tableSelectProcessor(selector), this.name);
    return new KGroupedTable<K2, V2>(this.core, name, {
      keySerde: grouped?.keySerde,
      valueSerde: grouped?.valueSerde,
      repartitionName: grouped?.name,
    });
  }

  join<VO, VR>(other: KTable<K, VO>, joiner: (value: V, otherValue: VO) => VR, named?: NamedArg, materialized?: Materialized<K, VR>): KTable<K, VR>;
  /** Foreign-key join: each row joins the other table's row whose key `foreignKeyExtractor(value)` gives. */
  join<KO, VO, VR>(
    other: KTable<KO, VO>,
    foreignKeyExtractor: (value: V) => KO,
    joiner: (value: V, otherValue: VO) => VR,
    named?: NamedArg,
    materialized?: Materialized<K, VR>,
  ): KTable<K, VR>;
  join(other: KTable<any, any>, a: any, b?: any, c?: any, d?: any): KTable<K, any> {
    return typeof b === 'function' ? this.foreignKeyJoin(other, a, b, c, d, false) : this.doJoin('inner', other, a, b, c);
  }

  leftJoin<VO, VR>(other: KTable<K, VO>, joiner: (value: V, otherValue: VO | null) => VR, named?: NamedArg, materialized?: Materialized<K, VR>): KTable<K, VR>;
  /** Foreign-key left join: a row whose foreign row is missing joins with null. */
  leftJoin<KO, VO, VR>(
    other: KTable<KO, VO>,
    foreignKeyExtractor: (value: V) => KO,
    joiner: (value: V, otherValue: VO | null) => VR,
    named?: NamedArg,
    materialized?: Materialized<K, VR>,
  ): KTable<K, VR>;
  leftJoin(other: KTable<any, any>, a: any, b?: any, c?: any, d?: any): KTable<K, any> {
    return typeof b === 'function' ? this.foreignKeyJoin(other, a, b, c, d, true) : this.doJoin('left', other, a, b, c);
  }

  /** @internal */
  get serdes(): { key: Serde<K> | undefined; value: Serde<V> | undefined } {
    return { key: this.state.keySerde, value: this.state.valueSerde };
  }

  private foreignKeyJoin<KO, VO, VR>(
    other: KTable<KO, VO>,
    extractor: (value: V) => KO,
    joiner: (value: V, otherValue: VO | null) => VR,
    named: NamedArg,
    materialized: Materialized<K, VR> | undefined,
    leftJoin: boolean,
  ): KTable<K, VR> {
    const core = this.core;
    const topology = core.topology;
    const userName = Named.of(named);
    // Old values tell the registration which foreign key a row left.
    this.enableSendingOldValues();
    const leftGetter = this.valueGetterSupplier();
    const rightGetter = other.valueGetterSupplier();
    const registration = userName ? `${userName}-subscription-registration-processor` : core.newProcessorName('KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-');
    const registrationTopic = userName ? `${userName}-subscription-registration-topic` : `${registration}-topic`;
    const registrationSink = userName ? `${userName}-subscription-registration-sink` : core.newProcessorName('KTABLE-SINK-');
    const registrationSource = userName ? `${userName}-subscription-registration-source` : core.newProcessorName('KTABLE-SOURCE-');
    const subscriptionStore = userName ? `${userName}-subscription-store` : core.newStoreName('KTABLE-FK-JOIN-SUBSCRIPTION-');
    const subscriptionName = userName ? `${userName}-subscription-processor` : core.newProcessorName('KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-');
    const foreignName = userName ? `${userName}-foreign-table-processor` : core.newProcessorName('KTABLE-FK-JOIN-FOREIGN-TABLE-PROCESSOR-');
    const responseTopic = userName ? `${userName}-subscription-response-topic` : `${core.newProcessorName('KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-')}-topic`;
    const responseSink = userName ? `${userName}-subscription-response-sink` : core.newProcessorName('KTABLE-SINK-');
    const responseSource = userName ? `${userName}-subscription-response-source` : core.newProcessorName('KTABLE-SOURCE-');
    const resolver = userName ? `${userName}-subscription-response-resolver-processor` : core.newProcessorName('KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-');
    const store = materialized ? core.storeNameOf(materialized, 'KTABLE-FK-JOIN-OUTPUT-STATE-STORE-') : undefined;
    const output = userName ?? core.newProcessorName('KTABLE-FK-JOIN-OUTPUT-');
    const foreignKeySerde = other.serdes.key;
    const subscriptions = subscriptionSerde(this.state.keySerde);
    const responses = responseSerde(other.serdes.value);

    // Left side to right side, partitioned by foreign key.
    topology.addProcessor(registration, registrationProcessor(extractor, leftJoin), this.name);
    topology.addSink(registrationSink, registrationTopic, { keySerde: foreignKeySerde, valueSerde: subscriptions }, registration);
    topology.addRepartitionTopic(registrationTopic);
    topology.addSource(registrationSource, registrationTopic, { keySerde: foreignKeySerde, valueSerde: subscriptions });
    topology.addProcessor(subscriptionName, subscriptionProcessor(subscriptionStore, rightGetter), registrationSource);
    topology.addProcessor(foreignName, foreignTableProcessor(subscriptionStore), other.name);
    topology.addStateStore(
      {
        name: subscriptionStore,
        kind: 'keyValue',
        keySerde: Serdes.String(),
        valueSerde: storedSubscriptionSerde(foreignKeySerde, this.state.keySerde),
        supplier: undefined,
        loggingEnabled: true,
        timestamped: false,
      },
      subscriptionName,
      foreignName,
    );
    for (const s of rightGetter.storeNames()) topology.connect(subscriptionName, s);
    // Right side back to left side, partitioned by the left key.
    topology.addSink(responseSink, responseTopic, { keySerde: this.state.keySerde, valueSerde: responses }, subscriptionName, foreignName);
    topology.addRepartitionTopic(responseTopic);
    topology.addSource(responseSource, responseTopic, { keySerde: this.state.keySerde, valueSerde: responses });
    topology.addProcessor(resolver, responseResolverProcessor(leftGetter, joiner, leftJoin), responseSource);
    for (const s of leftGetter.storeNames()) topology.connect(resolver, s);
    const oldValues: OldValues = { enabled: false };
    topology.addProcessor(output, tableMergeProcessor(store?.name, oldValues), resolver);
    if (store) core.addStore(store.name, materialized, materialized?.keySerde ?? this.state.keySerde, materialized?.valueSerde, output);
    topology.addCopartitionGroup([registrationTopic, ...other.sourceTopics]);
    topology.addCopartitionGroup([responseTopic, ...this.state.sourceTopics]);
    return new KTable<K, VR>(core, output, {
      keySerde: materialized?.keySerde ?? this.state.keySerde,
      valueSerde: materialized?.valueSerde,
      sourceTopics: new Set([responseTopic]),
      storeName: store?.name,
      queryableStoreName: store?.queryable ? store.name : undefined,
      oldValues,
      getter: () => {
        if (!store) throw new Error('materialize a foreign-key join result (Materialized) to join or query it');
        return storeGetter<VR>(store.name);
      },
      onSendOldValues: () => {},
    });
  }

  outerJoin<VO, VR>(other: KTable<K, VO>, joiner: (value: V | null, otherValue: VO | null) => VR, named?: NamedArg, materialized?: Materialized<K, VR>): KTable<K, VR> {
    return this.doJoin('outer', other, joiner, named, materialized);
  }

  private doJoin<VO, VR>(
    kind: 'inner' | 'left' | 'outer',
    other: KTable<K, VO>,
    joiner: (value: any, otherValue: any) => VR,
    named: NamedArg,
    materialized: Materialized<K, VR> | undefined,
  ): KTable<K, VR> {
    const store = materialized ? this.core.storeNameOf(materialized, 'KTABLE-MERGE-') : undefined;
    const userName = Named.of(named);
    const mergeName = userName ?? this.core.newProcessorName('KTABLE-MERGE-');
    if (kind !== 'inner') this.enableSendingOldValues();
    if (kind === 'outer') other.enableSendingOldValues();
    const thisName = this.core.suffixedOrGenerated(userName, '-join-this', 'KTABLE-JOINTHIS-');
    const otherName = this.core.suffixedOrGenerated(userName, '-join-other', 'KTABLE-JOINOTHER-');
    const thisGetter = this.valueGetterSupplier();
    const otherGetter = other.valueGetterSupplier();
    const oldValues: OldValues = { enabled: false };
    const otherKind: TableJoinKind = kind === 'left' ? 'right' : kind;
    const topology = this.core.topology;
    topology.addProcessor(thisName, tableTableJoinProcessor(kind, otherGetter, joiner, oldValues), this.name);
    topology.addProcessor(otherName, tableTableJoinProcessor(otherKind, thisGetter, (o, t) => joiner(t, o), oldValues), other.name);
    topology.addProcessor(mergeName, tableMergeProcessor(store?.name, oldValues), thisName, otherName);
    for (const s of otherGetter.storeNames()) topology.connect(thisName, s);
    for (const s of thisGetter.storeNames()) topology.connect(otherName, s);
    const keySerde = materialized?.keySerde ?? this.state.keySerde;
    if (store) this.core.addStore(store.name, materialized, keySerde, materialized?.valueSerde, mergeName);
    topology.addCopartitionGroup([...this.state.sourceTopics, ...other.sourceTopics]);
    return new KTable<K, VR>(this.core, mergeName, {
      keySerde,
      valueSerde: materialized?.valueSerde,
      sourceTopics: new Set([...this.state.sourceTopics, ...other.sourceTopics]),
      storeName: store?.name,
      queryableStoreName: store?.queryable ? store.name : undefined,
      oldValues,
      getter: () => (store ? storeGetter<VR>(store.name) : joinGetter(kind, thisGetter, otherGetter, joiner)),
      onSendOldValues: () => {
        if (store) return;
        this.enableSendingOldValues();
        other.enableSendingOldValues();
      },
    });
  }
}

interface GroupedState<K, V> {
  readonly keySerde: Serde<K> | undefined;
  readonly valueSerde: Serde<V> | undefined;
  /** Grouped.as(name): the repartition topic's name instead of the store's. */
  readonly repartitionName: string | undefined;
}

export class KGroupedStream<K, V> {
  /** @internal */
  constructor(
    private readonly core: BuilderCore,
    private readonly stream: KStream<K, V>,
    private readonly state: GroupedState<K, V>,
  ) {}

  /** Aggregates per time window (tumbling or hopping) or per session. */
  windowedBy(windows: TimeWindows | SlidingWindows): TimeWindowedKStream<K, V>;
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>;
  windowedBy(windows: TimeWindows | SlidingWindows | SessionWindows): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> {
    return windows instanceof SessionWindows
      ? new SessionWindowedKStream<K, V>(this.core, this.stream, this.state, windows)
      : new TimeWindowedKStream<K, V>(this.core, this.stream, this.state, windows);
  }

  count(named?: NamedArg, materialized?: Materialized<K, number>): KTable<K, number> {
    const store = this.core.storeNameOf(materialized, 'KSTREAM-AGGREGATE-');
    const name = Named.of(named) ?? this.core.newProcessorName('KSTREAM-AGGREGATE-');
    return this.build(store, name, materialized, materialized?.valueSerde ?? Serdes.Long(), (oldValues) =>
      streamAggregateProcessor<V, number>(store.name, () => 0, (_k, _v, count) => count + 1, oldValues),
    );
  }

  reduce(reducer: (aggregate: V, value: V) => V, named?: NamedArg, materialized?: Materialized<K, V>): KTable<K, V> {
    const store = this.core.storeNameOf(materialized, 'KSTREAM-REDUCE-');
    const name = Named.of(named) ?? this.core.newProcessorName('KSTREAM-REDUCE-');
    return this.build(store, name, materialized, materialized?.valueSerde ?? this.state.valueSerde, (oldValues) =>
      streamReduceProcessor<V>(store.name, reducer, oldValues),
    );
  }

  aggregate<A>(
    initializer: () => A,
    aggregator: (key: K, value: V, aggregate: A) => A,
    named?: NamedArg,
    materialized?: Materialized<K, A>,
  ): KTable<K, A> {
    const store = this.core.storeNameOf(materialized, 'KSTREAM-AGGREGATE-');
    const name = Named.of(named) ?? this.core.newProcessorName('KSTREAM-AGGREGATE-');
    return this.build(store, name, materialized, materialized?.valueSerde, (oldValues) =>
      streamAggregateProcessor<V, A>(store.name, initializer, aggregator, oldValues),
    );
  }

  private build<A>(
    store: { name: string; queryable: boolean },
    name: string,
    materialized: Materialized<K, A> | undefined,
    valueSerde: Serde<A> | undefined,
    supplier: (oldValues: OldValues) => ProcessorSupplier<any, any>,
  ): KTable<K, A> {
    const keySerde = materialized?.keySerde ?? this.state.keySerde;
    const input = this.stream.repartitionedFor(this.state.repartitionName ?? store.name, keySerde, this.state.valueSerde);
    const oldValues: OldValues = { enabled: false };
    this.core.topology.addProcessor(name, supplier(oldValues), input.name);
    this.core.addStore(store.name, materialized, keySerde, valueSerde, name);
    return aggregateTable(this.core, name, store, keySerde, valueSerde, input.sourceTopics, oldValues);
  }
}

export class KGroupedTable<K, V> {
  /** @internal */
  constructor(
    private readonly core: BuilderCore,
    private readonly selectName: string,
    private readonly state: GroupedState<K, V>,
  ) {}

  count(named?: NamedArg, materialized?: Materialized<K, number>): KTable<K, number> {
    const store = this.core.storeNameOf(materialized, 'KTABLE-AGGREGATE-');
    return this.build(store, named, 'KTABLE-AGGREGATE-', materialized, materialized?.valueSerde ?? Serdes.Long(), (oldValues) =>
      tableAggregateProcessor<V, number>(store.name, () => 0, (_k, _v, n) => (n ?? 0) + 1, (_k, _v, n) => n - 1, oldValues),
    );
  }

  reduce(adder: (aggregate: V, value: V) => V, subtractor: (aggregate: V, value: V) => V, named?: NamedArg, materialized?: Materialized<K, V>): KTable<K, V> {
    const store = this.core.storeNameOf(materialized, 'KTABLE-REDUCE-');
    return this.build(store, named, 'KTABLE-REDUCE-', materialized, materialized?.valueSerde ?? this.state.valueSerde, (oldValues) =>
      tableAggregateProcessor<V, V>(
        store.name,
        undefined,
        (_k, value, aggregate) => (aggregate === null ? value : adder(aggregate, value)),
        (_k, value, aggregate) => subtractor(aggregate, value),
        oldValues,
      ),
    );
  }

  aggregate<A>(
    initializer: () => A,
    adder: (key: K, value: V, aggregate: A) => A,
    subtractor: (key: K, value: V, aggregate: A) => A,
    named?: NamedArg,
    materialized?: Materialized<K, A>,
  ): KTable<K, A> {
    const store = this.core.storeNameOf(materialized, 'KTABLE-AGGREGATE-');
    return this.build(store, named, 'KTABLE-AGGREGATE-', materialized, materialized?.valueSerde, (oldValues) =>
      tableAggregateProcessor<V, A>(store.name, initializer, (k, v, a) => adder(k, v, a as A), subtractor, oldValues),
    );
  }

  private build<A>(
    store: { name: string; queryable: boolean },
    named: NamedArg,
    prefix: string,
    materialized: Materialized<K, A> | undefined,
    valueSerde: Serde<A> | undefined,
    supplier: (oldValues: OldValues) => ProcessorSupplier<any, any>,
  ): KTable<K, A> {
    const userName = Named.of(named);
    const sinkName = this.core.suffixedOrGenerated(userName, '-sink', 'KSTREAM-SINK-');
    const sourceName = this.core.suffixedOrGenerated(userName, '-source', 'KSTREAM-SOURCE-');
    const name = userName ?? this.core.newProcessorName(prefix);
    const topic = `${this.state.repartitionName ?? store.name}-repartition`;
    const keySerde = materialized?.keySerde ?? this.state.keySerde;
    const repartitionValueSerde = changeSerde(this.state.valueSerde);
    const topology = this.core.topology;
    topology.addSink(sinkName, topic, { keySerde: this.state.keySerde, valueSerde: repartitionValueSerde }, this.selectName);
    topology.addRepartitionTopic(topic);
    topology.addSource(sourceName, topic, { keySerde: this.state.keySerde, valueSerde: repartitionValueSerde });
    const oldValues: OldValues = { enabled: false };
    topology.addProcessor(name, supplier(oldValues), sourceName);
    this.core.addStore(store.name, materialized, keySerde, valueSerde, name);
    return aggregateTable(this.core, name, store, keySerde, valueSerde, new Set([topic]), oldValues);
  }
}

/** A table of a whole topic, kept on every instance: joined by a key taken from the stream record. */
export class GlobalKTable<K, V> {
  /** @internal */
  constructor(
    readonly storeName: string,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
  ) {}

  get queryableStoreName(): string {
    return this.storeName;
  }
}

/** Aggregations of a grouped stream per time window; the result is keyed by Windowed<K>. */
export class TimeWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly core: BuilderCore,
    private readonly stream: KStream<K, V>,
    private readonly state: GroupedState<K, V>,
    private readonly windows: TimeWindows | SlidingWindows,
  ) {}

  /** The aggregate processor for these windows (reduce starts from the first value: no initializer). */
  private aggregateProcessor<A>(
    storeName: string,
    initializer: () => A,
    aggregator: (key: K, value: V, aggregate: A) => A,
    oldValues: OldValues,
  ): ProcessorSupplier<any, any> {
    return this.windows instanceof SlidingWindows
      ? slidingAggregateProcessor<V, A>(storeName, this.windows, initializer, aggregator, oldValues)
      : windowAggregateProcessor<V, A>(storeName, this.windows, initializer, aggregator, oldValues);
  }

  private get sizeMs(): number {
    return this.windows instanceof SlidingWindows ? this.windows.timeDifferenceMs : this.windows.sizeMs;
  }

  private get retentionMs(): number {
    // Kafka: a sliding window store keeps twice the time difference (left and right windows) plus grace.
    return this.windows instanceof SlidingWindows
      ? 2 * this.windows.timeDifferenceMs + this.windows.graceMs
      : this.windows.sizeMs + this.windows.graceMs;
  }

  count(named?: NamedArg, materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    const store = this.core.storeNameOf(materialized, 'KSTREAM-AGGREGATE-');
    const name = Named.of(named) ?? this.core.newProcessorName('KSTREAM-AGGREGATE-');
    return this.build(store, name, materialized, materialized?.valueSerde ?? Serdes.Long(), (oldValues) =>
      this.aggregateProcessor<number>(store.name, () => 0, (_k, _v, n) => n + 1, oldValues),
    );
  }

  reduce(reducer: (aggregate: V, value: V) => V, named?: NamedArg, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    const store = this.core.storeNameOf(materialized, 'KSTREAM-REDUCE-');
    const name = Named.of(named) ?? this.core.newProcessorName('KSTREAM-REDUCE-');
    return this.build(store, name, materialized, materialized?.valueSerde ?? this.state.valueSerde, (oldValues) =>
      this.aggregateProcessor<V>(store.name, () => null as V, (_k, v, a) => (a === null ? v : reducer(a, v)), oldValues),
    );
  }

  aggregate<A>(
    initializer: () => A,
    aggregator: (key: K, value: V, aggregate: A) => A,
    named?: NamedArg,
    materialized?: Materialized<K, A>,
  ): KTable<Windowed<K>, A> {
    const store = this.core.storeNameOf(materialized, 'KSTREAM-AGGREGATE-');
    const name = Named.of(named) ?? this.core.newProcessorName('KSTREAM-AGGREGATE-');
    return this.build(store, name, materialized, materialized?.valueSerde, (oldValues) =>
      this.aggregateProcessor<A>(store.name, initializer, aggregator, oldValues),
    );
  }

  private build<A>(
    store: { name: string; queryable: boolean },
    name: string,
    materialized: Materialized<K, A> | undefined,
    valueSerde: Serde<A> | undefined,
    supplier: (oldValues: OldValues) => ProcessorSupplier<any, any>,
  ): KTable<Windowed<K>, A> {
    const keySerde = materialized?.keySerde ?? this.state.keySerde;
    const input = this.stream.repartitionedFor(this.state.repartitionName ?? store.name, keySerde, this.state.valueSerde);
    const oldValues: OldValues = { enabled: false };
    this.core.topology.addProcessor(name, supplier(oldValues), input.name);
    addTimeStore(this.core, store.name, 'window', this.retentionMs, materialized, keySerde, valueSerde, false, name);
    return new KTable<Windowed<K>, A>(this.core, name, {
      keySerde: windowedSerde(keySerde, 'time', this.sizeMs),
      valueSerde,
      sourceTopics: input.sourceTopics,
      storeName: store.name,
      queryableStoreName: store.queryable ? store.name : undefined,
      oldValues,
      getter: () => {
        throw new Error('a windowed table cannot be joined');
      },
      onSendOldValues: () => {},
      windowGraceMs: this.windows.graceMs,
    });
  }
}

/** Aggregations of a grouped stream per session (activity separated by gaps). */
export class SessionWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly core: BuilderCore,
    private readonly stream: KStream<K, V>,
    private readonly state: GroupedState<K, V>,
    private readonly windows: SessionWindows,
  ) {}

  count(named?: NamedArg, materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    const store = this.core.storeNameOf(materialized, 'KSTREAM-AGGREGATE-');
    const name = Named.of(named) ?? this.core.newProcessorName('KSTREAM-AGGREGATE-');
    return this.build(store, name, materialized, materialized?.valueSerde ?? Serdes.Long(), (oldValues) =>
      sessionAggregateProcessor<V, number>(
        store.name,
        this.windows.inactivityGapMs,
        this.windows.graceMs,
        () => 0,
        (_k, _v, n) => n + 1,
        (_k, a, b) => a + b,
        oldValues,
      ),
    );
  }

  reduce(reducer: (aggregate: V, value: V) => V, named?: NamedArg, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    const store = this.core.storeNameOf(materialized, 'KSTREAM-REDUCE-');
    const name = Named.of(named) ?? this.core.newProcessorName('KSTREAM-REDUCE-');
    // null stands for "no value yet": the first value of a session is its aggregate.
    const combine = (a: V | null, b: V | null): V | null => (a === null ? b : b === null ? a : reducer(a, b));
    return this.build(store, name, materialized, materialized?.valueSerde ?? this.state.valueSerde, (oldValues) =>
      sessionAggregateProcessor<V, V | null>(
        store.name,
        this.windows.inactivityGapMs,
        this.windows.graceMs,
        () => null,
        (_k, v, a) => combine(a, v),
        (_k, a, b) => combine(a, b),
        oldValues,
      ),
    ) as KTable<Windowed<K>, V>;
  }

  aggregate<A>(
    initializer: () => A,
    aggregator: (key: K, value: V, aggregate: A) => A,
    merger: (key: K, left: A, right: A) => A,
    named?: NamedArg,
    materialized?: Materialized<K, A>,
  ): KTable<Windowed<K>, A> {
    const store = this.core.storeNameOf(materialized, 'KSTREAM-AGGREGATE-');
    const name = Named.of(named) ?? this.core.newProcessorName('KSTREAM-AGGREGATE-');
    return this.build(store, name, materialized, materialized?.valueSerde, (oldValues) =>
      sessionAggregateProcessor<V, A>(store.name, this.windows.inactivityGapMs, this.windows.graceMs, initializer, aggregator, merger, oldValues),
    );
  }

  private build<A>(
    store: { name: string; queryable: boolean },
    name: string,
    materialized: Materialized<K, A> | undefined,
    valueSerde: Serde<A> | undefined,
    supplier: (oldValues: OldValues) => ProcessorSupplier<any, any>,
  ): KTable<Windowed<K>, A> {
    const keySerde = materialized?.keySerde ?? this.state.keySerde;
    const input = this.stream.repartitionedFor(this.state.repartitionName ?? store.name, keySerde, this.state.valueSerde);
    const oldValues: OldValues = { enabled: false };
    this.core.topology.addProcessor(name, supplier(oldValues), input.name);
    const retention = this.windows.inactivityGapMs + this.windows.graceMs;
    addTimeStore(this.core, store.name, 'session', retention, materialized, keySerde, valueSerde, false, name);
    return new KTable<Windowed<K>, A>(this.core, name, {
      keySerde: windowedSerde(keySerde, 'session'),
      valueSerde,
      sourceTopics: input.sourceTopics,
      storeName: store.name,
      queryableStoreName: store.queryable ? store.name : undefined,
      oldValues,
      getter: () => {
        throw new Error('a windowed table cannot be joined');
      },
      onSendOldValues: () => {},
      windowGraceMs: this.windows.graceMs,
    });
  }
}

function defaultsOf<T>(serde: Serde<T> | undefined, defaults: DefaultSerdes, which: 'key' | 'value'): Serde<T> {
  const given = serde && 'withDefaults' in serde ? (serde as SerdeWithDefaults<T>).withDefaults(defaults) : serde;
  const found = given ?? (defaults[which] as Serde<T> | undefined);
  if (!found) throw new Error(`no ${which} serde given and no default: pass one to the operator or set default.${which}.serde`);
  return found;
}

/** A serde resolved against the app's defaults when the task starts. */
function lateSerde<T>(resolve: (defaults: DefaultSerdes) => Serde<T>): SerdeWithDefaults<T> {
  const early = (): never => {
    throw new Error('serde used before the default serdes were given');
  };
  return { serialize: early, deserialize: early, withDefaults: resolve };
}

/** The suppression buffer's value: timestamp, buffer time and sequence (8 bytes each), then the Change. */
function bufferedRecordSerde(valueSerde: Serde<any> | undefined): SerdeWithDefaults<BufferedRecord> {
  return lateSerde((defaults) => {
    const change = changeSerde(valueSerde).withDefaults(defaults);
    return {
      serialize(topic, record) {
        if (record === null) return null;
        const body = change.serialize(topic, record.change) ?? new Uint8Array(0);
        const out = new Uint8Array(24 + body.length);
        const view = new DataView(out.buffer);
        view.setBigInt64(0, BigInt(record.timestamp));
        view.setBigInt64(8, BigInt(record.bufferTime));
        view.setBigInt64(16, BigInt(record.sequence));
        out.set(body, 24);
        return out;
      },
      deserialize(topic, bytes) {
        if (bytes === null) return null;
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        return {
          timestamp: Number(view.getBigInt64(0)),
          bufferTime: Number(view.getBigInt64(8)),
          sequence: Number(view.getBigInt64(16)),
          change: change.deserialize(topic, bytes.subarray(24))!,
        };
      },
    };
  });
}

/** A stream-stream join's unmatched record: side, timestamp, key and value through the join's serdes. */
function unmatchedSerde(keySerde: Serde<any> | undefined, leftSerde: Serde<any> | undefined, rightSerde: Serde<any> | undefined) {
  return lateSerde((defaults) => {
    const keys = defaultsOf(keySerde, defaults, 'key');
    const lefts = defaultsOf(leftSerde, defaults, 'value');
    const rights = defaultsOf(rightSerde, defaults, 'value');
    const json = Serdes.JSON<{ side: 'left' | 'right'; timestamp: number; key: string; value: string }>();
    const base64 = (b: Uint8Array | null) => (b === null ? '' : Buffer.from(b).toString('base64'));
    const bytes = (t: string) => Uint8Array.from(Buffer.from(t, 'base64'));
    return {
      serialize(topic: string, r: { side: 'left' | 'right'; key: unknown; value: unknown; timestamp: number } | null) {
        if (r === null) return null;
        const values = r.side === 'left' ? lefts : rights;
        return json.serialize(topic, { side: r.side, timestamp: r.timestamp, key: base64(keys.serialize(topic, r.key)), value: base64(values.serialize(topic, r.value)) });
      },
      deserialize(topic: string, b: Uint8Array | null) {
        const r = json.deserialize(topic, b);
        if (r === null) return null;
        const values = r.side === 'left' ? lefts : rights;
        return { side: r.side, timestamp: r.timestamp, key: keys.deserialize(topic, bytes(r.key)), value: values.deserialize(topic, bytes(r.value)) };
      },
    };
  });
}

export type { StreamState, TableState };

/** The table an aggregation's processor `name` keeps in `store`, read through the store. */
function aggregateTable<K, A>(
  core: BuilderCore,
  name: string,
  store: { name: string; queryable: boolean },
  keySerde: Serde<K> | undefined,
  valueSerde: Serde<A> | undefined,
  sourceTopics: ReadonlySet<string>,
  oldValues: OldValues,
): KTable<K, A> {
  return new KTable<K, A>(core, name, {
    keySerde,
    valueSerde,
    sourceTopics,
    storeName: store.name,
    queryableStoreName: store.queryable ? store.name : undefined,
    oldValues,
    getter: () => storeGetter<A>(store.name),
    onSendOldValues: () => {},
  });
}
