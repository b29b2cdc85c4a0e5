// The broker's Prometheus endpoint (metrics.listeners) against real traffic over TCP: kafkajs
// produces and consumes, a raw client sends a produce the broker refuses, and every figure the
// endpoint reports is compared with what the test did or with the broker's own state (the log's
// size on disk equals the bytes produced; the group's lag equals the records produced after its
// commit). Also: the endpoint refuses bad addresses by naming the key, and without it nothing is
// counted.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { startBroker } from '../../src/node/start-broker.js';
import { LATENCY_BUCKETS_MS } from '../../src/broker/metrics/broker-metrics.js';
import { AlterClientQuotasApi } from '../../src/protocol/messages/index.js';
import { type MetricSample, samplesOf, scrape, valueOf } from '../support/metrics-text.js';
import { batchOf, fetchPartition, produce, startTestBroker, type TestBroker } from './helpers.js';

const TOPIC = 'metered';
const PARTITIONS = 2;
const SENDS = 12;
const RECORDS_PER_SEND = 5;

describe('metrics endpoint of one broker', () => {
  let broker: TestBroker;
  let url: string;
  let kafka: Kafka;

  before(async () => {
    broker = await startTestBroker({ storage: 'disk', config: { 'metrics.listeners': 'http://127.0.0.1:0', 'group.initial.rebalance.delay.ms': 0 } });
    url = broker.running.metricsUrls[0]!;
    kafka = new Kafka({ clientId: 'metrics-test', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    await admin.disconnect();
  });
  after(async () => {
    await broker.close();
  });

  it('counts records and bytes in per topic as the log holds them, and requests with their phases per API', async () => {
    const producer = kafka.producer();
    await producer.connect();
    for (let send = 0; send < SENDS; send += 1) {
      await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: RECORDS_PER_SEND }, (_, index) => ({ partition: send % PARTITIONS, value: `value ${send}-${index} ${'x'.repeat(send * 7)}` })) });
    }
    await producer.disconnect();

    const samples = await scrape(url);
    const records = SENDS * RECORDS_PER_SEND;
    assert.equal(valueOf(samples, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: TOPIC }), records);
    assert.equal(valueOf(samples, 'kafka_server_brokertopicmetrics_totalproducerequests_total', { topic: TOPIC }), SENDS);
    assert.equal(valueOf(samples, 'kafka_server_brokertopicmetrics_failedproducerequests_total', { topic: TOPIC }), 0);
    // Each batch is stored as it came: the partitions' segment files hold exactly the bytes produced.
    const logBytes = samplesOf(samples, 'kafka_log_log_size', { topic: TOPIC }).reduce((sum, sample) => sum + sample.value, 0);
    assert.equal(valueOf(samples, 'kafka_server_brokertopicmetrics_bytesin_total', { topic: TOPIC }), logBytes);
    assert.ok(logBytes > records * 10, `log size ${logBytes}`);
    assert.ok(valueOf(samples, 'kafka_server_brokertopicmetrics_messagesin_total') >= records, 'the all-topics series includes the topic');
    for (let partition = 0; partition < PARTITIONS; partition += 1) {
      assert.equal(valueOf(samples, 'kafka_log_log_logendoffset', { topic: TOPIC, partition: String(partition) }), records / PARTITIONS);
      assert.equal(valueOf(samples, 'kafka_topic_partition_current_offset', { topic: TOPIC, partition: String(partition) }), records / PARTITIONS);
      assert.equal(valueOf(samples, 'kafka_log_log_logstartoffset', { topic: TOPIC, partition: String(partition) }), 0);
    }

    const produces = samplesOf(samples, 'kafka_network_requestmetrics_requests_total', { request: 'Produce' }).reduce((sum, sample) => sum + sample.value, 0);
    assert.equal(produces, SENDS, 'one Produce request per send (acks=all, one partition each)');
    for (const phase of ['totaltimems', 'requestqueuetimems', 'localtimems', 'remotetimems', 'responsesendtimems', 'throttletimems']) {
      checkHistogram(samples, `kafka_network_requestmetrics_${phase}`, 'Produce', SENDS);
    }
    const total = valueOf(samples, 'kafka_network_requestmetrics_totaltimems_sum', { request: 'Produce' });
    const parts = sumOfPhases(samples, 'Produce');
    assert.ok(Math.abs(total - parts) < 0.01 * SENDS + 1e-6, `the phases add up to the total time (${parts} of ${total} ms)`);
  });

  it("times a fetch's long poll as remote time, and the phases add up to its total", async () => {
    const before = await scrape(url);
    const fetchesBefore = fetchFigure(before, 'totaltimems_count');
    const remoteBefore = fetchFigure(before, 'remotetimems_sum');
    const totalBefore = fetchFigure(before, 'totaltimems_sum');
    const partsBefore = sumOfPhases(before, 'Fetch');
    const waited = await fetchPartition(broker.client, TOPIC, 0, (SENDS * RECORDS_PER_SEND) / PARTITIONS, { maxWaitMs: 300, minBytes: 1 }); // at the log end: nothing comes
    assert.equal(waited.errorCode, ErrorCode.NONE);
    const after = await scrape(url);
    assert.equal(valueOf(after, 'kafka_network_requestmetrics_totaltimems_count', { request: 'Fetch' }), fetchesBefore + 1);
    assert.equal(valueOf(after, 'kafka_network_requestmetrics_totaltimems_count', { request: 'FetchConsumer' }), fetchesBefore + 1, 'every fetch so far was a consumer\'s');
    assert.equal(samplesOf(after, 'kafka_network_requestmetrics_totaltimems_count', { request: 'FetchFollower' }).length, 0, 'a single broker has no followers');
    const remote = valueOf(after, 'kafka_network_requestmetrics_remotetimems_sum', { request: 'Fetch' }) - remoteBefore;
    const total = valueOf(after, 'kafka_network_requestmetrics_totaltimems_sum', { request: 'Fetch' }) - totalBefore;
    assert.ok(remote >= 250 && remote <= total, `the long poll (300 ms) is remote time: ${remote} of ${total} ms`);
    assert.ok(Math.abs(sumOfPhases(after, 'Fetch') - partsBefore - total) < 0.01, 'queue, local, remote and send add up to the total');
  });

  it('counts a refused produce as failed, for its topic, and its error code per request', async () => {
    const beforeSamples = await scrape(url);
    const before = valueOf(beforeSamples, 'kafka_server_brokertopicmetrics_failedproducerequests_total', { topic: TOPIC });
    const errorsBefore = samplesOf(beforeSamples, 'kafka_network_requestmetrics_errors_total', { request: 'Produce', error: 'UNKNOWN_TOPIC_OR_PARTITION' })[0]?.value ?? 0;
    const noneBefore = valueOf(beforeSamples, 'kafka_network_requestmetrics_errors_total', { request: 'Produce', error: 'NONE' });
    assert.ok(noneBefore >= SENDS, `the successful produces so far counted as NONE (${noneBefore})`);
    const refused = await produce(broker.client, TOPIC, PARTITIONS + 5, batchOf(['nowhere']));
    assert.equal(refused.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const samples = await scrape(url);
    assert.equal(valueOf(samples, 'kafka_server_brokertopicmetrics_failedproducerequests_total', { topic: TOPIC }), before + 1);
    assert.equal(valueOf(samples, 'kafka_network_requestmetrics_errors_total', { request: 'Produce', error: 'UNKNOWN_TOPIC_OR_PARTITION' }), errorsBefore + 1, 'ErrorsPerSec counts the refusal');
    assert.equal(valueOf(samples, 'kafka_network_requestmetrics_errors_total', { request: 'Produce', error: 'NONE' }), noneBefore, 'and no success for it');
  });

  it("reports a group's committed offsets and its lag, which grows by exactly the records produced after the commit", async () => {
    const consumer = kafka.consumer({ groupId: 'metered-group', sessionTimeout: 6000 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const expected = SENDS * RECORDS_PER_SEND;
    let seen = 0;
    const caughtUp = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async () => {
          seen += 1;
          if (seen === expected) resolve();
        },
      });
    });
    await caughtUp;
    await consumer.stop(); // commits what it consumed
    await consumer.disconnect();

    const samples = await scrape(url);
    for (let partition = 0; partition < PARTITIONS; partition += 1) {
      const labels = { consumergroup: 'metered-group', topic: TOPIC, partition: String(partition) };
      assert.equal(valueOf(samples, 'kafka_consumergroup_current_offset', labels), expected / PARTITIONS);
      assert.equal(valueOf(samples, 'kafka_consumergroup_lag', labels), 0);
    }
    assert.ok(valueOf(samples, 'kafka_server_brokertopicmetrics_bytesout_total', { topic: TOPIC }) >= valueOf(samples, 'kafka_server_brokertopicmetrics_bytesin_total', { topic: TOPIC }), 'the consumer read every byte produced');

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: TOPIC, messages: [{ partition: 1, value: 'a' }, { partition: 1, value: 'b' }, { partition: 1, value: 'c' }] });
    await producer.disconnect();
    const after = await scrape(url);
    assert.equal(valueOf(after, 'kafka_consumergroup_lag', { consumergroup: 'metered-group', topic: TOPIC, partition: '1' }), 3);
    assert.equal(valueOf(after, 'kafka_consumergroup_lag', { consumergroup: 'metered-group', topic: TOPIC, partition: '0' }), 0);
  });

  it("reports the broker's partitions, leadership, controller and connections", async () => {
    const samples = await scrape(url);
    const hosted = valueOf(samples, 'kafka_server_replicamanager_partitioncount');
    assert.ok(hosted >= PARTITIONS + 1, `${hosted} partitions: the topic's and __consumer_offsets'`);
    assert.equal(valueOf(samples, 'kafka_server_replicamanager_leadercount'), hosted, 'a single broker leads every partition');
    assert.equal(valueOf(samples, 'kafka_server_replicamanager_underreplicatedpartitions'), 0);
    assert.equal(valueOf(samples, 'kafka_controller_kafkacontroller_activecontrollercount'), 1);
    assert.equal(valueOf(samples, 'kafka_controller_kafkacontroller_offlinepartitionscount'), 0);
    assert.equal(valueOf(samples, 'kafka_controller_kafkacontroller_globalpartitioncount'), hosted);
    assert.ok(valueOf(samples, 'kafka_server_socket_server_metrics_connection_count', { listener: 'PLAINTEXT' }) >= 1, 'the test broker\'s raw client is connected');
    assert.ok(samplesOf(samples, 'nodejs_heap_size_used_bytes').length === 1, "prom-client's Node metrics");
    const utilisation = valueOf(samples, 'nodejs_eventloop_utilization');
    assert.ok(utilisation >= 0 && utilisation <= 1, `event loop utilisation ${utilisation}`);
  });

  it("reports a quota entity's byte rate and throttle time once its client is measured", async () => {
    const quotaClient = 'quota-metered';
    const set = await broker.client.request(AlterClientQuotasApi, 1, {
      entries: [{ entity: [{ entityType: 'client-id', entityName: quotaClient }], ops: [{ key: 'producer_byte_rate', value: 2_000, remove: false }] }],
      validateOnly: false,
    });
    assert.deepEqual(set.entries.map(({ errorCode }) => errorCode), [ErrorCode.NONE]);
    const labels = { resource: 'Produce', user: '', clientid: quotaClient };
    assert.equal(samplesOf(await scrape(url), 'kafka_server_quota_byte_rate', labels).length, 0, 'no figures before the client is measured');
    const producer = new Kafka({ clientId: quotaClient, brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    try {
      // 60 KB against 2 KB/s: the answers carry throttle times.
      for (let send = 0; send < 3; send += 1) await producer.send({ topic: TOPIC, acks: 1, messages: [{ value: Buffer.alloc(20_000, send) }] });
    } finally {
      await producer.disconnect();
    }
    const samples = await scrape(url);
    const rate = valueOf(samples, 'kafka_server_quota_byte_rate', labels);
    // The quota window is 11 samples of 1 s (the rate is spread over at least 10 s of it).
    assert.ok(rate > 60_000 / 11 && rate <= 60_000 / 10 * 1.05, `the 60 KB sent over the quota window: ${rate} B/s`);
    const throttle = valueOf(samples, 'kafka_server_quota_throttle_time', labels);
    assert.ok(throttle > 0, `the requests were throttled: ${throttle} ms on average`);
    assert.equal(samplesOf(samples, 'kafka_server_quota_byte_rate', { resource: 'Fetch', clientid: quotaClient }).length, 0, 'no consumer quota applies to it');
  });
});

