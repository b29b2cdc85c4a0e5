// Restart on disk: produce to several topics, close the broker cleanly, start a new one on the same
// directory, and find every topic, partition, topic id, config and record back, with new appends
// continuing at the old log end; deleted topics stay deleted.
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { CreatePartitionsApi, DeleteTopicsApi, ZERO_UUID } from '../../src/protocol/messages/index.js';
import { CompressionType } from '../../src/protocol/records/batch-header.js';
import {
  type TestBroker,
  batchOf,
  createTopic,
  fetchPartition,
  metadata,
  produce,
  produceOk,
  readAll,
  startTestBroker,
  temporaryDirectory,
  uniqueTopic,
  valuesOf,
} from './helpers.js';

interface Snapshot {
  topics: Map<string, { topicId: string | undefined; partitions: number }>;
  records: Map<string, Buffer | null>;
}

async function snapshot(broker: TestBroker, topics: string[]): Promise<Snapshot> {
  const described = await metadata(broker.client, topics);
  const result: Snapshot = { topics: new Map(), records: new Map() };
  for (const topic of described.topics) {
    assert.equal(topic.errorCode, ErrorCode.NONE, `${topic.name} exists`);
    result.topics.set(topic.name!, { topicId: topic.topicId, partitions: topic.partitions.length });
    for (const partition of topic.partitions) {
      const data = await fetchPartition(broker.client, topic.name!, partition.partitionIndex, 0, { maxBytes: 64 * 1024 * 1024, partitionMaxBytes: 64 * 1024 * 1024 });
      result.records.set(`${topic.name}-${partition.partitionIndex}`, data.records);
    }
  }
  return result;
}

