// The brokers' metrics as a real Prometheus sees them (Debian's prometheus, test/support/prometheus-server.ts):
// a cluster of three `conveyor start` processes, each serving GET /metrics, scraped every second
// with the shipped alerting rules (docs/alerts/conveyor-alerts.yml) loaded. kafkajs creates a topic
// (3 partitions, replication factor 3, min.insync.replicas=2), produces, and a group consumes and
// commits; PromQL must then give the cluster's figures: three targets up, one active controller,
// the records produced counted once across the brokers, every partition led once, the group's lag
// 0 and then exactly the records produced after it stopped (both from the coordinator's
// kafka_consumergroup_lag and the rules' cluster-wide join). A broker killed with SIGKILL must show
// as down, its partitions as under-replicated on the survivors with their ISR shrink counted, and
// the broker-down and under-replicated alerts must fire; once it is restarted every broker reports
// no under-replicated partition. A second test runs `promtool check rules` on the shipped file.
//
// The nodes' metrics endpoints are on port 0 (ProcessCluster gives every node the same settings),
// so each node's address is read from its ready line (`metrics: http://.../metrics`), and
// Prometheus reads its targets from a file the test rewrites when the restarted node comes back on
// another port. In test/monitoring, not test/integration: npm test runs it on the machine's node,
// CI does not run it again on Node 22 and 24 (it checks Prometheus's view, not Node's).
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { ProcessCluster } from '../support/cluster-processes.js';
import { FAST_FAILOVER_SETTINGS } from '../support/leader-kill-support.js';
import { type PrometheusServer, type ScrapeTarget, type VectorSample, checkRules, prometheusUnavailable, startPrometheus } from '../support/prometheus-server.js';
import { waitFor } from '../support/wait.js';

const RULES_FILE = fileURLToPath(new URL('../../docs/alerts/conveyor-alerts.yml', import.meta.url));
const JOB = 'conveyor';
const TOPIC = 'metered';
const PARTITIONS = 3;
const GROUP = 'metered-readers';
const FIRST_RECORDS = 300;
const LATER_RECORDS = 45;
const OFFSETS_PARTITIONS = 3;
const SETTINGS: Record<string, string> = {
  ...FAST_FAILOVER_SETTINGS,
  // The leaders drop a dead follower from their ISRs (counted in isrshrinks_total) before the
  // controller fences its broker: a fenced broker leaves every ISR by the controller's hand, which
  // no leader counts as its shrink.
  'replica.lag.time.max.ms': '1500',
  'broker.session.timeout.ms': '6000',
  'metrics.listeners': 'http://127.0.0.1:0',
  'offsets.topic.num.partitions': String(OFFSETS_PARTITIONS),
};
const METRICS_URL = /metrics: http:\/\/([^/\s,]+)\/metrics/;

const skip = prometheusUnavailable();

