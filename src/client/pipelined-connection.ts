// A Kafka connection for load tools: many requests in flight on one connection, requests written
// as the encoder's chunks (record batches are never copied), responses reassembled with at most one
// copy per frame and matched by correlation id (all of it the framing core's work).
import type { ApiDescriptor } from '../protocol/messages/index.js';
import type { Connector } from './byte-stream.js';
import { FramedConnection } from './framed-connection.js';
import { TOOL_REQUEST_TIMEOUT_MS, type ToolConnectionOptions } from './kafka-connection.js';
import { timerClock } from './timer-clock.js';

/** The largest response frame accepted, so a bad peer cannot make the tool allocate without bound. */
const MAX_RESPONSE_BYTES = 512 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;
/** Requests a caller may keep waiting on one connection. */
export const MAX_PENDING_REQUESTS = 1024;

export class PipelinedConnection {
  private constructor(
    private readonly connection: FramedConnection,
    private readonly requestTimeoutMs: number,
  ) {}

  /** Connects to `address` (`host:port`) through `connect`. */
  static async open(connect: Connector, address: string, clientId = 'conveyor-perf', options: ToolConnectionOptions = {}): Promise<PipelinedConnection> {
    const stream = await connect(address, options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    const connection = new FramedConnection(stream, {
      clock: options.clock ?? timerClock,
      clientId,
      maxPendingRequests: MAX_PENDING_REQUESTS,
      maxResponseBytes: MAX_RESPONSE_BYTES,
    });
    return new PipelinedConnection(connection, options.requestTimeoutMs ?? TOOL_REQUEST_TIMEOUT_MS);
  }

  get pendingCount(): number {
    return this.connection.pendingCount;
  }

  /** Sends a request; with `expectResponse` false (acks=0 produce) the promise resolves once written. */
  // biome-ignore lint/suspicious/noExplicitAny: tools decode responses only, never the reverse.
  send<Request, Response>(api: ApiDescriptor<any, Response, Request, any>, version: number, request: Request, expectResponse = true, timeoutMs = this.requestTimeoutMs): Promise<Response> {
    return this.connection.send(api, version, request, timeoutMs, expectResponse);
  }

  close(): void {
    this.connection.close();
  }
}
