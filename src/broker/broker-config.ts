// The broker's configuration: Kafka's server.properties keys with Kafka's defaults (DESIGN.md
// decision 10), parsed from text and validated, every refusal naming the key.
import {
  type ConfigKey,
  type ConfigValidator,
  type ConfigValue,
  ConfigError,
  atLeast,
  between,
  checkedConfigValue,
  oneOf,
} from '../base/config-def.js';

const LONG_MAX_AS_FOREVER = Number.POSITIVE_INFINITY;

function key(name: string, type: ConfigKey['type'], defaultValue: ConfigValue, validate?: ConfigValidator): ConfigKey {
  return validate ? { name, type, defaultValue, validate } : { name, type, defaultValue };
}

/** Every broker key Conveyor reads, with Kafka's default where Kafka has one. */
export const brokerConfigKeys: readonly ConfigKey[] = [
  key('node.id', 'int', 1, atLeast(0)),
  key('process.roles', 'list', ['broker', 'controller'], (roles) =>
    Array.isArray(roles) && roles.every((role) => role === 'broker' || role === 'controller') ? undefined : `unknown role in ${String(roles)}`,
  ),
  key('listeners', 'string', 'PLAINTEXT://localhost:9092'),
  key('advertised.listeners', 'string', null),
  key('log.dirs', 'list', null),
  key('log.dir', 'string', './data'),
  key('num.partitions', 'int', 1, atLeast(1)),
  key('default.replication.factor', 'int', 1, atLeast(1)),
  key('auto.create.topics.enable', 'boolean', true),
  key('delete.topic.enable', 'boolean', true),
  key('message.max.bytes', 'int', 1048588, atLeast(0)),
  key('log.segment.bytes', 'int', 1073741824, atLeast(14)),
  key('log.roll.ms', 'long', null, atLeast(1)),
  key('log.roll.hours', 'int', 168, atLeast(1)),
  key('log.index.size.max.bytes', 'int', 10485760, atLeast(4)),
  key('log.index.interval.bytes', 'int', 4096, atLeast(0)),
  key('log.flush.interval.messages', 'long', LONG_MAX_AS_FOREVER, atLeast(1)),
  key('log.flush.interval.ms', 'long', null, atLeast(0)),
  key('log.retention.ms', 'long', null, atLeast(-1)),
  key('log.retention.minutes', 'int', null, atLeast(-1)),
  key('log.retention.hours', 'int', 168, atLeast(-1)),
  key('log.retention.bytes', 'long', -1),
  key('log.message.timestamp.type', 'string', 'CreateTime', oneOf('CreateTime', 'LogAppendTime')),
  key('socket.request.max.bytes', 'int', 104857600, atLeast(1)),
  key('connections.max.idle.ms', 'long', 600000, atLeast(1)),
  key('max.connections', 'int', 2147483647, atLeast(0)),
  key('offsets.topic.num.partitions', 'int', 50, atLeast(1)),
  key('offsets.retention.minutes', 'int', 10080, atLeast(1)),
  key('group.initial.rebalance.delay.ms', 'int', 3000, atLeast(0)),
  key('group.min.session.timeout.ms', 'int', 6000, atLeast(0)),
  key('group.max.session.timeout.ms', 'int', 1800000, atLeast(0)),
  key('group.max.size', 'int', 2147483647, atLeast(1)),
  key('fetch.max.bytes', 'int', 57671680, atLeast(1024)),
  key('transaction.state.log.num.partitions', 'int', 50, atLeast(1)),
  key('transaction.max.timeout.ms', 'int', 900000, atLeast(1)),
  key('transactional.id.expiration.ms', 'int', 604800000, atLeast(1)),
  key('transaction.abort.timed.out.transaction.cleanup.interval.ms', 'int', 10000, atLeast(1)),
  key('producer.id.expiration.ms', 'int', 86400000, atLeast(1)),
  key('producer.id.expiration.check.interval.ms', 'int', 600000, atLeast(1)),
  key('compression.type', 'string', 'producer', oneOf('producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd')),
  key('log.cleanup.policy', 'list', ['delete'], (policies) =>
    Array.isArray(policies) && policies.length > 0 && policies.every((policy) => policy === 'delete' || policy === 'compact') ? undefined : `must be a list of delete and compact, got '${String(policies)}'`,
  ),
  key('log.retention.check.interval.ms', 'long', 300000, atLeast(1)),
  key('log.segment.delete.delay.ms', 'long', 60000, atLeast(0)),
  key('log.cleaner.enable', 'boolean', true),
  key('log.cleaner.threads', 'int', 1, atLeast(0)),
  key('log.cleaner.backoff.ms', 'long', 15000, atLeast(0)),
  // Kafka's default is 128 MiB; Conveyor is often embedded (tests, small services), so 32 MiB.
  key('log.cleaner.dedupe.buffer.size', 'long', 32 * 1024 * 1024, atLeast(1024 * 1024)),
  key('log.cleaner.delete.retention.ms', 'long', 86400000, atLeast(0)),
  key('log.cleaner.min.compaction.lag.ms', 'long', 0, atLeast(0)),
  key('log.cleaner.max.compaction.lag.ms', 'long', LONG_MAX_AS_FOREVER, atLeast(1)),
  key('log.cleaner.min.cleanable.ratio', 'double', 0.5, between(0, 1)),
  key('min.insync.replicas', 'int', 1, atLeast(1)),
  key('conveyor.tail.cache.bytes', 'long', 64 * 1024 * 1024, between(0, 1024 * 1024 * 1024)),
];

