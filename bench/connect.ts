// On-demand benchmark of Kafka Connect (issue 19; not part of `npm run bench`): `npm run
// bench:connect` (= `npx tsx bench/connect.ts`), after `npm run build` (the broker and the perf tool
// are the CLI build). One `conveyor start` broker in its own process, default settings except
// group.initial.rebalance.delay.ms (below), data under /tmp; then, in each of --rounds rounds on
// that broker, one after the other:
//
// 1. The baseline: `conveyor perf produce` (--acks all, as Connect's source producer sends) of
//    --records records of --record-size bytes into a new topic, then `conveyor perf consume` of that
//    topic from the beginning; each tool's own timing (its --json result).
// 2. Connect: a file of --records lines, each --record-size bytes before its newline (each line
//    starts with its number, so a reordering shows), read by FileStreamSource into a new topic and
//    written out by FileStreamSink, in a standalone worker started in this process
//    (`startConnect()`, StringConverter for keys and values). Timed from the call to startConnect()
//    until the output file is as long as the input; then the output is checked to be byte-equal to
//    the input and the topic to end at offset --records (nothing lost, nothing written twice). The
//    start-up (to the first line in the output file) is reported beside it, and the rate after it.
//
// The ratio: Connect's records/s to the baseline's, the slower of perf produce and perf consume (a
// pipeline goes no faster than its slower half), per round and as the median of the rounds. Beside
// each run, the CPU time of the broker process and of this process (the worker; this process does
// nothing else during a Connect run but poll the output file's size every 5 ms) and this process's
// event-loop utilisation, which tells whether the worker was busy or waiting.
//
// The broker runs with group.initial.rebalance.delay.ms=0 (Kafka's config/server.properties for
// development sets the same): at the default 3000 the sink's consumer group waits 3 s for its
// first assignment, which at these sizes would be most of what is measured.
//
// `sync` runs before every load, so no load pays for the writeback of an earlier one. The broker
// listens on 127.0.0.1 and is stopped by its pid at the end, also on failure or Ctrl-C; every load
// has a time limit. Writes bench/results/connect-<date>.json and prints the setup and a table.
//
// Flags (defaults in brackets): --records [200000], --record-size [100], --batch-size [2000:
// FileStreamSource's batch.size, Kafka's default], --flush-interval-ms [10000: offset.flush.interval.ms,
// as in Kafka's quick-start connect-standalone.properties], --rounds [3], --partitions [1],
// --perf-batch-size [262144] and --linger-ms [5] (the perf producer's, as in `npm run bench`),
// --group-initial-rebalance-delay-ms [0] (the broker's), --timeout-ms [120000] per Connect run,
// --worker [head: src/connect/runtime/start-connect.ts as committed at HEAD (git archive), bundled
// by esbuild at the start of the run as the CLI is bundled; tree: the working tree's, bundled; tsx:
// the working tree's through tsx, whose keepNames cost the worker about 15% here; a directory:
// the src/ in it, bundled, e.g. a worktree with a change to compare],
// --cpu-prof-dir <dir> (a V8 CPU profile of this process over each Connect run, from start to the
// last line, one file per round; `npx tsx bench/profile-summary.ts <file>` reads it; with a bundled
// worker its lines are the bundle's, copied beside the profiles), --no-results (print
// only, write no JSON). CONVEYOR_CLI names another build of the CLI (default bin/conveyor.js, which
// runs dist/; a bundle older than the last commit to src/ is reported as a problem).
import { execFileSync } from 'node:child_process';
import { build as esbuild } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { makePayload } from '../src/client/perf-batches.js';
import { LATEST_TIMESTAMP, listOffsets } from '../src/client/perf-topics.js';
import { PipelinedConnection } from '../src/client/pipelined-connection.js';
import type { startConnect as StartConnect } from '../src/connect/runtime/start-connect.js';
import { connectTcp } from '../src/node/tcp-byte-stream.js';
import { answersApiVersions, createTopic, perfTool } from './lib/conveyor.js';
import { MIB } from './lib/measurements.js';
import { freePort, run, type Server, startServer, stopServer, waitForPort } from './lib/processes.js';
import { buildInfo, machineBase, tmpFileSystem } from './lib/machine.js';

