// Connect's REST API over https (Kafka's `listeners=https://...` with listeners.https.ssl.*): two
// distributed workers serve only https and require client certificates; a client with the test
// CA and a certificate it signed is answered, one without a certificate or speaking plain http is
// not, and a change sent to the worker that does not lead is forwarded to the leader over https
// with the worker's own certificate. A missing key store stops the worker at start naming the key.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { runProcess } from '../../support/process.js';
import { makePki, noOpenssl, type Pki } from '../../support/test-pki.js';
import { type TestBroker, startTestBroker, uniqueTopic, waitFor } from '../helpers.js';
import { distributedWorkerConfig } from './worker-processes.js';

const cliEntry = fileURLToPath(new URL('../../support/crash-cli-entry.ts', import.meta.url));

interface Answer {
  status: number;
  body: string;
}

/** GET or POST over https with the given TLS client settings. */
function call(url: string, tls: { ca?: string; cert?: string; key?: string }, method = 'GET', body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = httpsRequest(url, { method, ...tls, headers: payload === undefined ? {} : { 'content-type': 'application/json' } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
    request.end(payload);
  });
}

describe('Connect REST API over https with client certificates', { skip: noOpenssl }, () => {
  let pki: Pki;
  let broker: TestBroker;
  const workers: RunningConnect[] = [];
  before(async () => {
    pki = makePki();
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
  });
  after(async () => {
    for (const worker of workers) await worker.close().catch(() => undefined);
    await broker.close();
  });

  const httpsWorker = (group: string, extra: Record<string, string> = {}) =>
    distributedWorkerConfig(broker.running.bootstrapServers, group, 6_000, {
      listeners: 'https://127.0.0.1:0',
      'listeners.https.ssl.keystore.type': 'PEM',
      'listeners.https.ssl.keystore.location': pki.brokerPemFile,
      'listeners.https.ssl.truststore.type': 'PEM',
      'listeners.https.ssl.truststore.location': pki.caFile,
      'listeners.https.ssl.client.auth': 'required',
      'heartbeat.interval.ms': '500',
      ...extra,
    });

  it('serves https only to clients with a trusted certificate, and forwards between workers over https', async () => {
    const group = uniqueTopic('connect-https');
    for (let index = 0; index < 2; index++) workers.push(await startConnect({ mode: 'distributed', worker: httpsWorker(group) }));
    const [first, second] = workers as [RunningConnect, RunningConnect];
    assert.match(first.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const client = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };

    const root = await call(`${first.url}/`, client);
    assert.equal(root.status, 200);
    assert.equal((JSON.parse(root.body) as { version: string }).version.length > 0, true);

    await assert.rejects(call(`${first.url}/`, { ca: pki.ca }), 'no client certificate: the handshake is refused');
    await assert.rejects(call(`${first.url}/`, { ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey }), /self[- ]signed|unable to verify|certificate/i, 'a client that does not trust the worker\'s CA refuses it');
    const plain = await new Promise<string>((resolve) => {
      const request = httpRequest(first.url.replace('https:', 'http:'), (response) => resolve(`answered ${response.statusCode}`));
      request.on('error', (error) => resolve(`refused: ${error.message}`));
      request.end();
    });
    assert.doesNotMatch(plain, /answered 2\d\d/, 'plain http to the https listener gets no API answer');

    // Through each worker: whichever does not lead forwards to the leader over https.
    const topic = uniqueTopic('https-data');
    for (const [index, worker] of [first, second].entries()) {
      const name = `sink-${index}`;
      const created = await waitFor(async () => {
        const answer = await call(`${worker.url}/connectors`, client, 'POST', { name, config: { 'connector.class': 'FileStreamSink', file: `/dev/null`, topics: topic } });
        return answer.status === 409 ? false : answer;
      }, `the group to accept ${name}`, 20_000);
      assert.equal(created.status, 201, created.body);
    }
    const listed = await call(`${second.url}/connectors`, client);
    assert.deepEqual((JSON.parse(listed.body) as string[]).sort(), ['sink-0', 'sink-1']);

    // `conveyor connect` against the https worker: with the CA and a client certificate, and without.
    const cli = (...args: string[]) => runProcess(process.execPath, ['--import', 'tsx', cliEntry, 'connect', 'list', '--url', first.url, '--json', ...args], { timeoutMs: 60_000 });
    const viaCli = await cli('--cacert', pki.caFile, '--cert', pki.clientCertFile, '--key', pki.clientKeyFile);
    assert.equal(viaCli.code, 0, viaCli.stderr);
    assert.deepEqual((JSON.parse(viaCli.stdout) as string[]).sort(), ['sink-0', 'sink-1']);
    const untrusted = await cli('--cert', pki.clientCertFile, '--key', pki.clientKeyFile);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /cannot reach the Connect worker at https:\/\/127\.0\.0\.1:\d+: .*certificate/i);
  });

  it('refuses an https listener without a key store, naming the key', async () => {
    const properties = httpsWorker(uniqueTopic('connect-no-store'));
    delete properties['listeners.https.ssl.keystore.location'];
    await assert.rejects(startConnect({ mode: 'distributed', worker: properties }), /listeners\.https\.ssl\.keystore\.location: an https listener needs the worker's certificate and key/);
  });
});
