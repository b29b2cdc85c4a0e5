// The connections the PostgreSQL source opens with pg (loaded when a task starts, never at import):
// a regular one for the catalog and the snapshot, and a replication one (replication=database)
// for slot commands and the logical replication stream. Values come back as the server's text, in
// the session format SESSION_OPTIONS sets, so that the snapshot and the stream read them alike.
import type pg from 'pg';
import { ConnectException } from '../../api/connector.js';
import type { CdcSettings } from './config.js';
import { SESSION_OPTIONS } from './pg-types.js';
import type { CatalogColumn } from './source-info.js';

export type PgClient = pg.Client;

/** pg's protocol connection under a Client: CopyData in and out during START_REPLICATION. */
export interface PgWire {
  on(event: 'copyData', listener: (message: { chunk: Buffer }) => void): void;
  removeAllListeners(event?: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  readonly stream: { pause(): void; resume(): void };
}

export function wireOf(client: PgClient): PgWire {
  return (client as unknown as { connection: PgWire }).connection;
}

const rawText = (value: string) => value;

export async function connect(settings: CdcSettings, replication: boolean): Promise<PgClient> {
  const { default: pgModule } = await import('pg');
  const client = new pgModule.Client({
    host: settings.host,
    port: settings.port,
    user: settings.user,
    ...(settings.password !== null ? { password: settings.password } : {}),
    database: settings.database,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    options: SESSION_OPTIONS,
    application_name: `conveyor-cdc-${settings.topicPrefix}`,
    types: { getTypeParser: () => rawText } as unknown as pg.CustomTypesConfig,
    ...(replication ? { replication: 'database' } : {}),
  } as pg.ClientConfig);
  // An error after connecting (the server going away) is seen by the query in flight; without
  // a listener it would also be thrown as an uncaught 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/** Describes a failed connection attempt in a sentence naming the server. */
export function connectionFailure(settings: CdcSettings, error: unknown): ConnectException {
  const reason = error instanceof Error ? error.message || (error as { code?: string }).code || error.name : String(error);
  return new ConnectException(`Could not connect to PostgreSQL at ${settings.host}:${settings.port} (database.hostname, database.port), database ${settings.database} as user ${settings.user}: ${reason}`);
}

/** An SQL identifier in double quotes. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** An SQL string literal. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export interface CatalogTable {
  readonly oid: number;
  readonly schema: string;
  readonly table: string;
}

/** The ordinary tables of the database outside the system schemas. */
export async function listTables(client: PgClient): Promise<CatalogTable[]> {
  const result = await client.query<{ oid: string; nspname: string; relname: string }>(
    `SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
      ORDER BY n.nspname, c.relname`,
  );
  return result.rows.map((row) => ({ oid: Number(row.oid), schema: row.nspname, table: row.relname }));
}

/** A table's columns (attnum order) and primary key columns (key order); null when it no longer exists. */
export async function describeTable(client: PgClient, oid: number): Promise<{ columns: CatalogColumn[]; primaryKey: string[] } | null> {
  const columns = await client.query<{ attname: string; atttypid: string; atttypmod: string; attnotnull: string }>(
    'SELECT attname, atttypid, atttypmod, attnotnull FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
    [oid],
  );
  if (columns.rows.length === 0) return null;
  const key = await client.query<{ attname: string }>(
    `SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.position`,
    [oid],
  );
  return {
    columns: columns.rows.map((row) => ({ name: row.attname, typeOid: Number(row.atttypid), typeModifier: Number(row.atttypmod), notNull: row.attnotnull === 't' })),
    primaryKey: key.rows.map((row) => row.attname),
  };
}

export interface SlotState {
  readonly active: boolean;
  readonly activePid: number | null;
  readonly plugin: string | null;
  readonly database: string | null;
  readonly confirmedFlushLsn: string | null;
}

export async function slotState(client: PgClient, slotName: string): Promise<SlotState | null> {
  const result = await client.query<{ active: string; active_pid: string | null; plugin: string | null; database: string | null; confirmed_flush_lsn: string | null }>(
    'SELECT active, active_pid, plugin, database, confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1',
    [slotName],
  );
  const row = result.rows[0];
  if (row === undefined) return null;
  return { active: row.active === 't', activePid: row.active_pid === null ? null : Number(row.active_pid), plugin: row.plugin, database: row.database, confirmedFlushLsn: row.confirmed_flush_lsn };
}
