// request_percentage (KIP-124, Kafka's ClientRequestQuotaManager): how much of the broker's request
// handling a client (user and client id) may occupy, as a percentage of one thread's time over the
// quota window (quota.window.num samples of quota.window.size.seconds). Kafka records each request's
// time on a request handler thread (and its network thread's time, which never throttles the answer
// it is measured on), in "percent-seconds", against a Rate with the quota as its bound; when the rate
// is above it the answer's throttle time is Kafka's (rate - quota) / quota of the measured window,
// at most one sample (quota.window.size.seconds), and the connection is muted for as long.
//
// Node has one thread and no handler pool, so Conveyor measures the time the request occupies the
// event loop synchronously, with performance.now() (src/broker/request-dispatcher.ts):
// - from the moment the dispatcher is handed the frame (the SASL screen, header and body decoding)
//   to the return of the handler's synchronous part: all of a synchronous handler (Metadata,
//   ListOffsets, ...), and an asynchronous one up to its first wait. This is the time the throttle
//   decision counts.
// - encoding the answer, recorded after the decision as Kafka records network-thread time: it
//   counts for the next requests, never throttling the one it was measured on.
// Waits are not counted, as Kafka counts thread time, not waiting: an acks=all produce in purgatory,
// a fetch long poll, a metadata-log commit, a file read on the thread pool. Nor is the work an
// asynchronous handler does between its waits (Node cannot attribute it to a request without
// async hooks on every request), nor reading and writing the socket.
//
// Exempt, as Kafka's KafkaApis exempts them (sendResponseExemptThrottle, its SASL authenticator):
// inter-broker cluster actions served by the broker listener (WriteTxnMarkers, a follower's Fetch),
// Produce with acks=0 (no answer), SaslHandshake and SaslAuthenticate, and whatever a connection
// sends before it has authenticated (ApiVersions on a SASL listener). Every other request counts,
// ApiVersions included (Kafka throttles it once the client is authenticated).
import { ApiKey } from '../../protocol/messages/index.js';
import type { ConnectionInfo } from '../network/index.js';

/** APIs whose time never counts against request_percentage. */
const EXEMPT_APIS: ReadonlySet<number> = new Set([ApiKey.SaslHandshake, ApiKey.SaslAuthenticate, ApiKey.WriteTxnMarkers]);

/** Whether a request of `apiKey` on `connection` is exempt from request_percentage whatever it carries. */
export function exemptFromRequestQuota(apiKey: number, connection: ConnectionInfo): boolean {
  return EXEMPT_APIS.has(apiKey) || !connection.authenticated;
}

/** Whether a Fetch comes from a follower replica (exempt; Kafka's isFromFollower). */
export function isFollowerFetch(request: unknown): boolean {
  const { replicaId = -1, replicaState } = request as { replicaId?: number; replicaState?: { replicaId: number } };
  return (replicaState?.replicaId ?? replicaId) >= 0;
}

/**
 * `ms` of handling as the value Kafka records (its nanosToPercentage): percent of one thread's
 * second, so that the rate over the window is the percentage of one thread's time.
 */
export function percentSeconds(ms: number): number {
  return ms / 10;
}
