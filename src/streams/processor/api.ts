/**
 * The Processor API: what a topology node sees. Kafka Streams' processors are synchronous; here
 * state stores sit on async byte stores, so `process` and `forward` return promises and a
 * processor awaits what it forwards (the next record starts only once the whole tree is done).
 */

export interface Header {
  readonly key: string;
  readonly value: Uint8Array | null;
}

export type Headers = readonly Header[];

/** One record flowing between processors. */
export interface StreamRecord<K, V> {
  readonly key: K;
  readonly value: V;
  readonly timestamp: number;
  readonly headers: Headers;
}

/** Where the record being processed came from (absent in a punctuation). */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export type PunctuationType = 'STREAM_TIME' | 'WALL_CLOCK_TIME';

export type Punctuator = (timestampMs: number) => void | Promise<void>;

export interface Cancellable {
  cancel(): void;
}

export interface TaskId {
  readonly subtopology: number;
  readonly partition: number;
}

export interface ProcessorContext<KOut = unknown, VOut = unknown> {
  readonly applicationId: string;
  readonly taskId: TaskId;
  /** Sends a record to every child, or only to the child named. */
  forward<K extends KOut, V extends VOut>(record: StreamRecord<K, V>, childName?: string): Promise<void>;
  getStateStore<S>(name: string): S;
  schedule(intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable;
  recordMetadata(): RecordMetadata | undefined;
  currentStreamTimeMs(): number;
  currentSystemTimeMs(): number;
  /** Asks for a commit soon after this record (Kafka's context.commit()). */
  commit(): void;
}

export interface Processor<KIn, VIn, KOut = unknown, VOut = unknown> {
  init?(context: ProcessorContext<KOut, VOut>): void | Promise<void>;
  process(record: StreamRecord<KIn, VIn>): void | Promise<void>;
  close?(): void | Promise<void>;
}

export type ProcessorSupplier<KIn, VIn, KOut = unknown, VOut = unknown> = () => Processor<KIn, VIn, KOut, VOut>;

/** A KTable's update: the new value and, when a downstream operator asked for them, the old. */
export interface Change<V> {
  readonly newValue: V | null;
  readonly oldValue: V | null;
}
