// The client quotas a broker enforces on requests (Kafka's QuotaManagers): producer_byte_rate on
// the bytes of each Produce request, consumer_byte_rate on the record bytes each consumer Fetch
// answers (a follower's fetches count against the replication quotas instead). A Fetch over its
// quota is answered empty, its bytes not counted, as Kafka does; a Produce is appended and counted. The request
// dispatcher asks `throttleFor` once per request; the answer's throttle time goes into the
// response's throttleTimeMs, and the connection is muted for as long (src/broker/network).
import type { Clock } from '../../base/clock.js';
import { resolveQuota } from '../../metadata/client-quotas.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import { ApiKey } from '../../protocol/messages/index.js';
import type { QuotaWindow } from '../../replication/replication-quota.js';
import type { ConnectionInfo } from '../network/index.js';
import { ClientQuotaManager, type QuotaSource } from './client-quota-manager.js';

/** The throttle time for a request's answer, given the decoded request and response. */
export type ThrottleOf = (request: unknown, response: unknown) => number;

/**
 * Where the quotas of `key` come from: the image's ClientQuotaRecords, resolved in Kafka's order
 * of precedence; clients whose resolution has the same metric tags (Kafka's quotaMetricTags)
 * share one measure. A NaN or unbounded value is no quota.
 */
export function quotaSource(image: MetadataImage, key: string): QuotaSource {
  return {
    version: () => image.quotaVersion,
    resolve: (user, clientId) => {
      const resolved = resolveQuota(image, key, user, clientId);
      if (resolved === undefined || !(resolved.bound > 0) || !Number.isFinite(resolved.bound)) return undefined;
      return { bound: resolved.bound, entity: `${resolved.user}\u0000${resolved.clientId}` };
    },
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

export class ClientQuotas {
  readonly produce: ClientQuotaManager;
  readonly fetch: ClientQuotaManager;

  constructor(
    sources: { produce: QuotaSource; fetch: QuotaSource },
    clock: Clock,
    window: QuotaWindow,
    /** Whether any client quota is set at all (else requests skip every lookup). */
    private readonly anyQuota: () => boolean = () => true,
  ) {
    this.produce = new ClientQuotaManager(sources.produce, clock, window);
    this.fetch = new ClientQuotaManager(sources.fetch, clock, window);
  }

  /** How to throttle this request's answer, or undefined when no quota concerns it (its API, or this client). */
  throttleFor(apiKey: number, requestBytes: number, connection: ConnectionInfo, clientId: string | null): ThrottleOf | undefined {
    if (!this.anyQuota() || (apiKey !== ApiKey.Produce && apiKey !== ApiKey.Fetch)) return undefined;
    const user = quotaUser(connection.principal);
    const client = clientId ?? '';
    if (apiKey === ApiKey.Produce) {
      if (!this.produce.appliesTo(user, client)) return undefined;
      return () => this.produce.recordAndGetThrottleTimeMs(user, client, requestBytes);
    }
    if (!this.fetch.appliesTo(user, client)) return undefined;
    return (request, response) => {
      const { replicaId = -1, replicaState } = request as { replicaId?: number; replicaState?: { replicaId: number } };
      if ((replicaState?.replicaId ?? replicaId) >= 0 || response === undefined) return 0;
      const throttleMs = this.fetch.recordAndGetThrottleTimeMs(user, client, fetchedBytes(response), { unrecordIfThrottled: true });
      // Kafka's throttled fetch (getThrottledResponse): the answer carries the throttle time and no data.
      if (throttleMs > 0) (response as { responses: unknown[] }).responses = [];
      return throttleMs;
    };
  }
}
