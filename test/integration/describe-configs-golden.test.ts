// Golden comparison of DescribeConfigs against Kafka 4.x: the full answer for a topic created
// without configs and for this broker, entry by entry (name, value, source, read-only, sensitive,
// type, synonyms), from test/integration/data/kafka4-*-configs.json. The broker file covers the
// keys Conveyor defines (those it reads plus Kafka's dynamically updatable ones); its `about`
// says why Kafka's other several hundred broker keys are left out, and `conveyorDeviations` lists
// each deliberate difference with its reason. Every entry must also carry documentation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { DescribeConfigsApi, type DescribeConfigsResponse } from '../../src/protocol/messages/index.js';
import { type TestBroker, createTopic, startTestBroker, uniqueTopic } from './helpers.js';

interface GoldenEntry {
  name: string;
  value: string | null;
  source: string;
  readOnly: boolean;
  sensitive: boolean;
  type: string;
  synonyms: string[];
}

interface GoldenFile {
  configs: GoldenEntry[];
  setByTest?: Record<string, string>;
  conveyorDeviations?: Record<string, Partial<GoldenEntry> & { reason: string }>;
  conveyorOnly?: string[];
}

const SOURCES = ['UNKNOWN', 'TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'STATIC_BROKER_CONFIG', 'DEFAULT_CONFIG'];
const TYPES = ['UNKNOWN', 'BOOLEAN', 'STRING', 'INT', 'SHORT', 'LONG', 'DOUBLE', 'LIST', 'CLASS', 'PASSWORD'];

function load(name: string): GoldenFile {
  return JSON.parse(readFileSync(new URL(`./data/${name}`, import.meta.url), 'utf8')) as GoldenFile;
}

function asGolden(config: DescribeConfigsResponse['results'][number]['configs'][number]): GoldenEntry {
  return {
    name: config.name,
    value: config.value,
    source: SOURCES[config.configSource ?? 0]!,
    readOnly: config.readOnly,
    sensitive: config.isSensitive,
    type: TYPES[config.configType ?? 0]!,
    synonyms: (config.synonyms ?? []).map((synonym) => `${synonym.name}@${SOURCES[synonym.source]}`),
  };
}

async function describeAll(broker: TestBroker, resourceType: number, resourceName: string) {
  const response = await broker.client.request(DescribeConfigsApi, 4, {
    resources: [{ resourceType, resourceName, configurationKeys: null }],
    includeSynonyms: true,
    includeDocumentation: true,
  });
  const result = response.results[0]!;
  assert.equal(result.errorCode, ErrorCode.NONE, result.errorMessage ?? '');
  return result.configs;
}

function compare(configs: DescribeConfigsResponse['results'][number]['configs'], golden: GoldenFile): void {
  const answered = new Map(configs.map((config) => [config.name, config]));
  const expectedNames = new Set(golden.configs.map((entry) => entry.name));
  const unexpected = [...answered.keys()].filter((name) => !expectedNames.has(name) && !(golden.conveyorOnly ?? []).includes(name));
  assert.deepEqual(unexpected, [], 'keys Kafka 4.x does not have');
  const missing = [...expectedNames].filter((name) => !answered.has(name));
  assert.deepEqual(missing, [], 'Kafka 4.x keys missing from the answer');
  for (const entry of golden.configs) {
    const config = answered.get(entry.name)!;
    const { reason: _reason, ...deviation } = golden.conveyorDeviations?.[entry.name] ?? { reason: '' };
    const expected: GoldenEntry = { ...entry, ...deviation };
    const actual = asGolden(config);
    if (golden.setByTest?.[entry.name]) {
      // Value, source and synonyms come from the test's own server.properties.
      assert.deepEqual({ ...actual, value: null, source: '', synonyms: [] }, { ...expected, value: null, source: '', synonyms: [] }, entry.name);
      assert.equal(actual.source, 'STATIC_BROKER_CONFIG', entry.name);
    } else {
      assert.deepEqual(actual, expected, entry.name);
    }
    assert.ok((config.documentation ?? '').length > 10, `${entry.name} carries documentation`);
  }
}

describe('DescribeConfigs matches Kafka 4.x entry by entry', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(() => broker.close());

  it('a topic created without configs', async () => {
    const topic = uniqueTopic('golden');
    await createTopic(broker.client, topic);
    compare(await describeAll(broker, 2, topic), load('kafka4-topic-configs.json'));
  });

  it('this broker (the keys Conveyor defines: those it reads and Kafka\'s dynamic ones)', async () => {
    compare(await describeAll(broker, 4, String(broker.running.nodeId)), load('kafka4-broker-configs.json'));
  });
});
