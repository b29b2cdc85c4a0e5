// A connector's configuration definition, as Kafka Connect's ConfigDef: each key has a type, a
// default (or none: required), an importance, documentation, a group and a validator. The worker
// parses a connector's string properties with it, and /connector-plugins/{type}/config/validate
// reports each key's definition and errors from it.
import { type ConfigType, type ConfigValue, parseConfigValue } from '../../base/config-def.js';

export type { ConfigType, ConfigValue };

export type Importance = 'HIGH' | 'MEDIUM' | 'LOW';
export type Width = 'NONE' | 'SHORT' | 'MEDIUM' | 'LONG';

/** Returns an error sentence when the value is invalid, or undefined when it is fine. */
export type ConnectValidator = (name: string, value: ConfigValue) => string | undefined;

export interface ConnectConfigKey {
  readonly name: string;
  readonly type: ConfigType;
  /** Absent: the key is required (Kafka's NO_DEFAULT_VALUE). null is a real default. */
  readonly defaultValue?: ConfigValue;
  readonly importance: Importance;
  readonly documentation: string;
  readonly validator?: ConnectValidator;
  readonly group?: string;
  readonly orderInGroup?: number;
  readonly width?: Width;
  readonly displayName?: string;
  readonly dependents?: readonly string[];
  /** Values the UI may offer, as a Recommender's validValues. */
  readonly recommendedValues?: readonly string[];
}

/** One key's outcome of a validation: its value and what is wrong with it. */
export interface ConfigValueReport {
  readonly name: string;
  readonly value: string | null;
  readonly recommendedValues: readonly string[];
  readonly errors: string[];
  readonly visible: boolean;
}

export class ConnectConfigDef {
  private readonly keyMap = new Map<string, ConnectConfigKey>();

  define(key: ConnectConfigKey): this {
    if (this.keyMap.has(key.name)) throw new Error(`configuration ${key.name} is defined twice`);
    this.keyMap.set(key.name, key);
    return this;
  }

  /** This definition's keys followed by `other`'s (a connector's keys after the worker's common ones). */
  merge(other: ConnectConfigDef): ConnectConfigDef {
    const merged = new ConnectConfigDef();
    for (const key of this.keyMap.values()) merged.define(key);
    for (const key of other.keys()) if (!merged.keyMap.has(key.name)) merged.define(key);
    return merged;
  }

  keys(): ConnectConfigKey[] {
    return [...this.keyMap.values()];
  }

  key(name: string): ConnectConfigKey | undefined {
    return this.keyMap.get(name);
  }

  /** Each key's value and errors: parsed from `props`, else its default; a missing required key is an error. */
  validate(props: Readonly<Record<string, string>>): ConfigValueReport[] {
    return this.keys().map((key) => {
      const text = props[key.name];
      const report: ConfigValueReport = {
        name: key.name,
        value: text ?? displayDefault(key),
        recommendedValues: key.recommendedValues ?? [],
        errors: [],
        visible: true,
      };
      try {
        const value = valueOf(key, text);
        const problem = key.validator?.(key.name, value);
        if (problem) report.errors.push(problem);
      } catch (error) {
        report.errors.push(error instanceof Error ? error.message : String(error));
      }
      return report;
    });
  }

  /** The parsed values of every defined key; throws a ConnectConfigException naming the first bad key. */
  parse(props: Readonly<Record<string, string>>): ParsedConfig {
    const values = new Map<string, ConfigValue>();
    for (const key of this.keys()) {
      let value: ConfigValue;
      try {
        value = valueOf(key, props[key.name]);
      } catch (error) {
        throw new ConnectConfigException(key.name, error instanceof Error ? error.message : String(error));
      }
      const problem = key.validator?.(key.name, value);
      if (problem) throw new ConnectConfigException(key.name, problem);
      values.set(key.name, value);
    }
    return new ParsedConfig(values, props);
  }
}

function displayDefault(key: ConnectConfigKey): string | null {
  if (key.defaultValue === undefined || key.defaultValue === null) return null;
  return Array.isArray(key.defaultValue) ? key.defaultValue.join(',') : String(key.defaultValue);
}

function valueOf(key: ConnectConfigKey, text: string | undefined): ConfigValue {
  if (text === undefined) {
    if (key.defaultValue === undefined) throw new Error(`Missing required configuration "${key.name}" which has no default value.`);
    return key.defaultValue;
  }
  try {
    return parseConfigValue({ name: key.name, type: key.type, defaultValue: null }, text);
  } catch (error) {
    // base's ConfigError starts with "<key>: "; Connect's messages name the value and key in one sentence.
    const reason = error instanceof Error ? error.message.replace(`${key.name}: `, '') : String(error);
    throw new Error(`Invalid value ${text} for configuration ${key.name}: ${reason}`);
  }
}

/** A bad connector or worker configuration value: names the key, as Connect's ConfigException. */
export class ConnectConfigException extends Error {
  override readonly name = 'ConfigException';
  constructor(readonly key: string, reason: string) {
    super(reason.includes(key) ? reason : `Invalid value for configuration ${key}: ${reason}`);
  }
}

/** Typed access to a parsed configuration; `originals` keeps every property, defined or not. */
export class ParsedConfig {
  constructor(
    private readonly values: ReadonlyMap<string, ConfigValue>,
    readonly originals: Readonly<Record<string, string>>,
  ) {}

  private get(name: string): ConfigValue {
    if (!this.values.has(name)) throw new Error(`configuration ${name} is not defined`);
    return this.values.get(name)!;
  }

  string(name: string): string {
    const value = this.get(name);
    return value === null ? '' : String(value);
  }
  optionalString(name: string): string | null {
    const value = this.get(name);
    return value === null || value === '' ? null : String(value);
  }
  number(name: string): number {
    return Number(this.get(name));
  }
  boolean(name: string): boolean {
    return this.get(name) === true;
  }
  list(name: string): string[] {
    const value = this.get(name);
    return Array.isArray(value) ? value : value === null || value === '' ? [] : String(value).split(',').map((item) => item.trim()).filter(Boolean);
  }

  /** The original properties whose names start with `prefix`, with the prefix removed. */
  withPrefix(prefix: string): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.originals)) if (key.startsWith(prefix)) result[key.slice(prefix.length)] = value;
    return result;
  }
}

/** Connect's common validators. */
export const Validators = {
  atLeast: (min: number): ConnectValidator => (name, value) =>
    typeof value === 'number' && value < min ? `Invalid value ${value} for configuration ${name}: Value must be at least ${min}` : undefined,
  between: (min: number, max: number): ConnectValidator => (name, value) =>
    typeof value === 'number' && (value < min || value > max) ? `Invalid value ${value} for configuration ${name}: Value must be no less than ${min} and no more than ${max}` : undefined,
  oneOf: (...allowed: string[]): ConnectValidator => (name, value) =>
    typeof value === 'string' && !allowed.some((option) => option.toLowerCase() === value.toLowerCase())
      ? `Invalid value ${value} for configuration ${name}: String must be one of: ${allowed.join(', ')}` : undefined,
  nonEmptyString: (): ConnectValidator => (name, value) =>
    value === null || (typeof value === 'string' && value.trim() === '') ? `Invalid value ${value === null ? 'null' : `"${value}"`} for configuration ${name}: String must be non-empty` : undefined,
  nonEmptyList: (): ConnectValidator => (name, value) =>
    !Array.isArray(value) || value.length === 0 ? `Invalid value for configuration ${name}: Empty list` : undefined,
};
