/**
 * Topology: the graph of sources, processors and sinks (Kafka's Processor API), the stores the
 * processors use, and the metadata a runtime needs to run it: the sub-topologies (connected parts,
 * one task each per input partition), their topics, the repartition and changelog topics, the
 * global stores and the topics that must be co-partitioned.
 */
import type { Serde } from '../serdes.js';
import type { Headers, ProcessorSupplier } from '../processor/api.js';
import type { StoreDefinition, KeyValueStoreBuilder } from '../state/stores.js';
import {
  compareNames,
  sortNodes,
  TopologyDescription,
  type DescribedGlobalStore,
  type DescribedNode,
  type DescribedSubtopology,
} from './description.js';

/** Event time of a consumed record; Kafka's default reads the record's own timestamp. */
export type TimestampExtractor = (record: {
  topic: string;
  partition: number;
  offset: number;
  key: unknown;
  value: unknown;
  timestamp: number;
}, partitionTime: number) => number;

export interface RecordContext {
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly offset: number | undefined;
  readonly timestamp: number;
  readonly headers: Headers;
}

export type TopicNameExtractor<K, V> = (key: K, value: V, context: RecordContext) => string;

/** Picks the partition of an output record; undefined leaves it to the producer's default (murmur2 of the key). */
export type StreamPartitioner<K, V> = (topic: string, key: K, value: V, numPartitions: number) => number | undefined;

export interface SourceDefinition {
  readonly kind: 'source';
  readonly name: string;
  readonly topics: readonly string[] | undefined;
  readonly pattern: RegExp | undefined;
  readonly keySerde: Serde<any> | undefined;
  readonly valueSerde: Serde<any> | undefined;
  readonly timestampExtractor: TimestampExtractor | undefined;
}

export interface ProcessorDefinition {
  readonly kind: 'processor';
  readonly name: string;
  readonly supplier: ProcessorSupplier<any, any, any, any>;
  readonly parents: string[];
  readonly stores: Set<string>;
}

export interface SinkDefinition {
  readonly kind: 'sink';
  readonly name: string;
  readonly topic: string | TopicNameExtractor<any, any>;
  readonly parents: string[];
  readonly keySerde: Serde<any> | undefined;
  readonly valueSerde: Serde<any> | undefined;
  readonly partitioner: StreamPartitioner<any, any> | undefined;
}

export type NodeDefinition = SourceDefinition | ProcessorDefinition | SinkDefinition;

export interface InternalTopic {
  /** The name without the application id prefix, as describe() prints it. */
  readonly name: string;
  readonly partitions: number | undefined;
}

export interface SubtopologyInfo {
  readonly id: number;
  /** A global store's sub-topology: read by every instance in full, never split into tasks. */
  readonly global: boolean;
  readonly nodes: readonly string[];
  /** Every topic read, repartition topics included, with the application id prefix on internal ones. */
  readonly sourceTopics: readonly string[];
  readonly sourcePatterns: readonly RegExp[];
  readonly repartitionSourceTopics: readonly InternalTopic[];
  readonly sinkTopics: readonly string[];
  readonly stores: readonly string[];
}

export interface StoreInfo {
  readonly name: string;
  readonly global: boolean;
  /** `<application.id>-<store>-changelog`; absent when logging is off or the store is global (its topic is its log). */
  readonly changelogTopic: string | undefined;
  readonly persistent: boolean | undefined;
  readonly subtopology: number | undefined;
}

export interface TopologyMetadata {
  readonly applicationId: string;
  readonly subtopologies: readonly SubtopologyInfo[];
  /** Prefixed names; partitions when an operator fixed them (`repartition(Repartitioned.numberOfPartitions)`). */
  readonly repartitionTopics: readonly InternalTopic[];
  readonly stores: readonly StoreInfo[];
  /** Groups of topics (prefixed) whose partitions must line up one to one (joins). */
  readonly copartitionGroups: readonly (readonly string[])[];
}

