// SSL listeners (Kafka's ssl.* keys): kafkajs over TLS 1.2 and 1.3 with the broker's key store as
// PEM in the configuration, a PEM file or a PKCS12 file; ssl.client.auth=required refusing a
// client without a certificate from the trusted CA; a listener's own listener.name.<l>.ssl.*
// settings; plaintext bytes sent to the TLS port closing that connection only; bad settings
// refused at start with the key named. The certificates are made by openssl for each run
// (test/support/test-pki.ts).
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { TLS_FILE_CHECK_INTERVAL_MS } from '../../src/broker/network/listeners.js';
import { TLS_HANDSHAKE_TIMEOUT_MS } from '../../src/broker/network/tls-listener.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { startCluster } from '../../src/node/start-cluster.js';
import { makePki, noOpenssl, type Pki } from '../support/test-pki.js';
import { ErrorCode } from '../../src/base/error-codes.js';
import { IncrementalAlterConfigsApi } from '../../src/protocol/messages/index.js';
import { RawClient } from '../support/raw-client.js';


/** Produces three records over the given TLS client settings and reads them back in a group. */
async function roundTrip(bootstrap: string, ssl: object | false, label: string): Promise<string[]> {
  const kafka = new Kafka({ clientId: `tls-${label}`, brokers: [bootstrap], ...(ssl === false ? {} : { ssl }), logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const topic = `tls-${label}`;
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [1, 2, 3].map((n) => ({ value: `${label}-${n}` })) });
  } finally {
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `tls-${label}-group`, sessionTimeout: 6_000, heartbeatInterval: 500 });
  await consumer.connect();
  try {
    return await readValues(consumer, topic, 3, 15_000);
  } finally {
    await consumer.disconnect();
  }
}

