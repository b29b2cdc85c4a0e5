// Config resources as Kafka's admin APIs see them: a topic's, a broker's or a group's every config
// with its value, where the value comes from (topic override, dynamic per-broker or cluster-default
// broker config, server.properties, group config, Kafka's default) and the synonyms behind it; the
// effective broker config once dynamic broker configs apply; and the full log settings each topic's
// logs get.
import { type ConfigKey, type ConfigValue, ConfigError, checkedConfigValue } from '../base/config-def.js';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import type { ConfigSchema } from '../metadata/config-changes.js';
import { GROUP_CONFIG_SOURCE, checkGroupConfigs, groupConfigDefault, groupConfigKeys, groupConfigKeysByName } from '../metadata/group-configs.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import { ConfigResourceType } from '../metadata/metadata-record.js';
import { ConfigSource, type TopicConfigKey, formatConfigValue, topicConfigKeys, topicConfigKeysByName } from '../metadata/topic-config.js';
import { type LogConfig, resolveLogConfig } from '../log/log-config.js';
import { ReplicationThrottle, UNTHROTTLED_RATE } from '../replication/replication-quota.js';
import { type BrokerConfig, ConfigRequirementError, brokerConfigKeys, brokerQuotaConfigKeys, dynamicBrokerConfigs, listenerOnlySecurityKeys, listenerPrefixed, resolveBrokerConfig } from './broker-config.js';
import type { BrokerServices } from './broker-services.js';
import { brokerLogDefaults, topicLogOverrides } from './log-configs.js';

const brokerKeysByName = new Map(brokerConfigKeys.map((configKey) => [configKey.name, configKey]));
/** The dynamic-only quota keys: set and described at run time, never part of BrokerConfig. */
const quotaKeysByName = new Map(brokerQuotaConfigKeys.map((configKey) => [configKey.name, configKey]));

/** Kafka's ConfigType codes for DescribeConfigs v3+. */
const configTypeCodes: Readonly<Record<ConfigKey['type'], number>> = { boolean: 1, string: 2, int: 3, short: 4, long: 5, double: 6, list: 7, class: 8, password: 9 };

/** Kafka's listener configs that carry a SASL mechanism between prefix and key (listener.name.l.plain.sasl.jaas.config). */
const listenerMechanismKeys = ['sasl.jaas.config', 'sasl.login.callback.handler.class', 'sasl.login.class', 'sasl.server.callback.handler.class', 'connections.max.reauth.ms'];

/** Listener keys Kafka lets the cluster default carry: the rest of the listener and security keys are per broker. */
const clusterLevelListenerKeys: ReadonlySet<string> = new Set(['max.connections', 'max.connection.creation.rate', 'num.network.threads']);

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
  documentation: string | null;
}

/** The base key behind a listener-prefixed key (mechanism-prefixed SASL keys included). */
function listenerBaseName(name: string): string | undefined {
  const prefixed = listenerPrefixed(name);
  if (!prefixed) return undefined;
  return listenerMechanismKeys.find((mechanismKey) => prefixed.baseName.endsWith(`.${mechanismKey}`)) ?? prefixed.baseName;
}

/** The definition of a broker key; a listener-prefixed key takes its base key's type and validation. */
function brokerKeyFor(name: string): ConfigKey | undefined {
  const exact = brokerKeysByName.get(name) ?? quotaKeysByName.get(name);
  if (exact) return exact;
  const baseName = listenerBaseName(name);
  const base = baseName === undefined ? undefined : brokerKeysByName.get(baseName);
  return base ? { ...base, name } : undefined;
}

/** Why a broker key cannot be set on `resourceName` at run time (Kafka answers INVALID_REQUEST), or undefined. */
function brokerReadOnlyReason(name: string, resourceName: string): string | undefined {
  const baseName = listenerBaseName(name);
  if (baseName !== undefined) {
    if (!dynamicBrokerConfigs.has(baseName)) return `${baseName} cannot be changed while the broker runs, not even per listener`;
    if (resourceName === '' && !clusterLevelListenerKeys.has(baseName)) return 'a listener config cannot be a cluster default; give a broker id';
    return undefined;
  }
  const mode = dynamicBrokerConfigs.get(name);
  if (mode === undefined) return 'cannot be changed while the broker runs; set it in server.properties';
  if (listenerOnlySecurityKeys.has(name)) return 'can be changed at run time only per listener, as listener.name.<listener>.' + name;
  if (mode === 'per-broker' && resourceName === '') return 'cannot be a cluster default; give a broker id';
  return undefined;
}

