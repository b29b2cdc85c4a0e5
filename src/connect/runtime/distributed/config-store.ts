// The distributed worker's connector configurations, in the config topic (one partition,
// compacted), with Kafka Connect's record keys and JSON values:
//   connector-<name>     {"properties": {...}}      null: the connector was deleted
//   task-<name>-<i>      {"properties": {...}}      a task's config, in effect once committed
//   commit-<name>        {"tasks": n}               tasks 0..n-1 written before it are the set
//   target-state-<name>  {"state": "STARTED" | "PAUSED" | "STOPPED"}
//   restart-connector-<name> {"include-tasks": b, "only-failed": b} (and "task": i for one task)
//   tasks-fencing-<name> {"task-count": n}         exactly-once sources: the producers of every
//                                                  task generation before it are fenced (KIP-618);
//                                                  Conveyor adds "generation", the config offset of
//                                                  the commit record it was written for
//   logger-cluster-<namespace> {"level": "DEBUG"}   a log level for every worker (KIP-976)
// Every worker reads the whole topic into a snapshot; listeners hear what changed.
//
// Under exactly-once source support (KIP-618) the leader's writes (connector and task configs,
// task counts, target states, restart requests) go through the leader's transactional producer
// (`privileged`), whose InitProducerId fenced every earlier leader's: a worker that still believes
// it leads, cut off from the group, can no longer write. The topic is then read read_committed.
import type { Logger } from '../../../base/logger.js';
import type { TopicInfo } from '../../../client/admin-client.js';
import type { ConsumedRecord } from '../../../client/consumer.js';
import { ConnectRestError } from '../herder.js';
import type { TargetState } from '../worker.js';
import type { WorkerKafka } from '../worker-kafka.js';
import { LogBackedStore, type TopicSettings, jsonBytes, parseJson } from './kafka-based-log.js';

export interface RestartRecord {
  readonly connector: string;
  readonly includeTasks: boolean;
  readonly onlyFailed: boolean;
  /** A single task to restart (Conveyor's addition for POST .../tasks/{id}/restart). */
  readonly task?: number;
}

export interface ConfigListener {
  connectorConfigChanged(name: string, removed: boolean): void;
  taskConfigsCommitted(name: string): void;
  targetStateChanged(name: string): void;
  restartRequested(request: RestartRecord): void;
  loggerLevelChanged(namespace: string, level: string): void;
}

/** One config record: its key and value (null: a tombstone). */
export interface ConfigRecord {
  readonly key: Buffer;
  readonly value: Buffer | null;
}

/** The leader's transactional writes to the config topic: all of `records` in one transaction, or none. */
export interface PrivilegedWriter {
  write(records: readonly ConfigRecord[]): Promise<void>;
}

export class ConfigStore extends LogBackedStore {
  /**
   * The leader's transactional writer, under exactly-once source support; while it is unset,
   * writes that need it are refused (`transactional`) or go out plain (without exactly-once support).
   */
  privileged: PrivilegedWriter | undefined;
  readonly connectors = new Map<string, Record<string, string>>();
  readonly targetStates = new Map<string, TargetState>();
  /** Committed task configs per connector. */
  readonly taskConfigs = new Map<string, Record<string, string>[]>();
  /** Exactly-once sources: the task count of the last fenced generation (tasks-fencing records). */
  readonly taskCountRecords = new Map<string, number>();
  /** Connectors whose task configs were committed after their last task count record. */
  private readonly pendingFencings = new Set<string>();
  /** The offset of each connector's last commit record: its task generation, the same on every worker. */
  private readonly generations = new Map<string, number>();
  /** Task configs written but not committed yet. */
  private readonly pendingTasks = new Map<string, Map<number, Record<string, string>>>();
  /** The offset after the last record read: a snapshot's version. */
  offset = 0;

  constructor(
    kafka: WorkerKafka,
    settings: TopicSettings,
    private readonly listener: ConfigListener,
    private readonly logger: Logger,
    /** Whether the leader's writes must be transactional (exactly.once.source.support=enabled). */
    private readonly transactional = false,
  ) {
    super(kafka, settings, logger);
  }

  /** The config topic's partitions, for the leader's transactional producer. */
  get topicInfo(): TopicInfo {
    return this.log.topicInfo;
  }

  /** Writes `records` as the leader: in one transaction when exactly-once support is on. */
  private async writeAsLeader(records: readonly ConfigRecord[]): Promise<void> {
    if (this.privileged !== undefined) return this.privileged.write(records);
    if (this.transactional) throw new ConnectRestError(409, 'This worker cannot write to the config topic now: it is not the leader of the group, or its transactional producer is not ready; the request can be retried');
    for (const record of records) await this.log.send(record.key, record.value, 0);
  }

  /** The connector's target state (STARTED when none was written). */
  targetState(name: string): TargetState {
    return this.targetStates.get(name) ?? 'STARTED';
  }

  /** Whether the connector's current task generation still needs its zombie fencing round. */
  pendingFencing(name: string): boolean {
    return this.pendingFencings.has(name);
  }

  /** The connector's task generation: changes with every committed set of task configs (-1: none yet). */
  taskGeneration(name: string): number {
    return this.generations.get(name) ?? -1;
  }

  async putConnectorConfig(name: string, config: Record<string, string>, target?: TargetState): Promise<void> {
    await this.writeAsLeader([
      ...(target ? [{ key: key(`target-state-${name}`), value: jsonBytes({ state: target }) }] : []),
      { key: key(`connector-${name}`), value: jsonBytes({ properties: config }) },
    ]);
  }

  async removeConnector(name: string): Promise<void> {
    await this.writeAsLeader([{ key: key(`connector-${name}`), value: null }, { key: key(`target-state-${name}`), value: null }]);
  }

