// The handshake fuzz (handshake-fuzz.ts): seeded SASL exchanges (PLAIN, SCRAM-SHA-256 and -512,
// OAUTHBEARER; over SaslAuthenticate and as raw frames after a v0 handshake; right and wrong
// credentials), two in three with one step damaged, and damaged TLS client hellos, garbage and
// plaintext Kafka frames sent to a TLS port, all at one live broker. Every SASL frame gets an answer
// or a closed connection; an undamaged exchange ends as it must (authenticated and served, or
// refused); a damaged one never authenticates without the right credentials; every TLS connection
// left waiting mid-handshake is closed by the broker's handshake timeout. All along a healthy client
// authenticates and is served, the broker logs no error, and no log line holds a password or token.
// FUZZ_SEED replays the SASL side (the TLS hellos are captured from node:tls at each run, so their
// random fields differ); FUZZ_HANDSHAKES and FUZZ_TLS_HELLOS set the counts.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { MemoryFileSystem } from '../../src/base/memory-file-system.js';
import { TLS_HANDSHAKE_TIMEOUT_MS } from '../../src/broker/network/tls-listener.js';
import { AdminClient } from '../../src/client/admin-client.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { ApiVersionsApi } from '../../src/protocol/messages/index.js';
import { FaultBroker } from '../support/fault-memory-broker.js';
import { healthyRoundTrip } from '../support/fault-network.js';
import { encodeRequestFrame } from '../support/raw-client.js';
import { makePki, noOpenssl, type Pki } from '../support/test-pki.js';
import { distinctErrors } from './frame-fuzzer.js';
import { captureClientHello, fuzzSasl, fuzzTls, type HandshakeCredentials, saslScripts, undamagedExchanges } from './handshake-fuzz.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_205);
const EXCHANGES = Number(process.env.FUZZ_HANDSHAKES ?? 6_000);
const TLS_HELLOS = Number(process.env.FUZZ_TLS_HELLOS ?? 300);

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = Math.floor(Date.now() / 1000);
const CREDENTIALS: HandshakeCredentials = {
  user: 'alice',
  password: 'alice-fuzz-secret',
  // An unsecured JWT (alg none), valid for an hour: what Kafka's default OAUTHBEARER validator takes.
  token: `${base64url({ alg: 'none' })}.${base64url({ sub: 'alice', iat: nowSeconds, exp: nowSeconds + 3600, scope: 'kafka' })}.`,
};

