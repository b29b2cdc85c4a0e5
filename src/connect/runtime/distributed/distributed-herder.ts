// The distributed herder: workers with the same group.id form a group over the Kafka protocol
// (JoinGroup with protocol type "connect") and share connectors through the config, status and
// offsets topics (Kafka Connect's DistributedHerder). The group's leader assigns connectors and
// tasks with the incremental cooperative assignor (KIP-415, assignor.ts): a worker keeps what it
// runs across rebalances, stops what it is told to revoke and rejoins, and work of a worker that
// left is held for scheduled.rebalance.max.delay.ms before it moves. Config changes sent to any
// worker are forwarded over HTTP to the leader, which alone writes connector configs; the worker
// that runs a connector writes its task configs. Statuses are written by the worker running the
// work, tagged with the group generation.
//
// Under exactly-once source support (KIP-618) the leader writes to the config topic only through a
// transactional producer (transactional id `connect-cluster-<group.id>`) that it creates on becoming
// leader, which fences any earlier leader's; task configs then reach the config topic through the
// leader too (Kafka's internal POST /connectors/{name}/tasks), and a leader whose producer was
// fenced refuses the write and rejoins the group.
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '../../../base/logger.js';
import type { TopicInfo } from '../../../client/admin-client.js';
import { ClassicGroupMember, type GroupTimeouts } from '../../../client/classic-group.js';
import { fenceProducers, ProducerFencedError, TransactionalProducer } from '../../../client/transactional-producer.js';
import { AbstractHerder, type HerderDeps } from '../abstract-herder.js';
import { invalidConfigError, validateConnectorConfig } from '../config-validation.js';
import { targetOf } from '../standalone-herder.js';
import {
  type ConnectorInfo,
  type ConnectorOffset,
  type ConnectorState,
  type ConnectorStateInfo,
  type Herder,
  type InitialState,
  type RestartRequest,
  type TaskInfo,
  type TaskStateInfo,
  ConnectRestError,
} from '../herder.js';
import { requestWorker } from '../rest/rest-client.js';
import { type TargetState, sourceTaskTransactionalId } from '../worker.js';
import { type WorkerKafka, sleep } from '../worker-kafka.js';
import { type AssignorMemory, type WorkId, assign, emptyAssignorMemory, workKey } from './assignor.js';
import { type ConfigListener, type ConfigRecord, ConfigStore, type PrivilegedWriter, type RestartRecord } from './config-store.js';
import { type TopicSettings, jsonBytes } from './kafka-based-log.js';
import type { KafkaOffsetStore, StatusStore } from './status-and-offset-stores.js';

const PROTOCOL = 'conveyor-cooperative';
const TICK_MS = 500;
const FORWARD_TIMEOUT_MS = 90_000;
/** How long a starting exactly-once task keeps asking for its fencing round (a rebalance may be underway). */
const FENCING_TIMEOUT_MS = 60_000;

export interface DistributedHerderDeps extends HerderDeps {
  readonly offsets: KafkaOffsetStore;
  readonly statuses: StatusStore;
  readonly configTopic: TopicSettings;
  readonly groupId: string;
  readonly timeouts: GroupTimeouts;
  /** scheduled.rebalance.max.delay.ms */
  readonly maxDelayMs: number;
  /** This worker's REST URL, where other workers forward requests (http://host:port). */
  readonly workerUrl: string;
  /** Applies a cluster-scoped log level read from the config topic to this worker's loggers. */
  readonly applyLoggerLevel: (namespace: string, level: string) => void;
  /** exactly.once.source.support=enabled: the leader writes the config topic transactionally (KIP-618). */
  readonly exactlyOnceSource?: boolean;
  /** How this worker connects to another's https listener when it forwards a request (its REST TLS settings). */
  readonly forwardTls?: ConnectionOptions;
}

/** The transactional id of the leader's config topic producer (Kafka's DistributedConfig.transactionalProducerId). */
export function leaderTransactionalId(groupId: string): string {
  return `connect-cluster-${groupId}`;
}

interface MemberMetadata {
  url: string;
  configOffset: number;
  owned: WorkId[];
}

interface WorkerAssignment {
  leaderId: string;
  leaderUrl: string;
  configOffset: number;
  assigned: WorkId[];
  revoked: WorkId[];
  delayMs: number;
}

