// The connector API, modelled on Kafka Connect's (org.apache.kafka.connect.connector, .source,
// .sink): a Connector is configured once per connector and splits its work into task configs; a
// task does the work. Source tasks poll records out of an external system, with a source
// partition and offset on each record that the worker stores; sink tasks are handed records read
// from Kafka and say, through flush/preCommit, which offsets may be committed.
// Connectors written in TypeScript extend these classes; the worker finds them by class name.
import type { ConnectConfigDef } from './config.js';
import type { Schema, SchemaAndValue, SinkRecord, SourceRecord } from './data.js';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A partition and the next offset to read in it (what Kafka commits). */
export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number;
}

/** Reads the offsets the worker has stored for source partitions (Connect's OffsetStorageReader). */
export interface OffsetStorageReader {
  offset(partition: Readonly<Record<string, unknown>>): Promise<Record<string, unknown> | null>;
  offsets(partitions: readonly Readonly<Record<string, unknown>>[]): Promise<Map<Readonly<Record<string, unknown>>, Record<string, unknown> | null>>;
}

export interface ConnectorContext {
  /** Asks the worker to call taskConfigs again (the set of tasks has changed). */
  requestTaskReconfiguration(): void;
  /** Fails the connector with this error (its status becomes FAILED with the trace). */
  raiseError(error: Error): void;
}

export interface SourceConnectorContext extends ConnectorContext {
  readonly offsetStorageReader: OffsetStorageReader;
}

export type ExactlyOnceSupport = 'SUPPORTED' | 'UNSUPPORTED';
export type ConnectorTransactionBoundaries = 'SUPPORTED' | 'UNSUPPORTED';

export abstract class Connector {
  protected context!: ConnectorContext;

  initialize(context: ConnectorContext): void {
    this.context = context;
  }

  abstract version(): string;
  abstract start(props: Readonly<Record<string, string>>): void | Promise<void>;
  /** Up to `maxTasks` task configurations; one task runs per entry. */
  abstract taskConfigs(maxTasks: number): Record<string, string>[] | Promise<Record<string, string>[]>;
  abstract stop(): void | Promise<void>;
  abstract config(): ConnectConfigDef;
}

export abstract class SourceConnector extends Connector {
  readonly kind = 'source' as const;
  abstract taskClass(): new () => SourceTask;
  /** Whether this connector can run with exactly-once delivery (KIP-618); null: unknown. */
  exactlyOnceSupport(_props: Readonly<Record<string, string>>): ExactlyOnceSupport | null {
    return null;
  }
  /** Whether the connector can define its own transaction boundaries (transaction.boundary=connector). */
  canDefineTransactionBoundaries(_props: Readonly<Record<string, string>>): ConnectorTransactionBoundaries {
    return 'UNSUPPORTED';
  }
  /**
   * Called before the worker alters or resets this connector's offsets (PATCH/DELETE .../offsets).
   * Return true when the connector accepts them; throw to refuse them with a reason.
   */
  alterOffsets(_props: Readonly<Record<string, string>>, _offsets: Map<Readonly<Record<string, unknown>>, Readonly<Record<string, unknown>> | null>): boolean | Promise<boolean> {
    return false;
  }
}

export abstract class SinkConnector extends Connector {
  readonly kind = 'sink' as const;
  abstract taskClass(): new () => SinkTask;
  alterOffsets(_props: Readonly<Record<string, string>>, _offsets: readonly { topic: string; partition: number; offset: number | null }[]): boolean | Promise<boolean> {
    return false;
  }
}

/** What a source record became in Kafka (passed to commitRecord); null when a transform dropped it. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

/** Lets a connector define transaction boundaries (transaction.boundary=connector). */
export interface TransactionContext {
  commitTransaction(record?: SourceRecord): void;
  abortTransaction(record?: SourceRecord): void;
}

export interface SourceTaskContext {
  configs(): Readonly<Record<string, string>>;
  readonly offsetStorageReader: OffsetStorageReader;
  /** Present when the connector defines its own transaction boundaries. */
  readonly transactionContext: TransactionContext | null;
}

export abstract class SourceTask {
  protected context!: SourceTaskContext;

