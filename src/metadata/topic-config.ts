// Topic-level configuration keys with Kafka's names, defaults, validation and the broker key each
// one falls back to (its synonym), so DescribeConfigs can report where a value comes from.
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

export interface TopicConfigKey extends ConfigKey {
  /** The server.properties key that supplies the default when the topic does not set it. */
  readonly brokerSynonym?: string;
  /**
   * Every server.properties key behind the default, most preferred first (Kafka's synonym group:
   * `log.retention.ms`, then `.minutes`, then `.hours`); starts with `brokerSynonym`.
   */
  readonly brokerSynonyms: readonly string[];
}

const FOREVER = Number.POSITIVE_INFINITY;

function topicKey(
  name: string,
  type: ConfigKey['type'],
  defaultValue: ConfigValue,
  brokerSynonyms: readonly string[],
  documentation: string,
  validate?: ConfigValidator,
): TopicConfigKey {
  return {
    name,
    type,
    defaultValue,
    documentation,
    brokerSynonyms,
    ...(brokerSynonyms[0] ? { brokerSynonym: brokerSynonyms[0] } : {}),
    ...(validate ? { validate } : {}),
  };
}

/** delete, compact, both, or (Kafka 4.1+) none at all: then neither retention nor the cleaner removes anything. */
export const cleanupPolicies: ConfigValidator = (policies) =>
  Array.isArray(policies) && policies.every((policy) => policy === 'delete' || policy === 'compact')
    ? undefined
    : `must be a list of delete and compact (or empty), got '${String(policies)}'`;

/** Kafka's throttled-replicas lists: `*`, or `partition:brokerId` pairs. */
const throttledReplicas: ConfigValidator = (entries) => {
  if (!Array.isArray(entries)) return 'must be a list';
  if (entries.length === 1 && entries[0] === '*') return undefined;
  const bad = entries.find((item) => !/^\d+:\d+$/.test(item));
  return bad === undefined ? undefined : `must be * or a list of partition:brokerId pairs, got '${bad}'`;
};

function levelIn(min: number, max: number, orAlso?: number): ConfigValidator {
  return (value) =>
    typeof value === 'number' && value !== orAlso && (value < min || value > max)
      ? `must be in [${min}, ${max}]${orAlso === undefined ? '' : ` or ${orAlso}`}, got ${value}`
      : undefined;
}

const RETENTION_SYNONYMS = ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'];

/**
 * Kafka 4.x's topic configs (LogConfig / the "Topic Configs" page): name, type, default, the broker
 * keys behind the default and Kafka's validation. message.format.version,
 * message.downconversion.enable and message.timestamp.difference.max.ms were removed in Kafka 4.0
 * and are gone here too.
 *
 * Stored and described but not acted on yet: compression.*.level (codecs use their own default
 * level), follower/leader.replication.throttled.replicas (no replication throttling), preallocate,
 * segment.jitter.ms, unclean.leader.election.enable, and the tiered-storage keys
 * (remote.storage.enable, remote.log.copy.disable, remote.log.delete.on.disable,
 * local.retention.ms/bytes: there is no remote storage).
 *
 * Deviation: segment.bytes keeps a minimum of 14 bytes (Kafka 4.0 raised it to 1 MiB) because
 * small segments are how retention and compaction are exercised in tests.
 */
