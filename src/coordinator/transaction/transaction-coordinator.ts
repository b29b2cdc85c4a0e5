// Kafka's transaction coordinator for the `__transaction_state` partitions this broker hosts: it
// hands out producer ids and epochs (fencing older epochs), tracks each transactional id's
// transaction and partitions, and ends transactions by writing PrepareCommit/PrepareAbort, then a
// marker into every partition of the transaction, then CompleteCommit/CompleteAbort. Every change
// is a record in `__transaction_state` first and applied in memory once durable; a restart
// replays those records and finishes transactions caught between prepare and complete. Operations
// on one transactional id run one at a time, in arrival order. Sans-IO: time and storage are ports.
import type { Clock } from '../../base/clock.js';
import { ErrorCode } from '../../base/error-codes.js';
import type { Logger } from '../../base/logger.js';
import { readLastOffset } from '../../protocol/records/batch-header.js';
import { buildRecordBatchSync, decodeRecordBatchSync, recordBatchSpans } from '../../protocol/records/record-batch.js';
import { CONSUMER_OFFSETS_TOPIC } from '../../metadata/topic-name.js';
import { offsetsPartitionFor } from '../group/group-partition.js';
import { coordinatorAppendError } from '../append-errors.js';
import {
  PRODUCER_EPOCH_MAX,
  TRANSACTION_STATE_NAMES,
  type TransactionMetadata,
  TransactionStatus,
  type TransactionStatusValue,
  isCompleteOrEmpty,
  isPreparing,
  partitionsByTopic,
  splitTopicPartitionKey,
  topicPartitionKey,
} from './transaction-metadata.js';
import type { ProducerIdAllocator, TransactionCoordinatorConfig, TransactionMarkerWriter, TransactionStatePartitions } from './transaction-ports.js';
import { type TransactionRecord, decodeTransactionRecord, transactionRecord, transactionTombstone } from './transaction-records.js';

export interface TransactionCoordinatorOptions {
  clock: Clock;
  logger: Logger;
  config: TransactionCoordinatorConfig;
  stateLog: TransactionStatePartitions;
  markers: TransactionMarkerWriter;
  producerIds: ProducerIdAllocator;
  /** Whether the partition exists in the metadata image (AddPartitionsToTxn refuses others). */
  partitionExists: (topic: string, partition: number) => boolean;
  /**
   * Whether this broker may be cut off from the active controller (no heartbeat accepted within
   * broker.session.timeout.ms): its leadership of __transaction_state partitions, and so its
   * transactions' state, may have moved on without it. It then coordinates nothing (NOT_COORDINATOR,
   * retriable) rather than answer from that state. Never, when absent.
   */
  mayBeStale?: () => boolean;
}

/**
 * Test-only interception points, set through `setTestHooks` by tests that need the coordinator
 * stopped at a named step (production never sets them).
 */
export interface TransactionCoordinatorTestHooks {
  /**
   * Called once an EndTxn's (or a fencing abort's) PrepareCommit/PrepareAbort record is durable,
   * before any marker is written. If the coordinator was stopped while it waited, the transaction
   * is left prepared, as a crash at that point would leave it, for the next start to finish.
   */
  afterPrepare?(transactionalId: string, committed: boolean): Promise<void>;
}

export interface InitProducerIdInput {
  transactionalId: string | null;
  transactionTimeoutMs: number;
  /** -1 unless an existing producer asks to bump its epoch (KIP-360, v3+). */
  producerId: number;
  producerEpoch: number;
}

