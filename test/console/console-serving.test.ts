// How the console is served, without a browser: `conveyor console --bootstrap-server` (the CLI run
// from source as a child process) against a running broker, and a broker with console.listeners.
// Each serves the page, its bundled script and style, the console's JSON routes and the HTTP API.
import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { cliCommand, runCli } from '../support/crash-broker-process.js';
import { waitFor } from '../support/wait.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function checkConsole(base: string, clusterId: string): Promise<void> {
  const page = await fetch(base);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<script src="\/console\/app\.js"><\/script>/);
  const script = await fetch(new URL('/console/app.js', base));
  assert.equal(script.status, 200);
  assert.match(script.headers.get('content-type') ?? '', /javascript/);
  assert.ok((await script.text()).length > 5_000, 'the bundled script');
  const style = await fetch(new URL('/console/app.css', base));
  assert.match(await style.text(), /\.chart/);
  const overview = (await (await fetch(new URL('/console/api/overview', base))).json()) as { clusterId: string; brokers: unknown[] };
  assert.equal(overview.clusterId, clusterId);
  assert.equal(overview.brokers.length, 1);
  const clusters = (await (await fetch(new URL('/v3/clusters', base))).json()) as { data: { cluster_id: string }[] };
  assert.deepEqual(clusters.data.map((cluster) => cluster.cluster_id), [clusterId]);
  const missing = await fetch(new URL('/console/api/topics/no-such-topic', base));
  assert.equal(missing.status, 404);
  // What a cross-site form could post without the browser asking first (text/plain) changes nothing.
  const formPost = await fetch(new URL('/console/api/users', base), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ user: 'forged', password: 'forged-secret' }) });
  assert.equal(formPost.status, 415);
  const forgedTopic = await fetch(new URL(`/v3/clusters/${clusterId}/topics`, base), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ topic_name: 'forged' }) });
  assert.equal(forgedTopic.status, 415);
  // A request for another site's name that resolves here (DNS rebinding) is refused.
  const rebound = await hostRequest(new URL('/console/api/overview', base), 'attacker.example:8080');
  assert.equal(rebound.status, 403);
  assert.equal((await hostRequest(new URL('/console/api/overview', base), `localhost:${new URL(base).port}`)).status, 200);
}

/** GET `url` with the Host header `host` (fetch does not let a caller set it). */
function hostRequest(url: URL, host: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { headers: { host } }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
    });
    request.on('error', reject);
  });
}

describe('serving the web console', { timeout: 60_000 }, () => {
  let broker: RunningBroker;
  let child: ChildProcess | undefined;

  before(async () => {
    broker = await startBroker({ port: 0, storage: 'memory', config: { 'console.listeners': 'http://127.0.0.1:0' } });
  });

  after(async () => {
    if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    await broker?.close();
  });

  it('a broker with console.listeners serves it', async () => {
    assert.equal(broker.consoleUrls.length, 1);
    assert.match(broker.consoleUrls[0]!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await checkConsole(broker.consoleUrls[0]!, broker.clusterId);
  });

  it('conveyor console --bootstrap-server serves it against a running broker, and stops on SIGTERM', async () => {
    child = spawn(process.execPath, cliCommand(['console', '--bootstrap-server', broker.bootstrapServers, '--listen', 'http://127.0.0.1:0']), { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    const url = await waitFor('the console to be up', () => /on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1], 30_000);
    await checkConsole(url, broker.clusterId);
    process.kill(child.pid!, 'SIGTERM');
    assert.equal(await exited, 0);
  });

  it('conveyor console refuses a --listen that is not http://host:port, naming it', async () => {
    const result = await runCli(['console', '--bootstrap-server', broker.bootstrapServers, '--listen', 'https://127.0.0.1:0']);
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /--listen.*not of the form http:\/\/\{host\}:\{port\}/);
  });

  it('a broker refuses console.listeners that are not http://host:port', async () => {
    await assert.rejects(startBroker({ port: 0, storage: 'memory', config: { 'console.listeners': 'localhost:8080' } }), /console\.listeners/);
  });

  it('a taken console address fails the start naming console.listeners, or is reported when optional (conveyor start\'s default)', async () => {
    const blocker = await listening(createServer());
    const port = (blocker.address() as AddressInfo).port;
    try {
      const config = { 'console.listeners': `http://127.0.0.1:${port}` };
      await assert.rejects(startBroker({ port: 0, storage: 'memory', config }), /console\.listeners.*cannot listen/);
      const reported: Error[] = [];
      const optional = await startBroker({ port: 0, storage: 'memory', config, onConsoleUnavailable: (error) => reported.push(error) });
      try {
        assert.deepEqual(optional.consoleUrls, []);
        assert.match(reported[0]?.message ?? '', /console\.listeners/);
      } finally {
        await optional.close();
      }
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("lists the connectors of console.connect.url's Connect worker with their status", async () => {
    const connect = await listening(createServer((request, response) => {
      assert.equal(request.url, '/connectors?expand=status&expand=info');
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({
        'files-in': {
          info: { name: 'files-in', type: 'source', config: { 'connector.class': 'FileStreamSource' } },
          status: { name: 'files-in', type: 'source', connector: { state: 'RUNNING', worker_id: 'w1:8083' }, tasks: [{ id: 0, state: 'FAILED', worker_id: 'w1:8083', trace: 'boom' }] },
        },
      }));
    }));
    const url = `http://127.0.0.1:${(connect.address() as AddressInfo).port}`;
    const withConnect = await startBroker({ port: 0, storage: 'memory', config: { 'console.listeners': 'http://127.0.0.1:0', 'console.connect.url': url } });
    try {
      const answer = (await (await fetch(new URL('/console/api/connect/connectors', withConnect.consoleUrls[0]))).json()) as { configured: boolean; connectors: unknown[] };
      assert.deepEqual(answer, {
        configured: true,
        url,
        connectors: [{ name: 'files-in', type: 'source', state: 'RUNNING', workerId: 'w1:8083', connectorClass: 'FileStreamSource', tasks: [{ id: 0, state: 'FAILED', workerId: 'w1:8083', trace: 'boom' }] }],
      });
    } finally {
      await withConnect.close();
      await new Promise((resolve) => connect.close(resolve));
    }
  });
});

function listening(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
