// The Transport over real TCP (NodeTransport + connectTcp + the system clock): requests by node
// id to an in-process broker, and the failures the quorum and fetchers must see as TransportError
// kinds: a node that never answers (timeout), too many requests in flight (overloaded), a
// connection cut under pending requests (disconnected, then the next send reconnects), a peer
// that sends a bad frame size (disconnected), and nothing listening (unreachable).
import assert from 'node:assert/strict';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { NodeTransport, type NodeTransportOptions } from '../../src/client/node-transport.js';
import { type RunningBroker, startBroker } from '../../src/index.js';
import { systemClock } from '../../src/node/system.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { ApiVersionsApi, MetadataApi } from '../../src/protocol/messages/index.js';
import { TransportError } from '../../src/protocol/transport.js';

const apiVersions = { clientSoftwareName: 'conveyor-node', clientSoftwareVersion: '0.1.0' };

interface TestServer {
  address: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Destroys every open connection (the peer sees a reset or an end). */
  cut(): void;
  close(): Promise<void>;
}

/** A TCP server whose connections run `onConnection`; tracks them so the test can cut them. */
async function testServer(onConnection: (socket: Socket) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    state.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state: TestServer = {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: 0,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      state.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}

/** A proxy to `target`; while `holding`, the target's bytes are swallowed (responses never arrive). */
async function proxyTo(target: string): Promise<TestServer & { holding: boolean }> {
  const separator = target.lastIndexOf(':');
  const upstreams = new Set<Socket>();
  const server = await testServer((client) => {
    const upstream = connect({ host: target.slice(0, separator), port: Number(target.slice(separator + 1)) });
    upstreams.add(upstream);
    upstream.on('error', () => {});
    upstream.on('data', (chunk) => {
      if (!proxy.holding) client.write(chunk);
    });
    client.on('data', (chunk) => upstream.write(chunk));
    client.on('close', () => {
      upstream.destroy();
      upstreams.delete(upstream);
    });
  });
  const closeServer = server.close;
  const proxy = Object.assign(server, {
    holding: false,
    close: async () => {
      for (const upstream of upstreams) upstream.destroy();
      await closeServer();
    },
  });
  return proxy;
}

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(
    () => assert.fail('expected a TransportError'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof TransportError, `expected a TransportError, got ${String(error)}`);
  return error;
}

describe('node transport over TCP', { timeout: 60_000 }, () => {
  let broker: RunningBroker;
  const transports: NodeTransport[] = [];
  const servers: TestServer[] = [];

  const transportTo = (addresses: [number, string][], options: Partial<NodeTransportOptions> = {}) => {
    const transport = new NodeTransport({ connect: connectTcp, clock: systemClock, clientId: 'conveyor-node-0', addresses, ...options });
    transports.push(transport);
    return transport;
  };

  before(async () => {
    broker = await startBroker({ port: 0, storage: 'memory' });
  });
  after(async () => {
    for (const transport of transports) transport.close();
    await Promise.all(servers.map((server) => server.close()));
    await broker.close();
  });

  it('sends ApiVersions and Metadata to a broker by node id', async () => {
    const transport = transportTo([[broker.nodeId, broker.bootstrapServers]]);
    const versions = await transport.send(broker.nodeId, ApiVersionsApi, 3, apiVersions, 5_000);
    assert.equal(versions.errorCode, 0);
    assert.ok(versions.apiKeys.some((key) => key.apiKey === MetadataApi.apiKey));
    const metadata = await transport.send(broker.nodeId, MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 5_000);
    assert.deepEqual(metadata.brokers.map((each) => each.nodeId), [broker.nodeId]);
    // Pipelined on the one connection.
    const answers = await Promise.all(Array.from({ length: 16 }, () => transport.send(broker.nodeId, ApiVersionsApi, 3, apiVersions, 5_000)));
    assert.ok(answers.every((answer) => answer.errorCode === 0));
    assert.equal(transport.inFlight(broker.nodeId), 0);
  });

  it('times out on a node that accepts and never answers', async () => {
    const silent = await testServer(() => {});
    servers.push(silent);
    const transport = transportTo([[5, silent.address]]);
    const startedMs = performance.now();
    const error = await failure(transport.send(5, ApiVersionsApi, 3, apiVersions, 300));
    const elapsedMs = performance.now() - startedMs;
    assert.equal(error.kind, 'timeout');
    assert.equal(error.nodeId, 5);
    assert.ok(elapsedMs >= 290 && elapsedMs < 5_000, `timed out after ${elapsedMs} ms`);
    assert.equal(transport.inFlight(5), 0);
  });

  it('rejects sends over the per-node in-flight bound as overloaded, without sending them', async () => {
    const silent = await testServer(() => {});
    servers.push(silent);
    const transport = transportTo([[6, silent.address]], { maxInFlightPerNode: 3 });
    const pending = Array.from({ length: 3 }, () => transport.send(6, ApiVersionsApi, 3, apiVersions, 30_000));
    const error = await failure(transport.send(6, ApiVersionsApi, 3, apiVersions, 30_000));
    assert.equal(error.kind, 'overloaded');
    assert.equal(transport.inFlight(6), 3);
    transport.close();
    for (const each of pending) assert.equal((await failure(each)).kind, 'closed');
  });

  it('fails pending requests as disconnected when the connection breaks, and the next send reconnects', async () => {
    const proxy = await proxyTo(broker.bootstrapServers);
    servers.push(proxy);
    const transport = transportTo([[broker.nodeId, proxy.address]]);
    assert.equal((await transport.send(broker.nodeId, ApiVersionsApi, 3, apiVersions, 5_000)).errorCode, 0);
    proxy.holding = true;
    const pending = [transport.send(broker.nodeId, ApiVersionsApi, 3, apiVersions, 30_000), transport.send(broker.nodeId, MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 30_000)];
    proxy.cut();
    for (const each of pending) assert.equal((await failure(each)).kind, 'disconnected');
    proxy.holding = false;
    assert.equal((await transport.send(broker.nodeId, ApiVersionsApi, 3, apiVersions, 5_000)).errorCode, 0);
    assert.equal(proxy.accepted, 2);
  });

  for (const [name, prefix] of [
    ['too large', Buffer.from([0x7f, 0xff, 0xff, 0xff])],
    ['negative', Buffer.from([0xff, 0xff, 0xff, 0xfe])],
  ] as const) {
    it(`breaks the connection on a ${name} response frame size`, async () => {
      const bad = await testServer((socket) => socket.once('data', () => socket.write(prefix)));
      servers.push(bad);
      const transport = transportTo([[7, bad.address]]);
      const error = await failure(transport.send(7, ApiVersionsApi, 3, apiVersions, 10_000));
      assert.equal(error.kind, 'disconnected');
      assert.match(error.message, /bad response size/);
    });
  }

  it('reports a node with nothing listening as unreachable', async () => {
    const gone = await testServer(() => {});
    await gone.close();
    const transport = transportTo([[8, gone.address]]);
    const error = await failure(transport.send(8, ApiVersionsApi, 3, apiVersions, 5_000));
    assert.equal(error.kind, 'unreachable');
    assert.match(error.message, /ECONNREFUSED/);
    assert.equal((await failure(transport.send(9, ApiVersionsApi, 3, apiVersions, 5_000))).kind, 'unreachable');
  });
});
