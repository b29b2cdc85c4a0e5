// docs/connect.md's worked example for the PostgreSQL sink, run as written through the conveyor
// command line: its worker.properties and sensors-to-postgres.properties blocks and its shell
// lines are read from the document itself, with only the addresses changed (a broker and a
// PostgreSQL on free ports instead of localhost:9092 and localhost:5432). The CLI runs from source
// (test/support/crash-cli-entry.ts, the same run() bin/conveyor.js calls on dist/) so that a stale
// build cannot hide a change. The row the document shows must appear, and the tombstone delete it.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runProcess } from '../support/process.js';
import { type PostgresServer, postgresUnavailable, startPostgres } from '../support/postgres-server.js';
import { type TestBroker, startTestBroker, temporaryDirectory, waitFor } from '../integration/helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI_ENTRY = fileURLToPath(new URL('../support/crash-cli-entry.ts', import.meta.url));

/** The fenced block of docs/connect.md whose first line is `firstLine`. */
function fencedBlock(doc: string, firstLine: string): string {
  const start = doc.indexOf(`\n${firstLine}\n`);
  assert.ok(start >= 0, `docs/connect.md has a block starting with ${firstLine}`);
  return doc.slice(start + 1, doc.indexOf('\n```', start));
}

/** The shell block that follows `after` in docs/connect.md. */
function shellBlockAfter(doc: string, after: string): string {
  const start = doc.indexOf('```sh\n', doc.indexOf(after));
  return doc.slice(start + '```sh\n'.length, doc.indexOf('\n```', start));
}

function properties(block: string, overrides: Record<string, string>): string {
  const lines = block.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  const entries = new Map(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  for (const [key, value] of Object.entries(overrides)) {
    assert.ok(entries.has(key), `the documented block sets ${key}`);
    entries.set(key, value);
  }
  return [...entries].map(([key, value]) => `${key}=${value}\n`).join('');
}

describe('docs/connect.md worked examples through the CLI', { skip: postgresUnavailable() }, () => {
  let postgres: PostgresServer;
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let worker: ChildProcess | undefined;

  before(async () => {
    [postgres, broker, dir] = await Promise.all([startPostgres(), startTestBroker(), temporaryDirectory()]);
  });
  after(async () => {
    if (worker?.pid !== undefined && worker.exitCode === null && worker.signalCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      process.kill(worker.pid, 'SIGTERM');
      await exited;
    }
    await postgres?.stop();
    await broker?.close();
    await dir?.remove();
  });

  it('PostgreSQL sink: the documented record becomes the documented row, and its tombstone deletes it', async () => {
    const doc = await readFile(join(ROOT, 'docs/connect.md'), 'utf8');
    const bootstrap = broker.running.bootstrapServers;
    const admin = new pg.Client({ connectionString: postgres.url() });
    await admin.connect();
    await admin.query(`CREATE ROLE conveyor LOGIN PASSWORD 'secret'`);
    await admin.query('CREATE DATABASE metrics OWNER conveyor');
    await admin.end();

    const workerFile = join(dir.path, 'worker.properties');
    const connectorFile = join(dir.path, 'sensors-to-postgres.properties');
    await writeFile(workerFile, properties(fencedBlock(doc, '# worker.properties'), {
      'bootstrap.servers': bootstrap,
      'offset.storage.file.filename': join(dir.path, 'connect.offsets'),
      listeners: 'http://127.0.0.1:0',
    }));
    const connector = fencedBlock(doc, '# sensors-to-postgres.properties');
    await writeFile(connectorFile, properties(connector, {
      'connection.url': connector.match(/^connection\.url=(.*)$/m)![1]!.replace('localhost:5432', `${postgres.host}:${postgres.port}`),
    }));

    // The shell lines, with `conveyor` a function running the CLI against this test's broker; the
    // worker is started by the test (to stop it by its pid), and psql is replaced by the query below.
    const shell = shellBlockAfter(doc, '# sensors-to-postgres.properties');
    const lines = shell.split('\n');
    const standalone = lines.find((line) => line.startsWith('conveyor connect standalone '));
    assert.equal(standalone, 'conveyor connect standalone worker.properties sensors-to-postgres.properties &');
    const conveyor = `conveyor() { "${process.execPath}" --import tsx "${CLI_ENTRY}" "$@"; }\n`;
    const withBootstrap = (line: string) => line.replace(/conveyor (topics create|produce) (.*?)(\s+#.*)?$/, `conveyor $1 $2 --bootstrap-server ${bootstrap}`);
    const sh = async (script: string) => {
      const run = await runProcess('sh', ['-c', conveyor + script], { timeoutMs: 60_000, env: { ...process.env } });
      assert.equal(run.code, 0, `${script}\n${run.stderr}`);
    };
    const produceStart = lines.findIndex((line) => line.startsWith('S='));
    const produceEnd = lines.findIndex((line) => line.includes('| conveyor produce sensor-readings'));
    const tombstone = lines.find((line) => line.includes('--null-marker NULL'))!;
    const keyLine = lines.find((line) => line.startsWith('K='))!;

    await sh(withBootstrap(lines[0]!));
    worker = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'connect', 'standalone', workerFile, connectorFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let workerLog = '';
    worker.stderr!.on('data', (chunk: Buffer) => { workerLog = (workerLog + chunk.toString()).slice(-4000); });
    await sh(lines.slice(produceStart, produceEnd + 1).map(withBootstrap).join('\n'));

    const metrics = new pg.Client({ connectionString: postgres.url('metrics') });
    await metrics.connect();
    try {
      const rows = async () => {
        try {
          return (await metrics.query('SELECT sensor_id, temperature, humidity, measured_at::text AS measured_at FROM "sensor-readings"')).rows;
        } catch {
          return []; // the table is created with the first record
        }
      };
      const written = await waitFor(async () => {
        const got = await rows();
        return got.length > 0 && got;
      }, 'the documented row', 60_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${workerLog}`);
      });
      // The row the document shows under its psql line (a header line, then the row).
      const psql = lines.findIndex((line) => line.startsWith('psql '));
      const cells = (line: string) => line.replace(/^#/, '').split('|').map((cell) => cell.trim());
      const shown = Object.fromEntries(cells(lines[psql + 1]!).map((column, index) => [column, cells(lines[psql + 2]!)[index]]));
      assert.deepEqual(shown, { sensor_id: 'greenhouse-1', temperature: '21.5', humidity: '0.61', measured_at: '2024-06-01 10:00:00' }, 'the documented psql output');
      assert.deepEqual(written.map((row) => ({ ...row, temperature: String(row.temperature), humidity: String(row.humidity) })), [shown]);
      await sh(`${keyLine}\n${withBootstrap(tombstone)}`);
      await waitFor(async () => (await rows()).length === 0, 'the tombstone to delete the row', 30_000);
    } finally {
      await metrics.end();
    }
  });
});
