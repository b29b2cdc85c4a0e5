// The Raft log over a partition log (__cluster_metadata-0 in the node's data dir): the same
// segments, indexes, recovery and leader-epoch checkpoint as every other partition. It keeps an
// in-memory list of its batches (offsets, epoch, CRC), which a metadata log's size affords, so
// divergence checks and simulation invariants never read the disk.
import { assert } from '../base/assert.js';
import type { PartitionLog } from '../log/partition-log.js';
import { batchSize, isControlBatch, readBaseOffset, readLastOffset, readPartitionLeaderEpoch, readStoredCrc } from '../protocol/records/batch-header.js';
import { decodeControlRecordType } from '../protocol/records/control-record.js';
import type { RecordInput } from '../protocol/records/record.js';
import { buildRecordBatchSync, decodeRecordBatchSync, recordBatchSpans } from '../protocol/records/record-batch.js';
import type { OffsetAndEpoch, RaftBatchInfo, RaftLog } from './raft-log.js';
import { decodeVotersRecord, VOTERS_CONTROL_TYPE, VoterHistory } from './voter-set.js';

/** Bytes read per step while indexing the log at start-up. */
const INDEX_READ_BYTES = 4 * 1024 * 1024;

export class PartitionRaftLog implements RaftLog {
  #batches: RaftBatchInfo[] = [];
  #flushedEndOffset: number;
  /** The snapshot the log starts from ({0, 0}: none, the log starts at the beginning). */
  #base: OffsetAndEpoch = { offset: 0, epoch: 0 };
  /** Whether open found the log behind or off its newest snapshot and emptied it. */
  resetAtOpen = false;
  /** The voter sets the log's VotersRecords name, in log order. */
  readonly voterHistory = new VoterHistory();

  private constructor(private readonly log: PartitionLog) {
    this.#flushedEndOffset = log.recoveryPoint;
  }

