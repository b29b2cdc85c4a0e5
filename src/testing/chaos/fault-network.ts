// A fault-injecting TCP proxy network for chaos tests of a cluster of real broker processes on
// loopback. Each node's listeners are advertised at proxy ports, so every connection to a node
// passes through that node's proxy; the proxy reads the client_id of the connection's first Kafka
// request to learn who opened it (a node id, or 'client' for anything else), and so which link
// (source <-> destination) the connection belongs to. Tests then cut links, add delay with jitter
// and reset connections on the real TCP paths the brokers use, which the simulated network in
// `src/testing/simulation` cannot reach (sockets, timeouts, reconnects, real processes).
//
// Choices a harness must know:
// - Links are undirected: `cut('1', '2')` stops connections opened by 1 to 2 and by 2 to 1, in both
//   directions. Delay faults are per link too, drawn independently for each chunk in each direction.
// - A cut is a blackhole, as a partition that drops packets: connections stay open, no byte flows,
//   and what was sent is held (up to a bound per direction, then the sender is paused, as a full
//   TCP window would) and delivered in order on heal, as TCP retransmission would. A FIN or a reset
//   from one side is held as well until the link opens. A connection opened while its link is cut
//   is accepted, but the proxy connects to the node only once the link opens.
// - `cut`, `isolate` and `partition` add cuts; `heal()` removes every cut and every fault.
import { type Server, type Socket, connect, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Logger, silentLogger } from '../../base/logger.js';

/** A node id such as '1', or OUTSIDE_CLIENT for every connection not opened by a node. */
export type Endpoint = string;

export const OUTSIDE_CLIENT: Endpoint = 'client';

export interface LinkFaults {
  /** Shortest extra one-way delay of each chunk of bytes, in ms. */
  minDelayMs?: number;
  /** Longest extra delay; each chunk draws uniformly from [minDelayMs, maxDelayMs]. Defaults to minDelayMs. */
  maxDelayMs?: number;
  /** Chance per second that each open connection on the link is reset (destroyed with a TCP RST, both sides). */
  resetPerSecond?: number;
}

export interface FaultNetworkOptions {
  /** Maps the client_id of a connection's first request to its source endpoint; defaults to sourceOfClientId. */
  sourceOf?: (clientId: string | null) => Endpoint;
  /** Uniform in [0, 1): draws delays and resets. Defaults to Math.random. */
  random?: () => number;
  logger?: Logger;
}

export interface LinkStats {
  /** Connections on the link open now. */
  open: number;
  /** Connections identified as this link since the network started. */
  opened: number;
  /** Bytes delivered through the proxy on this link, both directions. */
  bytes: number;
  /** Connections reset by a fault or by resetConnections. */
  resets: number;
}

export interface NetworkStats {
  /** Connections accepted by any proxy and not yet closed, identified or not. */
  connections: number;
  /** By linkKey. */
  byLink: Map<string, LinkStats>;
}

export interface ConnectionInfo {
  id: number;
  /** Undefined until the first request's header has arrived. */
  source: Endpoint | undefined;
  destination: Endpoint;
  link: string | undefined;
  upstreamConnected: boolean;
  /** Bytes accepted from either side and not yet delivered (cut, delayed, or waiting for the upstream). */
  heldBytes: number;
}

/** A client id ending in `-<node id>` after a `conveyor-` component name is that node's; anything else is an outside client. */
const NODE_CLIENT_ID = /^conveyor-[a-z-]+-(\d+)$/;

export function sourceOfClientId(clientId: string | null): Endpoint {
  const match = clientId === null ? null : NODE_CLIENT_ID.exec(clientId);
  return match ? match[1]! : OUTSIDE_CLIENT;
}

/** The name of the undirected link between a and b, the same either way round ('1<->2'). */
export function linkKey(a: Endpoint, b: Endpoint): string {
  return a.localeCompare(b, 'en', { numeric: true }) <= 0 ? `${a}<->${b}` : `${b}<->${a}`;
}

