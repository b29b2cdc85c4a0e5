// The HTTP source and sink connectors through a real standalone worker and a real broker, against
// node:http servers this test runs as the REST API, the webhook client's peer and the sink's
// endpoint. Topics are produced and read with the project's own client (src/client).
//   source: three pages by increasing id arrive once and in order, new records follow, and a
//           restarted worker goes on after the last stored id; cursor paging, with the last page
//           growing in place; 500s retried, then the task FAILED with the status and body;
//   webhook: posts of objects and arrays are answered 200 only once their records are in Kafka,
//           a body that is not JSON gets 400 and produces nothing, a post waiting for Kafka when
//           the task stops gets 503;
//   sink: batches of at most batch.max.size in order per partition, bodies equal to the values
//           (strings and structs); 503 with Retry-After retried once after the wait; 400s into
//           the dead letter queue with Connect's error headers, or failing the task without it;
//   bad configs named by key in /config/validate and on create.
import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AdminClient, OffsetSpec } from '../../../src/client/admin-client.js';
import { ClusterClient } from '../../../src/client/cluster-client.js';
import { type ConsumedRecord, Consumer } from '../../../src/client/consumer.js';
import { Producer } from '../../../src/client/producer.js';
import { ConnectRestError } from '../../../src/connect/runtime/herder.js';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';

const STRING_CONVERTER = 'org.apache.kafka.connect.storage.StringConverter';
const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';

interface Seen {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
  status?: number;
}

interface TestServer {
  readonly url: string;
  readonly seen: Seen[];
  close(): Promise<void>;
}

/** A node:http server on a loopback port; `handle` answers each request (its body already read). */
async function testServer(handle: (request: Seen, response: ServerResponse) => void, port = 0): Promise<TestServer> {
  const seen: Seen[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry: Seen = { method: request.method ?? '', url: new URL(request.url ?? '/', 'http://test'), headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      seen.push(entry);
      const writeHead = response.writeHead.bind(response);
      response.writeHead = ((status: number, ...rest: unknown[]) => {
        entry.status = status;
        return (writeHead as (...args: unknown[]) => ServerResponse)(status, ...rest);
      }) as typeof response.writeHead;
      handle(entry, response);
    });
  });
  await new Promise<void>((resolveListen) => server.listen(port, '127.0.0.1', resolveListen));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolveClose) => server.close(resolveClose));
    },
  };
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A loopback port free right now (the webhook listener needs a fixed one). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolveClose) => server.close(resolveClose));
  return port;
}

