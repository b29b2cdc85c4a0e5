// From sink records to rows: which table a record goes to, its columns (key columns by pk.mode,
// then the value's fields that fields.whitelist lets through) and their values, and whether it is
// a write or, for a tombstone with delete.enabled, a delete. Records need schemas (Struct values,
// as JsonConverter with schemas.enable=true gives them): without one there is no column type to
// create or check, so a schemaless value is refused, as the JDBC sink refuses it.
import { DataException, type Schema, Schemas, Struct, type SinkRecord } from '../../api/data.js';
import type { PostgresSinkSettings } from './config.js';
import { type ColumnSpec, type DbValue, type TableId, columnType, tableIdFor, tableKey, toDbValue } from './sql.js';

export interface RowOp {
  readonly record: SinkRecord;
  readonly table: TableId;
  readonly tableKey: string;
  readonly kind: 'write' | 'delete';
  /** Key columns first, then the value columns (a delete has only the key columns). */
  readonly columns: readonly ColumnSpec[];
  /** One value per column, in the same order. */
  readonly values: readonly DbValue[];
  /** The key's values as text (records with equal keys have equal text); '' without a key. */
  readonly keyText: string;
  /** The columns' names and types: records of one layout go in one statement. */
  readonly layout: string;
}

const KAFKA_SCHEMAS: readonly Schema[] = [Schemas.STRING, Schemas.INT32, Schemas.INT64];

export function rowOp(record: SinkRecord, settings: PostgresSinkSettings): RowOp | null {
  const table = tableIdFor(settings.tableNameFormat, record.topic);
  const base = { record, table, tableKey: tableKey(table) };
  if (record.value === null || record.value === undefined) {
    // A tombstone: a delete when enabled (the config guarantees pk.mode=record_key), else nothing to write.
    if (!settings.deleteEnabled) return null;
    const keyColumns = recordKeyColumns(record, settings);
    const keyValues = keyColumns.map(([spec, value]) => toDbValue(spec.schema, value, settings.timeZone, spec.name));
    if (keyValues.some((value) => value === null)) throw new DataException(`the tombstone at ${where(record)} has a null key field, so no row can be deleted by it`);
    const columns = keyColumns.map(([spec]) => spec);
    return { ...base, kind: 'delete', columns, values: keyValues, keyText: keyTextOf(keyValues), layout: layoutOf(columns) };
  }
  const valueSchema = record.valueSchema;
  if (!valueSchema || !(record.value instanceof Struct)) {
    throw new DataException(`the record at ${where(record)} has ${valueSchema ? `a ${valueSchema.type} value` : 'no value schema'}: the PostgreSQL sink writes Struct values with schemas (JsonConverter with schemas.enable=true, or a schema registry converter), one field per column`);
  }
  const struct = record.value;
  const keyColumns: [ColumnSpec, unknown][] = [];
  switch (settings.pkMode) {
    case 'none':
      break;
    case 'kafka': {
      const values = [record.topic, record.kafkaPartition, BigInt(record.kafkaOffset)];
      settings.pkFields.forEach((name, index) => keyColumns.push([{ name, schema: KAFKA_SCHEMAS[index]!, isKey: true }, values[index]]));
      break;
    }
    case 'record_key':
      keyColumns.push(...recordKeyColumns(record, settings));
      break;
    case 'record_value': {
      const names = settings.pkFields.length > 0 ? settings.pkFields : valueSchema.fields!.map((field) => field.name);
      for (const name of names) {
        const field = valueSchema.fields!.find((candidate) => candidate.name === name);
        if (!field) throw new DataException(`pk.fields names '${name}', which is not a field of the value of the record at ${where(record)} (its fields: ${fieldNames(valueSchema)})`);
        keyColumns.push([{ name, schema: field.schema, isKey: true }, struct.get(name)]);
      }
      break;
    }
  }
  const keyNames = new Set(keyColumns.map(([spec]) => spec.name));
  const columns: ColumnSpec[] = keyColumns.map(([spec]) => spec);
  const values: DbValue[] = keyColumns.map(([spec, value]) => toDbValue(spec.schema, value, settings.timeZone, spec.name));
  if (settings.pkMode !== 'none' && values.some((value) => value === null)) throw new DataException(`the record at ${where(record)} has a null primary key field (${[...keyNames].join(', ')})`);
  for (const field of valueSchema.fields!) {
    if (keyNames.has(field.name)) continue;
    if (settings.fieldsWhitelist && !settings.fieldsWhitelist.has(field.name)) continue;
    columns.push({ name: field.name, schema: field.schema, isKey: false });
    values.push(toDbValue(field.schema, struct.get(field.name), settings.timeZone, field.name));
  }
  const keyCount = keyColumns.length;
  return { ...base, kind: 'write', columns, values, keyText: keyTextOf(values.slice(0, keyCount)), layout: layoutOf(columns) };
}

/** pk.mode=record_key: the key struct's fields (pk.fields, or all), or the primitive key as the one pk.fields column. */
function recordKeyColumns(record: SinkRecord, settings: PostgresSinkSettings): [ColumnSpec, unknown][] {
  const schema = record.keySchema;
  if (!schema || record.key === null || record.key === undefined) {
    throw new DataException(`pk.mode=record_key needs a key with a schema, but the record at ${where(record)} has ${record.key === null || record.key === undefined ? 'a null key' : 'a key without a schema'}`);
  }
  if (schema.type === 'struct') {
    if (!(record.key instanceof Struct)) throw new DataException(`the key of the record at ${where(record)} is not a Struct`);
    const key = record.key;
    const names = settings.pkFields.length > 0 ? settings.pkFields : schema.fields!.map((field) => field.name);
    return names.map((name) => {
      const field = schema.fields!.find((candidate) => candidate.name === name);
      if (!field) throw new DataException(`pk.fields names '${name}', which is not a field of the key of the record at ${where(record)} (its fields: ${fieldNames(schema)})`);
      return [{ name, schema: field.schema, isKey: true }, key.get(name)];
    });
  }
  if (schema.type === 'map' || schema.type === 'array') throw new DataException(`a ${schema.type} key cannot be a primary key (record at ${where(record)})`);
  if (settings.pkFields.length !== 1) {
    throw new DataException(`pk.fields must name exactly one column for a primitive (${schema.type}) key with pk.mode=record_key; it names ${settings.pkFields.length === 0 ? 'none' : settings.pkFields.join(',')}`);
  }
  return [[{ name: settings.pkFields[0]!, schema, isKey: true }, record.key]];
}

function keyTextOf(values: readonly DbValue[]): string {
  return JSON.stringify(values.map((value) => (Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : value)));
}

function layoutOf(columns: readonly ColumnSpec[]): string {
  return columns.map((column) => `${column.isKey ? '*' : ''}${column.name}:${columnTypeOrType(column)}:${column.schema.optional ? '?' : '!'}`).join('\u0000');
}

function columnTypeOrType(column: ColumnSpec): string {
  try {
    return columnType(column.schema, column.name);
  } catch {
    return column.schema.type;
  }
}

function fieldNames(schema: Schema): string {
  return schema.fields!.map((field) => field.name).join(', ');
}

export function where(record: SinkRecord): string {
  return `${record.topic}-${record.kafkaPartition} offset ${record.kafkaOffset}`;
}
