// Kafka's connection limits (SocketServer's ConnectionQuotas, KIP-402, KIP-612): how many
// connections the broker, each listener and each client address may hold, and how fast each may
// open new ones. Kafka's acceptor thread blocks while a limit holds it back, and new connections
// queue in the kernel's listen backlog meanwhile; Node accepts every connection at once, so here
// each listener has an accept queue instead: a connection waits in it, connected but unread, until
// Kafka's acceptor would have taken it.
//
// The rules, as Kafka applies them to the connection at the head of a listener's queue:
// - Its arrival is counted in the listener's creation rate and the broker-wide one; when either is
//   over its max.connection.creation.rate, the listener waits until the rate is back under it (at
//   most one quota sample, quota.window.size.seconds), then for a free slot: the listener below its
//   max.connections and the broker below its own. The inter-broker listener (when there is another
//   listener) skips the broker-wide count and rate; a connection it takes beyond max.connections
//   closes the least recently used connection of another listener instead. A listener's limits are
//   its listener.name.<listener>.* values, else the broker-wide ones (Kafka's prefix override).
// - Then the address's connection_creation_rate client quota (KIP-612): over it, the connection is
//   not served and is closed once the throttle time has passed ("delay closing", so a client that
//   reconnects at once cannot turn the refusal into a reconnect storm), and it is not counted in any
//   rate. Then max.connections.per.ip (or its override for the address): at the limit, closed at once.
//
// Rates are Kafka's Rate over quota.window.num samples of quota.window.size.seconds, the measure
// of the replication and client quotas (replication-quota.ts). Listener names come upper-cased;
// addresses are IP literals in canonicalIp's form (an IPv4-mapped IPv6 address is its IPv4 address).
import { lookup } from 'node:dns/promises';
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import { canonicalIp } from '../../metadata/client-quotas.js';
import { type QuotaWindow, ReplicationQuota } from '../../replication/replication-quota.js';
import { type ConnectionLimits, UNLIMITED, assertValidConnectionLimits } from './network-limits.js';

/** What the socket server does with a connection once the quotas have decided. */
export interface ConnectionQuotaHandlers<T> {
  /** Serve it: it holds its slot until `release` is called (once its socket has closed). */
  accept(connection: T, release: () => void): void;
  /** Close it now, unserved. */
  refuse(connection: T): void;
  /** Stop reading it: it is refused once its address's throttle time has passed. */
  hold(connection: T): void;
  /** Close up to `count` served connections of `listeners`, least recently active first. */
  closeLeastRecentlyUsed(listeners: ReadonlySet<string>, count: number): void;
}

export interface ConnectionQuotaOptions<T> {
  /** The listeners counted together (Kafka: those of one socket server). */
  listeners: readonly string[];
  /** inter.broker.listener.name: exempt from the broker-wide count and rate when there is another listener. */
  interBrokerListener?: string;
  limits: ConnectionLimits;
  /** quota.window.num samples of quota.window.size.seconds. */
  window: QuotaWindow;
  clock: Clock;
  logger: Logger;
  handlers: ConnectionQuotaHandlers<T>;
  /** Connections that may wait in one listener's accept queue; beyond it they are closed. */
  acceptQueueSize?: number;
}

/**
 * Kafka's socket.listen.backlog.size default: as many connections as Kafka's listen backlog holds
 * while its acceptor waits. Where Kafka's kernel then drops connection attempts, these are closed.
 */
export const DEFAULT_ACCEPT_QUEUE_SIZE = 50;

interface Arrival<T> {
  readonly connection: T;
  readonly ip: string;
}

/** One listener's acceptor: the connections waiting for it, and the admission under way. */
interface Acceptor<T> {
  readonly queue: Arrival<T>[];
  /** The head's arrival has been counted in the rates; it waits until `blockedUntilMs`, then for a slot. */
  admitting: boolean;
  blockedUntilMs: number;
  cancelWake: (() => void) | undefined;
}

