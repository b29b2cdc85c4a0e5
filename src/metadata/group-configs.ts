// Group configs (KIP-848, KIP-932): per-group overrides of the broker's group.consumer.* and
// group.share.* settings, set with IncrementalAlterConfigs (or AlterConfigs) on config resource
// type GROUP (32) and stored as ConfigRecords in the metadata log, as Kafka 4.2's GroupConfig.
// The keys, Kafka's validation of them (each bounded by the broker's min and max keys), and the
// typed values the coordinators use, a group's override else the broker's value.
//
// Kafka 4.2 also has streams.session.timeout.ms, streams.heartbeat.interval.ms,
// streams.num.standby.replicas and streams.initial.rebalance.delay.ms (KIP-1071). Conveyor serves
// no streams groups and refuses streams in group.coordinator.rebalance.protocols, so those keys are
// refused as unknown here too rather than stored without effect.
import { type ConfigKey, ConfigError, atLeast, checkedConfigValue, oneOf } from '../base/config-def.js';
import { ConfigResourceType } from './metadata-record.js';

/** Kafka's ConfigResource.Type GROUP. */
export const GROUP_CONFIG_RESOURCE_TYPE = ConfigResourceType.group;

/** DescribeConfigs' ConfigSource GROUP_CONFIG (Kafka's DYNAMIC_GROUP_CONFIG in the admin client). */
export const GROUP_CONFIG_SOURCE = 8;

/**
 * The broker settings a group config falls back to and is bounded by; BrokerConfig has this shape
 * (consumerGroups, shareGroups), so the broker's config can be passed as it is.
 */
export interface GroupConfigBrokerDefaults {
  consumerGroups: {
    sessionTimeoutMs: number;
    minSessionTimeoutMs: number;
    maxSessionTimeoutMs: number;
    heartbeatIntervalMs: number;
    minHeartbeatIntervalMs: number;
    maxHeartbeatIntervalMs: number;
  };
  shareGroups: {
    sessionTimeoutMs: number;
    minSessionTimeoutMs: number;
    maxSessionTimeoutMs: number;
    heartbeatIntervalMs: number;
    minHeartbeatIntervalMs: number;
    maxHeartbeatIntervalMs: number;
    recordLockDurationMs: number;
    minRecordLockDurationMs: number;
    maxRecordLockDurationMs: number;
  };
}

/** share.auto.offset.reset: where a share-partition with no state starts. */
export type ShareAutoOffsetReset = { kind: 'latest' } | { kind: 'earliest' } | { kind: 'by_duration'; durationMs: number };

export type ShareIsolationLevel = 'read_committed' | 'read_uncommitted';

/** A group's effective settings: its overrides, else the broker's values. */
export interface GroupConfig {
  consumerSessionTimeoutMs: number;
  consumerHeartbeatIntervalMs: number;
  shareSessionTimeoutMs: number;
  shareHeartbeatIntervalMs: number;
  shareRecordLockDurationMs: number;
  shareAutoOffsetReset: ShareAutoOffsetReset;
  shareIsolationLevel: ShareIsolationLevel;
}

/**
 * Java's Duration.parse form, PnDTnHnMn.nS (days, hours, minutes, seconds with up to nine
 * fraction digits, each part optionally signed, the whole optionally signed, case-insensitive).
 */
const ISO_DURATION = /^([-+]?)P(?:([-+]?\d+)D)?(T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{0,9}))?S)?)?$/i;

/** An ISO-8601 duration in milliseconds (sub-millisecond parts dropped), or undefined when `text` is not one. */
export function parseIsoDuration(text: string): number | undefined {
  const match = ISO_DURATION.exec(text);
  if (!match) return undefined;
  const [, sign, days, timePart, hours, minutes, seconds, fraction] = match;
  // "P" alone and "PT" with nothing after it are not durations (as Java).
  if (days === undefined && hours === undefined && minutes === undefined && seconds === undefined) return undefined;
  if (timePart === 'T' || timePart === 't') return undefined;
  const part = (value: string | undefined, unitMs: number) => (value === undefined ? 0 : Number(value) * unitMs);
  let fractionMs = 0;
  if (fraction !== undefined && fraction !== '') {
    fractionMs = Number(fraction.padEnd(9, '0')) / 1_000_000;
    if (seconds?.startsWith('-')) fractionMs = -fractionMs;
  }
  const total = part(days, 86_400_000) + part(hours, 3_600_000) + part(minutes, 60_000) + part(seconds, 1000) + fractionMs;
  const signed = sign === '-' ? -total : total;
  return Math.trunc(signed) === 0 ? 0 : Math.trunc(signed);
}

