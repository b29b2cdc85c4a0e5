// The PostgreSQL side of the sink, as pure functions: quoting identifiers, the column type for a
// Connect schema (the JDBC sink's PostgreSQL mapping: int8/int16 SMALLINT, int32 INTEGER, int64
// BIGINT, float32 REAL, float64 DOUBLE PRECISION, boolean BOOLEAN, string TEXT, bytes BYTEA,
// Decimal NUMERIC, Date DATE, Time TIME, Timestamp TIMESTAMP, arrays of those as arrays), a
// Connect value as the text or bytes pg sends for a parameter, and the multi-row statements.
// Statements take their values as parameters ($1, $2, ...), never spliced into the text.
import { DataException, Decimal, LogicalNames, type Schema } from '../../api/data.js';

/** PostgreSQL's identifier limit (NAMEDATALEN - 1 bytes); longer names are silently cut, so they are refused. */
const MAX_IDENTIFIER_BYTES = 63;
/** A statement's parameters are numbered with 16 bits. */
export const MAX_PARAMETERS = 65_535;

export function quoteIdentifier(name: string): string {
  if (name.length === 0) throw new DataException('an empty name cannot be a table or column name');
  if (name.includes('\0')) throw new DataException(`the name ${JSON.stringify(name)} contains a NUL character`);
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) throw new DataException(`the name "${name}" is longer than PostgreSQL's limit of ${MAX_IDENTIFIER_BYTES} bytes for a table or column name`);
  return `"${name.replace(/"/g, '""')}"`;
}

export interface TableId {
  /** null: the first schema of the connection's search_path (public by default). */
  readonly schema: string | null;
  readonly table: string;
}

/**
 * The table `table.name.format` names for a topic. Dots written in the format separate a schema
 * from the table; the topic is substituted afterwards, so a topic's own dots stay in the name.
 */
export function tableIdFor(format: string, topic: string): TableId {
  const parts = format.split('.').map((part) => part.replaceAll('${topic}', topic));
  if (parts.length > 2) throw new DataException(`table.name.format ${format} has more than one dot: write schema.table`);
  return parts.length === 2 ? { schema: parts[0]!, table: parts[1]! } : { schema: null, table: parts[0]! };
}

export function quoteTable(id: TableId): string {
  return id.schema === null ? quoteIdentifier(id.table) : `${quoteIdentifier(id.schema)}.${quoteIdentifier(id.table)}`;
}

export function tableKey(id: TableId): string {
  return id.schema === null ? id.table : `${id.schema}.${id.table}`;
}

/** The column type for a field's schema; a type PostgreSQL has no column for is a DataException. */
export function columnType(schema: Schema, field: string): string {
  switch (schema.name) {
    case LogicalNames.DECIMAL: return 'NUMERIC';
    case LogicalNames.DATE: return 'DATE';
    case LogicalNames.TIME: return 'TIME';
    case LogicalNames.TIMESTAMP: return 'TIMESTAMP';
  }
  switch (schema.type) {
    case 'int8':
    case 'int16': return 'SMALLINT';
    case 'int32': return 'INTEGER';
    case 'int64': return 'BIGINT';
    case 'float32': return 'REAL';
    case 'float64': return 'DOUBLE PRECISION';
    case 'boolean': return 'BOOLEAN';
    case 'string': return 'TEXT';
    case 'bytes': return 'BYTEA';
    case 'array': {
      const element = schema.valueSchema;
      if (!element || element.type === 'array' || element.type === 'map' || element.type === 'struct') {
        throw new DataException(`field '${field}' is an array of ${element?.type ?? 'unknown'}: only arrays of primitive types have a PostgreSQL column type`);
      }
      return `${columnType(element, field)}[]`;
    }
    default:
      throw new DataException(`field '${field}' has type ${schema.type.toUpperCase()}, which has no PostgreSQL column type (flatten it first, e.g. with the Flatten transform)`);
  }
}

/** A parameter value as pg sends it: text, bytes, an array of those, or null. */
export type DbValue = string | Buffer | DbValue[] | null;

