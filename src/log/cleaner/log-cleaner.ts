// The log cleaner (Kafka's LogCleaner with one cleaner thread): picks the dirtiest compacted log,
// fills the fixed-size offset map from its dirty part (never past the last stable offset, and
// without records of aborted transactions), rewrites the segments below the map's end into
// `.cleaned` segments and swaps them in atomically, then records the new first dirty offset in the
// cleaner-offset-checkpoint. It works in bounded steps (one batch), yielding to the event
// loop between them, and never holds the append lock: produce and fetch keep flowing.
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import { isControlBatch, readBaseOffset, readLastOffset, readMaxTimestamp, readProducerId, readRecordsCount } from '../../protocol/records/batch-header.js';
import { decodeRecordBatch } from '../../protocol/records/record-batch.js';
import type { BatchHeaderInfo } from '../batch-scanner.js';
import { isCompacted } from '../log-config.js';
import {
  CLEANER_BACKOFF_MS_DEFAULT,
  CLEANER_DEDUPE_BUFFER_BYTES_DEFAULT,
  CLEANER_MAX_DECOMPRESSED_BYTES,
  CLEANER_PRODUCERS_MAX,
  CLEANER_RECORDS_PER_CLOCK_CHECK,
  CLEANER_SLICE_MS,
  CLEANER_WRITE_BUFFER_BYTES,
} from '../log-limits.js';
import type { PartitionLog } from '../partition-log.js';
import { RELATIVE_OFFSET_MAX, type Segment } from '../segment.js';
import { AbortedBatches } from './aborted-batches.js';
import { deleteHorizonOf, type FilterContext, filterBatch } from './batch-filter.js';
import { type CleanableRange, cleanableRange, needsCleaning } from './cleanable-range.js';
import type { CleanerCheckpoint } from './cleaner-checkpoint.js';
import { OffsetMap } from './offset-map.js';
import { segmentBatches } from './segment-batches.js';

export interface LogCleanerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly checkpoint: CleanerCheckpoint;
  /** The logs to consider (the cleaner skips those not compacted). */
  readonly logs: () => Iterable<PartitionLog>;
  /** log.cleaner.dedupe.buffer.size: the offset map's memory. */
  readonly dedupeBufferBytes?: number;
  /** log.cleaner.backoff.ms: the pause when no log needs cleaning. */
  readonly backoffMs?: number;
  /** Gives the event loop a turn between steps (setImmediate in production). */
  readonly yieldToEventLoop?: () => Promise<void>;
}

/** What one pass over one log did. */
export interface CleanerPassStats {
  readonly topic: string;
  readonly partition: number;
  readonly firstDirtyOffset: number;
  /** The new first dirty offset (the offset map's end). */
  readonly endOffset: number;
  readonly segmentsCleaned: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly recordsRemoved: number;
  readonly tombstonesRemoved: number;
  readonly durationMs: number;
}

/**
 * Named points in the swap of each segment group where a test can hold the cleaner (crash tests
 * kill the broker there): `before-swap`, the group's `.cleaned` segment is written and fsynced and
 * nothing is swapped yet; `swap-committed`, it has been renamed to `.swap` (the commit point) and
 * the old segments are still in place.
 */
export type CleanerPausePoint = 'before-swap' | 'swap-committed';

export interface CleanerPause {
  readonly point: CleanerPausePoint;
  readonly topic: string;
  readonly partition: number;
  /** Base offset of the group's first segment (the cleaned segment's base offset). */
  readonly baseOffset: number;
}

/** Awaited at every pause point; the cleaner goes on when it settles. */
export type CleanerPauseHook = (pause: CleanerPause) => Promise<void> | void;

let pauseHookForTests: CleanerPauseHook | undefined;

/**
 * Tests only: installs the hook every cleaner in this process awaits at its pause points (a crash
 * test's child process installs it before starting the broker). Returns a function removing it.
 * Production code never calls this, and without a hook the pause points cost a comparison.
 */
export function setCleanerPauseHookForTests(hook: CleanerPauseHook | undefined): () => void {
  pauseHookForTests = hook;
  return () => {
    if (pauseHookForTests === hook) pauseHookForTests = undefined;
  };
}

