// One log segment: the `.log` file of whole record batches starting at `baseOffset`, with its
// offset index and time index. Segments other than the active one are opened lazily: nothing is
// read until a read or lookup first needs them, so thousands of partitions open quickly.
import { type FileSystem, isNotFoundError, joinPath } from '../base/file-system.js';
import type { Logger } from '../base/logger.js';
import { BATCH_HEADER_BYTES, hasValidCrc, readLastOffset, readMaxTimestamp } from '../protocol/records/batch-header.js';
import { type BatchHeaderInfo, checkBatchHeader, scanBatchHeaders } from './batch-scanner.js';
import type { FileHandleCache } from './file-handle-cache.js';
import { INDEX_FILE_SUFFIX, LOG_FILE_SUFFIX, offsetFileName, TIME_INDEX_FILE_SUFFIX } from './log-file-names.js';
import { READ_AHEADS_PER_SEGMENT_MAX, READ_BYTES_MAX } from './log-limits.js';
import { OffsetIndex } from './offset-index.js';
import { type ReadAhead, readAheadBudget } from './read-ahead.js';
import { type ReadLease, readBufferPool } from './read-buffer-pool.js';
import type { IndexFileWrite } from './sparse-index.js';
import { TimeIndex } from './time-index.js';

/** Bytes read beyond `maxBytes` so the walk from the offset index entry to the fetch offset (about index.interval.bytes) fits the same read. */
const LOCATE_SLACK_BYTES = 16 * 1024;
/** Read ends one segment remembers: about one per consumer reading it at the same time. */
const READ_ENDS_MAX = 16;

export interface SegmentContext {
  readonly fs: FileSystem;
  readonly handles: FileHandleCache;
  readonly logger: Logger;
}

export interface SegmentSettings {
  readonly segmentIndexBytes: number;
  readonly indexIntervalBytes: number;
}

export interface SegmentRead {
  /** One whole batch per chunk, in offset order. */
  readonly chunks: Buffer[];
  readonly bytes: number;
  /** False when no batch in this segment reaches the fetch offset (the next segment may). */
  readonly found: boolean;
  /** Set when the read stopped at a batch that failed its checks; `chunks` are the good ones before it. */
  readonly corruption?: BatchCorruption;
}

/** A stored batch that failed its header sanity checks or its CRC. */
export interface BatchCorruption {
  readonly position: number;
  /** The batch's base offset, or the offset expected there when its header is unreadable. */
  readonly offset: number;
  readonly reason: string;
}

export interface TimestampMatch {
  readonly offset: number;
  readonly timestamp: number;
}

/** The largest relative offset an index entry can hold. */
export const RELATIVE_OFFSET_MAX = 0x7fffffff;

export class Segment {
  readonly baseOffset: number;
  readonly #dir: string;
  /** '' for a live segment; `.cleaned`, `.swap` or `.deleted` while the cleaner or retention moves it. */
  #fileSuffix: string;
  /** When this segment object was created (segment.ms rolls empty-timestamp segments from here). */
  readonly createdMs: number;
  readonly #context: SegmentContext;
  #settings: SegmentSettings;
  #offsetIndex: OffsetIndex;
  #timeIndex: TimeIndex;
  #loading: Promise<void> | undefined;
  #loaded = false;
  #size = 0;
  #nextOffset: number;
  #maxTimestamp = -1;
  #offsetOfMaxTimestamp = -1;
  #bytesSinceLastIndexEntry = 0;
  /** Set once the segment left the log: flushes stop, so no index file is written back. */
  #retired = false;
  /**
   * The files (by suffix) written or cut since their last fsync: a flush syncs only those, so an
   * idle segment costs nothing and an append that added no index entry costs one fsync, not three.
   */
  readonly #unsynced = new Set<string>();
  /** Max timestamp of the first batch (Kafka rolls by it); null while unknown, -1 if empty. */
  #firstBatchTimestamp: number | null = null;
  /**
   * Bytes [0, verifiedBytes) of the log file are known good in this process: appended after
   * validation on produce, or read back and checked (headers and CRC32C). Reads check only the
   * batches beyond it, so each byte is checked once per process, not on every fetch.
   */
  #verifiedBytes = 0;
  /** Bumped whenever bytes already in the file are cut off, so a read that started before cannot extend #verifiedBytes over them. */
  #truncations = 0;
  /**
   * Where recent reads ended: the offset after the last batch returned → the file position after
   * it. A consumer's next fetch starts there, so it reads from the right place without walking
   * from the offset index entry (which names the batch before). Oldest first, READ_ENDS_MAX at most.
   */
  readonly #readEnds = new Map<number, number>();
  /** Bytes being read (or read) ahead of recent reads, by file position; see read-ahead.ts. */
  readonly #readAheads = new Map<number, ReadAhead>();

