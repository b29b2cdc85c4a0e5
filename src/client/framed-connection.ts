// The framing and correlation core of every client connection: requests are encoded with the
// generated codecs and written as the encoder's chunks (record batches are never copied), responses
// are cut out of the byte stream (a view when a frame sits in one chunk, else one copy) and matched
// to their request by correlation id. Sans-IO: it runs over a ByteStream and takes a Clock, so the
// same code serves TCP and the simulated network.
import type { Clock } from '../base/clock.js';
import { decodeResponseHeader, encodeRequestHeader, responseHeaderVersion } from '../protocol/headers.js';
import type { ApiDescriptor } from '../protocol/messages/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { TransportError, type TransportErrorKind } from '../protocol/transport.js';
import type { ByteStream } from './byte-stream.js';

/** Requests waiting on one connection unless the owner says otherwise. */
export const DEFAULT_MAX_PENDING_REQUESTS = 1024;
/** The largest response frame accepted unless the owner says otherwise (a bad peer cannot make us allocate without bound). */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/** A request's own bytes (headers, small fields); under 4 KiB, Node carves it from a shared slab. */
const REQUEST_BUFFER_BYTES = 512;
/** Correlation ids are positive int32s; they wrap long after any request using one has settled. */
const MAX_CORRELATION_ID = 0x7fffffff;

export interface FramedConnectionOptions {
  clock: Clock;
  /** The client id in every request header. */
  clientId: string;
  /** The node the stream leads to, named in every TransportError; -1 when there is none (a tool's bootstrap address). */
  nodeId?: number;
  /** Requests (with or without a response) that may wait at once; one more is rejected as 'overloaded'. */
  maxPendingRequests?: number;
  /** A response frame larger than this breaks the connection. */
  maxResponseBytes?: number;
  /** Called once when the connection closes for any reason, after every pending request has been rejected. */
  onClose?: (error: TransportError) => void;
}

interface Pending {
  /** Undefined for a request without a response: it settles once written. */
  decode: ((reader: Reader) => unknown) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  cancelDeadline: () => void;
}

export class FramedConnection {
  private readonly clock: Clock;
  private readonly clientId: string;
  private readonly nodeId: number;
  private readonly maxPendingRequests: number;
  private readonly maxResponseBytes: number;
  private readonly onClose: ((error: TransportError) => void) | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  /** Received bytes not yet framed, in order; the first may be a view past frames already taken. */
  private readonly received: Buffer[] = [];
  private receivedBytes = 0;
  private closedError: TransportError | undefined;

  constructor(
    private readonly stream: ByteStream,
    options: FramedConnectionOptions,
  ) {
    this.clock = options.clock;
    this.clientId = options.clientId;
    this.nodeId = options.nodeId ?? -1;
    this.maxPendingRequests = options.maxPendingRequests ?? DEFAULT_MAX_PENDING_REQUESTS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.onClose = options.onClose;
    stream.listen({
      data: (chunk) => this.onData(chunk),
      closed: (error) => this.fail('disconnected', error ? `connection to ${this.peer()} broke: ${error.message}` : `connection to ${this.peer()} closed`),
    });
  }

  /** Requests sent and not yet settled (answered, written, timed out or failed). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** True once the connection can send nothing more (closed by either side or broken). */
  get isClosed(): boolean {
    return this.closedError !== undefined;
  }