/**
 * Keys from Kafka's sample server.properties that Conveyor accepts without effect, so an existing
 * Kafka configuration starts unchanged. Each is either JVM tuning or a setting whose job Conveyor
 * does differently (one network thread, a built-in quorum).
 */
export const acceptedWithoutEffect: ReadonlySet<string> = new Set([
  'num.network.threads',
  'num.io.threads',
  'socket.send.buffer.bytes',
  'socket.receive.buffer.bytes',
  'num.recovery.threads.per.data.dir',
  'inter.broker.listener.name',
  'controller.listener.names',
  'controller.quorum.voters',
  'controller.quorum.bootstrap.servers',
  'listener.security.protocol.map',
  'offsets.topic.replication.factor',
  'transaction.state.log.replication.factor',
  'transaction.state.log.min.isr',
  'share.coordinator.state.topic.replication.factor',
  'share.coordinator.state.topic.min.isr',
]);

const keysByName = new Map(brokerConfigKeys.map((configKey) => [configKey.name, configKey]));

export interface BrokerConfig {
  nodeId: number;
  listeners: string;
  advertisedListeners: string | null;
  logDir: string;
  numPartitions: number;
  defaultReplicationFactor: number;
  autoCreateTopicsEnable: boolean;
  deleteTopicEnable: boolean;
  messageMaxBytes: number;
  logSegmentBytes: number;
  logRollMs: number;
  logIndexSizeMaxBytes: number;
  logIndexIntervalBytes: number;
  logFlushIntervalMessages: number;
  logFlushIntervalMs: number;
  logRetentionMs: number;
  logRetentionBytes: number;
  logMessageTimestampType: 'CreateTime' | 'LogAppendTime';
  logCleanupPolicy: ('delete' | 'compact')[];
  logRetentionCheckIntervalMs: number;
  logSegmentDeleteDelayMs: number;
  logCleanerEnable: boolean;
  logCleanerBackoffMs: number;
  logCleanerDedupeBufferSize: number;
  logCleanerDeleteRetentionMs: number;
  logCleanerMinCompactionLagMs: number;
  logCleanerMaxCompactionLagMs: number;
  logCleanerMinCleanableRatio: number;
  socketRequestMaxBytes: number;
  connectionsMaxIdleMs: number;
  maxConnections: number;
  offsetsTopicNumPartitions: number;
  offsetsRetentionMinutes: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
  fetchMaxBytes: number;
  compressionType: string;
  minInsyncReplicas: number;
  tailCacheBytes: number;
  transactionStateLogNumPartitions: number;
  transactionMaxTimeoutMs: number;
  transactionalIdExpirationMs: number;
  transactionAbortTimedOutTransactionCleanupIntervalMs: number;
  producerIdExpirationMs: number;
  producerIdExpirationCheckIntervalMs: number;
  /** The raw values by Kafka key, after defaults, for DescribeConfigs. */
  values: ReadonlyMap<string, ConfigValue>;
  /** Keys the operator set explicitly. */
  explicitKeys: ReadonlySet<string>;
}

export type ConfigInput = Record<string, string | number | boolean> | ReadonlyMap<string, string>;

function entriesOf(input: ConfigInput): [string, string][] {
  const entries = input instanceof Map ? [...input.entries()] : Object.entries(input);
  return entries.map(([name, value]) => [name, String(value)]);
}

/** Validates `input` (Kafka keys to textual values) and returns the typed config with defaults. */
export function resolveBrokerConfig(input: ConfigInput = {}): BrokerConfig {
  const values = new Map<string, ConfigValue>();
  const explicitKeys = new Set<string>();
  for (const [name, text] of entriesOf(input)) {
    if (acceptedWithoutEffect.has(name)) continue;
    const configKey = keysByName.get(name);
    if (!configKey) throw new ConfigError(name, 'unknown configuration key');
    values.set(name, checkedConfigValue(configKey, text));
    explicitKeys.add(name);
  }
  for (const configKey of brokerConfigKeys) {
    if (!values.has(configKey.name)) values.set(configKey.name, configKey.defaultValue);
  }
  return buildBrokerConfig(values, explicitKeys);
}

