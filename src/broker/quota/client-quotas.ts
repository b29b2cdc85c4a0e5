// The client quotas a broker enforces on requests (Kafka's QuotaManagers): producer_byte_rate on
// the bytes of each Produce request, consumer_byte_rate on the record bytes each consumer Fetch
// answers (a follower's fetches count against the replication quotas instead), request_percentage
// on the time each request occupies the broker (request-quota.ts), and controller_mutation_rate on
// the partitions CreateTopics, CreatePartitions and DeleteTopics create or delete on the active
// controller (controller-mutation-quota.ts; the handlers record it per topic).
//
// The request dispatcher asks `throttleFor` once per request. For a client under some quota it
// gets a RequestThrottle, which records the request's measures when the answer is ready and
// returns its throttle time: the largest of the quotas' (Kafka's max of the bandwidth, request and
// controller throttle times), a throttle the handler already put in the answer included (the
// controller mutation quota's). The throttle time goes into the response's throttleTimeMs and the
// connection is muted for as long (src/broker/network), unless the request came in an Envelope:
// the forwarding broker mutes its client's connection then (request-dispatcher.ts). A throttled
// consumer Fetch is answered empty, its bytes not counted, as Kafka does; a Produce is appended and
// counted. With no quota set anywhere (`anyQuota`) requests skip every lookup.
import type { Clock } from '../../base/clock.js';
import { QuotaKey, resolveQuota } from '../../metadata/client-quotas.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import { ApiKey } from '../../protocol/messages/index.js';
import { DEFAULT_QUOTA_WINDOW, type QuotaWindow } from '../../replication/replication-quota.js';
import type { ConnectionInfo } from '../network/index.js';
import { ClientQuotaManager } from './client-quota-manager.js';
import { type ControllerMutationQuota, ControllerMutationQuotaManager } from './controller-mutation-quota.js';
import type { QuotaSource } from './quota-sensors.js';
import { exemptFromRequestQuota, isFollowerFetch, percentSeconds } from './request-quota.js';

/**
 * Where the quotas of `key` come from: the image's ClientQuotaRecords, resolved in Kafka's order
 * of precedence; clients whose resolution has the same metric tags (Kafka's quotaMetricTags)
 * share one measure. A NaN or unbounded value is no quota.
 */
export function quotaSource(image: MetadataImage, key: string): QuotaSource {
  let anySetVersion = Number.NaN;
  let anySet = false;
  return {
    version: () => image.quotaVersion,
    resolve: (user, clientId) => {
      const resolved = resolveQuota(image, key, user, clientId);
      if (resolved === undefined || !(resolved.bound > 0) || !Number.isFinite(resolved.bound)) return undefined;
      return { bound: resolved.bound, entity: `${resolved.user}\u0000${resolved.clientId}`, tags: { user: resolved.user, clientId: resolved.clientId } };
    },
    anySet: () => {
      if (anySetVersion !== image.quotaVersion) {
        anySetVersion = image.quotaVersion;
        anySet = false;
        for (const { values } of image.clientQuotas.values()) if (values.has(key)) anySet = true;
      }
      return anySet;
    },
  };
}

/** The four client quotas' sources in one image (producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate). */
export function clientQuotaSources(image: MetadataImage): ClientQuotaSources {
  return {
    produce: quotaSource(image, QuotaKey.PRODUCER_BYTE_RATE),
    fetch: quotaSource(image, QuotaKey.CONSUMER_BYTE_RATE),
    request: quotaSource(image, QuotaKey.REQUEST_PERCENTAGE),
    controllerMutation: quotaSource(image, QuotaKey.CONTROLLER_MUTATION_RATE),
  };
}

/** The principal's name as Kafka's quotas know it (User:alice → alice). */
export function quotaUser(principal: string): string {
  return principal.slice(principal.indexOf(':') + 1);
}

/** The record bytes a Fetch response carries (each partition's records: one buffer, or the chunks read). */
function fetchedBytes(response: unknown): number {
  let bytes = 0;
  for (const topic of (response as { responses?: { partitions: { records?: Buffer | Buffer[] | null }[] }[] }).responses ?? []) {
    for (const { records } of topic.partitions) {
      if (Array.isArray(records)) for (const chunk of records) bytes += chunk.length;
      else bytes += records?.length ?? 0;
    }
  }
  return bytes;
}

/** How one request of a client under some quota is throttled. */
export interface RequestThrottle {
  /**
   * Records the request's measures once its answer is ready (`response`; undefined for a Produce
   * with acks=0) and returns its throttle time in ms: the largest of its quotas', and of a
   * throttle time already in the answer. `handlingMs` is the time the request occupied the broker
   * so far (request_percentage). May empty a throttled Fetch's answer.
   */
  throttleMs(request: unknown, response: unknown, handlingMs: number): number;
  /**
   * Counts `handlingMs` more of the request's time, spent after its throttle time was decided
   * (encoding its answer): Kafka's network-thread time, which never throttles the answer it is
   * measured on.
   */
  recordLate(handlingMs: number): void;
}

/** The measures of the quotas that apply to one request's client. */
class ClientRequestThrottle implements RequestThrottle {
  /** Whether this request's time counts against request_percentage (decided with its answer). */
  #timed = false;

  constructor(
    private readonly apiKey: number,
    private readonly user: string,
    private readonly clientId: string,
    private readonly requestBytes: number,
    /** producer_byte_rate or consumer_byte_rate, for a Produce or Fetch under it. */
    private readonly bytes: ClientQuotaManager | undefined,
    /** request_percentage, for a request under it that is not exempt. */
    private readonly requestTime: ClientQuotaManager | undefined,
  ) {}

