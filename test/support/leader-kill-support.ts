// What the leader-kill reliability test (test/reliability/leader-kill.test.ts) drives a process
// cluster with: the partitions' leaders and ISRs as each running node's Metadata reports them, an
// idempotent kafkajs producer writing every partition with one send in flight per partition, a
// kafkajs consumer group that records what it polls, and a final read of every partition from its
// current leader. Everything lands in one History for the queue checker; every wait is bounded.
import { setTimeout as delay } from 'node:timers/promises';
import { requireKafkajsWorkerQueueFix } from './kafkajs-worker-queue.js';
import { type Consumer, Kafka, type LogEntry, type Producer, type RetryOptions, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { CreateTopicsApi, MetadataApi } from '../../src/protocol/messages/index.js';
import type { History } from '../../src/testing/history.js';
import { readToEnd, withTimeout } from '../../src/testing/workload.js';
import type { ProcessCluster } from './cluster-processes.js';
import { describeError } from '../reliability/kafkajs-errors.js';

/**
 * kafkajs's own warnings and errors, one line each with kafkajs's timestamp, handed to `sink`
 * (the test keeps them and prints them when a run fails).
 */
function kafkajsLogs(who: string, sink: ((line: string) => void) | undefined): { logLevel: logLevel; logCreator?: () => (entry: LogEntry) => void } {
  if (sink === undefined) return { logLevel: logLevel.NOTHING };
  return {
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const { timestamp, message, ...extra } = entry.log;
      sink(`${timestamp} ${who} ${entry.label} [${entry.namespace}] ${message} ${JSON.stringify(extra)}`);
    },
  };
}

/**
 * Short broker session, replica lag and rebalance delay for failover tests on a cluster of
 * processes, so a fault costs seconds, not the defaults' tens of seconds.
 */
export const FAST_FAILOVER_SETTINGS: Readonly<Record<string, string>> = {
  'broker.session.timeout.ms': '3000',
  'broker.heartbeat.interval.ms': '500',
  'replica.fetch.backoff.ms': '100',
  'replica.lag.time.max.ms': '5000',
  'group.initial.rebalance.delay.ms': '0',
};

