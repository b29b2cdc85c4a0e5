// Pieces of Kafka Connect's Values class that the transforms need: reading a literal string as a
// typed value (Values.parseString, for InsertHeader's value.literal), and writing numbers and dates
// as Java's toString and Values.dateFormatFor do (for Cast to string).
//
// parseString here reads scalars only: '' and text are strings, null, true/false, integers as the
// smallest of int8/int16/int32/int64 (beyond int64 a Decimal), other numbers as float32 (float64
// when a float32 would overflow), and ISO-8601 dates (yyyy-MM-dd), times (HH:mm:ss.SSSZ) and
// timestamps (yyyy-MM-ddTHH:mm:ss.SSSZ). Kafka's array and map literals ([1,2], {a:1}) stay strings.
import { Decimal, type Schema, type SchemaAndValue, Schemas } from '../../api/data.js';
import { SimpleDateFormat } from './simple-date-format.js';
import { dateSchema, timeSchema, timestampSchema } from './util.js';

const NUMBER = /^([+-]?\d+\.?\d*|[+-]\.\d+)([eE][+-]?\d+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DATE = new SimpleDateFormat('yyyy-MM-dd');
const TIME = new SimpleDateFormat("HH:mm:ss.SSS'Z'");
const TIMESTAMP = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'");
const DAY_MS = 86_400_000;

/** Values.parseString for scalar literals (see the header). */
export function parseLiteral(text: string): SchemaAndValue {
  if (text === '') return { schema: Schemas.STRING, value: '' };
  const token = text.trim();
  if (token === 'null') return { schema: null, value: null };
  if (token === 'true' || token === 'false') return { schema: Schemas.BOOLEAN, value: token === 'true' };
  if (/^[0-9]/.test(token)) {
    const temporal = parseTemporal(token);
    if (temporal) return temporal;
  }
  if (NUMBER.test(token)) return parseNumber(token);
  return { schema: Schemas.STRING, value: text };
}

function parseTemporal(token: string): SchemaAndValue | null {
  if (/^\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(token)) return { schema: timeSchema(false), value: TIME.parse(token) };
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(token)) return { schema: timestampSchema(false), value: TIMESTAMP.parse(token) };
  if (/^\d{4}-\d{2}-\d{2}$/.test(token)) return { schema: dateSchema(false), value: DATE.parse(token) };
  return null;
}

function parseNumber(token: string): SchemaAndValue {
  const decimal = toDecimal(token);
  if (decimal.scale <= 0 || decimal.unscaled % 10n ** BigInt(decimal.scale) === 0n) {
    const integral = decimal.scale <= 0 ? decimal.unscaled * 10n ** BigInt(-decimal.scale) : decimal.unscaled / 10n ** BigInt(decimal.scale);
    if (integral >= INT64_MIN && integral <= INT64_MAX) return integerLiteral(integral);
  }
  const float = Math.fround(Number(token));
  if (decimal.scale !== 0 && Number.isFinite(float)) return { schema: Schemas.FLOAT32, value: float };
  const double = Number(token);
  if (decimal.scale !== 0 && Number.isFinite(double)) return { schema: Schemas.FLOAT64, value: double };
  return { schema: decimalSchema(decimal.scale), value: decimal };
}

/** The smallest integer type holding the value, as Values.parseString picks it. */
function integerLiteral(value: bigint): SchemaAndValue {
  if (value >= -128n && value <= 127n) return { schema: Schemas.INT8, value: Number(value) };
  if (value >= -32768n && value <= 32767n) return { schema: Schemas.INT16, value: Number(value) };
  if (value >= -2147483648n && value <= 2147483647n) return { schema: Schemas.INT32, value: Number(value) };
  return { schema: Schemas.INT64, value };
}

/** A decimal literal (sign, digits, point, exponent) as an unscaled integer and a scale, as BigDecimal reads it. */
export function toDecimal(token: string): Decimal {
  const match = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(token);
  if (!match || (match[2] === '' && match[3] === '')) throw new Error(`not a decimal number: ${token}`);
  const digits = `${match[2]}${match[3]}`;
  const unscaled = BigInt(`${match[1]}${digits || '0'}`);
  return new Decimal(unscaled, match[3]!.length - Number(match[4] ?? 0));
}

function decimalSchema(scale: number): Schema {
  return { type: 'bytes', optional: false, name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: String(scale) } };
}

/** Java's Double.toString: "1.0", "0.001", "1.0E7", "1.0E-4", "NaN", "Infinity". */
export function javaDoubleString(value: number): string {
  return javaFloatingString(value, String);
}

/** Java's Float.toString: the shortest digits that read back as the same float32. */
export function javaFloatString(value: number): string {
  return javaFloatingString(Math.fround(value), shortestFloat32);
}

function javaFloatingString(value: number, digitsOf: (value: number) => string): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const plain = digitsOf(value);
    return plain.includes('.') ? plain : `${plain}.0`;
  }
  return scientific(digitsOf(value));
}

/** "1.5e+21" or "1.5e-7" (what JavaScript writes) as Java's "1.5E21" and "1.5E-7". */
function scientific(text: string): string {
  const exponential = text.includes('e') ? text : Number(text).toExponential();
  const [mantissa, exponent] = exponential.split('e') as [string, string];
  const fixedMantissa = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${fixedMantissa}E${Number(exponent)}`;
}

function shortestFloat32(value: number): string {
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return String(candidate);
  }
  return String(value);
}

/** Values.dateFormatFor: a time for values within the first day, a date for midnights, else a timestamp (UTC). */
export function isoDateString(date: Date): string {
  const time = date.getTime();
  if (time < DAY_MS) return TIME.format(date);
  if (time % DAY_MS === 0) return DATE.format(date);
  return TIMESTAMP.format(date);
}
