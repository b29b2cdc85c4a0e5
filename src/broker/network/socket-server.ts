// The broker's TCP front door: binds the listeners, accepts connections up to the limit, sweeps
// idle ones, and shuts everything down within a bounded grace period. Binding and serving are two
// steps, as in Kafka: a broker binds its ports first (the bound port is known before registration)
// and serves requests only once it is ready; connections accepted in between wait with their
// requests unread.
import type { Server, Socket } from 'node:net';
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import { Connection, type ConnectionStats } from './connection.js';
import type { ConnectionInfo, FrameHandler } from './frame-handler.js';
import { bindListener, closeServer, destroyLeftoverSockets, type BoundListener, type ListenerConfig } from './listeners.js';
import { assertValidNetworkLimits, type NetworkLimits } from './network-limits.js';
import { ANONYMOUS } from './ssl-principal.js';

export type { ConnectionInfo, FrameHandler, FrameOutcome } from './frame-handler.js';
export type { BoundListener, ListenerConfig } from './listeners.js';
export type { NetworkLimits } from './network-limits.js';
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
  private readonly servers: Server[] = [];
  private readonly connections = new Map<number, Connection>();
  /** Connections accepted after bind() and before serve(), not read from yet. */
  private readonly waiting = new Map<Socket, BoundListener>();
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

  connectionCount(): number {
    return this.connections.size;
  }

  connectionStats(): ConnectionStats[] {
    return [...this.connections.values()].map((connection) => connection.stats());
  }

  private async closeOnce(): Promise<void> {
    this.state = 'closing';
    this.cancelIdleSweep?.();
    this.cancelIdleSweep = undefined;
    const serversClosed = Promise.all(this.servers.map(closeServer));
    for (const socket of this.waiting.keys()) socket.destroy();
    this.waiting.clear();
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

  private accept(socket: Socket, listener: BoundListener): void {
    const accepting = this.state === 'running' || this.state === 'bound' || this.state === 'binding';
    if (!accepting || this.connections.size + this.waiting.size >= this.limits.maxConnections) {
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
      onClosed: (closed) => this.connections.delete(closed.info.id),
      ...(unauthenticated ? { unauthenticated } : {}),
    });
    this.connections.set(info.id, connection);
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
