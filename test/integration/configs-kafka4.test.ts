// Kafka 4.x config behaviour over TCP: DescribeConfigs with an empty key list (all keys), with
// documentation, and Kafka's synonym rule; dynamic broker configs Kafka can change at run time
// accepted by AlterConfigs and IncrementalAlterConfigs per broker and as cluster default (applied
// or stored and described), read-only keys refused with INVALID_REQUEST as Kafka does, bad values
// with INVALID_CONFIG naming the key, all kept across a restart; an empty cleanup.policy
// (Kafka 4.1+) accepted and honoured by retention.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ConfigSource } from '../../src/metadata/topic-config.js';
import { AlterConfigsApi, DescribeConfigsApi, type DescribeConfigsResponse, IncrementalAlterConfigsApi } from '../../src/protocol/messages/index.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import type { RawClient } from '../support/raw-client.js';
import { type TestBroker, createTopic, createTopics, listOffset, produceOk, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from './helpers.js';

const TOPIC = 2;
const BROKER = 4;
const Op = { set: 0, delete: 1, append: 2, subtract: 3 } as const;
const EARLIEST = -2;

async function describeConfigs(client: RawClient, resourceType: number, resourceName: string, keys: string[] | null, documentation = false) {
  const response = await client.request(DescribeConfigsApi, 4, {
    resources: [{ resourceType, resourceName, configurationKeys: keys }],
    includeSynonyms: true,
    includeDocumentation: documentation,
  });
  return response.results[0]!;
}

function entry(result: DescribeConfigsResponse['results'][number], name: string) {
  const found = result.configs.find((config) => config.name === name);
  assert.ok(found, `${name} is described`);
  return found;
}

const synonymsOf = (config: { synonyms?: { name: string; value: string | null; source: number }[] | null }) =>
  (config.synonyms ?? []).map((synonym) => [synonym.name, synonym.value, synonym.source]);

async function incremental(client: RawClient, resourceType: number, resourceName: string, configs: { name: string; op: number; value?: string | null }[]) {
  const response = await client.request(IncrementalAlterConfigsApi, 1, {
    resources: [{ resourceType, resourceName, configs: configs.map(({ name, op, value }) => ({ name, configOperation: op, value: value ?? null })) }],
    validateOnly: false,
  });
  return response.responses[0]!;
}

async function alter(client: RawClient, resourceType: number, resourceName: string, configs: Record<string, string>) {
  const response = await client.request(AlterConfigsApi, 2, {
    resources: [{ resourceType, resourceName, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
    validateOnly: false,
  });
  return response.responses[0]!;
}

describe('DescribeConfigs as Kafka 4.x', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(() => broker.close());

  it('an empty configuration_keys list means every key, as null does', async () => {
    const topic = uniqueTopic('all-keys');
    await createTopic(broker.client, topic);
    const all = await describeConfigs(broker.client, TOPIC, topic, null);
    const empty = await describeConfigs(broker.client, TOPIC, topic, []);
    assert.ok(all.configs.length >= 30);
    assert.deepEqual(empty.configs.map((config) => config.name), all.configs.map((config) => config.name));
    const brokerEmpty = await describeConfigs(broker.client, BROKER, String(broker.running.nodeId), []);
    assert.ok(brokerEmpty.configs.some((config) => config.name === 'log.retention.hours'));
  });

  it('include_documentation gives each key a sentence; without it documentation is null', async () => {
    const topic = uniqueTopic('docs');
    await createTopic(broker.client, topic);
    const documented = await describeConfigs(broker.client, TOPIC, topic, ['retention.ms', 'cleanup.policy'], true);
    for (const config of documented.configs) assert.match(config.documentation ?? '', /\w+ \w+/, config.name);
    const brokerDocs = await describeConfigs(broker.client, BROKER, String(broker.running.nodeId), ['num.io.threads'], true);
    assert.match(entry(brokerDocs, 'num.io.threads').documentation ?? '', /\w+ \w+/);
    const plain = await describeConfigs(broker.client, TOPIC, topic, ['retention.ms']);
    assert.equal(entry(plain, 'retention.ms').documentation, null);
  });

  it('synonyms start at the first entry of the primary broker key, level by level', async () => {
    const topic = uniqueTopic('synonyms');
    await createTopic(broker.client, topic);
    const nodeId = String(broker.running.nodeId);
    const plain = entry(await describeConfigs(broker.client, TOPIC, topic, ['retention.ms']), 'retention.ms');
    assert.equal(plain.value, '604800000');
    assert.equal(plain.configSource, ConfigSource.defaultConfig);
    assert.deepEqual(synonymsOf(plain), [], 'log.retention.ms is set nowhere, so log.retention.hours does not show');
    assert.deepEqual(synonymsOf(entry(await describeConfigs(broker.client, TOPIC, topic, ['segment.bytes']), 'segment.bytes')), [
      ['log.segment.bytes', '1073741824', ConfigSource.defaultConfig],
    ]);
    try {
      assert.equal((await incremental(broker.client, BROKER, '', [{ name: 'log.retention.ms', op: Op.set, value: '7200000' }])).errorCode, ErrorCode.NONE);
      assert.equal((await incremental(broker.client, BROKER, nodeId, [{ name: 'log.retention.ms', op: Op.set, value: '3600000' }])).errorCode, ErrorCode.NONE);
      const layered = entry(await describeConfigs(broker.client, TOPIC, topic, ['retention.ms']), 'retention.ms');
      assert.equal(layered.value, '3600000');
      assert.equal(layered.configSource, ConfigSource.dynamicBrokerConfig);
      assert.deepEqual(synonymsOf(layered), [
        ['log.retention.ms', '3600000', ConfigSource.dynamicBrokerConfig],
        ['log.retention.ms', '7200000', ConfigSource.dynamicDefaultBrokerConfig],
        ['log.retention.hours', '168', ConfigSource.defaultConfig],
      ]);
      const hours = entry(await describeConfigs(broker.client, BROKER, nodeId, ['log.retention.hours']), 'log.retention.hours');
      assert.deepEqual(synonymsOf(hours), [['log.retention.hours', '168', ConfigSource.defaultConfig]], 'the list starts at the key itself');
      assert.equal(hours.readOnly, true);
    } finally {
      await incremental(broker.client, BROKER, nodeId, [{ name: 'log.retention.ms', op: Op.delete }]);
      await incremental(broker.client, BROKER, '', [{ name: 'log.retention.ms', op: Op.delete }]);
    }
  });
});

describe('dynamic broker configs as Kafka 4.x', () => {
  it('accepts the keys Kafka changes at run time, refuses the rest as Kafka does, and keeps them across a restart', async () => {
    const dir = await temporaryDirectory();
    try {
      let broker = await startTestBroker({ storage: 'disk', dataDir: dir.path });
      const nodeId = String(broker.running.nodeId);
      const topic = uniqueTopic('dyn');
      try {
        await createTopic(broker.client, topic);
        // Applied: message.max.bytes is the default of max.message.bytes.
        assert.equal((await alter(broker.client, BROKER, '', { 'message.max.bytes': '500000', 'log.cleaner.threads': '2' })).errorCode, ErrorCode.NONE);
        assert.equal(broker.running.broker.services.replicaManager.get(topic, 0)?.log.config.maxMessageBytes, 500000);
        // Stored and described: thread pools, a listener-prefixed key store, a password.
        const perBroker = await incremental(broker.client, BROKER, nodeId, [
          { name: 'num.io.threads', op: Op.set, value: '4' },
          { name: 'listener.name.plaintext.ssl.keystore.location', op: Op.set, value: '/etc/conveyor/broker.jks' },
          { name: 'listener.name.plaintext.ssl.keystore.password', op: Op.set, value: 'secret' },
          { name: 'max.connections', op: Op.set, value: '1000' },
        ]);
        assert.equal(perBroker.errorCode, ErrorCode.NONE, perBroker.errorMessage ?? '');

        for (const [resourceName, name, value] of [
          [nodeId, 'node.id', '7'],
          [nodeId, 'log.dirs', '/elsewhere'],
          [nodeId, 'ssl.keystore.location', '/etc/x.jks'],
          ['', 'listeners', 'PLAINTEXT://:9093'],
          ['', 'listener.name.plaintext.ssl.keystore.location', '/etc/x.jks'],
        ] as const) {
          const refused = await incremental(broker.client, BROKER, resourceName, [{ name, op: Op.set, value }]);
          assert.equal(refused.errorCode, ErrorCode.INVALID_REQUEST, `${name} on '${resourceName}'`);
          assert.ok(refused.errorMessage?.includes(name), refused.errorMessage ?? '');
        }
        for (const [name, value] of [['num.io.threads', 'many'], ['log.cleaner.threads', '-1'], ['unclean.leader.election.enable', 'maybe'], ['listener.name.plaintext.max.connections', 'x']] as const) {
          const bad = await incremental(broker.client, BROKER, nodeId, [{ name, op: Op.set, value }]);
          assert.equal(bad.errorCode, ErrorCode.INVALID_CONFIG, `${name}=${value}`);
          assert.ok(bad.errorMessage?.includes(name), bad.errorMessage ?? '');
        }
      } finally {
        await broker.close();
      }

      broker = await startTestBroker({ storage: 'disk', dataDir: dir.path });
      try {
        const described = await describeConfigs(broker.client, BROKER, nodeId, null);
        const io = entry(described, 'num.io.threads');
        assert.deepEqual([io.value, io.configSource, io.readOnly], ['4', ConfigSource.dynamicBrokerConfig, false]);
        assert.deepEqual(synonymsOf(io), [['num.io.threads', '4', ConfigSource.dynamicBrokerConfig], ['num.io.threads', '8', ConfigSource.defaultConfig]]);
        const threads = entry(described, 'log.cleaner.threads');
        assert.deepEqual([threads.value, threads.configSource], ['2', ConfigSource.dynamicDefaultBrokerConfig]);
        const store = entry(described, 'listener.name.plaintext.ssl.keystore.location');
        assert.deepEqual([store.value, store.configSource], ['/etc/conveyor/broker.jks', ConfigSource.dynamicBrokerConfig]);
        const password = entry(described, 'listener.name.plaintext.ssl.keystore.password');
        assert.deepEqual([password.value, password.isSensitive, password.configSource], [null, true, ConfigSource.dynamicBrokerConfig]);
        assert.equal(entry(described, 'max.connections').value, '1000');
        assert.equal(entry(described, 'message.max.bytes').configSource, ConfigSource.dynamicDefaultBrokerConfig);
        assert.equal(broker.running.broker.services.replicaManager.get(topic, 0)?.log.config.maxMessageBytes, 500000);
        const clusterDefault = await describeConfigs(broker.client, BROKER, '', null);
        assert.deepEqual(clusterDefault.configs.map((config) => config.name).sort(), ['log.cleaner.threads', 'message.max.bytes']);
      } finally {
        await broker.close();
      }
    } finally {
      await dir.remove();
    }
  });
});

describe('an empty cleanup.policy (Kafka 4.1+)', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ config: { 'log.retention.check.interval.ms': 100, 'log.segment.delete.delay.ms': 50 } });
  });
  after(() => broker.close());

  const oldBatch = (round: number) =>
    buildRecordBatchSync(Array.from({ length: 5 }, (_, index) => ({ key: Buffer.from(`k${index}`), value: Buffer.from(`r${round}-${'x'.repeat(100)}`), timestamp: Date.now() - 3_600_000 })));

  it('is accepted by CreateTopics and keeps records past retention.ms while a delete topic loses them', async () => {
    const keep = uniqueTopic('no-policy');
    const control = uniqueTopic('delete-policy');
    const created = await createTopics(broker.client, [
      { name: keep, configs: { 'cleanup.policy': '', 'segment.bytes': '1024', 'retention.ms': '1000' } },
      { name: control, configs: { 'segment.bytes': '1024', 'retention.ms': '1000' } },
    ]);
    assert.deepEqual(created.topics.map((topic) => topic.errorCode), [ErrorCode.NONE, ErrorCode.NONE], created.topics.map((topic) => topic.errorMessage).join('; '));
    assert.equal(entry(await describeConfigs(broker.client, TOPIC, keep, ['cleanup.policy']), 'cleanup.policy').value, '');
    for (let round = 0; round < 10; round += 1) {
      await produceOk(broker.client, keep, 0, oldBatch(round));
      await produceOk(broker.client, control, 0, oldBatch(round));
    }
    await waitFor(async () => Number((await listOffset(broker.client, control, 0, EARLIEST)).offset) > 0, 'retention to delete the control topic\'s old segments');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(Number((await listOffset(broker.client, keep, 0, EARLIEST)).offset), 0, 'nothing removed from the topic without a policy');
  });

  it('IncrementalAlterConfigs SUBTRACT down to an empty list succeeds, and AlterConfigs may set it', async () => {
    const topic = uniqueTopic('subtract');
    await createTopic(broker.client, topic, 1, { 'cleanup.policy': 'compact,delete' });
    assert.equal((await incremental(broker.client, TOPIC, topic, [{ name: 'cleanup.policy', op: Op.subtract, value: 'compact,delete' }])).errorCode, ErrorCode.NONE);
    const described = entry(await describeConfigs(broker.client, TOPIC, topic, ['cleanup.policy']), 'cleanup.policy');
    assert.deepEqual([described.value, described.configSource], ['', ConfigSource.dynamicTopicConfig]);
    assert.deepEqual(broker.running.broker.services.replicaManager.get(topic, 0)?.log.config.cleanupPolicy, []);
    const other = uniqueTopic('alter-empty');
    await createTopic(broker.client, other);
    assert.equal((await alter(broker.client, TOPIC, other, { 'cleanup.policy': '' })).errorCode, ErrorCode.NONE);
    assert.equal(entry(await describeConfigs(broker.client, TOPIC, other, ['cleanup.policy']), 'cleanup.policy').value, '');
  });
});
