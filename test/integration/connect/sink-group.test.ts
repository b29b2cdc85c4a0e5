// Sink tasks of one consumer group: when a task joins a group whose member is already consuming,
// the running task rejoins as the same member, and the group settles with one member per task. (A
// task that rejoined as a new member left its old one behind, heartbeating but never rejoining,
// and the coordinator held the rebalance for the old member's rebalance timeout.) Two connectors
// share one group here (consumer.override.group.id), so the second task joins a running first.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type TestBroker, createTopic, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';

describe('Connect sink tasks in one consumer group', () => {
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

  it('settles with one member per task when a task joins a running one', async () => {
    const topic = uniqueTopic('sink-group');
    await createTopic(broker.client, topic, 2);
    const kafka = new Kafka({ clientId: 'sink-group', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'p0', partition: 0 }, { value: 'p1', partition: 1 }] });
    await producer.disconnect();
    const output = join(dir.path, 'out.txt');
    connect = await startConnect({
      worker: {
        'bootstrap.servers': broker.running.bootstrapServers,
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'offset.storage.file.filename': join(dir.path, 'connect.offsets'),
        // A session far longer than the test: a member left behind would hold the group all along.
        'consumer.session.timeout.ms': '60000',
        listeners: 'http://127.0.0.1:0',
      },
      connectors: [{ name: 'first', 'connector.class': 'FileStreamSink', topics: topic, file: output, 'consumer.override.group.id': 'shared-sinks' }],
    });
    await waitFor(async () => (await readFile(output, 'utf8').catch(() => '')).split('\n').filter(Boolean).length === 2, 'both partitions to be copied', 30_000);
    await connect.herder.putConnectorConfig('second', { 'connector.class': 'FileStreamSink', topics: topic, file: join(dir.path, 'second.txt'), 'consumer.override.group.id': 'shared-sinks' }, false);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const group = await waitFor(async () => {
        const [described] = (await admin.describeGroups(['shared-sinks'])).groups;
        return described?.state === 'Stable' && described.members.length >= 2 && described;
      }, 'the shared group to be stable with both tasks', 20_000);
      assert.equal(group.members.length, 2, `one member per task: ${group.members.map((member) => member.memberId).join(', ')}`);
    } finally {
      await admin.disconnect();
    }
  });
});
