// Retention: which of a log's oldest segments retention.ms, retention.bytes and the log start
// offset no longer keep (Kafka's deletableSegments), and the scheduler that applies it to every
// log each log.retention.check.interval.ms. Whole segments only, never the active one.
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import { hasDeleteRetention, type LogConfig } from './log-config.js';
import { RETENTION_CHECK_INTERVAL_MS_DEFAULT } from './log-limits.js';

/** What retention needs to know about a segment (loaded). */
export interface RetentionSegment {
  readonly baseOffset: number;
  readonly nextOffset: number;
  readonly size: number;
  /** The max timestamp in the segment (or when it was opened, if it has none). */
  readonly largestTimestamp: number;
}

export interface RetentionView {
  /** Oldest first; the last is the active segment. */
  readonly segments: readonly RetentionSegment[];
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly logEndOffset: number;
  readonly config: LogConfig;
  readonly nowMs: number;
}

export interface RetentionDecision {
  /** How many of the oldest segments to delete (never the active one). */
  readonly segmentCount: number;
  /** Kafka's reason words, for the log line. */
  readonly reason: string;
  /** Every segment, the active one included, is past retention.ms: roll, then delete them all. */
  readonly rollActiveFirst: boolean;
}

/** Decides the deletable prefix of the log; the three rules each give a prefix and the longest wins. */
export function retentionDecision(view: RetentionView): RetentionDecision {
  const candidates = committedNonActiveSegments(view);
  const byStart = countWhile(candidates, (segment, index) => nextBaseOffset(view, index) <= view.logStartOffset || segment.nextOffset <= view.logStartOffset);
  let byTime = 0;
  let bySize = 0;
  let rollActiveFirst = false;
  if (hasDeleteRetention(view.config)) {
    const expired = (segment: RetentionSegment) => view.nowMs - segment.largestTimestamp > view.config.retentionMs;
    byTime = countWhile(candidates, expired);
    rollActiveFirst = byTime === view.segments.length - 1 && activeSegmentIsExpired(view, expired);
    bySize = countBeyondRetentionBytes(view, candidates);
  }
  const segmentCount = Math.max(byStart, byTime, bySize);
  const reason = segmentCount === 0 ? 'none' : segmentCount === byTime ? `retention.ms ${view.config.retentionMs}` : segmentCount === bySize ? `retention.bytes ${view.config.retentionBytes}` : `log start offset ${view.logStartOffset}`;
  return { segmentCount, reason, rollActiveFirst };
}

/** Non-active segments wholly below the high watermark: only committed data is ever deleted. */
function committedNonActiveSegments(view: RetentionView): readonly RetentionSegment[] {
  const nonActive = view.segments.slice(0, -1);
  const committed = countWhile(nonActive, (_segment, index) => nextBaseOffset(view, index) <= view.highWatermark);
  return nonActive.slice(0, committed);
}

function nextBaseOffset(view: RetentionView, index: number): number {
  return view.segments[index + 1]?.baseOffset ?? view.logEndOffset;
}

/** The active segment holds data, all of it committed and past retention.ms. */
function activeSegmentIsExpired(view: RetentionView, expired: (segment: RetentionSegment) => boolean): boolean {
  const active = view.segments.at(-1)!;
  return active.size > 0 && active.nextOffset <= view.highWatermark && expired(active);
}

/** Oldest segments to drop so the log (active segment included) fits retention.bytes. */
function countBeyondRetentionBytes(view: RetentionView, candidates: readonly RetentionSegment[]): number {
  if (view.config.retentionBytes < 0) return 0;
  let excess = view.segments.reduce((sum, segment) => sum + segment.size, 0) - view.config.retentionBytes;
  return countWhile(candidates, (segment) => {
    if (excess - segment.size < 0) return false;
    excess -= segment.size;
    return true;
  });
}

function countWhile<T>(items: readonly T[], predicate: (item: T, index: number) => boolean): number {
  let count = 0;
  while (count < items.length && predicate(items[count]!, count)) count += 1;
  return count;
}

/** The logs retention runs over, and what it does after deleting (checkpoint the log start offsets). */
export interface RetentionTarget {
  logs(): Iterable<{ readonly isClosed: boolean; readonly dir: string; deleteExpiredSegments(nowMs: number): Promise<number> }>;
  afterDeletion(): Promise<void>;
}

export interface RetentionSchedulerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly target: RetentionTarget;
  /** log.retention.check.interval.ms; Infinity never runs it on its own (tests call checkNow). */
  readonly checkIntervalMs?: number;
}

/** Runs retention over every log each interval, one log at a time, on the Clock port. */
export class RetentionScheduler {
  readonly #options: RetentionSchedulerOptions;
  #cancelTimer: (() => void) | undefined;
  #running: Promise<number> | undefined;
  #stopped = true;
  /** Set by stop(): a check in progress ends after the log it is on. */
  #closing = false;

  constructor(options: RetentionSchedulerOptions) {
    this.#options = options;
  }

  get intervalMs(): number {
    return this.#options.checkIntervalMs ?? RETENTION_CHECK_INTERVAL_MS_DEFAULT;
  }

  start(): void {
    this.#stopped = false;
    this.#arm();
  }

  /** Stops the timer and waits for a check in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#closing = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** One retention pass over every log now; resolves with the number of segments deleted. */
  checkNow(): Promise<number> {
    this.#running ??= this.#checkAll().finally(() => (this.#running = undefined));
    return this.#running;
  }

  #arm(): void {
    if (this.#stopped || !Number.isFinite(this.intervalMs)) return;
    this.#cancelTimer = this.#options.clock.schedule(this.intervalMs, () => {
      this.#cancelTimer = undefined;
      this.checkNow()
        .catch((error: unknown) => this.#options.logger.error('retention check failed', { error }))
        .finally(() => this.#arm());
    });
  }

  async #checkAll(): Promise<number> {
    const { clock, logger, target } = this.#options;
    let deleted = 0;
    for (const log of [...target.logs()]) {
      if (this.#closing) break;
      if (log.isClosed) continue;
      try {
        deleted += await log.deleteExpiredSegments(clock.nowMs());
      } catch (error) {
        logger.error('retention failed for a log', { dir: log.dir, error });
      }
    }
    if (deleted > 0) await target.afterDeletion();
    return deleted;
  }
}
