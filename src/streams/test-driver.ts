/**
 * TopologyTestDriver: runs a topology in this process, with no broker, for unit tests (Kafka's
 * class of the same name). Every topic has one partition; each sub-topology is one task; records
 * written to a repartition topic are read back by the task that reads it before pipeInput
 * resolves; stores are in memory; every input record is followed by a commit, as in Kafka's
 * driver. Output records (changelog topics included) wait in per-topic queues for output topics.
 */
import { inMemoryBytesStoreSupplier } from './state/in-memory-bytes-store.js';
import { parseStreamsConfig, type StreamsProperties } from './config.js';
import type { Serde } from './serdes.js';
import type { Headers } from './processor/api.js';
import { StreamTask, type OutputRecord } from './processor/task.js';
import type { Topology } from './topology/topology.js';
import type { SessionStore, WindowStore } from './state/window-store.js';
import {
  plainValues,
  type KeyValue,
  type KeyValueStore,
  type ReadOnlyKeyValueStore,
  type TimestampedKeyValueStore,
} from './state/key-value-store.js';

export interface TestRecord<K, V> {
  readonly key: K | null;
  readonly value: V | null;
  readonly timestamp: number;
  readonly headers: Headers;
}

interface QueuedRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly timestamp: number;
  readonly headers: Headers;
}

export class TopologyTestDriver {
  private readonly applicationId: string;
  private readonly tasks: StreamTask[] = [];
  private readonly globalTasks: StreamTask[] = [];
  private readonly taskByTopic = new Map<string, StreamTask>();
  private readonly globalStores = new Map<string, unknown>();
  private readonly outputs = new Map<string, QueuedRecord[]>();
  private readonly offsets = new Map<string, number>();
  /** Records written to repartition topics, waiting to be read by their task. */
  private readonly internalQueue: { topic: string; record: QueuedRecord }[] = [];
  private readonly internalTopics: Set<string>;
  private wallClockMs: number;
  private readonly ready: Promise<void>;
  private readonly config;

  constructor(
    private readonly topology: Topology,
    props: StreamsProperties = {},
    initialWallClockMs: number = Date.now(),
  ) {
    this.config = parseStreamsConfig({ 'application.id': 'topology-test-driver', ...props }, { requireBootstrap: false });
    this.applicationId = this.config.applicationId;
    this.wallClockMs = initialWallClockMs;
    const metadata = topology.metadata(this.applicationId);
    this.internalTopics = new Set(metadata.repartitionTopics.map((t) => t.name));
    this.ready = this.start();
    // A failed start is reported by the first call that awaits it.
    this.ready.catch(() => {});
  }

  private async start(): Promise<void> {
    const metadata = this.topology.metadata(this.applicationId);
    const common = {
      topology: this.topology,
      partition: 0,
      applicationId: this.applicationId,
      collector: { send: (record: OutputRecord) => this.collect(record) },
      changelog: {
        logChange: (store: string, key: Uint8Array, value: Uint8Array | null, timestamp: number) =>
          this.capture(`${this.applicationId}-${store}-changelog`, { key, value, timestamp, headers: [] }),
      },
      defaultStoreSupplier: (definition: { name: string }) => inMemoryBytesStoreSupplier(definition.name),
      defaultKeySerde: this.config.defaultKeySerde,
      defaultValueSerde: this.config.defaultValueSerde,
      globalStores: this.globalStores,
      wallClock: () => this.wallClockMs,
      defaultTimestampExtractor: this.config.defaultTimestampExtractor,
    };
    // Global tasks first: the other tasks' processors read their stores.
    for (const subtopology of metadata.subtopologies.filter((s) => s.global)) {
      const task = new StreamTask({ ...common, subtopology });
      await task.initialize();
      for (const store of subtopology.stores) this.globalStores.set(store, task.stateStore(store));
      for (const topic of subtopology.sourceTopics) this.taskByTopic.set(topic, task);
      this.globalTasks.push(task);
    }
    for (const subtopology of metadata.subtopologies.filter((s) => !s.global)) {
      const task = new StreamTask({ ...common, subtopology });
      await task.initialize();
      for (const topic of subtopology.sourceTopics) this.taskByTopic.set(topic, task);
      this.tasks.push(task);
    }
  }

