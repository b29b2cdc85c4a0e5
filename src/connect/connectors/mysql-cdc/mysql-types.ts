// MySQL/MariaDB column types as Debezium's MySQL connector represents them by default: the Connect
// schema of a column (from information_schema.COLUMNS) and the conversion of its values, which
// arrive in the same forms from the snapshot (mysql2 with dateStrings, bigNumberStrings and
// decimals as strings, session time zone UTC) and from the binary log (zongji with the same
// options): integers as numbers or exact strings, DECIMAL as text, temporal values as the
// server's text (TIMESTAMP in UTC), strings as strings, binary values as Buffers.
import { Decimal, LogicalNames, type Schema, SchemaBuilder } from '../../api/data.js';
import { DebeziumSchemas, type DecimalHandlingMode, decimalSchema, decimalValue, epochDays, epochMicros, zonedTimestampText } from '../debezium/types.js';
import type { TimePrecisionMode } from './config.js';

/** A column as information_schema describes it. */
export interface ColumnDefinition {
  readonly name: string;
  /** DATA_TYPE, lower case: int, varchar, decimal, datetime, enum, ... */
  readonly dataType: string;
  /** COLUMN_TYPE, lower case: int(10) unsigned, enum('a','b'), decimal(10,2), ... */
  readonly columnType: string;
  readonly nullable: boolean;
  /** NUMERIC_PRECISION (DECIMAL), else null. */
  readonly precision: number | null;
  /** NUMERIC_SCALE (DECIMAL), else null. */
  readonly scale: number | null;
  /** DATETIME_PRECISION (DATETIME, TIMESTAMP, TIME), else null. */
  readonly fsp: number | null;
  /** A JSON column (MySQL's json type; on MariaDB a longtext with a json_valid check). */
  readonly json: boolean;
  /** CHARACTER_SET_NAME (text columns), else null. */
  readonly charset?: string | null;
}

export interface TypeOptions {
  readonly decimalMode: DecimalHandlingMode;
  readonly timePrecisionMode: TimePrecisionMode;
  readonly bigintUnsignedPrecise: boolean;
}

/** A column's Connect schema and the conversion of its values into it. */
export interface ColumnType {
  readonly schema: Schema;
  readonly convert: (value: unknown) => unknown;
}

export const MySqlNames = {
  TIMESTAMP: 'io.debezium.time.Timestamp',
  YEAR: 'io.debezium.time.Year',
  BITS: 'io.debezium.data.Bits',
  ENUM: 'io.debezium.data.Enum',
  ENUM_SET: 'io.debezium.data.EnumSet',
} as const;

function builder(type: 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'boolean' | 'string' | 'bytes'): SchemaBuilder {
  switch (type) {
    case 'int16': return SchemaBuilder.int16();
    case 'int32': return SchemaBuilder.int32();
    case 'int64': return SchemaBuilder.int64();
    case 'float32': return SchemaBuilder.float32();
    case 'float64': return SchemaBuilder.float64();
    case 'boolean': return SchemaBuilder.bool();
    case 'string': return SchemaBuilder.string();
    case 'bytes': return SchemaBuilder.bytes();
  }
}

const done = (b: SchemaBuilder, optional: boolean): Schema => (optional ? b.optional() : b).build();

/** The values of an ENUM or SET column type: enum('a','b''c') → ['a', "b'c"]. */
export function enumValues(columnType: string): string[] {
  const open = columnType.indexOf('(');
  const values: string[] = [];
  let index = open + 1;
  while (index > 0 && index < columnType.length) {
    if (columnType[index] !== "'") {
      index++;
      continue;
    }
    let value = '';
    index++;
    while (index < columnType.length) {
      if (columnType[index] === "'" && columnType[index + 1] === "'") {
        value += "'";
        index += 2;
      } else if (columnType[index] === "'") {
        index++;
        break;
      } else if (columnType[index] === '\\' && index + 1 < columnType.length) {
        value += columnType[index + 1];
        index += 2;
      } else {
        value += columnType[index++];
      }
    }
    values.push(value);
  }
  return values;
}

const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));

/** Date parts of 'YYYY-MM-DD...' text; null for MySQL's zero date (or a zero month or day). */
function dateParts(value: string): [number, number, number] | null {
  const match = /^(-?\d{1,4})-(\d{1,2})-(\d{1,2})/.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month === 0 || day === 0) return null;
  return [year, month, day];
}

/** Microseconds of '[-]HHH:MM:SS[.ffffff]' (TIME values may be negative or over 24 hours). */
export function timeMicros(value: string): bigint {
  const match = /^(-)?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(value.trim());
  if (!match) throw new Error(`not a TIME value: ${value}`);
  const micros = ((BigInt(match[2]!) * 60n + BigInt(match[3]!)) * 60n + BigInt(match[4]!)) * 1_000_000n + BigInt((match[5] ?? '').padEnd(6, '0'));
  return match[1] ? -micros : micros;
}

/** Epoch microseconds of 'YYYY-MM-DD HH:MM:SS[.ffffff]' read as UTC; null for a zero date. */
export function dateTimeMicros(value: string): bigint | null {
  const parts = dateParts(value);
  if (parts === null) return null;
  const time = value.slice(value.indexOf(' ') + 1);
  return epochMicros(epochDays(...parts), value.includes(' ') ? timeMicros(time) : 0n);
}

/**
 * The Connect type of a column, as Debezium's MySQL connector maps it by default
 * (TINYINT(1) included: Debezium reads it as a TINYINT, INT16, unless a converter says otherwise).
 */
