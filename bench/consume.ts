// `npx tsx bench/consume.ts [runs]`: the consume-from-page-cache target on its own, on demand (not
// part of `npm run bench`). One broker (`conveyor start` in its own process, as bench/main.ts runs
// it) holds a 1-partition topic of 1 KiB records produced by kcat; then, `runs` times (default 3),
// the raw read limit (bench/raw-sink.ts `source` → bench/raw-client.ts `receive`, the same bytes
// the raw write produced), kcat -C with default settings and `conveyor perf consume`, back to back,
// so every ratio compares numbers from the same moment. Prints each run and the medians.
// CONSUME_RECORDS sets the record count (default 400,000 as bench/main.ts);
// CONSUME_BROKER_NODE_ARGS adds node options to the broker (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`);
// CONSUME_CLI runs another build of the CLI than bin/conveyor.js (for before/after comparisons).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePayload } from '../src/client/perf-batches.js';
import { CLI, createTopic, kcatConsume, kcatProduce } from './lib/conveyor.js';
import { MIB } from './lib/measurements.js';
import { freePort, run, startServer, stopServer, waitForPort } from './lib/processes.js';

const RECORD_SIZE = 1024;
const RECORDS = Number(process.env.CONSUME_RECORDS ?? 400_000);
const RUNS = Number(process.argv[2] ?? 3);
const BATCH_SIZE_BYTES = 256 * 1024;
const TIMEOUT_MS = 120_000;
const CLI_PATH = process.env.CONSUME_CLI ?? CLI;

interface Row {
  raw: number;
  kcat: number;
  perf: number;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-consume-'));
  const dataDir = join(work, 'data');
  const rawFile = join(work, 'raw.bin');
  const linesFile = join(work, 'records.txt');
  const line = Buffer.concat([makePayload(RECORD_SIZE), Buffer.from('\n')]);
  writeFileSync(linesFile, Buffer.concat(Array.from({ length: RECORDS }, () => line)));
  const port = await freePort();
  const nodeArgs = (process.env.CONSUME_BROKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const broker = startServer('conveyor', process.execPath, [...nodeArgs, CLI_PATH, 'start', '-p', String(port), '-d', dataDir, '--log-level', 'warn']);
  const rows: Row[] = [];
  try {
    await writeRaw(rawFile);
    await waitForPort(port, TIMEOUT_MS, undefined, broker);
    const bootstrap = `127.0.0.1:${port}`;
    const topic = 'consume-1024';
    await createTopic(bootstrap, topic, 1);
    await kcatProduce({ bootstrap, topic, recordSizeBytes: RECORD_SIZE, partitions: 1, acks: '1', records: RECORDS, inputFile: linesFile, batchSizeBytes: BATCH_SIZE_BYTES, lingerMs: 5 });
    for (let index = 0; index < RUNS; index++) {
      const raw = await readRaw(rawFile);
      const kcat = (await kcatConsume({ bootstrap, topic, recordSizeBytes: RECORD_SIZE, partitions: 1, records: RECORDS })).mbPerSec;
      const perf = await perfConsume(bootstrap, topic);
      rows.push({ raw, kcat, perf });
      print(`run ${index + 1}`, { raw, kcat, perf });
    }
  } finally {
    await stopServer(broker);
    rmSync(work, { recursive: true, force: true });
  }
  const median = (pick: (row: Row) => number) => rows.map(pick).sort((a, b) => a - b)[Math.floor(rows.length / 2)]!;
  print('median', { raw: median((r) => r.raw), kcat: median((r) => r.kcat), perf: median((r) => r.perf) });
  print('median of ratios', { raw: 1, kcat: median((r) => r.kcat / r.raw), perf: median((r) => r.perf / r.raw) }, true);
}

/** The raw write, only to make the file the raw read streams back (same records, perf batches). */
async function writeRaw(file: string): Promise<void> {
  const port = await freePort();
  const sink = startServer('raw sink', process.execPath, ['--import', 'tsx', 'bench/raw-sink.ts', 'sink', String(port), file]);
  try {
    await waitForPort(port, 30_000, undefined, sink);
    await run(process.execPath, ['--import', 'tsx', 'bench/raw-client.ts', 'send', String(port), String(RECORD_SIZE), String(RECORDS), String(BATCH_SIZE_BYTES)], TIMEOUT_MS);
  } finally {
    await stopServer(sink);
  }
}

/** `conveyor perf consume` with its default settings; MB/s from its own JSON report. */
async function perfConsume(bootstrap: string, topic: string): Promise<number> {
  const result = await run(process.execPath, [CLI_PATH, 'perf', 'consume', '-b', bootstrap, '--json', '-t', topic, '-n', String(RECORDS), '--duration-ms', '60000'], TIMEOUT_MS);
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.code !== 0 || !line.startsWith('{')) throw new Error(`perf consume failed (${result.code}): ${result.stderr.slice(-400)}`);
  const { records, elapsedMs } = JSON.parse(line) as { records: number; elapsedMs: number };
  if (records < RECORDS) throw new Error(`perf consume read ${records} of ${RECORDS} records`);
  return (records * RECORD_SIZE) / MIB / (elapsedMs / 1000);
}

async function readRaw(file: string): Promise<number> {
  const port = await freePort();
  const source = startServer('raw source', process.execPath, ['--import', 'tsx', 'bench/raw-sink.ts', 'source', String(port), file]);
  try {
    await waitForPort(port, 30_000, undefined, source);
    const received = await run(process.execPath, ['--import', 'tsx', 'bench/raw-client.ts', 'receive', String(port)], TIMEOUT_MS);
    const { elapsedMs } = JSON.parse(received.stdout.trim()) as { elapsedMs: number };
    return (RECORDS * RECORD_SIZE) / MIB / (elapsedMs / 1000);
  } finally {
    await stopServer(source);
  }
}

function print(label: string, row: Row, ratios = false): void {
  const format = (value: number) => (ratios ? `${(value * 100).toFixed(0)}%` : `${value.toFixed(1)} MB/s`);
  const share = ratios ? '' : ` (kcat ${((row.kcat / row.raw) * 100).toFixed(0)}%, perf ${((row.perf / row.raw) * 100).toFixed(0)}% of raw)`;
  process.stdout.write(`${label.padEnd(17)} raw ${format(row.raw)}  kcat ${format(row.kcat)}  perf ${format(row.perf)}${share}\n`);
}

await main();
