// Exactly-once copy, after Kafka's transactions system test: a transactional consume-transform-
// produce copier (exactly-once-copier.ts, kafkajs) copies RECORDS input records (default 100,000,
// the figure, about 80 s here; RECORDS=20000 for a quick run) from a 3-partition input topic to an output topic while
// it is SIGKILLed and restarted twice and the broker restarts once under it; meanwhile another
// producer keeps aborting transactions on the output topic. A read_committed reader then sees
// every input record exactly once in the output, in input order per partition, and nothing aborted.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { type RunningBroker, startBroker } from '../../src/index.js';
import { ListOffsetsApi } from '../../src/protocol/messages/index.js';
import { createTopic, temporaryDirectory, waitFor } from '../integration/helpers.js';
import { RawClient } from '../support/raw-client.js';
import { readCommitted } from '../support/read-committed.js';

const RECORDS = Number(process.env.RECORDS ?? 100_000);
const PARTITIONS = 3;
const COPIER = fileURLToPath(new URL('./exactly-once-copier.ts', import.meta.url));
const BROKER_CONFIG = {
  'group.initial.rebalance.delay.ms': 0,
  'group.min.session.timeout.ms': 1_000,
  'offsets.topic.num.partitions': 3,
  'transaction.state.log.num.partitions': 3,
};

let broker: RunningBroker | undefined;
let copier: ChildProcess | undefined;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  killQuietly(copier);
  await broker?.close();
  for (const cleanup of cleanups) await cleanup();
});

function killQuietly(child: ChildProcess | undefined): void {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function startCopier(bootstrapServers: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', COPIER, bootstrapServers, 'eos-input', 'eos-output', 'eos-copier', 'eos-copier-1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => process.env.EOS_VERBOSE && process.stderr.write(text));
  return child;
}

/** Keeps one copier process alive: a new one replaces it whenever it exits (a failure or a kill). */
function superviseCopier(bootstrapServers: () => string): { kill(): void; stop(): void } {
  let stopped = false;
  const launch = () => {
    copier = startCopier(bootstrapServers());
    copier.on('exit', () => {
      if (!stopped) setTimeout(launch, 200);
    });
  };
  launch();
  return {
    kill: () => killQuietly(copier),
    stop: () => {
      stopped = true;
      killQuietly(copier);
    },
  };
}

/** Records below the output's read_committed end: progress without reading the records. */
async function committedOutputEnd(client: RawClient): Promise<number> {
  const response = await client.request(ListOffsetsApi, 5, {
    replicaId: -1,
    isolationLevel: 1,
    topics: [{ name: 'eos-output', partitions: Array.from({ length: PARTITIONS }, (_, partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1n })) }],
  });
  return response.topics[0]!.partitions.reduce((sum, partition) => sum + Number(partition.offset), 0);
}

async function produceInput(bootstrapServers: string): Promise<Map<number, string[]>> {
  const kafka = new Kafka({ clientId: 'eos-input', brokers: [bootstrapServers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const expected = new Map<number, string[]>(Array.from({ length: PARTITIONS }, (_, partition) => [partition, []]));
  try {
    for (let start = 0; start < RECORDS; start += 1_000) {
      const messages = Array.from({ length: Math.min(1_000, RECORDS - start) }, (_, index) => {
        const n = start + index;
        expected.get(n % PARTITIONS)!.push(`copy-${n}`);
        return { key: `k${n}`, value: String(n), partition: n % PARTITIONS };
      });
      await producer.send({ topic: 'eos-input', messages, acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
  return expected;
}

/** Aborts a small transaction on the output topic every few ms until stopped. */
function startAborter(bootstrapServers: () => string): { stop(): Promise<number> } {
  let running = true;
  let aborted = 0;
  const loop = (async () => {
    while (running) {
      const kafka = new Kafka({ clientId: 'eos-aborter', brokers: [bootstrapServers()], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
      const producer = kafka.producer({ transactionalId: 'eos-aborter', idempotent: true, maxInFlightRequests: 1 });
      try {
        await producer.connect();
        while (running) {
          const transaction = await producer.transaction();
          await transaction.send({ topic: 'eos-output', messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ value: `ABORTED-${aborted}`, partition })) });
          await transaction.abort();
          aborted += 1;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } catch {
        // The broker restarted under it: reconnect with a new client.
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return aborted;
    },
  };
}

test(`exactly-once copy of ${RECORDS} records through copier kills and a broker restart`, { timeout: 240_000 }, async () => {
  const directory = await temporaryDirectory();
  cleanups.push(directory.remove);
  broker = await startBroker({ port: 0, dataDir: directory.path, storage: 'disk', logLevel: 'silent', config: BROKER_CONFIG });
  const port = broker.port;
  const bootstrap = () => broker!.bootstrapServers;
  let client = await RawClient.connect(broker.host, port);
  await createTopic(client, 'eos-input', PARTITIONS);
  await createTopic(client, 'eos-output', PARTITIONS);
  const expected = await produceInput(bootstrap());

  const aborter = startAborter(bootstrap);
  const supervisor = superviseCopier(bootstrap);
  const progress = async (fraction: number) => {
    await waitFor(async () => (await committedOutputEnd(client)) >= RECORDS * fraction, `${fraction * 100}% copied`, 120_000);
    if (process.env.EOS_VERBOSE) console.error(`${fraction * 100}% copied`);
  };

  await progress(0.2);
  supervisor.kill();
  await progress(0.4);
  await client.close();
  await broker.close();
  broker = await startBroker({ port, dataDir: directory.path, storage: 'disk', logLevel: 'silent', config: BROKER_CONFIG });
  client = await RawClient.connect(broker.host, port);
  await progress(0.6);
  supervisor.kill();

  try {
    // Done when every input record is in the output (control markers make the end offset larger).
    await waitFor(async () => (await readCommitted(client, 'eos-output', PARTITIONS)).length >= RECORDS, 'every record copied', 180_000);
  } finally {
    supervisor.stop();
  }
  const abortedTransactions = await aborter.stop();
  const output = await readCommitted(client, 'eos-output', PARTITIONS);
  await client.close();

  assert.equal(output.filter((record) => record.value.startsWith('ABORTED')).length, 0, 'an aborted record is visible to read_committed');
  assert.ok(abortedTransactions > 0, 'the aborter ran');
  for (let partition = 0; partition < PARTITIONS; partition += 1) {
    const values = output.filter((record) => record.partition === partition).map((record) => record.value);
    const wanted = expected.get(partition)!;
    const duplicates = values.length - new Set(values).size;
    assert.equal(duplicates, 0, `partition ${partition}: ${duplicates} records copied more than once`);
    assert.deepEqual(values, wanted, `partition ${partition}: output differs from the input (order or content)`);
  }
});