export interface ProducerIdAndEpoch {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export interface TransactionDescription {
  errorCode: number;
  transactionalId: string;
  state: string;
  transactionTimeoutMs: number;
  transactionStartTimeMs: number;
  producerId: number;
  producerEpoch: number;
  topics: { topic: string; partitions: number[] }[];
}

export interface ListedTransaction {
  transactionalId: string;
  producerId: number;
  state: string;
}

/** How many times writing one partition's marker is tried before the transaction is left to a later retry. */
const MARKER_ATTEMPTS_MAX = 5;
const MARKER_RETRY_BACKOFF_MS = 100;
/** Operations waiting on one transactional id; beyond it requests are refused rather than queued. */
const QUEUED_OPERATIONS_PER_TRANSACTIONAL_ID_MAX = 64;

export class TransactionCoordinator {
  readonly #options: TransactionCoordinatorOptions;
  readonly #transactions = new Map<string, TransactionMetadata>();
  readonly #queues = new Map<string, { tail: Promise<unknown>; length: number }>();
  readonly #loads = new Map<number, Promise<void>>();
  /** The replay under way or done for each partition: one whose token was replaced restores nothing. */
  readonly #loadTokens = new Map<number, object>();
  #producerIdBlock = { next: 0, end: 0 };
  #producerIdRefill: Promise<void> | undefined;
  #cancelSweep: (() => void) | undefined;
  #stopped = false;
  #testHooks: TransactionCoordinatorTestHooks | undefined;
  /** Completions of transactions a stop caught between prepare and complete, until each settles. */
  readonly #completions = new Set<Promise<unknown>>();

  constructor(options: TransactionCoordinatorOptions) {
    this.#options = options;
  }

