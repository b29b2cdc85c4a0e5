// Connectors that are neither built in nor on plugin.path: a class handed to startConnect() (as a
// test or a program embedding a worker would) and an npm package of the project, resolved from the
// project directory's node_modules when a connector.class names it. Both run beside a built-in
// FileStreamSink that writes what they produce to a file.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConnectConfigDef } from '../../../src/connect/api/config.js';
import { SourceConnector, SourceTask } from '../../../src/connect/api/connector.js';
import { Schemas, type SourceRecord } from '../../../src/connect/api/data.js';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';

/** Sends `lines` (comma separated) to `topic` once, then idles. */
class LinesTask extends SourceTask {
  private props: Readonly<Record<string, string>> = {};
  private sent = false;
  version(): string { return '1.0.0'; }
  start(props: Readonly<Record<string, string>>): void { this.props = props; }
  async poll(): Promise<SourceRecord[] | null> {
    if (this.sent) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return null;
    }
    this.sent = true;
    return this.props.lines!.split(',').map((line) => ({
      topic: this.props.topic!, kafkaPartition: null, keySchema: null, key: null, valueSchema: Schemas.STRING, value: line,
      timestamp: null, headers: [], sourcePartition: { embedded: 'lines' }, sourceOffset: { sent: 1 },
    }));
  }
  stop(): void {}
}

class EmbeddedLinesConnector extends SourceConnector {
  private props: Readonly<Record<string, string>> = {};
  version(): string { return '1.0.0'; }
  start(props: Readonly<Record<string, string>>): void { this.props = props; }
  taskClass(): new () => SourceTask { return LinesTask; }
  taskConfigs(): Record<string, string>[] { return [{ ...this.props }]; }
  stop(): void {}
  config(): ConnectConfigDef { return new ConnectConfigDef(); }
}

/** The project package: plain CommonJS written against the API's shapes, as an author could publish it. */
const PROJECT_PACKAGE = `
class ProjectLinesTask {
  initialize(context) { this.context = context; }
  version() { return '2.0.0'; }
  start(props) { this.props = props; this.sent = false; }
  async poll() {
    if (this.sent) { await new Promise((resolve) => setTimeout(resolve, 100)); return null; }
    this.sent = true;
    return ['project-1', 'project-2'].map((value) => ({ topic: this.props.topic, kafkaPartition: null, keySchema: null, key: null,
      valueSchema: { type: 'string', optional: false }, value, timestamp: null, headers: [], sourcePartition: { project: 'lines' }, sourceOffset: { sent: 1 } }));
  }
  commit() {}
  commitRecord() {}
  stop() {}
}
class ProjectLinesConnector {
  constructor() { this.kind = 'source'; }
  initialize(context) { this.context = context; }
  version() { return '2.0.0'; }
  start(props) { this.props = props; }
  taskClass() { return ProjectLinesTask; }
  taskConfigs() { return [{ ...this.props }]; }
  stop() {}
  config() { return { keys: () => [], validate: () => [], parse: () => ({}) }; }
  exactlyOnceSupport() { return null; }
  canDefineTransactionBoundaries() { return 'UNSUPPORTED'; }
  alterOffsets() { return false; }
}
module.exports = { ProjectLinesConnector };
`;

describe('Connect: connector classes given to startConnect() and npm packages of the project', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let connect: RunningConnect;
  let output: string;
  let topic: string;

  before(async () => {
    broker = await startTestBroker();
    dir = await temporaryDirectory();
    const project = join(dir.path, 'project');
    const packageDir = join(project, 'node_modules', 'acme-lines-connector');
    await mkdir(packageDir, { recursive: true });
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'a-project', version: '1.0.0', dependencies: { 'acme-lines-connector': '2.0.0' } }));
    await writeFile(join(packageDir, 'package.json'), JSON.stringify({ name: 'acme-lines-connector', version: '2.0.0', main: 'lib/index.js' }));
    await mkdir(join(packageDir, 'lib'));
    await writeFile(join(packageDir, 'lib', 'index.js'), PROJECT_PACKAGE);
    output = join(dir.path, 'out.txt');
    topic = uniqueTopic('connect-project-plugins');
    connect = await startConnect({
      worker: {
        'bootstrap.servers': broker.running.bootstrapServers,
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'offset.storage.file.filename': join(dir.path, 'offsets'),
        'offset.flush.interval.ms': '200',
        listeners: 'http://127.0.0.1:0',
      },
      plugins: { 'com.example.EmbeddedLinesConnector': EmbeddedLinesConnector },
      projectDirectory: project,
      connectors: [{ name: 'sink', 'connector.class': 'FileStreamSink', file: output, topics: topic }],
    });
  });
  after(async () => {
    await connect?.close();
    await broker?.close();
    await dir?.remove();
  });

  it('runs a connector class passed to startConnect(), by its full name or alias, and lists it', async () => {
    assert.ok(connect.herder.plugins(true).some((plugin) => plugin.class === 'com.example.EmbeddedLinesConnector' && plugin.type === 'source'));
    await connect.herder.putConnectorConfig('embedded', { 'connector.class': 'EmbeddedLines', topic, lines: 'embedded-1,embedded-2' }, false);
    await waitFor(async () => /embedded-1\nembedded-2\n/.test(await readFile(output, 'utf8').catch(() => '')), 'the embedded connector\'s lines to reach the sink');
    assert.equal((await connect.herder.connectorStatus('embedded')).tasks[0]?.state, 'RUNNING');
  });

  it('runs a connector from an npm package of the project, named by its package name', async () => {
    await connect.herder.putConnectorConfig('from-project', { 'connector.class': 'acme-lines-connector', topic }, false);
    await waitFor(async () => /project-1\nproject-2\n/.test(await readFile(output, 'utf8').catch(() => '')), 'the project connector\'s lines to reach the sink');
    const status = await connect.herder.connectorStatus('from-project');
    assert.equal(status.connector.state, 'RUNNING');
    assert.equal(status.tasks[0]?.state, 'RUNNING');
    assert.ok(connect.herder.plugins(true).some((plugin) => plugin.class === 'ProjectLinesConnector' && plugin.version === '2.0.0'), 'listed once loaded');
  });
});