const { values: flags } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    'record-size': { type: 'string', default: '100' },
    'batch-size': { type: 'string', default: '2000' },
    'flush-interval-ms': { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    partitions: { type: 'string', default: '1' },
    'perf-batch-size': { type: 'string', default: String(256 * 1024) },
    'linger-ms': { type: 'string', default: '5' },
    'timeout-ms': { type: 'string', default: '120000' },
    'group-initial-rebalance-delay-ms': { type: 'string', default: '0' },
    'cpu-prof-dir': { type: 'string' },
    worker: { type: 'string', default: 'head' },
    'no-results': { type: 'boolean', default: false },
  },
  strict: true,
});

const CLI = process.env.CONVEYOR_CLI ?? 'bin/conveyor.js';
const RECORDS = positive('records');
const RECORD_BYTES = positive('record-size');
const SOURCE_BATCH_SIZE = positive('batch-size');
const FLUSH_INTERVAL_MS = positive('flush-interval-ms');
const ROUNDS = positive('rounds');
const PARTITIONS = positive('partitions');
const PERF_BATCH_BYTES = positive('perf-batch-size');
const LINGER_MS = Number(flags['linger-ms']);
const CONNECT_TIMEOUT_MS = positive('timeout-ms');
const CPU_PROF_DIR = flags['cpu-prof-dir'];
/** The broker's group.initial.rebalance.delay.ms: the sink's group waits this long before its first assignment. */
const REBALANCE_DELAY_MS = Number(flags['group-initial-rebalance-delay-ms']);
if (!Number.isInteger(REBALANCE_DELAY_MS) || REBALANCE_DELAY_MS < 0) throw new Error(`--group-initial-rebalance-delay-ms: 0 or more, not '${flags['group-initial-rebalance-delay-ms']}'`);
/** head: src/ as committed at HEAD, bundled by esbuild as the CLI is; tree: the working tree's src/, bundled; tsx: the working tree's src/ through tsx; anything else: a directory with a src/ (another worktree), bundled. */
const WORKER_CODE = flags.worker!;
if (!['head', 'tree', 'tsx'].includes(WORKER_CODE) && !existsSync(join(WORKER_CODE, 'src', 'connect', 'runtime', 'start-connect.ts'))) {
  throw new Error(`--worker: 'head', 'tree', 'tsx' or a directory holding src/connect/runtime/start-connect.ts, not '${WORKER_CODE}'`);
}
/** The bundle lives inside the project so that its packages (fastify, ...) resolve from node_modules. */
const WORKER_BUNDLE = resolve('node_modules', '.cache', 'bench-connect', `start-connect-${process.pid}.mjs`);
/** How often the output file's size is looked at while the pipeline runs. */
const POLL_OUTPUT_MS = 5;
const PERF_TIMEOUT_MS = 120_000;

