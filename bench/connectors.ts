// On-demand benchmark of the built-in connectors (issue 20; not part of `npm run bench`):
// `npm run bench:connectors [-- --only pg-sink]`, after `npm run build` (the broker is the CLI build).
// Each measures a connector beside the server's own bulk path, in the same run on the same servers:
//
// - pg-sink: --rows rows (an int64 id, a string, a double and a Timestamp) in a topic of
//   --partitions partitions as JsonConverter envelopes with schemas, written into PostgreSQL by the
//   PostgreSQL sink (a standalone worker in this process, `startConnect()`, the working tree's
//   code through tsx) in insert mode and in upsert mode, each into a new table (auto.create), timed
//   from startConnect() until `count(*)` reaches --rows. The baseline: PostgreSQL's COPY of the
//   same rows from a CSV file by psql (`\copy`), timed around the psql process.
// - pg-cdc: the PostgreSQL CDC source. Snapshot: --rows rows in a table before the connector
//   starts, timed from startConnect() until the topic holds --rows records. Streaming: with the
//   connector running on an empty table, --rows rows inserted by one INSERT ... SELECT
//   generate_series (the baseline: how fast PostgreSQL writes them), timed from the INSERT until
//   the topic holds --rows records. Both with JsonConverter envelopes (schemas on), one task.
// - mariadb-cdc: the same two measurements for the MySQL/MariaDB CDC source on Debian's MariaDB
//   (test/support/mariadb-server.ts), the baseline one INSERT ... SELECT from seq_0_to_<n>.
// - s3-sink: the --rows rows of pg-sink's topic written to s3rver (test/support/s3-server.ts, in
//   this process) by the S3 sink as JSON lines and as Parquet (snappy), flush.size --rows/10,
//   timed from startConnect() until the last object exists. Reported: MB/s of the records' values
//   read from Kafka, and MB/s of the objects written. The baseline: the same number of objects of
//   the size the JSON run wrote, uploaded to the same server with the AWS SDK one after the other
//   (a direct upload); the ratio is of the JSON objects' MB/s to it (the same bytes put).
//
// The broker is `conveyor start` in its own process; PostgreSQL is Debian's, started by
// test/support/postgres-server.ts in a temporary directory (fsync off, as the tests run it: the
// figures compare the connector with COPY on the same server, not with a durable setup). Both are
// stopped by their pids at the end. Rounds: --rounds [3]; the table shows each round and the
// median ratio. Writes bench/results/connectors-<date>.json unless --no-results.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ClusterClient } from '../src/client/cluster-client.js';
import { AdminClient } from '../src/client/admin-client.js';
import { Producer, type ProducerRecord } from '../src/client/producer.js';
import { startConnect } from '../src/connect/runtime/start-connect.js';
import { connectTcp } from '../src/node/tcp-byte-stream.js';
import { LATEST_TIMESTAMP, listOffsets } from '../src/client/perf-topics.js';
import { PipelinedConnection } from '../src/client/pipelined-connection.js';
import { startMariadb } from '../test/support/mariadb-server.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { startS3Server } from '../test/support/s3-server.js';
import { CLI, createTopic, startConveyor } from './lib/conveyor.js';
import { buildInfo, machineBase, tmpFileSystem } from './lib/machine.js';
import { run, stopServer } from './lib/processes.js';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    partitions: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string', default: 'pg-sink,pg-cdc,mariadb-cdc,s3-sink' },
    'no-results': { type: 'boolean', default: false },
  },
  strict: true,
});
const ROWS = positive('rows');
const PARTITIONS = positive('partitions');
const ROUNDS = positive('rounds');
const ONLY = new Set(flags.only!.split(','));
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 300_000);

