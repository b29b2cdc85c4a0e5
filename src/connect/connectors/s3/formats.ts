// The object formats. JSON (Confluent's JsonFormat): each record's value as one line of JSON, as
// JsonConverter with schemas.enable=false writes it: a Struct as an object, a map with string keys
// as an object (other keys: an array of [key, value] pairs), bytes as base64, int64 exact (no
// rounding through a double), Timestamp/Date/Time as epoch milliseconds/days/milliseconds of the
// day, Decimal as base64 of its unscaled bytes or (json.decimal.format=NUMERIC) a number; optional
// gzip. Parquet (Confluent's ParquetFormat, written with hyparquet-writer): one row per record,
// one column per field of the value's struct schema, nested structs as groups, arrays as LISTs,
// maps as MAPs, with Parquet's logical types for Timestamp, Date, Time, Decimal and int8/int16.
// A Parquet object holds one schema; the writer that owns it rotates when the schema changes.
import { gzipSync, brotliCompressSync } from 'node:zlib';
import type { ColumnSource, SchemaElement } from 'hyparquet-writer';
import { ConnectException } from '../../api/connector.js';
import { DataException, Decimal, LogicalNames, type Schema, type SinkRecord, Struct } from '../../api/data.js';
import type { ParquetCodec, S3SinkSettings } from './config.js';

/** One object being filled with records. */
export interface ObjectWriter {
  /** Adds a record's value; throws a DataException when the format cannot hold it. */
  add(record: SinkRecord): void;
  /** Whether a record with this value schema can join the object (Parquet: the same schema). */
  accepts(schema: Schema | null): boolean;
  /** The finished object's bytes. */
  finish(): Promise<Buffer>;
}

export interface RecordFormat {
  readonly extension: string;
  newWriter(): ObjectWriter;
}

export async function createFormat(settings: S3SinkSettings): Promise<RecordFormat> {
  if (settings.format === 'json') {
    const gzip = settings.jsonCompression === 'gzip';
    return { extension: gzip ? '.json.gz' : '.json', newWriter: () => new JsonObjectWriter(settings.jsonDecimalNumeric, gzip) };
  }
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const compressors = await parquetCompressors(settings.parquetCodec);
  const codec = PARQUET_CODEC_NAMES[settings.parquetCodec];
  return {
    extension: `${PARQUET_EXTENSIONS[settings.parquetCodec]}.parquet`,
    newWriter: () => new ParquetObjectWriter((schema, columnData) => Buffer.from(parquetWriteBuffer({ schema: schema as unknown as SchemaElement[], columnData: columnData as ColumnSource[], codec, compressors, rowGroupSize: PARQUET_ROW_GROUP_ROWS }))),
  };
}

// ---------------------------------------------------------------------------------------------
// JSON

class JsonObjectWriter implements ObjectWriter {
  private readonly lines: string[] = [];

  constructor(private readonly decimalNumeric: boolean, private readonly gzip: boolean) {}

  add(record: SinkRecord): void {
    this.lines.push(`${jsonText(record.value, record.valueSchema, this.decimalNumeric)}\n`);
  }

  accepts(): boolean {
    return true;
  }

  async finish(): Promise<Buffer> {
    const bytes = Buffer.from(this.lines.join(''), 'utf8');
    return this.gzip ? gzipSync(bytes) : bytes;
  }
}

