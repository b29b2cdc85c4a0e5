// Producer state on disk: `<20-digit offset>.snapshot` files (as Kafka names them) holding every
// producer's epoch, open transaction and last batches as of that offset, and (version 2) the ended
// transactions whose marker was not yet below the high watermark, CRC32C-checked; and the
// load path that restores the newest usable snapshot and replays the log from there, or rebuilds
// everything from the log when no snapshot is usable (first start, crash before a snapshot, corruption).
import { crc32c } from '../base/crc32c.js';
import { type FileSystem, joinPath, removeIfPresent, writeFileAtomically } from '../base/file-system.js';
import type { Logger } from '../base/logger.js';
import { readBaseOffset, readLastOffset, readMaxTimestamp } from '../protocol/records/batch-header.js';
import { offsetFileName, parseOffsetFileName } from './log-file-names.js';
import type { BatchMetadata, EndedTransaction, ProducerEntry, ProducerStateManager } from './producer-state.js';
import { readTransactionIndexes, writeTransactionIndexes } from './transaction-index.js';

export const PRODUCER_SNAPSHOT_FILE_SUFFIX = '.snapshot';
/**
 * Version 2 adds the ended transactions still above the high watermark after the producers: a
 * truncation that cuts off one's marker must reopen it, also on a node that restarted since.
 * Version 1 files (without them) are still read.
 */
const SNAPSHOT_VERSION = 2;
const HEADER_BYTES = 10;
const PRODUCER_BYTES = 31;
const BATCH_BYTES = 24;
const ENDED_TRANSACTION_BYTES = 24;

export interface ProducerSnapshot {
  producers: ProducerEntry[];
  endedTransactions: EndedTransaction[];
}

export function encodeProducerSnapshot(producers: Iterable<ProducerEntry>, endedTransactions: readonly EndedTransaction[] = []): Buffer {
  const entries = [...producers];
  const producerBytes = entries.reduce((total, entry) => total + PRODUCER_BYTES + entry.batches.length * BATCH_BYTES, 0);
  const size = HEADER_BYTES + producerBytes + 4 + endedTransactions.length * ENDED_TRANSACTION_BYTES;
  const buffer = Buffer.alloc(size);
  buffer.writeInt16BE(SNAPSHOT_VERSION, 0);
  buffer.writeInt32BE(entries.length, 6);
  let at = HEADER_BYTES;
  for (const entry of entries) {
    buffer.writeBigInt64BE(BigInt(entry.producerId), at);
    buffer.writeInt16BE(entry.producerEpoch, at + 8);
    buffer.writeInt32BE(entry.coordinatorEpoch, at + 10);
    buffer.writeBigInt64BE(BigInt(entry.currentTxnFirstOffset), at + 14);
    buffer.writeBigInt64BE(BigInt(entry.lastTimestampMs), at + 22);
    buffer.writeInt8(entry.batches.length, at + 30);
    at += PRODUCER_BYTES;
    for (const batch of entry.batches) {
      buffer.writeInt32BE(batch.firstSequence, at);
      buffer.writeInt32BE(batch.lastSequence, at + 4);
      buffer.writeBigInt64BE(BigInt(batch.firstOffset), at + 8);
      buffer.writeBigInt64BE(BigInt(batch.lastOffset), at + 16);
      at += BATCH_BYTES;
    }
  }
  buffer.writeInt32BE(endedTransactions.length, at);
  at += 4;
  for (const ended of endedTransactions) {
    buffer.writeBigInt64BE(BigInt(ended.producerId), at);
    buffer.writeBigInt64BE(BigInt(ended.firstOffset), at + 8);
    buffer.writeBigInt64BE(BigInt(ended.markerOffset), at + 16);
    at += ENDED_TRANSACTION_BYTES;
  }
  buffer.writeUInt32BE(crc32c(buffer, 6), 2);
  return buffer;
}

/** The producers and ended transactions in a snapshot; throws when the file is not a whole, uncorrupted snapshot. */
export function decodeProducerSnapshot(buffer: Buffer): ProducerSnapshot {
  if (buffer.length < HEADER_BYTES) throw new Error('snapshot shorter than its header');
  const version = buffer.readInt16BE(0);
  if (version !== 1 && version !== SNAPSHOT_VERSION) throw new Error(`unknown snapshot version ${version}`);
  if (buffer.readUInt32BE(2) !== crc32c(buffer, 6)) throw new Error('snapshot CRC mismatch');
  const count = buffer.readInt32BE(6);
  const entries: ProducerEntry[] = [];
  let at = HEADER_BYTES;
  for (let index = 0; index < count; index += 1) {
    const batchCount = buffer.readInt8(at + 30);
    const batches: BatchMetadata[] = [];
    for (let batch = 0; batch < batchCount; batch += 1) {
      const position = at + PRODUCER_BYTES + batch * BATCH_BYTES;
      batches.push({
        firstSequence: buffer.readInt32BE(position),
        lastSequence: buffer.readInt32BE(position + 4),
        firstOffset: Number(buffer.readBigInt64BE(position + 8)),
        lastOffset: Number(buffer.readBigInt64BE(position + 16)),
      });
    }
    entries.push({
      producerId: Number(buffer.readBigInt64BE(at)),
      producerEpoch: buffer.readInt16BE(at + 8),
      coordinatorEpoch: buffer.readInt32BE(at + 10),
      currentTxnFirstOffset: Number(buffer.readBigInt64BE(at + 14)),
      lastTimestampMs: Number(buffer.readBigInt64BE(at + 22)),
      batches,
    });
    at += PRODUCER_BYTES + batchCount * BATCH_BYTES;
  }
  const endedTransactions: EndedTransaction[] = [];
  if (version >= 2) {
    if (at + 4 > buffer.length) throw new Error('snapshot ends before its ended transactions');
    const endedCount = buffer.readInt32BE(at);
    at += 4;
    for (let index = 0; index < endedCount && at + ENDED_TRANSACTION_BYTES <= buffer.length; index += 1) {
      endedTransactions.push({
        producerId: Number(buffer.readBigInt64BE(at)),
        firstOffset: Number(buffer.readBigInt64BE(at + 8)),
        markerOffset: Number(buffer.readBigInt64BE(at + 16)),
      });
      at += ENDED_TRANSACTION_BYTES;
    }
    if (endedTransactions.length !== endedCount) throw new Error('snapshot ends inside its ended transactions');
  }
  if (at !== buffer.length) throw new Error(`snapshot has ${buffer.length - at} trailing bytes`);
  return { producers: entries, endedTransactions };
}

