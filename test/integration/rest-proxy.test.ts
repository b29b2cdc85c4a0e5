// The HTTP API (src/admin/rest-proxy) on a fastify app over real HTTP, against a broker over real
// TCP: resources in Confluent REST Proxy v3's shapes, produce through the API read back with
// kafkajs and the reverse, streaming produce, the long-poll consume (waits out its timeout when
// empty, answers at once when records exist), the server-sent event stream (a record produced
// after it opened arrives; its Kafka connection closes when the HTTP client goes away), group lags
// of a group kafkajs committed, and errors with Confluent's shape.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import { type RestProxy, registerRestProxy } from '../../src/admin/rest-proxy/index.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { waitFor } from '../support/wait.js';

interface Json {
  [key: string]: any;
}

describe('HTTP API (Confluent REST Proxy v3)', { timeout: 60_000 }, () => {
  let broker: RunningBroker;
  let app: FastifyInstance;
  let proxy: RestProxy;
  let base: string;
  let cluster: string;
  let kafka: Kafka;

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json; text: string }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: Json = {};
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      // streaming answers are several objects
    }
    return { status: response.status, json, text };
  };
  const brokerConnections = () => (broker.broker as unknown as { socketServer: { connectionCount(): number } }).socketServer.connectionCount();

  before(async () => {
    broker = await startBroker({ storage: 'memory', config: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '1' } });
    app = Fastify({ logger: false });
    proxy = await registerRestProxy(app, { clientConfig: new Map([['bootstrap.servers', broker.bootstrapServers]]) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
    kafka = new Kafka({ clientId: 'rest-proxy-test', brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  });
  after(async () => {
    await proxy?.close();
    await app?.close();
    await broker?.close();
  });

  it('lists the cluster and its broker, with links', async () => {
    const clusters = await call('GET', '/v3/clusters');
    assert.equal(clusters.status, 200);
    assert.equal(clusters.json.kind, 'KafkaClusterList');
    assert.equal(clusters.json.data.length, 1);
    cluster = clusters.json.data[0].cluster_id;
    assert.equal(cluster, broker.clusterId);
    const one = await call('GET', `/v3/clusters/${cluster}`);
    assert.equal(one.json.kind, 'KafkaCluster');
    assert.equal(one.json.metadata.self, `${base}/v3/clusters/${cluster}`);
    assert.equal(one.json.controller.related, `${base}/v3/clusters/${cluster}/brokers/${broker.nodeId}`);
    const brokers = await call('GET', `/v3/clusters/${cluster}/brokers`);
    assert.deepEqual(brokers.json.data.map((entry: Json) => [entry.kind, entry.broker_id, entry.port]), [['KafkaBroker', broker.nodeId, broker.port]]);
    const configs = await call('GET', `/v3/clusters/${cluster}/brokers/${broker.nodeId}/configs`);
    assert.equal(configs.json.kind, 'KafkaBrokerConfigList');
    const partitions = configs.json.data.find((entry: Json) => entry.name === 'num.partitions');
    assert.equal(partitions.value, '1');
    assert.equal(partitions.broker_id, broker.nodeId);
  });

  it('answers 404 in Confluent\'s shape for an unknown cluster, topic, partition, broker and group', async () => {
    const unknownCluster = await call('GET', '/v3/clusters/no-such-cluster/topics');
    assert.equal(unknownCluster.status, 404);
    assert.deepEqual(Object.keys(unknownCluster.json).sort(), ['error_code', 'message']);
    assert.equal(unknownCluster.json.error_code, 404);
    const topic = await call('GET', `/v3/clusters/${cluster}/topics/no-such-topic`);
    assert.equal(topic.status, 404);
    assert.equal(topic.json.error_code, 40403);
    assert.match(topic.json.message, /UNKNOWN_TOPIC_OR_PARTITION/);
    assert.equal((await call('GET', `/v3/clusters/${cluster}/topics/no-such-topic/configs`)).status, 404);
    assert.equal((await call('POST', `/v3/clusters/${cluster}/topics/no-such-topic/records`, { value: { type: 'STRING', data: 'x' } })).status, 404);
    assert.equal((await call('GET', `/v3/clusters/${cluster}/brokers/4242`)).status, 404);
    const group = await call('GET', `/v3/clusters/${cluster}/consumer-groups/no-such-group`);
    assert.equal(group.status, 404);
    assert.equal(group.json.error_code, 404);
  });

  it('creates a topic, describes it, its partitions and configs, alters configs, refuses bad input, deletes it', async () => {
    const created = await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'http-orders', partitions_count: 3, replication_factor: 1, configs: [{ name: 'cleanup.policy', value: 'compact' }] });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.kind, 'KafkaTopic');
    assert.equal(created.json.partitions_count, 3);
    assert.equal(created.json.replication_factor, 1);
    assert.equal(created.json.is_internal, false);
    const again = await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'http-orders', partitions_count: 1 });
    assert.equal(again.status, 400);
    assert.match(again.json.message, /TOPIC_ALREADY_EXISTS/);
    const validated = await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'http-dry', partitions_count: 2, validate_only: true });
    assert.equal(validated.status, 201);
    assert.equal((await call('GET', `/v3/clusters/${cluster}/topics/http-dry`)).status, 404, 'validate_only creates nothing');
    assert.equal((await call('POST', `/v3/clusters/${cluster}/topics`, { partitions_count: 1 })).status, 422);
    const badJson = await call('POST', `/v3/clusters/${cluster}/topics`, '{"topic_name": ');
    assert.equal(badJson.status, 400);
    assert.equal(badJson.json.error_code, 400);

    const listed = await call('GET', `/v3/clusters/${cluster}/topics`);
    assert.equal(listed.json.kind, 'KafkaTopicList');
    assert.ok(listed.json.data.some((topic: Json) => topic.topic_name === 'http-orders'));
    const partitions = await call('GET', `/v3/clusters/${cluster}/topics/http-orders/partitions`);
    assert.deepEqual(partitions.json.data.map((partition: Json) => [partition.partition_id, partition.leader_id, partition.isr_ids, partition.earliest_offset, partition.latest_offset]), [0, 1, 2].map((id) => [id, broker.nodeId, [broker.nodeId], 0, 0]));
    assert.equal(partitions.json.data[0].leader.related, `${base}/v3/clusters/${cluster}/topics/http-orders/partitions/0/replicas/${broker.nodeId}`);
    assert.equal((await call('GET', `/v3/clusters/${cluster}/topics/http-orders/partitions/7`)).status, 404);
    const replica = await call('GET', `/v3/clusters/${cluster}/topics/http-orders/partitions/0/replicas/${broker.nodeId}`);
    assert.equal(replica.json.is_leader, true);

    const policy = await call('GET', `/v3/clusters/${cluster}/topics/http-orders/configs/cleanup.policy`);
    assert.equal(policy.json.kind, 'KafkaTopicConfig');
    assert.equal(policy.json.value, 'compact');
    assert.equal(policy.json.source, 'DYNAMIC_TOPIC_CONFIG');
    assert.equal((await call('PUT', `/v3/clusters/${cluster}/topics/http-orders/configs/retention.ms`, { value: '3600000' })).status, 204);
    assert.equal((await call('POST', `/v3/clusters/${cluster}/topics/http-orders/configs:alter`, { data: [{ name: 'cleanup.policy', operation: 'DELETE' }, { name: 'max.message.bytes', value: '200000' }] })).status, 204);
    const configs = await call('GET', `/v3/clusters/${cluster}/topics/http-orders/configs`);
    const value = (name: string) => configs.json.data.find((entry: Json) => entry.name === name);
    assert.equal(value('retention.ms').value, '3600000');
    assert.equal(value('max.message.bytes').value, '200000');
    assert.equal(value('cleanup.policy').value, 'delete');
    assert.equal(value('cleanup.policy').is_default, true);
    assert.equal((await call('DELETE', `/v3/clusters/${cluster}/topics/http-orders/configs/retention.ms`)).status, 204);
    assert.equal((await call('PUT', `/v3/clusters/${cluster}/topics/http-orders/configs/retention.ms`, { value: 'soon' })).status, 400);

    assert.equal((await call('DELETE', `/v3/clusters/${cluster}/topics/http-orders`)).status, 204);
    await waitFor('the topic to be gone', async () => ((await call('GET', `/v3/clusters/${cluster}/topics/http-orders`)).status === 404 ? true : undefined));
  });

  it('produces JSON, STRING and BINARY records with headers that kafkajs reads back', async () => {
    assert.equal((await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'http-in', partitions_count: 2 })).status, 201);
    const produced = await call('POST', `/v3/clusters/${cluster}/topics/http-in/records`, {
      partition_id: 1,
      headers: [{ name: 'trace', value: Buffer.from('t-1').toString('base64') }],
      key: { type: 'STRING', data: 'order-1' },
      value: { type: 'JSON', data: { amount: 12.5, items: ['a'] } },
      timestamp: '2026-01-02T03:04:05.000Z',
    });
    assert.equal(produced.status, 200, produced.text);
    assert.deepEqual(produced.json, {
      error_code: 200,
      cluster_id: cluster,
      topic_name: 'http-in',
      partition_id: 1,
      offset: 0,
      timestamp: '2026-01-02T03:04:05.000Z',
      key: { type: 'STRING', size: 7 },
      value: { type: 'JSON', size: JSON.stringify({ amount: 12.5, items: ['a'] }).length },
    });
    const binary = await call('POST', `/v3/clusters/${cluster}/topics/http-in/records`, { partition_id: 1, value: { type: 'BINARY', data: Buffer.from([0xff, 0x00, 0x7f]).toString('base64') } });
    assert.equal(binary.json.offset, 1);

    const consumer = kafka.consumer({ groupId: 'http-in-reader' });
    const seen: { partition: number; key: string | null; value: Buffer | null; headers: Record<string, unknown>; timestamp: string }[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: 'http-in', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => {
        seen.push({ partition, key: message.key?.toString() ?? null, value: message.value, headers: message.headers ?? {}, timestamp: message.timestamp });
      } });
      await waitFor('kafkajs to read both records', () => (seen.length >= 2 ? true : undefined));
    } finally {
      await consumer.disconnect();
    }
    assert.equal(seen[0]!.partition, 1);
    assert.equal(seen[0]!.key, 'order-1');
    assert.deepEqual(JSON.parse(seen[0]!.value!.toString()), { amount: 12.5, items: ['a'] });
    assert.equal(String(seen[0]!.headers.trace), 't-1');
    assert.equal(seen[0]!.timestamp, String(Date.parse('2026-01-02T03:04:05.000Z')));
    assert.deepEqual([...seen[1]!.value!], [0xff, 0x00, 0x7f]);
  });

  it('refuses bad produce requests with 4xx and Confluent\'s error shape', async () => {
    const badType = await call('POST', `/v3/clusters/${cluster}/topics/http-in/records`, { value: { type: 'AVRO', data: 'x' } });
    assert.equal(badType.status, 422);
    assert.equal(badType.json.error_code, 422);
    const badPartition = await call('POST', `/v3/clusters/${cluster}/topics/http-in/records`, { partition_id: 9, value: { type: 'STRING', data: 'x' } });
    assert.equal(badPartition.status, 404);
    const notJson = await call('POST', `/v3/clusters/${cluster}/topics/http-in/records`, '{"value": nope}');
    assert.equal(notJson.status, 400);
    assert.equal(typeof notJson.json.message, 'string');
    // What a cross-site form can send without the browser asking first: refused, nothing written.
    const formPost = await call('POST', `/v3/clusters/${cluster}/topics/http-in/records`, JSON.stringify({ value: { type: 'STRING', data: 'from a form' } }), { 'content-type': 'text/plain' });
    assert.equal(formPost.status, 415);
    assert.equal(formPost.json.error_code, 415);
  });

  it('streams several produce requests in one body, one answer per record in order', async () => {
    const body = [0, 1, 2].map((index) => JSON.stringify({ partition_id: 0, value: { type: 'STRING', data: `s-${index}` } })).join('') + JSON.stringify({ value: { type: 'NOPE' } }) + JSON.stringify({ partition_id: 0, value: { type: 'STRING', data: 's-3' } });
    const response = await call('POST', `/v3/clusters/${cluster}/topics/http-in/records`, body);
    assert.equal(response.status, 200);
    const answers = response.text.trim().split('\n').map((line) => JSON.parse(line) as Json);
    assert.deepEqual(answers.map((answer) => [answer.error_code, answer.offset]), [[200, 0], [200, 1], [200, 2], [422, undefined], [200, 3]]);
    // More records than one Producer.send takes (500): every one answered, in order.
    const many = Array.from({ length: 1_200 }, (_, index) => JSON.stringify({ partition_id: 1, key: { type: 'STRING', data: `k${index}` }, value: { type: 'JSON', data: { index } } })).join('\n');
    const bulk = await call('POST', `/v3/clusters/${cluster}/topics/http-in/records`, many);
    const offsets = bulk.text.trim().split('\n').map((line) => (JSON.parse(line) as Json).offset);
    assert.deepEqual(offsets, Array.from({ length: 1_200 }, (_, index) => 2 + index));
    const last = await call('GET', `/v3/clusters/${cluster}/topics/http-in/partitions/1/records?offset=1201&max_records=1`);
    assert.deepEqual(last.json.data[0].value.data, { index: 1_199 });
  });

  it('long-poll consume waits out its timeout when there is nothing, and answers at once when there is', async () => {
    const started = Date.now();
    const empty = await call('GET', `/v3/clusters/${cluster}/topics/http-in/partitions/0/records?offset=4&timeout_ms=400`);
    const waited = Date.now() - started;
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(empty.json.data, []);
    assert.equal(empty.json.next_offset, 4);
    assert.ok(waited >= 380 && waited < 3_000, `waited ${waited} ms`);

    // The identity's other requests do not wait behind a long poll (it fetches on a connection of its own).
    const polling = call('GET', `/v3/clusters/${cluster}/topics/http-in/partitions/0/records?offset=4&timeout_ms=1500`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const meanwhile = Date.now();
    assert.equal((await call('GET', `/v3/clusters/${cluster}/topics/http-in`)).status, 200);
    assert.ok(Date.now() - meanwhile < 800, `a request during a long poll took ${Date.now() - meanwhile} ms`);
    assert.deepEqual((await polling).json.data, []);

    const quick = Date.now();
    const some = await call('GET', `/v3/clusters/${cluster}/topics/http-in/partitions/0/records?offset=1&max_records=2&timeout_ms=10000`);
    assert.ok(Date.now() - quick < 2_000, 'records there are returned without waiting for the timeout');
    assert.deepEqual(some.json.data.map((record: Json) => [record.offset, record.value]), [[1, { type: 'STRING', data: 's-1' }], [2, { type: 'STRING', data: 's-2' }]]);
    assert.equal(some.json.next_offset, 3);

    const typed = await call('GET', `/v3/clusters/${cluster}/topics/http-in/partitions/1/records?timestamp=0&max_records=2`);
    assert.deepEqual(typed.json.data.map((record: Json) => record.value.type), ['JSON', 'BINARY']);
    assert.deepEqual(typed.json.data[0].value.data, { amount: 12.5, items: ['a'] });
    assert.equal(typed.json.data[0].key.data, 'order-1');
    assert.deepEqual(typed.json.data[0].headers, [{ name: 'trace', value: Buffer.from('t-1').toString('base64') }]);
    assert.equal(typed.json.data[1].value.data, Buffer.from([0xff, 0x00, 0x7f]).toString('base64'));

    // A record arriving during the wait ends it early: kafkajs produces while the poll waits.
    const producer = kafka.producer();
    await producer.connect();
    try {
      const waiting = call('GET', `/v3/clusters/${cluster}/topics/http-in/partitions/0/records?offset=4&timeout_ms=10000`);
      const begun = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await producer.send({ topic: 'http-in', messages: [{ partition: 0, value: 'from kafkajs' }] });
      const arrived = await waiting;
      assert.ok(Date.now() - begun < 5_000);
      assert.deepEqual(arrived.json.data.map((record: Json) => [record.offset, record.value]), [[4, { type: 'STRING', data: 'from kafkajs' }]]);
    } finally {
      await producer.disconnect();
    }
    assert.equal((await call('GET', `/v3/clusters/${cluster}/topics/http-in/partitions/0/records?max_records=0`)).status, 400);
    assert.equal((await call('GET', `/v3/clusters/${cluster}/topics/http-in/partitions/0/records?offset=99`)).status, 400);
  });

  it('streams records as server-sent events and closes its Kafka connection when the client goes away', async () => {
    // The long polls' connections close as their polls end: count once the number holds still.
    let seen = -1;
    const before = await waitFor('the broker\'s connections to settle', async () => {
      const now = brokerConnections();
      const settled = now === seen ? now : undefined;
      seen = now;
      await new Promise((resolve) => setTimeout(resolve, 200));
      return settled;
    });
    const controller = new AbortController();
    const response = await fetch(`${base}/v3/clusters/${cluster}/topics/http-in/records:stream?from=end`, { signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    await waitFor('the stream\'s consumer', () => (proxy.openStreams() === 1 && brokerConnections() === before + 1 ? true : undefined));
    const reader = response.body!.getReader();
    let text = '';
    const received = (async () => {
      while (!text.includes('event: record')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
    })();
    await call('POST', `/v3/clusters/${cluster}/topics/http-in/records`, { partition_id: 1, key: { type: 'STRING', data: 'live' }, value: { type: 'JSON', data: { n: 1 } } });
    await Promise.race([received, new Promise((_, reject) => setTimeout(() => reject(new Error(`no record event: ${text}`)), 10_000))]);
    const data = JSON.parse(/event: record\ndata: (.*)\n/.exec(text)![1]!);
    assert.deepEqual([data.partition_id, data.key, data.value], [1, { type: 'STRING', data: 'live' }, { type: 'JSON', data: { n: 1 } }]);
    controller.abort();
    await waitFor('the stream\'s Kafka connection to close', () => (proxy.openStreams() === 0 && brokerConnections() === before ? true : undefined), 10_000);
  });

  it('mounts under a prefix next to the app\'s own JSON routes, answers unknown /v3 paths in its shape, and lets the app close with a stream open', async () => {
    const other = Fastify({ logger: false });
    other.post('/echo', async (request) => ({ echoed: request.body }));
    const mounted = await registerRestProxy(other, { clientConfig: new Map([['bootstrap.servers', broker.bootstrapServers]]), prefix: '/api/' });
    await other.listen({ port: 0, host: '127.0.0.1' });
    const otherBase = `http://127.0.0.1:${(other.server.address() as { port: number }).port}`;
    try {
      const echoed = await fetch(`${otherBase}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      assert.deepEqual(await echoed.json(), { echoed: { a: 1 } }, 'the app\'s own routes keep fastify\'s JSON parsing');
      const topic = (await (await fetch(`${otherBase}/api/v3/clusters/${cluster}/topics/http-in`)).json()) as Json;
      assert.equal(topic.metadata.self, `${otherBase}/api/v3/clusters/${cluster}/topics/http-in`);
      const unknown = await fetch(`${otherBase}/api/v3/clusters/${cluster}/nothing-here`);
      assert.equal(unknown.status, 404);
      assert.deepEqual(Object.keys((await unknown.json()) as Json).sort(), ['error_code', 'message']);
      const stream = await fetch(`${otherBase}/api/v3/clusters/${cluster}/topics/http-in/records:stream`);
      assert.equal(stream.status, 200);
      await waitFor('the stream to open', () => (mounted.openStreams() === 1 ? true : undefined));
      const closing = Date.now();
      await other.close();
      assert.ok(Date.now() - closing < 5_000, 'the open stream did not hold the close up');
      assert.equal(mounted.openStreams(), 0);
      await stream.body?.cancel().catch(() => undefined);
    } finally {
      await other.close();
    }
  });

  it('describes a group kafkajs committed: consumers, state, lags and lag summary', async () => {
    assert.equal((await call('POST', `/v3/clusters/${cluster}/topics`, { topic_name: 'http-lag', partitions_count: 1 })).status, 201);
    for (let index = 0; index < 5; index++) await call('POST', `/v3/clusters/${cluster}/topics/http-lag/records`, { value: { type: 'STRING', data: `v${index}` } });
    const consumer = kafka.consumer({ groupId: 'lag-group' });
    let count = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: 'http-lag', fromBeginning: true });
      await consumer.run({ autoCommitThreshold: 1, eachMessage: async () => {
        count++;
      } });
      await waitFor('kafkajs to read 5 records', () => (count >= 5 ? true : undefined));
      const group = await call('GET', `/v3/clusters/${cluster}/consumer-groups/lag-group`);
      assert.equal(group.json.kind, 'KafkaConsumerGroup');
      assert.equal(group.json.state, 'STABLE');
      assert.equal(group.json.partition_assignor, 'RoundRobinAssigner');
      assert.equal(group.json.coordinator.related, `${base}/v3/clusters/${cluster}/brokers/${broker.nodeId}`);
      const consumers = await call('GET', `/v3/clusters/${cluster}/consumer-groups/lag-group/consumers`);
      assert.equal(consumers.json.data.length, 1);
      assert.deepEqual(consumers.json.data[0].assigned_partitions, [{ topic_name: 'http-lag', partition_id: 0 }]);
      const assignments = await call('GET', `/v3/clusters/${cluster}/consumer-groups/lag-group/consumers/${encodeURIComponent(consumers.json.data[0].consumer_id)}/assignments`);
      assert.deepEqual(assignments.json.data.map((entry: Json) => [entry.kind, entry.topic_name, entry.partition_id]), [['KafkaConsumerAssignment', 'http-lag', 0]]);
      await waitFor('the commit of offset 5', async () => ((await call('GET', `/v3/clusters/${cluster}/consumer-groups/lag-group/lags`)).json.data?.[0]?.current_offset === 5 ? true : undefined));
    } finally {
      await consumer.disconnect();
    }
    for (let index = 5; index < 7; index++) await call('POST', `/v3/clusters/${cluster}/topics/http-lag/records`, { value: { type: 'STRING', data: `v${index}` } });
    const lags = await call('GET', `/v3/clusters/${cluster}/consumer-groups/lag-group/lags`);
    assert.deepEqual(lags.json.data.map((lag: Json) => [lag.kind, lag.topic_name, lag.partition_id, lag.current_offset, lag.log_end_offset, lag.lag]), [['KafkaConsumerLag', 'http-lag', 0, 5, 7, 2]]);
    const summary = await call('GET', `/v3/clusters/${cluster}/consumer-groups/lag-group/lag-summary`);
    assert.deepEqual([summary.json.max_lag, summary.json.total_lag, summary.json.max_lag_topic_name], [2, 2, 'http-lag']);
    const groups = await call('GET', `/v3/clusters/${cluster}/consumer-groups`);
    const listed = groups.json.data.find((group: Json) => group.consumer_group_id === 'lag-group');
    assert.equal(listed.state, 'EMPTY');
  });
});
