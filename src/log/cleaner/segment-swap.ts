// Recovery of a segment swap the cleaner did not finish (Kafka's swap-file handling at load). A
// `<base>.log.swap` is a complete, fsynced cleaned segment: it replaces every old segment whose
// base offset lies in [base, its next offset), which a crash may have left partly in place.
import { type FileSystem, isNotFoundError, joinPath, removeIfPresent } from '../../base/file-system.js';
import type { Logger } from '../../base/logger.js';
import { scanBatchHeaders } from '../batch-scanner.js';
import { INDEX_FILE_SUFFIX, LOG_FILE_SUFFIX, offsetFileName, parseOffsetFileName, SWAP_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX } from '../log-file-names.js';

const SEGMENT_FILE_KINDS = [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX];

/**
 * Completes every interrupted swap in `dir` (whose file names are `names`) and returns the names
 * afterwards. Leftover `.swap` indexes without a `.log.swap` stay for the caller to drop.
 */
export async function completeInterruptedSwaps(fs: FileSystem, dir: string, names: readonly string[], logger: Logger): Promise<string[]> {
  const swapBases = names
    .filter((name) => name.endsWith(SWAP_FILE_SUFFIX))
    .map((name) => parseOffsetFileName(name.slice(0, -SWAP_FILE_SUFFIX.length), LOG_FILE_SUFFIX))
    .filter((base): base is number => base !== undefined)
    .sort((a, b) => a - b);
  if (swapBases.length === 0) return [...names];
  for (const base of swapBases) await completeSwap(fs, dir, base, names, logger);
  await fs.syncDirectory(dir);
  return (await fs.readdir(dir)).filter((entry) => !entry.isDirectory).map((entry) => entry.name);
}

async function completeSwap(fs: FileSystem, dir: string, base: number, names: readonly string[], logger: Logger): Promise<void> {
  const swapPath = joinPath(dir, offsetFileName(base, LOG_FILE_SUFFIX) + SWAP_FILE_SUFFIX);
  const nextOffset = await nextOffsetOf(fs, swapPath, base);
  const replaced = oldSegmentBases(names, base, nextOffset);
  for (const oldBase of replaced) {
    for (const kind of SEGMENT_FILE_KINDS) await removeIfPresent(fs, joinPath(dir, offsetFileName(oldBase, kind)));
  }
  // Indexes first, the log last: the log's `.swap` name is what marks the swap as unfinished.
  for (const kind of [INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, LOG_FILE_SUFFIX]) {
    const from = joinPath(dir, offsetFileName(base, kind) + SWAP_FILE_SUFFIX);
    try {
      await fs.rename(from, joinPath(dir, offsetFileName(base, kind)));
    } catch (error) {
      if (!isNotFoundError(error) || kind === LOG_FILE_SUFFIX) throw error;
    }
  }
  logger.warn('completed an interrupted segment swap', { file: swapPath, replaced: replaced.join(','), nextOffset });
}

/** Base offsets of live segments the swap covers (its own base included). */
function oldSegmentBases(names: readonly string[], base: number, nextOffset: number): number[] {
  const bases = new Set<number>();
  for (const name of names) {
    for (const kind of SEGMENT_FILE_KINDS) {
      const candidate = parseOffsetFileName(name, kind);
      if (candidate !== undefined && candidate >= base && (candidate < nextOffset || candidate === base)) bases.add(candidate);
    }
  }
  return [...bases].sort((a, b) => a - b);
}

/** The offset after the swap file's last batch (its base offset if it holds none). */
async function nextOffsetOf(fs: FileSystem, path: string, base: number): Promise<number> {
  const handle = await fs.open(path, 'read');
  try {
    const size = await handle.size();
    let nextOffset = base;
    await scanBatchHeaders((position, length) => handle.read(position, length), 0, size, (header) => {
      nextOffset = Math.max(nextOffset, header.lastOffset + 1);
    });
    return nextOffset;
  } finally {
    await handle.close();
  }
}
