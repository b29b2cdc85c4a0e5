// A transactional producer (KIP-98) for Kafka Connect's exactly-once source tasks (KIP-618).
//
// init() finds the transaction coordinator (FindCoordinator, key type 1) and sends InitProducerId:
// the coordinator aborts what an older instance with the same transactional id left open and bumps
// the epoch, which fences that instance. In a transaction each new partition is added once
// (AddPartitionsToTxn), then records go out as transactional idempotent batches: producer id,
// epoch and a sequence per partition that starts at 0 after InitProducerId and grows by the
// record count, across transactions, until the next epoch bump. commitTransaction() and
// abortTransaction() send EndTxn.
//
// Errors follow Kafka's TransactionManager:
// - retriable ones are retried until retryTimeoutMs: at the coordinator NOT_COORDINATOR and
//   COORDINATOR_NOT_AVAILABLE (after finding it again), COORDINATOR_LOAD_IN_PROGRESS and
//   CONCURRENT_TRANSACTIONS; a Produce is sent again with the same bytes and sequence, so the
//   broker keeps one copy of a batch whose answer was lost;
// - abortable ones (any other failed batch, a partition that could not be added) fail send() with
//   TransactionAbortableError, and every call but abortTransaction() repeats it; the abort then
//   also bumps the epoch (InitProducerId with the current id and epoch, KIP-360), which starts
//   the sequences again at 0, so a batch of unknown fate cannot break them;
// - PRODUCER_FENCED, INVALID_PRODUCER_EPOCH and TRANSACTIONAL_ID_AUTHORIZATION_FAILED fence the
//   producer for good: every call throws ProducerFencedError. (Kafka's Java client reports
//   INVALID_PRODUCER_EPOCH from a Produce as abortable first, KIP-588, but the EndTxn of the abort
//   that must follow is answered PRODUCER_FENCED under transactions v1, which this broker speaks:
//   the producer ends fenced either way, so it is fenced at once here.)
// - anything else from the coordinator (INVALID_TXN_STATE, an unexpected code) is fatal: the
//   error is thrown again by every later call.
//
// Calls run one after another in the order they were made (send, commit and abort queue behind
// earlier ones), so the records of a partition reach it in order and EndTxn waits for every batch.
import { ErrorCode, errorName, retriableErrorCodes } from '../base/error-codes.js';
import { AddOffsetsToTxnApi, AddPartitionsToTxnApi, EndTxnApi, FindCoordinatorApi, InitProducerIdApi, ProduceApi, TxnOffsetCommitApi } from '../protocol/messages/index.js';
import { buildRecordBatchSync } from '../protocol/records/record-batch.js';
import type { TopicInfo } from './admin-client.js';
import { type ClusterClient, KafkaResponseError, REQUEST_TIMEOUT_MS, ToolError, hostPort } from './cluster-client.js';
import { findGroupCoordinator } from './group-offsets.js';
import { checkPartition, Partitioner, type ProducerRecord, type RecordResult } from './producer.js';

/** The producer was fenced: a newer instance with the same transactional id exists (or the id may not be used). */
export class ProducerFencedError extends Error {
  override name = 'ProducerFencedError';
  constructor(
    readonly transactionalId: string,
    readonly errorCode: number,
    what: string,
  ) {
    super(`transactional id '${transactionalId}' is fenced: ${what} got ${errorName(errorCode)}`);
  }
}

/** The transaction cannot commit: abort it (abortTransaction), then a new one may begin. */
export class TransactionAbortableError extends Error {
  override name = 'TransactionAbortableError';
  constructor(
    message: string,
    /** Kafka's error code, or -1 when a request failed (connection lost, timed out). */
    readonly errorCode: number,
    /** The results of the send that failed, one per record, when a send failed. */
    readonly results?: readonly RecordResult[],
  ) {
    super(message);
  }
}