export class ConnectionQuotas<T> {
  readonly #listeners: ReadonlySet<string>;
  readonly #interBrokerListener: string | undefined;
  readonly #window: QuotaWindow;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #handlers: ConnectionQuotaHandlers<T>;
  readonly #acceptQueueSize: number;
  #limits: ConnectionLimits;
  #ipConnectionRate: (ip: string) => number | undefined = () => undefined;
  readonly #counts = new Map<string, number>();
  readonly #listenerCounts = new Map<string, number>();
  #totalCount = 0;
  readonly #brokerRate: ReplicationQuota;
  readonly #listenerRates = new Map<string, ReplicationQuota>();
  readonly #ipRates = new Map<string, ReplicationQuota>();
  readonly #acceptors = new Map<string, Acceptor<T>>();
  /** Connections over their address's creation rate, each with the cancel of its close. */
  readonly #throttled = new Map<T, () => void>();
  #closed = false;

  constructor(options: ConnectionQuotaOptions<T>) {
    assertValidConnectionLimits(options.limits);
    this.#listeners = new Set(options.listeners);
    this.#interBrokerListener = options.interBrokerListener;
    this.#window = options.window;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#handlers = options.handlers;
    this.#acceptQueueSize = options.acceptQueueSize ?? DEFAULT_ACCEPT_QUEUE_SIZE;
    this.#limits = options.limits;
    this.#brokerRate = new ReplicationQuota(this.#clock, this.#window);
    this.#brokerRate.setRate(this.#limits.maxConnectionCreationRate);
  }

  /** Where the connection_creation_rate quota of an address comes from (the metadata image's ip entities). */
  useIpConnectionRates(rate: (ip: string) => number | undefined): void {
    this.#ipConnectionRate = rate;
  }

