// Kafka's ClientQuotaManager for the rate quotas: the byte rates (producer_byte_rate,
// consumer_byte_rate) and request_percentage (ClientRequestQuotaManager). What a client uses (bytes
// it sends with Produce or is sent by Fetch; the percentage of a thread's time its requests take)
// is recorded against the quota entity that applies to it (user and client id, resolved in Kafka's
// order of precedence from the metadata image's ClientQuotaRecords), and when the measured rate is
// above the quota the answer carries a throttle time: how long the rate needs to fall back to the
// quota. The broker then mutes the connection for that time after the response, as Kafka does
// (KIP-219), so a client that ignores the throttle time is held back anyway.
//
// One measure per quota entity (src/broker/quota/quota-sensors.ts). The rate is Kafka's Rate over
// quota.window.num samples of quota.window.size.seconds (src/replication/replication-quota.ts).
import type { Clock } from '../../base/clock.js';
import { type QuotaWindow, ReplicationQuota } from '../../replication/replication-quota.js';
import { type QuotaSource, QuotaSensors, type QuotaTags } from './quota-sensors.js';

export type { QuotaSource, ResolvedQuota } from './quota-sensors.js';

export interface ClientQuotaManagerOptions {
  /**
   * The longest throttle time (ms); by default the whole window (samples x sample size). Kafka's
   * request quota bounds it by one sample (ClientRequestQuotaManager's maxThrottleTimeMs).
   */
  readonly maxThrottleMs?: number;
}

/**
 * One entity's measures: what it uses against its quota, and the throttle times its requests got,
 * as a sum and a count over the same window (their ratio is Kafka's throttle-time average).
 */
interface EntityMeasures {
  readonly usage: ReplicationQuota;
  readonly throttleSum: ReplicationQuota;
  readonly throttleCount: ReplicationQuota;
}

/** One quota entity's figures for the metrics endpoint (Kafka's byte-rate or request-time, and throttle-time). */
export interface QuotaEntityFigures extends QuotaTags {
  /** The measured rate: bytes per second, or the percentage of a thread for request_percentage. */
  readonly rate: number;
  /** The average throttle time in ms of the requests recorded in the window. */
  readonly throttleTimeMs: number;
}

export class ClientQuotaManager {
  readonly #sensors: QuotaSensors<EntityMeasures>;
  readonly #maxThrottleMs: number;

  constructor(source: QuotaSource, clock: Clock, window: QuotaWindow, options: ClientQuotaManagerOptions = {}) {
    this.#sensors = new QuotaSensors(source, clock, () => ({ usage: new ReplicationQuota(clock, window), throttleSum: new ReplicationQuota(clock, window), throttleCount: new ReplicationQuota(clock, window) }));
    this.#maxThrottleMs = options.maxThrottleMs ?? Number.POSITIVE_INFINITY;
  }

  /** The figures of every entity measured (those idle for an hour are dropped). */
  figures(): QuotaEntityFigures[] {
    return [...this.#sensors.measures()].map(({ tags, measure }) => {
      const requests = measure.throttleCount.rate();
      return { user: tags?.user ?? '', clientId: tags?.clientId ?? '', rate: measure.usage.rate(), throttleTimeMs: requests === 0 ? 0 : measure.throttleSum.rate() / requests };
    });
  }

  /**
   * Records `value` (bytes, or a request's percentage-seconds) for the client (`user`: the
   * principal's name; `clientId`: the request's) and returns how long to throttle it, in ms: 0
   * without a quota or within it. With `unrecordIfThrottled` the value is taken back when the
   * client is throttled (a Fetch answered empty, as Kafka answers a throttled fetch).
   */
  recordAndGetThrottleTimeMs(user: string, clientId: string, value: number, options: { unrecordIfThrottled?: boolean } = {}): number {
    const measures = this.#measure(user, clientId);
    if (measures === undefined) return 0;
    const quota = measures.usage;
    quota.record(value);
    const throttleMs = Math.min(quota.throttleTimeMs(), this.#maxThrottleMs);
    if (throttleMs > 0 && options.unrecordIfThrottled) quota.unrecord(value);
    measures.throttleSum.record(throttleMs);
    measures.throttleCount.record(1);
    return throttleMs;
  }

  /** Records `value` without asking for a throttle time (Kafka's recordNoThrottle: work done after the answer was decided). */
  record(user: string, clientId: string, value: number): void {
    this.#measure(user, clientId)?.usage.record(value);
  }

  /** Takes back `value` recorded just now for the client (Kafka's unrecordQuotaSensor). */
  unrecord(user: string, clientId: string, value: number): void {
    this.#measure(user, clientId)?.usage.unrecord(value);
  }

  /** Whether a quota applies to the client (a cached resolution: cheap per request). */
  appliesTo(user: string, clientId: string): boolean {
    return this.#sensors.resolve(user, clientId) !== undefined;
  }

  /** Whether any entity has this quota (false: nothing needs measuring). */
  anySet(): boolean {
    return this.#sensors.anySet();
  }

  /** How many measures are kept (for tests and metrics). */
  get sensorCount(): number {
    return this.#sensors.size;
  }

  /** The client's measures, its usage with its current bound, or undefined when no quota applies to it. */
  #measure(user: string, clientId: string): EntityMeasures | undefined {
    const resolved = this.#sensors.resolve(user, clientId);
    if (resolved === undefined) return undefined;
    const measures = this.#sensors.measureOf(resolved);
    measures.usage.setRate(resolved.bound);
    return measures;
  }
}
