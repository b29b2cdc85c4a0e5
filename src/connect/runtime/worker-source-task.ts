// A source task at work: poll the task, transform and convert each record, send them to Kafka
// (acks=all, retrying what failed for a reason that can pass: a leader moving, a lost connection)
// and only then count their source offsets as done. Every `offset.flush.interval.ms` the offsets
// of acknowledged records are stored and the task's commit() is called; on a clean stop they are
// stored once more. Delivery is at least once: a crash between a send and the next flush sends
// those records again.
// With exactly-once support (KIP-618, distributed workers with exactly.once.source.support=enabled)
// the task has a transactional producer instead: the records of a transaction and the offsets
// they reach go to Kafka in one transaction, so after a crash the task restarts exactly after the
// last committed records. A transaction ends after each poll (transaction.boundary=poll), every
// transaction.boundary.interval.ms (interval), or where the connector says (connector).
import { retriableErrorCodes } from '../../base/error-codes.js';
import type { Logger } from '../../base/logger.js';
import type { TopicInfo } from '../../client/admin-client.js';
import { Producer, type ProducerRecord } from '../../client/producer.js';
import type { TransactionalProducer } from '../../client/transactional-producer.js';
import type { RecordMetadata, SourceTask, TransactionContext } from '../api/connector.js';
import { ConnectException } from '../api/connector.js';
import type { SourceRecord } from '../api/data.js';
import { type ErrorHandler, SKIP } from './error-handler.js';
import { type OffsetEntry, type OffsetStore, type SourceOffset, type SourcePartition, offsetKey, offsetReader } from './offset-store.js';
import type { RecordConverters } from './record-converters.js';
import type { TransformChain } from './transforms/index.js';
import { type WorkerKafka, sleep } from './worker-kafka.js';
import { type TaskId, type TaskStateListener, WorkerTask } from './worker-task.js';

const SEND_RETRY_BACKOFF_MS = 100;
const SEND_RETRY_BACKOFF_MAX_MS = 2_000;

/** What a source task needs for exactly-once delivery. */
export interface ExactlyOnceSetup {
  readonly producer: TransactionalProducer;
  /** The offsets topic, written in the task's transactions. */
  readonly offsetsTopic: () => TopicInfo;
  readonly offsetRecord: (entry: OffsetEntry) => { key: Buffer; value: Buffer | null };
  /** Offsets a committed transaction wrote, for the worker's in-memory view. */
  readonly committed: (entries: readonly OffsetEntry[]) => void;
  readonly boundary: 'poll' | 'interval' | 'connector';
  readonly intervalMs: number;
  /** Waits until the producers of the connector's earlier task generations are fenced (KIP-618). */
  readonly fenceZombies: () => Promise<void>;
  /** Whether the task configs this task started with are still the connector's latest. */
  readonly generationCurrent: () => boolean;
}

export interface SourceTaskSetup {
  readonly task: SourceTask;
  readonly props: Readonly<Record<string, string>>;
  readonly converters: RecordConverters;
  readonly transforms: TransformChain;
  readonly errors: ErrorHandler;
  readonly kafka: WorkerKafka;
  readonly offsets: OffsetStore;
  readonly flushIntervalMs: number;
  /** Called with each topic the task writes to (the connector's active topics). */
  readonly topicUsed: (topic: string) => void;
  /** Present for exactly-once delivery. */
  readonly exactlyOnce?: ExactlyOnceSetup;
}

/** One record on its way: what the task gave, what Kafka will get. */
interface Outgoing {
  readonly record: SourceRecord;
  readonly kafka: ProducerRecord & { topic: string };
}

export class WorkerSourceTask extends WorkerTask {
  private readonly producer: Producer;
  /** Offsets of acknowledged records not stored yet, by offset key. */
  private readonly unflushed = new Map<string, { partition: SourcePartition; offset: SourceOffset }>();
  private lastFlush = Date.now();
  /** Metrics: records polled and written, offset flushes. */
  readonly counts = { polled: 0, written: 0, filtered: 0, offsetCommits: 0 };

  constructor(id: TaskId, private readonly setup: SourceTaskSetup, logger: Logger, onState: TaskStateListener) {
    super(id, logger, onState);
    this.producer = new Producer(setup.kafka.cluster, [], { compression: 0, acks: -1 });
  }

