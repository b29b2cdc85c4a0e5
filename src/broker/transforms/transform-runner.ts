// Runs the broker transforms on this broker: reads `__conveyor_transforms` (deployments and their
// status) through the internal client, connected to this broker's own listener, and for every
// transform that should run, processes the input partitions this broker leads, as its metadata
// image says (checked again after every poll, so after a failover the new leader takes over from
// the committed offset). Per partition: consume a batch, run it through the transform's worker,
// produce the outputs with acks=all, and only once they are acknowledged commit the next input
// offset to the consumer group `__transform-<name>`: at-least-once, a batch is redone only when
// its outputs may not all have been written. A TransformFailure (the user's code) stops the
// transform here at once and writes its status PAUSED with the error, which stops it on the other
// brokers too; anything else (a leader moving, a coordinator loading) is retried.
import type { Clock } from '../../base/clock.js';
import { ErrorCode } from '../../base/error-codes.js';
import type { Logger } from '../../base/logger.js';
import { AdminClient, OffsetSpec, type TopicInfo } from '../../client/admin-client.js';
import { type ClusterClient, KafkaResponseError } from '../../client/cluster-client.js';
import { Consumer } from '../../client/consumer.js';
import { commitGroupOffsets, fetchGroupOffsets } from '../../client/group-offsets.js';
import { Producer, type ProducerRecord } from '../../client/producer.js';
import {
  TRANSFORMS_TOPIC,
  type TransformDeployment,
  type TransformsView,
  applyRecord,
  deploymentProblem,
  emptyView,
  encodeStatus,
  statusKey,
  transformGroupId,
} from './transform-records.js';
import { TransformFailure, type TransformOutput, TransformWorker } from './transform-worker.js';

/** How long a fetch waits for records: also how soon a stopping runner is done waiting. */
const POLL_WAIT_MS = 250;
/** The most input records one call of the worker gets (and one commit covers). */
export const MAX_BATCH_RECORDS = 500;
/** How long a loop waits after an error it retries (no topic yet, a leader moving). */
const RETRY_BACKOFF_MS = 500;
/** How often a produce or commit is tried before the batch is given up (and redone from the committed offset). */
const WRITE_ATTEMPTS = 10;

export interface TransformRunnerOptions {
  nodeId: number;
  /**
   * Opens a client of this broker's own listener (the caller closes it). Each loop has its own
   * connection: a broker answers a connection's requests in order, so a fetch waiting for records
   * would hold up every produce and commit queued behind it on a shared one.
   */
  openClient: (purpose: string) => ClusterClient;
  /** The leader of a partition and the partition count of a topic, from this broker's metadata image. */
  leaderOf: (topic: string, partition: number) => number | undefined;
  partitionCount: (topic: string) => number;
  /** transforms.max.memory.mb: a deployment asking for more does not start here. */
  maxMemoryMb: number;
  clock: Clock;
  logger: Logger;
}

export class TransformRunner {
  readonly #options: TransformRunnerOptions;
  /** The control loop's client (its long polls of the transforms topic) and the status writer's. */
  readonly #control: ClusterClient;
  readonly #statusClient: ClusterClient;
  readonly #view: TransformsView = emptyView();
  readonly #runs = new Map<string, TransformRun>();
  /** Runs being stopped: a new run of the same transform starts only after the old one is done. */
  readonly #stopping = new Map<string, Promise<void>>();
  /** Per transform, the run key that failed here: not started again until the deployment or status changes. */
  readonly #failed = new Map<string, string>();
  readonly #sleeps = new Set<() => void>();
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(options: TransformRunnerOptions) {
    this.#options = options;
    this.#control = options.openClient('control');
    this.#statusClient = options.openClient('status');
  }

  start(): void {
    this.#loop = this.#controlLoop();
  }

  /** Whether this broker runs no transform now (nothing to finish on a stop). */
  isIdle(): boolean {
    return this.#runs.size === 0 && this.#stopping.size === 0;
  }