  private capture(topic: string, record: QueuedRecord): void {
    const queue = this.outputs.get(topic) ?? [];
    queue.push(record);
    this.outputs.set(topic, queue);
  }

  private collect(record: OutputRecord): void {
    const queued = { key: record.key, value: record.value, timestamp: record.timestamp, headers: record.headers };
    this.capture(record.topic, queued);
    if (this.internalTopics.has(record.topic)) this.internalQueue.push({ topic: record.topic, record: queued });
  }

  private taskFor(topic: string): StreamTask | undefined {
    const direct = this.taskByTopic.get(topic);
    if (direct) return direct;
    return this.tasks.find((task) => task.subtopology.sourcePatterns.some((pattern) => pattern.test(topic)));
  }

  private nextOffset(topic: string): number {
    const offset = this.offsets.get(topic) ?? 0;
    this.offsets.set(topic, offset + 1);
    return offset;
  }

  /** Feeds one record (already serialized) to the task reading `topic`, then everything it sent to repartition topics. */
  async pipeRaw(topic: string, record: QueuedRecord): Promise<void> {
    await this.ready;
    const task = this.taskFor(topic);
    if (!task) throw new Error(`Unknown topic: ${topic}`);
    await this.processOne(task, topic, record);
    while (this.internalQueue.length > 0) {
      const next = this.internalQueue.shift()!;
      const reader = this.taskFor(next.topic);
      if (reader) await this.processOne(reader, next.topic, next.record);
    }
  }

  private async processOne(task: StreamTask, topic: string, record: QueuedRecord): Promise<void> {
    await task.process(topic, 0, this.nextOffset(topic), record.timestamp, record.key, record.value, record.headers);
    if (!this.globalTasks.includes(task)) await task.punctuate('STREAM_TIME');
    await task.commit();
  }

  createInputTopic<K, V>(
    topic: string,
    keySerde: Serde<K>,
    valueSerde: Serde<V>,
    startTimestampMs: number = this.wallClockMs,
    autoAdvanceMs = 0,
  ): TestInputTopic<K, V> {
    return new TestInputTopic(this, topic, keySerde, valueSerde, startTimestampMs, autoAdvanceMs);
  }

  createOutputTopic<K, V>(topic: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(this, topic, keySerde, valueSerde);
  }

  /** @internal */
  takeOutput(topic: string): QueuedRecord | undefined {
    return this.outputs.get(topic)?.shift();
  }

  /** @internal */
  outputSize(topic: string): number {
    return this.outputs.get(topic)?.length ?? 0;
  }

  /** Topics that received output so far (changelog and repartition topics included). */
  producedTopicNames(): string[] {
    return [...this.outputs.keys()];
  }

  /** Moves wall-clock time on and runs the wall-clock punctuations that became due. */
  async advanceWallClockTime(ms: number): Promise<void> {
    await this.ready;
    this.wallClockMs += ms;
    for (const task of this.tasks) {
      await task.punctuate('WALL_CLOCK_TIME', this.wallClockMs);
      await task.commit();
    }
    while (this.internalQueue.length > 0) {
      const next = this.internalQueue.shift()!;
      const reader = this.taskFor(next.topic);
      if (reader) await this.processOne(reader, next.topic, next.record);
    }
  }

  private findStore<S>(name: string): S | undefined {
    for (const task of [...this.tasks, ...this.globalTasks]) {
      const store = task.stateStore<S>(name);
      if (store) return store;
    }
    return undefined;
  }

  /** A key-value store by name; a DSL store's values are given without their timestamps. */
  async getKeyValueStore<K, V>(name: string): Promise<ReadOnlyKeyValueStore<K, V> & Partial<KeyValueStore<K, V>>> {
    await this.ready;
    const store = this.findStore<KeyValueStore<K, V>>(name);
    if (!store) throw new Error(`no store named ${name}`);
    const definition = this.topology.stores.get(name);
    return definition?.timestamped ? plainValues(store as unknown as TimestampedKeyValueStore<K, V>) : store;
  }

  async getTimestampedKeyValueStore<K, V>(name: string): Promise<TimestampedKeyValueStore<K, V>> {
    await this.ready;
    const store = this.findStore<TimestampedKeyValueStore<K, V>>(name);
    if (!store || !this.topology.stores.get(name)?.timestamped) throw new Error(`no timestamped store named ${name}`);
    return store;
  }

