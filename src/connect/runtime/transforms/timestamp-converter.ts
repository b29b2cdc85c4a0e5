// TimestampConverter$Key / TimestampConverter$Value: converts a timestamp field (`field`), or the
// whole key or value (field empty), between a formatted string (`format`, a SimpleDateFormat
// pattern, UTC), a Unix time (an int64 in unix.precision units) and Connect's Date, Time and
// Timestamp. The input's kind comes from its schema, or (schemaless) from the value: a Date is a
// Timestamp, an integer a Unix time, a string a formatted time.
import { ConnectConfigDef, type ParsedConfig } from '../../api/config.js';
import { ConnectException } from '../../api/connector.js';
import { type ConnectRecord, DataException, LogicalNames, type Schema, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { SimpleDateFormat } from './simple-date-format.js';
import {
  BaseTransformation,
  copySchemaBasics,
  dateSchema,
  int64Value,
  readField,
  REPLACE_NULL_WITH_DEFAULT,
  replaceNullWithDefaultKey,
  requireMap,
  requireStructOrNull,
  type RecordSide,
  SchemaCache,
  timeSchema,
  timestampSchema,
  TransformConfigError,
  typeName,
  validString,
} from './util.js';

type TimestampType = 'string' | 'unix' | 'Date' | 'Time' | 'Timestamp';
type UnixPrecision = 'seconds' | 'milliseconds' | 'microseconds' | 'nanoseconds';

const PURPOSE = 'converting timestamp formats';
const DAY_MS = 86_400_000;
/** Each precision's units to and from milliseconds, truncating toward zero as Java's TimeUnit. */
const PRECISION: Record<UnixPrecision, { toMillis: (units: bigint) => bigint; fromMillis: (millis: bigint) => bigint }> = {
  seconds: { toMillis: (units) => units * 1000n, fromMillis: (millis) => millis / 1000n },
  milliseconds: { toMillis: (units) => units, fromMillis: (millis) => millis },
  microseconds: { toMillis: (units) => units / 1000n, fromMillis: (millis) => millis * 1000n },
  nanoseconds: { toMillis: (units) => units / 1_000_000n, fromMillis: (millis) => millis * 1_000_000n },
};

const CONFIG_DEF = new ConnectConfigDef()
  .define({ name: 'field', type: 'string', defaultValue: '', importance: 'HIGH', documentation: 'The field containing the timestamp, or empty if the entire value is a timestamp' })
  .define({
    name: 'target.type',
    type: 'string',
    importance: 'HIGH',
    validator: validString('string', 'unix', 'Date', 'Time', 'Timestamp'),
    documentation: 'The desired timestamp representation: string, unix, Date, Time, or Timestamp',
  })
  .define({
    name: 'format',
    type: 'string',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation: 'A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.',
  })
  .define({
    name: 'unix.precision',
    type: 'string',
    defaultValue: 'milliseconds',
    importance: 'LOW',
    validator: validString('nanoseconds', 'microseconds', 'milliseconds', 'seconds'),
    documentation:
      'The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.' +
      'Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components.',
  })
  .define(replaceNullWithDefaultKey);

export class TimestampConverter extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private field = '';
  private targetType: TimestampType = 'Timestamp';
  private format: SimpleDateFormat | null = null;
  private precision: UnixPrecision = 'milliseconds';
  private replaceNullWithDefault = true;
  private readonly schemaCache = new SchemaCache();

  constructor(private readonly side: RecordSide) {
    super();
  }

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  protected setup(config: ParsedConfig): void {
    this.field = config.string('field');
    this.targetType = config.string('target.type') as TimestampType;
    this.precision = config.string('unix.precision') as UnixPrecision;
    this.replaceNullWithDefault = config.boolean(REPLACE_NULL_WITH_DEFAULT);
    const pattern = config.string('format');
    if (this.targetType === 'string' && pattern.trim() === '') {
      throw new TransformConfigError('TimestampConverter requires format option to be specified when using string timestamps');
    }
    this.format = pattern.trim() === '' ? null : compileFormat(pattern);
  }

  apply<R extends ConnectRecord>(record: R): R {
    const schema = this.side.schema(record);
    return schema === null ? this.applySchemaless(record) : this.applyWithSchema(record, schema);
  }

  private applySchemaless<R extends ConnectRecord>(record: R): R {
    const value = this.side.value(record);
    if (value === null || value === undefined || this.field === '') return this.side.update(record, null, this.convert(value ?? null, null, true));
    const updated = { ...requireMap(value, PURPOSE) };
    updated[this.field] = this.convert(updated[this.field] ?? null, null, true);
    return this.side.update(record, null, updated);
  }

  private applyWithSchema<R extends ConnectRecord>(record: R, schema: Schema): R {
    const value = this.side.value(record);
    if (this.field === '') {
      return this.side.update(record, this.targetSchema(schema.optional), this.convert(value ?? null, typeFromSchema(schema), false));
    }
    const struct = requireStructOrNull(value, PURPOSE);
    const updatedSchema = this.schemaCache.getOrBuild(schema, (original) => this.updatedSchema(original));
    return this.side.update(record, updatedSchema, struct === null ? null : this.convertStruct(struct, updatedSchema));
  }

  private updatedSchema(schema: Schema): Schema {
    const builder = copySchemaBasics(schema, SchemaBuilder.struct());
    for (const field of schema.fields!) {
      builder.field(field.name, field.name === this.field ? this.targetSchema(field.schema.optional) : field.schema);
    }
    if (schema.optional) builder.optional();
    if (schema.defaultValue instanceof Struct) builder.defaultValue(this.convertStruct(schema.defaultValue, builder.build()));
    return builder.build();
  }

  private convertStruct(struct: Struct, updatedSchema: Schema): Struct {
    const updated = new Struct(updatedSchema);
    for (const field of struct.schema.fields!) {
      const value = readField(struct, field.name, this.replaceNullWithDefault);
      updated.put(field.name, field.name === this.field ? this.convert(value, typeFromSchema(field.schema), false) : value);
    }
    return updated;
  }

  private targetSchema(optional: boolean): Schema {
    switch (this.targetType) {
      case 'string': return optional ? Schemas.OPTIONAL_STRING : Schemas.STRING;
      case 'unix': return optional ? Schemas.OPTIONAL_INT64 : Schemas.INT64;
      case 'Date': return dateSchema(optional);
      case 'Time': return timeSchema(optional);
      case 'Timestamp': return timestampSchema(optional);
    }
  }

  /** Converts a timestamp of type `from` (inferred from the value when null) to the target type. */
  private convert(value: unknown, from: TimestampType | null, schemaless: boolean): unknown {
    if (value === null) return null;
    const millis = this.toMillis(value, from ?? inferType(value));
    return this.fromMillis(millis, schemaless);
  }

  private toMillis(value: unknown, from: TimestampType): number {
    switch (from) {
      case 'string':
        if (typeof value !== 'string') throw new DataException(`Expected string timestamp to be a String, but found ${typeName(value)}`);
        return this.parse(value);
      case 'unix':
        if (typeof value !== 'bigint' && !Number.isInteger(value)) throw new DataException(`Expected Unix timestamp to be a Long, but found ${typeName(value)}`);
        return Number(PRECISION[this.precision].toMillis(BigInt(value as number | bigint)));
      default:
        if (!(value instanceof Date)) throw new DataException(`Expected ${from} to be a java.util.Date, but found ${typeName(value)}`);
        return value.getTime();
    }
  }

  private parse(text: string): number {
    try {
      return this.format!.parse(text).getTime();
    } catch {
      throw new DataException(`Could not parse timestamp: value (${text}) does not match pattern (${this.format?.pattern})`);
    }
  }

  private fromMillis(millis: number, schemaless: boolean): unknown {
    switch (this.targetType) {
      case 'string': return this.format!.format(millis);
      case 'unix': return int64Value(PRECISION[this.precision].fromMillis(BigInt(millis)), schemaless);
      case 'Date': return new Date(millis - mod(millis, DAY_MS));
      case 'Time': return new Date(mod(millis, DAY_MS));
      case 'Timestamp': return new Date(millis);
    }
  }

  override close(): void {
    this.schemaCache.clear();
  }
}

function compileFormat(pattern: string): SimpleDateFormat {
  try {
    return new SimpleDateFormat(pattern);
  } catch {
    throw new TransformConfigError(`TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: ${pattern}`);
  }
}

const mod = (value: number, divisor: number): number => ((value % divisor) + divisor) % divisor;

function typeFromSchema(schema: Schema): TimestampType {
  if (schema.name === LogicalNames.TIMESTAMP) return 'Timestamp';
  if (schema.name === LogicalNames.DATE) return 'Date';
  if (schema.name === LogicalNames.TIME) return 'Time';
  if (schema.type === 'string') return 'string';
  if (schema.type === 'int64') return 'unix';
  throw new ConnectException(`Schema ${describe(schema)} does not correspond to a known timestamp type format`);
}

function describe(schema: Schema): string {
  return `Schema{${schema.name ? `${schema.name}:` : ''}${schema.type.toUpperCase()}}`;
}

function inferType(value: unknown): TimestampType {
  if (value instanceof Date) return 'Timestamp';
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return 'unix';
  if (typeof value === 'string') return 'string';
  throw new DataException(`TimestampConverter does not support ${typeName(value)} objects as timestamps`);
}