export interface TransactionalProducerOptions {
  transactionalId: string;
  /** transaction.timeout.ms: the coordinator aborts a transaction open longer (Kafka's default 60000). */
  transactionTimeoutMs?: number;
  /** A CompressionType code (none by default). */
  compression?: number;
  /** How long retriable errors are retried before a call gives up (REQUEST_TIMEOUT_MS by default). */
  retryTimeoutMs?: number;
}

export type TransactionalRecord = ProducerRecord & { topic: string };

/** The consumer group whose offsets a transaction commits, at the member's generation (KIP-447). */
export interface TransactionGroup {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  /** The group coordinator's host:port. */
  readonly coordinator: string;
}

/** Where a coordinator's requests go: its last known address (undefined: find it first), and how to find it again. */
interface CoordinatorSlot {
  address: string | undefined;
  readonly find: () => Promise<string>;
}

type State = 'uninitialized' | 'ready' | 'inTransaction' | 'abortableError' | 'fenced' | 'fatal' | 'closed';

/** One transaction's batch for one partition, built once: a retry sends the same bytes and sequence. */
interface PartitionBatch {
  topic: string;
  partition: number;
  /** Positions of its records in the send. */
  indexes: number[];
  bytes: Buffer;
}

interface BatchAnswer {
  batch: PartitionBatch;
  /** Kafka's error code; -1 also when the request failed (`lost`). */
  errorCode: number;
  /** The request failed (connection lost, timed out): the batch may or may not be written. */
  lost?: boolean;
  message: string | null;
  baseOffset: number;
}

