/**
 * KafkaStreams: runs a topology against a Kafka-protocol cluster (Conveyor or Apache Kafka).
 *
 * One instance is one member of the consumer group `application.id`, with one processing loop.
 * num.stream.threads maps to tasks: that many of the instance's tasks process their records side
 * by side in the loop (Node runs JavaScript on one thread, so what overlaps is their waiting on
 * stores and sends, not their computing; Kafka's stream threads are each a group member, here the
 * instance is one). On start it creates the internal
 * topics (repartition topics, compacted changelog topics `<application.id>-<store>-changelog`),
 * joins the group with the streams assignor (assignor.ts), and for each assigned task
 * `<subtopology>_<partition>` runs the core's StreamTask: it restores the task's stores from their
 * changelogs first (persistent stores from the offsets in the task's `.checkpoint`), then feeds it
 * the records of its input partitions in timestamp order. Outputs and changelog writes go out
 * through the producer; every commit.interval.ms the consumed offsets are committed once they are
 * acknowledged (at_least_once), or sent with them in one transaction (exactly_once_v2).
 * Standby tasks apply their changelogs continuously; store() and metadataForKey() serve
 * interactive queries.
 */
import { committedByTopic } from '../../client/group-offsets.js';
import { connectTcp } from '../../node/tcp-byte-stream.js';
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, retriableErrorCodes } from '../../base/error-codes.js';
import { OffsetCommitApi, OffsetFetchApi } from '../../protocol/messages/index.js';
import type { RecordHeader } from '../../protocol/records/record.js';
import { AdminClient, OffsetSpec, type TopicInfo } from '../../client/admin-client.js';
import type { Connector } from '../../client/byte-stream.js';
import { ClassicGroupMember, type GroupProtocol } from '../../client/classic-group.js';
import { ClusterClient, KafkaResponseError, ToolError } from '../../client/cluster-client.js';
import { Consumer, type ConsumedRecord } from '../../client/consumer.js';
import { murmur2, Producer, type ProducerRecord, type RecordResult } from '../../client/producer.js';
import { ProducerFencedError, TransactionAbortableError, TransactionalProducer } from '../../client/transactional-producer.js';
import { TransportError } from '../../protocol/transport.js';
import { parseStreamsConfig, type StreamsConfigValues, type StreamsProperties } from '../config.js';
import { StreamTask, type OutputRecord } from '../processor/task.js';
import type { Serde } from '../serdes.js';
import { inMemoryBytesStoreSupplier } from '../state/in-memory-bytes-store.js';
import { plainValues, type KeyValue, type ReadOnlyKeyValueStore, type TimestampedKeyValueStore } from '../state/key-value-store.js';
import { levelBytesStoreSupplier } from '../state/level-bytes-store.js';
import type { StoreDefinition } from '../state/stores.js';
import type { SubtopologyInfo, Topology, TopologyMetadata } from '../topology/topology.js';
import {
  assignTasks,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  parseTaskName,
  taskName,
  type MemberAssignment,
  type MemberInfo,
  type TaskName,
} from './assignor.js';
import { type StateDirectoryLock, lockStateDirectory } from './state-directory.js';
import { checkpointKey, deleteCheckpoint, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';

export type KafkaStreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'ERROR';
export type StateListener = (newState: KafkaStreamsState, oldState: KafkaStreamsState) => void;

/**
 * What an uncaught exception does (Kafka's StreamThreadExceptionResponse, KIP-671):
 * `REPLACE_THREAD` gives up what was processed since the last commit (the transaction aborted, the
 * tasks' state restored from the changelogs) and carries on from the committed offsets, as a new
 * stream thread would; `SHUTDOWN_CLIENT` (the default) puts this instance in ERROR;
 * `SHUTDOWN_APPLICATION` puts every instance of the application in ERROR, through the group's next
 * rebalance.
 */
export type StreamThreadExceptionResponse = 'REPLACE_THREAD' | 'SHUTDOWN_CLIENT' | 'SHUTDOWN_APPLICATION';
export type StreamsUncaughtExceptionHandler = (error: Error) => StreamThreadExceptionResponse;
const EXCEPTION_RESPONSES: readonly StreamThreadExceptionResponse[] = ['REPLACE_THREAD', 'SHUTDOWN_CLIENT', 'SHUTDOWN_APPLICATION'];

export interface KafkaStreamsOptions {
  /** Opens connections: TCP (src/node's connectTcp) unless a test or an embedding gives its own. */
  readonly connect?: Connector;
}

/** Where a key's store lives (Kafka's KeyQueryMetadata, reduced to the active host). */
export interface KeyQueryMetadata {
  /** The `application.server` of the instance running the task, or undefined when no instance has one. */
  readonly activeHost: string | undefined;
  readonly partition: number;
  readonly task: TaskName;
}

export class StreamsRuntimeError extends Error {
  override name = 'StreamsRuntimeError';
}

/** Kafka's InvalidStateStoreException: the store cannot be read now (not running, or a task of it is restoring); try again later. */
export class InvalidStateStoreError extends StreamsRuntimeError {
  override name = 'InvalidStateStoreError';
}

/** Every instance of the application was told to shut down (an uncaught-exception handler answered SHUTDOWN_APPLICATION). */
export class ApplicationShutdownError extends StreamsRuntimeError {
  override name = 'ApplicationShutdownError';
}

/** A failure the next attempt may not have (a broker down, a leader moving): Kafka's RetriableException. */
class RetriableStreamsError extends Error {
  override name = 'RetriableStreamsError';
}

/** Group errors after which the instance's tasks may belong to another member now: Kafka Streams' TaskMigratedException. */
const TASK_MIGRATED = new Set<number>([ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.REBALANCE_IN_PROGRESS, ErrorCode.FENCED_INSTANCE_ID]);

/**
 * Runs a step of the open transaction. A failure that is not fatal leaves the transaction's fate
 * unknown (a send may have been written, an EndTxn that timed out may have committed): it is not
 * carried on as if nothing happened but becomes abortable, so the loop aborts it (or fences it
 * with a new producer) and the tasks start again from what was committed (Kafka Streams'
 * TaskCorruptedException under exactly-once).
 */
async function transactionStep<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (classify(error) !== 'retriable') throw error;
    throw new TransactionAbortableError(`the transaction's outcome is unknown: ${error instanceof Error ? error.message : String(error)}`, -1);
  }
}

/**
 * What the loop does with an error: `migrated` drops every task (aborting the transaction) and
 * rejoins; `retriable` learns the metadata again and retries until task.timeout.ms; `fatal` puts
 * the instance in ERROR (a bug, a processor's exception, a refused configuration).
 */
function classify(error: unknown): 'migrated' | 'retriable' | 'fatal' {
  if (error instanceof ProducerFencedError || error instanceof TransactionAbortableError) return 'migrated';
  if (error instanceof KafkaResponseError) {
    if (TASK_MIGRATED.has(error.errorCode)) return 'migrated';
    return retriableErrorCodes.has(error.errorCode) ? 'retriable' : 'fatal';
  }
  // A ToolError that is not a response error is a request that failed: no broker there, no answer in time.
  if (error instanceof RetriableStreamsError || error instanceof ToolError || error instanceof TransportError) return 'retriable';
  return 'fatal';
}

