// Kafka's replication quotas (KIP-73, ReplicationQuotaManager); the byte-rate measure is also the
// client quotas' (src/broker/quota/client-quota-manager.ts): a byte rate that replication of
// throttled partitions may not exceed on this broker, one quota for the leader side (what it sends
// to followers) and one for the follower side (what its fetchers take in). A partition is throttled
// on a side when its topic's leader.replication.throttled.replicas (or follower...) lists `*` or
// `partition:thisBroker`; the rate is leader.replication.throttled.rate (or follower...), per broker
// over the cluster default, Long.MAX_VALUE (unthrottled) unless set. Only replicas outside the ISR
// are held back; the bytes of every throttled partition count.
//
// The rate is Kafka's Rate over a SampledStat: `samples` samples of `sampleMs` each; the measured
// rate is the bytes in the live samples over the time since the oldest one began, counted as at
// least (samples - 1) whole samples, so a burst after a quiet period is spread over that window.
import type { Clock } from '../base/clock.js';

/** Kafka's Long.MAX_VALUE default (as a double): no throttle. */
export const UNTHROTTLED_RATE = 9223372036854775807;

export interface QuotaWindow {
  /** replication.quota.window.num */
  readonly samples: number;
  /** replication.quota.window.size.seconds, in ms */
  readonly sampleMs: number;
}

/** Kafka's defaults: 11 samples of 1 s. */
export const DEFAULT_QUOTA_WINDOW: QuotaWindow = { samples: 11, sampleMs: 1000 };

interface Sample {
  startMs: number;
  bytes: number;
}

/** One side's byte-rate quota over a sliding window of samples. */
export class ReplicationQuota {
  #bound = Number.POSITIVE_INFINITY;
  readonly #samples: Sample[] = [];
  #current = -1;

  constructor(
    private readonly clock: Clock,
    private readonly window: QuotaWindow = DEFAULT_QUOTA_WINDOW,
  ) {
    if (!(window.samples >= 1) || !(window.sampleMs >= 1)) throw new Error(`a quota window needs at least one sample of at least 1 ms, got ${window.samples} x ${window.sampleMs} ms`);
  }

  /** The bound in bytes per second; Infinity when unthrottled. */
  get bound(): number {
    return this.#bound;
  }

  /** Whether no bound applies (the rate is Long.MAX_VALUE, Kafka's default). */
  get unlimited(): boolean {
    return this.#bound === Number.POSITIVE_INFINITY;
  }

  /** Sets the bound in bytes per second; Long.MAX_VALUE (or more) lifts it. The recorded bytes stay. */
  setRate(bytesPerSecond: number): void {
    this.#bound = bytesPerSecond >= UNTHROTTLED_RATE || Number.isNaN(bytesPerSecond) ? Number.POSITIVE_INFINITY : Math.max(0, bytesPerSecond);
  }

  /** Counts `bytes` of throttled replication traffic now. */
  record(bytes: number): void {
    if (bytes <= 0) return;
    const now = this.clock.monotonicMs();
    let sample = this.#current < 0 ? undefined : this.#samples[this.#current];
    if (!sample || now - sample.startMs >= this.window.sampleMs) {
      this.#current = (this.#current + 1) % this.window.samples;
      sample = { startMs: now, bytes: 0 };
      this.#samples[this.#current] = sample;
    }
    sample.bytes += bytes;
  }

  /** Takes back `bytes` recorded just now (Kafka's unrecordQuotaSensor: a fetch answered without its data). */
  unrecord(bytes: number): void {
    const sample = this.#current < 0 ? undefined : this.#samples[this.#current];
    if (sample) sample.bytes = Math.max(0, sample.bytes - bytes);
  }

  /** The measured rate in bytes per second. */
  rate(): number {
    const { total, windowMs } = this.#measure();
    return total === 0 ? 0 : total / (windowMs / 1000);
  }

