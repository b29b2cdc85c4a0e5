// One client connection: reads frames, hands them to the handler in arrival order with bounded
// pipelining, writes responses strictly in request order, and applies backpressure to the socket.
import type { Socket } from 'node:net';
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { ConnectionInfo, FrameHandler, FrameOutcome } from './frame-handler.js';
import { FrameReader, FrameSizeError } from './frame-reader.js';
import type { UnauthenticatedLimits } from './listeners.js';
import { maxFrameSizeBytes, type NetworkLimits } from './network-limits.js';

export interface ConnectionOptions {
  socket: Socket;
  info: ConnectionInfo;
  handler: FrameHandler;
  limits: NetworkLimits;
  logger: Logger;
  clock: Clock;
  /** How long a connection we have ended waits for the peer to close before it is destroyed. */
  lingerMs: number;
  onClosed: (connection: Connection) => void;
  /** For a connection that must authenticate (info.authenticated false): its limits until it has. */
  unauthenticated?: UnauthenticatedLimits;
  /** Track when each frame arrived and hand it to the handler (the metrics' queue time). */
  timesFrames?: boolean;
}

/** Counters for metrics and tests. */
export interface ConnectionStats {
  id: number;
  principal: string;
  inFlightRequests: number;
  queuedResponseBytes: number;
  /** The most unsent response bytes seen right after writing a response. */
  peakQueuedResponseBytes: number;
  bufferedRequestBytes: number;
}

/**
 * open: reading and dispatching. draining: the server is closing; no new requests, earlier ones
 * finish. ending: our side is shut, input is discarded until the peer closes. closed: socket gone.
 */
type ConnectionState = 'open' | 'draining' | 'ending' | 'closed';

/** One pipelined request, in arrival order; the outcome is unset while the handler works. */
interface ResponseSlot {
  outcome: FrameOutcome | undefined;
}

export class Connection {
  readonly info: ConnectionInfo;
  /** Resolves once the socket has closed, however that happened. */
  readonly closed: Promise<void>;
  private readonly socket: Socket;
  private readonly handler: FrameHandler;
  private readonly limits: NetworkLimits;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly lingerMs: number;
  private readonly onClosed: (connection: Connection) => void;
  private readonly reader: FrameReader;
  /** Requests handed to the handler whose responses are not yet written, oldest first. */
  private slots: ResponseSlot[] = [];
  private state: ConnectionState = 'open';
  private readingPaused = false;
  private inputEnded = false;
  /** A settled `close` outcome waits in the queue: take no further requests. */
  private closePending = false;
  private pumping = false;
  private lastActivityMs: number;
  private peakQueuedResponseBytes = 0;
  private cancelLinger: (() => void) | undefined;
  /** A quota throttle: no request is read or dispatched before this time (monotonic ms). */
  private mutedUntilMs = 0;
  private cancelUnmute: (() => void) | undefined;
  private resolveClosed!: () => void;
  /**
   * With timesFrames: bytes received so far, and when each chunk not yet wholly dispatched arrived
   * (monotonic ms), a frame's receipt time; undefined otherwise (nothing tracked).
   */
  private receivedBytes = 0;
  private readonly arrivals: { endByte: number; atMs: number }[] | undefined;

  constructor(options: ConnectionOptions) {
    this.socket = options.socket;
    this.info = options.info;
    this.handler = options.handler;
    this.limits = options.limits;
    this.logger = options.logger;
    this.clock = options.clock;
    this.lingerMs = options.lingerMs;
    this.onClosed = options.onClosed;
    this.reader = new FrameReader(options.info.authenticated ? options.limits.socketRequestMaxBytes : (options.unauthenticated?.maxFrameBytes ?? options.limits.socketRequestMaxBytes));
    this.lastActivityMs = options.clock.monotonicMs();
    this.arrivals = options.timesFrames === true ? [] : undefined;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    if (!options.info.authenticated && options.unauthenticated) this.limitUnauthenticated(options.unauthenticated);
    this.attachSocketListeners();
  }

