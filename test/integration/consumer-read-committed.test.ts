// The project's own consumer (src/client/consumer.ts) with read_committed, as Connect's offsets
// log reads it under exactly-once source support: kafkajs writes committed and aborted
// transactions, interleaved from two producers, plus plain records; the consumer returns exactly
// the plain records and the committed transactions' records, in offset order, and no control
// record. read_uncommitted returns the aborted ones too. And a poll is all or nothing: a partition
// error moves no position.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AdminClient } from '../../src/client/admin-client.js';
import { ClusterClient, KafkaResponseError } from '../../src/client/cluster-client.js';
import { Producer } from '../../src/client/producer.js';
import { ErrorCode } from '../../src/base/error-codes.js';
import { Consumer } from '../../src/client/consumer.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { kafkajsClient } from '../support/kafkajs.js';
import { type TestBroker, startTestBroker, uniqueTopic } from './helpers.js';

describe('the client consumer with read_committed', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  it('skips aborted transactions and control records; read_uncommitted does not', async () => {
    const topic = uniqueTopic('read-committed');
    const kafka = kafkajsClient(broker.running.bootstrapServers, 'read-committed-test');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const plain = kafka.producer();
    const first = kafka.producer({ transactionalId: `${topic}-a`, idempotent: true, maxInFlightRequests: 1 });
    const second = kafka.producer({ transactionalId: `${topic}-b`, idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([plain.connect(), first.connect(), second.connect()]);
    const send = (transaction: { send: typeof plain.send }, values: string[]) => transaction.send({ topic, messages: values.map((value) => ({ value })) });
    try {
      await send(plain, ['plain-1']);
      const a1 = await first.transaction();
      const b1 = await second.transaction();
      await send(a1, ['a1-1']);
      await send(b1, ['b1-aborted-1']);
      await send(a1, ['a1-2']);
      await send(b1, ['b1-aborted-2']);
      await a1.commit();
      await send(plain, ['plain-2']);
      await b1.abort();
      const a2 = await first.transaction();
      await send(a2, ['a2-aborted']);
      await a2.abort();
      const b2 = await second.transaction();
      await send(b2, ['b2-1']);
      await b2.commit();
    } finally {
      await Promise.all([plain.disconnect(), first.disconnect(), second.disconnect()]);
    }

    const cluster = new ClusterClient(connectTcp, broker.running.bootstrapServers, 'read-committed-reader');
    try {
      const info = await new AdminClient(cluster).describeTopic(topic);
      const readAll = async (readCommitted: boolean) => {
        const consumer = new Consumer(cluster, info, new Map([[0, 0]]), readCommitted);
        const values: string[] = [];
        for (let round = 0; round < 20 && consumer.positions.get(0)! < 12; round++) {
          for (const record of await consumer.poll(100)) values.push(record.value!.toString());
        }
        return values;
      };
      assert.deepEqual(await readAll(true), ['plain-1', 'a1-1', 'a1-2', 'plain-2', 'b2-1'], 'read_committed: plain and committed records only, in offset order');
      assert.deepEqual(await readAll(false), ['plain-1', 'a1-1', 'b1-aborted-1', 'a1-2', 'b1-aborted-2', 'plain-2', 'a2-aborted', 'b2-1'], 'read_uncommitted: every data record, no control record');
    } finally {
      cluster.close();
    }
  });

  it('a poll that fails for one partition moves no position, so a retry skips no record', async () => {
    const topic = uniqueTopic('poll-all-or-nothing');
    const cluster = new ClusterClient(connectTcp, broker.running.bootstrapServers, 'poll-rollback');
    try {
      const admin = new AdminClient(cluster);
      await admin.createTopic(topic, { partitions: 2, replicationFactor: 1 });
      const info = await admin.describeTopic(topic);
      const producer = new Producer(cluster, info, { compression: 0, acks: -1 });
      const sent = await producer.send(['a', 'b', 'c'].map((value) => ({ key: null, value: Buffer.from(value), headers: [], partition: 0 })));
      assert.equal(sent.find((result) => result.error !== null), undefined);
      // Partition 0 answers with records, partition 1 with OFFSET_OUT_OF_RANGE in the same response.
      const consumer = new Consumer(cluster, info, new Map([[0, 0], [1, 100]]));
      await assert.rejects(consumer.poll(100), (error: unknown) => error instanceof KafkaResponseError && error.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE);
      assert.equal(consumer.positions.get(0), 0, 'the records of partition 0 were not handed out, so its position stays');
      consumer.positions.set(1, 0);
      const values = (await consumer.poll(100)).map((record) => record.value!.toString());
      assert.deepEqual(values, ['a', 'b', 'c']);
    } finally {
      cluster.close();
    }
  });
});