/**
 * Validates AlterConfigs against topic keys and the broker keys Kafka lets change at run time, and
 * a broker resource's change as a whole against this broker's config (checkBrokerOverrides).
 */
export function configSchemaFor(broker: Pick<BrokerServices, 'config' | 'image' | 'nodeId'>): ConfigSchema {
  return {
    keyFor(resourceType, name) {
      if (resourceType === ConfigResourceType.topic) return topicConfigKeysByName.get(name);
      if (resourceType === ConfigResourceType.broker) return brokerKeyFor(name);
      if (resourceType === ConfigResourceType.group) return groupConfigKeysByName.get(name);
      return undefined;
    },
    readOnlyReason(resourceType, name, resourceName) {
      if (resourceType !== ConfigResourceType.broker) return undefined;
      return brokerReadOnlyReason(name, resourceName);
    },
    checkOverrides(resourceType, resourceName, overrides) {
      if (resourceType === ConfigResourceType.broker) checkBrokerOverrides(broker, resourceName, overrides);
      // A group's configs against this broker's group.consumer.* and group.share.* bounds.
      if (resourceType === ConfigResourceType.group) checkGroupConfigs(overrides, broker.config);
    },
  };
}

/**
 * Kafka's check of a dynamic broker config change as a whole (ConfigAdminManager
 * .validateBrokerConfigChange, made by the broker before it forwards the request): the broker's
 * config with the change in place must pass KafkaConfig's rules across keys, resolved as this
 * broker resolves its effective config (server.properties, the cluster default over it, the
 * per-broker configs over that; the changed level as the change leaves it). Kafka answers one that
 * does not with INVALID_REQUEST and the exception's message (a `require`'s "requirement failed:
 * ..."); Conveyor's broker would otherwise store it and fall back to server.properties with a
 * warning (effectiveBrokerConfig). Such as max.connections.per.ip=0 without
 * max.connections.per.ip.overrides at any level.
 */
function checkBrokerOverrides(broker: Pick<BrokerServices, 'config' | 'image' | 'nodeId'>, resourceName: string, overrides: ReadonlyMap<string, string>): void {
  const clusterDefault = resourceName === '' ? overrides : broker.image.resourceConfigs(ConfigResourceType.broker, '');
  const perBroker = resourceName === '' ? broker.image.resourceConfigs(ConfigResourceType.broker, String(broker.nodeId)) : overrides;
  try {
    resolveWithDynamicConfigs(broker.config, [clusterDefault, perBroker]);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new KafkaError(ErrorCode.INVALID_REQUEST, error instanceof ConfigRequirementError ? `requirement failed: ${error.requirement}` : error.message);
  }
}

/**
 * server.properties with the dynamic broker configs of `levels` over it, later levels winning;
 * listener and security keys are left out (stored only: listeners bind at start from
 * server.properties). Throws ConfigError when the result does not resolve.
 */
function resolveWithDynamicConfigs(config: BrokerConfig, levels: readonly ReadonlyMap<string, string>[]): BrokerConfig {
  const input = serverPropertiesOf(config);
  for (const level of levels) {
    for (const [name, value] of level) {
      if (brokerKeysByName.has(name) && dynamicBrokerConfigs.get(name) !== 'per-broker') input.set(name, value);
    }
  }
  return resolveBrokerConfig(input);
}

/** Kafka's synonym group of a broker key: the keys that set the same thing, most preferred first. */
function brokerSynonymGroup(name: string): string[] {
  for (const group of [
    ['log.roll.ms', 'log.roll.hours'],
    ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
    ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  ]) {
    if (group.includes(name)) return group;
  }
  if (name === 'log.flush.interval.ms') return ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'];
  const baseName = listenerBaseName(name);
  return baseName === undefined ? [name] : [name, baseName];
}