const TRANSACTION_KEY_TYPE = 1;
const FENCING = new Set<number>([ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]);
const FIND_COORDINATOR_AGAIN = new Set<number>([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE]);
const RETRY_AT_COORDINATOR = new Set<number>([ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.CONCURRENT_TRANSACTIONS]);
/** AddPartitionsToTxn also waits for a partition the coordinator does not know yet. */
const RETRY_ADD_PARTITIONS = new Set<number>([...RETRY_AT_COORDINATOR, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
/** The coordinator lost the producer id: abortable, with an epoch bump (Kafka's abortableErrorIfPossible). */
const PRODUCER_ID_UNKNOWN = new Set<number>([ErrorCode.UNKNOWN_PRODUCER_ID, ErrorCode.INVALID_PRODUCER_ID_MAPPING]);
const SEQUENCE_WRAP = 2 ** 31;
const BACKOFF_MS = { first: 20, max: 500 };

export class TransactionalProducer {
  private state: State = 'uninitialized';
  /** What later calls throw in the abortableError and fatal states. */
  private error: Error | undefined;
  private producerId = -1n;
  private producerEpoch = -1;
  /** The abort must bump the epoch: a batch failed, its fate and so the partition's sequence unknown. */
  private epochBumpRequired = false;
  private readonly transactionCoordinator: CoordinatorSlot = { address: undefined, find: () => this.findCoordinator() };
  private readonly sequences = new Map<string, number>();
  private readonly partitionsInTransaction = new Set<string>();
  /** Leaders learnt from metadata after a leader error; they win over the caller's TopicInfo. */
  private readonly leaders = new Map<string, number>();
  private readonly partitioner = new Partitioner();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly transactionalId: string;
  private readonly transactionTimeoutMs: number;
  private readonly compression: number;
  private readonly retryTimeoutMs: number;

  constructor(
    private readonly cluster: ClusterClient,
    options: TransactionalProducerOptions,
  ) {
    this.transactionalId = options.transactionalId;
    this.transactionTimeoutMs = options.transactionTimeoutMs ?? 60_000;
    this.compression = options.compression ?? 0;
    this.retryTimeoutMs = options.retryTimeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  /** true once a newer producer with the same transactional id (or an authorization failure) fenced this one. */
  get fenced(): boolean {
    return this.state === 'fenced';
  }

  /** InitProducerId at the transaction coordinator; fences older producers with the same transactional id. */
  init(): Promise<void> {
    return this.enqueue(async () => {
      this.expect('uninitialized', 'init');
      await this.initProducerId(-1n, -1);
      this.state = 'ready';
    });
  }

  beginTransaction(): void {
    this.expect('ready', 'beginTransaction');
    this.state = 'inTransaction';
  }

  /**
   * Adds the records' partitions to the transaction and writes the records, one batch per
   * partition. Resolves with each record's offset; rejects with TransactionAbortableError
   * (its `results` say which records failed) or ProducerFencedError.
   */
  async send(records: readonly TransactionalRecord[], topics: ReadonlyMap<string, TopicInfo>): Promise<RecordResult[]> {
    const results = records.map((record) => this.place(record, topics));
    return this.enqueue(async () => {
      this.expect('inTransaction', 'send');
      const byPartition = groupByPartition(results);
      await this.addPartitions([...byPartition.values()].map((indexes) => results[indexes[0]!]!));
      // Sequences are taken only now: a send that failed before (AddPartitionsToTxn timed out) took none.
      const batches = this.buildBatches(records, results, byPartition);
      await this.produce(batches, results, topics);
      return results;
    });
  }

  /**
   * Kafka's sendOffsetsToTransaction (KIP-447): AddOffsetsToTxn at the transaction coordinator, then
   * TxnOffsetCommit at the group coordinator with the member's generation, so the offsets commit or
   * abort with the transaction and a member whose generation is gone is refused (abortable).
   * `offsets`: topic -> partition -> the next offset to consume.
   */
  sendOffsetsToTransaction(offsets: ReadonlyMap<string, ReadonlyMap<number, number>>, group: TransactionGroup): Promise<void> {
    return this.enqueue(async () => {
      this.expect('inTransaction', 'sendOffsetsToTransaction');
      const topics = [...offsets].filter(([, byPartition]) => byPartition.size > 0);
      if (topics.length === 0) return;
      const added = `AddOffsetsToTxn of '${this.transactionalId}' for group '${group.groupId}'`;
      const { errorCode } = await this.toCoordinator(added, (address) => this.cluster.request(AddOffsetsToTxnApi, {
        transactionalId: this.transactionalId,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        groupId: group.groupId,
      }, { address, maxVersion: 3 }), (answer) => answer.errorCode);
      this.check(added, errorCode, true);
      // The transaction now holds something to end, even if it wrote no record.
      this.partitionsInTransaction.add(`offsets\u0000${group.groupId}`);
      await this.commitOffsetsInTransaction(topics, group);
    });
  }

  /**
   * TxnOffsetCommit v3 (the first with the member's generation, so a zombie is fenced) at the group
   * coordinator, retrying while it loads or is busy. A coordinator that moved (NOT_COORDINATOR,
   * COORDINATOR_NOT_AVAILABLE, or its broker gone) is found again, as Kafka's producer does; the
   * offsets are the same on every attempt, so a request answered but lost is harmless to repeat.
   */
  private async commitOffsetsInTransaction(topics: [string, ReadonlyMap<number, number>][], group: TransactionGroup): Promise<void> {
    const what = `TxnOffsetCommit of '${this.transactionalId}' for group '${group.groupId}'`;
    const groupCoordinator: CoordinatorSlot = {
      address: group.coordinator,
      find: () => findGroupCoordinator(this.cluster, group.groupId).catch((error: unknown) => {
        // Not available yet (an election, a load): retried like a coordinator that moved.
        if (error instanceof KafkaResponseError && FIND_COORDINATOR_AGAIN.has(error.errorCode)) throw new Error(error.message);
        throw error;
      }),
    };
    const errorOf = (response: { topics: { partitions: { errorCode: number }[] }[] }) => firstError(response.topics.flatMap((topic) => topic.partitions.map((partition) => partition.errorCode)));
    const { errorCode } = await this.toCoordinator(what, (address) => this.cluster.request(TxnOffsetCommitApi, {
      transactionalId: this.transactionalId,
      groupId: group.groupId,
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      generationId: group.generationId,
      memberId: group.memberId,
      groupInstanceId: null,
      topics: topics.map(([name, byPartition]) => ({
        name,
        partitions: [...byPartition].map(([partitionIndex, offset]) => ({ partitionIndex, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null })),
      })),
    }, { address, minVersion: 3, maxVersion: 3 }), errorOf, RETRY_AT_COORDINATOR, groupCoordinator);
    this.check(what, errorCode, true);
  }

  /** EndTxn commit (after every earlier send), retrying retriable errors. */
  commitTransaction(): Promise<void> {
    return this.enqueue(async () => {
      this.expect('inTransaction', 'commitTransaction');
      await this.endTransaction(true);
      this.state = 'ready';
    });
  }

  /** EndTxn abort; after an abortable error also bumps the epoch (sequences start again at 0). */
  abortTransaction(): Promise<void> {
    return this.enqueue(async () => {
      if (this.state !== 'abortableError') this.expect('inTransaction', 'abortTransaction');
      await this.endTransaction(false);
      if (this.epochBumpRequired) await this.initProducerId(this.producerId, this.producerEpoch);
      this.error = undefined;
      this.state = 'ready';
    });
  }

  /** The producer is unusable afterwards; an open transaction is left to the coordinator's timeout. The cluster client stays open. */
  close(): void {
    if (this.state !== 'fenced') this.state = 'closed';
  }

  // ---- State ----

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Throws unless the producer is in `wanted`: the fencing, the abortable or fatal error, or a misuse. */
  private expect(wanted: State, call: string): void {
    if (this.state === wanted) return;
    if (this.state === 'fenced') throw new ProducerFencedError(this.transactionalId, ErrorCode.PRODUCER_FENCED, call);
    if (this.error !== undefined && (this.state === 'abortableError' || this.state === 'fatal')) throw this.error;
    throw new Error(`${call} is not allowed: the transactional producer '${this.transactionalId}' is ${this.state}`);
  }

  private fence(what: string, errorCode: number): ProducerFencedError {
    this.state = 'fenced';
    return new ProducerFencedError(this.transactionalId, errorCode, what);
  }

  private abortable(message: string, errorCode: number, results?: readonly RecordResult[]): TransactionAbortableError {
    this.state = 'abortableError';
    this.epochBumpRequired = true;
    this.error = new TransactionAbortableError(`the transaction must be aborted: ${message}`, errorCode, results);
    return this.error as TransactionAbortableError;
  }

  private fatal(error: Error): Error {
    this.state = 'fatal';
    this.error = error;
    return error;
  }

  /** A coordinator's final answer: NONE passes; fencing codes fence; the rest is abortable (where `abortable`) or fatal. */
  private check(what: string, errorCode: number, abortable: boolean): void {
    if (errorCode === ErrorCode.NONE) return;
    if (FENCING.has(errorCode)) throw this.fence(what, errorCode);
    if (PRODUCER_ID_UNKNOWN.has(errorCode) || (abortable && errorCode !== ErrorCode.INVALID_TXN_STATE)) throw this.abortable(`${what}: ${errorName(errorCode)}`, errorCode);
    throw this.fatal(new KafkaResponseError(errorCode, what));
  }

  // ---- The coordinator ----

  private async initProducerId(producerId: bigint, producerEpoch: number): Promise<void> {
    const what = `InitProducerId of '${this.transactionalId}'`;
    const { response, errorCode } = await this.toCoordinator(what, (address) => this.cluster.request(InitProducerIdApi, {
      transactionalId: this.transactionalId,
      transactionTimeoutMs: this.transactionTimeoutMs,
      producerId,
      producerEpoch,
    }, { address, minVersion: producerId >= 0n ? 3 : 0, maxVersion: 4 }), (answer) => answer.errorCode);
    this.check(what, errorCode, false);
    this.producerId = response.producerId;
    this.producerEpoch = response.producerEpoch;
    this.epochBumpRequired = false;
    this.sequences.clear();
  }

  /** AddPartitionsToTxn for those of `partitions` not yet in the transaction. */
  private async addPartitions(partitions: readonly { topic: string; partition: number }[]): Promise<void> {
    const added = partitions.filter(({ topic, partition }) => !this.partitionsInTransaction.has(partitionKey(topic, partition)));
    if (added.length === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of added) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    const what = `AddPartitionsToTxn of '${this.transactionalId}'`;
    const { errorCode } = await this.toCoordinator(what, (address) => this.cluster.request(AddPartitionsToTxnApi, {
      v3AndBelowTransactionalId: this.transactionalId,
      v3AndBelowProducerId: this.producerId,
      v3AndBelowProducerEpoch: this.producerEpoch,
      v3AndBelowTopics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    }, { address, maxVersion: 3 }), (answer) => firstError((answer.resultsByTopicV3AndBelow ?? []).flatMap((topic) => topic.resultsByPartition.map((result) => result.partitionErrorCode))), RETRY_ADD_PARTITIONS);
    this.check(what, errorCode, true);
    for (const { topic, partition } of added) this.partitionsInTransaction.add(partitionKey(topic, partition));
  }

  /** EndTxn, unless nothing was added to the transaction (the coordinator has nothing to end, as Kafka's client skips it). */
  private async endTransaction(committed: boolean): Promise<void> {
    if (this.partitionsInTransaction.size > 0) {
      const what = `EndTxn (${committed ? 'commit' : 'abort'}) of '${this.transactionalId}'`;
      const { errorCode } = await this.toCoordinator(what, (address) => this.cluster.request(EndTxnApi, {
        transactionalId: this.transactionalId,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        committed,
      }, { address, maxVersion: 4 }), (answer) => answer.errorCode);
      this.check(what, errorCode, false);
    }
    this.partitionsInTransaction.clear();
  }

  /**
   * Sends a request to the transaction coordinator until its answer is final: NOT_COORDINATOR,
   * COORDINATOR_NOT_AVAILABLE and a failed request find the coordinator again, `retriable` codes
   * are sent again after a backoff, until retryTimeoutMs.
   */
  private async toCoordinator<R>(what: string, send: (address: string) => Promise<R>, errorOf: (response: R) => number, retriable: ReadonlySet<number> = RETRY_AT_COORDINATOR, coordinator: CoordinatorSlot = this.transactionCoordinator): Promise<{ response: R; errorCode: number }> {
    const deadline = Date.now() + this.retryTimeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      let last: string;
      try {
        coordinator.address ??= await coordinator.find();
        const response = await send(coordinator.address);
        const errorCode = errorOf(response);
        if (!FIND_COORDINATOR_AGAIN.has(errorCode) && !retriable.has(errorCode)) return { response, errorCode };
        if (FIND_COORDINATOR_AGAIN.has(errorCode)) coordinator.address = undefined;
        last = errorName(errorCode);
      } catch (error) {
        if (error instanceof KafkaResponseError || error instanceof ProducerFencedError) throw error;
        coordinator.address = undefined;
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() >= deadline) throw new ToolError(`${what} did not succeed within ${this.retryTimeoutMs} ms (last: ${last})`);
      await sleep(backoffMs(attempt));
    }
  }

  /** The coordinator's host:port; COORDINATOR_NOT_AVAILABLE throws a plain Error, which toCoordinator retries. */
  private async findCoordinator(): Promise<string> {
    const what = `FindCoordinator of transactional id '${this.transactionalId}'`;
    const response = await this.cluster.request(FindCoordinatorApi, { key: this.transactionalId, keyType: TRANSACTION_KEY_TYPE }, { minVersion: 1, maxVersion: 3 });
    const errorCode = response.errorCode ?? ErrorCode.NONE;
    if (errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE) throw new Error(`${what}: ${errorName(errorCode)}`);
    if (errorCode === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED) throw this.fence(what, errorCode);
    if (errorCode !== ErrorCode.NONE) throw this.fatal(new KafkaResponseError(errorCode, what, response.errorMessage));
    return hostPort(response.host ?? '', response.port ?? 0);
  }

  // ---- Records ----

  /** The record's partition (given, else murmur2 of the key, else round-robin), as its result. */
  private place(record: TransactionalRecord, topics: ReadonlyMap<string, TopicInfo>): RecordResult {
    const topic = topics.get(record.topic);
    if (!topic) throw new Error(`the producer was given no metadata for topic '${record.topic}'`);
    checkPartition(topic, record.partition);
    return { topic: topic.name, partition: this.partitioner.partitionFor(topic, record), offset: -1, error: null, errorCode: ErrorCode.NONE };
  }

  /** One batch per partition, each taking the partition's next sequence numbers. */
  private buildBatches(records: readonly TransactionalRecord[], results: readonly RecordResult[], byPartition: ReadonlyMap<string, number[]>): PartitionBatch[] {
    const now = Date.now();
    return [...byPartition].map(([key, indexes]) => {
      const baseSequence = this.sequences.get(key) ?? 0;
      this.sequences.set(key, (baseSequence + indexes.length) % SEQUENCE_WRAP);
      const bytes = buildRecordBatchSync(indexes.map((index) => ({ ...records[index]!, timestamp: records[index]!.timestamp ?? now })), {
        compression: this.compression,
        producerId: Number(this.producerId),
        producerEpoch: this.producerEpoch,
        baseSequence,
        transactional: true,
      });
      const { topic, partition } = results[indexes[0]!]!;
      return { topic, partition, indexes, bytes };
    });
  }

  /** Produces the batches, sending those that failed with a retriable error again (after fresh metadata) until retryTimeoutMs. */
  private async produce(batches: readonly PartitionBatch[], results: RecordResult[], topics: ReadonlyMap<string, TopicInfo>): Promise<void> {
    const deadline = Date.now() + this.retryTimeoutMs;
    let pending = batches;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > 0) {
        await sleep(backoffMs(attempt - 1));
        await this.refreshLeaders(pending);
      }
      const answers = (await Promise.all([...this.byLeader(pending, topics)].map(([leader, group]) => this.produceTo(leader, group)))).flat();
      for (const answer of answers) fillResults(answer, results);
      const fencing = answers.find((answer) => FENCING.has(answer.errorCode));
      if (fencing) throw this.fence(`Produce to ${fencing.batch.topic}-${fencing.batch.partition}`, fencing.errorCode);
      const failed = answers.filter((answer) => answer.errorCode !== ErrorCode.NONE);
      pending = failed.filter(isRetriable).map((answer) => answer.batch);
      const final = failed.find((answer) => !isRetriable(answer)) ?? (pending.length > 0 && Date.now() >= deadline ? failed[0] : undefined);
      if (final) throw this.abortable(`Produce to ${final.batch.topic}-${final.batch.partition} failed: ${results[final.batch.indexes[0]!]!.error}`, final.errorCode, results);
    }
  }

  /** One Produce request with the batches led by `leader`; a failed request is a retriable answer for each. */
  private async produceTo(leader: number, batches: readonly PartitionBatch[]): Promise<BatchAnswer[]> {
    if (leader < 0) return batches.map((batch) => ({ batch, errorCode: ErrorCode.LEADER_NOT_AVAILABLE, message: 'the partition has no leader', baseOffset: -1 }));
    const byTopic = new Map<string, PartitionBatch[]>();
    for (const batch of batches) byTopic.set(batch.topic, [...(byTopic.get(batch.topic) ?? []), batch]);
    try {
      const response = await this.cluster.request(ProduceApi, {
        transactionalId: this.transactionalId,
        acks: -1,
        timeoutMs: REQUEST_TIMEOUT_MS,
        topicData: [...byTopic].map(([name, group]) => ({ name, partitionData: group.map((batch) => ({ index: batch.partition, records: batch.bytes })) })),
      }, { address: await this.cluster.addressOf(leader), minVersion: 3, maxVersion: 9 });
      return batches.map((batch) => {
        const answer = response.responses.find((topic) => topic.name === batch.topic)?.partitionResponses.find((partition) => partition.index === batch.partition);
        if (!answer) return { batch, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, message: 'the Produce response left the partition out', baseOffset: -1 };
        // DUPLICATE_SEQUENCE_NUMBER: a retry of a batch the log already holds, success for Kafka's clients.
        const errorCode = answer.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER ? ErrorCode.NONE : answer.errorCode;
        return { batch, errorCode, message: answer.errorMessage ?? null, baseOffset: Number(answer.baseOffset) };
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return batches.map((batch) => ({ batch, errorCode: -1, lost: true, message, baseOffset: -1 }));
    }
  }

  private byLeader(batches: readonly PartitionBatch[], topics: ReadonlyMap<string, TopicInfo>): Map<number, PartitionBatch[]> {
    const groups = new Map<number, PartitionBatch[]>();
    for (const batch of batches) {
      const leader = this.leaders.get(partitionKey(batch.topic, batch.partition)) ?? topics.get(batch.topic)?.partitions.find((info) => info.partition === batch.partition)?.leader ?? -1;
      groups.set(leader, [...(groups.get(leader) ?? []), batch]);
    }
    return groups;
  }

  /** Learns the current leaders of the batches' topics; a failure leaves them as they were (the retry will tell). */
  private async refreshLeaders(batches: readonly PartitionBatch[]): Promise<void> {
    try {
      const metadata = await this.cluster.metadata([...new Set(batches.map((batch) => batch.topic))]);
      for (const topic of metadata.topics) {
        for (const partition of topic.partitions) this.leaders.set(partitionKey(topic.name ?? '', partition.partitionIndex), partition.leaderId);
      }
    } catch {
      // The next attempt fails the same way, or the deadline ends the send.
    }
  }
}

/** Fills the results of the batch's records from its answer. */
function fillResults(answer: BatchAnswer, results: RecordResult[]): void {
  answer.batch.indexes.forEach((index, position) => {
    const result = results[index]!;
    if (answer.errorCode === ErrorCode.NONE) Object.assign(result, { offset: answer.baseOffset < 0 ? -1 : answer.baseOffset + position, error: null, errorCode: ErrorCode.NONE });
    else {
      const name = answer.lost ? 'REQUEST_FAILED' : errorName(answer.errorCode);
      Object.assign(result, { offset: -1, error: `${name}${answer.message ? `: ${answer.message}` : ''}`, errorCode: answer.errorCode });
    }
  });
}

/** The positions of the records of each partition, by partitionKey. */
function groupByPartition(results: readonly RecordResult[]): Map<string, number[]> {
  const byPartition = new Map<string, number[]>();
  results.forEach((result, index) => {
    const key = partitionKey(result.topic, result.partition);
    byPartition.set(key, [...(byPartition.get(key) ?? []), index]);
  });
  return byPartition;
}

function isRetriable(answer: BatchAnswer): boolean {
  return answer.lost === true || retriableErrorCodes.has(answer.errorCode);
}

/** The first error among per-partition codes, OPERATION_NOT_ATTEMPTED (the others' fault) last. */
function firstError(codes: readonly number[]): number {
  const errors = codes.filter((code) => code !== ErrorCode.NONE);
  return errors.find((code) => code !== ErrorCode.OPERATION_NOT_ATTEMPTED) ?? errors[0] ?? ErrorCode.NONE;
}

const partitionKey = (topic: string, partition: number): string => `${partition}:${topic}`;

function backoffMs(attempt: number): number {
  return Math.min(BACKOFF_MS.first * 2 ** attempt, BACKOFF_MS.max);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Fences every producer with these transactional ids, as Kafka's Admin.fenceProducers: an
 * InitProducerId per id bumps its epoch at the transaction coordinator, which aborts a transaction
 * the old producer left open and refuses that producer's later writes and commits.
 */
export async function fenceProducers(cluster: ClusterClient, transactionalIds: readonly string[], options: { retryTimeoutMs?: number } = {}): Promise<void> {
  await Promise.all(transactionalIds.map(async (transactionalId) => {
    const producer = new TransactionalProducer(cluster, { transactionalId, ...(options.retryTimeoutMs === undefined ? {} : { retryTimeoutMs: options.retryTimeoutMs }) });
    try {
      await producer.init();
    } finally {
      producer.close();
    }
  }));
}
