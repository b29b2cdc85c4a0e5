// The broker's TCP front door: binds the listeners, admits connections under Kafka's connection
// limits (connection-quotas.ts) and a hard cap on sockets, sweeps idle ones, and shuts everything
// down within a bounded grace period. Binding and serving are two steps, as in Kafka: a broker
// binds its ports first (the bound port is known before registration) and serves requests only
// once it is ready; connections accepted in between wait with their requests unread.
import type { Server, Socket } from 'node:net';
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import { DEFAULT_QUOTA_WINDOW, type QuotaWindow } from '../../replication/replication-quota.js';
import { Connection, type ConnectionStats } from './connection.js';
import { ConnectionQuotas } from './connection-quotas.js';
import type { ConnectionInfo, FrameHandler } from './frame-handler.js';
import { bindListener, closeServer, destroyLeftoverSockets, type BoundListener, type ListenerConfig, type TlsReload } from './listeners.js';
import { type ConnectionLimits, assertValidNetworkLimits, type NetworkLimits, unlimitedConnectionLimits } from './network-limits.js';
import { ANONYMOUS } from './ssl-principal.js';

export type { ConnectionInfo, FrameHandler, FrameOutcome } from './frame-handler.js';
export type { BoundListener, ListenerConfig } from './listeners.js';
export type { ConnectionLimits, NetworkLimits } from './network-limits.js';
export type { ConnectionStats } from './connection.js';

export interface SocketServerOptions {
  listeners: ListenerConfig[];
  /** Who answers requests; required by start(), or given later to serve(). */
  handler?: FrameHandler;
  limits: NetworkLimits;
  logger: Logger;
  clock?: Clock;
  /** How long close() lets in-flight requests finish before destroying their connections. */
  closeGraceMs?: number;
  /** Kafka's connection limits; none (Kafka's defaults) when not given. */
  connectionQuotas?: ConnectionQuotaSettings;
  /** Tell the handler when each frame arrived (request queue time, for the metrics); off otherwise. */
  timesFrames?: boolean;
}

export interface ConnectionQuotaSettings {
  limits: ConnectionLimits;
  /** inter.broker.listener.name: not held back by the broker-wide count and rate (Kafka's protected listener). */
  interBrokerListener?: string;
  /**
   * Listeners counted apart from the others, with limits of their own of the same values: the
   * controller listeners, as a Kafka node's controller has a socket server of its own.
   */
  separateListeners?: readonly string[];
  /** quota.window.num samples of quota.window.size.seconds; Kafka's 11 x 1 s when not given. */
  window?: QuotaWindow;
}

/** A socket accepted by a listener, until the connection quotas decide what becomes of it. */
interface Arrival {
  readonly socket: Socket;
  readonly listener: BoundListener;
  /** Its close listener while it waits: a connection reset meanwhile is forgotten by the quotas. */
  readonly withdraw: () => void;
}

/** Long enough for a Fetch long-poll at its default 500 ms wait; short enough to never feel hung. */
export const defaultCloseGraceMs = 2_000;
/** The longest the idle sweep sleeps; idle connections close at most this late. */
const maxIdleSweepIntervalMs = 30_000;
/** Short idle limits (tests) still get a sweep at a sane rate. */
const minIdleSweepIntervalMs = 10;

type ServerState = 'created' | 'binding' | 'bound' | 'running' | 'closing' | 'closed';