export class DistributedHerder extends AbstractHerder implements Herder, ConfigListener {
  private readonly member: ClassicGroupMember;
  private readonly groupKafka: WorkerKafka;
  readonly configs: ConfigStore;
  private generation = -1;
  private leaderUrl = '';
  private isLeader = false;
  /** The work this worker runs, by work key. */
  private readonly owned = new Map<string, WorkId>();
  private memory: AssignorMemory = emptyAssignorMemory();
  private needRejoin = true;
  private rejoinAt: number | null = null;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Changes heard from the config topic, handled by the loop. */
  private readonly changedConnectors = new Set<string>();
  private readonly changedTasks = new Set<string>();
  private readonly changedTargets = new Set<string>();
  private readonly restarts: RestartRecord[] = [];
  /** Connectors that asked for their task configs to be generated again. */
  private readonly reconfigurations = new Set<string>();
  /** The leader's zombie fencing rounds in progress, by connector. */
  private readonly fencings = new Map<string, Promise<void>>();
  /** The last status written per work key, to write only changes. */
  private readonly published = new Map<string, string>();
  private readonly logger: Logger;
  /** The leader's transactional config writer, under exactly-once source support. */
  private leaderWriter: LeaderConfigWriter | undefined;

  constructor(private readonly distributed: DistributedHerderDeps) {
    super(distributed);
    this.logger = distributed.logger;
    // The group membership's own connections: a JoinGroup waits there for the whole rebalance.
    this.groupKafka = distributed.kafka.fork('group');
    this.member = new ClassicGroupMember(this.groupKafka.cluster, distributed.groupId, distributed.timeouts);
    const exactlyOnce = distributed.exactlyOnceSource === true;
    // Only committed records count under exactly-once support: a fenced leader's open transaction never does.
    this.configs = new ConfigStore(distributed.kafka, { ...distributed.configTopic, readCommitted: exactlyOnce }, this, distributed.logger.child('config'), exactlyOnce);
  }

  /** Reads the config topic and joins the group; work starts in the background. */
  async start(): Promise<void> {
    await this.configs.start();
    this.running = true;
    this.loop = this.run();
  }

  /** Stops every connector and task (committing offsets) and leaves the group. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    for (const work of this.ownedWork()) await this.stopWork(work);
    await this.member.leave();
    this.dropLeaderWriter();
    this.groupKafka.close();
    await this.configs.stop();
  }

  // ---- config topic listener (called while reading the topic) ----

  connectorConfigChanged(name: string): void {
    this.changedConnectors.add(name);
    this.wake();
  }
  taskConfigsCommitted(name: string): void {
    this.changedTasks.add(name);
    this.wake();
  }
  targetStateChanged(name: string): void {
    this.changedTargets.add(name);
    this.wake();
  }
  restartRequested(request: RestartRecord): void {
    this.restarts.push(request);
    this.wake();
  }
  loggerLevelChanged(namespace: string, level: string): void {
    // Also the records read at start: a worker that joins later takes the cluster's levels (KIP-976).
    try {
      this.distributed.applyLoggerLevel(namespace, level);
    } catch (error) {
      this.logger.warn(`ignoring the cluster log level ${level} for ${namespace}`, { error: (error as Error).message });
    }
  }

  /** Any worker writes it; every worker, this one included, applies it when it reads it back. */
  async setClusterLoggerLevel(namespace: string, level: string): Promise<void> {
    await this.configs.putLoggerLevel(namespace, level);
    await this.configs.readToEnd();
  }

  /** A connector this worker runs asked for its tasks to be reconfigured (its ConnectorContext). */
  requestTaskReconfiguration(name: string): void {
    this.reconfigurations.add(name);
    this.wake();
  }

  // ---- REST: reads are served from this worker's view of the topics ----

  connectors(): string[] {
    return [...this.configs.connectors.keys()].sort();
  }

  async connectorInfo(name: string): Promise<ConnectorInfo> {
    const config = this.configOf(name);
    return { name, config: { ...config }, tasks: this.taskList(name).map((_, task) => ({ connector: name, task })), type: this.deps.worker.kindOf(config) };
  }

  async connectorConfig(name: string): Promise<Record<string, string>> {
    return { ...this.configOf(name) };
  }

