// `conveyor groups` against a real broker: list, describe with lag, reset-offsets (dry run, then
// --execute) and delete, in text and JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from '../support/broker.js';
import { runChecked, runProcess } from '../support/process.js';

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
    assert.deepEqual(listed, [{ groupId: 'cli-group', state: 'Empty', protocolType: 'consumer' }]);

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
