// The idempotent and transactional producer state of one partition: per producer id its epoch and
// the sequence ranges and offsets of its last five batches (duplicate detection), the transaction
// it has open here, and the partition's first unstable offset (the last stable offset's bound).
// It changes only at append time, in offset order, and is rebuilt from the log on load (from the
// latest `<offset>.snapshot` when one is usable); aborted transactions go to the transaction index.
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import {
  isControlBatch,
  isTransactionalBatch,
  readBaseSequence,
  readLastOffsetDelta,
  readProducerEpoch,
  readProducerId,
} from '../protocol/records/batch-header.js';
import { ControlRecordType } from '../protocol/records/control-record.js';
import { decodeRecordBatchSync } from '../protocol/records/record-batch.js';
import type { AbortedTransaction } from './transaction-index.js';

/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: duplicates of these batches are recognised. */
export const BATCHES_RETAINED_PER_PRODUCER = 5;
/** Kafka's producer.id.expiration.ms default: idle producers without an open transaction are forgotten. */
export const PRODUCER_ID_EXPIRATION_MS_DEFAULT = 86_400_000;
/** Producers one partition remembers; beyond it the longest idle ones without a transaction go first. */
export const PRODUCERS_PER_PARTITION_MAX = 200_000;
const SEQUENCE_MAX = 0x7fffffff;
const NO_SEQUENCE = -1;

export interface BatchMetadata {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

export interface ProducerEntry {
  readonly producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** First offset of the transaction this producer has open in the partition, or -1. */
  currentTxnFirstOffset: number;
  lastTimestampMs: number;
  /** Oldest first, at most BATCHES_RETAINED_PER_PRODUCER. */
  batches: BatchMetadata[];
}

/** A batch already in the log: the append answers with its offsets instead of writing it again. */
export interface DuplicateBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
}

/** A transaction whose marker is written but maybe not yet below the high watermark. */
export interface EndedTransaction {
  readonly producerId: number;
  readonly firstOffset: number;
  readonly markerOffset: number;
}

export class ProducerStateManager {
  readonly #producers = new Map<number, ProducerEntry>();
  /** Ended transactions whose marker may still be above the high watermark: they stay unstable until it passes. */
  #completing: EndedTransaction[] = [];
  #aborted: AbortedTransaction[] = [];

  get producerCount(): number {
    return this.#producers.size;
  }

  producers(): IterableIterator<ProducerEntry> {
    return this.#producers.values();
  }

  /** Whether `producerId` has a transaction open here under `producerEpoch` (its first batch appended, no marker yet). */
  hasOngoingTransaction(producerId: number, producerEpoch: number): boolean {
    const entry = this.#producers.get(producerId);
    return entry !== undefined && entry.producerEpoch === producerEpoch && entry.currentTxnFirstOffset >= 0;
  }

  get abortedTransactionList(): readonly AbortedTransaction[] {
    return this.#aborted;
  }

  /** Ended transactions whose marker may still be above the high watermark (kept in snapshots). */
  get endedTransactionList(): readonly EndedTransaction[] {
    return this.#completing;
  }