  metrics(): Record<string, number> {
    return {
      'source-record-poll-total': this.counts.polled,
      'source-record-write-total': this.counts.written,
      'source-record-filtered-total': this.counts.filtered,
      'offset-commit-completion-total': this.counts.offsetCommits,
      'total-records-skipped': this.setup.errors.toleratedFailures,
    };
  }

  protected async initializeAndStart(): Promise<void> {
    const { task, props, offsets, exactlyOnce } = this.setup;
    if (exactlyOnce) {
      // Before this task has a producer, the leader fences every producer of the connector's
      // earlier task generations, once per generation: a task that a smaller task set no longer
      // has would otherwise live on as a zombie that no new producer fences (KIP-618).
      await exactlyOnce.fenceZombies().catch((error: unknown) => {
        throw new ConnectException(`Failed to perform zombie fencing: ${(error as Error).message}`);
      });
      // InitProducerId next: it fences an older incarnation of this task before this one reads offsets.
      await exactlyOnce.producer.init();
      // Task configs committed meanwhile were fenced without this producer: it must not write.
      if (!exactlyOnce.generationCurrent()) throw new ConnectException(`the task configs of ${this.id.connector} changed while task ${this.id.task} was starting; it will be started again with the new ones`);
    }
    // A boundary at a record ends the transaction right after that record (the records polled
    // after it open the next one); one without a record, at the end of the poll that asked.
    const boundary = (kind: 'commit' | 'abort') => (record?: SourceRecord) => {
      if (record === undefined) this.boundaryRequest = kind;
      else this.recordBoundaries.set(record, kind);
    };
    const transactionContext: TransactionContext | null = exactlyOnce?.boundary === 'connector' ? { commitTransaction: boundary('commit'), abortTransaction: boundary('abort') } : null;
    task.initialize({ configs: () => props, offsetStorageReader: offsetReader(offsets, this.id.connector), transactionContext });
    await task.start(props);
  }

  protected async iterate(): Promise<void> {
    const records = (await this.setup.task.poll()) ?? [];
    this.counts.polled += records.length;
    const exactlyOnce = this.setup.exactlyOnce;
    if (!exactlyOnce) {
      if (records.length > 0) await this.sendRecords(records);
      if (Date.now() - this.lastFlush >= this.setup.flushIntervalMs) await this.flushOffsets();
      return;
    }
    let start = 0;
    for (const [index, record] of records.entries()) {
      const boundary = this.recordBoundaries.get(record);
      if (boundary === undefined) continue;
      await this.sendInTransaction(records.slice(start, index + 1), exactlyOnce);
      start = index + 1;
      if (boundary === 'abort') await this.abortTransaction(exactlyOnce);
      else await this.commitTransaction(exactlyOnce);
    }
    this.recordBoundaries.clear();
    if (start < records.length) await this.sendInTransaction(records.slice(start), exactlyOnce);
    const request = this.boundaryRequest;
    this.boundaryRequest = undefined;
    if (!this.inTransaction) return;
    if (request === 'abort') await this.abortTransaction(exactlyOnce);
    else if (exactlyOnce.boundary === 'poll' || request === 'commit' || (exactlyOnce.boundary === 'interval' && Date.now() - this.transactionStarted >= exactlyOnce.intervalMs)) {
      await this.commitTransaction(exactlyOnce);
    }
  }

  protected async onStopRequested(): Promise<void> {
    await this.setup.task.stop();
  }

  protected async close(failed: boolean): Promise<void> {
    const exactlyOnce = this.setup.exactlyOnce;
    try {
      if (!exactlyOnce) {
        // Offsets of records Kafka acknowledged are stored even when the task failed afterwards.
        await this.flushOffsets();
      } else if (this.inTransaction) {
        // A clean stop commits the open transaction; a failed task's is aborted (its records are sent again).
        if (failed) await this.abortTransaction(exactlyOnce).catch(() => undefined);
        else await this.commitTransaction(exactlyOnce);
      }
    } finally {
      exactlyOnce?.producer.close();
      this.setup.transforms.close();
      if (failed) await Promise.resolve(this.setup.task.stop()).catch(() => undefined);
    }
  }

