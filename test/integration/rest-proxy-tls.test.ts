// The HTTP API against a SASL_SSL listener with SCRAM-SHA-512: clientConfig's ssl.* keys (a PEM
// trust store given inline, over several lines) and its own SCRAM identity for requests without
// credentials; a Basic-auth user authenticates with SCRAM-SHA-512 over TLS, a wrong password is a 401.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { type RestProxy, registerRestProxy } from '../../src/admin/rest-proxy/index.js';
import { AdminClient } from '../../src/client/admin-client.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { saslConnector } from '../../src/client/sasl-client.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { makePki, noOpenssl, type Pki } from '../support/test-pki.js';

describe('HTTP API over SASL_SSL with SCRAM', { timeout: 60_000, skip: noOpenssl || undefined }, () => {
  let pki: Pki;
  let broker: RunningBroker;
  let app: FastifyInstance;
  let proxy: RestProxy;
  let base: string;
  const portOf = (name: string) => broker.broker.endpoints.find((endpoint) => endpoint.name === name)!.port;
  const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

  before(async () => {
    pki = makePki();
    broker = await startBroker({
      storage: 'memory',
      config: {
        listeners: 'SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512',
        'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pki.brokerPemFile,
      },
    });
    const cluster = new ClusterClient(saslConnector(connectTcp, { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' }), `127.0.0.1:${portOf('SASL_PLAINTEXT')}`);
    try {
      const results = await new AdminClient(cluster).alterUserScramCredentials(['carol', 'dave'].map((user) => ({ user, mechanism: 'SCRAM-SHA-512', password: `${user}-secret`, iterations: 4096 })), []);
      assert.deepEqual(results.map((result) => result.errorCode), [0, 0]);
    } finally {
      cluster.close();
    }
    app = Fastify({ logger: false });
    proxy = await registerRestProxy(app, {
      clientConfig: new Map([
        ['bootstrap.servers', `127.0.0.1:${portOf('SASL_SSL')}`],
        ['security.protocol', 'SASL_SSL'],
        ['sasl.mechanism', 'SCRAM-SHA-512'],
        ['sasl.jaas.config', 'org.apache.kafka.common.security.scram.ScramLoginModule required username="carol" password="carol-secret";'],
        ['ssl.truststore.type', 'PEM'],
        ['ssl.truststore.certificates', pki.ca],
      ]),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  after(async () => {
    await proxy?.close();
    await app?.close();
    await broker?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('serves requests without credentials as clientConfig\'s identity and Basic users as themselves, over TLS', async () => {
    const clusters = await fetch(`${base}/v3/clusters`);
    assert.equal(clusters.status, 200, await clusters.clone().text());
    const cluster = ((await clusters.json()) as { data: { cluster_id: string }[] }).data[0]!.cluster_id;
    const created = await fetch(`${base}/v3/clusters/${cluster}/topics`, { method: 'POST', headers: { 'content-type': 'application/json', ...basic('dave', 'dave-secret') }, body: JSON.stringify({ topic_name: 'tls-topic', partitions_count: 1 }) });
    assert.equal(created.status, 201, await created.clone().text());
    const produced = await fetch(`${base}/v3/clusters/${cluster}/topics/tls-topic/records`, { method: 'POST', headers: { 'content-type': 'application/json', ...basic('dave', 'dave-secret') }, body: JSON.stringify({ value: { type: 'STRING', data: 'over tls' } }) });
    assert.equal(((await produced.json()) as { offset: number }).offset, 0);
    const wrong = await fetch(`${base}/v3/clusters/${cluster}/topics`, { headers: basic('dave', 'guess') });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { message: string }).message, /SASL authentication as 'dave' with SCRAM-SHA-512/);
  });
});
