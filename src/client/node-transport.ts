// The Transport port over the client's framing core: requests to other nodes by node id, one
// connection per node opened on first use through a Connector (TCP from src/node, a simulated link
// in src/testing) and reopened after it breaks, with a backoff. Deadlines run on the Clock.
//
// send never retries: a request that failed may or may not have reached the node, and only the
// caller knows whether sending it again is safe and when (Raft has its own timers, a fetcher its own
// backoff). What send does is bounded: each node has a cap on requests in flight, and every request
// settles by its deadline.
import type { Clock } from '../base/clock.js';
import type { ApiDescriptor } from '../protocol/messages/index.js';
import { type Transport, TransportError, type TransportErrorKind } from '../protocol/transport.js';
import type { ByteStream, Connector } from './byte-stream.js';
import { FramedConnection } from './framed-connection.js';

/** Requests in flight to one node (waiting for its connection or its response) unless configured otherwise. */
export const MAX_IN_FLIGHT_PER_NODE = 64;
/** How long opening a connection may take unless configured otherwise. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** The wait before reconnecting after the first failure (Kafka's reconnect.backoff.ms)... */
export const RECONNECT_BACKOFF_MS = 50;
/** ...doubling with each further failure in a row, up to this (Kafka's reconnect.backoff.max.ms). */
export const RECONNECT_BACKOFF_MAX_MS = 1_000;
/** The largest response frame accepted from another node. */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export interface NodeTransportOptions {
  connect: Connector;
  clock: Clock;
  /** The client id in request headers (e.g. `conveyor-node-1`). */
  clientId: string;
  /** Node id -> `host:port`; change it later with setAddress/removeAddress. */
  addresses?: Iterable<readonly [number, string]>;
  maxInFlightPerNode?: number;
  connectTimeoutMs?: number;
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  maxResponseBytes?: number;
}

interface Waiter {
  resolve: (connection: FramedConnection) => void;
  reject: (error: TransportError) => void;
}

/** What the transport knows about one node; replaced, not mutated, when its address changes. */
interface Peer {
  readonly nodeId: number;
  readonly address: string;
  connection: FramedConnection | undefined;
  /** Sends waiting for the connection being opened; empty when none is. */
  readonly waiters: Set<Waiter>;
  dialing: boolean;
  inFlight: number;
  /** Connection failures in a row (a failed open or a broken connection); reset by a successful open. */
  failures: number;
  /** No connection attempt before this (monotonic ms). */
  retryAtMs: number;
  retired: boolean;
}

export class NodeTransport implements Transport {
  private readonly peers = new Map<number, Peer>();
  private readonly connect: Connector;
  private readonly clock: Clock;
  private readonly clientId: string;
  private readonly maxInFlightPerNode: number;
  private readonly connectTimeoutMs: number;
  private readonly reconnectBackoffMs: number;
  private readonly reconnectBackoffMaxMs: number;
  private readonly maxResponseBytes: number;
  private closed = false;

  constructor(options: NodeTransportOptions) {
    this.connect = options.connect;
    this.clock = options.clock;
    this.clientId = options.clientId;
    this.maxInFlightPerNode = options.maxInFlightPerNode ?? MAX_IN_FLIGHT_PER_NODE;
    this.connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    this.reconnectBackoffMs = options.reconnectBackoffMs ?? RECONNECT_BACKOFF_MS;
    this.reconnectBackoffMaxMs = options.reconnectBackoffMaxMs ?? RECONNECT_BACKOFF_MAX_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    for (const [nodeId, address] of options.addresses ?? []) this.setAddress(nodeId, address);
  }

  /**
   * Sends `request` to node `nodeId` and resolves with its response. Rejects with a TransportError:
   * 'unreachable' when the address is unknown or no connection could be opened before the deadline
   * (nothing was sent), 'overloaded' when the node already has its maximum in flight (nothing was
   * sent), 'timeout' when the response did not come within `timeoutMs` (the node may have processed
   * the request), 'disconnected' when the connection broke first, 'closed' after close(). Never
   * retries; the next send after a broken connection opens a new one (after the backoff, if that
   * ends before its deadline).
   */
  send<Request, Response>(
    nodeId: number,
    // biome-ignore lint/suspicious/noExplicitAny: a sender encodes requests and decodes responses only.
    api: ApiDescriptor<any, Response, Request, any>,
    version: number,
    request: Request,
    timeoutMs: number,
  ): Promise<Response> {
    if (this.closed) return Promise.reject(new TransportError('closed', nodeId, 'the transport is closed'));
    const peer = this.peers.get(nodeId);
    if (!peer) return Promise.reject(new TransportError('unreachable', nodeId, `the address of node ${nodeId} is unknown`));
    if (peer.inFlight >= this.maxInFlightPerNode) {
      return Promise.reject(new TransportError('overloaded', nodeId, `${peer.inFlight} requests already in flight to node ${nodeId}`));
    }
    peer.inFlight++;
    const deadlineMs = this.clock.monotonicMs() + timeoutMs;
    const connected = peer.connection && !peer.connection.isClosed ? Promise.resolve(peer.connection) : this.connectionTo(peer, deadlineMs);
    return connected
      .then((connection) => connection.send(api, version, request, Math.max(0, deadlineMs - this.clock.monotonicMs())))
      .finally(() => {
        peer.inFlight--;
      });
  }