  /**
   * Replays every hosted `__transaction_state` partition and starts finishing the transactions a
   * stop caught between prepare and complete (their markers); `interruptedFinished` waits for those.
   */
  async start(): Promise<void> {
    const count = this.#options.stateLog.numPartitions();
    for (let partition = 0; partition < count; partition += 1) {
      if (this.#options.stateLog.isHosted(partition)) await this.#load(partition);
    }
    this.#scheduleSweep();
  }

  /**
   * Resolves once every interrupted transaction found so far is finished. A single broker waits
   * for it before any client can ask, so that a consumer never reads the group offsets of a
   * committed transaction before its markers made them committed (kafkajs cannot ask OffsetFetch
   * for stable offsets, KIP-447). A broker of a cluster must not: a marker for a partition it leads
   * commits only once followers fetch from it, which they do once it serves (Kafka's coordinator
   * too finishes them in the background, and its clients ask for stable offsets).
   */
  async interruptedFinished(): Promise<void> {
    await Promise.all([...this.#completions]);
  }

  /** Tests only: see TransactionCoordinatorTestHooks. */
  setTestHooks(hooks: TransactionCoordinatorTestHooks | undefined): void {
    this.#testHooks = hooks;
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelSweep?.();
  }

  partitionFor(transactionalId: string): number {
    const count = this.#options.stateLog.numPartitions();
    return offsetsPartitionFor(transactionalId, count > 0 ? count : this.#options.config.transactionStateLogNumPartitions);
  }

  // ---- InitProducerId ----

  async initProducerId(input: InitProducerIdInput): Promise<ProducerIdAndEpoch> {
    if (input.transactionalId === null) {
      // Idempotent producers (and their KIP-360 epoch bumps) simply get a fresh producer id.
      return this.#newProducerId(ErrorCode.NONE);
    }
    const transactionalId = input.transactionalId;
    if (transactionalId === '') return failedInit(ErrorCode.INVALID_REQUEST);
    if (input.transactionTimeoutMs <= 0 || input.transactionTimeoutMs > this.#options.config.transactionMaxTimeoutMs) {
      return failedInit(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    }
    const ready = await this.#ready(transactionalId, true);
    if (ready !== ErrorCode.NONE) return failedInit(ready);
    return this.#serialize(transactionalId, failedInit(ErrorCode.CONCURRENT_TRANSACTIONS), () => this.#initTransactional(transactionalId, input));
  }

  async #newProducerId(errorCode: number): Promise<ProducerIdAndEpoch> {
    try {
      return { errorCode, producerId: await this.#allocateProducerId(), producerEpoch: 0 };
    } catch (error) {
      this.#options.logger.warn('allocating a producer id failed', { error });
      return failedInit(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  }

  async #initTransactional(transactionalId: string, input: InitProducerIdInput): Promise<ProducerIdAndEpoch> {
    let metadata = this.#transactions.get(transactionalId);
    if (metadata !== undefined && input.producerId >= 0) {
      const known = input.producerId === metadata.producerId && (input.producerEpoch === metadata.producerEpoch || input.producerEpoch === metadata.lastProducerEpoch);
      if (!known) return failedInit(ErrorCode.PRODUCER_FENCED);
    }
    if (metadata !== undefined && metadata.status === TransactionStatus.ongoing) {
      // A new producer instance took over: abort the old one's transaction under a bumped epoch,
      // so the old instance is fenced on every partition it wrote to.
      const aborted = await this.#abortWithBumpedEpoch(metadata);
      if (aborted !== ErrorCode.NONE) return failedInit(aborted);
    }
    if (metadata !== undefined && isPreparing(metadata.status)) {
      const completed = await this.#completeTransaction(metadata);
      if (completed !== ErrorCode.NONE) return failedInit(ErrorCode.CONCURRENT_TRANSACTIONS);
    }
    const nowMs = this.#options.clock.nowMs();
    const next = this.#transactions.get(transactionalId);
    let producerId: number;
    let producerEpoch: number;
    if (next === undefined || next.producerEpoch >= PRODUCER_EPOCH_MAX) {
      producerId = await this.#allocateProducerId();
      producerEpoch = 0;
    } else {
      producerId = next.producerId;
      producerEpoch = next.producerEpoch + 1;
    }
    metadata = {
      transactionalId,
      producerId,
      producerEpoch,
      lastProducerEpoch: next?.producerId === producerId ? next.producerEpoch : -1,
      transactionTimeoutMs: input.transactionTimeoutMs,
      status: TransactionStatus.empty,
      partitions: new Set(),
      transactionStartTimestampMs: -1,
      lastUpdateTimestampMs: nowMs,
    };
    const stored = await this.#store(metadata);
    if (stored !== ErrorCode.NONE) return failedInit(stored);
    return { errorCode: ErrorCode.NONE, producerId, producerEpoch };
  }

  async #allocateProducerId(): Promise<number> {
    while (this.#producerIdBlock.next >= this.#producerIdBlock.end) {
      this.#producerIdRefill ??= this.#options.producerIds.allocateBlock().then(
        (block) => {
          this.#producerIdBlock = { next: block.firstProducerId, end: block.firstProducerId + block.size };
          this.#producerIdRefill = undefined;
        },
        (error: unknown) => {
          this.#producerIdRefill = undefined;
          throw error;
        },
      );
      await this.#producerIdRefill;
    }
    const producerId = this.#producerIdBlock.next;
    this.#producerIdBlock.next += 1;
    return producerId;
  }

  // ---- AddPartitionsToTxn, AddOffsetsToTxn ----

  /** Adds partitions to the transaction: one error code per partition, in the order given. */
  async addPartitions(transactionalId: string, producerId: number, producerEpoch: number, partitions: readonly { topic: string; partition: number }[]): Promise<number[]> {
    const all = (errorCode: number) => partitions.map(() => errorCode);
    const ready = await this.#ready(transactionalId, false);
    if (ready !== ErrorCode.NONE) return all(ready);
    const unknown = partitions.map(({ topic, partition }) => !this.#options.partitionExists(topic, partition));
    if (unknown.some(Boolean)) return unknown.map((missing) => (missing ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED));
    return this.#serialize(transactionalId, all(ErrorCode.CONCURRENT_TRANSACTIONS), async () => {
      const errorCode = await this.#addPartitionKeys(transactionalId, producerId, producerEpoch, partitions.map(({ topic, partition }) => topicPartitionKey(topic, partition)));
      return all(errorCode);
    });
  }

  /** AddOffsetsToTxn: adds the group's `__consumer_offsets` partition to the transaction. */
  async addOffsetsPartition(transactionalId: string, producerId: number, producerEpoch: number, offsetsTopic: string, offsetsPartition: number): Promise<number> {
    const [errorCode] = await this.addPartitions(transactionalId, producerId, producerEpoch, [{ topic: offsetsTopic, partition: offsetsPartition }]);
    return errorCode ?? ErrorCode.NONE;
  }

  async #addPartitionKeys(transactionalId: string, producerId: number, producerEpoch: number, keys: readonly string[]): Promise<number> {
    const metadata = this.#transactions.get(transactionalId);
    const problem = producerProblem(metadata, producerId, producerEpoch);
    if (problem !== ErrorCode.NONE || metadata === undefined) return problem;
    if (isPreparing(metadata.status)) return ErrorCode.CONCURRENT_TRANSACTIONS;
    const ongoing = metadata.status === TransactionStatus.ongoing;
    if (ongoing && keys.every((key) => metadata.partitions.has(key))) return ErrorCode.NONE;
    const nowMs = this.#options.clock.nowMs();
    return this.#store({
      ...metadata,
      status: TransactionStatus.ongoing,
      partitions: new Set([...(ongoing ? metadata.partitions : []), ...keys]),
      transactionStartTimestampMs: ongoing ? metadata.transactionStartTimestampMs : nowMs,
      lastUpdateTimestampMs: nowMs,
    });
  }

