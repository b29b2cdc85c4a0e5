// One partition's log: an ordered list of segments in `<dir>/<topic>-<partition>`, the offsets
// that describe it (logStartOffset, logEndOffset, highWatermark, recoveryPoint), its leader epoch
// cache and tail cache. Offsets are assigned synchronously when `append` is called; a single
// serial writer then rolls, writes (coalescing queued batches into one gathered write), flushes
// and truncates, so files are never touched by two operations at once. Retention and the
// cleaner's segment swaps take a second, maintenance lock instead: they never touch the active
// segment, so appends keep flowing while they rename files.
import { assert } from '../base/assert.js';
import type { Clock } from '../base/clock.js';
import { ErrorCode } from '../base/error-codes.js';
import { type FileSystem, isNotFoundError, joinPath, removeIfPresent } from '../base/file-system.js';
import { isKafkaError, KafkaError } from '../base/kafka-error.js';
import type { Logger } from '../base/logger.js';
import {
  BATCH_HEADER_BYTES,
  isControlBatch,
  patchBaseOffsetAndEpoch,
  patchLogAppendTime,
  readBaseOffset,
  readLastOffsetDelta,
  readPartitionLeaderEpoch,
  readMaxTimestamp,
} from '../protocol/records/batch-header.js';
import { decodeRecordBatchSync } from '../protocol/records/record-batch.js';
import type { BatchHeaderInfo } from './batch-scanner.js';
import { completeInterruptedSwaps } from './cleaner/segment-swap.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { isCompacted, type LogConfig } from './log-config.js';
import {
  CLEANED_FILE_SUFFIX,
  DELETED_FILE_SUFFIX,
  INDEX_FILE_SUFFIX,
  LEADER_EPOCH_CHECKPOINT_FILE,
  LOG_FILE_SUFFIX,
  parseOffsetFileName,
  SWAP_FILE_SUFFIX,
  TIME_INDEX_FILE_SUFFIX,
} from './log-file-names.js';
import {
  APPEND_QUEUE_BYTES_MAX,
  CLEANER_MAX_DECOMPRESSED_BYTES,
  PENDING_FILE_DELETIONS_MAX,
  WRITE_COALESCE_BATCHES_MAX,
  WRITE_COALESCE_BYTES_MAX,
} from './log-limits.js';
import { recoverSegment } from './recovery.js';
import { type RetentionDecision, retentionDecision } from './retention.js';
import { type BatchCorruption, RELATIVE_OFFSET_MAX, Segment, type SegmentContext, type SegmentRead } from './segment.js';
import type { ReadLease } from './read-buffer-pool.js';
import { SerialQueue } from './serial-queue.js';
import { TailCache, type TailCacheBudget } from './tail-cache.js';
import { deleteProducerSnapshotsAbove, loadProducerState, PRODUCER_SNAPSHOT_FILE_SUFFIX, type ProducerStateStore, writeProducerSnapshot } from './producer-snapshot.js';
import { ProducerStateManager } from './producer-state.js';

export interface PartitionLogContext extends SegmentContext {
  readonly clock: Clock;
  readonly tailCacheBudget: TailCacheBudget;
  /** Whether a failed write takes the log offline even when it could be undone (see LogManagerOptions). */
  readonly offlineOnWriteError?: boolean;
  /** Told when a log goes offline by itself (an I/O error), so its directory can fail as a whole. */
  readonly onOffline?: (log: PartitionLog, reason: string) => void;
}

export interface AppendOptions {
  /** The leader epoch stamped into the batch (partitionLeaderEpoch). */
  readonly leaderEpoch: number;
  /** The broker's time for this append (LogAppendTime topics stamp it into the batch). */
  readonly appendTimeMs: number;
}

export interface AppendResult {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** The stamped time for LogAppendTime topics, else -1. */
  readonly logAppendTimeMs: number;
  readonly logStartOffset: number;
}

export interface ReadOptions {
  readonly maxBytes: number;
  /** Exclusive upper bound: batches starting at or after it are not returned (e.g. highWatermark). */
  readonly maxOffset: number;
  /** Return the first batch even when it alone exceeds maxBytes (KIP-74). */
  readonly minOneBatch: boolean;
  /**
   * Read into reused buffers owned by this lease, which also pins the tail-cache chunks returned;
   * the caller releases it once nothing refers to the returned chunks (read-buffer-pool.ts).
   * Without one, every read gets buffers of its own and the cache chunks it saw are never reused.
   */
  readonly lease?: ReadLease | undefined;
}

export interface ReadResult {
  /** One whole batch per chunk, in offset order; the first may start before the fetch offset. */
  readonly chunks: Buffer[];
  readonly bytes: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly highWatermark: number;
  /** Whether the tail cache answered without disk. */
  readonly fromCache: boolean;
}

export interface OffsetAndTimestamp {
  readonly offset: number;
  readonly timestamp: number;
}

export interface PartitionLogLoadOptions {
  readonly context: PartitionLogContext;
  readonly dir: string;
  readonly topic: string;
  readonly partition: number;
  readonly config: LogConfig;
  readonly hadCleanShutdown: boolean;
  /** Make the directory first (a new log). */
  readonly create?: boolean;
  /** From the log dir's checkpoints; undefined when absent (or corrupt). */
  readonly recoveryPoint?: number | undefined;
  readonly logStartOffset?: number | undefined;
  readonly highWatermark?: number | undefined;
}