const POLL_WAIT_MS = 100;
const RESTORE_POLL_WAIT_MS = 50;
/** OffsetFetch attempts 100 ms apart while offsets are unstable, before the loop is told (and retries until task.timeout.ms). */
const UNSTABLE_ATTEMPTS = 100;
/** Backoff between attempts after a retriable failure. */
const RETRY_BACKOFF_MS = 250;
/** Fetched records a partition may have waiting before it is fetched no more (Kafka's buffered.records.per.partition). */
const BUFFERED_RECORDS_PER_PARTITION = 1000;
/** Records a task processes per round of the loop, so commits and rebalances come between. */
const RECORDS_PER_TASK_STEP = 200;
/** Changelog records a standby task applies per changelog per round (the rest wait for the next rounds). */
const STANDBY_RECORDS_PER_STEP = 500;
/** Pending outputs that are sent before the poll's records are all processed. */
const FLUSH_RECORDS = 500;
const PROTOCOL_NAME = 'stream';
const INPUT_KEY = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** A task run here: active (processing) or standby (applying its changelogs only). */
interface LocalTask {
  readonly name: TaskName;
  readonly task: StreamTask;
  readonly subtopology: SubtopologyInfo;
  readonly partition: number;
  readonly directory: string;
  kind: 'active' | 'standby';
  /** An active task whose stores are restored: interactive queries may read them. */
  queryable: boolean;
  persistent: boolean;
  /** Changelog topic by store (logged stores only). */
  readonly changelogs: Map<string, string>;
  /** Per changelog topic, the next offset to read (restore) or after the last write (checkpoint). */
  readonly changelogPositions: Map<string, number>;
  /** Standby: a consumer per changelog topic, created on first update. */
  readonly standbyConsumers: Map<string, Consumer>;
  /** Standby: per changelog topic, records fetched and not yet applied (a round applies a bounded share). */
  readonly standbyBacklog: Map<string, ConsumedRecord[]>;
}

interface PendingOutput {
  readonly record: ProducerRecord & { topic: string };
  /** Set for changelog writes: the task whose changelog position the write moves. */
  readonly changelogOf?: LocalTask;
}

export class KafkaStreams {
  private readonly config: StreamsConfigValues;
  private readonly metadata: TopologyMetadata;
  /** Kept in the state directory when the topology has persistent stores (see state-directory.ts), else new per instance. */
  private processId: string = randomUUID();
  private stateLock: StateDirectoryLock | undefined;
  private readonly eos: boolean;
  private currentState: KafkaStreamsState = 'CREATED';
  private readonly listeners: StateListener[] = [];
  private failure: Error | undefined;
  private readonly fetchCluster: ClusterClient;
  private readonly groupCluster: ClusterClient;
  private readonly produceCluster: ClusterClient;
  private readonly admin: AdminClient;
  private readonly member: ClassicGroupMember;
  private producer: Producer | undefined;
  private transactional: TransactionalProducer | undefined;
  private inTransaction = false;
  private exceptionHandler: StreamsUncaughtExceptionHandler | undefined;
  private replacedThreads = 0;
  /** Set once this instance's handler answered SHUTDOWN_APPLICATION: its subscriptions ask the leader for it. */
  private shutdownRequested = false;
  private readonly topics = new Map<string, TopicInfo>();
  private readonly tasks = new Map<TaskName, LocalTask>();
  private inputs = new Map<string, Consumer>();
  private readonly taskByInput = new Map<string, LocalTask>();
  private committedPositions = new Map<string, number>();
  /** Per input partition (INPUT_KEY), the offset after the last record processed: what a commit commits. */
  private processed = new Map<string, number>();
  /** Records fetched and not processed yet, per input partition (INPUT_KEY). */
  private buffered = new Map<string, RecordQueue>();
  private pending: PendingOutput[] = [];
  private flushes: Promise<void> = Promise.resolve();
  private assignment: MemberAssignment = { active: [], standby: [], hosts: {}, partitionsPerSubtopology: {} };
  private starting: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private killed = false;
  private lastCommitMs = Date.now();
  private restored = 0;
  /** Global stores by name (each instance holds every partition of a global table's topic), read by every task. */
  private readonly globalStores = new Map<string, unknown>();
  private readonly globalTasks: { task: StreamTask; consumers: Consumer[] }[] = [];
  private standbyApplied = 0;
  private restoring = false;
  private readonly defaultPersistent: boolean;
  private readonly groupTimeouts;
  private readonly transactionTimeoutMs: number;

  constructor(
    private readonly topology: Topology,
    props: StreamsProperties,
    options: KafkaStreamsOptions = {},
  ) {
    this.config = parseStreamsConfig(props);
    this.metadata = topology.metadata(this.config.applicationId);
    this.eos = this.config.processingGuarantee === 'exactly_once_v2';
    // Every bootstrap server: when one is down, the client goes on with another (or a broker the metadata named).
    const bootstrap = this.config.bootstrapServers.join(',');
    const clientId = typeof props['client.id'] === 'string' ? props['client.id'] : `${this.config.applicationId}-${this.processId}`;
    // Separate connections: a long fetch must not hold up heartbeats or produce requests behind it.
    // After kill() no connection opens again, as after a crash.
    const open = options.connect ?? connectTcp;
    const connect: Connector = (address, timeoutMs, tls) => (this.killed ? Promise.reject(new StreamsRuntimeError('the instance was killed')) : open(address, timeoutMs, tls));
    this.fetchCluster = new ClusterClient(connect, bootstrap, clientId);
    this.groupCluster = new ClusterClient(connect, bootstrap, clientId);
    this.produceCluster = new ClusterClient(connect, bootstrap, clientId);
    this.admin = new AdminClient(this.fetchCluster);
    const storeType = String(props['dsl.default.store.type'] ?? props['default.dsl.store'] ?? 'rocksDB').toLowerCase();
    this.defaultPersistent = storeType !== 'in_memory' && storeType !== 'in-memory';
    const number = (key: string, fallback: number) => (props[key] === undefined ? fallback : Number(props[key]));
    this.groupTimeouts = {
      sessionTimeoutMs: number('consumer.session.timeout.ms', 45_000),
      rebalanceTimeoutMs: number('consumer.max.poll.interval.ms', 300_000),
      heartbeatIntervalMs: number('consumer.heartbeat.interval.ms', 3_000),
    };
    // Kafka Streams lowers the transaction timeout to 10 s under exactly-once, so a dead instance's open transaction ends soon.
    this.transactionTimeoutMs = number('producer.transaction.timeout.ms', 10_000);
    this.member = new ClassicGroupMember(this.groupCluster, this.config.applicationId, this.groupTimeouts);
  }

  get state(): KafkaStreamsState {
    return this.currentState;
  }

  /** The error that put the instance in ERROR, if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  /**
   * Decides what an exception the loop cannot survive does: a processor's, or a failure that outlived
   * `task.timeout.ms`. Set before start(), as in Kafka. An answer that is not one of the three, or a
   * handler that throws, is taken as SHUTDOWN_CLIENT.
   */
  setUncaughtExceptionHandler(handler: StreamsUncaughtExceptionHandler): void {
    if (this.currentState !== 'CREATED') throw new StreamsRuntimeError(`setUncaughtExceptionHandler() is allowed before start() only (now ${this.currentState})`);
    this.exceptionHandler = handler;
  }

  /** Times an uncaught exception was answered with REPLACE_THREAD (Kafka's replaced stream threads). */
  get threadsReplaced(): number {
    return this.replacedThreads;
  }

  private exceptionResponse(error: Error): StreamThreadExceptionResponse {
    if (!this.exceptionHandler) return 'SHUTDOWN_CLIENT';
    try {
      const response = this.exceptionHandler(error);
      return EXCEPTION_RESPONSES.includes(response) ? response : 'SHUTDOWN_CLIENT';
    } catch {
      return 'SHUTDOWN_CLIENT';
    }
  }

  setStateListener(listener: StateListener): void {
    this.listeners.push(listener);
  }

  private setState(next: KafkaStreamsState): void {
    const previous = this.currentState;
    if (previous === next) return;
    this.currentState = next;
    for (const listener of this.listeners) listener(next, previous);
  }

