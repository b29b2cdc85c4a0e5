// group.consumer.* and group.coordinator.rebalance.protocols: Kafka's defaults, the bounds Kafka
// requires between them (each refusal names its key), and the APIs a broker serves with them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../base/config-def.js';
import { resolveBrokerConfig } from './broker-config.js';
import { servedHandlers } from './handlers/registry.js';

test("Kafka's defaults: both protocols, 45 s sessions, 5 s heartbeats, uniform then range", () => {
  const { consumerGroups } = resolveBrokerConfig({});
  assert.deepEqual(consumerGroups, {
    enabled: true,
    sessionTimeoutMs: 45_000,
    minSessionTimeoutMs: 45_000,
    maxSessionTimeoutMs: 60_000,
    heartbeatIntervalMs: 5_000,
    minHeartbeatIntervalMs: 5_000,
    maxHeartbeatIntervalMs: 15_000,
    maxSize: 2_147_483_647,
    assignors: ['uniform', 'range'],
    migrationPolicy: 'bidirectional',
  });
  const keys = servedHandlers(resolveBrokerConfig({})).map((handler) => handler.api.apiKey);
  assert.ok(keys.includes(68) && keys.includes(69));
});

test('group.consumer.migration.policy: any case of Kafka\'s four values; anything else is refused naming the key', () => {
  assert.equal(resolveBrokerConfig({ 'group.consumer.migration.policy': 'UPGRADE' }).consumerGroups.migrationPolicy, 'upgrade');
  assert.equal(resolveBrokerConfig({ 'group.consumer.migration.policy': 'disabled' }).consumerGroups.migrationPolicy, 'disabled');
  assert.throws(() => resolveBrokerConfig({ 'group.consumer.migration.policy': 'sideways' }), (error: unknown) => error instanceof ConfigError && /group\.consumer\.migration\.policy/.test(error.message) && /bidirectional, upgrade, downgrade, disabled/.test(error.message));
});

test('group.coordinator.rebalance.protocols=classic serves neither ConsumerGroupHeartbeat nor ConsumerGroupDescribe', () => {
  const config = resolveBrokerConfig({ 'group.coordinator.rebalance.protocols': 'classic' });
  assert.equal(config.consumerGroups.enabled, false);
  const keys = servedHandlers(config).map((handler) => handler.api.apiKey);
  assert.ok(!keys.includes(68) && !keys.includes(69));
  assert.ok(keys.includes(11), 'JoinGroup stays');
});

test('refuses values outside the bounds Kafka requires, naming the key', () => {
  const refused = (input: Record<string, string | number>, key: string, message: RegExp) =>
    assert.throws(() => resolveBrokerConfig(input), (error: unknown) => error instanceof ConfigError && error.key === key && message.test(error.message), JSON.stringify(input));
  refused({ 'group.coordinator.rebalance.protocols': 'consumer' }, 'group.coordinator.rebalance.protocols', /must include classic/);
  refused({ 'group.coordinator.rebalance.protocols': 'classic,streams' }, 'group.coordinator.rebalance.protocols', /streams/);
  refused({ 'group.consumer.session.timeout.ms': 30_000 }, 'group.consumer.session.timeout.ms', /at least group.consumer.min.session.timeout.ms/);
  refused({ 'group.consumer.session.timeout.ms': 70_000 }, 'group.consumer.session.timeout.ms', /at most group.consumer.max.session.timeout.ms/);
  refused({ 'group.consumer.heartbeat.interval.ms': 1_000 }, 'group.consumer.heartbeat.interval.ms', /at least/);
  refused(
    { 'group.consumer.min.session.timeout.ms': 1_000, 'group.consumer.session.timeout.ms': 2_000, 'group.consumer.heartbeat.interval.ms': 5_000 },
    'group.consumer.heartbeat.interval.ms',
    /less than group.consumer.session.timeout.ms/,
  );
  refused({ 'group.consumer.assignors': 'uniform,sticky' }, 'group.consumer.assignors', /sticky/);
  const classes = resolveBrokerConfig({ 'group.consumer.assignors': 'org.apache.kafka.coordinator.group.assignor.RangeAssignor, uniform' });
  assert.deepEqual(classes.consumerGroups.assignors, ['org.apache.kafka.coordinator.group.assignor.RangeAssignor', 'uniform']);
});
