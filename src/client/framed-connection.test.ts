import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeResponseHeader, responseHeaderVersion } from '../protocol/headers.js';
import { type ApiDescriptor, ApiVersionsApi, type ApiVersionsResponse, FetchApi, ProduceApi } from '../protocol/messages/index.js';
import { Writer } from '../protocol/primitives/writer.js';
import { TransportError } from '../protocol/transport.js';
import { ManualClock } from '../testing/log-support.js';
import type { ByteStream, ByteStreamListener } from './byte-stream.js';
import { FramedConnection, type FramedConnectionOptions } from './framed-connection.js';

/** A stream the test drives: it records writes and delivers whatever bytes the test pushes. */
class FakeStream implements ByteStream {
  listener: ByteStreamListener | undefined;
  readonly writes: { chunks: readonly Buffer[]; written: ((error?: Error) => void) | undefined }[] = [];
  destroyed = false;
  ended = false;

  listen(listener: ByteStreamListener): void {
    this.listener = listener;
  }
  write(chunks: readonly Buffer[], written?: (error?: Error) => void): void {
    this.writes.push({ chunks, written });
  }
  end(): void {
    this.ended = true;
  }
  destroy(error?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.listener?.closed(error);
  }
  push(bytes: Buffer): void {
    this.listener!.data(bytes);
  }
  /** The correlation id of write number `index`. */
  correlationIdOf(index: number): number {
    return Buffer.concat(this.writes[index]!.chunks).readInt32BE(8);
  }
}

const API_VERSIONS: ApiVersionsResponse = { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }], throttleTimeMs: 0, finalizedFeaturesEpoch: -1n, finalizedFeatures: [], supportedFeatures: [], zkMigrationReady: false };

/** A whole response frame, size prefix included. */
// biome-ignore lint/suspicious/noExplicitAny: any descriptor's response side.
function responseFrame<Response>(api: ApiDescriptor<any, any, any, Response>, version: number, correlationId: number, response: Response): Buffer {
  const writer = new Writer();
  writer.writeInt32(0);
  encodeResponseHeader(writer, responseHeaderVersion(api.apiKey, version), correlationId);
  api.encodeResponse(writer, version, response);
  const frame = writer.toBuffer();
  frame.writeInt32BE(frame.length - 4, 0);
  return frame;
}

function open(options: Partial<FramedConnectionOptions> = {}): { stream: FakeStream; clock: ManualClock; connection: FramedConnection } {
  const stream = new FakeStream();
  const clock = new ManualClock();
  const connection = new FramedConnection(stream, { clock, clientId: 'test', nodeId: 7, ...options });
  return { stream, clock, connection };
}

const apiVersionsRequest = { clientSoftwareName: 'test', clientSoftwareVersion: '1' };

async function rejection(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof TransportError, `expected a TransportError, got ${String(error)}`);
  return error;
}