interface ConfigLevels {
  perBroker: ReadonlyMap<string, string>;
  clusterDefault: ReadonlyMap<string, string>;
}

function levelsOf(broker: BrokerServices): ConfigLevels {
  return {
    perBroker: broker.image.resourceConfigs(ConfigResourceType.broker, String(broker.nodeId)),
    clusterDefault: broker.image.resourceConfigs(ConfigResourceType.broker, ''),
  };
}

/** A broker key's textual value at each level that has one, most specific first. */
function brokerLevels(name: string, broker: BrokerServices, levels: ConfigLevels): ConfigSynonym[] {
  const { config } = broker;
  const found: ConfigSynonym[] = [];
  const perBroker = levels.perBroker.get(name);
  if (perBroker !== undefined) found.push({ name, value: perBroker, source: ConfigSource.dynamicBrokerConfig });
  const clusterDefault = levels.clusterDefault.get(name);
  if (clusterDefault !== undefined) found.push({ name, value: clusterDefault, source: ConfigSource.dynamicDefaultBrokerConfig });
  const configKey = brokerKeysByName.get(name) ?? quotaKeysByName.get(name);
  if (config.explicitKeys.has(name)) found.push({ name, value: formatConfigValue(config.values.get(name), configKey?.type), source: ConfigSource.staticBrokerConfig });
  const defaultValue = configKey?.defaultValue;
  if (defaultValue !== null && defaultValue !== undefined) found.push({ name, value: formatConfigValue(defaultValue, configKey?.type), source: ConfigSource.defaultConfig });
  return found;
}

/**
 * Kafka's synonym list: every level (per-broker dynamic, cluster default, server.properties,
 * default) in turn, each with the group's keys that have a value there; then everything before
 * the first entry for `primary` is dropped, so a list whose own key is set nowhere is empty.
 */
function synonymsOf(primary: string, group: readonly string[], broker: BrokerServices, levels: ConfigLevels, sensitive: boolean): ConfigSynonym[] {
  const all = group.map((name) => brokerLevels(name, broker, levels));
  const ordered: ConfigSynonym[] = [];
  for (const source of [ConfigSource.dynamicBrokerConfig, ConfigSource.dynamicDefaultBrokerConfig, ConfigSource.staticBrokerConfig, ConfigSource.defaultConfig]) {
    for (const found of all) ordered.push(...found.filter((synonym) => synonym.source === source));
  }
  const start = ordered.findIndex((synonym) => synonym.name === primary);
  const kept = start < 0 ? [] : ordered.slice(start);
  return sensitive ? kept.map((synonym) => ({ ...synonym, value: null })) : kept;
}

/** A broker synonym's value in the topic config's unit: `.hours` and `.minutes` keys become ms. */
function inTopicUnit(name: string, value: string): string {
  const factor = name.endsWith('.hours') ? 3_600_000 : name.endsWith('.minutes') ? 60_000 : 1;
  if (factor === 1) return value;
  const number = Number(value);
  return number < 0 ? '-1' : String(number * factor);
}

/** The topic config's value when the topic does not override it: the first broker synonym with a value. */
function topicDefaultValue(configKey: TopicConfigKey, broker: BrokerServices, levels: ConfigLevels): string | null {
  for (const name of configKey.brokerSynonyms) {
    const value = brokerLevels(name, broker, levels)[0]?.value;
    if (value !== undefined && value !== null) return inTopicUnit(name, value);
  }
  return formatConfigValue(configKey.defaultValue, configKey.type);
}

/** Kafka's text for a stored value of `configKey`: parsed and printed again, or as stored when it does not parse. */
function normalized(configKey: ConfigKey, text: string): string | null {
  try {
    return formatConfigValue(checkedConfigValue(configKey, text), configKey.type);
  } catch {
    return text;
  }
}

