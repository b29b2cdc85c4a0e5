/**
 * StreamTask: one sub-topology run for one input partition. The runner (the test driver, or the
 * live runtime) hands it records one at a time; it sends output to a RecordCollector and reports
 * every store write to a ChangelogSink, so the runner decides how records reach Kafka (plain or in
 * a transaction) and when to commit. The task keeps stream time (the largest event time seen) and
 * runs punctuations when asked.
 */
import type { KeyValueBytesStore, KeyValueBytesStoreSupplier } from '../state/bytes-store.js';
import type { ChangelogSink } from '../state/key-value-store.js';
import { encodeTimestamped, keyValueStore, plainCodec, timestampedCodec, timestampedKeyValueStore } from '../state/key-value-store.js';
import { TypedSessionStore, TypedWindowStore } from '../state/window-store.js';
import type { StoreDefinition } from '../state/stores.js';
import { hasDefaults, type Serde } from '../serdes.js';
import {
  Topology,
  type NodeDefinition,
  type SinkDefinition,
  type SourceDefinition,
  type SubtopologyInfo,
  type TimestampExtractor,
} from '../topology/topology.js';
import type {
  Cancellable,
  Headers,
  Processor,
  ProcessorContext,
  PunctuationType,
  Punctuator,
  RecordMetadata,
  StreamRecord,
  TaskId,
} from './api.js';

/** One record a task produces. `partitioner` picks a partition once the runner knows the topic's partition count. */
export interface OutputRecord {
  readonly topic: string;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly timestamp: number;
  readonly headers: Headers;
  readonly partition?: number;
  readonly partitioner?: (numPartitions: number) => number | undefined;
}

export interface RecordCollector {
  send(record: OutputRecord): void | Promise<void>;
}

export interface TaskOptions {
  readonly topology: Topology;
  readonly subtopology: SubtopologyInfo;
  readonly partition: number;
  readonly applicationId: string;
  readonly collector: RecordCollector;
  readonly changelog: ChangelogSink;
  /** The bytes store for a store definition that names no supplier (in memory, or the runtime's persistent kind). */
  readonly defaultStoreSupplier: (definition: StoreDefinition) => KeyValueBytesStoreSupplier;
  readonly defaultKeySerde?: Serde<unknown>;
  readonly defaultValueSerde?: Serde<unknown>;
  /** The task's state directory, for persistent stores. */
  readonly stateDirectory?: string;
  /** Global stores, opened by the runner's global task, that this task's processors may read. */
  readonly globalStores?: ReadonlyMap<string, unknown>;
  readonly wallClock?: () => number;
  /** default.timestamp.extractor: for sources that name none (absent: the record's timestamp). */
  readonly defaultTimestampExtractor?: TimestampExtractor;
}

export class StreamsError extends Error {
  override name = 'StreamsError';
}

interface Schedule {
  readonly type: PunctuationType;
  readonly intervalMs: number;
  readonly punctuator: Punctuator;
  nextMs: number;
  cancelled: boolean;
  readonly node: RuntimeNode;
}

interface RuntimeNode {
  readonly definition: NodeDefinition;
  readonly children: RuntimeNode[];
  processor: Processor<unknown, unknown> | undefined;
  context: ProcessorContext | undefined;
}

/** The tasks' view of a record in flight: what `recordMetadata()` and sinks read. */
interface CurrentRecord {
  metadata: RecordMetadata | undefined;
  timestamp: number;
  headers: Headers;
}

export class StreamTask {
  readonly id: TaskId;
  readonly subtopology: SubtopologyInfo;
  private readonly nodes = new Map<string, RuntimeNode>();
  private readonly sourceByTopic = new Map<string, RuntimeNode>();
  private readonly patternSources: { pattern: RegExp; node: RuntimeNode }[] = [];
  private readonly bytesStores = new Map<string, KeyValueBytesStore>();
  private readonly typedStores = new Map<string, unknown>();
  private readonly schedules: Schedule[] = [];
  private current: CurrentRecord = { metadata: undefined, timestamp: 0, headers: [] };
  private streamTime = Number.NEGATIVE_INFINITY;
  private commitAsked = false;
  private initialized = false;
  private started = false;
  /** Serdes resolved against the defaults once per node, not per record. */
  private readonly resolvedSerdes = new Map<string, { key: Serde<unknown>; value: Serde<unknown> }>();
  private closed = false;

