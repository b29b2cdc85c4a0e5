// Every client family authenticating with SASL/PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 on a
// SASL_PLAINTEXT listener: kcat and confluent-kafka-python (librdkafka), kafka-python 2.0.2 and
// @platformatic/kafka each produce three records and read them back in a consumer group with each
// mechanism, and each is refused with a wrong password, for the reason Kafka gives. Where openssl
// is there, every family does the same with every mechanism on a SASL_SSL listener. kafkajs is in
// test/integration/sasl.test.ts and sasl-scram.test.ts.
//
// alice has a different password for each mechanism (PLAIN's in the listener's JAAS users, the
// SCRAM credentials made through the PLAINTEXT listener with AlterUserScramCredentials, one request
// per mechanism: a KRaft controller keys a request's changes by user name, so two credentials of
// one user in one request are DUPLICATE_RESOURCE, in Kafka's ScramControlManager as here). A client
// served with a mechanism's password therefore ran that mechanism; its wrong password is another
// mechanism's, so the refusal also shows credentials are kept per mechanism.
//
// What each client does, read from its installed source:
// - librdkafka (kcat, confluent-kafka-python): SaslHandshake v1, then the exchange in SaslAuthenticate.
//   Before 2.6.1 it writes the client nonce twice into its client-final message,
//   `r=<client nonce><server nonce>` although the server's nonce already starts with the client's
//   (confluentinc/librdkafka#4895, "happening since v0.0.99"; its proof is computed over that same
//   text, so it is valid). Kafka before 3.7.2 did not check that nonce, 3.7.2, 3.8.1 and 3.9 accept
//   any nonce ending with the server's (the CVE-2024-56128 fix, kept lenient for librdkafka), and
//   Kafka 4.x requires it to equal the server's, which refuses every librdkafka before 2.6.1 (Debian
//   12 ships 2.0.2). Conveyor accepts exactly that doubled form besides the right one
//   (src/broker/scram-server.ts), so these clients pass here.
// - kafka-python 2.0.2 (kafka/conn.py `_try_authenticate_scram`, kafka/scram.py): SCRAM-SHA-256 and
//   SCRAM-SHA-512 after a SaslHandshake v0, client-first and client-final written as raw size-prefixed
//   frames and the server's answers read as raw frames, the server signature checked. A refused raw
//   exchange gets no answer, the broker closes the connection (as Kafka does), so kafka-python logs
//   the reset during its SASL reads and gives up with NoBrokersAvailable. It sends the user name
//   unescaped (`n={user}`), so a name with `,` or `=` cannot log in with it; alice has neither.
// - @platformatic/kafka: ApiVersions, SaslHandshake v1, then SaslAuthenticate (v2 here); the broker's
//   error code and message reach the application.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import '../../support/polyfills.js';
import { AdminClient } from '../../../src/client/admin-client.js';
import { ClusterClient } from '../../../src/client/cluster-client.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { type RunningBroker, startBroker } from '../../../src/node/start-broker.js';
import { requireClient } from '../../support/clients.js';
import { createTopicsWithKafkajs } from '../../support/kafkajs.js';
import { checkPythonClient, platformaticRefusal, platformaticRoundTrip } from '../../support/client-round-trips.js';
import { runChecked, runProcess } from '../../support/process.js';
import { makePki, noOpenssl, type Pki } from '../../support/test-pki.js';

const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
type Mechanism = (typeof MECHANISMS)[number];
const PASSWORDS: Record<Mechanism, string> = { PLAIN: 'plain-secret', 'SCRAM-SHA-256': 'sha256-secret', 'SCRAM-SHA-512': 'sha512-secret' };
/** Each mechanism's wrong password: another mechanism's. */
const WRONG: Record<Mechanism, string> = { PLAIN: PASSWORDS['SCRAM-SHA-512'], 'SCRAM-SHA-256': PASSWORDS.PLAIN, 'SCRAM-SHA-512': PASSWORDS['SCRAM-SHA-256'] };
const ITERATIONS = { 'SCRAM-SHA-256': 8192, 'SCRAM-SHA-512': 4096 } as const;
/** What the broker answers a wrong password with (Kafka's messages). */
const BROKER_REFUSAL: Record<Mechanism, string> = {
  PLAIN: 'Authentication failed: Invalid username or password',
  'SCRAM-SHA-256': 'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256',
  'SCRAM-SHA-512': 'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
};
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** librdkafka reports an authentication failure with the broker's message. */
const librdkafkaRefusal = (mechanism: Mechanism) => new RegExp(`SASL authentication error: ${escaped(BROKER_REFUSAL[mechanism])}`);
/** kafka-python: the broker closed the connection during its SASL reads, then no broker was left. */
const KAFKA_PYTHON_REFUSAL = /Error receiving reply from server[\s\S]*Connection reset during recv[\s\S]*NoBrokersAvailable/;

