// Metadata over TCP: all-topics requests per version, auto-creation rules (request flag and the
// broker's auto.create.topics.enable), controller and cluster id, topic ids (non-zero, stable across
// a restart on disk) and INVALID_TOPIC_EXCEPTION for illegal names.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { MetadataApi, type MetadataResponse, ZERO_UUID } from '../../src/protocol/messages/index.js';
import { type TestBroker, createTopic, metadata, startTestBroker, temporaryDirectory, uniqueTopic } from './helpers.js';

function topicNames(response: MetadataResponse): string[] {
  return response.topics.map((topic) => topic.name ?? '<null>').sort();
}

describe('Metadata', () => {
  let broker: TestBroker;
  const alpha = uniqueTopic('alpha');
  const beta = uniqueTopic('beta');
  before(async () => {
    broker = await startTestBroker({ config: { 'num.partitions': 2 } });
    await createTopic(broker.client, alpha, 3);
    await createTopic(broker.client, beta, 1);
  });
  after(async () => {
    await broker.close();
  });

  it('v0 with an empty topic list returns every topic', async () => {
    const response = await broker.client.request(MetadataApi, 0, { topics: [] });
    assert.deepEqual(
      topicNames(response).filter((name) => name === alpha || name === beta),
      [alpha, beta].sort(),
    );
    const described = response.topics.find((topic) => topic.name === alpha);
    assert.equal(described?.partitions.length, 3);
  });

  for (const version of [1, 4, 9, 12]) {
    it(`v${version} with a null topic list returns every topic, with an empty list none`, async () => {
      const all = await broker.client.request(MetadataApi, version, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      assert.ok(topicNames(all).includes(alpha) && topicNames(all).includes(beta));
      const none = await broker.client.request(MetadataApi, version, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      assert.deepEqual(none.topics, []);
      assert.ok(none.brokers.length >= 1);
    });
  }

  it('describes partitions with this broker as leader, sorted, with a stable leader epoch', async () => {
    const response = await metadata(broker.client, [alpha]);
    const topic = response.topics[0];
    assert.equal(topic?.errorCode, ErrorCode.NONE);
    assert.deepEqual(topic?.partitions.map((partition) => partition.partitionIndex), [0, 1, 2]);
    for (const partition of topic?.partitions ?? []) {
      assert.equal(partition.leaderId, broker.running.nodeId);
      assert.deepEqual(partition.replicaNodes, [broker.running.nodeId]);
      assert.deepEqual(partition.isrNodes, [broker.running.nodeId]);
      assert.ok((partition.leaderEpoch ?? -1) >= 0);
    }
  });

  it('reports a controller id that is a broker in the list, and the cluster id', async () => {
    for (const version of [1, 2, 6, 12]) {
      const response = await broker.client.request(MetadataApi, version, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      const ids = response.brokers.map((entry) => entry.nodeId);
      assert.ok(ids.includes(response.controllerId ?? -1), `v${version}: controller ${response.controllerId} is one of ${ids}`);
      const self = response.brokers.find((entry) => entry.nodeId === broker.running.nodeId);
      assert.equal(self?.port, broker.running.port);
      assert.equal(self?.host, broker.running.host);
      if (version >= 2) assert.equal(response.clusterId, broker.running.clusterId);
    }
  });

  it('returns non-zero topic ids (v10+) and finds topics by id (v12)', async () => {
    const response = await metadata(broker.client, [alpha, beta]);
    const ids = response.topics.map((topic) => topic.topicId);
    for (const id of ids) assert.ok(id && id !== ZERO_UUID, `topic id ${id} is not zero`);
    assert.notEqual(ids[0], ids[1]);
    const byId = await broker.client.request(MetadataApi, 12, {
      topics: [{ topicId: ids[0]!, name: null }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    assert.equal(byId.topics[0]?.name, alpha);
  });

  it('creates a missing topic when v4+ allows it, with num.partitions partitions', async () => {
    const name = uniqueTopic('auto');
    const response = await metadata(broker.client, [name], 12, true);
    assert.equal(response.topics[0]?.errorCode, ErrorCode.NONE);
    assert.equal(response.topics[0]?.partitions.length, 2);
    const again = await metadata(broker.client, [name], 12, false);
    assert.equal(again.topics[0]?.errorCode, ErrorCode.NONE);
  });

  it('does not create a missing topic when the v4+ flag is false', async () => {
    const name = uniqueTopic('no-auto');
    const response = await metadata(broker.client, [name], 4, false);
    assert.equal(response.topics[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const all = await metadata(broker.client, null);
    assert.ok(!topicNames(all).includes(name));
  });

  it('creates a missing topic for v1-3, which carry no flag', async () => {
    const name = uniqueTopic('auto-v1');
    const response = await broker.client.request(MetadataApi, 1, { topics: [{ name }] });
    assert.equal(response.topics[0]?.errorCode, ErrorCode.NONE);
    assert.equal(response.topics[0]?.partitions.length, 2);
  });

  it('answers INVALID_TOPIC_EXCEPTION for illegal names and creates nothing', async () => {
    const illegal = ['bad name', 'slash/topic', '..', 'x'.repeat(250)];
    const response = await metadata(broker.client, illegal, 12, true);
    assert.deepEqual(
      response.topics.map((topic) => topic.errorCode),
      illegal.map(() => ErrorCode.INVALID_TOPIC_EXCEPTION),
    );
    const v1 = await broker.client.request(MetadataApi, 1, { topics: [{ name: 'no spaces allowed' }] });
    assert.equal(v1.topics[0]?.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    const all = await metadata(broker.client, null);
    for (const name of [...illegal, 'no spaces allowed']) assert.ok(!topicNames(all).includes(name));
  });
});

describe('Metadata with auto.create.topics.enable=false', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ config: { 'auto.create.topics.enable': false } });
  });
  after(async () => {
    await broker.close();
  });

  it('creates nothing even when the request allows it', async () => {
    const name = uniqueTopic('never');
    const v12 = await metadata(broker.client, [name], 12, true);
    assert.equal(v12.topics[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const v1 = await broker.client.request(MetadataApi, 1, { topics: [{ name }] });
    assert.equal(v1.topics[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const all = await metadata(broker.client, null);
    assert.ok(!topicNames(all).includes(name));
  });
});

describe('Metadata topic ids across a restart', () => {
  it('keeps topic ids and the cluster id when the broker restarts on the same directory', async () => {
    const directory = await temporaryDirectory();
    try {
      const name = uniqueTopic('stable');
      const first = await startTestBroker({ storage: 'disk', dataDir: directory.path });
      await createTopic(first.client, name, 2);
      const before = await metadata(first.client, [name]);
      const clusterId = first.running.clusterId;
      await first.close();
      const second = await startTestBroker({ storage: 'disk', dataDir: directory.path });
      try {
        const afterRestart = await metadata(second.client, [name]);
        assert.equal(afterRestart.topics[0]?.errorCode, ErrorCode.NONE);
        assert.equal(afterRestart.topics[0]?.topicId, before.topics[0]?.topicId);
        assert.notEqual(afterRestart.topics[0]?.topicId, ZERO_UUID);
        assert.equal(afterRestart.topics[0]?.partitions.length, 2);
        assert.equal(afterRestart.clusterId, clusterId);
      } finally {
        await second.close();
      }
    } finally {
      await directory.remove();
    }
  });
});