  /** What this broker runs now: transform name and the input partitions it processes. */
  running(): Map<string, number[]> {
    return new Map([...this.#runs].map(([name, run]) => [name, run.partitions()]));
  }

  /** Stops taking work; each partition finishes (produces and commits) the batch it is on. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const wake of [...this.#sleeps]) wake();
    await this.#loop;
    const runs = [...this.#runs.values()];
    this.#runs.clear();
    await Promise.all([...runs.map((run) => run.stop()), ...this.#stopping.values()]);
    this.#closeClients();
  }

  /** Stops at once, as a crash would: workers terminated, nothing finished or committed. */
  halt(): void {
    this.#stopped = true;
    for (const wake of [...this.#sleeps]) wake();
    for (const run of this.#runs.values()) run.halt();
    this.#runs.clear();
    this.#closeClients();
  }

  #closeClients(): void {
    this.#control.close();
    this.#statusClient.close();
  }

  /** Reads the topic from its start, then follows it; reconciles the runs after every poll. */
  async #controlLoop(): Promise<void> {
    let consumer: Consumer | undefined;
    while (!this.#stopped) {
      try {
        // No connection at all until a transform was ever deployed: most brokers never have one.
        if (this.#options.partitionCount(TRANSFORMS_TOPIC) > 0) consumer ??= await this.#openTopic();
        if (consumer === undefined) await this.#sleep(RETRY_BACKOFF_MS);
        else for (const record of await consumer.poll(POLL_WAIT_MS)) applyRecord(this.#view, record.key, record.value);
        if (!this.#stopped) this.#reconcile();
      } catch (error) {
        if (this.#stopped) break;
        this.#options.logger.warn('reading the transforms failed; retrying', { error: String(error) });
        consumer = undefined;
        await this.#sleep(RETRY_BACKOFF_MS);
      }
    }
  }

  /** A consumer of the transforms topic from its first record, or undefined while there is no topic. */
  async #openTopic(): Promise<Consumer | undefined> {
    const admin = new AdminClient(this.#control);
    let topic: TopicInfo;
    try {
      topic = await admin.describeTopic(TRANSFORMS_TOPIC);
    } catch (error) {
      if (error instanceof KafkaResponseError && error.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return undefined;
      throw error;
    }
    const earliest = await admin.listOffsets(topic, OffsetSpec.earliest);
    return new Consumer(this.#control, topic, new Map(topic.partitions.map(({ partition }) => [partition, earliest.get(partition) ?? 0])));
  }

  /** Starts, moves and stops runs to match the topic and this broker's leaderships. */
  #reconcile(): void {
    for (const [name, run] of this.#runs) {
      if (this.#wanted(name)?.key !== run.key) this.#retire(name, run);
    }
    for (const name of this.#view.deployments.keys()) {
      const wanted = this.#wanted(name);
      if (wanted === undefined) continue;
      let run = this.#runs.get(name);
      if (run === undefined) {
        run = new TransformRun(wanted.deployment, wanted.key, this.#stopping.get(name) ?? Promise.resolve(), this.#runContext());
        this.#runs.set(name, run);
      }
      run.assign(this.#ledPartitions(wanted.deployment.inputTopic));
    }
  }

  /** The deployment to run and its run key (deployment and status versions), or undefined when it should not run. */
  #wanted(name: string): { deployment: TransformDeployment; key: string } | undefined {
    const deployment = this.#view.deployments.get(name);
    if (deployment === undefined) return undefined;
    const status = this.#view.statuses.get(name);
    if (status?.state === 'PAUSED') return undefined;
    const key = this.#runKey(name);
    return this.#failed.get(name) === key ? undefined : { deployment, key };
  }

  /** Which deployment and which status a run starts from: a redeploy or a resume changes it. */
  #runKey(name: string): string {
    return `${this.#view.deployments.get(name)?.createdAt ?? 'removed'}/${this.#view.statuses.get(name)?.updatedAt ?? 0}`;
  }

  #ledPartitions(topic: string): number[] {
    const { leaderOf, partitionCount, nodeId } = this.#options;
    const led: number[] = [];
    for (let partition = 0; partition < partitionCount(topic); partition++) if (leaderOf(topic, partition) === nodeId) led.push(partition);
    return led;
  }

  #retire(name: string, run: TransformRun): void {
    this.#runs.delete(name);
    const stopped = run.stop();
    this.#stopping.set(name, stopped);
    void stopped.finally(() => {
      if (this.#stopping.get(name) === stopped) this.#stopping.delete(name);
    });
  }

  #runContext(): RunContext {
    return {
      openClient: this.#options.openClient,
      clock: this.#options.clock,
      logger: this.#options.logger,
      maxMemoryMb: this.#options.maxMemoryMb,
      sleep: (ms) => this.#sleep(ms),
      failed: (run, error) => this.#onFailure(run, error),
    };
  }

  /** The user's code failed: stop the transform here now, and tell every broker through its status. */
  #onFailure(run: TransformRun, error: string): void {
    const name = run.deployment.name;
    this.#options.logger.warn('a transform failed and is paused', { transform: name, error });
    this.#failed.set(name, run.key);
    if (this.#runs.get(name) === run) this.#retire(name, run);
    void this.#writeStatus(name, run.key, error);
  }

  async #writeStatus(name: string, key: string, error: string): Promise<void> {
    const status = encodeStatus({ name, state: 'PAUSED', error, updatedAt: this.#options.clock.nowMs(), by: `broker ${this.#options.nodeId}` });
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS && !this.#stopped; attempt++) {
      // Redeployed, resumed or removed since it failed: the failure is of a run nobody wants now.
      if (this.#runKey(name) !== key) return;
      try {
        const producer = new Producer(this.#statusClient, await new AdminClient(this.#statusClient).describeTopic(TRANSFORMS_TOPIC), { compression: 0, acks: -1 });
        const [result] = await producer.send([{ key: statusKey(name), value: status, headers: [] }]);
        if (result?.error === null) return;
        throw new Error(result?.error ?? 'no result');
      } catch (writeError) {
        this.#options.logger.warn('writing a transform\'s status failed', { transform: name, attempt, error: String(writeError) });
        await this.#sleep(RETRY_BACKOFF_MS);
      }
    }
  }

  /** Waits `ms`, or less when the runner stops. */
  #sleep(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        cancel();
        this.#sleeps.delete(wake);
        resolve();
      };
      const cancel = this.#options.clock.schedule(ms, wake);
      this.#sleeps.add(wake);
    });
  }
}

interface RunContext {
  openClient: (purpose: string) => ClusterClient;
  clock: Clock;
  logger: Logger;
  maxMemoryMb: number;
  sleep: (ms: number) => Promise<void>;
  failed: (run: TransformRun, error: string) => void;
}

interface PartitionTask {
  stopped: boolean;
  halted: boolean;
  done: Promise<void>;
}

/** One transform's work on this broker: a worker and a loop per input partition led here. */
class TransformRun {
  readonly #tasks = new Map<number, PartitionTask>();
  /** The loops of partitions no longer led here, finishing their batch: one that comes back waits for its old loop. */
  readonly #draining = new Map<number, Promise<void>>();
  #worker: Promise<TransformWorker> | undefined;
  #failed = false;
  #stopped = false;

  constructor(
    readonly deployment: TransformDeployment,
    readonly key: string,
    /** The previous run of the transform, stopping: its last batch is committed before this one reads. */
    private readonly previous: Promise<void>,
    private readonly context: RunContext,
  ) {}

  partitions(): number[] {
    return [...this.#tasks.keys()].sort((a, b) => a - b);
  }

  /** Processes exactly these input partitions from now on. */
  assign(partitions: readonly number[]): void {
    if (this.#stopped) return;
    for (const [partition, task] of this.#tasks) {
      if (partitions.includes(partition)) continue;
      task.stopped = true;
      this.#tasks.delete(partition);
      this.#draining.set(partition, task.done);
      void task.done.then(() => {
        if (this.#draining.get(partition) === task.done) this.#draining.delete(partition);
      });
    }
    for (const partition of partitions) {
      if (this.#tasks.has(partition)) continue;
      const task: PartitionTask = { stopped: false, halted: false, done: Promise.resolve() };
      task.done = Promise.all([this.previous, this.#draining.get(partition)])
        .then(() => this.#partitionLoop(partition, task))
        .catch((error: unknown) => this.context.logger.error('a transform\'s partition loop ended unexpectedly', { transform: this.deployment.name, partition, error: String(error) }));
      this.#tasks.set(partition, task);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const tasks = [...this.#tasks.values()];
    for (const task of tasks) task.stopped = true;
    await Promise.all([...tasks.map((task) => task.done), ...this.#draining.values()]);
    await this.#terminateWorker();
  }

  halt(): void {
    this.#stopped = true;
    for (const task of this.#tasks.values()) Object.assign(task, { stopped: true, halted: true });
    void this.#terminateWorker();
  }

  async #terminateWorker(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.then((started) => started.terminate(), () => {});
  }

  #fail(error: string): void {
    if (this.#failed) return;
    this.#failed = true;
    for (const task of this.#tasks.values()) task.stopped = true;
    this.context.failed(this, error);
  }

  #startWorker(): Promise<TransformWorker> {
    const { deployment, context } = this;
    const problem = deploymentProblem(deployment);
    if (problem) return Promise.reject(new TransformFailure(problem));
    if (deployment.memoryLimitMb > context.maxMemoryMb) {
      return Promise.reject(new TransformFailure(`asks for ${deployment.memoryLimitMb} MB of memory, more than this broker's transforms.max.memory.mb (${context.maxMemoryMb})`));
    }
    return TransformWorker.start({ code: deployment.code, environment: deployment.environment, memoryLimitMb: deployment.memoryLimitMb, timeoutMs: deployment.timeoutMs, clock: context.clock });
  }

  async #partitionLoop(partition: number, task: PartitionTask): Promise<void> {
    const client = this.context.openClient(`${this.deployment.name}-${partition}`);
    try {
      await this.#process(partition, task, client);
    } finally {
      client.close();
    }
  }

  async #process(partition: number, task: PartitionTask, client: ClusterClient): Promise<void> {
    const { deployment, context } = this;
    const admin = new AdminClient(client);
    let consumer: Consumer | undefined;
    let producer: Producer | undefined;
    while (!task.stopped) {
      try {
        if (consumer === undefined || producer === undefined) {
          this.#worker ??= this.#startWorker();
          await this.#worker;
          producer = new Producer(client, await this.#outputTopics(admin), { compression: 0, acks: -1 });
          consumer = await this.#consumerFrom(admin, partition);
        }
        const records = await consumer.poll(POLL_WAIT_MS);
        // A stopping partition finishes the batch it is on, so what it wrote is committed, and
        // starts no other: records polled after the stop are left for the next run.
        for (let start = 0; start < records.length && !task.stopped; start += MAX_BATCH_RECORDS) {
          const batch = records.slice(start, start + MAX_BATCH_RECORDS);
          const worker = await this.#worker!;
          const outputs = await worker.run(batch.map((record) => ({ key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp, topic: deployment.inputTopic, partition, offset: record.offset })));
          if (task.halted) return;
          await this.#produce(admin, producer, outputs, task);
          await this.#commit(client, partition, batch.at(-1)!.offset + 1, task);
        }
      } catch (error) {
        if (error instanceof TransformFailure) {
          // The worker stopped because this run is stopping: not a failure of the user's code.
          if (!this.#stopped) this.#fail(error.message);
          return;
        }
        if (task.stopped) return;
        context.logger.warn('a transform\'s partition loop failed; retrying from the committed offset', { transform: deployment.name, partition, error: String(error) });
        consumer = undefined;
        await context.sleep(RETRY_BACKOFF_MS);
      }
    }
  }

  async #outputTopics(admin: AdminClient): Promise<TopicInfo[]> {
    return Promise.all(this.deployment.outputTopics.map(async (name) => {
      try {
        return await admin.describeTopic(name);
      } catch (error) {
        if (error instanceof KafkaResponseError && error.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) throw new TransformFailure(`its output topic '${name}' does not exist`);
        throw error;
      }
    }));
  }

  /** A consumer of the input partition at the group's committed offset, else at the partition's start. */
  async #consumerFrom(admin: AdminClient, partition: number): Promise<Consumer> {
    const cluster = admin.cluster;
    const input = await admin.describeTopic(this.deployment.inputTopic);
    const own = { ...input, partitions: input.partitions.filter((info) => info.partition === partition) };
    const committed = (await fetchGroupOffsets(cluster, transformGroupId(this.deployment.name))).find((offset) => offset.topic === input.name && offset.partition === partition);
    const earliest = (await admin.listOffsets(own, OffsetSpec.earliest)).get(partition) ?? 0;
    // Retention may have deleted past the committed offset: what is left is all there is.
    const position = Math.max(committed?.offset ?? earliest, earliest);
    return new Consumer(cluster, own, new Map([[partition, position]]));
  }

  /** Writes the outputs, retrying the records that failed; gives up (a TransformFailure) after WRITE_ATTEMPTS. */
  async #produce(admin: AdminClient, producer: Producer, outputs: readonly TransformOutput[], task: PartitionTask): Promise<void> {
    const { outputTopics } = this.deployment;
    let pending: ProducerRecord[] = outputs.map((output) => {
      const topic = output.topic ?? outputTopics[0]!;
      if (!outputTopics.includes(topic)) throw new TransformFailure(`invalid output: topic '${topic}' is not one of the transform's output topics (${outputTopics.join(', ')})`);
      return { topic, key: output.key, value: output.value, headers: output.headers, timestamp: output.timestamp };
    });
    for (let attempt = 1; pending.length > 0; attempt++) {
      const results = await producer.send(pending);
      const failed = results.flatMap((result, index) => (result.error === null ? [] : [{ result, record: pending[index]! }]));
      if (failed.length === 0) return;
      const reason = failed[0]!.result.error;
      if (attempt >= WRITE_ATTEMPTS || task.halted) throw new TransformFailure(`producing its output failed ${attempt} times: ${reason}`);
      this.context.logger.warn('producing a transform\'s output failed; retrying', { transform: this.deployment.name, attempt, error: reason });
      await this.context.sleep(RETRY_BACKOFF_MS);
      for (const topic of await this.#outputTopics(admin)) producer.setTopic(topic);
      pending = failed.map(({ record }) => record);
    }
  }

  async #commit(client: ClusterClient, partition: number, offset: number, task: PartitionTask): Promise<void> {
    const groupId = transformGroupId(this.deployment.name);
    for (let attempt = 1; ; attempt++) {
      try {
        await commitGroupOffsets(client, groupId, [{ topic: this.deployment.inputTopic, partition, offset }]);
        return;
      } catch (error) {
        // Not committed: the batch is redone from the last commit (its outputs written twice, as at-least-once allows).
        if (attempt >= WRITE_ATTEMPTS || task.halted) throw error;
        await this.context.sleep(RETRY_BACKOFF_MS);
      }
    }
  }
}
