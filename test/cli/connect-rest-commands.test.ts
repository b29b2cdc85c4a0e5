// `conveyor connect list|create|describe|status|pause|resume|stop|restart|delete|plugins|offsets`
// end to end: the full CLI from source as a child process (test/support/crash-cli-entry.ts, the
// same run() as bin/conveyor.js) against a real standalone worker's REST API, in-process with a
// broker. Connectors are created from a Kafka-style .properties file and from JSON; refusals
// (unknown connector, duplicate, a worker that does not answer, a config without a name) exit 1
// with the worker's or the tool's message.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RunningConnect, startConnect } from '../../src/connect/runtime/start-connect.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../integration/helpers.js';
import { type ProcessResult, runProcess } from '../support/process.js';

const cliEntry = fileURLToPath(new URL('../support/crash-cli-entry.ts', import.meta.url));

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('conveyor connect REST commands', { timeout: 180_000 }, () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let connect: RunningConnect;
  let input: string;
  let topic: string;

  before(async () => {
    broker = await startTestBroker();
    dir = await temporaryDirectory();
    input = join(dir.path, 'input.txt');
    topic = uniqueTopic('cli-connect');
    await writeFile(input, 'one\ntwo\nthree\n');
    connect = await startConnect({
      worker: {
        'bootstrap.servers': broker.running.bootstrapServers,
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'offset.storage.file.filename': join(dir.path, 'connect.offsets'),
        'offset.flush.interval.ms': '200',
        listeners: 'http://127.0.0.1:0',
      },
    });
  });
  after(async () => {
    await connect?.close();
    await broker?.close();
    await dir?.remove();
  });

  function conveyor(args: string[], url = connect.url): Promise<ProcessResult> {
    return runProcess(process.execPath, ['--import', 'tsx', cliEntry, 'connect', ...args, '--url', url], { timeoutMs: 60_000 });
  }

  async function ok(args: string[]): Promise<string> {
    const result = await conveyor(args);
    assert.equal(result.code, 0, `conveyor connect ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
    return result.stdout;
  }

  async function refused(args: string[], message: RegExp, url?: string): Promise<void> {
    const result = await conveyor(args, url);
    assert.equal(result.code, 1, `conveyor connect ${args.join(' ')} should have failed:\n${result.stdout}`);
    assert.match(result.stderr, message);
  }

  async function waitForState(name: string, state: string): Promise<void> {
    await waitFor(async () => (await connect.herder.connectorStatus(name)).connector.state === state, `${name} to be ${state}`);
  }

  it('create from a .properties file and from JSON, then list, describe and status', async () => {
    const properties = join(dir.path, 'connect-file-source.properties');
    await writeFile(properties, `# as Kafka's config/connect-file-source.properties\nname=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile=${input}\ntopic=${topic}\n`);
    assert.match(await ok(['create', properties]), /connector 'local-file-source' created \(source, 1 task\(s\)\)/);
    const sinkJson = join(dir.path, 'sink.json');
    await writeFile(sinkJson, JSON.stringify({ name: 'local-file-sink', config: { 'connector.class': 'FileStreamSink', 'tasks.max': 1, file: join(dir.path, 'out.txt'), topics: topic } }));
    const created = JSON.parse(await ok(['create', sinkJson, '--json']));
    assert.equal(created.name, 'local-file-sink');
    assert.equal(created.type, 'sink');
    await waitForState('local-file-source', 'RUNNING');
    await waitForState('local-file-sink', 'RUNNING');

    assert.deepEqual((await ok(['list'])).trim().split('\n'), ['local-file-sink', 'local-file-source']);
    const expanded = await ok(['list', '--expand', 'status', '--expand', 'info']);
    assert.match(expanded, /CONNECTOR\s+TYPE\s+STATE\s+TASKS\s+CLASS/);
    assert.match(expanded, /local-file-source\s+source\s+RUNNING\s+1\/1 running\s+FileStreamSource/);
    assert.deepEqual(Object.keys(JSON.parse(await ok(['list', '--expand', 'status', '--json']))['local-file-sink']), ['status']);

    const described = await ok(['describe', 'local-file-source']);
    assert.match(described, /Connector: local-file-source\s+Type: source\s+State: RUNNING/);
    assert.match(described, new RegExp(`topic=${topic}`));
    assert.match(described, /TASK\s+STATE\s+WORKER\n0\s+RUNNING/);
    const status = JSON.parse(await ok(['status', 'local-file-sink', '--json']));
    assert.equal(status.connector.state, 'RUNNING');
    assert.equal(status.connector.worker_id, connect.workerId);
  });

  it('pause, resume, restart, stop and offsets', async () => {
    assert.match(await ok(['pause', 'local-file-source']), /connector 'local-file-source' paused/);
    await waitForState('local-file-source', 'PAUSED');
    assert.match(await ok(['resume', 'local-file-source']), /resumed/);
    await waitForState('local-file-source', 'RUNNING');
    assert.match(await ok(['restart', 'local-file-source']), /connector 'local-file-source' restarted/);
    const plan = JSON.parse(await ok(['restart', 'local-file-source', '--include-tasks', '--json']));
    assert.equal(plan.connector.state, 'RESTARTING');
    assert.match(await ok(['restart', 'local-file-source', '--include-tasks', '--only-failed']), /restart requested\nConnector: local-file-source/);
    await waitForState('local-file-source', 'RUNNING');

    const offsets = await waitFor(async () => {
      const out = await ok(['offsets', 'local-file-source', '--json']);
      return JSON.parse(out).offsets.length > 0 ? out : false;
    }, 'the source to store its offset', 20_000);
    assert.deepEqual(JSON.parse(offsets), { offsets: [{ partition: { filename: input }, offset: { position: 14 } }] });
    assert.match(await ok(['offsets', 'local-file-source']), /PARTITION\s+OFFSET\n\{"filename":".*"\}\s+\{"position":14\}/);
    assert.match(await ok(['stop', 'local-file-source']), /stopped/);
    await waitForState('local-file-source', 'STOPPED');
  });

  it('plugins: the connectors, and every plugin with --all', async () => {
    const plugins = await ok(['plugins']);
    assert.match(plugins, /CLASS\s+TYPE\s+VERSION/);
    assert.match(plugins, /org\.apache\.kafka\.connect\.file\.FileStreamSourceConnector\s+source/);
    assert.doesNotMatch(plugins, /converter/);
    const all = JSON.parse(await ok(['plugins', '--all', '--json'])) as { type: string }[];
    assert.ok(all.some((plugin) => plugin.type === 'converter'));
  });

  it("refusals exit 1 with the worker's message; delete removes a connector", async () => {
    await refused(['status', 'ghost'], /^conveyor: No status found for connector ghost \(HTTP 404 from GET \/connectors\/ghost\/status\)/);
    const properties = join(dir.path, 'duplicate.properties');
    await writeFile(properties, `name=local-file-sink\nconnector.class=FileStreamSink\ntopics=${topic}\n`);
    await refused(['create', properties], /Connector local-file-sink already exists \(HTTP 409/);
    const nameless = join(dir.path, 'nameless.properties');
    await writeFile(nameless, `connector.class=FileStreamSink\ntopics=${topic}\n`);
    await refused(['create', nameless], /nameless\.properties names no connector/);
    const invalid = join(dir.path, 'invalid.json');
    await writeFile(invalid, JSON.stringify({ name: 'invalid-sink', 'connector.class': 'FileStreamSink' }));
    await refused(['create', invalid], /Connector configuration is invalid[\s\S]*HTTP 400/);
    await refused(['list'], /cannot reach the Connect worker at http:\/\/127\.0\.0\.1:\d+/, `http://127.0.0.1:${await closedPort()}`);

    assert.match(await ok(['delete', 'local-file-sink']), /connector 'local-file-sink' deleted/);
    await refused(['delete', 'local-file-sink'], /Connector local-file-sink not found/);
    assert.deepEqual((await ok(['list'])).trim().split('\n'), ['local-file-source']);
  });
});
