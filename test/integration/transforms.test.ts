// Broker transforms (`conveyor transforms`, src/broker/transforms/) against a real broker over
// TCP: records through an uppercase transform in order per partition, fan-out to two topics and
// filtering, failures that pause the transform with their error while the broker keeps serving
// (an exception, a busy loop past the time limit, a heap past the memory limit), the offsets in the
// group __transform-<name>, remove, and a broker restart that resumes from the committed offsets.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/base/config-def.js';
import { resolveBrokerConfig } from '../../src/broker/broker-config.js';
import { type TransformDeployment, transformGroupId } from '../../src/broker/transforms/transform-records.js';
import { MAX_BATCH_RECORDS } from '../../src/broker/transforms/transform-runner.js';
import { startBroker } from '../../src/index.js';
import { AdminClient } from '../../src/client/admin-client.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { type ConsumedRecord, Consumer } from '../../src/client/consumer.js';
import { fetchGroupOffsets } from '../../src/client/group-offsets.js';
import { Producer } from '../../src/client/producer.js';
import { deployTransform, describeTransforms, removeTransform, setTransformState } from '../../src/cli/transforms-command.js';
import { startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { type TestBroker, startTestBroker } from '../support/broker.js';
import { runChecked } from '../support/process.js';
import { waitFor } from '../support/wait.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function conveyor(args: string[]): [string, string[]] {
  const script = `import(${JSON.stringify(main)}).then((cli) => cli.run(['node', 'conveyor', ...process.argv.slice(1)]))`;
  return [process.execPath, ['--import', 'tsx', '--eval', script, ...args]];
}

let broker: TestBroker;
let cluster: ClusterClient;
let admin: AdminClient;
let dir: string;

before(async () => {
  broker = await startTestBroker();
  cluster = new ClusterClient(connectTcp, broker.bootstrapServers, 'transforms-test');
  admin = new AdminClient(cluster);
  dir = await mkdtemp(join(tmpdir(), 'conveyor-transforms-'));
});

after(async () => {
  cluster.close();
  await broker.close();
  await rm(dir, { recursive: true, force: true });
});

function deployment(name: string, inputTopic: string, outputTopics: string[], code: string, limits: Partial<TransformDeployment> = {}): TransformDeployment {
  return { name, inputTopic, outputTopics, code, memoryLimitMb: 64, timeoutMs: 5_000, environment: {}, createdAt: Date.now(), ...limits };
}

async function createTopics(partitions: number, ...names: string[]): Promise<void> {
  for (const name of names) await admin.createTopic(name, { partitions, replicationFactor: 1 });
}

async function produce(topic: string, records: { key: string | null; value: string; partition?: number }[], on = cluster): Promise<void> {
  const producer = new Producer(on, await new AdminClient(on).describeTopic(topic), { compression: 0, acks: -1 });
  const results = await producer.send(records.map((record) => ({ key: record.key === null ? null : Buffer.from(record.key), value: Buffer.from(record.value), headers: [], ...(record.partition === undefined ? {} : { partition: record.partition }) })));
  assert.deepEqual(results.filter((result) => result.error !== null), []);
}

/** Every record of `topic` up to its current end, per partition in offset order. */
async function readAll(topic: string, on = cluster): Promise<Map<number, ConsumedRecord[]>> {
  const client = new AdminClient(on);
  const info = await client.describeTopic(topic);
  const ends = await client.listOffsets(info, -1);
  const consumer = new Consumer(on, info, new Map(info.partitions.map(({ partition }) => [partition, 0])));
  const records = new Map(info.partitions.map(({ partition }) => [partition, [] as ConsumedRecord[]]));
  while (info.partitions.some(({ partition }) => consumer.positions.get(partition)! < ends.get(partition)!)) {
    for (const record of await consumer.poll(100)) records.get(record.partition)!.push(record);
  }
  return records;
}

const values = (records: readonly ConsumedRecord[]) => records.map((record) => record.value?.toString() ?? null);
const allValues = (partitions: Map<number, ConsumedRecord[]>) => [...partitions.values()].flatMap(values);
const count = async (topic: string, on = cluster) => allValues(await readAll(topic, on)).length;

async function stateOf(name: string): Promise<{ state: string; error: string | null; lag: number } | undefined> {
  return (await describeTransforms(admin)).find((view) => view.name === name);
}

