// Which part of a compacted log the cleaner may clean now (Kafka's LogCleanerManager): from the
// first dirty offset (the cleaner checkpoint) up to the first uncleanable one (the active segment,
// the last stable offset, min.compaction.lag.ms), and whether the dirty ratio or
// max.compaction.lag.ms make it worth doing.
import type { PartitionLog } from '../partition-log.js';

export interface CleanableRange {
  /** Offsets below it were cleaned by an earlier pass. */
  readonly firstDirtyOffset: number;
  /** The cleaner stops before it. */
  readonly firstUncleanableOffset: number;
  readonly cleanBytes: number;
  readonly dirtyBytes: number;
  /** dirtyBytes / (cleanBytes + dirtyBytes), 0 for an empty log. */
  readonly dirtyRatio: number;
  /** The oldest dirty segment waited longer than max.compaction.lag.ms. */
  readonly maxCompactionLagExceeded: boolean;
}

/** Computes the range; `checkpointOffset` is the cleaner-offset-checkpoint entry, if any. */
export async function cleanableRange(log: PartitionLog, checkpointOffset: number | undefined, nowMs: number): Promise<CleanableRange> {
  const segments = log.segments();
  for (const segment of segments) await log.ensureLoaded(segment);
  const config = log.config;
  const active = segments.at(-1)!;
  // A checkpoint outside the log (truncation, deleted records) means: dirty from the start.
  const checkpointValid = checkpointOffset !== undefined && checkpointOffset >= log.logStartOffset && checkpointOffset <= log.logEndOffset;
  const firstDirtyOffset = checkpointValid ? checkpointOffset : log.logStartOffset;
  // Never past the last stable offset (at most the high watermark): an open transaction's records
  // stay as written until its outcome is known, as in Kafka.
  let firstUncleanableOffset = Math.min(active.baseOffset, log.producerState.lastStableOffset(log.highWatermark));
  const lagLimitMs = nowMs - config.minCompactionLagMs;
  const tooYoung = segments.find((segment) => segment !== active && segment.nextOffset > firstDirtyOffset && config.minCompactionLagMs > 0 && segment.largestTimestamp > lagLimitMs);
  if (tooYoung !== undefined) firstUncleanableOffset = Math.min(firstUncleanableOffset, tooYoung.baseOffset);
  firstUncleanableOffset = Math.max(firstUncleanableOffset, firstDirtyOffset);
  let cleanBytes = 0;
  let dirtyBytes = 0;
  let firstDirtySegment: (typeof segments)[number] | undefined;
  for (const segment of segments) {
    if (segment === active || segment.baseOffset >= firstUncleanableOffset) break;
    if (segment.nextOffset <= firstDirtyOffset) {
      cleanBytes += segment.size;
    } else if (segment.nextOffset <= firstUncleanableOffset) {
      dirtyBytes += segment.size;
      firstDirtySegment ??= segment;
    }
  }
  const total = cleanBytes + dirtyBytes;
  const firstDirtyTimestamp = firstDirtySegment === undefined ? -1 : await firstDirtySegment.rollingTimestamp();
  const maxCompactionLagExceeded =
    dirtyBytes > 0 && Number.isFinite(config.maxCompactionLagMs) && firstDirtyTimestamp >= 0 && nowMs - firstDirtyTimestamp > config.maxCompactionLagMs;
  return {
    firstDirtyOffset,
    firstUncleanableOffset,
    cleanBytes,
    dirtyBytes,
    dirtyRatio: total === 0 ? 0 : dirtyBytes / total,
    maxCompactionLagExceeded,
  };
}

/** Whether the range is worth cleaning by Kafka's rules (a due delete horizon aside). */
export function needsCleaning(range: CleanableRange, minCleanableDirtyRatio: number): boolean {
  if (range.dirtyBytes === 0) return false;
  return range.dirtyRatio >= minCleanableDirtyRatio || range.maxCompactionLagExceeded;
}