describe('metrics of a 3-broker cluster scraped by Prometheus', { skip }, () => {
  let cluster: ProcessCluster;
  let prometheus: PrometheusServer;
  let workDir: string;
  let kafka: Kafka;

  /** `host:port` of a node's metrics endpoint, from its current incarnation's ready line. */
  const metricsAddress = (nodeId: number): string => {
    const match = METRICS_URL.exec(cluster.log(nodeId));
    if (match === null) throw new Error(`node ${nodeId} printed no metrics address:\n${cluster.log(nodeId)}`);
    return match[1]!;
  };
  const targets = (): ScrapeTarget[] => cluster.nodeIds.map((nodeId) => ({ address: metricsAddress(nodeId), labels: { node: String(nodeId) } }));
  const single = (vector: VectorSample[]) => (vector.length === 1 ? vector[0]!.value : Number.NaN);
  const byNode = (vector: VectorSample[]) => new Map(vector.map((sample) => [sample.labels.node!, sample.value]));

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'conveyor-metrics-prometheus-'));
    cluster = await ProcessCluster.start({ nodes: 3, settings: SETTINGS });
    // The shipped rules wait minutes (`for: 1m` .. `10m`) before an alert fires; this copy fires
    // on the first evaluation that sees the condition, so the test need not wait minutes.
    const rules = (await readFile(RULES_FILE, 'utf8')).replace(/^(\s+)for: \S+$/gm, '$1for: 0s');
    const testRules = join(workDir, 'conveyor-alerts-for-0s.yml');
    await writeFile(testRules, rules);
    prometheus = await startPrometheus({ jobs: [{ name: JOB, targets: targets() }], ruleFiles: [testRules] });
    kafka = new Kafka({ clientId: 'metrics-prometheus', brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10 } });
  });

  after(async () => {
    await prometheus?.stop();
    await cluster?.stopAll();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it('reports traffic, leadership, lag, a broker kill and its recovery through PromQL and alerts', async () => {
    // Every broker scraped and healthy; the cluster has exactly one active controller.
    await prometheus.waitFor(`up{job="${JOB}"} == 1`, (vector) => vector.length === 3);
    const health = await prometheus.targets();
    assert.deepEqual(health.map((target) => target.health), ['up', 'up', 'up'], JSON.stringify(health));
    await prometheus.waitFor('sum(kafka_controller_kafkacontroller_activecontrollercount)', (vector) => single(vector) === 1);

    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
        waitForLeaders: true,
      });
      assert.equal(created, true);
    } finally {
      await admin.disconnect();
    }

    await produce(kafka, FIRST_RECORDS);
    // Each record is counted by the leader that appended it, once: the sum over the brokers.
    await prometheus.waitFor(`sum(kafka_server_brokertopicmetrics_messagesin_total{topic="${TOPIC}"})`, (vector) => single(vector) === FIRST_RECORDS);
    // As many as the partitions' leaders hold (the high watermarks).
    await prometheus.waitFor(`sum(kafka_topic_partition_current_offset{topic="${TOPIC}"})`, (vector) => single(vector) === FIRST_RECORDS);

    await consumeAndCommit(kafka, FIRST_RECORDS);
    // The group exists now, so __consumer_offsets too: every partition of every topic led once.
    const leaders = await prometheus.waitFor('sum(kafka_server_replicamanager_leadercount)', (vector) => single(vector) === PARTITIONS + OFFSETS_PARTITIONS);
    const global = await prometheus.query('sum(kafka_controller_kafkacontroller_globalpartitioncount)');
    assert.equal(single(global), single(leaders), 'the controller counts as many partitions as the brokers lead');

    const lag = `sum(kafka_consumergroup_lag{consumergroup="${GROUP}",topic="${TOPIC}"})`;
    const clusterLag = `sum(
        max by (topic, partition) (kafka_topic_partition_current_offset{topic="${TOPIC}"})
      - on (topic, partition) group_right
        max by (consumergroup, topic, partition) (kafka_consumergroup_current_offset{consumergroup="${GROUP}",topic="${TOPIC}"})
    )`;
    const partitionsWithLag = `count(kafka_consumergroup_lag{consumergroup="${GROUP}",topic="${TOPIC}"})`;
    await prometheus.waitFor(partitionsWithLag, (vector) => single(vector) === PARTITIONS);
    await prometheus.waitFor(lag, (vector) => single(vector) === 0);
    await prometheus.waitFor(clusterLag, (vector) => single(vector) === 0);

    // The consumer is gone: what is produced now is exactly the lag.
    await produce(kafka, LATER_RECORDS);
    await prometheus.waitFor(lag, (vector) => single(vector) === LATER_RECORDS);
    await prometheus.waitFor(clusterLag, (vector) => single(vector) === LATER_RECORDS);

    // Kill a broker that is not the active controller.
    const controller = await cluster.waitForActiveController();
    const victim = cluster.nodeIds.find((nodeId) => nodeId !== controller.nodeId)!;
    const survivors = cluster.nodeIds.filter((nodeId) => nodeId !== victim);
    const shrinksBefore = byNode(await prometheus.query('kafka_server_replicamanager_isrshrinks_total'));
    assert.equal(shrinksBefore.size, 3);
    await cluster.kill(victim, 'SIGKILL');

    await prometheus.waitFor(`up{job="${JOB}",node="${victim}"} == 0`, (vector) => vector.length === 1);
    const survivorsRegex = survivors.join('|');
    await prometheus.waitFor(`sum(kafka_server_replicamanager_underreplicatedpartitions{node=~"${survivorsRegex}"})`, (vector) => single(vector) > 0, 30_000);
    // Two of three replicas left: the topic's partitions are at min.insync.replicas=2, not under it.
    await prometheus.waitFor(`sum(kafka_server_replicamanager_atminisrpartitioncount{node=~"${survivorsRegex}"})`, (vector) => single(vector) > 0);
    assert.equal(single(await prometheus.query(`sum(kafka_server_replicamanager_underminisrpartitioncount{node=~"${survivorsRegex}"})`)), 0);
    const shrinks = await prometheus.waitFor(`kafka_server_replicamanager_isrshrinks_total{node=~"${survivorsRegex}"}`, (vector) => vector.some((sample) => sample.value > (shrinksBefore.get(sample.labels.node!) ?? 0)), 30_000);
    assert.ok(shrinks.length === 2, JSON.stringify(shrinks));
    await waitFor(
      'the broker-down and under-replicated alerts',
      async () => {
        const alerts = await prometheus.alerts();
        const active = (name: string) => alerts.some((alert) => alert.labels.alertname === name && (alert.state === 'firing' || alert.state === 'pending'));
        return active('ConveyorBrokerDown') && active('ConveyorUnderReplicatedPartitions') ? alerts : undefined;
      },
      20_000,
      200,
    );
    const downAlert = (await prometheus.alerts()).find((alert) => alert.labels.alertname === 'ConveyorBrokerDown')!;
    assert.equal(downAlert.labels.node, String(victim));
    assert.equal(downAlert.labels.severity, 'critical');

    // Back on its directory, on a new metrics port: every replica returns to the ISR.
    await cluster.restart(victim);
    await prometheus.setTargets(JOB, targets());
    await prometheus.waitFor(`up{job="${JOB}"} == 1`, (vector) => vector.length === 3, 20_000);
    await prometheus.waitFor(
      'kafka_server_replicamanager_underreplicatedpartitions',
      (vector) => vector.length === 3 && vector.every((sample) => sample.value === 0),
      30_000,
    );
    await prometheus.waitFor('sum(kafka_controller_kafkacontroller_activecontrollercount)', (vector) => single(vector) === 1);
  });
});