  stats(): ConnectionStats {
    return {
      id: this.info.id,
      principal: this.info.principal,
      inFlightRequests: this.slots.length,
      queuedResponseBytes: this.socket.writableLength,
      peakQueuedResponseBytes: this.peakQueuedResponseBytes,
      bufferedRequestBytes: this.reader.bufferedBytes(),
    };
  }

  /** When a byte was last read or written (monotonic ms): the least recently used closes first. */
  get lastActivityAtMs(): number {
    return this.lastActivityMs;
  }

  /** Whether the connection is closed or being closed by us (its socket may not have reported it yet). */
  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /**
   * Idle means no bytes read or written for `idleMs` and no handler still working: responses
   * stuck behind a client that never reads do not keep a connection alive.
   */
  isIdle(nowMs: number, idleMs: number): boolean {
    if (this.state === 'closed') return false;
    if (this.slots.some((slot) => slot.outcome === undefined)) return false;
    return nowMs - this.lastActivityMs >= idleMs;
  }

  closeIdle(): void {
    this.logger.debug('closing idle connection', this.logFields());
    this.destroy();
  }

  /** Server shutdown: stop taking requests, let the ones in flight be answered, then close. */
  drain(): void {
    if (this.state !== 'open') return;
    if (this.slots.length === 0 && this.socket.writableLength === 0) {
      this.destroy();
      return;
    }
    this.state = 'draining';
    this.pump();
  }

  destroy(): void {
    if (this.state === 'closed') return;
    // Closed from here on, before the socket's close event, so no late handler writes to it.
    this.state = 'closed';
    this.slots = [];
    this.socket.destroy();
  }