  throttleMs(request: unknown, response: unknown, handlingMs: number): number {
    const { user, clientId } = this;
    const follower = this.apiKey === ApiKey.Fetch && isFollowerFetch(request);
    // Kafka's exempt requests: a Produce with acks=0 (no answer), a follower's fetch.
    this.#timed = this.requestTime !== undefined && response !== undefined && !follower;
    let throttleMs = this.#timed ? this.requestTime!.recordAndGetThrottleTimeMs(user, clientId, percentSeconds(handlingMs)) : 0;
    if (this.apiKey === ApiKey.Produce && this.bytes !== undefined) {
      throttleMs = Math.max(throttleMs, this.bytes.recordAndGetThrottleTimeMs(user, clientId, this.requestBytes));
    }
    if (response === undefined) return throttleMs;
    if (this.apiKey === ApiKey.Fetch && !follower) {
      const bytes = this.bytes === undefined ? 0 : fetchedBytes(response);
      if (this.bytes !== undefined) throttleMs = Math.max(throttleMs, this.bytes.recordAndGetThrottleTimeMs(user, clientId, bytes));
      if (throttleMs > 0) {
        // Kafka's throttled fetch (getThrottledResponse), whichever quota throttled it: the answer
        // carries the throttle time and no data, and its bytes are taken back.
        if (this.bytes !== undefined) this.bytes.unrecord(user, clientId, bytes);
        (response as { responses: unknown[] }).responses = [];
      }
    }
    return Math.max(throttleMs, (response as { throttleTimeMs?: number }).throttleTimeMs ?? 0);
  }

  recordLate(handlingMs: number): void {
    if (this.#timed) this.requestTime!.record(this.user, this.clientId, percentSeconds(handlingMs));
  }
}

/** The APIs whose handlers record controller_mutation_rate. */
const MUTATION_APIS: ReadonlySet<number> = new Set([ApiKey.CreateTopics, ApiKey.DeleteTopics, ApiKey.CreatePartitions]);

export interface ClientQuotaSources {
  readonly produce: QuotaSource;
  readonly fetch: QuotaSource;
  readonly request: QuotaSource;
  readonly controllerMutation: QuotaSource;
}

export class ClientQuotas {
  readonly produce: ClientQuotaManager;
  readonly fetch: ClientQuotaManager;
  readonly request: ClientQuotaManager;
  readonly controllerMutation: ControllerMutationQuotaManager;

  constructor(
    sources: ClientQuotaSources,
    clock: Clock,
    /** quota.window.num samples of quota.window.size.seconds: the byte rates and request_percentage. */
    window: QuotaWindow,
    /** Whether any client quota is set at all (else requests skip every lookup). */
    private readonly anyQuota: () => boolean = () => true,
    /** controller.quota.window.num samples of controller.quota.window.size.seconds (Kafka's defaults: 11 of 1 s). */
    controllerWindow: QuotaWindow = DEFAULT_QUOTA_WINDOW,
  ) {
    this.produce = new ClientQuotaManager(sources.produce, clock, window);
    this.fetch = new ClientQuotaManager(sources.fetch, clock, window);
    // Kafka's request quota throttles for at most one sample (ClientRequestQuotaManager.maxThrottleTimeMs).
    this.request = new ClientQuotaManager(sources.request, clock, window, { maxThrottleMs: window.sampleMs });
    this.controllerMutation = new ControllerMutationQuotaManager(sources.controllerMutation, clock, controllerWindow);
  }

  /** Whether requests' handling time must be measured: a request_percentage quota is set somewhere. */
  timesRequests(): boolean {
    return this.anyQuota() && this.request.anySet();
  }

  /**
   * The controller_mutation_rate quota of one CreateTopics, DeleteTopics or CreatePartitions
   * request (strict from Kafka's strictSinceVersion), or undefined when none applies to its client.
   */
  controllerMutationQuota(connection: ConnectionInfo, clientId: string | null, strict: boolean): ControllerMutationQuota | undefined {
    if (!this.anyQuota()) return undefined;
    return this.controllerMutation.quotaFor(quotaUser(connection.principal), clientId ?? '', strict);
  }

  /** How to throttle this request's answer, or undefined when no quota concerns it (its API, or this client). */
  throttleFor(apiKey: number, requestBytes: number, connection: ConnectionInfo, clientId: string | null): RequestThrottle | undefined {
    if (!this.anyQuota()) return undefined;
    // Which quotas may concern this request, before looking its client up.
    const byteRate = apiKey === ApiKey.Produce ? this.produce : apiKey === ApiKey.Fetch ? this.fetch : undefined;
    const request = this.request.anySet() && !exemptFromRequestQuota(apiKey, connection) ? this.request : undefined;
    const mutationApi = MUTATION_APIS.has(apiKey);
    if (byteRate === undefined && request === undefined && !mutationApi) return undefined;
    const user = quotaUser(connection.principal);
    const client = clientId ?? '';
    const bytes = byteRate?.appliesTo(user, client) ? byteRate : undefined;
    const requestTime = request?.appliesTo(user, client) ? request : undefined;
    // The handler puts the controller mutation quota's throttle time in its answer; the connection is muted for it.
    const mutations = mutationApi && this.controllerMutation.appliesTo(user, client);
    if (bytes === undefined && requestTime === undefined && !mutations) return undefined;
    return new ClientRequestThrottle(apiKey, user, client, requestBytes, bytes, requestTime);
  }
}