  private async sendRecords(records: readonly SourceRecord[]): Promise<void> {
    const outgoing = await this.prepare(records);
    const metadata = await this.send(outgoing);
    await this.recordsDone(records, outgoing, metadata, (record, written) => this.setup.task.commitRecord(record, written));
  }

  /** Transformed and converted records (those a transform or a tolerated error dropped are left out). */
  private async prepare(records: readonly SourceRecord[]): Promise<Outgoing[]> {
    const outgoing: Outgoing[] = [];
    for (const record of records) {
      const describe = () => `source record for topic ${record.topic}, partition ${JSON.stringify(record.sourcePartition)}, offset ${JSON.stringify(record.sourceOffset)}`;
      const transformed = await this.setup.errors.execute({ stage: 'TRANSFORMATION', className: 'transforms', record: describe }, () => this.setup.transforms.apply(record));
      if (transformed === SKIP || transformed === null) continue;
      const bytes = await this.setup.converters.toKafka(transformed, this.setup.errors, describe);
      if (bytes === SKIP) continue;
      outgoing.push({
        record,
        kafka: {
          topic: transformed.topic,
          key: bytes.key,
          value: bytes.value,
          headers: bytes.headers,
          ...(transformed.kafkaPartition !== null ? { partition: transformed.kafkaPartition } : {}),
          ...(transformed.timestamp !== null ? { timestamp: transformed.timestamp } : {}),
        },
      });
    }
    this.counts.filtered += records.length - outgoing.length;
    return outgoing;
  }

  /** Marks each record's offset done, in poll order, and hands it with where it landed (null: dropped) to `then`. */
  private async recordsDone(records: readonly SourceRecord[], outgoing: readonly Outgoing[], metadata: readonly RecordMetadata[], then: (record: SourceRecord, written: RecordMetadata | null) => void | Promise<void>): Promise<void> {
    let sent = 0;
    for (const record of records) {
      const written = sent < outgoing.length && outgoing[sent]!.record === record ? metadata[sent++]! : null;
      this.markDone(record);
      await then(record, written);
    }
    this.counts.written += outgoing.length;
  }

  // ---- exactly once ----

  private inTransaction = false;
  private transactionStarted = 0;
  private boundaryRequest: 'commit' | 'abort' | undefined;
  /** Boundaries the connector set at records (transaction.boundary=connector). */
  private readonly recordBoundaries = new Map<SourceRecord, 'commit' | 'abort'>();
  /** commitRecord calls held until their transaction commits. */
  private pendingCommitRecords: [SourceRecord, RecordMetadata | null][] = [];
  /** Every topic the transactional producer has written to, with its partitions. */
  private readonly transactionTopics = new Map<string, TopicInfo>();

  private async sendInTransaction(records: readonly SourceRecord[], exactlyOnce: ExactlyOnceSetup): Promise<void> {
    const outgoing = await this.prepare(records);
    if (!this.inTransaction) {
      exactlyOnce.producer.beginTransaction();
      this.inTransaction = true;
      this.transactionStarted = Date.now();
    }
    for (const topic of new Set(outgoing.map((item) => item.kafka.topic))) {
      if (!this.transactionTopics.has(topic)) {
        this.transactionTopics.set(topic, await this.setup.kafka.topic(topic, true));
        this.setup.topicUsed(topic);
      }
    }
    const results = outgoing.length === 0 ? [] : await exactlyOnce.producer.send(outgoing.map((item) => item.kafka), this.transactionTopics);
    const metadata = results.map((result, index): RecordMetadata => {
      if (result.error !== null) throw new ConnectException(`Unrecoverable exception from producer send: ${result.error}`);
      return { topic: result.topic, partition: result.partition, offset: result.offset, timestamp: outgoing[index]!.kafka.timestamp ?? Date.now() };
    });
    await this.recordsDone(records, outgoing, metadata, (record, written) => {
      this.pendingCommitRecords.push([record, written]);
    });
  }