  private attachSocketListeners(): void {
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => this.onInputEnded());
    this.socket.on('drain', () => this.pump());
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.logger.debug('connection error', { ...this.logFields(), error: error.code ?? error.message });
      this.destroy();
    });
    this.socket.on('close', () => this.onSocketClosed());
  }

  /**
   * Until the client authenticated: small frames only, and a deadline (a client that never
   * finishes its SASL exchange is closed, not kept open until the idle sweep).
   */
  private limitUnauthenticated(limits: UnauthenticatedLimits): void {
    const cancel = this.clock.schedule(limits.timeoutMs, () => {
      if (this.info.authenticated || this.state !== 'open') return;
      this.logger.info('closing connection: it did not authenticate in time', { ...this.logFields(), timeoutMs: limits.timeoutMs });
      this.destroy();
    });
    void this.closed.then(cancel);
  }

  private onData(chunk: Buffer): void {
    this.lastActivityMs = this.clock.monotonicMs();
    if (this.state !== 'open') return;
    this.reader.append(chunk);
    if (this.arrivals !== undefined) {
      this.receivedBytes += chunk.length;
      this.arrivals.push({ endByte: this.receivedBytes, atMs: this.lastActivityMs });
    }
    this.pump();
  }

  /** The peer shut its side: answer what it already sent, then close. */
  private onInputEnded(): void {
    this.inputEnded = true;
    this.pump();
  }

  private onSocketClosed(): void {
    this.state = 'closed';
    this.slots = [];
    this.cancelLinger?.();
    this.cancelLinger = undefined;
    this.cancelUnmute?.();
    this.cancelUnmute = undefined;
    this.onClosed(this);
    this.resolveClosed();
  }

  /**
   * Writes settled responses at the head of the queue and dispatches buffered frames until
   * neither makes progress. Re-entrant calls (a handler answering synchronously) return at once:
   * the running loop sees their effect, which keeps the stack flat under deep pipelining.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      let progressed = true;
      while (progressed) {
        progressed = this.writeSettledResponses();
        progressed = this.dispatchNextFrame() || progressed;
      }
    } finally {
      this.pumping = false;
    }
    this.finishIfDone();
    this.updateReading();
  }

  private writeSettledResponses(): boolean {
    let progressed = false;
    while (this.state === 'open' || this.state === 'draining') {
      const head = this.slots[0];
      if (head === undefined || head.outcome === undefined) break;
      if (this.socket.writableLength > this.limits.maxQueuedResponseBytes) break;
      this.slots.shift();
      progressed = true;
      this.apply(head.outcome);
    }
    return progressed;
  }

  private apply(outcome: FrameOutcome): void {
    switch (outcome.kind) {
      case 'respond':
        this.writeResponse(outcome.chunks, outcome.onSent);
        if (outcome.throttleMs !== undefined && outcome.throttleMs > 0) this.mute(outcome.throttleMs);
        return;
      case 'none':
        if (outcome.throttleMs !== undefined && outcome.throttleMs > 0) this.mute(outcome.throttleMs);
        return;
      case 'close':
        this.logger.info('closing connection', { ...this.logFields(), reason: outcome.reason });
        if (outcome.lastResponse) this.writeResponse(outcome.lastResponse, undefined);
        this.endGracefully();
        return;
    }
  }

  /** The size prefix, then the handler's chunks as they are: corking sends them in one writev. */
  private writeResponse(chunks: Buffer[], onSent: (() => void) | undefined): void {
    let sizeBytes = 0;
    for (const chunk of chunks) sizeBytes += chunk.length;
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeInt32BE(sizeBytes, 0);
    const parts = [prefix, ...chunks.filter((chunk) => chunk.length > 0)];
    const lastIndex = parts.length - 1;
    this.socket.cork();
    for (let index = 0; index < lastIndex; index++) this.socket.write(parts[index] as Buffer);
    // The callback runs once the response reached the kernel (or the write failed): the chunks are
    // free, there was activity, and maybe there is room to write more.
    this.socket.write(parts[lastIndex] as Buffer, () => {
      onSent?.();
      this.onResponseFlushed();
    });
    this.socket.uncork();
    this.peakQueuedResponseBytes = Math.max(this.peakQueuedResponseBytes, this.socket.writableLength);
  }

  /** Kafka's channel muting for a throttled client: requests wait (unread) until the throttle time has passed. */
  private mute(throttleMs: number): void {
    const until = this.clock.monotonicMs() + throttleMs;
    if (until <= this.mutedUntilMs) return;
    this.mutedUntilMs = until;
    this.cancelUnmute?.();
    this.cancelUnmute = this.clock.schedule(throttleMs, () => {
      // The latest mute has run its time (a timer may fire a little before the clock reads it).
      this.cancelUnmute = undefined;
      this.mutedUntilMs = 0;
      this.pump();
    });
  }

  private get muted(): boolean {
    return this.mutedUntilMs > 0 && this.clock.monotonicMs() < this.mutedUntilMs;
  }

  private onResponseFlushed(): void {
    this.lastActivityMs = this.clock.monotonicMs();
    this.pump();
  }

  private dispatchNextFrame(): boolean {
    if (this.state !== 'open' || this.closePending || this.muted) return false;
    if (this.slots.length >= (this.info.oneRequestAtATime ? 1 : this.limits.maxInFlightRequestsPerConnection)) return false;
    if (this.socket.writableLength > this.limits.maxQueuedResponseBytes) return false;
    const frame = this.readFrame();
    if (frame === undefined) return false;
    const slot: ResponseSlot = { outcome: undefined };
    this.slots.push(slot);
    this.callHandler(frame, slot, this.arrivals === undefined ? undefined : this.frameReceivedAtMs(this.arrivals));
    return true;
  }

  /**
   * When the frame just read was whole: the arrival of the chunk holding its last byte. The time
   * since then is the time it waited for a free pipeline slot (the request queue time).
   */
  private frameReceivedAtMs(arrivals: { endByte: number; atMs: number }[]): number {
    const consumed = this.receivedBytes - this.reader.bufferedBytes();
    while (arrivals.length > 1 && arrivals[0]!.endByte < consumed) arrivals.shift();
    return arrivals[0]?.atMs ?? this.clock.monotonicMs();
  }

  private readFrame(): Buffer | undefined {
    if (this.info.authenticated) this.reader.setMaxFrameBytes(this.limits.socketRequestMaxBytes);
    try {
      return this.reader.next();
    } catch (error) {
      if (!(error instanceof FrameSizeError)) throw error;
      this.logger.warn('closing connection: invalid request size', {
        ...this.logFields(),
        sizeBytes: error.sizeBytes,
        socketRequestMaxBytes: this.limits.socketRequestMaxBytes,
      });
      this.destroy();
      return undefined;
    }
  }

  private callHandler(frame: Buffer, slot: ResponseSlot, receivedAtMs: number | undefined): void {
    let result: FrameOutcome | Promise<FrameOutcome>;
    try {
      result = this.handler(frame, this.info, receivedAtMs);
    } catch (error) {
      this.settle(slot, this.handlerFailure(error));
      return;
    }
    if (isPromiseLike(result)) {
      result.then(
        (outcome) => this.settleAndPump(slot, outcome),
        (error: unknown) => this.settleAndPump(slot, this.handlerFailure(error)),
      );
    } else {
      this.settle(slot, result);
    }
  }

  private settleAndPump(slot: ResponseSlot, outcome: FrameOutcome): void {
    this.settle(slot, outcome);
    this.pump();
  }

  /** Records the outcome; a slot dropped by an earlier close is ignored. */
  private settle(slot: ResponseSlot, outcome: FrameOutcome): void {
    if (!this.slots.includes(slot)) return;
    slot.outcome = this.checkedOutcome(outcome);
    if (slot.outcome.kind === 'close') this.closePending = true;
  }

  /** The dispatcher turns handler exceptions into error responses itself; one reaching us is a bug. */
  private handlerFailure(error: unknown): FrameOutcome {
    this.logger.error('request handler failed, closing connection', { ...this.logFields(), error: describe(error) });
    return { kind: 'close', reason: 'request handler failed' };
  }

  private checkedOutcome(outcome: FrameOutcome): FrameOutcome {
    const problem = outcomeProblem(outcome);
    if (problem === undefined) return outcome;
    this.logger.error('request handler returned an invalid outcome, closing connection', {
      ...this.logFields(),
      problem,
    });
    return { kind: 'close', reason: problem };
  }

  /** Once the server drains us or the peer has stopped sending, close when nothing is left to answer. */
  private finishIfDone(): void {
    if (this.slots.length > 0) return;
    if (this.state === 'draining' || (this.state === 'open' && this.inputEnded)) this.endGracefully();
  }

  /**
   * Shuts our side after the queued responses, then keeps reading and discarding input: closing a
   * socket with unread input makes the kernel send a reset, which can destroy those responses.
   */
  private endGracefully(): void {
    if (this.state === 'ending' || this.state === 'closed') return;
    this.state = 'ending';
    this.slots = [];
    // With both sides ended the socket closes itself; the linger timer bounds a peer that never does.
    this.socket.end();
    this.cancelLinger = this.clock.schedule(this.lingerMs, () => this.destroy());
  }

  private updateReading(): void {
    const shouldRead =
      this.state === 'ending' ||
      (this.state === 'open' &&
        !this.closePending &&
        !this.muted &&
        this.slots.length < (this.info.oneRequestAtATime ? 1 : this.limits.maxInFlightRequestsPerConnection) &&
        this.socket.writableLength <= this.limits.maxQueuedResponseBytes);
    if (shouldRead && this.readingPaused) {
      this.readingPaused = false;
      this.socket.resume();
    } else if (!shouldRead && !this.readingPaused) {
      this.readingPaused = true;
      this.socket.pause();
    }
  }

  private logFields(): Record<string, unknown> {
    return {
      connection: this.info.id,
      remote: `${this.info.remoteAddress}:${this.info.remotePort}`,
      listener: this.info.listenerName,
    };
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<FrameOutcome> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

function outcomeProblem(outcome: FrameOutcome): string | undefined {
  if (outcome === null || typeof outcome !== 'object') return 'outcome is not an object';
  if (outcome.kind === 'none' || outcome.kind === 'close') return undefined;
  if (outcome.kind !== 'respond' || !Array.isArray(outcome.chunks)) return `unknown outcome kind ${String(outcome.kind)}`;
  let sizeBytes = 0;
  for (const chunk of outcome.chunks) {
    if (!Buffer.isBuffer(chunk)) return 'response chunk is not a Buffer';
    sizeBytes += chunk.length;
  }
  if (sizeBytes > maxFrameSizeBytes) return `response of ${sizeBytes} bytes does not fit a frame`;
  return undefined;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}
