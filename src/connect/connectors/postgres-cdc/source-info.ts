// The `source` block of the PostgreSQL connector's events (io.debezium.connector.postgresql.Source)
// and the table model: a captured table's columns with their Connect types, its key, and the
// Debezium schemas of its events.
import { type Schema, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { type TableSchemas, tableSchemas } from '../debezium/schemas.js';
import type { DecimalHandlingMode } from '../debezium/types.js';
import { type ColumnType, columnType } from './pg-types.js';

export const CONNECTOR_VERSION = '0.1.0';

export const SOURCE_SCHEMA: Schema = SchemaBuilder.struct()
  .name('io.debezium.connector.postgresql.Source')
  .field('version', Schemas.STRING)
  .field('connector', Schemas.STRING)
  .field('name', Schemas.STRING)
  .field('ts_ms', Schemas.INT64)
  .field('snapshot', SchemaBuilder.string().optional().name('io.debezium.data.Enum').version(1).parameter('allowed', 'true,last,false,incremental').defaultValue('false').build())
  .field('db', Schemas.STRING)
  .field('sequence', Schemas.OPTIONAL_STRING)
  .field('ts_us', Schemas.OPTIONAL_INT64)
  .field('ts_ns', Schemas.OPTIONAL_INT64)
  .field('schema', Schemas.STRING)
  .field('table', Schemas.STRING)
  .field('txId', Schemas.OPTIONAL_INT64)
  .field('lsn', Schemas.OPTIONAL_INT64)
  .field('xmin', Schemas.OPTIONAL_INT64)
  .build();

export interface SourceInfo {
  readonly serverName: string;
  readonly database: string;
  readonly schema: string;
  readonly table: string;
  /** When the change was committed (the snapshot: when the row was read), epoch microseconds. */
  readonly timeMicros: bigint;
  readonly snapshot: 'true' | 'last' | 'false';
  readonly txId: number | null;
  readonly lsn: bigint | null;
  /** Debezium's ["<last commit LSN>","<this change's LSN>"]. */
  readonly sequence: string | null;
}

export function sourceStruct(info: SourceInfo): Struct {
  return new Struct(SOURCE_SCHEMA)
    .put('version', CONNECTOR_VERSION)
    .put('connector', 'postgresql')
    .put('name', info.serverName)
    .put('ts_ms', info.timeMicros / 1000n)
    .put('snapshot', info.snapshot)
    .put('db', info.database)
    .put('sequence', info.sequence)
    .put('ts_us', info.timeMicros)
    .put('ts_ns', info.timeMicros * 1000n)
    .put('schema', info.schema)
    .put('table', info.table)
    .put('txId', info.txId === null ? null : BigInt(info.txId))
    .put('lsn', info.lsn)
    .put('xmin', null);
}

/** A column as the catalog describes it. */
export interface CatalogColumn {
  readonly name: string;
  readonly typeOid: number;
  readonly typeModifier: number;
  readonly notNull: boolean;
}

/** A captured table: its columns in tuple order, their types, its key and event schemas. */
export interface TableModel {
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly { readonly name: string; readonly type: ColumnType }[];
  readonly schemas: TableSchemas;
}

export function tableModel(serverName: string, schema: string, table: string, columns: readonly CatalogColumn[], primaryKey: readonly string[], decimalMode: DecimalHandlingMode): TableModel {
  const keys = new Set(primaryKey);
  const typed = columns.map((column) => ({ name: column.name, type: columnType(column.typeOid, column.typeModifier, !column.notNull && !keys.has(column.name), decimalMode) }));
  const schemas = tableSchemas(`${serverName}.${schema}.${table}`, typed.map((column) => ({ name: column.name, schema: column.type.schema })), primaryKey, SOURCE_SCHEMA);
  return { schema, table, columns: typed, schemas };
}
