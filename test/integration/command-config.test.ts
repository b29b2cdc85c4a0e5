// The tools' --command-config (Kafka's client keys) against a real broker, run as real processes:
// SCRAM-SHA-256 and SCRAM-SHA-512 users made with `conveyor users` (itself over SASL/PLAIN) run
// `topics create`/`topics list` and `groups list` over SASL_PLAINTEXT; a wrong SCRAM password is
// refused with a clear message. With openssl: `topics list` over SSL with a client certificate
// (the listener requires one; the certificate and key inline as PEM continued over lines, as Kafka
// documents), and over SASL_SSL with SCRAM and the CA inline; a broker certificate from a CA the
// client does not trust, no client certificate, and TLS spoken to a plaintext listener all fail
// with a message saying so.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { runCli } from '../support/crash-broker-process.js';
import { makePki, noOpenssl, type Pki } from '../support/test-pki.js';

/** A properties value over several lines, each continued with a backslash (Kafka's documented form for inline PEM). */
const continued = (pem: string) => pem.trim().split('\n').join(' \\\n    ');

describe('--command-config', { timeout: 240_000 }, () => {
  let pki: Pki | undefined;
  let broker: RunningBroker;
  let dir: string;
  const portOf = (name: string) => broker.broker.endpoints.find((endpoint) => endpoint.name === name)!.port;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const scram = (mechanism: string, user: string, password: string) =>
    `sasl.mechanism=${mechanism}\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";\n`;

  before(async () => {
    pki = noOpenssl ? undefined : makePki();
    dir = mkdtempSync(join(tmpdir(), 'conveyor-command-config-'));
    broker = await startBroker({
      storage: 'memory',
      config: {
        listeners: `PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0${pki ? ',SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0' : ''}`,
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";',
        ...(pki
          ? {
              'ssl.keystore.type': 'PEM',
              'ssl.keystore.location': pki.brokerPemFile,
              'listener.name.ssl.ssl.truststore.type': 'PEM',
              'listener.name.ssl.ssl.truststore.location': pki.caFile,
              'listener.name.ssl.ssl.client.auth': 'required',
            }
          : {}),
      },
    });
    // SCRAM users, made over SASL/PLAIN with --command-config.
    const admin = file('admin.properties', 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";\n');
    for (const [user, mechanism] of [['carol', 'SCRAM-SHA-256'], ['dave', 'SCRAM-SHA-512']] as const) {
      const added = await runCli(['users', 'add', '--user', user, '--password', `${user}-secret`, '--mechanism', mechanism, '--bootstrap-server', `127.0.0.1:${portOf('SASL_PLAINTEXT')}`, '--command-config', admin]);
      assert.equal(added.exitCode, 0, added.stderr);
    }
  });
  after(async () => {
    await broker?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  const tool = (args: string[], bootstrap: string, config: string) => runCli([...args, '--bootstrap-server', bootstrap, '--command-config', config]);
  const topicNames = (stdout: string) => (JSON.parse(stdout) as { name: string }[]).map(({ name }) => name);

  it('SCRAM-SHA-256 and SCRAM-SHA-512 users authenticate the tools over SASL_PLAINTEXT; a wrong SCRAM password is refused', async () => {
    const bootstrap = `127.0.0.1:${portOf('SASL_PLAINTEXT')}`;
    const carol = file('carol.properties', `security.protocol=SASL_PLAINTEXT\n${scram('SCRAM-SHA-256', 'carol', 'carol-secret')}`);
    const dave = file('dave.properties', `security.protocol=SASL_PLAINTEXT\n${scram('SCRAM-SHA-512', 'dave', 'dave-secret')}`);
    const created = await tool(['topics', 'create', 'scram-topic', '--partitions', '2'], bootstrap, carol);
    assert.equal(created.exitCode, 0, created.stderr);
    const listed = await tool(['topics', 'list', '--json'], bootstrap, dave);
    assert.equal(listed.exitCode, 0, listed.stderr);
    assert.ok(topicNames(listed.stdout).includes('scram-topic'), listed.stdout);
    const groups = await tool(['groups', 'list', '--json'], bootstrap, dave);
    assert.equal(groups.exitCode, 0, groups.stderr);
    assert.deepEqual(JSON.parse(groups.stdout), []);

    const wrong = await tool(['topics', 'list'], bootstrap, file('wrong.properties', `security.protocol=SASL_PLAINTEXT\n${scram('SCRAM-SHA-512', 'dave', 'guess')}`));
    assert.equal(wrong.exitCode, 1);
    assert.match(wrong.stderr, /^conveyor: SASL authentication as 'dave' with SCRAM-SHA-512 at 127\.0\.0\.1:\d+ failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512\n$/);
    // carol has no SCRAM-SHA-512 credential: refused the same way.
    const otherMechanism = await tool(['topics', 'list'], bootstrap, file('carol-512.properties', `security.protocol=SASL_PLAINTEXT\n${scram('SCRAM-SHA-512', 'carol', 'carol-secret')}`));
    assert.equal(otherMechanism.exitCode, 1);
    assert.match(otherMechanism.stderr, /SASL authentication as 'carol' with SCRAM-SHA-512 .* failed/);
    // SASL settings for the plaintext listener: it does not take SASL.
    const notSasl = await tool(['topics', 'list'], `127.0.0.1:${portOf('PLAINTEXT')}`, carol);
    assert.equal(notSasl.exitCode, 1);
    assert.match(notSasl.stderr, /does not take SASL authentication .*is security\.protocol right/);
  });

  it('topics list over SSL with a client certificate and over SASL_SSL with SCRAM; an untrusted broker, a missing client certificate and TLS to a plaintext listener fail saying so', { skip: noOpenssl }, async () => {
    const { ca, caFile, clientCert, clientKey } = pki!;
    const ssl = `localhost:${portOf('SSL')}`;
    const withCertificate = file(
      'ssl.properties',
      `security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=${caFile}\nssl.keystore.type=PEM\nssl.keystore.certificate.chain=${continued(clientCert)}\nssl.keystore.key=${continued(clientKey)}\n`,
    );
    const listed = await tool(['topics', 'list', '--json'], ssl, withCertificate);
    assert.equal(listed.exitCode, 0, listed.stderr);
    assert.ok(topicNames(listed.stdout).includes('scram-topic'), listed.stdout);

    const saslSsl = file('sasl-ssl.properties', `security.protocol=SASL_SSL\n${scram('SCRAM-SHA-512', 'dave', 'dave-secret')}ssl.truststore.type=PEM\nssl.truststore.certificates=${continued(ca)}\n`);
    const overSaslSsl = await tool(['topics', 'list', '--json'], `127.0.0.1:${portOf('SASL_SSL')}`, saslSsl);
    assert.equal(overSaslSsl.exitCode, 0, overSaslSsl.stderr);
    assert.ok(topicNames(overSaslSsl.stdout).includes('scram-topic'), overSaslSsl.stdout);

    // A PKCS12 trust store (keytool's kind), with its password; a wrong one refuses the command (a configuration error), naming the key.
    const p12 = (password: string) => `security.protocol=SASL_SSL\n${scram('SCRAM-SHA-512', 'dave', 'dave-secret')}ssl.truststore.type=PKCS12\nssl.truststore.location=${pki!.caP12File}\nssl.truststore.password=${password}\n`;
    const overPkcs12 = await tool(['topics', 'list', '--json'], `localhost:${portOf('SASL_SSL')}`, file('pkcs12.properties', p12('trust-secret')));
    assert.equal(overPkcs12.exitCode, 0, overPkcs12.stderr);
    const wrongPkcs12 = await tool(['topics', 'list'], `localhost:${portOf('SASL_SSL')}`, file('pkcs12-wrong.properties', p12('wrong')));
    assert.equal(wrongPkcs12.exitCode, 2);
    assert.match(wrongPkcs12.stderr, /invalid configuration: ssl\.truststore\.location: .*PKCS12 trust store .*integrity check fails: a wrong password/);

    // The system's CAs do not include the test CA.
    const untrusted = await tool(['topics', 'list'], ssl, file('untrusted.properties', 'security.protocol=SSL\n'));
    assert.equal(untrusted.exitCode, 1);
    assert.match(untrusted.stderr, /^conveyor: TLS handshake with localhost:\d+ failed: .*certificate/);

    const noCertificate = await tool(['topics', 'list'], ssl, file('no-cert.properties', `security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=${caFile}\n`));
    assert.equal(noCertificate.exitCode, 1);
    assert.match(noCertificate.stderr, /^conveyor: ApiVersions to localhost:\d+: connection to the broker broke: .*alert certificate required/);

    const tlsToPlaintext = await tool(['topics', 'list'], `127.0.0.1:${portOf('PLAINTEXT')}`, withCertificate);
    assert.equal(tlsToPlaintext.exitCode, 1);
    assert.match(tlsToPlaintext.stderr, /TLS handshake with 127\.0\.0\.1:\d+ failed: .*is it an SSL or SASL_SSL listener/);

    // A key store that is not a key refuses the command, naming the key, before any connection.
    const badKey = await tool(['topics', 'list'], ssl, file('bad-key.properties', `security.protocol=SSL\nssl.keystore.type=PEM\nssl.keystore.certificate.chain=${continued(clientCert)}\nssl.keystore.key=${continued(clientCert)}\n`));
    assert.equal(badKey.exitCode, 2);
    assert.match(badKey.stderr, /invalid configuration: ssl\.keystore\.key: the client certificate and key cannot be used/);
  });
});
