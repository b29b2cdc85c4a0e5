// The distributed worker's status topic and offsets topic (Kafka Connect's
// KafkaStatusBackingStore and KafkaOffsetBackingStore):
//   status-connector-<name>  {"state", "trace", "worker_id", "generation"}
//   status-task-<name>-<i>   the same, for a task
//   status-topic-<topic>:connector-<name>  {"topic": {"name", "connector", "discoverTimestamp"}} (KIP-558)
// A status from an older group generation does not replace a newer one: a worker that has lost
// its work may still write once before it learns it. Source offsets are records keyed by the JSON
// [connector, partition] with the JSON offset as value, as in Kafka.
import type { TopicInfo } from '../../../client/admin-client.js';
import type { ConsumedRecord } from '../../../client/consumer.js';
import type { ConnectorState } from '../herder.js';
import { type OffsetEntry, type OffsetStore, type SourceOffset, type SourcePartition, offsetKey } from '../offset-store.js';
import { LogBackedStore, jsonBytes, parseJson } from './kafka-based-log.js';

export interface StatusRecord {
  readonly state: ConnectorState;
  readonly trace?: string;
  readonly workerId: string;
  readonly generation: number;
}

export class StatusStore extends LogBackedStore {
  readonly connectors = new Map<string, StatusRecord>();
  /** Task statuses by "<connector>-<task>". */
  readonly tasks = new Map<string, StatusRecord>();
  /** Active topics per connector. */
  readonly topics = new Map<string, Set<string>>();


  putConnector(name: string, status: StatusRecord): Promise<void> {
    this.connectors.set(name, status);
    return this.log.send(Buffer.from(`status-connector-${name}`), statusBytes(status));
  }

  putTask(name: string, task: number, status: StatusRecord): Promise<void> {
    this.tasks.set(`${name}-${task}`, status);
    return this.log.send(Buffer.from(`status-task-${name}-${task}`), statusBytes(status));
  }

  async removeConnector(name: string, taskCount: number): Promise<void> {
    await this.log.send(Buffer.from(`status-connector-${name}`), null);
    for (let task = 0; task < taskCount; task++) await this.log.send(Buffer.from(`status-task-${name}-${task}`), null);
    for (const topic of this.topics.get(name) ?? []) await this.log.send(Buffer.from(`status-topic-${topic}:connector-${name}`), null);
  }

  async putTopic(name: string, topic: string): Promise<void> {
    if (this.topics.get(name)?.has(topic)) return;
    this.topicsOf(name).add(topic);
    await this.log.send(Buffer.from(`status-topic-${topic}:connector-${name}`), jsonBytes({ topic: { name: topic, connector: name, task: 0, discoverTimestamp: Date.now() } }));
  }

  async resetTopics(name: string): Promise<void> {
    for (const topic of this.topics.get(name) ?? []) await this.log.send(Buffer.from(`status-topic-${topic}:connector-${name}`), null);
    this.topics.delete(name);
  }

  private topicsOf(name: string): Set<string> {
    let topics = this.topics.get(name);
    if (!topics) {
      topics = new Set();
      this.topics.set(name, topics);
    }
    return topics;
  }

  protected apply(record: ConsumedRecord): void {
    const recordKey = record.key?.toString('utf8') ?? '';
    const value = parseJson(record.value) as Record<string, unknown> | null | undefined;
    if (value === undefined) return;
    if (recordKey.startsWith('status-connector-')) applyStatus(this.connectors, recordKey.slice('status-connector-'.length), value);
    else if (recordKey.startsWith('status-task-')) applyStatus(this.tasks, recordKey.slice('status-task-'.length), value);
    else if (recordKey.startsWith('status-topic-')) {
      const rest = recordKey.slice('status-topic-'.length);
      const split = rest.lastIndexOf(':connector-');
      if (split < 0) return;
      const topic = rest.slice(0, split);
      const connector = rest.slice(split + ':connector-'.length);
      if (value === null) this.topics.get(connector)?.delete(topic);
      else this.topicsOf(connector).add(topic);
    }
  }
}

/** An offset as its record in the offsets topic: key [connector, partition], value the offset (null deletes). */
export function offsetRecord({ connector, partition, offset }: OffsetEntry): { key: Buffer; value: Buffer | null } {
  return { key: Buffer.from(offsetKey(connector, partition)), value: offset === null ? null : jsonBytes(offset) };
}

function statusBytes(status: StatusRecord): Buffer {
  return jsonBytes({ state: status.state, trace: status.trace ?? null, worker_id: status.workerId, generation: status.generation });
}

function applyStatus(target: Map<string, StatusRecord>, id: string, value: Record<string, unknown> | null): void {
  if (value === null) {
    target.delete(id);
    return;
  }
  const generation = Number(value.generation ?? -1);
  const current = target.get(id);
  // A status from an older generation is stale unless it comes from the same worker.
  if (current && generation < current.generation && value.worker_id !== current.workerId) return;
  target.set(id, {
    state: String(value.state) as ConnectorState,
    ...(typeof value.trace === 'string' ? { trace: value.trace } : {}),
    workerId: String(value.worker_id ?? ''),
    generation,
  });
}

/** Source offsets in the offsets topic, readable by every worker. */
export class KafkaOffsetStore extends LogBackedStore implements OffsetStore {
  private readonly offsets = new Map<string, { connector: string; partition: SourcePartition; offset: SourceOffset }>();


  get(connector: string, partition: SourcePartition): SourceOffset | null {
    return this.offsets.get(offsetKey(connector, partition))?.offset ?? null;
  }

  connectorOffsets(connector: string): { partition: SourcePartition; offset: SourceOffset }[] {
    return [...this.offsets.values()].filter((entry) => entry.connector === connector).map(({ partition, offset }) => ({ partition, offset }));
  }

  async set(entries: readonly OffsetEntry[]): Promise<void> {
    await Promise.all(entries.map(async (entry) => {
      const record = offsetRecord(entry);
      await this.log.send(record.key, record.value);
      this.applyCommitted([entry]);
    }));
  }

  /** The offsets topic, for a source task's transactional producer to write offsets with its records. */
  get topic(): TopicInfo {
    return this.log.topicInfo;
  }

  /** Offsets another writer (a source task's transaction) has committed to the topic. */
  applyCommitted(entries: readonly OffsetEntry[]): void {
    for (const { connector, partition, offset } of entries) {
      const key = offsetKey(connector, partition);
      if (offset === null) this.offsets.delete(key);
      else this.offsets.set(key, { connector, partition, offset });
    }
  }

  protected apply(record: ConsumedRecord): void {
    const parsedKey = parseJson(record.key) as [string, SourcePartition] | undefined;
    if (!Array.isArray(parsedKey) || typeof parsedKey[0] !== 'string') return;
    const canonical = offsetKey(parsedKey[0], parsedKey[1]);
    if (record.value === null) {
      this.offsets.delete(canonical);
      return;
    }
    const offset = parseJson(record.value) as SourceOffset | undefined;
    if (offset && typeof offset === 'object') this.offsets.set(canonical, { connector: parsedKey[0], partition: parsedKey[1], offset });
  }
}