interface PendingAppend {
  readonly batch: Buffer;
  readonly header: BatchHeaderInfo;
  readonly logAppendTimeMs: number;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Files Kafka leaves behind mid-operation; a crash may strand them and they are safe to drop once
 * interrupted swaps (a `.log.swap`) have been completed.
 */
const STRANDED_SUFFIXES = ['.tmp', DELETED_FILE_SUFFIX, CLEANED_FILE_SUFFIX, SWAP_FILE_SUFFIX];
const OFFSET_MAX = Number.MAX_SAFE_INTEGER;

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  readonly leaderEpochCache: LeaderEpochCache;
  /** Idempotent and transactional producers, open transactions and aborted ones (producer-state.ts). */
  readonly producerState = new ProducerStateManager();
  readonly #context: PartitionLogContext;
  readonly #logger: Logger;
  readonly #queue = new SerialQueue();
  /** Retention, segment swaps and truncations, one at a time; appends do not wait for it. */
  readonly #maintenance = new SerialQueue();
  /** Segments renamed to `.deleted`, waiting for file.delete.delay.ms; the value cancels the timer. */
  readonly #pendingFileDeletions = new Map<Segment, () => void>();
  readonly #tailCache: TailCache;
  #config: LogConfig;
  #segments: Segment[];
  #logStartOffset = 0;
  #logEndOffset = 0;
  #nextOffset = 0;
  #highWatermark = 0;
  #recoveryPoint = 0;
  #pending: PendingAppend[] = [];
  #pendingBytes = 0;
  #drainScheduled = false;
  #unflushedMessages = 0;
  #cancelFlushTimer: (() => void) | undefined;
  #dirNeedsSync = false;
  #truncating = 0;
  #closed = false;
  /**
   * Set when a failed write could not be undone or an fsync failed (after a failed fsync the page
   * cache may have dropped data, so nothing written is trustworthy, as Kafka reasons when it takes
   * a log dir offline): the log refuses appends and reads until it is reopened.
   */
  #offline = false;
  /** Refuses appends for good while still serving reads (the end of a move to another log directory). */
  #sealed = false;
  /** Segments whose corrupt batch was already logged: once per segment, however often it is polled. */
  readonly #reportedCorruption = new WeakSet<Segment>();
  /** Log file sizes of segments not loaded yet, measured when `size()` first needed them. */
  readonly #unopenedSegmentBytes = new WeakMap<Segment, number>();

  private constructor(options: PartitionLogLoadOptions, segments: Segment[], leaderEpochCache: LeaderEpochCache) {
    this.topic = options.topic;
    this.partition = options.partition;
    this.dir = options.dir;
    this.#context = options.context;
    this.#logger = options.context.logger;
    this.#config = options.config;
    this.#segments = segments;
    this.leaderEpochCache = leaderEpochCache;
    this.#tailCache = new TailCache(options.context.tailCacheBudget);
  }

  /**
   * Opens (and, after an unclean shutdown, recovers) the log in `options.dir`, creating it if new.
   * After a clean shutdown no segment is read: the log end offset comes from the recovery-point
   * checkpoint when the producer snapshot written at close agrees with it (`cleanLogEndOffset`),
   * and the active segment loads on its first append, read or truncation like the others.
   */
  static async load(options: PartitionLogLoadOptions): Promise<PartitionLog> {
    const { context, dir } = options;
    // A directory this call made holds no segments and no checkpoint: nothing to list or read.
    const fresh = options.create === true && (await context.fs.mkdir(dir));
    const { baseOffsets, fileNames } = fresh ? { baseOffsets: [], fileNames: [] } : await scanSegmentFiles(context.fs, dir, context.logger);
    const settings = segmentSettings(options.config);
    const nowMs = context.clock.nowMs();
    const segments = baseOffsets.map((baseOffset) => Segment.existing(context, dir, baseOffset, settings, nowMs));
    let log: PartitionLog | undefined;
    // The first segment of a new log and the epoch checkpoint are independent files: both at once.
    const epochOptions = { fs: context.fs, path: joinPath(dir, LEADER_EPOCH_CHECKPOINT_FILE), logger: context.logger, logEndOffset: () => log?.logEndOffset ?? 0 };
    const [epochCache, created] = await Promise.all([
      fresh ? new LeaderEpochCache(epochOptions) : LeaderEpochCache.load(epochOptions),
      segments.length === 0 ? Segment.create(context, dir, Math.max(0, options.logStartOffset ?? 0), settings, nowMs, '', fresh) : undefined,
    ]);
    if (created !== undefined) segments.push(created);
    log = new PartitionLog(options, segments, epochCache);
    await log.#loadSegments(options, cleanLogEndOffset(options, segments.at(-1)!.baseOffset, fileNames));
    await log.#loadProducerState(fileNames);
    return log;
  }

  /** `knownLogEndOffset`: where the log ends, known without reading the active segment (a clean start). */
  async #loadSegments(options: PartitionLogLoadOptions, knownLogEndOffset: number | undefined): Promise<void> {
    if (!options.hadCleanShutdown) await this.#recover(options.recoveryPoint ?? 0);
    if (knownLogEndOffset === undefined) {
      await this.#active.ensureLoaded(this.#rebuildSegment);
      this.#logEndOffset = this.#active.nextOffset;
    } else {
      this.#logEndOffset = knownLogEndOffset;
    }
    this.#nextOffset = this.#logEndOffset;
    const firstBase = this.#segments[0]!.baseOffset;
    this.#logStartOffset = Math.min(Math.max(options.logStartOffset ?? firstBase, firstBase), this.#logEndOffset);
    // Written with the next flush: every load truncates the same way again.
    this.leaderEpochCache.truncateFromEnd(this.#logEndOffset);
    if (this.#logStartOffset > firstBase) this.leaderEpochCache.truncateFromStart(this.#logStartOffset);
    this.#highWatermark = clamp(options.highWatermark ?? this.#logStartOffset, this.#logStartOffset, this.#logEndOffset);
    this.#recoveryPoint = this.#logEndOffset;
  }

  /** Validates every segment from the one holding `recoveryPoint`; drops all after a corrupt one. */
  async #recover(recoveryPoint: number): Promise<void> {
    const first = Math.max(0, this.#segmentIndexFor(recoveryPoint));
    // the epochs from the first recovered batch on come from the batches alone.
    this.leaderEpochCache.truncateFromEnd(this.#segments[first]!.baseOffset);
    for (let index = first; index < this.#segments.length; index += 1) {
      const segment = this.#segments[index]!;
      const outcome = await recoverSegment(segment, this.#logger, (header, epoch) => {
        if (epoch >= 0) this.leaderEpochCache.assign(epoch, header.baseOffset);
      });
      if (outcome.problem !== undefined && index < this.#segments.length - 1) {
        await this.#dropSegmentsAfter(index);
        break;
      }
    }
    // Recovered segments now have rebuilt indexes; make them, the truncations and the epochs found
    // durable: the recovery point moves to the log end below, so no later recovery looks again.
    for (let index = first; index < this.#segments.length; index += 1) await this.#segments[index]!.flush();
    await this.#context.fs.syncDirectory(this.dir);
    this.leaderEpochCache.truncateFromEnd(this.#segments.at(-1)!.nextOffset);
    await this.leaderEpochCache.persist();
  }

  async #dropSegmentsAfter(index: number): Promise<void> {
    const dropped = this.#segments.splice(index + 1);
    this.#logger.warn('deleting segments after a corrupt batch', {
      dir: this.dir,
      segments: dropped.map((segment) => segment.baseOffset).join(','),
    });
    for (const segment of dropped) await segment.delete();
  }

  /** Where this log's producer snapshots are. */
  get #snapshotStore(): ProducerStateStore {
    return { fs: this.#context.fs, dir: this.dir, logger: this.#logger };
  }

