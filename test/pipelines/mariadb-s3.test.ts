// The change data pipeline end to end: MariaDB table changes to Kafka to S3 Parquet, on a Connect
// cluster of three worker processes (`conveyor connect distributed`) with
// exactly.once.source.support=enabled, a real Conveyor broker, a real MariaDB and s3rver. The
// MariaDB CDC source writes Debezium change events and their binary log offsets in the same Kafka
// transactions (KIP-618; transaction.boundary=interval, so that one is open when the kill comes);
// the S3 sink reads them read_committed, turns each event into a row (ExtractNewRecordState with
// deletes rewritten as rows with __deleted=true, the op and binary log coordinates added) with its
// Kafka offset (InsertField), and writes Parquet objects named by their first offset.
//
// While a workload inserts 10,000 rows, updates thousands (bumping a version column) and deletes
// (and re-inserts) some in 250 transactions, the worker running the source task is killed with
// SIGKILL, and once the pipeline runs again, a worker running a sink task is. The Parquet objects
// read back by DuckDB (ordered by object start offset and row position) must then hold every
// change the workload made exactly once, per key in the order made (op and version); per Kafka
// partition in binary log order; and no two objects of a partition may cover the same offsets.
//
// Rows rather than the raw envelope: a row per change with plain columns is what a data lake table
// of changes holds, and it makes op, version and deletes one SELECT away.
// Objects are cut by flush.size and rotate.interval.ms on record time only (no wall-clock
// rotation), so that a sink replaying after the kill cuts the very objects it cut before and
// overwrites them: wall-clock rotation may cut a replay differently and leave overlapping objects
// (docs/connect.md says so), which the last check would flag. The tail is closed by heartbeat
// rows updated after the workload until every change is in S3: a later record closes an object.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import mysql from 'mysql2/promise';
import { type MariadbServer, mariadbUnavailable, startMariadb } from '../support/mariadb-server.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, type S3Server, startS3Server } from '../support/s3-server.js';
import { seededRandom } from '../support/records.js';
import { type TestBroker, createTopic, readAll, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../integration/helpers.js';
import { type Status, type WorkerProcess, createConnector, distributedWorkerProperties, rest, startWorker, stopWorkers } from '../integration/connect/worker-processes.js';

const SESSION_TIMEOUT_MS = 6_000;
const JSON_CONVERTER = 'org.apache.kafka.connect.json.JsonConverter';
const BUCKET = 'lake';
const PREFIX = 'pipe';
const TOPIC = `${PREFIX}.shop.items`;
const PARTITIONS = 3;
const USER = 'cdc';
const PASSWORD = 'cdc-secret';

// The workload: TRANSACTIONS transactions, each inserting INSERTS_PER_TX new rows (10,000 in all),
// updating UPDATES_PER_TX live rows in one statement and one of them again, deleting
// DELETES_PER_TX, and every fifth re-inserting a deleted row.
const TRANSACTIONS = 250;
const INSERTS_PER_TX = 40;
const UPDATES_PER_TX = 12;
const DELETES_PER_TX = 4;
const PAUSE_BETWEEN_TX_MS = 30;
/** Heartbeat rows (ids from here), enough that every partition has some: their later records close the last objects. */
const HEARTBEAT_BASE = 1_000_000;
const HEARTBEATS = 24;

interface ParquetRow {
  partition: number;
  start: number;
  position: number;
  id: number;
  version: number;
  op: string;
  deleted: string;
  gtid: string | null;
  offset: number;
}

describe('MariaDB table changes to Kafka to S3 Parquet', { skip: mariadbUnavailable(), timeout: 240_000 }, () => {
  let mariadb: MariadbServer;
  let broker: TestBroker;
  let s3: S3Server;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let db: mysql.Connection | undefined;
  let duck: DuckDBConnection | undefined;
  const workers: WorkerProcess[] = [];

  before(async () => {
    [mariadb, broker, s3, dir] = await Promise.all([
      // binlog_row_metadata=FULL, as docs/connect.md advises for the connector.
      startMariadb({ settings: { 'binlog-row-metadata': 'FULL' } }),
      startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } }),
      startS3Server([BUCKET]),
      temporaryDirectory(),
    ]);
    duck = await (await DuckDBInstance.create(':memory:')).connect();
  });

  after(async () => {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => new Promise((resolve) => (worker.child.exitCode !== null || worker.child.signalCode !== null ? resolve(undefined) : worker.child.once('exit', resolve)))));
    duck?.closeSync();
    await db?.end().catch(() => undefined);
    await mariadb?.stop();
    await s3?.stop();
    await broker?.close();
    await dir?.remove();
  });

  const alive = () => workers.filter((worker) => worker.child.exitCode === null && worker.child.signalCode === null);

  async function status(connector: string): Promise<Status | undefined> {
    for (const worker of alive()) {
      const answer = await rest<Status>(worker.url, 'GET', `/connectors/${connector}/status`).catch(() => undefined);
      if (answer?.status === 200) return answer.body;
    }
    return undefined;
  }

  /** What a timeout message needs: the connectors' statuses and the tail of every worker's log. */
  async function diagnosis(): Promise<string> {
    const statuses = [`source: ${JSON.stringify(await status('cdc'))}`, `sink: ${JSON.stringify(await status('lake'))}`];
    const logs = workers.map((worker) => `--- worker ${worker.workerId} (${worker.child.signalCode ?? (worker.child.exitCode === null ? 'running' : `exit ${worker.child.exitCode}`)}):\n`
      + worker.stderr.split('\n').filter((line) => !/joined generation/.test(line)).slice(-20).join('\n'));
    return [...statuses, ...logs].join('\n');
  }

  async function waitOrExplain<T>(check: () => T | undefined | false | Promise<T | undefined | false>, description: string, timeoutMs: number): Promise<T> {
    return waitFor(check, description, timeoutMs).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await diagnosis()}`);
    });
  }

  // ---- reading the bucket ----

  const objectPattern = new RegExp(`^topics/${TOPIC.replaceAll('.', '\\.')}/partition=(\\d+)/${TOPIC.replaceAll('.', '\\.')}\\+(\\d+)\\+(\\d{10})\\.snappy\\.parquet$`);
  const downloaded = new Map<string, string>();

  /** Every object of the topic as a local file (fresh downloads when `fresh`), read by DuckDB, in object and row order. */
  async function readBucket(fresh: boolean): Promise<{ keys: string[]; rows: ParquetRow[] }> {
    const keys = await s3.listKeys(BUCKET, `topics/${TOPIC}/`);
    const files: string[] = [];
    for (const key of keys) {
      const match = objectPattern.exec(key);
      assert.ok(match, `an object named as Confluent's: ${key}`);
      assert.equal(match[1], match[2], `${key}: the directory names the Kafka partition of the file name`);
      let file = downloaded.get(key);
      if (file === undefined || fresh) {
        file = join(dir.path, `${match[2]}-${match[3]}${fresh ? '-final' : ''}.parquet`);
        await writeFile(file, await s3.getObject(BUCKET, key));
        downloaded.set(key, file);
      }
      files.push(file);
    }
    if (files.length === 0) return { keys, rows: [] };
    const reader = await duck!.runAndReadAll(`SELECT filename, file_row_number, id, version, __op, __deleted, __gtid, kafka_offset
      FROM read_parquet([${files.map((file) => `'${file}'`).join(', ')}], filename = true, file_row_number = true)`);
    const rows = reader.getRowObjectsJS().map((row) => {
      const [, partition, start] = /(\d+)-(\d+)(?:-final)?\.parquet$/.exec(String(row.filename))!;
      return {
        partition: Number(partition), start: Number(start), position: Number(row.file_row_number), id: Number(row.id), version: Number(row.version),
        op: String(row.__op), deleted: String(row.__deleted), gtid: row.__gtid === null ? null : String(row.__gtid), offset: Number(row.kafka_offset),
      };
    });
    rows.sort((a, b) => a.partition - b.partition || a.start - b.start || a.position - b.position);
    return { keys, rows };
  }

  it('delivers every change once and in order per key, across SIGKILLs of the source\'s and a sink\'s worker', async () => {
    const startedAt = Date.now();
    const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
    const log = (message: string) => process.stderr.write(`# [${elapsed()}] ${message}\n`);

    // ---- the database: a captured table with a primary key and a version column ----
    db = await mysql.createConnection({ host: mariadb.host, port: mariadb.port, user: mariadb.user });
    db.on('error', () => undefined);
    await db.query(`CREATE USER '${USER}'@'127.0.0.1' IDENTIFIED BY '${PASSWORD}'`);
    await db.query(`GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${USER}'@'127.0.0.1'`);
    await db.query('CREATE DATABASE shop');
    await db.query('CREATE TABLE shop.items (id INT PRIMARY KEY, version INT NOT NULL, note VARCHAR(40))');
    // The heartbeat rows exist before the connector starts: the snapshot sends them (op r).
    await db.query(`INSERT INTO shop.items VALUES ${Array.from({ length: HEARTBEATS }, (_, index) => `(${HEARTBEAT_BASE + index}, 1, 'heartbeat')`).join(', ')}`);
    /** Every change the workload makes, per key, as op:version (a delete shows the version it deleted). */
    const expected = new Map<number, string[]>();
    const record = (id: number, change: string) => {
      const list = expected.get(id) ?? [];
      list.push(change);
      expected.set(id, list);
    };
    for (let index = 0; index < HEARTBEATS; index++) record(HEARTBEAT_BASE + index, 'r:1');

    // ---- the cluster ----
    await createTopic(broker.client, TOPIC, PARTITIONS);
    const group = uniqueTopic('pipeline-mariadb-s3');
    const properties = join(dir.path, 'worker.properties');
    await writeFile(properties, distributedWorkerProperties(broker.running.bootstrapServers, group, SESSION_TIMEOUT_MS, {
      'exactly.once.source.support': 'enabled',
      'key.converter': JSON_CONVERTER,
      'value.converter': JSON_CONVERTER,
      'key.converter.schemas.enable': 'true',
      'value.converter.schemas.enable': 'true',
      'task.shutdown.graceful.timeout.ms': '5000',
    }));
    workers.push(...await Promise.all([startWorker(properties), startWorker(properties), startWorker(properties)]));
    log(`3 workers up: ${workers.map((worker) => worker.workerId).join(', ')}`);

    await createConnector(workers[0]!, {
      name: 'cdc',
      config: {
        'connector.class': 'io.debezium.connector.mariadb.MariaDbConnector',
        'database.hostname': mariadb.host,
        'database.port': String(mariadb.port),
        'database.user': USER,
        'database.password': PASSWORD,
        'database.server.id': '5401',
        'topic.prefix': PREFIX,
        'table.include.list': 'shop\\.items',
        'include.schema.changes': 'false',
        'max.batch.size': '500',
        // Transactions of 2 s rather than one per poll: the SIGKILL lands inside one that holds
        // records already in the log, which must then never reach S3 and must be sent again.
        'transaction.boundary': 'interval',
        'transaction.boundary.interval.ms': '2000',
      },
    });
    await createConnector(workers[0]!, {
      name: 'lake',
      config: {
        'connector.class': 'conveyor.connect.s3.S3SinkConnector',
        'tasks.max': '2',
        topics: TOPIC,
        's3.bucket.name': BUCKET,
        's3.region': 'us-east-1',
        'store.url': s3.url,
        'aws.access.key.id': S3_ACCESS_KEY,
        'aws.secret.access.key': S3_SECRET_KEY,
        'format.class': 'io.confluent.connect.s3.format.parquet.ParquetFormat',
        'flush.size': '500',
        'rotate.interval.ms': '2000',
        's3.retry.backoff.ms': '50',
        'consumer.override.isolation.level': 'read_committed',
        transforms: 'unwrap,offset',
        'transforms.unwrap.type': 'io.debezium.transforms.ExtractNewRecordState',
        'transforms.unwrap.delete.tombstone.handling.mode': 'rewrite',
        'transforms.unwrap.add.fields': 'op,gtid,file,pos,row',
        'transforms.offset.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
        'transforms.offset.offset.field': 'kafka_offset',
      },
    });
    await waitOrExplain(async () => {
      const [source, sink] = [await status('cdc'), await status('lake')];
      return source?.tasks[0]?.state === 'RUNNING' && sink?.tasks.length === 2 && sink.tasks.every((task) => task.state === 'RUNNING');
    }, 'the source task and both sink tasks to run', 60_000);
    log('connectors running');

    // ---- the workload, in the background ----
    const draw = seededRandom(20240601);
    const live: number[] = [];
    const versions = new Map<number, number>();
    const deleted: number[] = [];
    let nextId = 1;
    let committed = 0;
    let changes = 0;
    const pick = (count: number): number[] => {
      const chosen = new Set<number>();
      while (chosen.size < Math.min(count, live.length)) chosen.add(live[Math.floor(draw() * live.length)]!);
      return [...chosen];
    };
    // The last quarter of the workload waits for the second kill, so that both kills hit a pipeline with changes still coming.
    let releaseLastQuarter = () => {};
    const lastQuarter = new Promise<void>((resolve) => {
      releaseLastQuarter = resolve;
    });
    const workload = (async () => {
      for (let tx = 0; tx < TRANSACTIONS; tx++) {
        if (tx === Math.floor((TRANSACTIONS * 3) / 4)) await lastQuarter;
        const statements: string[] = [];
        const made: [number, string][] = [];
        const inserted = Array.from({ length: INSERTS_PER_TX }, () => nextId++);
        statements.push(`INSERT INTO shop.items VALUES ${inserted.map((id) => `(${id}, 1, 'tx ${tx}')`).join(', ')}`);
        for (const id of inserted) {
          live.push(id);
          versions.set(id, 1);
          made.push([id, 'c:1']);
        }
        // One statement: one multi-row update event.
        const updated = pick(UPDATES_PER_TX);
        statements.push(`UPDATE shop.items SET version = version + 1, note = 'tx ${tx}' WHERE id IN (${updated.join(', ')})`);
        for (const id of updated) {
          versions.set(id, versions.get(id)! + 1);
          made.push([id, `u:${versions.get(id)}`]);
        }
        // The same key changed twice in one transaction.
        const again = updated[0]!;
        statements.push(`UPDATE shop.items SET version = version + 1 WHERE id = ${again}`);
        versions.set(again, versions.get(again)! + 1);
        made.push([again, `u:${versions.get(again)}`]);
        const removed = pick(DELETES_PER_TX);
        statements.push(`DELETE FROM shop.items WHERE id IN (${removed.join(', ')})`);
        for (const id of removed) {
          made.push([id, `d:${versions.get(id)}`]);
          live.splice(live.indexOf(id), 1);
          deleted.push(id);
        }
        if (tx % 5 === 4 && deleted.length > 0) {
          // A deleted key comes back, its version going on from where it was.
          const back = deleted.splice(Math.floor(draw() * deleted.length), 1)[0]!;
          versions.set(back, versions.get(back)! + 1);
          statements.push(`INSERT INTO shop.items VALUES (${back}, ${versions.get(back)}, 'back in tx ${tx}')`);
          live.push(back);
          made.push([back, `c:${versions.get(back)}`]);
        }
        await db!.query('BEGIN');
        for (const statement of statements) await db!.query(statement);
        await db!.query('COMMIT');
        for (const [id, change] of made) record(id, change);
        changes += made.length;
        committed = tx + 1;
        await new Promise((resolve) => setTimeout(resolve, PAUSE_BETWEEN_TX_MS));
      }
    })();
    workload.catch(() => undefined);

    /**
     * The bucket while the pipeline runs. A read that fails (an object overwritten by a sink's
     * replay while it was fetched, say) is logged and counts as nothing yet: the next one fetches
     * everything again, and the final read, which the checks use, lets any failure through.
     */
    const progress = async (): Promise<ParquetRow[]> => {
      try {
        return (await readBucket(false)).rows;
      } catch (error) {
        log(`reading the bucket failed, trying again: ${(error as Error).message}`);
        downloaded.clear();
        return [];
      }
    };
    let kill2At = 0;
    const workloadRows = (rows: ParquetRow[]) => rows.filter((row) => row.id < HEARTBEAT_BASE).length;
    const runningOn = async (connector: string, task: number, notOn: readonly WorkerProcess[]): Promise<WorkerProcess | false> => {
      const current = (await status(connector))?.tasks.find((each) => each.id === task);
      if (current?.state !== 'RUNNING') return false;
      const owner = alive().find((worker) => worker.workerId === current.worker_id);
      return owner !== undefined && !notOn.includes(owner) ? owner : false;
    };

    try {
      // ---- kill 1: the source task's worker, mid-stream ----
      await waitOrExplain(async () => committed >= TRANSACTIONS / 4 && workloadRows(await progress()) > 0,
        'a quarter of the workload committed and some of it in S3', 90_000);
      const sourceVictim = await waitOrExplain(() => runningOn('cdc', 0, []), 'the source task\'s status to name its worker', 20_000);
      const sinkTasksOnIt = (await status('lake'))?.tasks.filter((task) => task.worker_id === sourceVictim.workerId).map((task) => task.id) ?? [];
      const inS3AtKill1 = workloadRows(await progress());
      sourceVictim.child.kill('SIGKILL');
      const kill1At = Date.now();
      log(`killed ${sourceVictim.workerId} (the source task${sinkTasksOnIt.length > 0 ? ` and sink task(s) ${sinkTasksOnIt.join(', ')}` : ''}) after ${committed} transactions (${changes} changes made, ${inS3AtKill1} in S3)`);
      const sourceOwner = await waitOrExplain(() => runningOn('cdc', 0, [sourceVictim]), 'the source task to run on a surviving worker', 45_000);
      log(`source task running on ${sourceOwner.workerId} ${((Date.now() - kill1At) / 1000).toFixed(1)} s after the kill`);

      // ---- kill 2: a worker running a sink task, once changes flow again ----
      await waitOrExplain(async () => workloadRows(await progress()) > inS3AtKill1 + 1000, 'changes to reach S3 after the first kill', 60_000);
      const sinkOwners = await waitOrExplain(async () => {
        const sink = await status('lake');
        if (sink?.tasks.length !== 2 || !sink.tasks.every((task) => task.state === 'RUNNING')) return false;
        const owners = sink.tasks.map((task) => alive().find((worker) => worker.workerId === task.worker_id));
        return owners.every((owner) => owner !== undefined) && (owners as WorkerProcess[]);
      }, 'both sink tasks to run on survivors', 45_000);
      // Prefer a worker with a sink task but not the source task, so this kill is the sink's alone.
      const sinkVictim = sinkOwners.find((owner) => owner !== sourceOwner) ?? sinkOwners[0]!;
      const sinkTasksOnVictim = (await status('lake'))?.tasks.filter((task) => task.worker_id === sinkVictim.workerId).map((task) => task.id) ?? [];
      const inS3AtKill2 = workloadRows(await progress());
      sinkVictim.child.kill('SIGKILL');
      kill2At = Date.now();
      log(`killed ${sinkVictim.workerId} (sink task(s) ${sinkTasksOnVictim.join(', ')}${sinkVictim === sourceOwner ? ' and the source task' : ''}) after ${committed} transactions (${changes} changes made, ${inS3AtKill2} in S3)`);
    } finally {
      releaseLastQuarter();
    }

    await workload;
    const total = changes;
    log(`workload done: ${TRANSACTIONS} transactions, ${total} changes (${nextId - 1} rows inserted)`);

    // ---- the tail: heartbeats until every change is in S3 ----
    let beats = 1;
    const final = await waitOrExplain(async () => {
      const rows = await progress();
      // Each change is one (key, op, version): count distinct ones, so that a duplicate cannot stand in for a missing change.
      if (new Set(rows.filter((row) => row.id < HEARTBEAT_BASE).map((row) => `${row.id}:${row.op}:${row.version}`)).size >= total) return true;
      beats++;
      await db!.query(`UPDATE shop.items SET version = version + 1 WHERE id >= ${HEARTBEAT_BASE}`);
      for (let index = 0; index < HEARTBEATS; index++) record(HEARTBEAT_BASE + index, `u:${beats}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return false;
    }, `all ${total} changes to reach S3 (through the heartbeat rows' later records)`, 90_000).then(() => readBucket(true));
    log(`all changes in S3 ${((Date.now() - kill2At) / 1000).toFixed(1)} s after the second kill; ${final.keys.length} objects, ${final.rows.length} rows`);
    // Every task runs on the last worker (statuses may trail the data).
    await waitOrExplain(async () => {
      const [source, sink] = [await status('cdc'), await status('lake')];
      const last = alive().map((worker) => worker.workerId);
      return [...(source?.tasks ?? []), ...(sink?.tasks ?? [])].filter((task) => task.state === 'RUNNING' && last.includes(task.worker_id)).length === 3;
    }, 'the source task and both sink tasks to run on the surviving worker', 30_000);

    // ---- the checks, on the Parquet objects read back ----
    const { keys, rows } = final;
    // 1. Per key: exactly the workload's changes, in order, each once.
    const seen = new Map<number, string[]>();
    for (const row of rows) {
      assert.equal(row.deleted, String(row.op === 'd'), `__deleted of ${row.id} at ${row.partition}:${row.offset}`);
      const list = seen.get(row.id) ?? [];
      list.push(`${row.op}:${row.version}`);
      seen.set(row.id, list);
    }
    const workloadKeys = [...expected.keys()].filter((id) => id < HEARTBEAT_BASE);
    assert.equal(workloadKeys.length, 10_000, 'the workload inserted 10,000 rows');
    const mismatches = workloadKeys.filter((id) => JSON.stringify(seen.get(id) ?? []) !== JSON.stringify(expected.get(id)));
    assert.deepEqual(mismatches.slice(0, 5).map((id) => ({ id, got: seen.get(id) ?? [], want: expected.get(id) })), [],
      `${mismatches.length} keys with changes missing, repeated or out of order (the first five shown)`);
    assert.deepEqual([...seen.keys()].filter((id) => id < HEARTBEAT_BASE && !expected.has(id)), [], 'no key the workload never wrote');
    // The heartbeats: a prefix of their changes (the last may still be in an open object).
    for (let index = 0; index < HEARTBEATS; index++) {
      const id = HEARTBEAT_BASE + index;
      const got = seen.get(id) ?? [];
      assert.ok(got.length >= 1, `heartbeat ${id} reached S3`);
      assert.deepEqual(got, expected.get(id)!.slice(0, got.length), `heartbeat ${id}: its changes once and in order`);
    }
    // 2. The count.
    assert.equal(workloadRows(rows), total, 'as many rows as changes');
    // 3. Per partition: objects cover disjoint offset ranges, each named by its first record's
    //    offset, rows in offset order; and the changes in binary log (commit) order.
    const partitions = new Map<number, ParquetRow[]>();
    for (const row of rows) {
      const list = partitions.get(row.partition) ?? [];
      list.push(row);
      partitions.set(row.partition, list);
    }
    const objectsPerPartition: string[] = [];
    for (const [partition, list] of [...partitions].sort((a, b) => a[0] - b[0])) {
      const starts = [...new Set(list.map((row) => row.start))];
      objectsPerPartition.push(`${partition}: ${starts.length}`);
      let previousEnd = -1;
      for (const start of starts) {
        const objectRows = list.filter((row) => row.start === start);
        assert.equal(objectRows[0]!.offset, start, `partition ${partition}: the object named ${start} starts with offset ${start}`);
        for (let index = 1; index < objectRows.length; index++) {
          assert.ok(objectRows[index]!.offset > objectRows[index - 1]!.offset, `partition ${partition}, object ${start}: offsets increase`);
        }
        assert.ok(start > previousEnd, `partition ${partition}: the object at ${start} overlaps the one before it (which ends at ${previousEnd})`);
        previousEnd = objectRows[objectRows.length - 1]!.offset;
      }
      let previousSeq = -1;
      for (const row of list) {
        if (row.op === 'r') continue;
        const seq = Number(/^0-1-(\d+)$/.exec(row.gtid ?? '')?.[1] ?? Number.NaN);
        assert.ok(seq >= previousSeq, `partition ${partition} offset ${row.offset}: GTID ${row.gtid} after 0-1-${previousSeq}: out of commit order`);
        previousSeq = seq;
      }
    }
    assert.equal(keys.length, new Set(rows.map((row) => `${row.partition}+${row.start}`)).size, 'every object holds rows');
    // 4. The source's kill left records of an open transaction in the log: the sink never read them,
    //    and the new owner sent those changes again (else this run did not test what it is here for).
    let aborted = 0;
    let logged = 0;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const open = new Map<number, number>();
      for (const batch of await readAll(broker.client, TOPIC, partition)) {
        if (!batch.control) {
          logged += batch.records.length;
          if (batch.transactional) open.set(batch.producerId, (open.get(batch.producerId) ?? 0) + batch.records.length);
          continue;
        }
        // A control record's key: version, then type (0 abort, 1 commit).
        if (batch.records[0]?.key?.readInt16BE(2) === 0) aborted += open.get(batch.producerId) ?? 0;
        open.delete(batch.producerId);
      }
    }
    log(`the topic's log: ${logged} records, ${aborted} of them in aborted transactions`);
    assert.ok(aborted > 0, 'the source\'s worker died with records of an open transaction in the log (else the kill missed what it is here to test)');

    // The last worker stops cleanly, with both connectors on it.
    await stopWorkers(alive());
    log(`checked: ${total} changes of 10,000 keys (${[...expected.values()].flat().length - total} heartbeat changes besides); objects per partition ${objectsPerPartition.join(', ')}`);
  });
});