function describeTopicConfig(configKey: TopicConfigKey, overrides: ReadonlyMap<string, string>, broker: BrokerServices, levels: ConfigLevels): DescribedConfig {
  const override = overrides.get(configKey.name);
  const value = override !== undefined ? normalized(configKey, override) : topicDefaultValue(configKey, broker, levels);
  const primary = configKey.brokerSynonyms[0];
  const synonyms = primary === undefined ? [] : synonymsOf(primary, configKey.brokerSynonyms, broker, levels, false);
  if (override !== undefined) synonyms.unshift({ name: configKey.name, value, source: ConfigSource.dynamicTopicConfig });
  return {
    name: configKey.name,
    value,
    source: synonyms[0]?.source ?? ConfigSource.defaultConfig,
    readOnly: false,
    isSensitive: false,
    configType: configTypeCodes[configKey.type],
    synonyms,
    documentation: configKey.documentation ?? null,
  };
}

function describeBrokerConfig(name: string, broker: BrokerServices, levels: ConfigLevels, clusterDefaultOnly: boolean): DescribedConfig {
  const configKey = brokerKeyFor(name);
  const isSensitive = !configKey || configKey.type === 'password';
  let synonyms = synonymsOf(name, brokerSynonymGroup(name), broker, levels, isSensitive);
  if (clusterDefaultOnly) synonyms = synonyms.filter((synonym) => synonym.source === ConfigSource.dynamicDefaultBrokerConfig);
  const own = clusterDefaultOnly ? levels.clusterDefault.get(name) : brokerLevels(name, broker, levels)[0]?.value;
  return {
    name,
    value: isSensitive ? null : (own ?? null),
    source: synonyms[0]?.source ?? ConfigSource.defaultConfig,
    readOnly: !dynamicBrokerConfigs.has(name),
    isSensitive,
    configType: configKey ? configTypeCodes[configKey.type] : 0,
    synonyms,
    documentation: configKey?.documentation ?? null,
  };
}

/** A DescribeConfigs key filter: null and an empty list both mean every key. */
function wanted(keys: readonly string[] | null): (name: string) => boolean {
  return keys === null || keys.length === 0 ? () => true : (name) => keys.includes(name);
}

/** Every config of a topic (or those named in `keys`), as DescribeConfigs reports them. */
export function describeTopicConfigs(broker: BrokerServices, topic: string, keys: readonly string[] | null): DescribedConfig[] {
  const overrides = broker.image.resourceConfigs(ConfigResourceType.topic, topic);
  const levels = levelsOf(broker);
  const include = wanted(keys);
  return topicConfigKeys.filter((configKey) => include(configKey.name)).map((configKey) => describeTopicConfig(configKey, overrides, broker, levels));
}

/** Every config of this broker (or those named in `keys`), listener-prefixed dynamic ones included. */
export function describeBrokerConfigs(broker: BrokerServices, keys: readonly string[] | null): DescribedConfig[] {
  const levels = levelsOf(broker);
  const names = brokerConfigKeys.map((configKey) => configKey.name);
  for (const name of [...levels.perBroker.keys(), ...levels.clusterDefault.keys()]) {
    if ((listenerPrefixed(name) || quotaKeysByName.has(name)) && !names.includes(name)) names.push(name);
  }
  const include = wanted(keys);
  return names.filter(include).map((name) => describeBrokerConfig(name, broker, levels, false));
}

/** The cluster-wide dynamic broker defaults (a broker resource named ''), as Kafka lists them. */
export function describeClusterDefaultConfigs(broker: BrokerServices, keys: readonly string[] | null): DescribedConfig[] {
  const levels = levelsOf(broker);
  const include = wanted(keys);
  return [...levels.clusterDefault.keys()].filter(include).map((name) => describeBrokerConfig(name, broker, levels, true));
}

/**
 * Every config of a group (or those named in `keys`), as Kafka 4.2's ConfigHelper describes a
 * GROUP resource: the group's override (source GROUP_CONFIG) or else the broker's value (source
 * DEFAULT_CONFIG), never read-only, with the entry itself as its only synonym. The group need not
 * exist.
 */
