// The worker: runs connector instances and their tasks in this process (Kafka Connect's Worker).
// A herder decides what runs; the worker instantiates the plugin, starts it, asks it for task
// configs, and runs each task with its converters, transforms, error handler and Kafka clients.
// A connector or task that throws is FAILED with its trace; nothing else is affected.
import type { Logger } from '../../base/logger.js';
import type { TopicInfo } from '../../client/admin-client.js';
import type { GroupTimeouts } from '../../client/classic-group.js';
import { TransactionalProducer } from '../../client/transactional-producer.js';
import type { ParsedConfig } from '../api/config.js';
import type { Connector, ConnectorContext, SinkConnector, SinkTask, SourceConnector, SourceConnectorContext, SourceTask } from '../api/connector.js';
import { sinkConnectorConfigDef, sourceConnectorConfigDef } from './connector-config.js';
import { ErrorHandler } from './error-handler.js';
import type { ConnectorState, ConnectorType } from './herder.js';
import { type OffsetEntry, type OffsetStore, offsetReader } from './offset-store.js';
import type { PluginRegistry } from './plugins.js';
import { RecordConverters } from './record-converters.js';
import { buildTransformChain } from './transforms/index.js';
import type { WorkerKafka } from './worker-kafka.js';
import { WorkerSinkTask } from './worker-sink-task.js';
import { type ExactlyOnceSetup, WorkerSourceTask } from './worker-source-task.js';
import { type TaskId, WorkerTask, traceOf } from './worker-task.js';

/** One task's counters under Kafka Connect's metric names. */
export interface TaskMetrics {
  readonly connector: string;
  readonly task: number;
  readonly state: ConnectorState;
  readonly metrics: Record<string, number>;
}

/** What a herder wants of a connector (Kafka's TargetState). */
export type TargetState = 'STARTED' | 'PAUSED' | 'STOPPED';

export interface WorkerDeps {
  readonly workerId: string;
  readonly config: ParsedConfig;
  readonly plugins: PluginRegistry;
  readonly kafka: WorkerKafka;
  readonly offsets: OffsetStore;
  readonly logger: Logger;
  /** Called when the connector asks for its tasks to be reconfigured. */
  readonly onTaskReconfiguration: (connector: string) => void;
  /** Set when source tasks deliver exactly once (distributed, exactly.once.source.support=enabled). */
  readonly exactlyOnce?: WorkerExactlyOnce;
}

/** What exactly-once source tasks share: the group (for transactional ids) and the offsets topic. */
export interface WorkerExactlyOnce {
  readonly groupId: string;
  readonly offsetsTopic: () => TopicInfo;
  readonly offsetRecord: (entry: OffsetEntry) => { key: Buffer; value: Buffer | null };
  readonly committed: (entries: readonly OffsetEntry[]) => void;
  /** Waits for the zombie fencing round of the connector's current task generation (the herder's). */
  readonly fenceZombies: (connector: string) => Promise<void>;
  /** The connector's task generation, which every new set of task configs changes. */
  readonly taskGeneration: (connector: string) => number;
}

/** A source task's transactional id under exactly-once support, as Kafka's: `<group>-<connector>-<task>`. */
export function sourceTaskTransactionalId(groupId: string, connector: string, task: number): string {
  return `${groupId}-${connector}-${task}`;
}

interface RunningConnector {
  readonly instance: Connector;
  readonly kind: 'source' | 'sink';
  state: ConnectorState;
  trace: string | undefined;
}

export class Worker {
  private readonly connectors = new Map<string, RunningConnector>();
  /** Connectors that failed to start, with their trace (the instance is gone). */
  private readonly failedConnectors = new Map<string, { kind: ConnectorType; trace: string }>();
  private readonly tasks = new Map<string, WorkerTask>();
  /** Each running task's own Kafka connections, closed when it stops. */
  private readonly taskClients = new Map<WorkerTask, WorkerKafka>();
  private readonly activeTopics = new Map<string, Set<string>>();

  constructor(private readonly deps: WorkerDeps) {}

  get workerId(): string {
    return this.deps.workerId;
  }

