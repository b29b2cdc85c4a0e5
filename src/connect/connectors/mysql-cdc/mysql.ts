// The MySQL/MariaDB side of the change data capture connector: connections (mysql2, loaded on
// first use), the server checks change data capture needs, and table descriptions read from
// information_schema.
import type { Connection } from 'mysql2/promise';
import { ConnectException } from '../../api/connector.js';
import type { MySqlCdcSettings } from './config.js';
import type { ColumnDefinition } from './mysql-types.js';

export type MySqlConnection = Connection;

/** A failure that retrying cannot cure (binary log settings, permissions, a purged position). */
export class FatalError extends ConnectException {}

/**
 * mysql2 options shared by queries and the binary log reader, so both hand values over in the
 * same forms: temporal values as text in UTC, 64-bit integers exactly, JSON as text.
 */
export function clientOptions(settings: MySqlCdcSettings) {
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password ?? undefined,
    connectTimeout: settings.connectTimeoutMs,
    dateStrings: true as const,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    jsonStrings: true,
    decimalNumbers: false,
  };
}

export async function connect(settings: MySqlCdcSettings): Promise<MySqlConnection> {
  const { default: mysql } = await import('mysql2/promise');
  const connection = await mysql.createConnection(clientOptions(settings));
  // An idle connection's errors surface on its next query; without a listener they would crash the worker.
  connection.on('error', () => undefined);
  // TIMESTAMP values are read in UTC, as the binary log holds them.
  await connection.query("SET time_zone = '+00:00'");
  return connection;
}

export function connectionFailure(settings: MySqlCdcSettings, error: unknown): ConnectException {
  const reason = error instanceof Error ? error.message || (error as { code?: string }).code || String(error) : String(error);
  const code = (error as { errno?: number }).errno;
  const failure = code === 1045 ? FatalError : ConnectException;
  return new failure(`Could not connect to MySQL/MariaDB at ${settings.host}:${settings.port} as ${settings.user} (database.hostname, database.port, database.user): ${reason}`);
}

export interface ServerState {
  readonly mariadb: boolean;
  readonly version: string;
  readonly serverId: number;
  /** binlog_row_metadata=FULL: each table map names its columns (MySQL 8, MariaDB 10.5+). */
  readonly fullRowMetadata: boolean;
}

/** Checks the binary log is on, in row format with full row images; the server's flavour. */
export async function checkServer(connection: MySqlConnection): Promise<ServerState> {
  const [rows] = await connection.query('SELECT VERSION() AS version, @@GLOBAL.log_bin AS log_bin, @@GLOBAL.binlog_format AS format, @@GLOBAL.binlog_row_image AS image, @@GLOBAL.server_id AS server_id');
  const row = (rows as Record<string, unknown>[])[0]!;
  const version = String(row.version);
  if (Number(row.log_bin) !== 1) throw new FatalError('the server\'s binary log is off: change data capture needs log_bin (and binlog_format=ROW, binlog_row_image=FULL) in the server configuration');
  if (String(row.format).toUpperCase() !== 'ROW') throw new FatalError(`the server's binlog_format is ${row.format}; change data capture needs binlog_format=ROW (SET GLOBAL binlog_format=ROW, and in the server configuration)`);
  if (String(row.image).toUpperCase() !== 'FULL') throw new FatalError(`the server's binlog_row_image is ${row.image}; change data capture needs binlog_row_image=FULL so that updates and deletes carry whole rows`);
  let fullRowMetadata = false;
  try {
    const [metadata] = await connection.query('SELECT @@GLOBAL.binlog_row_metadata AS metadata');
    fullRowMetadata = String((metadata as Record<string, unknown>[])[0]?.metadata).toUpperCase() === 'FULL';
  } catch {
    // Older servers have no binlog_row_metadata: names come from information_schema.
  }
  return { mariadb: /mariadb/i.test(version), version, serverId: Number(row.server_id), fullRowMetadata };
}

