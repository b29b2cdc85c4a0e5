// A topic read from its beginning into memory and appended to (Kafka Connect's KafkaBasedLog):
// the distributed worker's config, status and offset stores each keep one. The topic is created
// compacted when it does not exist. Every record is handed to `onRecord` in offset order per
// partition; readToEnd() resolves once everything written before the call has been handed over,
// which is how a worker knows its view is as new as the log.
import { ErrorCode, retriableErrorCodes } from '../../../base/error-codes.js';
import type { Logger } from '../../../base/logger.js';
import { OffsetSpec, type TopicInfo } from '../../../client/admin-client.js';
import { KafkaResponseError } from '../../../client/cluster-client.js';
import { type ConsumedRecord, Consumer } from '../../../client/consumer.js';
import { Producer } from '../../../client/producer.js';
import { type WorkerKafka, sleep } from '../worker-kafka.js';

const POLL_WAIT_MS = 200;
const RETRY_BACKOFF_MS = 200;
const SEND_ATTEMPTS = 30;

export interface TopicSettings {
  readonly name: string;
  readonly partitions: number;
  /** -1: the broker's default.replication.factor. */
  readonly replicationFactor: number;
  /** Read only committed transactions (the offsets topic under exactly-once sources). */
  readonly readCommitted?: boolean;
}

export class KafkaBasedLog {
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private topic: TopicInfo | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  /** Called after each poll: readToEnd's waiters check their targets. */
  private readonly progressListeners = new Set<() => void>();
  private failure: Error | undefined;
  /** Per partition, the offset up to which records have been handed to onRecord. */
  private readonly applied = new Map<number, number>();

  private readonly kafka: WorkerKafka;

  constructor(
    kafka: WorkerKafka,
    private readonly settings: TopicSettings,
    private readonly onRecord: (record: ConsumedRecord) => void,
    private readonly logger: Logger,
  ) {
    // Connections of its own: its long-polling fetches must not hold up anyone else's requests.
    this.kafka = kafka.fork(settings.name);
  }

  /** Creates the topic if needed, reads it to its end, and keeps reading in the background. */
  async start(): Promise<void> {
    await this.ensureTopic();
    this.topic = await this.kafka.topic(this.settings.name, false);
    const earliest = await this.kafka.admin.listOffsets(this.topic, OffsetSpec.earliest);
    this.consumer = new Consumer(this.kafka.cluster, this.topic, new Map(this.topic.partitions.map((info) => [info.partition, earliest.get(info.partition) ?? 0])), this.settings.readCommitted === true);
    for (const [partition, position] of this.consumer.positions) this.applied.set(partition, position);
    this.producer = new Producer(this.kafka.cluster, this.topic, { compression: 0, acks: -1 });
    this.running = true;
    this.loop = this.readLoop();
    await this.readToEnd();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.kafka.close();
  }

  /** Resolves once every record written before this call has been passed to onRecord. */
  async readToEnd(): Promise<void> {
    const topic = this.topic!;
    const ends = await this.kafka.admin.listOffsets(topic, OffsetSpec.latest, this.settings.readCommitted === true);
    const reached = () => [...ends].every(([partition, end]) => (this.applied.get(partition) ?? 0) >= end);
    while (!reached()) {
      if (this.failure) throw this.failure;
      if (!this.running) throw new Error(`the reader of ${this.settings.name} has stopped`);
      await new Promise<void>((resolveProgress) => {
        const listener = () => {
          this.progressListeners.delete(listener);
          resolveProgress();
        };
        this.progressListeners.add(listener);
      });
    }
  }

  /** The topic's partitions (known once started), for writers outside the log (a transactional producer). */
  get topicInfo(): TopicInfo {
    return this.topic!;
  }

  /** Appends a record (acks=all), retrying retriable failures; resolves when it is acknowledged. */
  async send(key: Buffer | null, value: Buffer | null, partition?: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const [result] = await this.producer!.send([{ key, value, headers: [], ...(partition === undefined ? {} : { partition }) }]);
      if (!result!.error) return;
      const retriable = result!.errorCode === -1 || retriableErrorCodes.has(result!.errorCode);
      if (!retriable || attempt >= SEND_ATTEMPTS) throw new Error(`writing to ${this.settings.name}: ${result!.error}`);
      await sleep(RETRY_BACKOFF_MS);
      this.producer!.setTopic(await this.kafka.topic(this.settings.name, false));
    }
  }

  private async ensureTopic(): Promise<void> {
    try {
      await this.kafka.admin.createTopic(this.settings.name, {
        partitions: this.settings.partitions,
        replicationFactor: this.settings.replicationFactor,
        configs: { 'cleanup.policy': 'compact' },
      });
      this.logger.info(`created topic ${this.settings.name}`, { partitions: this.settings.partitions });
    } catch (error) {
      if (!(error instanceof KafkaResponseError && error.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)) {
        throw new Error(`could not create the Connect topic ${this.settings.name}: ${(error as Error).message}`);
      }
    }
  }

  private async readLoop(): Promise<void> {
    while (this.running) {
      try {
        const records = await this.consumer!.poll(POLL_WAIT_MS);
        for (const record of records) this.onRecord(record);
        // The positions moved inside poll, before its records were handed over: only now are they applied.
        for (const [partition, position] of this.consumer!.positions) this.applied.set(partition, position);
      } catch (error) {
        if (!this.running) break;
        this.logger.warn(`reading ${this.settings.name} failed; retrying`, { error: (error as Error).message });
        await sleep(RETRY_BACKOFF_MS);
        try {
          this.topic = await this.kafka.topic(this.settings.name, false);
          this.consumer = new Consumer(this.kafka.cluster, this.topic, this.consumer!.positions, this.settings.readCommitted === true);
        } catch {
          // The next round tries again.
        }
      }
      for (const listener of [...this.progressListeners]) listener();
    }
    for (const listener of [...this.progressListeners]) listener();
  }
}

/** A store kept in a topic: its records are applied to memory as they are read (config, status and offset stores). */
export abstract class LogBackedStore {
  protected readonly log: KafkaBasedLog;

  constructor(kafka: WorkerKafka, settings: TopicSettings, logger: Logger) {
    this.log = new KafkaBasedLog(kafka, settings, (record) => this.apply(record), logger);
  }

  start(): Promise<void> {
    return this.log.start();
  }

  stop(): Promise<void> {
    return this.log.stop();
  }

  readToEnd(): Promise<void> {
    return this.log.readToEnd();
  }

  protected abstract apply(record: ConsumedRecord): void;
}

/** JSON text of a value, with bigints as numbers (offsets and positions are JSON numbers in Kafka). */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? Number(item) : item)));
}

export function parseJson(buffer: Buffer | null): unknown {
  if (buffer === null) return null;
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch {
    return undefined;
  }
}
