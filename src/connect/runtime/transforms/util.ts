// What Kafka Connect's built-in transforms share (its transforms.util package: Requirements,
// SchemaUtil, the LRU schema cache, SimpleConfig): checks that a key or value has the shape a
// transform needs, the key/value "side" a $Key or $Value variant works on, a per-transform cache of
// rewritten schemas, Kafka's logical schemas, and small config helpers.
import {
  ConnectConfigException,
  type ConnectConfigDef,
  type ConnectConfigKey,
  type ConnectValidator,
  type ParsedConfig,
} from '../../api/config.js';
import type { Transformation } from '../../api/connector.js';
import {
  type ConnectRecord,
  DataException,
  type Decimal,
  type Field,
  LogicalNames,
  type Schema,
  SchemaBuilder,
  Struct,
} from '../../api/data.js';

/** Kafka's schemaless map: a plain object with string keys. */
export type SchemalessMap = Record<string, unknown>;

/** Plain objects only: not arrays, Buffers, Dates, Maps, Structs or Decimals. */
export function isPlainObject(value: unknown): value is SchemalessMap {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A short name of a value's runtime type, for error messages (Kafka names the Java class). */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'Array';
  if (Buffer.isBuffer(value)) return 'Buffer';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'Object';
  return typeof value;
}

export function requireMap(value: unknown, purpose: string): SchemalessMap {
  if (!isPlainObject(value)) {
    throw new DataException(`Only Map objects supported in absence of schema for [${purpose}], found: ${typeName(value)}`);
  }
  return value;
}

export function requireMapOrNull(value: unknown, purpose: string): SchemalessMap | null {
  return value === null || value === undefined ? null : requireMap(value, purpose);
}

export function requireStruct(value: unknown, purpose: string): Struct {
  if (!(value instanceof Struct)) throw new DataException(`Only Struct objects supported for [${purpose}], found: ${typeName(value)}`);
  return value;
}

export function requireStructOrNull(value: unknown, purpose: string): Struct | null {
  return value === null || value === undefined ? null : requireStruct(value, purpose);
}

export function requireSchema(schema: Schema | null, purpose: string): Schema {
  if (!schema) throw new DataException(`Schema required for [${purpose}]`);
  return schema;
}

/** A SinkRecord's offset; other records are refused as Kafka's requireSinkRecord does. */
export function requireSinkOffset(record: ConnectRecord, purpose: string): number {
  const offset = (record as { kafkaOffset?: unknown }).kafkaOffset;
  if (typeof offset !== 'number') {
    const kind = 'sourcePartition' in record ? 'SourceRecord' : 'ConnectRecord';
    throw new DataException(`Only SinkRecord supported for [${purpose}], found: ${kind}`);
  }
  return offset;
}

/** The part of a record a $Key or $Value transform works on. */
export interface RecordSide {
  readonly name: 'Key' | 'Value';
  schema(record: ConnectRecord): Schema | null;
  value(record: ConnectRecord): unknown;
  /** A copy of the record with this side replaced; every other field is kept. */
  update<R extends ConnectRecord>(record: R, schema: Schema | null, value: unknown): R;
}

export const KEY_SIDE: RecordSide = {
  name: 'Key',
  schema: (record) => record.keySchema,
  value: (record) => record.key,
  update: (record, schema, value) => ({ ...record, keySchema: schema, key: value }),
};

export const VALUE_SIDE: RecordSide = {
  name: 'Value',
  schema: (record) => record.valueSchema,
  value: (record) => record.value,
  update: (record, schema, value) => ({ ...record, valueSchema: schema, value }),
};

/** A struct schema's field by name, or undefined; Kafka's Schema.field. */
export function fieldOf(schema: Schema, name: string): Field | undefined {
  if (schema.type !== 'struct') throw new DataException('Cannot look up fields on non-struct type');
  return schema.fields!.find((field) => field.name === name);
}

/**
 * A struct field's value as Kafka's Struct reads it: with `replaceNullWithDefault` a null (or
 * never set) value reads as the field's default (Struct.get), else as null (getWithoutDefault).
 */
export function readField(struct: Struct, name: string, replaceNullWithDefault: boolean): unknown {
  const value = struct.getWithoutDefault(name);
  if (value !== null && value !== undefined) return value;
  return replaceNullWithDefault ? (struct.field(name).schema.defaultValue ?? null) : null;
}

/** Copies name, version, doc and parameters (not optionality or default), as SchemaUtil.copySchemaBasics. */
export function copySchemaBasics(source: Schema, builder: SchemaBuilder): SchemaBuilder {
  if (source.name !== undefined) builder.name(source.name);
  if (source.version !== undefined) builder.version(source.version);
  if (source.doc !== undefined) builder.doc(source.doc);
  for (const [key, value] of Object.entries(source.parameters ?? {})) builder.parameter(key, value);
  return builder;
}

/** A builder of the same type as `source` (an array keeps its element schema), with its basics copied. */
export function copySchemaBasicsOf(source: Schema): SchemaBuilder {
  let builder: SchemaBuilder;
  if (source.type === 'array') builder = SchemaBuilder.array(source.valueSchema!);
  else if (source.type === 'map') builder = SchemaBuilder.map(source.keySchema!, source.valueSchema!);
  else builder = SchemaBuilder.type(source.type);
  return copySchemaBasics(source, builder);
}

