// Transactions with @platformatic/kafka 2.x (on Node 20 through the Promise.withResolvers polyfill):
// InitProducerId v5, AddPartitionsToTxn v3 (the client layout: 0-3 are advertised), EndTxn v4.
// Commit and abort checked by a raw read_committed reader, and fencing of an older instance.
// Finding: platformatic's InitProducerId sends producer id 0 and epoch 0 rather than -1/-1 when it
// has none, which Kafka (and Conveyor) treat as a claim to producer id 0: a second platformatic
// instance of a transactional id that already has another producer id gets PRODUCER_FENCED. So
// the takeover here is done by kafkajs, and the platformatic instance is the one fenced.
import { Kafka, logLevel } from 'kafkajs';
import '../../support/polyfills.js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTopic, startTestBroker, type TestBroker } from '../../integration/helpers.js';
import { requireClient } from '../../support/clients.js';
import { readCommitted } from '../../support/read-committed.js';

const kafka = await import('@platformatic/kafka').catch(() => undefined);

describe('@platformatic/kafka transactions', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ config: { 'offsets.topic.num.partitions': 4, 'transaction.state.log.num.partitions': 4 } });
  });
  after(async () => {
    await broker.close();
  });
  const producer = (transactionalId: string) =>
    new kafka!.Producer({ clientId: 'txn-platformatic', bootstrapBrokers: [broker.running.bootstrapServers], idempotent: true, transactionalId, serializers: kafka!.stringSerializers });
  const messages = (prefix: string, count: number, partitions: number) => Array.from({ length: count }, (_, n) => ({ topic: '', key: `${n}`, value: `${prefix}-${n}`, partition: n % partitions }));

  test('commit and abort', async (t) => {
    if (!kafka || !(await requireClient(t, 'platformatic'))) return;
    await createTopic(broker.client, 'pl-txn', 2);
    const client = producer('pl-commit-abort');
    try {
      const withTopic = (list: ReturnType<typeof messages>) => list.map((message) => ({ ...message, topic: 'pl-txn' }));
      const committed = await client.beginTransaction();
      await committed.send({ messages: withTopic(messages('committed', 4, 2)) });
      await committed.commit();
      const aborted = await client.beginTransaction();
      await aborted.send({ messages: withTopic(messages('aborted', 4, 2)) });
      await aborted.abort();
    } finally {
      await client.close();
    }
    const values = (await readCommitted(broker.client, 'pl-txn', 2)).map((record) => record.value).sort();
    assert.deepEqual(values, ['committed-0', 'committed-1', 'committed-2', 'committed-3']);
  });

  test('fencing: a newer instance of the transactional id fences the platformatic one', async (t) => {
    if (!kafka || !(await requireClient(t, 'platformatic'))) return;
    await createTopic(broker.client, 'pl-fence', 1);
    const first = producer('pl-fenced');
    const takeover = new Kafka({ brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 2 } }).producer({ transactionalId: 'pl-fenced', idempotent: true, maxInFlightRequests: 1 });
    await takeover.connect();
    try {
      const open = await first.beginTransaction();
      await open.send({ messages: [{ topic: 'pl-fence', value: 'from-first', partition: 0 }] });
      const next = await takeover.transaction();
      await assert.rejects(open.commit());
      await next.send({ topic: 'pl-fence', messages: [{ value: 'from-second', partition: 0 }] });
      await next.commit();
    } finally {
      await first.close().catch(() => undefined);
      await takeover.disconnect();
    }
    assert.deepEqual((await readCommitted(broker.client, 'pl-fence', 1)).map((record) => record.value), ['from-second']);
  });
});