  /** Instantiates and starts the connector; a failure leaves it FAILED with the trace. */
  async startConnector(name: string, props: Readonly<Record<string, string>>, target: TargetState): Promise<void> {
    this.failedConnectors.delete(name);
    let instance: Connector | undefined;
    try {
      const plugin = this.deps.plugins.resolve(props['connector.class'] ?? '');
      instance = new plugin.create();
      const running: RunningConnector = { instance, kind: plugin.kind, state: 'UNASSIGNED', trace: undefined };
      this.connectors.set(name, running);
      const context: ConnectorContext = {
        requestTaskReconfiguration: () => this.deps.onTaskReconfiguration(name),
        raiseError: (error: Error) => this.failConnector(name, error),
      };
      const sourceContext: SourceConnectorContext = { ...context, offsetStorageReader: offsetReader(this.deps.offsets, name) };
      instance.initialize(plugin.kind === 'source' ? sourceContext : context);
      if (target === 'STOPPED') {
        running.state = 'STOPPED';
        return;
      }
      await instance.start(props);
      running.state = target === 'PAUSED' ? 'PAUSED' : 'RUNNING';
    } catch (error) {
      const kind = this.connectors.get(name)?.kind ?? 'unknown';
      this.connectors.delete(name);
      this.failedConnectors.set(name, { kind, trace: traceOf(asError(error)) });
      this.deps.logger.error(`connector ${name} failed to start`, { error: asError(error).message });
    }
  }

  isRunning(name: string): boolean {
    const running = this.connectors.get(name);
    return running !== undefined && (running.state === 'RUNNING' || running.state === 'PAUSED');
  }

  /** The task configs of a running connector, each with Kafka's task.class (and a sink's topics). */
  async taskConfigs(name: string, props: Readonly<Record<string, string>>): Promise<Record<string, string>[]> {
    const running = this.connectors.get(name);
    if (!running || !this.isRunning(name)) return [];
    const maxTasks = Number(props['tasks.max'] ?? '1');
    try {
      const configs = await running.instance.taskConfigs(maxTasks);
      if (configs.length > maxTasks) {
        throw new Error(`The connector ${name} has generated ${configs.length} tasks, which is greater than ${maxTasks}, the maximum number of tasks it is configured to create.`);
      }
      const taskClass = (running.instance as SourceConnector | SinkConnector).taskClass();
      // Kafka reports the task's full class name; a connector with a package-style name lends it its package.
      const connectorClass = this.deps.plugins.resolve(props['connector.class'] ?? '').className;
      const taskClassName = connectorClass.includes('.') ? `${connectorClass.slice(0, connectorClass.lastIndexOf('.'))}.${taskClass.name}` : taskClass.name;
      return configs.map((config) => {
        const taskConfig: Record<string, string> = { ...config, 'task.class': taskClassName };
        if (running.kind === 'sink') {
          if (props.topics !== undefined) taskConfig.topics = props.topics;
          if (props['topics.regex'] !== undefined) taskConfig['topics.regex'] = props['topics.regex'];
        }
        return taskConfig;
      });
    } catch (error) {
      this.failConnector(name, asError(error));
      return [];
    }
  }

  /** Stops the connector instance (not its tasks). */
  async stopConnector(name: string): Promise<void> {
    const running = this.connectors.get(name);
    this.connectors.delete(name);
    this.failedConnectors.delete(name);
    if (!running || running.state === 'STOPPED' || running.state === 'FAILED') return;
    try {
      await running.instance.stop();
    } catch (error) {
      this.deps.logger.warn(`connector ${name} failed to stop`, { error: asError(error).message });
    }
  }

  setConnectorTarget(name: string, target: TargetState): void {
    const running = this.connectors.get(name);
    if (running && (running.state === 'RUNNING' || running.state === 'PAUSED')) running.state = target === 'PAUSED' ? 'PAUSED' : 'RUNNING';
    for (const task of this.tasksOf(name)) {
      if (target === 'PAUSED') task.pause();
      else task.resume();
    }
  }

  connectorState(name: string): { state: ConnectorState; trace?: string; kind: ConnectorType } {
    const failed = this.failedConnectors.get(name);
    if (failed) return { state: 'FAILED', trace: failed.trace, kind: failed.kind };
    const running = this.connectors.get(name);
    if (!running) return { state: 'UNASSIGNED', kind: 'unknown' };
    return { state: running.state, ...(running.trace ? { trace: running.trace } : {}), kind: running.kind };
  }

  /** The kind of connector `props` names, without starting it ('unknown' when there is no such plugin). */
  kindOf(props: Readonly<Record<string, string>>): ConnectorType {
    return this.deps.plugins.find(props['connector.class'] ?? '')?.kind ?? 'unknown';
  }

