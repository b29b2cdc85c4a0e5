// The MySQL/MariaDB change data capture task. A background loop talks to the server and fills a
// bounded queue of records that poll() drains:
//   1. the snapshot (when snapshot.mode asks for one and no complete snapshot is recorded in the
//      stored offset): a REPEATABLE READ transaction started WITH CONSISTENT SNAPSHOT, and the binary
//      log position that snapshot corresponds to (MariaDB reports it itself, binlog_snapshot_file and
//      _position; on MySQL it is read under FLUSH TABLES WITH READ LOCK, released at once). The
//      included tables are read in that transaction as op r events;
//   2. the stream: the row-based binary log read as a replica (zongji on mysql2) from that position,
//      each row of each write, update and delete event becoming a change event (op c/u/d, and a
//      tombstone after each delete).
// Positions follow Debezium's: a record's offset names the binary log file and position where its
// transaction starts, the GTIDs completed before it, and how many row events (`event`) and rows of
// the next event (`row`) of that transaction are already sent. A restarted task (or a reconnect)
// reads from the transaction's start and skips that many, so nothing is lost or doubled at any
// point inside a transaction.
//
// Column names: the binary log's table maps carry column types but not names (unless the server
// runs with binlog_row_metadata=FULL). They are read from information_schema when the stream
// first meets a table and again after each DDL statement, which is exact while the connector
// follows the log. A change written before an ALTER TABLE that the connector reads only after the
// ALTER (it was down or behind) has a different column count from today's table: the task then
// fails with an error asking for binlog_row_metadata=FULL rather than guess (under FULL the events
// name their own columns and are decoded exactly). An ALTER that keeps the count (a renamed or
// retyped column) cannot be told apart without FULL metadata.
import type ZongJi from '@vlasky/zongji';
import type { RowsEvent, TableMapEntry } from '@vlasky/zongji';
import { ConnectException, SourceTask } from '../../api/connector.js';
import type { SourceRecord } from '../../api/data.js';
import { Struct } from '../../api/data.js';
import { ChangeQueue } from '../debezium/change-queue.js';
import { type Operation, envelopeStruct, keyStruct, rowStruct } from '../debezium/schemas.js';
import { type MySqlCdcSettings, parseSettings } from './config.js';
import {
  FatalError, type MySqlConnection, type ServerState, type TableDescription, binlogEnd, checkServer, clientOptions, connect, connectionFailure,
  describeTable, gtidPosition, isRetriable, listTables, quoteIdent,
} from './mysql.js';
import type { ColumnDefinition } from './mysql-types.js';
import {
  CONNECTOR_VERSION, type Flavour, SCHEMA_CHANGE_KEY_SCHEMA, type SourceInfo, type TableModel, schemaChangeValueSchema, sourceStruct, tableChangeStruct, tableModel,
} from './source-info.js';

/** Binary log events held before reading from the server pauses. */
const MAX_INBOX = 1000;
const RETRY_FIRST_WAIT_MS = 250;

/** Where to read the binary log from, and what to skip of the first transaction there. */
interface StreamPosition {
  readonly file: string;
  readonly pos: number;
  readonly gtids: string | null;
  readonly event: number;
  readonly row: number;
}

/** The transaction being decoded. */
interface OpenTransaction {
  readonly file: string;
  readonly pos: number;
  readonly gtid: string | null;
  readonly gtidsBefore: string | null;
  readonly timeMs: number;
  /** Row events of captured tables seen so far. */
  events: number;
  /** What of this transaction a previous run already sent. */
  readonly skip: { event: number; row: number } | null;
}

/** A binary log event as it arrived, with the reader's resume position right after it. */
interface InboxItem {
  readonly event: any;
  readonly file: string;
  readonly pos: number;
  /** For row events: the table map entry they were decoded with. */
  readonly table?: TableMapEntry & { description?: TableDescription };
}

const ROW_EVENTS = new Set(['writerows', 'updaterows', 'deleterows']);
const DDL = /^\s*(?:\/\*.*?\*\/\s*)*(CREATE|ALTER|DROP|RENAME|TRUNCATE)\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?((?:`(?:[^`]|``)+`|[\w$]+)(?:\s*\.\s*(?:`(?:[^`]|``)+`|[\w$]+))?)/is;