// A request header v1/v2 is api_key (2), api_version (2), correlation_id (4), client_id length (2):
// the client id starts at byte 14 of the frame, after the 4-byte size.
const HEADER_BYTES_MIN = 10;
const CLIENT_ID_OFFSET = 14;
const FRAME_BYTES_MAX = 100 * 1024 * 1024;

export type FirstFrame = { kind: 'incomplete' } | { kind: 'unreadable' } | { kind: 'client-id'; clientId: string | null };

/** The client_id of the request frame at the start of `bytes`, once enough of it has arrived. */
export function readFirstClientId(bytes: Buffer): FirstFrame {
  if (bytes.length < 4) return { kind: 'incomplete' };
  const size = bytes.readInt32BE(0);
  if (size < HEADER_BYTES_MIN || size > FRAME_BYTES_MAX) return { kind: 'unreadable' };
  if (bytes.length < CLIENT_ID_OFFSET) return { kind: 'incomplete' };
  const length = bytes.readInt16BE(CLIENT_ID_OFFSET - 2);
  if (length === -1) return { kind: 'client-id', clientId: null };
  if (length < 0 || HEADER_BYTES_MIN + length > size) return { kind: 'unreadable' };
  if (bytes.length < CLIENT_ID_OFFSET + length) return { kind: 'incomplete' };
  return { kind: 'client-id', clientId: bytes.toString('utf8', CLIENT_ID_OFFSET, CLIENT_ID_OFFSET + length) };
}

/** Held bytes per direction beyond which the sending side is paused (TCP's window, roughly). */
const HELD_BYTES_HIGH_WATER = 1024 * 1024;
const RESET_TICK_MS = 50;

/** What a connection asks of the network about its link. */
interface LinkPolicy {
  isOpen(link: string): boolean;
  delayMs(link: string): number;
  delivered(link: string, bytes: number): void;
}

interface QueuedChunk {
  chunk: Buffer;
  deliverAtMs: number;
}

/**
 * One direction of a proxied connection: bytes read from `source` wait in a queue until their
 * delivery time has come and the link is open, then are written to the target in order. Delivery
 * times never decrease, so jitter cannot reorder bytes.
 */
class Direction {
  /** Delivered entries before `head` are cleared, and dropped from the array now and then. */
  private readonly queue: Array<QueuedChunk | undefined> = [];
  private head = 0;
  private queuedBytes = 0;
  private lastDeliverAtMs = 0;
  private sourceEnded = false;
  private targetEnded = false;
  private stopped = false;
  private target: Socket | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly source: Socket,
    private readonly policy: LinkPolicy,
    private readonly linkOf: () => string | undefined,
  ) {}

  get heldBytes(): number {
    return this.queuedBytes;
  }

  attach(target: Socket): void {
    this.target = target;
    target.on('drain', () => this.pump());
    this.pump();
  }

  push(chunk: Buffer): void {
    if (this.stopped) return;
    const link = this.linkOf();
    const delayMs = link === undefined ? 0 : this.policy.delayMs(link);
    const deliverAtMs = Math.max(this.lastDeliverAtMs, performance.now() + delayMs);
    this.lastDeliverAtMs = deliverAtMs;
    this.queue.push({ chunk, deliverAtMs });
    this.queuedBytes += chunk.length;
    this.pump();
  }

  /** The source sent FIN: the target gets it after every byte before it. */
  endOfSource(): void {
    this.sourceEnded = true;
    this.pump();
  }

  /** Delivers what is due, if the link is open; schedules the next due chunk; adjusts flow control. */
  pump(): void {
    const link = this.linkOf();
    const target = this.target;
    if (this.stopped || target === undefined || link === undefined || !this.policy.isOpen(link)) {
      this.updateFlow();
      return;
    }
    const nowMs = performance.now();
    while (this.head < this.queue.length && this.queue[this.head]!.deliverAtMs <= nowMs) {
      const { chunk } = this.queue[this.head]!;
      this.queue[this.head] = undefined;
      this.head++;
      this.queuedBytes -= chunk.length;
      if (!target.destroyed && !this.targetEnded) {
        target.write(chunk);
        this.policy.delivered(link, chunk.length);
      }
    }
    this.compact();
    if (this.head < this.queue.length) this.schedule(this.queue[this.head]!.deliverAtMs - nowMs);
    else if (this.sourceEnded && !this.targetEnded) {
      this.targetEnded = true;
      if (!target.destroyed) target.end();
    }
    this.updateFlow();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
  }

  private schedule(inMs: number): void {
    // The head's delivery time is the earliest in the queue, and a timer already set was set for a
    // head no later than this one, so at most one timer is needed.
    if (this.timer !== undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.pump();
      },
      Math.max(1, Math.ceil(inMs)),
    );
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Pauses the source while too much is held here or the target's buffer is full. */
  private updateFlow(): void {
    if (this.stopped || this.source.destroyed) return;
    const full = this.queuedBytes >= HELD_BYTES_HIGH_WATER || (this.target?.writableNeedDrain ?? false);
    if (full && !this.source.isPaused()) this.source.pause();
    else if (!full && this.source.isPaused()) this.source.resume();
  }
}

