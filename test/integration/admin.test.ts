// Admin APIs over TCP: CreateTopics (validate_only, configs, INVALID_CONFIG naming the key,
// duplicates, TOPIC_ALREADY_EXISTS), DeleteTopics by name and by id with the log directory removed
// from disk, CreatePartitions (grow, refuse to shrink, new partitions usable) and DescribeCluster.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { CreatePartitionsApi, CreateTopicsApi, DeleteTopicsApi, DescribeClusterApi, ZERO_UUID } from '../../src/protocol/messages/index.js';
import type { RawClient } from '../support/raw-client.js';
import {
  type TestBroker,
  batchOf,
  createTopic,
  createTopics,
  decodeBatches,
  fetchPartition,
  metadata,
  produce,
  produceOk,
  startTestBroker,
  temporaryDirectory,
  uniqueTopic,
  valuesOf,
  waitFor,
} from './helpers.js';

async function topicExists(client: RawClient, name: string): Promise<boolean> {
  const response = await metadata(client, [name]);
  return response.topics[0]?.errorCode === ErrorCode.NONE;
}

describe('CreateTopics', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  it('creates a topic and describes it (v7: topic id, partitions, replication factor, configs)', async () => {
    const name = uniqueTopic('created');
    const response = await createTopics(broker.client, [{ name, numPartitions: 4, configs: { 'retention.ms': '3600000', 'cleanup.policy': 'compact' } }]);
    const result = response.topics[0]!;
    assert.equal(result.errorCode, ErrorCode.NONE, result.errorMessage ?? '');
    assert.notEqual(result.topicId, ZERO_UUID);
    assert.equal(result.numPartitions, 4);
    assert.equal(result.replicationFactor, 1);
    const configs = new Map((result.configs ?? []).map((entry) => [entry.name, entry.value]));
    assert.equal(configs.get('retention.ms'), '3600000');
    assert.equal(configs.get('cleanup.policy'), 'compact');
    const described = await metadata(broker.client, [name]);
    assert.equal(described.topics[0]?.topicId, result.topicId);
    assert.equal(described.topics[0]?.partitions.length, 4);
  });

  for (const version of [0, 1, 3, 4, 5]) {
    it(`v${version} creates a topic`, async () => {
      const name = uniqueTopic(`v${version}`);
      const response = await createTopics(broker.client, [{ name, numPartitions: 2 }], { version });
      assert.equal(response.topics[0]?.errorCode, ErrorCode.NONE);
      assert.ok(await topicExists(broker.client, name));
    });
  }

  it('validate_only checks without creating', async () => {
    const name = uniqueTopic('dry-run');
    const response = await createTopics(broker.client, [{ name, numPartitions: 3, configs: { 'retention.ms': '1000' } }], { validateOnly: true });
    assert.equal(response.topics[0]?.errorCode, ErrorCode.NONE);
    assert.equal(response.topics[0]?.numPartitions, 3);
    assert.equal(await topicExists(broker.client, name), false);
    const invalid = await createTopics(broker.client, [{ name, configs: { 'retention.ms': 'soon' } }], { validateOnly: true });
    assert.equal(invalid.topics[0]?.errorCode, ErrorCode.INVALID_CONFIG);
  });

  it('refuses bad configs with INVALID_CONFIG and a message naming the key', async () => {
    const cases: Record<string, string>[] = [{ 'retention.ms': 'soon' }, { 'cleanup.policy': 'shred' }, { 'no.such.topic.config': '1' }, { 'min.insync.replicas': '0' }];
    for (const configs of cases) {
      const name = uniqueTopic('bad-config');
      const [key] = Object.keys(configs);
      const response = await createTopics(broker.client, [{ name, configs }]);
      assert.equal(response.topics[0]?.errorCode, ErrorCode.INVALID_CONFIG, `config ${key}`);
      assert.match(response.topics[0]?.errorMessage ?? '', new RegExp(key!.replaceAll('.', '\\.')), `the message names ${key}`);
      assert.equal(await topicExists(broker.client, name), false);
    }
  });

  it('refuses a name given twice in one request, and creates neither', async () => {
    const name = uniqueTopic('twice');
    const other = uniqueTopic('alone');
    const response = await createTopics(broker.client, [{ name }, { name: other }, { name }]);
    const byName = response.topics.filter((topic) => topic.name === name);
    assert.ok(byName.length >= 1);
    for (const entry of byName) assert.equal(entry.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(response.topics.find((topic) => topic.name === other)?.errorCode, ErrorCode.NONE);
    assert.equal(await topicExists(broker.client, name), false);
  });

  it('answers TOPIC_ALREADY_EXISTS for an existing topic and leaves it alone', async () => {
    const name = uniqueTopic('exists');
    await createTopic(broker.client, name, 2);
    const response = await createTopics(broker.client, [{ name, numPartitions: 5 }]);
    assert.equal(response.topics[0]?.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
    assert.equal((await metadata(broker.client, [name])).topics[0]?.partitions.length, 2);
  });

  it('refuses illegal names, partition counts and replication factors', async () => {
    const illegal = await createTopics(broker.client, [{ name: 'has space' }]);
    assert.equal(illegal.topics[0]?.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    const zeroPartitions = await createTopics(broker.client, [{ name: uniqueTopic('zero'), numPartitions: 0 }]);
    assert.equal(zeroPartitions.topics[0]?.errorCode, ErrorCode.INVALID_PARTITIONS);
    const name = uniqueTopic('rf3');
    const tooManyReplicas = await broker.client.request(CreateTopicsApi, 7, {
      topics: [{ name, numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    assert.equal(tooManyReplicas.topics[0]?.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  });
});

describe('DeleteTopics', () => {
  let broker: TestBroker;
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
  before(async () => {
    directory = await temporaryDirectory();
    broker = await startTestBroker({ storage: 'disk', dataDir: directory.path });
  });
  after(async () => {
    await broker.close();
    await directory.remove();
  });

  async function logDirectories(topic: string): Promise<string[]> {
    return (await readdir(directory.path)).filter((entry) => entry.startsWith(`${topic}-`));
  }

  async function assertDeletedFromDisk(topic: string): Promise<void> {
    await waitFor(async () => (await logDirectories(topic)).length === 0, `log directories of ${topic} to disappear`);
  }

  for (const version of [1, 3, 5]) {
    it(`v${version} deletes by name and removes the log directories`, async () => {
      const name = uniqueTopic(`delete-v${version}`);
      await createTopic(broker.client, name, 2);
      await produceOk(broker.client, name, 0, batchOf(['doomed']));
      assert.deepEqual((await logDirectories(name)).sort(), [`${name}-0`, `${name}-1`]);
      const response = await broker.client.request(DeleteTopicsApi, version, { topicNames: [name], timeoutMs: 5000 });
      assert.deepEqual(
        response.responses.map((entry) => [entry.name, entry.errorCode]),
        [[name, ErrorCode.NONE]],
      );
      assert.equal(await topicExists(broker.client, name), false);
      const produced = await produce(broker.client, name, 0, batchOf(['late']));
      assert.equal(produced.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      await assertDeletedFromDisk(name);
    });
  }

  it('v6 deletes by topic id and by name; unknown ids and names get errors', async () => {
    const byId = uniqueTopic('by-id');
    const byName = uniqueTopic('by-name');
    await createTopic(broker.client, byId);
    await createTopic(broker.client, byName);
    const topicId = (await metadata(broker.client, [byId])).topics[0]!.topicId!;
    const unknownId = 'AAAAAAAAAAAAAAAAAAAAAQ';
    const missing = uniqueTopic('never-was');
    const response = await broker.client.request(DeleteTopicsApi, 6, {
      topics: [
        { name: null, topicId },
        { name: byName, topicId: ZERO_UUID },
        { name: null, topicId: unknownId },
        { name: missing, topicId: ZERO_UUID },
      ],
      timeoutMs: 5000,
    });
    const [first, second, third, fourth] = response.responses;
    assert.deepEqual([first?.errorCode, first?.topicId, first?.name], [ErrorCode.NONE, topicId, byId]);
    assert.deepEqual([second?.errorCode, second?.name], [ErrorCode.NONE, byName]);
    assert.equal(third?.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
    assert.equal(fourth?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(await topicExists(broker.client, byId), false);
    assert.equal(await topicExists(broker.client, byName), false);
    await assertDeletedFromDisk(byId);
    await assertDeletedFromDisk(byName);
  });

  it('a topic re-created under a deleted name starts empty with a new id', async () => {
    const name = uniqueTopic('reborn');
    await createTopic(broker.client, name);
    await produceOk(broker.client, name, 0, batchOf(['old life']));
    const oldId = (await metadata(broker.client, [name])).topics[0]!.topicId;
    await broker.client.request(DeleteTopicsApi, 6, { topics: [{ name, topicId: ZERO_UUID }], timeoutMs: 5000 });
    await createTopic(broker.client, name);
    const newId = (await metadata(broker.client, [name])).topics[0]!.topicId;
    assert.notEqual(newId, oldId);
    const data = await fetchPartition(broker.client, name, 0, 0);
    assert.equal(data.highWatermark, 0n);
    await produceOk(broker.client, name, 0, batchOf(['new life']));
    assert.deepEqual(valuesOf(decodeBatches((await fetchPartition(broker.client, name, 0, 0)).records)), ['new life']);
  });
});

describe('CreatePartitions', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  async function createPartitions(name: string, count: number, version = 3, validateOnly = false) {
    const response = await broker.client.request(CreatePartitionsApi, version, { topics: [{ name, count, assignments: null }], timeoutMs: 5000, validateOnly });
    return response.results[0]!;
  }

  it('grows a topic; the new partitions take produce and fetch', async () => {
    const name = uniqueTopic('grow');
    await createTopic(broker.client, name, 1);
    await produceOk(broker.client, name, 0, batchOf(['p0']));
    const result = await createPartitions(name, 3);
    assert.equal(result.errorCode, ErrorCode.NONE, result.errorMessage ?? '');
    const described = await metadata(broker.client, [name]);
    assert.deepEqual(described.topics[0]?.partitions.map((partition) => [partition.partitionIndex, partition.leaderId]), [
      [0, broker.running.nodeId],
      [1, broker.running.nodeId],
      [2, broker.running.nodeId],
    ]);
    await produceOk(broker.client, name, 2, batchOf(['p2']));
    assert.deepEqual(valuesOf(decodeBatches((await fetchPartition(broker.client, name, 2, 0)).records)), ['p2']);
    assert.deepEqual(valuesOf(decodeBatches((await fetchPartition(broker.client, name, 0, 0)).records)), ['p0']);
  });

  it('refuses to shrink or keep the count with INVALID_PARTITIONS', async () => {
    const name = uniqueTopic('shrink');
    await createTopic(broker.client, name, 3);
    assert.equal((await createPartitions(name, 2)).errorCode, ErrorCode.INVALID_PARTITIONS);
    assert.equal((await createPartitions(name, 3, 0)).errorCode, ErrorCode.INVALID_PARTITIONS);
    assert.equal((await metadata(broker.client, [name])).topics[0]?.partitions.length, 3);
  });

  it('validate_only changes nothing; unknown topics get UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const name = uniqueTopic('dry-grow');
    await createTopic(broker.client, name, 1);
    assert.equal((await createPartitions(name, 4, 1, true)).errorCode, ErrorCode.NONE);
    assert.equal((await metadata(broker.client, [name])).topics[0]?.partitions.length, 1);
    assert.equal((await createPartitions(uniqueTopic('ghost'), 2)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

describe('DescribeCluster', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  for (const version of [0, 1]) {
    it(`v${version} describes this broker as the cluster and its controller`, async () => {
      const response = await broker.client.request(DescribeClusterApi, version, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      assert.equal(response.errorCode, ErrorCode.NONE);
      assert.equal(response.clusterId, broker.running.clusterId);
      assert.equal(response.controllerId, broker.running.nodeId);
      assert.deepEqual(
        response.brokers.map(({ brokerId, host, port }) => ({ brokerId, host, port })),
        [{ brokerId: broker.running.nodeId, host: broker.running.host, port: broker.running.port }],
      );
    });
  }
});