  async connectorStatus(name: string): Promise<ConnectorStateInfo> {
    const config = this.configOf(name, `No status found for connector ${name}`);
    const connector = this.distributed.statuses.connectors.get(name);
    return {
      name,
      connector: connector ? stateInfo(connector) : { state: 'UNASSIGNED', worker_id: '' },
      tasks: this.taskList(name).map((_, task) => this.taskState(name, task)),
      type: this.deps.worker.kindOf(config),
    };
  }

  async taskStatus(name: string, task: number): Promise<TaskStateInfo> {
    if (!this.configs.connectors.has(name) || !this.taskList(name)[task]) throw ConnectRestError.notFound(`No status found for task ${name}-${task}`);
    return this.taskState(name, task);
  }

  async taskConfigs(name: string): Promise<TaskInfo[]> {
    this.configOf(name);
    return this.taskList(name).map((config, task) => ({ id: { connector: name, task }, config: { ...config } }));
  }

  async connectorActiveTopics(name: string): Promise<string[]> {
    this.configOf(name);
    return [...(this.distributed.statuses.topics.get(name) ?? [])].sort();
  }

  async resetConnectorActiveTopics(name: string): Promise<void> {
    this.configOf(name);
    await this.distributed.statuses.resetTopics(name);
    this.deps.worker.resetTopics(name);
  }

  async connectorOffsets(name: string): Promise<ConnectorOffset[]> {
    const config = this.configOf(name);
    await this.distributed.offsets.readToEnd();
    return this.readOffsets(name, config);
  }

  async alterConnectorOffsets(name: string, offsets: ConnectorOffset[]): Promise<string> {
    return this.changeOffsets(name, this.stoppedConfig(name), offsets);
  }

  async resetConnectorOffsets(name: string): Promise<string> {
    return this.changeOffsets(name, this.stoppedConfig(name), 'reset');
  }

  // ---- REST: writes go to the leader ----

  async putConnectorConfig(name: string, config: Record<string, string>, allowReplace: boolean, initialState: InitialState = 'RUNNING'): Promise<{ created: boolean; info: ConnectorInfo }> {
    if (!this.isLeader) {
      if (allowReplace) {
        const existed = this.configs.connectors.has(name);
        const info = await this.forward<ConnectorInfo>('PUT', `/connectors/${encodeURIComponent(name)}/config`, config);
        return { created: !existed, info };
      }
      const info = await this.forward<ConnectorInfo>('POST', '/connectors', { name, config, initial_state: initialState });
      return { created: true, info };
    }
    await this.configs.readToEnd();
    const existing = this.configs.connectors.has(name);
    if (existing && !allowReplace) throw new ConnectRestError(409, `Connector ${name} already exists`);
    const full = { ...config, name };
    const infos = validateConnectorConfig(this.deps.plugins, full);
    if (infos.error_count > 0) throw invalidConfigError(infos);
    await this.writeConfigs(() => this.configs.putConnectorConfig(name, full, existing ? undefined : targetOf(initialState)));
    await this.configs.readToEnd();
    this.logger.info(`${existing ? 'updated' : 'created'} connector ${name}`);
    return { created: !existing, info: await this.connectorInfo(name) };
  }

  async patchConnectorConfig(name: string, patch: Record<string, string | null>): Promise<ConnectorInfo> {
    if (!this.isLeader) return this.forward<ConnectorInfo>('PATCH', `/connectors/${encodeURIComponent(name)}/config`, patch);
    const merged: Record<string, string> = { ...this.configOf(name) };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    if (merged.name !== undefined && merged.name !== name) throw new ConnectRestError(400, `Connector name configuration (${merged.name}) doesn't match connector name in the URL (${name})`);
    return (await this.putConnectorConfig(name, merged, true)).info;
  }

  async deleteConnector(name: string): Promise<void> {
    if (!this.isLeader) return this.forward('DELETE', `/connectors/${encodeURIComponent(name)}`);
    await this.configs.readToEnd();
    this.configOf(name);
    const taskCount = this.taskList(name).length;
    await this.writeConfigs(() => this.configs.removeConnector(name));
    await this.distributed.statuses.removeConnector(name, taskCount);
    await this.configs.readToEnd();
    this.logger.info(`deleted connector ${name}`);
  }