export class MySqlCdcSourceTask extends SourceTask {
  private settings!: MySqlCdcSettings;
  private flavourOverride: Flavour | null = null;
  private partition: Readonly<Record<string, unknown>> = {};
  private stopping = false;
  private failure: Error | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  // ---- the queue between the loop and poll ----
  private queue!: ChangeQueue;

  // ---- positions ----
  private snapshotNeeded = false;
  /** Where the next session reads from (advanced as events are processed). */
  private position: StreamPosition | null = null;
  /** MariaDB: the last completed GTID per replication domain. */
  private gtids = new Map<string, string>();
  private server: ServerState | null = null;

  private regular: MySqlConnection | null = null;
  private zongji: ZongJi | null = null;
  private readonly models = new WeakMap<object, TableModel | null>();

  version(): string {
    return CONNECTOR_VERSION;
  }

  async start(props: Readonly<Record<string, string>>): Promise<void> {
    this.settings = parseSettings(props);
    this.queue = new ChangeQueue(this.settings.maxQueueSize);
    const connectorClass = props['connector.class'] ?? '';
    this.flavourOverride = /mariadb/i.test(connectorClass) ? 'mariadb' : /debezium\.connector\.mysql/.test(connectorClass) ? 'mysql' : null;
    this.partition = { server: this.settings.topicPrefix };
    const stored = await this.context.offsetStorageReader.offset(this.partition);
    const mode = this.settings.snapshotMode;
    const snapshotComplete = stored !== null && stored.snapshot !== true;
    this.snapshotNeeded = (mode === 'initial' || mode === 'initial_only' || mode === 'when_needed') && !snapshotComplete;
    if (stored && snapshotComplete && typeof stored.file === 'string') {
      this.position = { file: stored.file, pos: Number(stored.pos), gtids: typeof stored.gtids === 'string' ? stored.gtids : null, event: Number(stored.event ?? 0), row: Number(stored.row ?? 0) };
      this.setGtids(this.position.gtids);
    }
    // Reach the server once now, so that a wrong address, login or binary log setting fails the task with a clear error.
    let client: MySqlConnection;
    try {
      client = await connect(this.settings);
    } catch (error) {
      throw connectionFailure(this.settings, error);
    }
    try {
      this.server = await checkServer(client);
      if (this.position === null && !this.snapshotNeeded) {
        // Streaming without a snapshot starts at the log's end as of now: every later change is captured.
        const end = await binlogEnd(client, this.server.mariadb);
        this.position = { ...end, event: 0, row: 0 };
        this.setGtids(end.gtids);
      }
    } catch (error) {
      if (error instanceof ConnectException) throw error;
      throw new ConnectException(`MySQL/MariaDB change capture could not start: ${error instanceof Error ? error.message : error}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    this.loop = this.run();
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.failure) throw this.failure;
    // A row's records (a delete and its tombstone; a key change's delete, tombstone and create)
    // share one offset; the queue hands them out in one poll.
    const records = await this.queue.take(this.settings.maxBatchSize, this.settings.pollIntervalMs);
    if (this.failure) throw this.failure;
    return records.length === 0 ? null : records;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.queue?.wake();
    this.closeReader();
    await this.regular?.end().catch(() => undefined);
    await this.loop?.catch(() => undefined);
  }

  private get flavour(): Flavour {
    return this.flavourOverride ?? (this.server?.mariadb ? 'mariadb' : 'mysql');
  }

  // ---- the loop ----

  private async run(): Promise<void> {
    let wait = RETRY_FIRST_WAIT_MS;
    while (!this.stopping) {
      try {
        const finished = await this.session(() => {
          wait = RETRY_FIRST_WAIT_MS;
        });
        if (finished) return;
      } catch (error) {
        if (this.stopping) return;
        if (!isRetriable(error)) {
          this.failure = error instanceof ConnectException ? error : new ConnectException(`MySQL/MariaDB change capture failed: ${error instanceof Error ? error.message : error}`);
          this.queue.wake();
          return;
        }
      } finally {
        this.closeReader();
        await this.regular?.end().catch(() => undefined);
        this.regular = null;
      }
      if (this.stopping) return;
      await this.sleep(wait);
      wait = Math.min(wait * 2, Math.max(this.settings.retryMaxWaitMs, RETRY_FIRST_WAIT_MS));
    }
  }

  /** One connected session: snapshot if needed, then stream until the connection ends. True: nothing more to do. */
  private async session(onStreaming: () => void): Promise<boolean> {
    const regular = await connect(this.settings);
    this.regular = regular;
    if (this.stopping) return true;
    this.server = await checkServer(regular);
    if (this.snapshotNeeded) {
      await this.snapshot(regular);
      if (this.stopping) return true;
      this.snapshotNeeded = false;
    }
    if (this.settings.snapshotMode === 'initial_only') return true;
    await this.stream(regular, onStreaming);
    return this.stopping;
  }

  private setGtids(text: string | null): void {
    this.gtids.clear();
    for (const gtid of (text ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
      const domain = gtid.split('-')[0]!;
      this.gtids.set(domain, gtid);
    }
  }

  private gtidText(): string | null {
    if (!this.server?.mariadb) return null;
    return [...this.gtids.values()].join(',');
  }

  private typeOptions() {
    return { decimalMode: this.settings.decimalMode, timePrecisionMode: this.settings.timePrecisionMode, bigintUnsignedPrecise: this.settings.bigintUnsignedPrecise };
  }

  // ---- snapshot ----

  private async snapshot(regular: MySqlConnection): Promise<void> {
    const mariadb = this.server!.mariadb;
    let locked = false;
    if (!mariadb && this.settings.snapshotLocking === 'minimal') {
      try {
        await regular.query('FLUSH TABLES WITH READ LOCK');
        locked = true;
      } catch (error) {
        if ((error as { errno?: number }).errno === 1227) throw new FatalError(`the snapshot needs a global read lock and ${this.settings.user} lacks the RELOAD privilege: GRANT RELOAD ON *.* TO it, or set snapshot.locking.mode=none`);
        throw error;
      }
    }
    let start: { file: string; pos: number; gtids: string | null };
    try {
      await regular.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await regular.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      if (mariadb) {
        // MariaDB reports the binary log position its consistent snapshot corresponds to: no lock needed.
        const [rows] = await regular.query("SHOW STATUS LIKE 'binlog_snapshot_%'");
        const status = new Map((rows as { Variable_name: string; Value: string }[]).map((row) => [row.Variable_name.toLowerCase(), row.Value]));
        const file = status.get('binlog_snapshot_file') ?? '';
        const pos = Number(status.get('binlog_snapshot_position') ?? 0);
        start = file === '' ? await binlogEnd(regular, true) : { file, pos, gtids: await gtidPosition(regular, file, pos) };
      } else {
        start = await binlogEnd(regular, false);
      }
    } finally {
      if (locked) await regular.query('UNLOCK TABLES');
    }
    const timeMs = Date.now();
    const offset = (completed: boolean) => ({ file: start.file, pos: start.pos, gtids: start.gtids, event: 0, row: 0, snapshot: completed ? false : true, ts_sec: Math.floor(timeMs / 1000) });
    // One row is held back so that the very last one can say snapshot=last (and complete the snapshot in its offset).
    let held: { model: TableModel; values: Map<string, unknown> } | null = null;
    const release = async (last: boolean) => {
      if (held === null) return;
      const { model, values } = held;
      held = null;
      const info = this.sourceInfo(model, { timeMs, snapshot: last ? 'last' : 'true', gtid: null, file: start.file, pos: start.pos, row: 0 });
      await this.enqueue(this.changeRecord(model, 'r', null, values, info, offset(last)));
    };
    const tables = (await listTables(regular)).filter((table) => this.settings.includes(table.database, table.table));
    for (const { database, table } of tables) {
      const description = await describeTable(regular, database, table, mariadb);
      if (description === null) continue;
      const model = tableModel(this.flavour, this.settings.topicPrefix, database, table, description.columns, description.primaryKey, this.typeOptions());
      const columns = model.columns.map((column) => quoteIdent(column.name)).join(', ');
      // Streamed, not buffered: the async iterator applies backpressure while the queue is full.
      const core = (regular as unknown as { connection: import('mysql2').Connection }).connection;
      const stream = core.query({ sql: `SELECT ${columns} FROM ${quoteIdent(database)}.${quoteIdent(table)}`, rowsAsArray: true }).stream({ highWaterMark: this.settings.snapshotFetchSize });
      for await (const row of stream as AsyncIterable<unknown[]>) {
        if (this.stopping) {
          stream.destroy();
          return;
        }
        await release(false);
        const values = new Map<string, unknown>();
        model.columns.forEach((column, index) => {
          const value = row[index];
          values.set(column.name, value === null || value === undefined ? null : column.type.convert(value));
        });
        held = { model, values };
      }
    }
    await release(true);
    await regular.query('COMMIT');
    this.position = { file: start.file, pos: start.pos, gtids: start.gtids, event: 0, row: 0 };
    this.setGtids(start.gtids);
  }

  // ---- streaming ----

  private closeReader(): void {
    const zongji = this.zongji;
    this.zongji = null;
    if (zongji) {
      try {
        zongji.removeAllListeners('binlog');
        zongji.on('error', () => undefined);
        zongji.stop();
      } catch {
        // Already closed.
      }
    }
  }

  private async stream(regular: MySqlConnection, onStreaming: () => void): Promise<void> {
    const { default: ZongJiClass } = await import('@vlasky/zongji');
    const start = this.position!;
    const zongji = new ZongJiClass(clientOptions(this.settings)) as ZongJi & Record<string, any>;
    this.zongji = zongji;
    const mariadb = this.server!.mariadb;
    // zongji 0.9's hooks: which tables' events are decoded at all, and the column names of a
    // table map (ours: exact column count checked, the information_schema description kept).
    zongji._skipSchema = (database: string, table: string) => !this.settings.includes(database, table);
    zongji._fetchTableInfo = (tableMap: any, next: () => void) => {
      describeTable(regular, tableMap.schemaName, tableMap.tableName, mariadb).then((description) => {
        if (description === null) throw new FatalError(`the binary log holds changes of ${tableMap.schemaName}.${tableMap.tableName}, which no longer exists: without binlog_row_metadata=FULL its column names cannot be known`);
        if (description.columns.length !== tableMap.columnCount) {
          throw new FatalError(`a change of ${tableMap.schemaName}.${tableMap.tableName} in the binary log has ${tableMap.columnCount} columns but the table has ${description.columns.length} now: `
            + 'it was altered after the change was written, and the binary log does not name the columns of older changes. Set binlog_row_metadata=FULL on the server so that it does (MariaDB 10.5+, MySQL 8.0+), then resnapshot or restart from a position after the ALTER');
        }
        (zongji.tableMap as Record<number, unknown>)[tableMap.tableId] = {
          columnSchemas: description.columns.map((column) => ({ COLUMN_NAME: column.name, COLLATION_NAME: null, CHARACTER_SET_NAME: column.charset ?? null, COLUMN_COMMENT: '', COLUMN_TYPE: column.columnType })),
          parentSchema: tableMap.schemaName,
          tableName: tableMap.tableName,
          description,
        };
        next();
      }).catch((error) => zongji.emit('error', error));
    };

    const inbox: InboxItem[] = [];
    let paused = false;
    const signal: { waiter: (() => void) | null } = { waiter: null };
    const failed = new Promise<never>((_resolve, reject) => {
      zongji.on('error', (error: Error) => reject(error));
      zongji.on('stopped', () => reject(Object.assign(new Error('the binary log connection closed'), { code: 'PROTOCOL_CONNECTION_LOST' })));
    });
    failed.catch(() => undefined);
    zongji.on('ready', () => {
      // A server that goes away mid-stream ends the connection, sometimes without an error.
      const connection = zongji.connection as { once?: (event: string, listener: () => void) => void } | null;
      connection?.once?.('end', () => zongji.emit('error', Object.assign(new Error('the server closed the binary log connection'), { code: 'PROTOCOL_CONNECTION_LOST' })));
    });
    zongji.on('binlog', (event: any) => {
      const name = event.getEventName();
      if (name === 'query' && DDL.test(event.query)) {
        // Table ids are reassigned by DDL; forgetting the cached maps here, in arrival order, makes
        // the next table map of each table read its (new) columns.
        const maps = zongji.tableMap as Record<string, unknown>;
        for (const id of Object.keys(maps)) delete maps[id];
      }
      const item: InboxItem = { event, file: zongji.options.filename ?? '', pos: zongji.options.position ?? 0 };
      inbox.push(ROW_EVENTS.has(name) ? { ...item, table: zongji.tableMap[event.tableId] } : item);
      if (inbox.length >= MAX_INBOX && !paused && zongji.connection) {
        paused = true;
        zongji.connection.pause();
      }
      signal.waiter?.();
    });
    zongji.start({ serverId: this.settings.serverId, filename: start.file, position: start.pos });

    let lastSafe = { file: start.file, pos: start.pos };
    let skip: { event: number; row: number } | null = start.event > 0 || start.row > 0 ? { event: start.event, row: start.row } : null;
    let transaction: OpenTransaction | null = null;
    let reported = false;
    const begin = (gtid: string | null, timestamp: number): OpenTransaction => {
      const opened: OpenTransaction = { file: lastSafe.file, pos: lastSafe.pos, gtid, gtidsBefore: this.gtidText(), timeMs: timestamp, events: 0, skip };
      skip = null;
      return opened;
    };
    const commit = () => {
      if (transaction?.gtid && mariadb) this.gtids.set(transaction.gtid.split('-')[0]!, transaction.gtid);
      transaction = null;
    };
    const consume = async (): Promise<void> => {
      while (!this.stopping) {
        const item = inbox.shift();
        if (item === undefined) {
          if (paused && zongji.connection) {
            paused = false;
            zongji.connection.resume();
          }
          await new Promise<void>((resolve) => {
            signal.waiter = resolve;
          });
          signal.waiter = null;
          continue;
        }
        if (!reported) {
          reported = true;
          onStreaming();
        }
        const { event } = item;
        const name: string = event.getEventName();
        if (name === 'mariadbgtid' || name === 'gtid' || name === 'anonymousgtid') {
          transaction = begin(name === 'anonymousgtid' ? null : String(event.gtid), event.timestamp);
        } else if (name === 'query') {
          const query = String(event.query).trim();
          if (/^(BEGIN|XA\s+START)\b/i.test(query)) {
            transaction ??= begin(null, event.timestamp);
          } else if (/^(COMMIT|ROLLBACK|XA\s+(COMMIT|ROLLBACK))\b/i.test(query)) {
            commit();
          } else {
            // A statement of its own (DDL): it ends its group.
            const opened = transaction ?? begin(null, event.timestamp);
            transaction = opened;
            commit();
            await this.schemaChange(event, opened, item);
          }
        } else if (name === 'xid') {
          commit();
        } else if (ROW_EVENTS.has(name) && item.table) {
          transaction ??= begin(null, event.timestamp);
          await this.rows(name, event as RowsEvent, item.table, transaction, regular);
        }
        if (transaction === null && !(item.file === lastSafe.file && item.pos <= lastSafe.pos) && item.pos > 0) {
          // Outside a transaction the reader's position is a safe place to resume from.
          lastSafe = { file: item.file, pos: item.pos };
          if (skip === null) this.position = { file: item.file, pos: item.pos, gtids: this.gtidText(), event: 0, row: 0 };
        }
      }
    };
    try {
      await Promise.race([failed, consume(), new Promise<void>((resolve) => {
        this.wake = resolve;
      })]);
    } finally {
      signal.waiter?.();
      this.wake = null;
      this.closeReader();
    }
  }

  private async rows(name: string, event: RowsEvent, table: TableMapEntry & { description?: TableDescription }, transaction: OpenTransaction, regular: MySqlConnection): Promise<void> {
    const eventIndex = transaction.events++;
    const skip = transaction.skip;
    if (skip && eventIndex < skip.event) return;
    const firstRow = skip && eventIndex === skip.event ? skip.row : 0;
    const model = await this.modelOf(table, regular);
    if (model === null) return;
    const rows = (event as unknown as { rows: any[] }).rows;
    for (let index = firstRow; index < rows.length; index++) {
      const offset = { file: transaction.file, pos: transaction.pos, gtids: transaction.gtidsBefore, event: eventIndex, row: index + 1, ts_sec: Math.floor(transaction.timeMs / 1000), ...(transaction.gtid ? { gtid: transaction.gtid } : {}) };
      const info = this.sourceInfo(model, { timeMs: transaction.timeMs, snapshot: 'false', gtid: transaction.gtid, file: transaction.file, pos: transaction.pos, row: index });
      const row = rows[index];
      if (name === 'writerows') {
        await this.enqueue(this.changeRecord(model, 'c', null, this.values(model, row), info, offset));
      } else if (name === 'deleterows') {
        const before = this.values(model, row);
        await this.enqueue(this.changeRecord(model, 'd', before, null, info, offset));
        if (this.settings.tombstonesOnDelete) await this.enqueue(this.tombstone(model, before, offset));
      } else {
        const before = this.values(model, row.before);
        const after = this.values(model, row.after);
        const keyChanged = model.schemas.keyColumns.some((column) => !sameValue(before.get(column), after.get(column)));
        if (keyChanged) {
          // A new primary key is a different record: a delete of the old key (and its tombstone), then a create, as Debezium.
          await this.enqueue(this.changeRecord(model, 'd', before, null, info, offset));
          if (this.settings.tombstonesOnDelete) await this.enqueue(this.tombstone(model, before, offset));
          await this.enqueue(this.changeRecord(model, 'c', null, after, info, offset));
        } else {
          await this.enqueue(this.changeRecord(model, 'u', before, after, info, offset));
        }
      }
      if (this.stopping) return;
    }
  }

  /** The model of a table map entry: our description, or (binlog_row_metadata=FULL) the event's own column names. */
  private async modelOf(table: TableMapEntry & { description?: TableDescription }, regular: MySqlConnection): Promise<TableModel | null> {
    const cached = this.models.get(table);
    if (cached !== undefined) return cached;
    let description = table.description;
    if (description === undefined) {
      // The table map named its columns itself: today's definitions by name, the binary log's type for the rest.
      const current = await describeTable(regular, table.parentSchema, table.tableName, this.server!.mariadb);
      const byName = new Map(current?.columns.map((column) => [column.name, column]));
      const columns: ColumnDefinition[] = table.columnSchemas.map((schema) => byName.get(schema.COLUMN_NAME) ?? {
        name: schema.COLUMN_NAME, dataType: schema.COLUMN_TYPE.split(/[\s(]/)[0]!, columnType: schema.COLUMN_TYPE, nullable: true,
        precision: Number(/\((\d+)/.exec(schema.COLUMN_TYPE)?.[1] ?? 0) || null, scale: Number(/,(\d+)\)/.exec(schema.COLUMN_TYPE)?.[1] ?? 0), fsp: Number(/\((\d)\)/.exec(schema.COLUMN_TYPE)?.[1] ?? 0), json: false,
      });
      description = { columns, primaryKey: (current?.primaryKey ?? []).filter((name) => columns.some((column) => column.name === name)) };
    }
    const model = tableModel(this.flavour, this.settings.topicPrefix, table.parentSchema, table.tableName, description.columns, description.primaryKey, this.typeOptions());
    this.models.set(table, model);
    return model;
  }

  private values(model: TableModel, row: Record<string, unknown>): Map<string, unknown> {
    const values = new Map<string, unknown>();
    for (const column of model.columns) {
      const value = row[column.name];
      values.set(column.name, value === null || value === undefined ? null : column.type.convert(value));
    }
    return values;
  }

  private async schemaChange(event: any, transaction: OpenTransaction, item: InboxItem): Promise<void> {
    if (!this.settings.includeSchemaChanges) return;
    const query = String(event.query);
    const match = DDL.exec(query);
    const named = match?.[2]?.split(/\s*\.\s*/).map((part) => part.replace(/^`|`$/g, '').replaceAll('``', '`'));
    const database = named && named.length === 2 ? named[0]! : String(event.schema ?? '');
    if (database === '' || !this.settings.includesDatabase(database)) return;
    const table = named ? named[named.length - 1]! : null;
    if (table !== null && match && !this.settings.includes(database, table)) return;
    const kind = match?.[1]?.toUpperCase();
    const flavour = this.flavour;
    const info: SourceInfo = {
      flavour, serverName: this.settings.topicPrefix, database, table, timeMs: transaction.timeMs, snapshot: 'false', serverId: this.server!.serverId,
      gtid: transaction.gtid, file: transaction.file, pos: transaction.pos, row: 0, thread: typeof event.slaveProxyId === 'number' ? event.slaveProxyId : null,
    };
    const valueSchema = schemaChangeValueSchema(flavour);
    const changes = table !== null && kind ? [tableChangeStruct(kind === 'CREATE' ? 'CREATE' : kind === 'DROP' ? 'DROP' : 'ALTER', `"${database}"."${table}"`)] : [];
    const value = new Struct(valueSchema).put('source', sourceStruct(info)).put('ts_ms', BigInt(Date.now())).put('databaseName', database).put('schemaName', null).put('ddl', query).put('tableChanges', changes);
    // The position after the statement: a restart does not repeat it.
    const offset = { file: item.file, pos: item.pos, gtids: this.gtidText(), event: 0, row: 0, ts_sec: Math.floor(transaction.timeMs / 1000) };
    await this.enqueue({
      topic: this.settings.topicPrefix, kafkaPartition: null,
      keySchema: SCHEMA_CHANGE_KEY_SCHEMA, key: new Struct(SCHEMA_CHANGE_KEY_SCHEMA).put('databaseName', database),
      valueSchema, value, timestamp: null, headers: [], sourcePartition: this.partition, sourceOffset: offset,
    });
  }

  private sourceInfo(model: TableModel, at: { timeMs: number; snapshot: SourceInfo['snapshot']; gtid: string | null; file: string; pos: number; row: number }): SourceInfo {
    return { flavour: this.flavour, serverName: this.settings.topicPrefix, database: model.database, table: model.table, serverId: this.server!.serverId, thread: null, ...at };
  }

  private changeRecord(model: TableModel, op: Operation, before: ReadonlyMap<string, unknown> | null, after: ReadonlyMap<string, unknown> | null, info: SourceInfo, offset: Record<string, unknown>): SourceRecord {
    const { schemas } = model;
    const value = envelopeStruct(
      schemas, op,
      before === null ? null : rowStruct(schemas.valueSchema, before),
      after === null ? null : rowStruct(schemas.valueSchema, after),
      sourceStruct(info),
    );
    return {
      topic: schemas.logicalName, kafkaPartition: null,
      keySchema: schemas.keySchema, key: keyStruct(schemas, after ?? before ?? new Map()),
      valueSchema: schemas.envelopeSchema, value,
      timestamp: null, headers: [],
      sourcePartition: this.partition, sourceOffset: offset,
    };
  }

  private tombstone(model: TableModel, before: ReadonlyMap<string, unknown>, offset: Record<string, unknown>): SourceRecord {
    return {
      topic: model.schemas.logicalName, kafkaPartition: null,
      keySchema: model.schemas.keySchema, key: keyStruct(model.schemas, before),
      valueSchema: null, value: null, timestamp: null, headers: [],
      sourcePartition: this.partition, sourceOffset: offset,
    };
  }

  // ---- queue ----

  private async enqueue(record: SourceRecord): Promise<void> {
    if (!(await this.queue.waitForRoom(() => this.stopping))) return;
    const offset = record.sourceOffset as Record<string, unknown>;
    if (offset.snapshot !== true) {
      // A reconnect resumes after the last record queued.
      this.position = { file: String(offset.file), pos: Number(offset.pos), gtids: (offset.gtids as string | null) ?? null, event: Number(offset.event), row: Number(offset.row) };
    }
    this.queue.push(record);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (typeof a === 'object' && a !== null) return JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  return a === b;
}