  /** A window store by name; DSL window stores hold ValueAndTimestamp values. */
  async getWindowStore<K, V>(name: string): Promise<WindowStore<K, V>> {
    await this.ready;
    const store = this.topology.stores.get(name)?.kind === 'window' ? this.findStore<WindowStore<K, V>>(name) : undefined;
    if (!store) throw new Error(`no window store named ${name}`);
    return store;
  }

  async getSessionStore<K, V>(name: string): Promise<SessionStore<K, V>> {
    await this.ready;
    const store = this.topology.stores.get(name)?.kind === 'session' ? this.findStore<SessionStore<K, V>>(name) : undefined;
    if (!store) throw new Error(`no session store named ${name}`);
    return store;
  }

  getAllStateStoreNames(): string[] {
    return [...this.topology.stores.keys()];
  }

  async close(): Promise<void> {
    await this.ready.catch(() => {});
    for (const task of [...this.tasks, ...this.globalTasks]) await task.close();
  }
}

export class TestInputTopic<K, V> {
  private currentTime: number;

  /** @internal */
  constructor(
    private readonly driver: TopologyTestDriver,
    readonly name: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    startTimestampMs: number,
    private readonly autoAdvanceMs: number,
  ) {
    this.currentTime = startTimestampMs;
  }

  /** Moves this topic's clock (the timestamp of records piped without one). */
  advanceTime(ms: number): void {
    this.currentTime += ms;
  }

  async pipeInput(key: K | null, value: V | null, timestampMs?: number, headers: Headers = []): Promise<void> {
    let timestamp = timestampMs;
    if (timestamp === undefined) {
      timestamp = this.currentTime;
      this.currentTime += this.autoAdvanceMs;
    }
    await this.driver.pipeRaw(this.name, {
      key: key === null ? null : this.keySerde.serialize(this.name, key),
      value: value === null ? null : this.valueSerde.serialize(this.name, value),
      timestamp,
      headers,
    });
  }

  async pipeValueList(values: readonly (V | null)[]): Promise<void> {
    for (const value of values) await this.pipeInput(null, value);
  }

  async pipeKeyValueList(entries: readonly KeyValue<K | null, V | null>[]): Promise<void> {
    for (const entry of entries) await this.pipeInput(entry.key, entry.value);
  }
}

export class TestOutputTopic<K, V> {
  /** @internal */
  constructor(
    private readonly driver: TopologyTestDriver,
    readonly name: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  /** Reads the next record; throws when there is none (Kafka's NoSuchElementException). */
  readRecord(): TestRecord<K, V> {
    const record = this.driver.takeOutput(this.name);
    if (!record) throw new Error(`Empty topic: ${this.name}`);
    return {
      key: this.keySerde.deserialize(this.name, record.key),
      value: this.valueSerde.deserialize(this.name, record.value),
      timestamp: record.timestamp,
      headers: record.headers,
    };
  }

  readKeyValue(): KeyValue<K | null, V | null> {
    const record = this.readRecord();
    return { key: record.key, value: record.value };
  }

  readValue(): V | null {
    return this.readRecord().value;
  }

  readRecordsToList(): TestRecord<K, V>[] {
    const out: TestRecord<K, V>[] = [];
    while (!this.isEmpty()) out.push(this.readRecord());
    return out;
  }

  readKeyValuesToList(): KeyValue<K | null, V | null>[] {
    return this.readRecordsToList().map((r) => ({ key: r.key, value: r.value }));
  }

  readValuesToList(): (V | null)[] {
    return this.readRecordsToList().map((r) => r.value);
  }

  /** Every remaining record folded into a map: a later value for a key replaces the earlier, a null value removes the key. */
  readKeyValuesToMap(): Map<K, V> {
    const out = new Map<K, V>();
    for (const record of this.readRecordsToList()) {
      if (record.key === null) throw new Error('readKeyValuesToMap: a record has a null key');
      if (record.value === null) out.delete(record.key);
      else out.set(record.key, record.value);
    }
    return out;
  }

  getQueueSize(): number {
    return this.driver.outputSize(this.name);
  }

  isEmpty(): boolean {
    return this.getQueueSize() === 0;
  }
}
