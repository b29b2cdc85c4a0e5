// The standalone herder: one worker process owns every connector (Kafka Connect's
// StandaloneHerder). Configs live in memory (the command line's connector files are created at
// start; REST changes last until the process ends, as in Kafka), source offsets in the offsets
// file, sink offsets in each connector's consumer group. Requests are handled one at a time, so
// a create, a pause and a delete of the same connector never interleave.
import type { Logger } from '../../base/logger.js';
import { commitGroupOffsets, deleteGroupOffsets, fetchGroupOffsets } from '../../client/group-offsets.js';
import { invalidConfigError, keyInfo, validateConnectorConfig } from './config-validation.js';
import { sinkConnectorConfigDef, sourceConnectorConfigDef } from './connector-config.js';
import {
  type ConfigInfos,
  type ConfigKeyInfo,
  type ConnectorInfo,
  type ConnectorOffset,
  type ConnectorStateInfo,
  type Herder,
  type PluginInfo,
  type RestartRequest,
  type TaskInfo,
  type TaskStateInfo,
  ConnectRestError,
} from './herder.js';
import type { OffsetStore } from './offset-store.js';
import type { PluginRegistry } from './plugins.js';
import type { TargetState, Worker } from './worker.js';
import type { WorkerKafka } from './worker-kafka.js';

interface ConnectorEntry {
  config: Record<string, string>;
  target: TargetState;
  taskConfigs: Record<string, string>[];
}

export interface StandaloneHerderDeps {
  readonly worker: Worker;
  readonly plugins: PluginRegistry;
  readonly kafka: WorkerKafka;
  readonly offsets: OffsetStore;
  readonly kafkaClusterId: string;
  readonly logger: Logger;
  /** Plugins besides connectors (converters, transforms, predicates), for GET /connector-plugins. */
  readonly otherPlugins: readonly PluginInfo[];
}

const ALTERED = 'The offsets for this connector have been altered successfully';
const RESET = 'The offsets for this connector have been reset successfully';
const EXTERNAL_NOTE = 'However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses.';

