// A sink task at work: a member of the consumer group `connect-<connector>` that reads its
// assigned partitions of `topics` (or of the topics `topics.regex` matches), converts and
// transforms each record, and hands them to the task's put(). Offsets are committed only after
// the task's preCommit (by default its flush) says they may be, every `offset.flush.interval.ms`,
// before partitions move in a rebalance and on a clean stop: delivery is at least once. As in
// Kafka, preCommit sees every assigned partition, and an offset it offers beyond what was consumed
// is ignored; context.offset() moves the position and what counts as consumed and committed.
// A record that fails conversion or a transform, or that the task reports as errant, is sent to
// the dead letter queue when one is set (created with the task), then fails the task or
// (errors.tolerance=all) is skipped.
import { ErrorCode, retriableErrorCodes } from '../../base/error-codes.js';
import type { Logger } from '../../base/logger.js';
import { OffsetSpec, type TopicInfo } from '../../client/admin-client.js';
import { KafkaResponseError } from '../../client/cluster-client.js';
import { type ConsumedRecord, Consumer } from '../../client/consumer.js';
import type { GroupTimeouts } from '../../client/classic-group.js';
import { GroupMember } from '../../client/group-member.js';
import { Producer } from '../../client/producer.js';
import type { SinkTask, TopicPartition, TopicPartitionOffset } from '../api/connector.js';
import { ConnectException, RetriableException } from '../api/connector.js';
import type { SinkRecord } from '../api/data.js';
import { type ErrorHandler, type FailureContext, SKIP } from './error-handler.js';
import type { RecordConverters } from './record-converters.js';
import type { TransformChain } from './transforms/index.js';
import { type WorkerKafka, sleep } from './worker-kafka.js';
import { type TaskId, type TaskStateListener, WorkerTask, traceOf } from './worker-task.js';

const POLL_WAIT_MS = 500;
const FETCH_RETRY_BACKOFF_MS = 200;
/** How often a topics.regex subscription looks for new matching topics. */
const REGEX_REFRESH_MS = 10_000;

export interface SinkTaskSetup {
  readonly task: SinkTask;
  readonly props: Readonly<Record<string, string>>;
  readonly converters: RecordConverters;
  readonly transforms: TransformChain;
  readonly errors: ErrorHandler;
  readonly kafka: WorkerKafka;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly topicsRegex: RegExp | null;
  readonly flushIntervalMs: number;
  readonly deadLetter: { topic: string; replicationFactor: number; contextHeaders: boolean } | null;
  readonly topicUsed: (topic: string) => void;
  /** The consumer group member's timeouts (the worker's consumer.* / the connector's consumer.override.*). */
  readonly groupTimeouts: GroupTimeouts;
  /** isolation.level=read_committed: records of open or aborted transactions are not read. */
  readonly readCommitted: boolean;
}

type Positions = Map<string, Map<number, number>>;

export class WorkerSinkTask extends WorkerTask {
  private member: GroupMember | undefined;
  /** The topics and partition counts `member` subscribes to. */
  private memberTopics = new Map<string, number>();
  private subscribed: string[] = [];
  private consumers = new Map<string, Consumer>();
  /** Partitions the task paused through its context, as "partition:topic". */
  private readonly pausedPartitions = new Set<string>();
  /** Offsets after the last record put, by topic and partition (every assigned partition: Kafka's currentOffsets). */
  private readonly consumed: Positions = new Map();
  /** The offsets last committed (or, until then, the positions when assigned): Kafka's lastCommittedOffsets. */
  private lastCommitted: Positions = new Map();
  /** Offsets asked for by the task's context.offset(), applied before the next fetch. */
  private rewinds: TopicPartitionOffset[] = [];
  private lastCommit = Date.now();
  private lastRegexCheck = Date.now();
  private commitRequested = false;
  private redeliveryDelayMs = 0;
  /** The Kafka record each SinkRecord came from (for the dead letter queue). */
  private readonly originals = new WeakMap<SinkRecord, ConsumedRecord>();
  private deadLetterProducer: Producer | undefined;
  readonly counts = { read: 0, put: 0, skipped: 0, offsetCommits: 0 };

  constructor(id: TaskId, private readonly setup: SinkTaskSetup, logger: Logger, onState: TaskStateListener) {
    super(id, logger, onState);
  }