/** A value as JSON text, guided by its schema when it has one. */
export function jsonText(value: unknown, schema: Schema | null, decimalNumeric = false): string {
  if (value === null || value === undefined) {
    return schema?.defaultValue !== undefined && schema.defaultValue !== null ? jsonText(schema.defaultValue, schema, decimalNumeric) : 'null';
  }
  if (schema === null) return schemalessJson(value, decimalNumeric);
  switch (schema.name) {
    case LogicalNames.TIMESTAMP:
      return String(value instanceof Date ? value.getTime() : Number(value));
    case LogicalNames.DATE:
      return String(value instanceof Date ? Math.floor(value.getTime() / 86_400_000) : Number(value));
    case LogicalNames.TIME:
      return String(value instanceof Date ? ((value.getTime() % 86_400_000) + 86_400_000) % 86_400_000 : Number(value));
    case LogicalNames.DECIMAL:
      if (value instanceof Decimal) return decimalNumeric ? value.toString() : JSON.stringify(unscaledBytes(value.unscaled).toString('base64'));
      break;
  }
  switch (schema.type) {
    case 'struct': {
      if (!(value instanceof Struct)) return schemalessJson(value, decimalNumeric);
      const fields = schema.fields!.map((field) => `${JSON.stringify(field.name)}:${jsonText(value.get(field.name), field.schema, decimalNumeric)}`);
      return `{${fields.join(',')}}`;
    }
    case 'array':
      if (!Array.isArray(value)) throw new DataException(`expected an array for a ${schema.type} schema, got ${typeof value}`);
      return `[${value.map((item) => jsonText(item, schema.valueSchema ?? null, decimalNumeric)).join(',')}]`;
    case 'map': {
      const entries: [unknown, unknown][] = value instanceof Map ? [...value.entries()] : Object.entries(value as Record<string, unknown>);
      if (schema.keySchema?.type === 'string') {
        return `{${entries.map(([key, item]) => `${JSON.stringify(String(key))}:${jsonText(item, schema.valueSchema ?? null, decimalNumeric)}`).join(',')}}`;
      }
      // JsonConverter writes a map with non-string keys as an array of [key, value] pairs.
      return `[${entries.map(([key, item]) => `[${jsonText(key, schema.keySchema ?? null, decimalNumeric)},${jsonText(item, schema.valueSchema ?? null, decimalNumeric)}]`).join(',')}]`;
    }
    default:
      return schemalessJson(value, decimalNumeric);
  }
}

