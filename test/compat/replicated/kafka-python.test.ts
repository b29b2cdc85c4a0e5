// kafka-python on a 3-broker cluster with replicated partitions: the shared replicated scenario
// (replicated-scenario.ts). One long-lived Python process is the client instance for the whole
// scenario (kafka_python_replicated.py): a KafkaProducer (acks=all), a KafkaConsumer in the group
// (auto-commit off, a synchronous commit per record), and a transactional producer where this
// kafka-python has one. The installed version decides: kafka-python 2.0.2 (Debian's) has neither
// enable_idempotence nor transactional_id (both came in 2.1), so its producer runs with retries=0,
// each failed send is resent by the scenario as a new value (every acknowledged value must then be
// read exactly once), and the scenario asserts its refusal of both options instead of transactions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireClient } from '../../support/clients.js';
import { PYTHON, runChecked } from '../../support/process.js';
import { type Consumed, LineSession, type ProduceOutcome, type ReplicatedDriver, runReplicatedScenario } from './replicated-scenario.js';

const SCRIPT = fileURLToPath(new URL('./kafka_python_replicated.py', import.meta.url));

interface Capabilities {
  version: string;
  idempotence: boolean;
  transactions: boolean;
}

function driver(capabilities: Capabilities): ReplicatedDriver {
  let refusal: Promise<string> | undefined;
  return {
    client: 'kafka-python',
    idempotent: capabilities.idempotence || `kafka-python ${capabilities.version} has no enable_idempotence (2.1+): retries=0, failed sends resent as new values`,
    groups: true,
    transactions: capabilities.transactions || `kafka-python ${capabilities.version} has no transactional_id (2.1+)`,
    transactionRefusal: async () => {
      const answer = await refusal!;
      // Both options are refused by the constructor's check of its known configs.
      assert.match(answer, /transactional_id: AssertionError: Unrecognized configs: \{'transactional_id'/);
      assert.match(answer, /enable_idempotence: AssertionError: Unrecognized configs: \{'enable_idempotence'/);
      return answer;
    },
    async open(bootstrap, names) {
      const session = new LineSession(PYTHON, [SCRIPT, bootstrap, names.records, names.groupId, names.transactionalId]);
      refusal = session.call<string>('refusal', {}, 30_000);
      await refusal;
      return {
        produce: (topic, records) => session.call<ProduceOutcome>('produce', { topic, records }, 120_000),
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
}

test('kafka-python on a 3-broker cluster survives the crash of its partition leader', { timeout: 90_000 }, async (t) => {
  const client = await requireClient(t, 'kafka-python');
  if (client === undefined) return;
  const capabilities = JSON.parse((await runChecked(PYTHON, [SCRIPT, '--capabilities'], { timeoutMs: 20_000 })).stdout) as Capabilities;
  t.diagnostic(`kafka-python ${client.version}: idempotence ${capabilities.idempotence}, transactions ${capabilities.transactions}`);
  await runReplicatedScenario(t, driver(capabilities));
});
