// The ports between the transaction coordinator and the rest of the broker: the
// `__transaction_state` partitions, the partitions that receive transaction markers, producer id
// blocks from the controller and the metadata the coordinator consults. The broker implements them
// over its replica manager and controller; tests implement them in memory.

export interface TransactionStatePartitions {
  /** Partitions of `__transaction_state`; 0 before the topic exists. */
  numPartitions(): number;
  /** Creates `__transaction_state` if it does not exist yet; resolves to whether it exists now. */
  ensureTopic(): Promise<boolean>;
  isHosted(partition: number): boolean;
  /**
   * The partition's leader epoch here: the coordinator epoch stamped into markers, so a partition
   * refuses markers from a coordinator that lost the partition to a newer one. -1 if not hosted.
   */
  leaderEpoch(partition: number): number;
  /** Appends one record batch and resolves once it is durable and committed. */
  append(partition: number, batch: Buffer): Promise<void>;
  /** Whole batches from `fromOffset` up to the high watermark (a bounded chunk). */
  read(partition: number, fromOffset: number): Promise<{ chunks: Buffer[]; highWatermark: number }>;
}

export interface TransactionMarker {
  readonly topic: string;
  readonly partition: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly committed: boolean;
  readonly coordinatorEpoch: number;
}

export interface TransactionMarkerWriter {
  /**
   * Writes a COMMIT or ABORT control batch to the partition and resolves once it is durable.
   * Resolves to false when the partition no longer exists (its topic was deleted): nothing to end.
   */
  writeMarker(marker: TransactionMarker): Promise<boolean>;
}

export interface ProducerIdAllocator {
  /** A block of producer ids no one else was or will be given, durably reserved (ProducerIdsRecord). */
  allocateBlock(): Promise<{ firstProducerId: number; size: number }>;
}

export interface TransactionCoordinatorConfig {
  /** transaction.state.log.num.partitions */
  readonly transactionStateLogNumPartitions: number;
  /** transaction.max.timeout.ms: the largest transaction.timeout.ms a producer may ask for. */
  readonly transactionMaxTimeoutMs: number;
  /** transactional.id.expiration.ms: idle transactional ids are forgotten after it. */
  readonly transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  readonly abortTimedOutTransactionsIntervalMs: number;
}
