// Each `conveyor` tool end to end against an in-process broker: the CLI runs from source as a child
// process (tools-entry.ts, the tools without the broker's modules, for quicker starts; the full
// CLI through test/support/crash-cli-entry.ts for the missing-broker case) over TCP. Covers topics
// create/list/describe/alter/delete, configs describe/alter for topics and brokers, produce from
// stdin and from a file (keys, headers, partition, compression, failures in the exit status),
// consume (from the beginning, offset, time, partition, group, --format, --json), cluster describe,
// records delete, --json everywhere, and the error for a missing broker.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic } from '../integration/helpers.js';
import { type ProcessResult, runProcess } from '../support/process.js';

const toolsEntry = fileURLToPath(new URL('./tools-entry.ts', import.meta.url));
const fullEntry = fileURLToPath(new URL('../support/crash-cli-entry.ts', import.meta.url));

let broker: TestBroker;
let server: string[];

async function conveyor(args: string[], input = '', entry = toolsEntry): Promise<ProcessResult> {
  return runProcess(process.execPath, ['--import', 'tsx', entry, ...args], { input, timeoutMs: 30_000 });
}

async function ok(args: string[], input = ''): Promise<ProcessResult> {
  const result = await conveyor([...args, ...server], input);
  assert.equal(result.code, 0, `conveyor ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

async function json<T = any>(args: string[], input = ''): Promise<T> {
  return JSON.parse((await ok([...args, '--json'], input)).stdout) as T;
}

function lines(result: ProcessResult): string[] {
  return result.stdout.split('\n').filter((line) => line !== '');
}

// Each case runs the CLI a dozen times (a process with tsx each): on a loaded CI machine the seven
// took over 120 s together, so the suite's limit is generous; the cases have their own.
describe('conveyor tools', { timeout: 300_000, concurrency: 2 }, () => {
  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    server = ['--bootstrap-server', `${broker.running.host}:${broker.running.port}`];
  });
  after(() => broker.close());

  it('topics create, list, describe, alter and delete', async () => {
    const topic = uniqueTopic('cli-topics');
    assert.match((await ok(['topics', 'create', '--topic', topic, '--partitions', '3', '--config', 'retention.ms=3600000'])).stdout, /created/);
    const again = await conveyor(['topics', 'create', topic, ...server]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /TOPIC_ALREADY_EXISTS/);
    await ok(['topics', 'create', topic, '--if-not-exists']);
    assert.ok((await json<{ name: string }[]>(['topics', 'list'])).some((entry) => entry.name === topic));
    assert.match((await ok(['topics', 'list'])).stdout, new RegExp(`${topic}\\s+3`));
    const described = await json(['topics', 'describe', topic]);
    assert.equal(described.partitions.length, 3);
    assert.deepEqual(described.configs, { 'retention.ms': '3600000' });
    assert.equal(described.partitions[0].leader, broker.running.nodeId);
    assert.match((await ok(['topics', 'describe', '--topic', topic])).stdout, /PARTITION\s+LEADER\s+REPLICAS\s+ISR\s+EARLIEST\s+LATEST/);
    await ok(['topics', 'alter', topic, '--partitions', '5', '--config', 'segment.ms=60000']);
    const altered = await json(['topics', 'describe', topic]);
    assert.equal(altered.partitions.length, 5);
    assert.equal(altered.configs['segment.ms'], '60000');
    await ok(['topics', 'delete', topic]);
    const missing = await conveyor(['topics', 'describe', topic, ...server]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /UNKNOWN_TOPIC_OR_PARTITION/);
    await ok(['topics', 'delete', topic, '--if-exists']);
  });

  it('configs describe and alter for topics, a broker and the broker defaults', async () => {
    const topic = uniqueTopic('cli-configs');
    await ok(['topics', 'create', topic]);
    assert.match((await ok(['configs', 'describe', '--topic', topic])).stdout, /No dynamic configs/);
    await ok(['configs', 'alter', '--entity-type', 'topics', '--entity-name', topic, '--add-config', 'retention.ms=1000,cleanup.policy=[compact,delete]']);
    const overrides = await json<{ name: string; value: string }[]>(['configs', 'describe', '--topic', topic]);
    assert.deepEqual(overrides.map(({ name, value }) => [name, value]).sort(), [['cleanup.policy', 'compact,delete'], ['retention.ms', '1000']]);
    await ok(['configs', 'alter', '--topic', topic, '--delete-config', 'retention.ms']);
    const all = await json<{ name: string; source: string }[]>(['configs', 'describe', '--topic', topic, '--all']);
    assert.equal(all.find((entry) => entry.name === 'retention.ms')?.source, 'DEFAULT_CONFIG');
    assert.match((await ok(['configs', 'describe', '--topic', topic, '--all'])).stdout, /SOURCE/);
    const bad = await conveyor(['configs', 'alter', '--topic', topic, '--add-config', 'retention.ms=soon', ...server]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INVALID_CONFIG.*retention\.ms/);
    const nodeId = String(broker.running.nodeId);
    await ok(['configs', 'alter', '--broker-defaults', '--add-config', 'log.retention.ms=7200000']);
    await ok(['configs', 'alter', '--entity-type', 'brokers', '--entity-name', nodeId, '--add-config', 'log.segment.bytes=2000000']);
    const brokerOverrides = await json<{ name: string; value: string }[]>(['configs', 'describe', '--broker', nodeId]);
    assert.deepEqual(brokerOverrides.map(({ name }) => name), ['log.segment.bytes']);
    const defaults = await json<{ name: string; value: string }[]>(['configs', 'describe', '--entity-type', 'brokers', '--entity-default']);
    assert.deepEqual(defaults.map(({ name, value }) => [name, value]), [['log.retention.ms', '7200000']]);
    await ok(['configs', 'alter', '--broker-defaults', '--delete-config', 'log.retention.ms']);
    await ok(['configs', 'alter', '--broker', nodeId, '--delete-config', 'log.segment.bytes']);
  });

  it('produce from stdin with keys and headers, consume with --format, --json, --offset, --partition and --from-time', async () => {
    const topic = uniqueTopic('cli-produce');
    await ok(['topics', 'create', topic, '--partitions', '2']);
    const startedAt = Date.now();
    const produced = await json(['produce', topic, '--key-separator', ':', '--header', 'source=cli', '--header', 'n=1'], 'k1:one\nk2:two\nk3:three\nk4:four\n');
    assert.deepEqual(produced, { topic, produced: 4, failed: 0 });
    const formatted = lines(await ok(['consume', topic, '--from-beginning', '--max-messages', '4', '--format', '{key}={value} p{partition}@{offset} [{headers}] {timestamp}']));
    assert.equal(formatted.length, 4);
    assert.deepEqual(formatted.map((line) => line.split(' ')[0]).sort(), ['k1=one', 'k2=two', 'k3=three', 'k4=four']);
    assert.ok(formatted.every((line) => line.includes('[source=cli,n=1]')));
    const records = lines(await ok(['consume', topic, '--from-beginning', '--max-messages', '4', '--json'])).map((line) => JSON.parse(line));
    assert.ok(records.every((record) => record.topic === topic && record.headers.source === 'cli' && record.timestamp >= startedAt - 1000));
    const first = records.find((record) => record.key === 'k1');
    const fromOffset = lines(await ok(['consume', topic, '--partition', String(first.partition), '--offset', String(first.offset), '--max-messages', '1']));
    assert.deepEqual(fromOffset, ['one']);
    const fromTime = lines(await ok(['consume', topic, '--from-time', new Date(startedAt - 60_000).toISOString(), '--max-messages', '4', '--timeout-ms', '5000']));
    assert.equal(fromTime.length, 4);
    const fromLatest = await ok(['consume', topic, '--timeout-ms', '300']);
    assert.deepEqual(lines(fromLatest), []);
    assert.match(fromLatest.stderr, /consumed 0 record/);

    // --null-marker: a value (or key) equal to it is a null, so a tombstone can be produced.
    const tombstones = uniqueTopic('cli-tombstones');
    await ok(['topics', 'create', tombstones, '--partitions', '1']);
    assert.deepEqual(await json(['produce', tombstones, '--key-separator', ':', '--null-marker', 'NULL'], 'k1:one\nk1:NULL\nNULL:keyless\nk2:\n'), { topic: tombstones, produced: 4, failed: 0 });
    const read = lines(await ok(['consume', tombstones, '--from-beginning', '--max-messages', '4', '--json'])).map((line) => JSON.parse(line));
    assert.deepEqual(read.map((record) => [record.key, record.value]), [['k1', 'one'], ['k1', null], [null, 'keyless'], ['k2', '']]);
  });

  it('produce a file to one partition with compression; failures give a non-zero exit status', async () => {
    const topic = uniqueTopic('cli-file');
    await ok(['topics', 'create', topic, '--partitions', '3']);
    const dir = await temporaryDirectory();
    try {
      const file = join(dir.path, 'lines.txt');
      await writeFile(file, `${Array.from({ length: 2500 }, (_, index) => `line-${index}`).join('\n')}\n`);
      assert.deepEqual(await json(['produce', topic, '--file', file, '--partition', '2', '--compression', 'gzip']), { topic, produced: 2500, failed: 0 });
      const described = await json(['topics', 'describe', topic]);
      assert.deepEqual(described.partitions.map((partition: { latestOffset: number }) => partition.latestOffset), [0, 0, 2500]);
      const consumed = lines(await ok(['consume', topic, '--partition', '2', '--offset', 'earliest', '--max-messages', '2500']));
      assert.equal(consumed.length, 2500);
      assert.equal(consumed[2499], 'line-2499');
    } finally {
      await dir.remove();
    }
    const small = uniqueTopic('cli-small');
    await ok(['topics', 'create', small, '--config', 'max.message.bytes=100']);
    const failed = await conveyor(['produce', small, ...server], `${'x'.repeat(300)}\n`);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /MESSAGE_TOO_LARGE/);
    assert.match(failed.stdout, /1 failed/);
  });

  it('consume --group commits offsets and resumes where the group stopped', async () => {
    const topic = uniqueTopic('cli-group');
    const group = uniqueTopic('cli-group-id');
    await ok(['topics', 'create', topic, '--partitions', '2']);
    await ok(['produce', topic], 'a\nb\nc\nd\n');
    const firstRun = lines(await ok(['consume', topic, '--group', group, '--from-beginning', '--max-messages', '4', '--timeout-ms', '10000']));
    assert.deepEqual(firstRun.sort(), ['a', 'b', 'c', 'd']);
    await ok(['produce', topic], 'e\n');
    const secondRun = lines(await ok(['consume', topic, '--group', group, '--from-beginning', '--max-messages', '1', '--timeout-ms', '10000']));
    assert.deepEqual(secondRun, ['e']);
  });

  it('cluster describe and records delete', async () => {
    const cluster = await json(['cluster', 'describe']);
    assert.equal(cluster.clusterId, broker.running.clusterId);
    assert.equal(cluster.controllerId, broker.running.nodeId);
    assert.deepEqual(cluster.brokers.map((entry: { nodeId: number; port: number }) => [entry.nodeId, entry.port]), [[broker.running.nodeId, broker.running.port]]);
    assert.match((await ok(['cluster', 'describe'])).stdout, /Cluster id: /);
    const topic = uniqueTopic('cli-records');
    await ok(['topics', 'create', topic]);
    await ok(['produce', topic], 'a\nb\nc\nd\n');
    assert.deepEqual(await json(['records', 'delete', '--topic', topic, '--partition', '0', '--offset', '2']), { topic, partition: 0, lowWatermark: 2 });
    assert.deepEqual(lines(await ok(['consume', topic, '--from-beginning', '--max-messages', '2'])), ['c', 'd']);
    const beyond = await conveyor(['records', 'delete', '--topic', topic, '--partition', '0', '--offset', '99', ...server]);
    assert.equal(beyond.code, 1);
    assert.match(beyond.stderr, /OFFSET_OUT_OF_RANGE/);
  });

  it('says how to start a broker when none answers', async () => {
    const result = await conveyor(['topics', 'list', '--bootstrap-server', 'localhost:1'], '', fullEntry);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no broker at localhost:1: is it running\? start one with npm start/);
  });
});