function positive(name: 'rows' | 'partitions' | 'rounds'): number {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name}: a positive integer, not '${String(flags[name])}'`);
  return value;
}

interface Rate {
  rows: number;
  elapsedMs: number;
  rowsPerSec: number;
}

const rate = (rows: number, elapsedMs: number): Rate => ({ rows, elapsedMs: Math.round(elapsedMs), rowsPerSec: Math.round(rows / (elapsedMs / 1000)) });
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const SCHEMA = {
  type: 'struct', optional: false, name: 'reading',
  fields: [
    { field: 'id', type: 'int64', optional: false },
    { field: 'sensor', type: 'string', optional: false },
    { field: 'value', type: 'double', optional: false },
    { field: 'measured_at', type: 'int64', optional: false, name: 'org.apache.kafka.connect.data.Timestamp', version: 1 },
  ],
};
const KEY_SCHEMA = { type: 'struct', optional: false, name: 'reading_key', fields: [{ field: 'id', type: 'int64', optional: false }] };
const BASE_TIME = Date.UTC(2026, 0, 1);

function row(id: number): { id: number; sensor: string; value: number; measured_at: number } {
  return { id, sensor: `sensor-${id % 1000}`, value: (id * 7919) % 10000 / 100, measured_at: BASE_TIME + id * 1000 };
}

async function produceRows(bootstrap: string, topic: string): Promise<void> {
  const cluster = new ClusterClient(connectTcp, bootstrap);
  try {
    const producer = new Producer(cluster, await new AdminClient(cluster).describeTopic(topic), { acks: -1, compression: 0 });
    for (let start = 0; start < ROWS; start += 1000) {
      const batch: ProducerRecord[] = [];
      for (let id = start; id < Math.min(ROWS, start + 1000); id++) {
        batch.push({
          key: Buffer.from(JSON.stringify({ schema: KEY_SCHEMA, payload: { id } })),
          value: Buffer.from(JSON.stringify({ schema: SCHEMA, payload: row(id) })),
          headers: [],
        });
      }
      const failed = (await producer.send(batch)).find((result) => result.error !== null);
      if (failed) throw new Error(`producing the rows failed: ${failed.error}`);
    }
  } finally {
    cluster.close();
  }
}

async function countRows(client: pg.Client, table: string): Promise<number> {
  const result = await client.query(`SELECT count(*)::int AS n FROM ${table}`).catch(() => ({ rows: [{ n: 0 }] }));
  return result.rows[0].n as number;
}

/** A standalone worker on `bootstrap` with JsonConverter (schemas on) for keys and values. */
function jsonWorker(bootstrap: string, offsetsFile: string): Record<string, string> {
  return {
    'bootstrap.servers': bootstrap,
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'offset.storage.file.filename': offsetsFile,
    listeners: 'http://127.0.0.1:0',
  };
}

interface PgSinkRound {
  round: number;
  copy: Rate;
  insert: Rate;
  upsert: Rate;
}

async function pgSink(bootstrap: string, work: string): Promise<PgSinkRound[]> {
  const server = await startPostgres();
  const client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  const rounds: PgSinkRound[] = [];
  try {
    const topic = 'bench-readings';
    await createTopic(bootstrap, topic, PARTITIONS);
    await produceRows(bootstrap, topic);
    const csv = join(work, 'rows.csv');
    writeFileSync(csv, Array.from({ length: ROWS }, (_, id) => {
      const r = row(id);
      return `${r.id},${r.sensor},${r.value},${new Date(r.measured_at).toISOString()}`;
    }).join('\n'));
    const psql = '/usr/bin/psql';
    for (let round = 1; round <= ROUNDS; round++) {
      const copyTable = `copy_${round}`;
      await client.query(`CREATE TABLE ${copyTable} (id BIGINT PRIMARY KEY, sensor TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, measured_at TIMESTAMP NOT NULL)`);
      const copyStarted = performance.now();
      const copied = await run(psql, ['-h', server.host, '-p', String(server.port), '-U', server.user, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${copyTable} FROM '${csv}' WITH (FORMAT csv)`], TIMEOUT_MS);
      const copyMs = performance.now() - copyStarted;
      if (copied.code !== 0) throw new Error(`psql \\copy failed: ${copied.stderr}`);
      if (await countRows(client, copyTable) !== ROWS) throw new Error('COPY did not load every row');

      const sinkRun = async (mode: 'insert' | 'upsert'): Promise<Rate> => {
        const table = `sink_${mode}_${round}`;
        const started = performance.now();
        const connect = await startConnect({
          worker: jsonWorker(bootstrap, join(work, `${table}.offsets`)),
          connectors: [{
            name: table, 'connector.class': 'PostgresSink', topics: topic, 'tasks.max': String(PARTITIONS),
            'connection.url': server.url(), 'table.name.format': table, 'auto.create': 'true',
            'insert.mode': mode, 'pk.mode': 'record_key', 'consumer.override.group.id': `bench-${table}`,
          }],
        });
        try {
          const deadline = Date.now() + TIMEOUT_MS;
          while (await countRows(client, table) < ROWS) {
            if (Date.now() > deadline) throw new Error(`the ${mode} sink did not write ${ROWS} rows within ${TIMEOUT_MS} ms`);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          return rate(ROWS, performance.now() - started);
        } finally {
          await connect.close();
        }
      };
      const insert = await sinkRun('insert');
      const upsert = await sinkRun('upsert');
      rounds.push({ round, copy: rate(ROWS, copyMs), insert, upsert });
      console.log(`round ${round}: COPY ${rounds.at(-1)!.copy.rowsPerSec} rows/s, sink insert ${insert.rowsPerSec} rows/s (${(insert.rowsPerSec / rounds.at(-1)!.copy.rowsPerSec * 100).toFixed(1)}%), upsert ${upsert.rowsPerSec} rows/s (${(upsert.rowsPerSec / rounds.at(-1)!.copy.rowsPerSec * 100).toFixed(1)}%)`);
    }
  } finally {
    await client.end();
    await server.stop();
  }
  return rounds;
}

