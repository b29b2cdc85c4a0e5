// The PostgreSQL change data capture task. A background loop talks to the server and fills a
// bounded queue of records that poll() drains:
//   1. the snapshot (when snapshot.mode asks for one and no complete snapshot is recorded in the
//      stored offset): the replication slot is created with EXPORT_SNAPSHOT and the included
//      tables are read in a REPEATABLE READ transaction on that exported snapshot, so the stream
//      from the slot's consistent point holds exactly the changes committed after the rows read;
//   2. the stream: START_REPLICATION from the slot with pgoutput, each captured change becoming
//      a Debezium change event (op c/u/d, a tombstone after each delete).
// Positions: a streamed record's offset names its transaction's commit LSN and its index among
// the records of that transaction, so a restart (or a reconnect, which restreams from the slot's
// confirmed position) skips what was already sent. The slot's confirmed flush position moves only
// to the end of transactions whose every record Kafka acknowledged and whose offsets the worker
// stored (commit() is called after the offsets are stored; commitRecord after each acknowledgement).
// A lost connection or a restarting server is retried with backoff; the slot keeps the changes.
import { ConnectException, type RecordMetadata, SourceTask } from '../../api/connector.js';
import { type Schema, SchemaBuilder, Schemas, type SourceRecord, Struct } from '../../api/data.js';
import { ChangeQueue } from '../debezium/change-queue.js';
import { type Operation, envelopeStruct, keyStruct, rowStruct } from '../debezium/schemas.js';
import { type CdcSettings, parseSettings } from './config.js';
import { type PgClient, connect, connectionFailure, describeTable, listTables, quoteIdent, quoteLiteral, slotState, wireOf } from './postgres.js';
import { type PgOutputMessage, type ReplicationMessage, type TupleValue, parseLsn, parsePgOutput, parseReplicationMessage, standbyStatusUpdate } from './pgoutput.js';
import { CONNECTOR_VERSION, type SourceInfo, type TableModel, sourceStruct, tableModel } from './source-info.js';

/** Debezium's placeholder for a TOASTed value an update did not change (the server does not send it). */
const UNAVAILABLE_VALUE = '__debezium_unavailable_value';
/** Replication messages held before reading from the server pauses. */
const MAX_INBOX = 1024;
const RETRY_FIRST_WAIT_MS = 250;

/** A failure that retrying cannot cure (a missing publication, wal_level, permissions). */
class FatalError extends ConnectException {}

/** Where a streamed record sits: its transaction's commit LSN, then its index among the transaction's records. */
interface StreamPosition {
  readonly commitLsn: bigint;
  readonly index: number;
}

const after = (a: StreamPosition, b: StreamPosition | null) => b === null || a.commitLsn > b.commitLsn || (a.commitLsn === b.commitLsn && a.index > b.index);

/** The transaction being decoded. */
interface OpenTransaction {
  readonly xid: number;
  readonly finalLsn: bigint;
  readonly commitTimeMicros: bigint;
  index: number;
}

export class PostgresCdcSourceTask extends SourceTask {
  private settings!: CdcSettings;
  private partition: Readonly<Record<string, unknown>> = {};
  private stopping = false;
  private failure: Error | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  // ---- the queue between the loop and poll ----
  private queue!: ChangeQueue;

  // ---- positions ----
  /** Sequence numbers of queued records, for commitRecord. */
  private readonly sequenceOf = new WeakMap<SourceRecord, number>();
  private emittedSeq = 0;
  private ackedSeq = 0;
  /** The highest sequence whose offset the worker has stored (as of the last commit()). */
  private committedSeq = 0;
  /** Ends of decoded transactions, waiting for their last record (by sequence) to be committed. */
  private transactionEnds: { seq: number; endLsn: bigint }[] = [];
  /** What the slot may confirm: the end of the last transaction fully in Kafka with its offsets stored. */
  private flushedLsn = 0n;
  /** The highest WAL position received. */
  private receivedLsn = 0n;
  /** The position of the last record sent (or stored in the offset at start): anything not after it is skipped. */
  private lastPosition: StreamPosition | null = null;
  private lastCommitLsn: bigint | null = null;
  private snapshotNeeded = false;
  private lastHeartbeat = Date.now();
  private lastOffset: Record<string, unknown> | null = null;