async function pausePoint(point: CleanerPausePoint, log: PartitionLog, baseOffset: number): Promise<void> {
  if (pauseHookForTests !== undefined) await pauseHookForTests({ point, topic: log.topic, partition: log.partition, baseOffset });
}

class CleaningAborted extends Error {
  override name = 'CleaningAborted';
}

interface PassState {
  readonly log: PartitionLog;
  readonly nowMs: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  segmentsCleaned: number;
  earliestHorizonMs: number;
}

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

export class LogCleaner {
  readonly #options: LogCleanerOptions;
  readonly #yield: () => Promise<void>;
  #offsetMap: OffsetMap | undefined;
  /** The earliest delete horizon among tombstones each log still holds (Infinity: none). */
  readonly #deleteHorizons = new WeakMap<PartitionLog, number>();
  /** Logs a pass failed on for good (a batch larger than the offset map); skipped until restart. */
  readonly #uncleanable = new WeakSet<PartitionLog>();
  readonly #aborting = new WeakSet<PartitionLog>();
  #current: { log: PartitionLog; pass: Promise<unknown> } | undefined;
  #cancelTimer: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #running = false;
  /** Set by stop(): the pass in progress ends at its next step. */
  #stopping = false;
  #passes = 0;
  /** When the cleaner last gave the event loop a turn (monotonic). */
  #sliceStartedMs = 0;
  readonly #passListeners: ((stats: CleanerPassStats) => void)[] = [];

  constructor(options: LogCleanerOptions) {
    this.#options = options;
    this.#yield = options.yieldToEventLoop ?? immediate;
  }

  /** Cleaning passes completed since start. */
  get passCount(): number {
    return this.#passes;
  }

  /** Calls `listener` after every completed pass (metrics, tests). */
  onPass(listener: (stats: CleanerPassStats) => void): void {
    this.#passListeners.push(listener);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    this.#schedule(0);
  }

  /** Stops after the current step; a half-written `.cleaned` segment is deleted. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopping = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    await this.#loop;
  }

  /** Aborts a pass on `log` (about to be deleted) and forgets its checkpoint entry. */
  async forget(log: PartitionLog): Promise<void> {
    if (this.#current?.log === log) {
      this.#aborting.add(log);
      await this.#current.pass.catch(() => undefined);
    }
    await this.#options.checkpoint.remove(log.topic, log.partition);
  }

