// Header values as text, the way Kafka's Values class writes them (convertToString) and reads
// them back with an inferred schema (parseString), for SimpleHeaderConverter.
//
// Writing: a string as it is; numbers as Java prints them (a float32 as Float.toString, a float64
// as Double.toString: 1.5, 1.0E10); booleans; bytes as base64; Decimal as BigDecimal.toString;
// Date "2024-01-31", Time "13:45:00.000Z", Timestamp "2024-01-31T13:45:00.000Z" (UTC); arrays
// [a,b], maps {k:v} and structs {"field":v} with strings inside them quoted ("a \"b\"").
//
// Reading: "true"/"false" are booleans; "null" is null; an integer takes the narrowest of int8,
// int16, int32 and int64 (or a Decimal beyond int64); another number is a float32, or a float64
// when too large for one; ISO dates, times and timestamps in the forms above are Date, Time and
// Timestamp; [..] and {..} are arrays and maps whose elements share a schema when they can (ints
// widen to the widest, a null makes the element schema optional); anything else is a string.
//
// Where this differs from Kafka: a top-level value is a number, boolean or date only when the
// whole text is one ("12:30" stays a string; Kafka reads 12); quoted strings inside arrays and maps
// are unescaped (Kafka leaves the backslashes in); dates are written by their schema (Kafka picks
// the form from the value, so a Timestamp at midnight comes back as a Date), and always in UTC.
import { DataException, Decimal, LogicalNames, type Schema, SchemaBuilder, type SchemaAndValue, Schemas, type SchemaType, Struct } from '../../api/data.js';
import { bigDecimalText, integerPart, isWholeNumber, javaDoubleText, javaFloatText, parseDecimalText } from './java-numbers.js';
import { DATE_SCHEMA, decimalSchema, describeType, isPlainObject, MILLIS_PER_DAY, schemasEqual, TIME_SCHEMA, TIMESTAMP_SCHEMA } from './logical.js';

// ---------------------------------------------------------------- writing

/** A header value as text (Kafka's Values.convertToString); null for a null value. */
export function headerValueText(schema: Schema | null, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return valueText(schema, value, false);
}

function valueText(schema: Schema | null, value: unknown, embedded: boolean): string {
  if (value === null || value === undefined) return 'null';
  if (schema?.name !== undefined && value instanceof Date) return dateText(value, schema.name);
  if (value instanceof Decimal) return bigDecimalText(value.unscaled, value.scale);
  if (value instanceof Date) return dateText(value, undefined);
  switch (typeof value) {
    case 'string': return embedded ? `"${escapeQuoted(value)}"` : value;
    case 'boolean': return String(value);
    case 'bigint': return value.toString();
    case 'number': return numberText(schema?.type, value);
    default: break;
  }
  if (value instanceof Uint8Array) {
    const base64 = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    return embedded ? `"${base64}"` : base64;
  }
  if (Array.isArray(value)) return `[${value.map((item: unknown) => valueText(schema?.valueSchema ?? null, item, true)).join(',')}]`;
  if (value instanceof Struct) return structText(value);
  const entries = value instanceof Map ? [...(value as Map<unknown, unknown>)] : isPlainObject(value) ? Object.entries(value) : undefined;
  if (entries) {
    const keySchema = schema?.keySchema ?? null;
    const valueSchema = schema?.valueSchema ?? null;
    return `{${entries.map(([key, item]) => `${valueText(keySchema, key, true)}:${valueText(valueSchema, item, true)}`).join(',')}}`;
  }
  throw new DataException(`Failed to serialize unexpected value type ${describeType(value)}: ${String(value)}`);
}

function structText(struct: Struct): string {
  const parts = struct.schema.fields!.map((field) => `${valueText(null, field.name, true)}:${valueText(field.schema, struct.get(field.name), true)}`);
  return `{${parts.join(',')}}`;
}

/** Java's toString of a number: integers plainly, float32 and float64 as Float/Double.toString. */
function numberText(type: SchemaType | undefined, value: number): string {
  if (type === 'float32') return javaFloatText(value);
  if (type === 'float64' || !Number.isSafeInteger(value)) return javaDoubleText(value);
  return String(value);
}