/** The first `count` distinct values a group member reads from `topic`'s beginning (a retried send may have written one twice). */
async function readValues(consumer: Consumer, topic: string, count: number, timeoutMs: number): Promise<string[]> {
  const seen: string[] = [];
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${topic}: read ${seen.length} of ${count} records in ${timeoutMs} ms`)), timeoutMs);
    consumer
      .run({
        eachMessage: async ({ message }) => {
          const value = message.value!.toString();
          if (!seen.includes(value)) seen.push(value);
          if (seen.length === count) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  return seen;
}

/** The port of the broker's listener `name`. */
function portOf(running: RunningBroker, name: string): number {
  return running.broker.endpoints.find((endpoint) => endpoint.name === name)!.port;
}

describe('SSL listeners', { timeout: 120_000, skip: noOpenssl }, () => {
  let pki: Pki;
  const brokers: RunningBroker[] = [];
  before(() => {
    pki = makePki();
  });
  after(async () => {
    for (const broker of brokers) await broker.close();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  const start = async (config: Record<string, string>) => {
    const running = await startBroker({ storage: 'memory', config: { listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0', 'group.initial.rebalance.delay.ms': '0', ...config } });
    brokers.push(running);
    return running;
  };

  it('serves kafkajs over TLS 1.3 and TLS 1.2 with the key store as PEM in the configuration; Metadata advertises the SSL listener as SSL', async () => {
    const running = await start({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.certificate.chain': pki.brokerCert, 'ssl.keystore.key': pki.brokerKey });
    const bootstrap = `localhost:${portOf(running, 'SSL')}`;
    assert.equal(running.broker.endpoints.find((endpoint) => endpoint.name === 'SSL')!.securityProtocol, 1);
    assert.deepEqual(await roundTrip(bootstrap, { ca: [pki.ca], minVersion: 'TLSv1.3' }, 'tls13'), ['tls13-1', 'tls13-2', 'tls13-3']);
    assert.deepEqual(await roundTrip(bootstrap, { ca: [pki.ca], maxVersion: 'TLSv1.2' }, 'tls12'), ['tls12-1', 'tls12-2', 'tls12-3']);
    // A client that does not trust the broker's CA refuses it.
    await assert.rejects(roundTrip(bootstrap, { ca: [pki.strangerCert] }, 'untrusted'));
  });

  it('reads a PEM key store file and a PKCS12 one; ssl.enabled.protocols=TLSv1.3 refuses a TLS 1.2 client', async () => {
    const pemFile = await start({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile, 'ssl.enabled.protocols': 'TLSv1.3' });
    assert.deepEqual(await roundTrip(`localhost:${portOf(pemFile, 'SSL')}`, { ca: [pki.ca] }, 'pemfile'), ['pemfile-1', 'pemfile-2', 'pemfile-3']);
    await assert.rejects(roundTrip(`localhost:${portOf(pemFile, 'SSL')}`, { ca: [pki.ca], maxVersion: 'TLSv1.2' }, 'old'));
    const p12 = await start({ 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': pki.brokerP12File, 'ssl.keystore.password': 'store-secret' });
    assert.deepEqual(await roundTrip(`localhost:${portOf(p12, 'SSL')}`, { ca: [pki.ca] }, 'pkcs12'), ['pkcs12-1', 'pkcs12-2', 'pkcs12-3']);
  });

  it('ssl.client.auth=required (as a listener.name.ssl.* setting): a client certificate from the trusted CA gets in, none or another CA\'s does not', async () => {
    const running = await start({
      'listener.name.ssl.ssl.keystore.type': 'PEM',
      'listener.name.ssl.ssl.keystore.location': pki.brokerPemFile,
      'listener.name.ssl.ssl.truststore.type': 'PEM',
      'listener.name.ssl.ssl.truststore.location': pki.caFile,
      'listener.name.ssl.ssl.client.auth': 'required',
    });
    const bootstrap = `localhost:${portOf(running, 'SSL')}`;
    assert.deepEqual(await roundTrip(bootstrap, { ca: [pki.ca], cert: pki.clientCert, key: pki.clientKey }, 'mutual'), ['mutual-1', 'mutual-2', 'mutual-3']);
    await assert.rejects(roundTrip(bootstrap, { ca: [pki.ca] }, 'anonymous'));
    await assert.rejects(roundTrip(bootstrap, { ca: [pki.ca], cert: pki.strangerCert, key: pki.strangerKey }, 'stranger'));
    // The plaintext listener beside it is untouched.
    assert.deepEqual(await roundTrip(`127.0.0.1:${portOf(running, 'PLAINTEXT')}`, false, 'plain'), ['plain-1', 'plain-2', 'plain-3']);
  });

  it('reads a PKCS12 trust store of certificates only; a wrong trust store password is refused at start, naming the key', async () => {
    const store = { 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile, 'ssl.client.auth': 'required', 'ssl.truststore.type': 'PKCS12', 'ssl.truststore.location': pki.caP12File };
    const running = await start({ ...store, 'ssl.truststore.password': 'trust-secret' });
    const bootstrap = `localhost:${portOf(running, 'SSL')}`;
    assert.deepEqual(await roundTrip(bootstrap, { ca: [pki.ca], cert: pki.clientCert, key: pki.clientKey }, 'p12-trust'), ['p12-trust-1', 'p12-trust-2', 'p12-trust-3']);
    await assert.rejects(roundTrip(bootstrap, { ca: [pki.ca], cert: pki.strangerCert, key: pki.strangerKey }, 'p12-stranger'));
    await assert.rejects(start({ ...store, 'ssl.truststore.password': 'wrong' }), /ssl\.truststore\.location.*PKCS12 trust store .* cannot be read: its integrity check fails: a wrong password/);
    await assert.rejects(start(store), /ssl\.truststore\.location.*its certificates are encrypted: set the trust store password/);
  });

  it('plaintext Kafka bytes sent to the TLS port close that connection; a TLS client right after is served', async () => {
    const running = await start({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.certificate.chain': pki.brokerCert, 'ssl.keystore.key': pki.brokerKey });
    const port = portOf(running, 'SSL');
    // An ApiVersions v0 request in the clear.
    const frame = Buffer.from('0000000e001200000000000100047465737400', 'hex').subarray(0, 18);
    frame.writeInt32BE(frame.length - 4, 0);
    const closed = await new Promise<string>((resolve) => {
      const socket = connectTcp({ host: '127.0.0.1', port }, () => socket.write(frame));
      const timer = setTimeout(() => {
        socket.destroy();
        resolve('still open after 5 s');
      }, 5_000);
      socket.on('data', () => {});
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        resolve('closed');
      });
    });
    assert.equal(closed, 'closed');
    // A raw TLS handshake then works on the same port.
    const protocol = await new Promise<string | null>((resolve, reject) => {
      const socket = connectTls({ host: '127.0.0.1', port, servername: 'localhost', ca: [pki.ca] }, () => {
        resolve(socket.getProtocol());
        socket.end();
      });
      socket.on('error', reject);
    });
    assert.equal(protocol, 'TLSv1.3');
    assert.deepEqual(await roundTrip(`localhost:${port}`, { ca: [pki.ca] }, 'after-garbage'), ['after-garbage-1', 'after-garbage-2', 'after-garbage-3']);
  });

  it('a client that never finishes its handshake is closed after the handshake timeout; closing the broker does not wait for such clients', async () => {
    const running = await start({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile });
    const port = portOf(running, 'SSL');
    const openedAt = Date.now();
    const silent = connectTcp({ host: '127.0.0.1', port });
    silent.on('error', () => {});
    const closedAfter = await new Promise<number>((resolve) => silent.on('close', () => resolve(Date.now() - openedAt)));
    assert.ok(closedAfter >= TLS_HANDSHAKE_TIMEOUT_MS - 500 && closedAfter < TLS_HANDSHAKE_TIMEOUT_MS + 5_000, `closed after ${closedAfter} ms`);
    // Another one, half a ClientHello, still open when the broker closes: the close does not wait for it.
    const partial = connectTcp({ host: '127.0.0.1', port }, () => partial.write(Buffer.from('160301', 'hex')));
    partial.on('error', () => {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closing = Date.now();
    await running.close();
    brokers.splice(brokers.indexOf(running), 1);
    assert.ok(Date.now() - closing < TLS_HANDSHAKE_TIMEOUT_MS, `closed in ${Date.now() - closing} ms`);
    partial.destroy();
  });

  /** Which test CA signed the certificate the broker presents on `port` now: the handshake's verdict with each CA. */
  type Signer = 'test-ca' | 'other-ca' | 'neither';
  const presentedSigner = async (port: number): Promise<Signer> => {
    for (const [name, ca] of [['test-ca', pki.ca], ['other-ca', pki.otherCa]] as const) {
      const trusted = await new Promise<boolean>((resolve) => {
        const socket = connectTls({ host: '127.0.0.1', port, servername: 'localhost', ca: [ca] }, () => {
          socket.end();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      if (trusted) return name;
    }
    return 'neither';
  };
  const untilPresented = async (port: number, wanted: Signer) => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 200))) {
      if ((await presentedSigner(port)) === wanted) return;
    }
    assert.fail(`the broker did not present a certificate of ${wanted} within 10 s (it presents ${await presentedSigner(port)})`);
  };

  it('serves a renewed certificate once its key store file changes, without a restart; a broken file leaves the old one', async () => {
    const keystore = join(pki.dir, 'live-store.pem');
    copyFileSync(pki.brokerPemFile, keystore);
    const running = await start({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': keystore });
    const port = portOf(running, 'SSL');
    const signer = () => presentedSigner(port);
    const until = (wanted: Signer) => untilPresented(port, wanted);
    assert.equal(await signer(), 'test-ca');
    // A connection made before the renewal keeps working: an ApiVersions request on it is answered.
    const early = await new Promise<TLSSocket>((resolve, reject) => {
      const socket = connectTls({ host: '127.0.0.1', port, servername: 'localhost', ca: [pki.ca] }, () => resolve(socket));
      socket.on('error', reject);
    });
    copyFileSync(pki.renewedBrokerPemFile, keystore);
    await until('other-ca');
    const answered = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      early.once('data', () => {
        clearTimeout(timer);
        resolve(true);
      });
      // ApiVersions v0, correlation id 1, client id "t".
      early.write(Buffer.from('0000000b00120000000000010001' + '74', 'hex'));
    });
    early.destroy();
    assert.ok(answered, 'the connection made before the renewal is still served');
    // A file that is not a key store: the renewed certificate stays.
    writeFileSync(keystore, 'not a certificate');
    await new Promise((resolve) => setTimeout(resolve, 3 * TLS_FILE_CHECK_INTERVAL_MS));
    assert.equal(await signer(), 'other-ca');
  });

  it('takes a new key store from a dynamic broker config (listener.name.ssl.ssl.keystore.location), keeps the old one when the new cannot be used, and goes back when it is deleted', async () => {
    const running = await start({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile });
    const port = portOf(running, 'SSL');
    const admin = await RawClient.connect('127.0.0.1', portOf(running, 'PLAINTEXT'));
    const alter = async (value: string | null) => {
      const resource = { resourceType: 4, resourceName: String(running.broker.services.nodeId), configs: [{ name: 'listener.name.ssl.ssl.keystore.location', configOperation: value === null ? 1 : 0, value }] };
      const altered = await admin.request(IncrementalAlterConfigsApi, 1, { resources: [resource], validateOnly: false });
      assert.equal(altered.responses[0]!.errorCode, ErrorCode.NONE, altered.responses[0]!.errorMessage ?? '');
    };
    try {
      assert.equal(await presentedSigner(port), 'test-ca');
      await alter(pki.renewedBrokerPemFile);
      await untilPresented(port, 'other-ca');
      // A key store that cannot be read: the listener keeps the one it serves.
      await alter(join(pki.dir, 'missing-store.pem'));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(await presentedSigner(port), 'other-ca');
      // The dynamic setting deleted: server.properties' key store again.
      await alter(null);
      await untilPresented(port, 'test-ca');
    } finally {
      await admin.close();
    }
  });

  it('a three-node cluster with every listener SSL and client certificates required: Raft, the controller channel and replication over TLS', { timeout: 90_000 }, async () => {
    const cluster = await startCluster({
      brokers: 3,
      storage: 'memory',
      config: {
        'listener.security.protocol.map': 'PLAINTEXT:SSL,CONTROLLER:SSL',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pki.brokerPemFile,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': pki.caFile,
        'ssl.client.auth': 'required',
        'group.initial.rebalance.delay.ms': '0',
      },
    });
    try {
      const ssl = { ca: [pki.ca], cert: pki.clientCert, key: pki.clientKey };
      const kafka = new Kafka({ clientId: 'tls-cluster', brokers: cluster.bootstrapServers.split(','), ssl, logLevel: logLevel.NOTHING, retry: { retries: 10 } });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'tls-replicated', numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '3' }] }], waitForLeaders: true });
      await admin.disconnect();
      // acks=all with min.insync.replicas=3: acknowledged only once both followers fetched over TLS.
      const producer = kafka.producer({ idempotent: true });
      await producer.connect();
      await producer.send({ topic: 'tls-replicated', acks: -1, messages: Array.from({ length: 30 }, (_, n) => ({ partition: n % 3, value: `replicated-${n}` })) });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: 'tls-cluster-group', sessionTimeout: 6_000, heartbeatInterval: 500 });
      await consumer.connect();
      const seen = new Set(await readValues(consumer, 'tls-replicated', 30, 20_000));
      await consumer.disconnect();
      assert.equal(seen.size, 30);
      // Every replica has the same log, with at least the 10 records sent to it (a retried send may
      // add more): the followers' fetches went over TLS with their certificates.
      for (let partition = 0; partition < 3; partition++) {
        const ends = cluster.nodeIds.map((nodeId) => cluster.node(nodeId).broker!.services.replicaManager.logManager.get('tls-replicated', partition)?.logEndOffset ?? -1);
        assert.ok(ends[0]! >= 10 && ends.every((end) => end === ends[0]), `partition ${partition}: log ends ${ends.join(', ')}`);
      }
    } finally {
      await cluster.close();
    }
  });

  it('names a client by its certificate (ssl.principal.mapping.rules), anonymous without one; a certificate no rule names is refused', async () => {
    const running = await start({
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': pki.brokerPemFile,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': pki.caFile,
      'ssl.client.auth': 'requested',
      'ssl.principal.mapping.rules': 'RULE:^O=conveyor-tests,CN=([^,]+)$/$1/U,DEFAULT',
    });
    /** The principal the broker gave a TLS connection with these client settings (undefined: refused). */
    const principalFor = async (target: RunningBroker, client: { cert?: string; key?: string }): Promise<string | undefined> => {
      const socket = await new Promise<TLSSocket>((resolve, reject) => {
        const opened = connectTls({ host: '127.0.0.1', port: portOf(target, 'SSL'), servername: 'localhost', ca: [pki.ca], ...client }, () => resolve(opened));
        opened.on('error', reject);
      });
      try {
        // An answered ApiVersions: the connection is the broker's now.
        const answered = await new Promise<boolean>((resolve) => {
          socket.once('data', () => resolve(true));
          socket.once('close', () => resolve(false));
          socket.write(Buffer.from('0000000b00120000000000010001' + '74', 'hex'));
        });
        if (!answered) return undefined;
        const stats = target.broker.connectionStats();
        return stats.find((connection) => connection.principal !== 'User:ANONYMOUS')?.principal ?? stats[0]?.principal;
      } finally {
        socket.destroy();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    // The test certificate's subject is CN=alice then O=conveyor-tests; RFC 2253 names it from the last attribute.
    assert.equal(await principalFor(running, { cert: pki.clientCert, key: pki.clientKey }), 'User:ALICE');
    assert.equal(await principalFor(running, {}), 'User:ANONYMOUS');
    assert.equal(await principalFor(running, { cert: pki.strangerCert, key: pki.strangerKey }), 'User:ANONYMOUS', 'a certificate from an untrusted CA names no one');
    const strict = await start({
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': pki.brokerPemFile,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': pki.caFile,
      'ssl.client.auth': 'required',
      'ssl.principal.mapping.rules': 'RULE:^CN=nobody$/nobody/',
    });
    assert.equal(await principalFor(strict, { cert: pki.clientCert, key: pki.clientKey }), undefined, 'refused');
  });

  it('ssl.cipher.suites by their standard names: only listed suites are negotiated, and a version without one is not offered', async () => {
    const store = { 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile };
    const tls12Only = await start({ ...store, 'ssl.cipher.suites': 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' });
    const tls13Only = await start({ ...store, 'ssl.cipher.suites': 'TLS_AES_128_GCM_SHA256' });
    const ca = readFileSync(pki.caFile);
    /** The suite and version a client with `options` gets from the broker's SSL listener, or the handshake's error. */
    const negotiated = (running: RunningBroker, options: object) =>
      new Promise<string>((resolve) => {
        const socket = connectTls({ host: '127.0.0.1', port: portOf(running, 'SSL'), servername: 'localhost', ca, ...options }, () => {
          const { name, version } = socket.getCipher();
          socket.destroy();
          resolve(`${name} ${version}`);
        });
        socket.on('error', (error) => resolve(`refused: ${error.message}`));
      });
    // TLS 1.3 has no listed suite: a client offering it gets TLS 1.2 with the listed suite (node:tls alone would use its TLS 1.3 defaults).
    assert.equal(await negotiated(tls12Only, {}), 'ECDHE-RSA-AES256-GCM-SHA384 TLSv1.2');
    assert.match(await negotiated(tls12Only, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }), /^refused: .*handshake failure/);
    assert.equal(await negotiated(tls13Only, {}), 'TLS_AES_128_GCM_SHA256 TLSv1.3');
    assert.match(await negotiated(tls13Only, { maxVersion: 'TLSv1.2' }), /^refused: /);
    // kafkajs still produces and reads over the restricted listener.
    assert.deepEqual(await roundTrip(`127.0.0.1:${portOf(tls12Only, 'SSL')}`, { ca: [ca], servername: 'localhost' }, 'cipher-suites'), ['cipher-suites-1', 'cipher-suites-2', 'cipher-suites-3']);
  });

  it('refuses bad settings at start, naming the key', async () => {
    const refused = async (config: Record<string, string>, pattern: RegExp) => {
      await assert.rejects(start(config), (error: Error) => {
        assert.match(error.message, pattern);
        return true;
      });
    };
    await refused({}, /ssl\.keystore\.location.*listener SSL is SSL and needs the broker's certificate/);
    await refused({ 'ssl.keystore.type': 'JKS', 'ssl.keystore.location': pki.brokerP12File }, /ssl\.keystore\.type.*JKS cannot be read/);
    await refused({ 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': pki.brokerP12File, 'ssl.keystore.password': 'wrong' }, /ssl\.keystore\.location.*cannot be used/);
    await refused({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': join(pki.dir, 'missing.pem') }, /ssl\.keystore\.location.*cannot read/);
    await refused({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile, 'ssl.client.auth': 'required' }, /ssl\.client\.auth.*needs the certificates/);
    await refused({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile, 'ssl.enabled.protocols': 'TLSv1.1' }, /ssl\.enabled\.protocols.*TLSv1\.1 not offered/);
    await refused({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile, 'ssl.cipher.suites': 'TLS_RSA_WITH_RC4_128_MD5' }, /ssl\.cipher\.suites.*TLS_RSA_WITH_RC4_128_MD5 is not one this runtime's TLS offers/);
    await refused({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile, 'ssl.cipher.suites': 'TLS_AES_128_GCM_SHA256', 'ssl.enabled.protocols': 'TLSv1.2' }, /ssl\.cipher\.suites.*no listed suite serves TLSv1\.2/);
    await refused({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile, 'ssl.principal.mapping.rules': 'RULE:^CN=(.*$/$1/' }, /ssl\.principal\.mapping\.rules.*is not a regular expression/);
    await refused({ 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT' }, /listener\.security\.protocol\.map.*no security protocol for listener SSL/);
    await refused({ 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SASL_SSL', 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile, 'sasl.enabled.mechanisms': 'GSSAPI' }, /sasl\.enabled\.mechanisms.*GSSAPI not served/);
    // A broker-only node connecting to an SSL controller listener it does not serve: not yet.
    await refused({ 'node.id': '2', 'process.roles': 'broker', 'controller.quorum.voters': '1@127.0.0.1:19093', 'controller.listener.names': 'CONTROLLER', listeners: 'PLAINTEXT://127.0.0.1:0', 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:SSL' }, /controller\.listener\.names.*listener CONTROLLER is SSL: a broker-only node/);
  });
});