  /** Writes the transaction's offsets in it and commits; then the task hears of its records. */
  private async commitTransaction(exactlyOnce: ExactlyOnceSetup): Promise<void> {
    const entries = [...this.unflushed.values()].map(({ partition, offset }) => ({ connector: this.id.connector, partition, offset }));
    if (entries.length > 0) {
      const offsetsTopic = exactlyOnce.offsetsTopic();
      this.transactionTopics.set(offsetsTopic.name, offsetsTopic);
      const results = await exactlyOnce.producer.send(entries.map((entry) => ({ topic: offsetsTopic.name, ...exactlyOnce.offsetRecord(entry), headers: [] })), this.transactionTopics);
      const failed = results.find((result) => result.error !== null);
      if (failed) throw new ConnectException(`could not write source offsets in the transaction: ${failed.error}`);
    }
    await exactlyOnce.producer.commitTransaction();
    this.inTransaction = false;
    this.unflushed.clear();
    exactlyOnce.committed(entries);
    if (entries.length > 0) this.counts.offsetCommits++;
    const done = this.pendingCommitRecords;
    this.pendingCommitRecords = [];
    for (const [record, written] of done) await this.setup.task.commitRecord(record, written);
    await this.setup.task.commit();
  }

  /** Aborts the open transaction: its records never become visible and their offsets are not stored. */
  private async abortTransaction(exactlyOnce: ExactlyOnceSetup): Promise<void> {
    this.inTransaction = false;
    this.unflushed.clear();
    this.pendingCommitRecords = [];
    await exactlyOnce.producer.abortTransaction();
  }

  /** Sends every record, retrying retriable failures; resolves with where each landed. */
  private async send(outgoing: readonly Outgoing[]): Promise<RecordMetadata[]> {
    const metadata: RecordMetadata[] = new Array(outgoing.length);
    let pending = outgoing.map((_, index) => index);
    let backoff = SEND_RETRY_BACKOFF_MS;
    while (pending.length > 0) {
      await this.learnTopics(pending.map((index) => outgoing[index]!.kafka.topic));
      const results = await this.producer.send(pending.map((index) => outgoing[index]!.kafka));
      const retry: number[] = [];
      results.forEach((result, position) => {
        const index = pending[position]!;
        if (result.error === null) {
          metadata[index] = { topic: result.topic, partition: result.partition, offset: result.offset, timestamp: outgoing[index]!.kafka.timestamp ?? Date.now() };
        } else if (result.errorCode === -1 || retriableErrorCodes.has(result.errorCode)) {
          retry.push(index);
        } else {
          throw new ConnectException(`Unrecoverable exception from producer send callback: ${result.error}`);
        }
      });
      if (retry.length === 0) break;
      if (this.stopping) throw new ConnectException(`stopped while ${retry.length} record(s) were still being sent`);
      this.logger.warn(`retrying ${retry.length} record(s) of ${this.label}`, { error: results.find((result) => result.error !== null)?.error });
      await sleep(backoff);
      backoff = Math.min(backoff * 2, SEND_RETRY_BACKOFF_MAX_MS);
      await this.learnTopics([...new Set(retry.map((index) => outgoing[index]!.kafka.topic))], true);
      pending = retry;
    }
    return metadata;
  }

  /** Makes sure the producer knows each topic's partitions (refreshed when `refresh`). */
  private async learnTopics(topics: readonly string[], refresh = false): Promise<void> {
    for (const topic of new Set(topics)) {
      if (!refresh && this.producer.hasTopic(topic)) continue;
      this.producer.setTopic(await this.setup.kafka.topic(topic, true));
      this.setup.topicUsed(topic);
    }
  }

  private markDone(record: SourceRecord): void {
    if (record.sourcePartition === null || record.sourceOffset === null) return;
    // Records of one poll usually share their partition object: its key is computed once.
    if (record.sourcePartition !== this.lastPartition) {
      this.lastPartition = record.sourcePartition;
      this.lastPartitionKey = offsetKey(this.id.connector, record.sourcePartition);
    }
    this.unflushed.set(this.lastPartitionKey, { partition: record.sourcePartition, offset: record.sourceOffset });
  }

  private lastPartition: SourcePartition | null = null;
  private lastPartitionKey = '';

  private async flushOffsets(): Promise<void> {
    this.lastFlush = Date.now();
    if (this.unflushed.size === 0) return;
    const entries = [...this.unflushed.values()].map(({ partition, offset }) => ({ connector: this.id.connector, partition, offset }));
    this.unflushed.clear();
    await this.setup.offsets.set(entries);
    this.counts.offsetCommits++;
    await this.setup.task.commit();
  }
}