export class TopologyError extends Error {
  override name = 'TopologyError';
}

/** Union-find over node names: nodes linked by an edge or a shared store end in one sub-topology. */
class NodeGrouper {
  private readonly parent = new Map<string, string>();

  add(name: string): void {
    if (!this.parent.has(name)) this.parent.set(name, name);
  }

  root(name: string): string {
    let current = name;
    while (this.parent.get(current) !== current) current = this.parent.get(current)!;
    this.parent.set(name, current);
    return current;
  }

  unite(a: string, others: Iterable<string>): void {
    for (const b of others) {
      const ra = this.root(a);
      const rb = this.root(b);
      if (ra !== rb) this.parent.set(rb, ra);
    }
  }
}

export class Topology {
  /** @internal */ readonly nodes = new Map<string, NodeDefinition>();
  /** @internal */ readonly stores = new Map<string, StoreDefinition>();
  /** @internal */ readonly globalStoreNames = new Set<string>();
  /** @internal */ readonly globalSourceNames = new Set<string>();
  /** @internal */ readonly internalTopics = new Map<string, InternalTopic>();
  /** @internal */ readonly copartitionGroups: string[][] = [];
  private readonly storeUsers = new Map<string, Set<string>>();
  private readonly grouper = new NodeGrouper();

  private addNode(node: NodeDefinition): void {
    if (this.nodes.has(node.name)) throw new TopologyError(`Processor ${node.name} is already added.`);
    if (node.kind !== 'source') {
      if (node.parents.length === 0) throw new TopologyError(`${node.name} needs at least one parent`);
      for (const parent of node.parents) {
        const found = this.nodes.get(parent);
        if (!found) throw new TopologyError(`Parent processor ${parent} is not added yet for ${node.name}.`);
        if (found.kind === 'sink') throw new TopologyError(`Sink ${parent} cannot be used a parent.`);
      }
    }
    this.nodes.set(node.name, node);
    this.grouper.add(node.name);
    if (node.kind !== 'source') this.grouper.unite(node.name, node.parents);
  }

  addSource(
    name: string,
    topics: string | readonly string[] | RegExp,
    options: { keySerde?: Serde<any>; valueSerde?: Serde<any>; timestampExtractor?: TimestampExtractor } = {},
  ): this {
    const pattern = topics instanceof RegExp ? topics : undefined;
    const list = pattern ? undefined : typeof topics === 'string' ? [topics] : [...(topics as readonly string[])];
    if (list) {
      for (const topic of list) {
        for (const other of this.nodes.values()) {
          if (other.kind === 'source' && other.topics?.includes(topic)) {
            throw new TopologyError(`Topic ${topic} has already been registered by another source.`);
          }
        }
      }
    }
    this.addNode({
      kind: 'source',
      name,
      topics: list,
      pattern,
      keySerde: options.keySerde,
      valueSerde: options.valueSerde,
      timestampExtractor: options.timestampExtractor,
    });
    return this;
  }

  addProcessor(name: string, supplier: ProcessorSupplier<any, any, any, any>, ...parents: string[]): this {
    this.addNode({ kind: 'processor', name, supplier, parents, stores: new Set() });
    return this;
  }

  addSink(
    name: string,
    topic: string | TopicNameExtractor<any, any>,
    options: { keySerde?: Serde<any>; valueSerde?: Serde<any>; partitioner?: StreamPartitioner<any, any> },
    ...parents: string[]
  ): this {
    this.addNode({ kind: 'sink', name, topic, parents, keySerde: options.keySerde, valueSerde: options.valueSerde, partitioner: options.partitioner });
    return this;
  }

