// Which leader epoch wrote which offsets: `epoch -> startOffset` entries kept in memory and
// persisted to the partition's leader-epoch-checkpoint. Followers use endOffsetFor to find where
// their log diverges from the leader's (OffsetsForLeaderEpoch).
import type { FileSystem } from '../base/file-system.js';
import type { Logger } from '../base/logger.js';
import { type EpochEntry, readLeaderEpochCheckpoint, writeLeaderEpochCheckpoint } from './checkpoint-file.js';
import { SerialQueue } from './serial-queue.js';

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEndOffset {
  readonly epoch: number;
  readonly endOffset: number;
}

export interface LeaderEpochCacheOptions {
  fs: FileSystem;
  path: string;
  logger: Logger;
  /** The log's end offset, which ends the latest epoch. */
  logEndOffset: () => number;
}

export class LeaderEpochCache {
  #entries: EpochEntry[];
  readonly #options: LeaderEpochCacheOptions;
  readonly #writes = new SerialQueue();
  #dirty = false;
  /** What the checkpoint file holds, when known: a change that ends up back there writes nothing. */
  #persisted: readonly EpochEntry[] | undefined;

  constructor(options: LeaderEpochCacheOptions, entries: readonly EpochEntry[] = [], persisted = false) {
    this.#options = options;
    this.#entries = sanitize(entries);
    this.#persisted = persisted ? this.#entries : undefined;
  }

  static async load(options: LeaderEpochCacheOptions): Promise<LeaderEpochCache> {
    const entries = await readLeaderEpochCheckpoint(options.fs, options.path, options.logger);
    return new LeaderEpochCache(options, entries ?? [], entries !== undefined);
  }

  get entries(): readonly EpochEntry[] {
    return this.#entries;
  }

  /** The newest epoch, or -1 before any leader wrote. */
  get latestEpoch(): number {
    return this.#entries.at(-1)?.epoch ?? UNDEFINED_EPOCH;
  }

  get earliestEntry(): EpochEntry | undefined {
    return this.#entries[0];
  }

  /**
   * Records that `epoch` starts at `startOffset`. Entries that conflict (a newer or equal epoch, or
   * a start offset at or past this one) are dropped, keeping both columns increasing.
   * Returns whether anything changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0) return false;
    const latest = this.#entries.at(-1);
    if (latest !== undefined && latest.epoch === epoch && startOffset >= latest.startOffset) return false;
    if (latest !== undefined && epoch < latest.epoch && startOffset >= latest.startOffset) return false;
    this.#entries = this.#entries.filter((entry) => entry.epoch < epoch && entry.startOffset < startOffset);
    this.#entries.push({ epoch, startOffset });
    this.#changed();
    return true;
  }

  /**
   * The largest epoch at or below `requestedEpoch` and the offset where it ended (the next epoch's
   * start, or the log end offset for the latest epoch), as Kafka answers OffsetsForLeaderEpoch.
   */
  endOffsetFor(requestedEpoch: number): EpochEndOffset {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH) return undefinedAnswer;
    const latest = this.#entries.at(-1);
    if (latest !== undefined && latest.epoch === requestedEpoch) {
      return { epoch: requestedEpoch, endOffset: this.#options.logEndOffset() };
    }
    const higherIndex = this.#entries.findIndex((entry) => entry.epoch > requestedEpoch);
    if (higherIndex < 0) return undefinedAnswer;
    const higher = this.#entries[higherIndex]!;
    if (higherIndex === 0) return { epoch: requestedEpoch, endOffset: higher.startOffset };
    return { epoch: this.#entries[higherIndex - 1]!.epoch, endOffset: higher.startOffset };
  }

  /** The epoch that wrote `offset`, or -1 when the cache does not cover it. */
  epochForOffset(offset: number): number {
    let epoch = UNDEFINED_EPOCH;
    for (const entry of this.#entries) {
      if (entry.startOffset > offset) break;
      epoch = entry.epoch;
    }
    return epoch;
  }

  /** Forgets epochs starting at or after `endOffset` (the log was truncated there). */
  truncateFromEnd(endOffset: number): void {
    const kept = this.#entries.filter((entry) => entry.startOffset < endOffset);
    if (kept.length === this.#entries.length) return;
    this.#entries = kept;
    this.#changed();
  }

  /** Forgets offsets before `startOffset` (the log start moved): the epoch covering it now starts there. */
  truncateFromStart(startOffset: number): void {
    const firstKept = this.#entries.findIndex((entry) => entry.startOffset >= startOffset);
    const covering = firstKept < 0 ? this.#entries.length - 1 : firstKept - 1;
    if (covering < 0) return;
    const kept = this.#entries.slice(covering);
    kept[0] = { epoch: kept[0]!.epoch, startOffset };
    this.#entries = kept;
    this.#changed();
  }

  clear(): void {
    if (this.#entries.length === 0) return;
    this.#entries = [];
    this.#changed();
  }

  /**
   * Writes the checkpoint if it changed since the last write; resolves once it is durable. The log
   * calls it whenever it flushes, before its recovery point moves, and after recovery.
   */
  persist(): Promise<void> {
    return this.#writes.run(async () => {
      if (!this.#dirty) return;
      this.#dirty = false;
      const entries = this.#entries;
      if (this.#persisted !== undefined && sameEntries(entries, this.#persisted)) return;
      try {
        await writeLeaderEpochCheckpoint(this.#options.fs, this.#options.path, entries);
        this.#persisted = [...entries];
      } catch (error) {
        this.#dirty = true;
        this.#persisted = undefined;
        throw error;
      }
    });
  }

  /**
   * A change is written with the log's next flush, not at once: until then, a crash recovers from
   * the recovery point, which the flush has not moved past these offsets, and recovery assigns the
   * epochs again from the batches' stamped leader epochs; truncations are applied again at load.
   * So creating or loading thousands of logs writes no checkpoint, and assign stays synchronous.
   */
  #changed(): void {
    this.#dirty = true;
  }
}

function sameEntries(a: readonly EpochEntry[], b: readonly EpochEntry[]): boolean {
  return a.length === b.length && a.every((entry, index) => entry.epoch === b[index]!.epoch && entry.startOffset === b[index]!.startOffset);
}

function sanitize(entries: readonly EpochEntry[]): EpochEntry[] {
  const result: EpochEntry[] = [];
  for (const entry of entries) {
    const last = result.at(-1);
    if (last === undefined || (entry.epoch > last.epoch && entry.startOffset > last.startOffset)) result.push(entry);
  }
  return result;
}
