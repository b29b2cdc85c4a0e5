// Debezium's change-event envelope, shared by the change data capture sources (PostgreSQL now,
// MySQL/MariaDB later): a record key Struct `<prefix>.<schema>.<table>.Key` of the primary key
// columns, and a value Struct `<prefix>.<schema>.<table>.Envelope` with `before` and `after` (the
// row as `...Value`), a connector-specific `source` block, `op`, `ts_ms` and `transaction`. The
// names and field layout are Debezium's, so consumers written for Debezium (and its
// ExtractNewRecordState transform) read these records unchanged.
import { Decimal, LogicalNames, type Schema, SchemaBuilder, Schemas, Struct } from '../../api/data.js';

/** Debezium's operation codes. */
export type Operation = 'c' | 'u' | 'd' | 'r' | 't' | 'm';

/** One column of a captured table, with its Connect schema already chosen by the connector. */
export interface ColumnSchema {
  readonly name: string;
  /** The column's Connect schema, optional when the column is nullable. */
  readonly schema: Schema;
}

/** The schemas of one captured table's events. */
export interface TableSchemas {
  /** `<prefix>.<schema>.<table>` (also the default topic name). */
  readonly logicalName: string;
  /** null for a table without a primary key (its records have a null key). */
  readonly keySchema: Schema | null;
  readonly valueSchema: Schema;
  readonly envelopeSchema: Schema;
  /** The key column names, in key order. */
  readonly keyColumns: readonly string[];
}

/** Debezium's `transaction` block (present with provide.transaction.metadata; null otherwise). */
export const TRANSACTION_BLOCK_SCHEMA: Schema = SchemaBuilder.struct()
  .name('event.block')
  .version(1)
  .field('id', Schemas.STRING)
  .field('total_order', Schemas.INT64)
  .field('data_collection_order', Schemas.INT64)
  .optional()
  .build();

/**
 * A table's key, value and envelope schemas. `columns` in table order; `keyColumns` the primary
 * key (empty: no key). Key fields are always required (a key column cannot be null).
 */
export function tableSchemas(logicalName: string, columns: readonly ColumnSchema[], keyColumns: readonly string[], sourceSchema: Schema): TableSchemas {
  const value = SchemaBuilder.struct().name(`${logicalName}.Value`).optional();
  for (const column of columns) value.field(column.name, column.schema);
  const valueSchema = value.build();
  let keySchema: Schema | null = null;
  if (keyColumns.length > 0) {
    const key = SchemaBuilder.struct().name(`${logicalName}.Key`);
    for (const name of keyColumns) {
      const column = columns.find((candidate) => candidate.name === name);
      if (column) key.field(name, column.schema.optional ? SchemaBuilder.from(column.schema).required().build() : column.schema);
    }
    keySchema = key.build();
  }
  const envelopeSchema = SchemaBuilder.struct()
    .name(`${logicalName}.Envelope`)
    .version(1)
    .field('before', valueSchema)
    .field('after', valueSchema)
    .field('source', sourceSchema)
    .field('transaction', TRANSACTION_BLOCK_SCHEMA)
    .field('op', Schemas.STRING)
    .field('ts_ms', Schemas.OPTIONAL_INT64)
    .field('ts_us', Schemas.OPTIONAL_INT64)
    .field('ts_ns', Schemas.OPTIONAL_INT64)
    .build();
  return { logicalName, keySchema, valueSchema, envelopeSchema, keyColumns: [...keyColumns] };
}

/**
 * The row as a `...Value` Struct from column values by name. A column missing from `values` (a
 * delete's old row holds only the replica identity) gets null, or, when its field is required,
 * the type's neutral value as Debezium does, so that the struct stays valid.
 */
export function rowStruct(schema: Schema, values: ReadonlyMap<string, unknown>): Struct {
  const struct = new Struct(schema);
  for (const field of schema.fields!) {
    const value = values.get(field.name);
    struct.put(field.name, value === undefined || value === null ? (field.schema.optional ? null : neutralValue(field.schema)) : value);
  }
  return struct;
}

/** The key Struct, or null when the table has no key. */
export function keyStruct(tables: TableSchemas, values: ReadonlyMap<string, unknown>): Struct | null {
  if (tables.keySchema === null) return null;
  const struct = new Struct(tables.keySchema);
  for (const name of tables.keyColumns) struct.put(name, values.get(name) ?? neutralValue(struct.field(name).schema));
  return struct;
}

/** The envelope Struct of one change. */
export function envelopeStruct(tables: TableSchemas, op: Operation, before: Struct | null, after: Struct | null, source: Struct, nowMs: number = Date.now()): Struct {
  const micros = BigInt(nowMs) * 1000n;
  return new Struct(tables.envelopeSchema)
    .put('before', before)
    .put('after', after)
    .put('source', source)
    .put('transaction', null)
    .put('op', op)
    .put('ts_ms', BigInt(nowMs))
    .put('ts_us', micros)
    .put('ts_ns', micros * 1000n);
}

/** The value a required field gets when the source did not send it. */
function neutralValue(schema: Schema): unknown {
  if (schema.defaultValue !== undefined) return schema.defaultValue;
  if (schema.name === LogicalNames.DECIMAL) return new Decimal(0n, Number(schema.parameters?.scale ?? 0));
  switch (schema.type) {
    case 'int8': case 'int16': case 'int32': case 'float32': case 'float64': return 0;
    case 'int64': return 0n;
    case 'boolean': return false;
    case 'string': return '';
    case 'bytes': return Buffer.alloc(0);
    case 'array': return [];
    case 'map': return new Map();
    case 'struct': return rowStruct(schema, new Map());
  }
}
