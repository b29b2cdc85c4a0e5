// SASL/PLAIN on SASL_PLAINTEXT and SASL_SSL listeners: kafkajs authenticates with a user from the
// listener's JAAS entry and produces and consumes; a wrong password gets SASL_AUTHENTICATION_FAILED
// and its connection closed; a request before authentication closes the connection; an unknown
// mechanism is answered with the listener's mechanisms; a v0 handshake takes the credentials as a
// raw frame (as kafka-python 2.0 sends them); SaslHandshake on a PLAINTEXT listener is
// ILLEGAL_SASL_STATE; ApiVersions lists both APIs; the authenticated principal is User:<name>;
// bad settings are refused at start naming the key. SASL between nodes: sasl-cluster.test.ts.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { SASL_AUTHENTICATION_TIMEOUT_MS } from '../../src/broker/broker.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { ApiVersionsApi, MetadataApi, SaslAuthenticateApi, SaslHandshakeApi } from '../../src/protocol/messages/index.js';
import { RawClient, encodeRequestFrame } from '../support/raw-client.js';
import { makePki, noOpenssl, type Pki } from '../support/test-pki.js';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice \\"quoted\\" secret";';
const ALICE_PASSWORD = 'alice "quoted" secret';

describe('SASL/PLAIN', { timeout: 120_000 }, () => {
  let pki: Pki | undefined;
  let broker: RunningBroker;
  const portOf = (name: string) => broker.broker.endpoints.find((endpoint) => endpoint.name === name)!.port;

  before(async () => {
    pki = noOpenssl ? undefined : makePki();
    broker = await startBroker({
      storage: 'memory',
      config: {
        listeners: `PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0${pki ? ',SASL_SSL://127.0.0.1:0' : ''}`,
        'group.initial.rebalance.delay.ms': '0',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
        // SASL_SSL takes the unprefixed sasl.jaas.config.
        'sasl.jaas.config': JAAS,
        ...(pki ? { 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile } : {}),
      },
    });
  });
  after(async () => {
    await broker?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  const roundTrip = async (bootstrap: string, extra: object, label: string) => {
    const kafka = new Kafka({ clientId: `sasl-${label}`, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 1 }, ...extra });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      await producer.send({ topic: `sasl-${label}`, acks: -1, messages: [{ value: `${label}-1` }, { value: `${label}-2` }] });
    } finally {
      await producer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(`sasl-${label}`);
      return offsets.map((offset) => offset.high);
    } finally {
      await admin.disconnect();
    }
  };

  it('kafkajs authenticates with PLAIN on SASL_PLAINTEXT and SASL_SSL; a wrong password is refused', async (t) => {
    const plain = `127.0.0.1:${portOf('SASL_PLAINTEXT')}`;
    assert.deepEqual(await roundTrip(plain, { sasl: { mechanism: 'plain', username: 'alice', password: ALICE_PASSWORD } }, 'plaintext'), ['2']);
    await assert.rejects(roundTrip(plain, { sasl: { mechanism: 'plain', username: 'alice', password: 'wrong' } }, 'wrong'), /SASL PLAIN authentication failed|Invalid username or password/);
    await assert.rejects(roundTrip(plain, { sasl: { mechanism: 'plain', username: 'mallory', password: ALICE_PASSWORD } }, 'nobody'), /SASL PLAIN authentication failed|Invalid username or password/);
    if (!pki) return t.skip(noOpenssl as string);
    assert.deepEqual(await roundTrip(`localhost:${portOf('SASL_SSL')}`, { ssl: { ca: [pki.ca] }, sasl: { mechanism: 'plain', username: 'admin', password: 'admin-secret' } }, 'ssl'), ['2']);
  });

  it('answers the protocol as Kafka does: requests before authentication close the connection, unknown mechanisms are listed, failures answered then closed', async () => {
    const port = portOf('SASL_PLAINTEXT');
    const versions = await (async () => {
      const client = await RawClient.connect('127.0.0.1', port);
      try {
        // ApiVersions is allowed before authentication, and lists both SASL APIs.
        return (await client.request(ApiVersionsApi, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' })).apiKeys;
      } finally {
        await client.close();
      }
    })();
    assert.deepEqual(versions.filter((api) => api.apiKey === 17 || api.apiKey === 36).map(({ apiKey, minVersion, maxVersion }) => [apiKey, minVersion, maxVersion]), [[17, 0, 1], [36, 0, 2]]);

    const early = await RawClient.connect('127.0.0.1', port);
    early.send(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { expectResponse: false });
    await early.waitForClose();

    const unknown = await RawClient.connect('127.0.0.1', port);
    assert.deepEqual(await unknown.request(SaslHandshakeApi, 1, { mechanism: 'SCRAM-SHA-256' }), { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['PLAIN'] });
    await unknown.waitForClose();

    const wrong = await RawClient.connect('127.0.0.1', port);
    assert.equal((await wrong.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' })).errorCode, ErrorCode.NONE);
    const refused = await wrong.request(SaslAuthenticateApi, 2, { authBytes: Buffer.from('\0alice\0nope') });
    assert.equal(refused.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(refused.errorMessage, 'Authentication failed: Invalid username or password');
    await wrong.waitForClose();

    const right = await RawClient.connect('127.0.0.1', port);
    assert.equal((await right.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' })).errorCode, ErrorCode.NONE);
    assert.equal((await right.request(SaslAuthenticateApi, 2, { authBytes: Buffer.from(`alice\0alice\0${ALICE_PASSWORD}`) })).errorCode, ErrorCode.NONE);
    assert.ok(broker.broker.connectionStats().some((connection) => connection.principal === 'User:alice'), 'the connection is User:alice');
    // Authenticated: requests are served, and a second handshake is out of place.
    assert.equal((await right.request(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })).brokers.length, 1);
    assert.equal((await right.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' })).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    await right.close();

    // A PLAINTEXT listener has no SASL state to be in.
    const plaintext = await RawClient.connect('127.0.0.1', portOf('PLAINTEXT'));
    assert.equal((await plaintext.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' })).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    await plaintext.close();
  });

  it('after a v0 handshake takes the PLAIN token as a raw frame (kafka-python 2.0): an empty frame on success, the connection closed on failure', async () => {
    const port = portOf('SASL_PLAINTEXT');
    /** Handshake v0, then the raw token; resolves with what came back after the handshake's answer. */
    const rawAttempt = (token: string) =>
      new Promise<{ reply: Buffer; closed: boolean; socket: Socket }>((resolve, reject) => {
        const socket = connectTcp({ host: '127.0.0.1', port });
        let received = Buffer.alloc(0);
        let handshakeAnswered = false;
        const timer = setTimeout(() => resolve({ reply: received, closed: false, socket }), 3_000);
        socket.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          if (!handshakeAnswered && received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
            handshakeAnswered = true;
            received = received.subarray(4 + received.readInt32BE(0));
            const raw = Buffer.from(token);
            const frame = Buffer.alloc(4 + raw.length);
            frame.writeInt32BE(raw.length, 0);
            raw.copy(frame, 4);
            socket.write(frame);
          } else if (handshakeAnswered && received.length >= 4) {
            clearTimeout(timer);
            resolve({ reply: received, closed: false, socket });
          }
        });
        socket.on('close', () => {
          clearTimeout(timer);
          resolve({ reply: received, closed: true, socket });
        });
        socket.on('error', reject);
        socket.write(encodeRequestFrame(SaslHandshakeApi, 0, 1, { mechanism: 'PLAIN' }));
      });
    const ok = await rawAttempt(`\0alice\0${ALICE_PASSWORD}`);
    assert.deepEqual([...ok.reply.subarray(0, 4)], [0, 0, 0, 0], 'a zero-size frame');
    assert.equal(ok.closed, false);
    ok.socket.destroy();
    const failed = await rawAttempt('\0alice\0wrong');
    assert.equal(failed.closed, true);
    assert.equal(failed.reply.length, 0);
  });

  it('before authentication: a frame over sasl.server.max.receive.size closes the connection before it is read, and so does silence past the time limit; after it, large requests pass', async () => {
    const port = portOf('SASL_PLAINTEXT');
    // A size prefix just over 512 KiB: refused on the prefix alone, nothing more need be sent.
    const oversized = await RawClient.connect('127.0.0.1', port);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(524_289, 0);
    oversized.sendRaw(prefix);
    await oversized.waitForClose();
    const openedAt = Date.now();
    const silent = await RawClient.connect('127.0.0.1', port);
    await silent.waitForClose(SASL_AUTHENTICATION_TIMEOUT_MS + 5_000);
    const waited = Date.now() - openedAt;
    assert.ok(waited >= SASL_AUTHENTICATION_TIMEOUT_MS - 500, `closed after ${waited} ms`);
    // Authenticated, a 600 KB record goes through.
    const kafka = new Kafka({ clientId: 'sasl-large', brokers: [`127.0.0.1:${port}`], sasl: { mechanism: 'plain', username: 'alice', password: ALICE_PASSWORD }, logLevel: logLevel.NOTHING, retry: { retries: 1 } });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      const [sent] = await producer.send({ topic: 'sasl-large', acks: -1, messages: [{ value: Buffer.alloc(600_000, 7) }] });
      assert.equal(sent!.errorCode, 0);
    } finally {
      await producer.disconnect();
    }
  });

  it('takes PLAIN users from conveyor.sasl.plain.users, alone or beside the JAAS entry\'s', async () => {
    const simple = await startBroker({ storage: 'memory', config: { listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN', 'conveyor.sasl.plain.users': 'carol:carol:secret, dave:dave-secret' } });
    const both = await startBroker({ storage: 'memory', config: { listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN', 'sasl.jaas.config': JAAS, 'conveyor.sasl.plain.users': 'carol:carol:secret' } });
    try {
      const bootstrap = (running: RunningBroker) => `127.0.0.1:${running.broker.endpoints[0]!.port}`;
      const plain = (username: string, password: string) => ({ sasl: { mechanism: 'plain', username, password } });
      assert.deepEqual(await roundTrip(bootstrap(simple), plain('carol', 'carol:secret'), 'simple-carol'), ['2']);
      assert.deepEqual(await roundTrip(bootstrap(simple), plain('dave', 'dave-secret'), 'simple-dave'), ['2']);
      await assert.rejects(roundTrip(bootstrap(simple), plain('carol', 'carol'), 'simple-wrong'), /SASL_AUTHENTICATION_FAILED|Authentication failed/);
      assert.deepEqual(await roundTrip(bootstrap(both), plain('carol', 'carol:secret'), 'both-carol'), ['2']);
      assert.deepEqual(await roundTrip(bootstrap(both), plain('alice', ALICE_PASSWORD), 'both-alice'), ['2']);
    } finally {
      await simple.close();
      await both.close();
    }
  });

  it('refuses bad settings at start, naming the key', async () => {
    const refused = async (config: Record<string, string>, pattern: RegExp) => {
      await assert.rejects(startBroker({ storage: 'memory', config: { listeners: 'SASL_PLAINTEXT://127.0.0.1:0', ...config } }), (error: Error) => {
        assert.match(error.message, pattern);
        return true;
      });
    };
    await refused({ 'sasl.jaas.config': JAAS }, /sasl\.enabled\.mechanisms.*GSSAPI not served/);
    await refused({ 'sasl.enabled.mechanisms': 'PLAIN' }, /listener\.name\.sasl_plaintext\.plain\.sasl\.jaas\.config.*needs its users/);
    await refused({ 'sasl.enabled.mechanisms': 'PLAIN', 'sasl.jaas.config': 'com.example.Other required user_a="b";' }, /sasl\.jaas\.config.*PlainLoginModule/);
    await refused({ 'sasl.enabled.mechanisms': 'PLAIN', 'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="b";' }, /names no user/);
    // A malformed entry is refused without quoting it (it may hold a password).
    await assert.rejects(startBroker({ storage: 'memory', config: { listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN', 'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_a="s3cret" oops;' } }), (error: Error) => {
      assert.match(error.message, /sasl\.jaas\.config.*cannot read the options/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
    // The simpler form: name:password pairs; a malformed one is refused by position, not quoted.
    await assert.rejects(startBroker({ storage: 'memory', config: { listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN', 'conveyor.sasl.plain.users': 'alice:ok,s3cret' } }), (error: Error) => {
      assert.match(error.message, /conveyor\.sasl\.plain\.users.*entry 2 of 2 is not name:password/);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
    await refused({ 'sasl.enabled.mechanisms': 'PLAIN', 'conveyor.sasl.plain.users': 'a:x,a:y' }, /conveyor\.sasl\.plain\.users.*names user a twice/);
    // Nodes log in to a SASL inter-broker listener with a mechanism of their own: Kafka's default, GSSAPI, is not served.
    await refused({ 'node.id': '1', 'process.roles': 'broker,controller', 'controller.quorum.voters': '1@127.0.0.1:19093', 'controller.listener.names': 'CONTROLLER', listeners: 'SASL_PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN', 'sasl.jaas.config': JAAS }, /sasl\.mechanism\.inter\.broker\.protocol.*not GSSAPI/);
  });
});
