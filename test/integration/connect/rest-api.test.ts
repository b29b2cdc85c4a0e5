// Kafka Connect's REST API, endpoint by endpoint, from a plain HTTP client (fetch) against a real
// standalone worker running Kafka's FileStreamSource and FileStreamSink connectors on an in-process
// broker: status codes, JSON shapes and the error bodies ({"error_code", "message"}) with Kafka
// Connect's messages. The expectations are Kafka's (ConnectorsResource, ConnectorPluginsResource,
// LoggingResource, RootResource and the standalone herder), not whatever our worker happens to say.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONNECT_VERSION, type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';

const SOURCE_CLASS = 'org.apache.kafka.connect.file.FileStreamSourceConnector';
const SINK_CLASS = 'org.apache.kafka.connect.file.FileStreamSinkConnector';
const LINES = 20;

interface Answer {
  status: number;
  /** The parsed JSON; the tests read whatever shape the endpoint answers. */
  body: any;
  headers: Headers;
}

describe('Connect REST API', { timeout: 180_000 }, () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let connect: RunningConnect;
  let input: string;
  const logLines: string[] = [];

  before(async () => {
    broker = await startTestBroker();
    dir = await temporaryDirectory();
    input = join(dir.path, 'input.txt');
    await writeFile(input, Array.from({ length: LINES }, (_, index) => `line ${index}\n`).join(''));
    connect = await startConnect({
      worker: {
        'bootstrap.servers': broker.running.bootstrapServers,
        'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
        'offset.storage.file.filename': join(dir.path, 'connect.offsets'),
        'offset.flush.interval.ms': '200',
        listeners: 'http://127.0.0.1:0',
      },
      logLevel: 'info',
      logSink: (level, line) => logLines.push(`${level} ${line}`),
    });
  });
  after(async () => {
    await connect?.close();
    await broker?.close();
    await dir?.remove();
  });

  /** One request; a string body is sent as it is, anything else as JSON. */
  async function http(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'content-type': contentType };
    }
    const response = await fetch(`${connect.url}${path}`, init);
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text), headers: response.headers };
  }

  /** Connect's error body: {"error_code": status, "message"}, the message exact or matching. */
  function assertRefused(answer: Answer, status: number, message?: string | RegExp): void {
    assert.equal(answer.status, status, `expected ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
    assert.deepEqual(Object.keys(answer.body).sort(), ['error_code', 'message']);
    assert.equal(answer.body.error_code, status);
    if (typeof message === 'string') assert.equal(answer.body.message, message);
    else if (message) assert.match(answer.body.message, message);
  }

  function sourceConfig(topic: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { 'connector.class': 'FileStreamSource', 'tasks.max': '1', file: input, topic, ...extra };
  }

  async function create(name: string, config: Record<string, unknown>): Promise<Answer> {
    const answer = await http('POST', '/connectors', { name, config });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    return answer;
  }

  /** Waits until the connector, and its tasks unless it is STOPPED, are in `state`. */
  function waitForState(name: string, state: string): Promise<Answer['body']> {
    return waitFor(async () => {
      const { body } = await http('GET', `/connectors/${name}/status`);
      const tasksThere = state === 'STOPPED' ? body.tasks.length === 0 : body.tasks.length > 0 && body.tasks.every((task: { state: string }) => task.state === state);
      return body.connector?.state === state && tasksThere ? body : false;
    }, `${name} to be ${state}`);
  }

  /** Waits until the source has sent the whole input and stored its offset. */
  function waitForSourceOffset(name: string, position: number): Promise<Answer['body']> {
    return waitFor(async () => {
      const { body } = await http('GET', `/connectors/${name}/offsets`);
      return body.offsets[0]?.offset?.position === position ? body : false;
    }, `${name}'s offset to reach ${position}`);
  }

  it('GET / answers the version, the commit and the Kafka cluster id', async () => {
    const answer = await http('GET', '/');
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(Object.keys(answer.body).sort(), ['commit', 'kafka_cluster_id', 'version']);
    assert.equal(answer.body.version, CONNECT_VERSION);
    assert.equal(typeof answer.body.commit, 'string');
    assert.equal(answer.body.kafka_cluster_id, broker.running.clusterId);
  });

  it('POST /connectors: 201 with Location and the connector; 409 for a second create', async () => {
    const topic = uniqueTopic('rest-create');
    // Jackson reads a number as a string in a config: tasks.max may be sent as 1.
    const answer = await create('create-src', sourceConfig(topic, { 'tasks.max': 1 }));
    assert.equal(answer.headers.get('location'), `${connect.url}/connectors/create-src`);
    assert.deepEqual(answer.body, {
      name: 'create-src',
      config: { 'connector.class': 'FileStreamSource', 'tasks.max': '1', file: input, topic, name: 'create-src' },
      tasks: [{ connector: 'create-src', task: 0 }],
      type: 'source',
    });
    assertRefused(await http('POST', '/connectors', { name: 'create-src', config: sourceConfig(topic) }), 409, 'Connector create-src already exists');
    await http('DELETE', '/connectors/create-src');
  });

  it('POST /connectors refuses bodies that are not a create request with 400 (415 for another media type)', async () => {
    const topic = uniqueTopic('rest-bad-create');
    assertRefused(await http('POST', '/connectors', { name: 'no-config' }), 400);
    assertRefused(await http('POST', '/connectors', { name: 'a', config: { ...sourceConfig(topic), name: 'b' } }), 400, "Connector name configuration (b) doesn't match connector name in the URL (a)");
    assertRefused(await http('POST', '/connectors', { name: 'array-value', config: sourceConfig(topic, { topic: ['x'] }) }), 400);
    assertRefused(await http('POST', '/connectors', ['not', 'an', 'object']), 400);
    assertRefused(await http('POST', '/connectors', '{"name": "broken", "config": {'), 400);
    assertRefused(await http('POST', '/connectors', 'name=x', 'text/plain'), 415);
    // No name: the herder's validation refuses the empty name.
    assertRefused(await http('POST', '/connectors', { config: sourceConfig(topic) }), 400);
    assert.deepEqual((await http('GET', '/connectors')).body.filter((name: string) => ['a', 'b', 'no-config', 'array-value', 'broken', ''].includes(name)), []);
  });

  it("POST /connectors with a config that does not validate: 400 with Kafka's message", async () => {
    const answer = await http('POST', '/connectors', { name: 'invalid-src', config: { 'connector.class': 'FileStreamSource', file: input } });
    assertRefused(
      answer,
      400,
      'Connector configuration is invalid and contains the following 1 error(s):\n' +
        'Missing required configuration "topic" which has no default value.\n' +
        'You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`',
    );
  });

  it('GET /connectors lists names; ?expand=status, ?expand=info and both', async () => {
    const topic = uniqueTopic('rest-list');
    await create('list-src', sourceConfig(topic));
    await waitForState('list-src', 'RUNNING');
    const names = await http('GET', '/connectors');
    assert.equal(names.status, 200);
    assert.ok(names.body.includes('list-src'));

    const status = (await http('GET', '/connectors?expand=status')).body['list-src'];
    assert.deepEqual(Object.keys(status), ['status']);
    assert.equal(status.status.connector.state, 'RUNNING');
    const info = (await http('GET', '/connectors?expand=info')).body['list-src'];
    assert.deepEqual(Object.keys(info), ['info']);
    assert.equal(info.info.config.topic, topic);
    const both = (await http('GET', '/connectors?expand=status&expand=info')).body['list-src'];
    assert.deepEqual(Object.keys(both).sort(), ['info', 'status']);
    assert.equal(both.status.type, 'source');
    assert.equal(both.info.type, 'source');
    await http('DELETE', '/connectors/list-src');
  });

  it('GET /connectors/{name}, /config, /status, /tasks and /tasks/{id}/status', async () => {
    const topic = uniqueTopic('rest-get');
    await create('get-src', sourceConfig(topic));
    await waitForState('get-src', 'RUNNING');
    const info = await http('GET', '/connectors/get-src');
    assert.equal(info.status, 200);
    assert.deepEqual(info.body, { name: 'get-src', config: { ...sourceConfig(topic), name: 'get-src' }, tasks: [{ connector: 'get-src', task: 0 }], type: 'source' });
    assert.deepEqual((await http('GET', '/connectors/get-src/config')).body, { ...sourceConfig(topic), name: 'get-src' });

    const status = await http('GET', '/connectors/get-src/status');
    assert.equal(status.status, 200);
    assert.deepEqual(status.body, {
      name: 'get-src',
      connector: { state: 'RUNNING', worker_id: connect.workerId },
      tasks: [{ id: 0, state: 'RUNNING', worker_id: connect.workerId }],
      type: 'source',
    });
    const tasks = await http('GET', '/connectors/get-src/tasks');
    assert.equal(tasks.status, 200);
    assert.equal(tasks.body.length, 1);
    assert.deepEqual(tasks.body[0].id, { connector: 'get-src', task: 0 });
    assert.equal(tasks.body[0].config.topic, topic);
    assert.equal(tasks.body[0].config.file, input);
    const task = await http('GET', '/connectors/get-src/tasks/0/status');
    assert.equal(task.status, 200);
    assert.deepEqual(task.body, { id: 0, state: 'RUNNING', worker_id: connect.workerId });
    await http('DELETE', '/connectors/get-src');
  });

  it("GET /connectors/{name}/tasks: each task's config names its task class, as Kafka's worker adds it", async () => {
    const topic = uniqueTopic('rest-task-class');
    await create('task-class-src', sourceConfig(topic));
    try {
      const tasks = await http('GET', '/connectors/task-class-src/tasks');
      assert.equal(tasks.body[0].config['task.class'], 'org.apache.kafka.connect.file.FileStreamSourceTask');
    } finally {
      await http('DELETE', '/connectors/task-class-src');
    }
  });

  it('PUT /connectors/{name}/config: 201 for a new connector, 200 for an update, 400 for a name mismatch', async () => {
    const topic = uniqueTopic('rest-put');
    const created = await http('PUT', '/connectors/put-src/config', sourceConfig(topic));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('location'), `${connect.url}/connectors/put-src`);
    assert.equal(created.body.name, 'put-src');
    assert.equal(created.body.config.name, 'put-src');
    const updated = await http('PUT', '/connectors/put-src/config', sourceConfig(topic, { 'batch.size': '5' }));
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.headers.get('location'), null);
    assert.equal(updated.body.config['batch.size'], '5');
    assertRefused(await http('PUT', '/connectors/put-src/config', { ...sourceConfig(topic), name: 'other' }), 400, "Connector name configuration (other) doesn't match connector name in the URL (put-src)");
    assertRefused(await http('PUT', '/connectors/put-src/config', sourceConfig(topic, { 'batch.size': 'many' })), 400, /batch\.size/);
    await waitForState('put-src', 'RUNNING');
    await http('DELETE', '/connectors/put-src');
  });

  it('PATCH /connectors/{name}/config merges the patch and removes keys set to null', async () => {
    const topic = uniqueTopic('rest-patch');
    await create('patch-src', sourceConfig(topic));
    const patched = await http('PATCH', '/connectors/patch-src/config', { 'batch.size': 7, 'tasks.max': null });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.config, { 'connector.class': 'FileStreamSource', file: input, topic, 'batch.size': '7', name: 'patch-src' });
    assert.deepEqual((await http('GET', '/connectors/patch-src/config')).body, patched.body.config);
    assertRefused(await http('PATCH', '/connectors/patch-src/config', { topic: { not: 'a string' } }), 400);
    await waitForState('patch-src', 'RUNNING');
    await http('DELETE', '/connectors/patch-src');
  });

  it('PUT /connectors/{name}/pause and /resume: 202, then PAUSED, then RUNNING', async () => {
    const topic = uniqueTopic('rest-pause');
    await create('pause-src', sourceConfig(topic));
    await waitForState('pause-src', 'RUNNING');
    const paused = await http('PUT', '/connectors/pause-src/pause');
    assert.equal(paused.status, 202);
    assert.equal(paused.body, undefined);
    await waitForState('pause-src', 'PAUSED');
    // Idempotent, as Kafka's.
    assert.equal((await http('PUT', '/connectors/pause-src/pause')).status, 202);
    assert.equal((await http('PUT', '/connectors/pause-src/resume')).status, 202);
    await waitForState('pause-src', 'RUNNING');
    await http('DELETE', '/connectors/pause-src');
  });

  it('POST /connectors/{name}/restart: 204 plain; 202 with the restart plan for includeTasks and onlyFailed; task restart 204', async () => {
    const topic = uniqueTopic('rest-restart');
    await create('restart-src', sourceConfig(topic));
    await waitForState('restart-src', 'RUNNING');
    const plain = await http('POST', '/connectors/restart-src/restart');
    assert.equal(plain.status, 204);
    assert.equal(plain.body, undefined);
    await waitForState('restart-src', 'RUNNING');

    const withTasks = await http('POST', '/connectors/restart-src/restart?includeTasks=true');
    assert.equal(withTasks.status, 202, JSON.stringify(withTasks.body));
    assert.equal(withTasks.body.name, 'restart-src');
    assert.equal(withTasks.body.connector.state, 'RESTARTING');
    assert.deepEqual(withTasks.body.tasks.map((task: { state: string }) => task.state), ['RESTARTING']);
    await waitForState('restart-src', 'RUNNING');

    // Nothing has failed: nothing restarts, and the plan says so.
    const onlyFailed = await http('POST', '/connectors/restart-src/restart?includeTasks=true&onlyFailed=true');
    assert.equal(onlyFailed.status, 202);
    assert.equal(onlyFailed.body.connector.state, 'RUNNING');
    assert.deepEqual(onlyFailed.body.tasks.map((task: { state: string }) => task.state), ['RUNNING']);

    const task = await http('POST', '/connectors/restart-src/tasks/0/restart');
    assert.equal(task.status, 204);
    assert.equal(task.body, undefined);
    await waitForState('restart-src', 'RUNNING');
    assertRefused(await http('POST', '/connectors/restart-src/tasks/5/restart'), 404, 'Task restart-src-5 not found');
    await http('DELETE', '/connectors/restart-src');
  });

  it('PUT /connectors/{name}/stop: 204, STOPPED with no tasks; resume runs it again', async () => {
    const topic = uniqueTopic('rest-stop');
    await create('stop-src', sourceConfig(topic));
    await waitForState('stop-src', 'RUNNING');
    const stopped = await http('PUT', '/connectors/stop-src/stop');
    assert.equal(stopped.status, 204);
    assert.equal(stopped.body, undefined);
    await waitForState('stop-src', 'STOPPED');
    assert.deepEqual((await http('GET', '/connectors/stop-src/tasks')).body, []);
    assert.equal((await http('PUT', '/connectors/stop-src/resume')).status, 202);
    await waitForState('stop-src', 'RUNNING');
    await http('DELETE', '/connectors/stop-src');
  });

  it('POST /connectors with initial_state (KIP-980): created PAUSED or STOPPED, never RUNNING first; a bad state 400', async () => {
    const topic = uniqueTopic('rest-initial');
    for (const state of ['PAUSED', 'STOPPED'] as const) {
      const name = `initial-${state.toLowerCase()}`;
      const answer = await http('POST', '/connectors', { name, config: sourceConfig(topic), initial_state: state });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      await waitForState(name, state);
      // Nothing was read from the file: stopping stores the offsets of whatever was sent, and there are none.
      if (state === 'PAUSED') assert.equal((await http('PUT', `/connectors/${name}/stop`)).status, 204);
      await waitForState(name, 'STOPPED');
      assert.deepEqual((await http('GET', `/connectors/${name}/offsets`)).body, { offsets: [] });
      await http('DELETE', `/connectors/${name}`);
    }
    assertRefused(await http('POST', '/connectors', { name: 'initial-bad', config: sourceConfig(topic), initial_state: 'SLEEPING' }), 400, /initial state SLEEPING/i);
  });

  it('GET /connectors/{name}/topics and PUT /topics/reset (202)', async () => {
    const topic = uniqueTopic('rest-topics');
    await create('topics-src', sourceConfig(topic));
    const used = await waitFor(async () => {
      const answer = await http('GET', '/connectors/topics-src/topics');
      return answer.body['topics-src']?.topics.length > 0 ? answer : false;
    }, 'the source to use its topic');
    assert.equal(used.status, 200);
    assert.deepEqual(used.body, { 'topics-src': { topics: [topic] } });
    const reset = await http('PUT', '/connectors/topics-src/topics/reset');
    assert.equal(reset.status, 202);
    assert.equal(reset.body, undefined);
    assert.deepEqual((await http('GET', '/connectors/topics-src/topics')).body, { 'topics-src': { topics: [] } });
    await http('DELETE', '/connectors/topics-src');
  });

  it('offsets of a source: GET; PATCH and DELETE refused (400) while it runs, 200 with Kafka\'s messages once stopped', async () => {
    const topic = uniqueTopic('rest-offsets');
    await create('offsets-src', sourceConfig(topic));
    const size = (await readFile(input)).length;
    const offsets = await waitForSourceOffset('offsets-src', size);
    assert.deepEqual(offsets, { offsets: [{ partition: { filename: input }, offset: { position: size } }] });

    const change = { offsets: [{ partition: { filename: input }, offset: { position: 7 } }] };
    const notStopped = "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/offsets-src/stop' endpoint";
    assertRefused(await http('PATCH', '/connectors/offsets-src/offsets', change), 400, notStopped);
    assertRefused(await http('DELETE', '/connectors/offsets-src/offsets'), 400, notStopped);

    await http('PUT', '/connectors/offsets-src/stop');
    await waitForState('offsets-src', 'STOPPED');
    assertRefused(await http('PATCH', '/connectors/offsets-src/offsets', { offsets: [] }), 400, 'Partitions / offsets need to be provided for an alter offsets request');
    const altered = await http('PATCH', '/connectors/offsets-src/offsets', change);
    assert.equal(altered.status, 200, JSON.stringify(altered.body));
    assert.deepEqual(altered.body, { message: 'The offsets for this connector have been altered successfully' });
    assert.deepEqual((await http('GET', '/connectors/offsets-src/offsets')).body, change);

    const reset = await http('DELETE', '/connectors/offsets-src/offsets');
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    assert.deepEqual(reset.body, { message: 'The offsets for this connector have been reset successfully' });
    assert.deepEqual((await http('GET', '/connectors/offsets-src/offsets')).body, { offsets: [] });
    await http('DELETE', '/connectors/offsets-src');
  });

  it('offsets of a sink: its consumer group\'s positions, altered and reset once stopped', async () => {
    const topic = uniqueTopic('rest-sink-offsets');
    await create('sink-offsets-src', sourceConfig(topic));
    await create('sink-offsets', { 'connector.class': 'FileStreamSink', 'tasks.max': '1', file: join(dir.path, 'sink-out.txt'), topics: topic });
    const partition = { kafka_topic: topic, kafka_partition: 0 };
    await waitFor(async () => {
      const { body } = await http('GET', '/connectors/sink-offsets/offsets');
      return body.offsets[0]?.offset?.kafka_offset === LINES ? body : false;
    }, 'the sink to commit every record', 20_000);
    assert.deepEqual((await http('GET', '/connectors/sink-offsets/offsets')).body, { offsets: [{ partition, offset: { kafka_offset: LINES } }] });

    await http('PUT', '/connectors/sink-offsets/stop');
    await waitForState('sink-offsets', 'STOPPED');
    const altered = await http('PATCH', '/connectors/sink-offsets/offsets', { offsets: [{ partition, offset: { kafka_offset: 3 } }] });
    assert.equal(altered.status, 200, JSON.stringify(altered.body));
    assert.deepEqual(altered.body, { message: 'The offsets for this connector have been altered successfully' });
    assert.deepEqual((await http('GET', '/connectors/sink-offsets/offsets')).body, { offsets: [{ partition, offset: { kafka_offset: 3 } }] });
    const reset = await http('DELETE', '/connectors/sink-offsets/offsets');
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    assert.deepEqual(reset.body, { message: 'The offsets for this connector have been reset successfully' });
    assert.deepEqual((await http('GET', '/connectors/sink-offsets/offsets')).body, { offsets: [] });
    await http('DELETE', '/connectors/sink-offsets');
    await http('DELETE', '/connectors/sink-offsets-src');
  });

  it('GET /connector-plugins: the connectors by default, every plugin with connectorsOnly=false', async () => {
    const connectors = await http('GET', '/connector-plugins');
    assert.equal(connectors.status, 200);
    const classes = connectors.body.map((plugin: { class: string }) => plugin.class);
    assert.ok(classes.includes(SOURCE_CLASS) && classes.includes(SINK_CLASS), JSON.stringify(classes));
    assert.ok(connectors.body.every((plugin: { type: string }) => plugin.type === 'source' || plugin.type === 'sink'));
    const source = connectors.body.find((plugin: { class: string }) => plugin.class === SOURCE_CLASS);
    assert.deepEqual(Object.keys(source).sort(), ['class', 'type', 'version']);
    assert.equal(source.type, 'source');

    const all = (await http('GET', '/connector-plugins?connectorsOnly=false')).body;
    const types = new Set(all.map((plugin: { type: string }) => plugin.type));
    for (const type of ['source', 'sink', 'converter', 'transformation', 'predicate']) assert.ok(types.has(type), `no ${type} plugin in ${[...types].join(', ')}`);
    assert.ok(all.some((plugin: { class: string }) => plugin.class === 'org.apache.kafka.connect.storage.StringConverter'));
  });

  it('GET /connector-plugins/{plugin}/config: the config keys of a connector, by class or alias', async () => {
    for (const plugin of [SOURCE_CLASS, 'FileStreamSource']) {
      const answer = await http('GET', `/connector-plugins/${plugin}/config`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const names = answer.body.map((key: { name: string }) => key.name);
      for (const name of ['file', 'topic', 'batch.size', 'connector.class']) assert.ok(names.includes(name), `${plugin}: no ${name} in ${names.join(', ')}`);
      const batch = answer.body.find((key: { name: string }) => key.name === 'batch.size');
      assert.equal(batch.type, 'INT');
      assert.equal(batch.default_value, '2000');
      assert.equal(batch.required, false);
    }
    assertRefused(await http('GET', '/connector-plugins/NoSuchConnector/config'), 404, 'Unknown plugin NoSuchConnector.');
  });

  it('PUT /connector-plugins/{type}/config/validate: errors for a missing topic(s) and a bad batch.size, none for a good config', async () => {
    // Kafka validates the connector's name too: each config names its connector.
    const valid = await http('PUT', '/connector-plugins/FileStreamSource/config/validate', { name: 'v', 'connector.class': 'FileStreamSource', topic: 't', file: input });
    assert.equal(valid.status, 200, JSON.stringify(valid.body));
    assert.equal(valid.body.name, SOURCE_CLASS);
    assert.equal(valid.body.error_count, 0, JSON.stringify(valid.body.configs.filter((config: { value: { errors: string[] } }) => config.value.errors.length > 0)));
    assert.ok(Array.isArray(valid.body.groups));
    const entry = valid.body.configs.find((config: { definition: { name: string } }) => config.definition.name === 'topic');
    assert.deepEqual(Object.keys(entry).sort(), ['definition', 'value']);
    assert.deepEqual(entry.value, { name: 'topic', value: 't', recommended_values: [], errors: [], visible: true });

    const errorsOf = (body: Answer['body'], name: string): string[] => body.configs.find((config: { value: { name: string } }) => config.value.name === name)?.value.errors;
    // In Kafka a FileStreamSource without a file reads standard input: not an error.
    const invalid = await http('PUT', `/connector-plugins/${SOURCE_CLASS}/config/validate`, { name: 'v', 'connector.class': SOURCE_CLASS, 'batch.size': 'lots' });
    assert.equal(invalid.status, 200);
    assert.equal(invalid.body.error_count, 2, JSON.stringify(invalid.body.configs.filter((config: { value: { errors: string[] } }) => config.value.errors.length > 0)));
    assert.deepEqual(errorsOf(invalid.body, 'topic'), ['Missing required configuration "topic" which has no default value.']);
    assert.match(errorsOf(invalid.body, 'batch.size')[0]!, /^Invalid value lots for configuration batch\.size/);
    assert.deepEqual(errorsOf(invalid.body, 'file'), []);

    const sink = await http('PUT', '/connector-plugins/FileStreamSink/config/validate', { name: 'v', 'connector.class': 'FileStreamSink', file: 'out.txt' });
    assert.equal(sink.status, 200);
    assert.ok(sink.body.error_count > 0);
    assert.ok(errorsOf(sink.body, 'topics').some((error) => /Must configure one of topics or topics.regex/.test(error)), JSON.stringify(errorsOf(sink.body, 'topics')));

    assertRefused(
      await http('PUT', '/connector-plugins/FileStreamSink/config/validate', { name: 'v', 'connector.class': SOURCE_CLASS, topic: 't' }),
      400,
      `Included connector type ${SOURCE_CLASS} does not match request type FileStreamSink`,
    );
  });

  it('GET and PUT /admin/loggers: levels by namespace, applied to the worker\'s loggers at once', async () => {
    const loggers = await http('GET', '/admin/loggers');
    assert.equal(loggers.status, 200);
    assert.deepEqual(loggers.body.root, { level: 'INFO', last_modified: null });
    const debugLines = () => logLines.filter((line) => line.startsWith('debug [connect/rest]')).length;
    await http('GET', '/');
    assert.equal(debugLines(), 0, 'no debug lines at INFO');

    const set = await http('PUT', '/admin/loggers/connect', { level: 'DEBUG' });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.ok(set.body.includes('connect') && set.body.includes('connect/rest'), JSON.stringify(set.body));
    assert.deepEqual([...set.body].sort(), set.body, 'sorted, as Kafka answers');
    await http('GET', '/');
    assert.ok(debugLines() > 0, 'the REST API logs at debug once its namespace is at DEBUG');

    const connectLevel = await http('GET', '/admin/loggers/connect');
    assert.equal(connectLevel.status, 200);
    assert.equal(connectLevel.body.level, 'DEBUG');
    assert.equal(typeof connectLevel.body.last_modified, 'number');
    assert.equal((await http('GET', '/admin/loggers/connect%2Frest')).body.level, 'DEBUG');
    assert.equal((await http('GET', '/admin/loggers')).body.connect.level, 'DEBUG');

    assertRefused(await http('PUT', '/admin/loggers/connect', { level: 'LOUD' }), 404, "invalid log level 'LOUD'.");
    assertRefused(await http('PUT', '/admin/loggers/connect', {}), 400, "Desired 'level' parameter was not specified in request.");
    assertRefused(await http('GET', '/admin/loggers/no.such.logger'), 404, 'Logger no.such.logger not found.');
    const cluster = await http('PUT', '/admin/loggers/connect?scope=cluster', { level: 'info' });
    assert.equal(cluster.status, 204);
    assert.equal((await http('GET', '/admin/loggers/connect')).body.level, 'INFO');
  });

  it("an unknown connector: 404 with Kafka's message on every endpoint", async () => {
    const offsets = { offsets: [{ partition: { filename: 'f' }, offset: { position: 1 } }] };
    const cases: [string, string, unknown, string][] = [
      ['GET', '/connectors/ghost', undefined, 'Connector ghost not found'],
      ['DELETE', '/connectors/ghost', undefined, 'Connector ghost not found'],
      ['GET', '/connectors/ghost/config', undefined, 'Connector ghost not found'],
      ['PATCH', '/connectors/ghost/config', { 'batch.size': '1' }, 'Connector ghost not found'],
      ['GET', '/connectors/ghost/tasks', undefined, 'Connector ghost not found'],
      ['POST', '/connectors/ghost/restart', undefined, 'Connector ghost not found'],
      ['POST', '/connectors/ghost/tasks/0/restart', undefined, 'Connector ghost not found'],
      ['GET', '/connectors/ghost/offsets', undefined, 'Connector ghost not found'],
      ['PATCH', '/connectors/ghost/offsets', offsets, 'Connector ghost not found'],
      ['DELETE', '/connectors/ghost/offsets', undefined, 'Connector ghost not found'],
      ['GET', '/connectors/ghost/status', undefined, 'No status found for connector ghost'],
      ['GET', '/connectors/ghost/tasks/0/status', undefined, 'No status found for task ghost-0'],
      ['POST', '/connectors/ghost/restart?includeTasks=true', undefined, 'Unknown connector: ghost'],
      ['PUT', '/connectors/ghost/pause', undefined, 'Unknown connector ghost'],
      ['PUT', '/connectors/ghost/resume', undefined, 'Unknown connector ghost'],
    ];
    const differences: string[] = [];
    for (const [method, path, body, message] of cases) {
      const answer = await http(method, path, body);
      if (answer.status !== 404 || answer.body?.error_code !== 404 || answer.body?.message !== message) {
        differences.push(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}, Kafka: 404 "${message}"`);
      }
    }
    assert.deepEqual(differences, []);
    // Kafka's standalone herder fails this one with a 500 (no connector to set a target state on).
    assert.equal((await http('PUT', '/connectors/ghost/stop')).status, 404);
  });

  it('unknown paths 404, other methods 405 with Allow, a task id that is no number 404, all as Connect errors', async () => {
    assertRefused(await http('GET', '/no/such/path'), 404, 'HTTP 404 Not Found');
    assertRefused(await http('GET', '/connectors/x/nonsense'), 404, 'HTTP 404 Not Found');
    const wrongMethod = await http('DELETE', '/connectors');
    assertRefused(wrongMethod, 405, 'HTTP 405 Method Not Allowed');
    assert.match(wrongMethod.headers.get('allow') ?? '', /GET.*POST|POST.*GET/);
    assertRefused(await http('POST', '/connectors/x/status'), 405, 'HTTP 405 Method Not Allowed');
    assertRefused(await http('GET', '/connectors/x/tasks/first/status'), 404, 'HTTP 404 Not Found');
    assertRefused(await http('PUT', '/connectors/x/config', '{"file": '), 400, /not valid JSON/);
    // A trailing slash names the same resource, as in Jersey.
    assert.equal((await http('GET', '/connectors/')).status, 200);
  });

  it('DELETE /connectors/{name}: 204, then the connector is gone (404)', async () => {
    const topic = uniqueTopic('rest-delete');
    await create('delete-src', sourceConfig(topic));
    const deleted = await http('DELETE', '/connectors/delete-src');
    assert.equal(deleted.status, 204);
    assert.equal(deleted.body, undefined);
    assertRefused(await http('GET', '/connectors/delete-src'), 404, 'Connector delete-src not found');
    assertRefused(await http('DELETE', '/connectors/delete-src'), 404, 'Connector delete-src not found');
    assert.ok(!(await http('GET', '/connectors')).body.includes('delete-src'));
  });
});
