// Topic and broker configuration over TCP: DescribeConfigs (sources, synonyms, each version's
// fields), AlterConfigs (replace semantics), IncrementalAlterConfigs (SET, DELETE, APPEND,
// SUBTRACT), dynamic broker configs as broker defaults, INVALID_CONFIG naming the key, changes
// applied to live logs and kept across a restart; CreateTopics validation of the issue-5 keys.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ConfigSource } from '../../src/metadata/topic-config.js';
import {
  AlterConfigsApi,
  DescribeConfigsApi,
  type DescribeConfigsResponse,
  IncrementalAlterConfigsApi,
} from '../../src/protocol/messages/index.js';
import type { RawClient } from '../support/raw-client.js';
import { type TestBroker, createTopic, createTopics, startTestBroker, temporaryDirectory, uniqueTopic } from './helpers.js';

const TOPIC = 2;
const BROKER = 4;
const Op = { set: 0, delete: 1, append: 2, subtract: 3 } as const;

async function describeConfigs(client: RawClient, resourceType: number, resourceName: string, options: { version?: number; keys?: string[] | null; synonyms?: boolean } = {}) {
  const response = await client.request(DescribeConfigsApi, options.version ?? 4, {
    resources: [{ resourceType, resourceName, configurationKeys: options.keys ?? null }],
    includeSynonyms: options.synonyms ?? true,
    includeDocumentation: true,
  });
  return response.results[0]!;
}

function entry(result: DescribeConfigsResponse['results'][number], name: string) {
  const found = result.configs.find((config) => config.name === name);
  assert.ok(found, `${name} is described`);
  return found;
}

async function alter(client: RawClient, resourceType: number, resourceName: string, configs: Record<string, string>, validateOnly = false, version = 2) {
  const response = await client.request(AlterConfigsApi, version, {
    resources: [{ resourceType, resourceName, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
    validateOnly,
  });
  return response.responses[0]!;
}

async function incremental(client: RawClient, resourceType: number, resourceName: string, configs: { name: string; op: number; value?: string | null }[], validateOnly = false) {
  const response = await client.request(IncrementalAlterConfigsApi, 1, {
    resources: [{ resourceType, resourceName, configs: configs.map(({ name, op, value }) => ({ name, configOperation: op, value: value ?? null })) }],
    validateOnly,
  });
  return response.responses[0]!;
}

function logConfigOf(broker: TestBroker, topic: string) {
  const partition = broker.running.broker.services.replicaManager.get(topic, 0);
  assert.ok(partition, `${topic}-0 is hosted`);
  return partition.log.config;
}

describe('DescribeConfigs', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ config: { 'log.retention.hours': 48 } });
  });
  after(() => broker.close());

  it('reports overrides, server.properties values and defaults with their sources and synonyms', async () => {
    const topic = uniqueTopic('describe');
    await createTopic(broker.client, topic, 1, { 'cleanup.policy': 'compact', 'max.message.bytes': '2000000' });
    const result = await describeConfigs(broker.client, TOPIC, topic);
    assert.equal(result.errorCode, ErrorCode.NONE);
    const cleanup = entry(result, 'cleanup.policy');
    assert.equal(cleanup.value, 'compact');
    assert.equal(cleanup.configSource, ConfigSource.dynamicTopicConfig);
    assert.deepEqual(cleanup.synonyms?.map((synonym) => [synonym.name, synonym.source]), [
      ['cleanup.policy', ConfigSource.dynamicTopicConfig],
      ['log.cleanup.policy', ConfigSource.defaultConfig],
    ]);
    const retention = entry(result, 'retention.ms');
    assert.equal(retention.value, String(48 * 3_600_000), 'log.retention.hours converted to ms');
    // Kafka's rule: the synonym list starts at log.retention.ms, which is set nowhere.
    assert.equal(retention.configSource, ConfigSource.defaultConfig);
    assert.deepEqual(retention.synonyms, []);
    assert.equal(entry(result, 'segment.bytes').configSource, ConfigSource.defaultConfig);
    assert.equal(entry(result, 'segment.bytes').configType, 3);
    assert.match(entry(result, 'segment.bytes').documentation ?? '', /\w/);
    assert.ok(result.configs.length >= 20);
  });

  it('answers every version: v0 is_default, v1 without synonyms unless asked, named keys only', async () => {
    const topic = uniqueTopic('versions');
    await createTopic(broker.client, topic, 1, { 'retention.ms': '1000' });
    for (const version of [0, 1, 2, 3, 4]) {
      const result = await describeConfigs(broker.client, TOPIC, topic, { version, keys: ['retention.ms', 'segment.ms'], synonyms: false });
      assert.deepEqual(result.configs.map((config) => config.name).sort(), ['retention.ms', 'segment.ms'], `v${version}`);
      assert.equal(entry(result, 'retention.ms').value, '1000');
      if (version === 0) {
        assert.equal(entry(result, 'retention.ms').isDefault, false);
        assert.equal(entry(result, 'segment.ms').isDefault, true);
      } else {
        assert.deepEqual(entry(result, 'retention.ms').synonyms ?? [], []);
      }
    }
  });

  it('describes this broker, its cluster defaults, and refuses unknown topics and other brokers', async () => {
    const nodeId = String(broker.running.nodeId);
    const own = await describeConfigs(broker.client, BROKER, nodeId);
    assert.equal(own.errorCode, ErrorCode.NONE);
    assert.equal(entry(own, 'log.retention.hours').value, '48');
    assert.equal(entry(own, 'log.retention.hours').configSource, ConfigSource.staticBrokerConfig);
    assert.equal(entry(own, 'log.dirs').readOnly, true);
    assert.equal(entry(own, 'log.retention.ms').readOnly, false);
    const clusterDefault = await describeConfigs(broker.client, BROKER, '');
    assert.equal(clusterDefault.errorCode, ErrorCode.NONE);
    const unknown = await describeConfigs(broker.client, TOPIC, 'no-such-topic');
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const other = await describeConfigs(broker.client, BROKER, '99');
    assert.equal(other.errorCode, ErrorCode.INVALID_REQUEST);
  });
});

