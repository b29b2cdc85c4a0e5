// Transactions with confluent-kafka-python 1.7 (librdkafka 2.0.2) through /usr/bin/python3:
// commit and abort seen through librdkafka's own read_committed consumer, fencing of an older
// instance by init_transactions of a newer one, and send_offsets_to_transaction committing (or,
// on abort, not committing) a group's offsets. Skipped when python3-confluent-kafka is missing.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { createTopic, startTestBroker, type TestBroker } from '../../integration/helpers.js';
import { requireClient } from '../../support/clients.js';
import { runPythonJson } from '../../support/process.js';
import { readCommitted } from '../../support/read-committed.js';

const DRIVER = fileURLToPath(new URL('./confluent_txn.py', import.meta.url));

describe('confluent-kafka-python transactions', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 4, 'transaction.state.log.num.partitions': 4 } });
  });
  after(async () => {
    await broker.close();
  });
  const run = <T>(command: string, topic: string) => runPythonJson<T>(DRIVER, command, { bootstrap: broker.running.bootstrapServers, topic }, 90_000);

  test('commit and abort: librdkafka read_committed sees committed records only', async (t) => {
    if (!(await requireClient(t, 'confluent-kafka-python'))) return;
    await createTopic(broker.client, 'py-txn', 2);
    const result = await run<{ values: string[] }>('commit-abort', 'py-txn');
    const expected = ['committed-0', 'committed-1', 'committed-2', 'committed-3', 'committed-4'];
    assert.deepEqual(result.values, expected);
    assert.deepEqual((await readCommitted(broker.client, 'py-txn', 2)).map((record) => record.value).sort(), expected);
  });

  test('fencing: a second instance fences the first, whose commit fails', async (t) => {
    if (!(await requireClient(t, 'confluent-kafka-python'))) return;
    await createTopic(broker.client, 'py-fence', 1);
    const result = await run<{ fencedError: string | null; values: string[] }>('fencing', 'py-fence');
    assert.ok(result.fencedError !== null, 'the fenced producer could still commit');
    assert.deepEqual(result.values, ['from-second']);
  });

  test('send_offsets_to_transaction: committed with the transaction, dropped on abort', async (t) => {
    if (!(await requireClient(t, 'confluent-kafka-python'))) return;
    await createTopic(broker.client, 'py-offsets', 1);
    const result = await run<{ afterAbort: number; afterCommit: number }>('send-offsets', 'py-offsets');
    assert.ok(result.afterAbort < 0, `offset after abort: ${result.afterAbort}`);
    assert.equal(result.afterCommit, 42);
  });
});