  /** Creates the internal topics and starts the processing loop; it joins the group in the background. */
  async start(): Promise<void> {
    if (this.currentState !== 'CREATED') throw new StreamsRuntimeError(`start() is allowed once, in CREATED (now ${this.currentState})`);
    this.setState('REBALANCING');
    this.starting = this.prepare();
    try {
      await this.starting;
    } catch (error) {
      this.fail(error);
      throw error;
    }
    // close() during start(): the loop never runs.
    if (!this.stopping) this.loop = this.run();
  }

  private async prepare(): Promise<void> {
    if (this.hasPersistentStores()) {
      this.stateLock = await lockStateDirectory(join(this.config.stateDir, this.config.applicationId));
      this.processId = this.stateLock.processId;
    }
    await this.createInternalTopics();
    await this.startGlobalTasks();
    if (this.eos) await this.transactionalProducer();
    else this.producer = new Producer(this.produceCluster, [...this.topics.values()], { compression: 0, acks: -1 });
  }

  /**
   * Global sub-topologies: one task each over every partition of their topics, read from the
   * beginning to the end before anything else runs (their topic is their log, so their stores are
   * kept in memory unless a supplier says otherwise), then kept up to date every loop.
   */
  private async startGlobalTasks(): Promise<void> {
    for (const subtopology of this.metadata.subtopologies.filter((s) => s.global)) {
      const task = new StreamTask({
        topology: this.topology,
        subtopology,
        partition: 0,
        applicationId: this.config.applicationId,
        collector: { send: () => undefined },
        changelog: { logChange: () => undefined },
        defaultStoreSupplier: (definition) => inMemoryBytesStoreSupplier(definition.name),
        defaultKeySerde: this.config.defaultKeySerde,
        defaultValueSerde: this.config.defaultValueSerde,
        stateDirectory: join(this.config.stateDir, this.config.applicationId, 'global'),
      });
      await task.initialize();
      for (const store of subtopology.stores) this.globalStores.set(store, task.stateStore(store));
      const consumers: Consumer[] = [];
      for (const topic of subtopology.sourceTopics) {
        const info = await this.topicInfo(topic);
        const earliest = await this.admin.listOffsets(info, OffsetSpec.earliest);
        const consumer = new Consumer(this.fetchCluster, info, new Map(info.partitions.map((p) => [p.partition, Math.max(0, earliest.get(p.partition) ?? 0)])), this.eos);
        const ends = await this.admin.listOffsets(info, OffsetSpec.latest, this.eos);
        while (info.partitions.some((p) => (consumer.positions.get(p.partition) ?? 0) < (ends.get(p.partition) ?? 0))) {
          await this.processGlobal(task, await consumer.poll(RESTORE_POLL_WAIT_MS));
        }
        consumers.push(consumer);
      }
      this.globalTasks.push({ task, consumers });
    }
  }

  private async processGlobal(task: StreamTask, records: readonly ConsumedRecord[]): Promise<void> {
    for (const record of records) await task.process(record.topic, record.partition, record.offset, record.timestamp, record.key, record.value, record.headers);
  }

  private async updateGlobalTasks(): Promise<void> {
    for (const { task, consumers } of this.globalTasks) {
      for (const consumer of consumers) await this.processGlobal(task, await consumer.poll(0));
    }
  }

  /** Stops processing, commits, closes the tasks (writing checkpoints), leaves the group. */
  async close(): Promise<void> {
    if (this.currentState === 'NOT_RUNNING') return;
    if (this.currentState !== 'ERROR') this.setState('PENDING_SHUTDOWN');
    this.stopping = true;
    await this.starting?.catch(() => undefined);
    await this.loop;
    let clean = !this.failure;
    if (clean) {
      try {
        await this.commit();
        for (const local of this.tasks.values()) await this.closeTask(local, true);
      } catch (error) {
        // Nothing more is committed: the transaction is aborted and the stores closed without a checkpoint.
        this.failure = error instanceof Error ? error : new Error(String(error));
        clean = false;
        if (this.inTransaction) await this.transactional?.abortTransaction().catch(() => undefined);
        this.inTransaction = false;
      }
    }
    if (!clean) for (const local of this.tasks.values()) await local.task.close().catch(() => undefined);
    this.tasks.clear();
    for (const { task } of this.globalTasks) await task.close().catch(() => undefined);
    await this.member.leave().catch(() => undefined);
    this.transactional?.close();
    this.closeConnections();
    await this.stateLock?.release();
    if (this.currentState !== 'ERROR') this.setState('NOT_RUNNING');
  }

  /** Whether any store of the topology (global ones included) is persistent: then the state directory is used. */
  private hasPersistentStores(): boolean {
    return this.metadata.subtopologies.some((subtopology) => subtopology.stores.some((name) => {
      const definition = this.topology.stores.get(name);
      return definition !== undefined && this.isPersistent(definition);
    }));
  }

  /**
   * For failure tests: stops at once, as a killed process would, without committing, closing
   * tasks cleanly or leaving the group; its open transaction is left to time out.
   */
  async kill(): Promise<void> {
    this.killed = true;
    this.stopping = true;
    // Heartbeats stop without a LeaveGroup (an empty member id skips it): the coordinator must expire the session.
    this.member.memberId = '';
    await this.member.leave();
    this.closeConnections();
    this.setState('NOT_RUNNING');
    // The loop fails on its next request; its stores are closed once it has (nothing is committed).
    void (this.loop ?? Promise.resolve()).then(async () => {
      for (const local of this.tasks.values()) await local.task.close().catch(() => undefined);
      this.tasks.clear();
      // A crashed process's lock would be stale by its pid; in this process the directory is given up.
      await this.stateLock?.release();
    });
  }

  private closeConnections(): void {
    this.fetchCluster.close();
    this.groupCluster.close();
    this.produceCluster.close();
  }

  private fail(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.setState('ERROR');
  }

  // ---- Internal topics ----

  private async topicInfo(name: string): Promise<TopicInfo> {
    const known = this.topics.get(name);
    if (known) return known;
    for (let attempt = 0; ; attempt++) {
      try {
        const info = await this.admin.describeTopic(name);
        if (info.partitions.length > 0 && info.partitions.every((p) => p.leader >= 0)) {
          this.topics.set(name, info);
          this.producer?.setTopic(info);
          return info;
        }
      } catch (error) {
        if (attempt >= 50) throw error;
      }
      if (attempt >= 50) throw new RetriableStreamsError(`topic ${name} has no leader for every partition`);
      await sleep(100);
    }
  }

  /**
   * Repartition topics get the partition count of the sub-topology that writes them (the largest
   * of its source topics'), unless an operator fixed it; changelog topics get their store's task
   * count and are compacted. Existing topics are kept.
   */
  private async createInternalTopics(): Promise<void> {
    const counts = new Map<string, number>();
    const repartition = new Set(this.metadata.repartitionTopics.map((t) => t.name));
    for (const topic of this.metadata.repartitionTopics) if (topic.partitions !== undefined) counts.set(topic.name, topic.partitions);
    for (const subtopology of this.metadata.subtopologies) {
      for (const topic of subtopology.sourceTopics) {
        if (repartition.has(topic)) continue;
        const info = await this.topicInfo(topic).catch(() => {
          throw new StreamsRuntimeError(`source topic ${topic} does not exist (Kafka's MissingSourceTopicException)`);
        });
        counts.set(topic, info.partitions.length);
      }
    }
    // Resolve repartition counts from upstream sources, repeatedly: a repartition topic may feed another.
    for (let round = 0; round <= this.metadata.subtopologies.length; round++) {
      for (const subtopology of this.metadata.subtopologies) {
        const known = subtopology.sourceTopics.map((t) => counts.get(t)).filter((n): n is number => n !== undefined);
        if (known.length === 0) continue;
        for (const sink of subtopology.sinkTopics) if (repartition.has(sink) && !counts.has(sink)) counts.set(sink, Math.max(...known));
      }
    }
    for (const name of repartition) {
      await this.createTopic(name, counts.get(name) ?? 1, { 'cleanup.policy': 'delete' });
    }
    for (const store of this.metadata.stores) {
      if (!store.changelogTopic || store.subtopology === undefined) continue;
      const subtopology = this.metadata.subtopologies.find((s) => s.id === store.subtopology)!;
      const partitions = Math.max(1, ...subtopology.sourceTopics.map((t) => counts.get(t) ?? 1));
      await this.createTopic(store.changelogTopic, partitions, { 'cleanup.policy': 'compact' });
    }
  }