/** share.auto.offset.reset's value, or Kafka's reason it is not valid. */
export function parseShareAutoOffsetReset(text: string): ShareAutoOffsetReset | string {
  const invalid = `Invalid value \`${text}\` for configuration share.auto.offset.reset. The value must be either 'earliest', 'latest' or of the format 'by_duration:<PnDTnHnMn.nS>'.`;
  if (text === 'latest' || text === 'earliest') return { kind: text };
  if (!text.startsWith('by_duration:')) return invalid;
  const durationMs = parseIsoDuration(text.slice('by_duration:'.length));
  // Negative durations are refused, as Kafka does.
  if (durationMs === undefined || durationMs < 0) return invalid;
  return { kind: 'by_duration', durationMs };
}

const autoOffsetReset = (value: unknown): string | undefined => {
  const parsed = typeof value === 'string' ? parseShareAutoOffsetReset(value) : 'must be a string';
  return typeof parsed === 'string' ? parsed : undefined;
};

/** Kafka 4.2's group config keys; their defaults are Kafka's static ones (the broker's values are used instead, see groupConfigDefault). */
export const groupConfigKeys: readonly ConfigKey[] = [
  { name: 'consumer.session.timeout.ms', type: 'int', defaultValue: 45000, validate: atLeast(1), documentation: 'How long a member of this consumer group may go without a heartbeat before it is removed (group.consumer.session.timeout.ms for this group).' },
  { name: 'consumer.heartbeat.interval.ms', type: 'int', defaultValue: 5000, validate: atLeast(1), documentation: 'How often the members of this consumer group heartbeat (group.consumer.heartbeat.interval.ms for this group).' },
  { name: 'share.session.timeout.ms', type: 'int', defaultValue: 45000, validate: atLeast(1), documentation: 'How long a member of this share group may go without a heartbeat before it is removed (group.share.session.timeout.ms for this group).' },
  { name: 'share.heartbeat.interval.ms', type: 'int', defaultValue: 5000, validate: atLeast(1), documentation: 'How often the members of this share group heartbeat (group.share.heartbeat.interval.ms for this group).' },
  { name: 'share.record.lock.duration.ms', type: 'int', defaultValue: 30000, validate: atLeast(1000), documentation: 'How long a member of this share group holds the records it was given (group.share.record.lock.duration.ms for this group).' },
  { name: 'share.auto.offset.reset', type: 'string', defaultValue: 'latest', validate: autoOffsetReset, documentation: 'Where this share group starts on a partition it has no state for: earliest, latest, or by_duration:<ISO-8601 duration> back from now.' },
  { name: 'share.isolation.level', type: 'string', defaultValue: 'read_uncommitted', validate: oneOf('read_committed', 'read_uncommitted'), documentation: 'Whether this share group delivers only committed transactional records (read_committed) or all of them (read_uncommitted).' },
];

export const groupConfigKeysByName: ReadonlyMap<string, ConfigKey> = new Map(groupConfigKeys.map((configKey) => [configKey.name, configKey]));

/** A group config's value when the group does not override it: the broker's value, as Kafka's extractGroupConfigMap. */
export function groupConfigDefault(name: string, defaults: GroupConfigBrokerDefaults): string | undefined {
  const { consumerGroups: consumer, shareGroups: share } = defaults;
  const fromBroker: Record<string, number> = {
    'consumer.session.timeout.ms': consumer.sessionTimeoutMs,
    'consumer.heartbeat.interval.ms': consumer.heartbeatIntervalMs,
    'share.session.timeout.ms': share.sessionTimeoutMs,
    'share.heartbeat.interval.ms': share.heartbeatIntervalMs,
    'share.record.lock.duration.ms': share.recordLockDurationMs,
  };
  if (name in fromBroker) return String(fromBroker[name]);
  const configKey = groupConfigKeysByName.get(name);
  return configKey === undefined ? undefined : String(configKey.defaultValue);
}