  metrics(): Record<string, number> {
    return {
      'sink-record-read-total': this.counts.read,
      'sink-record-send-total': this.counts.put,
      'sink-record-skipped-total': this.counts.skipped,
      'offset-commit-completion-total': this.counts.offsetCommits,
      'total-records-skipped': this.setup.errors.toleratedFailures,
      'sink-record-lag-max': this.lagMax(),
    };
  }

  /** The most records any assigned partition's end is ahead of what the task was handed (as of the last fetch). */
  private lagMax(): number {
    let max = 0;
    for (const consumer of this.consumers.values()) {
      for (const partition of consumer.positions.keys()) max = Math.max(max, consumer.lag(partition) ?? 0);
    }
    return max;
  }

  protected async initializeAndStart(): Promise<void> {
    const { task, props, errors } = this.setup;
    errors.reportTo((error, context) => this.sendToDeadLetterQueue(error, context));
    // Kafka sets the dead letter queue up (creating its topic) when it builds the task.
    if (this.setup.deadLetter) await this.openDeadLetterQueue(this.setup.deadLetter);
    // As Kafka's, the reporter is there only with a dead letter queue or the error log to report to.
    const errantRecordReporter = this.setup.deadLetter || errors.logsErrors
      ? async (record: SinkRecord, error: Error) => {
        // A record the task built itself has no consumed original: it is converted, as Kafka does.
        this.current = this.originals.get(record) ?? this.asConsumed(record);
        await errors.failed(error, { stage: 'TASK_PUT', className: SINK_TASK_CLASS, record: () => describe(record) });
      }
      : null;
    task.initialize({
      configs: () => props,
      offset: (offsets) => {
        this.rewinds.push(...offsets);
      },
      timeout: (timeoutMs) => {
        this.redeliveryDelayMs = timeoutMs;
      },
      assignment: () => this.assignment(),
      pause: (partitions) => {
        for (const partition of partitions) this.pausedPartitions.add(key(partition.topic, partition.partition));
      },
      resume: (partitions) => {
        for (const partition of partitions) this.pausedPartitions.delete(key(partition.topic, partition.partition));
      },
      requestCommit: () => {
        this.commitRequested = true;
      },
      errantRecordReporter,
    });
    await task.start(props);
    await this.joinGroup();
  }

  protected async iterate(): Promise<void> {
    if (this.member!.rebalanceNeeded || (this.setup.topicsRegex && Date.now() - this.lastRegexCheck > REGEX_REFRESH_MS && await this.subscriptionChanged())) {
      await this.rebalance();
    }
    this.applyRewinds();
    const fetched = await this.fetch();
    this.counts.read += fetched.length;
    const records: SinkRecord[] = [];
    for (const consumed of fetched) {
      const record = await this.toSinkRecord(consumed);
      if (record) records.push(record);
      else this.counts.skipped++;
    }
    await this.deliver(records);
    for (const consumed of fetched) this.positionsOf(this.consumed, consumed.topic).set(consumed.partition, consumed.offset + 1);
    if (this.commitRequested || Date.now() - this.lastCommit >= this.setup.flushIntervalMs) await this.commitOffsets();
  }

  protected async onStopRequested(): Promise<void> {}

  protected async close(failed: boolean): Promise<void> {
    try {
      if (!failed && this.member) {
        await this.commitOffsets();
        await this.setup.task.close(this.assignment());
      }
    } finally {
      this.setup.transforms.close();
      await Promise.resolve(this.setup.task.stop()).catch((error: unknown) => this.logger.warn('sink task stop failed', { task: this.label, error }));
      await this.member?.leave();
    }
  }

  /** put() until it takes the records; a RetriableException redelivers them after context.timeout(). */
  private async deliver(records: SinkRecord[]): Promise<void> {
    for (;;) {
      try {
        await this.setup.task.put(records);
        this.counts.put += records.length;
        return;
      } catch (error) {
        if (!(error instanceof RetriableException) || this.stopping) throw error;
        this.logger.warn(`${this.label}: put asked for redelivery`, { error: error.message });
        await sleep(this.redeliveryDelayMs);
      }
    }
  }

