// `conveyor certs create`: the files it writes make a working TLS setup as printed. A broker with
// the SSL listener the command suggests (and client certificates required) serves kafkajs with the
// client files; the broker certificate names the hosts asked for; the private keys are readable by
// their owner only; a bad --days is refused.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker } from '../../src/node/start-broker.js';
import { runCli } from '../support/crash-broker-process.js';

describe('conveyor certs create', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-certs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a CA, a broker and a client certificate that a TLS setup with client certificates required accepts', async () => {
    const result = await runCli(['certs', 'create', dir, '--host', 'broker.internal', '--host', '10.1.2.3', '--client', 'alice']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /ssl\.keystore\.location=.*broker-keystore\.pem/);
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    const ca = new X509Certificate(read('ca.pem'));
    const broker = new X509Certificate(read('broker.pem'));
    const client = new X509Certificate(read('client.pem'));
    assert.ok(ca.ca && broker.verify(ca.publicKey) && client.verify(ca.publicKey), 'both signed by the CA');
    assert.equal(broker.checkHost('broker.internal'), 'broker.internal');
    assert.equal(broker.checkIP('10.1.2.3'), '10.1.2.3');
    assert.equal(broker.checkHost('localhost'), 'localhost');
    assert.match(client.subject, /CN=alice/);
    for (const secret of ['ca.key', 'broker.key', 'broker-keystore.pem', 'client.key']) assert.equal(statSync(join(dir, secret)).mode & 0o077, 0, `${secret} is private`);

    const running = await startBroker({
      storage: 'memory',
      config: {
        listeners: 'SSL://127.0.0.1:0',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': join(dir, 'broker-keystore.pem'),
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': join(dir, 'ca.pem'),
        'ssl.client.auth': 'required',
      },
    });
    try {
      const ssl = { ca: [read('ca.pem')], cert: read('client.pem'), key: read('client.key') };
      const kafka = new Kafka({ clientId: 'certs-command', brokers: [`localhost:${running.port}`], ssl, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      const [sent] = await producer.send({ topic: 'certs-command', acks: -1, messages: [{ value: 'over TLS' }] });
      await producer.disconnect();
      assert.equal(sent!.errorCode, 0);
    } finally {
      await running.close();
    }
  });

  it('refuses a bad --days', async () => {
    const result = await runCli(['certs', 'create', join(dir, 'other'), '--days', '0']);
    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /--days: '0' is not a whole number of days from 1 to 3650/);
  });
});