/** Kafka's bound checks on a group's numeric configs (GroupConfig.validateValues), in its order, with the broker key that bounds each. */
function boundsOf(defaults: GroupConfigBrokerDefaults): { name: string; min: [string, number]; max: [string, number] }[] {
  const { consumerGroups: consumer, shareGroups: share } = defaults;
  return [
    { name: 'consumer.heartbeat.interval.ms', min: ['group.consumer.min.heartbeat.interval.ms', consumer.minHeartbeatIntervalMs], max: ['group.consumer.max.heartbeat.interval.ms', consumer.maxHeartbeatIntervalMs] },
    { name: 'consumer.session.timeout.ms', min: ['group.consumer.min.session.timeout.ms', consumer.minSessionTimeoutMs], max: ['group.consumer.max.session.timeout.ms', consumer.maxSessionTimeoutMs] },
    { name: 'share.heartbeat.interval.ms', min: ['group.share.min.heartbeat.interval.ms', share.minHeartbeatIntervalMs], max: ['group.share.max.heartbeat.interval.ms', share.maxHeartbeatIntervalMs] },
    { name: 'share.session.timeout.ms', min: ['group.share.min.session.timeout.ms', share.minSessionTimeoutMs], max: ['group.share.max.session.timeout.ms', share.maxSessionTimeoutMs] },
    { name: 'share.record.lock.duration.ms', min: ['group.share.min.record.lock.duration.ms', share.minRecordLockDurationMs], max: ['group.share.max.record.lock.duration.ms', share.maxRecordLockDurationMs] },
  ];
}

/**
 * Checks a group's overrides as a change leaves them, as Kafka's controller does
 * (GroupConfigManager.validate): every key known, every value valid, each numeric value within the
 * broker's min and max keys, and each session timeout longer than its heartbeat interval (the keys
 * the group does not set count with the broker's values). Throws ConfigError naming the key, which
 * the controller answers with INVALID_CONFIG.
 */
export function checkGroupConfigs(overrides: ReadonlyMap<string, string>, defaults: GroupConfigBrokerDefaults): void {
  for (const name of overrides.keys()) {
    if (!groupConfigKeysByName.has(name)) throw new ConfigError(name, 'unknown group configuration key');
  }
  const values = new Map<string, number>();
  for (const configKey of groupConfigKeys) {
    const text = overrides.get(configKey.name);
    if (text !== undefined) {
      const value = checkedConfigValue(configKey, text);
      if (typeof value === 'number') values.set(configKey.name, value);
    } else if (configKey.type === 'int') {
      values.set(configKey.name, Number(groupConfigDefault(configKey.name, defaults)));
    }
  }
  for (const { name, min, max } of boundsOf(defaults)) {
    const value = values.get(name)!;
    if (value < min[1]) throw new ConfigError(name, `must be greater than or equal to ${min[0]} (${min[1]}), got ${value}`);
    if (value > max[1]) throw new ConfigError(name, `must be less than or equal to ${max[0]} (${max[1]}), got ${value}`);
  }
  for (const kind of ['consumer', 'share']) {
    const session = values.get(`${kind}.session.timeout.ms`)!;
    const heartbeat = values.get(`${kind}.heartbeat.interval.ms`)!;
    if (session <= heartbeat) throw new ConfigError(`${kind}.session.timeout.ms`, `must be greater than ${kind}.heartbeat.interval.ms (${heartbeat}), got ${session}`);
  }
}

/** The group config value of `name`: the group's override when it parses, else the broker's value. */
function valueOf(overrides: ReadonlyMap<string, string>, name: string, defaults: GroupConfigBrokerDefaults): string {
  const configKey = groupConfigKeysByName.get(name)!;
  const text = overrides.get(name);
  if (text !== undefined) {
    try {
      return String(checkedConfigValue(configKey, text));
    } catch {
      // Stored before a bound changed, or by another version: the broker's value is used instead.
    }
  }
  return groupConfigDefault(name, defaults)!;
}

/**
 * A group's effective configs: its overrides in the metadata image (ConfigRecords of resource type
 * 32 named by the group id), each falling back to the broker's value. Overrides are taken as
 * stored; the controller validated them against the bounds when they were set.
 */
export function resolveGroupConfig(
  image: { resourceConfigs(resourceType: number, resourceName: string): ReadonlyMap<string, string> },
  groupId: string,
  brokerDefaults: GroupConfigBrokerDefaults,
): GroupConfig {
  const overrides = image.resourceConfigs(GROUP_CONFIG_RESOURCE_TYPE, groupId);
  const number = (name: string) => Number(valueOf(overrides, name, brokerDefaults));
  const reset = parseShareAutoOffsetReset(valueOf(overrides, 'share.auto.offset.reset', brokerDefaults));
  return {
    consumerSessionTimeoutMs: number('consumer.session.timeout.ms'),
    consumerHeartbeatIntervalMs: number('consumer.heartbeat.interval.ms'),
    shareSessionTimeoutMs: number('share.session.timeout.ms'),
    shareHeartbeatIntervalMs: number('share.heartbeat.interval.ms'),
    shareRecordLockDurationMs: number('share.record.lock.duration.ms'),
    shareAutoOffsetReset: typeof reset === 'string' ? { kind: 'latest' } : reset,
    shareIsolationLevel: valueOf(overrides, 'share.isolation.level', brokerDefaults) as ShareIsolationLevel,
  };
}
