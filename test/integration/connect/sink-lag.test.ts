// A sink task's lag (Kafka Connect's sink-record-lag-max): how many records the partition's end is
// ahead of what the task was handed. 3 MiB wait in a topic when a sink whose first put blocks
// starts; a fetch returns at most 1 MiB of a partition, so while the put blocks the lag is most of
// the backlog. Once the put is let go the task catches up and the lag falls to 0.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type TestBroker, createTopic, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';

const PLUGIN = `
const { existsSync } = require('node:fs');
class BlockingTask {
  initialize(context) { this.context = context; }
  version() { return '0.0.1'; }
  start(props) { this.props = props; }
  async put(records) {
    while (!existsSync(this.props.signal)) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  flush() {}
  async preCommit(offsets) { return offsets; }
  open() {}
  close() {}
  stop() {}
}
class BlockingSinkConnector {
  constructor() { this.kind = 'sink'; }
  initialize(context) { this.context = context; }
  version() { return '0.0.1'; }
  start(props) { this.props = props; }
  taskClass() { return BlockingTask; }
  taskConfigs() { return [{ ...this.props }]; }
  stop() {}
  config() { return { keys: () => [], validate: () => [], parse: () => ({}) }; }
  alterOffsets() { return false; }
}
module.exports = { BlockingSinkConnector };
`;

const RECORDS = 3000;

describe('Connect sink task metrics: the lag', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let connect: RunningConnect | undefined;
  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    dir = await temporaryDirectory();
  });
  after(async () => {
    await connect?.close().catch(() => undefined);
    await broker.close();
    await dir.remove();
  });

  it('reports how far the task is behind the partition end, and 0 once caught up', async () => {
    const topic = uniqueTopic('lag');
    await createTopic(broker.client, topic, 1);
    const kafka = new Kafka({ clientId: 'lag-writer', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const value = 'x'.repeat(1024);
    for (let start = 0; start < RECORDS; start += 500) {
      await producer.send({ topic, messages: Array.from({ length: 500 }, () => ({ value })) });
    }
    await producer.disconnect();

    const plugins = join(dir.path, 'plugins');
    await mkdir(join(plugins, 'blocking-sink'), { recursive: true });
    await writeFile(join(plugins, 'blocking-sink', 'package.json'), JSON.stringify({ name: 'blocking-sink', version: '0.0.1', main: 'index.js' }));
    await writeFile(join(plugins, 'blocking-sink', 'index.js'), PLUGIN);
    const signal = join(dir.path, 'go');
    connect = await startConnect({
      worker: {
        'bootstrap.servers': broker.running.bootstrapServers,
        'key.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
        'value.converter': 'org.apache.kafka.connect.converters.ByteArrayConverter',
        'offset.storage.file.filename': join(dir.path, 'connect.offsets'),
        'plugin.path': plugins,
        listeners: 'http://127.0.0.1:0',
      },
      connectors: [{ name: 'blocking', 'connector.class': 'BlockingSink', topics: topic, signal }],
    });
    const metrics = () => connect!.metrics().find((task) => task.connector === 'blocking')?.metrics ?? {};
    // The first fetch handed the task at most 1 MiB (about a third); the rest is lag.
    const blocked = await waitFor(() => (metrics()['sink-record-read-total'] ?? 0) > 0 && metrics(), 'the first fetch', 20_000);
    const lag = blocked['sink-record-lag-max']!;
    const read = blocked['sink-record-read-total']!;
    assert.ok(read < RECORDS, `one fetch reads part of the backlog (${read})`);
    assert.equal(lag, RECORDS - read, 'the lag is the backlog the task was not handed yet');

    await writeFile(signal, '');
    await waitFor(() => metrics()['sink-record-send-total'] === RECORDS, 'the task to put every record', 20_000).catch((error: Error) => { throw new Error(`${error.message}: ${JSON.stringify(metrics())}`); });
    assert.equal(metrics()['sink-record-lag-max'], 0, 'no lag once caught up');
  });
});
