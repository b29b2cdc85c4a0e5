// One partition replica hosted by this broker: its log, its leader epoch and the high watermark.
// On a single node the leader is the only in-sync replica, so the high watermark follows the log
// end as soon as a write completes; the follower fetcher and ISR tracking join here later.
import { ErrorCode } from '../base/error-codes.js';
import type { AppendResult, OffsetAndTimestamp, PartitionLog } from '../log/partition-log.js';
import { decodeRecordBatchSync } from '../protocol/records/record-batch.js';

/** One idempotent or transactional producer this partition remembers (DescribeProducers). */
export interface ActiveProducer {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** The last sequence number written, or -1 when none (a producer known only from a marker). */
  readonly lastSequence: number;
  readonly lastTimestampMs: number;
  readonly coordinatorEpoch: number;
  /** First offset of the producer's open transaction in this partition, or -1. */
  readonly currentTxnStartOffset: number;
}

/** Decompressed bytes one batch may expand to while looking up a record by timestamp. */
const LOOKUP_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

export class Partition {
  /** Bytes ever appended through this broker: delayed fetches compare it to decide when to wake. */
  appendedBytes = 0;

  constructor(
    readonly topic: string,
    readonly partitionIndex: number,
    readonly topicId: string,
    readonly log: PartitionLog,
    public leaderEpoch: number,
  ) {}

  get key(): string {
    return partitionKey(this.topic, this.partitionIndex);
  }

  /**
   * Kafka's check of a request's CurrentLeaderEpoch against this replica's: -1 skips it, an older
   * epoch is fenced, a newer one is not known here yet.
   */
  leaderEpochError(requestedEpoch: number): number {
    if (requestedEpoch === -1 || requestedEpoch === this.leaderEpoch) return ErrorCode.NONE;
    return requestedEpoch < this.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH;
  }

  get highWatermark(): number {
    return this.log.highWatermark;
  }

  /** Appends one validated batch; offsets are assigned synchronously, in call order. */
  async append(batch: Buffer, appendTimeMs: number): Promise<AppendResult> {
    const result = await this.log.append(batch, { leaderEpoch: this.leaderEpoch, appendTimeMs });
    this.appendedBytes += batch.length;
    // A single replica is the whole ISR: what is written is committed.
    if (this.log.logEndOffset > this.log.highWatermark) this.log.updateHighWatermark(this.log.logEndOffset);
    return result;
  }

  /** The producers whose state the log keeps, by producer id. */
  activeProducers(): ActiveProducer[] {
    return [...this.log.producerState.producers()]
      .map((entry) => ({
        producerId: entry.producerId,
        producerEpoch: entry.producerEpoch,
        lastSequence: entry.batches.at(-1)?.lastSequence ?? -1,
        lastTimestampMs: entry.lastTimestampMs,
        coordinatorEpoch: entry.coordinatorEpoch,
        currentTxnStartOffset: entry.currentTxnFirstOffset,
      }))
      .sort((a, b) => a.producerId - b.producerId);
  }

  /**
   * The first record whose timestamp is at or after `timestampMs` (ListOffsets by time). The log's
   * time index finds the batch; decoding that batch finds the record, as Kafka returns it.
   */
  async offsetForTimestamp(timestampMs: number): Promise<OffsetAndTimestamp | null> {
    const found = await this.log.offsetForTimestamp(timestampMs);
    if (!found) return null;
    return (await this.findRecord(found.offset, (timestamp) => timestamp >= timestampMs)) ?? found;
  }

  /** The record with the largest timestamp (ListOffsets MAX_TIMESTAMP), the first if several tie. */
  async maxTimestampOffset(): Promise<OffsetAndTimestamp | null> {
    const found = await this.log.maxTimestampOffset();
    if (!found) return null;
    return (await this.findRecord(found.offset, (timestamp) => timestamp === found.timestamp)) ?? found;
  }

  private async findRecord(batchOffset: number, matches: (timestamp: number) => boolean): Promise<OffsetAndTimestamp | undefined> {
    const read = await this.log.read(batchOffset, { maxBytes: 1, maxOffset: this.log.highWatermark, minOneBatch: true });
    const batch = read.chunks[0];
    if (!batch) return undefined;
    for (const record of decodeRecordBatchSync(batch, 0, { maxDecompressedBytes: LOOKUP_MAX_DECOMPRESSED_BYTES }).records) {
      if (record.offset >= this.log.logStartOffset && matches(record.timestamp)) return { offset: record.offset, timestamp: record.timestamp };
    }
    return undefined;
  }
}

/** The key of a partition in maps and delayed-operation watch lists. */
export function partitionKey(topic: string, partitionIndex: number): string {
  return `${topic}\u0000${partitionIndex}`;
}
