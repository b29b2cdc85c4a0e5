// kafkajs 2.2.4's worker queue loses a batch pushed in the microtask after its only worker found
// the queue empty (see kafkajs-worker-queue.ts); the replacement the chaos harness puts in its place
// takes every batch and counts the pushes that met that window. A real kafkajs consumer group
// reads through the replacement.
import { kafkajsOwnWorker, kafkajsWorkerQueue, createWorker } from './kafkajs-worker-queue.js';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type TestBroker, startTestBroker, uniqueTopic, waitFor } from '../integration/helpers.js';

const require = createRequire(import.meta.url);
const createWorkerQueue = require('kafkajs/src/consumer/workerQueue.js') as (options: { workers: unknown[] }) => { push: (...batches: string[]) => Promise<void> };

/**
 * One worker: batch "a" is handled until released; "b" is pushed `hops` microtasks after the
 * release. Says whether "b" was handled by the next macrotask turns.
 */
async function pushAfterRelease(factory: typeof createWorker, hops: number): Promise<boolean> {
  let release = () => {};
  const handled: string[] = [];
  const handler = async (batch: string) => {
    if (batch === 'a') await new Promise<void>((resolve) => { release = resolve; });
    handled.push(batch);
  };
  const queue = createWorkerQueue({ workers: [factory({ handler, workerId: 0 })] });
  void queue.push('a');
  await new Promise((resolve) => setTimeout(resolve, 1));
  release();
  let chain = Promise.resolve();
  for (let hop = 0; hop < hops; hop++) chain = chain.then(() => {});
  void chain.then(() => queue.push('b'));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(handled.includes('a'));
  return handled.includes('b');
}

describe('kafkajs worker queue', () => {
  it('is replaced in kafkajs by the fixed worker', () => {
    assert.equal(kafkajsWorkerQueue.installed, true);
    assert.equal(require('kafkajs/src/consumer/worker.js'), createWorker);
    assert.ok(kafkajsOwnWorker && kafkajsOwnWorker !== createWorker);
  });

  it('kafkajs\'s own worker loses the batch pushed in its window; the replacement takes it and counts the race', async () => {
    const lostByKafkajs: number[] = [];
    const racesCounted: number[] = [];
    for (let hops = 0; hops <= 8; hops++) {
      if (!(await pushAfterRelease(kafkajsOwnWorker!, hops))) lostByKafkajs.push(hops);
      const before = kafkajsWorkerQueue.racesMet;
      assert.equal(await pushAfterRelease(createWorker, hops), true, `the replacement handles a batch pushed ${hops} microtasks after the release`);
      if (kafkajsWorkerQueue.racesMet > before) racesCounted.push(hops);
    }
    assert.ok(lostByKafkajs.length > 0, 'kafkajs 2.2.4 loses a batch pushed in its window (if this fails, kafkajs fixed it: drop the replacement)');
    assert.deepEqual(racesCounted, lostByKafkajs, 'the replacement counts exactly the pushes kafkajs would have lost');
  });

  describe('a kafkajs consumer group through the replacement', () => {
    let broker: TestBroker;
    before(async () => {
      broker = await startTestBroker();
    });
    after(async () => {
      await broker.close();
    });

    it('reads every record of a 3-partition topic', async () => {
      const topic = uniqueTopic('worker-queue');
      const kafka = new Kafka({ clientId: 'worker-queue', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: Array.from({ length: 300 }, (_, index) => ({ partition: index % 3, value: `v${index}` })) });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: `${topic}-group`, maxWaitTimeInMs: 50 });
      const seen = new Set<string>();
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => { seen.add(message.value!.toString()); } });
        await waitFor(() => seen.size === 300, 'the consumer to read the 300 records', 20_000);
      } finally {
        await consumer.disconnect();
      }
      assert.deepEqual([...seen].sort(), Array.from({ length: 300 }, (_, index) => `v${index}`).sort());
    });
  });
});
