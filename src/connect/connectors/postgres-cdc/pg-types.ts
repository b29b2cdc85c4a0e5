// PostgreSQL column types to Connect schemas and values, as Debezium's PostgreSQL connector maps
// them by default (time.precision.mode=adaptive, binary.handling.mode=bytes): values arrive as the
// server's text output (pgoutput's text format, and the snapshot's query in text mode), with the
// session set to DateStyle=ISO and TimeZone=UTC so dates and zones have one spelling.
import { type Schema, SchemaBuilder } from '../../api/data.js';
import { type DecimalHandlingMode, DebeziumSchemas, decimalSchema, decimalValue, epochDays, epochMicros, timeOfDayText, zonedTimestampText } from '../debezium/types.js';

/** The session settings both connections use, so that the text of every value has one format. */
export const SESSION_OPTIONS = '-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=postgres -c extra_float_digits=3 -c bytea_output=hex';

export const TypeOids = {
  BOOL: 16, BYTEA: 17, CHAR: 18, NAME: 19, INT8: 20, INT2: 21, INT4: 23, TEXT: 25, OID: 26, JSON: 114, XML: 142,
  FLOAT4: 700, FLOAT8: 701, BPCHAR: 1042, VARCHAR: 1043, DATE: 1082, TIME: 1083, TIMESTAMP: 1114, TIMESTAMPTZ: 1184,
  TIMETZ: 1266, NUMERIC: 1700, UUID: 2950, JSONB: 3802,
} as const;

export interface ColumnType {
  readonly schema: Schema;
  /** The value of the column's text, for `schema`. */
  readonly fromText: (text: string) => unknown;
}

const plain = (builder: SchemaBuilder, optional: boolean): Schema => (optional ? builder.optional() : builder).build();
const identity = (text: string) => text;

/** The schema and converter of a column of type `typeOid` with modifier `typeModifier`. */
export function columnType(typeOid: number, typeModifier: number, optional: boolean, decimalMode: DecimalHandlingMode): ColumnType {
  switch (typeOid) {
    case TypeOids.BOOL: return { schema: plain(SchemaBuilder.bool(), optional), fromText: (text) => text === 't' || text === 'true' };
    case TypeOids.INT2: return { schema: plain(SchemaBuilder.int16(), optional), fromText: Number };
    case TypeOids.INT4: return { schema: plain(SchemaBuilder.int32(), optional), fromText: Number };
    case TypeOids.INT8: case TypeOids.OID: return { schema: plain(SchemaBuilder.int64(), optional), fromText: (text) => BigInt(text) };
    case TypeOids.FLOAT4: return { schema: plain(SchemaBuilder.float32(), optional), fromText: parseFloatText };
    case TypeOids.FLOAT8: return { schema: plain(SchemaBuilder.float64(), optional), fromText: parseFloatText };
    case TypeOids.NUMERIC: {
      const constrained = typeModifier >= 4;
      // typmod - 4 holds the precision in its high 16 bits and the scale (11 bits, signed since PostgreSQL 15) in its low ones.
      const precision = constrained ? ((typeModifier - 4) >> 16) & 0xffff : null;
      const scale = constrained ? ((((typeModifier - 4) & 0x7ff) ^ 1024) - 1024) : null;
      const schema = decimalSchema(decimalMode, scale, precision, optional);
      return { schema, fromText: (text) => decimalValue(schema, text) };
    }
    case TypeOids.BYTEA: return { schema: plain(SchemaBuilder.bytes(), optional), fromText: parseBytea };
    case TypeOids.JSON: case TypeOids.JSONB: return { schema: DebeziumSchemas.json(optional), fromText: identity };
    case TypeOids.UUID: return { schema: DebeziumSchemas.uuid(optional), fromText: identity };
    case TypeOids.XML: return { schema: DebeziumSchemas.xml(optional), fromText: identity };
    case TypeOids.DATE: return { schema: DebeziumSchemas.date(optional), fromText: parseDate };
    case TypeOids.TIME: return { schema: DebeziumSchemas.microTime(optional), fromText: (text) => parseTimeOfDay(text).micros };
    case TypeOids.TIMETZ: return {
      schema: DebeziumSchemas.zonedTime(optional),
      fromText: (text) => {
        const { micros, rest } = parseTimeOfDay(text);
        const day = 86_400_000_000n;
        return `${timeOfDayText((((micros - BigInt(offsetSeconds(rest)) * 1_000_000n) % day) + day) % day)}Z`;
      },
    };
    case TypeOids.TIMESTAMP: return { schema: DebeziumSchemas.microTimestamp(optional), fromText: (text) => parseTimestamp(text)?.micros ?? null };
    case TypeOids.TIMESTAMPTZ: return {
      schema: DebeziumSchemas.zonedTimestamp(optional),
      fromText: (text) => {
        const parsed = parseTimestamp(text);
        return parsed === null ? null : zonedTimestampText(parsed.micros - BigInt(offsetSeconds(parsed.rest)) * 1_000_000n);
      },
    };
    // text, varchar, char, name, and everything not mapped above (enums, arrays, intervals, network types): strings.
    default: return { schema: plain(SchemaBuilder.string(), optional), fromText: identity };
  }
}