/** The binary log's current end: file, position and (MariaDB) the GTID position there. */
export async function binlogEnd(connection: MySqlConnection, mariadb: boolean): Promise<{ file: string; pos: number; gtids: string | null }> {
  let rows: Record<string, unknown>[];
  try {
    rows = (await connection.query('SHOW MASTER STATUS'))[0] as Record<string, unknown>[];
  } catch {
    // MySQL 8.4 renamed it.
    rows = (await connection.query('SHOW BINARY LOG STATUS'))[0] as Record<string, unknown>[];
  }
  const row = rows[0];
  if (!row) throw new FatalError('SHOW MASTER STATUS returned nothing: the binary log is off, or the user lacks REPLICATION CLIENT');
  const file = String(row.File);
  const pos = Number(row.Position);
  return { file, pos, gtids: mariadb ? await gtidPosition(connection, file, pos) : (row.Executed_Gtid_Set ? String(row.Executed_Gtid_Set).replace(/\s/g, '') : null) };
}

/** MariaDB's GTID position at a binary log position. */
export async function gtidPosition(connection: MySqlConnection, file: string, pos: number): Promise<string> {
  const [rows] = await connection.query('SELECT BINLOG_GTID_POS(?, ?) AS gtids', [file, pos]);
  return String((rows as Record<string, unknown>[])[0]?.gtids ?? '');
}

export async function listTables(connection: MySqlConnection): Promise<{ database: string; table: string }[]> {
  const [rows] = await connection.query("SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME");
  return (rows as { db: string; name: string }[]).map((row) => ({ database: row.db, table: row.name }));
}

export interface TableDescription {
  readonly columns: ColumnDefinition[];
  readonly primaryKey: string[];
}

/** A table's columns in table order and its primary key; null when it does not exist. */
export async function describeTable(connection: MySqlConnection, database: string, table: string, mariadb: boolean): Promise<TableDescription | null> {
  const [rows] = await connection.query(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS data_type, COLUMN_TYPE AS column_type, IS_NULLABLE AS nullable, NUMERIC_PRECISION AS num_precision,
       NUMERIC_SCALE AS num_scale, DATETIME_PRECISION AS fsp, CHARACTER_SET_NAME AS charset
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, [database, table]);
  const columns = rows as Record<string, unknown>[];
  if (columns.length === 0) return null;
  const jsonColumns = new Set<string>();
  if (mariadb) {
    // MariaDB's JSON is a LONGTEXT with a json_valid check constraint named after the column.
    const [checks] = await connection.query('SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?', [database, table]);
    for (const check of checks as { clause: string }[]) {
      const match = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(check.clause).trim());
      if (match) jsonColumns.add(match[1]!.replaceAll('``', '`'));
    }
  }
  const [keys] = await connection.query(
    "SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION", [database, table]);
  const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    columns: columns.map((column) => ({
      name: String(column.name),
      dataType: String(column.data_type).toLowerCase(),
      columnType: String(column.column_type).toLowerCase(),
      nullable: column.nullable === 'YES',
      precision: number(column.num_precision),
      scale: number(column.num_scale),
      fsp: number(column.fsp),
      json: jsonColumns.has(String(column.name)) || String(column.data_type).toLowerCase() === 'json',
      charset: column.charset === null || column.charset === undefined ? null : String(column.charset),
    })),
    primaryKey: (keys as { name: string }[]).map((key) => key.name),
  };
}

export const quoteIdent = (name: string) => `\`${name.replaceAll('`', '``')}\``;

/** Whether a failure may pass by reconnecting: lost connections, a server shutting down or starting. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof FatalError) return false;
  const code = (error as { code?: unknown }).code;
  const errno = (error as { errno?: unknown }).errno;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'PROTOCOL_CONNECTION_LOST', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR', 'ER_CONNECTION_KILLED', 'PROTOCOL_SEQUENCE_TIMEOUT'].includes(code)) return true;
  // 1053 shutdown in progress, 1040 too many connections, 1927 connection killed, 2013 lost connection.
  if (typeof errno === 'number' && [1053, 1040, 1927, 2006, 2013].includes(errno)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /connection lost|closed state|server has gone away|shutdown in progress|Can't add new command when connection is in closed state|read ECONNRESET|connect ECONNREFUSED/i.test(message);
}
