// The S3 sink connector, after Confluent's (io.confluent.connect.s3.S3SinkConnector): each task
// buffers its topic partitions' records into objects, one per encoded partition (the
// partitioner's directory), and writes a topic partition's objects together when flush.size of its
// records have arrived, when a record's time is rotate.interval.ms past the first one's, when a
// rotate.schedule.interval.ms boundary of the wall clock passes, or when the record schema
// changes (Parquet). An object is named
//   <topics.dir>/<topic>/<encoded partition>/<topic>+<kafka partition>+<start offset, 10 digits><ext>
// after its first record, and preCommit offers only offsets of records in uploaded objects, so the
// committed offset is always where a topic partition's objects begin. After a crash the records
// from there are read again and cut into the same objects under the same names: the store is
// overwritten, not duplicated (exactly once, as long as the rotation depends on the records only).
// On a rebalance, objects not yet uploaded are dropped and the next owner starts from the
// committed offset. A put whose upload failed keeps its objects and throws a RetriableException;
// the worker hands the same records over again, which are recognised by offset and skipped.
import { ConnectConfigDef } from '../../api/config.js';
import { ConnectException, SinkConnector, SinkTask, type TopicPartition, type TopicPartitionOffset } from '../../api/connector.js';
import { DataException, type SinkRecord } from '../../api/data.js';
import { configDef, type S3SinkSettings, s3SinkSettings } from './config.js';
import { createFormat, type ObjectWriter, type RecordFormat } from './formats.js';
import { createPartitioner, nextBoundary, type Partitioner } from './partitioner.js';
import { type ObjectStore, openS3Store } from './s3-store.js';

const VERSION = '1.0.0';
/** How many objects upload at once (across the task's topic partitions). */
const UPLOAD_CONCURRENCY = 4;

export class S3SinkConnector extends SinkConnector {
  private props: Readonly<Record<string, string>> = {};

  version(): string {
    return VERSION;
  }

  start(props: Readonly<Record<string, string>>): void {
    const settings = s3SinkSettings(props);
    // Compiles path.format, so that a bad pattern fails the connector rather than its tasks.
    createPartitioner(settings.partitioner, settings.directoryDelim);
    this.props = props;
  }

  taskClass(): new () => SinkTask {
    return S3SinkTask;
  }

  taskConfigs(maxTasks: number): Record<string, string>[] {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }

  stop(): void {}

  config(): ConnectConfigDef {
    return configDef;
  }

  /** Offsets may be reset or moved: objects are named by offset, so a replay rewrites the same names. */
  override alterOffsets(): boolean {
    return true;
  }
}

/** An object being filled: its directory and first offset (which name it), and its writer. */
interface OpenObject {
  readonly topic: string;
  readonly encodedPartition: string;
  readonly startOffset: number;
  readonly writer: ObjectWriter;
}

/** Objects of one topic partition cut together, waiting for (or retrying) their upload. */
interface ClosedBatch {
  /** The first offset in any of the objects: where a replay must start to cut them again. */
  readonly startOffset: number;
  readonly objects: { key: string; body: Promise<Buffer>; uploaded: boolean }[];
}

/** One assigned topic partition's records on their way to S3. */
class TopicPartitionWriter {
  private readonly open = new Map<string, OpenObject>();
  private readonly closed: ClosedBatch[] = [];
  /** Records in the open objects. */
  private count = 0;
  /** The first offset of the open objects' records, and the rotation time of the first record. */
  private batchStart: number | null = null;
  private batchFirstTime: number | null = null;
  private scheduledRotation: number | null = null;
  /** The offset after the last record taken (for recognising records handed over again); null before the first. */
  private nextOffset: number | null = null;

  constructor(
    readonly topicPartition: TopicPartition,
    private readonly settings: S3SinkSettings,
    private readonly format: RecordFormat,
    private readonly partitioner: Partitioner,
    private readonly now: () => number,
  ) {}

  /** Whether the record was taken before (a redelivery after a failed put). */
  seen(record: SinkRecord): boolean {
    return this.nextOffset !== null && record.originalKafkaOffset < this.nextOffset;
  }

