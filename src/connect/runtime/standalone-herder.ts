// The standalone herder: one worker process owns every connector (Kafka Connect's
// StandaloneHerder). Configs live in memory (the command line's connector files are created at
// start; REST changes last until the process ends, as in Kafka), source offsets in the offsets
// file, sink offsets in each connector's consumer group. Requests are handled one at a time, so
// a create, a pause and a delete of the same connector never interleave.
import { AbstractHerder } from './abstract-herder.js';
import { invalidConfigError, validateConnectorConfig } from './config-validation.js';
import {
  type ConnectorInfo,
  type ConnectorOffset,
  type ConnectorStateInfo,
  type Herder,
  type InitialState,
  type RestartRequest,
  type TaskInfo,
  type TaskStateInfo,
  ConnectRestError,
} from './herder.js';
import type { TargetState } from './worker.js';

interface ConnectorEntry {
  config: Record<string, string>;
  target: TargetState;
  taskConfigs: Record<string, string>[];
}


export class StandaloneHerder extends AbstractHerder implements Herder {
  private readonly entries = new Map<string, ConnectorEntry>();
  /** Every change runs after the previous one. */
  private queue: Promise<unknown> = Promise.resolve();


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

  putConnectorConfig(name: string, config: Record<string, string>, allowReplace: boolean, initialState: InitialState = 'RUNNING'): Promise<{ created: boolean; info: ConnectorInfo }> {
    return this.serialized(async () => {
      const existing = this.entries.get(name);
      if (existing && !allowReplace) throw new ConnectRestError(409, `Connector ${name} already exists`);
      const full = { ...config, name };
      const infos = validateConnectorConfig(this.deps.plugins, full);
      if (infos.error_count > 0) throw invalidConfigError(infos);
      if (existing) await this.stopAll(name);
      const entry: ConnectorEntry = { config: full, target: existing?.target ?? targetOf(initialState), taskConfigs: [] };
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
    const entry = this.entry(name, `No status found for connector ${name}`);
    const state = this.deps.worker.connectorState(name);
    return {
      name,
      connector: { state: entry.target === 'STOPPED' && state.state !== 'FAILED' ? 'STOPPED' : state.state, worker_id: this.workerId, ...(state.trace ? { trace: state.trace } : {}) },
      tasks: entry.taskConfigs.map((_, task) => this.taskState(name, task)),
      type: this.deps.worker.kindOf(entry.config),
    };
  }

  async taskStatus(name: string, task: number): Promise<TaskStateInfo> {
    this.taskConfig(name, task, `No status found for task ${name}-${task}`);
    return this.taskState(name, task);
  }

  async taskConfigs(name: string): Promise<TaskInfo[]> {
    return this.entry(name).taskConfigs.map((config, task) => ({ id: { connector: name, task }, config: { ...config } }));
  }

  restartConnector(name: string, request: RestartRequest): Promise<ConnectorStateInfo | null> {
    return this.serialized(async () => {
      const entry = this.entry(name, request.includeTasks || request.onlyFailed ? `Unknown connector: ${name}` : undefined);
      const plan = this.restartPlan(await this.connectorStatus(name), request);
      if (plan.connector) {
        await this.deps.worker.stopConnector(name);
        await this.deps.worker.startConnector(name, entry.config, entry.target);
      }
      for (const task of plan.tasks) await this.restartOneTask(name, entry, task);
      return plan.response;
    });
  }

  restartTask(name: string, task: number): Promise<void> {
    return this.serialized(async () => {
      const entry = this.entry(name);
      this.taskConfig(name, task);
      await this.restartOneTask(name, entry, task);
    });
  }

  async fenceZombies(): Promise<void> {
    throw new ConnectRestError(500, 'Kafka Connect in standalone mode does not support exactly-once source connectors.');
  }

  async putTaskConfigs(): Promise<void> {
    throw new ConnectRestError(500, 'Kafka Connect in standalone mode does not support externally setting task configurations.');
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
    return this.readOffsets(name, this.entry(name).config);
  }

  alterConnectorOffsets(name: string, offsets: ConnectorOffset[]): Promise<string> {
    return this.serialized(async () => this.changeOffsets(name, this.stoppedEntry(name).config, offsets));
  }

  resetConnectorOffsets(name: string): Promise<string> {
    return this.serialized(async () => this.changeOffsets(name, this.stoppedEntry(name).config, 'reset'));
  }

  /** Stops every connector and task (the worker is shutting down). */
  async stop(): Promise<void> {
    await this.serialized(async () => {
      await Promise.all([...this.entries.keys()].map((name) => this.stopAll(name)));
    });
  }

  /** The connector's entry; a 404 with `notFound` (Kafka's wording differs by endpoint) when there is none. */
  private entry(name: string, notFound = `Connector ${name} not found`): ConnectorEntry {
    const entry = this.entries.get(name);
    if (!entry) throw ConnectRestError.notFound(notFound);
    return entry;
  }

  private stoppedEntry(name: string): ConnectorEntry {
    const entry = this.entry(name);
    if (entry.target !== 'STOPPED') throw this.stoppedError(name);
    return entry;
  }

  private taskConfig(name: string, task: number, notFound = `Task ${name}-${task} not found`): Record<string, string> {
    const config = this.entries.get(name)?.taskConfigs[task];
    if (!config) throw ConnectRestError.notFound(notFound);
    return config;
  }

  private taskState(name: string, task: number): TaskStateInfo {
    const state = this.deps.worker.taskState({ connector: name, task });
    return { id: task, state: state.state, worker_id: this.workerId, ...(state.trace ? { trace: state.trace } : {}) };
  }

  private setTarget(name: string, target: TargetState): Promise<void> {
    return this.serialized(async () => {
      const entry = this.entry(name, target === 'STOPPED' ? undefined : `Unknown connector ${name}`);
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

/** The target state of a connector created in `state`. */
export function targetOf(state: InitialState): TargetState {
  return state === 'RUNNING' ? 'STARTED' : state;
}
