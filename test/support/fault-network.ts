// Network-side fault helpers: a peek at the broker's per-connection counters (queued response
// bytes, buffered request bytes, in-flight requests), a healthy client's round trip with a
// deadline, and raw sockets that misbehave (never read, trickle bytes, sit idle).
import { type Socket, connect } from 'node:net';
import type { Broker } from '../../src/broker/broker.js';
import type { ConnectionStats } from '../../src/broker/network/index.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { MetadataApi } from '../../src/protocol/messages/index.js';
import { withTimeout } from '../../src/testing/workload.js';

interface SocketServerView {
  connectionCount(): number;
  connectionStats(): ConnectionStats[];
}

/** The broker's socket server (a private field: tests look inside, production code never does). */
export function socketServerOf(broker: Broker): SocketServerView {
  const server = (broker as unknown as { socketServer?: SocketServerView }).socketServer;
  if (!server || typeof server.connectionStats !== 'function') throw new Error('Broker no longer exposes socketServer.connectionStats()');
  return server;
}

export interface ConnectionTotals {
  connections: number;
  queuedResponseBytes: number;
  peakQueuedResponseBytes: number;
  bufferedRequestBytes: number;
  inFlightRequests: number;
}

export function connectionTotals(broker: Broker): ConnectionTotals {
  const stats = socketServerOf(broker).connectionStats();
  return {
    connections: stats.length,
    queuedResponseBytes: stats.reduce((sum, each) => sum + each.queuedResponseBytes, 0),
    peakQueuedResponseBytes: Math.max(0, ...stats.map((each) => each.peakQueuedResponseBytes)),
    bufferedRequestBytes: stats.reduce((sum, each) => sum + each.bufferedRequestBytes, 0),
    inFlightRequests: Math.max(0, ...stats.map((each) => each.inFlightRequests)),
  };
}

/** A fresh connection's Metadata round trip; rejects past `deadlineMs`. Returns its latency. */
export async function healthyRoundTrip(address: string, deadlineMs = 2_000): Promise<number> {
  const startedAt = performance.now();
  const connection = await withTimeout(KafkaConnection.open(connectTcp, address, 'healthy'), deadlineMs, 'healthy connect');
  try {
    await withTimeout(connection.send(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }), deadlineMs, 'healthy Metadata');
    return performance.now() - startedAt;
  } finally {
    connection.close();
  }
}

/** Opens a raw socket to `address` (host:port) and resolves once connected. */
export function openSocket(address: string): Promise<Socket> {
  const separator = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.slice(0, separator), port: Number(address.slice(separator + 1)) });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves once `socket` is closed, whoever closed it. */
export function closed(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}