  private async createTopic(name: string, partitions: number, configs: Record<string, string>): Promise<void> {
    try {
      await this.admin.createTopic(name, { partitions, replicationFactor: this.config.replicationFactor, configs });
    } catch (error) {
      if (!(error instanceof KafkaResponseError && error.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)) throw error;
    }
    await this.topicInfo(name);
  }

  // ---- The loop ----

  /**
   * The processing loop. A broker that goes away, a leader or a coordinator that moves, is
   * survived: a retriable failure learns the metadata again and the step runs again (each step
   * leaves nothing half done: a failed poll moves no position, a failed send keeps its records
   * pending), until task.timeout.ms passes without a step completing. A rebalance that fenced this
   * member drops its tasks and rejoins (task migrated). Anything else puts the instance in ERROR.
   */
  private async run(): Promise<void> {
    let joinNeeded = true;
    let lost = false;
    let failingSince: number | undefined;
    while (!this.stopping) {
      try {
        if (lost) {
          await this.handleLostAll();
          lost = false;
          joinNeeded = true;
        }
        if (joinNeeded || this.member.rebalanceNeeded) {
          joinNeeded = true;
          await this.rebalance();
          joinNeeded = false;
          if (this.stopping) break;
        }
        await this.step();
        failingSince = undefined;
      } catch (error) {
        if (this.killed) return;
        if (error instanceof ApplicationShutdownError) {
          this.fail(error);
          return;
        }
        const kind = classify(error);
        failingSince ??= Date.now();
        if (kind === 'fatal' || Date.now() - failingSince > this.config.taskTimeoutMs) {
          const uncaught = kind === 'fatal' ? (error instanceof Error ? error : new Error(String(error))) : new StreamsRuntimeError(`no progress for task.timeout.ms (${this.config.taskTimeoutMs} ms); last: ${error instanceof Error ? error.message : String(error)}`);
          const response = this.exceptionResponse(uncaught);
          if (response !== 'SHUTDOWN_CLIENT') {
            // Both start over from the last commit; SHUTDOWN_APPLICATION then rejoins asking for the shutdown.
            if (response === 'REPLACE_THREAD') this.replacedThreads++;
            else this.shutdownRequested = true;
            failingSince = undefined;
            this.member.forgetCoordinator();
            lost = true;
            // Not at full speed when the same failure comes back every time (a poison record).
            await sleep(RETRY_BACKOFF_MS);
            continue;
          }
          if (this.transactional && this.inTransaction) await this.transactional.abortTransaction().catch(() => undefined);
          this.inTransaction = false;
          this.fail(uncaught);
          return;
        }
        this.member.forgetCoordinator();
        this.rewindInputs();
        if (kind === 'migrated') lost = true;
        else {
          await sleep(RETRY_BACKOFF_MS);
          await this.refreshMetadata();
        }
      }
    }
  }

  /** One round: fetch and process, standbys and global tables, punctuation, sends, and a commit when due. */
  private async step(): Promise<void> {
    await this.pollAndProcess();
    await this.updateStandbys();
    await this.updateGlobalTasks();
    for (const local of this.activeTasks()) await local.task.punctuate('WALL_CLOCK_TIME');
    await this.flush();
    const commitAsked = this.activeTasks().some((local) => local.task.commitRequested);
    if (commitAsked || Date.now() - this.lastCommitMs >= this.config.commitIntervalMs) await this.commit();
  }

  /**
   * Kafka Streams' handleLostAll: the member was fenced from the group (or its transaction can no
   * longer commit), so what was processed since the last commit is given up. The open transaction
   * is aborted (or, if that fails, ended by a new producer with the same transactional id, which
   * fences the old one); every task is closed without a checkpoint and its state wiped, to be
   * restored from the changelogs; outputs not yet sent are dropped, as the inputs are read again
   * from the committed offsets. Run again if it fails part way (each part may be repeated).
   */
  private async handleLostAll(): Promise<void> {
    this.pending = [];
    if (this.eos) {
      if (this.inTransaction && this.transactional) {
        const aborted = await this.transactional.abortTransaction().then(() => true, () => false);
        if (!aborted) {
          this.transactional.close();
          this.transactional = undefined;
        }
      }
      this.inTransaction = false;
      await this.transactionalProducer();
    }
    await this.dropAllTasks();
    this.member.rebalanceNeeded = true;
  }

  /** The exactly-once producer; a new one (InitProducerId, which fences the old and ends its transaction) when the last could not abort. */
  private async transactionalProducer(): Promise<TransactionalProducer> {
    if (!this.transactional) {
      const producer = new TransactionalProducer(this.produceCluster, { transactionalId: `${this.config.applicationId}-${this.processId}-1`, transactionTimeoutMs: this.transactionTimeoutMs });
      await producer.init();
      this.transactional = producer;
    }
    return this.transactional;
  }

  /** After a retriable failure: every topic's partitions and leaders learned again, for the producer and every consumer; a topic that cannot be described now keeps what was known. */
  private async refreshMetadata(): Promise<void> {
    for (const name of [...this.topics.keys()]) {
      const info = await this.admin.describeTopic(name).catch(() => undefined);
      if (!info || info.partitions.length === 0) continue;
      this.topics.set(name, info);
      this.producer?.setTopic(info);
      for (const consumer of this.consumersOf(name)) consumer.setTopic(info);
    }
  }

  private *consumersOf(topic: string): Iterable<Consumer> {
    const input = this.inputs.get(topic);
    if (input) yield input;
    for (const local of this.tasks.values()) {
      const standby = local.standbyConsumers.get(topic);
      if (standby) yield standby;
    }
    for (const { consumers } of this.globalTasks) yield* consumers.filter((consumer) => consumer.topic.name === topic);
  }

  private activeTasks(): LocalTask[] {
    return [...this.tasks.values()].filter((local) => local.kind === 'active');
  }

