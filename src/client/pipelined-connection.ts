// A Kafka connection for load tools: many requests in flight on one socket, requests written as
// the encoder's chunks (record batches are never copied), responses reassembled with at most one
// copy per frame and matched by correlation id.
import type { Socket } from 'node:net';
import { decodeResponseHeader, encodeRequestHeader, responseHeaderVersion } from '../protocol/headers.js';
import type { ApiDescriptor } from '../protocol/messages/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { connectSocket } from './connect-socket.js';

/** The largest response frame accepted, so a bad peer cannot make the tool allocate without bound. */
const MAX_RESPONSE_BYTES = 512 * 1024 * 1024;
/** A request's own bytes (headers, small fields); under 4 KiB, Node carves it from a shared slab. */
const REQUEST_BUFFER_BYTES = 512;
/** Requests a caller may keep waiting on one connection. */
export const MAX_PENDING_REQUESTS = 1024;

interface Pending {
  decode: (reader: Reader) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class PipelinedConnection {
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private readonly received: Buffer[] = [];
  private receivedBytes = 0;
  private closedError: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly clientId: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.failAll(new Error('connection closed')));
    socket.on('error', (error) => this.failAll(error));
  }

  /** Connects to `host:port`. */
  static async open(address: string, clientId = 'conveyor-perf', timeoutMs = 10_000): Promise<PipelinedConnection> {
    return new PipelinedConnection(await connectSocket(address, timeoutMs), clientId);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sends a request; with `expectResponse` false (acks=0 produce) the promise resolves once written. */
  // biome-ignore lint/suspicious/noExplicitAny: tools decode responses only, never the reverse.
  send<Request, Response>(api: ApiDescriptor<any, Response, Request, any>, version: number, request: Request, expectResponse = true): Promise<Response> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.pending.size >= MAX_PENDING_REQUESTS) return Promise.reject(new Error('too many requests in flight'));
    const correlationId = this.nextCorrelationId++;
    // Small enough to come from Node's shared buffer pool: record batches are referenced, not copied.
    const writer = new Writer(REQUEST_BUFFER_BYTES);
    writer.writeInt32(0);
    encodeRequestHeader(writer, { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: this.clientId });
    api.encodeRequest(writer, version, request);
    const chunks = writer.finish();
    chunks[0]!.writeInt32BE(writer.length - 4, 0);
    if (!expectResponse) {
      return new Promise((resolve) => this.writeChunks(chunks, () => resolve(undefined as Response)));
    }
    const headerVersion = responseHeaderVersion(api.apiKey, version);
    return new Promise<Response>((resolve, reject) => {
      this.pending.set(correlationId, {
        decode: (reader) => {
          decodeResponseHeader(reader, headerVersion);
          return api.decodeResponse(reader, version);
        },
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.writeChunks(chunks);
    });
  }

  close(): void {
    this.closedError ??= new Error('connection closed');
    this.socket.end();
    this.socket.destroy();
  }

  /** Corked writes leave as one writev; the callback fires once the kernel took the bytes. */
  private writeChunks(chunks: Buffer[], written?: () => void): void {
    this.socket.cork();
    for (let index = 0; index < chunks.length - 1; index++) this.socket.write(chunks[index]!);
    this.socket.write(chunks[chunks.length - 1]!, written);
    this.socket.uncork();
  }

  private onData(chunk: Buffer): void {
    this.received.push(chunk);
    this.receivedBytes += chunk.length;
    for (;;) {
      const frame = this.takeFrame();
      if (frame === undefined) return;
      this.dispatch(frame);
    }
  }

  /** The next complete frame: a view when it sits in one chunk, else one copy of its parts. */
  private takeFrame(): Buffer | undefined {
    if (this.receivedBytes < 4) return undefined;
    let head = this.received[0]!;
    if (head.length < 4) {
      head = Buffer.concat(this.received);
      this.received.length = 0;
      this.received.push(head);
    }
    const size = head.readInt32BE(0);
    if (size < 4 || size > MAX_RESPONSE_BYTES) {
      this.socket.destroy(new Error(`bad response size ${size}`));
      return undefined;
    }
    if (this.receivedBytes < 4 + size) return undefined;
    this.receivedBytes -= 4 + size;
    if (head.length >= 4 + size) {
      const frame = head.subarray(4, 4 + size);
      if (head.length === 4 + size) this.received.shift();
      else this.received[0] = head.subarray(4 + size);
      return frame;
    }
    return this.gather(size);
  }

  private gather(size: number): Buffer {
    const frame = Buffer.allocUnsafe(size);
    let filled = 0;
    let skip = 4;
    while (filled < size) {
      const chunk = this.received[0]!;
      const start = skip;
      skip = 0;
      const wanted = Math.min(chunk.length - start, size - filled);
      chunk.copy(frame, filled, start, start + wanted);
      filled += wanted;
      if (start + wanted === chunk.length) this.received.shift();
      else this.received[0] = chunk.subarray(start + wanted);
    }
    return frame;
  }

  private dispatch(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const pending = this.pending.get(correlationId);
    if (!pending) return;
    this.pending.delete(correlationId);
    try {
      pending.resolve(pending.decode(new Reader(frame)));
    } catch (error) {
      pending.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private failAll(error: Error): void {
    this.closedError ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