describe('AlterConfigs and IncrementalAlterConfigs', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(() => broker.close());

  it('AlterConfigs replaces the overrides and the live log follows, back to the default when removed', async () => {
    const topic = uniqueTopic('alter');
    await createTopic(broker.client, topic);
    for (const version of [0, 1, 2]) {
      const set = await alter(broker.client, TOPIC, topic, { 'segment.bytes': '100000', 'max.message.bytes': '5000' }, false, version);
      assert.equal(set.errorCode, ErrorCode.NONE, set.errorMessage ?? '');
      assert.equal(logConfigOf(broker, topic).segmentBytes, 100000);
      assert.equal(logConfigOf(broker, topic).maxMessageBytes, 5000);
      const replaced = await alter(broker.client, TOPIC, topic, { 'max.message.bytes': '6000' }, false, version);
      assert.equal(replaced.errorCode, ErrorCode.NONE);
      assert.equal(logConfigOf(broker, topic).segmentBytes, 1073741824, 'segment.bytes reverted to the broker default');
      assert.equal(logConfigOf(broker, topic).maxMessageBytes, 6000);
      assert.equal(await alter(broker.client, TOPIC, topic, {}, false, version).then((result) => result.errorCode), ErrorCode.NONE);
      assert.equal(logConfigOf(broker, topic).maxMessageBytes, 1048588);
    }
  });

  it('validate_only checks without changing anything', async () => {
    const topic = uniqueTopic('validate');
    await createTopic(broker.client, topic);
    const result = await alter(broker.client, TOPIC, topic, { 'retention.ms': '1234' }, true);
    assert.equal(result.errorCode, ErrorCode.NONE);
    assert.equal(entry(await describeConfigs(broker.client, TOPIC, topic), 'retention.ms').configSource, ConfigSource.defaultConfig);
  });

  it('refuses unknown keys and bad values with INVALID_CONFIG naming the key, leaving other resources alone', async () => {
    const topic = uniqueTopic('invalid');
    await createTopic(broker.client, topic);
    for (const [name, value] of [
      ['retention.mss', '1'],
      ['retention.ms', 'soon'],
      ['cleanup.policy', 'shred'],
      ['min.cleanable.dirty.ratio', '1.5'],
      ['message.timestamp.before.max.ms', '-5'],
      ['compression.type', 'brotli'],
    ] as const) {
      const result = await alter(broker.client, TOPIC, topic, { [name]: value });
      assert.equal(result.errorCode, ErrorCode.INVALID_CONFIG, `${name}=${value}`);
      assert.match(result.errorMessage ?? '', new RegExp(name.replaceAll('.', '\\.')));
    }
    const lags = await alter(broker.client, TOPIC, topic, { 'min.compaction.lag.ms': '100', 'max.compaction.lag.ms': '10' });
    assert.equal(lags.errorCode, ErrorCode.INVALID_CONFIG);
    const missing = await alter(broker.client, TOPIC, uniqueTopic('missing'), { 'retention.ms': '1' });
    assert.equal(missing.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('IncrementalAlterConfigs SET, DELETE, APPEND and SUBTRACT', async () => {
    const topic = uniqueTopic('incremental');
    await createTopic(broker.client, topic, 1, { 'retention.ms': '5000' });
    assert.equal((await incremental(broker.client, TOPIC, topic, [{ name: 'segment.ms', op: Op.set, value: '60000' }])).errorCode, ErrorCode.NONE);
    assert.equal(logConfigOf(broker, topic).segmentMs, 60000);
    assert.equal(logConfigOf(broker, topic).retentionMs, 5000, 'other overrides stay');
    assert.equal((await incremental(broker.client, TOPIC, topic, [{ name: 'cleanup.policy', op: Op.append, value: 'compact' }])).errorCode, ErrorCode.NONE);
    assert.equal(entry(await describeConfigs(broker.client, TOPIC, topic), 'cleanup.policy').value, 'delete,compact');
    assert.equal((await incremental(broker.client, TOPIC, topic, [{ name: 'cleanup.policy', op: Op.subtract, value: 'delete' }])).errorCode, ErrorCode.NONE);
    assert.equal(entry(await describeConfigs(broker.client, TOPIC, topic), 'cleanup.policy').value, 'compact');
    assert.equal((await incremental(broker.client, TOPIC, topic, [{ name: 'retention.ms', op: Op.delete }])).errorCode, ErrorCode.NONE);
    assert.equal(logConfigOf(broker, topic).retentionMs, 7 * 24 * 3_600_000);
    const appendToNumber = await incremental(broker.client, TOPIC, topic, [{ name: 'segment.ms', op: Op.append, value: '1' }]);
    assert.equal(appendToNumber.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(appendToNumber.errorMessage ?? '', /segment\.ms/);
    const twice = await incremental(broker.client, TOPIC, topic, [
      { name: 'segment.ms', op: Op.set, value: '1' },
      { name: 'segment.ms', op: Op.delete },
    ]);
    assert.equal(twice.errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('dynamic broker configs: cluster default, then per broker, apply to topics without overrides', async () => {
    const plain = uniqueTopic('plain');
    const overridden = uniqueTopic('overridden');
    await createTopic(broker.client, plain);
    await createTopic(broker.client, overridden, 1, { 'retention.ms': '1000' });
    const nodeId = String(broker.running.nodeId);
    assert.equal((await incremental(broker.client, BROKER, '', [{ name: 'log.retention.ms', op: Op.set, value: '7200000' }])).errorCode, ErrorCode.NONE);
    assert.equal(logConfigOf(broker, plain).retentionMs, 7_200_000);
    assert.equal(logConfigOf(broker, overridden).retentionMs, 1000);
    const described = entry(await describeConfigs(broker.client, TOPIC, plain), 'retention.ms');
    assert.equal(described.value, '7200000');
    assert.equal(described.configSource, ConfigSource.dynamicDefaultBrokerConfig);
    assert.equal((await incremental(broker.client, BROKER, nodeId, [{ name: 'log.retention.ms', op: Op.set, value: '3600000' }])).errorCode, ErrorCode.NONE);
    assert.equal(logConfigOf(broker, plain).retentionMs, 3_600_000);
    assert.equal(entry(await describeConfigs(broker.client, BROKER, nodeId), 'log.retention.ms').configSource, ConfigSource.dynamicBrokerConfig);
    assert.equal(entry(await describeConfigs(broker.client, BROKER, ''), 'log.retention.ms').value, '7200000');
    await incremental(broker.client, BROKER, nodeId, [{ name: 'log.retention.ms', op: Op.delete }]);
    await incremental(broker.client, BROKER, '', [{ name: 'log.retention.ms', op: Op.delete }]);
    assert.equal(logConfigOf(broker, plain).retentionMs, 7 * 24 * 3_600_000);
    const readOnly = await incremental(broker.client, BROKER, nodeId, [{ name: 'log.dirs', op: Op.set, value: '/tmp/elsewhere' }]);
    assert.equal(readOnly.errorCode, ErrorCode.INVALID_REQUEST, 'Kafka refuses a key that cannot change at run time as an invalid request');
    assert.match(readOnly.errorMessage ?? '', /log\.dirs/);
    const unknownBroker = await incremental(broker.client, BROKER, '42', [{ name: 'log.retention.ms', op: Op.set, value: '1' }]);
    assert.equal(unknownBroker.errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('CreateTopics validates every issue-5 key, naming it, and validate_only creates nothing', async () => {
    for (const [name, value] of [
      ['message.timestamp.before.max.ms', 'x'],
      ['message.timestamp.after.max.ms', '-1'],
      ['min.compaction.lag.ms', '-1'],
      ['max.compaction.lag.ms', '0'],
      ['delete.retention.ms', 'forever'],
      ['segment.bytes', '10'],
    ] as const) {
      const response = await createTopics(broker.client, [{ name: uniqueTopic('bad'), configs: { [name]: value } }]);
      assert.equal(response.topics[0]?.errorCode, ErrorCode.INVALID_CONFIG, `${name}=${value}`);
      assert.match(response.topics[0]?.errorMessage ?? '', new RegExp(name.replaceAll('.', '\\.')));
    }
    const lags = await createTopics(broker.client, [{ name: uniqueTopic('lags'), configs: { 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' } }]);
    assert.equal(lags.topics[0]?.errorCode, ErrorCode.INVALID_CONFIG);
    const name = uniqueTopic('dry');
    const dry = await createTopics(broker.client, [{ name, configs: { 'message.timestamp.before.max.ms': '1000' } }], { validateOnly: true });
    assert.equal(dry.topics[0]?.errorCode, ErrorCode.NONE);
    assert.equal((await describeConfigs(broker.client, TOPIC, name)).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

describe('configs across a restart', () => {
  it('keeps topic overrides and dynamic broker configs and applies them to the reopened logs', async () => {
    const dir = await temporaryDirectory();
    const topic = uniqueTopic('restart');
    try {
      let broker = await startTestBroker({ storage: 'disk', dataDir: dir.path });
      await createTopic(broker.client, topic, 1, { 'segment.bytes': '200000' });
      await incremental(broker.client, TOPIC, topic, [{ name: 'max.message.bytes', op: Op.set, value: '7000' }]);
      await incremental(broker.client, BROKER, '', [{ name: 'log.retention.ms', op: Op.set, value: '3600000' }]);
      await broker.close();
      broker = await startTestBroker({ storage: 'disk', dataDir: dir.path });
      try {
        const config = logConfigOf(broker, topic);
        assert.equal(config.segmentBytes, 200000);
        assert.equal(config.maxMessageBytes, 7000);
        assert.equal(config.retentionMs, 3_600_000);
        const described = await describeConfigs(broker.client, TOPIC, topic);
        assert.equal(entry(described, 'max.message.bytes').configSource, ConfigSource.dynamicTopicConfig);
        assert.equal(entry(described, 'retention.ms').configSource, ConfigSource.dynamicDefaultBrokerConfig);
      } finally {
        await broker.close();
      }
    } finally {
      await dir.remove();
    }
  });
});