/** Waits for the transform to be paused by a failure, and returns its error. */
async function pausedError(name: string): Promise<string> {
  return waitFor(`${name} to be paused`, async () => {
    const view = await stateOf(name);
    return view?.state === 'PAUSED' && view.error !== null ? view.error : undefined;
  });
}

/** The broker still answers produce and fetch. */
async function assertServing(topic: string): Promise<void> {
  await createTopics(1, topic);
  await produce(topic, [{ key: null, value: 'still here' }]);
  assert.deepEqual(allValues(await readAll(topic)), ['still here']);
}

test('an uppercase transform (TypeScript, deployed with the CLI) writes exactly the input records, in order per partition', { timeout: 30_000 }, async () => {
  await createTopics(3, 'upper-in', 'upper-out');
  const inputs = Array.from({ length: 60 }, (_, index) => ({ key: `k${index % 7}`, value: `record ${index}` }));
  await produce('upper-in', inputs.slice(0, 30));
  const file = join(dir, 'upper.ts');
  await writeFile(file, [
    'interface Input { key: Buffer | null; value: Buffer | null; headers: { key: string; value: Buffer | null }[] }',
    'export async function transform(record: Input): Promise<{ key: Buffer | null; value: string; headers: Input["headers"] }> {',
    '  return { key: record.key, value: record.value!.toString().toUpperCase(), headers: [...record.headers, { key: "via", value: process.env.VIA ?? "" }] };',
    '}',
  ].join('\n'));
  await runChecked(...conveyor(['transforms', 'deploy', '--name', 'upper', '--input-topic', 'upper-in', '--output-topic', 'upper-out', '--env', 'VIA=upper', file, '--bootstrap-server', broker.bootstrapServers]));
  await produce('upper-in', inputs.slice(30));
  await waitFor('60 uppercase records', async () => ((await count('upper-out')) >= 60 ? true : undefined));
  const input = await readAll('upper-in');
  const output = await readAll('upper-out');
  // Same keys and partition counts: each output partition is its input partition, uppercased.
  for (const [partition, records] of input) {
    assert.deepEqual(values(output.get(partition)!), values(records).map((value) => value!.toUpperCase()), `partition ${partition}`);
    assert.deepEqual(output.get(partition)!.map((record) => record.key?.toString()), records.map((record) => record.key?.toString()));
  }
  assert.deepEqual(output.get(0)![0]!.headers.map((header) => [header.key, header.value?.toString()]), [['via', 'upper']]);
  // The offsets are the group's: every input partition committed to its end.
  const offsets = await waitFor('the committed offsets', async () => {
    const committed = await fetchGroupOffsets(cluster, transformGroupId('upper'));
    return committed.reduce((sum, offset) => sum + offset.offset, 0) === 60 ? committed : undefined;
  });
  assert.deepEqual(offsets.map((offset) => [offset.partition, offset.offset]).sort(), [...input].map(([partition, records]) => [partition, records.length]).sort());
  assert.equal((await stateOf('upper'))?.lag, 0);
});

test('fan-out to two output topics, and records filtered out by returning null', { timeout: 30_000 }, async () => {
  await createTopics(1, 'fan-in', 'fan-a', 'fan-b');
  await deployTransform(admin, deployment('fan', 'fan-in', ['fan-a', 'fan-b'], [
    'export function transform(record) {',
    '  const value = record.value.toString();',
    '  if (value.startsWith("skip")) return null;',
    '  return [{ value }, { topic: "fan-b", key: record.key, value: `${record.topic}/${record.partition}/${record.offset}:${value.length}` }];',
    '}',
  ].join('\n')));
  await produce('fan-in', ['one', 'skip two', 'three', 'skip four', 'five'].map((value) => ({ key: 'k', value })));
  await waitFor('the fan-out', async () => ((await count('fan-b')) >= 3 ? true : undefined));
  assert.deepEqual(allValues(await readAll('fan-a')), ['one', 'three', 'five']);
  assert.deepEqual(allValues(await readAll('fan-b')), ['fan-in/0/0:3', 'fan-in/0/2:5', 'fan-in/0/4:4']);
});

