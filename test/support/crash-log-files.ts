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

/**
 * Checks every segment of every partition directory under `dataDir`. The broker may be running:
 * a file it renames or deletes meanwhile (a checkpoint's temporary file, a segment retention
 * removes) is skipped, not reported.
 */
export async function checkAllSegments(dataDir: string): Promise<SegmentCheck[]> {
  const results: SegmentCheck[] = [];
  for (const entry of (await readdir(dataDir)).sort()) {
    const dir = join(dataDir, entry);
    const isDirectory = await unlessVanished(async () => (await stat(dir)).isDirectory());
    if (!isDirectory) continue;
    const files = (await unlessVanished(() => readdir(dir))) ?? [];
    for (const file of files.filter((name) => name.endsWith('.log')).sort()) {
      const checked = await unlessVanished(() => checkSegmentFile(join(dir, file)));
      if (checked) results.push(checked);
    }
  }
  return results;
}

async function unlessVanished<T>(action: () => Promise<T>): Promise<T | undefined> {
  try {
    return await action();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
