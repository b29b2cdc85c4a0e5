// A source task at work: poll the task, transform and convert each record, send them to Kafka
// (acks=all, retrying what failed for a reason that can pass: a leader moving, a lost connection)
// and only then count their source offsets as done. Every `offset.flush.interval.ms` the offsets
// of acknowledged records are stored and the task's commit() is called; on a clean stop they are
// stored once more. Delivery is at least once: a crash between a send and the next flush sends
// those records again.
import { retriableErrorCodes } from '../../base/error-codes.js';
import type { Logger } from '../../base/logger.js';
import { Producer, type ProducerRecord } from '../../client/producer.js';
import type { RecordMetadata, SourceTask } from '../api/connector.js';
import { ConnectException } from '../api/connector.js';
import type { SourceRecord } from '../api/data.js';
import { type ErrorHandler, SKIP } from './error-handler.js';
import { type OffsetStore, type SourceOffset, type SourcePartition, offsetKey, offsetReader } from './offset-store.js';
import type { RecordConverters } from './record-converters.js';
import type { TransformChain } from './transforms/index.js';
import { type WorkerKafka, sleep } from './worker-kafka.js';
import { type TaskId, type TaskStateListener, WorkerTask } from './worker-task.js';

const SEND_RETRY_BACKOFF_MS = 100;
const SEND_RETRY_BACKOFF_MAX_MS = 2_000;

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

  protected async initializeAndStart(): Promise<void> {
    const { task, props, offsets } = this.setup;
    task.initialize({ configs: () => props, offsetStorageReader: offsetReader(offsets, this.id.connector), transactionContext: null });
    await task.start(props);
  }

  protected async iterate(): Promise<void> {
    const records = (await this.setup.task.poll()) ?? [];
    this.counts.polled += records.length;
    if (records.length > 0) await this.sendRecords(records);
    if (Date.now() - this.lastFlush >= this.setup.flushIntervalMs) await this.flushOffsets();
  }

  protected async onStopRequested(): Promise<void> {
    await this.setup.task.stop();
  }

  protected async close(failed: boolean): Promise<void> {
    try {
      // Offsets of records Kafka acknowledged are stored even when the task failed afterwards.
      await this.flushOffsets();
    } finally {
      this.setup.transforms.close();
      if (failed) await Promise.resolve(this.setup.task.stop()).catch(() => undefined);
    }
  }

  private async sendRecords(records: readonly SourceRecord[]): Promise<void> {
    const outgoing: Outgoing[] = [];
    const dropped: SourceRecord[] = [];
    for (const record of records) {
      const describe = () => `source record for topic ${record.topic}, partition ${JSON.stringify(record.sourcePartition)}, offset ${JSON.stringify(record.sourceOffset)}`;
      const transformed = await this.setup.errors.execute({ stage: 'TRANSFORMATION', className: 'transforms', record: describe }, () => this.setup.transforms.apply(record));
      if (transformed === SKIP || transformed === null) {
        dropped.push(record);
        continue;
      }
      const bytes = await this.setup.converters.toKafka(transformed, this.setup.errors, describe);
      if (bytes === SKIP) {
        dropped.push(record);
        continue;
      }
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
    this.counts.filtered += dropped.length;
    const metadata = await this.send(outgoing);
    // Records are done in poll order: their offsets, then the task's commitRecord.
    let sent = 0;
    for (const record of records) {
      const written = sent < outgoing.length && outgoing[sent]!.record === record ? metadata[sent++]! : null;
      this.markDone(record);
      await this.setup.task.commitRecord(record, written);
    }
    this.counts.written += outgoing.length;
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
