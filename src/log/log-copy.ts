// Copies a partition log into another log (a "future" log in another log directory, for
// AlterReplicaLogDirs) while the source keeps serving, as Kafka's ReplicaAlterLogDirsThread does
// for its future replicas: batches are read through the source's read path and appended to the
// copy as a follower appends (producer state, transaction index and leader epochs rebuilt from the
// batches), round after round. The source may change meanwhile: retention or DeleteRecords moving
// its start past the copy's end, or a truncation of records the copy already has (a follower's
// leader changed): the copy then starts again from the source's start.
import { isKafkaError } from '../base/kafka-error.js';
import { ErrorCode } from '../base/error-codes.js';
import { readBaseOffset, readLastOffset } from '../protocol/records/batch-header.js';
import type { PartitionLog } from './partition-log.js';

/** How much one round reads from the source. */
const COPY_READ_BYTES = 1 << 20;

/**
 * Appends to `copy` every batch of `source` below `upTo()` (a batch boundary: the source's high
 * watermark while it serves, its log end once sealed), until the copy has caught up with it.
 * `shouldStop` is asked between rounds (the move was given up).
 */
export async function catchUp(source: PartitionLog, copy: PartitionLog, upTo: () => number, shouldStop: () => boolean = () => false): Promise<void> {
  for (;;) {
    if (shouldStop()) throw new Error(`the copy of ${source.topic}-${source.partition} was stopped`);
    if (source.logStartOffset > copy.logEndOffset || hasDiverged(source, copy)) {
      await copy.truncateFullyAndStartAt(source.logStartOffset);
      continue;
    }
    const end = upTo();
    if (copy.logEndOffset >= end) return;
    let chunks: Buffer[];
    try {
      chunks = (await source.read(copy.logEndOffset, { maxBytes: COPY_READ_BYTES, maxOffset: end, minOneBatch: true })).chunks;
    } catch (error) {
      // Retention took the segment being read: the next round starts again from the new start.
      if (isKafkaError(error) && error.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) continue;
      throw error;
    }
    const next = copy.logEndOffset;
    const batches = chunks.filter((chunk) => readLastOffset(chunk) >= next);
    if (batches.length === 0) continue;
    if (readBaseOffset(batches[0]!) < next) {
      // A batch across the copy's end: the source was rewritten under it (compaction never moves
      // batch boundaries, so this is a truncation and new appends): start again.
      await copy.truncateFullyAndStartAt(source.logStartOffset);
      continue;
    }
    await Promise.all(batches.map((batch) => copy.appendAsFollower(batch)));
  }
}

/**
 * Whether the source no longer has what the copy has: the copy's last leader epoch ends earlier
 * in the source than the copy does (the source truncated it), as a follower finds its divergence.
 */
function hasDiverged(source: PartitionLog, copy: PartitionLog): boolean {
  const epoch = copy.leaderEpochCache.latestEpoch;
  if (epoch < 0) return source.logEndOffset < copy.logEndOffset;
  const end = source.leaderEpochCache.endOffsetFor(epoch);
  return end.epoch !== epoch || end.endOffset < copy.logEndOffset;
}

/**
 * What the copy takes from a sealed source beyond its batches: leader epochs that wrote nothing
 * yet (a leader's epoch begun at the log end), the high watermark and the log start offset.
 */
export function carryOver(source: PartitionLog, copy: PartitionLog): void {
  for (const entry of source.leaderEpochCache.entries) copy.leaderEpochCache.assign(entry.epoch, entry.startOffset);
  copy.updateHighWatermark(source.highWatermark);
  copy.maybeIncrementLogStartOffset(source.logStartOffset);
}
