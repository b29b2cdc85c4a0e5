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
}

const FOREVER = Number.POSITIVE_INFINITY;

function topicKey(
  name: string,
  type: ConfigKey['type'],
  defaultValue: ConfigValue,
  brokerSynonym?: string,
  validate?: ConfigValidator,
): TopicConfigKey {
  return { name, type, defaultValue, ...(brokerSynonym ? { brokerSynonym } : {}), ...(validate ? { validate } : {}) };
}

const cleanupPolicies: ConfigValidator = (policies) =>
  Array.isArray(policies) && policies.length > 0 && policies.every((policy) => policy === 'delete' || policy === 'compact')
    ? undefined
    : `must be a list of delete and compact, got '${String(policies)}'`;

export const topicConfigKeys: readonly TopicConfigKey[] = [
  topicKey('cleanup.policy', 'list', ['delete'], 'log.cleanup.policy', cleanupPolicies),
  topicKey('compression.type', 'string', 'producer', 'compression.type',
    oneOf('producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd')),
  topicKey('delete.retention.ms', 'long', 86400000, undefined, atLeast(0)),
  topicKey('file.delete.delay.ms', 'long', 60000, undefined, atLeast(0)),
  topicKey('flush.messages', 'long', FOREVER, 'log.flush.interval.messages', atLeast(1)),
  topicKey('flush.ms', 'long', FOREVER, 'log.flush.interval.ms', atLeast(0)),
  topicKey('index.interval.bytes', 'int', 4096, 'log.index.interval.bytes', atLeast(0)),
  topicKey('max.compaction.lag.ms', 'long', FOREVER, undefined, atLeast(1)),
  topicKey('max.message.bytes', 'int', 1048588, 'message.max.bytes', atLeast(0)),
  topicKey('message.timestamp.type', 'string', 'CreateTime', 'log.message.timestamp.type',
    oneOf('CreateTime', 'LogAppendTime')),
  topicKey('message.timestamp.before.max.ms', 'long', FOREVER, undefined, atLeast(0)),
  topicKey('message.timestamp.after.max.ms', 'long', FOREVER, undefined, atLeast(0)),
  topicKey('message.timestamp.difference.max.ms', 'long', FOREVER, undefined, atLeast(0)),
  topicKey('min.cleanable.dirty.ratio', 'double', 0.5, undefined, between(0, 1)),
  topicKey('min.compaction.lag.ms', 'long', 0, undefined, atLeast(0)),
  topicKey('min.insync.replicas', 'int', 1, 'min.insync.replicas', atLeast(1)),
  topicKey('preallocate', 'boolean', false),
  topicKey('retention.bytes', 'long', -1, 'log.retention.bytes'),
  topicKey('retention.ms', 'long', 604800000, 'log.retention.ms', atLeast(-1)),
  topicKey('segment.bytes', 'int', 1073741824, 'log.segment.bytes', atLeast(14)),
  topicKey('segment.index.bytes', 'int', 10485760, 'log.index.size.max.bytes', atLeast(4)),
  topicKey('segment.jitter.ms', 'long', 0, undefined, atLeast(0)),
  topicKey('segment.ms', 'long', 604800000, 'log.roll.ms', atLeast(1)),
  topicKey('unclean.leader.election.enable', 'boolean', false),
  topicKey('message.downconversion.enable', 'boolean', true),
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

/** Kafka's text for a value: lists comma-joined, "forever" as Long.MAX_VALUE. */
export function formatConfigValue(value: ConfigValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.join(',');
  if (value === Number.POSITIVE_INFINITY) return '9223372036854775807';
  return String(value);
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