  /**
   * Kafka's QuotaUtils.throttleTime: how long the client must wait for the measured rate to fall
   * back to the bound, `(rate - bound) / bound` of the measured window, at most the whole window
   * (samples x sample size); 0 within the bound or when unthrottled.
   */
  throttleTimeMs(): number {
    if (this.unlimited) return 0;
    const { total, windowMs } = this.#measure();
    const rate = total === 0 ? 0 : total / (windowMs / 1000);
    if (rate <= this.#bound) return 0;
    const throttle = this.#bound <= 0 ? Number.POSITIVE_INFINITY : ((rate - this.#bound) / this.#bound) * windowMs;
    return Math.round(Math.min(throttle, this.window.samples * this.window.sampleMs));
  }

  /** Whether nothing was recorded within the whole window (a sensor that may be dropped). */
  idle(): boolean {
    return this.#measure().total === 0;
  }

  /** The bytes in the live samples, and the time they are spread over (Kafka's Rate.windowSize). */
  #measure(): { total: number; windowMs: number } {
    const now = this.clock.monotonicMs();
    const expireMs = this.window.samples * this.window.sampleMs;
    let total = 0;
    let oldestStartMs = now;
    for (const sample of this.#samples) {
      // A sample older than the whole window no longer counts.
      if (now - sample.startMs >= expireMs) continue;
      total += sample.bytes;
      oldestStartMs = Math.min(oldestStartMs, sample.startMs);
    }
    let elapsedMs = now - oldestStartMs;
    const fullSamples = Math.floor(elapsedMs / this.window.sampleMs);
    if (fullSamples < this.window.samples - 1) elapsedMs += (this.window.samples - 1 - fullSamples) * this.window.sampleMs;
    return { total, windowMs: Math.max(elapsedMs, 1) };
  }

  /** Whether the measured rate is above the bound (never when unthrottled). */
  isExceeded(): boolean {
    return !this.unlimited && this.rate() > this.#bound;
  }
}

/** Where a side's throttle reads its settings: the metadata image and dynamic broker configs. */
export interface ThrottleSettings {
  /** Changes whenever the answers below may have (the metadata image's version). */
  version(): number;
  /** The configured rate in bytes per second (Long.MAX_VALUE: unthrottled). */
  rate(): number;
  /** The topic's throttled-replicas list for this side, as stored (`*`, `p:b,...`), or undefined. */
  throttledReplicas(topic: string): string | undefined;
}

/** A topic's throttled partitions on this broker: every one, or those listed. */
type ThrottledPartitions = 'all' | ReadonlySet<number>;
const NONE: ReadonlySet<number> = new Set();

/**
 * Kafka's parseThrottledPartitions: `*` throttles every partition; otherwise the partitions of the
 * `partition:broker` entries that name `brokerId`.
 */
export function throttledPartitions(list: string | undefined, brokerId: number): ThrottledPartitions {
  if (list === undefined) return NONE;
  const entries = list.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.includes('*')) return 'all';
  const partitions = new Set<number>();
  for (const entry of entries) {
    const [partition, broker] = entry.split(':');
    if (Number(broker) === brokerId && /^\d+$/.test(partition ?? '')) partitions.add(Number(partition));
  }
  return partitions.size === 0 ? NONE : partitions;
}

/**
 * One side's throttle on one broker: the quota, and which partitions it applies to, refreshed from
 * the settings whenever their version moves. `active()` is the cheap test the fetch paths make
 * first: false while the rate is unthrottled, and then nothing is looked up or recorded.
 */
export class ReplicationThrottle {
  readonly quota: ReplicationQuota;
  #version = Number.NaN;
  readonly #topics = new Map<string, ThrottledPartitions>();

  constructor(
    private readonly settings: ThrottleSettings,
    private readonly brokerId: number,
    clock: Clock,
    window: QuotaWindow = DEFAULT_QUOTA_WINDOW,
  ) {
    this.quota = new ReplicationQuota(clock, window);
  }

  /** Whether a rate is set on this side (else nothing is throttled or recorded). */
  active(): boolean {
    this.#refresh();
    return !this.quota.unlimited;
  }

  /** Whether `topic`-`partitionIndex` is in this side's throttled set on this broker. */
  isThrottled(topic: string, partitionIndex: number): boolean {
    this.#refresh();
    let partitions = this.#topics.get(topic);
    if (partitions === undefined) {
      partitions = throttledPartitions(this.settings.throttledReplicas(topic), this.brokerId);
      this.#topics.set(topic, partitions);
    }
    return partitions === 'all' || partitions.has(partitionIndex);
  }

  #refresh(): void {
    const version = this.settings.version();
    if (version === this.#version) return;
    this.#version = version;
    this.#topics.clear();
    this.quota.setRate(this.settings.rate());
  }
}