  constructor(private readonly options: TaskOptions) {
    this.subtopology = options.subtopology;
    this.id = { subtopology: options.subtopology.id, partition: options.partition };
  }

  get streamTimeMs(): number {
    return this.streamTime;
  }

  /** Whether a processor called `context.commit()` since the last commit. */
  get commitRequested(): boolean {
    return this.commitAsked;
  }

  get storeNames(): readonly string[] {
    return this.subtopology.stores;
  }

  private resolveTopic(topic: string): string {
    return Topology.resolveTopic(this.options.topology, this.options.applicationId, topic);
  }

  /** Opens the stores and links the nodes. Call once; then restore() the stores; then start() (or just process). */
  async initialize(): Promise<void> {
    if (this.initialized) return;
    const { topology } = this.options;
    for (const storeName of this.subtopology.stores) await this.openStore(topology.stores.get(storeName)!);
    for (const name of this.subtopology.nodes) {
      this.nodes.set(name, { definition: topology.nodes.get(name)!, children: [], processor: undefined, context: undefined });
    }
    for (const node of this.nodes.values()) {
      for (const child of topology.childrenOf(node.definition.name)) {
        const childNode = this.nodes.get(child);
        if (childNode) node.children.push(childNode);
      }
      const def = node.definition;
      if (def.kind === 'source') {
        for (const topic of def.topics ?? []) this.sourceByTopic.set(this.resolveTopic(topic), node);
        if (def.pattern) this.patternSources.push({ pattern: def.pattern, node });
      }
    }
    for (const node of this.nodes.values()) node.context = this.contextFor(node);
    this.initialized = true;
  }

  /**
   * Creates and initializes the processors; after restore(), before the first record (process and
   * punctuate call it when needed). Processors may read their stores in init, so the stores must
   * hold their restored state by then, as in Kafka (restoring, then running).
   */
  async start(): Promise<void> {
    if (this.started) return;
    if (!this.initialized) throw new StreamsError('initialize() the task before start()');
    this.started = true;
    // Children first, as Kafka does, so a parent's init may forward.
    for (const name of [...this.subtopology.nodes].reverse()) {
      const node = this.nodes.get(name)!;
      if (node.definition.kind === 'processor') {
        node.processor = node.definition.supplier();
        await node.processor.init?.(node.context!);
      }
    }
  }

  private async openStore(definition: StoreDefinition): Promise<void> {
    const supplier = definition.supplier ?? this.options.defaultStoreSupplier(definition);
    const bytes = supplier.get(this.options.stateDirectory);
    await bytes.open();
    this.bytesStores.set(definition.name, bytes);
    const keySerde = this.serde(definition.keySerde as Serde<unknown> | undefined, 'key');
    const valueSerde = this.serde(definition.valueSerde as Serde<unknown> | undefined, 'value');
    const changelogTopic = `${this.options.applicationId}-${definition.name}-changelog`;
    const logging = definition.loggingEnabled
      ? { sink: this.options.changelog, currentTimestamp: () => this.current.timestamp }
      : undefined;
    const retention = definition.retentionMs ?? Number.POSITIVE_INFINITY;
    const codec = definition.timestamped ? timestampedCodec(valueSerde) : plainCodec(valueSerde);
    let typed: unknown;
    if (definition.kind === 'window') {
      typed = new TypedWindowStore(definition.name, bytes, keySerde, codec, changelogTopic, logging, retention, definition.retainDuplicates ?? false);
    } else if (definition.kind === 'session') {
      // A session's end is its timestamp: session stores keep plain values, as Kafka's do.
      typed = new TypedSessionStore(definition.name, bytes, keySerde, plainCodec(valueSerde), changelogTopic, logging, retention);
    } else {
      const make = definition.timestamped ? timestampedKeyValueStore : keyValueStore;
      typed = make(definition.name, bytes, keySerde, valueSerde, changelogTopic, logging);
    }
    this.typedStores.set(definition.name, typed);
  }

  private serdesOf(def: SourceDefinition | SinkDefinition): { key: Serde<unknown>; value: Serde<unknown> } {
    let serdes = this.resolvedSerdes.get(def.name);
    if (!serdes) {
      serdes = { key: this.serde(def.keySerde, 'key'), value: this.serde(def.valueSerde, 'value') };
      this.resolvedSerdes.set(def.name, serdes);
    }
    return serdes;
  }