interface ConnectionHost extends LinkPolicy {
  readonly logger: Logger;
  sourceOf(clientId: string | null): Endpoint;
  identified(connection: ProxyConnection): void;
  settled(connection: ProxyConnection, reset: boolean): void;
}

/** One accepted connection: downstream is the socket from the caller, upstream the one to the node. */
class ProxyConnection {
  source: Endpoint | undefined;
  link: string | undefined;
  private upstream: Socket | undefined;
  private upstreamConnected = false;
  private firstBytes: Buffer = Buffer.alloc(0);
  private readonly toUpstream: Direction;
  private toDownstream: Direction | undefined;
  private downstreamClosed = false;
  private upstreamClosed = false;
  private closing = false;
  private wasReset = false;
  /** A side failed while the link was cut: the other side learns it on heal. */
  private resetPending = false;
  private settle!: () => void;
  readonly settledPromise = new Promise<void>((resolve) => {
    this.settle = resolve;
  });

  constructor(
    readonly id: number,
    readonly destination: Endpoint,
    private readonly downstream: Socket,
    private readonly target: { host: string; port: number },
    private readonly host: ConnectionHost,
  ) {
    this.toUpstream = new Direction(downstream, host, () => this.link);
    downstream.setNoDelay(true);
    downstream.on('data', (chunk: Buffer) => this.onDownstreamData(chunk));
    downstream.on('end', () => this.onDownstreamEnd());
    downstream.on('error', (error) => host.logger.debug('downstream socket error', { connection: id, error }));
    downstream.on('close', (hadError) => {
      this.downstreamClosed = true;
      this.onSocketClosed(hadError);
    });
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      source: this.source,
      destination: this.destination,
      link: this.link,
      upstreamConnected: this.upstreamConnected,
      heldBytes: this.firstBytes.length + this.toUpstream.heldBytes + (this.toDownstream?.heldBytes ?? 0),
    };
  }

  /** The link's state changed (cut lifted): connect if waiting, deliver what is held. */
  linkChanged(): void {
    if (this.closing || this.link === undefined || !this.host.isOpen(this.link)) return;
    if (this.resetPending) {
      this.reset('a side failed while the link was cut');
      return;
    }
    this.connectUpstream();
    this.toUpstream.pump();
    this.toDownstream?.pump();
  }

  /** Destroys both sides at once with a TCP RST where the socket is connected. */
  reset(reason: string): void {
    if (this.closing) return;
    this.host.logger.debug('resetting connection', { connection: this.id, link: this.link, reason });
    this.closing = true;
    this.wasReset = true;
    this.stopDirections();
    for (const socket of [this.downstream, this.upstream]) {
      if (socket === undefined || socket.destroyed) continue;
      if (socket.connecting) socket.destroy();
      else socket.resetAndDestroy();
    }
  }

  /** Closes both sides without ceremony, for FaultNetwork.close. */
  destroy(): void {
    this.closing = true;
    this.stopDirections();
    this.downstream.destroy();
    this.upstream?.destroy();
  }

  private onDownstreamData(chunk: Buffer): void {
    if (this.source !== undefined) {
      this.toUpstream.push(chunk);
      return;
    }
    this.firstBytes = this.firstBytes.length === 0 ? chunk : Buffer.concat([this.firstBytes, chunk]);
    const first = readFirstClientId(this.firstBytes);
    if (first.kind === 'incomplete') return;
    this.source = first.kind === 'client-id' ? this.host.sourceOf(first.clientId) : OUTSIDE_CLIENT;
    this.link = linkKey(this.source, this.destination);
    this.host.identified(this);
    const held = this.firstBytes;
    this.firstBytes = Buffer.alloc(0);
    this.toUpstream.push(held);
    this.linkChanged();
  }

  private onDownstreamEnd(): void {
    // Nothing to forward from a connection that ended before its first request said who it is.
    if (this.source === undefined) this.downstream.destroy();
    else this.toUpstream.endOfSource();
  }

  private connectUpstream(): void {
    if (this.upstream !== undefined || this.closing) return;
    const upstream = connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
    this.upstream = upstream;
    const toDownstream = new Direction(upstream, this.host, () => this.link);
    this.toDownstream = toDownstream;
    toDownstream.attach(this.downstream);
    upstream.on('connect', () => {
      this.upstreamConnected = true;
      upstream.setNoDelay(true);
      this.toUpstream.attach(upstream);
    });
    upstream.on('data', (chunk: Buffer) => toDownstream.push(chunk));
    upstream.on('end', () => toDownstream.endOfSource());
    upstream.on('error', (error) => this.host.logger.debug('upstream socket error', { connection: this.id, error }));
    upstream.on('close', (hadError) => {
      this.upstreamClosed = true;
      this.onSocketClosed(hadError);
    });
  }

  /**
   * A side that failed (reset, refused, broken pipe) takes the other side down with it, once the
   * link is open; a side that closed cleanly has already sent its FIN through its direction, and
   * the other side closes when its own FIN has gone the other way.
   */
  private onSocketClosed(hadError: boolean): void {
    if (hadError && !this.closing) {
      if (this.link !== undefined && !this.host.isOpen(this.link)) this.resetPending = true;
      else this.reset('the other side failed');
    }
    if (this.downstreamClosed && (this.upstream === undefined || this.upstreamClosed)) {
      this.closing = true;
      this.stopDirections();
      this.upstream?.destroy();
      this.host.settled(this, this.wasReset);
      this.settle();
    }
  }

  private stopDirections(): void {
    this.toUpstream.stop();
    this.toDownstream?.stop();
  }
}