test('a throwing transform is paused with its error (listed by the CLI), the broker keeps serving, and a redeploy resumes from the committed offset', { timeout: 30_000 }, async () => {
  await createTopics(1, 'throw-in', 'throw-out');
  await deployTransform(admin, deployment('thrower', 'throw-in', ['throw-out'], 'export function transform(record) { if (record.value.toString() === "bad") throw new RangeError("no bad records"); return { value: record.value }; }'));
  await produce('throw-in', [{ key: null, value: 'good 1' }]);
  await waitFor('the first record', async () => ((await count('throw-out')) === 1 ? true : undefined));
  await produce('throw-in', [{ key: null, value: 'bad' }, { key: null, value: 'good 2' }]);
  assert.equal(await pausedError('thrower'), 'transform threw at offset 1: RangeError: no bad records');
  const listed = (await runChecked(...conveyor(['transforms', 'list', '--bootstrap-server', broker.bootstrapServers]))).stdout;
  assert.match(listed, /thrower\s+throw-in\s+throw-out\s+PAUSED \(transform threw at offset 1: RangeError: no bad records\)\s+2/);
  await assertServing('throw-alive');
  // Paused: nothing more is written; the offset stays before the failed batch.
  assert.deepEqual(await fetchGroupOffsets(cluster, transformGroupId('thrower')), [{ topic: 'throw-in', partition: 0, offset: 1 }]);
  await deployTransform(admin, deployment('thrower', 'throw-in', ['throw-out'], 'export function transform(record) { return { value: record.value.toString().toUpperCase() }; }'));
  await waitFor('the records after the failure', async () => ((await count('throw-out')) === 3 ? true : undefined));
  assert.deepEqual(allValues(await readAll('throw-out')), ['good 1', 'BAD', 'GOOD 2']);
  assert.equal((await stateOf('thrower'))?.state, 'RUNNING');
});

test('invalid output pauses the transform before its batch is committed: the fixed redeploy writes every record', { timeout: 30_000 }, async () => {
  await createTopics(1, 'invalid-in', 'invalid-out');
  await deployTransform(admin, deployment('invalid', 'invalid-in', ['invalid-out'], 'export function transform(record) { const value = record.value.toString(); return value === "bad" ? { topic: "elsewhere", value } : { value }; }'));
  await produce('invalid-in', ['a', 'bad', 'c'].map((value) => ({ key: null, value })));
  assert.equal(await pausedError('invalid'), "invalid output: topic 'elsewhere' is not one of the transform's output topics (invalid-out)");
  await deployTransform(admin, deployment('invalid', 'invalid-in', ['invalid-out'], 'export function transform(record) { return { value: record.value }; }'));
  await waitFor('every record', async () => ((await count('invalid-out')) >= 3 ? true : undefined));
  assert.deepEqual(allValues(await readAll('invalid-out')), ['a', 'bad', 'c']);
});

test('a busy loop is stopped by the time limit, a heap hog by the memory limit, and pause and resume work', { timeout: 30_000 }, async () => {
  await createTopics(1, 'limits-in', 'limits-out');
  await deployTransform(admin, deployment('looper', 'limits-in', ['limits-out'], 'export function transform() { for (;;) {} }', { timeoutMs: 300 }));
  await deployTransform(admin, deployment('hog', 'limits-in', ['limits-out'], 'const kept = []; export function transform() { for (;;) kept.push(new Array(10000).fill(kept.length)); }', { memoryLimitMb: 32, timeoutMs: 20_000 }));
  await produce('limits-in', [{ key: null, value: 'x' }]);
  assert.equal(await pausedError('looper'), 'exceeded its time limit of 300 ms (a batch)');
  assert.equal(await pausedError('hog'), 'exceeded its memory limit of 32 MB');
  await assertServing('limits-alive');
  assert.equal(await count('limits-out'), 0);
  // A broker cap below the deployment's memory is an error too, and a person's pause has none.
  await deployTransform(admin, deployment('greedy', 'limits-in', ['limits-out'], 'export function transform(record) { return record; }', { memoryLimitMb: 4096 }));
  assert.equal(await pausedError('greedy'), "asks for 4096 MB of memory, more than this broker's transforms.max.memory.mb (1024)");
  await deployTransform(admin, deployment('copier', 'limits-in', ['limits-out'], 'export function transform(record) { return { value: record.value }; }'));
  await waitFor('the copy', async () => ((await count('limits-out')) === 1 ? true : undefined));
  await setTransformState(admin, 'copier', 'PAUSED');
  await waitFor('copier paused here', () => (broker.running.broker.transforms?.running().has('copier') ? undefined : true));
  assert.deepEqual(await stateOf('copier').then((view) => [view?.state, view?.error]), ['PAUSED', null]);
  await produce('limits-in', [{ key: null, value: 'y' }]);
  await setTransformState(admin, 'copier', 'RUNNING');
  await waitFor('the copy after resume', async () => ((await count('limits-out')) === 2 ? true : undefined));
});