  /** The serde an operator gave, or the app's default; wrapping serdes get the defaults here. */
  private serde(given: Serde<unknown> | undefined, which: 'key' | 'value'): Serde<unknown> {
    if (given === undefined) return this.defaultSerde(which);
    if (!hasDefaults(given)) return given;
    return given.withDefaults({ key: this.options.defaultKeySerde, value: this.options.defaultValueSerde });
  }

  private defaultSerde(which: 'key' | 'value'): Serde<unknown> {
    const serde = which === 'key' ? this.options.defaultKeySerde : this.options.defaultValueSerde;
    if (!serde) {
      throw new StreamsError(
        `no ${which} serde given and no default: pass one to the operator or set default.${which}.serde`,
      );
    }
    return serde;
  }

  /** The bytes store under a typed store, for the runner's restore and checkpoints. */
  bytesStore(name: string): KeyValueBytesStore | undefined {
    return this.bytesStores.get(name);
  }

  /** A typed store of this task (what processors get from `getStateStore`). */
  stateStore<S>(name: string): S | undefined {
    return this.typedStores.get(name) as S | undefined;
  }

  /**
   * Writes changelog records back into a store (restore on start, or after a rebalance): values as
   * they were logged; a timestamped store gets each record's timestamp back beside its value.
   */
  async restore(storeName: string, records: readonly { key: Uint8Array; value: Uint8Array | null; timestamp: number }[]): Promise<void> {
    const bytes = this.bytesStores.get(storeName);
    const definition = this.options.topology.stores.get(storeName);
    if (!bytes || !definition) throw new StreamsError(`task ${this.id.subtopology}_${this.id.partition} has no store ${storeName}`);
    // A processor may hold what it read from a store in init (a suppression buffer does): a task
    // restored after it ran (an active task kept as a standby) starts its processors afresh.
    if (this.started) await this.stopProcessors();
    await bytes.putAll(
      records.map((r) => ({
        key: r.key,
        value: r.value === null ? null : definition.timestamped && definition.kind !== 'session' ? encodeTimestamped(r.timestamp, r.value) : r.value,
      })),
    );
  }

