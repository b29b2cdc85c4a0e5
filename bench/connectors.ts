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
import { startPostgres } from '../test/support/postgres-server.js';
import { CLI, createTopic, startConveyor } from './lib/conveyor.js';
import { buildInfo, machineBase, tmpFileSystem } from './lib/machine.js';
import { run, stopServer } from './lib/processes.js';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    partitions: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string', default: 'pg-sink' },
    'no-results': { type: 'boolean', default: false },
  },
  strict: true,
});
const ROWS = positive('rows');
const PARTITIONS = positive('partitions');
const ROUNDS = positive('rounds');
const ONLY = new Set(flags.only!.split(','));
const TIMEOUT_MS = 300_000;

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
          worker: {
            'bootstrap.servers': bootstrap,
            'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
            'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
            'offset.storage.file.filename': join(work, `${table}.offsets`),
            listeners: 'http://127.0.0.1:0',
          },
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
