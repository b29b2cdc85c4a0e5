// Cast$Key / Cast$Value: casts fields of a struct or schemaless map (spec=field:type,...) or the
// whole key or value (spec=type) to int8, int16, int32, int64, float32, float64, boolean or
// string. Inputs may be any of those or bytes (to string only, as base64); Date, Time and Timestamp
// values cast to numbers as their Kafka encodings (days, milliseconds of the day, milliseconds) and
// to strings as ISO-8601. Numbers narrow as Java's do (wrapping integers, saturating floats),
// strings parse as Java's Integer.parseInt/Double.parseDouble, and a number cast to boolean is
// whether its integer part is non-zero. A null key or value passes through unchanged.
import { ConnectConfigDef, type ConfigValue, type ParsedConfig } from '../../api/config.js';
import { type ConnectRecord, DataException, Decimal, LogicalNames, type Schema, SchemaBuilder, type SchemaType, Struct } from '../../api/data.js';
import {
  BaseTransformation,
  copySchemaBasics,
  decimalToNumber,
  int64Value,
  invalidValue,
  isPlainObject,
  javaSplit,
  readField,
  REPLACE_NULL_WITH_DEFAULT,
  replaceNullWithDefaultKey,
  requireMap,
  requireStruct,
  type RecordSide,
  SchemaCache,
  typeName,
} from './util.js';
import { isoDateString, javaDoubleString, javaFloatString } from './values.js';

type CastType = 'int8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'boolean' | 'string';

const ALL_TYPES: readonly SchemaType[] = ['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string', 'bytes', 'array', 'map', 'struct'];
const OUTPUT_TYPES: readonly SchemaType[] = ['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string'];
const INPUT_TYPES: readonly SchemaType[] = [...OUTPUT_TYPES, 'bytes'];
const typeList = (types: readonly SchemaType[]) => `[${types.map((type) => type.toUpperCase()).join(', ')}]`;
const DAY_MS = 86_400_000;
const PURPOSE = 'cast types';
/** The spec key of a whole-value cast (Kafka uses a null field name). */
const WHOLE_VALUE = null;

/** The casts of a spec, by field name (null: the whole value); throws the reason a spec is bad. */
function parseSpec(mappings: readonly string[]): Map<string | null, CastType> {
  if (mappings.length === 0) throw new Error('Must specify at least one field to cast.');
  const casts = new Map<string | null, CastType>();
  for (const mapping of mappings) {
    const parts = javaSplit(mapping, ':');
    if (parts.length > 2) throw new Error(`Invalid cast mapping: ${mapping}`);
    if (parts.length === 1) casts.set(WHOLE_VALUE, outputType(parts[0]!.trim()));
    else casts.set(parts[0]!.trim(), outputType(parts[1]!.trim()));
  }
  if (casts.has(WHOLE_VALUE) && mappings.length > 1) {
    throw new Error('Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec');
  }
  return casts;
}

function outputType(name: string): CastType {
  const type = ALL_TYPES.find((candidate) => candidate === name.toLowerCase());
  if (!type) throw new Error(`Invalid type found in casting spec: ${name}`);
  if (!OUTPUT_TYPES.includes(type)) throw new Error(`Cast transformation does not support casting to ${type.toUpperCase()}; supported types are ${typeList(OUTPUT_TYPES)}`);
  return type as CastType;
}

function validateSpec(name: string, value: ConfigValue): string | undefined {
  try {
    parseSpec(Array.isArray(value) ? value : []);
    return undefined;
  } catch (error) {
    return invalidValue(name, value ?? [], (error as Error).message);
  }
}

const CONFIG_DEF = new ConnectConfigDef()
  .define({
    name: 'spec',
    type: 'list',
    importance: 'HIGH',
    validator: validateSpec,
    documentation:
      'List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. ' +
      'Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.',
  })
  .define(replaceNullWithDefaultKey);

