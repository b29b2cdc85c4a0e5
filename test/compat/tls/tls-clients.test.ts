// Every client family over an SSL listener that requires a client certificate
// (ssl.client.auth=required): kcat (librdkafka), confluent-kafka-python (librdkafka),
// kafka-python and @platformatic/kafka each produce three records with their own TLS settings
// and read them back in a consumer group, all through the one SSL port; and each is refused
// without its client certificate. kafkajs is in test/integration/tls.test.ts.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import '../../support/polyfills.js';
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { type RunningBroker, startBroker } from '../../../src/node/start-broker.js';
import { requireClient } from '../../support/clients.js';
import { createTopicsWithKafkajs } from '../../support/kafkajs.js';
import { PYTHON, runChecked, runProcess } from '../../support/process.js';
import { makePki, noOpenssl, type Pki } from '../../support/test-pki.js';

/** Produces `values` and reads them back in a group, over SSL; prints the values read, one per line. */
const CONFLUENT = `
import sys
from confluent_kafka import Producer, Consumer
bootstrap, topic, ca, cert, key, with_cert = sys.argv[1:7]
tls = {'bootstrap.servers': bootstrap, 'security.protocol': 'SSL', 'ssl.ca.location': ca}
if with_cert == 'yes':
    tls.update({'ssl.certificate.location': cert, 'ssl.key.location': key})
producer = Producer(dict(tls, **{'message.timeout.ms': 10000}))
for n in range(1, 4):
    producer.produce(topic, value=f'confluent-{n}'.encode())
if producer.flush(15) != 0:
    sys.exit('not delivered')
consumer = Consumer(dict(tls, **{'group.id': topic + '-group', 'auto.offset.reset': 'earliest'}))
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
bootstrap, topic, ca, cert, key, with_cert = sys.argv[1:7]
tls = dict(bootstrap_servers=bootstrap, security_protocol='SSL', ssl_cafile=ca, ssl_check_hostname=True)
if with_cert == 'yes':
    tls.update(ssl_certfile=cert, ssl_keyfile=key)
producer = KafkaProducer(request_timeout_ms=10000, max_block_ms=10000, **tls)
for n in range(1, 4):
    producer.send(topic, f'kafka-python-{n}'.encode()).get(timeout=15)
producer.close()
consumer = KafkaConsumer(topic, group_id=topic + '-group', auto_offset_reset='earliest', consumer_timeout_ms=15000, **tls)
seen = []
for message in consumer:
    seen.append(message.value.decode())
    if len(seen) == 3:
        break
consumer.close()
print('\\n'.join(seen))
`;

describe('client families over an SSL listener with client certificates required', { timeout: 180_000, skip: noOpenssl }, () => {
  let pki: Pki;
  let broker: RunningBroker;
  let bootstrap = '';
  before(async () => {
    pki = makePki();
    broker = await startBroker({
      storage: 'memory',
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
        'group.initial.rebalance.delay.ms': '0',
        'listener.name.ssl.ssl.keystore.type': 'PEM',
        'listener.name.ssl.ssl.keystore.location': pki.brokerPemFile,
        'listener.name.ssl.ssl.truststore.type': 'PEM',
        'listener.name.ssl.ssl.truststore.location': pki.caFile,
        'listener.name.ssl.ssl.client.auth': 'required',
      },
    });
    bootstrap = `localhost:${broker.broker.endpoints.find((endpoint) => endpoint.name === 'SSL')!.port}`;
    const plaintext = `127.0.0.1:${broker.broker.endpoints.find((endpoint) => endpoint.name === 'PLAINTEXT')!.port}`;
    await createTopicsWithKafkajs(plaintext, ['tls-kcat', 'tls-confluent', 'tls-kafka-python', 'tls-platformatic', 'tls-refused'], 1);
  });
  after(async () => {
    await broker?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('kcat', async (t) => {
    if (!(await requireClient(t, 'kcat'))) return;
    const tls = ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${pki.caFile}`, '-X', `ssl.certificate.location=${pki.clientCertFile}`, '-X', `ssl.key.location=${pki.clientKeyFile}`];
    await runChecked('kcat', ['-b', bootstrap, ...tls, '-P', '-t', 'tls-kcat'], { input: 'kcat-1\nkcat-2\nkcat-3\n', timeoutMs: 30_000 });
    const { stdout } = await runChecked('kcat', ['-b', bootstrap, ...tls, '-G', 'tls-kcat-group', '-X', 'auto.offset.reset=earliest', '-c', '3', '-e', 'tls-kcat'], { timeoutMs: 30_000 });
    assert.deepEqual(stdout.trim().split('\n'), ['kcat-1', 'kcat-2', 'kcat-3']);
    // Without its certificate: the handshake is refused, nothing is listed.
    const refused = await runProcess('kcat', ['-b', bootstrap, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${pki.caFile}`, '-L', '-m', '5'], { timeoutMs: 30_000 });
    assert.notEqual(refused.code, 0, `kcat without a client certificate: ${refused.stdout}`);
  });

  for (const [name, client, script, prefix] of [
    ['confluent-kafka-python', 'confluent-kafka-python', CONFLUENT, 'confluent'],
    ['kafka-python', 'kafka-python', KAFKA_PYTHON, 'kafka-python'],
  ] as const) {
    it(name, async (t) => {
      if (!(await requireClient(t, client))) return;
      const run = (topic: string, withCert: 'yes' | 'no') => runProcess(PYTHON, ['-c', script, bootstrap, topic, pki.caFile, pki.clientCertFile, pki.clientKeyFile, withCert], { timeoutMs: 60_000 });
      const served = await run(`tls-${prefix}`, 'yes');
      assert.equal(served.code, 0, served.stderr);
      assert.deepEqual(served.stdout.trim().split('\n'), [1, 2, 3].map((n) => `${prefix}-${n}`));
      const refused = await run('tls-refused', 'no');
      assert.notEqual(refused.code, 0, `${name} without a client certificate was served: ${refused.stdout}`);
    });
  }

  it('@platformatic/kafka', async () => {
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    const producer = new Producer({ clientId: 'tls-platformatic', bootstrapBrokers: [bootstrap], tls, serializers: stringSerializers });
    try {
      await producer.send({ messages: [1, 2, 3].map((n) => ({ topic: 'tls-platformatic', value: `platformatic-${n}` })) });
    } finally {
      await producer.close();
    }
    const consumer = new Consumer({ clientId: 'tls-platformatic', groupId: 'tls-platformatic-group', bootstrapBrokers: [bootstrap], tls, deserializers: stringDeserializers });
    const seen: string[] = [];
    try {
      const stream = await consumer.consume({ topics: ['tls-platformatic'], mode: 'earliest' });
      for await (const message of stream) {
        seen.push(message.value as string);
        if (seen.length === 3) break;
      }
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    assert.deepEqual(seen, ['platformatic-1', 'platformatic-2', 'platformatic-3']);
  });
});
