// Connect's logical types between their values and their underlying ones, as Kafka's Decimal,
// Date, Time and Timestamp classes convert them: a Decimal is its unscaled value's two's-complement
// big-endian bytes (the scale is the schema's "scale" parameter); a Date is whole days since the
// epoch (int32), a Time milliseconds since midnight (int32), a Timestamp milliseconds since the
// epoch (int64). Also the schemas of the logical types, and a structural schema comparison.
import { DataException, Decimal, LogicalNames, type Schema, SchemaBuilder, Struct } from '../../api/data.js';

export const MILLIS_PER_DAY = 86_400_000;

/** Kafka's Decimal.schema(scale): bytes named org.apache.kafka.connect.data.Decimal, version 1. */
export function decimalSchema(scale: number, optional = false): Schema {
  const builder = SchemaBuilder.bytes().name(LogicalNames.DECIMAL).parameter('scale', String(scale)).version(1);
  return (optional ? builder.optional() : builder).build();
}

export const DATE_SCHEMA: Schema = SchemaBuilder.int32().name(LogicalNames.DATE).version(1).build();
export const TIME_SCHEMA: Schema = SchemaBuilder.int32().name(LogicalNames.TIME).version(1).build();
export const TIMESTAMP_SCHEMA: Schema = SchemaBuilder.int64().name(LogicalNames.TIMESTAMP).version(1).build();

/** The scale a Decimal schema declares. */
export function decimalScale(schema: Schema): number {
  const text = schema.parameters?.scale;
  if (text === undefined) throw new DataException('Invalid Decimal schema: scale parameter not found.');
  if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
    throw new DataException(`Invalid scale parameter found in Decimal schema: ${text}`);
  }
  return Number(text);
}

/** A Decimal's bytes: its unscaled value in minimal two's complement, big-endian (BigInteger.toByteArray). */
export function decimalToBytes(schema: Schema, value: Decimal): Buffer {
  const scale = decimalScale(schema);
  if (value.scale !== scale) {
    throw new DataException(`Decimal value has mismatching scale for given Decimal schema. Schema has scale ${scale}, value has scale ${value.scale}.`);
  }
  return twosComplementBytes(value.unscaled);
}

export function twosComplementBytes(value: bigint): Buffer {
  let length = 1;
  while (value < -(1n << BigInt(8 * length - 1)) || value >= 1n << BigInt(8 * length - 1)) length++;
  const hex = BigInt.asUintN(8 * length, value).toString(16).padStart(2 * length, '0');
  return Buffer.from(hex, 'hex');
}

/** The Decimal that bytes written by decimalToBytes stand for, at the schema's scale. */
export function decimalFromBytes(schema: Schema, bytes: Uint8Array): Decimal {
  if (bytes.length === 0) throw new DataException('Invalid bytes for Decimal field: no bytes');
  const unsigned = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  return new Decimal(BigInt.asIntN(8 * bytes.length, unsigned), decimalScale(schema));
}

/** A Date value's day number; the value must be midnight UTC. */
export function dateToDays(value: unknown): number {
  const millis = validMillis(value, 'Date');
  if (millis % MILLIS_PER_DAY !== 0) throw new DataException('Kafka Connect Date type should not have any time fields set to non-zero values.');
  return millis / MILLIS_PER_DAY;
}

export function daysToDate(days: number): Date {
  return new Date(days * MILLIS_PER_DAY);
}

/** A Time value's milliseconds since midnight; the value must fall on 1970-01-01 UTC. */
export function timeToMillis(value: unknown): number {
  const millis = validMillis(value, 'Time');
  if (millis < 0 || millis > MILLIS_PER_DAY) throw new DataException('Kafka Connect Time type should not have any date fields set to non-zero values.');
  return millis;
}

export function millisToTime(millis: number): Date {
  if (millis < 0 || millis > MILLIS_PER_DAY) throw new DataException('Time values must use number of milliseconds greater than 0 and less than 86400000');
  return new Date(millis);
}

export function timestampToMillis(value: unknown): number {
  return validMillis(value, 'Timestamp');
}

/** A Timestamp from int64 milliseconds; beyond what a Date holds (±8.64e15 ms) is an error. */
export function millisToTimestamp(millis: bigint): Date {
  const date = new Date(Number(millis));
  if (Number.isNaN(date.getTime())) throw new DataException(`Timestamp ${millis} is outside the range of a Date`);
  return date;
}

function validMillis(value: unknown, logicalName: string): number {
  if (!(value instanceof Date)) throw new DataException(`Invalid type for ${logicalName}, expected Date but was ${describeType(value)}`);
  const millis = value.getTime();
  if (Number.isNaN(millis)) throw new DataException(`Invalid ${logicalName}: the Date is invalid`);
  return millis;
}

/** A value's type for error messages: "string", "number", "Buffer", "Map", "Struct"... */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/** Connect's Schema.equals: same type, flags, names, parameters, default, fields and inner schemas. */
export function schemasEqual(a: Schema | null | undefined, b: Schema | null | undefined, ignoreDefault = false): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.type === b.type
    && a.optional === b.optional
    && a.name === b.name
    && a.version === b.version
    && a.doc === b.doc
    && recordsEqual(a.parameters, b.parameters)
    && (ignoreDefault || valuesEqual(a.defaultValue, b.defaultValue))
    && schemasEqual(a.keySchema, b.keySchema)
    && schemasEqual(a.valueSchema, b.valueSchema)
    && (a.fields ?? []).length === (b.fields ?? []).length
    && (a.fields ?? []).every((field, index) => field.name === b.fields![index]!.name && schemasEqual(field.schema, b.fields![index]!.schema));
}

function recordsEqual(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const left = Object.entries(a ?? {});
  const right = b ?? {};
  return left.length === Object.keys(right).length && left.every(([key, value]) => right[key] === value);
}

/** Deep equality of Connect values (defaults compared by schemasEqual). */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof Decimal && b instanceof Decimal) return a.unscaled === b.unscaled && a.scale === b.scale;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => valuesEqual(item, b[index]));
  if (a instanceof Map && b instanceof Map) return a.size === b.size && [...a].every(([key, value]) => b.has(key) && valuesEqual(value, b.get(key)));
  if (a instanceof Struct && b instanceof Struct) {
    return schemasEqual(a.schema, b.schema) && a.schema.fields!.every((field) => valuesEqual(a.getWithoutDefault(field.name), b.getWithoutDefault(field.name)));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && valuesEqual(a[key], b[key]));
  }
  return false;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