/** A Connect value of `schema` as a statement parameter. `timeZone` is db.timezone (for Timestamps). */
export function toDbValue(schema: Schema, value: unknown, timeZone: string, field: string): DbValue {
  if (value === null || value === undefined) return null;
  switch (schema.name) {
    case LogicalNames.DECIMAL:
      if (value instanceof Decimal || typeof value === 'number' || typeof value === 'bigint') return value.toString();
      break;
    case LogicalNames.DATE: {
      const date = asDate(value, field);
      return date.toISOString().slice(0, 10);
    }
    case LogicalNames.TIME: {
      const date = asDate(value, field);
      return date.toISOString().slice(11, 23);
    }
    case LogicalNames.TIMESTAMP:
      return formatTimestamp(asDate(value, field), timeZone);
  }
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
      if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return value.toString();
      break;
    case 'float32':
    case 'float64':
      if (typeof value === 'number') return String(value);
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value ? 'true' : 'false';
      break;
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'bytes':
      if (Buffer.isBuffer(value)) return value;
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      break;
    case 'array':
      columnType(schema, field);
      if (Array.isArray(value)) return value.map((item) => toDbValue(schema.valueSchema!, item, timeZone, field));
      break;
    case 'map':
    case 'struct':
      columnType(schema, field);
  }
  throw new DataException(`field '${field}' of type ${schema.name ?? schema.type} has a value that does not fit it: ${describeValue(value)}`);
}

function asDate(value: unknown, field: string): Date {
  const date = value instanceof Date ? value : typeof value === 'number' ? new Date(value) : typeof value === 'bigint' ? new Date(Number(value)) : null;
  if (date === null || Number.isNaN(date.getTime())) throw new DataException(`field '${field}' needs a date or time, not ${describeValue(value)}`);
  return date;
}

