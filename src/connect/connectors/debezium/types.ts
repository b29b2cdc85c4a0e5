// Debezium's semantic types (io.debezium.time.*, io.debezium.data.*) and the conversions every
// change data capture source shares: calendar dates to epoch days, timestamps to epoch
// microseconds, zoned values to Debezium's ISO-8601 strings, decimals by decimal.handling.mode.
import { Decimal, LogicalNames, type Schema, SchemaBuilder, Struct } from '../../api/data.js';

export const DebeziumNames = {
  DATE: 'io.debezium.time.Date',
  MICRO_TIME: 'io.debezium.time.MicroTime',
  MICRO_TIMESTAMP: 'io.debezium.time.MicroTimestamp',
  ZONED_TIMESTAMP: 'io.debezium.time.ZonedTimestamp',
  ZONED_TIME: 'io.debezium.time.ZonedTime',
  JSON: 'io.debezium.data.Json',
  UUID: 'io.debezium.data.Uuid',
  XML: 'io.debezium.data.Xml',
  VARIABLE_SCALE_DECIMAL: 'io.debezium.data.VariableScaleDecimal',
  ENUM: 'io.debezium.data.Enum',
} as const;

export type DecimalHandlingMode = 'precise' | 'double' | 'string';

const named = (builder: SchemaBuilder, name: string, optional: boolean): Schema => {
  builder.name(name).version(1);
  return (optional ? builder.optional() : builder).build();
};

export const DebeziumSchemas = {
  date: (optional: boolean) => named(SchemaBuilder.int32(), DebeziumNames.DATE, optional),
  microTime: (optional: boolean) => named(SchemaBuilder.int64(), DebeziumNames.MICRO_TIME, optional),
  microTimestamp: (optional: boolean) => named(SchemaBuilder.int64(), DebeziumNames.MICRO_TIMESTAMP, optional),
  zonedTimestamp: (optional: boolean) => named(SchemaBuilder.string(), DebeziumNames.ZONED_TIMESTAMP, optional),
  zonedTime: (optional: boolean) => named(SchemaBuilder.string(), DebeziumNames.ZONED_TIME, optional),
  json: (optional: boolean) => named(SchemaBuilder.string(), DebeziumNames.JSON, optional),
  uuid: (optional: boolean) => named(SchemaBuilder.string(), DebeziumNames.UUID, optional),
  xml: (optional: boolean) => named(SchemaBuilder.string(), DebeziumNames.XML, optional),
  /** Kafka's Decimal with Debezium's precision parameter. */
  decimal: (scale: number, precision: number | null, optional: boolean): Schema => {
    const builder = SchemaBuilder.bytes().name(LogicalNames.DECIMAL).version(1).parameter('scale', String(scale));
    if (precision !== null) builder.parameter('connect.decimal.precision', String(precision));
    return (optional ? builder.optional() : builder).build();
  },
  /** A decimal whose scale varies by value (an unconstrained NUMERIC): a struct of scale and unscaled bytes. */
  variableScaleDecimal: (optional: boolean): Schema => {
    const builder = SchemaBuilder.struct().name(DebeziumNames.VARIABLE_SCALE_DECIMAL).version(1).doc('Variable scaled decimal')
      .field('scale', SchemaBuilder.int32().build())
      .field('value', SchemaBuilder.bytes().build());
    return (optional ? builder.optional() : builder).build();
  },
};

/** The schema of a decimal column by decimal.handling.mode (scale null: unconstrained). */
export function decimalSchema(mode: DecimalHandlingMode, scale: number | null, precision: number | null, optional: boolean): Schema {
  if (mode === 'double') return (optional ? SchemaBuilder.float64().optional() : SchemaBuilder.float64()).build();
  if (mode === 'string') return (optional ? SchemaBuilder.string().optional() : SchemaBuilder.string()).build();
  return scale === null ? DebeziumSchemas.variableScaleDecimal(optional) : DebeziumSchemas.decimal(scale, precision, optional);
}

/**
 * A decimal's text ("-12.340") as the value its schema wants; null for what the mode cannot hold
 * (NaN and infinities in precise mode, as Debezium).
 */
export function decimalValue(schema: Schema, text: string): unknown {
  if (schema.type === 'float64') return Number(text);
  if (schema.type === 'string') return text;
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!match) return null;
  const [, sign, whole = '', fraction = ''] = match;
  if (schema.name === LogicalNames.DECIMAL) {
    const scale = Number(schema.parameters?.scale ?? 0);
    // Rescale to the column's scale (the server pads already; a shorter fraction is padded here).
    const digits = fraction.length >= scale ? whole + fraction.slice(0, scale) : whole + fraction.padEnd(scale, '0');
    const unscaled = BigInt(digits === '' ? '0' : digits);
    return new Decimal(sign === '-' ? -unscaled : unscaled, scale);
  }
  const unscaled = BigInt(whole + fraction === '' ? '0' : whole + fraction);
  return new Struct(schema).put('scale', fraction.length).put('value', twosComplement(sign === '-' ? -unscaled : unscaled));
}

/** A big-endian two's complement of `value` in the fewest bytes (Java's BigInteger.toByteArray). */
export function twosComplement(value: bigint): Buffer {
  let bytes = 1;
  while (value < -(1n << BigInt(8 * bytes - 1)) || value >= 1n << BigInt(8 * bytes - 1)) bytes++;
  let rest = value < 0n ? (1n << BigInt(8 * bytes)) + value : value;
  const out = Buffer.alloc(bytes);
  for (let index = bytes - 1; index >= 0; index--) {
    out[index] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

const MICROS_PER_DAY = 86_400_000_000n;

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function epochDays(year: number, month: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return Math.round(date.getTime() / 86_400_000);
}

/** Microseconds since the epoch of a date and a time of day in microseconds. */
export function epochMicros(days: number, microsOfDay: bigint): bigint {
  return BigInt(days) * MICROS_PER_DAY + microsOfDay;
}

/**
 * Debezium's ZonedTimestamp text of an instant given in epoch microseconds: ISO-8601 in UTC with
 * as many fraction digits as needed (none for whole seconds), e.g. 2024-03-01T10:15:30.25Z.
 */
export function zonedTimestampText(micros: bigint): string {
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  const date = new Date(Number(days) * 86_400_000);
  const year = date.getUTCFullYear();
  const yearText = year < 0 ? `-${String(-year).padStart(4, '0')}` : year > 9999 ? `+${year}` : String(year).padStart(4, '0');
  return `${yearText}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}T${timeOfDayText(rest)}Z`;
}

/** HH:mm:ss[.fraction] of microseconds since midnight, trailing fraction zeros dropped. */
export function timeOfDayText(micros: bigint): string {
  const seconds = Number(micros / 1_000_000n);
  const fraction = Number(micros % 1_000_000n);
  const text = `${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${pad2(seconds % 60)}`;
  return fraction === 0 ? text : `${text}.${String(fraction).padStart(6, '0').replace(/0+$/, '')}`;
}

const pad2 = (value: number) => String(value).padStart(2, '0');
