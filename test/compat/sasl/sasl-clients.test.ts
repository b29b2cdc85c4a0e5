// Every client family authenticating with SASL/PLAIN on a SASL_PLAINTEXT listener: kcat and
// confluent-kafka-python (librdkafka: SaslHandshake v1 and SaslAuthenticate), kafka-python
// (SaslHandshake, then the token as a raw frame) and @platformatic/kafka each produce three
// records and read them back in a consumer group, and each is refused with a wrong password.
// kafkajs is in test/integration/sasl.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import '../../support/polyfills.js';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { type RunningBroker, startBroker } from '../../../src/node/start-broker.js';
import { requireClient } from '../../support/clients.js';
import { createTopicsWithKafkajs } from '../../support/kafkajs.js';
import { checkPythonClient, platformaticRoundTrip } from '../../support/client-round-trips.js';
import { runChecked, runProcess } from '../../support/process.js';

const PASSWORD = 'alice-secret';
const JAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="${PASSWORD}";`;

describe('client families with SASL/PLAIN', { timeout: 180_000 }, () => {
  let broker: RunningBroker;
  let bootstrap = '';
  before(async () => {
    broker = await startBroker({
      storage: 'memory',
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
        'group.initial.rebalance.delay.ms': '0',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
      },
    });
    const port = (name: string) => broker.broker.endpoints.find((endpoint) => endpoint.name === name)!.port;
    bootstrap = `127.0.0.1:${port('SASL_PLAINTEXT')}`;
    await createTopicsWithKafkajs(`127.0.0.1:${port('PLAINTEXT')}`, ['sasl-kcat', 'sasl-confluent', 'sasl-confluent-refused', 'sasl-kafka-python', 'sasl-kafka-python-refused', 'sasl-platformatic', 'sasl-refused'], 1);
  });
  after(async () => {
    await broker?.close();
  });

  it('kcat', async (t) => {
    if (!(await requireClient(t, 'kcat'))) return;
    const auth = (password: string) => ['-X', 'security.protocol=sasl_plaintext', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice', '-X', `sasl.password=${password}`];
    await runChecked('kcat', ['-b', bootstrap, ...auth(PASSWORD), '-P', '-t', 'sasl-kcat'], { input: 'kcat-1\nkcat-2\nkcat-3\n', timeoutMs: 30_000 });
    const { stdout } = await runChecked('kcat', ['-b', bootstrap, ...auth(PASSWORD), '-G', 'sasl-kcat-group', '-X', 'auto.offset.reset=earliest', '-c', '3', '-e', 'sasl-kcat'], { timeoutMs: 30_000 });
    assert.deepEqual(stdout.trim().split('\n'), ['kcat-1', 'kcat-2', 'kcat-3']);
    const refused = await runProcess('kcat', ['-b', bootstrap, ...auth('wrong'), '-L', '-m', '5'], { timeoutMs: 30_000 });
    assert.notEqual(refused.code, 0, `kcat with a wrong password: ${refused.stdout}`);
  });

  for (const [client, prefix] of [
    ['confluent-kafka-python', 'confluent'],
    ['kafka-python', 'kafka-python'],
  ] as const) {
    it(client, async (t) => {
      if (!(await requireClient(t, client))) return;
      const settings = (password: string) =>
        client === 'kafka-python'
          ? { bootstrap_servers: bootstrap, security_protocol: 'SASL_PLAINTEXT', sasl_mechanism: 'PLAIN', sasl_plain_username: 'alice', sasl_plain_password: password }
          : { 'bootstrap.servers': bootstrap, 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'alice', 'sasl.password': password };
      await checkPythonClient(client, `sasl-${prefix}`, prefix, settings(PASSWORD), settings('wrong'));
    });
  }

  it('@platformatic/kafka', async () => {
    const sasl = { mechanism: 'PLAIN' as const, username: 'alice', password: PASSWORD };
    assert.deepEqual(await platformaticRoundTrip('sasl-platformatic', 'platformatic', { bootstrapBrokers: [bootstrap], sasl }), ['platformatic-1', 'platformatic-2', 'platformatic-3']);
    const wrong = new Producer({ clientId: 'sasl-platformatic-wrong', bootstrapBrokers: [bootstrap], sasl: { ...sasl, password: 'wrong' }, serializers: stringSerializers, retries: 0 });
    try {
      await assert.rejects(wrong.send({ messages: [{ topic: 'sasl-refused', value: 'no' }] }));
    } finally {
      await wrong.close().catch(() => undefined);
    }
  });
});
