// Two distributed Connect workers in one process share a group: a connector created through one
// is visible through the other (config forwarded to the leader, read back from the config topic),
// its tasks run on one of them and write their statuses, and the file pipeline copies every line.
// When a worker leaves, its work moves to the other. The REST API's offsets, topics, validation
// and ?expand endpoints answer on a distributed worker as on a standalone one, through either worker.
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConnectRestError } from '../../../src/connect/runtime/herder.js';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';
import { distributedWorkerConfig, rest, whenLed } from './worker-processes.js';

describe('Connect distributed: two workers in one group', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  const workers: RunningConnect[] = [];
  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    dir = await temporaryDirectory();
  });
  after(async () => {
    for (const worker of workers) await worker.close().catch(() => undefined);
    await broker.close();
    await dir.remove();
  });

  /** The worker config of a new group. */
  function groupConfig(): Record<string, string> {
    return distributedWorkerConfig(broker.running.bootstrapServers, uniqueTopic('connect-cluster'), 6_000, {
      'offset.storage.partitions': '5',
      'status.storage.partitions': '2',
      'offset.flush.interval.ms': '300',
      'heartbeat.interval.ms': '500',
    });
  }

  async function startGroup(count: number, properties = groupConfig()): Promise<RunningConnect[]> {
    const started: RunningConnect[] = [];
    for (let index = 0; index < count; index++) started.push(await startConnect({ mode: 'distributed', worker: properties }));
    return started;
  }

  it('shares connectors between workers and moves work when one leaves', async () => {
    workers.push(...(await startGroup(2)));
    const [first, second] = workers as [RunningConnect, RunningConnect];
    const topic = uniqueTopic('connect-dist');
    const input = join(dir.path, 'in.txt');
    const output = join(dir.path, 'out.txt');
    const lines = (from: number, count: number) => Array.from({ length: count }, (_, index) => `line ${from + index}\n`).join('');
    await writeFile(input, lines(0, 500));
    // Created through each worker: one of them forwards to the leader.
    await whenLed(() => first.herder.putConnectorConfig('source', { 'connector.class': 'FileStreamSource', file: input, topic }, false), 'the first worker to accept a connector');
    await whenLed(() => second.herder.putConnectorConfig('sink', { 'connector.class': 'FileStreamSink', file: output, topics: topic }, false), 'the second worker to accept a connector');
    await waitFor(() => first.herder.connectors().length === 2 && second.herder.connectors().length === 2, 'both workers to see both connectors', 10_000);
    await waitFor(async () => (await readFile(output, 'utf8').catch(() => '')) === lines(0, 500), 'the sink to copy every line', 30_000);
    // Every status is written by the worker running it and read by both.
    const running = async (through: RunningConnect, name: string) => {
      const current = await through.herder.connectorStatus(name);
      return current.connector.state === 'RUNNING' && current.tasks.length === 1 && current.tasks[0]!.state === 'RUNNING' ? current : false;
    };
    const statuses = [];
    for (const through of [first, second]) for (const name of ['source', 'sink']) statuses.push(await waitFor(() => running(through, name), `${name} to be RUNNING seen from ${through.workerId}`, 10_000));
    const owners = new Set(statuses.flatMap((status) => [status.connector.worker_id, ...status.tasks.map((task) => task.worker_id)]));
    for (const owner of owners) assert.ok([first.workerId, second.workerId].includes(owner), `'${owner}' is one of the workers`);
    assert.equal(owners.size, 2, 'the work is spread over both workers');

    // The first worker leaves: everything runs on the second, and lines keep flowing.
    await first.close();
    workers.shift();
    await appendFile(input, lines(500, 300));
    await waitFor(async () => (await readFile(output, 'utf8').catch(() => '')).endsWith(lines(799, 1)), 'the sink to copy lines after the first worker left', 30_000);
    const text = await readFile(output, 'utf8');
    const seen = text.split('\n').filter(Boolean);
    const wanted = lines(0, 800).split('\n').filter(Boolean);
    assert.deepEqual([...new Set(seen)], wanted, 'every line, in order (a line may repeat after the move: at least once)');
    // The status follows: the second worker writes RUNNING under its own id once its task has started.
    await waitFor(async () => {
      const current = await running(second, 'sink');
      return current && current.tasks[0]!.worker_id === second.workerId && current.connector.worker_id === second.workerId;
    }, 'the sink to be RUNNING on the second worker', 10_000);
  });

  it('pauses, resumes, stops, restarts and deletes through either worker, the other seeing the same states', async () => {
    const group = await startGroup(2);
    workers.push(...group);
    const [one, two] = group as [RunningConnect, RunningConnect];
    const input = join(dir.path, 'lifecycle.txt');
    await writeFile(input, 'a\nb\n');
    const topic = uniqueTopic('connect-lifecycle');
    await whenLed(() => one.herder.putConnectorConfig('life', { 'connector.class': 'FileStreamSource', file: input, topic, 'tasks.max': '1' }, false), 'a connector to be created');
    const state = (through: RunningConnect, connector: string, tasks: string[]) => waitFor(async () => {
      const status = await through.herder.connectorStatus('life').catch(() => undefined);
      return status !== undefined && status.connector.state === connector && JSON.stringify(status.tasks.map((task) => task.state)) === JSON.stringify(tasks);
    }, `life to be ${connector} with tasks [${tasks.join(', ')}] seen from ${through.workerId}`, 15_000);
    const both = async (connector: string, tasks: string[]) => {
      await state(one, connector, tasks);
      await state(two, connector, tasks);
    };
    await both('RUNNING', ['RUNNING']);
    // Each change is sent to both workers in turn: one of them is not the leader and forwards it.
    for (const through of [one, two]) {
      await whenLed(() => through.herder.pauseConnector('life'), 'pause');
      await both('PAUSED', ['PAUSED']);
      await whenLed(() => through.herder.resumeConnector('life'), 'resume');
      await both('RUNNING', ['RUNNING']);
    }
    await whenLed(() => two.herder.stopConnector('life'), 'stop');
    await both('STOPPED', []);
    assert.deepEqual(await one.herder.taskConfigs('life'), [], 'a stopped connector has no tasks');
    await whenLed(() => one.herder.resumeConnector('life'), 'resume from stopped');
    await both('RUNNING', ['RUNNING']);
    const plan = await whenLed(() => two.herder.restartConnector('life', { includeTasks: true, onlyFailed: false }), 'restart');
    assert.equal(plan?.connector.state, 'RESTARTING');
    assert.deepEqual(plan?.tasks.map((task) => task.state), ['RESTARTING']);
    await both('RUNNING', ['RUNNING']);
    await whenLed(() => two.herder.deleteConnector('life'), 'delete');
    await waitFor(() => one.herder.connectors().length === 0 && two.herder.connectors().length === 0, 'both workers to forget the connector', 10_000);
    await assert.rejects(one.herder.connectorStatus('life'), (error: unknown) => error instanceof ConnectRestError && error.status === 404);
  });

  it('the REST API on distributed workers: ?expand, config/validate, topics and topics/reset, offsets GET/PATCH/DELETE', async () => {
    const group = await startGroup(2);
    workers.push(...group);
    const [one, two] = group as [RunningConnect, RunningConnect];
    /** A REST call retried while the group has no leader yet or is rebalancing (409). */
    const call = <T = any>(through: RunningConnect, method: string, path: string, body?: unknown) => waitFor(async () => {
      const answer = await rest<T>(through.url, method, path, body);
      return answer.status === 409 ? false : answer;
    }, `${method} ${path} through ${through.workerId} to be answered`, 20_000);
    const input = join(dir.path, 'rest-in.txt');
    await writeFile(input, 'one\ntwo\nthree\n');
    const size = 'one\ntwo\nthree\n'.length;
    const topic = uniqueTopic('connect-dist-rest');
    const config = { 'connector.class': 'FileStreamSource', file: input, topic, 'tasks.max': '1' };

    const validated = await call(two, 'PUT', '/connector-plugins/FileStreamSource/config/validate', { name: 'v', ...config, 'batch.size': 'lots' });
    assert.equal(validated.status, 200);
    assert.equal(validated.body.error_count, 1);
    assert.match(validated.body.configs.find((entry: { value: { name: string } }) => entry.value.name === 'batch.size').value.errors[0], /^Invalid value lots for configuration batch\.size/);
    assert.equal((await call(one, 'PUT', '/connector-plugins/FileStreamSource/config/validate', { name: 'v', ...config })).body.error_count, 0);

    assert.equal((await call(one, 'POST', '/connectors', { name: 'rest-src', config })).status, 201);
    // ?expand through the other worker, once it has read the config and the statuses.
    const expanded = await waitFor(async () => {
      const answer = await call(two, 'GET', '/connectors?expand=status&expand=info');
      return answer.body['rest-src']?.status?.tasks?.[0]?.state === 'RUNNING' ? answer.body['rest-src'] : false;
    }, 'rest-src to be listed RUNNING with ?expand through the second worker', 15_000);
    assert.deepEqual(Object.keys(expanded).sort(), ['info', 'status']);
    assert.equal(expanded.info.config.topic, topic);
    assert.equal(expanded.info.type, 'source');
    assert.equal(expanded.status.connector.state, 'RUNNING');
    assert.deepEqual(Object.keys((await call(one, 'GET', '/connectors?expand=status')).body['rest-src']), ['status']);

    // Topics: recorded in the status topic by the worker running the task, read by both.
    for (const through of [one, two]) {
      await waitFor(async () => JSON.stringify((await call(through, 'GET', '/connectors/rest-src/topics')).body) === JSON.stringify({ 'rest-src': { topics: [topic] } }), `the active topic seen through ${through.workerId}`, 15_000);
    }
    const reset = await call(two, 'PUT', '/connectors/rest-src/topics/reset');
    assert.equal(reset.status, 202);
    for (const through of [one, two]) {
      await waitFor(async () => JSON.stringify((await call(through, 'GET', '/connectors/rest-src/topics')).body) === JSON.stringify({ 'rest-src': { topics: [] } }), `the topics reset seen through ${through.workerId}`, 15_000);
    }

    // Offsets: from the offsets topic, through either worker.
    const offsetsAre = (through: RunningConnect, wanted: unknown, what: string) => waitFor(async () => {
      const answer = await call(through, 'GET', '/connectors/rest-src/offsets');
      return answer.status === 200 && JSON.stringify(answer.body) === JSON.stringify(wanted);
    }, `${what} through ${through.workerId}`, 15_000);
    for (const through of [one, two]) await offsetsAre(through, { offsets: [{ partition: { filename: input }, offset: { position: size } }] }, 'the source\'s offset');
    const change = { offsets: [{ partition: { filename: input }, offset: { position: 4 } }] };
    const notStopped = "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/rest-src/stop' endpoint";
    for (const through of [one, two]) {
      assert.deepEqual(await call(through, 'PATCH', '/connectors/rest-src/offsets', change), { status: 400, body: { error_code: 400, message: notStopped } });
      assert.deepEqual(await call(through, 'DELETE', '/connectors/rest-src/offsets'), { status: 400, body: { error_code: 400, message: notStopped } });
    }
    assert.equal((await call(one, 'PUT', '/connectors/rest-src/stop')).status, 204, 'Kafka answers stop with 204 (pause and resume with 202)');
    for (const through of [one, two]) {
      await waitFor(async () => (await call(through, 'GET', '/connectors/rest-src/status')).body.connector?.state === 'STOPPED', `STOPPED through ${through.workerId}`, 15_000);
    }
    const altered = await call(two, 'PATCH', '/connectors/rest-src/offsets', change);
    assert.deepEqual(altered, { status: 200, body: { message: 'The offsets for this connector have been altered successfully' } });
    for (const through of [one, two]) await offsetsAre(through, change, 'the altered offset');
    const deleted = await call(one, 'DELETE', '/connectors/rest-src/offsets');
    assert.deepEqual(deleted, { status: 200, body: { message: 'The offsets for this connector have been reset successfully' } });
    for (const through of [one, two]) await offsetsAre(through, { offsets: [] }, 'no offsets after the reset');
    assert.equal((await call(two, 'DELETE', '/connectors/rest-src')).status, 204);
  });

  it('sets a log level for the whole cluster (scope=cluster, KIP-976), also for a worker that joins later', async () => {
    const config = groupConfig();
    const group = await startGroup(2, config);
    workers.push(...group);
    const [first, second] = group as [RunningConnect, RunningConnect];
    const put = (url: string, path: string, body: unknown) => fetch(`${url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const levelAt = async (url: string, name: string) => ((await (await fetch(`${url}/admin/loggers/${name}`)).json()) as { level?: string }).level;
    assert.equal((await put(first.url, '/admin/loggers/connect?scope=cluster', { level: 'TRACE' })).status, 204);
    await waitFor(async () => (await levelAt(second.url, 'connect')) === 'TRACE', 'the other worker to take the level', 10_000);
    assert.equal(await levelAt(first.url, 'connect'), 'TRACE');
    // A worker scope change stays on its worker.
    assert.equal((await put(second.url, '/admin/loggers/connect', { level: 'ERROR' })).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await levelAt(first.url, 'connect'), 'TRACE');
    // A level that is not one is refused, and written nowhere.
    const refused = await put(first.url, '/admin/loggers/connect?scope=cluster', { level: 'LOUD' });
    assert.equal(refused.status, 404);
    const [third] = await startGroup(1, config);
    workers.push(third!);
    await waitFor(async () => (await levelAt(third!.url, 'connect')) === 'TRACE', 'a worker that joined later to take the cluster level', 10_000);
  });
});