  /**
   * Checks a batch about to be appended: fencing, sequence order, duplicates. Throws a KafkaError
   * for a batch the log must refuse; returns the original offsets of a retried duplicate.
   */
  checkAppend(batch: Buffer): DuplicateBatch | undefined {
    const producerId = readProducerId(batch);
    if (producerId < 0) return undefined;
    const epoch = readProducerEpoch(batch);
    const entry = this.#producers.get(producerId);
    if (entry !== undefined && epoch < entry.producerEpoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `producer ${producerId} epoch ${epoch} is older than ${entry.producerEpoch}`);
    }
    if (isControlBatch(batch)) {
      const { coordinatorEpoch } = readMarker(batch);
      if (entry !== undefined && coordinatorEpoch < entry.coordinatorEpoch) {
        throw new KafkaError(ErrorCode.TRANSACTION_COORDINATOR_FENCED, `a marker of producer ${producerId} from coordinator epoch ${coordinatorEpoch}, older than ${entry.coordinatorEpoch}`);
      }
      return undefined;
    }
    const firstSequence = readBaseSequence(batch);
    // Coordinators (transactional offset commits) write without sequences; there is nothing to order.
    if (firstSequence === NO_SEQUENCE) return undefined;
    if (!isTransactionalBatch(batch) && entry !== undefined && entry.currentTxnFirstOffset >= 0) {
      throw new KafkaError(ErrorCode.INVALID_TXN_STATE, `producer ${producerId} wrote a non-transactional batch inside a transaction`);
    }
    const lastSequence = addSequence(firstSequence, readLastOffsetDelta(batch));
    return checkSequence(producerId, epoch, firstSequence, lastSequence, entry);
  }

  /** Records an appended batch (offsets assigned); control batches end the producer's transaction. */
  onAppend(batch: Buffer, baseOffset: number, lastOffset: number, timestampMs: number): void {
    const producerId = readProducerId(batch);
    if (producerId < 0) return;
    const epoch = readProducerEpoch(batch);
    const entry = this.#entryFor(producerId, epoch);
    entry.lastTimestampMs = Math.max(entry.lastTimestampMs, timestampMs);
    if (isControlBatch(batch)) {
      this.#endTransaction(entry, batch, lastOffset);
      return;
    }
    if (isTransactionalBatch(batch) && entry.currentTxnFirstOffset < 0) entry.currentTxnFirstOffset = baseOffset;
    const firstSequence = readBaseSequence(batch);
    if (firstSequence === NO_SEQUENCE) return;
    entry.batches.push({ firstSequence, lastSequence: addSequence(firstSequence, lastOffset - baseOffset), firstOffset: baseOffset, lastOffset });
    if (entry.batches.length > BATCHES_RETAINED_PER_PRODUCER) entry.batches.shift();
  }

  #entryFor(producerId: number, epoch: number): ProducerEntry {
    let entry = this.#producers.get(producerId);
    if (entry === undefined) {
      entry = { producerId, producerEpoch: epoch, coordinatorEpoch: -1, currentTxnFirstOffset: -1, lastTimestampMs: -1, batches: [] };
      this.#producers.set(producerId, entry);
      if (this.#producers.size > PRODUCERS_PER_PARTITION_MAX) this.#evictIdlest();
    } else if (epoch > entry.producerEpoch) {
      // A new epoch starts its sequences again at 0; the old epoch's batches can no longer be retried.
      entry.producerEpoch = epoch;
      entry.batches = [];
    }
    return entry;
  }

  #endTransaction(entry: ProducerEntry, batch: Buffer, markerOffset: number): void {
    const marker = readMarker(batch);
    entry.coordinatorEpoch = marker.coordinatorEpoch;
    const firstOffset = entry.currentTxnFirstOffset;
    entry.currentTxnFirstOffset = -1;
    if (firstOffset < 0) return;
    this.#completing.push({ producerId: entry.producerId, firstOffset, markerOffset });
    if (marker.type === ControlRecordType.abort) {
      this.#aborted.push({ producerId: entry.producerId, firstOffset, lastOffset: markerOffset, lastStableOffset: this.#firstOpenOffset() ?? markerOffset + 1 });
    }
  }

  /**
   * The first offset that read_committed consumers may not see yet: the start of the earliest open
   * transaction, or of an ended one whose marker is not below the high watermark; undefined if none.
   */
  firstUnstableOffset(highWatermark: number): number | undefined {
    this.forgetStableBelow(highWatermark);
    let first = this.#firstOpenOffset();
    for (const ended of this.#completing) if (first === undefined || ended.firstOffset < first) first = ended.firstOffset;
    return first;
  }

  /**
   * Forgets ended transactions whose marker is below the high watermark: they are stable for good.
   * The log calls this whenever its high watermark moves, so a replica nobody reads with
   * read_committed (a follower) does not keep every transaction it ever saw end.
   */
  forgetStableBelow(highWatermark: number): void {
    if (this.#completing.length > 0) this.#completing = this.#completing.filter((ended) => ended.markerOffset >= highWatermark);
  }

  /** Ended transactions still waiting for the high watermark to pass their marker. */
  get completingCount(): number {
    return this.#completing.length;
  }

  #firstOpenOffset(): number | undefined {
    let first: number | undefined;
    for (const entry of this.#producers.values()) {
      if (entry.currentTxnFirstOffset >= 0 && (first === undefined || entry.currentTxnFirstOffset < first)) first = entry.currentTxnFirstOffset;
    }
    return first;
  }

  /** Kafka's last stable offset: the high watermark, held back by the first unstable offset. */
  lastStableOffset(highWatermark: number): number {
    const unstable = this.firstUnstableOffset(highWatermark);
    return unstable === undefined ? highWatermark : Math.min(unstable, highWatermark);
  }

  /** Aborted transactions overlapping [fetchOffset, upperBoundOffset), as Fetch lists them. */
  abortedTransactions(fetchOffset: number, upperBoundOffset: number): AbortedTransaction[] {
    return this.#aborted.filter((aborted) => aborted.lastOffset >= fetchOffset && aborted.firstOffset < upperBoundOffset);
  }

  /** Forgets aborted transactions wholly below the log start offset (retention removed them). */
  onLogStartOffset(logStartOffset: number): void {
    if (this.#aborted.length > 0 && this.#aborted[0]!.lastOffset < logStartOffset) {
      this.#aborted = this.#aborted.filter((aborted) => aborted.lastOffset >= logStartOffset);
    }
  }

  /** Forgets idle producers without an open transaction (producer.id.expiration.ms). */
  removeExpiredProducers(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [producerId, entry] of this.#producers) {
      if (entry.currentTxnFirstOffset < 0 && nowMs - entry.lastTimestampMs >= expirationMs) {
        this.#producers.delete(producerId);
        removed += 1;
      }
    }
    return removed;
  }

  #evictIdlest(): void {
    let idlest: ProducerEntry | undefined;
    for (const entry of this.#producers.values()) {
      if (entry.currentTxnFirstOffset < 0 && (idlest === undefined || entry.lastTimestampMs < idlest.lastTimestampMs)) idlest = entry;
    }
    if (idlest !== undefined) this.#producers.delete(idlest.producerId);
  }

  /**
   * Restores state from a snapshot (its producers and ended transactions) and the aborted
   * transactions read from the transaction indexes.
   */
  restore(entries: readonly ProducerEntry[], aborted: readonly AbortedTransaction[], ended: readonly EndedTransaction[] = []): void {
    this.#producers.clear();
    for (const entry of entries) this.#producers.set(entry.producerId, { ...entry, batches: [...entry.batches] });
    this.#aborted = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
    this.#completing = [...ended];
  }

  clear(): void {
    this.restore([], []);
  }

  /** Forgets what was recorded at or after `offset` (a truncated log, or appends whose write failed). */
  truncateFrom(offset: number): void {
    for (const entry of this.#producers.values()) {
      entry.batches = entry.batches.filter((batch) => batch.lastOffset < offset);
      if (entry.currentTxnFirstOffset >= offset) entry.currentTxnFirstOffset = -1;
    }
    // A transaction whose marker is cut off is open again from its first offset: the marker the
    // leader sends in its place must find it (else an aborted transaction goes unindexed, and its
    // records would be visible to read_committed). Ended transactions are kept here until their
    // marker is below the high watermark (snapshots keep them over a restart), and a truncation
    // never goes below it. Aborted ones are also known from the transaction index.
    const aborted = this.#aborted.map(({ producerId, firstOffset, lastOffset }) => ({ producerId, firstOffset, markerOffset: lastOffset }));
    for (const ended of [...this.#completing, ...aborted]) {
      if (ended.markerOffset < offset || ended.firstOffset >= offset) continue;
      const entry = this.#producers.get(ended.producerId);
      if (entry !== undefined && (entry.currentTxnFirstOffset < 0 || entry.currentTxnFirstOffset > ended.firstOffset)) entry.currentTxnFirstOffset = ended.firstOffset;
    }
    this.#aborted = this.#aborted.filter((aborted) => aborted.lastOffset < offset);
    this.#completing = this.#completing.filter((ended) => ended.markerOffset < offset);
  }
}

