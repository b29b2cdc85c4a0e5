// Every client family over an SSL listener that requires a client certificate
// (ssl.client.auth=required): kcat (librdkafka), confluent-kafka-python (librdkafka),
// kafka-python and @platformatic/kafka each produce three records with their own TLS settings
// and read them back in a consumer group, all through the one SSL port; and each is refused
// without its client certificate. kafkajs is in test/integration/tls.test.ts.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type RunningBroker, startBroker } from '../../../src/node/start-broker.js';
import { requireClient } from '../../support/clients.js';
import { createTopicsWithKafkajs } from '../../support/kafkajs.js';
import { checkPythonClient, platformaticRoundTrip } from '../../support/client-round-trips.js';
import { runChecked, runProcess } from '../../support/process.js';
import { makePki, noOpenssl, type Pki } from '../../support/test-pki.js';

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
    await createTopicsWithKafkajs(plaintext, ['tls-kcat', 'tls-confluent', 'tls-confluent-refused', 'tls-kafka-python', 'tls-kafka-python-refused', 'tls-platformatic'], 1);
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

  for (const [client, prefix] of [
    ['confluent-kafka-python', 'confluent'],
    ['kafka-python', 'kafka-python'],
  ] as const) {
    it(client, async (t) => {
      if (!(await requireClient(t, client))) return;
      const settings = (withCert: boolean) =>
        client === 'kafka-python'
          ? { bootstrap_servers: bootstrap, security_protocol: 'SSL', ssl_cafile: pki.caFile, ssl_check_hostname: true, ...(withCert ? { ssl_certfile: pki.clientCertFile, ssl_keyfile: pki.clientKeyFile } : {}) }
          : { 'bootstrap.servers': bootstrap, 'security.protocol': 'SSL', 'ssl.ca.location': pki.caFile, ...(withCert ? { 'ssl.certificate.location': pki.clientCertFile, 'ssl.key.location': pki.clientKeyFile } : {}) };
      await checkPythonClient(client, `tls-${prefix}`, prefix, settings(true), settings(false));
    });
  }

  it('@platformatic/kafka', async () => {
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    assert.deepEqual(await platformaticRoundTrip('tls-platformatic', 'platformatic', { bootstrapBrokers: [bootstrap], tls }), ['platformatic-1', 'platformatic-2', 'platformatic-3']);
  });
});
