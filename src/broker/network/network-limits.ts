// The bounds the network layer enforces on every client (DESIGN.md decision 8), with Kafka's
// configuration names where Kafka has one: per connection (frame size, idle time, pipelining,
// queued responses), a hard cap on sockets held, and Kafka's connection limits (max.connections,
// per listener and per address, and connection creation rates; enforced by connection-quotas.ts).
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
  /**
   * A safety cap, not Kafka's max.connections: the sockets the server holds (served, waiting to be
   * served or accepted, or held before a throttled close); a new connection beyond it is closed as
   * soon as it is accepted. Kafka's limits, which make new connections wait, are ConnectionLimits.
   */
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

/** Kafka's default for every connection limit and rate (Int.MaxValue): no limit. */
export const UNLIMITED = 2_147_483_647;

/** A listener's own limits (listener.name.<listener>.*); unset ones are the broker-wide values. */
export interface ListenerConnectionLimits {
  readonly maxConnections?: number;
  readonly maxConnectionCreationRate?: number;
}

/** Kafka's connection limits (SocketServer's ConnectionQuotas, KIP-402, KIP-612). */
export interface ConnectionLimits {
  /** max.connections: at the limit, the broker stops accepting until a connection closes. */
  readonly maxConnections: number;
  /** max.connection.creation.rate: new connections per second; beyond it accepting waits. */
  readonly maxConnectionCreationRate: number;
  /** max.connections.per.ip: a new connection from an address at its limit is closed at once. */
  readonly maxConnectionsPerIp: number;
  /** max.connections.per.ip.overrides, by IP address in canonicalIp's form. */
  readonly maxConnectionsPerIpOverrides: ReadonlyMap<string, number>;
  /** listener.name.<listener>.max.connections and .max.connection.creation.rate, by listener name. */
  readonly listeners: ReadonlyMap<string, ListenerConnectionLimits>;
}

export const unlimitedConnectionLimits: ConnectionLimits = Object.freeze({
  maxConnections: UNLIMITED,
  maxConnectionCreationRate: UNLIMITED,
  maxConnectionsPerIp: UNLIMITED,
  maxConnectionsPerIpOverrides: new Map<string, number>(),
  listeners: new Map<string, ListenerConnectionLimits>(),
});

export function assertValidConnectionLimits(limits: ConnectionLimits): void {
  const counts: [string, number | undefined][] = [
    ['maxConnections', limits.maxConnections],
    ['maxConnectionCreationRate', limits.maxConnectionCreationRate],
    ['maxConnectionsPerIp', limits.maxConnectionsPerIp],
    ...[...limits.maxConnectionsPerIpOverrides].map(([ip, count]) => [`maxConnectionsPerIpOverrides ${ip}`, count] as [string, number]),
    ...[...limits.listeners].flatMap(([listener, own]) => [
      [`${listener} maxConnections`, own.maxConnections],
      [`${listener} maxConnectionCreationRate`, own.maxConnectionCreationRate],
    ] as [string, number | undefined][]),
  ];
  for (const [name, value] of counts) {
    assert(value === undefined || (Number.isSafeInteger(value) && value >= 0), `connection limit ${name} must be a non-negative integer, got ${value}`);
  }
}