/** The sums of the four phases of `request` (queue, local, remote, response send); 0 before its first request. */
function sumOfPhases(samples: readonly MetricSample[], request: string): number {
  return ['requestqueuetimems', 'localtimems', 'remotetimems', 'responsesendtimems'].reduce((sum, phase) => sum + (samplesOf(samples, `kafka_network_requestmetrics_${phase}_sum`, { request })[0]?.value ?? 0), 0);
}

/** kafka_network_requestmetrics_<suffix> of Fetch requests; 0 before the first one. */
function fetchFigure(samples: readonly MetricSample[], suffix: string): number {
  return samplesOf(samples, `kafka_network_requestmetrics_${suffix}`, { request: 'Fetch' })[0]?.value ?? 0;
}

/** A histogram's buckets are cumulative, end in +Inf with its count, and its count is `count`. */
function checkHistogram(samples: readonly MetricSample[], name: string, request: string, count: number): void {
  const buckets = samplesOf(samples, `${name}_bucket`, { request });
  assert.equal(buckets.length, LATENCY_BUCKETS_MS.length + 1, `${name}: one bucket per bound and +Inf`);
  for (let index = 1; index < buckets.length; index += 1) assert.ok(buckets[index]!.value >= buckets[index - 1]!.value, `${name}: cumulative buckets`);
  assert.equal(buckets.at(-1)!.labels.le, '+Inf');
  assert.equal(buckets.at(-1)!.value, count);
  assert.equal(valueOf(samples, `${name}_count`, { request }), count);
}

describe('metrics endpoint configuration', () => {
  it('refuses an address that is not http://host:port, naming metrics.listeners', async () => {
    await assert.rejects(startBroker({ port: 0, storage: 'memory', config: { 'metrics.listeners': 'https://127.0.0.1:9404' } }), /metrics\.listeners/);
    await assert.rejects(startBroker({ port: 0, storage: 'memory', config: { 'metrics.listeners': 'http://127.0.0.1' } }), /metrics\.listeners/);
  });

  it('refuses to start when the address is taken, naming metrics.listeners, and leaves nothing running', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await assert.rejects(startBroker({ port: 0, storage: 'memory', config: { 'metrics.listeners': `http://127.0.0.1:${port}` } }), /metrics\.listeners.*cannot listen/);
    } finally {
      taken.close();
    }
  });

  it('counts nothing without an endpoint', async () => {
    const running = await startBroker({ port: 0, storage: 'memory' });
    try {
      assert.equal(running.broker.services.metrics, undefined);
      assert.equal(running.broker.metricsSource(), undefined);
      assert.deepEqual(running.metricsUrls, []);
    } finally {
      await running.close();
    }
  });
});
