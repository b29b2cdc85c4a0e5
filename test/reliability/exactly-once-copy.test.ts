// Exactly-once copy, after Kafka's transactions system test: a transactional consume-transform-
// produce copier (exactly-once-copier.ts, kafkajs) copies RECORDS input records from a 3-partition
// input topic to an output topic while it is SIGKILLed and restarted twice and the broker restarts
// once under it; meanwhile another producer keeps aborting transactions on the output topic. A
// read_committed reader then sees every input record exactly once in the output, in input order
// per partition, and nothing aborted.
// RECORDS defaults to 20,000 (the run in `npm test`); `RECORDS=100000` runs the full figure
// on demand. EOS_VERBOSE=1 streams the copiers' stderr and the progress.
// Nothing is hidden: a copier exit that is not one of the test's own SIGKILLs fails the test with
// that copier's stderr (test/support/copier-supervisor.ts); the aborter tolerates only connection
// errors, and only from a client that was connected before the broker restart (or while it
// restarts); any other error fails the test.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { type RunningBroker, startBroker } from '../../src/index.js';
import { ListOffsetsApi } from '../../src/protocol/messages/index.js';
import { createTopic, temporaryDirectory, waitFor } from '../integration/helpers.js';
import { superviseCopier } from '../support/copier-supervisor.js';
import { RawClient } from '../support/raw-client.js';
import { readCommitted } from '../support/read-committed.js';
import { describeError, isConnectionError } from './kafkajs-errors.js';

const RECORDS = Number(process.env.RECORDS ?? 20_000);
const PARTITIONS = 3;
const BROKER_CONFIG = {
  'group.initial.rebalance.delay.ms': 0,
  'group.min.session.timeout.ms': 1_000,
  'offsets.topic.num.partitions': 3,
  'transaction.state.log.num.partitions': 3,
};
/** Progress deadlines scale with the run: about 1 ms a record here, with a generous margin. */
const PHASE_TIMEOUT_MS = Math.max(60_000, RECORDS * 3);

let broker: RunningBroker | undefined;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  // Last registered first: the copier, then the broker, then its directory.
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The broker's restarts, so the aborter and the copier supervisor can tell a connection error the restart explains from one it does not. */
const restarts = { completed: 0, inProgress: false };

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

/**
 * Aborts small transactions on the output topic, one after another, until stopped. A connection
 * error is tolerated (the client is replaced) only if the broker restarted since the client
 * connected, or is restarting; any other error rejects `failed`.
 */
function startAborter(bootstrapServers: () => string) {
  let running = true;
  let aborted = 0;
  const tolerated: string[] = [];
  const loop = (async () => {
    while (running) {
      const restartsAtConnect = restarts.completed;
      const kafka = new Kafka({ clientId: 'eos-aborter', brokers: [bootstrapServers()], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
      const producer = kafka.producer({ transactionalId: 'eos-aborter', idempotent: true, maxInFlightRequests: 1 });
      try {
        await producer.connect();
        while (running) {
          const transaction = await producer.transaction();
          await transaction.send({ topic: 'eos-output', messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ value: `ABORTED-${aborted}`, partition })) });
          await transaction.abort();
          aborted += 1;
          // Pacing, not synchronisation: leaves the copier most of the two cores; nothing waits on it.
          await delay(20);
        }
      } catch (error) {
        const explained = restarts.inProgress || restarts.completed !== restartsAtConnect;
        if (!(explained && isConnectionError(error))) throw new Error(`the aborter failed (${explained ? 'not a connection error' : 'no broker restart explains it'}): ${describeError(error)}`);
        tolerated.push(describeError(error));
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    }
  })();
  loop.catch(() => undefined); // observed through race() and stop()
  return {
    failed: loop.then(() => new Promise<never>(() => {})),
    tolerated,
    stop: async () => {
      running = false;
      await loop;
      return aborted;
    },
  };
}

test(`exactly-once copy of ${RECORDS} records through copier kills and a broker restart`, { timeout: PHASE_TIMEOUT_MS * 6 }, async () => {
  const directory = await temporaryDirectory();
  cleanups.push(directory.remove);
  cleanups.push(async () => {
    await broker?.close();
    broker = undefined;
  });
  const startedAt = performance.now();
  broker = await startBroker({ port: 0, dataDir: directory.path, storage: 'disk', logLevel: 'silent', config: BROKER_CONFIG });
  const port = broker.port;
  const bootstrap = () => broker!.bootstrapServers;
  let client = await RawClient.connect(broker.host, port);
  await createTopic(client, 'eos-input', PARTITIONS);
  await createTopic(client, 'eos-output', PARTITIONS);
  const expected = await produceInput(bootstrap());

  const aborter = startAborter(bootstrap);
  const supervisor = superviseCopier({
    args: () => [bootstrap(), 'eos-input', 'eos-output', 'eos-copier', 'eos-copier-1'],
    faults: restarts,
    faultName: 'broker restart',
    onStderr: (text) => {
      if (process.env.EOS_VERBOSE) process.stderr.write(text);
    },
  });
  cleanups.push(() => supervisor.stop());
  /** Waits for a condition, failing at once if the copier or the aborter failed meanwhile. */
  const until = <T>(what: string, check: () => Promise<T | undefined | false>) =>
    Promise.race([waitFor(check, what, PHASE_TIMEOUT_MS), supervisor.failed, aborter.failed]);
  const progress = async (fraction: number) => {
    await until(`${fraction * 100}% copied`, async () => (await committedOutputEnd(client)) >= RECORDS * fraction);
    if (process.env.EOS_VERBOSE) console.error(`${fraction * 100}% copied after ${Math.round(performance.now() - startedAt)} ms`);
  };

  try {
    await progress(0.2);
    supervisor.kill();
    await progress(0.4);
    await client.close();
    restarts.inProgress = true;
    await broker.close();
    broker = await startBroker({ port, dataDir: directory.path, storage: 'disk', logLevel: 'silent', config: BROKER_CONFIG });
    restarts.completed += 1;
    restarts.inProgress = false;
    client = await RawClient.connect(broker.host, port);
    await progress(0.6);
    supervisor.kill();
    // Done when every input record is in the output (control markers make the end offset larger).
    await until('every record copied', async () => (await readCommitted(client, 'eos-output', PARTITIONS)).length >= RECORDS);
    await Promise.race([supervisor.stop(), supervisor.failed]);
  } catch (error) {
    process.stderr.write(`${supervisor.stderr()}\n`);
    throw error;
  }
  const abortedTransactions = await aborter.stop();
  const output = await readCommitted(client, 'eos-output', PARTITIONS);
  await client.close();
  const counts = supervisor.counts();
  if (process.env.EOS_VERBOSE) {
    console.error(`copied ${RECORDS} records in ${Math.round(performance.now() - startedAt)} ms; ${abortedTransactions} aborted transactions; copiers ${JSON.stringify(counts)}`);
    console.error(`connection errors tolerated: copiers ${JSON.stringify(supervisor.recoveries())}, aborter ${JSON.stringify(aborter.tolerated)}`);
  }

  assert.deepEqual(counts, { launched: 3, killedOnPurpose: 3 }, 'three copiers, each ended by the test (two kills mid-copy, one at the end)');
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
