// Every client family authenticating with SASL/PLAIN on a SASL_PLAINTEXT listener: kcat and
// confluent-kafka-python (librdkafka: SaslHandshake v1 and SaslAuthenticate), kafka-python
// (SaslHandshake, then the token as a raw frame) and @platformatic/kafka each produce three
// records and read them back in a consumer group, and each is refused with a wrong password.
// kafkajs is in test/integration/sasl.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import '../../support/polyfills.js';
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { type RunningBroker, startBroker } from '../../../src/node/start-broker.js';
import { requireClient } from '../../support/clients.js';
import { createTopicsWithKafkajs } from '../../support/kafkajs.js';
import { PYTHON, runChecked, runProcess } from '../../support/process.js';

const PASSWORD = 'alice-secret';
const JAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="${PASSWORD}";`;

const CONFLUENT = `
import sys
from confluent_kafka import Producer, Consumer
bootstrap, topic, password = sys.argv[1:4]
auth = {'bootstrap.servers': bootstrap, 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'alice', 'sasl.password': password}
producer = Producer(dict(auth, **{'message.timeout.ms': 10000}))
for n in range(1, 4):
    producer.produce(topic, value=f'confluent-{n}'.encode())
if producer.flush(15) != 0:
    sys.exit('not delivered')
consumer = Consumer(dict(auth, **{'group.id': topic + '-group', 'auto.offset.reset': 'earliest'}))
consumer.subscribe([topic])
seen = []
while len(seen) < 3:
    message = consumer.poll(15)
    if message is None:
        sys.exit('read %d of 3' % len(seen))
    if message.error():
        continue
    seen.append(message.value().decode())
consumer.close()
print('\\n'.join(seen))
`;

const KAFKA_PYTHON = `
import sys
from kafka import KafkaProducer, KafkaConsumer
bootstrap, topic, password = sys.argv[1:4]
auth = dict(bootstrap_servers=bootstrap, security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN', sasl_plain_username='alice', sasl_plain_password=password)
producer = KafkaProducer(request_timeout_ms=10000, max_block_ms=10000, **auth)
for n in range(1, 4):
    producer.send(topic, f'kafka-python-{n}'.encode()).get(timeout=15)
producer.close()
consumer = KafkaConsumer(topic, group_id=topic + '-group', auto_offset_reset='earliest', consumer_timeout_ms=15000, **auth)
seen = []
for message in consumer:
    seen.append(message.value.decode())
    if len(seen) == 3:
        break
consumer.close()
print('\\n'.join(seen))
`;

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
    await createTopicsWithKafkajs(`127.0.0.1:${port('PLAINTEXT')}`, ['sasl-kcat', 'sasl-confluent', 'sasl-kafka-python', 'sasl-platformatic', 'sasl-refused'], 1);
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

  for (const [client, script, prefix] of [
    ['confluent-kafka-python', CONFLUENT, 'confluent'],
    ['kafka-python', KAFKA_PYTHON, 'kafka-python'],
  ] as const) {
    it(client, async (t) => {
      if (!(await requireClient(t, client))) return;
      const run = (topic: string, password: string) => runProcess(PYTHON, ['-c', script, bootstrap, topic, password], { timeoutMs: 60_000 });
      const served = await run(`sasl-${prefix}`, PASSWORD);
      assert.equal(served.code, 0, served.stderr);
      assert.deepEqual(served.stdout.trim().split('\n'), [1, 2, 3].map((n) => `${prefix}-${n}`));
      const refused = await run('sasl-refused', 'wrong');
      assert.notEqual(refused.code, 0, `${client} with a wrong password was served: ${refused.stdout}`);
    });
  }

  it('@platformatic/kafka', async () => {
    const sasl = { mechanism: 'PLAIN' as const, username: 'alice', password: PASSWORD };
    const producer = new Producer({ clientId: 'sasl-platformatic', bootstrapBrokers: [bootstrap], sasl, serializers: stringSerializers });
    try {
      await producer.send({ messages: [1, 2, 3].map((n) => ({ topic: 'sasl-platformatic', value: `platformatic-${n}` })) });
    } finally {
      await producer.close();
    }
    const consumer = new Consumer({ clientId: 'sasl-platformatic', groupId: 'sasl-platformatic-group', bootstrapBrokers: [bootstrap], sasl, deserializers: stringDeserializers });
    const seen: string[] = [];
    try {
      const stream = await consumer.consume({ topics: ['sasl-platformatic'], mode: 'earliest' });
      for await (const message of stream) {
        seen.push(message.value as string);
        if (seen.length === 3) break;
      }
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    assert.deepEqual(seen, ['platformatic-1', 'platformatic-2', 'platformatic-3']);
    const wrong = new Producer({ clientId: 'sasl-platformatic-wrong', bootstrapBrokers: [bootstrap], sasl: { ...sasl, password: 'wrong' }, serializers: stringSerializers, retries: 0 });
    try {
      await assert.rejects(wrong.send({ messages: [{ topic: 'sasl-refused', value: 'no' }] }));
    } finally {
      await wrong.close().catch(() => undefined);
    }
  });
});
