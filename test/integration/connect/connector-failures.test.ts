// Connectors that go wrong, each in a plugin package loaded from plugin.path (plain CommonJS,
// as a connector author could ship one): a task whose poll throws, a task whose poll never
// returns, a connector whose start throws, a package that fails to load, and bad configs. Each
// gets a clear status or error, and a file connector running beside them is unaffected.
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConnectRestError } from '../../../src/connect/runtime/herder.js';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';

/** A plugin package: source connectors written against the connector API's shapes, without importing it. */
const PLUGIN = `
class BaseTask {
  initialize(context) { this.context = context; }
  version() { return '0.0.1'; }
  start(props) { this.props = props; }
  commit() {}
  commitRecord() {}
  stop() { this.stopped = true; }
}
class ThrowingTask extends BaseTask {
  async poll() { throw new Error('the external system refused us: code 42'); }
}
class HangingTask extends BaseTask {
  poll() { return new Promise(() => {}); }
}
class BaseConnector {
  constructor() { this.kind = 'source'; }
  initialize(context) { this.context = context; }
  version() { return '0.0.1'; }
  start(props) { this.props = props; }
  taskConfigs(max) { return [{ ...this.props }]; }
  stop() {}
  config() { return { keys: () => [], validate: () => [], parse: () => ({}) }; }
  exactlyOnceSupport() { return null; }
  canDefineTransactionBoundaries() { return 'UNSUPPORTED'; }
  alterOffsets() { return false; }
}
class ThrowingSourceConnector extends BaseConnector { taskClass() { return ThrowingTask; } }
class HangingSourceConnector extends BaseConnector { taskClass() { return HangingTask; } }
class FailingStartConnector extends BaseConnector {
  taskClass() { return ThrowingTask; }
  start() { throw new Error('cannot reach the database at db.invalid:5432'); }
}
module.exports = { ThrowingSourceConnector, HangingSourceConnector, FailingStartConnector };
`;

