// A small Kafka test client over node:net built on the generated codecs: it frames requests,
// matches responses by correlation id (pipelining allowed), and exposes the raw socket for tests
// that send malformed bytes or expect the broker to close the connection.
import { type Socket, connect as netConnect } from 'node:net';
import { decodeResponseHeader, requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/headers.js';
import type { ApiDescriptor } from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';

export interface RequestOptions {
  /** Request header version to write; defaults to the one the API version calls for (0, 1 or 2). */
  headerVersion?: number;
  /** Response header version to read; defaults to the one the API version calls for. */
  responseHeaderVersion?: number;
  clientId?: string | null;
  /** Bytes appended after the encoded body, inside the same frame. */
  trailingBytes?: Buffer;
  /** False for requests the broker never answers (Produce with acks=0). */
  expectResponse?: boolean;
  /** Rejects the response promise if nothing arrives in time; default 15 s. */
  timeoutMs?: number;
}

interface PendingResponse {
  correlationId: number;
  decode: (reader: Reader) => unknown;
  headerVersion: number;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface SentRequest<Response> {
  correlationId: number;
  /** Resolves with the decoded body; undefined when no response is expected. */
  response: Promise<Response>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const FRAME_SIZE_BYTES = 4;

/** Encodes one request frame: size prefix, request header of the chosen version, body, extras. */
export function encodeRequestFrame<RequestIn>(
  api: ApiDescriptor<unknown, unknown, RequestIn, unknown>,
  version: number,
  correlationId: number,
  body: RequestIn,
  options: Pick<RequestOptions, 'headerVersion' | 'clientId' | 'trailingBytes'> = {},
): Buffer {
  const writer = new Writer();
  writer.writeInt32(0);
  writeRequestHeader(writer, api.apiKey, version, correlationId, options.headerVersion ?? requestHeaderVersion(api.apiKey, version), options.clientId);
  api.encodeRequest(writer, version, body);
  const frame = Buffer.concat([writer.toBuffer(), options.trailingBytes ?? Buffer.alloc(0)]);
  frame.writeInt32BE(frame.length - FRAME_SIZE_BYTES, 0);
  return frame;
}

/** A frame with a bare request header (no body): for unknown api keys and unsupported versions. */
export function encodeHeaderOnlyFrame(apiKey: number, version: number, correlationId: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const writer = new Writer();
  writer.writeInt32(0);
  writeRequestHeader(writer, apiKey, version, correlationId, 1, 'raw-client');
  const frame = Buffer.concat([writer.toBuffer(), body]);
  frame.writeInt32BE(frame.length - FRAME_SIZE_BYTES, 0);
  return frame;
}

function writeRequestHeader(writer: Writer, apiKey: number, version: number, correlationId: number, headerVersion: number, clientId: string | null | undefined): void {
  writer.writeInt16(apiKey);
  writer.writeInt16(version);
  writer.writeInt32(correlationId);
  if (headerVersion >= 1) writer.writeNullableString(clientId === undefined ? 'raw-client' : clientId);
  if (headerVersion >= 2) writer.writeEmptyTaggedFields();
}

export class RawClient {
  /** Correlation ids of the responses received, in arrival order. */
  readonly receivedOrder: number[] = [];
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, PendingResponse>();
  private buffered: Buffer = Buffer.alloc(0);
  private closed = false;
  private readonly closedPromise: Promise<void>;
  private failure: Error | undefined;
  /** Set while a test waits for a frame that is not a response (SASL tokens after a v0 handshake). */
  private rawWaiter: { resolve: (frame: Buffer) => void; reject: (error: Error) => void } | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => {
      this.failure = error;
    });
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        this.failAll(this.failure ?? new Error('connection closed by the broker'));
        resolve();
      });
    });
  }

  static connect(host: string, port: number, timeoutMs = 5_000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RawClient(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one request and resolves with its decoded response body. */
  request<Request, Response, RequestIn, ResponseIn>(
    api: ApiDescriptor<Request, Response, RequestIn, ResponseIn>,
    version: number,
    body: RequestIn,
    options: RequestOptions = {},
  ): Promise<Response> {
    return this.send(api, version, body, options).response;
  }

  /** Sends one request without waiting: several sends in a row are pipelined on the socket. */
  send<Request, Response, RequestIn, ResponseIn>(
    api: ApiDescriptor<Request, Response, RequestIn, ResponseIn>,
    version: number,
    body: RequestIn,
    options: RequestOptions = {},
  ): SentRequest<Response> {
    const correlationId = this.nextCorrelationId++;
    const frame = encodeRequestFrame(api as ApiDescriptor<unknown, unknown, RequestIn, unknown>, version, correlationId, body, options);
    const response =
      options.expectResponse === false
        ? Promise.resolve(undefined as Response)
        : this.expectResponse(correlationId, (reader) => api.decodeResponse(reader, version), options.responseHeaderVersion ?? responseHeaderVersion(api.apiKey, version), options.timeoutMs);
    this.sendRaw(frame);
    return { correlationId, response };
  }

  /** Registers interest in a response to a frame sent with sendRaw. */
  expectResponse<Response>(correlationId: number, decode: (reader: Reader) => Response, headerVersion: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Response> {
    if (this.closed) return Promise.reject(new Error('connection is closed'));
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new Error(`no response to correlation id ${correlationId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationId, { correlationId, decode, headerVersion, resolve: resolve as (value: unknown) => void, reject, timer });
    });
  }

  /** The next frame as it comes (no response header), for the raw SASL tokens of a v0 handshake. */
  readRawFrame(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('connection is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.rawWaiter = undefined;
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = <T>(action: (value: T) => void) => (value: T) => {
        clearTimeout(timer);
        this.rawWaiter = undefined;
        action(value);
      };
      this.rawWaiter = { resolve: settle(resolve), reject: settle(reject) };
    });
  }

  /** A correlation id no request of this client uses, for hand-built frames. */
  takeCorrelationId(): number {
    return this.nextCorrelationId++;
  }

  sendRaw(bytes: Buffer): void {
    if (!this.closed) this.socket.write(bytes);
  }

  /** Resolves once the broker has closed the connection; rejects if that has not happened within timeoutMs. */
  waitForClose(timeoutMs = 5_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs);
      this.closedPromise.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.socket.end();
    this.socket.destroySoon();
    await this.waitForClose(5_000).catch(() => this.socket.destroy());
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= FRAME_SIZE_BYTES) {
      const size = this.buffered.readInt32BE(0);
      if (this.buffered.length < FRAME_SIZE_BYTES + size) return;
      const frame = this.buffered.subarray(FRAME_SIZE_BYTES, FRAME_SIZE_BYTES + size);
      this.buffered = this.buffered.subarray(FRAME_SIZE_BYTES + size);
      this.onFrame(Buffer.from(frame));
    }
  }

  private onFrame(frame: Buffer): void {
    if (this.rawWaiter) return this.rawWaiter.resolve(frame);
    const correlationId = frame.readInt32BE(0);
    this.receivedOrder.push(correlationId);
    const pending = this.pending.get(correlationId);
    if (!pending) {
      this.failAll(new Error(`response with unexpected correlation id ${correlationId}`));
      return;
    }
    this.pending.delete(correlationId);
    clearTimeout(pending.timer);
    try {
      const reader = new Reader(frame);
      decodeResponseHeader(reader, pending.headerVersion);
      const body = pending.decode(reader);
      if (reader.remaining !== 0) throw new Error(`${reader.remaining} bytes left after the response body (correlation id ${correlationId})`);
      pending.resolve(body);
    } catch (error) {
      pending.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private failAll(error: Error): void {
    this.rawWaiter?.reject(error);
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
  }
}

/** Connects a raw client: the short form used by most tests. */
export function connect(host: string, port: number): Promise<RawClient> {
  return RawClient.connect(host, port);
}