  async restartConnector(name: string, request: RestartRequest): Promise<ConnectorStateInfo | null> {
    if (!this.isLeader) {
      return this.forward<ConnectorStateInfo | null>('POST', `/connectors/${encodeURIComponent(name)}/restart?includeTasks=${request.includeTasks}&onlyFailed=${request.onlyFailed}`);
    }
    this.configOf(name, request.includeTasks || request.onlyFailed ? `Unknown connector: ${name}` : undefined);
    const plan = this.restartPlan(await this.connectorStatus(name), request);
    await this.writeConfigs(() => this.configs.requestRestart({ connector: name, includeTasks: request.includeTasks, onlyFailed: request.onlyFailed }));
    return plan.response;
  }

  async restartTask(name: string, task: number): Promise<void> {
    if (!this.isLeader) return this.forward('POST', `/connectors/${encodeURIComponent(name)}/tasks/${task}/restart`);
    this.configOf(name);
    if (!this.taskList(name)[task]) throw ConnectRestError.notFound(`Task ${name}-${task} not found`);
    await this.writeConfigs(() => this.configs.requestRestart({ connector: name, includeTasks: true, onlyFailed: false, task }));
  }

  pauseConnector(name: string): Promise<void> {
    return this.writeTarget(name, 'PAUSED', 'pause');
  }
  resumeConnector(name: string): Promise<void> {
    return this.writeTarget(name, 'STARTED', 'resume');
  }
  stopConnector(name: string): Promise<void> {
    return this.writeTarget(name, 'STOPPED', 'stop');
  }

  // ---- exactly-once sources: zombie fencing (KIP-618) ----

  /**
   * The leader's round for the connector's current task generation: fences the transactional
   * producers of every task of the last fenced generation, then writes the new task count, after
   * which the new generation's tasks may create their producers. Once per generation; concurrent
   * requests share the round in progress. Other workers forward the request to the leader.
   */
  async fenceZombies(name: string): Promise<void> {
    if (!this.isLeader) return this.forward('PUT', `/connectors/${encodeURIComponent(name)}/fence`);
    const config = this.configOf(name);
    if (this.deps.plugins.find(config['connector.class'] ?? '')?.kind !== 'source') throw new ConnectRestError(400, `Connector ${name} is not a source connector`);
    await this.configs.readToEnd();
    let round = this.fencings.get(name);
    if (!round) {
      round = this.fenceRound(name).finally(() => this.fencings.delete(name));
      this.fencings.set(name, round);
    }
    return round;
  }

  /** For a task of this worker that is starting: its generation's round, retried across rebalances. */
  async fenceZombiesForTask(name: string): Promise<void> {
    const deadline = Date.now() + FENCING_TIMEOUT_MS;
    for (;;) {
      try {
        return await this.fenceZombies(name);
      } catch (error) {
        // 409: no leader known or reachable yet, or the task configs changed during the round.
        if (!(error instanceof ConnectRestError && error.status === 409) || Date.now() >= deadline || !this.running) throw error;
        await sleep(TICK_MS);
      }
    }
  }

  private async fenceRound(name: string): Promise<void> {
    if (!this.configs.pendingFencing(name)) return;
    const generation = this.configs.taskGeneration(name);
    const count = this.taskList(name).length;
    const previous = this.configs.taskCountRecords.get(name);
    // No task count yet: no producer of the connector ever ran. One task then and one now: the new
    // task's own InitProducerId fences the old one. Kafka skips the round in both cases too.
    if (previous !== undefined && !(previous === 1 && count === 1)) {
      this.logger.info(`fencing the producers of ${name}'s ${previous} tasks of the previous generation`);
      const ids = Array.from({ length: previous }, (_, task) => sourceTaskTransactionalId(this.distributed.groupId, name, task));
      await fenceProducers(this.distributed.kafka.cluster, ids);
    }
    await this.writeConfigs(() => this.configs.putTaskCountRecord(name, count, generation));
    await this.configs.readToEnd();
    if (this.configs.pendingFencing(name)) throw new ConnectRestError(409, `The task configs of connector ${name} changed during its zombie fencing round; fence again`);
  }