export interface ProducerStateStore {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly logger: Logger;
}

export interface ProducerStateLoadOptions extends ProducerStateStore {
  /** The names of the files in `dir`, when the caller has just listed it (saves listing it again). */
  readonly fileNames?: readonly string[];
  readonly state: ProducerStateManager;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  /** Whole batches from `offset` (the first may start before it), up to the log end; empty at the end. */
  readonly read: (offset: number) => Promise<Buffer[]>;
}

/**
 * Restores the newest snapshot at or below the log end (stale and corrupt ones are deleted) with
 * the aborted transactions it covers, then replays the batches after it. Returns the number of
 * batches replayed.
 */
export async function loadProducerState(options: ProducerStateLoadOptions): Promise<number> {
  const { fs, dir, logger, state } = options;
  let from = options.logStartOffset;
  state.clear();
  const fileNames = options.fileNames ?? (await listFileNames(fs, dir));
  for (const offset of snapshotOffsets(fileNames).reverse()) {
    const path = joinPath(dir, offsetFileName(offset, PRODUCER_SNAPSHOT_FILE_SUFFIX));
    if (offset > options.logEndOffset) {
      await removeIfPresent(fs, path);
      continue;
    }
    try {
      const snapshot = decodeProducerSnapshot(await fs.readFile(path));
      const aborted = (await readTransactionIndexes(fs, dir, fileNames)).filter((entry) => entry.lastOffset < offset && entry.lastOffset >= options.logStartOffset);
      state.restore(snapshot.producers, aborted, snapshot.endedTransactions);
      from = Math.max(offset, options.logStartOffset);
      break;
    } catch (error) {
      logger.warn('ignoring an unusable producer snapshot; rebuilding from the log', { file: path, error });
      await removeIfPresent(fs, path);
      state.clear();
    }
  }
  return replay(options, from);
}

async function replay(options: ProducerStateLoadOptions, from: number): Promise<number> {
  let next = from;
  let batches = 0;
  while (next < options.logEndOffset) {
    const chunks = await options.read(next);
    if (chunks.length === 0) break;
    for (const chunk of chunks) {
      const lastOffset = readLastOffset(chunk);
      if (lastOffset < next) continue;
      options.state.onAppend(chunk, readBaseOffset(chunk), lastOffset, readMaxTimestamp(chunk));
      next = lastOffset + 1;
      batches += 1;
    }
  }
  return batches;
}

/**
 * Writes `<logEndOffset>.snapshot` and the segments' transaction indexes, then deletes older
 * snapshots. Call only when every assigned offset is written (state and log agree).
 */
export async function writeProducerSnapshot(store: ProducerStateStore, state: ProducerStateManager, logEndOffset: number, segmentBaseOffsets: readonly number[]): Promise<void> {
  const { fs, dir } = store;
  await writeTransactionIndexes(fs, dir, segmentBaseOffsets, state.abortedTransactionList);
  await writeFileAtomically(fs, joinPath(dir, offsetFileName(logEndOffset, PRODUCER_SNAPSHOT_FILE_SUFFIX)), encodeProducerSnapshot(state.producers(), state.endedTransactionList));
  for (const offset of await listSnapshots(fs, dir)) {
    if (offset !== logEndOffset) await removeIfPresent(fs, joinPath(dir, offsetFileName(offset, PRODUCER_SNAPSHOT_FILE_SUFFIX)));
  }
}

/**
 * Deletes the snapshots above `offset` (all of them when `offset` is undefined), durably, before
 * a truncation there. They describe batches the log no longer holds: a later load would restore
 * them over the batches written in their place, as Kafka's truncateAndReload deletes them.
 */
export async function deleteProducerSnapshotsAbove(store: ProducerStateStore, offset: number | undefined): Promise<void> {
  let deleted = false;
  for (const snapshot of await listSnapshots(store.fs, store.dir)) {
    if (offset === undefined || snapshot > offset) {
      await removeIfPresent(store.fs, joinPath(store.dir, offsetFileName(snapshot, PRODUCER_SNAPSHOT_FILE_SUFFIX)));
      deleted = true;
    }
  }
  // Durable before the truncation: after a power loss a deleted snapshot must not come back over
  // the batches written in its place (the replication simulation's seeds 1022, 1508 and 1684).
  if (deleted) await store.fs.syncDirectory(store.dir);
}

async function listSnapshots(fs: FileSystem, dir: string): Promise<number[]> {
  return snapshotOffsets(await listFileNames(fs, dir));
}

function snapshotOffsets(fileNames: readonly string[]): number[] {
  const offsets: number[] = [];
  for (const name of fileNames) {
    const offset = parseOffsetFileName(name, PRODUCER_SNAPSHOT_FILE_SUFFIX);
    if (offset !== undefined) offsets.push(offset);
  }
  return offsets.sort((a, b) => a - b);
}

async function listFileNames(fs: FileSystem, dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((entry) => !entry.isDirectory).map((entry) => entry.name);
}