  /**
   * One round of fetching and processing, bounded so that a commit, a rebalance or a punctuation
   * never waits long: fetched records wait in per-partition queues; a partition with
   * BUFFERED_RECORDS_PER_PARTITION queued is not fetched (Kafka's buffered.records.per.partition),
   * and each task processes at most RECORDS_PER_TASK_STEP of its records per round, in timestamp
   * order across its partitions. With records queued the fetch does not wait for more.
   */
  private async pollAndProcess(): Promise<void> {
    const consumers = [...this.inputs.values()];
    if (consumers.length === 0) {
      await sleep(POLL_WAIT_MS);
      return;
    }
    const queued = (topic: string, partition: number) => this.buffered.get(INPUT_KEY(topic, partition))?.size ?? 0;
    const anyQueued = [...this.buffered.values()].some((queue) => queue.size > 0);
    // A topic whose fetch failed moved no position (Consumer.poll is all or nothing): the others' records are processed, then the failure is reported.
    const settled = await Promise.allSettled(consumers.map((consumer) => {
      const full = new Set([...consumer.positions.keys()].filter((partition) => queued(consumer.topic.name, partition) >= BUFFERED_RECORDS_PER_PARTITION));
      return consumer.poll(anyQueued ? 0 : POLL_WAIT_MS, full);
    }));
    for (const round of settled) {
      if (round.status === 'rejected') continue;
      for (const record of round.value) {
        const key = INPUT_KEY(record.topic, record.partition);
        let queue = this.buffered.get(key);
        if (!queue) this.buffered.set(key, (queue = new RecordQueue()));
        queue.push(record);
      }
    }
    // num.stream.threads tasks at a time: one task's store reads and sends wait while another's run.
    const work = this.activeTasks().filter((local) => this.queuesOf(local).length > 0);
    const failedTasks = new Set<LocalTask>();
    const lanes = Array.from({ length: Math.min(this.config.numStreamThreads, work.length) }, async () => {
      for (let next = work.shift(); next; next = work.shift()) {
        const local = next;
        await this.processTask(local).catch((error: unknown) => {
          failedTasks.add(local);
          throw error;
        });
      }
    });
    const results = [...settled, ...(await Promise.allSettled(lanes))];
    // A partition whose queue is empty is processed up to its consumer's position (past control records too).
    for (const consumer of consumers) {
      for (const [partition, position] of consumer.positions) {
        const local = this.taskByInput.get(INPUT_KEY(consumer.topic.name, partition));
        if (local && !failedTasks.has(local) && queued(consumer.topic.name, partition) === 0) this.processed.set(INPUT_KEY(consumer.topic.name, partition), position);
      }
    }
    const failed = results.find((round): round is PromiseRejectedResult => round.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The task's input queues that hold records. */
  private queuesOf(local: LocalTask): RecordQueue[] {
    const queues: RecordQueue[] = [];
    for (const topic of local.subtopology.sourceTopics) {
      const queue = this.buffered.get(INPUT_KEY(topic, local.partition));
      if (queue && queue.size > 0) queues.push(queue);
    }
    return queues;
  }

  /**
   * After a failure the loop will retry: every input goes back to what was processed, so records
   * fetched and not processed (their task stopped at an error) are fetched again, not skipped.
   */
  private rewindInputs(): void {
    this.buffered = new Map();
    for (const [topic, consumer] of this.inputs) {
      for (const partition of consumer.positions.keys()) {
        const processed = this.processed.get(INPUT_KEY(topic, partition));
        if (processed !== undefined) consumer.positions.set(partition, processed);
      }
    }
  }

  /** Up to RECORDS_PER_TASK_STEP of the task's queued records, the earliest timestamp first across its partitions. */
  private async processTask(local: LocalTask): Promise<void> {
    const queues = this.queuesOf(local);
    for (let count = 0; count < RECORDS_PER_TASK_STEP; count++) {
      let earliest: RecordQueue | undefined;
      for (const queue of queues) if (queue.size > 0 && (!earliest || queue.peek().timestamp < earliest.peek().timestamp)) earliest = queue;
      if (!earliest) return;
      const record = earliest.shift();
      await local.task.process(record.topic, record.partition, record.offset, record.timestamp, record.key, record.value, record.headers);
      this.processed.set(INPUT_KEY(record.topic, record.partition), record.offset + 1);
      await local.task.punctuate('STREAM_TIME');
      // Outputs go out while processing goes on, as a producer's batches do, not all at the end of a large poll.
      if (this.pending.length >= FLUSH_RECORDS) await this.flush();
    }
  }

  /** Sends what the tasks produced, one flush after the other (tasks processing side by side may ask at once), so each partition's records keep their order. */
  private flush(): Promise<void> {
    const flushed = this.flushes.then(() => this.flushPending());
    this.flushes = flushed.catch(() => undefined);
    return flushed;
  }

  /** at_least_once waits for every acknowledgement and keeps what failed pending; exactly_once sends within the open transaction. */
  private async flushPending(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const records = batch.map((entry) => entry.record);
    let results: RecordResult[];
    if (this.eos) {
      const producer = await this.transactionalProducer();
      if (!this.inTransaction) {
        producer.beginTransaction();
        this.inTransaction = true;
      }
      results = await transactionStep(() => producer.send(records, this.topics));
    } else {
      results = await this.producer!.send(records);
    }
    batch.forEach((entry, index) => {
      const result = results[index]!;
      if (entry.changelogOf && result.offset >= 0) {
        const positions = entry.changelogOf.changelogPositions;
        positions.set(result.topic, Math.max(positions.get(result.topic) ?? 0, result.offset + 1));
      }
    });
    // at_least_once: what failed goes out again first (the producer fails a partition's later batches after one fails, so order holds).
    const failed = batch.filter((_, index) => results[index]!.error !== null);
    if (failed.length === 0) return;
    this.pending = [...failed, ...this.pending];
    const errors = results.filter((result) => result.error !== null);
    const final = errors.find((result) => result.errorCode !== -1 && !retriableErrorCodes.has(result.errorCode));
    const first = final ?? errors[0]!;
    const message = `producing to ${first.topic}-${first.partition} failed: ${first.error}`;
    throw final ? new StreamsRuntimeError(message) : new RetriableStreamsError(message);
  }

  /** The processed positions of the active tasks' input partitions that moved since the last commit, by topic. */
  private consumedOffsets(): Map<string, Map<number, number>> {
    const offsets = new Map<string, Map<number, number>>();
    for (const [topic, consumer] of this.inputs) {
      const byPartition = new Map<number, number>();
      for (const partition of consumer.positions.keys()) {
        const position = this.processed.get(INPUT_KEY(topic, partition));
        if (position !== undefined && this.committedPositions.get(INPUT_KEY(topic, partition)) !== position) byPartition.set(partition, position);
      }
      if (byPartition.size > 0) offsets.set(topic, byPartition);
    }
    return offsets;
  }

  /** Commits: outputs acknowledged, stores flushed, then offsets (plain, or with the transaction). */
  private async commit(): Promise<void> {
    await this.flush();
    const offsets = this.consumedOffsets();
    for (const local of this.activeTasks()) await local.task.commit();
    if (this.eos) {
      if (offsets.size > 0 || this.inTransaction) {
        const producer = await this.transactionalProducer();
        if (!this.inTransaction) producer.beginTransaction();
        this.inTransaction = true;
        const coordinator = await this.member.currentCoordinator();
        await transactionStep(async () => {
          await producer.sendOffsetsToTransaction(offsets, { groupId: this.config.applicationId, generationId: this.member.generationId, memberId: this.member.memberId, coordinator });
          await producer.commitTransaction();
        });
        this.inTransaction = false;
      }
    } else {
      for (const local of this.activeTasks()) if (local.persistent) await writeCheckpoint(local.directory, this.checkpointOf(local));
      await this.commitOffsets(offsets);
    }
    for (const [topic, byPartition] of offsets) for (const [partition, position] of byPartition) this.committedPositions.set(INPUT_KEY(topic, partition), position);
    this.lastCommitMs = Date.now();
  }

  private async commitOffsets(offsets: ReadonlyMap<string, ReadonlyMap<number, number>>): Promise<void> {
    if (offsets.size === 0) return;
    const response = await this.groupCluster.request(OffsetCommitApi, {
      groupId: this.config.applicationId,
      generationIdOrMemberEpoch: this.member.generationId,
      memberId: this.member.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [...offsets].map(([name, byPartition]) => ({
        name,
        partitions: [...byPartition].map(([partitionIndex, offset]) => ({ partitionIndex, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null })),
      })),
    }, { address: await this.member.currentCoordinator(), minVersion: 2, maxVersion: 7 });
    const failed = response.topics.flatMap((topic) => topic.partitions).find((partition) => partition.errorCode !== ErrorCode.NONE);
    if (failed) throw new KafkaResponseError(failed.errorCode, `committing offsets of group '${this.config.applicationId}'`);
  }

  private checkpointOf(local: LocalTask): Checkpoint {
    const checkpoint: Checkpoint = new Map();
    for (const [topic, position] of local.changelogPositions) checkpoint.set(checkpointKey(topic, local.partition), position);
    return checkpoint;
  }

  // ---- Rebalance and tasks ----

  private groupProtocol(): GroupProtocol {
    const topics = [...new Set(this.metadata.subtopologies.filter((s) => !s.global).flatMap((s) => s.sourceTopics))].sort();
    const info: MemberInfo = {
      processId: this.processId,
      host: this.config.applicationServer ?? '',
      previousActive: this.activeTasks().map((local) => local.name),
      previousStandby: [...this.tasks.values()].filter((local) => local.kind === 'standby').map((local) => local.name),
      ...(this.shutdownRequested ? { shutdownRequested: true } : {}),
    };
    return {
      protocolType: 'consumer',
      protocols: [{ name: PROTOCOL_NAME, metadata: encodeSubscription(topics, info) }],
      assign: (_protocol, members) => this.assign(members),
    };
  }

  /** Run on the leader: tasks from the current partition counts, spread over the members. */
  private async assign(members: readonly { memberId: string; metadata: Buffer }[]): Promise<Map<string, Buffer>> {
    const infos = new Map(members.map((member) => [member.memberId, decodeSubscription(member.metadata)]));
    const counts = new Map<number, number>();
    for (const subtopology of this.metadata.subtopologies) {
      if (subtopology.global) continue;
      let count = 0;
      for (const topic of subtopology.sourceTopics) count = Math.max(count, (await this.topicInfo(topic)).partitions.length);
      counts.set(subtopology.id, count);
    }
    const stateful = new Set(this.metadata.subtopologies.filter((s) => s.stores.length > 0).map((s) => s.id));
    if ([...infos.values()].some((info) => info.shutdownRequested)) {
      // Kafka's AssignorError.SHUTDOWN_REQUESTED: nothing for anyone, and every member shuts down.
      const shutdown: MemberAssignment = { active: [], standby: [], hosts: {}, partitionsPerSubtopology: {}, shutdownRequested: true };
      return new Map(members.map((member) => [member.memberId, encodeAssignment(new Map(), shutdown)]));
    }
    const assignments = assignTasks(infos, counts, this.config.numStandbyReplicas, stateful);
    return new Map([...assignments].map(([memberId, assignment]) => [memberId, encodeAssignment(this.partitionsOf(assignment.active), assignment)]));
  }

  private partitionsOf(tasks: readonly TaskName[]): Map<string, number[]> {
    const byTopic = new Map<string, number[]>();
    for (const name of tasks) {
      const { subtopology, partition } = parseTaskName(name);
      for (const topic of this.metadata.subtopologies.find((s) => s.id === subtopology)?.sourceTopics ?? []) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    }
    return byTopic;
  }

  /** Commits what was processed, rejoins, and moves tasks to match the new assignment. */
  private async rebalance(): Promise<void> {
    this.setState('REBALANCING');
    if (this.tasks.size > 0) {
      try {
        await this.commit();
      } catch (error) {
        // The generation may be gone already. at_least_once keeps its tasks and positions and joins (a
        // task that moved is read again by its new owner from the last commit); exactly_once hands the
        // error to the loop, which aborts and rebuilds the tasks' state (what was not committed never happened).
        if (this.eos || classify(error) !== 'migrated') throw error;
      }
    }
    const joined = await this.member.join(this.groupProtocol());
    this.assignment = decodeAssignment(joined.assignment);
    if (this.assignment.shutdownRequested) {
      // An instance's handler answered SHUTDOWN_APPLICATION: the leader gave every member nothing and the flag.
      await this.dropAllTasks();
      throw new ApplicationShutdownError(this.shutdownRequested
        ? 'the application was shut down: this instance\'s uncaught-exception handler answered SHUTDOWN_APPLICATION'
        : 'the application was shut down: another instance\'s uncaught-exception handler answered SHUTDOWN_APPLICATION');
    }
    await this.applyAssignment(this.assignment);
    if (!this.stopping) this.setState('RUNNING');
  }

  /** Closes every task without a checkpoint and wipes its state (exactly_once after an abort). */
  private async dropAllTasks(): Promise<void> {
    for (const local of this.tasks.values()) {
      await local.task.close().catch(() => undefined);
      await rm(local.directory, { recursive: true, force: true });
    }
    this.tasks.clear();
    this.inputs = new Map();
    this.processed = new Map();
    this.buffered = new Map();
    this.taskByInput.clear();
  }

  private async applyAssignment(assignment: MemberAssignment): Promise<void> {
    const active = new Set(assignment.active);
    const standby = new Set(assignment.standby);
    for (const local of [...this.tasks.values()]) {
      if (active.has(local.name)) continue;
      if (standby.has(local.name)) {
        local.kind = 'standby';
        continue;
      }
      await this.closeTask(local, true);
      this.tasks.delete(local.name);
    }
    for (const name of assignment.standby) if (!this.tasks.has(name)) this.tasks.set(name, await this.createTask(name, 'standby'));
    // Where the newly active tasks start, read before their state is restored: under exactly_once the
    // stable offsets wait for a transaction the task's last owner left open to end, and that
    // transaction's changelog writes are then below the end the restoration reads to.
    const starting = new Map<string, number[]>();
    for (const [topic, partitions] of this.partitionsOf(assignment.active)) {
      const fresh = partitions.filter((partition) => !this.processed.has(INPUT_KEY(topic, partition)));
      if (fresh.length > 0) starting.set(topic, fresh);
    }
    const committed = await this.fetchCommitted(starting);
    for (const name of assignment.active) {
      let local = this.tasks.get(name);
      if (!local) {
        local = await this.createTask(name, 'active');
        this.tasks.set(name, local);
      }
      if (local.kind === 'standby' || !this.taskByInputHas(local)) {
        local.queryable = false;
        await this.restore(local);
      }
      local.kind = 'active';
      local.queryable = true;
    }
    await this.rebuildInputs(committed);
  }

  private taskByInputHas(local: LocalTask): boolean {
    return [...this.taskByInput.values()].includes(local);
  }

  /** Consumers for the active tasks' input partitions: kept positions for kept tasks, `committed` offsets for new ones. */
  private async rebuildInputs(committed: ReadonlyMap<string, ReadonlyMap<number, number>>): Promise<void> {
    const wanted = new Map<string, Map<number, number | undefined>>();
    const processed = new Map<string, number>();
    this.taskByInput.clear();
    for (const local of this.activeTasks()) {
      for (const topic of local.subtopology.sourceTopics) {
        const positions = wanted.get(topic) ?? new Map<number, number | undefined>();
        wanted.set(topic, positions);
        positions.set(local.partition, this.processed.get(INPUT_KEY(topic, local.partition)));
        this.taskByInput.set(INPUT_KEY(topic, local.partition), local);
      }
    }
    const inputs = new Map<string, Consumer>();
    for (const [topic, positions] of wanted) {
      const info = await this.topicInfo(topic);
      const resolved = new Map<number, number>();
      let earliest: Map<number, number> | undefined;
      for (const [partition, position] of positions) {
        let start = position ?? committed.get(topic)?.get(partition);
        if (start === undefined) {
          // auto.offset.reset=earliest, Kafka Streams' default.
          earliest ??= await this.admin.listOffsets(info, OffsetSpec.earliest);
          start = Math.max(0, earliest.get(partition) ?? 0);
        }
        resolved.set(partition, start);
        // A kept partition keeps what it had committed: its processed position may be ahead of that.
        if (position === undefined) this.committedPositions.set(INPUT_KEY(topic, partition), start);
        processed.set(INPUT_KEY(topic, partition), start);
      }
      inputs.set(topic, new Consumer(this.fetchCluster, info, resolved, this.eos));
    }
    this.inputs = inputs;
    this.processed = processed;
    this.buffered = new Map();
  }

  /**
   * Committed offsets; exactly_once asks for stable ones (the coordinator answers
   * UNSTABLE_OFFSET_COMMIT while a transaction holds offsets of the partition). Still unstable after
   * a while, or any partition's error, is an error (retriable ones are retried by the loop): a
   * partition without an answer must not be read from the earliest offset as if nothing was committed.
   */
  private async fetchCommitted(partitions: ReadonlyMap<string, readonly number[]>): Promise<Map<string, Map<number, number>>> {
    if (partitions.size === 0) return new Map();
    const what = `reading offsets of group '${this.config.applicationId}'`;
    for (let attempt = 0; ; attempt++) {
      const response = await this.groupCluster.request(OffsetFetchApi, {
        groupId: this.config.applicationId,
        topics: [...partitions].map(([name, indexes]) => ({ name, partitionIndexes: [...indexes] })),
        requireStable: this.eos,
      }, { address: await this.member.currentCoordinator(), minVersion: this.eos ? 7 : 1, maxVersion: 7 });
      const errors = [response.errorCode ?? ErrorCode.NONE, ...(response.topics ?? []).flatMap((topic) => topic.partitions.map((p) => p.errorCode))].filter((code) => code !== ErrorCode.NONE);
      if (errors.length === 0) return committedByTopic(response);
      if (errors.every((code) => code === ErrorCode.UNSTABLE_OFFSET_COMMIT) && attempt < UNSTABLE_ATTEMPTS) {
        await sleep(100);
        continue;
      }
      throw new KafkaResponseError(errors.find((code) => code !== ErrorCode.UNSTABLE_OFFSET_COMMIT) ?? ErrorCode.UNSTABLE_OFFSET_COMMIT, what);
    }
  }

  private storeSupplier(definition: StoreDefinition) {
    return this.defaultPersistent ? levelBytesStoreSupplier(definition.name) : inMemoryBytesStoreSupplier(definition.name);
  }

  private isPersistent(definition: StoreDefinition): boolean {
    return definition.supplier?.persistent ?? this.defaultPersistent;
  }

  /**
   * Opens a task's stores and processors. Persistent stores are trusted from the checkpoint's
   * offsets; without a checkpoint entry for each logged store (or under exactly_once, whose
   * checkpoint is written only on a clean close) the task directory is wiped and restored in full.
   */
  private async createTask(name: TaskName, kind: 'active' | 'standby'): Promise<LocalTask> {
    const { subtopology: id, partition } = parseTaskName(name);
    const subtopology = this.metadata.subtopologies.find((s) => s.id === id);
    if (!subtopology) throw new StreamsRuntimeError(`the assignment names task ${name}, which the topology does not have`);
    const directory = join(this.config.stateDir, this.config.applicationId, name);
    const definitions = subtopology.stores.map((store) => this.topology.stores.get(store)!);
    const persistent = definitions.some((definition) => this.isPersistent(definition));
    const changelogs = new Map<string, string>();
    for (const definition of definitions) if (definition.loggingEnabled) changelogs.set(definition.name, `${this.config.applicationId}-${definition.name}-changelog`);
    let checkpoint = await readCheckpoint(directory);
    if (this.eos) await deleteCheckpoint(directory);
    const trusted = persistent && [...changelogs.values()].every((topic) => checkpoint.has(checkpointKey(topic, partition)));
    if (!trusted) {
      await rm(directory, { recursive: true, force: true });
      checkpoint = new Map();
    }
    await mkdir(directory, { recursive: true });
    const local: LocalTask = {
      name,
      subtopology,
      partition,
      directory,
      kind,
      queryable: false,
      persistent,
      changelogs,
      changelogPositions: new Map(),
      standbyConsumers: new Map(),
      standbyBacklog: new Map(),
      task: undefined as unknown as StreamTask,
    };
    for (const topic of changelogs.values()) {
      const offset = checkpoint.get(checkpointKey(topic, partition));
      if (offset !== undefined) local.changelogPositions.set(topic, offset);
    }
    const task = new StreamTask({
      topology: this.topology,
      subtopology,
      partition,
      applicationId: this.config.applicationId,
      collector: { send: (record) => this.collect(record) },
      changelog: {
        logChange: (store, key, value, timestamp) => {
          const topic = changelogs.get(store);
          if (!topic) return;
          this.pending.push({ record: { topic, partition, key: toBuffer(key), value: value === null ? null : toBuffer(value), timestamp, headers: [] }, changelogOf: local });
        },
      },
      defaultStoreSupplier: (definition) => this.storeSupplier(definition),
      defaultKeySerde: this.config.defaultKeySerde,
      defaultValueSerde: this.config.defaultValueSerde,
      stateDirectory: directory,
      globalStores: this.globalStores,
    });
    (local as { task: StreamTask }).task = task;
    await task.initialize();
    return local;
  }

  private async collect(record: OutputRecord): Promise<void> {
    const info = await this.topicInfo(record.topic);
    const partition = record.partition ?? record.partitioner?.(info.partitions.length);
    const headers: RecordHeader[] = record.headers.map((header) => ({ key: header.key, value: header.value === null ? null : toBuffer(header.value) }));
    this.pending.push({
      record: {
        topic: record.topic,
        key: record.key === null ? null : toBuffer(record.key),
        value: record.value === null ? null : toBuffer(record.value),
        headers,
        timestamp: record.timestamp,
        ...(partition === undefined ? {} : { partition }),
      },
    });
  }

  /** Restores the task's stores from their changelogs (restoreStores), flagged for the restored-records count. */
  private async restore(local: LocalTask): Promise<void> {
    this.restoring = true;
    try {
      await this.restoreStores(local);
    } finally {
      this.restoring = false;
    }
  }

  /**
   * Reads each changelog partition of the task to its end: the high watermark, also under
   * exactly_once. Its read_committed consumer reads committed records only, and no further than the
   * last stable offset; reading to the high watermark therefore waits for every transaction open
   * below it to end. The last stable offset is not the end: an instance killed mid-transaction
   * leaves its changelog writes open until the transaction times out, and the records the task's
   * next owner committed after them are above that offset. A task restored only that far would
   * lack committed updates and count them again (the campaign's lost increments).
   */
  private async restoreStores(local: LocalTask): Promise<void> {
    for (const [store, topic] of local.changelogs) {
      const info = await this.topicInfo(topic);
      const consumer = local.standbyConsumers.get(topic) ?? (await this.changelogConsumer(local, topic, info));
      // A standby promoted here first applies what it had fetched and not yet applied.
      await this.apply(local, store, local.standbyBacklog.get(topic) ?? []);
      local.standbyBacklog.delete(topic);
      const end = (await this.admin.listOffsets(info, OffsetSpec.latest)).get(local.partition) ?? 0;
      // A restore may take long; one that stops moving for task.timeout.ms is stuck.
      let position = consumer.positions.get(local.partition) ?? 0;
      let movedAt = Date.now();
      while (position < end && !this.stopping) {
        if (Date.now() - movedAt > this.config.taskTimeoutMs) {
          throw new StreamsRuntimeError(`restoring task ${local.name}: ${topic} partition ${local.partition} stays at offset ${position} below its end ${end} for task.timeout.ms (${this.config.taskTimeoutMs} ms): a transaction open there does not end`);
        }
        const records = await consumer.poll(RESTORE_POLL_WAIT_MS);
        await this.apply(local, store, records);
        const now = consumer.positions.get(local.partition)!;
        if (now !== position) movedAt = Date.now();
        position = now;
        local.changelogPositions.set(topic, position);
      }
      local.changelogPositions.set(topic, consumer.positions.get(local.partition)!);
    }
    local.standbyConsumers.clear();
  }

  private async changelogConsumer(local: LocalTask, topic: string, info: TopicInfo): Promise<Consumer> {
    let start = local.changelogPositions.get(topic);
    if (start === undefined) start = Math.max(0, (await this.admin.listOffsets(info, OffsetSpec.earliest)).get(local.partition) ?? 0);
    return new Consumer(this.fetchCluster, info, new Map([[local.partition, start]]), this.eos);
  }

  private async apply(local: LocalTask, store: string, records: readonly ConsumedRecord[]): Promise<void> {
    const entries = records.filter((record) => record.key !== null).map((record) => ({ key: record.key!, value: record.value, timestamp: record.timestamp }));
    if (entries.length === 0) return;
    await local.task.restore(store, entries);
    if (this.restoring) this.restored += entries.length;
    else this.standbyApplied += entries.length;
  }

  /**
   * Standby tasks apply what their changelogs got since the last round, without waiting, and at
   * most STANDBY_RECORDS_PER_STEP records per changelog per round (a fetch can bring thousands):
   * the rest waits in the task's backlog, and the changelog is fetched again once that is applied.
   */
  private async updateStandbys(): Promise<void> {
    for (const local of this.tasks.values()) {
      if (local.kind !== 'standby') continue;
      for (const [store, topic] of local.changelogs) {
        let consumer = local.standbyConsumers.get(topic);
        if (!consumer) {
          consumer = await this.changelogConsumer(local, topic, await this.topicInfo(topic));
          local.standbyConsumers.set(topic, consumer);
        }
        let backlog = local.standbyBacklog.get(topic) ?? [];
        if (backlog.length === 0) backlog = await consumer.poll(0);
        await this.apply(local, store, backlog.slice(0, STANDBY_RECORDS_PER_STEP));
        const rest = backlog.slice(STANDBY_RECORDS_PER_STEP);
        local.standbyBacklog.set(topic, rest);
        // The checkpoint's position: after what was applied, not after what was fetched.
        local.changelogPositions.set(topic, rest.length > 0 ? rest[0]!.offset : consumer.positions.get(local.partition)!);
      }
    }
  }

  private async closeTask(local: LocalTask, writeTheCheckpoint: boolean): Promise<void> {
    await local.task.close();
    if (local.persistent && writeTheCheckpoint) await writeCheckpoint(local.directory, this.checkpointOf(local));
  }

  // ---- Interactive queries ----

  /**
   * A read-only view of the local instances of store `name` (every active task here that has it):
   * get() asks the task its key maps to, range() and all() merge the tasks' answers. A DSL store's
   * values come without their timestamps.
   */
  store<K, V>(name: string): ReadOnlyKeyValueStore<K, V> {
    const definition = this.topology.stores.get(name);
    if (!definition) throw new StreamsRuntimeError(`no store named ${name}`);
    const stores = () => {
      if (this.currentState !== 'RUNNING' && this.currentState !== 'REBALANCING') throw new InvalidStateStoreError(`store ${name} cannot be read: the instance is ${this.currentState}`);
      const locals = this.activeTasks().filter((local) => local.task.stateStore(name) !== undefined);
      if (locals.length === 0) throw new InvalidStateStoreError(`store ${name} cannot be read here: no task of this instance holds it now (it may be on another instance, or the instance is rebalancing)`);
      const restoring = locals.find((local) => !local.queryable);
      // A store half restored would answer null for keys it has not read yet: refuse, as Kafka does.
      if (restoring) throw new InvalidStateStoreError(`store ${name} cannot be read now: task ${restoring.name} is restoring it`);
      return locals
        .map((local) => local.task.stateStore<ReadOnlyKeyValueStore<K, V>>(name)!)
        .map((store) => (definition.timestamped ? plainValues(store as unknown as TimestampedKeyValueStore<K, V>) : store));
    };
    return {
      name,
      async get(key: K): Promise<V | null> {
        for (const store of stores()) {
          const value = await store.get(key);
          if (value !== null) return value;
        }
        return null;
      },
      range(from: K | null, to: K | null): AsyncIterable<KeyValue<K, V>> {
        return concat(stores().map((store) => store.range(from, to)));
      },
      reverseRange(from: K | null, to: K | null): AsyncIterable<KeyValue<K, V>> {
        return concat(stores().map((store) => store.reverseRange(from, to)));
      },
      all(): AsyncIterable<KeyValue<K, V>> {
        return concat(stores().map((store) => store.all()));
      },
      reverseAll(): AsyncIterable<KeyValue<K, V>> {
        return concat(stores().map((store) => store.reverseAll()));
      },
      async approximateNumEntries(): Promise<number> {
        let total = 0;
        for (const store of stores()) total += await store.approximateNumEntries();
        return total;
      },
    };
  }

  /**
   * Which instance hosts `key` of store `name`: the key's partition by the default partitioner
   * (murmur2 of the serialized key, as the producer places the store's input), its task, and the
   * `application.server` of the instance that runs that task in the current assignment.
   */
  metadataForKey<K>(name: string, key: K, keySerde: Serde<K>): KeyQueryMetadata {
    const info = this.metadata.stores.find((store) => store.name === name);
    if (!info || info.subtopology === undefined) throw new StreamsRuntimeError(`no store named ${name}`);
    const partitions = this.assignment.partitionsPerSubtopology[info.subtopology];
    if (!partitions) throw new StreamsRuntimeError('the instance has no assignment yet (wait for RUNNING)');
    const bytes = keySerde.serialize(info.changelogTopic ?? name, key);
    const partition = bytes === null ? 0 : (murmur2(toBuffer(bytes)) & 0x7fffffff) % partitions;
    const task = taskName(info.subtopology, partition);
    const activeHost = Object.entries(this.assignment.hosts).find(([, tasks]) => tasks.includes(task))?.[0];
    return { activeHost, partition, task };
  }

  /** Changelog records restored into active tasks' stores so far (before they process), for tests and monitoring. */
  get restoredRecords(): number {
    return this.restored;
  }

  /** Changelog records standby tasks applied so far. */
  get standbyRecords(): number {
    return this.standbyApplied;
  }

  /** The tasks this instance runs now, for tests and monitoring. */
  localTasks(): { active: TaskName[]; standby: TaskName[] } {
    const all = [...this.tasks.values()];
    return { active: all.filter((t) => t.kind === 'active').map((t) => t.name).sort(), standby: all.filter((t) => t.kind === 'standby').map((t) => t.name).sort() };
  }
}

/** A partition's fetched records waiting to be processed, oldest first. */
class RecordQueue {
  private records: ConsumedRecord[] = [];
  private head = 0;

  get size(): number {
    return this.records.length - this.head;
  }

  push(record: ConsumedRecord): void {
    this.records.push(record);
  }

  peek(): ConsumedRecord {
    return this.records[this.head]!;
  }

  shift(): ConsumedRecord {
    const record = this.records[this.head]!;
    this.head += 1;
    // Drop the consumed front now and then, so the array does not grow without end.
    if (this.head >= 1024 && this.head * 2 >= this.records.length) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
    return record;
  }
}

async function* concat<T>(iterables: readonly AsyncIterable<T>[]): AsyncIterable<T> {
  for (const iterable of iterables) yield* iterable;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
