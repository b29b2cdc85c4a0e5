// kafkajs 2.2.4 against a Conveyor broker: admin topic creation, producing with gzip and without
// compression (kafkajs has no other codec built in), reading back through kafkajs's Fetch path,
// a restart on the same data directory, and ListOffsets through its admin client.
import { test } from 'node:test';
import { CompressionTypes, type Message } from 'kafkajs';
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