  /** Restores producer state from the newest snapshot and the log after it (or the whole log). */
  async #loadProducerState(fileNames: readonly string[]): Promise<void> {
    const read = async (offset: number): Promise<Buffer[]> => {
      try {
        return (await this.read(offset, { maxBytes: 1024 * 1024, maxOffset: this.#logEndOffset, minOneBatch: true })).chunks;
      } catch (error) {
        // A corrupt stored batch (already logged) ends the replay there rather than the start-up.
        if (error instanceof KafkaError && error.errorCode === ErrorCode.CORRUPT_MESSAGE) return [];
        throw error;
      }
    };
    const replayed = await loadProducerState({ ...this.#snapshotStore, fileNames, state: this.producerState, logStartOffset: this.#logStartOffset, logEndOffset: this.#logEndOffset, read });
    if (replayed > 0) this.#logger.debug('rebuilt producer state from the log', { dir: this.dir, batches: replayed });
  }

  /** Rebuilds a segment whose index is missing or corrupt, or whose tail fails its checks. */
  readonly #rebuildSegment = async (segment: Segment, reason: string): Promise<void> => {
    this.#logger.warn('rebuilding segment indexes', { file: segment.logPath, reason });
    await recoverSegment(segment, this.#logger);
    await segment.persistIndexes();
  };

  get config(): LogConfig {
    return this.#config;
  }

  get logStartOffset(): number {
    return this.#logStartOffset;
  }

  /** The offset after the last batch written to the file: everything below it is readable. */
  get logEndOffset(): number {
    return this.#logEndOffset;
  }

  /** The offset the next append gets (ahead of logEndOffset while writes are queued). */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  get highWatermark(): number {
    return this.#highWatermark;
  }

  /** Offsets below it are fsynced; recovery after a crash starts here. */
  get recoveryPoint(): number {
    return this.#recoveryPoint;
  }

  /**
   * Bytes in the partition's segment files (DescribeLogDirs). Each loaded segment keeps its size in
   * memory as it is written, cleaned or truncated; a segment not loaded since start-up is measured
   * (one stat) the first time it is asked about, so opening a log stats nothing.
   */
  async size(): Promise<number> {
    let bytes = 0;
    for (const segment of this.#segments) bytes += await this.#segmentBytes(segment);
    return bytes;
  }

  async #segmentBytes(segment: Segment): Promise<number> {
    if (segment.isLoaded) return segment.size;
    let bytes = this.#unopenedSegmentBytes.get(segment);
    if (bytes === undefined) {
      try {
        bytes = (await this.#context.fs.stat(segment.logPath)).size;
      } catch (error) {
        // Retention or the cleaner moved it meanwhile: it is no longer part of the log.
        if (isNotFoundError(error)) return 0;
        throw error;
      }
      this.#unopenedSegmentBytes.set(segment, bytes);
    }
    return segment.isLoaded ? segment.size : bytes;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  get segmentBaseOffsets(): number[] {
    return this.#segments.map((segment) => segment.baseOffset);
  }

  /** The segments now, oldest first; the last is the active one. The array is never mutated. */
  segments(): readonly Segment[] {
    return [...this.#segments];
  }

  /** Loads a segment's indexes and tail if not done yet (segments open lazily). */
  ensureLoaded(segment: Segment): Promise<void> {
    return segment.ensureLoaded(this.#rebuildSegment);
  }

  /** Segments waiting for file.delete.delay.ms before their `.deleted` files go. */
  get pendingFileDeletionCount(): number {
    return this.#pendingFileDeletions.size;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Whether an I/O error took the log offline (appends and reads answer KAFKA_STORAGE_ERROR). */
  get isOffline(): boolean {
    return this.#offline;
  }

  get #active(): Segment {
    return this.#segments.at(-1)!;
  }

  /**
   * Sets the high watermark (owned by replication), kept within [logStartOffset, logEndOffset]. An
   * offline log keeps its high watermark: nothing written since the I/O error may become visible.
   */
  updateHighWatermark(offset: number): number {
    if (this.#offline) return this.#highWatermark;
    this.#highWatermark = clamp(offset, this.#logStartOffset, this.#logEndOffset);
    this.producerState.forgetStableBelow(this.#highWatermark);
    return this.#highWatermark;
  }

  /** Moves the log start forward (DeleteRecords, retention); never past the high watermark. */
  maybeIncrementLogStartOffset(offset: number): boolean {
    if (offset <= this.#logStartOffset || offset > this.#highWatermark) return false;
    this.#logStartOffset = offset;
    this.leaderEpochCache.truncateFromStart(offset);
    return true;
  }

  updateConfig(config: LogConfig): void {
    this.#config = config;
    for (const segment of this.#segments) segment.updateSettings(segmentSettings(config));
    if (!Number.isFinite(config.flushMs)) this.#cancelFlushTimer?.();
  }

  /**
   * Appends one validated record batch v2. Offsets and the leader epoch are stamped into `batch`
   * now (so concurrent appends keep call order); the promise resolves once the bytes are in the
   * file. The log keeps `batch` until then (and may keep a large one in its tail cache): the
   * caller must not reuse its memory.
   */
  append(batch: Buffer, options: AppendOptions): Promise<AppendResult> {
    const refusal = this.#appendRefusal(batch);
    if (refusal !== undefined) return Promise.reject(refusal);
    let duplicate;
    try {
      duplicate = this.producerState.checkAppend(batch);
    } catch (error) {
      return Promise.reject(error);
    }
    // A retried batch already in the log is answered with its original offsets, not written again.
    if (duplicate !== undefined) return Promise.resolve({ ...duplicate, logAppendTimeMs: -1, logStartOffset: this.#logStartOffset });
    const baseOffset = this.#nextOffset;
    const lastOffset = baseOffset + readLastOffsetDelta(batch);
    assert(lastOffset < OFFSET_MAX, `offset ${lastOffset} beyond the safe integer range`);
    patchBaseOffsetAndEpoch(batch, 0, baseOffset, options.leaderEpoch);
    let logAppendTimeMs = -1;
    if (this.#config.messageTimestampType === 'LogAppendTime') {
      patchLogAppendTime(batch, 0, options.appendTimeMs);
      logAppendTimeMs = options.appendTimeMs;
    }
    this.#nextOffset = lastOffset + 1;
    this.producerState.onAppend(batch, baseOffset, lastOffset, options.appendTimeMs);
    this.leaderEpochCache.assign(options.leaderEpoch, baseOffset);
    const header = { position: -1, size: batch.length, baseOffset, lastOffset, maxTimestamp: readMaxTimestamp(batch) };
    return new Promise<AppendResult>((resolve, reject) => {
      this.#pending.push({ batch, header, logAppendTimeMs, resolve, reject });
      this.#pendingBytes += batch.length;
      this.#scheduleDrain();
    });
  }

  /**
   * Appends one batch fetched from the partition's leader as the leader wrote it: its offsets,
   * leader epoch and timestamps are kept, and the producer state follows it without checking
   * sequences (the leader did). It must start at this log's end.
   */
  appendAsFollower(batch: Buffer): Promise<AppendResult> {
    const refusal = this.#appendRefusal(batch, false);
    if (refusal !== undefined) return Promise.reject(refusal);
    const baseOffset = readBaseOffset(batch);
    // Offsets only move forward; a gap is a compacted leader's dropped batches (Kafka's followers take it too).
    if (baseOffset < this.#nextOffset) {
      return Promise.reject(new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `a replicated batch at ${baseOffset} goes back into ${this.topic}-${this.partition}, which ends at ${this.#nextOffset}`));
    }
    const lastOffset = baseOffset + readLastOffsetDelta(batch);
    this.#nextOffset = lastOffset + 1;
    this.producerState.onAppend(batch, baseOffset, lastOffset, readMaxTimestamp(batch));
    this.leaderEpochCache.assign(readPartitionLeaderEpoch(batch), baseOffset);
    const header = { position: -1, size: batch.length, baseOffset, lastOffset, maxTimestamp: readMaxTimestamp(batch) };
    return new Promise<AppendResult>((resolve, reject) => {
      this.#pending.push({ batch, header, logAppendTimeMs: -1, resolve, reject });
      this.#pendingBytes += batch.length;
      this.#scheduleDrain();
    });
  }

  /** Why `batch` cannot be appended now, if it cannot; `checkContent`: the checks a leader makes of what producers send. */
  #appendRefusal(batch: Buffer, checkContent = true): KafkaError | undefined {
    assert(this.#truncating === 0, 'append while a truncation is in progress');
    assert(batch.length >= BATCH_HEADER_BYTES, 'append of a buffer shorter than a batch header');
    if (this.#closed) return new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `log ${this.dir} is closed`);
    if (this.#sealed) return new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `log ${this.dir} is moving to another log directory`);
    if (this.#offline) return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.dir} is offline after an I/O error`);
    if (batch.length > this.#config.maxMessageBytes) {
      return new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `batch of ${batch.length} bytes exceeds max.message.bytes ${this.#config.maxMessageBytes}`);
    }
    if (batch.length > this.#config.segmentBytes) {
      return new KafkaError(ErrorCode.RECORD_LIST_TOO_LARGE, `batch of ${batch.length} bytes exceeds segment.bytes ${this.#config.segmentBytes}`);
    }
    if (this.#pendingBytes + batch.length > APPEND_QUEUE_BYTES_MAX) {
      return new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `append queue of ${this.dir} is full`);
    }
    if (checkContent && isCompacted(this.#config)) return this.#keylessRecordRefusal(batch);
    return undefined;
  }

  /** Kafka refuses records without a key in a compacted topic: the cleaner could never keep them. */
  #keylessRecordRefusal(batch: Buffer): KafkaError | undefined {
    if (isControlBatch(batch)) return undefined;
    const keyless: number[] = [];
    try {
      const decoded = decodeRecordBatchSync(batch, 0, { verifyCrc: false, maxDecompressedBytes: CLEANER_MAX_DECOMPRESSED_BYTES });
      decoded.records.forEach((record, index) => {
        if (record.key === null) keyless.push(index);
      });
    } catch (error) {
      return new KafkaError(ErrorCode.CORRUPT_MESSAGE, `undecodable batch for compacted ${this.topic}-${this.partition}: ${String(error)}`);
    }
    if (keyless.length === 0) return undefined;
    // Each keyless record is named, so a client fails exactly those records (Produce v8+).
    const message = `Compacted topic cannot accept message without key in topic partition ${this.topic}-${this.partition}.`;
    return new KafkaError(
      ErrorCode.INVALID_RECORD,
      `${keyless.length} record(s) without a key: ${message}`,
      keyless.map((batchIndex) => ({ batchIndex, message })),
    );
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    void this.#queue.run(() => this.#drainOnce());
  }

  /**
   * Writes one group of queued batches (rolling first if needed), then resolves their appends. When
   * the flush policy makes this group wait for an fsync, the batches count as written (log end,
   * tail cache, and so the high watermark) only once the fsync succeeded; a failed fsync takes the
   * log offline and fails them, so a refused batch is never served.
   */
  async #drainOnce(): Promise<void> {
    this.#drainScheduled = false;
    if (this.#pending.length === 0) return;
    let group: PendingAppend[] = [];
    try {
      await this.#activeReadyForAppend();
      const first = this.#pending[0]!;
      if (await this.#rollReason(this.#active.size, first.header) !== undefined) await this.#roll(first.header.baseOffset);
      group = await this.#takeGroup();
      await this.#active.append(
        group.map((pending) => pending.batch),
        group.map((pending) => pending.header),
        true,
      );
    } catch (error) {
      await this.#failAppends(group, error);
      return;
    }
    if (this.#flushDueWith(group)) {
      try {
        await this.#flushTo(group.at(-1)!.header.lastOffset + 1);
      } catch (error) {
        this.#takeOffline('an fsync failed', error);
        await this.#failAppends(group, error, 'fsync');
        return;
      }
      this.#completeAppends(group);
      this.#unflushedMessages = 0;
    } else {
      this.#completeAppends(group);
      this.#armFlushTimer();
    }
    if (this.#pending.length > 0) this.#scheduleDrain();
    for (const pending of group) pending.resolve(this.#appendResult(pending));
  }

  /** Whether the flush policy (flush.messages) makes this group's appends wait for an fsync. */
  #flushDueWith(group: readonly PendingAppend[]): boolean {
    if (!Number.isFinite(this.#config.flushMessages)) return false;
    let messages = this.#unflushedMessages;
    for (const pending of group) messages += pending.header.lastOffset - pending.header.baseOffset + 1;
    return messages >= this.#config.flushMessages;
  }

  /** An fsync (or an undo of a failed write) failed: refuse appends and reads until reopened. */
  #takeOffline(reason: string, error: unknown): void {
    if (this.takeOffline(reason, error)) this.#context.onOffline?.(this, reason);
  }

  /**
   * Takes the log offline (from outside: its log directory failed): appends and reads are refused
   * with KAFKA_STORAGE_ERROR from now on, as after an I/O error of its own. Returns whether it was
   * online until now.
   */
  takeOffline(reason: string, error?: unknown): boolean {
    if (this.#offline) return false;
    this.#offline = true;
    this.#logger.error(`log is offline: ${reason}`, { dir: this.dir, error });
    return true;
  }

  /**
   * Loads the active segment if it is not yet (after a clean start it loads on first use) and checks
   * that it ends where the log does. If not, the files changed behind the checkpoints the log end
   * was taken from: the files win (as a full load would have found them), the log end moves to the
   * segment's end, and this write fails so its producers retry at the right offsets.
   */
  async #activeReadyForAppend(): Promise<void> {
    const active = this.#active;
    if (!active.isLoaded) await active.ensureLoaded(this.#rebuildSegment);
    if (active.nextOffset === this.#logEndOffset) return;
    const expected = this.#logEndOffset;
    this.#logger.error('the active segment does not end at the checkpointed log end offset; using the segment', {
      dir: this.dir,
      segmentNextOffset: active.nextOffset,
      logEndOffset: expected,
    });
    this.#afterTruncation(active.nextOffset);
    throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `${active.logPath} ends at offset ${active.nextOffset}, not at the log end offset ${expected}`);
  }

  /** Takes queued batches for one write: bounded, and stopping where a roll would be due. */
  async #takeGroup(): Promise<PendingAppend[]> {
    const segment = this.#active;
    const rollingTimestamp = await segment.rollingTimestamp();
    const group: PendingAppend[] = [];
    let position = segment.size;
    let groupBytes = 0;
    for (const pending of this.#pending) {
      if (group.length >= WRITE_COALESCE_BATCHES_MAX) break;
      if (group.length > 0 && groupBytes + pending.batch.length > WRITE_COALESCE_BYTES_MAX) break;
      const firstTimestamp = rollingTimestamp >= 0 || group.length === 0 ? rollingTimestamp : group[0]!.header.maxTimestamp;
      if (group.length > 0 && this.#rollReasonAt(position, firstTimestamp, pending.header) !== undefined) break;
      group.push({ ...pending, header: { ...pending.header, position } });
      position += pending.batch.length;
      groupBytes += pending.batch.length;
    }
    this.#pending.splice(0, group.length);
    return group;
  }

  async #rollReason(segmentSize: number, next: BatchHeaderInfo): Promise<string | undefined> {
    return this.#rollReasonAt(segmentSize, await this.#active.rollingTimestamp(), next);
  }

  /** Why a batch may not join the active segment at `segmentSize` (Kafka's shouldRoll), if so. */
  #rollReasonAt(segmentSize: number, rollingTimestamp: number, next: BatchHeaderInfo): string | undefined {
    if (segmentSize === 0) return undefined;
    const segment = this.#active;
    if (segmentSize + next.size > this.#config.segmentBytes) return 'segment.bytes';
    if (next.lastOffset - segment.baseOffset > RELATIVE_OFFSET_MAX) return 'relative offset overflow';
    if (segment.isIndexFull) return 'index full';
    const waitedMs = rollingTimestamp >= 0 ? next.maxTimestamp - rollingTimestamp : this.#context.clock.nowMs() - segment.createdMs;
    if (waitedMs > this.#config.segmentMs) return 'segment.ms';
    return undefined;
  }

  /** Starts a new active segment at `baseOffset`; the old one is flushed in the background. */
  async #roll(baseOffset: number): Promise<void> {
    const previous = this.#active;
    previous.seal();
    await previous.persistIndexes();
    const segment = await Segment.create(this.#context, this.dir, baseOffset, segmentSettings(this.#config), this.#context.clock.nowMs());
    this.#segments.push(segment);
    this.#dirNeedsSync = true;
    this.#logger.debug('rolled segment', { dir: this.dir, baseOffset });
    // As Kafka does, the finished segment becomes durable asynchronously, moving the recovery point,
    // and outside the append queue: the next appends do not wait for its fsync (up to a segment's
    // worth of unsynced data, hundreds of milliseconds). The maintenance queue keeps it apart from
    // truncation, retention and cleaner swaps, which delete or replace segments.
    void this.#maintenance.run(() => this.#flushTo(baseOffset)).catch((error: unknown) => this.#takeOffline('the flush after a segment roll failed', error));
  }

  #completeAppends(group: readonly PendingAppend[]): void {
    for (const pending of group) {
      this.#tailCache.append({ baseOffset: pending.header.baseOffset, lastOffset: pending.header.lastOffset, batch: pending.batch });
      this.#logEndOffset = pending.header.lastOffset + 1;
      this.#pendingBytes -= pending.batch.length;
      this.#unflushedMessages += pending.header.lastOffset - pending.header.baseOffset + 1;
    }
  }

  #appendResult(pending: PendingAppend): AppendResult {
    return {
      baseOffset: pending.header.baseOffset,
      lastOffset: pending.header.lastOffset,
      logAppendTimeMs: pending.logAppendTimeMs,
      logStartOffset: this.#logStartOffset,
    };
  }

  #armFlushTimer(): void {
    if (!Number.isFinite(this.#config.flushMs) || this.#cancelFlushTimer !== undefined) return;
    this.#cancelFlushTimer = this.#context.clock.schedule(this.#config.flushMs, () => {
      this.#cancelFlushTimer = undefined;
      if (this.#closed) return;
      this.flush().catch(() => {
        // flush() took the log offline and logged why.
      });
    });
  }

  /** A write failed: every queued append fails, offsets rewind to logEndOffset, the log stays consistent. */
  async #failAppends(group: readonly PendingAppend[], error: unknown, what = 'write'): Promise<void> {
    const failed = [...group, ...this.#pending];
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#nextOffset = this.#logEndOffset;
    this.leaderEpochCache.truncateFromEnd(this.#logEndOffset);
    this.producerState.truncateFrom(this.#logEndOffset);
    this.#logger.error('append failed', { dir: this.dir, error, batches: failed.length });
    await this.#checkConsistentAfterFailure();
    if (this.#context.offlineOnWriteError && what === 'write' && !isKafkaError(error)) this.#takeOffline('a write failed', error);
    const rejection = storageError(`${what} of ${this.dir} failed`, error);
    for (const pending of failed) pending.reject(rejection);
  }

  async #checkConsistentAfterFailure(): Promise<void> {
    try {
      if ((await this.#active.fileSize()) === this.#active.size) return;
    } catch {
      // Cannot even ask the file's size: treat the log as offline below.
    }
    this.#takeOffline('a failed write could not be undone', undefined);
  }

  /** The first offset the tail cache holds, if it holds any (tests, metrics). */
  get cachedFromOffset(): number | undefined {
    return this.#tailCache.firstOffset;
  }

  /**
   * Whole batches from the one holding `fetchOffset`. Throws OFFSET_OUT_OF_RANGE outside
   * [logStartOffset, logEndOffset]; at logEndOffset returns nothing. Batches read from disk are
   * checked (header and CRC32C; the tail cache holds bytes validated on produce): a corrupt batch
   * is never returned, the good ones before it are, and CORRUPT_MESSAGE is thrown when it is first.
   */
  async read(fetchOffset: number, options: ReadOptions): Promise<ReadResult> {
    if (this.#closed) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `log ${this.dir} is closed`);
    if (this.#offline) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.dir} is offline after an I/O error`);
    const logEndOffset = this.#logEndOffset;
    if (fetchOffset < this.#logStartOffset || fetchOffset > logEndOffset) {
      throw new KafkaError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `offset ${fetchOffset} outside [${this.#logStartOffset}, ${logEndOffset}] of ${this.topic}-${this.partition}`,
      );
    }
    const endOffset = Math.min(options.maxOffset, logEndOffset);
    if (fetchOffset >= endOffset) return this.#readResult([], 0, false);
    const cached = this.#tailCache.read(fetchOffset, endOffset, options.maxBytes, options.minOneBatch, options.lease);
    if (cached !== undefined) return this.#readResult(cached.chunks, cached.bytes, true);
    const segments = this.#segments;
    for (let index = Math.max(0, this.#segmentIndexFor(fetchOffset)); index < segments.length; index += 1) {
      const segment = segments[index]!;
      await segment.ensureLoaded(this.#rebuildSegment);
      const result = await segment.read(fetchOffset, endOffset, options.maxBytes, options.minOneBatch, options.lease);
      if (result.corruption !== undefined) return this.#corruptRead(segment, result, result.corruption);
      if (result.found) return this.#readResult(result.chunks, result.bytes, false);
    }
    return this.#readResult([], 0, false);
  }

  /** The good batches before a corrupt one, or CORRUPT_MESSAGE when it comes first; logged once per segment. */
  #corruptRead(segment: Segment, result: SegmentRead, corruption: BatchCorruption): ReadResult {
    if (!this.#reportedCorruption.has(segment)) {
      this.#reportedCorruption.add(segment);
      this.#logger.error('corrupt batch in a log segment: not serving it or anything after it', {
        file: segment.logPath,
        position: corruption.position,
        offset: corruption.offset,
        reason: corruption.reason,
      });
    }
    if (result.chunks.length > 0) return this.#readResult(result.chunks, result.bytes, false);
    throw new KafkaError(
      ErrorCode.CORRUPT_MESSAGE,
      `corrupt batch at offset ${corruption.offset} of ${this.topic}-${this.partition} (${segment.logPath}, position ${corruption.position}): ${corruption.reason}`,
    );
  }

  #readResult(chunks: Buffer[], bytes: number, fromCache: boolean): ReadResult {
    return {
      chunks,
      bytes,
      logStartOffset: this.#logStartOffset,
      logEndOffset: this.#logEndOffset,
      highWatermark: this.#highWatermark,
      fromCache,
    };
  }

  /** The first batch whose max timestamp is >= `timestampMs` (batch granularity), or null. */
  async offsetForTimestamp(timestampMs: number): Promise<OffsetAndTimestamp | null> {
    for (const segment of this.#segments) {
      await segment.ensureLoaded(this.#rebuildSegment);
      if (segment.nextOffset <= this.#logStartOffset) continue;
      const match = await segment.findTimestamp(timestampMs);
      if (match !== undefined) return { offset: Math.max(match.offset, this.#logStartOffset), timestamp: match.timestamp };
    }
    return null;
  }

  /** The batch holding the largest timestamp (ListOffsets MAX_TIMESTAMP, -3), or null if empty. */
  async maxTimestampOffset(): Promise<OffsetAndTimestamp | null> {
    let best: OffsetAndTimestamp | null = null;
    for (const segment of this.#segments) {
      await segment.ensureLoaded(this.#rebuildSegment);
      if (segment.offsetOfMaxTimestamp < 0 || segment.nextOffset <= this.#logStartOffset) continue;
      if (best === null || segment.maxTimestamp > best.timestamp) {
        best = { offset: Math.max(segment.offsetOfMaxTimestamp, this.#logStartOffset), timestamp: segment.maxTimestamp };
      }
    }
    return best;
  }

  /**
   * Deletes the oldest segments that retention.ms, retention.bytes or the log start offset no
   * longer keep (retention.ts decides), never the active one: when it alone is expired, it is
   * rolled first, as Kafka does. Returns the number of segments deleted.
   */
  deleteExpiredSegments(nowMs: number): Promise<number> {
    return this.#maintenance.run(async () => {
      if (this.#closed) return 0;
      let decision = await this.#retentionDecision(nowMs);
      if (decision.rollActiveFirst) {
        await this.#rollIdleActiveSegment();
        decision = await this.#retentionDecision(nowMs);
      }
      if (decision.segmentCount === 0) return 0;
      await this.#deleteOldestSegments(decision);
      return decision.segmentCount;
    });
  }

  async #retentionDecision(nowMs: number): Promise<RetentionDecision> {
    const segments = this.#segments;
    for (const segment of segments) await segment.ensureLoaded(this.#rebuildSegment);
    return retentionDecision({
      segments,
      logStartOffset: this.#logStartOffset,
      highWatermark: this.#highWatermark,
      logEndOffset: this.#logEndOffset,
      config: this.#config,
      nowMs,
    });
  }

  /** Rolls the active segment for retention, only when nothing is queued behind it. */
  async #rollIdleActiveSegment(): Promise<void> {
    await this.#queue.run(async () => {
      if (this.#closed || this.#pending.length > 0 || this.#active.size === 0) return;
      if (this.#nextOffset !== this.#logEndOffset) return;
      this.#logger.info('rolling an expired active segment for retention', { dir: this.dir, baseOffset: this.#active.baseOffset });
      await this.#roll(this.#logEndOffset);
    });
  }

  async #deleteOldestSegments(decision: RetentionDecision): Promise<void> {
    const doomed = this.#segments.slice(0, decision.segmentCount);
    assert(doomed.length < this.#segments.length, 'retention would delete the active segment');
    const newStart = this.#segments[doomed.length]!.baseOffset;
    this.#segments = this.#segments.slice(doomed.length);
    this.maybeIncrementLogStartOffset(newStart);
    this.#tailCache.evictBelow(newStart);
    this.#logger.info('deleting segments', { dir: this.dir, reason: decision.reason, segments: doomed.map((segment) => segment.baseOffset).join(','), logStartOffset: this.#logStartOffset });
    await this.#retireSegments(doomed);
    await this.#context.fs.syncDirectory(this.dir);
  }

  /**
   * Renames segments that left the log to `.deleted` (a restart drops such files) and removes them
   * after file.delete.delay.ms, so reads that found them before they left can finish.
   */
  async #retireSegments(segments: readonly Segment[]): Promise<void> {
    for (const segment of segments) {
      segment.retire();
      await segment.changeFileSuffix(DELETED_FILE_SUFFIX);
      this.#scheduleFileDeletion(segment);
    }
  }

  #scheduleFileDeletion(segment: Segment): void {
    const delayMs = this.#config.fileDeleteDelayMs;
    if (delayMs <= 0 || this.#pendingFileDeletions.size >= PENDING_FILE_DELETIONS_MAX) {
      void this.#deleteFiles(segment);
      return;
    }
    const cancel = this.#context.clock.schedule(delayMs, () => void this.#deleteFiles(segment));
    this.#pendingFileDeletions.set(segment, cancel);
  }

  async #deleteFiles(segment: Segment): Promise<void> {
    this.#pendingFileDeletions.get(segment)?.();
    this.#pendingFileDeletions.delete(segment);
    try {
      await segment.delete();
    } catch (error) {
      this.#logger.warn('could not remove a deleted segment', { file: segment.logPath, error });
    }
  }

  /** A new, empty segment named `<baseOffset>.log.cleaned` for the cleaner to fill. */
  createCleanedSegment(baseOffset: number): Promise<Segment> {
    return Segment.create(this.#context, this.dir, baseOffset, segmentSettings(this.#config), this.#context.clock.nowMs(), CLEANED_FILE_SUFFIX);
  }

  /**
   * Swaps `cleaned` (flushed, still `.cleaned`) in for the consecutive non-active segments
   * `group`. Renaming it to `.swap` is the commit point: recovery completes a swap from there
   * (deleting the old segments it covers) and discards a `.cleaned` file. Returns false, and
   * deletes `cleaned`, when the group is no longer intact (retention or truncation got there first).
   * `afterCommit` (the cleaner's test pause point) is awaited once the `.swap` rename is durable.
   */
  replaceSegments(group: readonly Segment[], cleaned: Segment, afterCommit?: () => Promise<void>): Promise<boolean> {
    return this.#maintenance.run(async () => {
      const index = this.#closed ? -1 : this.#segments.indexOf(group[0]!);
      const intact = index >= 0 && index + group.length < this.#segments.length && group.every((segment, at) => this.#segments[index + at] === segment);
      if (!intact) {
        await cleaned.delete();
        return false;
      }
      await cleaned.changeFileSuffix(SWAP_FILE_SUFFIX);
      await this.#context.fs.syncDirectory(this.dir);
      await afterCommit?.();
      const current = this.#segments;
      const at = current.indexOf(group[0]!);
      this.#segments = [...current.slice(0, at), cleaned, ...current.slice(at + group.length)];
      this.#tailCache.evictBelow(current[at + group.length]!.baseOffset);
      await this.#retireSegments(group);
      await cleaned.changeFileSuffix('');
      await this.#context.fs.syncDirectory(this.dir);
      return true;
    });
  }

  /** Makes everything written so far durable and advances the recovery point. */
  flush(): Promise<void> {
    return this.#queue.run(async () => {
      if (this.#offline) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.dir} is offline after an I/O error`);
      try {
        await this.#flushTo(this.#logEndOffset);
      } catch (error) {
        this.#takeOffline('a flush failed', error);
        throw storageError(`flush of ${this.dir} failed`, error);
      }
    });
  }

  async #flushTo(offset: number): Promise<void> {
    // Independent syncs run at once; the recovery point moves only when all of them are done (a
    // crash before then recovers from the old point and re-derives epochs from the batches).
    const syncs: Promise<void>[] = [];
    for (const segment of this.#segments) {
      if (segment.baseOffset >= offset) break;
      if (segment.isLoaded && segment.nextOffset > this.#recoveryPoint) syncs.push(segment.flush());
    }
    if (this.#dirNeedsSync) {
      this.#dirNeedsSync = false;
      syncs.push(this.#context.fs.syncDirectory(this.dir));
    }
    syncs.push(this.leaderEpochCache.persist());
    await Promise.all(syncs);
    // Never past the log end: a truncation may have come between a roll and its flush.
    const covered = Math.min(offset, this.#logEndOffset);
    if (covered > this.#recoveryPoint) this.#recoveryPoint = covered;
    if (offset >= this.#logEndOffset) this.#unflushedMessages = 0;
  }

  /**
   * Removes every batch at or after `offset` (replication and recovery). Callers await it before
   * appending again. A batch straddling `offset` is removed whole.
   */
  async truncateTo(offset: number): Promise<void> {
    this.#truncating += 1;
    try {
      await this.#maintenance.run(() => this.#queue.run(async () => {
        if (offset >= this.#logEndOffset) return;
        if (offset <= this.#segments[0]!.baseOffset) return this.#truncateFullyAndStartAt(offset);
        await deleteProducerSnapshotsAbove(this.#snapshotStore, offset);
        let deleted = false;
        while (this.#active.baseOffset >= offset) {
          await this.#segments.pop()!.delete();
          deleted = true;
        }
        await this.#active.ensureLoaded(this.#rebuildSegment);
        await this.#active.truncateTo(offset);
        this.#afterTruncation(this.#active.nextOffset);
        await this.#makeTruncationDurable(deleted);
      }));
    } finally {
      this.#truncating -= 1;
    }
  }

  /** Deletes every segment and starts an empty log at `offset` (a follower far behind the leader). */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    this.#truncating += 1;
    try {
      await this.#maintenance.run(() => this.#queue.run(() => this.#truncateFullyAndStartAt(offset)));
    } finally {
      this.#truncating -= 1;
    }
  }

  async #truncateFullyAndStartAt(offset: number): Promise<void> {
    await deleteProducerSnapshotsAbove(this.#snapshotStore, undefined);
    for (const segment of this.#segments.splice(0)) await segment.delete();
    this.#segments.push(await Segment.create(this.#context, this.dir, offset, segmentSettings(this.#config), this.#context.clock.nowMs()));
    this.#logStartOffset = offset;
    this.leaderEpochCache.clear();
    this.#afterTruncation(offset);
    await this.#makeTruncationDurable(true);
  }

  /**
   * A truncation is made durable before anything is appended over it. Otherwise a power loss can
   * keep some of the new pages and bring back the old content of others: a batch whose header
   * (leader epoch included, which the CRC does not cover) is new and whose body is the truncated
   * batch's passes recovery and hides the divergence from epoch-based truncation. Truncations
   * are rare (a follower meeting a new leader), so their fsync costs little.
   */
  async #makeTruncationDurable(segmentsChanged: boolean): Promise<void> {
    await this.#active.flush();
    if (segmentsChanged) {
      this.#dirNeedsSync = false;
      await this.#context.fs.syncDirectory(this.dir);
    }
  }

  #afterTruncation(logEndOffset: number): void {
    this.#logEndOffset = logEndOffset;
    this.#nextOffset = logEndOffset;
    this.#logStartOffset = Math.min(this.#logStartOffset, logEndOffset);
    this.#highWatermark = Math.min(this.#highWatermark, logEndOffset);
    this.#recoveryPoint = Math.min(this.#recoveryPoint, logEndOffset);
    this.#tailCache.truncateFrom(logEndOffset);
    this.producerState.truncateFrom(logEndOffset);
    this.leaderEpochCache.truncateFromEnd(logEndOffset);
  }

  /**
   * Flushes everything, seals the active segment's time index and releases file handles. An offline
   * log writes nothing more and rejects, so its log dir gets no clean-shutdown marker and the next
   * start recovers it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelFlushTimer?.();
    if (this.#offline) {
      await this.abandon();
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.dir} is offline after an I/O error`);
    }
    await this.#queue.run(async () => {
      // Appends queued before close still complete; a drain re-queued behind us would find nothing.
      while (this.#pending.length > 0) await this.#drainOnce();
      // A segment never loaded since start-up was sealed by the close before.
      if (this.#active.isLoaded) this.#active.seal();
      await this.#flushTo(this.#logEndOffset);
      await this.#active.flush();
      await writeProducerSnapshot(this.#snapshotStore, this.producerState, this.#logEndOffset, this.segmentBaseOffsets);
    });
    await this.#maintenance.idle();
    await this.#deletePendingFilesNow();
    await this.#releaseResources();
  }

  /** On close nobody reads the `.deleted` files any more: remove them without waiting. */
  async #deletePendingFilesNow(): Promise<void> {
    for (const segment of [...this.#pendingFileDeletions.keys()]) await this.#deleteFiles(segment);
  }

  /**
   * Refuses every append from now on and resolves once those already queued are written: the log
   * stays readable, its end fixed (a move to another log directory copies the rest, then closes it).
   */
  async seal(): Promise<void> {
    this.#sealed = true;
    await this.flush();
  }

  /** Stops the log without flushing (it is about to be deleted); queued appends fail. */
  async abandon(): Promise<void> {
    this.#closed = true;
    this.#cancelFlushTimer?.();
    const failed = this.#pending.splice(0);
    this.#pendingBytes = 0;
    for (const pending of failed) pending.reject(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `log ${this.dir} was deleted`));
    await this.#queue.idle();
    await this.#maintenance.idle();
    for (const cancel of this.#pendingFileDeletions.values()) cancel();
    this.#pendingFileDeletions.clear();
    await this.#releaseResources();
  }

  /** Removes the log directory and everything in it. */
  async delete(): Promise<void> {
    await this.abandon();
    await this.#context.fs.removeTree(this.dir);
  }

  async #releaseResources(): Promise<void> {
    this.#tailCache.clear();
    await this.#context.handles.invalidateUnder(`${this.dir}/`);
  }

  /** Index of the last segment whose base offset is <= `offset`, or -1. */
  #segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.#segments.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.#segments[middle]!.baseOffset <= offset) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }
}

function segmentSettings(config: LogConfig): { segmentIndexBytes: number; indexIntervalBytes: number } {
  return { segmentIndexBytes: config.segmentIndexBytes, indexIntervalBytes: config.indexIntervalBytes };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

function storageError(message: string, cause: unknown): KafkaError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `${message}: ${detail}`);
}

/**
 * Where a log ends, when a clean shutdown recorded it: the recovery-point checkpoint (written after
 * every log was flushed and closed, so it is each log's end then) and the producer snapshot the
 * close wrote at that same offset must agree, and the offset must lie in the active segment.
 * Otherwise (a new log, a missing or older checkpoint, files changed since) undefined: read it.
 */
function cleanLogEndOffset(options: PartitionLogLoadOptions, activeBaseOffset: number, fileNames: readonly string[]): number | undefined {
  const recoveryPoint = options.recoveryPoint;
  if (!options.hadCleanShutdown || options.create === true || recoveryPoint === undefined || recoveryPoint < activeBaseOffset) return undefined;
  const newestSnapshot = Math.max(-1, ...fileNames.map((name) => parseOffsetFileName(name, PRODUCER_SNAPSHOT_FILE_SUFFIX) ?? -1));
  return newestSnapshot === recoveryPoint ? recoveryPoint : undefined;
}

/**
 * Base offsets of the segments in `dir`, sorted, and the names of the files left; drops stranded
 * temporary files and orphan indexes.
 */
async function scanSegmentFiles(fs: FileSystem, dir: string, logger: Logger): Promise<{ baseOffsets: number[]; fileNames: string[] }> {
  const listed = (await fs.readdir(dir)).filter((entry) => !entry.isDirectory).map((entry) => entry.name);
  const names = await completeInterruptedSwaps(fs, dir, listed, logger);
  const baseOffsets = new Set<number>();
  for (const name of names) {
    const baseOffset = parseOffsetFileName(name, LOG_FILE_SUFFIX);
    if (baseOffset !== undefined) baseOffsets.add(baseOffset);
  }
  const fileNames: string[] = [];
  for (const name of names) {
    const indexBase = parseOffsetFileName(name, INDEX_FILE_SUFFIX) ?? parseOffsetFileName(name, TIME_INDEX_FILE_SUFFIX);
    const stranded = STRANDED_SUFFIXES.some((suffix) => name.endsWith(suffix));
    const orphan = indexBase !== undefined && !baseOffsets.has(indexBase);
    if (!stranded && !orphan) {
      fileNames.push(name);
      continue;
    }
    logger.warn('removing stranded file', { file: joinPath(dir, name) });
    await removeIfPresent(fs, joinPath(dir, name));
  }
  return { baseOffsets: [...baseOffsets].sort((a, b) => a - b), fileNames };
}