  /** Starts one task of a connector with its task config; a failure leaves it FAILED. */
  startTask(id: TaskId, connectorProps: Readonly<Record<string, string>>, taskProps: Readonly<Record<string, string>>, target: TargetState): void {
    const key = taskKey(id);
    const logger = this.deps.logger.child(`task-${id.connector}-${id.task}`);
    const worker = this.deps.config;
    const topicUsed = (topic: string) => this.topicsOf(id.connector).add(topic);
    const kafka = this.deps.kafka.fork(`${id.connector}-${id.task}`);
    let task: WorkerTask;
    try {
      const plugin = this.deps.plugins.resolve(connectorProps['connector.class'] ?? '');
      const connector = new plugin.create();
      const connectorConfig = (plugin.kind === 'source' ? sourceConnectorConfigDef : sinkConnectorConfigDef).parse(connectorProps);
      const errors = new ErrorHandler(connectorConfig, logger, () => this.tasks.get(key) === undefined);
      const converters = RecordConverters.create(worker, connectorConfig);
      const transforms = buildTransformChain({ ...connectorProps });
      const flushIntervalMs = worker.number('offset.flush.interval.ms');
      if (connector.kind === 'source') {
        const TaskClass = connector.taskClass();
        const exactlyOnce = this.exactlyOnceSetup(id, kafka, connectorConfig, flushIntervalMs);
        task = new WorkerSourceTask(id, {
          task: new TaskClass() as SourceTask, props: taskProps, converters, transforms, errors, kafka, offsets: this.deps.offsets, flushIntervalMs, topicUsed,
          ...(exactlyOnce ? { exactlyOnce } : {}),
        }, logger, () => {});
      } else {
        const TaskClass = connector.taskClass();
        const regex = connectorConfig.string('topics.regex');
        const dlqTopic = connectorConfig.string('errors.deadletterqueue.topic.name').trim();
        task = new WorkerSinkTask(id, {
          task: new TaskClass() as SinkTask,
          props: taskProps,
          converters,
          transforms,
          errors,
          kafka,
          groupId: connectorProps['consumer.override.group.id'] ?? `connect-${id.connector}`,
          topics: connectorConfig.list('topics'),
          topicsRegex: regex === '' ? null : new RegExp(`^(?:${regex})$`),
          flushIntervalMs,
          deadLetter: dlqTopic === '' ? null : {
            topic: dlqTopic,
            replicationFactor: connectorConfig.number('errors.deadletterqueue.topic.replication.factor'),
            contextHeaders: connectorConfig.boolean('errors.deadletterqueue.context.headers.enable'),
          },
          topicUsed,
          groupTimeouts: sinkGroupTimeouts(worker, connectorProps),
          readCommitted: sinkReadsCommitted(worker, connectorProps),
        }, logger, () => {});
      }
    } catch (error) {
      task = new FailedTask(id, logger, asError(error));
    }
    this.tasks.set(key, task);
    this.taskClients.set(task, kafka);
    task.run(target === 'PAUSED');
  }

  async stopTasks(connector: string): Promise<void> {
    const timeoutMs = this.deps.config.number('task.shutdown.graceful.timeout.ms');
    const tasks = this.tasksOf(connector);
    for (const task of tasks) this.tasks.delete(taskKey(task.id));
    await Promise.all(tasks.map((task) => this.stopAndRelease(task, timeoutMs)));
  }

  async stopTask(id: TaskId): Promise<void> {
    const task = this.tasks.get(taskKey(id));
    this.tasks.delete(taskKey(id));
    if (task) await this.stopAndRelease(task, this.deps.config.number('task.shutdown.graceful.timeout.ms'));
  }

  private async stopAndRelease(task: WorkerTask, timeoutMs: number): Promise<void> {
    try {
      await task.stop(timeoutMs);
    } finally {
      this.taskClients.get(task)?.close();
      this.taskClients.delete(task);
    }
  }

  taskState(id: TaskId): { state: ConnectorState; trace?: string } {
    const task = this.tasks.get(taskKey(id));
    if (!task) return { state: 'UNASSIGNED' };
    return { state: task.state, ...(task.trace ? { trace: task.trace } : {}) };
  }

  /** Every task this worker runs, with its state and counters (for a metrics endpoint). */
  /** Connectors and tasks running on this worker (Kafka's connect-worker-metrics connector-count and task-count). */
  counts(): { connectors: number; tasks: number } {
    return { connectors: this.connectors.size, tasks: this.tasks.size };
  }

  metrics(): TaskMetrics[] {
    return [...this.tasks.values()].map((task) => ({ connector: task.id.connector, task: task.id.task, state: task.state, metrics: task.metrics() }));
  }