export class StandaloneHerder implements Herder {
  private readonly entries = new Map<string, ConnectorEntry>();
  /** Every change runs after the previous one. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: StandaloneHerderDeps) {}

  get workerId(): string {
    return this.deps.worker.workerId;
  }

  kafkaClusterId(): string {
    return this.deps.kafkaClusterId;
  }

  connectors(): string[] {
    return [...this.entries.keys()].sort();
  }

  async connectorInfo(name: string): Promise<ConnectorInfo> {
    const entry = this.entry(name);
    return {
      name,
      config: { ...entry.config },
      tasks: entry.taskConfigs.map((_, task) => ({ connector: name, task })),
      type: this.deps.worker.kindOf(entry.config),
    };
  }

  async connectorConfig(name: string): Promise<Record<string, string>> {
    return { ...this.entry(name).config };
  }

  putConnectorConfig(name: string, config: Record<string, string>, allowReplace: boolean): Promise<{ created: boolean; info: ConnectorInfo }> {
    return this.serialized(async () => {
      const existing = this.entries.get(name);
      if (existing && !allowReplace) throw new ConnectRestError(409, `Connector ${name} already exists`);
      const full = { ...config, name };
      const infos = validateConnectorConfig(this.deps.plugins, full);
      if (infos.error_count > 0) throw invalidConfigError(infos);
      if (existing) await this.stopAll(name);
      const entry: ConnectorEntry = { config: full, target: existing?.target ?? 'STARTED', taskConfigs: [] };
      this.entries.set(name, entry);
      this.deps.logger.info(`${existing ? 'updating' : 'creating'} connector ${name}`);
      await this.startAll(name, entry);
      return { created: !existing, info: await this.connectorInfo(name) };
    });
  }

  async patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo> {
    const merged = { ...this.entry(name).config };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    if (merged.name !== undefined && merged.name !== name) throw new ConnectRestError(400, `Connector name configuration (${merged.name}) doesn't match connector name in the URL (${name})`);
    return (await this.putConnectorConfig(name, merged as Record<string, string>, true)).info;
  }

  deleteConnector(name: string): Promise<void> {
    return this.serialized(async () => {
      this.entry(name);
      await this.stopAll(name);
      this.entries.delete(name);
      this.deps.worker.resetTopics(name);
      this.deps.logger.info(`deleted connector ${name}`);
    });
  }

  async connectorStatus(name: string): Promise<ConnectorStateInfo> {
    const entry = this.entry(name);
    const state = this.deps.worker.connectorState(name);
    return {
      name,
      connector: { state: entry.target === 'STOPPED' && state.state !== 'FAILED' ? 'STOPPED' : state.state, worker_id: this.workerId, ...(state.trace ? { trace: state.trace } : {}) },
      tasks: entry.taskConfigs.map((_, task) => this.taskState(name, task)),
      type: this.deps.worker.kindOf(entry.config),
    };
  }

  async taskStatus(name: string, task: number): Promise<TaskStateInfo> {
    this.taskConfig(name, task);
    return this.taskState(name, task);
  }

  async taskConfigs(name: string): Promise<TaskInfo[]> {
    return this.entry(name).taskConfigs.map((config, task) => ({ id: { connector: name, task }, config: { ...config } }));
  }

  restartConnector(name: string, request: RestartRequest): Promise<ConnectorStateInfo | null> {
    return this.serialized(async () => {
      const entry = this.entry(name);
      const before = await this.connectorStatus(name);
      const connectorFailed = before.connector.state === 'FAILED';
      const restartConnector = !request.onlyFailed || connectorFailed;
      const restartTasks = request.includeTasks ? before.tasks.filter((task) => !request.onlyFailed || task.state === 'FAILED').map((task) => task.id) : [];
      const plain = !request.includeTasks && !request.onlyFailed;
      if (restartConnector) {
        await this.deps.worker.stopConnector(name);
        await this.deps.worker.startConnector(name, entry.config, entry.target);
      }
      for (const task of restartTasks) await this.restartOneTask(name, entry, task);
      if (plain) return null;
      return {
        ...before,
        connector: { ...before.connector, state: restartConnector ? 'RESTARTING' : before.connector.state },
        tasks: before.tasks.map((task) => (restartTasks.includes(task.id) ? { id: task.id, state: 'RESTARTING', worker_id: task.worker_id } : task)),
      };
    });
  }

  restartTask(name: string, task: number): Promise<void> {
    return this.serialized(async () => {
      this.taskConfig(name, task);
      await this.restartOneTask(name, this.entry(name), task);
    });
  }

  pauseConnector(name: string): Promise<void> {
    return this.setTarget(name, 'PAUSED');
  }

  resumeConnector(name: string): Promise<void> {
    return this.setTarget(name, 'STARTED');
  }

  stopConnector(name: string): Promise<void> {
    return this.serialized(async () => {
      const entry = this.entry(name);
      await this.stopAll(name);
      entry.target = 'STOPPED';
      entry.taskConfigs = [];
      await this.deps.worker.startConnector(name, entry.config, 'STOPPED');
    });
  }

  async connectorActiveTopics(name: string): Promise<string[]> {
    this.entry(name);
    return [...this.deps.worker.topicsOf(name)].sort();
  }

  async resetConnectorActiveTopics(name: string): Promise<void> {
    this.entry(name);
    this.deps.worker.resetTopics(name);
  }

  async connectorOffsets(name: string): Promise<ConnectorOffset[]> {
    const entry = this.entry(name);
    if (this.deps.worker.kindOf(entry.config) === 'sink') {
      const offsets = await fetchGroupOffsets(this.deps.kafka.cluster, this.sinkGroup(name, entry));
      return offsets.map(({ topic, partition, offset }) => ({ partition: { kafka_topic: topic, kafka_partition: partition }, offset: { kafka_offset: offset } }));
    }
    return this.deps.offsets.connectorOffsets(name).map(({ partition, offset }) => ({ partition: { ...partition }, offset: { ...offset } }));
  }

  alterConnectorOffsets(name: string, offsets: ConnectorOffset[]): Promise<string> {
    return this.serialized(async () => {
      const entry = this.stoppedEntry(name);
      if (offsets.length === 0) throw new ConnectRestError(400, 'The offsets to be altered may not be null or empty');
      const confirmed = this.deps.worker.kindOf(entry.config) === 'sink'
        ? await this.alterSinkOffsets(name, entry, offsets)
        : await this.alterSourceOffsets(name, entry, offsets);
      return confirmed ? ALTERED : `The Connect framework-managed offsets for this connector have been altered successfully. ${EXTERNAL_NOTE}`;
    });
  }

  resetConnectorOffsets(name: string): Promise<string> {
    return this.serialized(async () => {
      const entry = this.stoppedEntry(name);
      const current = await this.connectorOffsets(name);
      const confirmed = this.deps.worker.kindOf(entry.config) === 'sink'
        ? await this.alterSinkOffsets(name, entry, current.map(({ partition }) => ({ partition, offset: null })))
        : await this.alterSourceOffsets(name, entry, current.map(({ partition }) => ({ partition, offset: null })));
      return confirmed ? RESET : `The Connect framework-managed offsets for this connector have been reset successfully. ${EXTERNAL_NOTE}`;
    });
  }

  plugins(connectorsOnly: boolean): PluginInfo[] {
    const connectors = this.deps.plugins.infos();
    return connectorsOnly ? connectors : [...connectors, ...this.deps.otherPlugins];
  }

  async validateConnectorConfig(pluginType: string, config: Record<string, string>): Promise<ConfigInfos> {
    const className = config['connector.class'] ?? pluginType;
    return validateConnectorConfig(this.deps.plugins, { ...config, 'connector.class': className });
  }

  pluginConfig(pluginName: string): ConfigKeyInfo[] {
    const plugin = this.deps.plugins.find(pluginName);
    if (!plugin) throw new ConnectRestError(404, `Unknown plugin ${pluginName}.`);
    const common = plugin.kind === 'source' ? sourceConnectorConfigDef : sinkConnectorConfigDef;
    return common.merge(new plugin.create().config()).keys().map((key) => keyInfo(key));
  }

  /** Stops every connector and task (the worker is shutting down). */
  async stop(): Promise<void> {
    await this.serialized(async () => {
      await Promise.all([...this.entries.keys()].map((name) => this.stopAll(name)));
    });
  }

