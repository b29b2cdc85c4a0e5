import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { createLogger, type Logger } from '../../base/logger.js';
import { ManualClock } from '../../testing/log-support.js';
import type { FrameHandler, FrameOutcome } from './frame-handler.js';
import { FrameReader } from './frame-reader.js';
import type { ListenerConfig } from './listeners.js';
import { defaultNetworkLimits, type NetworkLimits, unlimitedConnectionLimits } from './network-limits.js';
import { type ConnectionQuotaSettings, SocketServer } from './socket-server.js';

const deadlineMs = 10_000;

/** Waits for `condition` with a deadline, checking on every turn of the event loop and every few ms. */
async function waitFor(condition: () => boolean, description: string, timeoutMs = deadlineMs): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A small seeded generator so a failing interleaving reproduces. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Handlers that wait here stay in flight until the test lets them go: the state under test is held
 * exactly as long as the test needs it, however slow the machine.
 */
class Gate {
  private readonly waiters: Array<() => void> = [];
  /** How many handlers have reached the gate, released or not. */
  arrived = 0;

  wait(): Promise<void> {
    this.arrived++;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** How many handlers wait at the gate now. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Lets the oldest waiting handler go. */
  releaseOne(): void {
    const next = this.waiters.shift();
    assert.ok(next, 'a handler waits at the gate');
    next();
  }

  releaseAll(): void {
    while (this.waiters.length > 0) this.releaseOne();
  }
}

/** True once `promise` has settled, after letting pending callbacks and I/O run once. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

function framed(body: Buffer): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeInt32BE(body.length, 0);
  return Buffer.concat([prefix, body]);
}

/** A request body: a correlation id, then an instruction the toy handlers understand. */
function request(correlationId: number, instruction = 'echo'): Buffer {
  const id = Buffer.allocUnsafe(4);
  id.writeInt32BE(correlationId, 0);
  return Buffer.concat([id, Buffer.from(instruction)]);
}

function correlationIdOf(frame: Buffer): number {
  return frame.readInt32BE(0);
}

function instructionOf(frame: Buffer): string {
  return frame.subarray(4).toString();
}

interface CapturedLogs {
  logger: Logger;
  lines: string[];
}

function capturedLogger(): CapturedLogs {
  const lines: string[] = [];
  return { logger: createLogger((level, line) => lines.push(`${level} ${line}`), 'debug'), lines };
}

/** A raw TCP client that parses framed responses. */
class TestClient {
  readonly socket: Socket;
  readonly responses: Buffer[] = [];
  closed = false;
  ended = false;
  private readonly reader = new FrameReader(256 * 1024 * 1024);

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.reader.append(chunk);
      for (let frame = this.reader.next(); frame !== undefined; frame = this.reader.next()) this.responses.push(frame);
    });
    socket.on('end', () => {
      this.ended = true;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<TestClient> {
    const socket = connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new TestClient(socket);
  }

  send(...bodies: Buffer[]): void {
    this.socket.write(Buffer.concat(bodies.map(framed)));
  }

  async waitForResponses(count: number): Promise<number[]> {
    await waitFor(() => this.responses.length >= count, `${count} responses (have ${this.responses.length})`);
    return this.responses.map(correlationIdOf);
  }

  async waitForClose(): Promise<void> {
    await waitFor(() => this.closed, 'the server to close the connection');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const openServers: SocketServer[] = [];
after(async () => {
  await Promise.all(openServers.map((server) => server.close()));
});

interface StartedServer {
  server: SocketServer;
  port: number;
  lines: string[];
}

async function startServer(
  handler: FrameHandler,
  limits: Partial<NetworkLimits> = {},
  listeners: ListenerConfig[] = [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 0 }],
  closeGraceMs?: number,
  clock?: ManualClock,
): Promise<StartedServer> {
  const { logger, lines } = capturedLogger();
  const server = new SocketServer({
    listeners,
    handler,
    limits: { ...defaultNetworkLimits, ...limits },
    logger,
    ...(closeGraceMs === undefined ? {} : { closeGraceMs }),
    ...(clock === undefined ? {} : { clock }),
  });
  openServers.push(server);
  const [bound] = await server.start();
  assert.ok(bound);
  return { server, port: bound.port, lines };
}

const echo = (frame: Buffer): FrameOutcome => ({ kind: 'respond', chunks: [frame] });

describe('SocketServer', () => {
  it('answers pipelined requests in request order despite random handler delays', async () => {
    const random = seededRandom(42);
    const calls: Array<[number, number]> = [];
    let running = 0;
    let mostRunning = 0;
    const maxInFlight = 8;
    const handler: FrameHandler = async (frame, connection) => {
      calls.push([connection.id, correlationIdOf(frame)]);
      running++;
      mostRunning = Math.max(mostRunning, running);
      await delay(Math.floor(random() * 15));
      running--;
      // Split the response into several chunks to check they are written back to back.
      return { kind: 'respond', chunks: [frame.subarray(0, 2), frame.subarray(2)] };
    };
    const { port } = await startServer(handler, { maxInFlightRequestsPerConnection: maxInFlight });
    const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(port)));
    const requestCount = 150;
    const ids = Array.from({ length: requestCount }, (_, index) => index);
    for (const client of clients) {
      // Several writes of several requests each, so some arrive together and some apart.
      for (let start = 0; start < requestCount; start += 10) client.send(...ids.slice(start, start + 10).map((id) => request(id)));
    }
    for (const client of clients) {
      assert.deepEqual(await client.waitForResponses(requestCount), ids);
      assert.ok(client.responses.every((response, index) => instructionOf(response) === 'echo' && correlationIdOf(response) === index));
    }
    for (const connectionId of new Set(calls.map(([id]) => id))) {
      const order = calls.filter(([id]) => id === connectionId).map(([, correlationId]) => correlationId);
      assert.deepEqual(order, ids, 'the handler sees one connection’s requests in arrival order');
    }
    assert.ok(mostRunning > 1, 'requests were processed concurrently');
    assert.ok(mostRunning <= maxInFlight * clients.length);
    for (const client of clients) client.destroy();
  });

  it('bounds the requests in flight on one connection', async () => {
    const maxInFlight = 3;
    const requestCount = 12;
    const gate = new Gate();
    const handler: FrameHandler = async (frame) => {
      await gate.wait();
      return echo(frame);
    };
    const { port, server } = await startServer(handler, { maxInFlightRequestsPerConnection: maxInFlight });
    const client = await TestClient.connect(port);
    client.send(...Array.from({ length: requestCount }, (_, index) => request(index)));
    // Every request is sent at once; the connection takes exactly the limit and holds the rest unread
    // for as long as those handlers work, which here is until the test lets one go.
    for (let answered = 0; answered < requestCount; answered++) {
      const expectedInFlight = Math.min(maxInFlight, requestCount - answered);
      await waitFor(() => gate.waiting === expectedInFlight, `${expectedInFlight} requests in flight (have ${gate.waiting})`);
      // A turn of the event loop for any request beyond the limit that was wrongly dispatched.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(gate.arrived, answered + expectedInFlight, `with ${answered} answered, ${expectedInFlight} handlers started`);
      assert.equal(server.connectionStats()[0]?.inFlightRequests, expectedInFlight);
      gate.releaseOne();
      await client.waitForResponses(answered + 1);
    }
    assert.deepEqual(client.responses.map(correlationIdOf), Array.from({ length: requestCount }, (_, index) => index));
    client.destroy();
  });

  it('sends nothing for `none` outcomes and keeps the others in order', async () => {
    const handler: FrameHandler = async (frame) => {
      await delay(correlationIdOf(frame) % 3);
      return instructionOf(frame) === 'acks=0' ? { kind: 'none' } : echo(frame);
    };
    const { port } = await startServer(handler, { maxInFlightRequestsPerConnection: 4 });
    const client = await TestClient.connect(port);
    const bodies = Array.from({ length: 40 }, (_, index) => request(index, index % 2 === 0 ? 'acks=0' : 'echo'));
    client.send(...bodies);
    const expected = Array.from({ length: 20 }, (_, index) => index * 2 + 1);
    assert.deepEqual(await client.waitForResponses(20), expected);
    // A last request proves nothing else was queued behind the silent ones.
    client.send(request(99));
    assert.deepEqual((await client.waitForResponses(21)).at(-1), 99);
    assert.equal(client.responses.length, 21);
    client.destroy();
  });

  it('a throttled response (a quota) mutes the connection: requests behind it are read and dispatched only once the throttle time has passed', async () => {
    const dispatchedAt = new Map<number, number>();
    const handler: FrameHandler = (frame) => {
      dispatchedAt.set(correlationIdOf(frame), Date.now());
      if (instructionOf(frame) === 'throttle') return { kind: 'respond', chunks: [frame], throttleMs: 400 };
      if (instructionOf(frame) === 'silent-throttle') return { kind: 'none', throttleMs: 300 };
      return echo(frame);
    };
    const { port } = await startServer(handler);
    const client = await TestClient.connect(port);
    client.send(request(1, 'throttle'), request(2), request(3));
    assert.deepEqual(await client.waitForResponses(3), [1, 2, 3]);
    const waited = dispatchedAt.get(2)! - dispatchedAt.get(1)!;
    assert.ok(waited >= 390, `request 2 was dispatched ${waited} ms after the throttled one`);
    // acks=0 style: no answer, the throttle still holds the next request back.
    client.send(request(4, 'silent-throttle'), request(5));
    assert.deepEqual((await client.waitForResponses(4)).at(-1), 5);
    assert.ok(dispatchedAt.get(5)! - dispatchedAt.get(4)! >= 290);
    client.destroy();
  });

  it('flushes earlier responses, then closes on a `close` outcome without dispatching later requests', async () => {
    const seen: number[] = [];
    const handler: FrameHandler = async (frame) => {
      seen.push(correlationIdOf(frame));
      if (instructionOf(frame) === 'slow') await delay(50);
      if (instructionOf(frame) === 'unsupported') return { kind: 'close', reason: 'unsupported version' };
      return echo(frame);
    };
    const { port, lines } = await startServer(handler);
    const client = await TestClient.connect(port);
    client.send(request(1), request(2, 'slow'), request(3, 'unsupported'), request(4));
    await client.waitForClose();
    assert.deepEqual(client.responses.map(correlationIdOf), [1, 2]);
    assert.ok(client.ended, 'the server ended the connection cleanly');
    assert.ok(!seen.includes(4) || seen.indexOf(4) > seen.indexOf(3));
    assert.ok(lines.some((line) => /closing connection .*reason=unsupported version/.test(line)));
  });

  it('does not dispatch requests queued behind a synchronous `close`', async () => {
    const seen: number[] = [];
    const handler: FrameHandler = (frame) => {
      seen.push(correlationIdOf(frame));
      return instructionOf(frame) === 'unsupported' ? { kind: 'close', reason: 'unsupported version' } : echo(frame);
    };
    const { port } = await startServer(handler);
    const client = await TestClient.connect(port);
    client.send(request(1), request(2, 'unsupported'), request(3));
    await client.waitForClose();
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(client.responses.map(correlationIdOf), [1]);
  });

  it('logs and closes a connection whose handler throws or rejects, leaving others alone', async () => {
    const handler: FrameHandler = (frame) => {
      const instruction = instructionOf(frame);
      if (instruction === 'throw') throw new Error('boom');
      if (instruction === 'reject') return Promise.reject(new Error('async boom'));
      return echo(frame);
    };
    const { port, lines, server } = await startServer(handler);
    const healthy = await TestClient.connect(port);
    const throwing = await TestClient.connect(port);
    const rejecting = await TestClient.connect(port);
    throwing.send(request(1), request(2, 'throw'));
    rejecting.send(request(1), request(2, 'reject'));
    await throwing.waitForClose();
    await rejecting.waitForClose();
    assert.deepEqual(throwing.responses.map(correlationIdOf), [1]);
    assert.deepEqual(rejecting.responses.map(correlationIdOf), [1]);
    assert.ok(lines.some((line) => line.startsWith('error') && line.includes('boom')));
    assert.ok(lines.some((line) => line.startsWith('error') && line.includes('async boom')));
    healthy.send(request(7));
    assert.deepEqual(await healthy.waitForResponses(1), [7]);
    await waitFor(() => server.connectionCount() === 1, 'the failed connections to be forgotten');
    healthy.destroy();
  });

  it('closes connections announcing an oversized or negative frame while another keeps working', async () => {
    const { port, lines } = await startServer(echo, { socketRequestMaxBytes: 1024 });
    const healthy = await TestClient.connect(port);
    const oversized = await TestClient.connect(port);
    const negative = await TestClient.connect(port);
    oversized.socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
    negative.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await oversized.waitForClose();
    await negative.waitForClose();
    assert.ok(lines.some((line) => line.startsWith('warn') && line.includes('sizeBytes=2147483647')));
    assert.ok(lines.some((line) => line.startsWith('warn') && line.includes('sizeBytes=-1')));
    healthy.send(request(1, 'x'.repeat(1000)));
    assert.deepEqual(await healthy.waitForResponses(1), [1]);
    healthy.destroy();
  });

  it('dispatches every frame of one chunk and assembles a frame sent byte by byte', async () => {
    const { port, server } = await startServer(echo, { maxInFlightRequestsPerConnection: 4 });
    const many = await TestClient.connect(port);
    many.send(...Array.from({ length: 500 }, (_, index) => request(index)));
    assert.deepEqual(
      await many.waitForResponses(500),
      Array.from({ length: 500 }, (_, index) => index),
    );
    many.destroy();

    const trickle = await TestClient.connect(port);
    await waitFor(() => server.connectionStats().length === 1, 'the trickling connection to be accepted');
    const bytes = framed(request(5, 'one byte at a time'));
    for (let index = 0; index < bytes.length - 1; index++) {
      trickle.socket.write(bytes.subarray(index, index + 1));
      // Each byte reaches the server on its own before the next is sent.
      await waitFor(() => server.connectionStats()[0]?.bufferedRequestBytes === index + 1, `byte ${index} to arrive`);
    }
    assert.equal(trickle.responses.length, 0);
    trickle.socket.write(bytes.subarray(bytes.length - 1));
    await trickle.waitForResponses(1);
    assert.equal(instructionOf(trickle.responses[0] as Buffer), 'one byte at a time');
    trickle.destroy();
  });

  it('stops reading from a client that never reads, keeping queued bytes within one response of the limit', async () => {
    const responseBytes = 64 * 1024;
    const maxQueuedResponseBytes = 256 * 1024;
    let handled = 0;
    const handler: FrameHandler = (frame) => {
      handled++;
      const response = Buffer.alloc(responseBytes, 1);
      frame.copy(response, 0, 0, 4);
      return { kind: 'respond', chunks: [response] };
    };
    const { port, server } = await startServer(handler, { maxQueuedResponseBytes, maxInFlightRequestsPerConnection: 4 });
    const client = await TestClient.connect(port);
    client.socket.pause();
    const requestCount = 2_000;
    client.send(...Array.from({ length: requestCount }, (_, index) => request(index)));
    await waitFor(
      () => (server.connectionStats()[0]?.queuedResponseBytes ?? 0) > maxQueuedResponseBytes,
      'the server to be held back by the client',
    );
    const stats = server.connectionStats()[0];
    assert.ok(stats);
    assert.ok(handled < requestCount, `the server stopped taking requests (handled ${handled})`);
    assert.ok(
      stats.peakQueuedResponseBytes <= maxQueuedResponseBytes + responseBytes + 4,
      `peak queued ${stats.peakQueuedResponseBytes} bytes`,
    );
    assert.ok(stats.inFlightRequests <= 4);
    client.socket.resume();
    const ids = await client.waitForResponses(requestCount);
    assert.deepEqual(ids, Array.from({ length: requestCount }, (_, index) => index));
    assert.equal(handled, requestCount);
    assert.ok((server.connectionStats()[0]?.peakQueuedResponseBytes ?? 0) <= maxQueuedResponseBytes + responseBytes + 4);
    client.destroy();
  });

  it('closes idle connections but not one waiting for a slow response', async () => {
    // The idle sweep runs on a manual clock and the busy request waits at a gate: the test decides
    // when time passes and when the response comes, so nothing depends on the machine's speed.
    const clock = new ManualClock();
    const gate = new Gate();
    const handler: FrameHandler = async (frame) => {
      await gate.wait();
      return echo(frame);
    };
    const idleMs = 100;
    const { port, server } = await startServer(handler, { connectionsMaxIdleMs: idleMs }, undefined, undefined, clock);
    const idle = await TestClient.connect(port);
    const busy = await TestClient.connect(port);
    await waitFor(() => server.connectionCount() === 2, 'two connections');
    busy.send(request(1));
    await waitFor(() => gate.waiting === 1, 'the busy request to reach its handler');
    clock.advance(idleMs * 3); // both connections are now silent for three times the limit
    await idle.waitForClose();
    assert.equal(busy.closed, false, 'the busy connection survived past the idle limit');
    gate.releaseOne();
    assert.deepEqual(await busy.waitForResponses(1), [1], 'the busy connection is answered after the idle limit');
    assert.equal(busy.closed, false);
    // Once answered, the connection is idle from its last write on: not yet one ms before the limit...
    clock.advance(idleMs - 1);
    busy.send(request(2));
    await waitFor(() => gate.waiting === 1 || busy.closed, 'the second request to reach its handler');
    assert.equal(busy.closed, false, 'not closed before the idle limit since its response');
    gate.releaseOne();
    assert.deepEqual(await busy.waitForResponses(2), [1, 2]);
    // ...and closed once silent for longer than the limit.
    clock.advance(idleMs);
    await busy.waitForClose();
    await waitFor(() => server.connectionCount() === 0, 'no connections left');
  });

  it('closes connections beyond maxConnections at accept', async () => {
    const { port, server, lines } = await startServer(echo, { maxConnections: 2 });
    const first = await TestClient.connect(port);
    const second = await TestClient.connect(port);
    await waitFor(() => server.connectionCount() === 2, 'two connections');
    const third = await TestClient.connect(port);
    await third.waitForClose();
    assert.ok(lines.some((line) => line.includes('too many connections')));
    assert.equal(server.connectionCount(), 2);
    first.send(request(1));
    second.send(request(2));
    assert.deepEqual(await first.waitForResponses(1), [1]);
    assert.deepEqual(await second.waitForResponses(1), [2]);
    first.destroy();
    await waitFor(() => server.connectionCount() === 1, 'the first connection to be forgotten');
    const fourth = await TestClient.connect(port);
    fourth.send(request(4));
    assert.deepEqual(await fourth.waitForResponses(1), [4]);
    second.destroy();
    fourth.destroy();
  });

  it('serves localhost on IPv4 and IPv6 loopback with the same port', async (context) => {
    if (!(await ipv6LoopbackAvailable())) {
      context.skip('no IPv6 loopback on this machine');
      return;
    }
    const { port, server } = await startServer(echo, {}, [{ name: 'PLAINTEXT', host: 'localhost', port: 0 }]);
    assert.ok(port > 0);
    const overIpv4 = await TestClient.connect(port, '127.0.0.1');
    const overIpv6 = await TestClient.connect(port, '::1');
    overIpv4.send(request(4));
    overIpv6.send(request(6));
    assert.deepEqual(await overIpv4.waitForResponses(1), [4]);
    assert.deepEqual(await overIpv6.waitForResponses(1), [6]);
    assert.equal(server.connectionCount(), 2);
    overIpv4.destroy();
    overIpv6.destroy();
  });

  it('binds several listeners, each on its own real port, and names the listener per connection', async () => {
    const listenerNames: string[] = [];
    const handler: FrameHandler = (frame, connection) => {
      listenerNames.push(connection.listenerName);
      return echo(frame);
    };
    const { logger } = capturedLogger();
    const server = new SocketServer({
      listeners: [
        { name: 'PLAINTEXT', host: '127.0.0.1', port: 0 },
        { name: 'EVERYWHERE', host: '', port: 0 },
      ],
      handler,
      limits: defaultNetworkLimits,
      logger,
    });
    openServers.push(server);
    const bound = await server.start();
    assert.deepEqual(bound.map((listener) => listener.name), ['PLAINTEXT', 'EVERYWHERE']);
    assert.ok(bound.every((listener) => listener.port > 0));
    assert.notEqual(bound[0]?.port, bound[1]?.port);
    for (const listener of bound) {
      const client = await TestClient.connect(listener.port, '127.0.0.1');
      client.send(request(1));
      await client.waitForResponses(1);
      client.destroy();
    }
    assert.deepEqual(listenerNames, ['PLAINTEXT', 'EVERYWHERE']);
    await server.close();
  });

  it('rejects start() naming the address when the port is taken', async () => {
    const { port } = await startServer(echo);
    const { logger } = capturedLogger();
    const second = new SocketServer({
      listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port }],
      handler: echo,
      limits: defaultNetworkLimits,
      logger,
    });
    await assert.rejects(second.start(), new RegExp(`listener PLAINTEXT to 127\\.0\\.0\\.1:${port}: address already in use`));
    await second.close();
  });

  it('rejects start() for localhost when the IPv6 side of an explicit port is taken', async (context) => {
    if (!(await ipv6LoopbackAvailable())) {
      context.skip('no IPv6 loopback on this machine');
      return;
    }
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen({ port: 0, host: '::1' }, resolve));
    const address = blocker.address();
    assert.ok(address !== null && typeof address === 'object');
    const { logger } = capturedLogger();
    const server = new SocketServer({
      listeners: [{ name: 'PLAINTEXT', host: 'localhost', port: address.port }],
      handler: echo,
      limits: defaultNetworkLimits,
      logger,
    });
    await assert.rejects(server.start(), new RegExp(`\\[::1\\]:${address.port}: address already in use`));
    // The IPv4 side it bound first was released.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen({ port: address.port, host: '127.0.0.1' }, resolve));
    await new Promise((resolve) => probe.close(resolve));
    await new Promise((resolve) => blocker.close(resolve));
  });

  it('answers requests in flight when closing, destroys idle connections, and stops accepting', async () => {
    // A manual clock: the grace period never runs out on its own, so only the gate decides when
    // the busy connection's requests are answered.
    const clock = new ManualClock();
    const gate = new Gate();
    const handler: FrameHandler = async (frame) => {
      await gate.wait();
      return echo(frame);
    };
    const { port, server } = await startServer(handler, {}, undefined, undefined, clock);
    const busy = await TestClient.connect(port);
    const idle = await TestClient.connect(port);
    await waitFor(() => server.connectionCount() === 2, 'two connections');
    busy.send(request(1), request(2), request(3));
    await waitFor(() => gate.waiting === 3, 'three requests in flight');
    const closing = server.close();
    await idle.waitForClose();
    assert.equal(busy.closed, false, 'the busy connection is still answering');
    assert.equal(await hasSettled(closing), false, 'close() waits for the requests in flight');
    assert.deepEqual(busy.responses, []);
    gate.releaseAll();
    await closing;
    assert.deepEqual(busy.responses.map(correlationIdOf), [1, 2, 3]);
    await busy.waitForClose();
    assert.equal(server.connectionCount(), 0);
    await assert.rejects(TestClient.connect(port), /ECONNREFUSED/);
  });

  it('closes within the grace period even when a handler never answers', async () => {
    const handler: FrameHandler = (frame) =>
      instructionOf(frame) === 'never' ? new Promise<FrameOutcome>(() => {}) : echo(frame);
    const clock = new ManualClock();
    const { port, server } = await startServer(handler, {}, undefined, 200, clock);
    const client = await TestClient.connect(port);
    client.send(request(1), request(2, 'never'), request(3));
    await client.waitForResponses(1);
    const closing = server.close();
    assert.equal(await hasSettled(closing), false, 'close() waits while the grace period lasts');
    clock.advance(199);
    assert.equal(await hasSettled(closing), false, 'close() waits while the grace period lasts');
    clock.advance(1);
    await closing; // the grace period is over: the connection is destroyed and close() returns
    await client.waitForClose();
    assert.deepEqual(client.responses.map(correlationIdOf), [1]);
  });

  it('answers a client that shuts its sending side after its requests', async () => {
    const handler: FrameHandler = async (frame) => {
      await delay(20);
      return echo(frame);
    };
    const { port, server } = await startServer(handler);
    const client = await TestClient.connect(port);
    client.socket.end(Buffer.concat([request(1), request(2)].map(framed)));
    await client.waitForClose();
    assert.deepEqual(client.responses.map(correlationIdOf), [1, 2]);
    await waitFor(() => server.connectionCount() === 0, 'the connection to be forgotten');
  });

  describe('bound before serving', () => {
    async function bindOnly(limits: Partial<NetworkLimits> = {}): Promise<{ server: SocketServer; port: number }> {
      const { logger } = capturedLogger();
      const server = new SocketServer({ listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 0 }], limits: { ...defaultNetworkLimits, ...limits }, logger });
      openServers.push(server);
      const [bound] = await server.bind();
      assert.ok(bound);
      return { server, port: bound.port };
    }

    it('accepts connections at once and answers their requests, sent before or after, once serving', async () => {
      const { server, port } = await bindOnly();
      const early = await TestClient.connect(port);
      early.send(request(1), request(2));
      const late = await TestClient.connect(port);
      await delay(50);
      assert.deepEqual(early.responses, [], 'nothing is answered before serve()');
      assert.equal(early.closed, false);
      const seen: number[] = [];
      server.serve((frame) => {
        seen.push(correlationIdOf(frame));
        return echo(frame);
      });
      assert.deepEqual(await early.waitForResponses(2), [1, 2]);
      late.send(request(3));
      assert.deepEqual(await late.waitForResponses(1), [3]);
      const after = await TestClient.connect(port);
      after.send(request(4));
      assert.deepEqual(await after.waitForResponses(1), [4]);
      assert.deepEqual(seen, [1, 2, 3, 4]);
      for (const client of [early, late, after]) client.destroy();
    });

    it('forgets a connection reset while waiting and serves the others', async () => {
      const { server, port } = await bindOnly({ maxConnections: 2 });
      const reset = await TestClient.connect(port);
      reset.socket.resetAndDestroy();
      await reset.waitForClose();
      const kept = await TestClient.connect(port);
      kept.send(request(7));
      // The reset one no longer counts against maxConnections.
      const second = await TestClient.connect(port);
      await delay(20);
      server.serve(echo);
      assert.deepEqual(await kept.waitForResponses(1), [7]);
      second.send(request(8));
      assert.deepEqual(await second.waitForResponses(1), [8]);
      assert.equal(server.connectionCount(), 2);
      kept.destroy();
      second.destroy();
    });

    it('closes waiting connections when closed before serving', async () => {
      const { server, port } = await bindOnly();
      const waiting = await TestClient.connect(port);
      waiting.send(request(1));
      await server.close();
      await waiting.waitForClose();
      assert.deepEqual(waiting.responses, []);
      await assert.rejects(TestClient.connect(port), /ECONNREFUSED/);
      assert.throws(() => server.serve(echo), /cannot serve: it is closed/);
    });

    it('refuses start() without a handler', async () => {
      const { logger } = capturedLogger();
      const server = new SocketServer({ listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 0 }], limits: defaultNetworkLimits, logger });
      await assert.rejects(server.start(), /without a handler/);
    });
  });

  describe('connection quotas (Kafka\'s ConnectionQuotas)', () => {
    /** A server with Kafka's connection limits; each listener on 127.0.0.1, port 0. */
    async function startLimited(quotas: Partial<ConnectionQuotaSettings> & Pick<ConnectionQuotaSettings, 'limits'>, names = ['PLAINTEXT'], clock?: ManualClock) {
      const { logger, lines } = capturedLogger();
      const server = new SocketServer({
        listeners: names.map((name) => ({ name, host: '127.0.0.1', port: 0 })),
        handler: echo,
        limits: defaultNetworkLimits,
        logger,
        connectionQuotas: { window: { samples: 2, sampleMs: 1000 }, ...quotas },
        ...(clock === undefined ? {} : { clock }),
      });
      openServers.push(server);
      const bound = await server.start();
      return { server, lines, ports: bound.map((listener) => listener.port) };
    }

    it('closes a connection from an address at max.connections.per.ip at once, and serves the others', async () => {
      const { server, lines, ports } = await startLimited({ limits: { ...unlimitedConnectionLimits, maxConnectionsPerIp: 2 } });
      const [port] = ports as [number];
      const first = await TestClient.connect(port);
      const second = await TestClient.connect(port);
      await waitFor(() => server.connectionCount() === 2, 'two connections');
      const third = await TestClient.connect(port);
      await third.waitForClose();
      assert.ok(lines.some((line) => line.includes('too many connections from its address') && line.includes('maximum=2')), lines.join('\n'));
      first.send(request(1));
      second.send(request(2));
      assert.deepEqual([await first.waitForResponses(1), await second.waitForResponses(1)], [[1], [2]]);
      first.destroy();
      await waitFor(() => server.connectionCount() === 1, 'the first connection to be forgotten');
      const fourth = await TestClient.connect(port);
      fourth.send(request(4));
      assert.deepEqual(await fourth.waitForResponses(1), [4]);
      second.destroy();
      fourth.destroy();
    });

    it('keeps a connection beyond max.connections waiting unread, and serves it once a connection closes or the limit is raised', async () => {
      const { server, ports } = await startLimited({ limits: { ...unlimitedConnectionLimits, maxConnections: 1 } });
      const [port] = ports as [number];
      const first = await TestClient.connect(port);
      await waitFor(() => server.connectionCount() === 1, 'one connection');
      const second = await TestClient.connect(port);
      const third = await TestClient.connect(port);
      second.send(request(2));
      third.send(request(3));
      await delay(50);
      assert.deepEqual([second.responses.length, third.responses.length, second.closed, third.closed], [0, 0, false, false], 'they wait, connected');
      first.destroy();
      assert.deepEqual(await second.waitForResponses(1), [2]);
      assert.equal(third.responses.length, 0);
      server.reconfigureConnectionQuotas({ ...unlimitedConnectionLimits, maxConnections: 2 });
      assert.deepEqual(await third.waitForResponses(1), [3]);
      second.destroy();
      third.destroy();
    });

    it('lets the inter-broker listener past max.connections, closing the least recently used connection of another listener', async () => {
      const { server, ports } = await startLimited({ limits: { ...unlimitedConnectionLimits, maxConnections: 2 }, interBrokerListener: 'INTERNAL' }, ['CLIENT', 'INTERNAL']);
      const [clientPort, internalPort] = ports as [number, number];
      const older = await TestClient.connect(clientPort);
      const newer = await TestClient.connect(clientPort);
      await waitFor(() => server.connectionCount() === 2, 'two client connections');
      newer.send(request(1));
      await newer.waitForResponses(1);
      const replica = await TestClient.connect(internalPort);
      replica.send(request(2));
      assert.deepEqual(await replica.waitForResponses(1), [2]);
      await older.waitForClose();
      assert.equal(newer.closed, false, 'only the least recently used one closes');
      replica.destroy();
      newer.destroy();
    });

    it('holds a connection over its address\'s connection_creation_rate unread, and closes it once the throttle time has passed', async () => {
      const clock = new ManualClock();
      const { server, ports } = await startLimited({ limits: unlimitedConnectionLimits }, ['PLAINTEXT'], clock);
      const [port] = ports as [number];
      server.useIpConnectionRates((ip) => (ip === '127.0.0.1' ? 1 : undefined));
      const first = await TestClient.connect(port);
      await waitFor(() => server.connectionCount() === 1, 'the first connection');
      const throttled = await TestClient.connect(port);
      throttled.send(request(1));
      await delay(50);
      assert.deepEqual([throttled.closed, throttled.responses.length, server.connectionCount()], [false, 0, 1]);
      clock.advance(1000);
      await throttled.waitForClose();
      assert.equal(throttled.responses.length, 0, 'never served');
      first.send(request(2));
      assert.deepEqual(await first.waitForResponses(1), [2]);
      first.destroy();
    });
  });
});

async function ipv6LoopbackAvailable(): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen({ port: 0, host: '::1' }, () => probe.close(() => resolve(true)));
  });
}