function describeValue(value: unknown): string {
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object';
  return `${typeof value} ${String(value)}`;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * An instant as `YYYY-MM-DD HH:MM:SS.mmm+HH:MM`: the wall-clock time in `timeZone` and that
 * zone's offset. A timestamp column (without time zone) ignores the offset and so stores the
 * wall-clock time of db.timezone, as the JDBC sink does; a timestamptz column stores the instant.
 */
export function formatTimestamp(date: Date, timeZone: string): string {
  let local = date.getTime();
  if (timeZone !== 'UTC') {
    let format = zoneFormats.get(timeZone);
    if (!format) {
      format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
      zoneFormats.set(timeZone, format);
    }
    const parts = Object.fromEntries(format.formatToParts(date).map((part) => [part.type, part.value]));
    const wallSeconds = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
    local = wallSeconds + (((date.getTime() % 1000) + 1000) % 1000);
  }
  const offsetMinutes = Math.round((local - date.getTime()) / 60_000);
  const iso = new Date(local).toISOString();
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${sign}${String(Math.floor(absolute / 60)).padStart(2, '0')}:${String(absolute % 60).padStart(2, '0')}`;
}

/** A field's default as a DEFAULT clause's literal, or undefined when it has none that can be written. */
export function defaultLiteral(schema: Schema, timeZone: string, field: string): string | undefined {
  if (schema.defaultValue === undefined || schema.defaultValue === null || schema.type === 'array') return undefined;
  const value = toDbValue(schema, schema.defaultValue, timeZone, field);
  if (value === null || Array.isArray(value)) return undefined;
  if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'::BYTEA`;
  return `'${value.replace(/'/g, "''")}'`;
}

/** A column of the table a record is written to. */
export interface ColumnSpec {
  readonly name: string;
  readonly schema: Schema;
  readonly isKey: boolean;
}

/** `CREATE TABLE` for these columns, with the key columns as the primary key. */
export function createTableSql(table: TableId, columns: readonly ColumnSpec[], timeZone: string): string {
  const keys = columns.filter((column) => column.isKey);
  const definitions = columns.map((column) => columnDefinition(column, timeZone));
  if (keys.length > 0) definitions.push(`PRIMARY KEY(${keys.map((column) => quoteIdentifier(column.name)).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (\n  ${definitions.join(',\n  ')}\n)`;
}

export function addColumnSql(table: TableId, column: ColumnSpec, timeZone: string): string {
  return `ALTER TABLE ${quoteTable(table)} ADD COLUMN IF NOT EXISTS ${columnDefinition(column, timeZone)}`;
}

function columnDefinition(column: ColumnSpec, timeZone: string): string {
  const defaultValue = defaultLiteral(column.schema, timeZone, column.name);
  const nullability = column.isKey || !column.schema.optional ? ' NOT NULL' : ' NULL';
  return `${quoteIdentifier(column.name)} ${columnType(column.schema, column.name)}${defaultValue === undefined ? '' : ` DEFAULT ${defaultValue}`}${nullability}`;
}

/** $first, $first+1, ... for one row. */
function placeholders(first: number, count: number, casts?: readonly string[]): string {
  return Array.from({ length: count }, (_, index) => `$${first + index}${casts ? `::${casts[index]}` : ''}`).join(', ');
}

function rowsOf(rows: number, width: number, casts?: readonly string[]): string {
  return Array.from({ length: rows }, (_, row) => `(${placeholders(row * width + 1, width, casts)})`).join(', ');
}

/**
 * A multi-row INSERT; with `upsertKeys`, INSERT ... ON CONFLICT (keys) DO UPDATE of the other
 * columns (DO NOTHING when every column is a key). Parameters are row by row, in column order.
 */
export function insertSql(table: TableId, columns: readonly string[], rows: number, upsertKeys?: readonly string[]): string {
  const list = columns.map(quoteIdentifier).join(', ');
  let sql = `INSERT INTO ${quoteTable(table)} (${list}) VALUES ${rowsOf(rows, columns.length)}`;
  if (upsertKeys) {
    const updates = columns.filter((column) => !upsertKeys.includes(column));
    const target = upsertKeys.map(quoteIdentifier).join(', ');
    sql += updates.length === 0
      ? ` ON CONFLICT (${target}) DO NOTHING`
      : ` ON CONFLICT (${target}) DO UPDATE SET ${updates.map((column) => `${quoteIdentifier(column)} = EXCLUDED.${quoteIdentifier(column)}`).join(', ')}`;
  }
  return sql;
}

/**
 * A multi-row UPDATE by key: UPDATE t SET c = v.c FROM (VALUES ...) AS v(...) WHERE t.k = v.k.
 * Parameters are row by row, key columns first; `types` casts each (VALUES has no target type).
 */
export function updateSql(table: TableId, keys: readonly string[], values: readonly string[], rows: number, types: ReadonlyMap<string, string>): string {
  const all = [...keys, ...values];
  const casts = all.map((column) => types.get(column)!);
  const alias = all.map((_, index) => `c${index}`);
  const set = values.map((column, index) => `${quoteIdentifier(column)} = v.c${keys.length + index}`).join(', ');
  const match = keys.map((column, index) => `t.${quoteIdentifier(column)} = v.c${index}`).join(' AND ');
  return `UPDATE ${quoteTable(table)} AS t SET ${set} FROM (VALUES ${rowsOf(rows, all.length, casts)}) AS v(${alias.join(', ')}) WHERE ${match}`;
}

/** DELETE of the rows with these keys; parameters are row by row in key column order. */
export function deleteSql(table: TableId, keys: readonly string[], rows: number, types: ReadonlyMap<string, string>): string {
  const casts = keys.map((column) => types.get(column)!);
  const target = keys.length === 1 ? quoteIdentifier(keys[0]!) : `(${keys.map(quoteIdentifier).join(', ')})`;
  const list = keys.length === 1
    ? Array.from({ length: rows }, (_, row) => `$${row + 1}::${casts[0]}`).join(', ')
    : rowsOf(rows, keys.length, casts);
  return `DELETE FROM ${quoteTable(table)} WHERE ${target} IN (${list})`;
}

/** How many rows of `width` parameters one statement may carry. */
export function rowsPerStatement(width: number, batchSize: number): number {
  return Math.max(1, Math.min(batchSize, Math.floor(MAX_PARAMETERS / Math.max(1, width))));
}