  tasksOf(connector: string): WorkerTask[] {
    return [...this.tasks.values()].filter((task) => task.id.connector === connector).sort((a, b) => a.id.task - b.id.task);
  }

  topicsOf(connector: string): Set<string> {
    let topics = this.activeTopics.get(connector);
    if (!topics) {
      topics = new Set();
      this.activeTopics.set(connector, topics);
    }
    return topics;
  }

  resetTopics(connector: string): void {
    this.activeTopics.delete(connector);
  }

  /** A source task's transactional producer and transaction boundaries. */
  private exactlyOnceSetup(id: TaskId, kafka: WorkerKafka, connectorConfig: ParsedConfig, flushIntervalMs: number): ExactlyOnceSetup | undefined {
    const shared = this.deps.exactlyOnce;
    if (!shared) return undefined;
    const boundary = connectorConfig.string('transaction.boundary') as ExactlyOnceSetup['boundary'];
    const interval = connectorConfig.optionalString('transaction.boundary.interval.ms');
    // Read now, as the herder hands over the task configs of this generation.
    const generation = shared.taskGeneration(id.connector);
    return {
      producer: new TransactionalProducer(kafka.cluster, { transactionalId: sourceTaskTransactionalId(shared.groupId, id.connector, id.task) }),
      offsetsTopic: shared.offsetsTopic,
      offsetRecord: shared.offsetRecord,
      committed: shared.committed,
      boundary,
      intervalMs: interval === null ? flushIntervalMs : Number(interval),
      fenceZombies: () => shared.fenceZombies(id.connector),
      generationCurrent: () => shared.taskGeneration(id.connector) === generation,
    };
  }

  private failConnector(name: string, error: Error): void {
    const running = this.connectors.get(name);
    if (!running) return;
    running.state = 'FAILED';
    running.trace = traceOf(error);
    this.deps.logger.error(`connector ${name} failed`, { error: error.message });
  }
}

/** Kafka consumer defaults for sink tasks' groups (session.timeout.ms, max.poll.interval.ms, heartbeat.interval.ms). */
const SINK_CONSUMER_DEFAULTS = { 'session.timeout.ms': 45_000, 'max.poll.interval.ms': 300_000, 'heartbeat.interval.ms': 3_000 } as const;

/** A sink task's group timeouts: the connector's consumer.override.*, else the worker's consumer.*, else Kafka's defaults. */
function sinkGroupTimeouts(worker: ParsedConfig, connectorProps: Readonly<Record<string, string>>): GroupTimeouts {
  const value = (key: keyof typeof SINK_CONSUMER_DEFAULTS): number => {
    const text = connectorProps[`consumer.override.${key}`] ?? worker.originals[`consumer.${key}`];
    if (text === undefined) return SINK_CONSUMER_DEFAULTS[key];
    const parsed = Number(text);
    if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${connectorProps[`consumer.override.${key}`] !== undefined ? 'consumer.override.' : 'consumer.'}${key}: expected a positive integer, got '${text}'`);
    return parsed;
  };
  return { sessionTimeoutMs: value('session.timeout.ms'), rebalanceTimeoutMs: value('max.poll.interval.ms'), heartbeatIntervalMs: value('heartbeat.interval.ms') };
}

/** A sink consumer's isolation.level (the connector's consumer.override.*, else the worker's consumer.*; Kafka's default read_uncommitted). */
function sinkReadsCommitted(worker: ParsedConfig, connectorProps: Readonly<Record<string, string>>): boolean {
  const override = connectorProps['consumer.override.isolation.level'];
  const text = (override ?? worker.originals['consumer.isolation.level'] ?? 'read_uncommitted').trim().toLowerCase();
  if (text !== 'read_committed' && text !== 'read_uncommitted') throw new Error(`${override !== undefined ? 'consumer.override.' : 'consumer.'}isolation.level: expected read_committed or read_uncommitted, got '${text}'`);
  return text === 'read_committed';
}

function taskKey(id: TaskId): string {
  return `${id.task}:${id.connector}`;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A task that could not even be built (its plugin, converter or transform config failed). */
class FailedTask extends WorkerTask {
  constructor(id: TaskId, logger: Logger, private readonly error: Error) {
    super(id, logger, () => {});
  }
  metrics(): Record<string, number> {
    return {};
  }
  protected async initializeAndStart(): Promise<void> {
    throw this.error;
  }
  protected async iterate(): Promise<void> {}
  protected async onStopRequested(): Promise<void> {}
  protected async close(): Promise<void> {}
}
