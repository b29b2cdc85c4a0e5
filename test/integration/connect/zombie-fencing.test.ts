// Zombie fencing for exactly-once sources (KIP-618). A task that a smaller task set no longer has
// is never fenced by a new producer with its transactional id, so before the tasks of a new task
// generation create their producers, the leader fences the producers of every task of the last
// fenced generation and records the new task count (`tasks-fencing-<connector>` in the config
// topic). Here a connector runs two tasks; a zombie of task 1 (a producer with task 1's
// transactional id, as a worker cut off from the group would still have) opens a transaction; the
// connector is reconfigured to one task. The zombie's commit must then be refused and its record
// never read by a read_committed reader, while task 0 goes on writing.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { AdminClient } from '../../../src/client/admin-client.js';
import { ClusterClient } from '../../../src/client/cluster-client.js';
import { ProducerFencedError, TransactionalProducer } from '../../../src/client/transactional-producer.js';
import type { ConnectorStateInfo } from '../../../src/connect/runtime/herder.js';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';
import { committedConfigRecords, distributedWorkerConfig } from './worker-processes.js';

/** A source whose every task writes `<task>-<n>` to `topic`, a few records a poll. */
const PLUGIN = `
class CounterTask {
  initialize(context) { this.context = context; }
  version() { return '0.0.1'; }
  start(props) { this.task = props.task; this.topic = props.topic; this.next = 0; }
  async poll() {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const records = [];
    for (let i = 0; i < 5; i++, this.next++) {
      records.push({ sourcePartition: { task: this.task }, sourceOffset: { n: this.next }, topic: this.topic, kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: this.task + '-' + this.next, timestamp: null, headers: [] });
    }
    return records;
  }
  commit() {}
  commitRecord() {}
  stop() {}
}
class CounterSourceConnector {
  constructor() { this.kind = 'source'; }
  initialize(context) { this.context = context; }
  version() { return '0.0.1'; }
  start(props) { this.props = props; }
  taskClass() { return CounterTask; }
  taskConfigs(max) { return Array.from({ length: max }, (_, task) => ({ topic: this.props.topic, task: String(task) })); }
  stop() {}
  config() { return { keys: () => [], validate: () => [], parse: () => ({}) }; }
  exactlyOnceSupport() { return 'SUPPORTED'; }
  canDefineTransactionBoundaries() { return 'UNSUPPORTED'; }
  alterOffsets() { return false; }
}
module.exports = { CounterSourceConnector };
`;

describe('Connect exactly-once source: zombie fencing of an earlier task generation', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let worker: RunningConnect | undefined;
  let cluster: ClusterClient | undefined;
  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0, 'transaction.state.log.num.partitions': 2, 'offsets.topic.num.partitions': 2 } });
    dir = await temporaryDirectory();
  });
  after(async () => {
    cluster?.close();
    await worker?.close().catch(() => undefined);
    await broker.close();
    await dir.remove();
  });

  it('fences a task the new generation no longer has before the new tasks write', async () => {
    const plugins = join(dir.path, 'plugins');
    await mkdir(join(plugins, 'counter-connector'), { recursive: true });
    await writeFile(join(plugins, 'counter-connector', 'package.json'), JSON.stringify({ name: 'counter-connector', version: '0.0.1', main: 'index.js' }));
    await writeFile(join(plugins, 'counter-connector', 'index.js'), PLUGIN);
    const group = uniqueTopic('connect-fencing');
    worker = await startConnect({
      mode: 'distributed',
      worker: distributedWorkerConfig(broker.running.bootstrapServers, group, 6_000, { 'exactly.once.source.support': 'enabled', 'plugin.path': plugins, 'offset.flush.interval.ms': '300' }),
    });
    const herder = worker.herder;
    const topic = uniqueTopic('fencing-data');
    const connectorConfig = (tasks: number) => ({ 'connector.class': 'CounterSource', topic, 'tasks.max': String(tasks), 'exactly.once.support': 'required' });
    await waitFor(async () => herder.putConnectorConfig('counter', connectorConfig(2), false).then(() => true, (error: { status?: number }) => {
      if (error.status === 409) return false;
      throw error;
    }), 'the connector to be created', 20_000);
    const running = (status: ConnectorStateInfo, tasks: number) => status.tasks.length === tasks && status.tasks.every((task) => task.state === 'RUNNING');
    await waitFor(async () => running(await herder.connectorStatus('counter'), 2), 'both tasks to run', 30_000);

    const kafka = new Kafka({ clientId: 'fencing-reader', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING });
    cluster = new ClusterClient(connectTcp, broker.running.bootstrapServers);
    const configCluster = cluster;
    const fencingRecords = async (): Promise<unknown[]> =>
      (await committedConfigRecords(configCluster, `${group}-configs`)).filter((record) => record.key === 'tasks-fencing-counter').map((record) => record.value);
    // The first generation needs no fencing (no producer ran before it), only its task count.
    assert.deepEqual((await fencingRecords()).map((value) => (value as { 'task-count': number })['task-count']), [2]);

    // The zombie of task 1: InitProducerId with its transactional id (which also stops the real
    // task 1, as a task that lost its worker's membership would be), then an open transaction.
    const topicInfo = await new AdminClient(cluster).describeTopic(topic);
    const zombie = new TransactionalProducer(cluster, { transactionalId: `${group}-counter-1` });
    await zombie.init();
    zombie.beginTransaction();
    await zombie.send([{ topic, key: null, value: Buffer.from('zombie'), headers: [] }], new Map([[topic, topicInfo]]));

    await herder.putConnectorConfig('counter', connectorConfig(1), true);
    await waitFor(async () => running(await herder.connectorStatus('counter'), 1), 'the one task of the new generation to run', 30_000);
    await waitFor(async () => (await fencingRecords()).length === 2, 'the second task count record', 15_000);
    assert.deepEqual((await fencingRecords()).map((value) => (value as { 'task-count': number })['task-count']), [2, 1]);

    await assert.rejects(zombie.commitTransaction(), ProducerFencedError, 'the zombie of task 1 was fenced before the new generation started');

    // What a read_committed reader sees: task 0 going on past the reconfiguration, no zombie record.
    const consumer = kafka.consumer({ groupId: uniqueTopic('data-reader'), readUncommitted: false, maxWaitTimeInMs: 100 });
    const values: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
      const before = await waitFor(() => values.filter((value) => value.startsWith('0-')).length || false, 'task 0\'s records', 15_000);
      await waitFor(() => values.filter((value) => value.startsWith('0-')).length > before + 20, 'task 0 to go on writing', 15_000);
    } finally {
      await consumer.disconnect();
    }
    assert.ok(!values.includes('zombie'), 'the zombie\'s record is never committed');
    assert.ok(values.some((value) => value.startsWith('1-')), 'task 1 wrote before it was stopped');
  });
});