function schemalessJson(value: unknown, decimalNumeric: boolean): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  if (value instanceof Date) return String(value.getTime());
  if (value instanceof Decimal) return decimalNumeric ? value.toString() : JSON.stringify(unscaledBytes(value.unscaled).toString('base64'));
  if (value instanceof Struct) return jsonText(value, value.schema, decimalNumeric);
  if (Array.isArray(value)) return `[${value.map((item) => schemalessJson(item, decimalNumeric)).join(',')}]`;
  if (value instanceof Map) return `{${[...value].map(([key, item]) => `${JSON.stringify(String(key))}:${schemalessJson(item, decimalNumeric)}`).join(',')}}`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined).map(([key, item]) => `${JSON.stringify(key)}:${schemalessJson(item, decimalNumeric)}`).join(',')}}`;
  }
  throw new DataException(`cannot write a ${typeof value} as JSON`);
}

/** A Decimal's unscaled value as Kafka's Decimal bytes: big-endian two's complement, shortest form. */
function unscaledBytes(unscaled: bigint): Buffer {
  const bytes: number[] = [];
  let rest = unscaled;
  for (;;) {
    const byte = Number(rest & 0xffn);
    bytes.unshift(byte);
    rest >>= 8n;
    if ((rest === 0n && (byte & 0x80) === 0) || (rest === -1n && (byte & 0x80) !== 0)) break;
  }
  return Buffer.from(bytes);
}

// ---------------------------------------------------------------------------------------------
// Parquet

/** hyparquet-writer's SchemaElement and column input, as far as this writer uses them. */
export interface ParquetSchemaElement {
  name: string;
  type?: 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY';
  repetition_type?: 'REQUIRED' | 'OPTIONAL' | 'REPEATED';
  num_children?: number;
  converted_type?: 'UTF8' | 'LIST' | 'MAP' | 'DATE' | 'TIME_MILLIS' | 'TIMESTAMP_MILLIS' | 'DECIMAL' | 'INT_8' | 'INT_16';
  logical_type?: Record<string, unknown> & { type: string };
  scale?: number;
  precision?: number;
}
type ColumnData = { name: string; data: unknown[] }[];
type WriteParquet = (schema: ParquetSchemaElement[], columnData: ColumnData) => Buffer;

/** Rows per row group; objects are at most flush.size records, so usually one group. */
const PARQUET_ROW_GROUP_ROWS = 100_000;

const PARQUET_CODEC_NAMES = { none: 'UNCOMPRESSED', snappy: 'SNAPPY', gzip: 'GZIP', zstd: 'ZSTD', brotli: 'BROTLI' } as const;
/** The file name before .parquet, as parquet-mr's codec extensions (Confluent's names). */
const PARQUET_EXTENSIONS = { none: '', snappy: '.snappy', gzip: '.gz', zstd: '.zstd', brotli: '.br' } as const;

async function parquetCompressors(codec: ParquetCodec): Promise<Record<string, (input: Uint8Array) => Uint8Array>> {
  switch (codec) {
    case 'gzip':
      return { GZIP: (input) => gzipSync(input) };
    case 'brotli':
      return { BROTLI: (input) => brotliCompressSync(input) };
    case 'zstd': {
      const zstd = await import('zstd-napi');
      return { ZSTD: (input) => zstd.compress(input) };
    }
    default:
      // hyparquet-writer brings its own snappy; none needs nothing.
      return {};
  }
}

class ParquetObjectWriter implements ObjectWriter {
  private schema: Schema | null = null;
  private readonly rows: Record<string, unknown>[] = [];

  constructor(private readonly write: WriteParquet) {}

  accepts(schema: Schema | null): boolean {
    return this.schema === null || schema === this.schema || (schema !== null && sameSchema(schema, this.schema));
  }

  add(record: SinkRecord): void {
    const schema = record.valueSchema;
    if (schema === null) {
      throw new DataException(`ParquetFormat needs records with a schema (a struct): ${describe(record)} has none. Use a converter that gives one, such as JsonConverter with schemas.enable=true`);
    }
    if (schema.type !== 'struct' || !(record.value instanceof Struct)) {
      throw new DataException(`ParquetFormat writes struct values as rows; ${describe(record)} has a ${schema.type} value`);
    }
    this.schema ??= schema;
    this.rows.push(parquetValue(record.value, schema) as Record<string, unknown>);
  }

  async finish(): Promise<Buffer> {
    const schema = this.schema!;
    const elements: ParquetSchemaElement[] = [{ name: 'root', num_children: schema.fields!.length }];
    for (const field of schema.fields!) elements.push(...parquetElements(field.name, field.schema, field.schema.optional ? 'OPTIONAL' : 'REQUIRED'));
    const columnData = schema.fields!.map((field) => ({ name: field.name, data: this.rows.map((row) => row[field.name]) }));
    try {
      return this.write(elements, columnData);
    } catch (error) {
      throw new ConnectException(`could not write a Parquet object: ${(error as Error).message}`, { cause: error });
    }
  }
}

function describe(record: SinkRecord): string {
  return `record ${record.topic}-${record.kafkaPartition} offset ${record.kafkaOffset}`;
}

/** The Parquet schema elements of a Connect schema (depth-first, as Parquet's flattened schema lists them). */
export function parquetElements(name: string, schema: Schema, repetition: 'REQUIRED' | 'OPTIONAL'): ParquetSchemaElement[] {
  const leaf = (element: Omit<ParquetSchemaElement, 'name' | 'repetition_type'>): ParquetSchemaElement[] => [{ name, repetition_type: repetition, ...element }];
  switch (schema.name) {
    case LogicalNames.TIMESTAMP:
      return leaf({ type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } });
    case LogicalNames.DATE:
      return leaf({ type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } });
    case LogicalNames.TIME:
      // A time of day, in no zone (a Timestamp is an instant: adjusted to UTC).
      return leaf({ type: 'INT32', converted_type: 'TIME_MILLIS', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MILLIS' } });
    case LogicalNames.DECIMAL: {
      const scale = Number(schema.parameters?.scale ?? 0);
      // Connect's Decimal has no precision of its own; Avro-converted schemas carry one.
      const precision = Number(schema.parameters?.['connect.decimal.precision'] ?? 38);
      return leaf({ type: 'BYTE_ARRAY', converted_type: 'DECIMAL', logical_type: { type: 'DECIMAL', scale, precision }, scale, precision });
    }
  }
  const child = (inner: Schema) => (inner.optional ? 'OPTIONAL' : 'REQUIRED');
  switch (schema.type) {
    case 'int8':
      // Only the converted type: hyparquet-writer's INTEGER logical type is not read by others.
      return leaf({ type: 'INT32', converted_type: 'INT_8' });
    case 'int16':
      return leaf({ type: 'INT32', converted_type: 'INT_16' });
    case 'int32':
      return leaf({ type: 'INT32' });
    case 'int64':
      return leaf({ type: 'INT64' });
    case 'float32':
      return leaf({ type: 'FLOAT' });
    case 'float64':
      return leaf({ type: 'DOUBLE' });
    case 'boolean':
      return leaf({ type: 'BOOLEAN' });
    case 'string':
      return leaf({ type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } });
    case 'bytes':
      return leaf({ type: 'BYTE_ARRAY' });
    case 'struct': {
      if (schema.fields!.length === 0) throw new DataException(`Parquet cannot hold the empty struct '${name}'`);
      const children = schema.fields!.flatMap((field) => parquetElements(field.name, field.schema, child(field.schema)));
      return [{ name, repetition_type: repetition, num_children: schema.fields!.length }, ...children];
    }
    case 'array':
      // Parquet's three-level LIST: <name> (LIST) / repeated list / element.
      return [
        { name, repetition_type: repetition, converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...parquetElements('element', schema.valueSchema!, child(schema.valueSchema!)),
      ];
    case 'map':
      return [
        { name, repetition_type: repetition, converted_type: 'MAP', logical_type: { type: 'MAP' }, num_children: 1 },
        { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
        ...parquetElements('key', schema.keySchema!, 'REQUIRED'),
        ...parquetElements('value', schema.valueSchema!, child(schema.valueSchema!)),
      ];
  }
}

/** A Connect value as hyparquet-writer takes it for the element parquetElements made of its schema. */
export function parquetValue(value: unknown, schema: Schema): unknown {
  if (value === null || value === undefined) return schema.defaultValue ?? null;
  switch (schema.name) {
    case LogicalNames.TIMESTAMP:
      return value instanceof Date ? value : new Date(Number(value));
    case LogicalNames.DATE:
      return value instanceof Date ? Math.floor(value.getTime() / 86_400_000) : Number(value);
    case LogicalNames.TIME:
      return value instanceof Date ? ((value.getTime() % 86_400_000) + 86_400_000) % 86_400_000 : Number(value);
    case LogicalNames.DECIMAL:
      if (value instanceof Decimal) return value.unscaled;
      break;
  }
  switch (schema.type) {
    case 'int64':
      return typeof value === 'bigint' ? value : BigInt(value as number);
    case 'bytes':
      return value instanceof Uint8Array ? value : Buffer.from(value as string);
    case 'struct': {
      if (!(value instanceof Struct)) throw new DataException(`expected a Struct for field schema ${schema.name ?? 'struct'}`);
      const row: Record<string, unknown> = {};
      for (const field of schema.fields!) row[field.name] = parquetValue(value.get(field.name), field.schema);
      return row;
    }
    case 'array':
      return (value as unknown[]).map((item) => parquetValue(item, schema.valueSchema!));
    case 'map': {
      const entries: [unknown, unknown][] = value instanceof Map ? [...value.entries()] : Object.entries(value as Record<string, unknown>);
      return entries.map(([key, item]) => ({ key: parquetValue(key, schema.keySchema!), value: parquetValue(item, schema.valueSchema!) }));
    }
    default:
      return value;
  }
}

/** Whether two schemas describe the same columns (converters build a new schema object per record). */
export function sameSchema(a: Schema, b: Schema): boolean {
  if (a === b) return true;
  if (a.type !== b.type || a.optional !== b.optional || a.name !== b.name) return false;
  if (JSON.stringify(a.parameters ?? {}) !== JSON.stringify(b.parameters ?? {})) return false;
  if (a.type === 'struct') {
    const af = a.fields!;
    const bf = b.fields!;
    return af.length === bf.length && af.every((field, index) => field.name === bf[index]!.name && sameSchema(field.schema, bf[index]!.schema));
  }
  if (a.type === 'array') return sameSchema(a.valueSchema!, b.valueSchema!);
  if (a.type === 'map') return sameSchema(a.keySchema!, b.keySchema!) && sameSchema(a.valueSchema!, b.valueSchema!);
  return true;
}