/** Rewritten schemas by input schema, least recently used dropped past 16 (Kafka's LRUCache(16)). */
export class SchemaCache {
  private readonly entries = new Map<Schema, Schema>();
  constructor(private readonly capacity = 16) {}

  getOrBuild(schema: Schema, build: (schema: Schema) => Schema): Schema {
    const cached = this.entries.get(schema);
    if (cached) {
      this.entries.delete(schema);
      this.entries.set(schema, cached);
      return cached;
    }
    const built = build(schema);
    this.entries.set(schema, built);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return built;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Kafka's logical schemas (Timestamp.SCHEMA, Date.SCHEMA, Time.SCHEMA and their optional forms). */
export function timestampSchema(optional: boolean): Schema {
  const builder = SchemaBuilder.int64().name(LogicalNames.TIMESTAMP).version(1);
  return (optional ? builder.optional() : builder).build();
}
export function dateSchema(optional: boolean): Schema {
  const builder = SchemaBuilder.int32().name(LogicalNames.DATE).version(1);
  return (optional ? builder.optional() : builder).build();
}
export function timeSchema(optional: boolean): Schema {
  const builder = SchemaBuilder.int32().name(LogicalNames.TIME).version(1);
  return (optional ? builder.optional() : builder).build();
}

/**
 * An int64 result: a bigint in a schema'd value (the data model's int64), a number in a
 * schemaless one when it is a safe integer (JSON-like values), else a bigint.
 */
export function int64Value(value: bigint, schemaless: boolean): number | bigint {
  if (schemaless && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return value;
}

/** A Decimal's value as a JS number (loses precision past 2^53, as BigDecimal.doubleValue does). */
export function decimalToNumber(decimal: Decimal): number {
  return Number(decimal.toString());
}

/** String.split as Java does it: trailing empty parts are dropped. */
export function javaSplit(text: string, separator: string): string[] {
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Java's List.toString of a config list, for "Invalid value [a, b] for configuration ..." messages. */
export function javaList(values: readonly string[]): string {
  return `[${values.join(', ')}]`;
}

/** Kafka's ConfigException(name, value, message) sentence. */
export function invalidValue(name: string, value: unknown, message: string): string {
  const shown = Array.isArray(value) ? javaList(value as string[]) : String(value);
  return `Invalid value ${shown} for configuration ${name}: ${message}`;
}

/** ConfigDef.ValidString.in: case-sensitive, as Kafka's. */
export function validString(...allowed: string[]): ConnectValidator {
  return (name, value) =>
    typeof value === 'string' && !allowed.includes(value) ? invalidValue(name, value, `String must be one of: ${allowed.join(', ')}`) : undefined;
}

/** ConfigDef.CaseInsensitiveValidString.in. */
export function caseInsensitiveValidString(...allowed: string[]): ConnectValidator {
  return (name, value) =>
    typeof value === 'string' && !allowed.some((option) => option.toUpperCase() === value.toUpperCase())
      ? invalidValue(name, value, `String must be one of (case insensitive): ${allowed.join(', ')}`)
      : undefined;
}

/** Runs validators in turn; the first complaint wins (ConfigDef.CompositeValidator). */
export function allOf(...validators: ConnectValidator[]): ConnectValidator {
  return (name, value) => {
    for (const validator of validators) {
      const problem = validator(name, value);
      if (problem) return problem;
    }
    return undefined;
  };
}

export const REPLACE_NULL_WITH_DEFAULT = 'replace.null.with.default';

/** The replace.null.with.default key several transforms define (KIP-1040 and its follow-ups). */
export const replaceNullWithDefaultKey: ConnectConfigKey = {
  name: REPLACE_NULL_WITH_DEFAULT,
  type: 'boolean',
  defaultValue: true,
  importance: 'MEDIUM',
  documentation:
    'Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.',
};

/** A string config whose default is null: null when not given, else the (trimmed) value, even ''. */
export function stringOrNull(config: ParsedConfig, name: string): string | null {
  return Object.hasOwn(config.originals, name) ? config.string(name) : null;
}

/** A configuration problem that is not one key's (Kafka's ConfigException(message)). */
export class TransformConfigError extends Error {
  override readonly name = 'ConfigException';
}

/** A config problem naming a key, for a transform's configure (ConfigException(name, value, message)). */
export function configError(key: string, value: unknown, message: string): ConnectConfigException {
  return new ConnectConfigException(key, invalidValue(key, value, message));
}

/**
 * What every built-in transform shares: `configure` parses the properties with the transform's
 * ConfigDef (throwing a ConnectConfigException naming the bad key) and hands them to `setup`.
 */
export abstract class BaseTransformation implements Transformation<ConnectRecord> {
  abstract config(): ConnectConfigDef;
  protected abstract setup(config: ParsedConfig): void;
  abstract apply<R extends ConnectRecord>(record: R): R | null;

  configure(props: Readonly<Record<string, string>>): void {
    this.setup(this.config().parse(props));
  }

  close(): void {}
}
