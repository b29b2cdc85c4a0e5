// @platformatic/kafka 2.x against a Conveyor broker: Admin topic creation, producing with every
// codec (zstd included on Node 22+; Node 20's zlib has none), group-less reads through
// Consumer.fetch, a restart on the same data directory, and Consumer.listOffsets. The client
// declares Node >= 22.22 || >= 24.6; on Node 20 it runs with the Promise.withResolvers polyfill,
// which is loaded on Node 20 only, so on 22 and 24 the client uses the native one.
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { requireClient } from '../../support/clients.js';
import { type ClientDriver, type CodecSupport, runCompatSuite } from '../../support/compat-suite.js';
import { type ConsumedRecord, PARTITIONS } from '../../support/records.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
if (NODE_MAJOR < 22) await import('../../support/polyfills.js');

// Imported after the polyfill: platformatic reads Promise.withResolvers when its calls run.
const kafka = await import('@platformatic/kafka').catch(() => undefined);

const clientOptions = (bootstrap: string) => ({ clientId: 'conveyor-compat', bootstrapBrokers: [bootstrap], retries: 2, retryDelay: 100 });

type Codec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** node:zlib's zstd (Node 22.15+, 23.8+), which platformatic's zstd codec is built on. */
const nodeHasZstd = typeof (zlib as unknown as Record<string, unknown>).zstdCompressSync === 'function';

function codecSupport(): CodecSupport[] {
  const algorithms = kafka?.compressionsAlgorithms as Record<Codec, { available: boolean }> | undefined;
  return (['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const).map((codec) =>
    // Only zstd on a Node without zlib zstd (Node 20) may be skipped. On Node 22+ every codec
    // runs, so a client that reports one unavailable there fails the suite instead of skipping.
    codec === 'zstd' && !nodeHasZstd && NODE_MAJOR < 22 && algorithms?.zstd.available !== true
      ? { codec, unavailable: `platformatic zstd needs node:zlib zstd (Node 22.15+), absent on Node ${process.versions.node}` }
      : { codec },
  );
}

function consumer(bootstrap: string) {
  // groupId is required by the constructor; fetch and listOffsets never contact a group coordinator.
  return new kafka!.Consumer({ ...clientOptions(bootstrap), groupId: 'conveyor-compat-unused', maxWaitTime: 100 });
}

const driver: ClientDriver = {
  async createTopics(bootstrap, topics) {
    const admin = new kafka!.Admin(clientOptions(bootstrap));
    try {
      await admin.createTopics({ topics, partitions: PARTITIONS, replicas: 1 });
    } finally {
      await admin.close();
    }
  },

  async partitionCount(bootstrap, topic) {
    const admin = new kafka!.Admin(clientOptions(bootstrap));
    try {
      const metadata = await admin.metadata({ topics: [topic] });
      return metadata.topics.get(topic)!.partitionsCount;
    } finally {
      await admin.close();
    }
  },

  async produce(bootstrap, topic, codec, records) {
    const producer = new kafka!.Producer({ ...clientOptions(bootstrap), compression: codec as Codec, acks: -1, idempotent: false, autocreateTopics: false });
    try {
      for (let start = 0, size = 50; start < records.length; start += size, size = size === 50 ? 400 : 50) {
        await producer.send({
          messages: records.slice(start, start + size).map((r) => ({
            topic,
            key: r.key,
            value: r.value,
            partition: r.partition,
            timestamp: BigInt(r.timestamp),
            headers: new Map(r.headers.map(([k, v]) => [Buffer.from(k), v])),
          })),
        });
      }
    } finally {
      await producer.close();
    }
  },

  async consume(bootstrap, topic) {
    const client = consumer(bootstrap);
    try {
      // Tracking the topic makes the consumer's metadata include it, which maps topic ids to names.
      client.topics.track(topic);
      const metadata = await client.metadata({ topics: [topic] });
      const info = metadata.topics.get(topic)!;
      const next = Array.from({ length: PARTITIONS }, () => 0n);
      const ends: Array<bigint | undefined> = Array.from({ length: PARTITIONS }, () => undefined);
      const out: ConsumedRecord[] = [];
      const deadline = Date.now() + 60_000;
      for (;;) {
        const pending = next.map((offset, p) => p).filter((p) => ends[p] === undefined || next[p]! < ends[p]!);
        if (pending.length === 0) return out;
        if (Date.now() > deadline) throw new Error(`platformatic fetch of ${topic} timed out at ${next.join(',')} of ${ends.join(',')}`);
        const response = await client.fetch({
          node: info.partitions[pending[0]!]!.leader,
          maxWaitTime: 100,
          topics: [
            {
              topicId: info.id,
              partitions: pending.map((partition) => ({
                partition,
                currentLeaderEpoch: info.partitions[partition]!.leaderEpoch,
                fetchOffset: next[partition]!,
                lastFetchedEpoch: -1,
                partitionMaxBytes: 1024 * 1024,
              })),
            },
          ],
        });
        for (const topicResponse of response.responses) {
          for (const data of topicResponse.partitions) {
            if (data.errorCode !== 0) throw new Error(`platformatic fetch ${topic}/${data.partitionIndex}: error code ${data.errorCode}`);
            ends[data.partitionIndex] = data.highWatermark;
            for (const batch of data.records ?? []) {
              for (const record of batch.records) {
                const offset = batch.firstOffset + BigInt(record.offsetDelta);
                // Whole batches come back; records before the fetch offset were read already.
                if (offset < next[data.partitionIndex]!) continue;
                next[data.partitionIndex] = offset + 1n;
                out.push({
                  partition: data.partitionIndex,
                  offset: Number(offset),
                  key: record.key,
                  value: record.value,
                  headers: record.headers.map(([k, v]) => [k === null ? '<null>' : k.toString('utf8'), v]),
                  timestamp: Number(batch.firstTimestamp + record.timestampDelta),
                });
              }
            }
          }
        }
      }
    } finally {
      await client.close();
    }
  },

  async listOffsets(bootstrap, topic, queries) {
    const client = consumer(bootstrap);
    try {
      const at = async (timestamp: bigint) => (await client.listOffsets({ topics: [topic], timestamp })).get(topic)!.map(Number);
      const byTimestamp: number[] = [];
      for (const query of queries) byTimestamp.push((await at(BigInt(query.timestamp)))[query.partition]!);
      return { earliest: await at(-2n), latest: await at(-1n), byTimestamp };
    } finally {
      await client.close();
    }
  },
};

test('@platformatic/kafka client compatibility', { timeout: 120_000 }, async (t) => {
  const client = await requireClient(t, 'platformatic');
  if (client === undefined || kafka === undefined) return;
  await runCompatSuite(t, { client: 'platformatic', codecs: codecSupport(), driver, verify: { checkPartition: true, checkTimestamp: true } });
});
