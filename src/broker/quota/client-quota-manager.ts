// Kafka's ClientQuotaManager for the byte-rate quotas (producer_byte_rate, consumer_byte_rate):
// the bytes a client sends (Produce) or is sent (Fetch) are recorded against the quota entity
// that applies to it (user and client id, resolved in Kafka's order of precedence from the
// metadata image's ClientQuotaRecords), and when the measured rate is above the quota the answer
// carries a throttle time: how long the rate needs to fall back to the quota. The broker then
// mutes the connection for that time after the response, as Kafka does (KIP-219), so a client
// that ignores the throttle time is held back anyway.
//
// One measure (Kafka's "sensor") per quota entity: every client id of a user with a user-level
// quota shares one. The rate is Kafka's Rate over quota.window.num samples of
// quota.window.size.seconds (src/replication/replication-quota.ts). Measures idle for an hour are
// dropped, and there are at most MAX_SENSORS of them (the oldest is dropped to make room).
import type { Clock } from '../../base/clock.js';
import { type QuotaWindow, ReplicationQuota } from '../../replication/replication-quota.js';

/** The quota that applies to a client: its bound in bytes per second and the entity it belongs to. */
export interface ResolvedQuota {
  readonly bound: number;
  /** Names the quota entity (e.g. `user=alice`): clients resolving to the same one share its measure. */
  readonly entity: string;
}

/** Where quotas come from: the metadata image, resolved for one key. */
export interface QuotaSource {
  /** Changes whenever quotas may have (cached resolutions are dropped then). */
  version(): number;
  resolve(user: string, clientId: string): ResolvedQuota | undefined;
}

const SENSOR_IDLE_EXPIRY_MS = 3_600_000;
const MAX_SENSORS = 100_000;
const MAX_CACHED_RESOLUTIONS = 100_000;

interface Sensor {
  readonly quota: ReplicationQuota;
  lastRecordedMs: number;
}

export class ClientQuotaManager {
  readonly #sensors = new Map<string, Sensor>();
  readonly #resolutions = new Map<string, ResolvedQuota | null>();
  #version = Number.NaN;
  #lastSweepMs = 0;

  constructor(
    private readonly source: QuotaSource,
    private readonly clock: Clock,
    private readonly window: QuotaWindow,
  ) {}

  /**
   * Records `bytes` for the client (`user`: the principal's name; `clientId`: the request's) and
   * returns how long to throttle it, in ms: 0 without a quota or within it. With
   * `unrecordIfThrottled` the bytes are taken back when the client is throttled (a Fetch answered
   * empty, as Kafka answers a throttled fetch).
   */
  recordAndGetThrottleTimeMs(user: string, clientId: string, bytes: number, options: { unrecordIfThrottled?: boolean } = {}): number {
    const resolved = this.#resolve(user, clientId);
    if (resolved === undefined) return 0;
    const now = this.clock.monotonicMs();
    let sensor = this.#sensors.get(resolved.entity);
    if (sensor === undefined) {
      this.#sweep(now);
      sensor = { quota: new ReplicationQuota(this.clock, this.window), lastRecordedMs: now };
      this.#sensors.set(resolved.entity, sensor);
    }
    sensor.quota.setRate(resolved.bound);
    sensor.quota.record(bytes);
    sensor.lastRecordedMs = now;
    const throttleMs = sensor.quota.throttleTimeMs();
    if (throttleMs > 0 && options.unrecordIfThrottled) sensor.quota.unrecord(bytes);
    return throttleMs;
  }

  /** Whether a quota applies to the client (a cached resolution: cheap per request). */
  appliesTo(user: string, clientId: string): boolean {
    return this.#resolve(user, clientId) !== undefined;
  }

  /** How many measures are kept (for tests and metrics). */
  get sensorCount(): number {
    return this.#sensors.size;
  }

  #resolve(user: string, clientId: string): ResolvedQuota | undefined {
    const version = this.source.version();
    if (version !== this.#version) {
      this.#version = version;
      this.#resolutions.clear();
    }
    const key = `${user}\u0000${clientId}`;
    let resolved = this.#resolutions.get(key);
    if (resolved === undefined) {
      resolved = this.source.resolve(user, clientId) ?? null;
      if (this.#resolutions.size >= MAX_CACHED_RESOLUTIONS) this.#resolutions.clear();
      this.#resolutions.set(key, resolved);
    }
    return resolved ?? undefined;
  }

  /** Drops measures idle for an hour (at most once a minute), and the oldest one when full. */
  #sweep(now: number): void {
    if (now - this.#lastSweepMs >= 60_000) {
      this.#lastSweepMs = now;
      for (const [entity, sensor] of this.#sensors) if (now - sensor.lastRecordedMs >= SENSOR_IDLE_EXPIRY_MS) this.#sensors.delete(entity);
    }
    if (this.#sensors.size >= MAX_SENSORS) {
      const oldest = this.#sensors.keys().next().value;
      if (oldest !== undefined) this.#sensors.delete(oldest);
    }
  }
}