  /** New limits (a dynamic broker config changed): waiting listeners are reconsidered at once. */
  reconfigure(limits: ConnectionLimits): void {
    assertValidConnectionLimits(limits);
    this.#limits = limits;
    // As Kafka: a connection already waiting out a rate throttle keeps waiting for it.
    this.#brokerRate.setRate(limits.maxConnectionCreationRate);
    for (const [listener, rate] of this.#listenerRates) rate.setRate(this.#listenerLimit(listener, 'maxConnectionCreationRate'));
    this.#pumpAll();
    this.#closeExcess();
  }

  /** A connection `listener` accepted from `remoteAddress`: admitted now, later, or refused. */
  offer(connection: T, listener: string, remoteAddress: string): void {
    if (this.#closed) {
      this.#handlers.refuse(connection);
      return;
    }
    const acceptor = this.#acceptorOf(listener);
    if (acceptor.queue.length >= this.#acceptQueueSize) {
      this.#logger.warn('closing new connection: too many connections wait to be accepted', { listener, remote: remoteAddress, waiting: acceptor.queue.length });
      this.#handlers.refuse(connection);
      return;
    }
    acceptor.queue.push({ connection, ip: canonicalIp(remoteAddress) ?? remoteAddress });
    this.#pump(listener, acceptor);
  }

  /** A connection closed by its peer before it was served: forgotten. */
  withdraw(connection: T): void {
    const cancel = this.#throttled.get(connection);
    if (cancel) {
      cancel();
      this.#throttled.delete(connection);
      return;
    }
    for (const acceptor of this.#acceptors.values()) {
      const index = acceptor.queue.findIndex((arrival) => arrival.connection === connection);
      if (index >= 0) {
        acceptor.queue.splice(index, 1);
        // With the head gone, the next connection inherits the admission under way (its rates are
        // counted, its wait goes on); with nobody left, none is under way.
        if (acceptor.queue.length === 0) {
          acceptor.admitting = false;
          acceptor.cancelWake?.();
          acceptor.cancelWake = undefined;
        }
        return;
      }
    }
  }

  /** Stops everything: the connections still waiting or held, for the caller to close. */
  close(): T[] {
    this.#closed = true;
    const pending: T[] = [];
    for (const acceptor of this.#acceptors.values()) {
      acceptor.cancelWake?.();
      pending.push(...acceptor.queue.splice(0).map((arrival) => arrival.connection));
    }
    for (const [connection, cancel] of this.#throttled) {
      cancel();
      pending.push(connection);
    }
    this.#throttled.clear();
    return pending;
  }

  /** Drops the measures of addresses that opened nothing within the whole window (Kafka expires them too). */
  expireIdleSensors(): void {
    for (const [ip, rate] of this.#ipRates) if (rate.idle()) this.#ipRates.delete(ip);
  }

  /** Connections served (or admitted and waiting to be served) from `remoteAddress`. */
  connectionsFrom(remoteAddress: string): number {
    return this.#counts.get(canonicalIp(remoteAddress) ?? remoteAddress) ?? 0;
  }

  /** Connections served, all listeners together. */
  get connectionCount(): number {
    return this.#totalCount;
  }

  /** Connections waiting to be accepted or held before a throttled close. */
  get pendingCount(): number {
    let waiting = this.#throttled.size;
    for (const acceptor of this.#acceptors.values()) waiting += acceptor.queue.length;
    return waiting;
  }

  #acceptorOf(listener: string): Acceptor<T> {
    let acceptor = this.#acceptors.get(listener);
    if (!acceptor) {
      acceptor = { queue: [], admitting: false, blockedUntilMs: 0, cancelWake: undefined };
      this.#acceptors.set(listener, acceptor);
    }
    return acceptor;
  }

  /**
   * Kafka's acceptor loop for one listener: the head's arrival counts in the rates once, it waits
   * out the throttle time, then for a slot; a release or a new configuration pumps again.
   */
  #pump(listener: string, acceptor: Acceptor<T>): void {
    acceptor.cancelWake?.();
    acceptor.cancelWake = undefined;
    while (acceptor.queue.length > 0 && !this.#closed) {
      const nowMs = this.#clock.monotonicMs();
      if (!acceptor.admitting) {
        acceptor.admitting = true;
        acceptor.blockedUntilMs = nowMs + this.#recordConnection(listener);
      }
      if (nowMs < acceptor.blockedUntilMs) {
        acceptor.cancelWake = this.#clock.schedule(acceptor.blockedUntilMs - nowMs, () => this.#pump(listener, acceptor));
        return;
      }
      if (!this.#slotAvailable(listener)) return;
      acceptor.admitting = false;
      this.#admit(listener, acceptor.queue.shift()!);
    }
  }

  #pumpAll(): void {
    for (const [listener, acceptor] of this.#acceptors) if (acceptor.queue.length > 0) this.#pump(listener, acceptor);
  }

  /** The address's creation rate, then its count: served, held for a delayed close, or refused. */
  #admit(listener: string, { connection, ip }: Arrival<T>): void {
    const throttleMs = this.#recordIpConnection(ip);
    if (throttleMs > 0) {
      // Not accepted, so not counted in the listener's and broker's rates either.
      this.#listenerRateOf(listener).unrecord(1);
      if (!this.#isProtected(listener)) this.#brokerRate.unrecord(1);
      this.#delayClose(connection, listener, ip, throttleMs);
      return;
    }
    const count = this.#counts.get(ip) ?? 0;
    const max = this.#limits.maxConnectionsPerIpOverrides.get(ip) ?? this.#limits.maxConnectionsPerIp;
    if (count >= max) {
      this.#logger.info('closing new connection: too many connections from its address', { remote: ip, listener, maximum: max });
      this.#handlers.refuse(connection);
      return;
    }
    this.#counts.set(ip, count + 1);
    this.#listenerCounts.set(listener, (this.#listenerCounts.get(listener) ?? 0) + 1);
    this.#totalCount++;
    let released = false;
    this.#handlers.accept(connection, () => {
      if (released) return;
      released = true;
      this.#release(listener, ip);
    });
    this.#closeExcess();
  }