/** A set of proxies, one in front of each listener of each node, sharing one set of link faults. */
export class FaultNetwork {
  private readonly sourceOfClient: (clientId: string | null) => Endpoint;
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly servers = new Set<Server>();
  private readonly connections = new Set<ProxyConnection>();
  private readonly cutLinks = new Set<string>();
  private readonly linkFaults = new Map<string, LinkFaults>();
  private defaultFaults: LinkFaults = {};
  private readonly linkStats = new Map<string, LinkStats>();
  private resetTimer: ReturnType<typeof setInterval> | undefined;
  private lastResetTickMs = 0;
  private nextConnectionId = 1;
  private closed = false;
  /** What the connections see of this network. */
  private readonly host: ConnectionHost;

  constructor(options: FaultNetworkOptions = {}) {
    this.sourceOfClient = options.sourceOf ?? sourceOfClientId;
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? silentLogger;
    this.host = {
      logger: this.logger,
      sourceOf: (clientId) => this.sourceOfClient(clientId),
      isOpen: (link) => !this.cutLinks.has(link),
      delayMs: (link) => this.drawDelayMs(link),
      delivered: (link, bytes) => {
        this.statsOf(link).bytes += bytes;
      },
      identified: (connection) => {
        const stats = this.statsOf(connection.link!);
        stats.open++;
        stats.opened++;
        this.logger.debug('connection identified', { connection: connection.id, link: connection.link });
      },
      settled: (connection, reset) => {
        this.connections.delete(connection);
        if (connection.link === undefined) return;
        const stats = this.statsOf(connection.link);
        stats.open--;
        if (reset) stats.resets++;
      },
    };
  }