/** One partition as one node's Metadata (v12) describes it. */
export interface PartitionView {
  partition: number;
  errorCode: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

/** One node's Metadata answer for the topic: the brokers it lists (registered, unfenced) and the partitions. */
export interface TopicView {
  node: number;
  brokers: number[];
  controller: number;
  partitions: PartitionView[];
}

/** Metadata v12 for `topic` from `node`, or undefined if the node does not answer within `timeoutMs`. */
export async function topicView(cluster: ProcessCluster, node: number, topic: string, timeoutMs = 2_000): Promise<TopicView | undefined> {
  let connection: KafkaConnection | undefined;
  try {
    connection = await KafkaConnection.open(connectTcp, cluster.address(node), 'leader-kill-metadata', { connectTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs });
    const response = await connection.send(MetadataApi, 12, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const entry = response.topics.find((candidate) => candidate.name === topic);
    if (entry === undefined || entry.errorCode !== ErrorCode.NONE) return undefined;
    return {
      node,
      brokers: response.brokers.map((broker) => broker.nodeId).sort((a, b) => a - b),
      controller: response.controllerId ?? -1,
      partitions: entry.partitions
        .map((partition) => ({
          partition: partition.partitionIndex,
          errorCode: partition.errorCode,
          leader: partition.leaderId,
          leaderEpoch: partition.leaderEpoch ?? -1,
          replicas: [...partition.replicaNodes].sort((a, b) => a - b),
          isr: [...partition.isrNodes].sort((a, b) => a - b),
        }))
        .sort((a, b) => a.partition - b.partition),
    };
  } catch {
    return undefined;
  } finally {
    connection?.close();
  }
}

/** Every running node's view of the topic (nodes that do not answer are left out, and so are `paused` ones, not asked). */
export async function runningViews(cluster: ProcessCluster, topic: string, paused: ReadonlySet<number> = new Set()): Promise<TopicView[]> {
  const views = await Promise.all(cluster.nodeIds.filter((id) => cluster.isRunning(id) && !paused.has(id)).map((id) => topicView(cluster, id, topic)));
  return views.filter((view): view is TopicView => view !== undefined);
}

/** The newest view of one partition among `views`: the highest leader epoch (metadata moves forward). */
export function newestPartition(views: readonly TopicView[], partition: number): PartitionView | undefined {
  let newest: PartitionView | undefined;
  for (const view of views) {
    const candidate = view.partitions.find((entry) => entry.partition === partition);
    if (candidate !== undefined && (newest === undefined || candidate.leaderEpoch > newest.leaderEpoch)) newest = candidate;
  }
  return newest;
}

/**
 * Why the cluster is not fully in sync yet, or undefined when it is: every node of the cluster
 * running, answering Metadata and listing every node as an unfenced broker, and every partition
 * led by a running node with all its replicas in the ISR, on every node.
 */
export function notInSync(cluster: ProcessCluster, views: readonly TopicView[], partitions: number): string | undefined {
  if (views.length !== cluster.nodeIds.length) return `${views.length} of ${cluster.nodeIds.length} nodes answer Metadata`;
  for (const view of views) {
    if (view.brokers.length !== cluster.nodeIds.length) return `node ${view.node} lists brokers ${view.brokers.join(',')}`;
    if (view.partitions.length !== partitions) return `node ${view.node} lists ${view.partitions.length} partitions`;
    for (const entry of view.partitions) {
      if (entry.leader < 0 || !cluster.isRunning(entry.leader)) return `node ${view.node}: partition ${entry.partition} leader ${entry.leader}`;
      if (entry.replicas.length !== cluster.nodeIds.length || entry.isr.join(',') !== entry.replicas.join(',')) return `node ${view.node}: partition ${entry.partition} replicas ${entry.replicas.join(',')} isr ${entry.isr.join(',')}`;
    }
  }
  return undefined;
}

/** Creates `topic` through `node` with CreateTopics v7 (replication factor and topic configs); fails unless created now. */
export async function createReplicatedTopic(cluster: ProcessCluster, node: number, topic: string, partitions: number, replicationFactor: number, configs: Record<string, string>): Promise<void> {
  const connection = await KafkaConnection.open(connectTcp, cluster.address(node), 'leader-kill-admin', { requestTimeoutMs: 20_000 });
  try {
    const response = await connection.send(CreateTopicsApi, 7, {
      topics: [{ name: topic, numPartitions: partitions, replicationFactor, assignments: [], configs: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
      timeoutMs: 15_000,
      validateOnly: false,
    });
    const result = response.topics[0];
    if (result?.errorCode !== ErrorCode.NONE) throw new Error(`CreateTopics ${topic}: error ${result?.errorCode} ${result?.errorMessage ?? ''}`);
  } finally {
    connection.close();
  }
}

/** One producer.send: the values it carried, when it started and ended, how it ended. */
export interface SendRecord {
  partition: number;
  /** Sends to this partition before this one. */
  sequence: number;
  values: string[];
  sentAt: number;
  doneAt: number;
  outcome: 'pending' | 'ok' | 'unknown';
  baseOffset?: number;
  error?: string;
}

export interface IdempotentProducerOptions {
  bootstrapServers: string;
  process: string;
  topic: string;
  partitions: number;
  /** Records per send are 1..maxRecordsPerSend, drawn from `random`. */
  maxRecordsPerSend: number;
  /** A pause between two sends of one partition's loop (0: none). */
  paceMs: number;
  random: () => number;
  /** Where kafkajs's warnings and errors go (none kept without it). */
  clientLog?: (line: string) => void;
  /**
   * After kafkajs gives up on a send, go on with a new producer (a new producer id, so no sequence
   * number is reused) for that partition, instead of ending the partition's loop. For campaigns
   * whose faults (every node down at once) outlast kafkajs's own retries.
   */
  renewAfterGiveUp?: boolean;
}

/**
 * An idempotent kafkajs producer (acks=all, one request in flight per connection, kafkajs's
 * unlimited retries for idempotence) with one loop per partition, each waiting for its send to
 * end before the next: kafkajs numbers a partition's batches when it sends them and takes the
 * numbers back when a request fails, so two sends in flight to one partition would reuse a
 * sequence. Every value is recorded as a send in the history when its send ends: 'ok' with the
 * offset kafkajs reports, 'unknown' with the error if kafkajs gave up.
 */
export class IdempotentProducer {
  readonly sends: SendRecord[] = [];
  private readonly byValue = new Map<string, SendRecord>();
  private stopping = false;
  private loops: Promise<void>[] = [];

  private constructor(
    private readonly history: History,
    private readonly options: IdempotentProducerOptions,
    private readonly producer: Producer,
  ) {}

  static async start(history: History, options: IdempotentProducerOptions): Promise<IdempotentProducer> {
    const running = new IdempotentProducer(history, options, await connectProducer(options));
    running.loops = Array.from({ length: options.partitions }, (_, partition) => running.loop(partition));
    return running;
  }

  /** Acknowledged sends of `partition` that started after `since`, in the order they ended. */
  acknowledgedSince(partition: number, since: number): SendRecord[] {
    return this.sends.filter((send) => send.partition === partition && send.outcome === 'ok' && send.sentAt > since);
  }

  /** The send that carried `value`. */
  sendOf(value: string): SendRecord | undefined {
    return this.byValue.get(value);
  }

  get acknowledgedRecords(): number {
    return this.sends.reduce((total, send) => total + (send.outcome === 'ok' ? send.values.length : 0), 0);
  }

  /** Stops starting sends; waits (bounded) for the ones in flight, then disconnects. */
  async stop(timeoutMs = 60_000): Promise<void> {
    this.stopping = true;
    try {
      await withTimeout(Promise.all(this.loops), timeoutMs, 'the producer loops to finish their last sends');
    } finally {
      await Promise.all([this.producer, ...this.renewed].map((producer) => withTimeout(producer.disconnect(), 10_000, 'producer disconnect').catch(() => {})));
    }
  }

  /** Producers made after a give-up (renewAfterGiveUp), one per partition loop that gave up. */
  get renewals(): number {
    return this.renewed.length;
  }

  private readonly renewed: Producer[] = [];

  private async loop(partition: number): Promise<void> {
    const { topic, process } = this.options;
    let producer = this.producer;
    for (let sequence = 0; !this.stopping; sequence++) {
      const count = 1 + Math.floor(this.options.random() * this.options.maxRecordsPerSend);
      const values = Array.from({ length: count }, (_, index) => `${process}-p${partition}-${sequence}-${index}`);
      const send: SendRecord = { partition, sequence, values, sentAt: performance.now(), doneAt: Number.NaN, outcome: 'pending' };
      this.sends.push(send);
      for (const value of values) this.byValue.set(value, send);
      try {
        const [result] = await producer.send({ topic, acks: -1, timeout: 10_000, messages: values.map((value) => ({ key: `p${partition}`, value, partition })) });
        send.baseOffset = Number(result?.baseOffset ?? -1);
        send.outcome = 'ok';
      } catch (error) {
        send.outcome = 'unknown';
        send.error = describeError(error);
      }
      send.doneAt = performance.now();
      values.forEach((value, index) =>
        this.history.send({
          process,
          topic,
          partition,
          value,
          outcome: send.outcome === 'ok' ? 'ok' : 'unknown',
          ...(send.outcome === 'ok' ? { offset: send.baseOffset! + index } : { error: send.error }),
        }),
      );
      if (send.outcome !== 'ok') {
        // kafkajs has taken this batch's sequence numbers back: a later batch would reuse them and
        // could be taken for a retry of this one. The partition's loop ends (the test reports it),
        // or goes on with a producer of its own under a new producer id.
        if (!this.options.renewAfterGiveUp) return;
        let renewed: Producer | undefined;
        while (renewed === undefined && !this.stopping) {
          renewed = await connectProducer(this.options).catch(() => undefined);
          if (renewed === undefined) await delay(1_000);
        }
        if (renewed === undefined) return;
        producer = renewed;
        this.renewed.push(renewed);
      }
      if (this.options.paceMs > 0) await delay(this.options.paceMs);
    }
  }
}

/** A connected idempotent kafkajs producer (acks=all sends, one request in flight). */
async function connectProducer(options: IdempotentProducerOptions): Promise<Producer> {
  // Idempotence keeps kafkajs's default of unlimited retries; the backoff is kept short so a
  // send meets the new leader soon after the election.
  const producer = kafkaFor(options).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 50, maxRetryTime: 500 } });
  try {
    await withTimeout(producer.connect(), 30_000, 'producer connect');
  } catch (error) {
    await producer.disconnect().catch(() => {});
    throw error;
  }
  return producer;
}

export interface RecordingConsumerOptions {
  bootstrapServers: string;
  /** The process name of its polls in the history. */
  process: string;
  groupId: string;
  topic: string;
  /** Where kafkajs's warnings and errors go (none kept without it). */
  clientLog?: (line: string) => void;
}

/** One record the consumer polled, with when it saw it. */
export interface Polled {
  partition: number;
  offset: number;
  value: string;
  at: number;
}

/**
 * A kafkajs consumer group member reading the topic from the beginning, recording every record it
 * is handed as a poll (each group join as an assignment first, since a rejoin may hand records again
 * from the last committed offset). It is left to recover from broker deaths by itself: kafkajs
 * retries, rejoins and restarts after a crash on its own. It runs with the fix for kafkajs's worker
 * queue (kafkajs-worker-queue.ts), which the process must import before anything imports kafkajs.
 */
export class RecordingConsumer {
  readonly seen = new Set<string>();
  readonly polled: Polled[] = [];
  readonly joins: { at: number; partitions: number[] }[] = [];
  readonly crashes: { at: number; error: string; restart: boolean }[] = [];