  #release(listener: string, ip: string): void {
    const count = this.#counts.get(ip) ?? 0;
    if (count <= 1) this.#counts.delete(ip);
    else this.#counts.set(ip, count - 1);
    this.#listenerCounts.set(listener, Math.max(0, (this.#listenerCounts.get(listener) ?? 0) - 1));
    this.#totalCount = Math.max(0, this.#totalCount - 1);
    this.#pumpAll();
  }

  #delayClose(connection: T, listener: string, ip: string, throttleMs: number): void {
    this.#logger.debug('delaying the close of a connection over its address\'s connection_creation_rate', { remote: ip, listener, throttleMs });
    this.#handlers.hold(connection);
    const cancel = this.#clock.schedule(throttleMs, () => {
      this.#throttled.delete(connection);
      this.#handlers.refuse(connection);
    });
    this.#throttled.set(connection, cancel);
  }

  /** Kafka's connectionSlotAvailable. */
  #slotAvailable(listener: string): boolean {
    if ((this.#listenerCounts.get(listener) ?? 0) >= this.#listenerLimit(listener, 'maxConnections')) return false;
    if (this.#isProtected(listener)) return true;
    return this.#totalCount < this.#limits.maxConnections;
  }

  /** Kafka's protectedListener: the inter-broker listener, when there is another one. */
  #isProtected(listener: string): boolean {
    return listener === this.#interBrokerListener && this.#listeners.size > 1;
  }

  /**
   * Beyond max.connections (the inter-broker listener took a connection, or the limit was lowered):
   * the least recently used connections of the other listeners close, as Kafka's processors close
   * their lowest-priority channel while the broker is over its limit.
   */
  #closeExcess(): void {
    const excess = this.#totalCount - this.#limits.maxConnections;
    if (excess <= 0) return;
    const evictable = new Set([...this.#listeners].filter((listener) => !this.#isProtected(listener)));
    if (evictable.size > 0) this.#handlers.closeLeastRecentlyUsed(evictable, excess);
  }

  #listenerLimit(listener: string, key: 'maxConnections' | 'maxConnectionCreationRate'): number {
    return this.#limits.listeners.get(listener)?.[key] ?? this.#limits[key];
  }

  #listenerRateOf(listener: string): ReplicationQuota {
    let rate = this.#listenerRates.get(listener);
    if (!rate) {
      rate = new ReplicationQuota(this.#clock, this.#window);
      rate.setRate(this.#listenerLimit(listener, 'maxConnectionCreationRate'));
      this.#listenerRates.set(listener, rate);
    }
    return rate;
  }

  /** Counts a new connection in the listener's rate (and the broker's); how long accepting must wait. */
  #recordConnection(listener: string): number {
    const listenerThrottleMs = this.#recordAndThrottle(this.#listenerRateOf(listener));
    if (this.#isProtected(listener)) return listenerThrottleMs;
    return Math.max(this.#recordAndThrottle(this.#brokerRate), listenerThrottleMs);
  }

  /** The address's connection_creation_rate: how long to hold the connection before closing it, or 0. */
  #recordIpConnection(ip: string): number {
    const quota = this.#ipConnectionRate(ip);
    // Kafka's default (Int.MaxValue) is no quota at all: nothing is measured.
    if (quota === undefined || quota >= UNLIMITED) return 0;
    let rate = this.#ipRates.get(ip);
    if (!rate) {
      rate = new ReplicationQuota(this.#clock, this.#window);
      this.#ipRates.set(ip, rate);
    }
    rate.setRate(quota);
    const throttleMs = this.#recordAndThrottle(rate);
    if (throttleMs > 0) rate.unrecord(1);
    return throttleMs;
  }

  /** Kafka's recordAndGetThrottleTimeMs: the throttle time bounded by one quota sample. */
  #recordAndThrottle(rate: ReplicationQuota): number {
    rate.record(1);
    return Math.min(rate.throttleTimeMs(), this.#window.sampleMs);
  }
}

/**
 * max.connections.per.ip.overrides with its host names resolved: an IP literal stands for itself,
 * a name for every address it resolves to (Kafka takes the first). A name that does not resolve is
 * reported and left out (Kafka refuses the whole setting).
 */
export async function resolveIpOverrides(
  overrides: ReadonlyMap<string, number>,
  resolve: (host: string) => Promise<string[]> = resolveHost,
): Promise<{ overrides: Map<string, number>; unresolved: string[] }> {
  const resolved = new Map<string, number>();
  const unresolved: string[] = [];
  for (const [host, count] of overrides) {
    const literal = canonicalIp(host);
    if (literal !== undefined) {
      resolved.set(literal, count);
      continue;
    }
    try {
      for (const address of await resolve(host)) resolved.set(canonicalIp(address) ?? address, count);
    } catch {
      unresolved.push(host);
    }
  }
  return { overrides: resolved, unresolved };
}

async function resolveHost(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((entry) => entry.address);
}