  /**
   * Cleans every log that needs it, one pass each, and resolves with what was done (tests and
   * tools; the background loop does the same on its own).
   */
  async cleanNow(): Promise<CleanerPassStats[]> {
    await this.#loop;
    const stats: CleanerPassStats[] = [];
    for (const log of [...this.#options.logs()]) {
      const range = await this.#dueRange(log);
      if (range !== undefined) stats.push(await this.#runPass(log, range));
    }
    return stats;
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    this.#cancelTimer = this.#options.clock.schedule(delayMs, () => {
      this.#cancelTimer = undefined;
      this.#loop = this.#cleanDirtiest().then(
        (cleaned) => this.#schedule(cleaned ? 0 : (this.#options.backoffMs ?? CLEANER_BACKOFF_MS_DEFAULT)),
        (error: unknown) => {
          this.#options.logger.error('log cleaner step failed', { error });
          this.#schedule(this.#options.backoffMs ?? CLEANER_BACKOFF_MS_DEFAULT);
        },
      );
    });
  }

  /** Cleans the log that needs it most; false when none does. */
  async #cleanDirtiest(): Promise<boolean> {
    let best: { log: PartitionLog; range: CleanableRange; score: number } | undefined;
    for (const log of [...this.#options.logs()]) {
      if (!this.#running) return false;
      const range = await this.#dueRange(log);
      if (range === undefined) continue;
      // A log past max.compaction.lag.ms or a delete horizon goes first, then the dirtiest.
      const score = range.maxCompactionLagExceeded || range.dirtyBytes === 0 ? 2 : range.dirtyRatio;
      if (best === undefined || score > best.score) best = { log, range, score };
    }
    if (best === undefined) return false;
    await this.#runPass(best.log, best.range);
    return true;
  }

  /** The range to clean when `log` needs cleaning now, else undefined. */
  async #dueRange(log: PartitionLog): Promise<CleanableRange | undefined> {
    if (log.isClosed || !isCompacted(log.config) || this.#uncleanable.has(log)) return undefined;
    const nowMs = this.#options.clock.nowMs();
    const range = await cleanableRange(log, this.#options.checkpoint.get(log.topic, log.partition), nowMs);
    if (needsCleaning(range, log.config.minCleanableDirtyRatio)) return range;
    const horizonMs = await this.#earliestDeleteHorizon(log, range);
    return horizonMs <= nowMs ? range : undefined;
  }

  /**
   * The earliest delete horizon of tombstones in the clean part; read from the batches once per
   * process (after a restart it is not known), then kept up to date by each pass.
   */
  async #earliestDeleteHorizon(log: PartitionLog, range: CleanableRange): Promise<number> {
    const known = this.#deleteHorizons.get(log);
    if (known !== undefined) return known;
    let earliest = Number.POSITIVE_INFINITY;
    for (const segment of log.segments()) {
      if (segment.baseOffset >= range.firstDirtyOffset) break;
      for await (const { batch } of segmentBatches(segment)) {
        const horizonMs = deleteHorizonOf(batch);
        if (horizonMs !== undefined) earliest = Math.min(earliest, horizonMs);
      }
      await this.#yield();
    }
    this.#deleteHorizons.set(log, earliest);
    return earliest;
  }

  #runPass(log: PartitionLog, range: CleanableRange): Promise<CleanerPassStats> {
    const pass = this.#clean(log, range).finally(() => {
      this.#current = undefined;
      this.#aborting.delete(log);
    });
    this.#current = { log, pass };
    return pass.catch((error: unknown) => {
      if (!(error instanceof CleaningAborted)) throw error;
      this.#options.logger.info('cleaning aborted', { topic: log.topic, partition: log.partition, reason: error.message });
      return emptyStats(log, range);
    });
  }

  async #clean(log: PartitionLog, range: CleanableRange): Promise<CleanerPassStats> {
    const startedMs = this.#options.clock.monotonicMs();
    const state: PassState = { log, nowMs: this.#options.clock.nowMs(), bytesRead: 0, bytesWritten: 0, recordsRemoved: 0, tombstonesRemoved: 0, segmentsCleaned: 0, earliestHorizonMs: Number.POSITIVE_INFINITY };
    const offsetMap = this.#map();
    offsetMap.clear();
    // Every transaction starting below the range's end is complete (the range stops at the last
    // stable offset), so the aborted ones are all known now.
    const aborted = new AbortedBatches(log.producerState.abortedTransactions(0, range.firstUncleanableOffset));
    const endOffset = await this.#buildOffsetMap(state, offsetMap, range, aborted);
    const filterContext = this.#filterContext(state, offsetMap, endOffset, aborted);
    for (const group of groupSegments(log.segments(), endOffset, log.config.segmentBytes)) {
      await this.#cleanGroup(state, group, filterContext);
    }
    await this.#options.checkpoint.update(log.topic, log.partition, endOffset);
    this.#deleteHorizons.set(log, state.earliestHorizonMs);
    this.#passes += 1;
    const stats: CleanerPassStats = {
      topic: log.topic,
      partition: log.partition,
      firstDirtyOffset: range.firstDirtyOffset,
      endOffset,
      segmentsCleaned: state.segmentsCleaned,
      bytesRead: state.bytesRead,
      bytesWritten: state.bytesWritten,
      recordsRemoved: state.recordsRemoved,
      tombstonesRemoved: state.tombstonesRemoved,
      durationMs: this.#options.clock.monotonicMs() - startedMs,
    };
    this.#options.logger.info('cleaned log', { ...stats });
    for (const listener of this.#passListeners) listener(stats);
    return stats;
  }

  #map(): OffsetMap {
    // Allocated on the first pass only: brokers without compacted topics never pay for it.
    this.#offsetMap ??= new OffsetMap(this.#options.dedupeBufferBytes ?? CLEANER_DEDUPE_BUFFER_BYTES_DEFAULT);
    return this.#offsetMap;
  }

  /**
   * Puts every key of the dirty range into the map, batch by batch, until the range ends or the
   * map is full. Returns the offset where it stopped: the pass cleans below it.
   */
  async #buildOffsetMap(state: PassState, offsetMap: OffsetMap, range: CleanableRange, aborted: AbortedBatches): Promise<number> {
    const { firstDirtyOffset: start, firstUncleanableOffset: end } = range;
    for (const segment of state.log.segments()) {
      if (segment.baseOffset >= end) break;
      if (segment.nextOffset <= start) continue;
      for await (const { batch } of segmentBatches(segment)) {
        const baseOffset = readBaseOffset(batch);
        if (baseOffset >= end) return end;
        // Aborted records never become a key's latest value: they would shadow a committed one.
        if (readLastOffset(batch) < start || isControlBatch(batch) || aborted.contains(batch)) continue;
        if (readRecordsCount(batch) > offsetMap.remaining) {
          if (offsetMap.size > 0) return Math.max(start, baseOffset);
          this.#uncleanable.add(state.log);
          throw new Error(`a batch of ${readRecordsCount(batch)} records does not fit log.cleaner.dedupe.buffer.size (${offsetMap.maxEntries} keys)`);
        }
        await this.#putKeys(batch, offsetMap, start);
        await this.#step(state);
      }
    }
    return end;
  }

  async #putKeys(batch: Buffer, offsetMap: OffsetMap, start: number): Promise<void> {
    const decoded = await decodeRecordBatch(batch, 0, { verifyCrc: false, maxDecompressedBytes: CLEANER_MAX_DECOMPRESSED_BYTES });
    for (let index = 0; index < decoded.records.length; index += 1) {
      const record = decoded.records[index]!;
      if (record.key !== null && record.offset >= start) offsetMap.put(record.key, record.offset);
      if (index % CLEANER_RECORDS_PER_CLOCK_CHECK === CLEANER_RECORDS_PER_CLOCK_CHECK - 1) await this.#pauseIfSliceUsed();
    }
  }

  /**
   * Gives the event loop a turn once the cleaner has worked CLEANER_SLICE_MS since the last one,
   * so a large batch (a thousand keys to hash) never holds produce and fetch for its whole length.
   */
  readonly #pauseIfSliceUsed = (): Promise<void> | undefined => {
    if (this.#options.clock.monotonicMs() - this.#sliceStartedMs < CLEANER_SLICE_MS) return undefined;
    return this.#yieldNow();
  };

  async #yieldNow(): Promise<void> {
    await this.#yield();
    this.#sliceStartedMs = this.#options.clock.monotonicMs();
  }

  #filterContext(state: PassState, offsetMap: OffsetMap, endOffset: number, aborted: AbortedBatches): FilterContext {
    let producers: Promise<(producerId: number, baseOffset: number) => boolean> | undefined;
    return {
      offsetMap,
      endOffset,
      isAborted: (batch) => aborted.contains(batch),
      nowMs: state.nowMs,
      deleteRetentionMs: state.log.config.deleteRetentionMs,
      pauseIfSliceUsed: this.#pauseIfSliceUsed,
      isLastBatchOfProducer: async (producerId, baseOffset) => {
        // Read the log for producer state only when a producer's batch would otherwise vanish.
        producers ??= this.#lastBatchesOfProducers(state);
        return (await producers)(producerId, baseOffset);
      },
    };
  }

  /** The last data batch of each producer id in the whole log (Kafka keeps it for idempotence). */
  async #lastBatchesOfProducers(state: PassState): Promise<(producerId: number, baseOffset: number) => boolean> {
    const lastBatch = new Map<number, number>();
    for (const segment of state.log.segments()) {
      for await (const { batch } of segmentBatches(segment)) {
        const producerId = readProducerId(batch);
        if (producerId < 0 || isControlBatch(batch)) continue;
        lastBatch.set(producerId, readBaseOffset(batch));
        // Too many producers to track within bounds: keep every producer batch this pass.
        if (lastBatch.size > CLEANER_PRODUCERS_MAX) return () => true;
      }
      await this.#step(state);
    }
    return (producerId, baseOffset) => lastBatch.get(producerId) === baseOffset;
  }

  /** Rewrites one group of segments into one `.cleaned` segment and swaps it in. */
  async #cleanGroup(state: PassState, group: readonly Segment[], filterContext: FilterContext): Promise<void> {
    const cleaned = await state.log.createCleanedSegment(group[0]!.baseOffset);
    try {
      const writer = new CleanedSegmentWriter(cleaned);
      for (const segment of group) {
        for await (const { batch } of segmentBatches(segment)) {
          state.bytesRead += batch.length;
          const outcome = await filterBatch(batch, filterContext);
          state.recordsRemoved += outcome.recordsRemoved;
          state.tombstonesRemoved += outcome.tombstonesRemoved;
          if (outcome.deleteHorizonMs !== undefined) state.earliestHorizonMs = Math.min(state.earliestHorizonMs, outcome.deleteHorizonMs);
          if (outcome.batch !== undefined) await writer.add(outcome.batch);
          await this.#step(state);
        }
      }
      await writer.finish();
      state.bytesWritten += cleaned.size;
      await this.#step(state);
      await pausePoint('before-swap', state.log, cleaned.baseOffset);
      const swapped = await state.log.replaceSegments(group, cleaned, () => pausePoint('swap-committed', state.log, cleaned.baseOffset));
      if (swapped) state.segmentsCleaned += group.length;
    } catch (error) {
      await cleaned.delete().catch(() => undefined);
      throw error;
    }
  }

  /** Ends a bounded step: gives the event loop a turn, then stops if the cleaner or the log is going. */
  async #step(state: PassState): Promise<void> {
    await this.#yieldNow();
    if (state.log.isClosed) throw new CleaningAborted('log closed');
    if (this.#aborting.has(state.log)) throw new CleaningAborted('log deleted');
    if (this.#stopping) throw new CleaningAborted('cleaner stopping');
  }
}