describe('the shipped alerting rules', { skip }, () => {
  it('pass promtool check rules', async () => {
    const result = await checkRules(RULES_FILE);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS: \d+ rules found/);
  });
});

/**
 * Produces `count` records spread over the topic's partitions, acks=all, in batches of 15. The
 * producer is idempotent: a send retried after an error (a fresh topic's first writes may meet
 * NOT_ENOUGH_REPLICAS while its followers join) must not append its records twice, or the log
 * would hold more records than were sent.
 */
async function produce(kafka: Kafka, count: number): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let sent = 0; sent < count; sent += 15) {
      const batch = Array.from({ length: Math.min(15, count - sent) }, (_, index) => ({ partition: (sent + index) % PARTITIONS, value: `record ${sent + index}` }));
      await producer.send({ topic: TOPIC, acks: -1, messages: batch });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Reads `count` records in the group from the beginning, commits the next offset of every partition and leaves. */
async function consumeAndCommit(kafka: Kafka, count: number): Promise<void> {
  const consumer: Consumer = kafka.consumer({ groupId: GROUP, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const next = new Map<number, bigint>();
    let read = 0;
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        read += 1;
        next.set(partition, BigInt(message.offset) + 1n);
      },
    });
    await waitFor(`the group to read ${count} records`, () => (read >= count ? true : undefined), 30_000);
    assert.equal(read, count);
    await consumer.commitOffsets([...next].map(([partition, offset]) => ({ topic: TOPIC, partition, offset: String(offset) })));
  } finally {
    await consumer.disconnect();
  }
}