  private constructor(private readonly consumer: Consumer) {}

  /** kafkajs crashed it and will not restart it (its retries ran out). */
  get dead(): boolean {
    return this.crashes.some((crash) => !crash.restart);
  }

  static async start(history: History, options: RecordingConsumerOptions): Promise<RecordingConsumer> {
    // Without it kafkajs's consumer can stall for good on a batch its worker queue lost.
    requireKafkajsWorkerQueueFix();
    const kafka = kafkaFor(options, { retries: 10, initialRetryTime: 100, maxRetryTime: 1_000 });
    const consumer = kafka.consumer({ groupId: options.groupId, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 250, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1_000 } });
    const recording = new RecordingConsumer(consumer);
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const partitions = [...(event.payload.memberAssignment[options.topic] ?? [])].sort((a, b) => a - b);
      recording.joins.push({ at: performance.now(), partitions });
      history.assign(options.process, options.topic, partitions);
    });
    consumer.on(consumer.events.CRASH, (event) => {
      recording.crashes.push({ at: performance.now(), error: describeError(event.payload.error), restart: event.payload.restart });
    });
    await withTimeout(consumer.connect(), 30_000, 'consumer connect');
    await withTimeout(consumer.subscribe({ topic: options.topic, fromBeginning: true }), 30_000, 'consumer subscribe');
    await withTimeout(
      consumer.run({
        eachMessage: async ({ partition, message }) => {
          const value = message.value?.toString() ?? '';
          const offset = Number(message.offset);
          history.poll({ process: options.process, topic: options.topic, partition, offset, value });
          recording.seen.add(value);
          recording.polled.push({ partition, offset, value, at: performance.now() });
        },
      }),
      30_000,
      'consumer run',
    );
    return recording;
  }

  async stop(): Promise<void> {
    await withTimeout(this.consumer.disconnect(), 15_000, 'consumer disconnect').catch(() => {});
  }
}