test('remove stops a transform', { timeout: 30_000 }, async () => {
  await createTopics(1, 'remove-in', 'remove-out');
  await deployTransform(admin, deployment('removed', 'remove-in', ['remove-out'], 'export function transform(record) { return { value: record.value }; }'));
  await produce('remove-in', [{ key: null, value: 'before' }]);
  await waitFor('the record before remove', async () => ((await count('remove-out')) === 1 ? true : undefined));
  await removeTransform(admin, 'removed');
  await waitFor('the transform to stop', () => (broker.running.broker.transforms?.running().has('removed') ? undefined : true));
  assert.equal((await stateOf('removed')), undefined);
  await produce('remove-in', [{ key: null, value: 'after' }]);
  // A running transform copies within a few hundred milliseconds (the tests above): give it twice that.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.deepEqual(allValues(await readAll('remove-out')), ['before']);
});

test('a restarted broker resumes from the committed offsets: no record lost, none written twice', { timeout: 40_000 }, async () => {
  const own = await startTestBroker();
  let client = new ClusterClient(connectTcp, own.bootstrapServers, 'transforms-restart');
  try {
    const ownAdmin = new AdminClient(client);
    for (const name of ['restart-in', 'restart-out']) await ownAdmin.createTopic(name, { partitions: 2, replicationFactor: 1 });
    await deployTransform(ownAdmin, deployment('survivor', 'restart-in', ['restart-out'], 'export function transform(record) { return { key: record.key, value: `${record.value}!` }; }'));
    const inputs = Array.from({ length: 400 }, (_, index) => ({ key: `k${index % 5}`, value: String(index) }));
    await produce('restart-in', inputs.slice(0, 200), client);
    await waitFor('the first half', async () => ((await count('restart-out', client)) === 200 ? true : undefined));
    client.close();
    await own.restart();
    client = new ClusterClient(connectTcp, own.bootstrapServers, 'transforms-restart-2');
    await produce('restart-in', inputs.slice(200), client);
    await waitFor('every record', async () => ((await count('restart-out', client)) >= 400 ? true : undefined));
    const input = await readAll('restart-in', client);
    const output = await readAll('restart-out', client);
    for (const [partition, records] of input) {
      const expected = values(records).map((value) => `${value}!`);
      const got = values(output.get(partition)!);
      // At-least-once allows the last uncommitted batch again; a clean close commits it, so none.
      assert.deepEqual(got, expected, `partition ${partition}`);
    }
    // The outputs are acknowledged before the offsets are committed: the commit follows.
    await waitFor('the offsets committed to the end', async () => ((await fetchGroupOffsets(client, transformGroupId('survivor'))).reduce((sum, offset) => sum + offset.offset, 0) === 400 ? true : undefined));
  } finally {
    client.close();
    await own.close();
  }
});

