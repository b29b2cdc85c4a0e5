// `conveyor transactions list|describe` against a broker with one open and one committed
// transaction (kafkajs producers), in text and JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from '../support/broker.js';
import { runChecked } from '../support/process.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function conveyor(args: string[]): [string, string[]] {
  const script = `import(${JSON.stringify(main)}).then((cli) => cli.run(['node', 'conveyor', ...process.argv.slice(1)]))`;
  return [process.execPath, ['--import', 'tsx', '--eval', script, ...args]];
}

test('transactions list and describe', async () => {
  const broker = await startTestBroker({ 'transaction.state.log.num.partitions': 2 });
  const kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const done = kafka.producer({ transactionalId: 'cli-done', idempotent: true, maxInFlightRequests: 1 });
  const open = kafka.producer({ transactionalId: 'cli-open', idempotent: true, maxInFlightRequests: 1 });
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'cli-txn', numPartitions: 2 }] });
    await done.connect();
    const committed = await done.transaction();
    await committed.send({ topic: 'cli-txn', messages: [{ value: 'a', partition: 0 }] });
    await committed.commit();
    await open.connect();
    const ongoing = await open.transaction();
    await ongoing.send({ topic: 'cli-txn', messages: [{ value: 'b', partition: 1 }] });

    const [command, args] = conveyor(['transactions', 'list', '--bootstrap-server', broker.bootstrapServers, '--json']);
    const listed = JSON.parse((await runChecked(command, args)).stdout) as { transactionalId: string; state: string }[];
    assert.deepEqual(listed.map((entry) => `${entry.transactionalId}:${entry.state}`).sort(), ['cli-done:CompleteCommit', 'cli-open:Ongoing']);
    const [describeCommand, describeArgs] = conveyor(['transactions', 'describe', 'cli-open', '--bootstrap-server', broker.bootstrapServers]);
    const text = (await runChecked(describeCommand, describeArgs)).stdout;
    assert.match(text, /cli-open\s+\d+\s+0\s+Ongoing\s+60000\s+\S+\s+cli-txn-1/);
    await ongoing.abort();
  } finally {
    await done.disconnect();
    await open.disconnect();
    await admin.disconnect();
    await broker.close();
  }
});