/** What the final read found per partition. */
export interface FinalRead {
  partition: number;
  leader: number;
  highWatermark: number;
  records: number;
  corruptBatches: string[];
}

/**
 * Reads every partition from offset 0 to its high watermark from the node that leads it now (as
 * the running nodes' Metadata reports the newest epoch), recording polls as `process`. A read
 * that meets NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH asks Metadata again. It waits (within
 * `timeoutMs`) until the high watermark passes `mustCover` for the partition (its highest
 * acknowledged offset), as a consumer would; a shorter log is left to the checker.
 */
export async function readFromLeaders(history: History, cluster: ProcessCluster, topic: string, partitions: number, process: string, mustCover: ReadonlyMap<number, number>, timeoutMs = 60_000): Promise<FinalRead[]> {
  const deadline = Date.now() + timeoutMs;
  const results: FinalRead[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    for (;;) {
      const leader = newestPartition(await runningViews(cluster, topic), partition)?.leader ?? -1;
      if (leader >= 0 && cluster.isRunning(leader)) {
        const read = await readToEnd(history, {
          address: cluster.address(leader),
          process,
          topic,
          partitions: [partition],
          timeoutMs: Math.max(1_000, deadline - Date.now()),
          stopAtErrorCodes: [ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.LEADER_NOT_AVAILABLE],
        }).catch((error: unknown) => ({ error }));
        if (!('error' in read) && read.partitionErrors.size === 0) {
          const highWatermark = read.highWatermarks.get(partition) ?? 0;
          if (highWatermark > (mustCover.get(partition) ?? -1) || Date.now() > deadline) {
            results.push({ partition, leader, highWatermark, records: read.records.get(partition) ?? 0, corruptBatches: read.corruptBatches });
            break;
          }
        }
      }
      if (Date.now() > deadline) throw new Error(`the final read of ${topic}-${partition} found no leader to read from within ${timeoutMs} ms`);
      await delay(200);
    }
  }
  return results;
}

/** A kafkajs client for one recorded process: short connection timeout, its own log lines. */
function kafkaFor(options: { process: string; bootstrapServers: string; clientLog?: ((line: string) => void) | undefined }, retry?: RetryOptions): Kafka {
  return new Kafka({
    clientId: options.process,
    brokers: options.bootstrapServers.split(','),
    ...kafkajsLogs(options.process, options.clientLog),
    connectionTimeout: 1_000,
    requestTimeout: 15_000,
    ...(retry ? { retry } : {}),
  });
}