function parseFloatText(text: string): number {
  if (text === 'NaN') return Number.NaN;
  if (text === 'Infinity') return Number.POSITIVE_INFINITY;
  if (text === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** bytea's hex output (\x0102ff); the older escape format is read too. */
export function parseBytea(text: string): Buffer {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index++) {
    if (text[index] === '\\') {
      if (text[index + 1] === '\\') {
        bytes.push(0x5c);
        index++;
      } else {
        bytes.push(Number.parseInt(text.slice(index + 1, index + 4), 8));
        index += 3;
      }
    } else {
      bytes.push(text.charCodeAt(index));
    }
  }
  return Buffer.from(bytes);
}

/** Days since the epoch of 'YYYY-MM-DD' (' BC' for years before 1); null for infinity. */
export function parseDate(text: string): number | null {
  const match = /^(\d+)-(\d\d)-(\d\d)( BC)?$/.exec(text);
  if (!match) return null;
  const year = match[4] ? 1 - Number(match[1]) : Number(match[1]);
  return epochDays(year, Number(match[2]), Number(match[3]));
}

/** Microseconds since midnight of 'HH:MM:SS[.ffffff]', and what follows (a zone offset). */
function parseTimeOfDay(text: string): { micros: bigint; rest: string } {
  const match = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(.*)$/.exec(text);
  if (!match) throw new Error(`not a time of day: ${text}`);
  const micros = ((BigInt(match[1]!) * 60n + BigInt(match[2]!)) * 60n + BigInt(match[3]!)) * 1_000_000n + BigInt((match[4] ?? '').padEnd(6, '0'));
  return { micros, rest: match[5]! };
}

/** Epoch microseconds of 'YYYY-MM-DD HH:MM:SS[.ffffff][+zone][ BC]', reading the wall time as UTC; null for infinity. */
export function parseTimestamp(text: string): { micros: bigint; rest: string } | null {
  const bc = text.endsWith(' BC');
  const body = bc ? text.slice(0, -3) : text;
  const match = /^(\d+)-(\d\d)-(\d\d) (.*)$/.exec(body);
  if (!match) return null;
  const year = bc ? 1 - Number(match[1]) : Number(match[1]);
  const time = parseTimeOfDay(match[4]!);
  return { micros: epochMicros(epochDays(year, Number(match[2]), Number(match[3])), time.micros), rest: time.rest };
}

/** Seconds east of UTC of an ISO zone suffix: +02, -05:30, +05:53:28, or none. */
function offsetSeconds(zone: string): number {
  const match = /^([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(zone.trim());
  if (!match) return 0;
  const seconds = Number(match[2]) * 3600 + Number(match[3] ?? 0) * 60 + Number(match[4] ?? 0);
  return match[1] === '-' ? -seconds : seconds;
}