  /** Marks a record as dealt with without writing it (ignored null, reported as errant). */
  skip(record: SinkRecord): void {
    this.nextOffset = record.originalKafkaOffset + 1;
  }

  write(record: SinkRecord): void {
    const offset = record.originalKafkaOffset;
    const encodedPartition = this.partitioner.encodePartition(record);
    const key = `${record.topic}\u0000${encodedPartition}`;
    if (this.settings.rotateIntervalMs !== null && this.batchFirstTime !== null && this.partitioner.rotationTime(record) - this.batchFirstTime >= this.settings.rotateIntervalMs) {
      this.rotate();
    }
    // An object has one schema (Parquet's columns); a new one starts the topic partition's next objects.
    const current = this.open.get(key);
    if (current && !current.writer.accepts(record.valueSchema)) this.rotate();
    const target = this.open.get(key) ?? { topic: record.topic, encodedPartition, startOffset: offset, writer: this.format.newWriter() };
    // A record the format refuses (it throws) leaves no empty object behind.
    target.writer.add(record);
    this.open.set(key, target);
    if (this.batchStart === null) {
      this.batchStart = offset;
      if (this.settings.rotateIntervalMs !== null) this.batchFirstTime = this.partitioner.rotationTime(record);
      if (this.settings.rotateScheduleIntervalMs !== null) this.scheduledRotation = nextBoundary(this.now(), this.settings.rotateScheduleIntervalMs, this.settings.timeZone);
    }
    this.count++;
    this.nextOffset = offset + 1;
    if (this.count >= this.settings.flushSize) this.rotate();
  }

  /** Closes the open objects at a rotate.schedule.interval.ms boundary. */
  rotateOnSchedule(): void {
    if (this.scheduledRotation !== null && this.now() >= this.scheduledRotation) this.rotate();
  }

  /** Closes the open objects: they are finished and queued for upload. */
  private rotate(): void {
    if (this.open.size === 0) return;
    const objects = [...this.open.values()].map((object) => ({ key: this.objectKey(object), body: object.writer.finish(), uploaded: false }));
    // A finish that fails is reported by the upload; this keeps it from counting as unhandled meanwhile.
    for (const object of objects) object.body.catch(() => undefined);
    this.closed.push({ startOffset: this.batchStart!, objects });
    this.open.clear();
    this.count = 0;
    this.batchStart = null;
    this.batchFirstTime = null;
    this.scheduledRotation = null;
  }

  private objectKey(object: OpenObject): string {
    const { topicsDir, directoryDelim, fileDelim, offsetPadWidth } = this.settings;
    const offset = String(object.startOffset).padStart(offsetPadWidth, '0');
    const file = `${object.topic}${fileDelim}${this.topicPartition.partition}${fileDelim}${offset}${this.format.extension}`;
    return [topicsDir, object.topic, object.encodedPartition, file].filter((part) => part !== '').join(directoryDelim);
  }

  /** The closed objects still to upload, in order. */
  pendingUploads(): { batch: ClosedBatch; object: ClosedBatch['objects'][number] }[] {
    return this.closed.flatMap((batch) => batch.objects.filter((object) => !object.uploaded).map((object) => ({ batch, object })));
  }

  /** Drops the batches whose objects are all uploaded; returns whether any were. */
  settleUploads(): boolean {
    let settled = false;
    while (this.closed.length > 0 && this.closed[0]!.objects.every((object) => object.uploaded)) {
      this.closed.shift();
      settled = true;
    }
    return settled;
  }

  /** The offset to commit: the start of the first records not yet in S3, or after the last record taken. */
  committableOffset(): number | null {
    if (this.closed.length > 0) return this.closed[0]!.startOffset;
    if (this.batchStart !== null) return this.batchStart;
    return this.nextOffset;
  }

  hasUploads(): boolean {
    return this.closed.length > 0;
  }
}

export class S3SinkTask extends SinkTask {
  private settings!: S3SinkSettings;
  private format!: RecordFormat;
  private partitioner!: Partitioner;
  private store: ObjectStore | null = null;
  private readonly writers = new Map<string, TopicPartitionWriter>();