async function post(url: string, body: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  return { status: response.status, body: await response.text() };
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

describe('Connect: the HTTP source and sink connectors', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let cluster: ClusterClient;
  let admin: AdminClient;
  let connect: RunningConnect;

  const workerConfig = (offsets: string): Record<string, string> => ({
    'bootstrap.servers': broker.running.bootstrapServers,
    'key.converter': STRING_CONVERTER,
    'value.converter': STRING_CONVERTER,
    'offset.storage.file.filename': offsets,
    'offset.flush.interval.ms': '200',
    'task.shutdown.graceful.timeout.ms': '4000',
    listeners: 'http://127.0.0.1:0',
  });

  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    dir = await temporaryDirectory();
    cluster = new ClusterClient(connectTcp, broker.running.bootstrapServers, 'http-connectors-test');
    admin = new AdminClient(cluster);
    connect = await startConnect({ worker: workerConfig(join(dir.path, 'shared.offsets')) });
  });
  after(async () => {
    await connect?.close();
    cluster?.close();
    await broker?.close();
    await dir?.remove();
  });

  async function createTopic(partitions = 1): Promise<string> {
    const topic = uniqueTopic('http');
    await admin.createTopic(topic, { partitions, replicationFactor: 1 });
    return topic;
  }

  /** Every record of the topic, by partition then offset; waits until there are at least `count`. */
  async function readTopic(topic: string, count: number, timeoutMs = 15_000): Promise<ConsumedRecord[]> {
    const info = await admin.describeTopic(topic);
    const consumer = new Consumer(cluster, info, new Map(info.partitions.map(({ partition }) => [partition, 0])));
    const records: ConsumedRecord[] = [];
    await waitFor(async () => {
      records.push(...(await consumer.poll(100)));
      return records.length >= count;
    }, `${count} records in ${topic} (have ${records.length})`, timeoutMs);
    return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  }

  /** How many records the topic holds (its partitions' end offsets), asked of the broker now. */
  async function topicSize(topic: string): Promise<number> {
    const latest = await admin.listOffsets(await admin.describeTopic(topic), OffsetSpec.latest);
    return [...latest.values()].reduce((sum, offset) => sum + offset, 0);
  }

  async function produce(topic: string, records: { key: string; value: string }[]): Promise<number[]> {
    const producer = new Producer(cluster, await admin.describeTopic(topic), { compression: 0, acks: -1 });
    const results = await producer.send(records.map(({ key, value }) => ({ key: Buffer.from(key), value: Buffer.from(value), headers: [] })));
    for (const result of results) assert.equal(result.error, null);
    return results.map((result) => result.partition);
  }

  async function taskState(worker: RunningConnect, name: string): Promise<{ state: string; trace?: string }> {
    return (await worker.herder.connectorStatus(name)).tasks[0] ?? { state: 'none' };
  }

  async function startConnector(name: string, config: Record<string, string>, worker = connect): Promise<void> {
    await worker.herder.putConnectorConfig(name, { name, ...config }, false);
    await waitFor(async () => (await taskState(worker, name)).state === 'RUNNING', `${name}'s task to run`);
  }

  async function failedTrace(name: string): Promise<string> {
    const task = await waitFor(async () => {
      const state = await taskState(connect, name);
      return state.state === 'FAILED' ? state : false;
    }, `${name}'s task to fail`, 15_000);
    return task.trace ?? '';
  }

  const values = (records: readonly ConsumedRecord[]) => records.map((record) => JSON.parse(record.value!.toString('utf8')) as Record<string, unknown>);

  it('source: polls pages by increasing id once and in order, follows new records, and resumes after a restart without repeats', async () => {
    const items = Array.from({ length: 25 }, (_, index) => ({ id: index + 1, name: `item ${index + 1}`, tags: ['a', 'ü'] }));
    const api = await testServer((request, response) => {
      if (request.url.pathname !== '/items') return json(response, 404, { error: 'no' });
      const since = Number(request.url.searchParams.get('since') ?? '0');
      const limit = Number(request.url.searchParams.get('limit') ?? '10');
      json(response, 200, { data: { items: items.filter((item) => item.id > since).slice(0, limit) } });
    });
    const topic = await createTopic();
    const offsets = join(dir.path, 'poll.offsets');
    const connector = {
      name: 'api-poll',
      'connector.class': 'HttpSource',
      topic,
      'http.url': `${api.url}/items?limit=10&since=\${offset}`,
      'http.headers': 'Authorization: Bearer s3cret, really|X-Client: conveyor-test',
      'http.response.records.path': '$.data.items',
      'http.offset.field': 'id',
      'http.offset.initial': '0',
      'http.record.key.field': '$.id',
      'http.poll.interval.ms': '150',
    };
    let worker: RunningConnect | undefined = await startConnect({ worker: workerConfig(offsets), connectors: [connector] });
    try {
      const first = await readTopic(topic, 25);
      assert.deepEqual(values(first), items, 'all three pages, each record once, in order');
      assert.deepEqual(first.map((record) => record.key?.toString()), items.map((item) => String(item.id)));
      assert.deepEqual(api.seen.slice(0, 4).map((request) => request.url.searchParams.get('since')), ['0', '10', '20', '25']);
      assert.equal(api.seen[0]!.headers.authorization, 'Bearer s3cret, really');
      assert.equal(api.seen[0]!.headers['x-client'], 'conveyor-test');

      items.push(...Array.from({ length: 5 }, (_, index) => ({ id: 26 + index, name: `late ${26 + index}`, tags: [] })));
      const second = await readTopic(topic, 30);
      assert.deepEqual(values(second), items);
      // The stored offset reaches the last id (offsets are flushed every 200 ms).
      await waitFor(async () => {
        const stored = await worker!.herder.connectorOffsets('api-poll');
        return JSON.stringify(stored) === JSON.stringify([{ partition: { url: connector['http.url'] }, offset: { offset: 30 } }]);
      }, 'the stored offset to be id 30');

      await worker.close();
      worker = undefined;
      items.push(...Array.from({ length: 5 }, (_, index) => ({ id: 31 + index, name: `while down ${31 + index}`, tags: [] })));
      const before = api.seen.length;
      worker = await startConnect({ worker: workerConfig(offsets), connectors: [connector] });
      const third = await readTopic(topic, 35);
      assert.equal(api.seen[before]!.url.searchParams.get('since'), '30', 'the restarted task asks after the last stored id');
      // Caught up (a request after id 35 was answered), then a few more polls: nothing repeated.
      await waitFor(() => api.seen.some((request) => request.url.searchParams.get('since') === '35'), 'a poll after id 35');
      await sleep(500);
      assert.equal(await topicSize(topic), 35, 'no record sent twice across the restart');
      assert.deepEqual(values(third), items);
    } finally {
      await worker?.close();
      await api.close();
    }
  });

  it('source: pages by cursor, and takes only the new records of a last page that grows', async () => {
    const pages: Record<string, { events: { event: string; n: number }[]; next: string | null }> = {
      '': { events: [{ event: 'e1', n: 1 }, { event: 'e2', n: 2 }], next: 'p2' },
      p2: { events: [{ event: 'e3', n: 3 }, { event: 'e4', n: 4 }], next: 'p3' },
      p3: { events: [{ event: 'e5', n: 5 }], next: null },
    };
    const api = await testServer((request, response) => {
      const page = pages[request.url.searchParams.get('cursor') ?? ''];
      if (page) json(response, 200, page);
      else json(response, 400, { error: 'bad cursor' });
    });
    const topic = await createTopic();
    try {
      await startConnector('api-cursor', {
        'connector.class': 'conveyor.connect.http.HttpSourceConnector',
        topic,
        'http.url': `${api.url}/feed`,
        'http.offset.param': 'cursor',
        'http.next.cursor.path': '$.next',
        'http.response.records.path': '$.events',
        'http.value.format': 'json',
        'value.converter': JSON_CONVERTER,
        'value.converter.schemas.enable': 'false',
        'http.poll.interval.ms': '100',
      });
      const first = await readTopic(topic, 5);
      assert.deepEqual(values(first), [...pages['']!.events, ...pages.p2!.events, ...pages.p3!.events]);
      assert.deepEqual(api.seen.slice(0, 3).map((request) => request.url.searchParams.get('cursor')), [null, 'p2', 'p3']);
      pages.p3!.events.push({ event: 'e6', n: 6 });
      const second = await readTopic(topic, 6);
      await sleep(400);
      assert.equal(await topicSize(topic), 6, 'the grown page sends only its new record');
      assert.deepEqual(values(second).map((value) => value.event), ['e1', 'e2', 'e3', 'e4', 'e5', 'e6']);
      await waitFor(async () => {
        const stored = await connect.herder.connectorOffsets('api-cursor');
        return JSON.stringify(stored[0]?.offset) === JSON.stringify({ cursor: 'p3', skip: 2 });
      }, 'the stored offset to be the last page and how much of it was sent');
    } finally {
      await connect.herder.deleteConnector('api-cursor').catch(() => undefined);
      await api.close();
    }
  });

  it('source: retries 500s and goes on; fails with the status and body once http.max.retries run out', async () => {
    let flaky = 0;
    const api = await testServer((request, response) => {
      if (request.url.pathname === '/flaky') {
        if (++flaky <= 2) return json(response, 500, 'try later');
        return json(response, 200, [{ id: 1 }, { id: 2 }].filter((item) => item.id > Number(request.url.searchParams.get('after') ?? 0)));
      }
      json(response, 500, 'database is down');
    });
    const flakyTopic = await createTopic();
    const common = { 'connector.class': 'HttpSourceConnector', 'http.offset.field': 'id', 'http.offset.param': 'after', 'http.retry.backoff.ms': '30', 'http.poll.interval.ms': '100' };
    try {
      await startConnector('api-flaky', { ...common, topic: flakyTopic, 'http.url': `${api.url}/flaky`, 'http.max.retries': '3' });
      assert.deepEqual(values(await readTopic(flakyTopic, 2)), [{ id: 1 }, { id: 2 }]);
      const flakyRequests = api.seen.filter((request) => request.url.pathname === '/flaky');
      assert.deepEqual(flakyRequests.slice(0, 3).map((request) => request.status), [500, 500, 200]);
      assert.equal((await taskState(connect, 'api-flaky')).state, 'RUNNING');

      await connect.herder.putConnectorConfig('api-down', { ...common, topic: await createTopic(), 'http.url': `${api.url}/down`, 'http.max.retries': '2' }, false);
      const trace = await failedTrace('api-down');
      assert.match(trace, /HTTP 500/);
      assert.match(trace, /database is down/);
      assert.match(trace, /http\.max\.retries=2/);
      await sleep(300);
      assert.equal(api.seen.filter((request) => request.url.pathname === '/down').length, 3, 'the first try and two retries');
    } finally {
      for (const name of ['api-flaky', 'api-down']) await connect.herder.deleteConnector(name).catch(() => undefined);
      await api.close();
    }
  });

  it('webhook: posts become records, answered 200 once Kafka has them; not JSON gets 400; a post waiting on stop gets 503', async () => {
    const port = await freePort();
    const topic = await createTopic();
    const hook = `http://127.0.0.1:${port}/events`;
    await startConnector('hooks', {
      'connector.class': 'HttpSource',
      topic,
      'webhook.listener': `http://127.0.0.1:${port}`,
      'webhook.path': '/events',
      'webhook.max.body.bytes': '2000',
      'http.record.key.field': 'id',
    });
    try {
      const one = await post(hook, JSON.stringify({ id: 'a', n: 1 }));
      assert.equal(one.status, 200, one.body);
      // Asked of the broker right after the 200: the record is there already.
      assert.equal(await topicSize(topic), 1);
      assert.deepEqual(JSON.parse(one.body), { records: 1, written: [{ partition: 0, offset: 0 }] });

      const many = await post(hook, JSON.stringify([{ id: 'b', n: 2 }, { id: 'c', n: 3 }]));
      assert.equal(many.status, 200, many.body);
      assert.equal(await topicSize(topic), 3);

      const notJson = await post(hook, '{"id": "x", oops');
      assert.equal(notJson.status, 400);
      assert.match(JSON.parse(notJson.body).error, /not JSON/);
      assert.equal((await post(`http://127.0.0.1:${port}/elsewhere`, '{}')).status, 404);
      assert.equal((await fetch(hook)).status, 405);
      assert.equal((await post(hook, JSON.stringify({ id: 'big', pad: 'x'.repeat(3000) }))).status, 413);

      // Twenty at once: each gets its 200 after its own record is stored.
      const parallel = await Promise.all(Array.from({ length: 20 }, (_, index) => post(hook, JSON.stringify({ id: `p${index}`, n: 100 + index }))));
      assert.deepEqual(parallel.map((answer) => answer.status), Array(20).fill(200));
      assert.equal(await topicSize(topic), 23, 'nothing from the refused posts');
      const records = await readTopic(topic, 23);
      assert.deepEqual(values(records.slice(0, 3)), [{ id: 'a', n: 1 }, { id: 'b', n: 2 }, { id: 'c', n: 3 }]);
      assert.deepEqual(new Set(records.map((record) => record.key!.toString())), new Set(['a', 'b', 'c', ...Array.from({ length: 20 }, (_, index) => `p${index}`)]));

      // Paused, the worker takes no records: a post waits for Kafka, and gets 503 when the task stops.
      await connect.herder.pauseConnector('hooks');
      await waitFor(async () => (await taskState(connect, 'hooks')).state === 'PAUSED', 'the task to pause');
      await sleep(300);
      let settled = false;
      const waiting = post(hook, JSON.stringify({ id: 'late' })).finally(() => {
        settled = true;
      });
      await sleep(500);
      assert.equal(settled, false, 'no answer before Kafka has the record');
      await connect.herder.deleteConnector('hooks');
      const refused = await waiting;
      assert.equal(refused.status, 503, refused.body);
      assert.equal(await topicSize(topic), 23);
    } finally {
      await connect.herder.deleteConnector('hooks').catch(() => undefined);
    }
  });

  it('sink: batches of at most batch.max.size, in order per partition, bodies equal to the values (strings and structs)', async () => {
    const endpoint = await testServer((_request, response) => json(response, 200, { ok: true }));
    const topic = await createTopic(2);
    const structTopic = await createTopic();
    try {
      await startConnector('http-sink', {
        'connector.class': 'HttpSink',
        topics: topic,
        'http.api.url': `${endpoint.url}/ingest`,
        'request.method': 'PUT',
        headers: 'Authorization: Bearer k|X-Source: conveyor',
        'batch.max.size': '3',
        'batch.json.as.array': 'true',
      });
      const produced = Array.from({ length: 20 }, (_, index) => ({ key: `k${index % 4}`, value: JSON.stringify({ id: index, key: `k${index % 4}`, text: 'ünï ✓' }) }));
      const partitions = await produce(topic, produced);
      assert.equal(new Set(partitions).size, 2, 'the records are spread over both partitions');
      const ingest = () => endpoint.seen.filter((request) => request.url.pathname === '/ingest');
      await waitFor(() => ingest().reduce((sum, request) => sum + (JSON.parse(request.body) as unknown[]).length, 0) >= 20, 'the endpoint to get 20 records');
      const bodies = ingest().map((request) => JSON.parse(request.body) as { id: number }[]);
      for (const body of bodies) assert.ok(Array.isArray(body) && body.length >= 1 && body.length <= 3, `a batch of 1 to 3: ${JSON.stringify(body)}`);
      const received = bodies.flat();
      assert.deepEqual([...received].sort((a, b) => a.id - b.id), produced.map((record) => JSON.parse(record.value)), 'every value once, as produced');
      for (const partition of [0, 1]) {
        const ids = received.filter((value) => partitions[value.id] === partition).map((value) => value.id);
        assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `partition ${partition} in order`);
      }
      const first = ingest()[0]!;
      assert.equal(first.method, 'PUT');
      assert.equal(first.headers.authorization, 'Bearer k');
      assert.equal(first.headers['x-source'], 'conveyor');
      assert.equal(first.headers['content-type'], 'application/json');

      // A struct (JsonConverter with schemas): one record per request, the body its fields.
      await startConnector('http-sink-struct', {
        'connector.class': 'HttpSinkConnector',
        topics: structTopic,
        'http.api.url': `${endpoint.url}/structs`,
        'value.converter': JSON_CONVERTER,
        'value.converter.schemas.enable': 'true',
      });
      const schema = { type: 'struct', optional: false, fields: [{ field: 'id', type: 'int64', optional: false }, { field: 'name', type: 'string', optional: true }, { field: 'at', type: 'int64', name: 'org.apache.kafka.connect.data.Timestamp', version: 1, optional: false }] };
      await produce(structTopic, [
        { key: 's1', value: JSON.stringify({ schema, payload: { id: 1, name: 'one', at: Date.UTC(2024, 4, 6) } }) },
        { key: 's2', value: JSON.stringify({ schema, payload: { id: 2, name: null, at: 0 } }) },
      ]);
      const structs = await waitFor(() => {
        const got = endpoint.seen.filter((request) => request.url.pathname === '/structs');
        return got.length >= 2 && got;
      }, 'the endpoint to get both structs');
      assert.equal(structs[0]!.method, 'POST');
      assert.deepEqual(structs.map((request) => JSON.parse(request.body)), [
        { id: 1, name: 'one', at: '2024-05-06T00:00:00.000Z' },
        { id: 2, name: null, at: '1970-01-01T00:00:00.000Z' },
      ]);
    } finally {
      for (const name of ['http-sink', 'http-sink-struct']) await connect.herder.deleteConnector(name).catch(() => undefined);
      await endpoint.close();
    }
  });

  it('sink: a 503 with Retry-After is retried once after the wait; retries that run out fail the task with the status', async () => {
    let answered = 0;
    const endpoint = await testServer((request, response) => {
      if (request.url.pathname === '/kaput') return json(response, 500, 'kaput: disk full');
      if (++answered === 1) return json(response, 503, 'busy', { 'Retry-After': '1' });
      json(response, 200, { ok: true });
    });
    const topic = await createTopic();
    try {
      await startConnector('http-sink-retry', {
        'connector.class': 'HttpSink',
        topics: topic,
        'http.api.url': `${endpoint.url}/in`,
        'batch.max.size': '10',
        'batch.json.as.array': 'true',
        'retry.backoff.ms': '10',
      });
      await produce(topic, [1, 2, 3].map((id) => ({ key: 'k', value: JSON.stringify({ id }) })));
      const delivered = () => endpoint.seen.filter((request) => request.url.pathname === '/in' && request.status === 200);
      await waitFor(() => delivered().flatMap((request) => JSON.parse(request.body) as unknown[]).length >= 3, 'the three records to be delivered');
      const [refused, retried] = endpoint.seen;
      assert.equal(refused!.status, 503);
      assert.equal(retried!.status, 200);
      assert.equal(retried!.body, refused!.body, 'the same batch again');
      assert.ok(retried!.at - refused!.at >= 900, `Retry-After: 1 honoured (waited ${retried!.at - refused!.at} ms, retry.backoff.ms=10)`);
      await sleep(500);
      const ids = delivered().flatMap((request) => (JSON.parse(request.body) as { id: number }[]).map((value) => value.id));
      assert.deepEqual(ids, [1, 2, 3], 'each record delivered once: the task retried within put, the runtime redelivered nothing');

      // Not startConnector: the task may be RUNNING only for a moment before it fails.
      await connect.herder.putConnectorConfig('http-sink-kaput', { 'connector.class': 'HttpSink', topics: topic, 'http.api.url': `${endpoint.url}/kaput`, 'max.retries': '2', 'retry.backoff.ms': '10' }, false);
      const trace = await failedTrace('http-sink-kaput');
      assert.match(trace, /HTTP 500 from POST http:\/\/127\.0\.0\.1:\d+\/kaput: kaput: disk full/);
      assert.match(trace, /max\.retries=2/);
      assert.equal(endpoint.seen.filter((request) => request.url.pathname === '/kaput').length, 3, 'the first try and two retries');
    } finally {
      for (const name of ['http-sink-retry', 'http-sink-kaput']) await connect.herder.deleteConnector(name).catch(() => undefined);
      await endpoint.close();
    }
  });

  it('sink: records the endpoint refuses (400) go to the dead letter queue with Connect\'s error headers; without tolerance the task fails', async () => {
    const endpoint = await testServer((request, response) => {
      const value = JSON.parse(request.body) as { bad?: boolean };
      if (value.bad) json(response, 400, { error: 'bad record' });
      else json(response, 200, { ok: true });
    });
    const topic = await createTopic();
    const dlq = uniqueTopic('http-dlq');
    try {
      await startConnector('http-sink-dlq', {
        'connector.class': 'HttpSink',
        topics: topic,
        'http.api.url': `${endpoint.url}/strict`,
        'errors.tolerance': 'all',
        'errors.deadletterqueue.topic.name': dlq,
        'errors.deadletterqueue.topic.replication.factor': '1',
        'errors.deadletterqueue.context.headers.enable': 'true',
      });
      const produced = [0, 1, 2, 3, 4, 5].map((id) => ({ key: `k${id}`, value: JSON.stringify(id === 1 || id === 4 ? { id, bad: true } : { id }) }));
      await produce(topic, produced);
      const dead = await readTopic(dlq, 2);
      await waitFor(() => endpoint.seen.filter((request) => request.status === 200).length >= 4, 'the good records to reach the endpoint');
      assert.deepEqual(endpoint.seen.filter((request) => request.status === 200).map((request) => JSON.parse(request.body)), [{ id: 0 }, { id: 2 }, { id: 3 }, { id: 5 }]);
      assert.deepEqual(dead.map((record) => record.value!.toString()), [produced[1]!.value, produced[4]!.value]);
      assert.deepEqual(dead.map((record) => record.key!.toString()), ['k1', 'k4']);
      const header = (record: ConsumedRecord, name: string) => record.headers.find((entry) => entry.key === `__connect.errors.${name}`)?.value?.toString();
      assert.equal(header(dead[0]!, 'topic'), topic);
      assert.equal(header(dead[0]!, 'offset'), '1');
      assert.equal(header(dead[1]!, 'offset'), '4');
      assert.equal(header(dead[0]!, 'stage'), 'TASK_PUT');
      assert.equal(header(dead[0]!, 'connector.name'), 'http-sink-dlq');
      assert.equal(header(dead[0]!, 'exception.class.name'), 'org.apache.kafka.connect.errors.ConnectException');
      assert.match(header(dead[0]!, 'exception.message') ?? '', /HTTP 400 from POST .*\/strict: \{"error":"bad record"\}/);
      assert.equal((await taskState(connect, 'http-sink-dlq')).state, 'RUNNING');

      await connect.herder.putConnectorConfig('http-sink-strict', { 'connector.class': 'HttpSink', topics: topic, 'http.api.url': `${endpoint.url}/strict` }, false);
      const trace = await failedTrace('http-sink-strict');
      assert.match(trace, /HTTP 400 from POST .*\/strict: \{"error":"bad record"\}/);
    } finally {
      for (const name of ['http-sink-dlq', 'http-sink-strict']) await connect.herder.deleteConnector(name).catch(() => undefined);
      await endpoint.close();
    }
  });

  it('bad configs are refused with errors naming the key, in /config/validate and on create', async () => {
    const validate = async (plugin: string, config: Record<string, string>) => {
      const response = await fetch(`${connect.url}/connector-plugins/${plugin}/config/validate`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'v', ...config }) });
      assert.equal(response.status, 200);
      const infos = await response.json() as { error_count: number; configs: { value: { name: string; errors: string[] } }[] };
      return new Map(infos.configs.filter((entry) => entry.value.errors.length > 0).map((entry) => [entry.value.name, entry.value.errors.join(' ')]));
    };
    const source = { 'connector.class': 'HttpSourceConnector', topic: 't' };
    assert.deepEqual([...(await validate('HttpSourceConnector', { ...source, 'http.url': 'http://api.example/x' })).keys()], []);
    assert.match((await validate('HttpSourceConnector', source)).get('http.url') ?? '', /Missing required configuration "http\.url".*webhook\.listener/);
    assert.match((await validate('HttpSourceConnector', { ...source, 'http.url': 'api.example/x' })).get('http.url') ?? '', /Invalid value api\.example\/x for configuration http\.url: not a valid URL/);
    assert.match((await validate('HttpSourceConnector', { ...source, 'http.url': 'http://a/', 'http.poll.interval.ms': '-5' })).get('http.poll.interval.ms') ?? '', /Invalid value -5 for configuration http\.poll\.interval\.ms: Value must be at least 1/);
    assert.match((await validate('HttpSourceConnector', { ...source, 'http.url': 'http://a/', 'http.offset.field': 'id' })).get('http.offset.param') ?? '', /\$\{offset\} in http\.url or name the query parameter in http\.offset\.param/);
    assert.match((await validate('HttpSourceConnector', { ...source, 'webhook.listener': 'http://127.0.0.1:0' })).get('webhook.listener') ?? '', /fixed port/);
    assert.match((await validate('HttpSourceConnector', { ...source, 'http.url': 'http://a/', 'http.response.records.path': '$.items[*]' })).get('http.response.records.path') ?? '', /only array indexes/);
    const sink = { 'connector.class': 'HttpSinkConnector', topics: 't' };
    assert.match((await validate('HttpSinkConnector', sink)).get('http.api.url') ?? '', /Missing required configuration "http\.api\.url"/);
    assert.match((await validate('HttpSinkConnector', { ...sink, 'http.api.url': 'ftp://files.example/' })).get('http.api.url') ?? '', /must start with http:\/\/ or https:\/\//);
    assert.match((await validate('HttpSinkConnector', { ...sink, 'http.api.url': 'http://a/', 'retry.backoff.ms': '-1' })).get('retry.backoff.ms') ?? '', /Value must be at least 0/);

    await assert.rejects(connect.herder.putConnectorConfig('bad-source', { name: 'bad-source', ...source, 'http.url': 'not a url' }, false), (error: unknown) => {
      assert.ok(error instanceof ConnectRestError);
      assert.equal(error.status, 400);
      assert.match(error.message, /for configuration http\.url: not a valid URL/);
      return true;
    });
    await assert.rejects(connect.herder.putConnectorConfig('bad-sink', { name: 'bad-sink', ...sink }, false), /Missing required configuration "http\.api\.url"/);
    assert.ok(!connect.herder.connectors().includes('bad-source') && !connect.herder.connectors().includes('bad-sink'));
  });
});
