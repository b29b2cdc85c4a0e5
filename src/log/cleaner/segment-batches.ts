// Whole record batches of one segment, read in bounded chunks for the cleaner: memory stays at
// one read buffer however large the segment, and a batch larger than the buffer is read alone.
import { BATCH_HEADER_BYTES, batchSize } from '../../protocol/records/batch-header.js';
import { CLEANER_READ_BUFFER_BYTES } from '../log-limits.js';
import type { Segment } from '../segment.js';

export interface SegmentBatch {
  /** A view of exactly one batch; valid until the next iteration step. */
  readonly batch: Buffer;
  readonly position: number;
}

/** Yields each whole batch of `segment` in file order; stops at a torn tail, as a read would. */
export async function* segmentBatches(segment: Segment, readBufferBytes = CLEANER_READ_BUFFER_BYTES): AsyncGenerator<SegmentBatch> {
  const fileBytes = segment.size;
  let position = 0;
  while (position < fileBytes) {
    const chunk = await segment.readAt(position, Math.min(readBufferBytes, fileBytes - position));
    let offset = 0;
    while (chunk.length - offset >= BATCH_HEADER_BYTES) {
      const size = batchSize(chunk, offset);
      if (size < BATCH_HEADER_BYTES) return;
      if (offset + size > chunk.length) break;
      yield { batch: chunk.subarray(offset, offset + size), position: position + offset };
      offset += size;
    }
    if (offset === 0) {
      const whole = await readWholeBatch(segment, position, fileBytes);
      if (whole === undefined) return;
      yield { batch: whole, position };
      offset = whole.length;
    }
    position += offset;
  }
}

/** The batch at `position` when it is larger than the read buffer. */
async function readWholeBatch(segment: Segment, position: number, fileBytes: number): Promise<Buffer | undefined> {
  const header = await segment.readAt(position, BATCH_HEADER_BYTES);
  if (header.length < BATCH_HEADER_BYTES) return undefined;
  const size = batchSize(header, 0);
  if (size < BATCH_HEADER_BYTES || position + size > fileBytes) return undefined;
  const batch = await segment.readAt(position, size);
  return batch.length === size ? batch : undefined;
}
