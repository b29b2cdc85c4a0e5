// The PostgreSQL sink connector: Conveyor's counterpart of Confluent's JDBC sink for PostgreSQL,
// with its configuration names. Each put() writes its records in one transaction, so the offsets
// the worker commits after put never run ahead of the database; a crash replays records after
// the last commit, and with insert.mode=upsert a replay leaves the rows as they were (exactly once
// in effect). Rows go in multi-row statements (INSERT ... VALUES (...), (...) [ON CONFLICT],
// UPDATE ... FROM (VALUES ...), DELETE ... WHERE key IN (...)), several records for one key in one
// put applying in order. Tables are created and columns added (auto.create, auto.evolve) before
// the transaction. A transient database error (connection lost, serialization failure, deadlock,
// shutdown) is retried max.retries times, after which the records go back to the worker for
// redelivery (RetriableException); any other error fails the task with the database's message,
// or, when the connector has an errant record reporter (errors.tolerance with a dead letter queue
// or errors.log.enable), the batch is written again record by record and the records PostgreSQL
// refuses are reported instead.
import type { Client, ClientConfig } from 'pg';
import { ConnectException, RetriableException, SinkConnector, SinkTask } from '../../api/connector.js';
import { DataException, type SinkRecord } from '../../api/data.js';
import type { ConnectConfigDef } from '../../api/config.js';
import { type PostgresSinkSettings, configDef, describeConnection, sinkSettings } from './config.js';
import { type RowOp, rowOp, where } from './records.js';
import { type ColumnSpec, type DbValue, type TableId, addColumnSql, createTableSql, deleteSql, insertSql, quoteTable, rowsPerStatement, updateSql } from './sql.js';

const VERSION = '1.0.0';

export class PostgresSinkConnector extends SinkConnector {
  private props: Readonly<Record<string, string>> = {};

  version(): string {
    return VERSION;
  }
  start(props: Readonly<Record<string, string>>): void {
    // Cross-key rules (delete.enabled with pk.mode, upsert without a key) fail the connector here.
    sinkSettings(props);
    this.props = props;
  }
  taskClass(): new () => SinkTask {
    return PostgresSinkTask;
  }
  taskConfigs(maxTasks: number): Record<string, string>[] {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }
  stop(): void {}
  config(): ConnectConfigDef {
    return configDef;
  }
  /** The task keeps no offsets of its own: the consumer group's may be reset or altered. */
  override alterOffsets(): boolean {
    return true;
  }
}

interface ColumnInfo {
  readonly name: string;
  /** format_type(): the type as PostgreSQL writes it (integer, timestamp without time zone, ...). */
  readonly type: string;
}

interface TableInfo {
  readonly columns: Map<string, ColumnInfo>;
}

/** A layout checked against its table: the table's column name and type for each column spec. */
interface ResolvedLayout {
  readonly names: readonly string[];
  readonly types: ReadonlyMap<string, string>;
}

/** SQLSTATEs that a retry can cure (PostgreSQL's error codes appendix). */
const RETRIABLE_SQLSTATES = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '57014', '53000', '53100', '53200', '53300', '58000', '58030']);