export function columnType(column: ColumnDefinition, options: TypeOptions, optional = column.nullable): ColumnType {
  const type = column.dataType.toLowerCase();
  const unsigned = /\bunsigned\b/.test(column.columnType);
  const simple = (kind: Parameters<typeof builder>[0], convert: (value: unknown) => unknown): ColumnType => ({ schema: done(builder(kind), optional), convert });
  const integer = (value: unknown) => Number(value);
  const long = (value: unknown) => BigInt.asIntN(64, BigInt(text(value)));
  const connectMode = options.timePrecisionMode === 'connect';
  if (column.json || type === 'json') return { schema: DebeziumSchemas.json(optional), convert: text };
  switch (type) {
    case 'bit': {
      const length = Number(/\((\d+)\)/.exec(column.columnType)?.[1] ?? '1');
      if (length <= 1) return simple('boolean', (value) => (Buffer.isBuffer(value) ? value.some((byte) => byte !== 0) : Boolean(Number(value))));
      const bytes = Math.ceil(length / 8);
      // Debezium's Bits: the bits in little-endian byte order; the server sends big-endian.
      return {
        schema: done(SchemaBuilder.bytes().name(MySqlNames.BITS).version(1).parameter('length', String(length)), optional),
        convert: (value) => {
          const big = Buffer.isBuffer(value) ? value : Buffer.from(BigInt(text(value)).toString(16).padStart(bytes * 2, '0'), 'hex');
          const out = Buffer.alloc(bytes);
          for (let index = 0; index < bytes && index < big.length; index++) out[index] = big[big.length - 1 - index]!;
          return out;
        },
      };
    }
    case 'tinyint': return simple('int16', integer);
    case 'smallint': return simple(unsigned ? 'int32' : 'int16', integer);
    case 'mediumint': return simple('int32', integer);
    case 'int': case 'integer': return simple(unsigned ? 'int64' : 'int32', unsigned ? long : integer);
    case 'bigint':
      if (unsigned && options.bigintUnsignedPrecise) {
        const schema = DebeziumSchemas.decimal(0, 20, optional);
        return { schema, convert: (value) => new Decimal(BigInt(text(value)), 0) };
      }
      return simple('int64', long);
    case 'float': return simple('float32', (value) => Math.fround(Number(value)));
    case 'double': case 'real': case 'double precision': return simple('float64', (value) => Number(value));
    case 'decimal': case 'numeric': case 'fixed': case 'dec': {
      const schema = decimalSchema(options.decimalMode, column.scale ?? 0, column.precision, optional);
      return { schema, convert: (value) => decimalValue(schema, text(value)) };
    }
    case 'enum':
      return { schema: done(SchemaBuilder.string().name(MySqlNames.ENUM).version(1).parameter('allowed', enumValues(column.columnType).join(',')), optional), convert: text };
    case 'set':
      return { schema: done(SchemaBuilder.string().name(MySqlNames.ENUM_SET).version(1).parameter('allowed', enumValues(column.columnType).join(',')), optional), convert: text };
    case 'char': case 'varchar': case 'tinytext': case 'text': case 'mediumtext': case 'longtext':
    case 'uuid': case 'inet4': case 'inet6':
      return simple('string', text);
    case 'binary': case 'varbinary': case 'tinyblob': case 'blob': case 'mediumblob': case 'longblob':
    case 'geometry': case 'point': case 'linestring': case 'polygon': case 'multipoint': case 'multilinestring': case 'multipolygon': case 'geometrycollection':
      return simple('bytes', (value) => (Buffer.isBuffer(value) ? value : Buffer.from(text(value), 'utf8')));
    case 'year':
      return { schema: done(SchemaBuilder.int32().name(MySqlNames.YEAR).version(1), optional), convert: integer };
    case 'date': {
      const convert = (value: unknown) => {
        const parts = dateParts(text(value));
        return parts === null ? null : epochDays(...parts);
      };
      if (connectMode) return { schema: done(SchemaBuilder.int32().name(LogicalNames.DATE).version(1), optional), convert: (value) => nullOr(convert(value), (days) => new Date(days * 86_400_000)) };
      return { schema: DebeziumSchemas.date(optional), convert };
    }
    case 'datetime': {
      const micros = (value: unknown) => dateTimeMicros(text(value));
      if (connectMode) return { schema: done(SchemaBuilder.int64().name(LogicalNames.TIMESTAMP).version(1), optional), convert: (value) => nullOr(micros(value), (us) => new Date(Number(us / 1000n))) };
      if ((column.fsp ?? 0) <= 3) return { schema: done(SchemaBuilder.int64().name(MySqlNames.TIMESTAMP).version(1), optional), convert: (value) => nullOr(micros(value), (us) => floorDiv(us, 1000n)) };
      return { schema: DebeziumSchemas.microTimestamp(optional), convert: micros };
    }
    case 'timestamp':
      return { schema: DebeziumSchemas.zonedTimestamp(optional), convert: (value) => nullOr(dateTimeMicros(text(value)), zonedTimestampText) };
    case 'time': {
      if (connectMode) return { schema: done(SchemaBuilder.int32().name(LogicalNames.TIME).version(1), optional), convert: (value) => new Date(Number(timeMicros(text(value)) / 1000n)) };
      return { schema: DebeziumSchemas.microTime(optional), convert: (value) => timeMicros(text(value)) };
    }
    default:
      // A type without a Debezium mapping here: its text.
      return simple('string', text);
  }
}

function nullOr<T, R>(value: T | null, then: (value: T) => R): R | null {
  return value === null ? null : then(value);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b !== 0n && a < 0n ? quotient - 1n : quotient;
}
