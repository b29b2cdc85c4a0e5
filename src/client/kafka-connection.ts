// A small Kafka client connection for tools: one TCP socket to one broker, requests framed with
// the generated codecs, responses matched by correlation id. No retries, no metadata cache.
import type { Socket } from 'node:net';
import { decodeResponseHeader, encodeRequestHeader, responseHeaderVersion } from '../protocol/headers.js';
import type { ApiDescriptor } from '../protocol/messages/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { connectSocket } from './connect-socket.js';

/** The largest response frame a tool accepts, so a bad peer cannot make it allocate without bound. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

interface Pending {
  decode: (reader: Reader) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class KafkaConnection {
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  /** Received bytes not yet framed; joined only once a whole frame is there (linear in its size). */
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly clientId: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.failAll(new Error('connection closed')));
    socket.on('error', (error) => this.failAll(error));
  }

  /** Connects to `host:port` (a bootstrap server string). */
  static async open(address: string, clientId = 'conveyor-tools', timeoutMs = 10_000): Promise<KafkaConnection> {
    return new KafkaConnection(await connectSocket(address, timeoutMs), clientId);
  }

  // biome-ignore lint/suspicious/noExplicitAny: a tool decodes requests' responses only, never the reverse.
  send<Request, Response>(api: ApiDescriptor<any, Response, Request, any>, version: number, request: Request): Promise<Response> {
    const correlationId = this.nextCorrelationId++;
    const writer = new Writer();
    writer.writeInt32(0);
    encodeRequestHeader(writer, { apiKey: api.apiKey, apiVersion: version, correlationId, clientId: this.clientId });
    api.encodeRequest(writer, version, request);
    const frame = writer.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
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
      this.socket.write(frame);
    });
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    while (this.bufferedBytes >= 4) {
      const size = (this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.joined()).readInt32BE(0);
      if (size < 4 || size > MAX_RESPONSE_BYTES) {
        this.socket.destroy(new Error(`bad response size ${size}`));
        return;
      }
      if (this.bufferedBytes < 4 + size) return;
      const all = this.joined();
      const frame = all.subarray(4, 4 + size);
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.bufferedBytes = rest.length;
      const correlationId = frame.readInt32BE(0);
      const pending = this.pending.get(correlationId);
      if (!pending) continue;
      this.pending.delete(correlationId);
      try {
        pending.resolve(pending.decode(new Reader(frame)));
      } catch (error) {
        pending.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  /** The buffered bytes as one buffer (one copy, only when they span several chunks). */
  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.bufferedBytes)];
    return this.chunks[0]!;
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