  private contextFor(node: RuntimeNode): ProcessorContext {
    const task = this;
    return {
      applicationId: this.options.applicationId,
      taskId: this.id,
      async forward(record: StreamRecord<unknown, unknown>, childName?: string): Promise<void> {
        const previous = task.current;
        task.current = { metadata: previous.metadata, timestamp: record.timestamp, headers: record.headers };
        try {
          for (const child of node.children) {
            if (childName !== undefined && child.definition.name !== childName) continue;
            await task.deliver(child, record);
          }
        } finally {
          task.current = previous;
        }
      },
      getStateStore<S>(name: string): S {
        const def = node.definition;
        const own = def.kind === 'processor' && def.stores.has(name) ? task.typedStores.get(name) : undefined;
        const found = own ?? task.options.globalStores?.get(name);
        if (found === undefined) {
          throw new StreamsError(`Processor ${def.name} has no access to StateStore ${name} as the store is not connected to the processor`);
        }
        return found as S;
      },
      schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
        if (!(intervalMs >= 1)) throw new StreamsError(`punctuation interval must be at least 1 ms, not ${intervalMs}`);
        const start = type === 'STREAM_TIME' ? Math.max(task.streamTime, 0) : task.wallClock();
        const schedule: Schedule = { type, intervalMs, punctuator, nextMs: start + intervalMs, cancelled: false, node };
        task.schedules.push(schedule);
        return { cancel: () => void (schedule.cancelled = true) };
      },
      recordMetadata: () => task.current.metadata,
      currentStreamTimeMs: () => task.streamTime,
      currentSystemTimeMs: () => task.wallClock(),
      commit: () => void (task.commitAsked = true),
    };
  }

  private wallClock(): number {
    return (this.options.wallClock ?? Date.now)();
  }

  private async deliver(node: RuntimeNode, record: StreamRecord<unknown, unknown>): Promise<void> {
    const def = node.definition;
    if (def.kind === 'processor') await node.processor!.process(record);
    else if (def.kind === 'sink') await this.sink(def, record);
  }

  private async sink(def: SinkDefinition, record: StreamRecord<unknown, unknown>): Promise<void> {
    const metadata = this.current.metadata;
    const rawTopic =
      typeof def.topic === 'string'
        ? def.topic
        : def.topic(record.key, record.value, {
            topic: metadata?.topic,
            partition: metadata?.partition,
            offset: metadata?.offset,
            timestamp: record.timestamp,
            headers: record.headers,
          });
    const topic = this.resolveTopic(rawTopic);
    const { key: keySerde, value: valueSerde } = this.serdesOf(def);
    const key = keySerde.serialize(topic, record.key);
    const value = valueSerde.serialize(topic, record.value);
    const partitioner = def.partitioner;
    await this.options.collector.send({
      topic,
      key,
      value,
      timestamp: record.timestamp,
      headers: record.headers,
      ...(partitioner ? { partitioner: (n: number) => partitioner(topic, record.key, record.value, n) } : {}),
    });
  }

  private sourceFor(topic: string): RuntimeNode {
    const node = this.sourceByTopic.get(topic) ?? this.patternSources.find((p) => p.pattern.test(topic))?.node;
    if (!node) throw new StreamsError(`task ${this.id.subtopology}_${this.id.partition} reads no topic ${topic}`);
    return node;
  }

  /** Processes one input record through the sub-topology; resolves once every output and store write is done. */
  async process(
    topic: string,
    partition: number,
    offset: number,
    timestampMs: number,
    key: Uint8Array | null,
    value: Uint8Array | null,
    headers: Headers = [],
  ): Promise<void> {
    if (!this.initialized) throw new StreamsError('initialize() the task before process()');
    if (this.closed) throw new StreamsError('the task is closed');
    await this.start();
    const source = this.sourceFor(topic);
    const def = source.definition as SourceDefinition;
    const { key: keySerde, value: valueSerde } = this.serdesOf(def);
    const typedKey = keySerde.deserialize(topic, key);
    const typedValue = valueSerde.deserialize(topic, value);
    const partitionTime = Number.isFinite(this.streamTime) ? this.streamTime : -1;
    const extractor = def.timestampExtractor ?? this.options.defaultTimestampExtractor;
    const timestamp = extractor
      ? extractor({ topic, partition, offset, key: typedKey, value: typedValue, timestamp: timestampMs }, partitionTime)
      : timestampMs;
    // Kafka drops records with a negative event time (its default extractor logs and skips them).
    if (timestamp < 0) return;
    this.streamTime = Math.max(this.streamTime, timestamp);
    this.current = { metadata: { topic, partition, offset }, timestamp, headers };
    try {
      const record: StreamRecord<unknown, unknown> = { key: typedKey, value: typedValue, timestamp, headers };
      for (const child of source.children) await this.deliver(child, record);
    } finally {
      this.current = { metadata: undefined, timestamp, headers: [] };
    }
  }

  /** Runs the punctuations of `type` that are due at `nowMs` (stream time when omitted for STREAM_TIME); returns whether any ran. */
  async punctuate(type: PunctuationType, nowMs?: number): Promise<boolean> {
    await this.start();
    const now = nowMs ?? (type === 'STREAM_TIME' ? this.streamTime : this.wallClock());
    let ran = false;
    for (const schedule of [...this.schedules]) {
      if (schedule.cancelled || schedule.type !== type || now < schedule.nextMs) continue;
      // A late punctuation runs once, then the schedule moves past `now` (Kafka skips missed ones).
      while (schedule.nextMs <= now) schedule.nextMs += schedule.intervalMs;
      this.current = { metadata: undefined, timestamp: now, headers: [] };
      await schedule.punctuator(now);
      ran = true;
    }
    return ran;
  }

  /** Flushes the stores; the runner calls it before committing offsets (and the transaction). */
  async commit(): Promise<void> {
    for (const store of this.bytesStores.values()) await store.flush();
    this.commitAsked = false;
  }

  private async stopProcessors(): Promise<void> {
    this.started = false;
    this.schedules.length = 0;
    for (const node of this.nodes.values()) {
      await node.processor?.close?.();
      node.processor = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stopProcessors();
    for (const store of this.bytesStores.values()) {
      await store.flush();
      await store.close();
    }
  }
}