describe('restart on disk', () => {
  it('brings back every topic and record after a clean shutdown, twice', async () => {
    const directory = await temporaryDirectory();
    const plain = uniqueTopic('plain');
    const compressed = uniqueTopic('compressed');
    const appendTime = uniqueTopic('append-time');
    const grown = uniqueTopic('grown');
    const deleted = uniqueTopic('deleted');
    const topics = [plain, compressed, appendTime, grown];
    try {
      let broker = await startTestBroker({ storage: 'disk', dataDir: directory.path });
      try {
        await createTopic(broker.client, plain, 3);
        await createTopic(broker.client, compressed, 1);
        await createTopic(broker.client, appendTime, 1, { 'message.timestamp.type': 'LogAppendTime' });
        await createTopic(broker.client, grown, 1);
        await createTopic(broker.client, deleted, 1);
        for (let index = 0; index < 30; index++) await produceOk(broker.client, plain, index % 3, batchOf([`plain ${index}`, `more ${index}`]));
        for (const compression of [CompressionType.gzip, CompressionType.snappy, CompressionType.lz4, CompressionType.zstd]) {
          await produceOk(broker.client, compressed, 0, batchOf([`c${compression}-a`, `c${compression}-b`], { compression }));
        }
        await produceOk(broker.client, appendTime, 0, batchOf(['stamped']));
        const grow = await broker.client.request(CreatePartitionsApi, 3, { topics: [{ name: grown, count: 2, assignments: null }], timeoutMs: 5000, validateOnly: false });
        assert.equal(grow.results[0]?.errorCode, ErrorCode.NONE);
        await produceOk(broker.client, grown, 1, batchOf(['in the new partition']));
        await produceOk(broker.client, deleted, 0, batchOf(['gone']));
        const removal = await broker.client.request(DeleteTopicsApi, 6, { topics: [{ name: deleted, topicId: ZERO_UUID }], timeoutMs: 5000 });
        assert.equal(removal.responses[0]?.errorCode, ErrorCode.NONE);
      } finally {
        await broker.close();
      }

      broker = await startTestBroker({ storage: 'disk', dataDir: directory.path });
      let before: Snapshot;
      try {
        before = await snapshot(broker, topics);
        assert.equal(before.topics.get(plain)?.partitions, 3);
        assert.equal(before.topics.get(grown)?.partitions, 2);
        for (const { topicId } of before.topics.values()) assert.ok(topicId && topicId !== ZERO_UUID);
        const plainValues = (await Promise.all([0, 1, 2].map((partition) => readAll(broker.client, plain, partition)))).map(valuesOf);
        assert.deepEqual(plainValues.map((values) => values.length), [20, 20, 20]);
        assert.deepEqual(plainValues[0]!.slice(0, 4), ['plain 0', 'more 0', 'plain 3', 'more 3']);
        assert.deepEqual(valuesOf(await readAll(broker.client, compressed, 0)), ['c1-a', 'c1-b', 'c2-a', 'c2-b', 'c3-a', 'c3-b', 'c4-a', 'c4-b']);
        assert.deepEqual(valuesOf(await readAll(broker.client, grown, 1)), ['in the new partition']);
        assert.equal((await metadata(broker.client, [deleted])).topics[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'deleted topics stay deleted');
        const next = await produce(broker.client, appendTime, 0, batchOf(['after restart']));
        assert.equal(next.errorCode, ErrorCode.NONE);
        assert.equal(next.baseOffset, 1n, 'appends continue at the old log end');
        assert.equal(await produceOk(broker.client, plain, 0, batchOf(['after restart'])), 20);
      } finally {
        await broker.close();
      }

      broker = await startTestBroker({ storage: 'disk', dataDir: directory.path });
      try {
        const again = await snapshot(broker, topics);
        for (const [name, topic] of before.topics) assert.deepEqual(again.topics.get(name), topic, `${name} unchanged`);
        for (const [key, records] of before.records) {
          const now = again.records.get(key);
          assert.ok(now && records && now.subarray(0, records.length).equals(records), `${key}: the bytes from before are still there`);
        }
        assert.deepEqual(valuesOf(await readAll(broker.client, appendTime, 0)), ['stamped', 'after restart']);
      } finally {
        await broker.close();
      }
    } finally {
      await directory.remove();
    }
  });

  it('applies topic config overrides to logs reopened after a restart', async () => {
    const directory = await temporaryDirectory();
    const appendTime = uniqueTopic('append-time');
    const small = uniqueTopic('small-messages');
    try {
      let broker = await startTestBroker({ storage: 'disk', dataDir: directory.path });
      try {
        await createTopic(broker.client, appendTime, 1, { 'message.timestamp.type': 'LogAppendTime' });
        await createTopic(broker.client, small, 1, { 'max.message.bytes': '1024' });
        const stamped = await produce(broker.client, appendTime, 0, batchOf(['before']));
        assert.notEqual(stamped.logAppendTimeMs, -1n);
        await produceOk(broker.client, small, 0, batchOf(['fits']));
      } finally {
        await broker.close();
      }
      broker = await startTestBroker({ storage: 'disk', dataDir: directory.path });
      try {
        const stamped = await produce(broker.client, appendTime, 0, batchOf(['after']));
        assert.equal(stamped.errorCode, ErrorCode.NONE);
        const tooLarge = await produce(broker.client, small, 0, batchOf(['x'.repeat(4000)]));
        assert.deepEqual(
          { logAppendTimeMs: stamped.logAppendTimeMs !== -1n, maxMessageBytes: tooLarge.errorCode },
          { logAppendTimeMs: true, maxMessageBytes: ErrorCode.MESSAGE_TOO_LARGE },
          'message.timestamp.type=LogAppendTime and max.message.bytes=1024 still apply after the restart',
        );
      } finally {
        await broker.close();
      }
    } finally {
      await directory.remove();
    }
  });
  it("refuses another node's data directory and leaves its files as they were", async () => {
    const dir = await temporaryDirectory();
    try {
      const first = await startTestBroker({ storage: 'disk', dataDir: dir.path, config: { 'node.id': 1 } });
      const topic = uniqueTopic();
      await createTopic(first.client, topic, 1);
      await produceOk(first.client, topic, 0, batchOf(['kept']));
      await first.close();
      const meta = await readFile(join(dir.path, 'meta.properties'), 'utf8');
      await assert.rejects(startTestBroker({ storage: 'disk', dataDir: dir.path, config: { 'node.id': 2 } }), /node\.id: .* belongs to node 1, but this broker is node 2/);
      assert.equal(await readFile(join(dir.path, 'meta.properties'), 'utf8'), meta);
      // The refused start opened no log: the clean-shutdown marker of the first broker is still there.
      await access(join(dir.path, '.kafka_cleanshutdown'));
      const again = await startTestBroker({ storage: 'disk', dataDir: dir.path, config: { 'node.id': 1 } });
      try {
        assert.deepEqual(valuesOf(await readAll(again.client, topic, 0)), ['kept']);
      } finally {
        await again.close();
      }
    } finally {
      await dir.remove();
    }
  });
});