const slug = (mechanism: Mechanism) => mechanism.toLowerCase().replaceAll('-', '');
const topicOf = (client: string, mechanism: Mechanism, protocol = 'plaintext') => `sasl-${protocol === 'ssl' ? 'ssl-' : ''}${client}-${slug(mechanism)}`;
const values = (prefix: string) => [1, 2, 3].map((n) => `${prefix}-${n}`);

describe('client families with SASL/PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512', { timeout: 180_000 }, () => {
  let pki: Pki | undefined;
  let broker: RunningBroker;
  let bootstrap = '';
  let sslBootstrap = '';
  before(async () => {
    pki = noOpenssl ? undefined : makePki();
    const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="${PASSWORDS.PLAIN}";`;
    broker = await startBroker({
      storage: 'memory',
      config: {
        listeners: `PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0${pki ? ',SASL_SSL://127.0.0.1:0' : ''}`,
        'group.initial.rebalance.delay.ms': '0',
        'sasl.enabled.mechanisms': MECHANISMS.join(','),
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': jaas,
        ...(pki ? { 'listener.name.sasl_ssl.plain.sasl.jaas.config': jaas, 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile } : {}),
      },
    });
    const port = (name: string) => broker.broker.endpoints.find((endpoint) => endpoint.name === name)!.port;
    bootstrap = `127.0.0.1:${port('SASL_PLAINTEXT')}`;
    if (pki) sslBootstrap = `localhost:${port('SASL_SSL')}`;
    const plaintext = `127.0.0.1:${port('PLAINTEXT')}`;
    const cluster = new ClusterClient(connectTcp, plaintext);
    try {
      const admin = new AdminClient(cluster);
      for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
        const results = await admin.alterUserScramCredentials([{ user: 'alice', mechanism, password: PASSWORDS[mechanism], iterations: ITERATIONS[mechanism] }], []);
        assert.deepEqual(results.map(({ user, errorCode }) => [user, errorCode]), [['alice', 0]]);
      }
    } finally {
      cluster.close();
    }
    const protocols = pki ? ['plaintext', 'ssl'] : ['plaintext'];
    const topics = protocols.flatMap((protocol) => MECHANISMS.flatMap((mechanism) => ['kcat', 'confluent', 'kafka-python', 'platformatic'].map((client) => topicOf(client, mechanism, protocol))));
    await createTopicsWithKafkajs(plaintext, topics.flatMap((topic) => [topic, `${topic}-refused`]), 1);
  });
  after(async () => {
    await broker?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** kcat produces three records, reads them in a group, and is refused with the wrong password. */
  async function kcat(t: TestContext, mechanism: Mechanism, protocol: 'plaintext' | 'ssl') {
    if (!(await requireClient(t, 'kcat'))) return;
    const auth = (password: string) => [
      ...['-X', `security.protocol=sasl_${protocol}`, '-X', `sasl.mechanisms=${mechanism}`, '-X', 'sasl.username=alice', '-X', `sasl.password=${password}`],
      ...(protocol === 'ssl' ? ['-X', `ssl.ca.location=${pki!.caFile}`] : []),
    ];
    const server = protocol === 'ssl' ? sslBootstrap : bootstrap;
    const topic = topicOf('kcat', mechanism, protocol);
    const prefix = `kcat-${slug(mechanism)}`;
    await runChecked('kcat', ['-b', server, ...auth(PASSWORDS[mechanism]), '-P', '-t', topic], { input: `${values(prefix).join('\n')}\n`, timeoutMs: 30_000 });
    const { stdout } = await runChecked('kcat', ['-b', server, ...auth(PASSWORDS[mechanism]), '-G', `${topic}-group`, '-X', 'auto.offset.reset=earliest', '-c', '3', '-e', topic], { timeoutMs: 30_000 });
    assert.deepEqual(stdout.trim().split('\n'), values(prefix));
    // With the wrong password the producer stops at the broker's answer ("All broker connections are down").
    const refused = await runProcess('kcat', ['-b', server, ...auth(WRONG[mechanism]), '-P', '-t', `${topic}-refused`], { input: 'refused\n', timeoutMs: 30_000 });
    assert.notEqual(refused.code, 0, `kcat with a wrong password: ${refused.stderr}`);
    assert.match(refused.stderr, librdkafkaRefusal(mechanism));
  }

  for (const protocol of ['plaintext', 'ssl'] as const) {
    const over = protocol === 'ssl' ? ' over SASL_SSL' : '';
    const skip = protocol === 'ssl' && noOpenssl ? noOpenssl : undefined;
    /** The listener's address and each client's TLS settings for `protocol`. */
    const server = () => (protocol === 'ssl' ? sslBootstrap : bootstrap);
    for (const mechanism of MECHANISMS) {
      it(`kcat ${mechanism}${over}`, { skip }, (t) => kcat(t, mechanism, protocol));

      it(`confluent-kafka-python ${mechanism}${over}`, { skip }, async (t) => {
        if (!(await requireClient(t, 'confluent-kafka-python'))) return;
        const settings = (password: string) => ({
          'bootstrap.servers': server(),
          'security.protocol': `SASL_${protocol.toUpperCase()}`,
          'sasl.mechanisms': mechanism,
          'sasl.username': 'alice',
          'sasl.password': password,
          ...(protocol === 'ssl' ? { 'ssl.ca.location': pki!.caFile } : {}),
        });
        await checkPythonClient('confluent-kafka-python', topicOf('confluent', mechanism, protocol), `confluent-${slug(mechanism)}`, settings(PASSWORDS[mechanism]), settings(WRONG[mechanism]), new RegExp(`refused: .*${librdkafkaRefusal(mechanism).source}`));
      });

      it(`kafka-python ${mechanism}${over}`, { skip }, async (t) => {
        if (!(await requireClient(t, 'kafka-python'))) return;
        const settings = (password: string) => ({
          bootstrap_servers: server(),
          security_protocol: `SASL_${protocol.toUpperCase()}`,
          sasl_mechanism: mechanism,
          sasl_plain_username: 'alice',
          sasl_plain_password: password,
          ...(protocol === 'ssl' ? { ssl_cafile: pki!.caFile, ssl_check_hostname: true } : {}),
        });
        await checkPythonClient('kafka-python', topicOf('kafka-python', mechanism, protocol), `kafka-python-${slug(mechanism)}`, settings(PASSWORDS[mechanism]), settings(WRONG[mechanism]), KAFKA_PYTHON_REFUSAL);
      });

      it(`@platformatic/kafka ${mechanism}${over}`, { skip }, async () => {
        const sasl = { mechanism, username: 'alice', password: PASSWORDS[mechanism] };
        const connection = { bootstrapBrokers: [server()], ...(protocol === 'ssl' ? { tls: { ca: [pki!.ca], servername: 'localhost' } } : {}) };
        const topic = topicOf('platformatic', mechanism, protocol);
        const prefix = `platformatic-${slug(mechanism)}`;
        assert.deepEqual(await platformaticRoundTrip(topic, prefix, { ...connection, sasl }), values(prefix));
        const refusal = await platformaticRefusal(`${topic}-refused`, `${prefix}-wrong`, { ...connection, sasl: { ...sasl, password: WRONG[mechanism] } });
        assert.match(refusal, /SASL authentication failed/);
        assert.ok(refusal.includes(BROKER_REFUSAL[mechanism]), refusal);
      });
    }
  }
});
