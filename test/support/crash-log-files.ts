// Reads a broker's log segments straight from disk, without the broker: every `.log` file under the
// data directory is walked batch by batch, checking sizes, CRC32C and increasing offsets.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD, batchSize, hasValidCrc, readBaseOffset, readLastOffset } from '../../src/protocol/records/batch-header.js';

export interface SegmentCheck {
  file: string;
  batches: number;
  bytes: number;
  /** Problems found, each naming the file position; empty when the segment is clean. */
  problems: string[];
  /** The last offset of the last batch, or -1 for an empty segment. */
  lastOffset: number;
}

/** Walks one segment file: every batch must be whole, carry a valid CRC and follow the previous one. */
export async function checkSegmentFile(file: string): Promise<SegmentCheck> {
  const bytes = await readFile(file);
  const problems: string[] = [];
  let position = 0;
  let batches = 0;
  let lastOffset = -1;
  while (position < bytes.length) {
    if (bytes.length - position < BATCH_LOG_OVERHEAD) {
      problems.push(`${bytes.length - position} stray bytes at ${position}`);
      break;
    }
    const size = batchSize(bytes, position);
    if (size < BATCH_HEADER_BYTES || position + size > bytes.length) {
      problems.push(`batch at ${position} claims ${size} bytes, ${bytes.length - position} remain`);
      break;
    }
    if (!hasValidCrc(bytes, position)) problems.push(`CRC mismatch in batch at ${position}`);
    const baseOffset = readBaseOffset(bytes, position);
    if (baseOffset <= lastOffset) problems.push(`batch at ${position} starts at offset ${baseOffset}, not after ${lastOffset}`);
    lastOffset = readLastOffset(bytes, position);
    batches += 1;
    position += size;
  }
  return { file, batches, bytes: bytes.length, problems, lastOffset };
}

/** Checks every segment of every partition directory under `dataDir`. */
export async function checkAllSegments(dataDir: string): Promise<SegmentCheck[]> {
  const results: SegmentCheck[] = [];
  for (const entry of (await readdir(dataDir)).sort()) {
    const dir = join(dataDir, entry);
    if (!(await stat(dir)).isDirectory()) continue;
    for (const file of (await readdir(dir)).filter((name) => name.endsWith('.log')).sort()) {
      results.push(await checkSegmentFile(join(dir, file)));
    }
  }
  return results;
}
