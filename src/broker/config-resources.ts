// Config resources as Kafka's admin APIs see them: a topic's or a broker's every config with its
// value, where the value comes from (topic override, dynamic per-broker or cluster-default broker
// config, server.properties, Kafka's default) and the synonyms behind it; the effective broker
// config once dynamic broker configs apply; and the full log settings each topic's logs get.
import { type ConfigKey, type ConfigValue, checkedConfigValue } from '../base/config-def.js';
import type { ConfigSchema } from '../metadata/config-changes.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import { ConfigResourceType } from '../metadata/metadata-record.js';
import { ConfigSource, formatConfigValue, topicConfigKeysByName } from '../metadata/topic-config.js';
import { type LogConfig, resolveLogConfig } from '../log/log-config.js';
import { type BrokerConfig, brokerConfigKeys, resolveBrokerConfig } from './broker-config.js';
import type { BrokerServices } from './broker-services.js';
import { brokerLogDefaults, topicLogOverrides } from './log-configs.js';

/** The server.properties keys each topic config falls back to, in Kafka's order of precedence. */
const topicSynonyms: Readonly<Record<string, readonly string[]>> = {
  'cleanup.policy': ['log.cleanup.policy'],
  'compression.type': ['compression.type'],
  'delete.retention.ms': ['log.cleaner.delete.retention.ms'],
  'file.delete.delay.ms': ['log.segment.delete.delay.ms'],
  'flush.messages': ['log.flush.interval.messages'],
  'flush.ms': ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'],
  'index.interval.bytes': ['log.index.interval.bytes'],
  'max.compaction.lag.ms': ['log.cleaner.max.compaction.lag.ms'],
  'max.message.bytes': ['message.max.bytes'],
  'message.downconversion.enable': ['log.message.downconversion.enable'],
  'message.timestamp.after.max.ms': ['log.message.timestamp.after.max.ms'],
  'message.timestamp.before.max.ms': ['log.message.timestamp.before.max.ms'],
  'message.timestamp.difference.max.ms': ['log.message.timestamp.difference.max.ms'],
  'message.timestamp.type': ['log.message.timestamp.type'],
  'min.cleanable.dirty.ratio': ['log.cleaner.min.cleanable.ratio'],
  'min.compaction.lag.ms': ['log.cleaner.min.compaction.lag.ms'],
  'min.insync.replicas': ['min.insync.replicas'],
  preallocate: ['log.preallocate'],
  'retention.bytes': ['log.retention.bytes'],
  'retention.ms': ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  'segment.bytes': ['log.segment.bytes'],
  'segment.index.bytes': ['log.index.size.max.bytes'],
  'segment.jitter.ms': ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
  'segment.ms': ['log.roll.ms', 'log.roll.hours'],
  'unclean.leader.election.enable': ['unclean.leader.election.enable'],
};

const brokerKeysByName = new Map(brokerConfigKeys.map((configKey) => [configKey.name, configKey]));

/** Broker keys that change at run time (Kafka's dynamic log configs): the defaults of topic configs. */
const dynamicBrokerKeys: ReadonlySet<string> = new Set(Object.values(topicSynonyms).flat());

/** Kafka's ConfigType codes for DescribeConfigs v3+. */
const configTypeCodes: Readonly<Record<ConfigKey['type'], number>> = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7, password: 9 };

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: number;
}

export interface DescribedConfig {
  name: string;
  value: string | null;
  source: number;
  readOnly: boolean;
  isSensitive: boolean;
  configType: number;
  synonyms: ConfigSynonym[];
}

/** Validates AlterConfigs against topic keys and the broker keys that may change at run time. */
export const configSchema: ConfigSchema = {
  keyFor(resourceType, name) {
    if (resourceType === ConfigResourceType.topic) return topicConfigKeysByName.get(name);
    if (resourceType === ConfigResourceType.broker) return brokerKeysByName.get(name);
    return undefined;
  },
  readOnlyReason(resourceType, name) {
    if (resourceType !== ConfigResourceType.broker || dynamicBrokerKeys.has(name)) return undefined;
    return 'cannot be changed while the broker runs; set it in server.properties';
  },
};