/** The sum of the topic's end offsets (0 while it does not exist). */
async function topicRecords(bootstrap: string, topic: string): Promise<number> {
  const connection = await PipelinedConnection.open(connectTcp, bootstrap);
  try {
    const offsets = await listOffsets(connection, topic, [0], LATEST_TIMESTAMP).catch(() => new Map<number, number>());
    return [...offsets.values()].reduce((sum, offset) => sum + Math.max(0, offset), 0);
  } finally {
    connection.close();
  }
}

async function waitForRecords(bootstrap: string, topic: string, wanted: number, what: string): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (await topicRecords(bootstrap, topic) < wanted) {
    if (Date.now() > deadline) throw new Error(`${what}: the topic did not reach ${wanted} records within ${TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface PgCdcRound {
  round: number;
  snapshot: Rate;
  insert: Rate;
  streaming: Rate;
}

async function pgCdc(bootstrap: string, work: string): Promise<PgCdcRound[]> {
  const server = await startPostgres();
  const client = new pg.Client({ connectionString: server.url() });
  await client.connect();
  const rounds: PgCdcRound[] = [];
  const fill = (table: string) => client.query(`INSERT INTO ${table} SELECT n, 'sensor-' || (n % 1000), (n * 7919 % 10000) / 100.0, timestamp '2026-01-01' + n * interval '1 second' FROM generate_series(0, ${ROWS - 1}) AS n`);
  const connectorFor = (name: string, table: string, mode: string) => startConnect({
    worker: jsonWorker(bootstrap, join(work, `${name}.offsets`)),
    connectors: [{
      name, 'connector.class': 'PostgresCdcSource', 'database.hostname': server.host, 'database.port': String(server.port),
      'database.user': server.user, 'database.dbname': 'postgres', 'topic.prefix': name, 'table.include.list': `public\\.${table}`,
      'slot.name': name, 'publication.name': `${name}_publication`, 'publication.autocreate.mode': 'filtered', 'snapshot.mode': mode,
    }],
  });
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const create = (table: string) => client.query(`CREATE TABLE ${table} (id BIGINT PRIMARY KEY, sensor TEXT NOT NULL, value DOUBLE PRECISION NOT NULL, measured_at TIMESTAMP NOT NULL)`);
      const snapshotTable = `snap_${round}`;
      await create(snapshotTable);
      await fill(snapshotTable);
      let started = performance.now();
      let connect = await connectorFor(`snapcdc${round}`, snapshotTable, 'initial');
      try {
        await waitForRecords(bootstrap, `snapcdc${round}.public.${snapshotTable}`, ROWS, 'the snapshot').catch(async (error: Error) => {
          throw new Error(`${error.message}; status ${JSON.stringify(await connect.herder.connectorStatus(`snapcdc${round}`))}`);
        });
      } finally {
        await connect.close();
      }
      const snapshot = rate(ROWS, performance.now() - started);

      const streamTable = `stream_${round}`;
      await create(streamTable);
      connect = await connectorFor(`streamcdc${round}`, streamTable, 'never');
      try {
        // The slot exists once the task runs: wait for it, so no insert precedes it.
        const deadline = Date.now() + TIMEOUT_MS;
        while ((await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [`streamcdc${round}`])).rowCount === 0) {
          if (Date.now() > deadline) throw new Error('the CDC slot was not created');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        started = performance.now();
        await fill(streamTable);
        const insertMs = performance.now() - started;
        await waitForRecords(bootstrap, `streamcdc${round}.public.${streamTable}`, ROWS, 'streaming').catch(async (error: Error) => {
          throw new Error(`${error.message} (${await topicRecords(bootstrap, `streamcdc${round}.public.${streamTable}`)} there); status ${JSON.stringify(await connect.herder.connectorStatus(`streamcdc${round}`))}`);
        });
        const streaming = rate(ROWS, performance.now() - started);
        rounds.push({ round, snapshot, insert: rate(ROWS, insertMs), streaming });
      } finally {
        await connect.close();
        await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active').catch(() => undefined);
      }
      const last = rounds.at(-1)!;
      console.log(`round ${round}: INSERT ... SELECT ${last.insert.rowsPerSec} rows/s; CDC snapshot ${snapshot.rowsPerSec} rows/s, streaming ${last.streaming.rowsPerSec} rows/s (${(last.streaming.rowsPerSec / last.insert.rowsPerSec * 100).toFixed(1)}% of the insert)`);
    }
  } finally {
    await client.end();
    await server.stop();
  }
  return rounds;
}

interface MariadbCdcRound {
  round: number;
  snapshot: Rate;
  insert: Rate;
  streaming: Rate;
}

async function mariadbCdc(bootstrap: string, work: string): Promise<MariadbCdcRound[]> {
  const { default: mysql } = await import('mysql2/promise');
  const server = await startMariadb();
  const client = await mysql.createConnection({ host: server.host, port: server.port, user: server.user });
  const rounds: MariadbCdcRound[] = [];
  await client.query('CREATE DATABASE bench');
  // The seq_0_to_N tables of the sequence engine resolve in the current database only.
  await client.query('USE bench');
  const fill = (table: string) => client.query(`INSERT INTO bench.${table} SELECT seq, CONCAT('sensor-', seq % 1000), (seq * 7919 % 10000) / 100.0, TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_0_to_${ROWS - 1}`);
  const connectorFor = (name: string, table: string, mode: string, serverId: number) => startConnect({
    worker: jsonWorker(bootstrap, join(work, `${name}.offsets`)),
    connectors: [{
      name, 'connector.class': 'io.debezium.connector.mariadb.MariaDbConnector', 'database.hostname': server.host, 'database.port': String(server.port),
      'database.user': server.user, 'database.server.id': String(serverId), 'topic.prefix': name, 'database.include.list': 'bench',
      'table.include.list': `bench\\.${table}`, 'snapshot.mode': mode,
    }],
  });
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const create = (table: string) => client.query(`CREATE TABLE bench.${table} (id BIGINT PRIMARY KEY, sensor VARCHAR(32) NOT NULL, value DOUBLE NOT NULL, measured_at DATETIME NOT NULL)`);
      const snapshotTable = `snap_${round}`;
      await create(snapshotTable);
      await fill(snapshotTable);
      let started = performance.now();
      let connect = await connectorFor(`mysnap${round}`, snapshotTable, 'initial', 6000 + round);
      try {
        await waitForRecords(bootstrap, `mysnap${round}.bench.${snapshotTable}`, ROWS, 'the MariaDB snapshot');
      } finally {
        await connect.close();
      }
      const snapshot = rate(ROWS, performance.now() - started);
      const streamTable = `stream_${round}`;
      await create(streamTable);
      connect = await connectorFor(`mystream${round}`, streamTable, 'no_data', 6100 + round);
      try {
        // Streaming has begun once a marker row shows up in the topic (a marker written before the
        // task read its start position never does, so one is written every 300 ms until one does).
        const topic = `mystream${round}.bench.${streamTable}`;
        const deadline = Date.now() + TIMEOUT_MS;
        for (let marker = -1; (await topicRecords(bootstrap, topic)) === 0; marker--) {
          if (Date.now() > deadline) throw new Error('the MariaDB stream did not start');
          await client.query(`INSERT INTO bench.${streamTable} VALUES (${marker}, 'marker', 0, NOW())`);
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const before = await topicRecords(bootstrap, topic);
        started = performance.now();
        await fill(streamTable);
        const insertMs = performance.now() - started;
        await waitForRecords(bootstrap, topic, before + ROWS, 'MariaDB streaming');
        rounds.push({ round, snapshot, insert: rate(ROWS, insertMs), streaming: rate(ROWS, performance.now() - started) });
      } finally {
        await connect.close();
      }
      const last = rounds.at(-1)!;
      console.log(`round ${round}: MariaDB INSERT ... SELECT ${last.insert.rowsPerSec} rows/s; CDC snapshot ${snapshot.rowsPerSec} rows/s, streaming ${last.streaming.rowsPerSec} rows/s (${(last.streaming.rowsPerSec / last.insert.rowsPerSec * 100).toFixed(1)}% of the insert)`);
    }
  } finally {
    await client.end();
    await server.stop();
  }
  return rounds;
}

interface S3Round {
  round: number;
  directUpload: { objects: number; bytes: number; elapsedMs: number; mbPerSec: number };
  json: { bytesIn: number; elapsedMs: number; mbPerSec: number; objects: number; objectBytes: number; objectMbPerSec: number };
  parquet: { bytesIn: number; elapsedMs: number; mbPerSec: number; objects: number; objectBytes: number; objectMbPerSec: number };
}

async function s3Sink(bootstrap: string, work: string): Promise<S3Round[]> {
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const server = await startS3Server(['bench']);
  const topic = 'bench-readings-s3';
  await createTopic(bootstrap, topic, 1);
  await produceRows(bootstrap, topic);
  const bytesIn = Array.from({ length: ROWS }, (_, id) => Buffer.byteLength(JSON.stringify({ schema: SCHEMA, payload: row(id) }))).reduce((a, b) => a + b, 0);
  const flushSize = Math.max(1, Math.floor(ROWS / 10));
  const objects = Math.floor(ROWS / flushSize);
  const rounds: S3Round[] = [];
  const mb = (bytes: number, ms: number) => Math.round((bytes / 1024 / 1024) / (ms / 1000) * 100) / 100;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const sinkRun = async (format: 'json' | 'parquet') => {
        const name = `s3-${format}-${round}`;
        const started = performance.now();
        const connect = await startConnect({
          worker: jsonWorker(bootstrap, join(work, `${name}.offsets`)),
          connectors: [{
            name, 'connector.class': 'S3Sink', topics: topic, 's3.bucket.name': 'bench', 's3.region': 'us-east-1', 'store.url': server.url,
            'aws.access.key.id': 'S3RVER', 'aws.secret.access.key': 'S3RVER', 'topics.dir': name, 'format.class': format, 'flush.size': String(flushSize),
            'consumer.override.group.id': `bench-${name}`,
          }],
        });
        try {
          const deadline = Date.now() + TIMEOUT_MS;
          let keys: string[] = [];
          while ((keys = await server.listKeys('bench', `${name}/`)).length < objects) {
            if (Date.now() > deadline) throw new Error(`the ${format} sink wrote ${keys.length} of ${objects} objects within ${TIMEOUT_MS} ms`);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          const elapsedMs = performance.now() - started;
          let objectBytes = 0;
          for (const key of keys) objectBytes += (await server.getObject('bench', key)).length;
          return { bytesIn, elapsedMs: Math.round(elapsedMs), mbPerSec: mb(bytesIn, elapsedMs), objects: keys.length, objectBytes, objectMbPerSec: mb(objectBytes, elapsedMs) };
        } finally {
          await connect.close();
        }
      };
      const json = await sinkRun('json');
      const parquet = await sinkRun('parquet');
      // The baseline: the JSON run's objects, uploaded directly, one after the other.
      const body = Buffer.alloc(Math.round(json.objectBytes / json.objects), 0x61);
      const started = performance.now();
      for (let index = 0; index < objects; index++) {
        await server.client.send(new PutObjectCommand({ Bucket: 'bench', Key: `direct-${round}/${index}.json`, Body: body }));
      }
      const elapsedMs = performance.now() - started;
      const directUpload = { objects, bytes: body.length * objects, elapsedMs: Math.round(elapsedMs), mbPerSec: mb(body.length * objects, elapsedMs) };
      rounds.push({ round, directUpload, json, parquet });
      console.log(`round ${round}: direct upload ${directUpload.mbPerSec} MB/s; S3 sink JSON ${json.mbPerSec} MB/s in, ${json.objectMbPerSec} MB/s of objects (${(json.objectMbPerSec / directUpload.mbPerSec * 100).toFixed(1)}% of the direct upload); Parquet ${parquet.mbPerSec} MB/s in (objects ${(parquet.objectBytes / 1024 / 1024).toFixed(1)} MiB vs JSON ${(json.objectBytes / 1024 / 1024).toFixed(1)} MiB)`);
    }
  } finally {
    await server.stop();
  }
  return rounds;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-connectors-'));
  const setup = {
    ...machineBase(), tmpFileSystem: tmpFileSystem(), build: buildInfo(CLI), loadAverageAtStart: loadavg().map((value) => value.toFixed(2)).join(' '),
    rows: ROWS, partitions: PARTITIONS, rounds: ROUNDS,
  };
  console.log(JSON.stringify(setup));
  // The sink's consumer group would otherwise wait 3 s for its first assignment in every run.
  const broker = await startConveyor(join(work, 'broker'), undefined, ['--set', 'group.initial.rebalance.delay.ms=0']);
  const results: Record<string, unknown> = { setup };
  try {
    if (ONLY.has('pg-sink')) {
      const rounds = await pgSink(broker.bootstrap, work);
      results.pgSink = {
        rounds,
        medianInsertRatio: median(rounds.map((r) => r.insert.rowsPerSec / r.copy.rowsPerSec)),
        medianUpsertRatio: median(rounds.map((r) => r.upsert.rowsPerSec / r.copy.rowsPerSec)),
      };
      console.log(`pg-sink median: insert ${((results.pgSink as { medianInsertRatio: number }).medianInsertRatio * 100).toFixed(1)}% of COPY, upsert ${((results.pgSink as { medianUpsertRatio: number }).medianUpsertRatio * 100).toFixed(1)}% of COPY`);
    }
    if (ONLY.has('pg-cdc')) {
      const rounds = await pgCdc(broker.bootstrap, work);
      results.pgCdc = {
        rounds,
        medianSnapshotRowsPerSec: median(rounds.map((r) => r.snapshot.rowsPerSec)),
        medianStreamingRatio: median(rounds.map((r) => r.streaming.rowsPerSec / r.insert.rowsPerSec)),
      };
      console.log(`pg-cdc median: snapshot ${(results.pgCdc as { medianSnapshotRowsPerSec: number }).medianSnapshotRowsPerSec} rows/s, streaming ${((results.pgCdc as { medianStreamingRatio: number }).medianStreamingRatio * 100).toFixed(1)}% of the insert rate`);
    }
    if (ONLY.has('mariadb-cdc')) {
      const rounds = await mariadbCdc(broker.bootstrap, work);
      results.mariadbCdc = {
        rounds,
        medianSnapshotRowsPerSec: median(rounds.map((r) => r.snapshot.rowsPerSec)),
        medianStreamingRatio: median(rounds.map((r) => r.streaming.rowsPerSec / r.insert.rowsPerSec)),
      };
      console.log(`mariadb-cdc median: snapshot ${(results.mariadbCdc as { medianSnapshotRowsPerSec: number }).medianSnapshotRowsPerSec} rows/s, streaming ${((results.mariadbCdc as { medianStreamingRatio: number }).medianStreamingRatio * 100).toFixed(1)}% of the insert rate`);
    }
    if (ONLY.has('s3-sink')) {
      const rounds = await s3Sink(broker.bootstrap, work);
      results.s3Sink = {
        rounds,
        medianJsonMbPerSecIn: median(rounds.map((r) => r.json.mbPerSec)),
        medianParquetMbPerSecIn: median(rounds.map((r) => r.parquet.mbPerSec)),
        medianJsonObjectRatio: median(rounds.map((r) => r.json.objectMbPerSec / r.directUpload.mbPerSec)),
      };
      const summary = results.s3Sink as { medianJsonMbPerSecIn: number; medianParquetMbPerSecIn: number; medianJsonObjectRatio: number };
      console.log(`s3-sink median: JSON ${summary.medianJsonMbPerSecIn} MB/s in, its objects at ${(summary.medianJsonObjectRatio * 100).toFixed(1)}% of a direct upload's MB/s; Parquet ${summary.medianParquetMbPerSecIn} MB/s in`);
    }
  } finally {
    await stopServer(broker.server);
    rmSync(work, { recursive: true, force: true });
  }
  results.loadAverageAtEnd = loadavg().map((value) => value.toFixed(2)).join(' ');
  if (!flags['no-results']) {
    mkdirSync('bench/results', { recursive: true });
    const file = join('bench/results', `connectors-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`results: ${file}`);
  }
}

await main();