/** Whether `error` is transient: a lost or refused connection, a serialization failure, a deadlock, a shutting-down server. */
export function isRetriable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || RETRIABLE_SQLSTATES.has(code)) return true;
    // Node's socket errors (ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT, ...).
    if (/^E[A-Z]+$/.test(code)) return true;
  }
  return /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect/i.test(error.message);
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const details = error as { code?: string; detail?: string };
  const code = typeof details.code === 'string' && /^[0-9A-Z]{5}$/.test(details.code) ? ` (SQLSTATE ${details.code})` : '';
  return `${error.message}${code}${details.detail ? `: ${details.detail}` : ''}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PostgresSinkTask extends SinkTask {
  private settings!: PostgresSinkSettings;
  private client: Client | null = null;
  private pg: typeof import('pg').default | undefined;
  private readonly tables = new Map<string, TableInfo | null>();
  private readonly layouts = new Map<string, ResolvedLayout>();
  private stopping = false;

  version(): string {
    return VERSION;
  }

  async start(props: Readonly<Record<string, string>>): Promise<void> {
    this.settings = sinkSettings(props);
    this.stopping = false;
    const { default: pg } = await import('pg');
    this.pg = pg;
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.settings.connectionAttempts; attempt++) {
      try {
        await this.connection();
        return;
      } catch (error) {
        lastError = error;
        if (attempt < this.settings.connectionAttempts && !this.stopping) await sleep(this.settings.connectionBackoffMs);
      }
    }
    throw new ConnectException(`could not connect to PostgreSQL at ${describeConnection(this.settings.connection)} (connection.url) after ${this.settings.connectionAttempts} attempt(s): ${errorText(lastError)}`, { cause: lastError });
  }

  async put(records: readonly SinkRecord[]): Promise<void> {
    if (records.length === 0) return;
    const ops = await this.toOps(records);
    if (ops.length === 0) return;
    for (let retries = 0; ; retries++) {
      try {
        await this.write(ops);
        return;
      } catch (error) {
        this.forgetTables();
        if (!isRetriable(error)) {
          if (error instanceof ConnectException) throw error;
          throw new ConnectException(`writing ${ops.length} record(s) to PostgreSQL failed: ${errorText(error)}`, { cause: error });
        }
        await this.dropConnection();
        if (retries >= this.settings.maxRetries || this.stopping) {
          // The worker redelivers these records after the backoff; nothing of them was committed.
          this.context.timeout(this.settings.retryBackoffMs);
          throw new RetriableException(`writing to PostgreSQL failed ${retries + 1} time(s) (max.retries=${this.settings.maxRetries}), the records will be redelivered: ${errorText(error)}`, { cause: error });
        }
        await sleep(this.settings.retryBackoffMs);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.dropConnection();
  }

  /** The records as row operations; a record that cannot be one is reported (errant record reporter) or fails the task. */
  private async toOps(records: readonly SinkRecord[]): Promise<RowOp[]> {
    const ops: RowOp[] = [];
    for (const record of records) {
      try {
        const op = rowOp(record, this.settings);
        if (op) ops.push(op);
      } catch (error) {
        const reporter = this.context.errantRecordReporter;
        if (!reporter || !(error instanceof DataException)) throw new ConnectException(`the record at ${where(record)} cannot be written: ${(error as Error).message}`, { cause: error });
        await reporter(record, error);
      }
    }
    return ops;
  }

  private async connection(): Promise<Client> {
    if (this.client) return this.client;
    const { connection } = this.settings;
    const config: ClientConfig = {
      host: connection.host,
      port: connection.port,
      ssl: connection.ssl,
      application_name: connection.applicationName ?? 'conveyor-postgres-sink',
      connectionTimeoutMillis: connection.connectTimeoutMs ?? 30_000,
    };
    if (connection.database !== undefined) config.database = connection.database;
    if (connection.user !== undefined) config.user = connection.user;
    if (connection.password !== undefined) config.password = connection.password;
    if (connection.options !== undefined) config.options = connection.options;
    const client = new this.pg!.Client(config);
    // A server that goes away while the client is idle is reported as an event; without a
    // listener it would end the worker. The next use finds the client gone and reconnects.
    client.on('error', () => {
      if (this.client === client) this.client = null;
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    return client;
  }

  private async dropConnection(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private forgetTables(): void {
    this.tables.clear();
    this.layouts.clear();
  }

  /** One attempt: tables made ready, then every row in one transaction. */
  private async write(ops: readonly RowOp[]): Promise<void> {
    const client = await this.connection();
    const resolved = new Map<RowOp, ResolvedLayout | null>();
    for (const op of ops) resolved.set(op, await this.resolve(client, op));
    const groups = this.group(ops.filter((op) => resolved.get(op) !== null));
    if (groups.length === 0) return;
    const reporter = this.context.errantRecordReporter;
    await client.query('BEGIN');
    try {
      for (const group of groups) await this.writeGroup(client, group, resolved);
      await client.query('COMMIT');
      return;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (isRetriable(error) || !reporter || error instanceof ConnectException) throw error;
    }
    // A record PostgreSQL refuses: each is written on its own (behind a savepoint) to find the
    // ones to report; the others are committed together.
    const refused: [SinkRecord, Error][] = [];
    await client.query('BEGIN');
    try {
      for (const op of ops) {
        const layout = resolved.get(op);
        if (!layout) continue;
        await client.query('SAVEPOINT record');
        try {
          await this.writeGroup(client, { ops: [op] }, resolved);
          await client.query('RELEASE SAVEPOINT record');
        } catch (error) {
          if (isRetriable(error)) throw error;
          await client.query('ROLLBACK TO SAVEPOINT record');
          refused.push([op.record, new ConnectException(`PostgreSQL refused the record for ${quoteTable(op.table)}: ${errorText(error)}`, { cause: error })]);
        }
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    for (const [record, error] of refused) await reporter(record, error);
  }

  /**
   * Runs of records that can share statements: the same table and layout (a tombstone's delete
   * goes with any layout of its table). In insert mode a run also has one kind (insert or delete),
   * since order between them matters row by row; in upsert and update mode a run is reduced to
   * the last write per key, after a delete of the key when one came before it, which has the same
   * end result as applying every record in order.
   */
  private group(ops: readonly RowOp[]): { ops: RowOp[] }[] {
    const groups: { ops: RowOp[]; tableKey: string; layout: string | null; kind: RowOp['kind'] }[] = [];
    for (const op of ops) {
      const last = groups.at(-1);
      const fits = last !== undefined && last.tableKey === op.tableKey &&
        (op.kind === 'delete' || last.layout === null || last.layout === op.layout) &&
        (this.settings.insertMode !== 'insert' || last.kind === op.kind);
      if (fits) {
        last.ops.push(op);
        if (op.kind === 'write') last.layout = op.layout;
      } else {
        groups.push({ ops: [op], tableKey: op.tableKey, layout: op.kind === 'write' ? op.layout : null, kind: op.kind });
      }
    }
    return groups;
  }

  private async writeGroup(client: Client, group: { ops: RowOp[] }, resolved: ReadonlyMap<RowOp, ResolvedLayout | null>): Promise<void> {
    let deletes: RowOp[];
    let writes: RowOp[];
    if (this.settings.insertMode === 'insert') {
      deletes = group.ops.filter((op) => op.kind === 'delete');
      writes = group.ops.filter((op) => op.kind === 'write');
    } else {
      const byKey = new Map<string, { deleteFirst: RowOp | null; write: RowOp | null }>();
      for (const op of group.ops) {
        const entry = byKey.get(op.keyText) ?? { deleteFirst: null, write: null };
        if (op.kind === 'delete') {
          entry.deleteFirst = op;
          entry.write = null;
        } else {
          entry.write = op;
        }
        byKey.set(op.keyText, entry);
      }
      deletes = [...byKey.values()].flatMap((entry) => (entry.deleteFirst ? [entry.deleteFirst] : []));
      writes = [...byKey.values()].flatMap((entry) => (entry.write ? [entry.write] : []));
    }
    // Tombstones of one table may carry keys of different schemas; each key layout is one statement.
    for (const layout of new Set(deletes.map((op) => op.layout))) {
      const same = deletes.filter((op) => op.layout === layout);
      await this.runDeletes(client, same, resolved.get(same[0]!)!);
    }
    if (writes.length > 0) await this.runWrites(client, writes, resolved.get(writes[0]!)!);
  }

  private async runDeletes(client: Client, ops: readonly RowOp[], layout: ResolvedLayout): Promise<void> {
    const first = ops[0]!;
    const keys = layout.names.slice(0, first.columns.length);
    const chunk = rowsPerStatement(keys.length, this.settings.batchSize);
    for (let start = 0; start < ops.length; start += chunk) {
      const slice = ops.slice(start, start + chunk);
      await client.query(deleteSql(first.table, keys, slice.length, layout.types), slice.flatMap((op) => op.values as DbValue[]));
    }
  }

  private async runWrites(client: Client, ops: readonly RowOp[], layout: ResolvedLayout): Promise<void> {
    const first = ops[0]!;
    const keyCount = first.columns.filter((column) => column.isKey).length;
    const keys = layout.names.slice(0, keyCount);
    const values = layout.names.slice(keyCount);
    const mode = this.settings.insertMode;
    if (mode === 'update' && values.length === 0) return;
    const chunk = rowsPerStatement(layout.names.length, this.settings.batchSize);
    for (let start = 0; start < ops.length; start += chunk) {
      const slice = ops.slice(start, start + chunk);
      const params = slice.flatMap((op) => op.values as DbValue[]);
      const sql = mode === 'update'
        ? updateSql(first.table, keys, values, slice.length, layout.types)
        : insertSql(first.table, layout.names, slice.length, mode === 'upsert' ? keys : undefined);
      await client.query(sql, params);
    }
  }

  /**
   * The table's column names for an op's columns, creating the table or adding columns first when
   * allowed; null for a delete from a table that does not exist (there is nothing to delete).
   */
  private async resolve(client: Client, op: RowOp): Promise<ResolvedLayout | null> {
    const cacheKey = `${op.tableKey}\u0001${op.kind}\u0001${op.layout}`;
    const cached = this.layouts.get(cacheKey);
    if (cached) return cached;
    let table = await this.tableInfo(client, op.table, op.tableKey);
    if (table === null) {
      if (op.kind === 'delete') return null;
      if (!this.settings.autoCreate) throw new ConnectException(`table ${quoteTable(op.table)} does not exist and auto.create is false (record at ${where(op.record)})`);
      await this.ddl(client, createTableSql(op.table, op.columns, this.settings.timeZone));
      table = await this.tableInfo(client, op.table, op.tableKey, true);
      if (table === null) throw new ConnectException(`table ${quoteTable(op.table)} was created but cannot be found (is the schema in the connection's search_path?)`);
    }
    let missing = op.columns.filter((column) => findColumn(table!, column.name) === undefined);
    if (missing.length > 0) {
      const names = missing.map((column) => column.name).join(', ');
      if (!this.settings.autoEvolve) throw new ConnectException(`table ${quoteTable(op.table)} has no column for the field(s) ${names} and auto.evolve is false (record at ${where(op.record)})`);
      for (const column of missing) {
        if (column.isKey) throw new ConnectException(`table ${quoteTable(op.table)} has no column for the primary key field ${column.name}; auto.evolve does not change a primary key`);
        if (!column.schema.optional && column.schema.defaultValue === undefined) {
          throw new ConnectException(`cannot add the column ${column.name} to table ${quoteTable(op.table)} (auto.evolve): the field is required and has no default value, so the existing rows would have none; make the field optional or give it a default (record at ${where(op.record)})`);
        }
      }
      for (const column of missing) await this.ddl(client, addColumnSql(op.table, column, this.settings.timeZone));
      table = await this.tableInfo(client, op.table, op.tableKey, true);
      missing = op.columns.filter((column) => findColumn(table!, column.name) === undefined);
      if (missing.length > 0) throw new ConnectException(`table ${quoteTable(op.table)} still has no column for ${missing.map((column) => column.name).join(', ')} after ALTER TABLE`);
    }
    const names = op.columns.map((column) => findColumn(table!, column.name)!.name);
    const types = new Map(op.columns.map((column) => {
      const info = findColumn(table!, column.name)!;
      return [info.name, info.type] as const;
    }));
    const layout: ResolvedLayout = { names, types };
    this.layouts.set(cacheKey, layout);
    return layout;
  }

  /** DDL in its own transaction; losing a race to another task that made the same change is fine. */
  private async ddl(client: Client, sql: string): Promise<void> {
    try {
      await client.query(sql);
    } catch (error) {
      const code = (error as { code?: string }).code;
      // 42P07 duplicate table, 42701 duplicate column, 23505 a concurrent CREATE's catalog row.
      if (code === '42P07' || code === '42701' || code === '23505') return;
      if (isRetriable(error)) throw error;
      throw new ConnectException(`${sql.split('\n')[0]} failed: ${errorText(error)}`, { cause: error });
    }
  }

  private async tableInfo(client: Client, id: TableId, key: string, reload = false): Promise<TableInfo | null> {
    if (!reload && this.tables.has(key)) return this.tables.get(key)!;
    const found = await client.query<{ oid: number | null }>('SELECT to_regclass($1)::oid AS oid', [quoteTable(id)]);
    const oid = found.rows[0]?.oid ?? null;
    let info: TableInfo | null = null;
    if (oid !== null) {
      const result = await client.query<{ name: string; type: string }>(
        'SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
        [oid],
      );
      info = { columns: new Map(result.rows.map((row) => [row.name, { name: row.name, type: row.type }])) };
    }
    this.tables.set(key, info);
    return info;
  }
}

/** A column by exact name, else the one whose name differs only in case (a table made by hand with unquoted names). */
function findColumn(table: TableInfo, name: string): ColumnInfo | undefined {
  const exact = table.columns.get(name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  const matches = [...table.columns.values()].filter((column) => column.name.toLowerCase() === lower);
  return matches.length === 1 ? matches[0] : undefined;
}

export type { ColumnSpec };
