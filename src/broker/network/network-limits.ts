// The bounds the network layer enforces on every client (DESIGN.md decision 8), with Kafka's
// configuration names where Kafka has one.
import { assert } from '../../base/assert.js';

export interface NetworkLimits {
  /** socket.request.max.bytes: the largest request frame accepted; larger ones close the connection. */
  socketRequestMaxBytes: number;
  /** connections.max.idle.ms: connections with no bytes read or written for this long are closed. */
  connectionsMaxIdleMs: number;
  /** Per connection: above this many unsent response bytes the socket is no longer read. */
  maxQueuedResponseBytes: number;
  /** Pipelined requests of one connection being processed or waiting for their turn to be written. */
  maxInFlightRequestsPerConnection: number;
  /** New connections beyond this count are closed as soon as they are accepted. */
  maxConnections: number;
}

/**
 * Kafka's defaults for its own keys; five in-flight requests matches the Java producer's
 * max.in.flight.requests.per.connection, the deepest pipelining common clients do.
 */
export const defaultNetworkLimits: Readonly<NetworkLimits> = Object.freeze({
  socketRequestMaxBytes: 104_857_600,
  connectionsMaxIdleMs: 600_000,
  maxQueuedResponseBytes: 16 * 1024 * 1024,
  maxInFlightRequestsPerConnection: 5,
  maxConnections: 10_000,
});

/** The largest frame the 4-byte signed size prefix can describe. */
export const maxFrameSizeBytes = 0x7fff_ffff;

export function assertValidNetworkLimits(limits: NetworkLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    assert(Number.isSafeInteger(value) && value > 0, `network limit ${name} must be a positive integer, got ${value}`);
  }
  assert(limits.socketRequestMaxBytes <= maxFrameSizeBytes, 'socketRequestMaxBytes must fit a signed 32-bit size');
}