describe(`handshake fuzz (FUZZ_SEED=${SEED}, ${EXCHANGES} SASL exchanges, ${TLS_HELLOS} TLS hellos)`, { timeout: 240_000 }, () => {
  let pki: Pki | undefined;
  let broker: FaultBroker;
  const portOf = (name: string) => broker.broker.endpoints.find((endpoint) => endpoint.name === name)!.port;

  before(async () => {
    pki = noOpenssl ? undefined : makePki();
    broker = new FaultBroker(
      new MemoryFileSystem({ trackDurability: false }),
      {
        listeners: `PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0${pki ? ',SSL://127.0.0.1:0' : ''}`,
        'group.initial.rebalance.delay.ms': '0',
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required user_${CREDENTIALS.user}="${CREDENTIALS.password}";`,
        'listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config': 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredValidatorRequiredScope="kafka";',
        ...(pki ? { 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.brokerPemFile } : {}),
      },
      '/data',
      'info',
    );
    await broker.start();
    const cluster = new ClusterClient(connectTcp, `127.0.0.1:${portOf('PLAINTEXT')}`);
    try {
      // One mechanism per request: Kafka refuses a user named twice in one.
      for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
        const results = await new AdminClient(cluster).alterUserScramCredentials([{ user: CREDENTIALS.user, mechanism, password: CREDENTIALS.password, iterations: 4096 }], []);
        assert.deepEqual(results.map(({ errorCode }) => errorCode), [0]);
      }
    } finally {
      cluster.close();
    }
  });
  after(async () => {
    await broker?.stop();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  /** No log line may hold the password, the token or a SCRAM proof's source. */
  const assertNoSecretLogged = () => {
    const leaked = broker.lines.filter(({ line }) => line.includes(CREDENTIALS.password) || line.includes(CREDENTIALS.token.split('.')[1]!));
    assert.deepEqual(leaked.slice(0, 3), [], 'no log line holds a password or a token');
  };

  it('answers or closes every SASL frame; undamaged exchanges end as they must, damaged ones never authenticate wrongly; a healthy client is served all along; no error and no secret in the log', async (context) => {
    const port = portOf('SASL_PLAINTEXT');
    const rssBeforeMiB = process.memoryUsage().rss / (1024 * 1024);
    let rssPeakMiB = rssBeforeMiB;
    let healthChecks = 0;
    let exchanges = 0;
    const startedAt = performance.now();
    const stats = await fuzzSasl({
      port,
      exchanges: EXCHANGES,
      lanes: 6,
      seed: SEED,
      credentials: CREDENTIALS,
      onExchange: async () => {
        exchanges += 1;
        if (exchanges % 500 !== 0) return;
        await healthyRoundTrip(`127.0.0.1:${portOf('PLAINTEXT')}`, 5_000);
        healthChecks += 1;
        rssPeakMiB = Math.max(rssPeakMiB, process.memoryUsage().rss / (1024 * 1024));
      },
    });
    context.diagnostic(
      `${stats.exchanges} exchanges (${stats.damaged} damaged) in ${((performance.now() - startedAt) / 1000).toFixed(1)} s over ${saslScripts(CREDENTIALS).length} scripts: ${stats.authenticated} authenticated, ${stats.refused} refused, ${stats.closes} closed by the broker, ${stats.slow} slow; ${healthChecks} health checks; RSS ${Math.round(rssBeforeMiB)} -> peak ${Math.round(rssPeakMiB)} MiB`,
    );
    assert.deepEqual(stats.unanswered.slice(0, 3), [], `${stats.unanswered.length} SASL frames neither answered nor closed`);
    assert.deepEqual(stats.violations.slice(0, 5), [], `${stats.violations.length} exchanges ended wrongly`);
    assert.equal(stats.exchanges, EXCHANGES);
    assert.ok(stats.authenticated > 0 && stats.refused + stats.closes > 0, 'the mix exercises both authentication and refusal');
    assert.ok(rssPeakMiB - rssBeforeMiB < 400, 'memory stays bounded');
    // Afterwards, every mechanism and path still authenticates with the right credentials and refuses the wrong ones.
    assert.deepEqual(await undamagedExchanges(port, CREDENTIALS), []);
    const errors = distinctErrors(broker.lines);
    context.diagnostic(`broker errors: ${errors.length === 0 ? 'none' : errors.join(' | ')}`);
    assert.deepEqual(errors, [], 'no error in the broker log');
    assertNoSecretLogged();
  });

  it('closes every damaged TLS first flight, garbage or plaintext frame (at once, or at the handshake timeout); TLS clients are served all along', { skip: noOpenssl }, async (context) => {
    const port = portOf('SSL');
    const samples = [await captureClientHello('TLSv1.3'), await captureClientHello('TLSv1.2')];
    const plaintext = encodeRequestFrame(ApiVersionsApi, 3, 1, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' });
    const stats = await fuzzTls({ port, hellos: TLS_HELLOS, lanes: 4, seed: SEED, samples, plaintext });
    context.diagnostic(`${stats.hellos} first flights: ${stats.answered} answered (a ServerHello or an alert), ${stats.closedSilently} closed silently, ${stats.pending.length} left waiting mid-handshake`);
    assert.equal(stats.hellos, TLS_HELLOS);
    assert.ok(stats.answered > 0, 'some damaged hellos still reach the handshake or an alert');
    // A healthy TLS client is served while the waiting connections are still open.
    assert.equal(await tlsApiVersions(port, pki!.caFile), 0);
    // The broker closes every connection left mid-handshake by its handshake timeout.
    const deadline = TLS_HANDSHAKE_TIMEOUT_MS + 15_000;
    const lingering = await Promise.all(
      stats.pending.map((socket) => new Promise<boolean>((resolve) => {
        if (socket.closed) return resolve(false);
        const timer = setTimeout(() => resolve(true), deadline);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(false);
        });
      })),
    );
    for (const socket of stats.pending) socket.destroy();
    assert.equal(lingering.filter(Boolean).length, 0, `connections still open ${deadline} ms after their handshake stalled`);
    assert.ok((await healthyRoundTrip(`127.0.0.1:${portOf('PLAINTEXT')}`, 5_000)) >= 0);
    const errors = distinctErrors(broker.lines);
    assert.deepEqual(errors, [], 'no error in the broker log');
    assertNoSecretLogged();
  });
});

/** An ApiVersions round trip over TLS to `port`, trusting `caFile`: its error code. */
async function tlsApiVersions(port: number, caFile: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(caFile) }, () => {
      socket.write(encodeRequestFrame(ApiVersionsApi, 3, 7, { clientSoftwareName: 'healthy', clientSoftwareVersion: '1' }));
    });
    let bytes = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error('no ApiVersions answer over TLS in 10 s')), 10_000);
    socket.on('data', (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (bytes.length >= 4 && bytes.length >= 4 + bytes.readInt32BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        // ApiVersions answers with header v0 (correlation id), then its error code.
        resolve(bytes.readInt16BE(8));
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