/** By the logical type when known, else as Kafka guesses: before the second day a time, at midnight a date. */
function dateText(value: Date, logicalName: string | undefined): string {
  const millis = value.getTime();
  if (Number.isNaN(millis)) throw new DataException('Failed to serialize an invalid Date');
  const iso = value.toISOString();
  const form = logicalName === LogicalNames.TIME || logicalName === LogicalNames.DATE || logicalName === LogicalNames.TIMESTAMP
    ? logicalName
    : millis < MILLIS_PER_DAY ? LogicalNames.TIME : millis % MILLIS_PER_DAY === 0 ? LogicalNames.DATE : LogicalNames.TIMESTAMP;
  if (form === LogicalNames.TIME) return iso.slice(11);
  if (form === LogicalNames.DATE) return iso.slice(0, 10);
  return iso;
}

function escapeQuoted(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

// ---------------------------------------------------------------- reading

const NULL_VALUE: SchemaAndValue = Object.freeze({ schema: null, value: null });
const TIMESTAMP_TEXT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/;
const TIME_TEXT = /^(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/;
const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Kafka tries a number only when the text starts with a digit or a sign. */
const NUMBER_TEXT = /^(?:\d+\.?\d*|[+-](?:\d+\.?\d*|\.\d+))(?:[eE][+-]?\d+)?$/;

/** A header's text with the schema inferred from it (Kafka's Values.parseString). */
export function parseHeaderText(text: string): SchemaAndValue {
  if (text === '') return { schema: Schemas.STRING, value: '' };
  const trimmed = text.trim();
  if (trimmed === '') return { schema: Schemas.STRING, value: text };
  const literal = parseLiteral(trimmed);
  if (literal !== undefined) return literal ?? NULL_VALUE;
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    const composite = parseComposite(trimmed);
    if (composite) return composite;
  }
  return { schema: Schemas.STRING, value: text };
}

/** null, a boolean, a date/time/timestamp or a number; null for "null", undefined when it is none of them. */
function parseLiteral(token: string): SchemaAndValue | null | undefined {
  if (token === 'null') return null;
  if (token === 'true') return { schema: Schemas.BOOLEAN, value: true };
  if (token === 'false') return { schema: Schemas.BOOLEAN, value: false };
  return parseTemporal(token) ?? parseNumber(token);
}

function parseTemporal(token: string): SchemaAndValue | undefined {
  let match = TIMESTAMP_TEXT.exec(token);
  if (match) return utcDate(TIMESTAMP_SCHEMA, match.slice(1, 4), match.slice(4, 8));
  match = TIME_TEXT.exec(token);
  if (match) return utcDate(TIME_SCHEMA, ['1970', '01', '01'], match.slice(1, 5));
  match = DATE_TEXT.exec(token);
  if (match) return utcDate(DATE_SCHEMA, match.slice(1, 4), ['0', '0', '0', '0']);
  return undefined;
}

/** The date when every field is in range (2024-02-30 is not a date). */
function utcDate(schema: Schema, [year, month, day]: string[], [hour, minute, second, millis]: string[]): SchemaAndValue | undefined {
  const parts = [year, month, day, hour, minute, second, millis].map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(parts[0], parts[1] - 1, parts[2]);
  date.setUTCHours(parts[3], parts[4], parts[5], parts[6]);
  const fits = date.getUTCFullYear() === parts[0] && date.getUTCMonth() === parts[1] - 1 && date.getUTCDate() === parts[2]
    && date.getUTCHours() === parts[3] && date.getUTCMinutes() === parts[4] && date.getUTCSeconds() === parts[5];
  return fits ? { schema, value: date } : undefined;
}

/** Kafka's parseAsNumber: a whole number in the narrowest int type, else float32, float64 or a Decimal. */
function parseNumber(token: string): SchemaAndValue | undefined {
  if (!NUMBER_TEXT.test(token)) return undefined;
  const decimal = parseDecimalText(token);
  if (!decimal) return undefined;
  if (isWholeNumber(decimal)) {
    const integer = integerPart(decimal);
    if (integer !== undefined && BigInt.asIntN(64, integer) === integer) return integerValue(integer);
  }
  const float = Math.fround(Number(token));
  if (Number.isFinite(float) && decimal.scale !== 0) return { schema: Schemas.FLOAT32, value: float };
  const double = Number(token);
  if (Number.isFinite(double) && decimal.scale !== 0) return { schema: Schemas.FLOAT64, value: double };
  const whole = decimal.scale < 0 ? integerPart(decimal) : undefined;
  return whole === undefined
    ? { schema: decimalSchema(decimal.scale), value: new Decimal(decimal.unscaled, decimal.scale) }
    : { schema: decimalSchema(0), value: new Decimal(whole, 0) };
}

function integerValue(integer: bigint): SchemaAndValue {
  if (BigInt.asIntN(8, integer) === integer) return { schema: Schemas.INT8, value: Number(integer) };
  if (BigInt.asIntN(16, integer) === integer) return { schema: Schemas.INT16, value: Number(integer) };
  if (BigInt.asIntN(32, integer) === integer) return { schema: Schemas.INT32, value: Number(integer) };
  return { schema: Schemas.INT64, value: integer };
}

/** An array or map taking the whole text, or undefined when the text is not one (it is then a string). */
function parseComposite(text: string): SchemaAndValue | undefined {
  const parser = new CompositeParser(text);
  try {
    const result = parser.value();
    return parser.atEnd() ? result ?? undefined : undefined;
  } catch (error) {
    if (error instanceof DataException) return undefined;
    throw error;
  }
}

const UNQUOTED_TOKEN = /[^,:[\]{}"]*/y;
const EMBEDDED_TEMPORAL = [
  /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/y,
  /\d{2}:\d{2}:\d{2}\.\d{3}Z/y,
];
const MAX_DEPTH = 1000;

/** The values inside [..] and {..}: quoted strings, literals, and nested arrays and maps. */
class CompositeParser {
  private position = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    this.skipWhitespace();
    return this.position >= this.text.length;
  }

  /** The next value; null for a null literal. */
  value(): SchemaAndValue | null {
    this.skipWhitespace();
    const char = this.text[this.position];
    if (char === '[') return this.nested(() => this.array());
    if (char === '{') return this.nested(() => this.map());
    if (char === '"') return this.quoted();
    return this.unquoted();
  }

  private nested(parse: () => SchemaAndValue): SchemaAndValue {
    if (++this.depth > MAX_DEPTH) throw new DataException('Header value nested too deeply');
    const result = parse();
    this.depth--;
    return result;
  }

  private array(): SchemaAndValue {
    this.position++;
    const values: unknown[] = [];
    const schemas: (Schema | null)[] = [];
    if (this.consume(']')) return arrayResult(values, schemas);
    for (;;) {
      const element = this.value();
      values.push(element?.value ?? null);
      schemas.push(element?.schema ?? null);
      if (this.consume(']')) return arrayResult(values, schemas);
      if (!this.consume(',')) throw new DataException("Array elements missing ',' delimiter");
    }
  }

  private map(): SchemaAndValue {
    this.position++;
    const entries: [SchemaAndValue, SchemaAndValue | null][] = [];
    if (this.consume('}')) return mapResult(entries);
    for (;;) {
      const key = this.value();
      if (key === null || key.value === null) throw new DataException('Map entry may not have a null key');
      if (!this.consume(':')) throw new DataException("Map entry is missing ':'");
      entries.push([key, this.value()]);
      if (this.consume('}')) return mapResult(entries);
      if (!this.consume(',')) throw new DataException("Map entries missing ',' delimiter");
    }
  }

  /** A quoted string, unescaped; one in a date, time or timestamp form is that (as Kafka). */
  private quoted(): SchemaAndValue {
    let content = '';
    for (let index = this.position + 1; index < this.text.length; index++) {
      const char = this.text[index]!;
      if (char === '"') {
        this.position = index + 1;
        return parseTemporal(content) ?? { schema: Schemas.STRING, value: content };
      }
      content += char === '\\' && index + 1 < this.text.length ? this.text[++index]! : char;
    }
    throw new DataException('Unterminated quoted string');
  }

  private unquoted(): SchemaAndValue | null {
    for (const pattern of EMBEDDED_TEMPORAL) {
      pattern.lastIndex = this.position;
      const match = pattern.exec(this.text);
      if (match && this.isDelimiterAt(this.position + match[0].length)) {
        this.position += match[0].length;
        return parseTemporal(match[0]) ?? failEmbedded(match[0]);
      }
    }
    UNQUOTED_TOKEN.lastIndex = this.position;
    const token = UNQUOTED_TOKEN.exec(this.text)![0];
    this.position += token.length;
    const literal = parseLiteral(token.trim());
    return literal === undefined ? failEmbedded(token) : literal;
  }

  private isDelimiterAt(index: number): boolean {
    const rest = this.text.slice(index).trimStart();
    return rest === '' || ',]}:'.includes(rest[0]!);
  }

  private consume(char: string): boolean {
    this.skipWhitespace();
    if (this.text[this.position] !== char) return false;
    this.position++;
    return true;
  }

  private skipWhitespace(): void {
    while (this.position < this.text.length && /\s/.test(this.text[this.position]!)) this.position++;
  }
}

function failEmbedded(token: string): never {
  throw new DataException(`Failed to parse embedded value: ${token}`);
}

/** The array's schema: its elements' common one (optional when one is null), or an array of anything. */
function arrayResult(values: unknown[], schemas: (Schema | null)[]): SchemaAndValue {
  const common = commonSchema(schemas);
  if (!common) return { schema: SchemaBuilder.type('array').build(), value: values };
  return { schema: SchemaBuilder.array(common).build(), value: values.map((value) => alignValue(common, value)) };
}

function mapResult(entries: [SchemaAndValue, SchemaAndValue | null][]): SchemaAndValue {
  const keySchema = commonSchema(entries.map(([key]) => key.schema));
  const valueSchema = commonSchema(entries.map(([, value]) => value?.schema ?? null));
  const map = new Map<unknown, unknown>();
  for (const [key, value] of entries) {
    map.set(keySchema ? alignValue(keySchema, key.value) : key.value, valueSchema && keySchema ? alignValue(valueSchema, value?.value ?? null) : value?.value ?? null);
  }
  if (!keySchema) return { schema: SchemaBuilder.type('map').build(), value: map };
  if (!valueSchema) return { schema: Object.freeze({ type: 'map', optional: false, keySchema }), value: map };
  return { schema: SchemaBuilder.map(keySchema, valueSchema).build(), value: map };
}

const NUMERIC_ORDER: readonly SchemaType[] = ['int8', 'int16', 'int32', 'int64', 'float32', 'float64'];

/** The schema every element fits (Kafka's SchemaMerger); nulls make it optional; undefined when there is none. */
function commonSchema(schemas: readonly (Schema | null)[]): Schema | undefined {
  let common: Schema | undefined;
  for (const schema of schemas) {
    if (schema === null) continue;
    if (common === undefined) common = schema;
    else {
      const merged = mergeSchemas(common, schema);
      if (!merged) return undefined;
      common = merged;
    }
  }
  if (common && !common.optional && schemas.includes(null)) common = SchemaBuilder.from(common).optional().build();
  return common;
}

/** Plain numeric types widen (int8 < int16 < int32 < int64 < float32 < float64); others must be equal. */
function mergeSchemas(previous: Schema, next: Schema): Schema | undefined {
  const previousRank = previous.name === undefined ? NUMERIC_ORDER.indexOf(previous.type) : -1;
  const nextRank = next.name === undefined ? NUMERIC_ORDER.indexOf(next.type) : -1;
  if (previousRank >= 0 && nextRank >= 0) return nextRank > previousRank ? next : previous;
  return schemasEqual(previous, next) ? previous : undefined;
}

/** A parsed number in the common numeric type's representation (int64 as bigint, floats as numbers). */
function alignValue(schema: Schema, value: unknown): unknown {
  if (value === null || (typeof value !== 'number' && typeof value !== 'bigint')) return value;
  switch (schema.type) {
    case 'int64': return BigInt(value);
    case 'float32': return Math.fround(Number(value));
    case 'float64': return Number(value);
    default: return value;
  }
}