  /**
   * Whether a transactional produce to this partition belongs to the producer's ongoing
   * transaction (Kafka 3.6+ verifies the same): NONE, or the error the produce gets.
   */
  async verifyPartition(transactionalId: string | null, producerId: number, producerEpoch: number, topic: string, partition: number): Promise<number> {
    if (transactionalId === null) return ErrorCode.INVALID_TXN_STATE;
    // Cut off from the controller, this state may be an old one: no verdict now (the producer retries).
    if (this.#options.mayBeStale?.()) return ErrorCode.NOT_ENOUGH_REPLICAS;
    // A coordinator that just became leader knows its ids only once it has replayed the partition.
    await this.#loadIfHosted(transactionalId);
    const metadata = this.#transactions.get(transactionalId);
    const found = metadata && { producerId: metadata.producerId, producerEpoch: metadata.producerEpoch, ongoingWithPartition: metadata.status === TransactionStatus.ongoing && metadata.partitions.has(topicPartitionKey(topic, partition)) };
    return transactionalProduceProblem(found, producerId, producerEpoch);
  }

  // ---- EndTxn ----

  /**
   * EndTxn. Only the producer id and epoch of the ongoing transaction may end it; a retried
   * EndTxn of a transaction that already ended the same way succeeds without effect; every other
   * combination is INVALID_TXN_STATE, so a stray request never ends a transaction it was not meant for.
   */
  async endTransaction(transactionalId: string, producerId: number, producerEpoch: number, committed: boolean): Promise<number> {
    const ready = await this.#ready(transactionalId, false);
    if (ready !== ErrorCode.NONE) return ready;
    return this.#serialize(transactionalId, ErrorCode.CONCURRENT_TRANSACTIONS, async () => {
      const metadata = this.#transactions.get(transactionalId);
      const problem = producerProblem(metadata, producerId, producerEpoch);
      if (problem !== ErrorCode.NONE || metadata === undefined) return problem;
      const errorCode = await this.#end(metadata, committed);
      if (errorCode === ErrorCode.INVALID_TXN_STATE) this.#options.logger.info('EndTxn refused in the transaction\'s state', { transactionalId, producerId, producerEpoch, committed, status: stateName(metadata.status) });
      return errorCode;
    });
  }

