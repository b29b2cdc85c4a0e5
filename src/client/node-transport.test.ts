import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeResponseHeader, responseHeaderVersion } from '../protocol/headers.js';
import { ApiVersionsApi, type ApiVersionsResponse } from '../protocol/messages/index.js';
import { Writer } from '../protocol/primitives/writer.js';
import { TransportError } from '../protocol/transport.js';
import { ManualClock } from '../testing/log-support.js';
import type { ByteStream, ByteStreamListener, Connector } from './byte-stream.js';
import { NodeTransport, type NodeTransportOptions } from './node-transport.js';

class FakeStream implements ByteStream {
  listener: ByteStreamListener | undefined;
  readonly requests: Buffer[] = [];
  destroyed = false;
  listen(listener: ByteStreamListener): void {
    this.listener = listener;
  }
  write(chunks: readonly Buffer[]): void {
    this.requests.push(Buffer.concat(chunks));
  }
  end(): void {}
  destroy(error?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.listener?.closed(error);
  }
  /** Answers request number `index` with an ApiVersions v3 response. */
  answer(index: number): void {
    const writer = new Writer();
    writer.writeInt32(0);
    encodeResponseHeader(writer, responseHeaderVersion(ApiVersionsApi.apiKey, 3), this.requests[index]!.readInt32BE(8));
    ApiVersionsApi.encodeResponse(writer, 3, RESPONSE);
    const frame = writer.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    this.listener!.data(frame);
  }
}

const RESPONSE: ApiVersionsResponse = { errorCode: 0, apiKeys: [], throttleTimeMs: 0, finalizedFeaturesEpoch: -1n, finalizedFeatures: [], supportedFeatures: [], zkMigrationReady: false };

/** A connector the test answers: each dial waits until the test accepts or refuses it. */
class FakeNetwork {
  readonly dials: { address: string; atMs: number; accept: () => FakeStream; refuse: () => void }[] = [];
  constructor(private readonly clock: ManualClock) {}
  readonly connect: Connector = (address) =>
    new Promise((resolve, reject) => {
      this.dials.push({
        address,
        atMs: this.clock.monotonicMs(),
        accept: () => {
          const stream = new FakeStream();
          resolve(stream);
          return stream;
        },
        refuse: () => reject(Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' })),
      });
    });
}

function setUp(options: Partial<NodeTransportOptions> = {}): { clock: ManualClock; network: FakeNetwork; transport: NodeTransport } {
  const clock = new ManualClock();
  const network = new FakeNetwork(clock);
  const transport = new NodeTransport({ connect: network.connect, clock, clientId: 'node-0', addresses: [[1, 'one:9093']], ...options });
  return { clock, network, transport };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const request = { clientSoftwareName: 'test', clientSoftwareVersion: '1' };

async function kindOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof TransportError, String(error));
  return error.kind;
}