  /**
   * Sends `request` and resolves with the decoded response, or rejects with a TransportError:
   * 'timeout' after `timeoutMs` on the clock (a late response is then ignored), 'overloaded' when
   * the pending bound is reached (nothing is sent), 'disconnected' or 'closed' when the connection
   * ends first. With `expectResponse` false (acks=0 produce) the peer sends nothing back and the
   * promise resolves once the stream has taken the bytes. A response that fails to decode rejects
   * with the decoder's error.
   */
  send<Request, Response>(
    // biome-ignore lint/suspicious/noExplicitAny: a sender encodes requests and decodes responses only.
    api: ApiDescriptor<any, Response, Request, any>,
    version: number,
    request: Request,
    timeoutMs: number,
    expectResponse = true,
  ): Promise<Response> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.pending.size >= this.maxPendingRequests) {
      return Promise.reject(this.error('overloaded', `${this.pending.size} requests already wait on ${this.peer()}`));
    }
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = correlationId === MAX_CORRELATION_ID ? 1 : correlationId + 1;
    let chunks: Buffer[];
    let headerVersion: number;
    try {
      chunks = this.encode(api, version, request, correlationId);
      headerVersion = responseHeaderVersion(api.apiKey, version);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Response>((resolve, reject) => {
      const cancelDeadline = this.clock.schedule(timeoutMs, () => {
        if (this.pending.delete(correlationId)) reject(this.error('timeout', `${api.name} to ${this.peer()} got no response within ${timeoutMs} ms`));
      });
      const decode = expectResponse
        ? (reader: Reader) => {
            decodeResponseHeader(reader, headerVersion);
            return api.decodeResponse(reader, version);
          }
        : undefined;
      this.pending.set(correlationId, { decode, resolve: resolve as (value: unknown) => void, reject, cancelDeadline });
      this.stream.write(chunks, expectResponse ? undefined : (error) => this.onWritten(correlationId, error));
    });
  }

  /** Ends the connection: every pending request is rejected with `kind` ('closed' unless the owner says why). */
  close(kind: TransportErrorKind = 'closed', message = `connection to ${this.peer()} closed`): void {
    if (this.closedError) return;
    this.fail(kind, message);
    this.stream.end();
    this.stream.destroy();
  }

  /** The request as the encoder's chunks, the size prefix patched into the first. */
  private encode<Request>(
    // biome-ignore lint/suspicious/noExplicitAny: only the request side is used here.
    api: ApiDescriptor<any, any, Request, any>,
    version: number,
    request: Request,
    correlationId: number,
  ): Buffer[] {
    // Small enough to come from Node's shared buffer pool: record batches are referenced, not copied.
    const writer = new Writer(REQUEST_BUFFER_BYTES);
    writer.writeInt32(0);
    encodeRequestHeader(writer, { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: this.clientId });
    api.encodeRequest(writer, version, request);
    const chunks = writer.finish();
    chunks[0]!.writeInt32BE(writer.length - 4, 0);
    return chunks;
  }

  private onWritten(correlationId: number, error: Error | undefined): void {
    const pending = this.pending.get(correlationId);
    if (!pending) return;
    this.pending.delete(correlationId);
    pending.cancelDeadline();
    if (error) pending.reject(this.error('disconnected', `writing to ${this.peer()} failed: ${error.message}`));
    else pending.resolve(undefined);
  }

  private onData(chunk: Buffer): void {
    if (this.closedError) return;
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
    if (this.closedError || this.receivedBytes < 4) return undefined;
    const size = this.peekSize();
    if (size < 4 || size > this.maxResponseBytes) {
      this.fail('disconnected', `bad response size ${size} from ${this.peer()} (at most ${this.maxResponseBytes} bytes)`);
      this.stream.destroy();
      return undefined;
    }
    if (this.receivedBytes < 4 + size) return undefined;
    this.receivedBytes -= 4 + size;
    const head = this.received[0]!;
    if (head.length >= 4 + size) {
      const frame = head.subarray(4, 4 + size);
      if (head.length === 4 + size) this.received.shift();
      else this.received[0] = head.subarray(4 + size);
      return frame;
    }
    return this.gather(size);
  }

  /** The size prefix, read across chunks when the first holds fewer than 4 bytes (nothing is joined). */
  private peekSize(): number {
    const head = this.received[0]!;
    if (head.length >= 4) return head.readInt32BE(0);
    let size = 0;
    let taken = 0;
    for (const chunk of this.received) {
      for (let index = 0; index < chunk.length && taken < 4; index++, taken++) size = size * 256 + chunk[index]!;
      if (taken === 4) break;
    }
    return size | 0;
  }

  /** Copies a frame spanning several chunks into one buffer, consuming its size prefix too. */
  private gather(size: number): Buffer {
    const frame = Buffer.allocUnsafe(size);
    let filled = 0;
    let skip = 4;
    while (filled < size) {
      const chunk = this.received[0]!;
      const start = Math.min(skip, chunk.length);
      skip -= start;
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
    // A response to a request that timed out (or one that expects none) is dropped.
    if (!pending?.decode) return;
    this.pending.delete(correlationId);
    pending.cancelDeadline();
    try {
      pending.resolve(pending.decode(new Reader(frame)));
    } catch (error) {
      pending.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private fail(kind: TransportErrorKind, message: string): void {
    if (this.closedError) return;
    const error = this.error(kind, message);
    this.closedError = error;
    this.received.length = 0;
    this.receivedBytes = 0;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const each of pending) {
      each.cancelDeadline();
      each.reject(error);
    }
    this.onClose?.(error);
  }

  private error(kind: TransportErrorKind, message: string): TransportError {
    return new TransportError(kind, this.nodeId, message);
  }

  private peer(): string {
    return this.nodeId >= 0 ? `node ${this.nodeId}` : 'the broker';
  }
}