  private async toSinkRecord(consumed: ConsumedRecord): Promise<SinkRecord | null> {
    const describeConsumed = () => `${consumed.topic}-${consumed.partition} offset ${consumed.offset}`;
    this.current = consumed;
    const data = await this.setup.converters.fromKafka(consumed.topic, consumed, this.setup.errors, describeConsumed);
    if (data === SKIP) return null;
    const record: SinkRecord = {
      topic: consumed.topic,
      kafkaPartition: consumed.partition,
      kafkaOffset: consumed.offset,
      timestamp: consumed.timestamp,
      timestampType: 'CreateTime',
      originalTopic: consumed.topic,
      originalKafkaPartition: consumed.partition,
      originalKafkaOffset: consumed.offset,
      ...data,
    };
    const transformed = await this.setup.errors.execute({ stage: 'TRANSFORMATION', className: 'transforms', record: describeConsumed }, () => this.setup.transforms.apply(record));
    if (transformed === SKIP || transformed === null) return null;
    this.originals.set(transformed, consumed);
    return transformed;
  }

  /** The Kafka record being converted, transformed or reported errant: what a tolerated failure sends to the dead letter queue. */
  private current: ConsumedRecord | undefined;

  /** A record the task reported that did not come from the consumer, as Kafka bytes with its position. */
  private asConsumed(record: SinkRecord): ConsumedRecord {
    const bytes = this.setup.converters.toKafkaDirect(record);
    return { topic: record.topic, partition: record.kafkaPartition, offset: record.kafkaOffset, timestamp: record.timestamp ?? -1, ...bytes };
  }

  private async openDeadLetterQueue(deadLetter: NonNullable<SinkTaskSetup['deadLetter']>): Promise<void> {
    try {
      await this.ensureDeadLetterTopic(deadLetter.topic, deadLetter.replicationFactor);
      this.deadLetterProducer = new Producer(this.setup.kafka.cluster, await this.setup.kafka.topic(deadLetter.topic, false), { compression: 0, acks: -1 });
    } catch (error) {
      throw new ConnectException(`Could not initialize dead letter queue with topic=${deadLetter.topic}`, { cause: error });
    }
  }

  private async sendToDeadLetterQueue(error: Error, context: FailureContext): Promise<void> {
    const deadLetter = this.setup.deadLetter;
    if (!deadLetter || !this.deadLetterProducer) return;
    const original = this.current;
    if (!original) return;
    const headers = [...original.headers];
    if (deadLetter.contextHeaders) {
      const text = (name: string, value: string) => headers.push({ key: `__connect.errors.${name}`, value: Buffer.from(value) });
      text('topic', original.topic);
      text('partition', String(original.partition));
      text('offset', String(original.offset));
      text('connector.name', this.id.connector);
      text('task.id', String(this.id.task));
      text('stage', context.stage);
      text('class.name', context.className);
      text('exception.class.name', javaClassName(error));
      text('exception.message', error.message);
      text('exception.stacktrace', traceOf(error));
    }
    // The original timestamp is kept, as Kafka's DeadLetterQueueReporter does.
    const timestamp = original.timestamp >= 0 ? { timestamp: original.timestamp } : {};
    const [result] = await this.deadLetterProducer.send([{ key: original.key, value: original.value, headers, ...timestamp }]);
    if (result?.error) this.logger.error(`could not write to the dead letter queue ${deadLetter.topic}`, { error: result.error });
  }

  private async ensureDeadLetterTopic(topic: string, replicationFactor: number): Promise<void> {
    try {
      await this.setup.kafka.admin.createTopic(topic, { partitions: 1, replicationFactor });
    } catch (error) {
      if (!(error instanceof KafkaResponseError && error.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)) throw error;
    }
  }

  private async fetch(): Promise<ConsumedRecord[]> {
    const consumers = [...this.consumers.values()].filter((consumer) => consumer.positions.size > 0);
    if (consumers.length === 0) {
      await sleep(POLL_WAIT_MS);
      return [];
    }
    const paused = this.withoutPaused();
    try {
      const rounds = await Promise.all(consumers.map((consumer) => this.fetchFrom(consumer)));
      return rounds.flat();
    } finally {
      paused();
    }
  }

