// Transactions over SASL_SSL (SASL_PLAINTEXT where openssl is missing) for every client family that
// has them: kafkajs, confluent-kafka-python (librdkafka) and @platformatic/kafka each commit one
// transaction and abort another as alice, authenticated with SCRAM-SHA-512 (platformatic with
// PLAIN as well), and a read_committed reader sees the committed records only: librdkafka's own
// read_committed consumer in a group for confluent-kafka-python, the broker's read_committed answer
// for the others. Each family also produces and reads in a consumer group over the same listener
// (platformatic here; kafkajs and confluent-kafka-python through their transactional runs). kcat
// and kafka-python 2.0.2 have no transactions; their SASL and SASL_SSL runs are in
// sasl-clients.test.ts.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import '../../support/polyfills.js';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { AdminClient } from '../../../src/client/admin-client.js';
import { ClusterClient } from '../../../src/client/cluster-client.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { type RunningBroker, startBroker } from '../../../src/node/start-broker.js';
import { platformaticRoundTrip } from '../../support/client-round-trips.js';
import { requireClient } from '../../support/clients.js';
import { createTopicsWithKafkajs } from '../../support/kafkajs.js';
import { runPythonJson } from '../../support/process.js';
import { RawClient } from '../../support/raw-client.js';
import { readCommitted } from '../../support/read-committed.js';
import { makePki, noOpenssl, type Pki } from '../../support/test-pki.js';

const DRIVER = fileURLToPath(new URL('../transactions/confluent_txn.py', import.meta.url));
const SCRAM_PASSWORD = 'scram-txn-secret';
const PLAIN_PASSWORD = 'plain-txn-secret';