  // ---- the replication connection ----
  private replication: PgClient | null = null;
  private regular: PgClient | null = null;

  version(): string {
    return CONNECTOR_VERSION;
  }

  async start(props: Readonly<Record<string, string>>): Promise<void> {
    this.settings = parseSettings(props);
    this.queue = new ChangeQueue(this.settings.maxQueueSize);
    this.partition = { server: this.settings.topicPrefix };
    const stored = await this.context.offsetStorageReader.offset(this.partition);
    this.lastOffset = stored;
    const mode = this.settings.snapshotMode;
    const snapshotComplete = stored !== null && (stored.snapshot !== true || stored.last_snapshot_record === true);
    this.snapshotNeeded = mode === 'always' || ((mode === 'initial' || mode === 'initial_only') && !snapshotComplete);
    if (stored && stored.lsn_commit !== undefined && stored.lsn_commit !== null) {
      this.lastPosition = { commitLsn: BigInt(stored.lsn_commit as number), index: Number(stored.event_index ?? Number.MAX_SAFE_INTEGER) };
      this.lastCommitLsn = BigInt(stored.lsn_commit as number);
    }
    // Reach the server once now, so that a wrong address or login fails the task with a clear error.
    let client: PgClient;
    try {
      client = await connect(this.settings, false);
    } catch (error) {
      throw connectionFailure(this.settings, error);
    }
    try {
      await this.checkServer(client);
      // Without a snapshot the slot is made now: once the task runs, every later change is captured.
      if (!this.snapshotNeeded && mode !== 'initial_only') {
        await this.ensurePublication(client);
        await this.ensureSlot(client);
      }
    } catch (error) {
      if (error instanceof ConnectException) throw error;
      throw new ConnectException(`PostgreSQL change capture could not start: ${error instanceof Error ? error.message : error}`);
    } finally {
      await client.end().catch(() => undefined);
    }
    this.loop = this.run();
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.failure) throw this.failure;
    const records = await this.queue.take(this.settings.maxBatchSize, this.settings.pollIntervalMs);
    if (this.failure) throw this.failure;
    if (records.length === 0) return this.heartbeat();
    return records;
  }

  override commitRecord(record: SourceRecord, _metadata: RecordMetadata | null): void {
    const seq = this.sequenceOf.get(record);
    if (seq !== undefined && seq > this.ackedSeq) this.ackedSeq = seq;
  }

  override commit(): void {
    // Every record acknowledged so far has its offset stored by now (the worker stores offsets, then calls commit).
    this.committedSeq = this.ackedSeq;
    this.confirmCompleted();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.queue?.wake();
    this.sendStatus();
    await this.replication?.end().catch(() => undefined);
    await this.regular?.end().catch(() => undefined);
    await this.loop?.catch(() => undefined);
    if (this.settings?.dropSlotOnStop) {
      const client = await connect(this.settings, false).catch(() => null);
      if (client) {
        await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [this.settings.slotName]).catch(() => undefined);
        await client.end().catch(() => undefined);
      }
    }
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
          this.failure = error instanceof ConnectException ? error : new ConnectException(`PostgreSQL change capture failed: ${error instanceof Error ? error.message : error}`);
          this.queue.wake();
          return;
        }
        await this.sleep(wait);
        wait = Math.min(wait * 2, Math.max(this.settings.retryMaxWaitMs, RETRY_FIRST_WAIT_MS));
      } finally {
        await this.replication?.end().catch(() => undefined);
        await this.regular?.end().catch(() => undefined);
        this.replication = null;
        this.regular = null;
      }
    }
  }

  /** One connected session: snapshot if needed, then stream until the connection ends. True: nothing more to do. */
  private async session(onStreaming: () => void): Promise<boolean> {
    const regular = await connect(this.settings, false);
    this.regular = regular;
    if (this.stopping) return true;
    await this.checkServer(regular);
    await this.ensurePublication(regular);
    if (this.snapshotNeeded) {
      await this.snapshot(regular);
      this.snapshotNeeded = false;
    }
    if (this.settings.snapshotMode === 'initial_only') return true;
    await this.stream(regular, onStreaming);
    return this.stopping;
  }

  private async checkServer(client: PgClient): Promise<void> {
    const level = (await client.query<{ wal_level: string }>('SHOW wal_level')).rows[0]?.wal_level;
    if (level !== 'logical') throw new FatalError(`PostgreSQL's wal_level is ${level}; change data capture needs wal_level=logical (set it in postgresql.conf and restart the server)`);
    const role = (await client.query<{ rolreplication: string; rolsuper: string }>('SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0];
    if (role && role.rolreplication !== 't' && role.rolsuper !== 't') {
      throw new FatalError(`the user ${this.settings.user} (database.user) lacks the REPLICATION attribute: ALTER ROLE ${quoteIdent(this.settings.user)} REPLICATION`);
    }
  }

  private async includedTables(client: PgClient) {
    return (await listTables(client)).filter((table) => this.settings.includes(table.schema, table.table));
  }

  private async ensurePublication(client: PgClient): Promise<void> {
    const { publicationName: name, publicationMode: mode } = this.settings;
    const existing = await client.query<{ puballtables: string }>('SELECT puballtables FROM pg_publication WHERE pubname = $1', [name]);
    if (mode === 'disabled') {
      if (existing.rows.length === 0) throw new FatalError(`the publication ${name} (publication.name) does not exist and publication.autocreate.mode is disabled: create it with CREATE PUBLICATION`);
      return;
    }
    if (mode === 'all_tables') {
      if (existing.rows.length === 0) await this.publicationCommand(client, `CREATE PUBLICATION ${quoteIdent(name)} FOR ALL TABLES`);
      return;
    }
    const tables = (await this.includedTables(client)).map((table) => `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`);
    if (tables.length === 0) throw new FatalError('no table matches the include and exclude lists (table.include.list, schema.include.list): publication.autocreate.mode=filtered has nothing to publish');
    const list = tables.join(', ');
    if (existing.rows.length === 0) await this.publicationCommand(client, `CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${list}`);
    else if (existing.rows[0]!.puballtables !== 't') await this.publicationCommand(client, `ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ${list}`);
  }

  private async publicationCommand(client: PgClient, sql: string): Promise<void> {
    try {
      await client.query(sql);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '42501') throw new FatalError(`could not create publication ${this.settings.publicationName} (publication.name): ${(error as Error).message}; create it as its owner or a superuser, or let the user own the tables`);
      throw error;
    }
  }

  // ---- snapshot ----

  private async snapshot(regular: PgClient): Promise<void> {
    const { slotName } = this.settings;
    const existing = await slotState(regular, slotName);
    if (existing?.active) throw Object.assign(new Error(`replication slot ${slotName} is in use by process ${existing.activePid}`), { code: '55006' });
    // A snapshot is consistent with the stream only from a slot created with it: an older slot is replaced.
    if (existing) await regular.query('SELECT pg_drop_replication_slot($1)', [slotName]);
    const replication = await connect(this.settings, true);
    this.replication = replication;
    const created = await replication.query<{ consistent_point: string; snapshot_name: string }>(`CREATE_REPLICATION_SLOT ${quoteIdent(slotName)} LOGICAL pgoutput EXPORT_SNAPSHOT`);
    const consistentPoint = parseLsn(created.rows[0]!.consistent_point);
    const snapshotName = created.rows[0]!.snapshot_name;
    this.flushedLsn = consistentPoint;
    await regular.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await regular.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshotName)}`);
    const txId = Number((await regular.query<{ xmin: string }>('SELECT txid_snapshot_xmin(txid_current_snapshot()) AS xmin')).rows[0]!.xmin);
    const timeMicros = BigInt(Date.now()) * 1000n;
    const offset = (last: boolean) => ({ last_snapshot_record: last, lsn: Number(consistentPoint), txId, ts_usec: Number(timeMicros), snapshot: true });
    // One row is held back so that the very last one can say snapshot=last.
    let held: { model: TableModel; values: Map<string, unknown> } | null = null;
    const release = async (last: boolean) => {
      if (held === null) return;
      const { model, values } = held;
      held = null;
      const info: SourceInfo = { serverName: this.settings.topicPrefix, database: this.settings.database, schema: model.schema, table: model.table, timeMicros, snapshot: last ? 'last' : 'true', txId, lsn: consistentPoint, sequence: null };
      await this.enqueue(this.changeRecord(model, 'r', null, values, info, offset(last)));
    };
    for (const table of await this.includedTables(regular)) {
      const description = await describeTable(regular, table.oid);
      if (description === null) continue;
      const model = tableModel(this.settings.topicPrefix, table.schema, table.table, description.columns, description.primaryKey, this.settings.decimalMode);
      const cursor = quoteIdent(`conveyor_snapshot_${table.oid}`);
      const columns = model.columns.map((column) => quoteIdent(column.name)).join(', ');
      await regular.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${columns} FROM ${quoteIdent(table.schema)}.${quoteIdent(table.table)}`);
      for (;;) {
        if (this.stopping) return;
        const batch = await regular.query({ text: `FETCH ${this.settings.snapshotFetchSize} FROM ${cursor}`, rowMode: 'array' });
        for (const row of batch.rows as (string | null)[][]) {
          await release(false);
          const values = new Map<string, unknown>();
          model.columns.forEach((column, index) => {
            const text = row[index];
            values.set(column.name, text === null || text === undefined ? null : column.type.fromText(text));
          });
          held = { model, values };
        }
        if (batch.rows.length < this.settings.snapshotFetchSize) break;
      }
      await regular.query(`CLOSE ${cursor}`);
    }
    await release(true);
    await regular.query('COMMIT');
    await replication.end();
    this.replication = null;
  }

  // ---- streaming ----

  private async stream(regular: PgClient, onStreaming: () => void): Promise<void> {
    const { slotName, publicationName } = this.settings;
    await this.ensureSlot(regular);
    const replication = await connect(this.settings, true);
    this.replication = replication;
    if (this.stopping) return;
    const relations = new Map<number, TableModel | null>();
    const inbox: ReplicationMessage[] = [];
    let paused = false;
    const signal: { waiter: (() => void) | null } = { waiter: null };
    const wire = wireOf(replication);
    wire.on('copyData', ({ chunk }) => {
      // A copy: pg's parser reuses the buffer `chunk` lies in once more data arrives, and this
      // message may wait in the inbox until after that.
      const message = parseReplicationMessage(Buffer.from(chunk));
      if (message.kind === 'xlogdata' && message.walEnd > this.receivedLsn) this.receivedLsn = message.walEnd;
      if (message.kind === 'keepalive') {
        if (message.walEnd > this.receivedLsn) this.receivedLsn = message.walEnd;
        // Answered at once, whatever the queue holds: a server that hears nothing for wal_sender_timeout drops us.
        if (message.replyRequested) this.sendStatus();
      }
      inbox.push(message);
      if (inbox.length >= MAX_INBOX && !paused) {
        paused = true;
        wire.stream.pause();
      }
      signal.waiter?.();
    });
    const ended = replication.query(`START_REPLICATION SLOT ${quoteIdent(slotName)} LOGICAL 0/0 (proto_version '1', publication_names ${quoteLiteral(publicationName)})`)
      .then(() => {
        throw Object.assign(new Error('the server ended the replication stream'), { code: '08006' });
      });
    const statusTimer = setInterval(() => this.sendStatus(), this.settings.statusIntervalMs);
    let streamingReported = false;
    let transaction: OpenTransaction | null = null;
    const consume = async (): Promise<void> => {
      while (!this.stopping) {
        const message = inbox.shift();
        if (message === undefined) {
          if (paused) {
            paused = false;
            wire.stream.resume();
          }
          await new Promise<void>((resolve) => {
            signal.waiter = resolve;
          });
          signal.waiter = null;
          continue;
        }
        if (!streamingReported) {
          streamingReported = true;
          onStreaming();
        }
        if (message.kind === 'keepalive') {
          // Idle and everything before this point in Kafka with offsets stored: the slot may move on.
          if (transaction === null && inbox.length === 0 && this.emittedSeq <= this.committedSeq && message.walEnd > this.flushedLsn) {
            this.flushedLsn = message.walEnd;
          }
          continue;
        }
        if (message.kind !== 'xlogdata') continue;
        const decoded = parsePgOutput(message.data);
        transaction = await this.handle(decoded, message.dataStart, transaction, relations, regular);
      }
    };
    try {
      await Promise.race([ended, consume(), new Promise<void>((resolve) => {
        this.wake = resolve;
      })]);
    } finally {
      clearInterval(statusTimer);
      signal.waiter?.();
      wire.removeAllListeners('copyData');
      this.wake = null;
      ended.catch(() => undefined);
    }
  }

  /** Creates the slot when it is missing (without a snapshot), and checks an existing one is ours to read. */
  private async ensureSlot(regular: PgClient): Promise<void> {
    const { slotName } = this.settings;
    const slot = await slotState(regular, slotName);
    if (slot === null) {
      const replication = await connect(this.settings, true);
      try {
        await replication.query(`CREATE_REPLICATION_SLOT ${quoteIdent(slotName)} LOGICAL pgoutput NOEXPORT_SNAPSHOT`);
      } finally {
        await replication.end().catch(() => undefined);
      }
    } else if (slot.plugin !== 'pgoutput') {
      throw new FatalError(`replication slot ${slotName} (slot.name) uses the ${slot.plugin} plugin, not pgoutput: drop it or choose another slot.name`);
    } else if (slot.database !== this.settings.database) {
      throw new FatalError(`replication slot ${slotName} (slot.name) belongs to database ${slot.database}, not ${this.settings.database}`);
    }
  }

  private async handle(message: PgOutputMessage, lsn: bigint, transaction: OpenTransaction | null, relations: Map<number, TableModel | null>, regular: PgClient): Promise<OpenTransaction | null> {
    switch (message.tag) {
      case 'begin':
        return { xid: message.xid, finalLsn: message.finalLsn, commitTimeMicros: message.commitTimeMicros, index: 0 };
      case 'commit':
        this.transactionEnds.push({ seq: this.emittedSeq, endLsn: message.endLsn });
        this.lastCommitLsn = message.commitLsn;
        this.confirmCompleted();
        return null;
      case 'relation': {
        if (!this.settings.includes(message.namespace, message.name)) {
          relations.set(message.relationId, null);
          return transaction;
        }
        // The catalog says which columns form the primary key and which may be null (the message does not).
        const description = await describeTable(regular, message.relationId);
        const notNull = new Set(description?.columns.filter((column) => column.notNull).map((column) => column.name));
        const columns = message.columns.map((column) => ({ name: column.name, typeOid: column.typeOid, typeModifier: column.typeModifier, notNull: notNull.has(column.name) }));
        const primaryKey = (description?.primaryKey ?? []).filter((name) => columns.some((column) => column.name === name));
        relations.set(message.relationId, tableModel(this.settings.topicPrefix, message.namespace, message.name, columns, primaryKey, this.settings.decimalMode));
        return transaction;
      }
      case 'insert': case 'update': case 'delete': {
        const model = relations.get(message.relationId);
        if (model === undefined) throw new FatalError(`pgoutput sent a change of relation ${message.relationId} before describing it`);
        if (model === null || transaction === null) return transaction;
        await this.change(model, message, lsn, transaction);
        return transaction;
      }
      default:
        // Truncates are skipped, as Debezium's skipped.operations=t default; origins, types and messages carry no rows.
        return transaction;
    }
  }

  private async change(model: TableModel, message: Extract<PgOutputMessage, { tag: 'insert' | 'update' | 'delete' }>, lsn: bigint, transaction: OpenTransaction): Promise<void> {
    const info: SourceInfo = {
      serverName: this.settings.topicPrefix, database: this.settings.database, schema: model.schema, table: model.table,
      timeMicros: transaction.commitTimeMicros, snapshot: 'false', txId: transaction.xid, lsn,
      sequence: JSON.stringify([this.lastCommitLsn === null ? null : String(this.lastCommitLsn), String(lsn)]),
    };
    const emit = async (build: (offset: Record<string, unknown>) => SourceRecord) => {
      const position = { commitLsn: transaction.finalLsn, index: transaction.index++ };
      // Sent before (by this task, or by the one whose offset we started from): skipped.
      if (!after(position, this.lastPosition)) return;
      this.lastPosition = position;
      await this.enqueue(build({ lsn_proc: Number(lsn), lsn_commit: Number(transaction.finalLsn), lsn: Number(lsn), txId: transaction.xid, ts_usec: Number(transaction.commitTimeMicros), event_index: position.index }));
    };
    if (message.tag === 'insert') {
      const row = this.rowValues(model, message.newTuple, null);
      await emit((offset) => this.changeRecord(model, 'c', null, row, info, offset));
      return;
    }
    if (message.tag === 'delete') {
      const before = this.rowValues(model, message.oldTuple, null);
      await emit((offset) => this.changeRecord(model, 'd', before, null, info, offset));
      if (this.settings.tombstonesOnDelete) await emit((offset) => this.tombstone(model, before, offset));
      return;
    }
    const before = message.oldTuple === null ? null : this.rowValues(model, message.oldTuple, null);
    const row = this.rowValues(model, message.newTuple, before);
    const keyChanged = before !== null && model.schemas.keyColumns.some((name) => !sameValue(before.get(name), row.get(name)));
    if (keyChanged) {
      // A new primary key is a different record: a delete of the old key (and its tombstone), then a create, as Debezium.
      await emit((offset) => this.changeRecord(model, 'd', before, null, info, offset));
      if (this.settings.tombstonesOnDelete) await emit((offset) => this.tombstone(model, before, offset));
      await emit((offset) => this.changeRecord(model, 'c', null, row, info, offset));
      return;
    }
    await emit((offset) => this.changeRecord(model, 'u', message.oldKind === 'full' ? before : null, row, info, offset));
  }

  /** A tuple's values by column name; an unchanged TOASTed value comes from `old` when it has it. */
  private rowValues(model: TableModel, tuple: readonly TupleValue[], old: ReadonlyMap<string, unknown> | null): Map<string, unknown> {
    const values = new Map<string, unknown>();
    model.columns.forEach((column, index) => {
      const value = tuple[index];
      if (value === null || value === undefined) values.set(column.name, null);
      else if (value.kind === 'text') values.set(column.name, column.type.fromText(value.text));
      else if (value.kind === 'binary') values.set(column.name, value.bytes);
      else if (old?.get(column.name) !== undefined && old.get(column.name) !== null) values.set(column.name, old.get(column.name));
      else values.set(column.name, column.type.schema.type === 'string' ? UNAVAILABLE_VALUE : column.type.schema.type === 'bytes' && !column.type.schema.name ? Buffer.from(UNAVAILABLE_VALUE) : null);
    });
    return values;
  }

  private changeRecord(model: TableModel, op: Operation, before: ReadonlyMap<string, unknown> | null, afterRow: ReadonlyMap<string, unknown> | null, info: SourceInfo, offset: Record<string, unknown>): SourceRecord {
    const { schemas } = model;
    const keyValues = afterRow ?? before ?? new Map();
    const value = envelopeStruct(
      schemas, op,
      before === null ? null : rowStruct(schemas.valueSchema, before),
      afterRow === null ? null : rowStruct(schemas.valueSchema, afterRow),
      sourceStruct(info),
    );
    return {
      topic: schemas.logicalName, kafkaPartition: null,
      keySchema: schemas.keySchema, key: keyStruct(schemas, keyValues),
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

  /** A heartbeat record when heartbeat.interval.ms has passed with nothing to send. */
  private heartbeat(): SourceRecord[] | null {
    const interval = this.settings.heartbeatIntervalMs;
    if (interval <= 0 || Date.now() - this.lastHeartbeat < interval || this.lastOffset === null) return null;
    this.lastHeartbeat = Date.now();
    return [{
      topic: this.settings.heartbeatTopic, kafkaPartition: null,
      keySchema: HEARTBEAT_KEY_SCHEMA, key: new Struct(HEARTBEAT_KEY_SCHEMA).put('serverName', this.settings.topicPrefix),
      valueSchema: HEARTBEAT_VALUE_SCHEMA, value: new Struct(HEARTBEAT_VALUE_SCHEMA).put('ts_ms', BigInt(Date.now())),
      timestamp: null, headers: [], sourcePartition: this.partition, sourceOffset: this.lastOffset,
    }];
  }

  // ---- queue and positions ----

  private async enqueue(record: SourceRecord): Promise<void> {
    if (!(await this.queue.waitForRoom(() => this.stopping))) return;
    this.sequenceOf.set(record, ++this.emittedSeq);
    this.lastOffset = record.sourceOffset as Record<string, unknown>;
    this.lastHeartbeat = Date.now();
    this.queue.push(record);
  }

  /** Moves the confirmable position to the end of every transaction whose records are all committed. */
  private confirmCompleted(): void {
    let advanced = false;
    while (this.transactionEnds.length > 0 && this.transactionEnds[0]!.seq <= this.committedSeq) {
      const { endLsn } = this.transactionEnds.shift()!;
      if (endLsn > this.flushedLsn) {
        this.flushedLsn = endLsn;
        advanced = true;
      }
    }
    if (advanced) this.sendStatus();
  }

  /** Tells the server how far we have got (also the keep-alive of the connection). */
  private sendStatus(): void {
    const replication = this.replication;
    if (replication === null) return;
    try {
      const written = this.receivedLsn > this.flushedLsn ? this.receivedLsn : this.flushedLsn;
      wireOf(replication).sendCopyFromChunk(standbyStatusUpdate(written, this.flushedLsn, this.flushedLsn, BigInt(Date.now()) * 1000n));
    } catch {
      // The connection is gone; the loop reconnects.
    }
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

const HEARTBEAT_KEY_SCHEMA: Schema = SchemaBuilder.struct().name('io.debezium.connector.common.ServerNameKey').field('serverName', Schemas.STRING).build();
const HEARTBEAT_VALUE_SCHEMA: Schema = SchemaBuilder.struct().name('io.debezium.connector.common.Heartbeat').field('ts_ms', Schemas.INT64).build();

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (a instanceof Struct || b instanceof Struct || (typeof a === 'object' && a !== null)) return JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  return a === b;
}

/** Whether a failure may pass by reconnecting: lost connections, a server shutting down or starting, a slot still held. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof FatalError) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (/^(08|57P|53)/.test(code) || code === '55006') return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  }
  const message = error instanceof Error ? error.message : String(error);
  return /Connection terminated|connection timeout|terminating connection|server closed the connection|the database system is/i.test(message);
}