/** A broker key's textual value at each level that sets it, most specific first. */
function brokerLevels(name: string, broker: BrokerServices): ConfigSynonym[] {
  const { image, config, nodeId } = broker;
  const levels: ConfigSynonym[] = [];
  const perBroker = image.resourceConfigs(ConfigResourceType.broker, String(nodeId)).get(name);
  if (perBroker !== undefined) levels.push({ name, value: perBroker, source: ConfigSource.dynamicBrokerConfig });
  const clusterDefault = image.resourceConfigs(ConfigResourceType.broker, '').get(name);
  if (clusterDefault !== undefined) levels.push({ name, value: clusterDefault, source: ConfigSource.dynamicDefaultBrokerConfig });
  if (config.explicitKeys.has(name)) levels.push({ name, value: formatConfigValue(config.values.get(name)), source: ConfigSource.staticBrokerConfig });
  const defaultValue = brokerKeysByName.get(name)?.defaultValue;
  if (defaultValue !== null && defaultValue !== undefined) levels.push({ name, value: formatConfigValue(defaultValue), source: ConfigSource.defaultConfig });
  return levels;
}

/** A broker synonym's value in the topic config's unit: `.hours` and `.minutes` keys become ms. */
function inTopicUnit(synonym: ConfigSynonym): string | null {
  const factor = synonym.name.endsWith('.hours') ? 3_600_000 : synonym.name.endsWith('.minutes') ? 60_000 : 1;
  if (factor === 1 || synonym.value === null) return synonym.value;
  const number = Number(synonym.value);
  return number < 0 ? String(number) : String(number * factor);
}

function describeTopicConfig(configKey: ConfigKey, overrides: ReadonlyMap<string, string>, broker: BrokerServices): DescribedConfig {
  const synonyms: ConfigSynonym[] = [];
  const override = overrides.get(configKey.name);
  if (override !== undefined) synonyms.push({ name: configKey.name, value: override, source: ConfigSource.dynamicTopicConfig });
  for (const brokerKey of topicSynonyms[configKey.name] ?? []) {
    if (brokerKeysByName.has(brokerKey)) synonyms.push(...brokerLevels(brokerKey, broker));
  }
  const first = synonyms[0];
  return {
    name: configKey.name,
    value: first ? inTopicUnit(first) : formatConfigValue(configKey.defaultValue),
    source: first ? first.source : ConfigSource.defaultConfig,
    readOnly: false,
    isSensitive: false,
    configType: configTypeCodes[configKey.type],
    synonyms,
  };
}

function describeBrokerConfig(configKey: ConfigKey, broker: BrokerServices): DescribedConfig {
  const group = Object.values(topicSynonyms).find((names) => names.includes(configKey.name)) ?? [configKey.name];
  const own = brokerLevels(configKey.name, broker);
  const synonyms = group.filter((name) => brokerKeysByName.has(name)).flatMap((name) => brokerLevels(name, broker));
  const isSensitive = configKey.type === 'password';
  return {
    name: configKey.name,
    value: isSensitive ? null : (own[0]?.value ?? null),
    source: own[0]?.source ?? ConfigSource.defaultConfig,
    readOnly: !dynamicBrokerKeys.has(configKey.name),
    isSensitive,
    configType: configTypeCodes[configKey.type],
    synonyms: isSensitive ? synonyms.map((synonym) => ({ ...synonym, value: null })) : synonyms,
  };
}

/** Every config of a topic (or those named in `keys`), as DescribeConfigs reports them. */
export function describeTopicConfigs(broker: BrokerServices, topic: string, keys: readonly string[] | null): DescribedConfig[] {
  const overrides = broker.image.resourceConfigs(ConfigResourceType.topic, topic);
  return [...topicConfigKeysByName.values()]
    .filter((configKey) => keys === null || keys.includes(configKey.name))
    .map((configKey) => describeTopicConfig(configKey, overrides, broker));
}

