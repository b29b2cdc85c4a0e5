// SASL/SCRAM-SHA-256 and SCRAM-SHA-512 (KIP-554): users made through a PLAINTEXT listener (before
// any client can authenticate, as in Kafka) with AlterUserScramCredentials and `conveyor users`;
// kafkajs then authenticates with each mechanism on SASL_PLAINTEXT (and SASL_SSL) and produces and
// reads; a wrong password, an unknown user and a removed user are refused; the exchange runs over
// SaslAuthenticate and as raw frames after a v0 handshake (kafka-python 2.0); a forged proof gets
// SASL_AUTHENTICATION_FAILED and the connection closed; credentials survive a restart (they are
// metadata records) and DescribeUserScramCredentials never shows more than mechanism and iterations.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { scramMechanismByName } from '../../src/base/scram.js';
import { AdminClient } from '../../src/client/admin-client.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { SaslAuthenticateApi, SaslHandshakeApi } from '../../src/protocol/messages/index.js';
import { runCli } from '../support/crash-broker-process.js';
import { kafkajsRoundTrip } from '../support/client-round-trips.js';
import { RawClient } from '../support/raw-client.js';
import { ScramClient } from '../support/scram-client.js';
import { makePki, noOpenssl, type Pki } from '../support/test-pki.js';

