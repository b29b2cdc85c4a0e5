// One partition replica hosted by this broker: its log, its role (leader or follower) and leader
// epoch, and the high watermark. As leader it keeps each follower's log end (from their fetches)
// and moves the high watermark to the lowest log end in the ISR; as follower it takes the high
// watermark the leader reports, capped at its own log end. A partition whose ISR is its leader
// alone (every single node) commits what it writes at once: one code path.
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

/** What the leader knows of one follower, from its fetches. */
export interface FollowerPosition {
  /** Its log end offset as its last fetch said (-1: it has not fetched since this replica led). */
  logEndOffset: number;
  /** When it was last caught up with the leader's log end (replica.lag.time.max.ms). */
  lastCaughtUpMs: number;
  lastFetchMs: number;
  /** The leader's log end when this follower last fetched (-1: not since this replica led). */
  leaderEndAtLastFetch: number;
  /** The follower's broker epoch (its incarnation) when it last fetched, as this broker knew it (-1: unknown). */
  brokerEpoch: number;
}

/** The partition's replicas as the metadata image assigns them. */
export interface ReplicaAssignment {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /**
   * The topic's effective min.insync.replicas (capped at its replica count; 1 if absent): as
   * leader, the high watermark moves only while the ISR has at least this many members (Kafka
   * 4's "strict min ISR", which makes a replica that left a smaller ISR an eligible leader, KIP-966).
   */
  readonly minIsr?: number;
}

const UNASSIGNED: ReplicaAssignment = { leaderId: -1, leaderEpoch: -1, partitionEpoch: -1, replicas: [], isr: [] };

export class Partition {
  /** Bytes ever appended to this replica: replica fetches waiting for data compare it. */
  appendedBytes = 0;
  /** Bytes that became readable by consumers (below the high watermark): consumer fetches compare it. */
  committedBytes = 0;
  /** Batches appended as leader and not yet below the high watermark, oldest first. */
  readonly #uncommitted: { lastOffset: number; size: number }[] = [];
  readonly followers = new Map<number, FollowerPosition>();
  /** Nothing until the first `assign`, which is then a change of role like any other. */
  #assignment: ReplicaAssignment = UNASSIGNED;
  /** As leader, the log end when this replica became leader of its current epoch; -1 otherwise. */
  #leaderEpochStartOffset = -1;

  constructor(
    readonly topic: string,
    readonly partitionIndex: number,
    readonly topicId: string,
    readonly log: PartitionLog,
    readonly localBrokerId: number,
  ) {}

  get assignment(): ReplicaAssignment {
    return this.#assignment;
  }

  get leaderEpoch(): number {
    return this.#assignment.leaderEpoch;
  }

  get isLeader(): boolean {
    return this.#assignment.leaderId === this.localBrokerId;
  }

  get isr(): readonly number[] {
    return this.#assignment.isr;
  }

  /**
   * Takes the image's assignment. Becoming leader (or a new epoch of it) starts the followers'
   * positions afresh; the ISR may change within one leader epoch (AlterPartition, fencing).
   */
  assign(assignment: ReplicaAssignment, nowMs: number): void {
    const newLeadership = assignment.leaderId === this.localBrokerId && (!this.isLeader || assignment.leaderEpoch !== this.leaderEpoch);
    const removed = this.#assignment.isr.filter((member) => !assignment.isr.includes(member));
    this.#assignment = assignment;
    if (!this.isLeader) {
      this.followers.clear();
      this.#uncommitted.length = 0;
      this.#leaderEpochStartOffset = -1;
      return;
    }
    if (newLeadership) {
      this.followers.clear();
      this.#uncommitted.length = 0;
      // Everything below it may have been acknowledged by the previous leader (KIP-207).
      this.#leaderEpochStartOffset = this.log.logEndOffset;
      // Whatever this replica holds above the high watermark is not committed until the ISR has it.
      if (this.log.logEndOffset > this.log.highWatermark) this.#uncommitted.push({ lastOffset: this.log.logEndOffset - 1, size: 0 });
    }
    for (const replica of assignment.replicas) {
      if (replica !== this.localBrokerId && !this.followers.has(replica)) this.followers.set(replica, { logEndOffset: -1, lastCaughtUpMs: newLeadership ? nowMs : 0, lastFetchMs: 0, leaderEndAtLastFetch: -1, brokerEpoch: -1 });
    }
    for (const replica of this.followers.keys()) if (!assignment.replicas.includes(replica)) this.followers.delete(replica);
    // a member that left the ISR is known again only from its next fetch.
    for (const replica of removed) {
      const position = this.followers.get(replica);
      if (position) position.logEndOffset = -1;
    }
    this.maybeAdvanceHighWatermark();
  }

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

  /** As leader, the log end offset when it became leader of the current epoch; -1 when not leader. */
  get leaderEpochStartOffset(): number {
    return this.#leaderEpochStartOffset;
  }