  /** Sets (or changes) where node `nodeId` listens; a changed address drops the old connection ('disconnected'). */
  setAddress(nodeId: number, address: string): void {
    const current = this.peers.get(nodeId);
    if (current?.address === address) return;
    if (current) this.retire(current, 'disconnected', `the address of node ${nodeId} changed`);
    this.peers.set(nodeId, {
      nodeId,
      address,
      connection: undefined,
      waiters: new Set(),
      dialing: false,
      inFlight: 0,
      failures: 0,
      retryAtMs: Number.NEGATIVE_INFINITY,
      retired: false,
    });
  }

  /** Forgets node `nodeId`: its requests in flight fail with 'disconnected', later sends with 'unreachable'. */
  removeAddress(nodeId: number): void {
    const peer = this.peers.get(nodeId);
    if (!peer) return;
    this.peers.delete(nodeId);
    this.retire(peer, 'disconnected', `node ${nodeId} was removed`);
  }

  /** Requests in flight to node `nodeId` (waiting for its connection or its response). */
  inFlight(nodeId: number): number {
    return this.peers.get(nodeId)?.inFlight ?? 0;
  }

  /** Closes every connection; requests in flight and later sends fail with 'closed'. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) this.retire(peer, 'closed', 'the transport is closed');
    this.peers.clear();
  }

  /** The peer's connection once open, or a rejection by `deadlineMs`. */
  private connectionTo(peer: Peer, deadlineMs: number): Promise<FramedConnection> {
    const nowMs = this.clock.monotonicMs();
    if (peer.retryAtMs >= deadlineMs) {
      const waitMs = Math.ceil(peer.retryAtMs - nowMs);
      return Promise.reject(new TransportError('unreachable', peer.nodeId, `node ${peer.nodeId} failed ${peer.failures} times in a row; next connection attempt in ${waitMs} ms, after the deadline`));
    }
    return new Promise<FramedConnection>((resolve, reject) => {
      const cancelDeadline = this.clock.schedule(deadlineMs - nowMs, () => {
        peer.waiters.delete(waiter);
        reject(new TransportError('unreachable', peer.nodeId, `no connection to node ${peer.nodeId} at ${peer.address} within ${Math.round(deadlineMs - nowMs)} ms`));
      });
      const waiter: Waiter = {
        resolve: (connection) => {
          cancelDeadline();
          resolve(connection);
        },
        reject: (error) => {
          cancelDeadline();
          reject(error);
        },
      };
      peer.waiters.add(waiter);
      if (!peer.dialing) this.dial(peer, nowMs);
    });
  }

  /** Opens the peer's connection once its backoff has passed and hands it to every waiter. */
  private dial(peer: Peer, nowMs: number): void {
    peer.dialing = true;
    const start = () => {
      if (peer.retired) return;
      this.openStream(peer).then(
        (stream) => this.connected(peer, stream),
        (error: Error) => {
          if (peer.retired) return;
          this.backOff(peer);
          this.settleWaiters(peer, (waiter) => waiter.reject(new TransportError('unreachable', peer.nodeId, `cannot connect to node ${peer.nodeId} at ${peer.address}: ${error.message}`)));
        },
      );
    };
    if (peer.retryAtMs > nowMs) this.clock.schedule(peer.retryAtMs - nowMs, start);
    else start();
  }

  /** The connector's stream, bounded by the connect timeout on the clock (a stream arriving later is destroyed). */
  private openStream(peer: Peer): Promise<ByteStream> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const cancel = this.clock.schedule(this.connectTimeoutMs, () => {
        settled = true;
        reject(new Error(`connecting timed out after ${this.connectTimeoutMs} ms`));
      });
      this.connect(peer.address, this.connectTimeoutMs).then(
        (stream) => {
          if (settled) return stream.destroy();
          settled = true;
          cancel();
          resolve(stream);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          cancel();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private connected(peer: Peer, stream: ByteStream): void {
    if (peer.retired) {
      stream.destroy();
      return;
    }
    peer.failures = 0;
    const connection = new FramedConnection(stream, {
      clock: this.clock,
      clientId: this.clientId,
      nodeId: peer.nodeId,
      maxPendingRequests: this.maxInFlightPerNode,
      maxResponseBytes: this.maxResponseBytes,
      onClose: () => {
        if (peer.connection !== connection) return;
        peer.connection = undefined;
        if (!peer.retired) this.backOff(peer);
      },
    });
    peer.connection = connection;
    this.settleWaiters(peer, (waiter) => waiter.resolve(connection));
  }

  /** The next attempt waits RECONNECT_BACKOFF_MS, doubled per failure in a row, at most the maximum. */
  private backOff(peer: Peer): void {
    const backoffMs = Math.min(this.reconnectBackoffMaxMs, this.reconnectBackoffMs * 2 ** Math.min(peer.failures, 30));
    peer.failures++;
    peer.retryAtMs = this.clock.monotonicMs() + backoffMs;
  }

  private settleWaiters(peer: Peer, settle: (waiter: Waiter) => void): void {
    peer.dialing = false;
    const waiters = [...peer.waiters];
    peer.waiters.clear();
    for (const waiter of waiters) settle(waiter);
  }

  private retire(peer: Peer, kind: TransportErrorKind, message: string): void {
    peer.retired = true;
    peer.connection?.close(kind, message);
    peer.connection = undefined;
    this.settleWaiters(peer, (waiter) => waiter.reject(new TransportError(kind, peer.nodeId, message)));
  }
}
