// The workload runner against a healthy broker: raw pipelined producers (acks=1 and all), kafkajs's
// producer, a reader to the end and group commits give a history with no anomaly; the same
// history with a value removed from the reads is caught, so the tools are not vacuous.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { type RunningBroker, startBroker } from '../../src/index.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { History } from '../../src/testing/history.js';
import { checkQueueHistory, formatQueueReport } from '../../src/testing/queue-checker.js';
import { commitOffsets, createTopic, findCoordinator, produceWithKafkajs, readCommittedOffsets, readToEnd, seededRandom, startRawProducer } from '../../src/testing/workload.js';

const PARTITIONS = [0, 1, 2];

describe('queue workload on a healthy broker', { timeout: 60_000 }, () => {
  let broker: RunningBroker;
  before(async () => {
    broker = await startBroker({ port: 0, storage: 'memory' });
  });
  after(async () => {
    await broker.close();
  });

  it('records sends, polls and commits with no anomaly', async (context) => {
    const history = new History();
    const topic = 'workload-clean';
    await createTopic(broker.bootstrapServers, topic, PARTITIONS.length);
    const random = seededRandom(1);
    const producers = await Promise.all(
      ([1, -1] as const).map((acks, index) =>
        startRawProducer(history, { address: broker.bootstrapServers, process: `raw-${index}`, topic, partitions: PARTITIONS, acks, random, maxBatches: 60 }),
      ),
    );
    await Promise.all(producers.map((producer) => producer.done));
    await produceWithKafkajs(history, { bootstrapServers: broker.bootstrapServers, process: 'kafkajs', topic, partitions: PARTITIONS.length, batches: 30, recordsPerBatch: 3, acks: -1 });

    const read = await readToEnd(history, { address: broker.bootstrapServers, process: 'reader', topic, partitions: PARTITIONS });
    assert.deepEqual(read.corruptBatches, []);
    const group = 'workload-group';
    await findCoordinator(broker.bootstrapServers, group);
    const connection = await KafkaConnection.open(connectTcp, broker.bootstrapServers, 'committer');
    try {
      for (const [partition, end] of read.highWatermarks) {
        assert.ok(await commitOffsets(history, connection, 'committer', group, topic, new Map([[partition, Math.floor(end / 2)]])));
        assert.ok(await commitOffsets(history, connection, 'committer', group, topic, new Map([[partition, end]])));
      }
    } finally {
      connection.close();
    }
    const committed = await readCommittedOffsets(history, broker.bootstrapServers, 'checker', group, topic, PARTITIONS);
    assert.deepEqual(committed, read.highWatermarks);

    const result = checkQueueHistory(history, { finalReadComplete: true });
    context.diagnostic(formatQueueReport(result));
    assert.ok(result.valid, formatQueueReport(result));
    assert.ok(result.stats.acknowledged > 200, 'the workload acknowledged records');
    assert.equal(result.stats.distinctRead, result.stats.acknowledged);

    const tampered = new History();
    const dropped = history.events.find((event) => event.type === 'poll' && event.offset === 3);
    for (const event of history.events) if (event !== dropped) tampered.add(event);
    const caught = checkQueueHistory(tampered, { finalReadComplete: true });
    assert.equal(caught.counts['lost-write'], 1, formatQueueReport(caught));
  });
});
