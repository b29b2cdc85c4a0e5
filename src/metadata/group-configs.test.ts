// Group configs (config resource type 32): Kafka 4.2's keys and validation, each refusal naming
// the key, and the typed values a group resolves to from the metadata image and the broker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../base/config-def.js';
import { type GroupConfigBrokerDefaults, checkGroupConfigs, groupConfigKeys, parseIsoDuration, parseShareAutoOffsetReset, resolveGroupConfig } from './group-configs.js';
import { MetadataImage } from './metadata-image.js';

/** Kafka 4.2's broker defaults. */
const defaults: GroupConfigBrokerDefaults = {
  consumerGroups: { sessionTimeoutMs: 45_000, minSessionTimeoutMs: 45_000, maxSessionTimeoutMs: 60_000, heartbeatIntervalMs: 5_000, minHeartbeatIntervalMs: 5_000, maxHeartbeatIntervalMs: 15_000 },
  shareGroups: {
    sessionTimeoutMs: 45_000,
    minSessionTimeoutMs: 45_000,
    maxSessionTimeoutMs: 60_000,
    heartbeatIntervalMs: 5_000,
    minHeartbeatIntervalMs: 5_000,
    maxHeartbeatIntervalMs: 15_000,
    recordLockDurationMs: 30_000,
    minRecordLockDurationMs: 15_000,
    maxRecordLockDurationMs: 60_000,
  },
};

function refused(overrides: Record<string, string>, key: string, message: RegExp, brokerDefaults = defaults): void {
  assert.throws(
    () => checkGroupConfigs(new Map(Object.entries(overrides)), brokerDefaults),
    (error: unknown) => error instanceof ConfigError && error.key === key && message.test(error.message),
    JSON.stringify(overrides),
  );
}

