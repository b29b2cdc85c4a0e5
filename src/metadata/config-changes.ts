// Config changes as metadata records: the operations of AlterConfigs and IncrementalAlterConfigs
// applied to a resource's current overrides, validated key by key, and expressed as ConfigRecords
// (a null value removes an override, so the resource falls back to its default again).
import { type ConfigKey, ConfigError, checkedConfigValue } from '../base/config-def.js';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import { type ConfigRecord, ConfigResourceType } from './metadata-record.js';
import { formatConfigValue, topicConfigOverride } from './topic-config.js';

/** IncrementalAlterConfigs' operation codes. */
export const ConfigOperation = { set: 0, delete: 1, append: 2, subtract: 3 } as const;

export interface ConfigAlteration {
  name: string;
  operation: number;
  value: string | null;
}

export interface ConfigResourceChange {
  resourceType: number;
  resourceName: string;
  alterations: ConfigAlteration[];
  /** AlterConfigs semantics: every override not named in `alterations` is removed. */
  replaceAll: boolean;
}

export interface ConfigResourceResult {
  resourceType: number;
  resourceName: string;
  errorCode: number;
  errorMessage: string | null;
}

/** What the controller needs to know about config keys, supplied by the broker that owns them. */
export interface ConfigSchema {
  /** The definition of `name` for this resource type, or undefined when it is not such a config. */
  keyFor(resourceType: number, name: string): ConfigKey | undefined;
  /**
   * Why `name` cannot be changed at run time on the resource `resourceName` (a broker id, or ''
   * for the cluster default), or undefined when it can. Kafka refuses these with INVALID_REQUEST.
   */
  readOnlyReason(resourceType: number, name: string, resourceName: string): string | undefined;
  /**
   * Checks a resource's overrides as the change leaves them, as a whole (rules across keys and
   * levels, such as Kafka's checks of a broker's whole config); throws KafkaError or ConfigError.
   */
  checkOverrides?(resourceType: number, resourceName: string, overrides: ReadonlyMap<string, string>): void;
}

/** The overrides a resource has after `change`; throws ConfigError naming the first bad key. */
export function alteredOverrides(current: ReadonlyMap<string, string>, change: ConfigResourceChange, schema: ConfigSchema): Map<string, string> {
  const next = new Map(change.replaceAll ? [] : current);
  const seen = new Set<string>();
  for (const alteration of change.alterations) {
    if (seen.has(alteration.name)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `config ${alteration.name} appears more than once`);
    seen.add(alteration.name);
    applyAlteration(next, alteration, change, schema);
  }
  if (change.resourceType === ConfigResourceType.topic) checkTopicConsistency(next);
  schema.checkOverrides?.(change.resourceType, change.resourceName, next);
  return next;
}

function applyAlteration(overrides: Map<string, string>, alteration: ConfigAlteration, change: ConfigResourceChange, schema: ConfigSchema): void {
  const { name, operation, value } = alteration;
  const { resourceType, resourceName } = change;
  const configKey = schema.keyFor(resourceType, name);
  const kind = resourceType === ConfigResourceType.topic ? 'topic' : resourceType === ConfigResourceType.group ? 'group' : 'broker';
  if (!configKey) throw new ConfigError(name, `unknown ${kind} configuration key`);
  // As Kafka: a key that cannot change at run time is an invalid request, not an invalid value;
  // deleting it (it was never set dynamically) is harmless.
  const readOnly = operation === ConfigOperation.delete ? undefined : schema.readOnlyReason(resourceType, name, resourceName);
  if (readOnly) throw new KafkaError(ErrorCode.INVALID_REQUEST, `${name}: ${readOnly}`);
  switch (operation) {
    case ConfigOperation.set:
      if (value === null) throw new ConfigError(name, 'a value is required');
      checkedConfigValue(configKey, value);
      overrides.set(name, value.trim());
      return;
    case ConfigOperation.delete:
      overrides.delete(name);
      return;
    case ConfigOperation.append:
    case ConfigOperation.subtract:
      overrides.set(name, alteredList(overrides.get(name), alteration, configKey));
      return;
    default:
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `unknown config operation ${operation} for ${name}`);
  }
}

/** APPEND and SUBTRACT work on list keys, starting from the override or else the key's default. */
function alteredList(current: string | undefined, alteration: ConfigAlteration, configKey: ConfigKey): string {
  if (configKey.type !== 'list') throw new ConfigError(configKey.name, 'APPEND and SUBTRACT apply only to list configs');
  if (alteration.value === null) throw new ConfigError(configKey.name, 'a value is required');
  const items = (current ?? formatConfigValue(configKey.defaultValue) ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
  const changed = alteration.value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  const result = alteration.operation === ConfigOperation.append ? [...new Set([...items, ...changed])] : items.filter((item) => !changed.includes(item));
  const text = result.join(',');
  checkedConfigValue(configKey, text);
  return text;
}

/** Cross-key rules Kafka's LogConfig.validate applies to a topic's overrides (CreateTopics too). */
export function checkTopicConsistency(overrides: ReadonlyMap<string, string>): void {
  const number = (name: string): number | undefined => {
    const value = topicConfigOverride(overrides, name);
    return typeof value === 'number' ? value : undefined;
  };
  const minLag = number('min.compaction.lag.ms');
  const maxLag = number('max.compaction.lag.ms');
  if (minLag !== undefined && maxLag !== undefined && minLag > maxLag) {
    throw new ConfigError('min.compaction.lag.ms', `${minLag} must not exceed max.compaction.lag.ms (${maxLag})`);
  }
}

/** The records that turn `before` into `after`: one per key added, changed or removed. */
export function configRecords(resourceType: number, resourceName: string, before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): ConfigRecord[] {
  const records: ConfigRecord[] = [];
  for (const [name, value] of after) {
    if (before.get(name) !== value) records.push({ type: 'Config', resourceType, resourceName, name, value });
  }
  for (const name of before.keys()) {
    if (!after.has(name)) records.push({ type: 'Config', resourceType, resourceName, name, value: null });
  }
  return records;
}
