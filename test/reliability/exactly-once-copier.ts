// The consume-transform-produce copier of the exactly-once test, run as its own process so the
// test can SIGKILL it: a kafkajs group consumer (read_committed) on the input topic copies each
// fetched batch to the same partition of the output topic (value prefixed with "copy-") inside one
// transaction that also commits the input offsets (sendOffsets). Any error ends the process; the
// test starts a new one, whose first transaction fences this one's transactional id.
import { Kafka, logLevel } from 'kafkajs';

const [bootstrapServers, inputTopic, outputTopic, groupId, transactionalId] = process.argv.slice(2);
if (!bootstrapServers || !inputTopic || !outputTopic || !groupId || !transactionalId) {
  console.error('usage: exactly-once-copier <bootstrap> <input> <output> <group> <transactional id>');
  process.exit(2);
}

const kafka = new Kafka({ clientId: 'eos-copier', brokers: [bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 } });
const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 30_000 });
const consumer = kafka.consumer({ groupId, readUncommitted: false, sessionTimeout: 3_000, heartbeatInterval: 300, rebalanceTimeout: 5_000, maxWaitTimeInMs: 200, retry: { retries: 3 } });

function fail(error: unknown): never {
  console.error(`copier failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

consumer.on(consumer.events.CRASH, (event) => fail(event.payload.error));

await producer.connect();
await consumer.connect();
await consumer.subscribe({ topic: inputTopic, fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  eachBatch: async ({ batch, isRunning, isStale }) => {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const transaction = await producer.transaction();
    try {
      await transaction.send({
        topic: outputTopic,
        messages: batch.messages.map((message) => ({ key: message.key, value: `copy-${message.value!.toString()}`, partition: batch.partition })),
      });
      const next = (BigInt(batch.lastOffset()) + 1n).toString();
      await transaction.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
      await transaction.commit();
    } catch (error) {
      // The consumer's position is past this batch while its offsets were not committed: start over.
      await transaction.abort().catch(() => undefined);
      fail(error);
    }
  },
});
console.log('copier running');