  /** EndTxn on the transaction's state: end it, answer a retry of an end already done, or INVALID_TXN_STATE. */
  #end(metadata: TransactionMetadata, committed: boolean): Promise<number> | number {
    const wanted = committed ? TransactionStatus.completeCommit : TransactionStatus.completeAbort;
    switch (metadata.status) {
      case TransactionStatus.ongoing:
        return this.#endOngoing(metadata, committed);
      case TransactionStatus.completeCommit:
      case TransactionStatus.completeAbort:
        return metadata.status === wanted ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case TransactionStatus.prepareCommit:
      case TransactionStatus.prepareAbort:
        if ((metadata.status === TransactionStatus.prepareCommit) !== committed) return ErrorCode.INVALID_TXN_STATE;
        return this.#completeTransaction(metadata);
      default:
        return ErrorCode.INVALID_TXN_STATE;
    }
  }

  async #endOngoing(metadata: TransactionMetadata, committed: boolean): Promise<number> {
    const prepared = await this.#store({
      ...metadata,
      status: committed ? TransactionStatus.prepareCommit : TransactionStatus.prepareAbort,
      lastUpdateTimestampMs: this.#options.clock.nowMs(),
    });
    if (prepared !== ErrorCode.NONE) return prepared;
    if (this.#testHooks?.afterPrepare !== undefined && (await this.#pausedAfterPrepare(metadata.transactionalId, committed))) return ErrorCode.NOT_COORDINATOR;
    return this.#completeTransaction(this.#transactions.get(metadata.transactionalId)!);
  }

  /** Runs the test hook; true when the coordinator was stopped meanwhile (the end is left prepared). */
  async #pausedAfterPrepare(transactionalId: string, committed: boolean): Promise<boolean> {
    await this.#testHooks?.afterPrepare?.(transactionalId, committed);
    return this.#stopped;
  }

  /**
   * Writes the markers of a prepared transaction, then its Complete record. The markers of the
   * records' partitions come first, those of the groups' offsets partitions after them: a group's
   * offsets of the transaction become stable (what OffsetFetch with RequireStable waits for) only
   * once its records are committed where they were written. A Kafka Streams task that restores its
   * changelog after reading stable offsets so never starts after a transaction whose changelog
   * writes it could not read yet (they would be lost from its state).
   */
  async #completeTransaction(metadata: TransactionMetadata): Promise<number> {
    const committed = metadata.status === TransactionStatus.prepareCommit;
    const keys = [...metadata.partitions];
    const isOffsets = (key: string) => splitTopicPartitionKey(key).topic === CONSUMER_OFFSETS_TOPIC;
    const records = await Promise.all(keys.filter((key) => !isOffsets(key)).map((key) => this.#writeMarker(metadata, key, committed)));
    if (!records.every(Boolean)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const offsets = await Promise.all(keys.filter(isOffsets).map((key) => this.#writeMarker(metadata, key, committed)));
    if (!offsets.every(Boolean)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return this.#store({
      ...metadata,
      status: committed ? TransactionStatus.completeCommit : TransactionStatus.completeAbort,
      partitions: new Set(),
      lastUpdateTimestampMs: this.#options.clock.nowMs(),
    });
  }

  async #writeMarker(metadata: TransactionMetadata, key: string, committed: boolean): Promise<boolean> {
    const { topic, partition } = splitTopicPartitionKey(key);
    const coordinatorEpoch = this.#options.stateLog.leaderEpoch(this.partitionFor(metadata.transactionalId));
    // The state partition moved away: its new leader finishes the transaction.
    if (coordinatorEpoch < 0) return false;
    const marker = { topic, partition, producerId: metadata.producerId, producerEpoch: metadata.producerEpoch, committed, coordinatorEpoch };
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#options.markers.writeMarker(marker);
        return true;
      } catch (error) {
        this.#options.logger.warn('writing a transaction marker failed', { transactionalId: metadata.transactionalId, topic, partition, attempt, error });
        if (attempt >= MARKER_ATTEMPTS_MAX || this.#stopped) return false;
        await new Promise<void>((resolve) => this.#options.clock.schedule(MARKER_RETRY_BACKOFF_MS * attempt, resolve));
      }
    }
  }

  /** Aborts the ongoing transaction under epoch + 1 (a takeover or a timeout), fencing the old epoch. */
  async #abortWithBumpedEpoch(metadata: TransactionMetadata): Promise<number> {
    const fenced = metadata.producerEpoch + 1;
    const prepared = await this.#store({
      ...metadata,
      producerEpoch: fenced,
      lastProducerEpoch: metadata.producerEpoch,
      status: TransactionStatus.prepareAbort,
      lastUpdateTimestampMs: this.#options.clock.nowMs(),
    });
    if (prepared !== ErrorCode.NONE) return prepared;
    if (this.#testHooks?.afterPrepare !== undefined && (await this.#pausedAfterPrepare(metadata.transactionalId, false))) return ErrorCode.NOT_COORDINATOR;
    return this.#completeTransaction(this.#transactions.get(metadata.transactionalId)!);
  }

  // ---- Timeouts and expiry ----

  #scheduleSweep(): void {
    if (this.#stopped) return;
    this.#cancelSweep = this.#options.clock.schedule(this.#options.config.abortTimedOutTransactionsIntervalMs, () => {
      void this.sweep().finally(() => this.#scheduleSweep());
    });
  }

  /** Aborts transactions open longer than their timeout and forgets long-idle transactional ids. */
  async sweep(): Promise<void> {
    const nowMs = this.#options.clock.nowMs();
    for (const metadata of [...this.#transactions.values()]) {
      if (this.#stopped) return;
      const { transactionalId } = metadata;
      if (metadata.status === TransactionStatus.ongoing && nowMs - metadata.transactionStartTimestampMs > metadata.transactionTimeoutMs) {
        await this.#serialize(transactionalId, undefined, async () => {
          const current = this.#transactions.get(transactionalId);
          if (current?.status !== TransactionStatus.ongoing || current.producerEpoch !== metadata.producerEpoch) return;
          this.#options.logger.info('aborting a transaction that exceeded transaction.timeout.ms', { transactionalId, producerId: current.producerId });
          await this.#abortWithBumpedEpoch(current);
        });
      } else if (isPreparing(metadata.status)) {
        await this.#serialize(transactionalId, undefined, async () => {
          const current = this.#transactions.get(transactionalId);
          if (current !== undefined && isPreparing(current.status)) await this.#completeTransaction(current);
        });
      } else if (isCompleteOrEmpty(metadata.status) && nowMs - metadata.lastUpdateTimestampMs > this.#options.config.transactionalIdExpirationMs) {
        await this.#serialize(transactionalId, undefined, () => this.#expire(transactionalId, metadata.lastUpdateTimestampMs));
      }
    }
  }

  async #expire(transactionalId: string, lastUpdateTimestampMs: number): Promise<void> {
    const current = this.#transactions.get(transactionalId);
    if (current === undefined || !isCompleteOrEmpty(current.status) || current.lastUpdateTimestampMs !== lastUpdateTimestampMs) return;
    if ((await this.#append(transactionalId, [transactionTombstone(transactionalId)])) === ErrorCode.NONE) {
      this.#transactions.delete(transactionalId);
      this.#options.logger.info('expired transactional id', { transactionalId });
    }
  }

  // ---- Describe and list ----

  async describe(transactionalId: string): Promise<TransactionDescription> {
    // As verifyPartition: an id is not "not found" before the partition's replay could find it.
    await this.#loadIfHosted(transactionalId);
    const metadata = this.#transactions.get(transactionalId);
    const partition = this.partitionFor(transactionalId);
    const notHere = this.#options.stateLog.numPartitions() === 0 || !this.#options.stateLog.isHosted(partition) || this.#options.mayBeStale?.() === true;
    if (metadata === undefined || notHere) {
      return { errorCode: notHere ? ErrorCode.NOT_COORDINATOR : ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactionalId, state: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1, topics: [] };
    }
    return {
      errorCode: ErrorCode.NONE,
      transactionalId,
      state: stateName(metadata.status),
      transactionTimeoutMs: metadata.transactionTimeoutMs,
      transactionStartTimeMs: metadata.transactionStartTimestampMs,
      producerId: metadata.producerId,
      producerEpoch: metadata.producerEpoch,
      topics: partitionsByTopic(metadata.partitions),
    };
  }

  /** ListTransactions filters: states by Kafka's names, producer ids, and open longer than `minDurationMs` (-1: any). */
  list(stateFilters: readonly string[], producerIdFilters: readonly number[], minDurationMs: number): { unknownStateFilters: string[]; transactions: ListedTransaction[] } {
    const known = new Set(Object.values(TRANSACTION_STATE_NAMES));
    const unknownStateFilters = stateFilters.filter((state) => !known.has(state));
    const states = new Set(stateFilters);
    const producerIds = new Set(producerIdFilters);
    const nowMs = this.#options.clock.nowMs();
    const transactions: ListedTransaction[] = [];
    for (const metadata of this.#transactions.values()) {
      const state = stateName(metadata.status);
      if (states.size > 0 && !states.has(state)) continue;
      if (producerIds.size > 0 && !producerIds.has(metadata.producerId)) continue;
      if (minDurationMs >= 0 && (metadata.status !== TransactionStatus.ongoing || nowMs - metadata.transactionStartTimestampMs < minDurationMs)) continue;
      transactions.push({ transactionalId: metadata.transactionalId, producerId: metadata.producerId, state });
    }
    return { unknownStateFilters, transactions };
  }

  /** Creates `__transaction_state` on first need (FindCoordinator for a transactional id): NONE once it exists. */
  async ensureStateTopic(): Promise<number> {
    if (this.#options.stateLog.numPartitions() > 0) return ErrorCode.NONE;
    return (await this.#options.stateLog.ensureTopic()) ? ErrorCode.NONE : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  // ---- Records ----

  /** Whether this broker coordinates `transactionalId`, creating `__transaction_state` on first need. */
  async #ready(transactionalId: string, create: boolean): Promise<number> {
    if (this.#stopped || this.#options.mayBeStale?.()) return ErrorCode.NOT_COORDINATOR;
    if (this.#options.stateLog.numPartitions() === 0) {
      if (!create || !(await this.#options.stateLog.ensureTopic())) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    const partition = this.partitionFor(transactionalId);
    if (!this.#options.stateLog.isHosted(partition)) return ErrorCode.NOT_COORDINATOR;
    await this.#load(partition);
    return ErrorCode.NONE;
  }

  /** Runs `operation` after every earlier operation on the same transactional id (arrival order). */
  #serialize<T>(transactionalId: string, busy: T, operation: () => Promise<T>): Promise<T> {
    const queue = this.#queues.get(transactionalId) ?? { tail: Promise.resolve(), length: 0 };
    if (queue.length >= QUEUED_OPERATIONS_PER_TRANSACTIONAL_ID_MAX) return Promise.resolve(busy);
    queue.length += 1;
    const result = queue.tail.then(operation, operation);
    queue.tail = result.catch(() => undefined).finally(() => {
      queue.length -= 1;
      if (queue.length === 0 && this.#queues.get(transactionalId) === queue) this.#queues.delete(transactionalId);
    });
    this.#queues.set(transactionalId, queue);
    return result;
  }

  /** Appends the metadata as a record and, once durable, makes it the current state. */
  async #store(metadata: TransactionMetadata): Promise<number> {
    const stored = await this.#append(metadata.transactionalId, [transactionRecord(metadata)]);
    if (stored === ErrorCode.NONE) this.#transactions.set(metadata.transactionalId, metadata);
    return stored;
  }

  async #append(transactionalId: string, records: TransactionRecord[]): Promise<number> {
    const partition = this.partitionFor(transactionalId);
    if (this.#stopped || !this.#options.stateLog.isHosted(partition)) return ErrorCode.NOT_COORDINATOR;
    const nowMs = this.#options.clock.nowMs();
    const batch = buildRecordBatchSync(records.map(({ key, value }) => ({ key, value, timestamp: nowMs })), { baseTimestamp: nowMs });
    try {
      await this.#options.stateLog.append(partition, batch);
      return ErrorCode.NONE;
    } catch (error) {
      this.#options.logger.warn('writing to __transaction_state failed', { transactionalId, partition, error });
      return coordinatorAppendError(error);
    }
  }

  /** Waits for the replay of the transactional id's partition if this broker leads it (a no-op once loaded). */
  async #loadIfHosted(transactionalId: string): Promise<void> {
    if (this.#stopped || this.#options.stateLog.numPartitions() === 0) return;
    const partition = this.partitionFor(transactionalId);
    if (this.#options.stateLog.isHosted(partition)) await this.#load(partition);
  }

  #load(partition: number): Promise<void> {
    let loading = this.#loads.get(partition);
    if (loading === undefined) {
      const token = {};
      this.#loadTokens.set(partition, token);
      loading = this.#replay(partition, token);
      this.#loads.set(partition, loading);
    }
    return loading;
  }

  /**
   * This broker no longer leads `partition` of `__transaction_state`: its transactional ids go
   * (another broker coordinates them now), and leading it again replays them afresh. A replay
   * still under way restores nothing.
   */
  unload(partition: number): void {
    this.#loadTokens.delete(partition);
    if (!this.#loads.delete(partition)) return;
    let unloaded = 0;
    for (const transactionalId of [...this.#transactions.keys()]) {
      if (this.partitionFor(transactionalId) !== partition) continue;
      this.#transactions.delete(transactionalId);
      unloaded++;
    }
    this.#options.logger.info('unloaded __transaction_state partition', { partition, transactionalIds: unloaded });
  }

  /** Rebuilds one partition's transactional ids (last record per id wins), then finishes interrupted ends. */
  async #replay(partition: number, token: object): Promise<void> {
    const replayed = new Map<string, TransactionMetadata | null>();
    let nextOffset = 0;
    for (;;) {
      const { chunks, highWatermark } = await this.#options.stateLog.read(partition, nextOffset);
      if (chunks.length === 0 || nextOffset >= highWatermark) break;
      for (const chunk of chunks) {
        for (const span of recordBatchSpans(chunk)) {
          nextOffset = Math.max(nextOffset, readLastOffset(chunk, span.position) + 1);
          const batch = decodeRecordBatchSync(chunk, span.position);
          if (batch.control) continue;
          for (const record of batch.records) {
            const decoded = record.key === null ? undefined : decodeTransactionRecord(record.key, record.value);
            if (decoded !== undefined) replayed.set(decoded.transactionalId, decoded.metadata);
          }
        }
      }
    }
    // Unloaded while replaying (leadership moved on): these ids are coordinated elsewhere now.
    if (this.#loadTokens.get(partition) !== token) return;
    for (const [transactionalId, metadata] of replayed) if (metadata !== null) this.#transactions.set(transactionalId, metadata);
    if (replayed.size > 0) this.#options.logger.info('loaded __transaction_state partition', { partition, transactionalIds: replayed.size });
    for (const metadata of this.#transactions.values()) {
      if (this.partitionFor(metadata.transactionalId) !== partition || !isPreparing(metadata.status)) continue;
      const completion = this.#serialize(metadata.transactionalId, undefined, async () => {
        const current = this.#transactions.get(metadata.transactionalId);
        if (current !== undefined && isPreparing(current.status)) await this.#completeTransaction(current);
      });
      this.#completions.add(completion);
      void completion.finally(() => this.#completions.delete(completion)).catch(() => undefined);
    }
  }
}

function failedInit(errorCode: number): ProducerIdAndEpoch {
  return { errorCode, producerId: -1, producerEpoch: -1 };
}

function stateName(status: TransactionStatusValue): string {
  return TRANSACTION_STATE_NAMES[status] ?? 'Unknown';
}

/**
 * Whether a transactional produce by `producerId`/`producerEpoch` fits the transactional id's state
 * as its coordinator knows it (undefined: it knows none): NONE, or the error the produce gets.
 */
export function transactionalProduceProblem(
  found: { producerId: number; producerEpoch: number; ongoingWithPartition: boolean } | undefined,
  producerId: number,
  producerEpoch: number,
): number {
  if (found === undefined || found.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
  if (producerEpoch < found.producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
  return found.ongoingWithPartition ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
}

/** Kafka's checks of a request's producer id and epoch against the transactional id's. */
function producerProblem(metadata: TransactionMetadata | undefined, producerId: number, producerEpoch: number): number {
  if (metadata === undefined || metadata.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
  if (producerEpoch !== metadata.producerEpoch) return ErrorCode.PRODUCER_FENCED;
  return ErrorCode.NONE;
}