describe('NodeTransport', () => {
  it('opens one connection per node on first use and shares it', async () => {
    const { network, transport } = setUp();
    const first = transport.send(1, ApiVersionsApi, 3, request, 1_000);
    const second = transport.send(1, ApiVersionsApi, 3, request, 1_000);
    await settle();
    assert.equal(network.dials.length, 1);
    assert.equal(network.dials[0]!.address, 'one:9093');
    const stream = network.dials[0]!.accept();
    await settle();
    stream.answer(1);
    stream.answer(0);
    assert.equal((await first).errorCode, 0);
    assert.equal((await second).errorCode, 0);
    assert.equal(transport.inFlight(1), 0);
    assert.equal(network.dials.length, 1);
  });

  it('rejects an unknown node as unreachable, and a changed address reaches the new one', async () => {
    const { network, transport } = setUp();
    assert.equal(await kindOf(transport.send(2, ApiVersionsApi, 3, request, 1_000)), 'unreachable');
    transport.setAddress(2, 'two:9093');
    const sent = transport.send(2, ApiVersionsApi, 3, request, 1_000);
    await settle();
    const stream = network.dials[0]!.accept();
    await settle();
    transport.setAddress(2, 'two-moved:9093');
    assert.equal(await kindOf(sent), 'disconnected');
    assert.equal(stream.destroyed, true);
    transport.send(2, ApiVersionsApi, 3, request, 1_000).catch(() => {});
    await settle();
    assert.equal(network.dials[1]!.address, 'two-moved:9093');
    transport.removeAddress(2);
    assert.equal(await kindOf(transport.send(2, ApiVersionsApi, 3, request, 1_000)), 'unreachable');
  });

  it('backs off exponentially between failed connects, up to the maximum', async () => {
    const { clock, network, transport } = setUp({ reconnectBackoffMs: 50, reconnectBackoffMaxMs: 400 });
    for (let attempt = 0; attempt < 6; attempt++) {
      const sent = transport.send(1, ApiVersionsApi, 3, request, 10_000);
      // The send waits for the backoff to pass, then dials.
      for (let step = 0; step < 500 && network.dials.length === attempt; step++) {
        clock.advance(10);
        await settle();
      }
      network.dials[attempt]!.refuse();
      assert.equal(await kindOf(sent), 'unreachable');
    }
    const gaps = network.dials.slice(1).map((dial, index) => dial.atMs - network.dials[index]!.atMs);
    assert.deepEqual(gaps, [50, 100, 200, 400, 400]);
    // A send whose deadline comes before the next attempt fails at once, without dialing.
    assert.equal(await kindOf(transport.send(1, ApiVersionsApi, 3, request, 100)), 'unreachable');
    await settle();
    assert.equal(network.dials.length, 6);
  });

  it('reconnects after a broken connection, after the first backoff, and a success resets it', async () => {
    const { clock, network, transport } = setUp({ reconnectBackoffMs: 50 });
    const first = transport.send(1, ApiVersionsApi, 3, request, 1_000);
    await settle();
    const stream = network.dials[0]!.accept();
    await settle();
    stream.destroy(new Error('ECONNRESET'));
    assert.equal(await kindOf(first), 'disconnected');
    const second = transport.send(1, ApiVersionsApi, 3, request, 1_000);
    await settle();
    assert.equal(network.dials.length, 1, 'waits for the backoff');
    clock.advance(50);
    await settle();
    assert.equal(network.dials.length, 2);
    const again = network.dials[1]!.accept();
    await settle();
    again.answer(0);
    assert.equal((await second).errorCode, 0);
  });

  it('gives up at the deadline while connecting and drops a stream that comes after the connect timeout', async () => {
    const { clock, network, transport } = setUp({ connectTimeoutMs: 2_000 });
    const sent = transport.send(1, ApiVersionsApi, 3, request, 500);
    await settle();
    clock.advance(500);
    assert.equal(await kindOf(sent), 'unreachable');
    clock.advance(1_500);
    await settle();
    const late = network.dials[0]!.accept();
    await settle();
    assert.equal(late.destroyed, true);
  });

  it('times out a request on the clock and bounds the requests in flight per node', async () => {
    const { clock, network, transport } = setUp({ maxInFlightPerNode: 2 });
    const first = transport.send(1, ApiVersionsApi, 3, request, 1_000);
    const second = transport.send(1, ApiVersionsApi, 3, request, 3_000);
    assert.equal(await kindOf(transport.send(1, ApiVersionsApi, 3, request, 1_000)), 'overloaded');
    await settle();
    network.dials[0]!.accept();
    await settle();
    clock.advance(1_000);
    assert.equal(await kindOf(first), 'timeout');
    assert.equal(transport.inFlight(1), 1);
    transport.close();
    assert.equal(await kindOf(second), 'closed');
    assert.equal(await kindOf(transport.send(1, ApiVersionsApi, 3, request, 1_000)), 'closed');
  });
});
