// Groups across client libraries (a common assignor works; none gets INCONSISTENT_GROUP_PROTOCOL)
// and coordinator state surviving SIGKILL of the broker process.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker } from '../../support/broker.js';
import { requireClient } from '../../support/clients.js';
import { waitFor } from '../../support/wait.js';
import { GROUP_TEST_CONFIG, createTopicAndProducer } from './group-scenario.js';
import { GroupMember, waitForCoverage } from './group-members.js';

test('mixed group: librdkafka and kafka-python share partitions through the range assignor', { timeout: 90_000 }, async (t) => {
  if (!(await requireClient(t, 'confluent-kafka-python')) || !(await requireClient(t, 'kafka-python'))) return;
  const broker = await startTestBroker(GROUP_TEST_CONFIG);
  const setup = await createTopicAndProducer(broker, 'mixed');
  const options = { bootstrapServers: broker.bootstrapServers, topic: 'mixed', groupId: 'mixed-group', sessionTimeoutMs: 6_000 };
  const members = [GroupMember.start('confluent', { ...options, assignors: 'range,roundrobin' }), GroupMember.start('kafka-python', { ...options, assignors: 'range' })];
  try {
    await waitForCoverage(members, 6, 45_000);
    const [described] = (await setup.admin.describeGroups(['mixed-group'])).groups;
    assert.equal(described!.protocol, 'range');
    assert.equal(described!.members.length, 2);
  } finally {
    for (const member of members) await member.kill();
    await setup.close();
    await broker.close();
  }
});

test('no common protocol: kafka-python joining a kafkajs group gets INCONSISTENT_GROUP_PROTOCOL', { timeout: 90_000 }, async (t) => {
  if (!(await requireClient(t, 'kafka-python'))) return;
  const broker = await startTestBroker(GROUP_TEST_CONFIG);
  const setup = await createTopicAndProducer(broker, 'split');
  const options = { bootstrapServers: broker.bootstrapServers, topic: 'split', groupId: 'split-group', sessionTimeoutMs: 6_000 };
  const kafkajs = GroupMember.start('kafkajs', options);
  let python: GroupMember | undefined;
  try {
    await waitForCoverage([kafkajs], 6, 45_000);
    python = GroupMember.start('kafka-python', { ...options, assignors: 'range' });
    const error = await waitFor('kafka-python to report the protocol mismatch', () => python!.errors.find((text) => /InconsistentGroupProtocol/i.test(text)), 45_000);
    assert.match(error, /InconsistentGroupProtocol/i);
    assert.equal(kafkajs.assignments.length, 1, 'the existing member was not disturbed');
  } finally {
    await python?.kill();
    await kafkajs.kill();
    await setup.close();
    await broker.close();
  }
});

async function startBrokerProcess(dataDir: string, port: number): Promise<{ child: ChildProcessWithoutNullStreams; bootstrapServers: string; port: number }> {
  const script = fileURLToPath(new URL('broker-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir, String(port), JSON.stringify(GROUP_TEST_CONFIG)]);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`broker process exited with ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { bootstrapServers: string; port: number }) };
}

async function killProcess(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGKILL');
  await exited;
}

test('group coordinator state survives kill -9 of the broker', { timeout: 90_000 }, async (t) => {
  if (!(await requireClient(t, 'kafkajs'))) return;
  const dataDir = await mkdtemp(join(tmpdir(), 'conveyor-groups-kill-'));
  let broker = await startBrokerProcess(dataDir, 0);
  let member: GroupMember | undefined;
  try {
    const kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 3 }] });
    await admin.setOffsets({ groupId: 'durable-group', topic: 'durable', partitions: [{ partition: 0, offset: '7' }, { partition: 2, offset: '11' }] });
    // The live member runs in its own process and is killed with the broker, so it neither leaves
    // the group first nor stays behind retrying against the stopped broker.
    member = GroupMember.start('kafkajs', { bootstrapServers: broker.bootstrapServers, topic: 'durable', groupId: 'live-group', sessionTimeoutMs: 30_000 });
    await waitForCoverage([member], 3, 45_000);
    await waitFor('live-group to be stable', async () => ((await admin.describeGroups(['live-group'])).groups[0]?.state === 'Stable' ? true : undefined), 30_000);
    await admin.disconnect();
    await member.kill();
    await killProcess(broker.child);

    broker = await startBrokerProcess(dataDir, broker.port);
    const reopened = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING }).admin();
    await reopened.connect();
    const [offsets] = await reopened.fetchOffsets({ groupId: 'durable-group', topics: ['durable'] });
    assert.deepEqual(
      offsets!.partitions.map(({ partition, offset }) => [partition, offset]).sort(),
      [
        [0, '7'],
        [1, '-1'],
        [2, '11'],
      ],
    );
    const listed = (await reopened.listGroups()).groups.map((group) => group.groupId).sort();
    assert.deepEqual(listed, ['durable-group', 'live-group']);
    await reopened.disconnect();
  } finally {
    await member?.kill();
    await killProcess(broker.child);
    await rm(dataDir, { recursive: true, force: true });
  }
});