describe('group configs', () => {
  it("has Kafka 4.2's keys, without the streams ones Conveyor does not serve", () => {
    assert.deepEqual(groupConfigKeys.map(({ name }) => name), [
      'consumer.session.timeout.ms',
      'consumer.heartbeat.interval.ms',
      'share.session.timeout.ms',
      'share.heartbeat.interval.ms',
      'share.record.lock.duration.ms',
      'share.auto.offset.reset',
      'share.isolation.level',
    ]);
    refused({ 'streams.session.timeout.ms': '45000' }, 'streams.session.timeout.ms', /unknown group configuration key/);
    refused({ 'retention.ms': '1000' }, 'retention.ms', /unknown group configuration key/);
  });

  it('accepts values within the broker bounds', () => {
    checkGroupConfigs(
      new Map([
        ['consumer.session.timeout.ms', '50000'],
        ['share.record.lock.duration.ms', '15000'],
        ['share.heartbeat.interval.ms', '15000'],
        ['share.auto.offset.reset', 'by_duration:PT1H30M'],
        ['share.isolation.level', 'read_committed'],
      ]),
      defaults,
    );
  });

  it('refuses values outside the broker bounds, naming the key and the bound', () => {
    refused({ 'share.record.lock.duration.ms': '10000' }, 'share.record.lock.duration.ms', /greater than or equal to group.share.min.record.lock.duration.ms \(15000\)/);
    refused({ 'share.record.lock.duration.ms': '70000' }, 'share.record.lock.duration.ms', /less than or equal to group.share.max.record.lock.duration.ms \(60000\)/);
    refused({ 'share.record.lock.duration.ms': '999' }, 'share.record.lock.duration.ms', /at least 1000/);
    refused({ 'consumer.session.timeout.ms': '30000' }, 'consumer.session.timeout.ms', /group.consumer.min.session.timeout.ms/);
    refused({ 'consumer.heartbeat.interval.ms': '20000' }, 'consumer.heartbeat.interval.ms', /group.consumer.max.heartbeat.interval.ms/);
    refused({ 'share.session.timeout.ms': '61000' }, 'share.session.timeout.ms', /group.share.max.session.timeout.ms/);
    refused({ 'share.heartbeat.interval.ms': '4000' }, 'share.heartbeat.interval.ms', /group.share.min.heartbeat.interval.ms/);
    refused({ 'share.session.timeout.ms': 'soon' }, 'share.session.timeout.ms', /integer/);
    refused({ 'share.isolation.level': 'serializable' }, 'share.isolation.level', /read_committed, read_uncommitted/);
    refused({ 'share.auto.offset.reset': 'none' }, 'share.auto.offset.reset', /'earliest', 'latest' or of the format 'by_duration:<PnDTnHnMn.nS>'/);
    refused({ 'share.auto.offset.reset': 'by_duration:-PT1H' }, 'share.auto.offset.reset', /by_duration/);
  });

  it('requires the session timeout to exceed the heartbeat interval, with the broker values for keys not set', () => {
    const wide: GroupConfigBrokerDefaults = { ...defaults, shareGroups: { ...defaults.shareGroups, minSessionTimeoutMs: 1_000, minHeartbeatIntervalMs: 1_000 } };
    refused({ 'share.session.timeout.ms': '5000' }, 'share.session.timeout.ms', /greater than share.heartbeat.interval.ms \(5000\)/, wide);
    checkGroupConfigs(new Map([['share.session.timeout.ms', '5000'], ['share.heartbeat.interval.ms', '2000']]), wide);
  });

  it('reads ISO-8601 durations as Java does', () => {
    assert.equal(parseIsoDuration('PT1H'), 3_600_000);
    assert.equal(parseIsoDuration('P1DT2M'), 86_400_000 + 120_000);
    assert.equal(parseIsoDuration('pt1.5s'), 1_500);
    assert.equal(parseIsoDuration('PT0S'), 0);
    assert.equal(parseIsoDuration('-PT1M'), -60_000);
    for (const bad of ['P', 'PT', 'P1Y', 'P1W', 'PT1H1D', '1H', 'PT1.5M']) assert.equal(parseIsoDuration(bad), undefined, bad);
    assert.deepEqual(parseShareAutoOffsetReset('by_duration:P2D'), { kind: 'by_duration', durationMs: 172_800_000 });
    assert.deepEqual(parseShareAutoOffsetReset('earliest'), { kind: 'earliest' });
    assert.equal(typeof parseShareAutoOffsetReset('by_duration:'), 'string');
    assert.equal(typeof parseShareAutoOffsetReset('EARLIEST'), 'string');
  });

  it("resolves a group's overrides from the metadata image, else the broker's values", () => {
    const image = new MetadataImage();
    const brokerDefaults: GroupConfigBrokerDefaults = { ...defaults, shareGroups: { ...defaults.shareGroups, recordLockDurationMs: 20_000 } };
    assert.deepEqual(resolveGroupConfig(image, 'g', brokerDefaults), {
      consumerSessionTimeoutMs: 45_000,
      consumerHeartbeatIntervalMs: 5_000,
      shareSessionTimeoutMs: 45_000,
      shareHeartbeatIntervalMs: 5_000,
      shareRecordLockDurationMs: 20_000,
      shareAutoOffsetReset: { kind: 'latest' },
      shareIsolationLevel: 'read_uncommitted',
    });
    for (const [name, value] of [
      ['share.record.lock.duration.ms', '40000'],
      ['share.auto.offset.reset', 'by_duration:PT10M'],
      ['share.isolation.level', 'read_committed'],
      ['consumer.heartbeat.interval.ms', '6000'],
    ]) {
      image.apply({ type: 'Config', resourceType: 32, resourceName: 'g', name: name!, value: value! });
    }
    const resolved = resolveGroupConfig(image, 'g', brokerDefaults);
    assert.equal(resolved.shareRecordLockDurationMs, 40_000);
    assert.deepEqual(resolved.shareAutoOffsetReset, { kind: 'by_duration', durationMs: 600_000 });
    assert.equal(resolved.shareIsolationLevel, 'read_committed');
    assert.equal(resolved.consumerHeartbeatIntervalMs, 6_000);
    assert.equal(resolveGroupConfig(image, 'other', brokerDefaults).shareRecordLockDurationMs, 20_000, 'another group keeps the broker value');
    image.apply({ type: 'Config', resourceType: 32, resourceName: 'g', name: 'share.record.lock.duration.ms', value: null });
    assert.equal(resolveGroupConfig(image, 'g', brokerDefaults).shareRecordLockDurationMs, 20_000, 'a removed override falls back');
  });
});