export class Cast extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private casts = new Map<string | null, CastType>();
  private wholeValueType: CastType | undefined;
  private replaceNullWithDefault = true;
  private readonly schemaCache = new SchemaCache();

  constructor(private readonly side: RecordSide) {
    super();
  }

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  protected setup(config: ParsedConfig): void {
    this.casts = parseSpec(config.list('spec'));
    this.wholeValueType = this.casts.get(WHOLE_VALUE);
    this.replaceNullWithDefault = config.boolean(REPLACE_NULL_WITH_DEFAULT);
  }

  apply<R extends ConnectRecord>(record: R): R {
    const value = this.side.value(record);
    if (value === null || value === undefined) return record;
    const schema = this.side.schema(record);
    return schema === null ? this.applySchemaless(record, value) : this.applyWithSchema(record, schema, value);
  }

  private applySchemaless<R extends ConnectRecord>(record: R, value: unknown): R {
    if (this.wholeValueType) return this.side.update(record, null, castValue(null, value, this.wholeValueType, true));
    const original = requireMap(value, PURPOSE);
    const updated = { ...original };
    for (const [field, type] of this.casts) updated[field!] = castValue(null, original[field!], type, true);
    return this.side.update(record, null, updated);
  }

  private applyWithSchema<R extends ConnectRecord>(record: R, schema: Schema, value: unknown): R {
    const updatedSchema = this.schemaCache.getOrBuild(schema, (original) => this.updatedSchema(original));
    if (this.wholeValueType) return this.side.update(record, updatedSchema, castValue(schema, value, this.wholeValueType, false));
    const struct = requireStruct(value, PURPOSE);
    const updated = new Struct(updatedSchema);
    for (const field of struct.schema.fields!) {
      const original = readField(struct, field.name, this.replaceNullWithDefault);
      const type = this.casts.get(field.name);
      updated.put(field.name, type ? castValue(field.schema, original, type, false) : original);
    }
    return this.side.update(record, updatedSchema, updated);
  }

  private updatedSchema(schema: Schema): Schema {
    const whole = this.wholeValueType;
    const builder = copySchemaBasics(schema, SchemaBuilder.type(whole ?? 'struct'));
    if (!whole) for (const field of schema.fields ?? []) builder.field(field.name, this.castFieldSchema(field.name, field.schema));
    if (schema.optional) builder.optional();
    // A struct's default is not cast (Kafka's Cast fails on a struct schema with a default).
    if (whole && schema.defaultValue !== undefined && schema.defaultValue !== null) builder.defaultValue(castValue(schema, schema.defaultValue, whole, false));
    return builder.build();
  }

  private castFieldSchema(name: string, schema: Schema): Schema {
    const type = this.casts.get(name);
    if (!type) return schema;
    const builder = SchemaBuilder.type(type);
    if (schema.optional) builder.optional();
    if (schema.defaultValue !== undefined && schema.defaultValue !== null) builder.defaultValue(castValue(schema, schema.defaultValue, type, false));
    return builder.build();
  }

  override close(): void {
    this.schemaCache.clear();
  }
}