describe('FramedConnection', () => {
  it('writes a request as the encoder chunks, a record batch referenced rather than copied', async () => {
    const { stream, connection } = open();
    const records = Buffer.alloc(64 * 1024, 3);
    const produced = connection.send(ProduceApi, 8, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] }, 5_000);
    const { chunks } = stream.writes[0]!;
    assert.ok(chunks.length > 1);
    assert.ok(chunks.some((chunk) => chunk.buffer === records.buffer && chunk.byteOffset === records.byteOffset), 'the batch is one of the chunks');
    const whole = Buffer.concat(chunks);
    assert.equal(whole.readInt32BE(0), whole.length - 4);
    assert.equal(whole.readInt16BE(4), ProduceApi.apiKey);
    stream.push(responseFrame(ProduceApi, 8, stream.correlationIdOf(0), { responses: [], throttleTimeMs: 0 }));
    assert.deepEqual((await produced).responses, []);
  });

  it('matches responses by correlation id, whatever their order and however the bytes are cut', async () => {
    const { stream, connection } = open();
    const first = connection.send(ApiVersionsApi, 3, apiVersionsRequest, 5_000);
    const second = connection.send(ApiVersionsApi, 0, {}, 5_000);
    const frames = Buffer.concat([
      responseFrame(ApiVersionsApi, 0, stream.correlationIdOf(1), { ...API_VERSIONS, errorCode: 35 }),
      responseFrame(ApiVersionsApi, 3, stream.correlationIdOf(0), API_VERSIONS),
    ]);
    // One byte at a time: size prefixes and frames split across every boundary.
    for (let index = 0; index < frames.length; index++) stream.push(frames.subarray(index, index + 1));
    assert.equal((await first).errorCode, 0);
    assert.equal((await second).errorCode, 35);
    assert.equal(connection.pendingCount, 0);
  });

  it('hands out a frame that sits in one chunk as a view of that chunk', async () => {
    const { stream, connection } = open();
    const fetched = connection.send(FetchApi, 4, { replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, topics: [] }, 5_000);
    const records = Buffer.alloc(10_000, 9);
    const frame = responseFrame(FetchApi, 4, stream.correlationIdOf(0), {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [{ topic: 't', topicId: '', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 1n, lastStableOffset: 1n, logStartOffset: 0n, abortedTransactions: [], preferredReadReplica: -1, records, divergingEpoch: { epoch: -1, endOffset: -1n }, currentLeader: { leaderId: -1, leaderEpoch: -1 }, snapshotId: { endOffset: -1n, epoch: -1 } }] }],
      nodeEndpoints: [],
    });
    stream.push(frame);
    const received = (await fetched).responses[0]!.partitions[0]!.records!;
    assert.ok(received.equals(records));
    assert.equal(received.buffer, frame.buffer, 'no copy');
  });

  it('rejects with timeout on the clock and ignores the late response', async () => {
    const { stream, clock, connection } = open();
    const late = connection.send(ApiVersionsApi, 3, apiVersionsRequest, 1_000);
    clock.advance(999);
    assert.equal(connection.pendingCount, 1);
    clock.advance(1);
    const error = await rejection(late);
    assert.equal(error.kind, 'timeout');
    assert.equal(error.nodeId, 7);
    assert.equal(connection.pendingCount, 0);
    stream.push(responseFrame(ApiVersionsApi, 3, stream.correlationIdOf(0), API_VERSIONS));
    const next = connection.send(ApiVersionsApi, 3, apiVersionsRequest, 1_000);
    stream.push(responseFrame(ApiVersionsApi, 3, stream.correlationIdOf(1), API_VERSIONS));
    assert.equal((await next).errorCode, 0);
    assert.equal(connection.isClosed, false);
  });

  it('rejects with overloaded over the pending bound, sending nothing', async () => {
    const { stream, connection } = open({ maxPendingRequests: 2 });
    const first = connection.send(ApiVersionsApi, 3, apiVersionsRequest, 1_000);
    connection.send(ApiVersionsApi, 3, apiVersionsRequest, 1_000).catch(() => {});
    const error = await rejection(connection.send(ApiVersionsApi, 3, apiVersionsRequest, 1_000));
    assert.equal(error.kind, 'overloaded');
    assert.equal(stream.writes.length, 2);
    stream.push(responseFrame(ApiVersionsApi, 3, stream.correlationIdOf(0), API_VERSIONS));
    await first;
    const third = connection.send(ApiVersionsApi, 3, apiVersionsRequest, 1_000);
    assert.equal(stream.writes.length, 3);
    connection.close();
    assert.equal((await rejection(third)).kind, 'closed');
  });

  for (const size of [-1, 2, 1024 * 1024 + 1]) {
    it(`breaks the connection on a response size of ${size}`, async () => {
      const closes: TransportError[] = [];
      const { stream, connection } = open({ maxResponseBytes: 1024 * 1024, onClose: (error) => closes.push(error) });
      const pending = [connection.send(ApiVersionsApi, 3, apiVersionsRequest, 1_000), connection.send(ApiVersionsApi, 3, apiVersionsRequest, 1_000)];
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(size);
      stream.push(prefix);
      for (const each of pending) assert.equal((await rejection(each)).kind, 'disconnected');
      assert.equal(stream.destroyed, true);
      assert.equal(connection.isClosed, true);
      assert.equal(closes.length, 1);
      assert.match(closes[0]!.message, /bad response size/);
      assert.equal((await rejection(connection.send(ApiVersionsApi, 3, apiVersionsRequest, 1_000))).kind, 'disconnected');
    });
  }

  it('fails everything pending with disconnected when the stream breaks', async () => {
    const { stream, connection } = open();
    const pending = connection.send(ApiVersionsApi, 3, apiVersionsRequest, 1_000);
    const unanswered = connection.send(ProduceApi, 8, { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [] }, 1_000, false);
    stream.destroy(new Error('ECONNRESET'));
    const error = await rejection(pending);
    assert.equal(error.kind, 'disconnected');
    assert.match(error.message, /ECONNRESET/);
    assert.equal((await rejection(unanswered)).kind, 'disconnected');
  });

  it('settles a request without a response once written, or fails it when the write fails', async () => {
    const { stream, clock, connection } = open();
    const sent = connection.send(ProduceApi, 8, { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [] }, 1_000, false);
    assert.equal(connection.pendingCount, 1);
    stream.writes[0]!.written!();
    assert.equal(await sent, undefined);
    assert.equal(connection.pendingCount, 0);
    const failed = connection.send(ProduceApi, 8, { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [] }, 1_000, false);
    stream.writes[1]!.written!(new Error('EPIPE'));
    assert.equal((await rejection(failed)).kind, 'disconnected');
    const stuck = connection.send(ProduceApi, 8, { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [] }, 1_000, false);
    clock.advance(1_000);
    assert.equal((await rejection(stuck)).kind, 'timeout');
  });

  it('rejects an encoding error without writing or counting the request', async () => {
    const { stream, connection } = open();
    await assert.rejects(connection.send(ApiVersionsApi, 99, apiVersionsRequest, 1_000));
    assert.equal(stream.writes.length, 0);
    assert.equal(connection.pendingCount, 0);
  });
});
