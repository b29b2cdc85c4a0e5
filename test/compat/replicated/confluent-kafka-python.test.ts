// confluent-kafka-python (librdkafka) on a 3-broker cluster with replicated partitions: the shared
// replicated scenario (replicated-scenario.ts). One long-lived Python process is the client instance
// for the whole scenario (confluent_replicated.py): an idempotent Producer (acks=all), a Consumer in
// the group (auto-commit off, a synchronous commit per message, retried on librdkafka's retriable
// errors), a transactional Producer; its read_committed reader is a Consumer with
// isolation.level=read_committed assigned from the given offsets.
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireClient } from '../../support/clients.js';
import { PYTHON } from '../../support/process.js';
import { type Consumed, LineSession, type ProduceOutcome, type ReplicatedDriver, runReplicatedScenario } from './replicated-scenario.js';

const SCRIPT = fileURLToPath(new URL('./confluent_replicated.py', import.meta.url));

const driver: ReplicatedDriver = {
  client: 'confluent',
  idempotent: true,
  groups: true,
  transactions: true,
  async open(bootstrap, names) {
    const session = new LineSession(PYTHON, [SCRIPT, bootstrap, names.records, names.groupId, names.transactionalId]);
    return {
      produce: (topic, records) => session.call<ProduceOutcome>('produce', { topic, records }, 90_000),
      groupConsume: (count, timeoutMs) => session.call<Consumed[]>('group_consume', { count, timeoutMs }, timeoutMs + 20_000),
      committed: () => session.call('committed', {}, 30_000),
      transaction: async (topic, records, outcome) => {
        await session.call('transaction', { topic, records, outcome }, 90_000);
      },
      readCommitted: (topic, from, until, timeoutMs) => session.call<Consumed[]>('read_committed', { topic, from: [...from], until, timeoutMs }, timeoutMs + 20_000),
      close: () => session.close(),
    };
  },
};

test('confluent-kafka-python on a 3-broker cluster survives the crash of its partition leader', { timeout: 90_000 }, async (t) => {
  const client = await requireClient(t, 'confluent-kafka-python');
  if (client === undefined) return;
  t.diagnostic(`confluent-kafka-python ${client.version}`);
  await runReplicatedScenario(t, driver);
});
