// The measures of one client quota, one per quota entity (Kafka's quota "sensors"): which entity a
// client (user and client id) belongs to, resolved from the metadata image in Kafka's order of
// precedence and cached until the quotas change, and that entity's measure (a Rate for the byte
// rates and request_percentage, a TokenBucket for controller_mutation_rate), created on first use.
// Clients resolving to the same entity share its measure: every client id of a user with a
// user-level quota shares one. Measures idle for an hour are dropped, as Kafka expires inactive
// sensors, and there are at most MAX_SENSORS of them (the oldest is dropped to make room).
import type { Clock } from '../../base/clock.js';

/** The quota that applies to a client: its bound and the entity it belongs to. */
export interface ResolvedQuota {
  readonly bound: number;
  /** Names the quota entity (e.g. `user=alice`): clients resolving to the same one share its measure. */
  readonly entity: string;
  /** The entity's user and client id as Kafka's quota metrics tag them (empty where the entity has none). */
  readonly tags?: QuotaTags;
}

export interface QuotaTags {
  readonly user: string;
  readonly clientId: string;
}

/** Where quotas come from: the metadata image, resolved for one key. */
export interface QuotaSource {
  /** Changes whenever quotas may have (cached resolutions are dropped then). */
  version(): number;
  resolve(user: string, clientId: string): ResolvedQuota | undefined;
  /** Whether any entity has this key's quota (a cheap test before measuring anything); absent: assume so. */
  anySet?(): boolean;
}

const SENSOR_IDLE_EXPIRY_MS = 3_600_000;
const MAX_SENSORS = 100_000;
const MAX_CACHED_RESOLUTIONS = 100_000;

interface Sensor<Measure> {
  readonly measure: Measure;
  readonly tags: QuotaTags | undefined;
  lastRecordedMs: number;
}

export class QuotaSensors<Measure> {
  readonly #sensors = new Map<string, Sensor<Measure>>();
  readonly #resolutions = new Map<string, ResolvedQuota | null>();
  #version = Number.NaN;
  #lastSweepMs = 0;

  constructor(
    private readonly source: QuotaSource,
    private readonly clock: Clock,
    private readonly create: () => Measure,
  ) {}

  /** The quota that applies to the client (`user`: the principal's name; `clientId`: the request's), cached per quota version. */
  resolve(user: string, clientId: string): ResolvedQuota | undefined {
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

  /** The measure of `resolved`'s entity, created on first use; marks it used now. */
  measureOf(resolved: ResolvedQuota): Measure {
    const now = this.clock.monotonicMs();
    let sensor = this.#sensors.get(resolved.entity);
    if (sensor === undefined) {
      this.#sweep(now);
      sensor = { measure: this.create(), tags: resolved.tags, lastRecordedMs: now };
      this.#sensors.set(resolved.entity, sensor);
    }
    sensor.lastRecordedMs = now;
    return sensor.measure;
  }

  /** Whether any entity may have this quota (false: nothing needs measuring). */
  anySet(): boolean {
    return this.source.anySet?.() ?? true;
  }

  /** How many measures are kept (for tests and metrics). */
  get size(): number {
    return this.#sensors.size;
  }

  /** Every kept measure with its entity's tags (the metrics endpoint's per-client quota figures). */
  *measures(): IterableIterator<{ tags: QuotaTags | undefined; measure: Measure }> {
    for (const { tags, measure } of this.#sensors.values()) yield { tags, measure };
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
