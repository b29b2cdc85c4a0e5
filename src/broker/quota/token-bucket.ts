// Kafka's TokenBucket (KIP-599), the measure of controller_mutation_rate. A Rate cannot serve that
// quota: one request creating hundreds of partitions lands in one sample, so the rate stays above
// the quota until that sample leaves the window (the whole window, samples x sample size), however
// long the throttle time it announced. The bucket instead holds tokens, refilled at the quota's
// rate up to a burst of quota x samples x sample size (in seconds); each mutation takes one token,
// and the count may go below zero, so that a topic with more partitions than the burst is still
// admitted once. It is exhausted while the count is negative, for -tokens / quota seconds.
// A new bucket starts full (Kafka's starts empty at time 0, and its first refill at the wall
// clock's time fills it).
import type { Clock } from '../../base/clock.js';
import type { QuotaWindow } from '../../replication/replication-quota.js';

export class TokenBucket {
  #tokens: number | undefined;
  #lastUpdateMs = 0;

  constructor(
    private readonly clock: Clock,
    private readonly window: QuotaWindow,
  ) {}

  /** The tokens left now under `quota` (per second), after refilling for the time since the last look. */
  tokens(quota: number): number {
    return this.#refill(quota);
  }

  /** Takes `value` tokens now (the count may go negative; never above the burst). */
  record(quota: number, value: number): void {
    this.#tokens = Math.min(this.#burst(quota), this.#refill(quota) - value);
  }

  #burst(quota: number): number {
    return this.window.samples * (this.window.sampleMs / 1000) * quota;
  }

  #refill(quota: number): number {
    const now = this.clock.monotonicMs();
    const burst = this.#burst(quota);
    this.#tokens = this.#tokens === undefined ? burst : Math.min(burst, this.#tokens + (quota * (now - this.#lastUpdateMs)) / 1000);
    this.#lastUpdateMs = now;
    return this.#tokens;
  }
}

/** Kafka's ControllerMutationQuotaManager.throttleTimeMs: for an exhausted bucket, how long until its count is back at zero, in ms. */
export function throttleTimeMs(tokens: number, quota: number): number {
  return Math.max(0, Math.round((-tokens / quota) * 1000));
}
