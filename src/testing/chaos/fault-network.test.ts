// The fault network against real TCP on loopback: recording (and usually echoing) servers stand in
// for broker listeners, raw sockets send real Kafka request frames with the client ids the nodes
// use, and each test checks what crossed the proxy, in which order and when. Waits for a condition
// have a deadline; the fixed waits are only for checking that nothing arrives during a cut.
import assert from 'node:assert/strict';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type TestContext, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { FaultNetwork, type FaultNetworkOptions, linkKey, readFirstClientId, sourceOfClientId } from './fault-network.js';

/** A Kafka request frame: int32 size, then header v1 (api key, version, correlation id, client id), then `body`. */
function requestFrame(clientId: string | null, correlationId = 1, body: Buffer = Buffer.alloc(0)): Buffer {
  const id = clientId === null ? Buffer.alloc(0) : Buffer.from(clientId, 'utf8');
  const header = Buffer.alloc(4 + 10 + id.length);
  header.writeInt32BE(10 + id.length + body.length, 0);
  header.writeInt16BE(18, 4);
  header.writeInt16BE(3, 6);
  header.writeInt32BE(correlationId, 8);
  header.writeInt16BE(clientId === null ? -1 : id.length, 12);
  id.copy(header, 14);
  return Buffer.concat([header, body]);
}

async function waitFor(condition: () => boolean, what: string | (() => string), timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await delay(5);
  }
}

/** How long a cut link is watched to check that nothing crosses it. */
const QUIET_MS = 200;

interface ServerConnection {
  socket: Socket;
  bytes: Buffer;
  ended: boolean;
  closed: boolean;
}

/** Stands in for a broker listener: records every connection's bytes, and echoes them unless told not to. */
class TestServer {
  readonly connections: ServerConnection[] = [];
  private readonly server: Server;
  port = 0;

  private constructor(echo: boolean) {
    this.server = createServer((socket) => {
      const connection: ServerConnection = { socket, bytes: Buffer.alloc(0), ended: false, closed: false };
      this.connections.push(connection);
      socket.on('data', (chunk: Buffer) => {
        connection.bytes = Buffer.concat([connection.bytes, chunk]);
        if (echo) socket.write(chunk);
      });
      socket.on('end', () => {
        connection.ended = true;
      });
      socket.on('error', () => {});
      socket.on('close', () => {
        connection.closed = true;
      });
    });
  }

