// The aborted-transaction index: one `<20-digit base offset>.txnindex` file per segment, in Kafka's
// entry format (version int16, producerId int64, firstOffset int64, lastOffset int64,
// lastStableOffset int64), listing the transactions whose abort marker lies in that segment. Fetch
// under read_committed returns the ones overlapping the fetched range so clients drop their data.
import { type FileSystem, joinPath, removeIfPresent, writeFileAtomically } from '../base/file-system.js';
import { offsetFileName, parseOffsetFileName } from './log-file-names.js';

export const TXN_INDEX_FILE_SUFFIX = '.txnindex';
const ENTRY_VERSION = 0;
const ENTRY_BYTES = 34;

export interface AbortedTransaction {
  readonly producerId: number;
  readonly firstOffset: number;
  /** The offset of the abort marker. */
  readonly lastOffset: number;
  /** The last stable offset when the marker was written (kept for Kafka's file format). */
  readonly lastStableOffset: number;
}

export function encodeTransactionIndex(entries: readonly AbortedTransaction[]): Buffer {
  const buffer = Buffer.alloc(entries.length * ENTRY_BYTES);
  entries.forEach((entry, index) => {
    const at = index * ENTRY_BYTES;
    buffer.writeInt16BE(ENTRY_VERSION, at);
    buffer.writeBigInt64BE(BigInt(entry.producerId), at + 2);
    buffer.writeBigInt64BE(BigInt(entry.firstOffset), at + 10);
    buffer.writeBigInt64BE(BigInt(entry.lastOffset), at + 18);
    buffer.writeBigInt64BE(BigInt(entry.lastStableOffset), at + 26);
  });
  return buffer;
}

/** The entries of a transaction index file; a torn last entry (a crash mid-write) is dropped. */
export function decodeTransactionIndex(buffer: Buffer): AbortedTransaction[] {
  const entries: AbortedTransaction[] = [];
  for (let at = 0; at + ENTRY_BYTES <= buffer.length; at += ENTRY_BYTES) {
    if (buffer.readInt16BE(at) !== ENTRY_VERSION) throw new Error(`unknown transaction index entry version ${buffer.readInt16BE(at)}`);
    entries.push({
      producerId: Number(buffer.readBigInt64BE(at + 2)),
      firstOffset: Number(buffer.readBigInt64BE(at + 10)),
      lastOffset: Number(buffer.readBigInt64BE(at + 18)),
      lastStableOffset: Number(buffer.readBigInt64BE(at + 26)),
    });
  }
  return entries;
}

/** Base offset of the last segment holding `offset`: the segment whose index lists the entry. */
function segmentFor(offset: number, segmentBaseOffsets: readonly number[]): number {
  let found = segmentBaseOffsets[0] ?? 0;
  for (const base of segmentBaseOffsets) if (base <= offset) found = base;
  return found;
}

/**
 * Writes each segment's `.txnindex` (entries grouped by the segment holding their marker) and
 * removes index files of segments that no longer exist or no longer have aborted transactions.
 */
export async function writeTransactionIndexes(fs: FileSystem, dir: string, segmentBaseOffsets: readonly number[], entries: readonly AbortedTransaction[]): Promise<void> {
  const bySegment = new Map<number, AbortedTransaction[]>();
  for (const entry of entries) {
    const base = segmentFor(entry.lastOffset, segmentBaseOffsets);
    let list = bySegment.get(base);
    if (list === undefined) bySegment.set(base, (list = []));
    list.push(entry);
  }
  for (const base of await listTransactionIndexes(fs, dir)) {
    if (!bySegment.has(base)) await removeIfPresent(fs, joinPath(dir, offsetFileName(base, TXN_INDEX_FILE_SUFFIX)));
  }
  for (const [base, list] of bySegment) await writeFileAtomically(fs, joinPath(dir, offsetFileName(base, TXN_INDEX_FILE_SUFFIX)), encodeTransactionIndex(list));
}

/**
 * Every aborted transaction in the directory's transaction indexes, ordered by first offset.
 * `fileNames`: the directory's files, when the caller has just listed it.
 */
export async function readTransactionIndexes(fs: FileSystem, dir: string, fileNames?: readonly string[]): Promise<AbortedTransaction[]> {
  const entries: AbortedTransaction[] = [];
  const bases = fileNames === undefined ? await listTransactionIndexes(fs, dir) : transactionIndexBases(fileNames);
  for (const base of bases) {
    entries.push(...decodeTransactionIndex(await fs.readFile(joinPath(dir, offsetFileName(base, TXN_INDEX_FILE_SUFFIX)))));
  }
  return entries.sort((a, b) => a.firstOffset - b.firstOffset);
}

async function listTransactionIndexes(fs: FileSystem, dir: string): Promise<number[]> {
  const entries = await fs.readdir(dir);
  return transactionIndexBases(entries.filter((entry) => !entry.isDirectory).map((entry) => entry.name));
}

function transactionIndexBases(fileNames: readonly string[]): number[] {
  const bases: number[] = [];
  for (const name of fileNames) {
    const base = parseOffsetFileName(name, TXN_INDEX_FILE_SUFFIX);
    if (base !== undefined) bases.push(base);
  }
  return bases.sort((a, b) => a - b);
}
