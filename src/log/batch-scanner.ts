// Walks record batch headers in a segment file without decoding records: the sanity checks every
// header must pass (length, magic, offsets) and a chunked scan used to locate offsets and
// timestamps and to rediscover a segment's tail.
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  batchSize,
  readBaseOffset,
  readLastOffsetDelta,
  readMagic,
  readMaxTimestamp,
} from '../protocol/records/batch-header.js';
import { SCAN_CHUNK_BYTES } from './log-limits.js';

export interface BatchHeaderInfo {
  /** Byte position of the batch in its segment file. */
  readonly position: number;
  readonly size: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
}

/** Reads up to `length` bytes at `position` (fewer at end of file). */
export type ReadAt = (position: number, length: number) => Promise<Buffer>;

export const MIN_BATCH_BYTES = BATCH_HEADER_BYTES;

/**
 * Checks the header at `offset` in `buffer` (which holds the file from `bufferPosition`) for a
 * file of `fileBytes`. Returns the header facts, or a sentence saying what is wrong.
 */
export function checkBatchHeader(buffer: Buffer, offset: number, bufferPosition: number, fileBytes: number): BatchHeaderInfo | string {
  const position = bufferPosition + offset;
  if (fileBytes - position < BATCH_HEADER_BYTES || buffer.length - offset < BATCH_HEADER_BYTES) {
    return `torn batch header (${fileBytes - position} bytes left)`;
  }
  const size = batchSize(buffer, offset);
  if (size - BATCH_LOG_OVERHEAD < BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD) return `batch length ${size - BATCH_LOG_OVERHEAD} below the minimum`;
  if (position + size > fileBytes) return `torn batch: ${size} bytes declared, ${fileBytes - position} left`;
  const magic = readMagic(buffer, offset);
  if (magic !== 2) return `unsupported magic ${magic}`;
  const lastOffsetDelta = readLastOffsetDelta(buffer, offset);
  if (lastOffsetDelta < 0) return `negative last offset delta ${lastOffsetDelta}`;
  const baseOffset = readBaseOffset(buffer, offset);
  if (baseOffset < 0) return `negative base offset ${baseOffset}`;
  return {
    position,
    size,
    baseOffset,
    lastOffset: baseOffset + lastOffsetDelta,
    maxTimestamp: readMaxTimestamp(buffer, offset),
  };
}

export interface ScanOutcome {
  /** Position after the last header visited (or where the scan stopped). */
  readonly endPosition: number;
  /** Set when a header failed its checks at `endPosition`. */
  readonly problem?: string;
}

/**
 * Visits batch headers from `from` up to `fileBytes`, reading SCAN_CHUNK_BYTES at a time, until
 * `visit` returns true, the file ends, or a header fails its checks.
 */
export async function scanBatchHeaders(
  readAt: ReadAt,
  from: number,
  fileBytes: number,
  visit: (header: BatchHeaderInfo) => boolean | void,
): Promise<ScanOutcome> {
  let position = from;
  while (position < fileBytes) {
    const chunk = await readAt(position, Math.min(SCAN_CHUNK_BYTES, fileBytes - position));
    let offset = 0;
    for (;;) {
      if (position + offset >= fileBytes) return { endPosition: position + offset };
      if (chunk.length - offset < BATCH_HEADER_BYTES && chunk.length === SCAN_CHUNK_BYTES) break;
      const header = checkBatchHeader(chunk, offset, position, fileBytes);
      if (typeof header === 'string') return { endPosition: position + offset, problem: header };
      if (visit(header) === true) return { endPosition: header.position };
      offset += header.size;
      if (offset >= chunk.length) break;
    }
    position += offset;
  }
  return { endPosition: position };
}
