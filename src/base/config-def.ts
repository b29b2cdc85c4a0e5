// Typed configuration definitions in Kafka's vocabulary: each key has a type, a default and a
// validator, and every refusal names the key. Broker configs (server.properties) and topic configs
// are both declared with it.

export type ConfigType = 'short' | 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list' | 'class' | 'password';

export type ConfigValue = number | boolean | string | string[] | null;

/** Returns an error sentence when the value is invalid, or undefined when it is fine. */
export type ConfigValidator = (value: ConfigValue) => string | undefined;

export interface ConfigKey {
  readonly name: string;
  readonly type: ConfigType;
  /** null means the key has no default (Kafka's null default). */
  readonly defaultValue: ConfigValue;
  readonly validate?: ConfigValidator;
  /** One sentence on what the key does, as DescribeConfigs reports it with include_documentation. */
  readonly documentation?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly key: string;

  constructor(key: string, message: string) {
    super(`${key}: ${message}`);
    this.key = key;
  }
}

const SHORT_MIN = -32768;
const SHORT_MAX = 32767;
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

function parseInteger(key: string, text: string, min: number, max: number): number {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) throw new ConfigError(key, `expected an integer, got '${text}'`);
  const value = Number(trimmed);
  // Long values beyond 2^53 (Kafka's Long.MAX_VALUE as "forever") are read as Infinity.
  if (!Number.isSafeInteger(value)) return value > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  if (value < min || value > max) throw new ConfigError(key, `${value} is outside [${min}, ${max}]`);
  return value;
}

/** Parses a textual value (server.properties, --set, CreateTopics configs) into the key's type. */
export function parseConfigValue(key: ConfigKey, text: string): ConfigValue {
  switch (key.type) {
    case 'short':
      return parseInteger(key.name, text, SHORT_MIN, SHORT_MAX);
    case 'int':
      return parseInteger(key.name, text, INT_MIN, INT_MAX);
    case 'long':
      return parseInteger(key.name, text, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    case 'double': {
      const value = Number(text.trim());
      if (text.trim() === '' || Number.isNaN(value)) throw new ConfigError(key.name, `expected a number, got '${text}'`);
      return value;
    }
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      if (lower !== 'true' && lower !== 'false') throw new ConfigError(key.name, `expected true or false, got '${text}'`);
      return lower === 'true';
    }
    case 'list':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
    case 'string':
    case 'class':
    case 'password':
      return text.trim();
  }
}

/** Parses and validates one value; throws ConfigError naming the key. */
export function checkedConfigValue(key: ConfigKey, text: string): ConfigValue {
  const value = parseConfigValue(key, text);
  const problem = key.validate?.(value);
  if (problem) throw new ConfigError(key.name, problem);
  return value;
}

export function atLeast(min: number): ConfigValidator {
  return (value) => (typeof value === 'number' && value < min ? `must be at least ${min}, got ${value}` : undefined);
}

export function between(min: number, max: number): ConfigValidator {
  return (value) => (typeof value === 'number' && (value < min || value > max) ? `must be in [${min}, ${max}], got ${value}` : undefined);
}

export function oneOf(...allowed: string[]): ConfigValidator {
  return (value) => (typeof value === 'string' && !allowed.includes(value) ? `must be one of ${allowed.join(', ')}, got '${value}'` : undefined);
}

/**
 * Parses Java-properties text as java.util.Properties does: `key=value`, `key: value` or
 * `key value` lines, `#`/`!` comments, a line ending in an odd number of backslashes continued on
 * the next, and the escapes \t \n \r \f \uXXXX, with a backslash before any other character
 * standing for that character (so a regular expression's `\.` is written `\\.`, as for Kafka).
 */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    let line = lines[index]!.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (endsInEscape(line) && index + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++index]!.replace(/^\s+/, '');
    }
    // The key ends at the first separator that no backslash escapes.
    const match = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]?\s*(.*)$/s.exec(line);
    if (!match || match[1] === undefined) throw new ConfigError(line, 'expected key=value');
    // Trailing blanks are dropped (Kafka trims values anyway), unless a backslash keeps one.
    result.set(unescapeProperty(match[1]), unescapeProperty(match[2]!.replace(/(?<!\\)\s+$/, '')));
  }
  return result;
}

/** Whether the line ends in an odd number of backslashes (a continuation). */
function endsInEscape(line: string): boolean {
  const trailing = /\\+$/.exec(line)?.[0].length ?? 0;
  return trailing % 2 === 1;
}

function unescapeProperty(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|[\s\S])/g, (_, escaped: string) => {
    if (escaped.length === 5) return String.fromCharCode(Number.parseInt(escaped.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[escaped] ?? escaped;
  });
}
