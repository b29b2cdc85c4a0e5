// A small Kafka client connection for tools: one connection to one broker, opened through a
// Connector (src/node's connectTcp for TCP), requests framed and matched by the framing core. Every
// request has a deadline; no retries, no metadata cache.
import type { Clock } from '../base/clock.js';
import type { ApiDescriptor } from '../protocol/messages/index.js';
import type { Connector } from './byte-stream.js';
import { FramedConnection } from './framed-connection.js';
import { timerClock } from './timer-clock.js';

/** The largest response frame a tool accepts, so a bad peer cannot make it allocate without bound. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
/** A request's deadline unless the caller gives one: Kafka's request.timeout.ms default. */
export const TOOL_REQUEST_TIMEOUT_MS = 30_000;

export interface ToolConnectionOptions {
  /** Give up opening the connection after this long (10 s unless given). */
  connectTimeoutMs?: number;
  /** Each request's deadline unless `send` names one (TOOL_REQUEST_TIMEOUT_MS unless given). */
  requestTimeoutMs?: number;
  /** The clock deadlines run on; real timers unless given. */
  clock?: Clock;
}

export class KafkaConnection {
  private constructor(
    private readonly connection: FramedConnection,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Connects to `address` (`host:port`, a bootstrap server string) through `connect`. */
  static async open(connect: Connector, address: string, clientId = 'conveyor-tools', options: ToolConnectionOptions = {}): Promise<KafkaConnection> {
    const stream = await connect(address, options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    const connection = new FramedConnection(stream, { clock: options.clock ?? timerClock, clientId, maxResponseBytes: MAX_RESPONSE_BYTES });
    return new KafkaConnection(connection, options.requestTimeoutMs ?? TOOL_REQUEST_TIMEOUT_MS);
  }

  /** Sends `request`; rejects with a TransportError when no response comes within `timeoutMs` or the connection ends. */
  // biome-ignore lint/suspicious/noExplicitAny: a tool decodes requests' responses only, never the reverse.
  send<Request, Response>(api: ApiDescriptor<any, Response, Request, any>, version: number, request: Request, timeoutMs = this.requestTimeoutMs): Promise<Response> {
    return this.connection.send(api, version, request, timeoutMs);
  }

  /** True once the connection can send nothing more (closed by either side, or broken). */
  get isClosed(): boolean {
    return this.connection.isClosed;
  }

  close(): void {
    this.connection.close();
  }
}