export function describeGroupConfigs(broker: Pick<BrokerServices, 'image' | 'config'>, groupId: string, keys: readonly string[] | null): DescribedConfig[] {
  const overrides = broker.image.resourceConfigs(ConfigResourceType.group, groupId);
  const include = wanted(keys);
  return groupConfigKeys
    .filter((configKey) => include(configKey.name))
    .map((configKey) => {
      const override = overrides.get(configKey.name);
      const value = override !== undefined ? normalized(configKey, override) : (groupConfigDefault(configKey.name, broker.config) ?? null);
      const source = override !== undefined ? GROUP_CONFIG_SOURCE : ConfigSource.defaultConfig;
      return {
        name: configKey.name,
        value,
        source,
        readOnly: false,
        isSensitive: false,
        configType: configTypeCodes[configKey.type],
        synonyms: [{ name: configKey.name, value, source }],
        documentation: configKey.documentation ?? null,
      };
    });
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
  let effective = config;
  try {
    effective = resolveWithDynamicConfigs(
      config,
      ['', String(nodeId)].map((resourceName) => image.resourceConfigs(ConfigResourceType.broker, resourceName)),
    );
  } catch (error) {
    broker.logger.warn('dynamic broker configs do not resolve; using server.properties alone', { error: String(error) });
  }
  effectiveConfigs.set(image, { version: image.version, config: effective });
  return effective;
}

/** The keys server.properties set, as text: the input to resolve again with dynamic values over it. */
export function serverPropertiesOf(config: BrokerConfig): Map<string, string> {
  const input = new Map<string, string>();
  for (const name of config.explicitKeys) input.set(name, formatConfigValue(config.values.get(name)) ?? '');
  return input;
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
  const described = describeTopicConfig(configKey, broker.image.resourceConfigs(ConfigResourceType.topic, topic), broker, levelsOf(broker));
  if (described.value === null) return configKey.defaultValue;
  try {
    return checkedConfigValue(configKey, described.value);
  } catch {
    return configKey.defaultValue;
  }
}

/** Both sides' replication throttles of one broker, kept with its metadata image. */
interface ReplicationThrottles {
  leader: ReplicationThrottle;
  follower: ReplicationThrottle;
}

const throttlesByImage = new WeakMap<MetadataImage, ReplicationThrottles>();

/** A throttle rate as the broker applies it: per broker over the cluster default, else Long.MAX_VALUE. */
function throttleRate(image: MetadataImage, nodeId: number, name: string): number {
  const configKey = quotaKeysByName.get(name)!;
  const text = image.resourceConfigs(ConfigResourceType.broker, String(nodeId)).get(name) ?? image.resourceConfigs(ConfigResourceType.broker, '').get(name);
  if (text === undefined) return UNTHROTTLED_RATE;
  try {
    const value = checkedConfigValue(configKey, text);
    return typeof value === 'number' ? value : UNTHROTTLED_RATE;
  } catch {
    return UNTHROTTLED_RATE;
  }
}

/**
 * This broker's leader-side or follower-side replication throttle (KIP-73): the rate from
 * leader/follower.replication.throttled.rate, the throttled partitions from each topic's
 * leader/follower.replication.throttled.replicas, both re-read when the metadata image changes.
 * One pair per broker (per image): the Fetch handler uses the leader side, the replica fetchers the
 * follower side. The quotas keep replication.quota.window.num samples of
 * replication.quota.window.size.seconds each.
 */
export function replicationThrottle(broker: Pick<BrokerServices, 'image' | 'nodeId' | 'clock' | 'config'>, side: 'leader' | 'follower'): ReplicationThrottle {
  const { image, nodeId, clock, config } = broker;
  const window = { samples: config.replicationQuotaWindowNum, sampleMs: config.replicationQuotaWindowSizeSeconds * 1000 };
  let throttles = throttlesByImage.get(image);
  if (!throttles) {
    const sideOf = (prefix: 'leader' | 'follower') =>
      new ReplicationThrottle(
        {
          version: () => image.version,
          rate: () => throttleRate(image, nodeId, `${prefix}.replication.throttled.rate`),
          throttledReplicas: (topic) => image.resourceConfigs(ConfigResourceType.topic, topic).get(`${prefix}.replication.throttled.replicas`),
        },
        nodeId,
        clock,
        window,
      );
    throttles = { leader: sideOf('leader'), follower: sideOf('follower') };
    throttlesByImage.set(image, throttles);
  }
  return throttles[side];
}