  version(): string {
    return VERSION;
  }

  async start(props: Readonly<Record<string, string>>): Promise<void> {
    this.settings = s3SinkSettings(props);
    this.partitioner = createPartitioner(this.settings.partitioner, this.settings.directoryDelim);
    this.format = await createFormat(this.settings);
    this.store = await openS3Store(this.settings);
    // How long the worker waits before it hands over the records of a put that failed retriably.
    this.context.timeout(this.settings.putRetryBackoffMs);
    for (const partition of this.context.assignment()) this.writerFor(partition.topic, partition.partition);
  }

  override open(partitions: readonly TopicPartition[]): void {
    // Starts from the committed offset the worker positioned the consumer at: nothing carried over.
    for (const partition of partitions) this.writers.set(key(partition.topic, partition.partition), this.newWriter(partition.topic, partition.partition));
  }

  override close(partitions: readonly TopicPartition[]): void {
    // Objects not yet uploaded are dropped: their records are after the committed offset, so
    // whoever owns the partition next reads them again and cuts the same objects.
    for (const partition of partitions) this.writers.delete(key(partition.topic, partition.partition));
  }

  async put(records: readonly SinkRecord[]): Promise<void> {
    // First what a failed put left behind: nothing new is cut until that is in S3.
    await this.upload();
    for (const record of records) {
      const writer = this.writerFor(record.originalTopic, record.originalKafkaPartition);
      if (writer.seen(record)) continue;
      if (record.value === null || record.value === undefined) {
        if (!this.settings.ignoreNullValues) {
          throw new ConnectException(`Null valued records are not writeable with current behavior.on.null.values 'fail' setting: ${describe(record)}`);
        }
        writer.skip(record);
        continue;
      }
      try {
        writer.write(record);
      } catch (error) {
        if (!(error instanceof DataException) || !this.context.errantRecordReporter) throw error;
        await this.context.errantRecordReporter(record, error);
        writer.skip(record);
      }
    }
    for (const writer of this.writers.values()) writer.rotateOnSchedule();
    await this.upload();
  }

  override async preCommit(currentOffsets: readonly TopicPartitionOffset[]): Promise<readonly TopicPartitionOffset[]> {
    const offsets: TopicPartitionOffset[] = [];
    for (const current of currentOffsets) {
      const offset = this.writers.get(key(current.topic, current.partition))?.committableOffset();
      if (offset !== null && offset !== undefined) offsets.push({ topic: current.topic, partition: current.partition, offset });
    }
    return offsets;
  }

  stop(): void {
    this.writers.clear();
    this.store?.close();
    this.store = null;
  }

  /** Uploads every closed object (a few at a time); throws the first failure once all have been tried. */
  private async upload(): Promise<void> {
    const work = [...this.writers.values()].flatMap((writer) => writer.pendingUploads());
    if (work.length === 0) return;
    let failure: unknown;
    let next = 0;
    const worker = async () => {
      while (next < work.length) {
        const { object } = work[next++]!;
        try {
          const body = await object.body;
          await this.store!.put(object.key, body);
          object.uploaded = true;
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, work.length) }, worker));
    let committable = false;
    for (const writer of this.writers.values()) committable = writer.settleUploads() || committable;
    // Offsets of uploaded objects are committed soon, so that a crash replays little.
    if (committable) this.context.requestCommit();
    if (failure !== undefined) throw failure;
  }

  private writerFor(topic: string, partition: number): TopicPartitionWriter {
    let writer = this.writers.get(key(topic, partition));
    if (!writer) {
      writer = this.newWriter(topic, partition);
      this.writers.set(key(topic, partition), writer);
    }
    return writer;
  }

  private newWriter(topic: string, partition: number): TopicPartitionWriter {
    return new TopicPartitionWriter({ topic, partition }, this.settings, this.format, this.partitioner, Date.now);
  }
}

function key(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

function describe(record: SinkRecord): string {
  return `topic ${record.topic}, partition ${record.kafkaPartition}, offset ${record.kafkaOffset}`;
}