  addStateStore(store: StoreDefinition<any, any> | KeyValueStoreBuilder<any, any>, ...processorNames: string[]): this {
    const definition = 'build' in store ? store.build() : store;
    if (this.stores.has(definition.name)) throw new TopologyError(`StateStore ${definition.name} is already added.`);
    this.stores.set(definition.name, definition);
    for (const processor of processorNames) this.connect(processor, definition.name);
    return this;
  }

  connectProcessorAndStateStores(processorName: string, ...storeNames: string[]): this {
    for (const store of storeNames) this.connect(processorName, store);
    return this;
  }

  /** @internal Links a processor to a store: both end in the same sub-topology. */
  connect(processorName: string, storeName: string): void {
    const node = this.nodes.get(processorName);
    if (!node || node.kind !== 'processor') throw new TopologyError(`Processor ${processorName} is not added yet.`);
    if (!this.stores.has(storeName)) throw new TopologyError(`StateStore ${storeName} is not added yet.`);
    node.stores.add(storeName);
    const users = this.storeUsers.get(storeName) ?? new Set<string>();
    this.grouper.unite(processorName, users);
    users.add(processorName);
    this.storeUsers.set(storeName, users);
  }

  /** A store filled from `topic` on every instance, read-only to other processors (Kafka's addGlobalStore). */
  addGlobalStore(
    store: StoreDefinition<any, any>,
    sourceName: string,
    topic: string,
    options: { keySerde?: Serde<any>; valueSerde?: Serde<any>; timestampExtractor?: TimestampExtractor },
    processorName: string,
    supplier: ProcessorSupplier<any, any, any, any>,
  ): this {
    this.addSource(sourceName, topic, options);
    this.addProcessor(processorName, supplier, sourceName);
    // A global store's changelog is its source topic.
    this.addStateStore({ ...store, loggingEnabled: false }, processorName);
    this.globalStoreNames.add(store.name);
    this.globalSourceNames.add(sourceName);
    return this;
  }

  /** @internal Marks a topic as a repartition topic this topology owns (named `<app>-<name>`). */
  addRepartitionTopic(name: string, partitions?: number): void {
    this.internalTopics.set(name, { name, partitions });
  }

  /** @internal Topics (raw names) that must have equal partition counts. */
  addCopartitionGroup(topics: readonly string[]): void {
    this.copartitionGroups.push([...new Set(topics)].sort());
  }

  private children(name: string): string[] {
    const out: string[] = [];
    for (const node of this.nodes.values()) if (node.kind !== 'source' && node.parents.includes(name)) out.push(node.name);
    return out;
  }

  /** @internal Children of each node, in the order they were added (the order records are forwarded in). */
  childrenOf(name: string): string[] {
    return this.children(name);
  }

  /** Groups the nodes into sub-topologies, numbered as Kafka numbers them: by sorted source names, then sorted other names. */
  groups(): { id: number; nodes: string[]; global: boolean }[] {
    const sources = [...this.nodes.values()].filter((n) => n.kind === 'source').map((n) => n.name).sort(compareNames);
    const others = [...this.nodes.values()].filter((n) => n.kind !== 'source').map((n) => n.name).sort(compareNames);
    const byRoot = new Map<string, { id: number; nodes: string[]; global: boolean }>();
    const groups: { id: number; nodes: string[]; global: boolean }[] = [];
    for (const name of [...sources, ...others]) {
      const root = this.grouper.root(name);
      let group = byRoot.get(root);
      if (!group) {
        group = { id: groups.length, nodes: [], global: false };
        byRoot.set(root, group);
        groups.push(group);
      }
      group.nodes.push(name);
      if (this.globalSourceNames.has(name)) group.global = true;
    }
    return groups;
  }

