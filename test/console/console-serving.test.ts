// How the console is served, without a browser: `conveyor console --bootstrap-server` (the CLI run
// from source as a child process) against a running broker, and a broker with console.listeners.
// Each serves the page, its bundled script and style, the console's JSON routes and the HTTP API.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
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
});
