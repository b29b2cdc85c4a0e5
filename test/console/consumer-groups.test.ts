// KIP-848 consumer groups in the HTTP API (Confluent REST Proxy v3 routes over real HTTP) and the
// web console (headless Chromium), against a live broker: a real @platformatic/kafka consumer with
// group.protocol=consumer reads three partitions and commits only its first two records of
// partitions 0 and 1; a classic group (kafkajs's setOffsets) sits beside it. Both tools must list
// the two with their types and show the consumer group's state, assignor, epochs, member,
// assignments and lag.
import '../support/polyfills.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import { type RestProxy, registerRestProxy } from '../../src/admin/rest-proxy/index.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { chromiumUnavailable, launchBrowser, screenshot } from '../support/browser.js';
import { kafkajsClient } from '../support/kafkajs.js';
import { waitFor } from '../support/wait.js';

interface Json {
  [key: string]: any;
}

const TOPIC = 'kip848-topic';
const GROUP = 'kip848-group';
const CLASSIC = 'classic-group';

describe('KIP-848 consumer groups in the HTTP API and the console', { timeout: 90_000 }, () => {
  let broker: RunningBroker;
  let app: FastifyInstance;
  let proxy: RestProxy;
  let base: string;
  let cluster: string;
  let kafka: Kafka;
  let consumer: { close(): Promise<void> } | undefined;
  let closeStream: () => Promise<void> = async () => {};

  const call = async (path: string): Promise<Json> => {
    const response = await fetch(`${base}/v3/clusters/${cluster}${path}`);
    assert.equal(response.status, 200, `GET ${path}: ${response.status}`);
    return (await response.json()) as Json;
  };

  before(async () => {
    broker = await startBroker({
      port: 0,
      storage: 'memory',
      config: {
        'console.listeners': 'http://127.0.0.1:0',
        'offsets.topic.num.partitions': 1,
        'group.initial.rebalance.delay.ms': 0,
        'group.consumer.min.heartbeat.interval.ms': 200,
        'group.consumer.heartbeat.interval.ms': 500,
      },
    });
    cluster = broker.clusterId;
    app = Fastify({ logger: false });
    proxy = await registerRestProxy(app, { clientConfig: new Map([['bootstrap.servers', broker.bootstrapServers]]) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

    kafka = kafkajsClient(broker.bootstrapServers, 'kip848-test');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }] });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: TOPIC, messages: Array.from({ length: 9 }, (_, index) => ({ partition: index % 3, value: String(index) })) });
      await producer.disconnect();
      await admin.setOffsets({ groupId: CLASSIC, topic: TOPIC, partitions: [{ partition: 0, offset: '1' }] });
    } finally {
      await admin.disconnect();
    }

    const kip848 = new Consumer({ clientId: 'kip848-client', groupId: GROUP, bootstrapBrokers: [broker.bootstrapServers], groupProtocol: 'consumer', deserializers: stringDeserializers });
    consumer = kip848;
    let read = 0;
    const stream = await kip848.consume({ topics: [TOPIC], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
    closeStream = () => stream.close();
    stream.on('data', (message) => {
      read++;
      // Partitions 0 and 1 committed at 2 (lag 1 each), partition 2 never.
      if (message.partition !== 2 && message.offset < 2n) void message.commit();
    });
    await waitFor('the consumer to read 9 records', () => (read === 9 ? true : undefined), 30_000);
    const reader = kafka.admin();
    await reader.connect();
    try {
      await waitFor('the commits of partitions 0 and 1', async () => {
        const offsets = await reader.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }).catch(() => undefined);
        const committed = offsets?.[0]?.partitions.filter((entry) => entry.offset === '2').length;
        return committed === 2 ? true : undefined;
      }, 15_000);
    } finally {
      await reader.disconnect();
    }
  });

  after(async () => {
    await closeStream().catch(() => {});
    await consumer?.close().catch(() => {});
    await proxy?.close();
    await app?.close();
    await broker?.close();
  });

  it('HTTP API: lists both kinds with their type, describes the consumer group, its consumer, assignments, lags and lag summary', async () => {
    const groups = await call('/consumer-groups');
    const listed = groups.data.map((group: Json) => [group.consumer_group_id, group.type, group.state, group.is_simple, group.partition_assignor]);
    assert.deepEqual(listed, [
      [CLASSIC, 'CLASSIC', 'EMPTY', false, ''],
      [GROUP, 'CONSUMER', 'STABLE', false, 'uniform'],
    ]);

    const group = await call(`/consumer-groups/${GROUP}`);
    assert.equal(group.kind, 'KafkaConsumerGroup');
    assert.deepEqual([group.type, group.state, group.partition_assignor, group.is_mixed_consumer_group], ['CONSUMER', 'STABLE', 'uniform', false]);
    assert.equal(group.coordinator.related, `${base}/v3/clusters/${cluster}/brokers/${broker.nodeId}`);

    const consumers = await call(`/consumer-groups/${GROUP}/consumers`);
    assert.equal(consumers.data.length, 1);
    const member = consumers.data[0];
    assert.equal(member.client_id, 'kip848-client');
    assert.deepEqual(member.assigned_partitions, [0, 1, 2].map((partition) => ({ topic_name: TOPIC, partition_id: partition })));
    const one = await call(`/consumer-groups/${GROUP}/consumers/${encodeURIComponent(member.consumer_id)}`);
    assert.equal(one.consumer_id, member.consumer_id);
    const assignments = await call(`/consumer-groups/${GROUP}/consumers/${encodeURIComponent(member.consumer_id)}/assignments`);
    assert.deepEqual(assignments.data.map((entry: Json) => [entry.topic_name, entry.partition_id]), [[TOPIC, 0], [TOPIC, 1], [TOPIC, 2]]);

    const lags = await call(`/consumer-groups/${GROUP}/lags`);
    assert.deepEqual(
      lags.data.map((lag: Json) => [lag.partition_id, lag.current_offset, lag.log_end_offset, lag.lag, lag.consumer_id]),
      [
        [0, 2, 3, 1, member.consumer_id],
        [1, 2, 3, 1, member.consumer_id],
        // Never committed: the whole partition is lag (the REST proxy's rule).
        [2, -1, 3, 3, member.consumer_id],
      ],
    );
    const summary = await call(`/consumer-groups/${GROUP}/lag-summary`);
    assert.deepEqual([summary.total_lag, summary.max_lag, summary.max_lag_partition_id, summary.max_lag_consumer_id], [5, 3, 2, member.consumer_id]);
  });

  it('console: the groups list shows each type; the group page shows state, epochs, assignor, the member and lags', { skip: chromiumUnavailable() }, async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${broker.consoleUrls[0]!}#/groups`);
      await page.locator('#groups-table a', { hasText: GROUP }).waitFor();
      const rows = await page.locator('#groups-table tbody tr').allTextContents();
      assert.deepEqual(rows, [`${CLASSIC}classicEmptyconsumer`, `${GROUP}consumerStableconsumer`]);

      await page.click(`#groups-table a:has-text("${GROUP}")`);
      await page.locator('#group-epoch').waitFor();
      assert.equal(await page.locator('#group-type').textContent(), 'consumer');
      assert.equal(await page.locator('#group-state').textContent(), 'Stable');
      assert.equal(await page.locator('#group-epoch').textContent(), '1');
      assert.equal(await page.locator('#assignment-epoch').textContent(), '1');
      assert.equal(await page.locator('#group-assignor').textContent(), 'uniform');
      assert.equal(await page.locator('#total-lag').textContent(), '2');
      const headers = await page.locator('#members-table th').allTextContents();
      assert.deepEqual(headers, ['Member', 'Epoch', 'Client id', 'Host', 'Instance id', 'Subscription', 'Assignment', 'Target assignment']);
      const cells = await page.locator('#members-table tbody tr td').allTextContents();
      assert.equal(cells.length, 8);
      assert.deepEqual([cells[1], cells[2], cells[5], cells[6], cells[7]], ['1', 'kip848-client', TOPIC, `${TOPIC}: 0, 1, 2`, `${TOPIC}: 0, 1, 2`]);
      // The console lists committed partitions: committed, end, lag, owner.
      const lagRows = await page.locator('#lag-table tbody tr').allTextContents();
      assert.deepEqual(lagRows, [`${TOPIC}0231${cells[0]}`, `${TOPIC}1231${cells[0]}`]);
      await screenshot(page, 'consumer-group');
    } finally {
      await browser.close();
    }
  });
});