  private describeNode(name: string): DescribedNode {
    const node = this.nodes.get(name)!;
    const successors = this.children(name);
    const predecessors = node.kind === 'source' ? [] : [...node.parents];
    switch (node.kind) {
      case 'source':
        return node.pattern
          ? { kind: 'source', name, pattern: node.pattern, successors, predecessors }
          : { kind: 'source', name, topics: [...(node.topics ?? [])].sort(compareNames), successors, predecessors };
      case 'processor':
        return { kind: 'processor', name, stores: [...node.stores].sort(compareNames), successors, predecessors };
      case 'sink':
        return typeof node.topic === 'string'
          ? { kind: 'sink', name, topic: node.topic, successors, predecessors }
          : { kind: 'sink', name, extractor: node.topic.name || 'anonymous', successors, predecessors };
    }
  }

  describe(): TopologyDescription {
    const subtopologies: DescribedSubtopology[] = [];
    const globalStores: DescribedGlobalStore[] = [];
    for (const group of this.groups()) {
      const described = group.nodes.map((n) => this.describeNode(n));
      const order = sortNodes(described);
      const rank = new Map(order.map((n, i) => [n.name, i]));
      const byRank = (names: readonly string[]) => [...names].sort((a, b) => rank.get(a)! - rank.get(b)!);
      const nodes = order.map((n) => ({ ...n, successors: byRank(n.successors), predecessors: byRank(n.predecessors) }));
      if (group.global) {
        globalStores.push({ id: group.id, source: nodes.find((n) => n.kind === 'source')!, processor: nodes.find((n) => n.kind === 'processor')! });
      } else {
        subtopologies.push({ id: group.id, nodes });
      }
    }
    return new TopologyDescription(subtopologies, globalStores);
  }

  /** The name a topic has on the cluster: internal topics carry the application id. */
  static resolveTopic(topology: Topology, applicationId: string, topic: string): string {
    return topology.internalTopics.has(topic) ? `${applicationId}-${topic}` : topic;
  }

  /** Everything a runtime needs to create topics, subscribe and assign tasks. */
  metadata(applicationId: string): TopologyMetadata {
    const resolve = (topic: string) => Topology.resolveTopic(this, applicationId, topic);
    const subtopologies: SubtopologyInfo[] = this.groups().map((group) => {
      const sourceTopics: string[] = [];
      const sourcePatterns: RegExp[] = [];
      const repartitionSourceTopics: InternalTopic[] = [];
      const sinkTopics: string[] = [];
      const stores = new Set<string>();
      for (const name of group.nodes) {
        const node = this.nodes.get(name)!;
        if (node.kind === 'source') {
          if (node.pattern) sourcePatterns.push(node.pattern);
          for (const topic of node.topics ?? []) {
            sourceTopics.push(resolve(topic));
            const internal = this.internalTopics.get(topic);
            if (internal) repartitionSourceTopics.push({ name: resolve(topic), partitions: internal.partitions });
          }
        } else if (node.kind === 'processor') {
          for (const store of node.stores) stores.add(store);
        } else if (typeof node.topic === 'string') {
          sinkTopics.push(resolve(node.topic));
        }
      }
      return {
        id: group.id,
        global: group.global,
        nodes: group.nodes,
        sourceTopics: sourceTopics.sort(compareNames),
        sourcePatterns,
        repartitionSourceTopics,
        sinkTopics: [...new Set(sinkTopics)].sort(compareNames),
        stores: [...stores].sort(compareNames),
      };
    });
    const storeInfo: StoreInfo[] = [...this.stores.values()].map((store) => {
      const global = this.globalStoreNames.has(store.name);
      return {
        name: store.name,
        global,
        changelogTopic: store.loggingEnabled && !global ? `${applicationId}-${store.name}-changelog` : undefined,
        persistent: store.supplier?.persistent,
        subtopology: subtopologies.find((s) => s.stores.includes(store.name))?.id,
      };
    });
    return {
      applicationId,
      subtopologies,
      repartitionTopics: [...this.internalTopics.values()].map((t) => ({ name: resolve(t.name), partitions: t.partitions })),
      stores: storeInfo,
      copartitionGroups: this.copartitionGroups.map((g) => g.map(resolve)),
    };
  }
}
