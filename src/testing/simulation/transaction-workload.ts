// Transactions in the replication simulation: transactional producers write batches through
// whoever leads (acks=all, a batch retried with its sequence until committed, as an idempotent
// producer retries), and a modelled coordinator ends each transaction with a commit or an abort
// marker, written to the leader and retried on the next leader until it is below the high
// watermark (Kafka's coordinator retries WriteTxnMarkers the same way). Each transaction's outcome
// is remembered, so every replica's read_committed view can be checked against it: the records
// below the last stable offset, filtered by the aborted transactions the log reports and the
// markers as Kafka's consumer filters them, must show every committed transaction's records and
// every plain record, and hide every aborted transaction's records.
//
// A batch whose outcome stays unknown (no acknowledgement before its deadline) makes its
// transaction abort with a bumped producer epoch, as Kafka's producer and coordinator do when a
// transaction times out (KIP-360, KIP-890): the new epoch fences the old epoch's batches, and the
// next transaction starts its sequences at 0.
//
// Every data batch follows its producer's acknowledged batches or starts a new epoch at sequence
// 0, so no leader may refuse one for its sequence (OUT_OF_ORDER_SEQUENCE_NUMBER,
// UNKNOWN_PRODUCER_ID): each such refusal is a violation (the leader lost producer state).
import { ErrorCode } from '../../base/error-codes.js';
import { KafkaError } from '../../base/kafka-error.js';
import type { PartitionLog } from '../../log/partition-log.js';
import { readBaseSequence, readProducerEpoch, readProducerId } from '../../protocol/records/batch-header.js';
import { buildControlBatchSync, ControlRecordType, decodeControlRecordType } from '../../protocol/records/control-record.js';
import { buildRecordBatchSync, decodeRecordBatchSync, type DecodedBatch } from '../../protocol/records/record-batch.js';
import type { ReplicationCluster } from './replication-cluster.js';
import type { SeededRandom } from './seeded-random.js';
import type { SimScheduler } from './sim-scheduler.js';

/** Producer ids of the simulated transactional producers: FIRST_PRODUCER_ID, +1, ... */
const FIRST_PRODUCER_ID = 1000;
/** How long a producer retries one batch before it gives up on the transaction (Kafka's delivery.timeout.ms, scaled down). */
const BATCH_DEADLINE_MS = 4000;
const RETRY_BACKOFF_MS = 25;
const COORDINATOR_EPOCH = 0;
const TRANSACTIONAL_VALUE = /^txn-(\d+\.\d+)\.\d+$/;

export type TransactionOutcome = 'commit' | 'abort';

export interface TransactionWorkloadOptions {
  readonly scheduler: SimScheduler;
  readonly random: SeededRandom;
  readonly cluster: ReplicationCluster;
  readonly producers: number;
  readonly minInsyncReplicas: number;
  readonly ackTimeoutMs: number;
  /**
   * A data batch refused for its sequence (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID): each
   * follows the producer's acknowledged batches or starts a new epoch, so a leader that refuses it
   * has lost producer state its log holds.
   */
  readonly onViolation: (message: string) => void;
  /** Sabotage, to show the read_committed checks fail: the coordinator writes a commit marker for every transaction, aborted ones too. */
  readonly commitEverything?: boolean;
}

export interface TransactionStats {
  committed: number;
  aborted: number;
  /** Transactions aborted because a batch's outcome stayed unknown (with an epoch bump). */
  timedOut: number;
  /** Marker writes that were not acknowledged and were written again (on the same or the next leader). */
  markerRetries: number;
}

export class TransactionWorkload {
  /** Each transaction's outcome by `<producerId>.<transaction>`, decided before its marker is written. */
  readonly outcomes = new Map<string, TransactionOutcome>();
  readonly stats: TransactionStats = { committed: 0, aborted: 0, timedOut: 0, markerRetries: 0 };
  readonly #options: TransactionWorkloadOptions;
  #stopping = false;
  #abandoned = false;
  #running = 0;
  readonly #loops: Promise<void>[] = [];

  constructor(options: TransactionWorkloadOptions) {
    this.#options = options;
  }

  start(): void {
    for (let index = 0; index < this.#options.producers; index++) {
      this.#running++;
      this.#loops.push(this.#produce(index).finally(() => this.#running--));
    }
  }

