// The `source` block of the MySQL and MariaDB connectors' events (io.debezium.connector.mysql.Source,
// io.debezium.connector.mariadb.Source), the schema change records (Debezium's SchemaChangeKey and
// SchemaChangeValue) and the table model: a captured table's columns with their Connect types, its
// key, and the Debezium schemas of its events.
import { type Schema, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { type TableSchemas, tableSchemas } from '../debezium/schemas.js';
import { type ColumnDefinition, type ColumnType, type TypeOptions, columnType } from './mysql-types.js';

export const CONNECTOR_VERSION = '0.1.0';

export type Flavour = 'mysql' | 'mariadb';

function sourceSchema(flavour: Flavour): Schema {
  return SchemaBuilder.struct()
    .name(`io.debezium.connector.${flavour}.Source`)
    .field('version', Schemas.STRING)
    .field('connector', Schemas.STRING)
    .field('name', Schemas.STRING)
    .field('ts_ms', Schemas.INT64)
    .field('snapshot', SchemaBuilder.string().optional().name('io.debezium.data.Enum').version(1).parameter('allowed', 'true,first,first_in_data_collection,last_in_data_collection,last,false,incremental').defaultValue('false').build())
    .field('db', Schemas.STRING)
    .field('sequence', Schemas.OPTIONAL_STRING)
    .field('ts_us', Schemas.OPTIONAL_INT64)
    .field('ts_ns', Schemas.OPTIONAL_INT64)
    .field('table', Schemas.OPTIONAL_STRING)
    .field('server_id', Schemas.INT64)
    .field('gtid', Schemas.OPTIONAL_STRING)
    .field('file', Schemas.STRING)
    .field('pos', Schemas.INT64)
    .field('row', Schemas.INT32)
    .field('thread', Schemas.OPTIONAL_INT64)
    .field('query', Schemas.OPTIONAL_STRING)
    .build();
}

export const SOURCE_SCHEMAS: Readonly<Record<Flavour, Schema>> = { mysql: sourceSchema('mysql'), mariadb: sourceSchema('mariadb') };

export interface SourceInfo {
  readonly flavour: Flavour;
  readonly serverName: string;
  readonly database: string;
  readonly table: string | null;
  /** When the change was committed (the snapshot: when the row was read), epoch milliseconds. */
  readonly timeMs: number;
  readonly snapshot: 'true' | 'first' | 'last' | 'false';
  readonly serverId: number;
  readonly gtid: string | null;
  readonly file: string;
  readonly pos: number;
  readonly row: number;
  readonly thread: number | null;
}

export function sourceStruct(info: SourceInfo): Struct {
  const micros = BigInt(info.timeMs) * 1000n;
  return new Struct(SOURCE_SCHEMAS[info.flavour])
    .put('version', CONNECTOR_VERSION)
    .put('connector', info.flavour)
    .put('name', info.serverName)
    .put('ts_ms', BigInt(info.timeMs))
    .put('snapshot', info.snapshot)
    .put('db', info.database)
    .put('sequence', null)
    .put('ts_us', micros)
    .put('ts_ns', micros * 1000n)
    .put('table', info.table)
    .put('server_id', BigInt(info.serverId))
    .put('gtid', info.gtid)
    .put('file', info.file)
    .put('pos', BigInt(info.pos))
    .put('row', info.row)
    .put('thread', info.thread === null ? null : BigInt(info.thread))
    .put('query', null);
}

/** A captured table: its columns in table order, their types, its key and event schemas. */
export interface TableModel {
  readonly database: string;
  readonly table: string;
  readonly columns: readonly { readonly name: string; readonly type: ColumnType }[];
  readonly schemas: TableSchemas;
}

export function tableModel(flavour: Flavour, serverName: string, database: string, table: string, columns: readonly ColumnDefinition[], primaryKey: readonly string[], options: TypeOptions): TableModel {
  const keys = new Set(primaryKey);
  const typed = columns.map((column) => ({ name: column.name, type: columnType(column, options, column.nullable && !keys.has(column.name)) }));
  const schemas = tableSchemas(`${serverName}.${database}.${table}`, typed.map((column) => ({ name: column.name, schema: column.type.schema })), primaryKey, SOURCE_SCHEMAS[flavour]);
  return { database, table, columns: typed, schemas };
}

export const SCHEMA_CHANGE_KEY_SCHEMA: Schema = SchemaBuilder.struct().name('io.debezium.connector.mysql.SchemaChangeKey').field('databaseName', Schemas.STRING).build();

const TABLE_CHANGE_SCHEMA: Schema = SchemaBuilder.struct().name('io.debezium.connector.schema.Change')
  .field('type', Schemas.STRING)
  .field('id', Schemas.STRING)
  .build();

export function schemaChangeValueSchema(flavour: Flavour): Schema {
  return SchemaBuilder.struct().name('io.debezium.connector.mysql.SchemaChangeValue')
    .field('source', SOURCE_SCHEMAS[flavour])
    .field('ts_ms', Schemas.INT64)
    .field('databaseName', Schemas.OPTIONAL_STRING)
    .field('schemaName', Schemas.OPTIONAL_STRING)
    .field('ddl', Schemas.OPTIONAL_STRING)
    .field('tableChanges', SchemaBuilder.array(TABLE_CHANGE_SCHEMA).build())
    .build();
}

export function tableChangeStruct(type: 'CREATE' | 'ALTER' | 'DROP', id: string): Struct {
  return new Struct(TABLE_CHANGE_SCHEMA).put('type', type).put('id', id);
}