function firstDefined(...candidates: (number | null | undefined)[]): number {
  for (const candidate of candidates) if (candidate !== null && candidate !== undefined) return candidate;
  return Number.POSITIVE_INFINITY;
}

function buildBrokerConfig(values: Map<string, ConfigValue>, explicitKeys: Set<string>): BrokerConfig {
  const get = <T extends ConfigValue>(name: string) => values.get(name) as T;
  const logDirs = get<string[] | null>('log.dirs');
  if (logDirs && logDirs.length > 1) throw new ConfigError('log.dirs', 'Conveyor supports one log directory for now');
  const retentionMinutes = get<number | null>('log.retention.minutes');
  const retentionMs = firstDefined(
    get<number | null>('log.retention.ms'),
    retentionMinutes === null ? null : retentionMinutes * 60_000,
    get<number>('log.retention.hours') * 3_600_000,
  );
  const flushMs = get<number | null>('log.flush.interval.ms');
  return {
    nodeId: get('node.id'),
    listeners: get('listeners'),
    advertisedListeners: get('advertised.listeners'),
    logDir: logDirs?.[0] ?? get('log.dir'),
    numPartitions: get('num.partitions'),
    defaultReplicationFactor: get('default.replication.factor'),
    autoCreateTopicsEnable: get('auto.create.topics.enable'),
    deleteTopicEnable: get('delete.topic.enable'),
    messageMaxBytes: get('message.max.bytes'),
    logSegmentBytes: get('log.segment.bytes'),
    logRollMs: get<number | null>('log.roll.ms') ?? get<number>('log.roll.hours') * 3_600_000,
    logIndexSizeMaxBytes: get('log.index.size.max.bytes'),
    logIndexIntervalBytes: get('log.index.interval.bytes'),
    logFlushIntervalMessages: get('log.flush.interval.messages'),
    logFlushIntervalMs: flushMs ?? Number.POSITIVE_INFINITY,
    logRetentionMs: retentionMs < 0 ? Number.POSITIVE_INFINITY : retentionMs,
    logRetentionBytes: get('log.retention.bytes'),
    logMessageTimestampType: get('log.message.timestamp.type'),
    logCleanupPolicy: get('log.cleanup.policy'),
    logRetentionCheckIntervalMs: get('log.retention.check.interval.ms'),
    logSegmentDeleteDelayMs: get('log.segment.delete.delay.ms'),
    logCleanerEnable: get('log.cleaner.enable'),
    logCleanerBackoffMs: get('log.cleaner.backoff.ms'),
    logCleanerDedupeBufferSize: get('log.cleaner.dedupe.buffer.size'),
    logCleanerDeleteRetentionMs: get('log.cleaner.delete.retention.ms'),
    logCleanerMinCompactionLagMs: get('log.cleaner.min.compaction.lag.ms'),
    logCleanerMaxCompactionLagMs: get('log.cleaner.max.compaction.lag.ms'),
    logCleanerMinCleanableRatio: get('log.cleaner.min.cleanable.ratio'),
    socketRequestMaxBytes: get('socket.request.max.bytes'),
    connectionsMaxIdleMs: get('connections.max.idle.ms'),
    maxConnections: get('max.connections'),
    offsetsTopicNumPartitions: get('offsets.topic.num.partitions'),
    offsetsRetentionMinutes: get('offsets.retention.minutes'),
    groupInitialRebalanceDelayMs: get('group.initial.rebalance.delay.ms'),
    groupMinSessionTimeoutMs: get('group.min.session.timeout.ms'),
    groupMaxSessionTimeoutMs: get('group.max.session.timeout.ms'),
    groupMaxSize: get('group.max.size'),
    fetchMaxBytes: get('fetch.max.bytes'),
    compressionType: get('compression.type'),
    minInsyncReplicas: get('min.insync.replicas'),
    tailCacheBytes: get('conveyor.tail.cache.bytes'),
    transactionStateLogNumPartitions: get('transaction.state.log.num.partitions'),
    transactionMaxTimeoutMs: get('transaction.max.timeout.ms'),
    transactionalIdExpirationMs: get('transactional.id.expiration.ms'),
    transactionAbortTimedOutTransactionCleanupIntervalMs: get('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
    producerIdExpirationMs: get('producer.id.expiration.ms'),
    producerIdExpirationCheckIntervalMs: get('producer.id.expiration.check.interval.ms'),
    values,
    explicitKeys,
  };
}
