// `conveyor groups` against a real broker: list, describe with lag, reset-offsets (dry run, then
// --execute) and delete, in text and JSON; and a KIP-848 consumer group (@platformatic/kafka with
// the consumer protocol) listed with its type and described with its epochs and members.
import '../support/polyfills.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from '../support/broker.js';
import { runChecked, runProcess } from '../support/process.js';
import { waitFor } from '../support/wait.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function conveyor(args: string[]) {
  const script = `import(${JSON.stringify(main)}).then((cli) => cli.run(['node', 'conveyor', ...process.argv.slice(1)]))`;
  return [process.execPath, ['--import', 'tsx', '--eval', script, ...args]] as [string, string[]];
}

test('conveyor groups: list, describe, reset-offsets and delete', { timeout: 60_000 }, async () => {
  const broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': 0 });
  const kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'cli-topic', numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'cli-topic', messages: Array.from({ length: 10 }, (_, index) => ({ partition: index % 2, value: String(index) })) });
    await producer.disconnect();
    await admin.setOffsets({ groupId: 'cli-group', topic: 'cli-topic', partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '5' }] });
    const server = ['--bootstrap-server', broker.bootstrapServers];

    const listed = JSON.parse((await runChecked(...conveyor(['groups', 'list', ...server, '--json']))).stdout);
    // kafkajs's setOffsets briefly joins the group as a consumer, so the group has that protocol type.
    assert.deepEqual(listed, [{ groupId: 'cli-group', type: 'classic', state: 'Empty', protocolType: 'consumer' }]);

    const described = JSON.parse((await runChecked(...conveyor(['groups', 'describe', 'cli-group', ...server, '--json']))).stdout);
    assert.equal(described.state, 'Empty');
    assert.deepEqual(
      described.offsets.map((row: { partition: number; currentOffset: number; logEndOffset: number; lag: number }) => [row.partition, row.currentOffset, row.logEndOffset, row.lag]),
      [
        [0, 2, 5, 3],
        [1, 5, 5, 0],
      ],
    );
    const text = (await runChecked(...conveyor(['groups', 'describe', 'cli-group', ...server]))).stdout;
    assert.match(text, /LOG-END-OFFSET/);

    const dryRun = JSON.parse((await runChecked(...conveyor(['groups', 'reset-offsets', 'cli-group', '--topic', 'cli-topic', '--to-earliest', ...server, '--json']))).stdout);
    assert.equal(dryRun.executed, false);
    assert.deepEqual(dryRun.offsets.map((row: { newOffset: number }) => row.newOffset), [0, 0]);
    assert.equal((await admin.fetchOffsets({ groupId: 'cli-group', topics: ['cli-topic'] }))[0]!.partitions.find((p) => p.partition === 0)!.offset, '2');

    await runChecked(...conveyor(['groups', 'reset-offsets', 'cli-group', '--topic', 'cli-topic', '--to-offset', '1', '--execute', ...server]));
    const after = (await admin.fetchOffsets({ groupId: 'cli-group', topics: ['cli-topic'] }))[0]!.partitions.map((p) => p.offset).sort();
    assert.deepEqual(after, ['1', '1']);

    await runChecked(...conveyor(['groups', 'delete', 'cli-group', ...server]));
    const missing = await runProcess(...conveyor(['groups', 'delete', 'cli-group', ...server]));
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /GROUP_ID_NOT_FOUND/);
  } finally {
    await admin.disconnect();
    await broker.close();
  }
});

test('conveyor groups: a KIP-848 consumer group is listed with its type and described with its epochs, members and lag', { timeout: 90_000 }, async () => {
  const broker = await startTestBroker({ 'group.consumer.min.heartbeat.interval.ms': 200, 'group.consumer.heartbeat.interval.ms': 500 });
  const kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const consumer = new Consumer({ clientId: 'cli-848', groupId: 'cli-848-group', bootstrapBrokers: [broker.bootstrapServers], groupProtocol: 'consumer', deserializers: stringDeserializers });
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'cli-848-topic', numPartitions: 3 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'cli-848-topic', messages: Array.from({ length: 9 }, (_, index) => ({ partition: index % 3, value: String(index) })) });
    await producer.disconnect();
    const server = ['--bootstrap-server', broker.bootstrapServers];
    let read = 0;
    const stream = await consumer.consume({ topics: ['cli-848-topic'], mode: 'earliest', autocommit: false, maxWaitTime: 200 });
    stream.on('data', (message) => {
      read++;
      if (message.partition !== 2) void message.commit();
    });
    await waitFor('the consumer to read 9 records', () => (read === 9 ? true : undefined), 30_000);

    const listed = JSON.parse((await runChecked(...conveyor(['groups', 'list', ...server, '--json']))).stdout);
    assert.deepEqual(listed, [{ groupId: 'cli-848-group', type: 'consumer', state: 'Stable', protocolType: 'consumer' }]);
    const described = JSON.parse((await runChecked(...conveyor(['groups', 'describe', 'cli-848-group', ...server, '--json']))).stdout);
    assert.equal(described.type, 'consumer');
    assert.equal(described.state, 'Stable');
    assert.equal(described.assignor, 'uniform');
    assert.equal(described.groupEpoch, 1);
    assert.equal(described.members.length, 1);
    assert.equal(described.members[0].memberEpoch, 1);
    assert.equal(described.members[0].clientId, 'cli-848');
    assert.deepEqual(described.members[0].assignment, [{ topic: 'cli-848-topic', partitions: [0, 1, 2] }]);
    assert.deepEqual(described.members[0].targetAssignment, described.members[0].assignment);
    // Partitions 0 and 1 were committed after each record, partition 2 never: its lag is not known.
    assert.deepEqual(
      described.offsets.map((row: { partition: number; currentOffset: number; lag: number | null; memberId: string }) => [row.partition, row.currentOffset, row.lag, row.memberId]),
      [
        [0, 3, 0, described.members[0].memberId],
        [1, 3, 0, described.members[0].memberId],
        [2, -1, null, described.members[0].memberId],
      ],
    );
    assert.match((await runChecked(...conveyor(['groups', 'describe', 'cli-848-group', ...server]))).stdout, /TYPE consumer {2}STATE Stable {2}GROUP-EPOCH 1[\s\S]*TARGET-ASSIGNMENT/);
    const busy = await runProcess(...conveyor(['groups', 'reset-offsets', 'cli-848-group', '--topic', 'cli-848-topic', '--to-earliest', '--execute', ...server]));
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /is Stable: stop its consumers/);

    await stream.close();
    await consumer.close();
    const empty = JSON.parse((await runChecked(...conveyor(['groups', 'describe', 'cli-848-group', ...server, '--json']))).stdout);
    assert.equal(empty.state, 'Empty');
    await runChecked(...conveyor(['groups', 'reset-offsets', 'cli-848-group', '--topic', 'cli-848-topic', '--to-earliest', '--execute', ...server]));
    const reset = (await admin.fetchOffsets({ groupId: 'cli-848-group', topics: ['cli-848-topic'] }))[0]!.partitions.map((p) => p.offset).sort();
    assert.deepEqual(reset, ['0', '0', '0']);
    await runChecked(...conveyor(['groups', 'delete', 'cli-848-group', ...server]));
    assert.deepEqual(JSON.parse((await runChecked(...conveyor(['groups', 'list', ...server, '--json']))).stdout), []);
  } finally {
    await consumer.close().catch(() => {});
    await admin.disconnect();
    await broker.close();
  }
});