export const topicConfigKeys: readonly TopicConfigKey[] = [
  topicKey('cleanup.policy', 'list', ['delete'], ['log.cleanup.policy'],
    'Which cleanup the log gets: delete (retention by time and size), compact (keep the latest record per key), both, or an empty list for neither.',
    cleanupPolicies),
  topicKey('compression.gzip.level', 'int', -1, ['compression.gzip.level'],
    'The gzip level used when the topic recompresses to gzip; -1 picks the codec default.', levelIn(1, 9, -1)),
  topicKey('compression.lz4.level', 'int', 9, ['compression.lz4.level'],
    'The lz4 level used when the topic recompresses to lz4.', levelIn(1, 17)),
  topicKey('compression.type', 'string', 'producer', ['compression.type'],
    'The codec batches are stored with; producer keeps whatever codec the producer used.',
    oneOf('producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd')),
  topicKey('compression.zstd.level', 'int', 3, ['compression.zstd.level'],
    'The zstd level used when the topic recompresses to zstd.', levelIn(-131072, 22)),
  topicKey('delete.retention.ms', 'long', 86400000, ['log.cleaner.delete.retention.ms'],
    'How long a compacted topic keeps a tombstone after the cleaner first passed over it.', atLeast(0)),
  topicKey('file.delete.delay.ms', 'long', 60000, ['log.segment.delete.delay.ms'],
    'How long a removed segment file lingers on disk before it is really deleted.', atLeast(0)),
  topicKey('flush.messages', 'long', FOREVER, ['log.flush.interval.messages'],
    'Force an fsync after this many appended messages; the maximum leaves flushing to the OS.', atLeast(1)),
  topicKey('flush.ms', 'long', FOREVER, ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'],
    'Force an fsync once unflushed data is this old; the maximum leaves flushing to the OS.', atLeast(0)),
  topicKey('follower.replication.throttled.replicas', 'list', [], [],
    'Replicas (partition:broker pairs, or *) whose follower-side replication traffic is throttled.', throttledReplicas),
  topicKey('index.interval.bytes', 'int', 4096, ['log.index.interval.bytes'],
    'How many log bytes pass between two entries of the offset index.', atLeast(0)),
  topicKey('leader.replication.throttled.replicas', 'list', [], [],
    'Replicas (partition:broker pairs, or *) whose leader-side replication traffic is throttled.', throttledReplicas),
  topicKey('local.retention.bytes', 'long', -2, ['log.local.retention.bytes'],
    'With tiered storage, the most bytes a partition keeps on local disk; -2 means retention.bytes.', atLeast(-2)),
  topicKey('local.retention.ms', 'long', -2, ['log.local.retention.ms'],
    'With tiered storage, how long segments stay on local disk; -2 means retention.ms.', atLeast(-2)),
  topicKey('max.compaction.lag.ms', 'long', FOREVER, ['log.cleaner.max.compaction.lag.ms'],
    'The longest a record may wait before the cleaner must consider compacting it.', atLeast(1)),
  topicKey('max.message.bytes', 'int', 1048588, ['message.max.bytes'],
    'The largest record batch the topic accepts, in bytes.', atLeast(0)),
  topicKey('message.timestamp.after.max.ms', 'long', 3600000, ['log.message.timestamp.after.max.ms'],
    'How far ahead of the broker clock a CreateTime timestamp may be before the batch is refused.', atLeast(0)),
  topicKey('message.timestamp.before.max.ms', 'long', FOREVER, ['log.message.timestamp.before.max.ms'],
    'How far behind the broker clock a CreateTime timestamp may be before the batch is refused.', atLeast(0)),
  topicKey('message.timestamp.type', 'string', 'CreateTime', ['log.message.timestamp.type'],
    'Whether record timestamps are kept as the producer set them (CreateTime) or stamped by the broker (LogAppendTime).',
    oneOf('CreateTime', 'LogAppendTime')),
  topicKey('min.cleanable.dirty.ratio', 'double', 0.5, ['log.cleaner.min.cleanable.ratio'],
    'The share of uncompacted bytes in a log that makes it worth a cleaner pass.', between(0, 1)),
  topicKey('min.compaction.lag.ms', 'long', 0, ['log.cleaner.min.compaction.lag.ms'],
    'The youngest a record may be and still be compacted away.', atLeast(0)),
  topicKey('min.insync.replicas', 'int', 1, ['min.insync.replicas'],
    'How many in-sync replicas an acks=all write needs before it succeeds.', atLeast(1)),
  topicKey('preallocate', 'boolean', false, ['log.preallocate'],
    'Whether a new segment file is allocated at its full size up front.'),
  topicKey('remote.log.copy.disable', 'boolean', false, [],
    'With tiered storage, stop copying new segments to remote storage while still reading remote data.'),
  topicKey('remote.log.delete.on.disable', 'boolean', false, [],
    'With tiered storage, whether turning it off for the topic deletes the remote copies.'),
  topicKey('remote.storage.enable', 'boolean', false, [],
    'Whether the topic tiers old segments to remote storage.'),
  topicKey('retention.bytes', 'long', -1, ['log.retention.bytes'],
    'The size a partition may grow to before its oldest segments are deleted; -1 means no limit.'),
  topicKey('retention.ms', 'long', 604800000, RETENTION_SYNONYMS,
    'How long records are kept before their segment may be deleted; -1 keeps them forever.', atLeast(-1)),
  topicKey('segment.bytes', 'int', 1073741824, ['log.segment.bytes'],
    'The size at which the active segment is closed and a new one begun.', atLeast(14)),
  topicKey('segment.index.bytes', 'int', 10485760, ['log.index.size.max.bytes'],
    'The most bytes the offset and time indexes of one segment may use.', atLeast(4)),
  topicKey('segment.jitter.ms', 'long', 0, ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
    'A random amount taken off segment.ms so that many segments do not roll at once.', atLeast(0)),
  topicKey('segment.ms', 'long', 604800000, ['log.roll.ms', 'log.roll.hours'],
    'How old the active segment may get before it is closed even if not full.', atLeast(1)),
  topicKey('unclean.leader.election.enable', 'boolean', false, ['unclean.leader.election.enable'],
    'Whether a replica outside the ISR may become leader as a last resort, at the risk of losing records.'),
];