  /**
   * As leader, whether the high watermark is still below the epoch's start offset: a new leader
   * learns the high watermark from follower fetches, so until then it may lag what the previous
   * leader already committed and acknowledged, and offsets taken from it would go back (KIP-207).
   */
  get highWatermarkBehindEpochStart(): boolean {
    return this.isLeader && this.#leaderEpochStartOffset > this.log.highWatermark;
  }

  /** Appends one validated batch as leader; offsets are assigned synchronously, in call order. */
  async append(batch: Buffer, appendTimeMs: number): Promise<AppendResult> {
    const size = batch.length;
    const result = await this.log.append(batch, { leaderEpoch: this.leaderEpoch, appendTimeMs });
    this.appendedBytes += size;
    if (result.lastOffset >= this.log.highWatermark) this.#uncommitted.push({ lastOffset: result.lastOffset, size });
    this.maybeAdvanceHighWatermark();
    return result;
  }

  /** Appends batches fetched from the leader (as follower), then takes the leader's high watermark. */
  async appendAsFollower(batches: readonly Buffer[], leaderHighWatermark: number, leaderLogStartOffset: number): Promise<void> {
    // Offsets are checked and taken at the call, so the batches are written as one group.
    await Promise.all(batches.map((batch) => this.log.appendAsFollower(batch)));
    for (const batch of batches) this.appendedBytes += batch.length;
    if (leaderLogStartOffset > this.log.logStartOffset && leaderLogStartOffset <= this.log.logEndOffset) this.log.maybeIncrementLogStartOffset(leaderLogStartOffset);
    this.#setHighWatermark(Math.min(leaderHighWatermark, this.log.logEndOffset), 0);
  }

  /**
   * A follower fetched at `fetchOffset` (its log end), as incarnation `brokerEpoch`: the leader
   * records it, counts it caught up when it reached the leader's log end, and moves the high
   * watermark. Returns whether it moved.
   */
  updateFollower(brokerId: number, fetchOffset: number, nowMs: number, brokerEpoch = -1): boolean {
    const position = this.followers.get(brokerId);
    if (!position) return false;
    position.brokerEpoch = brokerEpoch;
    // Kafka's rule: caught up now if it reached the log end, or as of its previous fetch if it
    // reached the log end of that moment (under steady appends it never reaches the moving end).
    const leaderEnd = this.log.logEndOffset;
    if (fetchOffset >= leaderEnd) position.lastCaughtUpMs = Math.max(position.lastCaughtUpMs, nowMs);
    else if (position.leaderEndAtLastFetch >= 0 && fetchOffset >= position.leaderEndAtLastFetch) position.lastCaughtUpMs = Math.max(position.lastCaughtUpMs, position.lastFetchMs);
    position.logEndOffset = fetchOffset;
    position.lastFetchMs = nowMs;
    position.leaderEndAtLastFetch = leaderEnd;
    return this.maybeAdvanceHighWatermark();
  }

  /**
   * As leader, where a follower fetching at `fetchOffset` after epoch `lastFetchedEpoch` diverges
   * from this log (KIP-320): the epoch and end offset to truncate to, or undefined when its log is
   * a prefix of this one.
   */
  divergence(lastFetchedEpoch: number, fetchOffset: number): { epoch: number; endOffset: number } | undefined {
    if (lastFetchedEpoch < 0) return undefined;
    const end = this.log.leaderEpochCache.endOffsetFor(lastFetchedEpoch);
    return end.epoch < lastFetchedEpoch || end.endOffset < fetchOffset ? { epoch: end.epoch, endOffset: end.endOffset } : undefined;
  }

  /** As leader: the high watermark becomes the lowest log end in the ISR (if the ISR is at min ISR), never moving back. */
  maybeAdvanceHighWatermark(): boolean {
    if (!this.isLeader || this.#assignment.isr.length < (this.#assignment.minIsr ?? 1)) return false;
    let lowest = this.log.logEndOffset;
    for (const member of this.#assignment.isr) {
      if (member === this.localBrokerId) continue;
      const position = this.followers.get(member);
      lowest = Math.min(lowest, position ? position.logEndOffset : -1);
    }
    if (lowest <= this.log.highWatermark) return false;
    let committed = 0;
    while (this.#uncommitted.length > 0 && this.#uncommitted[0]!.lastOffset < lowest) committed += this.#uncommitted.shift()!.size;
    this.#setHighWatermark(lowest, committed);
    return true;
  }

  #setHighWatermark(offset: number, committedBytes: number): void {
    if (offset <= this.log.highWatermark) return;
    this.log.updateHighWatermark(offset);
    // A follower's consumers do not read from it; the count still moves for anything waiting.
    this.committedBytes += committedBytes > 0 ? committedBytes : 1;
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