  private async fetchFrom(consumer: Consumer): Promise<ConsumedRecord[]> {
    try {
      return await consumer.poll(POLL_WAIT_MS);
    } catch (error) {
      if (!(error instanceof KafkaResponseError) && !(error instanceof Error && /connection|closed|timed out|ECONN/i.test(error.message))) throw error;
      if (error instanceof KafkaResponseError && error.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        await this.resetToEarliest(consumer);
        return [];
      }
      if (error instanceof KafkaResponseError && !retriableErrorCodes.has(error.errorCode)) throw error;
      this.logger.warn(`${this.label}: fetch failed, retrying`, { error: error.message });
      await sleep(FETCH_RETRY_BACKOFF_MS);
      const topic = await this.setup.kafka.topic(consumer.topic.name, false).catch(() => consumer.topic);
      this.consumers.set(topic.name, new Consumer(this.setup.kafka.cluster, topic, consumer.positions, this.setup.readCommitted));
      return [];
    }
  }

  /** Takes the task's paused partitions out of the consumers' positions; the returned function puts them back. */
  private withoutPaused(): () => void {
    const removed: [Consumer, number, number][] = [];
    for (const consumer of this.consumers.values()) {
      for (const [partition, position] of consumer.positions) {
        if (this.pausedPartitions.has(key(consumer.topic.name, partition))) {
          removed.push([consumer, partition, position]);
          consumer.positions.delete(partition);
        }
      }
    }
    return () => {
      for (const [consumer, partition, position] of removed) consumer.positions.set(partition, position);
    };
  }

  private async resetToEarliest(consumer: Consumer): Promise<void> {
    const earliest = await this.setup.kafka.admin.listOffsets(consumer.topic, OffsetSpec.earliest);
    for (const partition of consumer.positions.keys()) consumer.positions.set(partition, earliest.get(partition) ?? 0);
  }

  /** Kafka's rewind(): the position, and what counts as consumed and as last committed, move to the offset asked for. */
  private applyRewinds(): void {
    for (const rewind of this.rewinds.splice(0)) {
      const consumer = this.consumers.get(rewind.topic);
      if (!consumer?.positions.has(rewind.partition)) continue;
      consumer.positions.set(rewind.partition, rewind.offset);
      this.positionsOf(this.consumed, rewind.topic).set(rewind.partition, rewind.offset);
      this.positionsOf(this.lastCommitted, rewind.topic).set(rewind.partition, rewind.offset);
    }
  }

  private assignment(): TopicPartition[] {
    return [...this.consumers.values()].flatMap((consumer) => [...consumer.positions.keys()].map((partition) => ({ topic: consumer.topic.name, partition })));
  }

  private async subscriptionTopics(): Promise<Map<string, TopicInfo>> {
    const names = this.setup.topicsRegex
      ? (await this.setup.kafka.admin.listTopics(false)).map((topic) => topic.name).filter((name) => this.setup.topicsRegex!.test(name) && name !== this.setup.deadLetter?.topic)
      : this.setup.topics;
    const infos = new Map<string, TopicInfo>();
    for (const name of names) infos.set(name, await this.setup.kafka.topic(name, !this.setup.topicsRegex));
    return infos;
  }

  private async subscriptionChanged(): Promise<boolean> {
    this.lastRegexCheck = Date.now();
    const topics = [...(await this.subscriptionTopics()).keys()].sort();
    return topics.join(',') !== this.subscribed.join(',');
  }