export const topicConfigKeysByName: ReadonlyMap<string, TopicConfigKey> = new Map(
  topicConfigKeys.map((configKey) => [configKey.name, configKey]),
);

/** Checks one topic config; throws ConfigError naming the key for unknown keys and bad values. */
export function validateTopicConfig(name: string, value: string | null): void {
  const configKey = topicConfigKeysByName.get(name);
  if (!configKey) throw new ConfigError(name, 'unknown topic configuration key');
  if (value === null) throw new ConfigError(name, 'a value is required');
  checkedConfigValue(configKey, value);
}

/** The typed value of a topic config given the topic's own overrides, or undefined if not overridden. */
export function topicConfigOverride(overrides: ReadonlyMap<string, string>, name: string): ConfigValue | undefined {
  const text = overrides.get(name);
  const configKey = topicConfigKeysByName.get(name);
  if (text === undefined || !configKey) return undefined;
  return checkedConfigValue(configKey, text);
}

/** Kafka's ConfigSource codes, as DescribeConfigs and CreateTopics v5+ report them. */
export const ConfigSource = {
  unknown: 0,
  dynamicTopicConfig: 1,
  dynamicBrokerConfig: 2,
  dynamicDefaultBrokerConfig: 3,
  staticBrokerConfig: 4,
  defaultConfig: 5,
} as const;

export interface EffectiveConfig {
  name: string;
  value: string | null;
  source: number;
}

/** Kafka's text for a value: lists comma-joined, "forever" as Long.MAX_VALUE, doubles as Java prints them. */
export function formatConfigValue(value: ConfigValue | undefined, type?: ConfigKey['type']): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.join(',');
  if (value === Number.POSITIVE_INFINITY) return '9223372036854775807';
  if (type === 'double' && typeof value === 'number') return javaDouble(value);
  return String(value);
}

/** Java's Double.toString: a decimal point always, scientific notation below 10^-3 and from 10^7. */
function javaDouble(value: number): string {
  const magnitude = Math.abs(value);
  if (value === 0 || (magnitude >= 1e-3 && magnitude < 1e7)) {
    const text = String(value);
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa, exponent] = value.toExponential().split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exponent.replace('+', '')}`;
}

export interface BrokerConfigView {
  values: ReadonlyMap<string, ConfigValue>;
  explicitKeys: ReadonlySet<string>;
}

/** Every topic config with its value and where the value comes from. */
export function effectiveTopicConfigs(overrides: ReadonlyMap<string, string>, broker: BrokerConfigView): EffectiveConfig[] {
  return topicConfigKeys.map((configKey) => {
    const override = overrides.get(configKey.name);
    if (override !== undefined) return { name: configKey.name, value: override, source: ConfigSource.dynamicTopicConfig };
    const synonym = configKey.brokerSynonym;
    if (synonym && broker.explicitKeys.has(synonym)) {
      return { name: configKey.name, value: formatConfigValue(broker.values.get(synonym)), source: ConfigSource.staticBrokerConfig };
    }
    return { name: configKey.name, value: formatConfigValue(configKey.defaultValue), source: ConfigSource.defaultConfig };
  });
}
