// `conveyor transactions describe-producers --topic T --partition P` (Kafka's kafka-transactions.sh
// describe-producers) against a broker where a kafkajs idempotent producer wrote and a
// transactional one has a transaction open, as a table and as JSON; and its error for a partition
// the cluster does not have.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from '../support/broker.js';
import { runChecked, runProcess } from '../support/process.js';
import type { ProducerStateInfo } from '../../src/client/admin-client.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function conveyor(args: string[]): [string, string[]] {
  const script = `import(${JSON.stringify(main)}).then((cli) => cli.run(['node', 'conveyor', ...process.argv.slice(1)]))`;
  return [process.execPath, ['--import', 'tsx', '--eval', script, ...args]];
}

/** What `--json` prints for each producer: the admin client's own description. */
type DescribedProducer = ProducerStateInfo;

test('transactions describe-producers', async () => {
  const broker = await startTestBroker({ 'transaction.state.log.num.partitions': 2 });
  const kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const transactional = kafka.producer({ transactionalId: 'cli-producers', idempotent: true, maxInFlightRequests: 1 });
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'cli-producers', numPartitions: 2 }] });
    const startedMs = Date.now();
    await idempotent.connect();
    await idempotent.send({ topic: 'cli-producers', messages: [{ value: 'a', partition: 1 }, { value: 'b', partition: 1 }, { value: 'c', partition: 1 }] });
    await transactional.connect();
    const transaction = await transactional.transaction();
    await transaction.send({ topic: 'cli-producers', messages: [{ value: 'x', partition: 1 }] });
    const common = ['--bootstrap-server', broker.bootstrapServers, '--topic', 'cli-producers', '--partition', '1'];

    const [command, args] = conveyor(['transactions', 'describe-producers', ...common, '--json']);
    const described = JSON.parse((await runChecked(command, args)).stdout) as DescribedProducer[];
    assert.equal(described.length, 2);
    const plain = described.find((producer) => producer.currentTransactionStartOffset === -1)!;
    const inTransaction = described.find((producer) => producer.currentTransactionStartOffset !== -1)!;
    assert.deepEqual(
      { epoch: plain.producerEpoch, lastSequence: plain.lastSequence, coordinatorEpoch: plain.coordinatorEpoch },
      { epoch: 0, lastSequence: 2, coordinatorEpoch: -1 },
    );
    // The idempotent producer's three records are offsets 0-2; the open transaction starts at 3.
    assert.deepEqual({ lastSequence: inTransaction.lastSequence, start: inTransaction.currentTransactionStartOffset }, { lastSequence: 0, start: 3 });
    assert.notEqual(plain.producerId, inTransaction.producerId);
    for (const producer of described) assert.ok(producer.lastTimestamp >= startedMs - 1000 && producer.lastTimestamp <= Date.now() + 1000);

    const [textCommand, textArgs] = conveyor(['transactions', 'describe-producers', ...common]);
    const lines = (await runChecked(textCommand, textArgs)).stdout.trim().split('\n');
    assert.match(lines[0]!, /^ProducerId\s+ProducerEpoch\s+LatestCoordinatorEpoch\s+LastSequence\s+LastTimestamp\s+CurrentTransactionStartOffset$/);
    assert.equal(lines.length, 3);
    assert.ok(lines.some((line) => new RegExp(`^${plain.producerId}\\s+0\\s+-1\\s+2\\s+${plain.lastTimestamp}\\s+None$`).test(line)), lines.join('\n'));
    assert.ok(lines.some((line) => new RegExp(`^${inTransaction.producerId}\\s+${inTransaction.producerEpoch}\\s+-?\\d+\\s+0\\s+\\d+\\s+3$`).test(line)), lines.join('\n'));

    // Another partition has no producers: only the header.
    const [emptyCommand, emptyArgs] = conveyor(['transactions', 'describe-producers', '--bootstrap-server', broker.bootstrapServers, '--topic', 'cli-producers', '--partition', '0', '--json']);
    assert.deepEqual(JSON.parse((await runChecked(emptyCommand, emptyArgs)).stdout), []);

    const [missingCommand, missingArgs] = conveyor(['transactions', 'describe-producers', '--bootstrap-server', broker.bootstrapServers, '--topic', 'cli-producers', '--partition', '5']);
    const missing = await runProcess(missingCommand, missingArgs, { timeoutMs: 60_000 });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no partition 5|UNKNOWN_TOPIC_OR_PARTITION/);
    await transaction.abort();
  } finally {
    await idempotent.disconnect();
    await transactional.disconnect();
    await admin.disconnect();
    await broker.close();
  }
});