  private constructor(context: SegmentContext, dir: string, baseOffset: number, settings: SegmentSettings, createdMs: number, fileSuffix = '') {
    this.#context = context;
    this.baseOffset = baseOffset;
    this.#dir = dir;
    this.#fileSuffix = fileSuffix;
    this.#settings = settings;
    this.createdMs = createdMs;
    this.#nextOffset = baseOffset;
    this.#offsetIndex = new OffsetIndex(baseOffset, settings.segmentIndexBytes);
    this.#timeIndex = new TimeIndex(baseOffset, settings.segmentIndexBytes);
  }

  /**
   * Creates the segment's (empty) files; `fileSuffix` names them for a segment not yet in the log.
   * `inNewDirectory`: `dir` was just made by this process, so no file of that name can be there
   * already. The files are then opened, not also emptied, and the empty indexes need no fsync of
   * their own: their names become durable with the directory's sync, as the log's does, and an
   * index missing after a crash is rebuilt from the log. Elsewhere a leftover file of the same
   * name is emptied, and each emptied file is synced with the first flush.
   */
  static async create(context: SegmentContext, dir: string, baseOffset: number, settings: SegmentSettings, nowMs: number, fileSuffix = '', inNewDirectory = false): Promise<Segment> {
    const segment = new Segment(context, dir, baseOffset, settings, nowMs, fileSuffix);
    await Promise.all(segment.#filePaths.map((path) => context.handles.use(path, 'create', async (handle) => {
      if (!inNewDirectory) await handle.truncate(0);
    })));
    segment.#loaded = true;
    segment.#unsynced.add(LOG_FILE_SUFFIX);
    if (!inNewDirectory) {
      segment.#unsynced.add(INDEX_FILE_SUFFIX);
      segment.#unsynced.add(TIME_INDEX_FILE_SUFFIX);
    }
    segment.#firstBatchTimestamp = -1;
    segment.#verifiedBytes = 0;
    return segment;
  }

  /** A segment whose files exist; loaded on first use. */
  static existing(context: SegmentContext, dir: string, baseOffset: number, settings: SegmentSettings, nowMs: number): Segment {
    return new Segment(context, dir, baseOffset, settings, nowMs);
  }

  get logPath(): string {
    return this.#path(LOG_FILE_SUFFIX);
  }

  get indexPath(): string {
    return this.#path(INDEX_FILE_SUFFIX);
  }

  get timeIndexPath(): string {
    return this.#path(TIME_INDEX_FILE_SUFFIX);
  }

  /** The segment's three files: the log and its offset and time indexes. */
  get #filePaths(): string[] {
    return [this.logPath, this.indexPath, this.timeIndexPath];
  }

  get fileSuffix(): string {
    return this.#fileSuffix;
  }

  #path(kind: string): string {
    return joinPath(this.#dir, offsetFileName(this.baseOffset, kind) + this.#fileSuffix);
  }

  /**
   * Renames the three files to carry `fileSuffix` (Kafka's changeFileSuffixes). The indexes move
   * first and the log last, so the log file's name is the step recovery trusts. Open handles are
   * retired, never closed under a read in flight; later reads use the new names.
   */
  async changeFileSuffix(fileSuffix: string): Promise<void> {
    if (fileSuffix === this.#fileSuffix) return;
    for (const kind of [INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, LOG_FILE_SUFFIX]) {
      const from = this.#path(kind);
      const to = joinPath(this.#dir, offsetFileName(this.baseOffset, kind) + fileSuffix);
      await this.#context.handles.invalidate(from);
      try {
        await this.#context.fs.rename(from, to);
      } catch (error) {
        // An index that was never written (an idle empty segment) has nothing to move.
        if (!isNotFoundError(error) || kind === LOG_FILE_SUFFIX) throw error;
      }
    }
    this.#fileSuffix = fileSuffix;
  }

  /** The largest timestamp, for retention: the max timestamp, or when the segment was opened if none. */
  get largestTimestamp(): number {
    return this.#maxTimestamp >= 0 ? this.#maxTimestamp : this.createdMs;
  }

  get isLoaded(): boolean {
    return this.#loaded;
  }

  /** Bytes in the log file (valid once loaded). */
  get size(): number {
    return this.#size;
  }

  /** The offset after the last batch (valid once loaded). */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  get maxTimestamp(): number {
    return this.#maxTimestamp;
  }

  get offsetOfMaxTimestamp(): number {
    return this.#offsetOfMaxTimestamp;
  }

  get offsetIndex(): OffsetIndex {
    return this.#offsetIndex;
  }

  get timeIndex(): TimeIndex {
    return this.#timeIndex;
  }

  get isIndexFull(): boolean {
    return this.#offsetIndex.isFull || this.#timeIndex.isFull;
  }

  updateSettings(settings: SegmentSettings): void {
    this.#settings = settings;
  }

  /**
   * Loads indexes and rediscovers the tail (next offset, max timestamp). `rebuild` is called when
   * an index is missing or corrupt, or the tail fails its header checks; it must leave the segment
   * consistent (recovery.ts does, by rescanning the whole file).
   */
  ensureLoaded(rebuild: (segment: Segment, reason: string) => Promise<void>): Promise<void> {
    if (this.#loaded) return Promise.resolve();
    this.#loading ??= this.#load(rebuild).finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  async #load(rebuild: (segment: Segment, reason: string) => Promise<void>): Promise<void> {
    this.#size = await this.#handleSize();
    const problem = await this.#loadIndexes();
    if (problem !== undefined) {
      await rebuild(this, problem);
    } else {
      const outcome = await this.#rescanTail();
      if (outcome !== undefined) await rebuild(this, outcome);
    }
    this.#loaded = true;
  }

  async #handleSize(): Promise<number> {
    return this.#context.handles.use(this.logPath, 'readWrite', (handle) => handle.size());
  }

  /** Reads both index files; returns the reasons when either must be rebuilt. */
  async #loadIndexes(): Promise<string | undefined> {
    const offsetBytes = await this.#readOptional(this.indexPath);
    const timeBytes = await this.#readOptional(this.timeIndexPath);
    const offsetIndex =
      offsetBytes === undefined ? 'missing offset index' : OffsetIndex.parse(this.baseOffset, this.#settings.segmentIndexBytes, offsetBytes, this.#size);
    const timeIndex = timeBytes === undefined ? 'missing time index' : TimeIndex.parse(this.baseOffset, this.#settings.segmentIndexBytes, timeBytes);
    const problems: string[] = [];
    if (typeof offsetIndex === 'string') problems.push(offsetBytes === undefined ? offsetIndex : `corrupt offset index: ${offsetIndex}`);
    if (typeof timeIndex === 'string') problems.push(timeBytes === undefined ? timeIndex : `corrupt time index: ${timeIndex}`);
    if (typeof offsetIndex === 'string' || typeof timeIndex === 'string') return problems.join('; ');
    this.#offsetIndex = offsetIndex;
    this.#timeIndex = timeIndex;
    return undefined;
  }

  async #readOptional(path: string): Promise<Buffer | undefined> {
    try {
      return await this.#context.fs.readFile(path);
    } catch (error) {
      if (isNotFoundError(error)) return undefined;
      throw error;
    }
  }

  /**
   * Walks the batches after the last offset index entry to find the next offset and max timestamp.
   * Returns a problem description if a header there fails its checks.
   */
  async #rescanTail(): Promise<string | undefined> {
    const lastEntry = this.#offsetIndex.lastEntry();
    const lastTime = this.#timeIndex.lastEntry();
    this.#maxTimestamp = lastTime?.timestamp ?? -1;
    this.#offsetOfMaxTimestamp = lastTime?.offset ?? -1;
    this.#nextOffset = lastEntry !== undefined ? lastEntry.offset + 1 : this.baseOffset;
    this.#bytesSinceLastIndexEntry = 0;
    const from = lastEntry?.position ?? 0;
    const outcome = await scanBatchHeaders(this.readAt, from, this.#size, (header) => {
      this.indexBatch(header);
    });
    if (outcome.problem !== undefined) return `${outcome.problem} at position ${outcome.endPosition}`;
    return undefined;
  }

  /**
   * Reads from the log file. A read that loses a race with a rename (the cleaner's swap, retention)
   * retries once under the file's new name, which stays until file.delete.delay.ms has passed.
   */
  readonly readAt = async (position: number, length: number, into?: Buffer): Promise<Buffer> => {
    const path = this.logPath;
    try {
      return await this.#context.handles.use(path, 'readWrite', (handle) => handle.read(position, length, into));
    } catch (error) {
      if (!isNotFoundError(error) || path === this.logPath) throw error;
      return this.#context.handles.use(this.logPath, 'readWrite', (handle) => handle.read(position, length, into));
    }
  };

  /** Forgets indexes and tail state before recovery re-adds every valid batch through indexBatch. */
  resetForRebuild(): void {
    this.#offsetIndex = new OffsetIndex(this.baseOffset, this.#settings.segmentIndexBytes);
    this.#timeIndex = new TimeIndex(this.baseOffset, this.#settings.segmentIndexBytes);
    this.#offsetIndex.markFileUnknown();
    this.#timeIndex.markFileUnknown();
    this.#nextOffset = this.baseOffset;
    this.#maxTimestamp = -1;
    this.#offsetOfMaxTimestamp = -1;
    this.#bytesSinceLastIndexEntry = 0;
    this.#firstBatchTimestamp = null;
    this.#forgetVerifiedBeyond(0);
  }

  /** Accounts one batch now stored at `header.position`: index entries, max timestamp, size. */
  indexBatch(header: BatchHeaderInfo): void {
    if (header.maxTimestamp > this.#maxTimestamp) {
      this.#maxTimestamp = header.maxTimestamp;
      this.#offsetOfMaxTimestamp = header.baseOffset;
    }
    if (this.#bytesSinceLastIndexEntry > this.#settings.indexIntervalBytes) {
      this.#offsetIndex.append(header.lastOffset, header.position);
      this.#timeIndex.maybeAppend(this.#maxTimestamp, this.#offsetOfMaxTimestamp);
      this.#bytesSinceLastIndexEntry = 0;
    }
    this.#bytesSinceLastIndexEntry += header.size;
    this.#nextOffset = Math.max(this.#nextOffset, header.lastOffset + 1);
    this.#size = Math.max(this.#size, header.position + header.size);
    if (header.position === 0) this.#firstBatchTimestamp = header.maxTimestamp;
  }

  /** The log file's size on disk. */
  fileSize(): Promise<number> {
    return this.#handleSize();
  }

  /** Cuts the log file at `size` and records the segment as loaded with that size (recovery). */
  async finishRecovery(size: number, fileBytes: number): Promise<void> {
    if (size < fileBytes) await this.#context.handles.use(this.logPath, 'readWrite', (handle) => handle.truncate(size));
    this.#size = size;
    this.#forgetVerifiedBeyond(size);
    if (size === 0) this.#firstBatchTimestamp = -1;
    this.#loaded = true;
    this.#unsynced.add(LOG_FILE_SUFFIX);
  }

  /**
   * Writes `batches` (described by `headers`) at the end of the file in one gathered write.
   * `validated`: the caller checked them (produce validation), so reads need not check them again.
   */
  async append(batches: readonly Buffer[], headers: readonly BatchHeaderInfo[], validated = false): Promise<void> {
    const position = this.#size;
    try {
      await this.#context.handles.use(this.logPath, 'readWrite', (handle) => handle.write(batches, position));
    } catch (error) {
      await this.#restoreSize(position);
      throw error;
    }
    this.#unsynced.add(LOG_FILE_SUFFIX);
    for (const header of headers) this.indexBatch(header);
    if (validated && this.#verifiedBytes === position) this.#verifiedBytes = this.#size;
  }

  /** Bytes from `size` on are gone or replaced: they must be checked again when read. */
  #forgetVerifiedBeyond(size: number): void {
    this.#verifiedBytes = Math.min(this.#verifiedBytes, size);
    this.#truncations += 1;
    this.#readEnds.clear();
    this.#dropReadAheads();
  }

  #dropReadAheads(): void {
    for (const readAhead of this.#readAheads.values()) readAheadBudget.release(readAhead);
    this.#readAheads.clear();
  }

  /** Starts reading `length` bytes at `position` in the background for the reader expected there. */
  #readAhead(position: number, length: number): void {
    const size = Math.min(length, this.#size - position);
    if (size <= 0 || this.#readAheads.has(position) || this.#retired) return;
    if (this.#readAheads.size >= READ_AHEADS_PER_SEGMENT_MAX) {
      const oldest = this.#readAheads.values().next().value as ReadAhead;
      readAheadBudget.release(oldest);
      this.#readAheads.delete(oldest.position);
    }
    if (!readAheadBudget.reserve(size)) return;
    const truncations = this.#truncations;
    // Pooled: the reader expected here is a fetch, which gives the buffer back once it is sent.
    const slab = readBufferPool.acquire(size);
    const data = this.readAt(position, size, slab).then(
      (buffer) => (truncations === this.#truncations ? buffer : undefined),
      () => undefined,
    );
    const readAhead: ReadAhead = { position, length: size, data, slab };
    this.#readAheads.set(position, readAhead);
    readAheadBudget.add(readAhead, () => {
      if (this.#readAheads.get(position) === readAhead) this.#readAheads.delete(position);
    });
  }

  /** The bytes read ahead at `position` if they hold at least `needed` bytes and are still current. */
  async #takeReadAhead(position: number, needed: number, lease: ReadLease | undefined): Promise<Buffer | undefined> {
    const readAhead = this.#readAheads.get(position);
    if (readAhead === undefined) return undefined;
    this.#readAheads.delete(position);
    readAheadBudget.release(readAhead);
    if (readAhead.length < needed) return undefined;
    const truncations = this.#truncations;
    const data = await readAhead.data;
    if (data === undefined || data.length < needed || truncations !== this.#truncations) return undefined;
    if (readAhead.slab !== undefined) lease?.adopt(readAhead.slab);
    return data;
  }

  #rememberReadEnd(nextOffset: number, position: number): void {
    this.#readEnds.delete(nextOffset);
    this.#readEnds.set(nextOffset, position);
    if (this.#readEnds.size > READ_ENDS_MAX) this.#readEnds.delete(this.#readEnds.keys().next().value as number);
  }

  /** How far the file is known good (tests). */
  get verifiedBytes(): number {
    return this.#verifiedBytes;
  }

  /** After a failed write, cut off whatever part of it reached the file. */
  async #restoreSize(size: number): Promise<void> {
    try {
      await this.#context.handles.use(this.logPath, 'readWrite', (handle) => handle.truncate(size));
    } catch (error) {
      this.#context.logger.error('could not undo a failed write', { file: this.logPath, error });
      throw error;
    }
  }

  /** The timestamp segment.ms counts from: the first batch's max timestamp, or -1 if none. */
  async rollingTimestamp(): Promise<number> {
    if (this.#firstBatchTimestamp !== null) return this.#firstBatchTimestamp;
    if (this.#size === 0) return (this.#firstBatchTimestamp = -1);
    const header = await this.readAt(0, 43);
    this.#firstBatchTimestamp = header.length >= 43 ? readMaxTimestamp(header) : -1;
    return this.#firstBatchTimestamp;
  }

  /** Called when this segment stops being active: the time index gets the final max timestamp. */
  seal(): void {
    this.#timeIndex.maybeAppend(this.#maxTimestamp, this.#offsetOfMaxTimestamp, true);
  }

  /** The first batch whose last offset is >= `offset`, within the first `limit` bytes. */
  async findBatch(offset: number, limit = this.#size): Promise<BatchHeaderInfo | undefined> {
    let found: BatchHeaderInfo | undefined;
    const start = this.#offsetIndex.lookup(offset).position;
    await scanBatchHeaders(this.readAt, start, limit, (header) => {
      if (header.lastOffset < offset) return false;
      found = header;
      return true;
    });
    return found;
  }

  /**
   * Whole batches from the one holding `fetchOffset`, those starting before `endOffset`, within
   * `maxBytes` (or the first batch alone when it is larger and `minOneBatch`). One file read from
   * the offset index entry covers both the walk to the fetch offset and the batches returned; a
   * second read is needed only when the walk runs past it.
   */
  async read(fetchOffset: number, endOffset: number, maxBytes: number, minOneBatch: boolean, lease?: ReadLease): Promise<SegmentRead> {
    const limit = this.#size;
    const truncations = this.#truncations;
    const start = this.#readEnds.get(fetchOffset) ?? this.#offsetIndex.lookup(fetchOffset).position;
    if (start >= limit) return { chunks: [], bytes: 0, found: false };
    const wanted = Math.min(maxBytes, READ_BYTES_MAX);
    const firstLength = Math.min(limit - start, wanted + LOCATE_SLACK_BYTES);
    const buffer = (await this.#takeReadAhead(start, Math.min(limit - start, wanted), lease)) ?? (await this.readAt(start, firstLength, lease?.slabFor(firstLength)));
    const located = locateBatch(buffer, start, limit, fetchOffset);
    let first: BatchHeaderInfo;
    if (located.kind === 'corrupt') return this.#corruptAt(located.position, fetchOffset, located.reason);
    if (located.kind === 'end') return { chunks: [], bytes: 0, found: false };
    if (located.kind === 'found') first = located.header;
    else {
      const scanned = await this.#scanFor(fetchOffset, located.position, limit);
      if (scanned.kind === 'end') return { chunks: [], bytes: 0, found: false };
      if (scanned.kind === 'corrupt') return this.#corruptAt(scanned.position, fetchOffset, scanned.reason);
      first = scanned.header;
    }
    if (first.baseOffset >= endOffset) return { chunks: [], bytes: 0, found: true };
    let length = Math.min(limit - first.position, wanted);
    if (first.size > length) {
      if (!minOneBatch) return { chunks: [], bytes: 0, found: true };
      length = first.size;
    }
    const inBuffer = first.position - start;
    // The first read holds the first batch whole: serve from it (perhaps fewer bytes than allowed).
    const data =
      located.kind === 'found' && inBuffer + first.size <= buffer.length
        ? buffer.subarray(inBuffer, Math.min(buffer.length, inBuffer + length))
        : await this.readAt(first.position, length, lease?.slabFor(length));
    const result = checkedBatches(data, first.position, limit, first.baseOffset, endOffset, this.#verifiedBytes);
    if (truncations !== this.#truncations) return result;
    if (first.position <= this.#verifiedBytes) this.#verifiedBytes = Math.max(this.#verifiedBytes, first.position + result.bytes);
    const last = result.chunks.at(-1);
    if (last !== undefined && result.corruption === undefined) {
      const end = first.position + result.bytes;
      this.#rememberReadEnd(readLastOffset(last) + 1, end);
      this.#readAhead(end, wanted);
    }
    return result;
  }

  #corruptAt(position: number, offset: number, reason: string): SegmentRead {
    // A header that fails its checks hides every batch after it: never skip past it silently.
    return { chunks: [], bytes: 0, found: true, corruption: { position, offset, reason } };
  }

  /** The header walk by SCAN_CHUNK_BYTES reads, for a batch the first read did not reach. */
  async #scanFor(fetchOffset: number, from: number, limit: number): Promise<Exclude<LocatedBatch, { kind: 'beyond' }>> {
    let first: BatchHeaderInfo | undefined;
    const scan = await scanBatchHeaders(this.readAt, from, limit, (header) => {
      if (header.lastOffset < fetchOffset) return false;
      first = header;
      return true;
    });
    if (first !== undefined) return { kind: 'found', header: first };
    if (scan.problem !== undefined) return { kind: 'corrupt', position: scan.endPosition, reason: scan.problem };
    return { kind: 'end' };
  }

  /** The first batch whose max timestamp is >= `timestamp`, by time index then header scan. */
  async findTimestamp(timestamp: number): Promise<TimestampMatch | undefined> {
    if (this.#maxTimestamp < timestamp) return undefined;
    const startOffset = this.#timeIndex.lookup(timestamp);
    const start = this.#offsetIndex.lookup(startOffset).position;
    let match: TimestampMatch | undefined;
    await scanBatchHeaders(this.readAt, start, this.#size, (header) => {
      if (header.maxTimestamp < timestamp) return false;
      match = { offset: header.baseOffset, timestamp: header.maxTimestamp };
      return true;
    });
    return match;
  }

  /**
   * Removes every batch whose last offset is >= `offset`; returns the bytes removed.
   * The segment's next offset becomes the first removed batch's base offset.
   */
  async truncateTo(offset: number): Promise<number> {
    const first = await this.findBatch(offset);
    if (first === undefined) return 0;
    const removed = this.#size - first.position;
    this.#forgetVerifiedBeyond(first.position);
    await this.#context.handles.use(this.logPath, 'readWrite', (handle) => handle.truncate(first.position));
    this.#size = first.position;
    this.#unsynced.add(LOG_FILE_SUFFIX);
    this.#offsetIndex.truncateToPosition(first.position);
    this.#timeIndex.truncateToOffset(first.baseOffset);
    if (first.position === 0) this.#firstBatchTimestamp = -1;
    const problem = await this.#rescanTail();
    if (problem !== undefined) this.#context.logger.warn('segment tail looks corrupt after truncation', { file: this.logPath, problem });
    return removed;
  }

  /** Writes index entries not yet in their files. */
  async persistIndexes(): Promise<void> {
    await this.#persistIndex(INDEX_FILE_SUFFIX, this.#offsetIndex.pendingWrite());
    this.#offsetIndex.markPersisted();
    await this.#persistIndex(TIME_INDEX_FILE_SUFFIX, this.#timeIndex.pendingWrite());
    this.#timeIndex.markPersisted();
  }

  async #persistIndex(kind: string, write: IndexFileWrite | undefined): Promise<void> {
    if (write === undefined) return;
    this.#unsynced.add(kind);
    await this.#context.handles.use(this.#path(kind), 'create', async (handle) => {
      if (write.truncateToBytes !== undefined) await handle.truncate(write.truncateToBytes);
      if (write.data.length > 0) await handle.write([write.data], write.position);
    });
  }

  /** Marks the segment as gone from the log (retention, a swap); its files are about to go. */
  retire(): void {
    this.#retired = true;
    this.#dropReadAheads();
  }

  get isRetired(): boolean {
    return this.#retired;
  }

  /** Makes the log and both indexes durable. */
  async flush(): Promise<void> {
    if (!this.#loaded || this.#retired) return;
    await this.persistIndexes();
    if (this.#unsynced.size === 0) return;
    // The changed files' fsyncs at once: no order among them matters, since the recovery point
    // moves only after all are done and recovery rebuilds indexes that disagree with the log. A
    // file written while they run is marked again and synced by the next flush.
    const kinds = [...this.#unsynced];
    this.#unsynced.clear();
    try {
      await Promise.all(kinds.map((kind) => this.#context.handles.use(this.#path(kind), kind === LOG_FILE_SUFFIX ? 'readWrite' : 'create', (handle) => handle.sync())));
    } catch (error) {
      for (const kind of kinds) this.#unsynced.add(kind);
      throw error;
    }
  }

  /** Closes this segment's file handles (the files stay). */
  async closeHandles(): Promise<void> {
    for (const path of this.#filePaths) await this.#context.handles.invalidate(path);
  }

  /** Removes the segment's files. */
  async delete(): Promise<void> {
    this.#dropReadAheads();
    await this.closeHandles();
    for (const path of this.#filePaths) {
      try {
        await this.#context.fs.unlink(path);
      } catch (error) {
        if (!isNotFoundError(error)) throw error;
      }
    }
  }
}

/**
 * Cuts `buffer` (the file from `bufferPosition`, `fileBytes` long, starting with the batch at
 * `firstOffset`) into whole batches, stopping at a batch cut off by the read's length or one
 * at/after `endOffset`. Every batch served from disk passes the header checks, follows the one
 * before it and matches its CRC (checked unless it lies below `verifiedBytes`, already checked in
 * this process); the first that does not ends the read and is reported, so it is never served.
 */
function checkedBatches(buffer: Buffer, bufferPosition: number, fileBytes: number, firstOffset: number, endOffset: number, verifiedBytes: number): SegmentRead {
  const chunks: Buffer[] = [];
  const readEnd = bufferPosition + buffer.length;
  let position = 0;
  let previousLastOffset = firstOffset - 1;
  const stop = (reason: string, offset: number): SegmentRead => ({ chunks, bytes: position, found: true, corruption: { position: bufferPosition + position, offset, reason } });
  while (position < buffer.length) {
    // A read shorter than the file ends inside a batch: that batch is for the next fetch.
    if (buffer.length - position < BATCH_HEADER_BYTES && readEnd < fileBytes) break;
    const header = checkBatchHeader(buffer, position, bufferPosition, fileBytes);
    if (typeof header === 'string') return stop(header, previousLastOffset + 1);
    if (header.baseOffset >= endOffset) break;
    if (position + header.size > buffer.length) {
      if (readEnd < fileBytes) break;
      return stop(`batch cut short: ${buffer.length - position} of ${header.size} bytes`, header.baseOffset);
    }
    if (chunks.length > 0 && header.baseOffset <= previousLastOffset) return stop(`base offset ${header.baseOffset} not after ${previousLastOffset}`, header.baseOffset);
    const verified = header.position + header.size <= verifiedBytes;
    if (!verified && !hasValidCrc(buffer, position)) return stop(`CRC mismatch in batch at offset ${header.baseOffset}`, header.baseOffset);
    chunks.push(buffer.subarray(position, position + header.size));
    previousLastOffset = header.lastOffset;
    position += header.size;
  }
  return { chunks, bytes: position, found: true };
}


type LocatedBatch =
  | { readonly kind: 'found'; readonly header: BatchHeaderInfo }
  | { readonly kind: 'end' }
  | { readonly kind: 'corrupt'; readonly position: number; readonly reason: string }
  /** The buffer ends before the batch holding the offset: continue the walk from `position`. */
  | { readonly kind: 'beyond'; readonly position: number };

/** Walks the headers in `buffer` (the file from `bufferPosition`) to the batch holding `fetchOffset`. */
function locateBatch(buffer: Buffer, bufferPosition: number, fileBytes: number, fetchOffset: number): LocatedBatch {
  let offset = 0;
  for (;;) {
    const position = bufferPosition + offset;
    if (position >= fileBytes) return { kind: 'end' };
    if (buffer.length - offset < BATCH_HEADER_BYTES && bufferPosition + buffer.length < fileBytes) return { kind: 'beyond', position };
    const header = checkBatchHeader(buffer, offset, bufferPosition, fileBytes);
    if (typeof header === 'string') return { kind: 'corrupt', position, reason: header };
    if (header.lastOffset >= fetchOffset) return { kind: 'found', header };
    offset += header.size;
  }
}