/**
 * Consecutive non-active segments below `endOffset`, grouped so each group fits one segment
 * (segment.bytes before cleaning, relative offsets within an index entry), as Kafka groups them.
 */
export function groupSegments(segments: readonly Segment[], endOffset: number, segmentBytes: number): Segment[][] {
  const candidates = segments.slice(0, -1).filter((segment) => segment.baseOffset < endOffset);
  const groups: Segment[][] = [];
  let current: Segment[] = [];
  let bytes = 0;
  for (const segment of candidates) {
    const fits = bytes + segment.size <= segmentBytes && segment.nextOffset - 1 - (current[0]?.baseOffset ?? segment.baseOffset) <= RELATIVE_OFFSET_MAX;
    if (current.length > 0 && !fits) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(segment);
    bytes += segment.size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Gathers kept batches and appends them to the `.cleaned` segment in bounded writes. */
class CleanedSegmentWriter {
  readonly #segment: Segment;
  #batches: Buffer[] = [];
  #headers: BatchHeaderInfo[] = [];
  #bufferedBytes = 0;

  constructor(segment: Segment) {
    this.#segment = segment;
  }

  async add(batch: Buffer): Promise<void> {
    const baseOffset = readBaseOffset(batch);
    this.#headers.push({ position: this.#segment.size + this.#bufferedBytes, size: batch.length, baseOffset, lastOffset: readLastOffset(batch), maxTimestamp: readMaxTimestamp(batch) });
    this.#batches.push(batch);
    this.#bufferedBytes += batch.length;
    if (this.#bufferedBytes >= CLEANER_WRITE_BUFFER_BYTES) await this.#write();
  }

  /** Writes what is left, seals the time index and makes all three files durable. */
  async finish(): Promise<void> {
    await this.#write();
    this.#segment.seal();
    await this.#segment.flush();
  }

  async #write(): Promise<void> {
    if (this.#batches.length === 0) return;
    await this.#segment.append(this.#batches, this.#headers);
    this.#batches = [];
    this.#headers = [];
    this.#bufferedBytes = 0;
  }
}

function emptyStats(log: PartitionLog, range: CleanableRange): CleanerPassStats {
  return {
    topic: log.topic,
    partition: log.partition,
    firstDirtyOffset: range.firstDirtyOffset,
    endOffset: range.firstDirtyOffset,
    segmentsCleaned: 0,
    bytesRead: 0,
    bytesWritten: 0,
    recordsRemoved: 0,
    tombstonesRemoved: 0,
    durationMs: 0,
  };
}