  initialize(context: SourceTaskContext): void {
    this.context = context;
  }

  abstract version(): string;
  abstract start(props: Readonly<Record<string, string>>): void | Promise<void>;
  /** The next records, or null/[] when there are none yet (the worker calls poll again). */
  abstract poll(): Promise<SourceRecord[] | null>;
  /** Called after the worker has committed the offsets of the records polled so far. */
  commit(): void | Promise<void> {}
  /** Called once per record after Kafka acknowledged it (metadata null: a transform dropped it). */
  commitRecord(_record: SourceRecord, _metadata: RecordMetadata | null): void | Promise<void> {}
  abstract stop(): void | Promise<void>;
}

/** Reports a record a sink task could not process, to the dead letter queue (KIP-610). */
export type ErrantRecordReporter = (record: SinkRecord, error: Error) => Promise<void>;

export interface SinkTaskContext {
  configs(): Readonly<Record<string, string>>;
  /** Resets the consumer's position on these partitions (the next records come from there). */
  offset(offsets: readonly TopicPartitionOffset[]): void;
  /** After a RetriableException from put, redeliver after this many milliseconds. */
  timeout(timeoutMs: number): void;
  assignment(): readonly TopicPartition[];
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  /** Asks the worker to commit offsets soon. */
  requestCommit(): void;
  /** null when the connector has no errors.tolerance/dead letter queue configured. */
  readonly errantRecordReporter: ErrantRecordReporter | null;
}

export abstract class SinkTask {
  protected context!: SinkTaskContext;

  initialize(context: SinkTaskContext): void {
    this.context = context;
  }

  abstract version(): string;
  abstract start(props: Readonly<Record<string, string>>): void | Promise<void>;
  abstract put(records: readonly SinkRecord[]): void | Promise<void>;
  /** Makes everything put so far durable. */
  flush(_currentOffsets: readonly TopicPartitionOffset[]): void | Promise<void> {}
  /** The offsets that may be committed; by default flushes and returns `currentOffsets`. */
  async preCommit(currentOffsets: readonly TopicPartitionOffset[]): Promise<readonly TopicPartitionOffset[]> {
    await this.flush(currentOffsets);
    return currentOffsets;
  }
  open(_partitions: readonly TopicPartition[]): void | Promise<void> {}
  close(_partitions: readonly TopicPartition[]): void | Promise<void> {}
  abstract stop(): void | Promise<void>;
}

/** Thrown by a task when the operation may succeed if retried (Connect's RetriableException). */
export class RetriableException extends Error {
  override readonly name: string = 'RetriableException';
}

/** Connect's ConnectException: a failure the connector reports. */
export class ConnectException extends Error {
  override readonly name: string = 'ConnectException';
}

/**
 * A transform of records (a single message transform, Connect's Transformation): returns the new
 * record, or null to drop it.
 */
export interface Transformation<R> {
  configure(props: Readonly<Record<string, string>>): void;
  apply(record: R): R | null;
  config(): ConnectConfigDef;
  close(): void;
}

/** A condition on records for a transform's `predicate` (Connect's Predicate). */
export interface Predicate<R> {
  configure(props: Readonly<Record<string, string>>): void;
  test(record: R): boolean;
  config(): ConnectConfigDef;
  close(): void;
}

/** Converts between Kafka's bytes and Connect's data (Connect's Converter). */
export interface Converter {
  configure(props: Readonly<Record<string, string>>, isKey: boolean): void;
  fromConnectData(topic: string, headers: ConverterHeaders, schema: Schema | null, value: unknown): Buffer | null;
  toConnectData(topic: string, headers: ConverterHeaders, value: Buffer | null): SchemaAndValue;
}

/** Converts header values (Connect's HeaderConverter). */
export interface HeaderConverter {
  configure(props: Readonly<Record<string, string>>): void;
  fromConnectHeader(topic: string, headerKey: string, schema: Schema | null, value: unknown): Buffer | null;
  toConnectHeader(topic: string, headerKey: string, value: Buffer | null): SchemaAndValue;
}

/** The Kafka record headers a converter sees (it may read them; it may not change them). */
export type ConverterHeaders = readonly { readonly key: string; readonly value: Buffer | null }[];