  private entry(name: string): ConnectorEntry {
    const entry = this.entries.get(name);
    if (!entry) throw ConnectRestError.notFound(`Connector ${name} not found`);
    return entry;
  }

  private stoppedEntry(name: string): ConnectorEntry {
    const entry = this.entry(name);
    if (entry.target !== 'STOPPED') {
      throw new ConnectRestError(400, `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`);
    }
    return entry;
  }

  private taskConfig(name: string, task: number): Record<string, string> {
    const config = this.entry(name).taskConfigs[task];
    if (!config) throw ConnectRestError.notFound(`Task ${name}-${task} not found`);
    return config;
  }

  private taskState(name: string, task: number): TaskStateInfo {
    const state = this.deps.worker.taskState({ connector: name, task });
    return { id: task, state: state.state, worker_id: this.workerId, ...(state.trace ? { trace: state.trace } : {}) };
  }

  private sinkGroup(name: string, entry: ConnectorEntry): string {
    return entry.config['consumer.override.group.id'] ?? `connect-${name}`;
  }

  private async alterSinkOffsets(name: string, entry: ConnectorEntry, offsets: readonly ConnectorOffset[]): Promise<boolean> {
    const parsed = offsets.map(({ partition, offset }) => {
      const topic = partition.kafka_topic;
      const index = partition.kafka_partition;
      if (typeof topic !== 'string' || typeof index !== 'number' || !Number.isInteger(index)) {
        throw new ConnectRestError(400, 'Sink connector offsets must have a "kafka_topic" string and a "kafka_partition" integer in each partition');
      }
      const value = offset === null ? null : offset.kafka_offset;
      if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
        throw new ConnectRestError(400, 'Sink connector offsets must have a non-negative "kafka_offset" integer (or a null offset)');
      }
      return { topic, partition: index, offset: value as number | null };
    });
    const plugin = this.deps.plugins.resolve(entry.config['connector.class']!);
    const confirmed = await new plugin.create().alterOffsets(entry.config, parsed as never);
    const group = this.sinkGroup(name, entry);
    await commitGroupOffsets(this.deps.kafka.cluster, group, parsed.filter((item) => item.offset !== null) as { topic: string; partition: number; offset: number }[]);
    await deleteGroupOffsets(this.deps.kafka.cluster, group, parsed.filter((item) => item.offset === null));
    return confirmed === true;
  }

  private async alterSourceOffsets(name: string, entry: ConnectorEntry, offsets: readonly ConnectorOffset[]): Promise<boolean> {
    for (const { partition } of offsets) {
      if (partition === null || typeof partition !== 'object' || Array.isArray(partition)) throw new ConnectRestError(400, 'Source connector offsets must have an object as each partition');
    }
    const plugin = this.deps.plugins.resolve(entry.config['connector.class']!);
    const confirmed = await new plugin.create().alterOffsets(entry.config, new Map(offsets.map(({ partition, offset }) => [partition, offset])) as never);
    await this.deps.offsets.set(offsets.map(({ partition, offset }) => ({ connector: name, partition, offset })));
    return confirmed === true;
  }

  private setTarget(name: string, target: TargetState): Promise<void> {
    return this.serialized(async () => {
      const entry = this.entry(name);
      const wasStopped = entry.target === 'STOPPED';
      entry.target = target;
      if (wasStopped) {
        await this.deps.worker.stopConnector(name);
        await this.startAll(name, entry);
      } else {
        this.deps.worker.setConnectorTarget(name, target);
      }
    });
  }

  private async startAll(name: string, entry: ConnectorEntry): Promise<void> {
    await this.deps.worker.startConnector(name, entry.config, entry.target);
    entry.taskConfigs = entry.target === 'STOPPED' ? [] : await this.deps.worker.taskConfigs(name, entry.config);
    entry.taskConfigs.forEach((taskConfig, task) => this.deps.worker.startTask({ connector: name, task }, entry.config, taskConfig, entry.target));
  }

  private async stopAll(name: string): Promise<void> {
    await this.deps.worker.stopTasks(name);
    await this.deps.worker.stopConnector(name);
  }

  private async restartOneTask(name: string, entry: ConnectorEntry, task: number): Promise<void> {
    const config = entry.taskConfigs[task];
    if (!config) return;
    await this.deps.worker.stopTask({ connector: name, task });
    this.deps.worker.startTask({ connector: name, task }, entry.config, config, entry.target);
  }

  /** Reconfigures a connector's tasks when it asks to (its task configs changed). */
  requestTaskReconfiguration(name: string): void {
    void this.serialized(async () => {
      const entry = this.entries.get(name);
      if (!entry || entry.target === 'STOPPED') return;
      const configs = await this.deps.worker.taskConfigs(name, entry.config);
      if (JSON.stringify(configs) === JSON.stringify(entry.taskConfigs)) return;
      await this.deps.worker.stopTasks(name);
      entry.taskConfigs = configs;
      configs.forEach((taskConfig, task) => this.deps.worker.startTask({ connector: name, task }, entry.config, taskConfig, entry.target));
    }).catch((error: unknown) => this.deps.logger.error(`reconfiguring the tasks of ${name} failed`, { error }));
  }

  private serialized<T>(action: () => Promise<T>): Promise<T> {
    const result = this.queue.then(action, action);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

