// The project's own producer (tools, Connect) splits what one send() is given into batches of at
// most about 1 MiB per partition (Kafka's max.request.size), sent one after the other, so a send of
// several MiB to one partition is written whole and in order instead of being refused as
// MESSAGE_TOO_LARGE; a record larger than a batch still gets the broker's error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AdminClient } from '../../src/client/admin-client.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { Consumer } from '../../src/client/consumer.js';
import { Producer, type ProducerRecord } from '../../src/client/producer.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { createTopic, startTestBroker, type TestBroker, uniqueTopic } from './helpers.js';

describe('client producer: batches within max.request.size', () => {
  let broker: TestBroker;
  let cluster: ClusterClient;
  before(async () => {
    broker = await startTestBroker();
    cluster = new ClusterClient(connectTcp, broker.running.bootstrapServers);
  });
  after(async () => {
    cluster.close();
    await broker.close();
  });

  it('writes 4 MiB sent at once to two partitions in order, in several batches', async () => {
    const topic = uniqueTopic('big-send');
    await createTopic(broker.client, topic, 2);
    const info = await new AdminClient(cluster).describeTopic(topic);
    const producer = new Producer(cluster, info, { acks: -1, compression: 0 });
    const value = (index: number) => Buffer.from(`${String(index).padStart(8, '0')}${'v'.repeat(2040)}`);
    const records: ProducerRecord[] = Array.from({ length: 2000 }, (_, index) => ({ key: null, value: value(index), headers: [], partition: index % 2 }));
    const results = await producer.send(records);
    assert.deepEqual(results.filter((result) => result.error !== null), []);
    for (const partition of [0, 1]) {
      const offsets = results.filter((result) => result.partition === partition).map((result) => result.offset);
      assert.deepEqual(offsets, Array.from({ length: 1000 }, (_, index) => index), `partition ${partition}: offsets 0-999 in send order`);
    }
    const consumer = new Consumer(cluster, info, new Map([[0, 0]]));
    const read: string[] = [];
    while (read.length < 1000) read.push(...(await consumer.poll(500)).map((record) => record.value!.subarray(0, 8).toString()));
    assert.deepEqual(read, Array.from({ length: 1000 }, (_, index) => String(index * 2).padStart(8, '0')));
  });

  it('a record larger than the broker allows fails with MESSAGE_TOO_LARGE, the records before it are written, and later batches of its partition are not sent', async () => {
    const topic = uniqueTopic('too-large');
    await createTopic(broker.client, topic, 1);
    const info = await new AdminClient(cluster).describeTopic(topic);
    const producer = new Producer(cluster, info, { acks: -1, compression: 0 });
    const small = (text: string): ProducerRecord => ({ key: null, value: Buffer.from(text), headers: [] });
    const results = await producer.send([small('first'), { key: null, value: Buffer.alloc(1100 * 1024, 1), headers: [] }, small('after')]);
    assert.equal(results[0]!.error, null);
    assert.match(results[1]!.error ?? '', /MESSAGE_TOO_LARGE/);
    assert.match(results[2]!.error ?? '', /MESSAGE_TOO_LARGE/, 'the batch after a failed one fails with it, so a retry keeps the order');
    assert.equal(results[2]!.offset, -1);
  });
});
