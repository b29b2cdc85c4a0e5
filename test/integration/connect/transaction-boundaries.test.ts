// Connector-defined transaction boundaries (KIP-618, transaction.boundary=connector). A task's
// first poll returns records 0-9 and asks, through its TransactionContext, for a commit after
// record 4 and an abort after record 7; its second poll (held until the test says go) returns
// 10-11 and asks for a commit of the open transaction. A read_committed reader must see 0-4 at
// once, then nothing more while 8-9 sit in the open transaction, then 8-11; a read_uncommitted
// reader shows that 5-7 were written and aborted, not dropped. A FileStreamSink with
// consumer.override.isolation.level=read_committed writes what the read_committed reader sees. A
// connector that cannot define boundaries is refused with Kafka's message.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import type { ConnectorStateInfo } from '../../../src/connect/runtime/herder.js';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';
import { distributedWorkerConfig } from './worker-processes.js';

const PLUGIN = `
const { existsSync } = require('node:fs');
const record = (topic, n) => ({ sourcePartition: { p: 0 }, sourceOffset: { n }, topic, kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: String(n), timestamp: null, headers: [] });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
class ScriptedTask {
  initialize(context) { this.context = context; }
  version() { return '0.0.1'; }
  start(props) { this.props = props; this.polls = 0; }
  async poll() {
    const { topic, signal } = this.props;
    const transactions = this.context.transactionContext;
    this.polls++;
    if (this.polls === 1) {
      const records = Array.from({ length: 10 }, (_, n) => record(topic, n));
      transactions.commitTransaction(records[4]);
      transactions.abortTransaction(records[7]);
      return records;
    }
    if (this.polls === 2) {
      while (!existsSync(signal)) await sleep(50);
      transactions.commitTransaction();
      return [record(topic, 10), record(topic, 11)];
    }
    await sleep(100);
    return [];
  }
  commit() {}
  commitRecord() {}
  stop() {}
}
class Base {
  constructor() { this.kind = 'source'; }
  initialize(context) { this.context = context; }
  version() { return '0.0.1'; }
  start(props) { this.props = props; }
  taskClass() { return ScriptedTask; }
  taskConfigs() { return [{ ...this.props }]; }
  stop() {}
  config() { return { keys: () => [], validate: () => [], parse: () => ({}) }; }
  exactlyOnceSupport() { return 'SUPPORTED'; }
  alterOffsets() { return false; }
}
class ScriptedSourceConnector extends Base { canDefineTransactionBoundaries() { return 'SUPPORTED'; } }
class PlainSourceConnector extends Base { canDefineTransactionBoundaries() { return 'UNSUPPORTED'; } }
module.exports = { ScriptedSourceConnector, PlainSourceConnector };
`;

describe('Connect exactly-once source: connector-defined transaction boundaries', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let worker: RunningConnect | undefined;
  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0, 'transaction.state.log.num.partitions': 2, 'offsets.topic.num.partitions': 2 } });
    dir = await temporaryDirectory();
  });
  after(async () => {
    await worker?.close().catch(() => undefined);
    await broker.close();
    await dir.remove();
  });

  it('commits and aborts exactly at the records the task names', async () => {
    const plugins = join(dir.path, 'plugins');
    await mkdir(join(plugins, 'scripted'), { recursive: true });
    await writeFile(join(plugins, 'scripted', 'package.json'), JSON.stringify({ name: 'scripted', version: '0.0.1', main: 'index.js' }));
    await writeFile(join(plugins, 'scripted', 'index.js'), PLUGIN);
    worker = await startConnect({
      mode: 'distributed',
      worker: distributedWorkerConfig(broker.running.bootstrapServers, uniqueTopic('connect-boundaries'), 6_000, { 'exactly.once.source.support': 'enabled', 'plugin.path': plugins }),
    });
    const herder = worker.herder;
    const topic = uniqueTopic('boundaries-data');
    const signal = join(dir.path, 'go');
    const create = (name: string, connectorClass: string) => waitFor(async () => herder.putConnectorConfig(name, { 'connector.class': connectorClass, topic, signal, 'transaction.boundary': 'connector' }, false).then(() => true, (error: { status?: number }) => {
      if (error.status === 409) return false;
      throw error;
    }), `connector ${name} to be created`, 20_000);

    await assert.rejects(create('plain', 'PlainSource'), /does not support connector-defined transaction boundaries/);

    await create('scripted', 'ScriptedSource');
    await waitFor(async () => ((await herder.connectorStatus('scripted')) as ConnectorStateInfo).tasks[0]?.state === 'RUNNING', 'the task to run', 30_000);

    const kafka = new Kafka({ clientId: 'boundaries-reader', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING });
    const reader = async (readUncommitted: boolean) => {
      const consumer = kafka.consumer({ groupId: uniqueTopic('reader'), readUncommitted, maxWaitTimeInMs: 100 });
      const values: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
      return { values, close: () => consumer.disconnect() };
    };
    const sinkFile = join(dir.path, 'sink.txt');
    await waitFor(async () => herder.putConnectorConfig('committed-sink', { 'connector.class': 'FileStreamSink', topics: topic, file: sinkFile, 'consumer.override.isolation.level': 'read_committed' }, false).then(() => true), 'the sink to be created', 20_000);
    const sinkLines = async () => (await readFile(sinkFile, 'utf8').catch(() => '')).split('\n').filter((line) => line !== '');
    const committed = await reader(false);
    const everything = await reader(true);
    try {
      await waitFor(() => committed.values.length >= 5, 'the first transaction (0-4)', 20_000);
      await waitFor(() => everything.values.length >= 10, 'all ten records of the first poll to be written', 20_000);
      // 8 and 9 are in the open transaction: a read_committed reader stops before them.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.deepEqual(committed.values, ['0', '1', '2', '3', '4']);
      assert.deepEqual(everything.values, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      await waitFor(async () => (await sinkLines()).length >= 5, 'the sink to write the first transaction', 20_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(await sinkLines(), ['0', '1', '2', '3', '4'], 'the read_committed sink stops where the reader does');

      await writeFile(signal, '');
      await waitFor(() => committed.values.length >= 9, 'the transaction of 8-11 to commit', 20_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(committed.values, ['0', '1', '2', '3', '4', '8', '9', '10', '11'], 'the aborted 5-7 are never read committed');
      await waitFor(async () => (await sinkLines()).length >= 9, 'the sink to write the second transaction', 20_000);
      assert.deepEqual(await sinkLines(), ['0', '1', '2', '3', '4', '8', '9', '10', '11'], 'nor written by the read_committed sink');
    } finally {
      await committed.close();
      await everything.close();
    }
  });
});