  /** Starts a proxy on 127.0.0.1 at a free port in front of `targetHost:targetPort`, a listener of node `node`; returns the proxy's port. */
  async addProxy(node: Endpoint, targetHost: string, targetPort: number): Promise<number> {
    if (this.closed) throw new Error('the fault network is closed');
    const server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket, node, targetHost, targetPort));
    this.servers.add(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.logger.warn('proxy server error', { node, error }));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
    this.logger.debug('proxy started', { node, port: address.port, target: `${targetHost}:${targetPort}` });
    return address.port;
  }

  /** Cuts both directions between a and b (a blackhole; see the file comment). */
  cut(a: Endpoint, b: Endpoint): void {
    this.cutLinks.add(linkKey(a, b));
    this.logger.info('link cut', { link: linkKey(a, b) });
  }

  /** Reopens one link, delivering what it held; its faults stay. */
  uncut(a: Endpoint, b: Endpoint): void {
    this.cutLinks.delete(linkKey(a, b));
    this.logger.info('link reopened', { link: linkKey(a, b) });
    this.kick();
  }

  /** Cuts `node` from each of `others` (itself excepted). */
  isolate(node: Endpoint, others: Endpoint[]): void {
    for (const other of others) if (other !== node) this.cut(node, other);
  }

  /** Cuts every link between endpoints on different sides; links within a side are left as they are. */
  partition(sides: Endpoint[][]): void {
    const seen = new Set<Endpoint>();
    for (const endpoint of sides.flat()) {
      if (seen.has(endpoint)) throw new Error(`endpoint ${endpoint} is on more than one side of the partition`);
      seen.add(endpoint);
    }
    for (let i = 0; i < sides.length; i++) {
      for (let j = i + 1; j < sides.length; j++) {
        for (const a of sides[i]!) for (const b of sides[j]!) this.cut(a, b);
      }
    }
  }

  /** Every link open again and every fault cleared; held bytes are delivered (already delayed ones at their time). */
  heal(): void {
    this.cutLinks.clear();
    this.linkFaults.clear();
    this.defaultFaults = {};
    this.updateResetTimer();
    this.logger.info('network healed');
    this.kick();
  }

  /** Sets the faults of the link a<->b, or of every link (replacing each link's own) when both are omitted. `{}` clears. */
  setFaults(faults: LinkFaults, a?: Endpoint, b?: Endpoint): void {
    validateFaults(faults);
    if ((a === undefined) !== (b === undefined)) throw new Error('setFaults takes both endpoints of a link, or neither');
    if (a === undefined || b === undefined) {
      this.defaultFaults = { ...faults };
      this.linkFaults.clear();
    } else {
      this.linkFaults.set(linkKey(a, b), { ...faults });
    }
    this.updateResetTimer();
  }

  /** Resets every open connection on a<->b now (both sides get an RST); returns how many. */
  resetConnections(a: Endpoint, b: Endpoint): number {
    const link = linkKey(a, b);
    let count = 0;
    for (const connection of this.connections) {
      if (connection.link !== link) continue;
      connection.reset('resetConnections');
      count++;
    }
    return count;
  }

  isCut(a: Endpoint, b: Endpoint): boolean {
    return this.cutLinks.has(linkKey(a, b));
  }

  stats(): NetworkStats {
    const byLink = new Map<string, LinkStats>();
    for (const [link, stats] of this.linkStats) byLink.set(link, { ...stats });
    return { connections: this.connections.size, byLink };
  }

  /** Every connection accepted and not yet closed. */
  openConnections(): ConnectionInfo[] {
    return [...this.connections].map((connection) => connection.info());
  }

  /** Stops every proxy and destroys every socket; resolves once all of them are closed. No timer is left behind. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.resetTimer !== undefined) clearInterval(this.resetTimer);
    this.resetTimer = undefined;
    const serversClosed = [...this.servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    const connectionsSettled = [...this.connections].map((connection) => connection.settledPromise);
    for (const connection of this.connections) connection.destroy();
    await Promise.all([...serversClosed, ...connectionsSettled]);
    this.servers.clear();
  }

  private accept(socket: Socket, node: Endpoint, targetHost: string, targetPort: number): void {
    if (this.closed) {
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const connection = new ProxyConnection(this.nextConnectionId++, node, socket, { host: targetHost, port: targetPort }, this.host);
    this.connections.add(connection);
  }

  private kick(): void {
    for (const connection of this.connections) connection.linkChanged();
  }

  private faultsOf(link: string): LinkFaults {
    return this.linkFaults.get(link) ?? this.defaultFaults;
  }

  private drawDelayMs(link: string): number {
    const faults = this.faultsOf(link);
    const minDelayMs = faults.minDelayMs ?? 0;
    const maxDelayMs = faults.maxDelayMs ?? minDelayMs;
    if (maxDelayMs <= 0) return 0;
    return minDelayMs + this.random() * (maxDelayMs - minDelayMs);
  }

  private statsOf(link: string): LinkStats {
    let stats = this.linkStats.get(link);
    if (stats === undefined) {
      stats = { open: 0, opened: 0, bytes: 0, resets: 0 };
      this.linkStats.set(link, stats);
    }
    return stats;
  }

  /** One interval serves every link's reset faults, and runs only while some link has one. */
  private updateResetTimer(): void {
    const wanted = !this.closed && [this.defaultFaults, ...this.linkFaults.values()].some((faults) => (faults.resetPerSecond ?? 0) > 0);
    if (wanted && this.resetTimer === undefined) {
      this.lastResetTickMs = performance.now();
      this.resetTimer = setInterval(() => this.resetTick(), RESET_TICK_MS);
    } else if (!wanted && this.resetTimer !== undefined) {
      clearInterval(this.resetTimer);
      this.resetTimer = undefined;
    }
  }

  private resetTick(): void {
    const nowMs = performance.now();
    const elapsedSeconds = (nowMs - this.lastResetTickMs) / 1000;
    this.lastResetTickMs = nowMs;
    for (const connection of [...this.connections]) {
      if (connection.link === undefined) continue;
      const rate = this.faultsOf(connection.link).resetPerSecond ?? 0;
      if (rate > 0 && this.random() < 1 - Math.exp(-rate * elapsedSeconds)) connection.reset('reset fault');
    }
  }
}

function validateFaults(faults: LinkFaults): void {
  const minDelayMs = faults.minDelayMs ?? 0;
  const maxDelayMs = faults.maxDelayMs ?? minDelayMs;
  const resetPerSecond = faults.resetPerSecond ?? 0;
  if (!(Number.isFinite(minDelayMs) && minDelayMs >= 0)) throw new Error(`minDelayMs must be a finite number >= 0, not ${faults.minDelayMs}`);
  if (!(Number.isFinite(maxDelayMs) && maxDelayMs >= minDelayMs)) throw new Error(`maxDelayMs must be finite and >= minDelayMs, not ${faults.maxDelayMs}`);
  if (!(Number.isFinite(resetPerSecond) && resetPerSecond >= 0)) throw new Error(`resetPerSecond must be a finite number >= 0, not ${faults.resetPerSecond}`);
}
