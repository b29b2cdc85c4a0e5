// kafkajs 2.x on a 3-broker cluster with replicated partitions: the shared replicated scenario
// (replicated-scenario.ts). One Kafka instance bootstrapped at every broker for the whole scenario:
// an idempotent producer (acks=all, one request in flight), a consumer in a group (eachMessage,
// autoCommit off, each offset committed with commitOffsets before the record counts as read), a
// transactional producer, and admin.fetchOffsets for the group's committed offsets. Its read_committed
// reader is a kafkajs consumer too (kafkajs's default isolation is read_committed), in a group of its
// own per check since kafkajs has no group-less consumer.
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { requireClient } from '../../support/clients.js';
import { waitFor } from '../../support/wait.js';
import { type Consumed, type ReplicatedDriver, type Sent, runReplicatedScenario } from './replicated-scenario.js';

function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current = error as { type?: string; name?: string; message?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; current && depth < 5; depth++) {
    parts.push(`${current.type ?? current.name}: ${current.message}`);
    current = (current.cause ?? current.originalError) as typeof current;
  }
  return parts.join(' <- ');
}

/** CONVEYOR_CLIENT_LOG=1 prints kafkajs's own log (info and up) with timestamps on stderr. */
const DEBUG = process.env.CONVEYOR_CLIENT_LOG === '1';
const logCreator = () => ({ namespace, level, log }: { namespace: string; level: number; log: { message: string } }) => {
  if (DEBUG) process.stderr.write(`${new Date().toISOString()} ${level} ${namespace} ${log.message} ${JSON.stringify({ ...log, message: undefined }).slice(0, 300)}\n`);
};

const driver: ReplicatedDriver = {
  client: 'kafkajs',
  idempotent: true,
  groups: true,
  transactions: true,
  async open(bootstrap, names) {
    const kafka = new Kafka({ clientId: 'conveyor-replicated', brokers: bootstrap.split(','), logLevel: DEBUG ? logLevel.INFO : logLevel.NOTHING, logCreator, retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 2000 } });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    const transactional = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId: names.transactionalId, allowAutoTopicCreation: false });
    const consumer = kafka.consumer({
      groupId: names.groupId,
      sessionTimeout: 6000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
      // Fewer retries than the producer's: once they run out, kafkajs restarts the consumer (the
      // same instance rejoins by itself), which is how it gets past a dead fetch leader or coordinator.
      retry: { retries: 4, initialRetryTime: 200, maxRetryTime: 1000 },
    });
    const admin = kafka.admin();
    await Promise.all([producer.connect(), transactional.connect(), consumer.connect(), admin.connect()]);
    const queue: Consumed[] = [];
    const commitErrors: string[] = [];
    await consumer.subscribe({ topic: names.records, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        try {
          await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        } catch (error) {
          commitErrors.push(describeError(error));
          throw error;
        }
        queue.push({ partition, offset: Number(message.offset), value: message.value!.toString() });
      },
    });
    let checks = 0;
    return {
      async produce(topic, records) {
        try {
          const results = await producer.send({ topic, acks: -1, messages: records.map(({ partition, value }) => ({ partition, value })) });
          const offsets = new Map(results.map((result) => [result.partition, Number(result.baseOffset)]));
          return {
            acked: records.map((record) => {
              const offset = offsets.get(record.partition)!;
              offsets.set(record.partition, offset + 1);
              return { ...record, offset };
            }),
            failed: [],
          };
        } catch (error) {
          return { acked: [], failed: records.map((record) => ({ ...record, error: describeError(error) })) };
        }
      },
      async groupConsume(count, timeoutMs) {
        await waitFor(`${count} records through the group (commit errors: ${commitErrors.slice(-3).join(' | ')})`, () => (queue.length >= count ? true : undefined), timeoutMs).catch(() => undefined);
        return queue.splice(0, count);
      },
      async committed() {
        const [entry] = await admin.fetchOffsets({ groupId: names.groupId, topics: [names.records] });
        return entry!.partitions.map(({ partition, offset }) => ({ partition, offset: Number(offset) })).sort((a, b) => a.partition - b.partition);
      },
      async transaction(topic, records, outcome) {
        const txn = await transactional.transaction();
        try {
          await txn.send({ topic, acks: -1, messages: records.map(({ partition, value }) => ({ partition, value })) });
        } catch (error) {
          await txn.abort().catch(() => undefined);
          throw new Error(`kafkajs transactional send: ${describeError(error)}`);
        }
        if (outcome === 'commit') await txn.commit();
        else await txn.abort();
      },
      async readCommitted(topic, from, until, timeoutMs) {
        const reader = kafka.consumer({ groupId: `${names.groupId}-reader-${++checks}`, sessionTimeout: 6000, heartbeatInterval: 500, readUncommitted: false, maxWaitTimeInMs: 500 });
        await reader.connect();
        const read: Consumed[] = [];
        try {
          await reader.subscribe({ topic, fromBeginning: true });
          await reader.run({ eachMessage: async ({ partition, message }) => void read.push({ partition, offset: Number(message.offset), value: message.value!.toString() }) });
          for (const [partition, offset] of from) reader.seek({ topic, partition, offset: String(offset) });
          const has = (s: Sent) => read.some((r) => r.partition === s.partition && r.value === s.value);
          await waitFor('the read_committed reader to reach the sentinels', () => (until.every(has) ? true : undefined), timeoutMs);
        } finally {
          await reader.disconnect();
        }
        return read.filter((r) => r.offset >= from.get(r.partition)!).sort((a, b) => a.partition - b.partition || a.offset - b.offset);
      },
      async close() {
        await Promise.allSettled([consumer.disconnect(), producer.disconnect(), transactional.disconnect(), admin.disconnect()]);
      },
    };
  },
};

test('kafkajs on a 3-broker cluster survives the crash of its partition leader', { timeout: 90_000 }, async (t) => {
  const client = await requireClient(t, 'kafkajs');
  if (client === undefined) return;
  t.diagnostic(`kafkajs ${client.version}`);
  await runReplicatedScenario(t, driver);
});