function checkSequence(producerId: number, epoch: number, firstSequence: number, lastSequence: number, entry: ProducerEntry | undefined): DuplicateBatch | undefined {
  if (entry === undefined) {
    // Kafka's leader: an unknown producer may start only at sequence 0; anything else means its
    // state was lost (expired, or its batches left the log), which the client must resolve.
    if (firstSequence !== 0) throw new KafkaError(ErrorCode.UNKNOWN_PRODUCER_ID, `unknown producer ${producerId} at sequence ${firstSequence}`);
    return undefined;
  }
  if (epoch > entry.producerEpoch) {
    if (firstSequence !== 0) throw new KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `producer ${producerId} new epoch ${epoch} must start at sequence 0, got ${firstSequence}`);
    return undefined;
  }
  const duplicate = entry.batches.find((known) => known.firstSequence === firstSequence && known.lastSequence === lastSequence);
  if (duplicate !== undefined) return { baseOffset: duplicate.firstOffset, lastOffset: duplicate.lastOffset };
  const last = entry.batches.at(-1);
  // A producer known only from a marker or a coordinator write has no sequence to follow yet.
  if (last === undefined) return undefined;
  if (firstSequence !== addSequence(last.lastSequence, 1)) {
    throw new KafkaError(
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      `producer ${producerId} epoch ${epoch}: sequence ${firstSequence} does not follow ${last.lastSequence}`,
    );
  }
  return undefined;
}

/** Sequences wrap from 2^31-1 to 0, as Kafka's DefaultRecordBatch.incrementSequence. */
function addSequence(sequence: number, increment: number): number {
  return sequence > SEQUENCE_MAX - increment ? increment - (SEQUENCE_MAX - sequence) - 1 : sequence + increment;
}

function readMarker(batch: Buffer): { type: number; coordinatorEpoch: number } {
  const record = decodeRecordBatchSync(batch, 0, { verifyCrc: false }).records[0];
  if (record === undefined || record.key === null || record.key.length < 4) return { type: ControlRecordType.abort, coordinatorEpoch: -1 };
  const type = record.key.readInt16BE(2);
  const coordinatorEpoch = record.value !== null && record.value.length >= 6 ? record.value.readInt32BE(2) : -1;
  return { type, coordinatorEpoch };
}