  // ---- the worker's loop: rebalances, config changes, statuses ----

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (this.member.rebalanceNeeded || this.needRejoin || (this.rejoinAt !== null && Date.now() >= this.rejoinAt)) await this.rebalance();
        await this.updateLeaderWriter();
        await this.handleChanges();
        await this.publishStatuses();
      } catch (error) {
        this.logger.warn('the worker loop failed; retrying', { error: (error as Error).message });
        this.needRejoin = this.needRejoin || this.member.rebalanceNeeded;
        await sleep(TICK_MS);
      }
      if (!this.running) break;
      const waitMs = this.rejoinAt === null ? TICK_MS : Math.max(0, Math.min(TICK_MS, this.rejoinAt - Date.now()));
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, waitMs);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolveWait();
        };
      });
      this.wakeUp = undefined;
    }
  }

  private wake(): void {
    this.wakeUp?.();
  }

  private async rebalance(): Promise<void> {
    await this.configs.readToEnd();
    const metadata: MemberMetadata = { url: this.distributed.workerUrl, configOffset: this.configs.offset, owned: this.ownedWork() };
    const joined = await this.member.join({
      protocolType: 'connect',
      protocols: [{ name: PROTOCOL, metadata: jsonBytes(metadata) }],
      assign: (_protocol, members) => this.assignAsLeader(members),
    });
    // Cleared only once joined: a join that fails is tried again on the next tick.
    this.needRejoin = false;
    this.rejoinAt = null;
    const assignment = JSON.parse(joined.assignment.toString('utf8')) as WorkerAssignment;
    this.generation = joined.generationId;
    this.isLeader = joined.leaderId === joined.memberId;
    this.leaderUrl = assignment.leaderUrl;
    await this.updateLeaderWriter();
    while (this.configs.offset < assignment.configOffset) await this.configs.readToEnd();
    for (const work of assignment.revoked) await this.stopWork(work);
    if (assignment.assigned.some((work) => work.kind === 'task')) await this.distributed.offsets.readToEnd();
    for (const work of assignment.assigned) await this.startWork(work);
    this.logger.info(`joined generation ${this.generation} as ${this.isLeader ? 'leader' : 'member'}`, { assigned: assignment.assigned.length, revoked: assignment.revoked.length, delayMs: assignment.delayMs });
    // Revoked work is placed in a second round, which this member starts by rejoining at once.
    if (assignment.revoked.length > 0) this.needRejoin = true;
    if (assignment.delayMs > 0) this.rejoinAt = Date.now() + assignment.delayMs;
  }

  private async assignAsLeader(members: readonly { memberId: string; metadata: Buffer }[]): Promise<Map<string, Buffer>> {
    await this.configs.readToEnd();
    const decoded = members.map((member) => ({ memberId: member.memberId, ...(JSON.parse(member.metadata.toString('utf8')) as MemberMetadata) }));
    const configured = new Map<string, number>();
    for (const name of this.configs.connectors.keys()) configured.set(name, this.configs.targetState(name) === 'STOPPED' ? 0 : this.taskList(name).length);
    const result = assign({
      members: decoded.map((member) => ({ memberId: member.memberId, workerUrl: member.url, owned: member.owned })),
      configured,
      memory: this.memory,
      nowMs: Date.now(),
      maxDelayMs: this.distributed.maxDelayMs,
    });
    this.memory = result.memory;
    return new Map(result.assignments.map((assignment) => [assignment.memberId, jsonBytes({
      leaderId: this.member.memberId,
      leaderUrl: this.distributed.workerUrl,
      configOffset: this.configs.offset,
      assigned: assignment.assigned,
      revoked: assignment.revoked,
      delayMs: assignment.delayMs,
    } satisfies WorkerAssignment)]));
  }

  /** Applies what the config topic said since the last tick to the work this worker runs. */
  private async handleChanges(): Promise<void> {
    const connectors = [...this.changedConnectors];
    const tasks = [...this.changedTasks];
    const targets = [...this.changedTargets];
    const restarts = this.restarts.splice(0);
    this.changedConnectors.clear();
    this.changedTasks.clear();
    this.changedTargets.clear();
    // New or removed connectors and a new set of tasks change the assignment: the leader rebalances.
    // (A stop or a resume from stopped changes the task set too, through the owner's commit record.)
    if (this.isLeader && (connectors.length > 0 || tasks.length > 0)) this.needRejoin = true;
    for (const name of connectors) {
      if (!this.owns({ kind: 'connector', connector: name })) continue;
      await this.stopWork({ kind: 'connector', connector: name });
      if (this.configs.connectors.has(name)) await this.startWork({ kind: 'connector', connector: name });
    }
    for (const name of tasks) {
      for (const work of this.ownedWork()) if (work.kind === 'task' && work.connector === name) await this.restartWork(work);
    }
    for (const name of targets) await this.applyTarget(name);
    for (const name of [...this.reconfigurations]) {
      this.reconfigurations.delete(name);
      const config = this.configs.connectors.get(name);
      if (config && this.owns({ kind: 'connector', connector: name })) await this.writeTaskConfigs(name, config, this.configs.targetState(name));
    }
    for (const request of restarts) await this.applyRestart(request);
    // Work whose connector is gone stops at once, before the leader's revocation arrives.
    for (const work of this.ownedWork()) if (!this.configs.connectors.has(work.connector)) await this.stopWork(work);
    if (this.needRejoin) this.wake();
  }

  private async applyTarget(name: string): Promise<void> {
    const target = this.configs.targetState(name);
    const connector: WorkId = { kind: 'connector', connector: name };
    if (target === 'STOPPED') {
      if (this.owns(connector)) {
        // The owner empties the task set; the leader then revokes the tasks.
        await this.stopWork(connector);
        await this.startWork(connector);
      }
      for (const work of this.ownedWork()) if (work.kind === 'task' && work.connector === name) await this.stopWork(work);
      return;
    }
    if (this.owns(connector) && this.deps.worker.connectorState(name).state === 'STOPPED') {
      await this.stopWork(connector);
      await this.startWork(connector);
      return;
    }
    this.deps.worker.setConnectorTarget(name, target);
  }

  private async applyRestart(request: RestartRecord): Promise<void> {
    const status = await this.connectorStatus(request.connector).catch(() => undefined);
    if (!status) return;
    if (request.task !== undefined) {
      const work: WorkId = { kind: 'task', connector: request.connector, task: request.task };
      if (this.owns(work)) await this.restartWork(work);
      return;
    }
    const plan = this.restartPlan(status, request);
    const connector: WorkId = { kind: 'connector', connector: request.connector };
    if (plan.connector && this.owns(connector)) await this.restartWork(connector);
    for (const task of plan.tasks) {
      const work: WorkId = { kind: 'task', connector: request.connector, task };
      if (this.owns(work)) await this.restartWork(work);
    }
  }

  private async startWork(work: WorkId): Promise<void> {
    const config = this.configs.connectors.get(work.connector);
    if (!config) return;
    const target = this.configs.targetState(work.connector);
    this.owned.set(workKey(work), work);
    if (work.kind === 'connector') {
      await this.deps.worker.startConnector(work.connector, config, target);
      await this.writeTaskConfigs(work.connector, config, target);
      return;
    }
    const taskConfig = this.taskList(work.connector)[work.task];
    if (!taskConfig || target === 'STOPPED') return;
    this.deps.worker.startTask({ connector: work.connector, task: work.task }, config, taskConfig, target);
  }

  /** The connector's owner writes its task configs when they differ from the committed ones. */
  private async writeTaskConfigs(name: string, config: Record<string, string>, target: TargetState): Promise<void> {
    const configs = target === 'STOPPED' ? [] : await this.deps.worker.taskConfigs(name, config);
    if (target !== 'STOPPED' && !this.deps.worker.isRunning(name)) return;
    if (JSON.stringify(configs) === JSON.stringify(this.configs.taskConfigs.get(name) ?? [])) return;
    try {
      // Under exactly-once support only the leader writes the config topic: the owner hands it the configs.
      if (this.leaderWriter === undefined && this.distributed.exactlyOnceSource === true) await this.forward('POST', `/connectors/${encodeURIComponent(name)}/tasks`, configs);
      else await this.writeConfigs(() => this.configs.putTaskConfigs(name, configs));
    } catch (error) {
      // Tried again on a later tick (Kafka's reconfigureConnectorTasksWithRetry), after a rebalance if one is due.
      this.logger.warn(`could not write the task configs of ${name}; retrying`, { error: (error as Error).message });
      this.reconfigurations.add(name);
      await sleep(TICK_MS);
    }
  }

  /** POST /connectors/{name}/tasks, between workers: the owner of a connector hands its task configs to the leader. */
  async putTaskConfigs(name: string, configs: Record<string, string>[]): Promise<void> {
    if (!this.isLeader) return this.forward('POST', `/connectors/${encodeURIComponent(name)}/tasks`, configs);
    await this.configs.readToEnd();
    this.configOf(name);
    await this.writeConfigs(() => this.configs.putTaskConfigs(name, configs));
    await this.configs.readToEnd();
  }

  // ---- the leader's transactional writes (exactly-once source support) ----

  /**
   * On becoming leader, a writer whose InitProducerId fences every earlier leader's; on losing it,
   * none. A writer that cannot be made now is tried again on the next tick; meanwhile the leader's
   * writes are refused as retriable (409), and the assignment it was given still runs.
   */
  private async updateLeaderWriter(): Promise<void> {
    if (this.distributed.exactlyOnceSource !== true) return;
    if (!this.isLeader) return this.dropLeaderWriter();
    if (this.leaderWriter !== undefined) return;
    const writer = new LeaderConfigWriter(this.distributed.kafka.fork('config-leader'), leaderTransactionalId(this.distributed.groupId), () => this.configs.topicInfo);
    try {
      await writer.init();
    } catch (error) {
      writer.close();
      this.logger.warn('the leader\'s transactional config topic producer could not be initialized; trying again', { error: (error as Error).message });
      return;
    }
    this.leaderWriter = writer;
    this.configs.privileged = writer;
    this.logger.info(`writing the config topic transactionally as the leader (transactional id ${leaderTransactionalId(this.distributed.groupId)})`);
  }

  private dropLeaderWriter(): void {
    this.leaderWriter?.close();
    this.leaderWriter = undefined;
    this.configs.privileged = undefined;
  }

  /**
   * Runs a leader's config write; when its producer was fenced (another worker became leader, or
   * claims to be), this worker stops writing as leader and rejoins the group to find out.
   */
  private async writeConfigs(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (!(error instanceof ProducerFencedError)) throw error;
      this.logger.warn('the leader\'s config topic producer was fenced: another worker has written as leader; rejoining', { error: error.message });
      this.dropLeaderWriter();
      this.isLeader = false;
      this.needRejoin = true;
      this.wake();
      throw new ConnectRestError(409, `This worker's transactional producer for the config topic was fenced by another worker writing as the group's leader; a rebalance is underway and the request can be retried`);
    }
  }

  private async stopWork(work: WorkId): Promise<void> {
    this.owned.delete(workKey(work));
    this.published.delete(workKey(work));
    if (work.kind === 'connector') await this.deps.worker.stopConnector(work.connector);
    else await this.deps.worker.stopTask({ connector: work.connector, task: work.task });
  }

  private async restartWork(work: WorkId): Promise<void> {
    await this.stopWork(work);
    await this.startWork(work);
  }

  /** Writes the status of each piece of owned work that changed since it was last written. */
  private async publishStatuses(): Promise<void> {
    for (const work of this.ownedWork()) {
      if (!this.configs.connectors.has(work.connector)) continue;
      const current = work.kind === 'connector' ? this.deps.worker.connectorState(work.connector) : this.deps.worker.taskState({ connector: work.connector, task: work.task });
      let state: ConnectorState = current.state;
      if (work.kind === 'connector' && this.configs.targetState(work.connector) === 'STOPPED' && state !== 'FAILED') state = 'STOPPED';
      if (work.kind === 'task' && state === 'UNASSIGNED') continue;
      const text = `${state}\n${current.trace ?? ''}\n${this.generation}`;
      const key = workKey(work);
      if (this.published.get(key) === text) continue;
      const status = { state, ...(current.trace ? { trace: current.trace } : {}), workerId: this.workerId, generation: this.generation };
      if (work.kind === 'connector') await this.distributed.statuses.putConnector(work.connector, status);
      else await this.distributed.statuses.putTask(work.connector, work.task, status);
      this.published.set(key, text);
    }
    for (const name of new Set(this.ownedWork().map((work) => work.connector))) {
      for (const topic of this.deps.worker.topicsOf(name)) await this.distributed.statuses.putTopic(name, topic);
    }
  }

  // ---- helpers ----

  private ownedWork(): WorkId[] {
    return [...this.owned.values()];
  }

  private owns(work: WorkId): boolean {
    return this.owned.has(workKey(work));
  }

  /** The connector's config; a 404 with `notFound` (Kafka's wording differs by endpoint) when there is none. */
  private configOf(name: string, notFound = `Connector ${name} not found`): Record<string, string> {
    const config = this.configs.connectors.get(name);
    if (!config) throw ConnectRestError.notFound(notFound);
    return config;
  }

  private stoppedConfig(name: string): Record<string, string> {
    const config = this.configOf(name);
    if (this.configs.targetState(name) !== 'STOPPED') throw this.stoppedError(name);
    return config;
  }

  private taskList(name: string): Record<string, string>[] {
    return this.configs.taskConfigs.get(name) ?? [];
  }

  private taskState(name: string, task: number): TaskStateInfo {
    const status = this.distributed.statuses.tasks.get(`${name}-${task}`);
    return status ? { id: task, ...stateInfo(status) } : { id: task, state: 'UNASSIGNED', worker_id: '' };
  }

  private async writeTarget(name: string, state: TargetState, path: string): Promise<void> {
    if (!this.isLeader) return this.forward('PUT', `/connectors/${encodeURIComponent(name)}/${path}`);
    this.configOf(name, state === 'STOPPED' ? undefined : `Unknown connector ${name}`);
    await this.writeConfigs(() => this.configs.putTargetState(name, state));
    await this.configs.readToEnd();
  }

  /** Sends the request to the leader's REST API and returns its answer (errors keep their status). */
  private async forward<T = void>(method: string, path: string, body?: unknown): Promise<T> {
    if (this.leaderUrl === '' || this.leaderUrl === this.distributed.workerUrl) {
      throw new ConnectRestError(409, 'Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.');
    }
    const response = await requestWorker(`${this.leaderUrl}${path}`, method, body, FORWARD_TIMEOUT_MS, this.distributed.forwardTls).catch((error: unknown) => {
      throw new ConnectRestError(409, `Cannot complete request because the leader at ${this.leaderUrl} could not be reached (${(error as Error).message}); a rebalance is likely underway`);
    });
    const text = response.text;
    if (response.status < 200 || response.status >= 300) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new ConnectRestError(response.status, message);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

function stateInfo(status: { state: ConnectorState; trace?: string; workerId: string }): { state: ConnectorState; worker_id: string; trace?: string } {
  return { state: status.state, worker_id: status.workerId, ...(status.trace ? { trace: status.trace } : {}) };
}

/**
 * The leader's transactional producer for the config topic: each write is one transaction. A
 * transaction that cannot commit is aborted and the write fails (the caller may retry); a fenced
 * producer stays fenced.
 */
class LeaderConfigWriter implements PrivilegedWriter {
  private readonly producer: TransactionalProducer;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly kafka: WorkerKafka,
    transactionalId: string,
    private readonly topic: () => TopicInfo,
  ) {
    this.producer = new TransactionalProducer(kafka.cluster, { transactionalId });
  }

  init(): Promise<void> {
    return this.producer.init();
  }

  /** Writes one after another: REST requests and the worker's loop may write at the same time. */
  write(records: readonly ConfigRecord[]): Promise<void> {
    const written = this.queue.then(() => this.writeNow(records));
    this.queue = written.catch(() => undefined);
    return written;
  }

  private async writeNow(records: readonly ConfigRecord[]): Promise<void> {
    const topic = this.topic();
    this.producer.beginTransaction();
    try {
      await this.producer.send(records.map((record) => ({ topic: topic.name, partition: 0, key: record.key, value: record.value, headers: [] })), new Map([[topic.name, topic]]));
      await this.producer.commitTransaction();
    } catch (error) {
      // Nothing of it committed: the transaction is aborted so the next write can begin one (a fenced producer cannot).
      if (!(error instanceof ProducerFencedError)) await this.producer.abortTransaction().catch(() => undefined);
      throw error;
    }
  }

  close(): void {
    this.producer.close();
    this.kafka.close();
  }
}