  private async joinGroup(): Promise<void> {
    const topics = await this.subscriptionTopics();
    this.subscribed = [...topics.keys()].sort();
    for (const topic of topics.keys()) this.setup.topicUsed(topic);
    const counts = new Map([...topics].map(([name, info]) => [name, info.partitions.length]));
    // A rejoin is the same member (its id kept), so the coordinator does not wait out a member
    // left behind; a new subscription is a new member, after the old one left the group.
    if (!this.member || !sameCounts(this.memberTopics, counts)) {
      await this.member?.leave().catch(() => undefined);
      this.member = new GroupMember(this.setup.kafka.cluster, this.setup.groupId, counts, this.setup.groupTimeouts);
      this.memberTopics = counts;
    }
    const assigned = await this.member.join();
    const committed = await this.member.committed(assigned);
    this.consumers = new Map();
    for (const [name, partitions] of assigned) {
      const info = topics.get(name);
      if (!info || partitions.length === 0) continue;
      const known = committed.get(name) ?? new Map<number, number>();
      const missing = partitions.filter((partition) => !known.has(partition));
      // Connect's sink consumers start at the earliest offset when the group has none (auto.offset.reset=earliest).
      const earliest = missing.length > 0 ? await this.setup.kafka.admin.listOffsets({ ...info, partitions: info.partitions.filter((partition) => missing.includes(partition.partition)) }, OffsetSpec.earliest) : new Map<number, number>();
      const positions = new Map(partitions.map((partition) => [partition, known.get(partition) ?? earliest.get(partition) ?? 0]));
      this.consumers.set(name, new Consumer(this.setup.kafka.cluster, info, positions, this.setup.readCommitted));
    }
    // Kafka's onPartitionsAssigned: every assigned partition starts as consumed and committed up to its position.
    this.consumed.clear();
    for (const consumer of this.consumers.values()) {
      for (const [partition, position] of consumer.positions) this.positionsOf(this.consumed, consumer.topic.name).set(partition, position);
    }
    this.lastCommitted = copyPositions(this.consumed);
    await this.setup.task.open(this.assignment());
  }

  private async rebalance(): Promise<void> {
    await this.commitOffsets();
    await this.setup.task.close(this.assignment());
    await this.joinGroup();
  }

  /**
   * Commits what the task's preCommit allows of the offsets put so far, as Kafka's commitOffsets:
   * an offset for a partition not assigned, or beyond what was consumed, is ignored (that
   * partition keeps its last committed offset); nothing is committed when preCommit offers
   * nothing or nothing changed.
   */
  private async commitOffsets(): Promise<void> {
    this.lastCommit = Date.now();
    this.commitRequested = false;
    const current: TopicPartitionOffset[] = [];
    for (const [topic, partitions] of this.consumed) for (const [partition, offset] of partitions) current.push({ topic, partition, offset });
    if (current.length === 0) return;
    const offered = await this.setup.task.preCommit(current);
    if (offered.length === 0) return;
    const committable = copyPositions(this.lastCommitted);
    for (const entry of offered) {
      const consumed = this.consumed.get(entry.topic)?.get(entry.partition);
      if (consumed === undefined) {
        this.logger.warn(`${this.label}: ignoring invalid task provided offset ${entry.topic}-${entry.partition}/${entry.offset} -- partition not assigned`);
      } else if (entry.offset > consumed) {
        this.logger.warn(`${this.label}: ignoring invalid task provided offset ${entry.topic}-${entry.partition}/${entry.offset} -- not yet consumed, taskOffset=${entry.offset} currentOffset=${consumed}`);
      } else {
        this.positionsOf(committable, entry.topic).set(entry.partition, entry.offset);
      }
    }
    if (samePositions(committable, this.lastCommitted)) return;
    await this.member!.commit(committable);
    this.lastCommitted = committable;
    this.counts.offsetCommits++;
  }

  private positionsOf(positions: Positions, topic: string): Map<number, number> {
    let byPartition = positions.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      positions.set(topic, byPartition);
    }
    return byPartition;
  }
}

function key(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

/** What Kafka's errant record reporter names as the class that failed: the SinkTask interface. */
const SINK_TASK_CLASS = 'org.apache.kafka.connect.sink.SinkTask';

/** Connect's exceptions by their Java class names (as Kafka's DLQ header has them); any other error by its name. */
function javaClassName(error: Error): string {
  return ['ConnectException', 'DataException', 'RetriableException'].includes(error.name) ? `org.apache.kafka.connect.errors.${error.name}` : error.name;
}

function copyPositions(positions: Positions): Positions {
  return new Map([...positions].map(([topic, partitions]) => [topic, new Map(partitions)]));
}

function samePositions(a: Positions, b: Positions): boolean {
  const flat = (positions: Positions) => [...positions].flatMap(([topic, partitions]) => [...partitions].map(([partition, offset]) => `${topic}:${partition}:${offset}`)).sort().join(',');
  return flat(a) === flat(b);
}

function describe(record: SinkRecord): string {
  return `${record.originalTopic}-${record.originalKafkaPartition} offset ${record.originalKafkaOffset}`;
}

function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return a.size === b.size && [...a].every(([name, count]) => b.get(name) === count);
}
