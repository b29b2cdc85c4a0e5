// Transactions with kafkajs 2.2.4 (InitProducerId v1, AddPartitionsToTxn v1, AddOffsetsToTxn v1,
// TxnOffsetCommit v1, EndTxn v1): commit, abort, fencing by a second instance, an open transaction
// holding back the last stable offset, sendOffsets committing a group's offsets with the
// transaction (and those offsets surviving a broker restart), and kafkajs's own read_committed
// consumer seeing only committed records. The broker keeps its data on disk so it can restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ListOffsetsApi } from '../../../src/protocol/messages/index.js';
import { createTopic, startTestBroker, type TestBroker, temporaryDirectory, waitFor } from '../../integration/helpers.js';
import { readCommitted, readCommittedPartition } from '../../support/read-committed.js';

describe('kafkajs transactions', () => {
  const config = { 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 4, 'transaction.state.log.num.partitions': 4 };
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
  let broker: TestBroker;
  let kafka: Kafka;
  const connectKafka = () => new Kafka({ clientId: 'txn-kafkajs', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 50 } });
  before(async () => {
    directory = await temporaryDirectory();
    broker = await startTestBroker({ storage: 'disk', dataDir: directory.path, config });
    kafka = connectKafka();
  });
  after(async () => {
    await broker.close();
    await directory.remove();
  });

  const transactionalProducer = (transactionalId: string) => kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });

  test('commit and abort: read_committed sees committed records only, read_uncommitted sees both', async () => {
    await createTopic(broker.client, 'kjs-txn', 2);
    const producer = transactionalProducer('kjs-commit');
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({ topic: 'kjs-txn', messages: [0, 1, 2, 3].map((n) => ({ key: `c${n}`, value: `committed-${n}`, partition: n % 2 })) });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic: 'kjs-txn', messages: [0, 1, 2, 3].map((n) => ({ key: `a${n}`, value: `aborted-${n}`, partition: n % 2 })) });
      await aborted.abort();
      const again = await producer.transaction();
      await again.send({ topic: 'kjs-txn', messages: [{ key: 'c4', value: 'committed-4', partition: 0 }] });
      await again.commit();
    } finally {
      await producer.disconnect();
    }
    const values = (await readCommitted(broker.client, 'kjs-txn', 2)).map((record) => record.value).sort();
    assert.deepEqual(values, ['committed-0', 'committed-1', 'committed-2', 'committed-3', 'committed-4']);
    assert.deepEqual(await consumeWithKafkajs(kafka, 'kjs-txn', 'kjs-reader', 5, false), ['committed-0', 'committed-1', 'committed-2', 'committed-3', 'committed-4']);
    const uncommitted = await consumeWithKafkajs(kafka, 'kjs-txn', 'kjs-uncommitted-reader', 9, true);
    assert.equal(uncommitted.filter((value) => value.startsWith('aborted')).length, 4);
  });

  test('an open transaction holds back the LSO; a second instance fences the first and aborts its transaction', async () => {
    await createTopic(broker.client, 'kjs-fence', 1);
    const first = transactionalProducer('kjs-fenced');
    await first.connect();
    const open = await first.transaction();
    await open.send({ topic: 'kjs-fence', messages: [{ key: 'x', value: 'from-first' }] });
    const partition = await readCommittedPartition(broker.client, 'kjs-fence', 0);
    assert.equal(partition.lastStableOffset, 0, 'the open transaction starts at offset 0');
    assert.equal(partition.highWatermark, 1);
    assert.equal(await latestOffset(broker, 'kjs-fence', 1), 0, 'ListOffsets latest under read_committed is the LSO');
    assert.equal(await latestOffset(broker, 'kjs-fence', 0), 1);

    const second = transactionalProducer('kjs-fenced');
    await second.connect();
    try {
      // kafkajs initialises a transactional producer id on its first transaction(): that fences the first.
      const next = await second.transaction();
      await assert.rejects(open.commit(), /fenced|epoch/i);
      await next.send({ topic: 'kjs-fence', messages: [{ key: 'y', value: 'from-second' }] });
      await next.commit();
    } finally {
      await second.disconnect();
      await first.disconnect().catch(() => undefined);
    }
    const values = (await readCommitted(broker.client, 'kjs-fence', 1)).map((record) => record.value);
    assert.deepEqual(values, ['from-second']);
  });

  test('sendOffsets commits the group offsets with the transaction; an abort drops them', async () => {
    await createTopic(broker.client, 'kjs-offsets', 1);
    const admin = kafka.admin();
    await admin.connect();
    const producer = transactionalProducer('kjs-offsets');
    await producer.connect();
    try {
      const aborted = await producer.transaction();
      await aborted.sendOffsets({ consumerGroupId: 'kjs-copier', topics: [{ topic: 'kjs-offsets', partitions: [{ partition: 0, offset: '7' }] }] });
      await aborted.abort();
      assert.equal(await committedOffset(admin, 'kjs-copier', 'kjs-offsets'), '-1');
      const committed = await producer.transaction();
      await committed.send({ topic: 'kjs-offsets', messages: [{ value: 'with-offsets' }] });
      await committed.sendOffsets({ consumerGroupId: 'kjs-copier', topics: [{ topic: 'kjs-offsets', partitions: [{ partition: 0, offset: '42' }] }] });
      await committed.commit();
      assert.equal(await committedOffset(admin, 'kjs-copier', 'kjs-offsets'), '42');
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
    // The offsets survive a restart: the replay of `__consumer_offsets` holds the transactional
    // offsets pending and commits them at their COMMIT marker (the aborted 7 stays dropped).
    await broker.close();
    broker = await startTestBroker({ storage: 'disk', dataDir: directory.path, config });
    kafka = connectKafka();
    const restartedAdmin = kafka.admin();
    await restartedAdmin.connect();
    try {
      assert.equal(await committedOffset(restartedAdmin, 'kjs-copier', 'kjs-offsets'), '42');
    } finally {
      await restartedAdmin.disconnect();
    }
  });
});

async function committedOffset(admin: ReturnType<Kafka['admin']>, groupId: string, topic: string): Promise<string> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return entry!.partitions.find((partition) => partition.partition === 0)!.offset;
}

async function latestOffset(broker: TestBroker, topic: string, isolationLevel: number): Promise<number> {
  const response = await broker.client.request(ListOffsetsApi, 5, {
    replicaId: -1,
    isolationLevel,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }],
  });
  return Number(response.topics[0]!.partitions[0]!.offset);
}

/** kafkajs's own group consumer from the beginning, until `count` records arrived (with a deadline). */
async function consumeWithKafkajs(kafka: Kafka, topic: string, groupId: string, count: number, readUncommitted: boolean): Promise<string[]> {
  const consumer = kafka.consumer({ groupId, readUncommitted, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    await waitFor(() => values.length >= count, `${count} records from ${topic}`, 30_000);
    // A moment for anything that should not be there (aborted records) to show up.
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await consumer.disconnect();
  }
  return values.sort();
}
