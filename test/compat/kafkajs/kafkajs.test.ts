// kafkajs 2.2.4 against a Conveyor broker: admin topic creation, producing with gzip and without
// compression (kafkajs has no other codec built in), reading back through kafkajs's Fetch path,
// a restart on the same data directory, and ListOffsets through its admin client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompressionTypes, type Message } from 'kafkajs';
import { startTestBroker } from '../../support/broker.js';
import { requireClient } from '../../support/clients.js';
import { type ClientDriver, runCompatSuite } from '../../support/compat-suite.js';
import { consumeAllWithKafkajs, createTopicsWithKafkajs, kafkajsClient } from '../../support/kafkajs.js';
import { PARTITIONS } from '../../support/records.js';

const codecs: Record<string, CompressionTypes> = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP };

const driver: ClientDriver = {
  createTopics: (bootstrap, topics) => createTopicsWithKafkajs(bootstrap, topics, PARTITIONS),

  async partitionCount(bootstrap, topic) {
    const admin = kafkajsClient(bootstrap).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return topics[0]!.partitions.length;
    } finally {
      await admin.disconnect();
    }
  },

  async produce(bootstrap, topic, codec, records) {
    const producer = kafkajsClient(bootstrap).producer({ allowAutoTopicCreation: false, idempotent: false });
    await producer.connect();
    try {
      // Several sends of varied size, so partitions get many batches of different lengths.
      for (let start = 0, size = 50; start < records.length; start += size, size = size === 50 ? 400 : 50) {
        const messages: Message[] = records.slice(start, start + size).map((r) => ({
          key: r.key,
          value: r.value,
          partition: r.partition,
          timestamp: String(r.timestamp),
          headers: Object.fromEntries(r.headers),
        }));
        await producer.send({ topic, acks: -1, compression: codecs[codec], messages });
      }
    } finally {
      await producer.disconnect();
    }
  },

  consume: (bootstrap, topic) => consumeAllWithKafkajs(bootstrap, topic, PARTITIONS),

  async listOffsets(bootstrap, topic, queries) {
    const admin = kafkajsClient(bootstrap).admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      const byPartition = (list: Array<{ partition: number; offset: string }>, pick: (p: (typeof offsets)[number]) => string = (p) => p.offset) =>
        Array.from({ length: PARTITIONS }, (_, p) => Number(pick(list.find((o) => o.partition === p) as (typeof offsets)[number])));
      const byTimestamp: number[] = [];
      for (const query of queries) {
        const answer = await admin.fetchTopicOffsetsByTimestamp(topic, query.timestamp);
        byTimestamp.push(Number(answer.find((o) => o.partition === query.partition)!.offset));
      }
      return { earliest: byPartition(offsets, (p) => p.low), latest: byPartition(offsets, (p) => p.high), byTimestamp };
    } finally {
      await admin.disconnect();
    }
  },
};

test('kafkajs client compatibility', { timeout: 120_000 }, async (t) => {
  const client = await requireClient(t, 'kafkajs');
  if (client === undefined) return;
  await runCompatSuite(t, {
    client: 'kafkajs',
    codecs: [
      { codec: 'none' },
      { codec: 'gzip' },
      { codec: 'snappy', unavailable: 'kafkajs has no snappy codec unless one is registered' },
      { codec: 'lz4', unavailable: 'kafkajs has no lz4 codec unless one is registered' },
      { codec: 'zstd', unavailable: 'kafkajs has no zstd codec unless one is registered' },
    ],
    driver,
    verify: { checkPartition: true, checkTimestamp: true },
  });
});

// A minimal reproduction of the by-timestamp lookup: one produce request puts ten records with
// timestamps base, base+10, ..., base+90 in a single batch, so the answer must point inside it.
test('kafkajs ListOffsets by timestamp finds a record inside a batch', { timeout: 30_000 }, async (t) => {
  const client = await requireClient(t, 'kafkajs');
  if (client === undefined) return;
  const broker = await startTestBroker({ 'auto.create.topics.enable': false });
  t.after(() => broker.close());
  await createTopicsWithKafkajs(broker.bootstrapServers, ['one-batch'], 1);
  const base = Date.now() - 60_000;
  const producer = kafkajsClient(broker.bootstrapServers).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic: 'one-batch', messages: Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `v${i}`, partition: 0, timestamp: String(base + i * 10) })) });
  await producer.disconnect();
  const admin = kafkajsClient(broker.bootstrapServers).admin();
  await admin.connect();
  try {
    const answers: Record<string, number> = {};
    for (const delta of [0, 45, 50, 90]) {
      const [partition] = await admin.fetchTopicOffsetsByTimestamp('one-batch', base + delta);
      answers[`base+${delta}`] = Number(partition!.offset);
    }
    assert.deepEqual(answers, { 'base+0': 0, 'base+45': 5, 'base+50': 5, 'base+90': 9 });
  } finally {
    await admin.disconnect();
  }
});
