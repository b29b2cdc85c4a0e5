import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStreamsConfig, unknownStreamsKeys, ConfigError } from './config.js';
import { Serdes } from './serdes.js';

const base = { 'application.id': 'app', 'bootstrap.servers': 'localhost:9092' };

function refusal(props: Record<string, unknown>): string {
  try {
    parseStreamsConfig(props as never);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.key;
  }
  assert.fail('accepted');
}

describe('parseStreamsConfig', () => {
  it("reads Kafka's names with Kafka's defaults", () => {
    const config = parseStreamsConfig({ ...base, 'default.key.serde': 'org.apache.kafka.common.serialization.Serdes$StringSerde' });
    assert.equal(config.applicationId, 'app');
    assert.deepEqual(config.bootstrapServers, ['localhost:9092']);
    assert.equal(config.processingGuarantee, 'at_least_once');
    assert.equal(config.commitIntervalMs, 30000);
    assert.equal(config.taskTimeoutMs, 300000);
    assert.equal(config.numStreamThreads, 1);
    assert.equal(config.defaultKeySerde, Serdes.String());
    assert.equal(config.defaultValueSerde, undefined);
    const eos = parseStreamsConfig({ ...base, 'processing.guarantee': 'exactly_once_v2', 'num.stream.threads': '3', 'state.dir': '/s' });
    assert.equal(eos.commitIntervalMs, 100);
    assert.equal(eos.numStreamThreads, 3);
    assert.equal(eos.stateDir, '/s');
  });

  it('refuses bad values, naming the key', () => {
    assert.equal(refusal({ 'bootstrap.servers': 'h:1' }), 'application.id');
    assert.equal(refusal({ 'application.id': 'a b', 'bootstrap.servers': 'h:1' }), 'application.id');
    assert.equal(refusal({ 'application.id': 'a' }), 'bootstrap.servers');
    assert.equal(refusal({ ...base, 'bootstrap.servers': 'nohost' }), 'bootstrap.servers');
    assert.equal(refusal({ ...base, 'processing.guarantee': 'exactly_once' }), 'processing.guarantee');
    assert.equal(refusal({ ...base, 'commit.interval.ms': 'soon' }), 'commit.interval.ms');
    assert.equal(refusal({ ...base, 'task.timeout.ms': -1 }), 'task.timeout.ms');
    assert.equal(refusal({ ...base, 'num.stream.threads': 0 }), 'num.stream.threads');
    assert.equal(refusal({ ...base, 'default.value.serde': 'Nope' }), 'default.value.serde');
  });

  it('lists keys it does not know', () => {
    assert.deepEqual(unknownStreamsKeys({ ...base, 'comit.interval.ms': 1, 'consumer.max.poll.records': 5 }), ['comit.interval.ms']);
  });
});
