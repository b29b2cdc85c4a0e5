// The metadata log as Raft sees it (a port, DESIGN.md seam 3: quorum reaches the log through this,
// not through PartitionLog). Batches are Kafka record batches whose partitionLeaderEpoch is the
// Raft epoch that wrote them. A leader appends records; a follower appends the leader's batches
// as they are; either truncates a divergent tail. Only flushed batches count toward commitment:
// `flushedEndOffset` is what survives a crash, and it is what a node reports as its position.
import type { RecordInput } from '../protocol/records/record.js';
import type { VoterHistory } from './voter-set.js';

/** One batch of the log, described without its bytes (offsets inclusive). */
export interface RaftBatchInfo {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly epoch: number;
  /** The batch's stored CRC32C: two nodes hold the same batch when offsets, epoch and CRC match. */
  readonly crc: number;
}

export interface OffsetAndEpoch {
  readonly offset: number;
  readonly epoch: number;
}

export interface RaftLog {
  /** The first offset held: 0, or the end offset of the snapshot the log starts from. */
  readonly startOffset: number;
  /** The offset the next batch gets (written, flushed or not). */
  readonly endOffset: number;
  /** Offsets below it are durable. */
  readonly flushedEndOffset: number;
  /** The voter sets its VotersRecord control records name (KIP-853), in log order. */
  readonly voterHistory: VoterHistory;
  /** The epoch of the last batch; for a log without batches, that of the snapshot it starts from, or 0. */
  readonly lastEpoch: number;
  /**
   * The largest epoch at or below `epoch` held by this log and the offset where it ends (the start
   * of the next epoch, or the log end): the basis of divergence checks (KIP-595 diverging epoch).
   * `{ offset: -1, epoch: -1 }` when the log holds no epoch at or below `epoch`.
   */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch;
  /** Appends `records` as one batch of `epoch` (a control batch when `control`); resolves once written. */
  appendAsLeader(records: readonly RecordInput[], epoch: number, control?: boolean): Promise<RaftBatchInfo>;
  /** Appends batches fetched from the leader (each keeps its offsets and epoch); `bytes` starts at endOffset. */
  appendAsFollower(bytes: Buffer): Promise<void>;
  /** Removes every batch at or after `offset`, and a batch straddling it whole (the log then ends at its base offset). */
  truncateTo(offset: number): Promise<void>;
  /**
   * Drops the batches below the end of `snapshot` (which holds what they said); `snapshot` must end
   * at a batch boundary at or below the flushed end.
   */
  deleteBefore(snapshot: OffsetAndEpoch): Promise<void>;
  /** Drops every batch: the log continues from `snapshot` (a follower that fetched it from the leader). */
  resetTo(snapshot: OffsetAndEpoch): Promise<void>;
  /** Makes everything written durable. */
  flush(): Promise<void>;
  /** Whole batches from `offset`, up to about `maxBytes` (at least one batch), or an empty buffer. */
  read(offset: number, maxBytes: number): Promise<Buffer>;
  /** The batches held, oldest first (for checks and tools; metadata logs are small). */
  batches(): readonly RaftBatchInfo[];
  close(): Promise<void>;
}
