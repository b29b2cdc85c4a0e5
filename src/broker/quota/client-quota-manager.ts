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
import { type QuotaSource, QuotaSensors } from './quota-sensors.js';

export type { QuotaSource, ResolvedQuota } from './quota-sensors.js';

export interface ClientQuotaManagerOptions {
  /**
   * The longest throttle time (ms); by default the whole window (samples x sample size). Kafka's
   * request quota bounds it by one sample (ClientRequestQuotaManager's maxThrottleTimeMs).
   */
  readonly maxThrottleMs?: number;
}

export class ClientQuotaManager {
  readonly #sensors: QuotaSensors<ReplicationQuota>;
  readonly #maxThrottleMs: number;

  constructor(source: QuotaSource, clock: Clock, window: QuotaWindow, options: ClientQuotaManagerOptions = {}) {
    this.#sensors = new QuotaSensors(source, clock, () => new ReplicationQuota(clock, window));
    this.#maxThrottleMs = options.maxThrottleMs ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Records `value` (bytes, or a request's percentage-seconds) for the client (`user`: the
   * principal's name; `clientId`: the request's) and returns how long to throttle it, in ms: 0
   * without a quota or within it. With `unrecordIfThrottled` the value is taken back when the
   * client is throttled (a Fetch answered empty, as Kafka answers a throttled fetch).
   */
  recordAndGetThrottleTimeMs(user: string, clientId: string, value: number, options: { unrecordIfThrottled?: boolean } = {}): number {
    const quota = this.#measure(user, clientId);
    if (quota === undefined) return 0;
    quota.record(value);
    const throttleMs = Math.min(quota.throttleTimeMs(), this.#maxThrottleMs);
    if (throttleMs > 0 && options.unrecordIfThrottled) quota.unrecord(value);
    return throttleMs;
  }

  /** Records `value` without asking for a throttle time (Kafka's recordNoThrottle: work done after the answer was decided). */
  record(user: string, clientId: string, value: number): void {
    this.#measure(user, clientId)?.record(value);
  }

  /** Takes back `value` recorded just now for the client (Kafka's unrecordQuotaSensor). */
  unrecord(user: string, clientId: string, value: number): void {
    this.#measure(user, clientId)?.unrecord(value);
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

  /** The client's measure with its current bound, or undefined when no quota applies to it. */
  #measure(user: string, clientId: string): ReplicationQuota | undefined {
    const resolved = this.#sensors.resolve(user, clientId);
    if (resolved === undefined) return undefined;
    const quota = this.#sensors.measureOf(resolved);
    quota.setRate(resolved.bound);
    return quota;
  }
}
