// group.share.* and share.coordinator.*: Kafka 4.2's defaults, the bounds Kafka requires between
// them (each refusal names its key, with Kafka's `require` wording for dynamic checks), and
// group.coordinator.rebalance.protocols accepting share.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../base/config-def.js';
import { ConfigRequirementError, resolveBrokerConfig } from './broker-config.js';

test("Kafka 4.2's defaults, share groups served", () => {
  const config = resolveBrokerConfig({});
  assert.deepEqual(config.shareGroups, {
    enabled: true,
    sessionTimeoutMs: 45_000,
    minSessionTimeoutMs: 45_000,
    maxSessionTimeoutMs: 60_000,
    heartbeatIntervalMs: 5_000,
    minHeartbeatIntervalMs: 5_000,
    maxHeartbeatIntervalMs: 15_000,
    maxSize: 200,
    assignors: ['simple'],
    initializeRetryIntervalMs: 30_000,
    partitionMaxRecordLocks: 2_000,
    deliveryCountLimit: 5,
    recordLockDurationMs: 30_000,
    minRecordLockDurationMs: 15_000,
    maxRecordLockDurationMs: 60_000,
    maxShareSessions: 2_000,
    stateTopicNumPartitions: 50,
    stateTopicReplicationFactor: 3,
    stateTopicMinIsr: 2,
    stateTopicSegmentBytes: 104_857_600,
    snapshotUpdateRecordsPerSnapshot: 500,
  });
  assert.deepEqual(config.values.get('group.coordinator.rebalance.protocols'), ['classic', 'consumer', 'share']);
});

test('share groups are off without share in the protocols, unless group.share.enable is set', () => {
  assert.equal(resolveBrokerConfig({ 'group.coordinator.rebalance.protocols': 'classic,consumer' }).shareGroups.enabled, false);
  assert.equal(resolveBrokerConfig({ 'group.coordinator.rebalance.protocols': 'classic', 'group.share.enable': 'true' }).shareGroups.enabled, true);
  const classicShare = resolveBrokerConfig({ 'group.coordinator.rebalance.protocols': 'classic,share' });
  assert.equal(classicShare.shareGroups.enabled, true);
  assert.equal(classicShare.consumerGroups.enabled, false);
});

test('refuses values outside the bounds Kafka requires, naming the key', () => {
  const refused = (input: Record<string, string | number>, key: string, message: RegExp) =>
    assert.throws(() => resolveBrokerConfig(input), (error: unknown) => error instanceof ConfigError && error.key === key && message.test(error.message), JSON.stringify(input));
  refused({ 'group.coordinator.rebalance.protocols': 'classic,share,streams' }, 'group.coordinator.rebalance.protocols', /streams/);
  refused({ 'group.share.record.lock.duration.ms': 10_000 }, 'group.share.record.lock.duration.ms', /at least group.share.min.record.lock.duration.ms \(15000\)/);
  refused({ 'group.share.record.lock.duration.ms': 90_000 }, 'group.share.record.lock.duration.ms', /at most group.share.max.record.lock.duration.ms \(60000\)/);
  refused({ 'group.share.record.lock.duration.ms': 500 }, 'group.share.record.lock.duration.ms', /1000/);
  refused({ 'group.share.min.record.lock.duration.ms': 40_000 }, 'group.share.min.record.lock.duration.ms', /30000/);
  refused({ 'group.share.max.record.lock.duration.ms': 20_000 }, 'group.share.max.record.lock.duration.ms', /30000/);
  refused({ 'group.share.delivery.count.limit': 1 }, 'group.share.delivery.count.limit', /2/);
  refused({ 'group.share.delivery.count.limit': 11 }, 'group.share.delivery.count.limit', /10/);
  refused({ 'group.share.partition.max.record.locks': 50 }, 'group.share.partition.max.record.locks', /100/);
  refused({ 'group.share.max.size': 1001 }, 'group.share.max.size', /1000/);
  refused({ 'group.share.max.share.sessions': 100 }, 'group.share.max.share.sessions', /at least group.share.max.size \(200\)/);
  refused({ 'group.share.session.timeout.ms': 30_000 }, 'group.share.session.timeout.ms', /at least group.share.min.session.timeout.ms/);
  refused({ 'group.share.session.timeout.ms': 70_000 }, 'group.share.session.timeout.ms', /at most group.share.max.session.timeout.ms/);
  refused({ 'group.share.heartbeat.interval.ms': 20_000 }, 'group.share.heartbeat.interval.ms', /at most group.share.max.heartbeat.interval.ms/);
  refused(
    { 'group.share.min.session.timeout.ms': 1_000, 'group.share.session.timeout.ms': 4_000, 'group.share.min.heartbeat.interval.ms': 1_000, 'group.share.heartbeat.interval.ms': 5_000 },
    'group.share.heartbeat.interval.ms',
    /less than group.share.session.timeout.ms/,
  );
  refused({ 'group.share.assignors': 'simple,simple' }, 'group.share.assignors', /exactly one assignor, but found 2/);
  refused({ 'group.share.assignors': 'uniform' }, 'group.share.assignors', /simple/);
  refused({ 'share.coordinator.state.topic.replication.factor': 0 }, 'share.coordinator.state.topic.replication.factor', /1/);
});

test("a cross-key refusal carries Kafka's requirement text", () => {
  assert.throws(
    () => resolveBrokerConfig({ 'group.share.max.share.sessions': 10 }),
    (error: unknown) => error instanceof ConfigRequirementError && error.requirement === 'group.share.max.share.sessions must be greater than or equal to group.share.max.size',
  );
});

test('values inside the bounds are taken, assignor by class name too', () => {
  const config = resolveBrokerConfig({
    'group.share.record.lock.duration.ms': 15_000,
    'group.share.max.size': 10,
    'group.share.max.share.sessions': 10,
    'group.share.assignors': 'org.apache.kafka.coordinator.group.assignor.SimpleAssignor',
    'group.share.delivery.count.limit': 2,
  });
  assert.equal(config.shareGroups.recordLockDurationMs, 15_000);
  assert.equal(config.shareGroups.maxShareSessions, 10);
  assert.equal(config.shareGroups.deliveryCountLimit, 2);
  assert.deepEqual(config.shareGroups.assignors, ['org.apache.kafka.coordinator.group.assignor.SimpleAssignor']);
});