  async putTaskConfigs(name: string, configs: readonly Record<string, string>[]): Promise<void> {
    await this.writeAsLeader([
      ...configs.map((config, index) => ({ key: key(`task-${name}-${index}`), value: jsonBytes({ properties: config }) })),
      { key: key(`commit-${name}`), value: jsonBytes({ tasks: configs.length }) },
    ]);
  }

  /** Records that every task generation before `generation` (of `count` tasks) is fenced. */
  async putTaskCountRecord(name: string, count: number, generation: number): Promise<void> {
    await this.writeAsLeader([{ key: key(`tasks-fencing-${name}`), value: jsonBytes({ 'task-count': count, generation }) }]);
  }

  /** A log level for `namespace` on every worker of the cluster. */
  async putLoggerLevel(namespace: string, level: string): Promise<void> {
    await this.log.send(key(`logger-cluster-${namespace}`), jsonBytes({ level }), 0);
  }

  async putTargetState(name: string, state: TargetState): Promise<void> {
    await this.writeAsLeader([{ key: key(`target-state-${name}`), value: jsonBytes({ state }) }]);
  }

  async requestRestart(request: RestartRecord): Promise<void> {
    const body: Record<string, unknown> = { 'include-tasks': request.includeTasks, 'only-failed': request.onlyFailed };
    if (request.task !== undefined) body.task = request.task;
    await this.writeAsLeader([{ key: key(`restart-connector-${request.connector}`), value: jsonBytes(body) }]);
  }

  protected apply(record: ConsumedRecord): void {
    this.offset = record.offset + 1;
    const recordKey = record.key?.toString('utf8') ?? '';
    const value = parseJson(record.value) as Record<string, unknown> | null | undefined;
    if (value === undefined) {
      this.logger.warn(`skipping a config record that is not JSON at offset ${record.offset}`, { key: recordKey });
      return;
    }
    if (recordKey.startsWith('connector-')) this.applyConnector(recordKey.slice('connector-'.length), value);
    else if (recordKey.startsWith('task-')) this.applyTask(recordKey.slice('task-'.length), value);
    else if (recordKey.startsWith('commit-')) this.applyCommit(recordKey.slice('commit-'.length), value, record);
    else if (recordKey.startsWith('logger-cluster-') && typeof value?.level === 'string') this.listener.loggerLevelChanged(recordKey.slice('logger-cluster-'.length), value.level);
    else if (recordKey.startsWith('tasks-fencing-')) this.applyTaskCount(recordKey.slice('tasks-fencing-'.length), value);
    else if (recordKey.startsWith('target-state-')) this.applyTargetState(recordKey.slice('target-state-'.length), value);
    else if (recordKey.startsWith('restart-connector-') && value !== null) {
      this.listener.restartRequested({
        connector: recordKey.slice('restart-connector-'.length),
        includeTasks: value['include-tasks'] === true,
        onlyFailed: value['only-failed'] === true,
        ...(typeof value.task === 'number' ? { task: value.task } : {}),
      });
    }
  }

  private applyConnector(name: string, value: Record<string, unknown> | null): void {
    if (value === null) {
      this.connectors.delete(name);
      this.taskConfigs.delete(name);
      this.pendingTasks.delete(name);
      this.targetStates.delete(name);
      this.taskCountRecords.delete(name);
      this.pendingFencings.delete(name);
      this.listener.connectorConfigChanged(name, true);
      return;
    }
    this.connectors.set(name, stringRecord(value.properties));
    this.listener.connectorConfigChanged(name, false);
  }

  private applyTask(id: string, value: Record<string, unknown> | null): void {
    const dash = id.lastIndexOf('-');
    const name = id.slice(0, dash);
    const index = Number(id.slice(dash + 1));
    if (dash <= 0 || !Number.isInteger(index) || value === null) return;
    let pending = this.pendingTasks.get(name);
    if (!pending) {
      pending = new Map();
      this.pendingTasks.set(name, pending);
    }
    pending.set(index, stringRecord(value.properties));
  }

  private applyCommit(name: string, value: Record<string, unknown> | null, record: ConsumedRecord): void {
    if (value === null) return;
    const count = Number(value.tasks);
    const pending = this.pendingTasks.get(name) ?? new Map<number, Record<string, string>>();
    const configs: Record<string, string>[] = [];
    for (let index = 0; index < count; index++) {
      const config = pending.get(index);
      if (!config) {
        this.logger.warn(`the commit of ${name}'s ${count} task configs misses task ${index}; ignored`);
        return;
      }
      configs.push(config);
    }
    this.pendingTasks.delete(name);
    this.taskConfigs.set(name, configs);
    this.generations.set(name, record.offset);
    this.pendingFencings.add(name);
    this.listener.taskConfigsCommitted(name);
  }

  private applyTaskCount(name: string, value: Record<string, unknown> | null): void {
    const count = value === null ? Number.NaN : Number(value['task-count']);
    if (!Number.isInteger(count) || count < 0) return;
    this.taskCountRecords.set(name, count);
    // Task configs committed after the round read its generation (and before this record) still need a round of their own.
    const generation = value?.generation;
    if (typeof generation !== 'number' || generation === this.taskGeneration(name)) this.pendingFencings.delete(name);
  }

  private applyTargetState(name: string, value: Record<string, unknown> | null): void {
    if (value === null) this.targetStates.delete(name);
    else if (value.state === 'STARTED' || value.state === 'PAUSED' || value.state === 'STOPPED') this.targetStates.set(name, value.state);
    this.listener.targetStateChanged(name);
  }
}

function key(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

function stringRecord(value: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  if (value && typeof value === 'object') for (const [name, item] of Object.entries(value)) result[name] = String(item);
  return result;
}