function positive(name: keyof typeof flags): number {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name}: a positive integer, not '${String(flags[name])}'`);
  return value;
}

interface Rate {
  records: number;
  elapsedMs: number;
  recordsPerSec: number;
  mbPerSec: number;
}

interface ConnectRun extends Rate {
  /** startConnect() to its promise resolving (REST up, connectors created). */
  workerStartMs: number;
  /** startConnect() to the first byte in the output file. */
  firstLineMs: number;
  /** Records/s from the first byte in the output file to the last. */
  afterFirstLineRecordsPerSec: number;
  /** CPU time of this process (the worker) and of the broker during the run. */
  workerCpuMs: number;
  brokerCpuMs: number;
  /** Share of the run this process's event loop was busy (0-1). */
  eventLoopUtilization: number;
  profile?: string | undefined;
}

interface Round {
  round: number;
  perfProduce: Rate & { brokerCpuMs: number };
  perfConsume: Rate & { brokerCpuMs: number };
  connect: ConnectRun;
  /** Connect's records/s over the slower of perf produce and perf consume in this round. */
  ratio: number;
  loadAverage: number[];
}

let broker: { server: Server; dataDir: string; bootstrap: string } | undefined;
const cleanups: string[] = [];
const problems: string[] = [];

function log(message: string): void {
  process.stderr.write(`[bench:connect] ${message}\n`);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-connect-'));
  cleanups.push(work);
  const setup = {
    machine: machine(),
    build: build(),
    records: RECORDS,
    recordSizeBytes: RECORD_BYTES,
    partitions: PARTITIONS,
    perf: { acks: 'all', 'batch.size': PERF_BATCH_BYTES, 'linger.ms': LINGER_MS, compression: 'none' },
    connect: {
      worker: 'standalone, in the bench process (startConnect)',
      'key.converter': 'StringConverter',
      'value.converter': 'StringConverter',
      'offset.flush.interval.ms': FLUSH_INTERVAL_MS,
      'FileStreamSource batch.size': SOURCE_BATCH_SIZE,
      'tasks.max': 1,
    },
    broker: `${CLI} start, default settings but group.initial.rebalance.delay.ms=${REBALANCE_DELAY_MS}, data under ${tmpdir()}`,
  };
  log(`${RECORDS} records of ${RECORD_BYTES} B, ${ROUNDS} rounds, FileStreamSource batch.size ${SOURCE_BATCH_SIZE}, offset.flush.interval.ms ${FLUSH_INTERVAL_MS}`);
  startConnect = await loadWorker(work);
  const input = join(work, 'input.txt');
  writeInput(input);
  const inputBytes = readFileSync(input);
  broker = await startBroker(work);
  const rounds: Round[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    log(`round ${round}: perf produce`);
    const perfTopic = `perf-${round}`;
    await createTopic(broker.bootstrap, perfTopic, PARTITIONS);
    await settleWrites();
    const perfProduce = await withBrokerCpu(async () => {
      const result = await perfTool('produce', broker!.bootstrap, ['-t', perfTopic, '-n', String(RECORDS), '--record-size', String(RECORD_BYTES), '--acks', 'all',
        '--batch-size', String(PERF_BATCH_BYTES), '--linger-ms', String(LINGER_MS), '--duration-ms', String(PERF_TIMEOUT_MS - 10_000)]);
      return rate(result.records, result.elapsedMs);
    });
    if (perfProduce.records !== RECORDS) problems.push(`round ${round}: perf produce sent ${perfProduce.records} of ${RECORDS} records`);
    log(`round ${round}: perf consume`);
    await settleWrites();
    const perfConsume = await withBrokerCpu(async () => {
      const result = await perfTool('consume', broker!.bootstrap, ['-t', perfTopic, '-n', String(RECORDS), '--duration-ms', String(PERF_TIMEOUT_MS - 10_000)]);
      return rate(result.records, result.elapsedMs);
    });
    if (perfConsume.records !== RECORDS) problems.push(`round ${round}: perf consume read ${perfConsume.records} of ${RECORDS} records`);
    log(`round ${round}: connect`);
    const connect = await connectRun(work, round, input, inputBytes);
    const baseline = Math.min(perfProduce.recordsPerSec, perfConsume.recordsPerSec);
    rounds.push({ round, perfProduce, perfConsume, connect, ratio: connect.recordsPerSec / baseline, loadAverage: loadavg().map((value) => Math.round(value * 100) / 100) });
    log(`round ${round}: perf produce ${fmt(perfProduce.recordsPerSec)} rec/s, perf consume ${fmt(perfConsume.recordsPerSec)} rec/s, connect ${fmt(connect.recordsPerSec)} rec/s (${pct(connect.recordsPerSec / baseline)} of the slower)`);
  }
  const summary = {
    perfProduceRecordsPerSec: median(rounds.map((entry) => entry.perfProduce.recordsPerSec)),
    perfConsumeRecordsPerSec: median(rounds.map((entry) => entry.perfConsume.recordsPerSec)),
    connectRecordsPerSec: median(rounds.map((entry) => entry.connect.recordsPerSec)),
    connectMbPerSec: median(rounds.map((entry) => entry.connect.mbPerSec)),
    medianRoundRatio: median(rounds.map((entry) => entry.ratio)),
  };
  const result = { date: new Date().toISOString(), setup, rounds, summary, problems };
  process.stdout.write(report(result));
  if (!flags['no-results']) {
    const file = join('bench', 'results', `connect-${result.date.slice(0, 19).replace(/:/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${file}`);
  }
}

let startConnect: typeof StartConnect;

/**
 * startConnect() from src/. By default the sources as committed at HEAD (others may be editing the
 * working tree while this runs), bundled with esbuild as scripts/bundle-cli.mjs bundles the CLI,
 * the code `conveyor connect` runs; not through tsx, whose keepNames adds a call that names every
 * closure made, and the worker makes a few per record.
 */
async function loadWorker(work: string): Promise<typeof StartConnect> {
  const relativeEntry = join('src', 'connect', 'runtime', 'start-connect.ts');
  if (WORKER_CODE === 'tsx') return ((await import(resolve(relativeEntry))) as { startConnect: typeof StartConnect }).startConnect;
  let root = resolve(WORKER_CODE === 'tree' ? '.' : WORKER_CODE);
  if (WORKER_CODE === 'head') {
    root = join(work, 'head');
    mkdirSync(root);
    execFileSync('sh', ['-c', `git archive --format=tar HEAD src tsconfig.json | tar -x -C '${root}'`], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  mkdirSync(resolve(WORKER_BUNDLE, '..'), { recursive: true });
  cleanups.push(WORKER_BUNDLE);
  await esbuild({ entryPoints: [join(root, relativeEntry)], outfile: WORKER_BUNDLE, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning' });
  return ((await import(WORKER_BUNDLE)) as { startConnect: typeof StartConnect }).startConnect;
}

/** The input: RECORDS lines of RECORD_BYTES bytes each (A-Z, numbered at the front) and a newline. */
function writeInput(file: string): void {
  const line = RECORD_BYTES + 1;
  const out = Buffer.allocUnsafe(RECORDS * line);
  const template = makePayload(RECORD_BYTES);
  const digits = Math.min(RECORD_BYTES, 10);
  for (let index = 0; index < RECORDS; index++) {
    const at = index * line;
    template.copy(out, at);
    out.write(String(index % 10 ** digits).padStart(digits, '0'), at, 'latin1');
    out[at + RECORD_BYTES] = 0x0a;
  }
  writeFileSync(file, out);
}

async function startBroker(work: string): Promise<{ server: Server; dataDir: string; bootstrap: string }> {
  const port = await freePort();
  const dataDir = join(work, 'broker-data');
  const server = startServer('conveyor', process.execPath, [CLI, 'start', '-p', String(port), '-d', dataDir, '--log-level', 'warn', '-s', `group.initial.rebalance.delay.ms=${REBALANCE_DELAY_MS}`]);
  await waitForPort(port, 120_000, performance.now(), server, answersApiVersions);
  return { server, dataDir, bootstrap: `127.0.0.1:${port}` };
}

/** One pipeline: worker start to the output file holding every line; checked byte-equal and by the topic's end offset. */
async function connectRun(work: string, round: number, input: string, inputBytes: Buffer): Promise<ConnectRun> {
  const topic = `connect-${round}`;
  const output = join(work, `output-${round}.txt`);
  await createTopic(broker!.bootstrap, topic, PARTITIONS);
  await settleWrites();
  const worker = {
    'bootstrap.servers': broker!.bootstrap,
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'offset.storage.file.filename': join(work, `connect-${round}.offsets`),
    'offset.flush.interval.ms': String(FLUSH_INTERVAL_MS),
    listeners: 'http://127.0.0.1:0',
  };
  const connectors: Record<string, string>[] = [
    { name: `bench-file-source-${round}`, 'connector.class': 'FileStreamSource', 'tasks.max': '1', file: input, topic, 'batch.size': String(SOURCE_BATCH_SIZE) },
    { name: `bench-file-sink-${round}`, 'connector.class': 'FileStreamSink', 'tasks.max': '1', file: output, topics: topic },
  ];
  const profiler = CPU_PROF_DIR ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const brokerCpuBefore = cpuMs(broker!.server.pid);
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  const started = performance.now();
  const running = await startConnect({ worker, connectors, logLevel: 'warn' });
  const workerStartMs = performance.now() - started;
  let firstLineMs = 0;
  let elapsedMs = 0;
  let profile: string | undefined;
  const cpu = { workerCpuMs: 0, brokerCpuMs: 0, eventLoopUtilization: 0 };
  try {
    for (;;) {
      const size = await stat(output).then((info) => info.size, () => 0);
      const now = performance.now() - started;
      if (size > 0 && firstLineMs === 0) firstLineMs = now;
      if (size >= inputBytes.length) {
        elapsedMs = now;
        break;
      }
      if (now > CONNECT_TIMEOUT_MS) throw new Error(`round ${round}: the output file has ${size} of ${inputBytes.length} bytes after ${CONNECT_TIMEOUT_MS} ms`);
      await new Promise((resolveWait) => setTimeout(resolveWait, POLL_OUTPUT_MS));
    }
  } finally {
    const used = process.cpuUsage(cpuBefore);
    cpu.workerCpuMs = (used.user + used.system) / 1000;
    cpu.eventLoopUtilization = performance.eventLoopUtilization(eluBefore).utilization;
    cpu.brokerCpuMs = cpuMs(broker!.server.pid) - brokerCpuBefore;
    if (profiler) {
      const { profile: taken } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      mkdirSync(CPU_PROF_DIR!, { recursive: true });
      profile = join(CPU_PROF_DIR!, `connect-round${round}-${process.pid}.cpuprofile`);
      writeFileSync(profile, JSON.stringify(taken));
    }
    await running.close();
  }
  const written = await readFile(output);
  if (!written.equals(inputBytes)) throw new Error(`round ${round}: the output file (${written.length} bytes) differs from the input (${inputBytes.length} bytes)`);
  const end = await endOffsets(topic);
  if (end !== RECORDS) throw new Error(`round ${round}: topic ${topic} ends at ${end} records, not ${RECORDS}`);
  rmSync(output, { force: true });
  const afterFirst = elapsedMs - firstLineMs;
  return {
    ...rate(RECORDS, elapsedMs),
    workerStartMs,
    firstLineMs,
    afterFirstLineRecordsPerSec: afterFirst > 0 ? RECORDS / (afterFirst / 1000) : Number.NaN,
    ...cpu,
    profile,
  };
}

/** The sum of the topic's partitions' end offsets. */
async function endOffsets(topic: string): Promise<number> {
  const connection = await PipelinedConnection.open(connectTcp, broker!.bootstrap);
  try {
    const offsets = await listOffsets(connection, topic, [...Array(PARTITIONS).keys()], LATEST_TIMESTAMP);
    return [...offsets.values()].reduce((sum, offset) => sum + offset, 0);
  } finally {
    connection.close();
  }
}

async function withBrokerCpu(load: () => Promise<Rate>): Promise<Rate & { brokerCpuMs: number }> {
  const before = cpuMs(broker!.server.pid);
  const measured = await load();
  return { ...measured, brokerCpuMs: cpuMs(broker!.server.pid) - before };
}

function rate(records: number, elapsedMs: number): Rate {
  const recordsPerSec = records / (Math.max(elapsedMs, 1) / 1000);
  return { records, elapsedMs, recordsPerSec, mbPerSec: (recordsPerSec * RECORD_BYTES) / MIB };
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User plus system CPU time of a process and all its threads so far, from /proc. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

async function settleWrites(): Promise<void> {
  const result = await run('sync', [], 600_000);
  if (result.code !== 0) throw new Error(`sync failed: ${result.stderr.slice(-200)}`);
}

function report(result: { date: string; setup: Record<string, unknown> & { machine: Record<string, string>; build: Record<string, string> }; rounds: Round[]; summary: Record<string, number>; problems: string[] }): string {
  const { setup, rounds, summary } = result;
  const lines = [
    '',
    `Kafka Connect: FileStreamSource → topic → FileStreamSink, ${result.date}`,
    '',
    'Setup:',
    ...Object.entries(setup.machine).map(([key, value]) => `- ${key}: ${value}`),
    ...Object.entries(setup.build).map(([key, value]) => `- ${key}: ${value}`),
    `- records: ${RECORDS} × ${RECORD_BYTES} B (${((RECORDS * RECORD_BYTES) / MIB).toFixed(1)} MiB of payload), ${PARTITIONS} partition(s), ${ROUNDS} round(s)`,
    `- perf: conveyor perf produce --acks all --batch-size ${PERF_BATCH_BYTES} --linger-ms ${LINGER_MS}; conveyor perf consume (defaults)`,
    `- connect: standalone worker in the bench process, StringConverter, FileStreamSource batch.size ${SOURCE_BATCH_SIZE}, offset.flush.interval.ms ${FLUSH_INTERVAL_MS}, tasks.max 1`,
    `- broker: ${String(setup.broker)}`,
    '',
    '| round | perf produce rec/s (MB/s) | perf consume rec/s (MB/s) | connect rec/s (MB/s) | connect / slower perf | worker start, first line (ms) | rec/s after first line | worker CPU, event loop busy | broker CPU (ms): produce / consume / connect | load avg |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rounds.map((entry) => `| ${entry.round} | ${fmt(entry.perfProduce.recordsPerSec)} (${entry.perfProduce.mbPerSec.toFixed(1)}) in ${seconds(entry.perfProduce)} | ${fmt(entry.perfConsume.recordsPerSec)} (${entry.perfConsume.mbPerSec.toFixed(1)}) in ${seconds(entry.perfConsume)} | `
      + `${fmt(entry.connect.recordsPerSec)} (${entry.connect.mbPerSec.toFixed(2)}) in ${seconds(entry.connect)} | ${pct(entry.ratio)} | ${entry.connect.workerStartMs.toFixed(0)}, ${entry.connect.firstLineMs.toFixed(0)} | `
      + `${fmt(entry.connect.afterFirstLineRecordsPerSec)} | ${pct(entry.connect.workerCpuMs / entry.connect.elapsedMs)} of a core, ${pct(entry.connect.eventLoopUtilization)} | `
      + `${entry.perfProduce.brokerCpuMs.toFixed(0)} / ${entry.perfConsume.brokerCpuMs.toFixed(0)} / ${entry.connect.brokerCpuMs.toFixed(0)} | ${entry.loadAverage.join(' ')} |`),
    '',
    `Medians: perf produce ${fmt(summary.perfProduceRecordsPerSec!)} rec/s, perf consume ${fmt(summary.perfConsumeRecordsPerSec!)} rec/s, connect ${fmt(summary.connectRecordsPerSec!)} rec/s = ${summary.connectMbPerSec!.toFixed(2)} MB/s; `
      + `connect / slower perf, median of the rounds: ${pct(summary.medianRoundRatio!)}`,
    ...rounds.flatMap((entry) => (entry.connect.profile ? [`CPU profile, round ${entry.round}: ${entry.connect.profile}`] : [])),
    ...(result.problems.length > 0 ? ['', 'Problems:', ...result.problems.map((problem) => `- ${problem}`)] : []),
    '',
  ];
  return lines.join('\n');
}

function machine(): Record<string, string> {
  return { ...machineBase(), filesystem: tmpFileSystem() };
}

/** The commit and the CLI build the broker and perf tool run; a bundle older than the last commit to src/ is noted. */
function build(): Record<string, string> {
  const info = buildInfo(CLI);
  if (info.staleSince) {
    problems.push(`dist/cli/conveyor.js (${info.bundleTime}, the broker and perf tool) is older than the last commit to src/ (${info.staleSince}): run npm run build (the worker is bundled from the sources at this run)`);
  }
  return {
    commit: info.commit,
    uncommittedSourceFiles: info.uncommittedSourceFiles,
    'broker and perf tool': `${resolve(CLI)} (bundle built ${info.bundleTime})`,
    worker: { head: 'src/ as committed at HEAD, bundled by esbuild', tree: 'the working tree\'s src/, bundled by esbuild', tsx: 'the working tree\'s src/ through tsx' }[WORKER_CODE] ?? `${resolve(WORKER_CODE)}/src, bundled by esbuild`,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function fmt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
}

function seconds(measured: Rate): string {
  return `${(measured.elapsedMs / 1000).toFixed(2)} s`;
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

async function cleanUp(): Promise<void> {
  if (CPU_PROF_DIR && WORKER_CODE !== 'tsx' && existsSync(WORKER_BUNDLE) && existsSync(CPU_PROF_DIR)) copyFileSync(WORKER_BUNDLE, join(CPU_PROF_DIR, basename(WORKER_BUNDLE)));
  if (broker) await stopServer(broker.server).catch((error: unknown) => log(`stopping the broker (pid ${broker!.server.pid}): ${String(error)}`));
  for (const dir of cleanups) rmSync(dir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the broker`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await cleanUp();
}