/** Every config of this broker (or those named in `keys`), as DescribeConfigs reports them. */
export function describeBrokerConfigs(broker: BrokerServices, keys: readonly string[] | null): DescribedConfig[] {
  return brokerConfigKeys
    .filter((configKey) => keys === null || keys.includes(configKey.name))
    .map((configKey) => describeBrokerConfig(configKey, broker));
}

const effectiveConfigs = new WeakMap<MetadataImage, { version: number; config: BrokerConfig }>();

/**
 * The broker config with dynamic broker configs applied (per-broker over cluster default over
 * server.properties), recomputed only when the metadata image changed.
 */
export function effectiveBrokerConfig(broker: BrokerServices): BrokerConfig {
  const { image, config, nodeId } = broker;
  const cached = effectiveConfigs.get(image);
  if (cached && cached.version === image.version) return cached.config;
  const input = new Map<string, string>();
  for (const name of config.explicitKeys) input.set(name, formatConfigValue(config.values.get(name)) ?? '');
  for (const resourceName of ['', String(nodeId)]) {
    for (const [name, value] of image.resourceConfigs(ConfigResourceType.broker, resourceName)) {
      if (brokerKeysByName.has(name)) input.set(name, value);
    }
  }
  let effective = config;
  try {
    effective = resolveBrokerConfig(input);
  } catch (error) {
    broker.logger.warn('dynamic broker configs do not resolve; using server.properties alone', { error: String(error) });
  }
  effectiveConfigs.set(image, { version: image.version, config: effective });
  return effective;
}

/** The complete log settings of a topic: its overrides over the effective broker defaults. */
export function topicLogConfig(broker: BrokerServices, topic: string): LogConfig {
  const overrides = topicLogOverrides(broker.image.resourceConfigs(ConfigResourceType.topic, topic));
  return resolveLogConfig(brokerLogDefaults(effectiveBrokerConfig(broker)), overrides);
}

/**
 * Gives every hosted log of `topics` (every hosted log when null) its current settings, so a
 * changed or removed override, or a new broker default, applies at once.
 */
export function applyLogConfigs(broker: BrokerServices, topics: ReadonlySet<string> | null): void {
  const configs = new Map<string, LogConfig>();
  for (const partition of broker.replicaManager.all()) {
    if (topics !== null && !topics.has(partition.topic)) continue;
    let config = configs.get(partition.topic);
    if (!config) {
      config = topicLogConfig(broker, partition.topic);
      configs.set(partition.topic, config);
    }
    broker.replicaManager.logManager.updateConfig(partition.topic, partition.partitionIndex, config);
  }
}

/** The value of a topic config that the log itself does not carry (timestamps, compression). */
export function topicConfigValue(broker: BrokerServices, topic: string, name: string): ConfigValue {
  const configKey = topicConfigKeysByName.get(name);
  if (!configKey) return null;
  const described = describeTopicConfig(configKey, broker.image.resourceConfigs(ConfigResourceType.topic, topic), broker);
  return described.value === null ? configKey.defaultValue : checkedConfigValue(configKey, described.value);
}

/** The cluster-wide dynamic broker defaults (a broker resource named ''), as Kafka lists them. */
export function describeClusterDefaultConfigs(broker: BrokerServices, keys: readonly string[] | null): DescribedConfig[] {
  return [...broker.image.resourceConfigs(ConfigResourceType.broker, '')]
    .filter(([name]) => keys === null || keys.includes(name))
    .map(([name, value]) => {
      const synonym = { name, value, source: ConfigSource.dynamicDefaultBrokerConfig };
      const type = brokerKeysByName.get(name)?.type ?? 'string';
      return { ...synonym, readOnly: false, isSensitive: type === 'password', configType: configTypeCodes[type], synonyms: [synonym] };
    });
}