describe(`transactions over ${noOpenssl ? 'SASL_PLAINTEXT' : 'SASL_SSL'} for every client family that has them`, { timeout: 180_000 }, () => {
  let pki: Pki | undefined;
  let broker: RunningBroker;
  let secured = '';
  let plaintext: RawClient;
  const protocol = noOpenssl ? 'SASL_PLAINTEXT' : 'SASL_SSL';

  before(async () => {
    pki = noOpenssl ? undefined : makePki();
    broker = await startBroker({
      storage: 'memory',
      config: {
        listeners: `PLAINTEXT://127.0.0.1:0,${protocol}://127.0.0.1:0`,
        'group.initial.rebalance.delay.ms': '0',
        'offsets.topic.num.partitions': '4',
        'transaction.state.log.num.partitions': '4',
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512',
        'conveyor.sasl.plain.users': `alice:${PLAIN_PASSWORD}`,
        ...(pki ? { 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile } : {}),
      },
    });
    const port = (name: string) => broker.broker.endpoints.find((endpoint) => endpoint.name === name)!.port;
    secured = `localhost:${port(protocol)}`;
    const cluster = new ClusterClient(connectTcp, `127.0.0.1:${port('PLAINTEXT')}`);
    try {
      const results = await new AdminClient(cluster).alterUserScramCredentials([{ user: 'alice', mechanism: 'SCRAM-SHA-512', password: SCRAM_PASSWORD, iterations: 4096 }], []);
      assert.deepEqual(results.map(({ errorCode }) => errorCode), [0]);
    } finally {
      cluster.close();
    }
    await createTopicsWithKafkajs(`127.0.0.1:${port('PLAINTEXT')}`, ['sasl-txn-kafkajs', 'sasl-txn-confluent', 'sasl-txn-platformatic', 'sasl-group-platformatic-plain', 'sasl-group-platformatic-scram-sha-512'], 2);
    plaintext = await RawClient.connect('127.0.0.1', port('PLAINTEXT'));
  });
  after(async () => {
    await plaintext?.close();
    await broker?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** The values a read_committed reader gets from `topic` (the broker's answer, over PLAINTEXT). */
  const committedValues = async (topic: string) => (await readCommitted(plaintext, topic, 2)).map((record) => record.value).sort();

  it('kafkajs (SCRAM-SHA-512): commit and abort; its read_committed group consumer sees the committed records only', async () => {
    const kafka = new Kafka({
      clientId: 'sasl-txn-kafkajs',
      brokers: [secured],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3 },
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: SCRAM_PASSWORD },
      ...(pki ? { ssl: { ca: [pki.ca], servername: 'localhost' } } : {}),
    });
    const producer = kafka.producer({ transactionalId: 'sasl-txn-kafkajs', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({ topic: 'sasl-txn-kafkajs', messages: [0, 1, 2].map((n) => ({ value: `committed-${n}`, partition: n % 2 })) });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic: 'sasl-txn-kafkajs', messages: [0, 1].map((n) => ({ value: `aborted-${n}`, partition: n % 2 })) });
      await aborted.abort();
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId: 'sasl-txn-kafkajs-group', readUncommitted: false, sessionTimeout: 6_000, heartbeatInterval: 500 });
    await consumer.connect();
    const seen: string[] = [];
    try {
      await consumer.subscribe({ topic: 'sasl-txn-kafkajs', fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read ${seen.length} of 3 committed records in 20 s`)), 20_000);
        consumer.run({
          eachMessage: async ({ message }) => {
            seen.push(message.value!.toString());
            if (seen.length >= 3) {
              clearTimeout(timer);
              resolve();
            }
          },
        }).catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(seen.sort(), ['committed-0', 'committed-1', 'committed-2']);
    assert.deepEqual(await committedValues('sasl-txn-kafkajs'), ['committed-0', 'committed-1', 'committed-2']);
  });

  it('confluent-kafka-python (SCRAM-SHA-512): commit and abort; librdkafka\'s read_committed consumer sees the committed records only', async (t) => {
    if (!(await requireClient(t, 'confluent-kafka-python'))) return;
    const settings = {
      'security.protocol': protocol,
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'alice',
      'sasl.password': SCRAM_PASSWORD,
      ...(pki ? { 'ssl.ca.location': pki.caFile } : {}),
    };
    const result = await runPythonJson<{ values: string[] }>(DRIVER, 'commit-abort', { bootstrap: secured, topic: 'sasl-txn-confluent', settings }, 90_000);
    const expected = ['committed-0', 'committed-1', 'committed-2', 'committed-3', 'committed-4'];
    assert.deepEqual(result.values, expected);
    assert.deepEqual(await committedValues('sasl-txn-confluent'), expected);
  });

  for (const mechanism of ['PLAIN', 'SCRAM-SHA-512'] as const) {
    it(`@platformatic/kafka (${mechanism}): commit and abort, and a round trip in a consumer group`, async (t) => {
      if (!(await requireClient(t, 'platformatic'))) return;
      const connection = {
        bootstrapBrokers: [secured],
        sasl: { mechanism, username: 'alice', password: mechanism === 'PLAIN' ? PLAIN_PASSWORD : SCRAM_PASSWORD },
        ...(pki ? { tls: { ca: [pki.ca], servername: 'localhost' } } : {}),
      };
      const tag = mechanism.toLowerCase();
      const producer = new Producer({ clientId: `sasl-txn-platformatic-${tag}`, ...connection, idempotent: true, transactionalId: `sasl-txn-platformatic-${tag}`, serializers: stringSerializers });
      try {
        const messages = (prefix: string) => [0, 1].map((n) => ({ topic: 'sasl-txn-platformatic', value: `${tag}-${prefix}-${n}`, partition: n % 2 }));
        const committed = await producer.beginTransaction();
        await committed.send({ messages: messages('committed') });
        await committed.commit();
        const aborted = await producer.beginTransaction();
        await aborted.send({ messages: messages('aborted') });
        await aborted.abort();
      } finally {
        await producer.close();
      }
      const mine = (await committedValues('sasl-txn-platformatic')).filter((value) => value.startsWith(`${tag}-`));
      assert.deepEqual(mine, [`${tag}-committed-0`, `${tag}-committed-1`]);
      const prefix = `sasl-group-${tag}`;
      assert.deepEqual((await platformaticRoundTrip(`sasl-group-platformatic-${tag}`, prefix, connection)).sort(), [1, 2, 3].map((n) => `${prefix}-${n}`));
    });
  }
});
