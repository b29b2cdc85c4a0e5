// Crash recovery for one segment: validate every batch (header sanity, increasing offsets, CRC),
// truncate at the first torn or corrupt batch with a warning naming file, position and reason,
// and rebuild the offset and time indexes from the batches that survive.
import type { Logger } from '../base/logger.js';
import { BATCH_HEADER_BYTES, hasValidCrc, readPartitionLeaderEpoch } from '../protocol/records/batch-header.js';
import { type BatchHeaderInfo, checkBatchHeader } from './batch-scanner.js';
import { RECOVERY_CHUNK_BYTES } from './log-limits.js';
import { RELATIVE_OFFSET_MAX, type Segment } from './segment.js';

export interface SegmentRecoveryOutcome {
  /** Bytes of valid batches kept. */
  readonly validBytes: number;
  /** Bytes cut off the end of the file. */
  readonly truncatedBytes: number;
  /** Why the file was cut, if it was. */
  readonly problem: string | undefined;
}

/** Called for each valid batch, in order, with the leader epoch stamped in it. */
export type RecoveredBatchVisitor = (header: BatchHeaderInfo, partitionLeaderEpoch: number) => void;

export async function recoverSegment(segment: Segment, logger: Logger, visit: RecoveredBatchVisitor = () => {}): Promise<SegmentRecoveryOutcome> {
  const fileBytes = await segment.fileSize();
  segment.resetForRebuild();
  let position = 0;
  let previousLastOffset = segment.baseOffset - 1;
  let problem: string | undefined;
  scan: while (position < fileBytes) {
    const chunk = await segment.readAt(position, Math.min(RECOVERY_CHUNK_BYTES, fileBytes - position));
    let offset = 0;
    while (position + offset < fileBytes) {
      const left = chunk.length - offset;
      const moreInFile = position + offset + left < fileBytes;
      // Refill from this header when the chunk ends inside it (a header cut at offset 0 is torn).
      if (left < BATCH_HEADER_BYTES && moreInFile && offset > 0) break;
      const header = checkBatchHeader(chunk, offset, position, fileBytes);
      if (typeof header === 'string') {
        problem = header;
        position += offset;
        break scan;
      }
      const holder = header.size <= left ? { buffer: chunk, offset } : offset > 0 ? undefined : await wholeBatch(segment, header);
      if (holder === undefined) break;
      problem = checkBatch(holder.buffer, holder.offset, header, segment.baseOffset, previousLastOffset);
      if (problem !== undefined) {
        position += offset;
        break scan;
      }
      segment.indexBatch(header);
      visit(header, readPartitionLeaderEpoch(holder.buffer, holder.offset));
      previousLastOffset = header.lastOffset;
      offset += header.size;
    }
    position += offset;
  }
  const validBytes = Math.min(position, fileBytes);
  if (problem !== undefined) {
    logger.warn('truncating log segment at a torn or corrupt batch', { file: segment.logPath, position: validBytes, reason: problem, droppedBytes: fileBytes - validBytes });
  }
  await segment.finishRecovery(validBytes, fileBytes);
  return { validBytes, truncatedBytes: fileBytes - validBytes, problem };
}

async function wholeBatch(segment: Segment, header: BatchHeaderInfo): Promise<{ buffer: Buffer; offset: number }> {
  return { buffer: await segment.readAt(header.position, header.size), offset: 0 };
}

/** Checks what the header scan cannot: offsets increase and fit the index, and the CRC matches. */
function checkBatch(buffer: Buffer, offset: number, header: BatchHeaderInfo, baseOffset: number, previousLastOffset: number): string | undefined {
  if (buffer.length - offset < header.size) return `batch cut short: ${buffer.length - offset} of ${header.size} bytes`;
  if (header.baseOffset <= previousLastOffset) return `base offset ${header.baseOffset} not after ${previousLastOffset}`;
  if (header.lastOffset - baseOffset > RELATIVE_OFFSET_MAX) return `offset ${header.lastOffset} too far from segment base ${baseOffset}`;
  if (!hasValidCrc(buffer, offset)) return `CRC mismatch in batch at offset ${header.baseOffset}`;
  return undefined;
}