  /** No new transaction starts; the open ones end (their markers written until committed). */
  stop(): void {
    this.#stopping = true;
  }

  /** The run is over: loops still waiting (a cluster that never healed) give up. */
  abandon(): void {
    this.#stopping = true;
    this.#abandoned = true;
  }

  /** Whether every producer has ended its last transaction and stopped. */
  get done(): boolean {
    return this.#running === 0;
  }

  async finished(): Promise<void> {
    await Promise.all(this.#loops);
  }

  async #produce(index: number): Promise<void> {
    const { scheduler } = this.#options;
    const random = this.#options.random.fork(`producer-${index}`);
    const producerId = FIRST_PRODUCER_ID + index;
    let producerEpoch = 0;
    let sequence = 0;
    for (let transaction = 0; !this.#stopping; transaction++) {
      const key = `${producerId}.${transaction}`;
      const batches = random.between(1, 3);
      let acknowledged = true;
      let record = 0;
      for (let batch = 0; batch < batches && acknowledged && !this.#abandoned; batch++) {
        const records = Array.from({ length: random.between(1, 3) }, () => ({ value: Buffer.from(`txn-${key}.${record++}`), timestamp: scheduler.nowMs() }));
        const bytes = buildRecordBatchSync(records, { producerId, producerEpoch, baseSequence: sequence, transactional: true, baseTimestamp: scheduler.nowMs() });
        acknowledged = await this.#writeUntilCommitted(bytes, scheduler.monotonicMs() + BATCH_DEADLINE_MS, false);
        if (acknowledged) sequence += records.length;
        if (batch + 1 < batches) await sleep(scheduler, random.between(1, 40));
      }
      const outcome: TransactionOutcome = acknowledged && random.chance(0.5) ? 'commit' : 'abort';
      this.outcomes.set(key, outcome);
      this.stats[outcome === 'commit' ? 'committed' : 'aborted']++;
      if (!acknowledged) {
        // The coordinator fences the batch whose outcome is unknown: the marker and everything after carry a new epoch.
        this.stats.timedOut++;
        producerEpoch++;
        sequence = 0;
      }
      const type = outcome === 'commit' || this.#options.commitEverything ? ControlRecordType.commit : ControlRecordType.abort;
      const marker = buildControlBatchSync({ type, producerId, producerEpoch, coordinatorEpoch: COORDINATOR_EPOCH, timestamp: scheduler.nowMs() });
      if (!(await this.#writeUntilCommitted(marker, Number.POSITIVE_INFINITY, true))) return;
      await sleep(scheduler, random.between(40, 300));
    }
  }

  /**
   * Appends `batch` through the current leader until the high watermark passes it there, retrying
   * after errors, timeouts and leader changes until `deadline`. Whether it was acknowledged.
   */
  async #writeUntilCommitted(batch: Buffer, deadline: number, marker: boolean): Promise<boolean> {
    const { scheduler, cluster } = this.#options;
    let attempts = 0;
    while (scheduler.monotonicMs() < deadline && !this.#abandoned) {
      const leader = cluster.leader();
      const replicas = leader ? cluster.brokers.get(leader.assignment.leaderId)?.replicas : undefined;
      if (!leader || !replicas || leader.isr.length < this.#options.minInsyncReplicas) {
        await sleep(scheduler, RETRY_BACKOFF_MS);
        continue;
      }
      if (attempts++ > 0 && marker) this.stats.markerRetries++;
      let lastOffset: number;
      try {
        // A copy: the log stamps offsets and the leader epoch into the bytes it is given.
        lastOffset = (await replicas.append(leader, Buffer.from(batch), scheduler.nowMs())).lastOffset;
      } catch (error) {
        if (error instanceof KafkaError && GIVE_UP.has(error.errorCode)) {
          if (!marker && SEQUENCE_REFUSALS.has(error.errorCode)) {
            this.#options.onViolation(`broker ${leader.assignment.leaderId} (leader epoch ${leader.leaderEpoch}) refused producer ${readProducerId(batch)} epoch ${readProducerEpoch(batch)} sequence ${readBaseSequence(batch)}: ${error.message}`);
          }
          return false;
        }
        await sleep(scheduler, RETRY_BACKOFF_MS);
        continue;
      }
      const clock = cluster.network.clockFor(leader.assignment.leaderId);
      const committed = await new Promise<boolean>((resolve) => {
        const cancel = scheduler.schedule(this.#options.ackTimeoutMs, () => resolve(false));
        replicas.whenCommitted(leader, lastOffset, this.#options.ackTimeoutMs, clock).then(
          () => {
            cancel();
            resolve(true);
          },
          () => {
            cancel();
            resolve(false);
          },
        );
      });
      if (committed) return true;
      await sleep(scheduler, RETRY_BACKOFF_MS);
    }
    return false;
  }
}

/** Refusals of a batch's sequence: never right for this workload's batches (see onViolation). */
const SEQUENCE_REFUSALS = new Set<number>([ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, ErrorCode.UNKNOWN_PRODUCER_ID]);

/** Errors after which a batch cannot succeed by retrying: the producer aborts the transaction. */
const GIVE_UP = new Set<number>([ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, ErrorCode.UNKNOWN_PRODUCER_ID, ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.INVALID_TXN_STATE]);

function sleep(scheduler: SimScheduler, ms: number): Promise<void> {
  return new Promise((resolve) => scheduler.schedule(ms, resolve));
}

/** One replica's read_committed view: what a consumer reading the whole log up to the last stable offset sees. */
export interface ReadCommittedView {
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  /** `offset:value` of every record shown, in offset order (when asked for). */
  readonly visible: readonly string[];
  /** How many records it shows. */
  readonly shown: number;
  readonly violations: readonly string[];
}

/** What the read_committed filter needs of a batch, decoded once. */
interface BatchSummary {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly producerId: number;
  readonly transactional: boolean;
  readonly control: boolean;
  readonly abortMarker: boolean;
  readonly records: readonly { readonly offset: number; readonly value: string; readonly transaction: string | undefined }[];
}

/**
 * Reads `log` as a read_committed Fetch from its log start would (up to the last stable offset,
 * with the aborted transactions the producer state lists for that range), filters the batches
 * as Kafka's consumer does, and checks each record against the transaction outcomes: committed
 * and plain records shown, aborted ones hidden, none of a transaction not yet ended. Undefined
 * when the log changed under the read (a truncation meanwhile).
 */
export async function readCommitted(log: PartitionLog, outcomes: ReadonlyMap<string, TransactionOutcome>, options: { listVisible?: boolean } = {}): Promise<ReadCommittedView | undefined> {
  const highWatermark = log.highWatermark;
  const lastStableOffset = log.producerState.lastStableOffset(highWatermark);
  const from = log.logStartOffset;
  const aborted = log.producerState.abortedTransactions(from, lastStableOffset).map(({ producerId, firstOffset }) => ({ producerId, firstOffset }));
  let batches: readonly BatchSummary[];
  try {
    batches = await committedBatches(log, from, lastStableOffset);
  } catch {
    return undefined;
  }
  if (log.logEndOffset < lastStableOffset || log.logStartOffset !== from) return undefined;
  aborted.sort((a, b) => a.firstOffset - b.firstOffset);
  const violations: string[] = [];
  const visible: string[] = [];
  let shown = 0;
  const abortedProducers = new Set<number>();
  let nextAborted = 0;
  for (const batch of batches) {
    let hidden = false;
    if (batch.producerId >= 0) {
      // Kafka's consumer: an aborted transaction listed from its first offset on hides that
      // producer's transactional batches until its abort marker.
      while (nextAborted < aborted.length && aborted[nextAborted]!.firstOffset <= batch.lastOffset) abortedProducers.add(aborted[nextAborted++]!.producerId);
      if (batch.control) {
        if (batch.abortMarker) abortedProducers.delete(batch.producerId);
      } else if (batch.transactional && abortedProducers.has(batch.producerId)) {
        hidden = true;
      }
    }
    if (batch.control) continue;
    for (const { offset, value, transaction } of batch.records) {
      if (offset >= lastStableOffset) break;
      if (!hidden) {
        shown++;
        if (options.listVisible) visible.push(`${offset}:${value}`);
      }
      if (violations.length >= 5) continue;
      if (transaction === undefined) {
        if (hidden) violations.push(`plain record ${value} at ${offset} is hidden from read_committed`);
        continue;
      }
      const outcome = outcomes.get(transaction);
      if (outcome === undefined) violations.push(`${value} at ${offset}, of a transaction not ended yet, is below the last stable offset ${lastStableOffset}`);
      else if (outcome === 'abort' && !hidden) violations.push(`aborted ${value} at ${offset} is visible to read_committed (last stable offset ${lastStableOffset}, high watermark ${highWatermark}, aborted transactions ${describeAborted(aborted)})`);
      else if (outcome === 'commit' && hidden) violations.push(`committed ${value} at ${offset} is hidden from read_committed (aborted transactions ${describeAborted(aborted)})`);
    }
  }
  return { highWatermark, lastStableOffset, visible, shown, violations };
}

function describeAborted(aborted: readonly { producerId: number; firstOffset: number }[]): string {
  return aborted.length === 0 ? 'none' : aborted.map((entry) => `${entry.producerId}@${entry.firstOffset}`).join(' ');
}

/** Batches read before, per log (one replica incarnation): those below the high watermark never change. */
const summariesBelowHighWatermark = new WeakMap<PartitionLog, { from: number; batches: BatchSummary[] }>();

/**
 * The batches of `log` from `from` up to `to` (exclusive, at most the high watermark), summed up.
 * Batches below the high watermark are committed, so they are read once and reused (a
 * truncation below it, or a new log start, drops what was kept).
 */
async function committedBatches(log: PartitionLog, from: number, to: number): Promise<readonly BatchSummary[]> {
  let cached = summariesBelowHighWatermark.get(log);
  if (cached === undefined || cached.from !== from || log.logEndOffset < nextOffsetAfter(cached.batches, from)) {
    cached = { from, batches: [] };
    summariesBelowHighWatermark.set(log, cached);
  }
  const batches = cached.batches;
  for (let offset = nextOffsetAfter(batches, from); offset < to; ) {
    const read = await log.read(offset, { maxBytes: 64 * 1024 * 1024, maxOffset: to, minOneBatch: true });
    const bytes = read.chunks.length === 1 ? read.chunks[0]! : Buffer.concat(read.chunks);
    if (bytes.length === 0) throw new Error(`reading ${log.dir} at ${offset} returned nothing`);
    for (let position = 0; position < bytes.length; position += 12 + bytes.readInt32BE(position + 8)) {
      const summary = summarize(decodeRecordBatchSync(bytes, position, { verifyCrc: false }));
      if (summary.lastOffset >= offset) batches.push(summary);
      offset = Math.max(offset, summary.lastOffset + 1);
    }
  }
  const wanted = batches.filter((batch) => batch.baseOffset < to);
  // What lies at or above the high watermark may still be truncated: keep only what is below it.
  const highWatermark = log.highWatermark;
  while (batches.length > 0 && batches.at(-1)!.lastOffset >= highWatermark) batches.pop();
  return wanted;
}

function summarize(batch: DecodedBatch): BatchSummary {
  const first = batch.records[0];
  return {
    baseOffset: batch.baseOffset,
    lastOffset: batch.baseOffset + batch.lastOffsetDelta,
    producerId: batch.producerId,
    transactional: batch.transactional,
    control: batch.control,
    abortMarker: batch.control && first !== undefined && decodeControlRecordType(first.key) === ControlRecordType.abort,
    records: batch.control
      ? []
      : batch.records.map((record) => {
          const value = record.value?.toString() ?? '';
          return { offset: record.offset, value, transaction: TRANSACTIONAL_VALUE.exec(value)?.[1] };
        }),
  };
}

function nextOffsetAfter(batches: readonly BatchSummary[], from: number): number {
  const last = batches.at(-1);
  return last === undefined ? from : last.lastOffset + 1;
}

/** Producers with a transaction open in `log`'s producer state, as `producerId@firstOffset`. */
export function openTransactions(log: PartitionLog): string[] {
  return [...log.producerState.producers()].filter((entry) => entry.currentTxnFirstOffset >= 0).map((entry) => `${entry.producerId}@${entry.currentTxnFirstOffset}`);
}
