// librdkafka 2.15 (through @confluentinc/kafka-javascript's node-rdkafka API, installed by
// scripts/install-librdkafka-client.sh) against a Conveyor broker: one producer per codec (gzip,
// snappy, lz4, zstd) with acks=all, explicit partitions, timestamps and binary headers; then one
// classic-protocol group consumer reads all four topics, commits what it processed and reads the
// committed offsets back. Skipped while the client is not built for this node, failed instead under
// CONVEYOR_REQUIRE_ALL_CLIENTS=1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startTestBroker } from '../../support/broker.js';
import { requireClient } from '../../support/clients.js';
import { createTopicsWithKafkajs } from '../../support/kafkajs.js';
import { LIBRDKAFKA_PACKAGE, type LibrdkafkaModule, loadLibrdkafka, type RdkafkaConsumer, type RdkafkaMessage, type RdkafkaTopicPartition } from '../../support/librdkafka.js';
import { type ConsumedRecord, generateRecords, PARTITIONS, sortByPartitionOffset, type TestRecord, verifyConsumed } from '../../support/records.js';

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'];
const PER_CODEC = 250;

/** Settles with the callback's error or value (the node-rdkafka API is callback based). */
function callback<T = void>(start: (done: (err: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value as T))));
}

async function produceAll(kafka: LibrdkafkaModule, bootstrap: string, topic: string, codec: string, records: TestRecord[]): Promise<void> {
  const producer = new kafka.Producer({ 'bootstrap.servers': bootstrap, 'compression.codec': codec, acks: 'all', dr_cb: true, 'linger.ms': 5 });
  const failures: string[] = [];
  let delivered = 0;
  const allDelivered = new Promise<void>((resolve) => {
    producer.on('delivery-report', ((err: Error | null) => {
      if (err) failures.push(String(err));
      if (++delivered === records.length) resolve();
    }) as (...args: never[]) => void);
  });
  await callback((done) => producer.connect({}, done));
  try {
    producer.setPollInterval(20);
    for (const record of records) {
      const headers = record.headers.map(([key, value]) => ({ [key]: value }));
      producer.produce(topic, record.partition, record.value, record.key, record.timestamp, undefined, headers);
    }
    await callback((done) => producer.flush(10_000, done));
    await allDelivered;
    assert.deepEqual(failures.slice(0, 5), [], `${codec}: delivery failures`);
  } finally {
    producer.setPollInterval(0);
    await callback((done) => producer.disconnect(done));
  }
}

function toConsumed(message: RdkafkaMessage): ConsumedRecord {
  const key = message.key === undefined || message.key === null ? null : Buffer.from(message.key);
  const headers = (message.headers ?? []).flatMap((header) => Object.entries(header).map(([name, value]): [string, Buffer] => [name, Buffer.from(value)]));
  return { partition: message.partition, offset: message.offset, key, value: message.value, headers, timestamp: message.timestamp ?? -1 };
}

/** Consumes until `expected` messages arrived (or the deadline), in the order the client returned them. */
async function consumeCount(consumer: RdkafkaConsumer, expected: number, timeoutMs: number): Promise<RdkafkaMessage[]> {
  const messages: RdkafkaMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (messages.length < expected && Date.now() < deadline) {
    const batch = await callback<RdkafkaMessage[]>((done) => consumer.consume(500, done));
    messages.push(...batch);
  }
  return messages;
}

test(`librdkafka (${LIBRDKAFKA_PACKAGE}): every codec with acks=all, read back and committed by a classic group`, { timeout: 90_000 }, async (t) => {
  if ((await requireClient(t, 'librdkafka-js')) === undefined) return;
  const client = loadLibrdkafka();
  const kafka = client.module!;
  t.diagnostic(`librdkafka ${client.version} (${LIBRDKAFKA_PACKAGE} ${client.packageVersion}), features ${kafka.features.join(',')}`);
  for (const codec of CODECS) assert.ok(kafka.features.includes(codec), `librdkafka built without ${codec}`);

  const broker = await startTestBroker({ 'auto.create.topics.enable': false, 'group.initial.rebalance.delay.ms': 0 });
  t.after(() => broker.close());
  const bootstrap = broker.bootstrapServers;
  const baseTimestamp = Date.now() - 3_600_000;
  const topics = CODECS.map((codec, i) => ({ codec, topic: `librdkafka-${codec}`, records: generateRecords({ count: PER_CODEC, firstSeq: i * PER_CODEC, baseTimestamp }) }));
  await createTopicsWithKafkajs(bootstrap, topics.map((s) => s.topic), PARTITIONS);

  for (const state of topics) {
    await t.test(`produces ${PER_CODEC} records with ${state.codec}`, () => produceAll(kafka, bootstrap, state.topic, state.codec, state.records));
  }

  await t.test('a classic-protocol group member reads every topic, commits and reads its commits back', async () => {
    const consumer = new kafka.KafkaConsumer(
      { 'bootstrap.servers': bootstrap, 'group.id': 'librdkafka-smoke', 'group.protocol': 'classic', 'enable.auto.commit': false, 'session.timeout.ms': 10_000 },
      { 'auto.offset.reset': 'earliest' },
    );
    await callback((done) => consumer.connect({}, done));
    try {
      consumer.subscribe(topics.map((s) => s.topic));
      const messages = await consumeCount(consumer, PER_CODEC * topics.length, 30_000);
      for (const state of topics) {
        const own = messages.filter((m) => m.topic === state.topic).map(toConsumed);
        verifyConsumed(state.records, sortByPartitionOffset(own), { checkPartition: true, checkTimestamp: true, partitions: PARTITIONS });
      }
      // Processed first, then committed: the next offset of every partition read.
      const next = new Map<string, RdkafkaTopicPartition>();
      for (const m of messages) next.set(`${m.topic}/${m.partition}`, { topic: m.topic, partition: m.partition, offset: m.offset + 1 });
      const offsets = [...next.values()];
      // commitSync would block this thread, which also runs the broker; commitCb only queues the
      // commit (commitAsync), so the committed offsets are read back until they show.
      await callback((done) => consumer.commitCb(offsets, done));
      const show = (list: RdkafkaTopicPartition[]) => list.map((p) => `${p.topic}/${p.partition}@${p.offset}`).sort();
      const readCommitted = () => callback<RdkafkaTopicPartition[]>((done) => consumer.committed(offsets.map(({ topic, partition }) => ({ topic, partition })), 10_000, done));
      let committed = await readCommitted();
      for (const deadline = Date.now() + 10_000; show(committed).join() !== show(offsets).join() && Date.now() < deadline; ) {
        await delay(100);
        committed = await readCommitted();
      }
      assert.deepEqual(show(committed), show(offsets));
      const total = offsets.reduce((sum, p) => sum + (p.offset ?? 0), 0);
      assert.equal(total, PER_CODEC * topics.length, 'committed offsets add up to every record');
    } finally {
      await callback((done) => consumer.disconnect(done));
    }
  });
});