describe('SASL/SCRAM', { timeout: 180_000 }, () => {
  let pki: Pki | undefined;
  let dataDir: string;
  let broker: RunningBroker;
  const portOf = (name: string) => broker.broker.endpoints.find((endpoint) => endpoint.name === name)!.port;
  const config = () => ({
    listeners: `PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0${pki ? ',SASL_SSL://127.0.0.1:0' : ''}`,
    'group.initial.rebalance.delay.ms': '0',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
    ...(pki ? { 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile } : {}),
  });
  const withAdmin = async <T>(action: (admin: AdminClient) => Promise<T>) => {
    const cluster = new ClusterClient(connectTcp, `127.0.0.1:${portOf('PLAINTEXT')}`);
    try {
      return await action(new AdminClient(cluster));
    } finally {
      cluster.close();
    }
  };

  before(async () => {
    pki = noOpenssl ? undefined : makePki();
    dataDir = mkdtempSync(join(tmpdir(), 'conveyor-scram-'));
    broker = await startBroker({ dataDir, config: config() });
    const results = await withAdmin((admin) =>
      admin.alterUserScramCredentials(
        [
          { user: 'alice', mechanism: 'SCRAM-SHA-256', password: 'alice-secret', iterations: 8192 },
          { user: 'bob', mechanism: 'SCRAM-SHA-512', password: 'bob,=secret', iterations: 4096 },
          { user: 'user,with=odd', mechanism: 'SCRAM-SHA-512', password: 'odd-secret', iterations: 4096 },
        ],
        [],
      ),
    );
    assert.deepEqual(results.map(({ user, errorCode }) => [user, errorCode]), [['alice', 0], ['bob', 0], ['user,with=odd', 0]]);
  });
  after(async () => {
    await broker?.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  const roundTrip = (bootstrap: string, extra: object, label: string) =>
    kafkajsRoundTrip(new Kafka({ clientId: `scram-${label}`, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 }, ...extra }), `scram-${label}`, label);

  it('kafkajs authenticates with SCRAM-SHA-256 and SCRAM-SHA-512, produces and reads in a group; wrong and unknown credentials are refused', async (t) => {
    const plain = `127.0.0.1:${portOf('SASL_PLAINTEXT')}`;
    assert.deepEqual(await roundTrip(plain, { sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' } }, 'sha256'), ['sha256-1', 'sha256-2']);
    assert.deepEqual(await roundTrip(plain, { sasl: { mechanism: 'scram-sha-512', username: 'bob', password: 'bob,=secret' } }, 'sha512'), ['sha512-1', 'sha512-2']);
    assert.deepEqual(await roundTrip(plain, { sasl: { mechanism: 'scram-sha-512', username: 'user,with=odd', password: 'odd-secret' } }, 'odd'), ['odd-1', 'odd-2']);
    const refused = /SASL SCRAM SHA(256|512) authentication failed|invalid credentials/;
    await assert.rejects(roundTrip(plain, { sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'wrong' } }, 'wrong'), refused);
    // alice has no SCRAM-SHA-512 credential, and mallory none at all.
    await assert.rejects(roundTrip(plain, { sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' } }, 'other-mechanism'), refused);
    await assert.rejects(roundTrip(plain, { sasl: { mechanism: 'scram-sha-256', username: 'mallory', password: 'x' } }, 'unknown'), refused);
    assert.ok(broker.broker.connectionStats().every((connection) => connection.principal !== 'User:mallory'));
    if (!pki) return t.skip(noOpenssl as string);
    assert.deepEqual(await roundTrip(`localhost:${portOf('SASL_SSL')}`, { ssl: { ca: [pki.ca] }, sasl: { mechanism: 'scram-sha-512', username: 'bob', password: 'bob,=secret' } }, 'ssl'), ['ssl-1', 'ssl-2']);
  });

  it('over SaslAuthenticate: server-first then a server signature the client verifies, the principal User:<name>; a forged proof is answered and closed', async () => {
    const port = portOf('SASL_PLAINTEXT');
    const mechanism = scramMechanismByName('SCRAM-SHA-256')!;
    const good = await RawClient.connect('127.0.0.1', port);
    const client = new ScramClient(mechanism, 'alice', 'alice-secret');
    assert.deepEqual(await good.request(SaslHandshakeApi, 1, { mechanism: 'SCRAM-SHA-256' }), { errorCode: ErrorCode.NONE, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'] });
    const first = await good.request(SaslAuthenticateApi, 2, { authBytes: client.clientFirst() });
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.match(first.authBytes.toString(), new RegExp(`^r=${client.nonce.replace(/[+/]/g, '\\$&')}[^,]+,s=[^,]+,i=8192$`));
    const final = await good.request(SaslAuthenticateApi, 2, { authBytes: client.clientFinal(first.authBytes) });
    assert.equal(final.errorCode, ErrorCode.NONE);
    assert.ok(client.verifiesServer(final.authBytes), 'the server proves it holds the server key');
    assert.ok(broker.broker.connectionStats().some((connection) => connection.principal === 'User:alice'));
    await good.close();

    const forged = await RawClient.connect('127.0.0.1', port);
    const forger = new ScramClient(mechanism, 'alice', 'alice-secret');
    await forged.request(SaslHandshakeApi, 1, { mechanism: 'SCRAM-SHA-256' });
    const serverFirst = await forged.request(SaslAuthenticateApi, 2, { authBytes: forger.clientFirst() });
    const refused = await forged.request(SaslAuthenticateApi, 2, { authBytes: forger.clientFinal(serverFirst.authBytes, 'guessed') });
    assert.equal(refused.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(refused.errorMessage, 'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256');
    await forged.waitForClose();

    // A truncated client-first message fails at once.
    const truncated = await RawClient.connect('127.0.0.1', port);
    await truncated.request(SaslHandshakeApi, 1, { mechanism: 'SCRAM-SHA-512' });
    assert.equal((await truncated.request(SaslAuthenticateApi, 2, { authBytes: Buffer.from('n,,n=bo') })).errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    await truncated.waitForClose();
  });

  it('after a v0 handshake runs the exchange in raw frames (kafka-python 2.0)', async () => {
    const port = portOf('SASL_PLAINTEXT');
    const client = new ScramClient(scramMechanismByName('SCRAM-SHA-512')!, 'bob', 'bob,=secret');
    const raw = await RawClient.connect('127.0.0.1', port);
    const frame = (bytes: Buffer) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(bytes.length, 0);
      return Buffer.concat([size, bytes]);
    };
    assert.deepEqual(await raw.request(SaslHandshakeApi, 0, { mechanism: 'SCRAM-SHA-512' }), { errorCode: ErrorCode.NONE, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'] });
    raw.sendRaw(frame(client.clientFirst()));
    const serverFirst = await raw.readRawFrame();
    assert.match(serverFirst.toString(), /^r=.+,s=.+,i=4096$/);
    raw.sendRaw(frame(client.clientFinal(serverFirst)));
    assert.ok(client.verifiesServer(await raw.readRawFrame()));
    assert.ok(broker.broker.connectionStats().some((connection) => connection.principal === 'User:bob'));
    await raw.close();
    // A raw token that is not a SCRAM message closes the connection without an answer.
    const garbled = await RawClient.connect('127.0.0.1', port);
    await garbled.request(SaslHandshakeApi, 0, { mechanism: 'SCRAM-SHA-512' });
    garbled.sendRaw(frame(Buffer.from('n,,n=bob')));
    await garbled.waitForClose();
    // SaslAuthenticate before any handshake is out of place: answered ILLEGAL_SASL_STATE, then closed.
    const early = await RawClient.connect('127.0.0.1', port);
    assert.equal((await early.request(SaslAuthenticateApi, 2, { authBytes: client.clientFirst() })).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
    await early.waitForClose();
  });

  it('`conveyor users` adds, lists and removes users; a removed user can no longer authenticate; credentials survive a restart', async () => {
    const bootstrap = ['--bootstrap-server', `127.0.0.1:${portOf('PLAINTEXT')}`];
    const added = await runCli(['users', 'add', '--user', 'carol', '--password', 'carol-secret', ...bootstrap]);
    assert.equal(added.exitCode, 0, added.stderr);
    assert.match(added.stdout, /set the credential of carol \(SCRAM-SHA-256\)\nset the credential of carol \(SCRAM-SHA-512\)/);
    const listed = await runCli(['users', 'list', ...bootstrap, '--json']);
    assert.equal(listed.exitCode, 0, listed.stderr);
    const users = JSON.parse(listed.stdout) as { user: string; credentials: { mechanism: string; iterations: number }[] }[];
    assert.deepEqual(users.find((user) => user.user === 'carol')?.credentials, [{ mechanism: 'SCRAM-SHA-256', iterations: 8192 }, { mechanism: 'SCRAM-SHA-512', iterations: 8192 }]);
    assert.ok(!listed.stdout.includes('carol-secret') && !/salt|storedKey|serverKey/i.test(listed.stdout));
    const tooFew = await runCli(['users', 'add', '--user', 'dave', '--password', 'x', '--iterations', '100', ...bootstrap]);
    assert.equal(tooFew.exitCode, 1);
    assert.match(tooFew.stderr, /--iterations must be an integer of at least 4096/);

    const plain = `127.0.0.1:${portOf('SASL_PLAINTEXT')}`;
    assert.deepEqual(await roundTrip(plain, { sasl: { mechanism: 'scram-sha-512', username: 'carol', password: 'carol-secret' } }, 'carol'), ['carol-1', 'carol-2']);

    // Restart on the same data: the metadata log brings the credentials back.
    await broker.close();
    broker = await startBroker({ dataDir, config: config() });
    assert.deepEqual(await roundTrip(`127.0.0.1:${portOf('SASL_PLAINTEXT')}`, { sasl: { mechanism: 'scram-sha-256', username: 'carol', password: 'carol-secret' } }, 'restarted'), ['restarted-1', 'restarted-2']);

    const removed = await runCli(['users', 'remove', '--user', 'carol', '--bootstrap-server', `127.0.0.1:${portOf('PLAINTEXT')}`]);
    assert.equal(removed.exitCode, 0, removed.stderr);
    assert.match(removed.stdout, /removed the credential of carol \(SCRAM-SHA-256\)\nremoved the credential of carol \(SCRAM-SHA-512\)/);
    await assert.rejects(roundTrip(`127.0.0.1:${portOf('SASL_PLAINTEXT')}`, { sasl: { mechanism: 'scram-sha-256', username: 'carol', password: 'carol-secret' } }, 'gone'), /authentication failed|invalid credentials/i);
    const again = await runCli(['users', 'remove', '--user', 'carol', '--mechanism', 'SCRAM-SHA-256', '--bootstrap-server', `127.0.0.1:${portOf('PLAINTEXT')}`]);
    assert.equal(again.exitCode, 1);
    assert.match(again.stdout, /RESOURCE_NOT_FOUND: Attempt to delete a user credential that does not exist/);
    const described = await withAdmin((admin) => admin.describeUserScramCredentials(['carol', 'alice']));
    assert.deepEqual(described.map(({ user, error }) => [user, error]), [['carol', 'RESOURCE_NOT_FOUND'], ['alice', null]]);
  });
});