test('a broker that crashes mid-batch redoes at most the uncommitted batch after its restart', { timeout: 40_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'conveyor-transforms-crash-'));
  const start = () => startBroker({ port: 0, dataDir, storage: 'disk' });
  let running = await start();
  let client = new ClusterClient(connectTcp, running.bootstrapServers, 'transforms-crash');
  try {
    const ownAdmin = new AdminClient(client);
    for (const name of ['crash-in', 'crash-out']) await ownAdmin.createTopic(name, { partitions: 1, replicationFactor: 1 });
    // Slow enough (about 1 ms a record) that the crash finds a batch on its way.
    await deployTransform(ownAdmin, deployment('crasher', 'crash-in', ['crash-out'], 'export async function transform(record) { await new Promise((resolve) => setTimeout(resolve, 1)); return { value: record.value }; }'));
    const inputs = Array.from({ length: 1500 }, (_, index) => ({ key: null, value: String(index) }));
    await produce('crash-in', inputs, client);
    // A committed batch first (the group's first commit waits for __consumer_offsets to be created).
    await waitFor('a committed batch', async () => ((await fetchGroupOffsets(client, transformGroupId('crasher')))[0]?.offset ?? 0) >= MAX_BATCH_RECORDS ? true : undefined);
    client.close();
    await running.broker.halt();
    running = await start();
    client = new ClusterClient(connectTcp, running.bootstrapServers, 'transforms-crash-2');
    await waitFor('the offsets committed to the end', async () => ((await fetchGroupOffsets(client, transformGroupId('crasher')))[0]?.offset === 1500 ? true : undefined), 30_000);
    const expected = inputs.map((input) => input.value);
    const got = allValues(await readAll('crash-out', client));
    // got = expected[0, written) then expected[committed, end): the batch written but not committed comes again.
    let written = 0;
    while (written < got.length && got[written] === expected[written]) written++;
    const committed = expected.length - (got.length - written);
    assert.deepEqual(got.slice(written), expected.slice(committed), 'after the restart: everything from the committed offset');
    assert.ok(committed <= written && written - committed <= MAX_BATCH_RECORDS, `redone ${written - committed} records: more than one batch`);
  } finally {
    client.close();
    await running.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('in a cluster each broker runs the partitions it leads, and a new leader takes over after a broker stops', { timeout: 40_000 }, async () => {
  const nodes = await startCluster({ brokers: 3 });
  let client: ClusterClient | undefined;
  try {
    await waitFor('three registered brokers', () => (nodes.nodeIds.every((id) => nodes.node(id).broker?.services.image.brokers.size === 3) ? true : undefined), 15_000);
    const first = new ClusterClient(connectTcp, nodes.node(1).bootstrapServer, 'transforms-cluster');
    client = first;
    const clusterAdmin = new AdminClient(first);
    for (const name of ['cluster-in', 'cluster-out']) await clusterAdmin.createTopic(name, { partitions: 3, replicationFactor: 3 });
    await deployTransform(clusterAdmin, deployment('spread', 'cluster-in', ['cluster-out'], 'export function transform(record) { return { key: record.key, value: `${record.value}!` }; }'));
    const inputs = Array.from({ length: 60 }, (_, index) => ({ key: `k${index % 9}`, value: String(index) }));
    await produce('cluster-in', inputs.slice(0, 30), first);
    await waitFor('the first half', async () => ((await count('cluster-out', first)) >= 30 ? true : undefined), 15_000);
    const leaders = (await clusterAdmin.describeTopic('cluster-in')).partitions.map((info) => info.leader);
    // Every broker runs exactly the input partitions it leads.
    for (const id of nodes.nodeIds) {
      const led = leaders.flatMap((leader, partition) => (leader === id ? [partition] : []));
      assert.deepEqual(nodes.node(id).broker!.transforms?.running().get('spread') ?? [], led, `broker ${id}`);
    }
    const leaving = leaders[0]!;
    const staying = nodes.nodeIds.find((id) => id !== leaving)!;
    first.close();
    client = new ClusterClient(connectTcp, nodes.node(staying).bootstrapServer, 'transforms-cluster-2');
    await nodes.stop(leaving);
    const after = client;
    // The staying broker may still name the stopped one as a leader for a moment: resend what failed.
    let pending = inputs.slice(30);
    await waitFor('the second half produced', async () => {
      const producer = new Producer(after, await new AdminClient(after).describeTopic('cluster-in'), { compression: 0, acks: -1 });
      const results = await producer.send(pending.map((record) => ({ key: Buffer.from(record.key), value: Buffer.from(record.value), headers: [] })));
      pending = pending.filter((_, index) => results[index]!.error !== null);
      return pending.length === 0 ? true : undefined;
    }, 20_000, 200);
    await waitFor('every record after the stop', async () => ((await count('cluster-out', after)) >= 60 ? true : undefined), 20_000);
    const output = allValues(await readAll('cluster-out', client));
    assert.deepEqual([...new Set(output)].sort(), inputs.map((input) => `${input.value}!`).sort());
    assert.ok(output.length - new Set(output).size <= MAX_BATCH_RECORDS, 'at most one batch per partition redone');
    const partition0 = await waitFor('partition 0 run by its new leader', async () => {
      const leader = (await new AdminClient(after).describeTopic('cluster-in')).partitions[0]!.leader;
      return nodes.node(leader).broker?.transforms?.running().get('spread')?.includes(0) ? leader : undefined;
    });
    assert.notEqual(partition0, leaving);
  } finally {
    client?.close();
    await nodes.close();
  }
});

test('transforms.max.memory.mb is checked, naming the key; transforms.enabled=false runs none', async () => {
  assert.throws(() => resolveBrokerConfig(new Map([['transforms.max.memory.mb', '8']])), (error: unknown) => error instanceof ConfigError && /transforms\.max\.memory\.mb/.test(error.message));
  const off = await startBroker({ port: 0, storage: 'memory', config: { 'transforms.enabled': false } });
  try {
    assert.equal(off.broker.transforms, undefined);
  } finally {
    await off.close();
  }
});