/** The Connect type of a schemaless value (integers are int64, as JSON's are), or null. */
function inferType(value: unknown): SchemaType | null {
  switch (typeof value) {
    case 'boolean': return 'boolean';
    case 'string': return 'string';
    case 'bigint': return 'int64';
    case 'number': return Number.isInteger(value) ? 'int64' : 'float64';
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'array';
  if (isPlainObject(value) || value instanceof Map) return 'map';
  if (value instanceof Struct) return 'struct';
  return null;
}

/** Casts one value; `schemaless` decides how an int64 result is represented (see int64Value). */
export function castValue(schema: Schema | null, value: unknown, target: CastType, schemaless: boolean): unknown {
  if (value === null || value === undefined) return null;
  const source = schema ? schema.type : inferType(value);
  if (source === null) throw new DataException(`Cast transformation was passed a value of type ${typeName(value)} which is not supported by Connect's data API`);
  if (!INPUT_TYPES.includes(source)) throw new DataException(`Cast transformation does not support casting from ${source.toUpperCase()}; supported types are ${typeList(INPUT_TYPES)}`);
  const input = schema?.name && target !== 'string' ? encodeLogical(schema, value) : value;
  const floating = source === 'float32' || source === 'float64';
  switch (target) {
    case 'int8': return Number(toIntegral(input, 8, floating));
    case 'int16': return Number(toIntegral(input, 16, floating));
    case 'int32': return Number(toIntegral(input, 32, floating));
    case 'int64': return int64Value(toIntegral(input, 64, floating), schemaless);
    case 'float32': return Math.fround(toFloating(input));
    case 'float64': return toFloating(input);
    case 'boolean': return toBoolean(input, floating);
    case 'string': return toText(input, source);
  }
}

/** Date, Time and Timestamp values as the numbers Kafka stores them as. */
function encodeLogical(schema: Schema, value: unknown): unknown {
  if (!(value instanceof Date)) return value;
  const millis = value.getTime();
  switch (schema.name) {
    case LogicalNames.DATE:
      if (millis % DAY_MS !== 0) throw new DataException('Kafka Connect Date type should not have any time fields set to non-zero values.');
      return millis / DAY_MS;
    case LogicalNames.TIME:
      if (millis < 0 || millis >= DAY_MS) throw new DataException('Kafka Connect Time type should not have any date fields set to non-zero values.');
      return millis;
    case LogicalNames.TIMESTAMP:
      return millis;
    default:
      return value;
  }
}

const INT_RANGE: Record<number, [bigint, bigint]> = {
  8: [-128n, 127n],
  16: [-32768n, 32767n],
  32: [-2147483648n, 2147483647n],
  64: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Java's narrowing to a `bits`-wide integer: integers wrap, floating values truncate and saturate at int (or long). */
function toIntegral(value: unknown, bits: 8 | 16 | 32 | 64, floating: boolean): bigint {
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'string') return parseJavaInteger(value, bits);
  if (typeof value === 'bigint') return BigInt.asIntN(bits, value);
  if (value instanceof Decimal) return BigInt.asIntN(bits, BigInt.asIntN(bits === 64 ? 64 : 32, truncate(value)));
  if (typeof value === 'number') {
    if (!floating && Number.isInteger(value)) return BigInt.asIntN(bits, BigInt(value));
    const [min, max] = INT_RANGE[bits === 64 ? 64 : 32]!;
    if (Number.isNaN(value)) return 0n;
    const saturated = value <= Number(min) ? min : value >= Number(max) ? max : BigInt(Math.trunc(value));
    return BigInt.asIntN(bits, saturated);
  }
  throw new DataException(`Unexpected type in Cast transformation: ${typeName(value)}`);
}

function truncate(decimal: Decimal): bigint {
  return decimal.scale <= 0 ? decimal.unscaled * 10n ** BigInt(-decimal.scale) : decimal.unscaled / 10n ** BigInt(decimal.scale);
}

/** Byte.parseByte ... Long.parseLong: an optional sign and decimal digits, in range. */
function parseJavaInteger(text: string, bits: number): bigint {
  const [min, max] = INT_RANGE[bits]!;
  const parsed = /^[+-]?\d+$/.test(text) ? BigInt(text) : null;
  if (parsed === null || parsed < min || parsed > max) throw new DataException(`Value (${text}) was out of range for requested data type`);
  return parsed;
}

function toFloating(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') return parseJavaDouble(value);
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Decimal) return decimalToNumber(value);
  throw new DataException(`Unexpected type in Cast transformation: ${typeName(value)}`);
}

/** Double.parseDouble: surrounding whitespace, a sign, NaN, Infinity, and an f/d suffix are allowed. */
function parseJavaDouble(text: string): number {
  const trimmed = text.trim();
  const match = /^([+-]?)(NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fFdD]?$/.exec(trimmed);
  if (!match || (/[fFdD]$/.test(trimmed) && /NaN|Infinity/.test(match[2]!))) {
    throw new DataException(`Value (${text}) was out of range for requested data type`);
  }
  return Number(`${match[1]}${match[2]}`);
}

function toBoolean(value: unknown, floating: boolean): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.toLowerCase() === 'true';
  return toIntegral(value, 64, floating) !== 0n;
}

/** Java's toString of the value, by its Connect type; bytes as base64, dates as ISO-8601. */
function toText(value: unknown, source: SchemaType): string {
  if (value instanceof Date) return isoDateString(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'number') {
    if (source === 'float32') return javaFloatString(value);
    if (source === 'float64') return javaDoubleString(value);
    return String(value);
  }
  return String(value);
}