export class SocketServer {
  private readonly listenerConfigs: ListenerConfig[];
  private handler: FrameHandler | undefined;
  private readonly limits: NetworkLimits;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly closeGraceMs: number;
  private readonly timesFrames: boolean;
  private readonly servers: Server[] = [];
  private readonly connections = new Map<number, Connection>();
  private readonly closeListeners: ((info: ConnectionInfo) => void)[] = [];
  /** Connections accepted after bind() and before serve(), not read from yet. */
  private readonly waiting = new Map<Socket, BoundListener>();
  /** Each listener's connection quotas: one set for most listeners, one for the separate ones. */
  private readonly quotas = new Map<string, ConnectionQuotas<Arrival>>();
  private readonly quotaGroups: ConnectionQuotas<Arrival>[] = [];
  private state: ServerState = 'created';
  private nextConnectionId = 1;
  private cancelIdleSweep: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: SocketServerOptions) {
    assertValidNetworkLimits(options.limits);
    this.listenerConfigs = options.listeners;
    this.handler = options.handler;
    this.limits = { ...options.limits };
    this.logger = options.logger.child('network');
    this.clock = options.clock ?? systemClock;
    this.closeGraceMs = options.closeGraceMs ?? defaultCloseGraceMs;
    this.timesFrames = options.timesFrames ?? false;
    this.createConnectionQuotas(options.connectionQuotas);
  }

  /** Binds every listener and serves requests with the handler given to the constructor. */
  async start(): Promise<BoundListener[]> {
    const handler = this.handler;
    if (handler === undefined) throw new Error('socket server cannot start without a handler: use bind() and serve()');
    const bound = await this.bind();
    this.serve(handler);
    return bound;
  }

  /**
   * Binds every listener; rejects, with nothing left bound, if any address is unavailable.
   * Connections accepted from now on wait, unread, until serve().
   */
  async bind(): Promise<BoundListener[]> {
    if (this.state !== 'created') throw new Error(`socket server cannot bind: it is ${this.state}`);
    this.state = 'binding';
    const bound: BoundListener[] = [];
    try {
      for (const config of this.listenerConfigs) {
        const binding = await bindListener(config, (socket, listener) => this.accept(socket, listener), this.logger);
        this.servers.push(...binding.servers);
        bound.push(binding.listener);
      }
    } catch (error) {
      this.state = 'closed';
      await Promise.all(this.servers.map(closeServer));
      throw error;
    }
    // close() may have been called while binding.
    if (this.state !== 'binding') {
      await Promise.all(this.servers.map(closeServer));
      throw new Error('socket server was closed while starting');
    }
    this.state = 'bound';
    for (const listener of bound) this.logger.info('listening', { ...listener });
    return bound;
  }

  /** Starts answering requests: on the connections that waited since bind(), and on every new one. */
  serve(handler: FrameHandler): void {
    if (this.state !== 'bound') throw new Error(`socket server cannot serve: it is ${this.state}`);
    this.handler = handler;
    this.state = 'running';
    this.scheduleIdleSweep();
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const [socket, listener] of waiting) {
      socket.removeListener('error', ignoreWaitingError);
      if (socket.destroyed) continue;
      this.open(socket, listener, handler);
    }
  }

  /**
   * Stops accepting, destroys idle connections, lets in-flight requests be answered for up to
   * the grace period, then destroys what is left. Never hangs; calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  /** Where each SSL listener's TLS options come from, by listener name (to replace them with dynamic settings). */
  tlsSources(): ReadonlyMap<string, TlsReload> {
    const sources = new Map<string, TlsReload>();
    for (const config of this.listenerConfigs) if (config.tlsReload !== undefined) sources.set(config.name, config.tlsReload);
    return sources;
  }

  connectionCount(): number {
    return this.connections.size;
  }

  /**
   * New connection limits (dynamic broker configs), for every listener; connections waiting for a
   * slot are reconsidered at once, and connections beyond a lowered max.connections are closed.
   */
  reconfigureConnectionQuotas(limits: ConnectionLimits): void {
    for (const quotas of this.quotaGroups) quotas.reconfigure(limits);
  }

  /** The connection_creation_rate quota of an address (KIP-612): the metadata image's ip entities. */
  useIpConnectionRates(rate: (ip: string) => number | undefined): void {
    for (const quotas of this.quotaGroups) quotas.useIpConnectionRates(rate);
  }

  connectionStats(): ConnectionStats[] {
    return [...this.connections.values()].map((connection) => connection.stats());
  }

  /** Open connections per listener name (every bound listener, with 0 when it has none). */
  connectionCounts(): Map<string, number> {
    const counts = new Map<string, number>(this.listenerConfigs.map((listener) => [listener.name, 0]));
    for (const connection of this.connections.values()) counts.set(connection.info.listenerName, (counts.get(connection.info.listenerName) ?? 0) + 1);
    return counts;
  }

  private async closeOnce(): Promise<void> {
    this.state = 'closing';
    this.cancelIdleSweep?.();
    this.cancelIdleSweep = undefined;
    const serversClosed = Promise.all(this.servers.map(closeServer));
    for (const socket of this.waiting.keys()) socket.destroy();
    this.waiting.clear();
    for (const quotas of this.quotaGroups) for (const arrival of quotas.close()) arrival.socket.destroy();
    const connections = [...this.connections.values()];
    for (const connection of connections) connection.drain();
    const allClosed = Promise.all(connections.map((connection) => connection.closed));
    let cancelGrace: (() => void) | undefined;
    const graceOver = new Promise<void>((resolve) => {
      cancelGrace = this.clock.schedule(this.closeGraceMs, resolve);
    });
    await Promise.race([allClosed, graceOver]);
    cancelGrace?.();
    for (const connection of this.connections.values()) connection.destroy();
    for (const server of this.servers) destroyLeftoverSockets(server);
    await Promise.all([serversClosed, allClosed]);
    this.state = 'closed';
  }

  /** One set of quotas for the listeners counted together, one for the separate ones (if any). */
  private createConnectionQuotas(settings: ConnectionQuotaSettings | undefined): void {
    const separate = new Set(settings?.separateListeners ?? []);
    const names = this.listenerConfigs.map((config) => config.name);
    for (const group of [names.filter((name) => !separate.has(name)), names.filter((name) => separate.has(name))]) {
      if (group.length === 0) continue;
      const quotas = new ConnectionQuotas<Arrival>({
        listeners: group,
        ...(settings?.interBrokerListener === undefined ? {} : { interBrokerListener: settings.interBrokerListener }),
        limits: settings?.limits ?? unlimitedConnectionLimits,
        window: settings?.window ?? DEFAULT_QUOTA_WINDOW,
        clock: this.clock,
        logger: this.logger,
        handlers: {
          accept: (arrival, release) => this.admitted(arrival, release),
          refuse: (arrival) => arrival.socket.destroy(),
          hold: (arrival) => arrival.socket.pause(),
          closeLeastRecentlyUsed: (listeners, count) => this.closeLeastRecentlyUsed(listeners, count),
        },
      });
      for (const name of group) this.quotas.set(name, quotas);
      this.quotaGroups.push(quotas);
    }
  }

  /** Sockets held: served, waiting to be served, waiting to be accepted, or held before a throttled close. */
  private socketCount(): number {
    let pending = 0;
    for (const quotas of this.quotaGroups) pending += quotas.pendingCount;
    return this.connections.size + this.waiting.size + pending;
  }

  private accept(socket: Socket, listener: BoundListener): void {
    const accepting = this.state === 'running' || this.state === 'bound' || this.state === 'binding';
    if (!accepting || this.socketCount() >= this.limits.maxConnections) {
      if (accepting) {
        this.logger.warn('closing new connection: too many connections', {
          remote: `${socket.remoteAddress}:${socket.remotePort}`,
          listener: listener.name,
          maxConnections: this.limits.maxConnections,
        });
      }
      socket.destroy();
      return;
    }
    const quotas = this.quotas.get(listener.name);
    if (quotas === undefined) {
      this.admitted({ socket, listener, withdraw: () => {} }, () => {});
      return;
    }
    // Until the quotas admit it, a reset only destroys the socket, and its close forgets it.
    const arrival: Arrival = { socket, listener, withdraw: () => quotas.withdraw(arrival) };
    socket.on('error', ignoreWaitingError);
    socket.once('close', arrival.withdraw);
    quotas.offer(arrival, listener.name, socket.remoteAddress ?? '');
  }

  /** The quotas admitted a connection: served now, or once serve() is called; its slot is freed when it closes. */
  private admitted({ socket, listener, withdraw }: Arrival, release: () => void): void {
    socket.removeListener('error', ignoreWaitingError);
    socket.removeListener('close', withdraw);
    socket.once('close', release);
    if (socket.destroyed) return;
    if (this.state === 'running' && this.handler !== undefined) {
      this.open(socket, listener, this.handler);
      return;
    }
    // Not serving yet: its requests wait (Node buffers at most a high-water mark of them, the kernel
    // the rest) until serve(); a reset meanwhile only destroys the socket.
    socket.on('error', ignoreWaitingError);
    socket.once('close', () => this.waiting.delete(socket));
    this.waiting.set(socket, listener);
  }

  private open(socket: Socket, listener: BoundListener, handler: FrameHandler): void {
    socket.setNoDelay(true);
    const listenerConfig = this.listenerConfigs.find((config) => config.name === listener.name);
    let principal = ANONYMOUS;
    try {
      principal = listenerConfig?.principalOf?.(socket) ?? ANONYMOUS;
    } catch (error) {
      // A client certificate no ssl.principal.mapping.rules rule names: not authenticated (as Kafka).
      this.logger.warn('closing new connection: no principal for its client certificate', { remote: `${socket.remoteAddress}:${socket.remotePort}`, listener: listener.name, error: (error as Error).message });
      socket.destroy();
      return;
    }
    // Not frozen: SASL authentication sets the principal and `authenticated` on it.
    const unauthenticated = listenerConfig?.unauthenticated;
    const info: ConnectionInfo = {
      id: this.nextConnectionId++,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      listenerName: listener.name,
      principal,
      authenticated: unauthenticated === undefined,
    };
    const connection = new Connection({
      socket,
      info,
      handler,
      limits: this.limits,
      logger: this.logger,
      clock: this.clock,
      lingerMs: this.closeGraceMs,
      onClosed: (closed) => {
        this.connections.delete(closed.info.id);
        for (const listener of this.closeListeners) listener(closed.info);
      },
      timesFrames: this.timesFrames,
      ...(unauthenticated ? { unauthenticated } : {}),
    });
    this.connections.set(info.id, connection);
  }

  /** Told of every client connection that closed (share sessions end with theirs). */
  onConnectionClosed(listener: (info: ConnectionInfo) => void): void {
    this.closeListeners.push(listener);
  }

  /** One coarse timer for all connections instead of one per connection. */
  private scheduleIdleSweep(): void {
    const intervalMs = Math.min(
      maxIdleSweepIntervalMs,
      Math.max(minIdleSweepIntervalMs, Math.floor(this.limits.connectionsMaxIdleMs / 4)),
    );
    this.cancelIdleSweep = this.clock.schedule(intervalMs, () => {
      this.closeIdleConnections();
      if (this.state === 'running') this.scheduleIdleSweep();
    });
  }

  private closeIdleConnections(): void {
    const nowMs = this.clock.monotonicMs();
    for (const connection of this.connections.values()) {
      if (connection.isIdle(nowMs, this.limits.connectionsMaxIdleMs)) connection.closeIdle();
    }
    for (const quotas of this.quotaGroups) quotas.expireIdleSensors();
  }

  /**
   * Closes `count` connections of `listeners` beyond max.connections, least recently active first.
   * Connections closed by an earlier call still count until their sockets report the close, so
   * they are subtracted rather than closing as many others again.
   */
  private closeLeastRecentlyUsed(listeners: ReadonlySet<string>, count: number): void {
    const candidates = [...this.connections.values()].filter((connection) => listeners.has(connection.info.listenerName));
    const closing = candidates.filter((connection) => connection.isClosed).length;
    const open = candidates.filter((connection) => !connection.isClosed).sort((a, b) => a.lastActivityAtMs - b.lastActivityAtMs);
    for (const connection of open.slice(0, Math.max(0, count - closing))) {
      this.logger.info('closing the least recently used connection: max.connections reached and the inter-broker listener took one', {
        connection: connection.info.id,
        remote: `${connection.info.remoteAddress}:${connection.info.remotePort}`,
        listener: connection.info.listenerName,
      });
      connection.destroy();
    }
  }
}

/** A waiting connection's socket error (a reset before serve()) needs no more than the socket's own destruction. */
function ignoreWaitingError(): void {}

/** Real time, with timers that never keep the process alive on their own. */
const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