  static async start(echo = true): Promise<TestServer> {
    const testServer = new TestServer(echo);
    await new Promise<void>((resolve) => testServer.server.listen(0, '127.0.0.1', resolve));
    testServer.port = (testServer.server.address() as { port: number }).port;
    return testServer;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

class TestClient {
  bytes = Buffer.alloc(0);
  ended = false;
  closed = false;
  errorCode: string | undefined;
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.bytes = Buffer.concat([this.bytes, chunk]);
    });
    socket.on('end', () => {
      this.ended = true;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.errorCode = error.code;
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static async connect(port: number): Promise<TestClient> {
    const socket = connect({ host: '127.0.0.1', port });
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return client;
  }
}

interface Fixture {
  network: FaultNetwork;
  /** A recording server for `node` and a proxy in front of it. */
  node(node: string, echo?: boolean): Promise<{ server: TestServer; proxyPort: number }>;
  /** A connected client whose first request carries `clientId` (and which has been echoed, when `awaitEcho`). */
  client(proxyPort: number, clientId: string | null, awaitEcho?: boolean): Promise<TestClient>;
}

async function setUp(t: TestContext, options: FaultNetworkOptions = {}): Promise<Fixture> {
  const network = new FaultNetwork(options);
  const servers: TestServer[] = [];
  const clients: TestClient[] = [];
  t.after(async () => {
    for (const client of clients) client.socket.destroy();
    await network.close();
    await Promise.all(servers.map((server) => server.close()));
  });
  return {
    network,
    async node(node, echo = true) {
      const server = await TestServer.start(echo);
      servers.push(server);
      return { server, proxyPort: await network.addProxy(node, '127.0.0.1', server.port) };
    },
    async client(proxyPort, clientId, awaitEcho = true) {
      const client = await TestClient.connect(proxyPort);
      clients.push(client);
      const frame = requestFrame(clientId);
      client.socket.write(frame);
      if (awaitEcho) await waitFor(() => client.bytes.length >= frame.length, `the echo of ${clientId}'s first request`);
      return client;
    },
  };
}

describe('first frame parsing and source names', () => {
  it('reads the client id of a v1 header once it has arrived, and maps node client ids to node ids', () => {
    const frame = requestFrame('conveyor-replica-fetcher-3', 7, Buffer.from('body'));
    assert.deepEqual(readFirstClientId(frame), { kind: 'client-id', clientId: 'conveyor-replica-fetcher-3' });
    assert.deepEqual(readFirstClientId(frame.subarray(0, 13)), { kind: 'incomplete' });
    assert.deepEqual(readFirstClientId(frame.subarray(0, 20)), { kind: 'incomplete' });
    assert.deepEqual(readFirstClientId(requestFrame(null)), { kind: 'client-id', clientId: null });
    assert.deepEqual(readFirstClientId(Buffer.from('GET / HTTP/1.1\r\n\r\n')), { kind: 'unreadable' });
    assert.deepEqual(readFirstClientId(Buffer.from([0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0])), { kind: 'unreadable' });
    // A client id longer than the frame it is in is garbage, not a wait for more bytes.
    const lying = requestFrame('abc');
    lying.writeInt16BE(200, 12);
    assert.deepEqual(readFirstClientId(lying), { kind: 'unreadable' });

    assert.equal(sourceOfClientId('conveyor-raft-1'), '1');
    assert.equal(sourceOfClientId('conveyor-controller-channel-12'), '12');
    assert.equal(sourceOfClientId('conveyor-broker-lifecycle-2'), '2');
    assert.equal(sourceOfClientId('conveyor-transactions-5'), '5');
    assert.equal(sourceOfClientId('conveyor-cli'), 'client');
    assert.equal(sourceOfClientId('conveyor-raft-1x'), 'client');
    assert.equal(sourceOfClientId('kafkajs'), 'client');
    assert.equal(sourceOfClientId(null), 'client');
    assert.equal(linkKey('3', '1'), linkKey('1', '3'));
    assert.equal(linkKey('10', '2'), '2<->10');
  });
});

describe('FaultNetwork', () => {
  it('passes bytes through both ways, 4 MiB whole, and passes a half-close on', async (t) => {
    const { network, node, client } = await setUp(t);
    const { server, proxyPort } = await node('1');
    const caller = await client(proxyPort, 'kafkajs');
    const payload = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32BE(i, i);
    caller.socket.write(payload);
    const sent = Buffer.concat([requestFrame('kafkajs'), payload]);
    await waitFor(() => caller.bytes.length >= sent.length, 'the echo of 4 MiB', 10_000);
    assert.ok(caller.bytes.equals(sent), 'the caller gets back exactly what it sent');
    assert.ok(server.connections[0]!.bytes.equals(sent), 'the server got exactly what was sent');
    assert.equal(network.stats().byLink.get('1<->client')?.bytes, 2 * sent.length);

    caller.socket.end();
    await waitFor(() => server.connections[0]!.ended, 'the server to see the FIN');
    await waitFor(() => caller.ended && caller.closed, 'the server FIN to reach the caller');
    await waitFor(() => network.stats().connections === 0, 'the proxy to forget the connection');
    assert.equal(network.stats().byLink.get('1<->client')?.open, 0);
  });

  it('learns the source of a connection from its first request client id', async (t) => {
    const { network, node, client } = await setUp(t);
    const { server, proxyPort } = await node('1');
    await client(proxyPort, 'conveyor-replica-fetcher-3');
    await client(proxyPort, 'conveyor-raft-2');
    await client(proxyPort, 'kafkajs');
    await client(proxyPort, null);
    // A first frame that arrives a byte at a time is still read.
    const slow = await TestClient.connect(proxyPort);
    t.after(() => slow.socket.destroy());
    const frame = requestFrame('conveyor-transactions-4');
    for (const byte of frame) {
      slow.socket.write(Buffer.from([byte]));
      await delay(1);
    }
    await waitFor(() => slow.bytes.length === frame.length, 'the echo of the slow frame');
    // Garbage is an outside client's and passes through untouched.
    const garbage = await TestClient.connect(proxyPort);
    t.after(() => garbage.socket.destroy());
    garbage.socket.write('GET / HTTP/1.1\r\n\r\n');
    await waitFor(() => garbage.bytes.toString() === 'GET / HTTP/1.1\r\n\r\n', 'the echo of the garbage');

    const sources = network
      .openConnections()
      .map((connection) => `${connection.source}->${connection.destination} ${connection.link}`)
      .sort();
    assert.deepEqual(sources, ['2->1 1<->2', '3->1 1<->3', '4->1 1<->4', 'client->1 1<->client', 'client->1 1<->client', 'client->1 1<->client']);
    assert.equal(network.stats().byLink.get('1<->3')?.opened, 1);
    assert.equal(network.stats().byLink.get('1<->client')?.opened, 3);
    assert.equal(server.connections.length, 6);
  });

  it('stops reading from a caller while the node does not read, and resumes when it does', async (t) => {
    const { network, client } = await setUp(t);
    const nodeSockets: Socket[] = [];
    let received = 0;
    const node = createServer({ pauseOnConnect: true }, (socket) => {
      nodeSockets.push(socket);
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      for (const socket of nodeSockets) socket.destroy();
      await new Promise<void>((resolve) => node.close(() => resolve()));
    });
    const proxyPort = await network.addProxy('1', '127.0.0.1', (node.address() as { port: number }).port);
    const caller = await client(proxyPort, 'conveyor-replica-fetcher-2', false);
    const payloadBytes = 64 * 1024 * 1024;
    caller.socket.write(Buffer.alloc(payloadBytes, 7));
    await waitFor(() => nodeSockets.length === 1, 'the node to accept the connection');
    await delay(QUIET_MS);
    // Loopback socket buffers hold a few MiB; the rest stays with the caller if the proxy stopped reading.
    assert.ok(caller.socket.writableLength > payloadBytes / 2, `the caller still holds ${caller.socket.writableLength} bytes`);
    assert.ok(network.openConnections()[0]!.heldBytes <= 2 * 1024 * 1024, 'the proxy holds at most about its bound');
    nodeSockets[0]!.resume();
    const total = payloadBytes + requestFrame('conveyor-replica-fetcher-2').length;
    await waitFor(() => received === total, () => `all ${total} bytes at the node, not ${received}`, 10_000);
  });

  it('holds bytes and FIN both ways on a cut link and delivers them in order on heal', async (t) => {
    const { network, node, client } = await setUp(t);
    const { server, proxyPort } = await node('1', false);
    const follower = await client(proxyPort, 'conveyor-replica-fetcher-3', false);
    const first = requestFrame('conveyor-replica-fetcher-3');
    await waitFor(() => server.connections[0]?.bytes.length === first.length, 'the first request');
    const serverSide = server.connections[0]!;

    network.cut('1', '3');
    assert.ok(network.isCut('3', '1'));
    const later = [2, 3, 4].map((correlationId) => requestFrame('conveyor-replica-fetcher-3', correlationId, Buffer.from(`request ${correlationId}`)));
    for (const frame of later) follower.socket.write(frame);
    follower.socket.end();
    serverSide.socket.write('response 1;');
    serverSide.socket.write('response 2;');
    await delay(QUIET_MS);
    assert.equal(serverSide.bytes.length, first.length, 'nothing crosses the cut towards the node');
    assert.equal(serverSide.ended, false, 'the FIN is held too');
    assert.equal(follower.bytes.length, 0, 'nothing crosses the cut towards the caller');
    assert.equal(follower.closed, false, 'the connection stays open');
    assert.ok(network.openConnections()[0]!.heldBytes > 0);

    network.heal();
    assert.equal(network.isCut('1', '3'), false);
    await waitFor(() => serverSide.ended && follower.bytes.length === 'response 1;response 2;'.length, 'held bytes after heal');
    assert.ok(serverSide.bytes.equals(Buffer.concat([first, ...later])), 'requests arrive whole and in order');
    assert.equal(follower.bytes.toString(), 'response 1;response 2;');
  });

  it('holds a reset from one side on a cut link until heal', async (t) => {
    const { network, node, client } = await setUp(t);
    const { server, proxyPort } = await node('1');
    const follower = await client(proxyPort, 'conveyor-replica-fetcher-3');
    network.cut('1', '3');
    follower.socket.resetAndDestroy();
    await delay(QUIET_MS);
    assert.equal(server.connections[0]!.closed, false, 'the reset does not cross the cut');
    network.heal();
    await waitFor(() => server.connections[0]!.closed, 'the node side to close after heal');
  });

  it('accepts a new connection on a cut link but connects to the node only on heal', async (t) => {
    const { network, node, client } = await setUp(t);
    const { server, proxyPort } = await node('1');
    network.cut('3', '1');
    const follower = await client(proxyPort, 'conveyor-replica-fetcher-3', false);
    const outsider = await client(proxyPort, 'kafkajs');
    await delay(QUIET_MS);
    assert.equal(server.connections.length, 1, 'only the outside client reached the node');
    assert.equal(follower.bytes.length, 0);
    const waiting = network.openConnections().find((connection) => connection.source === '3');
    assert.equal(waiting?.upstreamConnected, false);
    assert.equal(waiting?.heldBytes, requestFrame('conveyor-replica-fetcher-3').length);
    assert.ok(outsider.bytes.length > 0);

    network.heal();
    await waitFor(() => follower.bytes.length === requestFrame('conveyor-replica-fetcher-3').length, 'the echo after heal');
    assert.equal(server.connections.length, 2);
    assert.ok(server.connections[1]!.bytes.equals(requestFrame('conveyor-replica-fetcher-3')));
  });

  it('partition and isolate cut exactly the links between sides', async (t) => {
    const { network, node, client } = await setUp(t);
    const one = await node('1');
    const two = await node('2');
    network.partition([['1'], ['2', '3']]);
    assert.deepEqual(
      [
        ['1', '2'],
        ['1', '3'],
        ['2', '3'],
        ['client', '1'],
        ['client', '2'],
      ].map(([a, b]) => network.isCut(a!, b!)),
      [true, true, false, false, false],
    );
    const threeToTwo = await client(two.proxyPort, 'conveyor-raft-3');
    const outsiderToOne = await client(one.proxyPort, 'kafkajs');
    const threeToOne = await client(one.proxyPort, 'conveyor-raft-3', false);
    const twoToOne = await client(one.proxyPort, 'conveyor-raft-2', false);
    const oneToTwo = await client(two.proxyPort, 'conveyor-raft-1', false);
    await delay(QUIET_MS);
    assert.ok(threeToTwo.bytes.length > 0 && outsiderToOne.bytes.length > 0, 'links within a side and to clients stay open');
    assert.deepEqual([threeToOne, twoToOne, oneToTwo].map((caller) => caller.bytes.length), [0, 0, 0], 'links across sides are cut');
    assert.throws(() => network.partition([['1'], ['1', '2']]), /more than one side/);

    network.heal();
    await waitFor(() => [threeToOne, twoToOne, oneToTwo].every((caller) => caller.bytes.length > 0), 'the echoes after heal');

    network.isolate('2', ['1', '2', '3', 'client']);
    assert.deepEqual(
      [
        ['2', '1'],
        ['2', '3'],
        ['2', 'client'],
        ['1', '3'],
        ['2', '2'],
      ].map(([a, b]) => network.isCut(a!, b!)),
      [true, true, true, false, false],
    );
    const outsiderToTwo = await client(two.proxyPort, 'kafkajs', false);
    const threeToOneAgain = await client(one.proxyPort, 'conveyor-raft-3');
    await delay(QUIET_MS);
    assert.equal(outsiderToTwo.bytes.length, 0, 'the isolated node is cut from clients too');
    assert.ok(threeToOneAgain.bytes.length > 0);
  });

  it('delays each direction by at least minDelayMs, keeps byte order under jitter, and only on its link', async (t) => {
    // Jitter that would reorder every pair of chunks if delivery times were not kept in order.
    let draws = 0;
    const { network, node, client } = await setUp(t, { random: () => (draws++ % 2 === 0 ? 0.999 : 0) });
    const { server, proxyPort } = await node('1');
    const minDelayMs = 250;
    network.setFaults({ minDelayMs, maxDelayMs: 400 }, '3', '1');

    const outsider = await client(proxyPort, 'kafkajs');
    const outsiderSentAt = performance.now();
    outsider.socket.write('ping');
    await waitFor(() => outsider.bytes.toString().endsWith('ping'), 'the outside client echo');
    assert.ok(performance.now() - outsiderSentAt < minDelayMs, 'the outside client link is not delayed');

    const follower = await TestClient.connect(proxyPort);
    t.after(() => follower.socket.destroy());
    const frames = Array.from({ length: 10 }, (_, index) => requestFrame('conveyor-replica-fetcher-3', index, Buffer.from(`frame ${index}`)));
    const sentAt = performance.now();
    for (const frame of frames) {
      follower.socket.write(frame);
      await new Promise((resolve) => setImmediate(resolve));
    }
    follower.socket.end();
    const expected = Buffer.concat(frames);
    await waitFor(() => server.connections[1]?.bytes.length === expected.length, 'the delayed requests');
    await waitFor(() => server.connections[1]!.ended, 'the FIN behind the delayed requests');
    const arrivedAt = performance.now();
    await waitFor(() => follower.bytes.length === expected.length, 'the delayed echo');
    const echoedAt = performance.now();
    assert.ok(server.connections[1]!.bytes.equals(expected), 'requests arrive in order');
    assert.ok(follower.bytes.equals(expected), 'the echo arrives in order');
    assert.ok(arrivedAt - sentAt >= minDelayMs, `one way took ${arrivedAt - sentAt} ms`);
    assert.ok(echoedAt - sentAt >= 2 * minDelayMs, `the round trip took ${echoedAt - sentAt} ms`);
    assert.ok(draws >= 2, 'the delay was drawn from the injected random source');
    assert.throws(() => network.setFaults({ minDelayMs: 5, maxDelayMs: 1 }), /maxDelayMs/);
  });

  it('resetConnections resets every connection of one link, both sides, and no other', async (t) => {
    const { network, node, client } = await setUp(t);
    const { server, proxyPort } = await node('1');
    const followers = [await client(proxyPort, 'conveyor-replica-fetcher-3'), await client(proxyPort, 'conveyor-raft-3')];
    const others = [await client(proxyPort, 'conveyor-raft-2'), await client(proxyPort, 'kafkajs')];

    assert.equal(network.resetConnections('3', '1'), 2);
    await waitFor(() => followers.every((caller) => caller.closed), 'the reset callers to close');
    assert.deepEqual(
      followers.map((caller) => caller.errorCode),
      ['ECONNRESET', 'ECONNRESET'],
    );
    await waitFor(() => server.connections[0]!.closed && server.connections[1]!.closed, 'the node side of the reset connections to close');
    assert.deepEqual(
      server.connections.map((connection) => connection.closed),
      [true, true, false, false],
    );
    for (const caller of others) {
      const before = caller.bytes.length;
      caller.socket.write('still here');
      await waitFor(() => caller.bytes.length === before + 'still here'.length, 'an echo on an untouched link');
      assert.equal(caller.closed, false);
    }
    await waitFor(() => network.stats().byLink.get('1<->3')?.open === 0, 'the proxy to forget the reset connections');
    assert.equal(network.stats().byLink.get('1<->3')?.resets, 2);
    assert.equal(network.resetConnections('3', '1'), 0);
  });

  it('resets connections at random on a link with resetPerSecond', async (t) => {
    const { network, node, client } = await setUp(t, { random: () => 0 });
    const { proxyPort } = await node('1');
    const follower = await client(proxyPort, 'conveyor-replica-fetcher-3');
    const outsider = await client(proxyPort, 'kafkajs');
    network.setFaults({ resetPerSecond: 1 }, '1', '3');
    await waitFor(() => follower.closed, 'the random reset');
    assert.equal(outsider.closed, false);
    network.setFaults({});
    const again = await client(proxyPort, 'conveyor-replica-fetcher-3');
    await delay(100);
    assert.equal(again.closed, false, 'setFaults({}) on every link replaces the link fault');
  });

  it('closes the caller when the node refuses or closes, and the node when the caller resets', async (t) => {
    const { network, node, client } = await setUp(t);
    const refusing = createServer();
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const closedPort = (refusing.address() as { port: number }).port;
    await new Promise<void>((resolve) => refusing.close(() => resolve()));
    const refusedProxy = await network.addProxy('9', '127.0.0.1', closedPort);
    const refused = await client(refusedProxy, 'conveyor-raft-2', false);
    await waitFor(() => refused.closed, 'the caller of a refusing node to close');
    assert.equal(refused.bytes.length, 0);

    const { server, proxyPort } = await node('1');
    const caller = await client(proxyPort, 'conveyor-raft-2');
    server.connections[0]!.socket.end('bye');
    await waitFor(() => caller.ended && caller.bytes.toString().endsWith('bye'), 'the node FIN after its bytes');

    const resetting = await client(proxyPort, 'conveyor-raft-3');
    resetting.socket.resetAndDestroy();
    await waitFor(() => server.connections[1]!.closed, 'the node side of a reset caller to close');
  });

  it('close() stops every proxy, socket and timer, whatever state the connections are in', async (t) => {
    const countResources = () => {
      const counts = new Map<string, number>();
      for (const resource of process.getActiveResourcesInfo()) counts.set(resource, (counts.get(resource) ?? 0) + 1);
      return counts;
    };
    const network = new FaultNetwork({ random: () => 0.5 });
    const server = await TestServer.start();
    const clients: TestClient[] = [];
    t.after(async () => {
      for (const caller of clients) caller.socket.destroy();
      await network.close();
      await server.close();
    });
    const baseline = countResources();
    const proxyPort = await network.addProxy('1', '127.0.0.1', server.port);
    const open = await TestClient.connect(proxyPort);
    const waiting = await TestClient.connect(proxyPort);
    const delayed = await TestClient.connect(proxyPort);
    clients.push(open, waiting, delayed);
    open.socket.write(requestFrame('conveyor-raft-2'));
    await waitFor(() => open.bytes.length > 0, 'the open connection echo');
    network.cut('1', '3');
    waiting.socket.write(requestFrame('conveyor-replica-fetcher-3'));
    network.setFaults({ minDelayMs: 5000 }, '1', 'client');
    network.setFaults({ resetPerSecond: 0.001 }, '1', '2');
    delayed.socket.write(requestFrame('kafkajs'));
    await waitFor(() => network.stats().connections === 3 && network.openConnections().every((connection) => connection.heldBytes > 0 || connection.source === '2'), 'three connections in their states');

    await network.close();
    await waitFor(() => clients.every((caller) => caller.closed), 'every caller to see its connection closed');
    await waitFor(() => server.connections.every((connection) => connection.closed), 'the node side to close');
    await server.close();
    for (const caller of clients) caller.socket.destroy();
    // Sockets and servers closed by earlier tests may still be closing, but none is left open by
    // any test; timers are compared with the start, as the test runner may keep one per test.
    const left = () => {
      const counts = countResources();
      return `${counts.get('TCPSocketWrap') ?? 0} sockets, ${counts.get('TCPServerWrap') ?? 0} servers, ${counts.get('Timeout') ?? 0} timers`;
    };
    const expected = `0 sockets, 0 servers, ${baseline.get('Timeout') ?? 0} timers`;
    await waitFor(() => left() === expected, () => `nothing left running: ${left()}, not ${expected}`);
    assert.equal(left(), expected);
    await assert.rejects(network.addProxy('1', '127.0.0.1', server.port), /closed/);
  });
});