describe('Connect: connectors that fail, hang or are misconfigured', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let connect: RunningConnect;
  let input: string;
  let output: string;

  before(async () => {
    broker = await startTestBroker();
    dir = await temporaryDirectory();
    const plugins = join(dir.path, 'plugins');
    await mkdir(join(plugins, 'faulty-connectors'), { recursive: true });
    await writeFile(join(plugins, 'faulty-connectors', 'package.json'), JSON.stringify({ name: 'faulty-connectors', version: '0.0.1', main: 'index.js' }));
    await writeFile(join(plugins, 'faulty-connectors', 'index.js'), PLUGIN);
    await mkdir(join(plugins, 'broken-package'), { recursive: true });
    await writeFile(join(plugins, 'broken-package', 'package.json'), JSON.stringify({ name: 'broken-package', version: '0.0.1', main: 'index.js' }));
    await writeFile(join(plugins, 'broken-package', 'index.js'), "require('a-module-that-is-not-installed');\n");
    input = join(dir.path, 'in.txt');
    output = join(dir.path, 'out.txt');
    await writeFile(input, 'first\n');
    const topic = uniqueTopic('connect-healthy');
    connect = await startConnect({
      worker: {
        'bootstrap.servers': broker.running.bootstrapServers,
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'offset.storage.file.filename': join(dir.path, 'offsets'),
        'offset.flush.interval.ms': '200',
        'task.shutdown.graceful.timeout.ms': '1000',
        'plugin.path': plugins,
        listeners: 'http://127.0.0.1:0',
      },
      connectors: [
        { name: 'healthy-source', 'connector.class': 'FileStreamSource', file: input, topic },
        { name: 'healthy-sink', 'connector.class': 'FileStreamSink', file: output, topics: topic },
      ],
    });
  });
  after(async () => {
    await connect?.close();
    await broker.close();
    await dir.remove();
  });

  /** The healthy pair still copies a line appended now. */
  async function healthyStillCopies(line: string): Promise<void> {
    await appendFile(input, `${line}\n`);
    await waitFor(async () => (await readFile(output, 'utf8').catch(() => '')).includes(`${line}\n`), `the healthy connectors to copy '${line}'`, 20_000);
  }

  it('lists the plugin package\'s connectors beside the built-in ones', () => {
    const classes = connect.herder.plugins(true).map((plugin) => plugin.class);
    for (const name of ['ThrowingSourceConnector', 'HangingSourceConnector', 'FailingStartConnector', 'org.apache.kafka.connect.file.FileStreamSourceConnector']) assert.ok(classes.includes(name), `${name} in ${classes.join(', ')}`);
  });

  it('a task whose poll throws is FAILED with the error in its trace; the others run on', async () => {
    await connect.herder.putConnectorConfig('throwing', { 'connector.class': 'ThrowingSource', topic: 'unused' }, false);
    const status = await waitFor(async () => {
      const current = await connect.herder.connectorStatus('throwing');
      return current.tasks[0]?.state === 'FAILED' ? current : false;
    }, 'the throwing task to fail');
    assert.equal(status.connector.state, 'RUNNING', 'the connector itself is fine');
    assert.match(status.tasks[0]!.trace ?? '', /the external system refused us: code 42/);
    assert.equal((await connect.herder.connectorStatus('healthy-source')).tasks[0]!.state, 'RUNNING');
    await healthyStillCopies('after-throwing');
    // Restarting only failed tasks restarts this one (and it fails again, the same way).
    const restarted = await connect.herder.restartConnector('throwing', { includeTasks: true, onlyFailed: true });
    assert.equal(restarted?.connector.state, 'RUNNING', 'a running connector is not restarted with onlyFailed');
    assert.equal(restarted?.tasks[0]!.state, 'RESTARTING');
    await connect.herder.deleteConnector('throwing');
  });

  it('a task whose poll never returns is abandoned when deleted, within the graceful timeout', async () => {
    await connect.herder.putConnectorConfig('hanging', { 'connector.class': 'HangingSourceConnector', topic: 'unused' }, false);
    await waitFor(async () => (await connect.herder.connectorStatus('hanging')).tasks[0]?.state === 'RUNNING', 'the hanging task to run');
    // While the poll hangs (Kafka reports nothing for a hung task: it stays RUNNING), the other
    // connectors' tasks are not held up by it: a line appended now is copied.
    await healthyStillCopies('while-hanging');
    assert.equal((await connect.herder.connectorStatus('hanging')).tasks[0]?.state, 'RUNNING', 'still hanging while the others copy');
    const started = Date.now();
    await connect.herder.deleteConnector('hanging');
    const took = Date.now() - started;
    assert.ok(took < 5_000, `delete returned after ${took} ms (graceful timeout 1000 ms)`);
    await assert.rejects(connect.herder.connectorStatus('hanging'), (error: unknown) => error instanceof ConnectRestError && error.status === 404);
    await healthyStillCopies('after-hanging');
  });

  it('a connector whose start throws is FAILED with its error, and has no tasks', async () => {
    const { created } = await connect.herder.putConnectorConfig('failing-start', { 'connector.class': 'FailingStartConnector', topic: 'unused' }, false);
    assert.equal(created, true);
    const status = await connect.herder.connectorStatus('failing-start');
    assert.equal(status.connector.state, 'FAILED');
    assert.match(status.connector.trace ?? '', /cannot reach the database at db\.invalid:5432/);
    assert.deepEqual(status.tasks, []);
    await connect.herder.deleteConnector('failing-start');
  });

  it('refuses bad configs with every error named, and a class that is not there with the failed package named', async () => {
    const refused = async (config: Record<string, string>, pattern: RegExp) => {
      await assert.rejects(connect.herder.putConnectorConfig('bad', config, false), (error: unknown) => {
        assert.ok(error instanceof ConnectRestError, String(error));
        assert.equal(error.status, 400);
        assert.match(error.message, pattern);
        return true;
      });
    };
    await refused({ 'connector.class': 'FileStreamSource', file: input }, /contains the following 1 error\(s\):\nMissing required configuration "topic" which has no default value\./);
    await refused({ 'connector.class': 'FileStreamSink', file: output, 'tasks.max': '0' }, /contains the following 3 error\(s\)[\s\S]*Invalid value 0 for configuration tasks\.max: Value must be at least 1[\s\S]*Must configure one of topics or topics\.regex/);
    await refused({ 'connector.class': 'FileStreamSource', file: input, topic: 't', 'batch.size': 'lots' }, /Invalid value lots for configuration batch\.size/);
    await refused({ 'connector.class': 'NoSuchConnector' }, /Failed to find any class that implements Connector and which name matches NoSuchConnector[\s\S]*broken-package: .*a-module-that-is-not-installed/);
    assert.deepEqual(connect.herder.connectors(), ['healthy-sink', 'healthy-source']);
    await healthyStillCopies('after-bad-configs');
  });

  it('exactly.once.support=required refuses a source that cannot say it supports exactly once, or says it does not, with Kafka\'s messages', async () => {
    const put = (name: string, config: Record<string, string>) => fetch(`${connect.url}/connectors/${name}/config`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(config),
    });
    // The plugin's connectors answer exactlyOnceSupport() with null: no preflight API.
    const unknown = await put('eos-unknown', { 'connector.class': 'ThrowingSourceConnector', topic: 'unused', 'exactly.once.support': 'required' });
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), {
      error_code: 400,
      message: 'Connector configuration is invalid and contains the following 1 error(s):\n'
        + 'The connector does not implement the API required for preflight validation of exactly-once source support. Please consult the documentation for the connector to determine whether it supports exactly-once semantics, and then consider reconfiguring the connector to use the value "requested" for this property (which will disable this preflight check and allow the connector to be created).\n'
        + 'You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`',
    });
    // FileStreamSource reading standard input cannot be re-read from an offset: UNSUPPORTED.
    const stdin = await put('eos-stdin', { 'connector.class': 'FileStreamSource', topic: 'unused', 'exactly.once.support': 'required' });
    assert.equal(stdin.status, 400);
    assert.match(((await stdin.json()) as { message: string }).message, /contains the following 1 error\(s\):\nThe connector does not support exactly-once semantics with the provided configuration\.\n/);
    const validated = await fetch(`${connect.url}/connector-plugins/FileStreamSource/config/validate`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'eos-stdin', 'connector.class': 'FileStreamSource', topic: 'unused', 'exactly.once.support': 'required' }),
    });
    const infos = await validated.json() as { error_count: number; configs: { value: { name: string; errors: string[] } }[] };
    assert.equal(infos.error_count, 1);
    assert.deepEqual(infos.configs.find((config) => config.value.name === 'exactly.once.support')?.value.errors, ['The connector does not support exactly-once semantics with the provided configuration.']);
    assert.deepEqual(connect.herder.connectors(), ['healthy-sink', 'healthy-source'], 'neither was created');
    // With a file the same connector supports it, and `requested` skips the check.
    const withFile = await put('eos-file', { 'connector.class': 'FileStreamSource', file: join(dir.path, 'eos.txt'), topic: 'unused', 'exactly.once.support': 'required' });
    assert.equal(withFile.status, 201, await withFile.text());
    const requested = await put('eos-requested', { 'connector.class': 'ThrowingSourceConnector', topic: 'unused', 'exactly.once.support': 'requested', 'tasks.max': '1' });
    assert.equal(requested.status, 201, await requested.text());
    await connect.herder.deleteConnector('eos-file');
    await connect.herder.deleteConnector('eos-requested');
  });
});