  /**
   * Opens the log, indexing its batches (after recovery everything in the log is as on disk). With
   * `snapshot` (the newest snapshot on disk), the log starts where it ends: batches below it are
   * dropped, and a log that does not reach it, or holds another epoch's batch just below its end
   * (an uncommitted tail that a fetched snapshot replaced), is emptied to continue from it.
   */
  static async open(log: PartitionLog, snapshot?: OffsetAndEpoch): Promise<PartitionRaftLog> {
    const raftLog = new PartitionRaftLog(log);
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const bytes = await raftLog.read(offset, INDEX_READ_BYTES);
      if (bytes.length === 0) break;
      for (const info of batchInfos(bytes)) {
        if (info.lastOffset >= offset) raftLog.#batches.push(info);
        offset = info.lastOffset + 1;
      }
      raftLog.#indexVoters(bytes, raftLog.#batches.at(-1)?.lastOffset ?? -1);
    }
    // Everything recovered from disk is as durable as the recovery found it; flush once (if the
    // recovery point is behind) so it covers it and crash accounting starts from what the files hold.
    if (log.recoveryPoint < log.logEndOffset) await log.flush();
    raftLog.#flushedEndOffset = log.logEndOffset;
    if (snapshot && snapshot.offset > 0) {
      const last = raftLog.#batches.find((batch) => batch.lastOffset === snapshot.offset - 1);
      // A log whose start is the snapshot's end was checked against it when it was trimmed there.
      const matches = log.logStartOffset === snapshot.offset || (last !== undefined && last.epoch === snapshot.epoch);
      if (log.logEndOffset < snapshot.offset || !matches) {
        raftLog.resetAtOpen = true;
        await raftLog.resetTo(snapshot);
      } else await raftLog.deleteBefore(snapshot);
    }
    return raftLog;
  }

  get startOffset(): number {
    return this.log.logStartOffset;
  }

  get endOffset(): number {
    return this.log.nextOffset;
  }

  get flushedEndOffset(): number {
    return this.#flushedEndOffset;
  }

  get lastEpoch(): number {
    return this.#batches.at(-1)?.epoch ?? this.#base.epoch;
  }

  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    // Walk back to the last batch of an epoch at or below `epoch`; its epoch ends where the next
    // batch (of a later epoch) starts, or at the log end.
    for (let index = this.#batches.length - 1; index >= 0; index--) {
      const batch = this.#batches[index]!;
      if (batch.epoch <= epoch) return { epoch: batch.epoch, offset: batch.lastOffset + 1 };
    }
    // Below the batches held lies the snapshot the log starts from.
    if (this.#base.offset > 0 && this.#base.epoch <= epoch) return { epoch: this.#base.epoch, offset: this.#base.offset };
    return { epoch: -1, offset: -1 };
  }

  async appendAsLeader(records: readonly RecordInput[], epoch: number, control = false): Promise<RaftBatchInfo> {
    const now = records[0]?.timestamp ?? 0;
    const batch = buildRecordBatchSync(records, { baseTimestamp: now, partitionLeaderEpoch: epoch, control });
    const result = await this.log.append(batch, { leaderEpoch: epoch, appendTimeMs: now });
    const info = { baseOffset: result.baseOffset, lastOffset: result.lastOffset, epoch, crc: readStoredCrc(batch) };
    this.#batches.push(info);
    if (control) {
      records.forEach((record, index) => {
        if (record.key && record.value && decodeControlRecordType(record.key) === VOTERS_CONTROL_TYPE) this.voterHistory.add(result.baseOffset + index, decodeVotersRecord(record.value));
      });
    }
    return info;
  }

  async appendAsFollower(bytes: Buffer): Promise<void> {
    for (let position = 0; position < bytes.length; ) {
      const size = batchSize(bytes, position);
      const batch = bytes.subarray(position, position + size);
      position += size;
      const baseOffset = readBaseOffset(batch);
      assert(baseOffset === this.log.nextOffset, `follower append at ${baseOffset}, log ends at ${this.log.nextOffset}`);
      const epoch = readPartitionLeaderEpoch(batch);
      await this.log.append(Buffer.from(batch), { leaderEpoch: epoch, appendTimeMs: 0 });
      this.#batches.push({ baseOffset, lastOffset: readLastOffset(batch), epoch, crc: readStoredCrc(batch) });
      this.#indexVoters(batch, Number.MAX_SAFE_INTEGER);
    }
  }

  async truncateTo(offset: number): Promise<void> {
    await this.log.truncateTo(offset);
    // The partition log removes a batch straddling `offset` whole (a divergence offset from the
    // leader need not fall on this log's batch bounds): the list follows where the log now ends.
    const end = this.log.logEndOffset;
    while (this.#batches.length > 0 && this.#batches.at(-1)!.lastOffset >= end) this.#batches.pop();
    this.voterHistory.truncateFrom(end);
    this.#flushedEndOffset = Math.min(this.#flushedEndOffset, end);
  }

  async deleteBefore(snapshot: OffsetAndEpoch): Promise<void> {
    if (snapshot.offset <= this.#base.offset) return;
    assert(snapshot.offset <= this.#flushedEndOffset, `snapshot at ${snapshot.offset} is past the flushed end ${this.#flushedEndOffset}`);
    assert(snapshot.offset === this.log.logStartOffset || this.#batches.some((batch) => batch.lastOffset === snapshot.offset - 1), `snapshot at ${snapshot.offset} is not at a batch boundary`);
    this.log.updateHighWatermark(Math.max(this.log.highWatermark, snapshot.offset));
    this.log.maybeIncrementLogStartOffset(snapshot.offset);
    this.#base = snapshot;
    while (this.#batches.length > 0 && this.#batches[0]!.baseOffset < snapshot.offset) this.#batches.shift();
    this.voterHistory.trimBelow(snapshot.offset);
    // Whole segments below the new start go (the active one stays; Kafka also deletes by segment).
    await this.log.deleteExpiredSegments(0);
  }

  async resetTo(snapshot: OffsetAndEpoch): Promise<void> {
    await this.log.truncateFullyAndStartAt(snapshot.offset);
    await this.log.flush();
    this.#batches = [];
    this.#base = snapshot;
    this.#flushedEndOffset = snapshot.offset;
    // The snapshot's own voter set is put back by whoever installed it (it is in the snapshot).
    this.voterHistory.reset();
  }

  async flush(): Promise<void> {
    const end = this.log.nextOffset;
    await this.log.flush();
    this.#flushedEndOffset = Math.max(this.#flushedEndOffset, Math.min(end, this.log.logEndOffset));
  }

  async read(offset: number, maxBytes: number): Promise<Buffer> {
    const result = await this.log.read(offset, { maxBytes, maxOffset: this.log.logEndOffset, minOneBatch: true });
    if (result.chunks.length === 0) return Buffer.alloc(0);
    // The first chunk may start before `offset` only when a batch straddles it; Raft reads start at batch bounds.
    return result.chunks.length === 1 ? result.chunks[0]! : Buffer.concat(result.chunks, result.bytes);
  }

  /** Records the VotersRecords of the control batches in `bytes` up to offset `upTo`. */
  #indexVoters(bytes: Buffer, upTo: number): void {
    for (const span of recordBatchSpans(bytes)) {
      if (!isControlBatch(bytes, span.position) || readBaseOffset(bytes, span.position) > upTo) continue;
      if (this.voterHistory.latest() && this.voterHistory.latest()!.offset >= readBaseOffset(bytes, span.position)) continue;
      for (const record of decodeRecordBatchSync(bytes, span.position).records) {
        if (record.value && decodeControlRecordType(record.key) === VOTERS_CONTROL_TYPE) this.voterHistory.add(record.offset, decodeVotersRecord(record.value));
      }
    }
  }

  batches(): readonly RaftBatchInfo[] {
    return this.#batches;
  }

  close(): Promise<void> {
    return this.log.close();
  }
}

function batchInfos(bytes: Buffer): RaftBatchInfo[] {
  const infos: RaftBatchInfo[] = [];
  for (let position = 0; position + 12 <= bytes.length; ) {
    const size = batchSize(bytes, position);
    if (position + size > bytes.length) break;
    infos.push({
      baseOffset: readBaseOffset(bytes, position),
      lastOffset: readLastOffset(bytes, position),
      epoch: readPartitionLeaderEpoch(bytes, position),
      crc: readStoredCrc(bytes, position),
    });
    position += size;
  }
  return infos;
}
