// On-demand benchmark of the broker's Prometheus metrics (issue 21: "metrics collection costs under
// 2% of produce throughput"; not part of `npm run bench`): `npm run bench:metrics` (= `npx tsx
// bench/metrics.ts`), after `npm run build`; BENCH_QUICK=1 for a smoke run of about a minute.
//
// Two `conveyor start` processes, identical but for `metrics.listeners=http://127.0.0.1:<port>` on
// one of them, a new pair for every round (which of the two starts first, and which is loaded
// first, alternate so that four rounds cover every combination; each broker takes three unmeasured
// loads of each shape first, as a new process is cold). While the metrics broker takes a
// load, the bench scrapes its GET /metrics every second, as Prometheus would with a 1 s interval
// (each scrape must answer 200 with the broker's counters), and after the load one more scrape
// must count exactly the records produced to the load's topic: the counting was on. kcat
// (librdkafka) produces to each broker in turn, in two shapes: large batches (batch.size 256 KiB,
// linger 5 ms) and small requests (one record per request, linger 0), where a per-request cost
// shows most.
// Every record is 1 KiB (the perf tool's payload, one per line), one partition, acks=1, no
// compression, no idempotence; each load writes a new topic, whose end offset is checked after the
// load and which is deleted then (so the disk does not fill over the rounds); `sync` runs before
// each load so that none pays for the writeback of an earlier one. Beside each load's throughput,
// the broker process's CPU time per MiB (from /proc, all its threads, scrapes included), which the
// machine's other work moves less than throughput.
//
// Every broker listens on 127.0.0.1 and is stopped by its pid at the end, also on failure or
// Ctrl-C; every load has a time limit, and so has the whole run. Writes
// bench/results/metrics-<date>[-control][-quick].json and prints a table.
//
// Knobs: CONVEYOR_CLI names another build of the CLI (default bin/conveyor.js, which runs dist/; a
// dist older than the last commit to src/ is reported as a problem); ROUNDS sets the round count;
// BROKER_NODE_ARGS passes node options to both brokers, after the heap flag `npm start` gives a
// broker (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": profiles are written as the brokers stop,
// named by pid, which the log gives); METRICS_CONTROL=1
// starts both brokers without metrics (nothing scraped), an A/A run that shows how far two
// identical brokers measure apart on this machine at this moment (result file -control);
// HEAP_FLAG_COMPARE=1 starts both without metrics, one with the heap flag `npm start` gives a
// broker and one with node's default heap, which measures what that flag is worth (-heap).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AdminClient } from '../src/client/admin-client.js';
import { ClusterClient } from '../src/client/cluster-client.js';
import { makePayload } from '../src/client/perf-batches.js';
import { LATEST_TIMESTAMP, listOffsets } from '../src/client/perf-topics.js';
import { PipelinedConnection } from '../src/client/pipelined-connection.js';
import { connectTcp } from '../src/node/tcp-byte-stream.js';
import { answersApiVersions, BROKER_NODE_FLAGS, createTopic } from './lib/conveyor.js';
import { buildInfo, commandLines, machineBase, tmpFileSystem } from './lib/machine.js';
import { MIB, type PairedRound, type Throughput, throughputOf } from './lib/measurements.js';
import { freePort, rssMiB, run, type Server, startServer, stopServer, waitForPort } from './lib/processes.js';

const QUICK = process.env.BENCH_QUICK === '1';
const CLI = process.env.CONVEYOR_CLI ?? 'bin/conveyor.js';
/** A 2% difference is far inside one round's noise on a shared machine: many short rounds, judged on their median; a multiple of 4 covers the start and load orders evenly. */
const ROUNDS = Number(process.env.ROUNDS ?? (QUICK ? 4 : 12));
/**
 * What the pair differs in: metrics (the default); nothing (METRICS_CONTROL=1, an A/A run: the
 * 'metrics' broker started without metrics and not scraped); or the heap flag `npm start` gives
 * a broker (HEAP_FLAG_COMPARE=1: neither has metrics, one runs with BROKER_NODE_FLAGS and one
 * with node's default heap, result file -heap).
 */
const MODE: 'metrics' | 'control' | 'heap' = process.env.HEAP_FLAG_COMPARE === '1' ? 'heap' : process.env.METRICS_CONTROL === '1' ? 'control' : 'metrics';
const CONTROL = MODE === 'control';
const FLAGS = BROKER_NODE_FLAGS.join(' ');
/** How each mode names its two brokers (ON, OFF) and itself: in the log, the targets, the result file and the table. */
const WORDING = {
  metrics: { on: 'metrics', off: 'no-metrics', run: '', heading: '', fileSuffix: '', target: 'metrics', wanted: 'under 2% slower (median round ratio > 98%)', onColumn: 'with metrics', offColumn: 'without' },
  control: { on: 'metrics', off: 'no-metrics', run: ' (A/A control)', heading: ' — A/A control: neither broker has metrics', fileSuffix: '-control', target: 'metrics (A/A control: no metrics on either)', wanted: 'under 2% slower (median round ratio > 98%)', onColumn: 'broker A (no metrics)', offColumn: 'without' },
  heap: { on: 'heap-flag', off: 'default-heap', run: ` (${FLAGS} against node's default heap)`, heading: ` — ${FLAGS} against node's default heap, no metrics`, fileSuffix: '-heap', target: `${FLAGS} (no metrics on either)`, wanted: 'not slower than the default heap (median round ratio > 98%)', onColumn: 'heap flag', offColumn: 'default heap' },
}[MODE];
const BROKER_NODE_ARGS = (process.env.BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const RECORD_BYTES = 1024;
const ACKS = '1';
/**
 * Unmeasured loads of each shape a new broker takes first. With one, the metrics broker's second
 * large-batch load still cost it 10-20% more CPU than its third and later ones (more of its code
 * is compiled then), the other broker's less: steady state takes about three.
 */
const WARMUP_LOADS = Number(process.env.WARMUP_LOADS ?? 3);
/** SCRAPE_INTERVAL_MS: how often the metrics broker is scraped during a load (0: only after it, the counting alone). */
const SCRAPE_INTERVAL_MS = Number(process.env.SCRAPE_INTERVAL_MS ?? 1000);
const SCRAPE_TIMEOUT_MS = 10_000;
const LOAD_TIMEOUT_MS = 120_000;
const START_TIMEOUT_MS = 120_000;
/** The whole run's limit: past it both brokers are stopped and the run fails. */
const RUN_TIMEOUT_MS = QUICK ? 6 * 60_000 : 60 * 60_000;
const ON = WORDING.on;
const OFF = WORDING.off;

/** The producer's batching: the main bench's large batches, and one record per request (linger 0), where a per-request cost shows most. */
interface ProduceShape {
  name: string;
  batchSizeBytes: number;
  batchRecords: number;
  lingerMs: number;
  records: number;
}
const BULK: ProduceShape = { name: 'batch.size 256 KiB, linger.ms 5', batchSizeBytes: 256 * 1024, batchRecords: 1_000_000, lingerMs: 5, records: QUICK ? 400_000 : 1_000_000 };
const SMALL: ProduceShape = { name: '1 record per request, linger.ms 0', batchSizeBytes: 16 * 1024, batchRecords: 1, lingerMs: 0, records: QUICK ? 30_000 : 50_000 };
const SHAPES = [BULK, SMALL];

interface Broker {
  name: string;
  server: Server;
  port: number;
  /** The metrics endpoint's base URL, when this broker has one. */
  metricsUrl?: string;
  properties: Record<string, string>;
  startupMs: number;
}

interface Round extends PairedRound {
  /** Scrapes of the metrics broker during its load (all answered 200). */
  scrapes?: number;
}

interface Scrapes {
  count: number;
  /** Non-200 answers and failures, each described. */
  failures: string[];
  lastBytes: number;
  maxMs: number;
}

const servers: Server[] = [];
const problems: string[] = [];
let stopping: Promise<void> | undefined;

function log(message: string): void {
  process.stderr.write(`[bench:metrics] ${message}\n`);
}

/** Stops both brokers by pid; loads end on their own time limit (lib/processes.ts run()). Safe to call more than once. */
function stopEverything(work?: string): Promise<void> {
  stopping ??= (async () => {
    await Promise.all(servers.map((server) => stopServer(server, 30_000).catch((error: unknown) => log(`stopping ${server.name} (pid ${server.pid}): ${String(error)}`))));
    if (work) rmSync(work, { recursive: true, force: true });
  })();
  return stopping;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const round1 = (value: number) => Math.round(value * 10) / 10;
const round3 = (value: number) => Math.round(value * 1000) / 1000;

// ---------------------------------------------------------------------------------------------
// Brokers, scrapes, loads

/** `conveyor start` on a free loopback port with `settings`; ready once it answers ApiVersions. */
async function startBroker(name: string, work: string, round: number, settings: Record<string, string>): Promise<Broker> {
  const port = await freePort();
  const properties: Record<string, string> = { listeners: `PLAINTEXT://127.0.0.1:${port}`, 'log.dirs': join(work, `${name}-data-${round}`), ...settings };
  const sets = Object.entries(properties).flatMap(([key, value]) => ['-s', `${key}=${value}`]);
  const started = performance.now();
  const nodeFlags = MODE === 'heap' && name === OFF ? [] : BROKER_NODE_FLAGS;
  const server = startServer(name, process.execPath, [...nodeFlags, ...BROKER_NODE_ARGS, CLI, 'start', ...sets, '--log-level', 'warn']);
  servers.push(server);
  const startupMs = await waitForPort(port, START_TIMEOUT_MS, started, server, answersApiVersions);
  const metricsUrl = properties['metrics.listeners'];
  return { name, server, port, ...(metricsUrl ? { metricsUrl } : {}), properties, startupMs };
}

const bootstrap = (broker: Broker) => `127.0.0.1:${broker.port}`;

/** One GET /metrics, bounded; the body is read whole, as Prometheus reads it. */
async function scrape(broker: Broker): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${broker.metricsUrl}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
  const body = await response.text();
  return { status: response.status, body, ms: performance.now() - started };
}

/** Scrapes `broker` at once and then every SCRAPE_INTERVAL_MS (one at a time, as Prometheus) until the returned stop is called. */
function scrapeEverySecond(broker: Broker): () => Promise<Scrapes> {
  const scrapes: Scrapes = { count: 0, failures: [], lastBytes: 0, maxMs: 0 };
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      const due = performance.now() + SCRAPE_INTERVAL_MS;
      try {
        const { status, body, ms } = await scrape(broker);
        scrapes.lastBytes = body.length;
        scrapes.maxMs = Math.max(scrapes.maxMs, ms);
        if (status !== 200 || !body.includes('kafka_network_requestmetrics_requests_total')) scrapes.failures.push(`status ${status}, ${body.length} bytes`);
      } catch (error) {
        scrapes.failures.push(String(error));
      }
      scrapes.count += 1;
      if (stopped) break;
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, Math.max(0, due - performance.now()));
        wake = () => {
          clearTimeout(timer);
          resolveWait();
        };
      });
    }
  })();
  return async () => {
    stopped = true;
    wake?.();
    await loop;
    return scrapes;
  };
}

/** The value of `kafka_server_brokertopicmetrics_messagesin_total{topic="<topic>"}` in a scrape, or -1. */
function messagesIn(body: string, topic: string): number {
  const line = body.split('\n').find((entry) => entry.startsWith(`kafka_server_brokertopicmetrics_messagesin_total{topic="${topic}"} `));
  return line === undefined ? -1 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** One record per line, the perf tool's payload: `records` lines. */
function writeInput(work: string, records: number): string {
  const file = join(work, `records-${records}.txt`);
  const line = Buffer.concat([makePayload(RECORD_BYTES), Buffer.from('\n')]);
  writeFileSync(file, Buffer.concat(Array.from({ length: records }, () => line)));
  return file;
}

/** Waits for the kernel to write back every dirty page, so the next load does not pay for an earlier one's. */
async function settleWrites(): Promise<void> {
  const result = await run('sync', [], 300_000);
  if (result.code !== 0) throw new Error(`sync failed: ${result.stderr.slice(-200)}`);
}

const CLOCK_TICKS_PER_SECOND = Number(commandLines('getconf', ['CLK_TCK'])[0]) || 100;

/** User plus system CPU time of a process and all its threads so far (utime and stime of /proc/<pid>/stat). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** kcat -P of `shape.records` lines of `inputFile` into `topic`; the time is kcat's whole run, delivery included. */
async function kcatProduce(broker: Broker, topic: string, inputFile: string, shape: ProduceShape, label: string): Promise<Throughput> {
  const result = await run('kcat', [
    '-P', '-b', bootstrap(broker), '-t', topic,
    '-X', `acks=${ACKS}`, '-X', `linger.ms=${shape.lingerMs}`, '-X', `batch.size=${shape.batchSizeBytes}`, '-X', `batch.num.messages=${shape.batchRecords}`,
    '-X', 'queue.buffering.max.messages=2000000', '-X', 'queue.buffering.max.kbytes=2097151',
    '-X', 'compression.codec=none', '-X', 'enable.idempotence=false', '-X', 'message.timeout.ms=60000',
  ], LOAD_TIMEOUT_MS, { stdinFile: inputFile });
  if (result.code !== 0) throw new Error(`kcat -P ${label} failed (${result.code ?? 'killed at the time limit'}): ${result.stderr.slice(-400)}`);
  return throughputOf({
    id: `kcat-produce-${label}`, system: 'conveyor', client: 'kcat (librdkafka)', op: 'produce',
    recordSizeBytes: RECORD_BYTES, partitions: 1, acks: ACKS, records: shape.records, elapsedMs: result.elapsedMs, note: label,
  });
}

async function endOffset(broker: Broker, topic: string): Promise<number> {
  const connection = await PipelinedConnection.open(connectTcp, bootstrap(broker));
  try {
    return (await listOffsets(connection, topic, [0], LATEST_TIMESTAMP)).get(0) ?? -1;
  } finally {
    connection.close();
  }
}

async function deleteTopic(broker: Broker, topic: string): Promise<void> {
  const cluster = new ClusterClient(connectTcp, bootstrap(broker), 'bench-metrics-admin');
  try {
    await new AdminClient(cluster).deleteTopic(topic);
  } finally {
    cluster.close();
  }
}

/**
 * One load into a new topic: the broker's CPU over kcat's run and, on the metrics broker, the
 * scrapes during it; then the checks (every record at the end offset; the metrics broker counted
 * them all) and the topic's deletion.
 */
async function load(broker: Broker, topic: string, inputFile: string, shape: ProduceShape, label: string): Promise<{ throughput: Throughput; brokerCpuMs: number; scrapes?: Scrapes }> {
  await createTopic(bootstrap(broker), topic, 1);
  await settleWrites();
  const stopScraping = broker.metricsUrl && SCRAPE_INTERVAL_MS > 0 ? scrapeEverySecond(broker) : undefined;
  const cpuBefore = cpuMs(broker.server.pid);
  const produced = kcatProduce(broker, topic, inputFile, shape, label);
  // Scraping stops when the load ends, whether it succeeded or not.
  const scrapes = await produced.then(
    () => stopScraping?.(),
    () => stopScraping?.(),
  );
  const throughput = await produced;
  const brokerCpuMs = cpuMs(broker.server.pid) - cpuBefore;
  const end = await endOffset(broker, topic);
  if (end !== shape.records) throw new Error(`${label}: ${topic} ends at offset ${end} after kcat produced ${shape.records} records`);
  if (scrapes && scrapes.failures.length > 0) throw new Error(`${label}: ${scrapes.failures.length} of ${scrapes.count} scrapes failed: ${scrapes.failures.slice(0, 3).join('; ')}`);
  if (broker.metricsUrl) {
    const counted = messagesIn((await scrape(broker)).body, topic);
    if (counted !== shape.records) throw new Error(`${label}: the metrics count ${counted} records in for ${topic}, not ${shape.records}`);
  }
  await deleteTopic(broker, topic);
  return { throughput, brokerCpuMs, ...(scrapes ? { scrapes } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Rounds, summary, result file

interface ShapeResult {
  shape: string;
  records: number;
  rounds: Round[];
}

/**
 * A fresh pair of brokers: `metrics` with the endpoint (none in an A/A control), `no-metrics`
 * without, started one after the other in the order given, each on its own new data directory.
 */
async function startPair(work: string, round: number, metricsFirst: boolean): Promise<{ on: Broker; off: Broker }> {
  // Each port is picked just before its broker starts: a port picked earlier could be handed out again meanwhile.
  const start = async (name: string) => startBroker(name, work, round, name === ON && MODE === 'metrics' ? { 'metrics.listeners': `http://127.0.0.1:${await freePort()}` } : {});
  const started = new Map<string, Broker>();
  for (const name of metricsFirst ? [ON, OFF] : [OFF, ON]) started.set(name, await start(name));
  const pair = { on: started.get(ON)!, off: started.get(OFF)! };
  // The metrics listener may open a moment after the Kafka listener answers: ready once a scrape answers 200.
  if (pair.on.metricsUrl) {
    const answers = async () => (await scrape(pair.on).catch(() => undefined))?.status === 200;
    await waitForPort(Number(new URL(pair.on.metricsUrl).port), 10_000, performance.now(), pair.on.server, answers);
  }
  return pair;
}

/**
 * The rounds. Each starts a new pair of brokers and stops it at its end, so that nothing one
 * process happens to have (where its memory and threads landed, what it met earlier) favours one
 * side: with one pair for the whole run, an A/A control measured one process 12% faster than the
 * other on small requests. Over four rounds the metrics broker is started first and second, and
 * loaded first and second, in every combination.
 */
async function measure(work: string, inputs: Map<number, string>): Promise<{ brokers: Record<string, unknown>[]; shapes: ShapeResult[] }> {
  const shapes: ShapeResult[] = SHAPES.map((shape) => ({ shape: shape.name, records: shape.records, rounds: [] }));
  const brokers: Record<string, unknown>[] = [];
  let topicNumber = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const metricsStartedFirst = round % 2 === 0;
    const metricsLoadedFirst = Math.floor(round / 2) % 2 === 0;
    const { on, off } = await startPair(work, round + 1, metricsStartedFirst);
    log(`round ${round + 1}: ${ON} (pid ${on.server.pid}${on.metricsUrl ? `, ${on.metricsUrl}/metrics` : ', no metrics'}) up in ${Math.round(on.startupMs)} ms, ${OFF} (pid ${off.server.pid}) in ${Math.round(off.startupMs)} ms; ${metricsStartedFirst ? ON : OFF} started first`);
    try {
      const order = metricsLoadedFirst ? [on, off] : [off, on];
      // A new process is cold (its code not yet optimised, its heap at its first sizes): each
      // broker takes WARMUP_LOADS loads of each shape before anything is measured.
      for (const broker of order) {
        for (let warmUp = 1; warmUp <= WARMUP_LOADS; warmUp++) {
          for (const shape of SHAPES) await load(broker, `bench-metrics-${topicNumber++}`, inputs.get(shape.records)!, shape, `${broker.name} ${shape.name} round ${round + 1} warm-up ${warmUp}`);
        }
      }
      for (const [index, shape] of SHAPES.entries()) {
        const entry: Round = { round: round + 1, order: order.map((broker) => broker.name), mbPerSec: {}, recordsPerSec: {}, elapsedMs: {}, brokerCpuMsPerMiB: {} };
        for (const broker of order) {
          const label = `${broker.name} ${shape.name} round ${round + 1}`;
          const { throughput, brokerCpuMs, scrapes } = await load(broker, `bench-metrics-${topicNumber++}`, inputs.get(shape.records)!, shape, label);
          entry.mbPerSec[broker.name] = round1(throughput.mbPerSec);
          entry.recordsPerSec[broker.name] = Math.round(throughput.recordsPerSec);
          entry.elapsedMs[broker.name] = Math.round(throughput.elapsedMs);
          entry.brokerCpuMsPerMiB[broker.name] = round3(brokerCpuMs / ((throughput.records * RECORD_BYTES) / MIB));
          if (scrapes) entry.scrapes = scrapes.count;
        }
        shapes[index]!.rounds.push(entry);
        const describe = (name: string) => `${name} ${entry.mbPerSec[name]!.toFixed(1)} MB/s (${entry.brokerCpuMsPerMiB[name]!.toFixed(2)} CPU ms/MiB)`;
        log(`round ${round + 1}, ${shape.name} (${entry.order.join(', ')}): ${describe(ON)}, ${describe(OFF)}; ×${(entry.mbPerSec[ON]! / entry.mbPerSec[OFF]!).toFixed(3)}${entry.scrapes === undefined ? '' : `; ${entry.scrapes} scrapes`}`);
      }
      const brokerInfo = (broker: Broker) => ({ pid: broker.server.pid, startupMs: Math.round(broker.startupMs), rssMiBAtEnd: round1(rssMiB(broker.server.pid)), properties: broker.properties });
      brokers.push({ round: round + 1, startedFirst: metricsStartedFirst ? ON : OFF, [ON]: brokerInfo(on), [OFF]: brokerInfo(off) });
    } finally {
      await Promise.all([on, off].map((broker) => stopServer(broker.server, 30_000)));
      for (const broker of [on, off]) rmSync(broker.properties['log.dirs']!, { recursive: true, force: true });
    }
  }
  return { brokers, shapes };
}

interface Summary {
  shape: string;
  records: number;
  /** Median MB/s of each broker over the rounds. */
  medians: Record<string, number>;
  /** Each round's throughput ratio metrics / no-metrics; the target is judged on their median. */
  roundRatios: number[];
  medianRoundRatio: number;
  /** Median broker CPU ms per MiB of each, and each round's ratio metrics / no-metrics (above 1: the metrics cost CPU). */
  cpuMsPerMiBMedians: Record<string, number>;
  cpuRoundRatios: number[];
  cpuMedianRoundRatio: number;
  scrapes: number;
}

function summarize(result: ShapeResult): Summary {
  const { rounds } = result;
  const medians = Object.fromEntries([ON, OFF].map((key) => [key, round1(median(rounds.map((entry) => entry.mbPerSec[key]!)))]));
  const cpuMsPerMiBMedians = Object.fromEntries([ON, OFF].map((key) => [key, round3(median(rounds.map((entry) => entry.brokerCpuMsPerMiB[key]!)))]));
  const roundRatios = rounds.map((entry) => round3(entry.mbPerSec[ON]! / entry.mbPerSec[OFF]!));
  const cpuRoundRatios = rounds.map((entry) => round3(entry.brokerCpuMsPerMiB[ON]! / entry.brokerCpuMsPerMiB[OFF]!));
  return {
    shape: result.shape,
    records: result.records,
    medians,
    roundRatios,
    medianRoundRatio: round3(median(roundRatios)),
    cpuMsPerMiBMedians,
    cpuRoundRatios,
    cpuMedianRoundRatio: round3(median(cpuRoundRatios)),
    scrapes: rounds.reduce((sum, entry) => sum + (entry.scrapes ?? 0), 0),
  };
}

const percent = (ratio: number, decimals = 0) => `${(ratio * 100).toFixed(decimals)}%`;

function build(): Record<string, string> {
  const info = buildInfo(CLI);
  if (info.staleSince) problems.push(`dist/cli/conveyor.js (${info.bundleTime}) is older than the last commit to src/ (${info.staleSince}): run npm run build`);
  return { commit: info.commit, uncommittedSourceFiles: info.uncommittedSourceFiles, cli: resolve(CLI), bundle: `${info.bundle} (built ${info.bundleTime})` };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-metrics-'));
  const watchdog = setTimeout(() => {
    log(`the run passed its limit of ${RUN_TIMEOUT_MS / 60_000} min: stopping the brokers`);
    void stopEverything(work).finally(() => process.exit(1));
  }, RUN_TIMEOUT_MS);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the brokers`);
      void stopEverything(work).finally(() => process.exit(130));
    });
  }
  const date = new Date().toISOString();
  const loadStart = loadavg().map((value) => Math.round(value * 100) / 100);
  const buildDetails = build();
  log(`${QUICK ? 'quick run' : 'run'}${WORDING.run}: ${ROUNDS} rounds; CLI ${CLI} (repository at ${buildDetails.commit}); load average ${loadStart.join(' ')}`);
  let measured: Awaited<ReturnType<typeof measure>> | undefined;
  try {
    const inputs = new Map(SHAPES.map((shape) => [shape.records, writeInput(work, shape.records)]));
    measured = await measure(work, inputs);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    log(`failed: ${problems.at(-1)}`);
  } finally {
    await stopEverything(work);
    clearTimeout(watchdog);
  }
  const loadEnd = loadavg().map((value) => Math.round(value * 100) / 100);
  const summaries = measured?.shapes.map(summarize) ?? [];
  const machine: Record<string, string> = { ...machineBase(), kcat: commandLines('sh', ['-c', 'kcat -V | head -1; dpkg-query -W kcat librdkafka1 2>/dev/null | tr "\\t\\n" " ,"']).join(' '), filesystem: tmpFileSystem() };
  const targets = summaries.map((summary) => ({
    target: `${WORDING.target}, produce ${summary.shape}`,
    wanted: WORDING.wanted,
    measured: `${summary.medians[ON]} MB/s against ${summary.medians[OFF]} MB/s: ${percent(summary.medianRoundRatio, 1)} (rounds ${summary.roundRatios.map((ratio) => percent(ratio)).join(', ')}); broker CPU per MiB ×${summary.cpuMedianRoundRatio.toFixed(3)}`,
    met: summary.medianRoundRatio > 0.98,
  }));
  const result = {
    date,
    quick: QUICK,
    control: CONTROL,
    mode: MODE,
    machine: { ...machine, loadAverageAtStart: loadStart.join(' '), loadAverageAtEnd: loadEnd.join(' ') },
    build: buildDetails,
    setup: {
      rounds: ROUNDS,
      recordSizeBytes: RECORD_BYTES,
      partitions: 1,
      acks: ACKS,
      shapes: SHAPES.map((shape) => `${shape.name} (batch.size ${shape.batchSizeBytes}, batch.num.messages ${shape.batchRecords}): ${shape.records} records`),
      client: 'kcat -P from a file of one record per line, compression none, enable.idempotence=false',
      brokers: MODE === 'heap'
        ? `two conveyor start processes, PLAINTEXT on 127.0.0.1, neither with metrics; '${ON}' with ${FLAGS}, '${OFF}' with node's default heap`
        : `two conveyor start processes, PLAINTEXT on 127.0.0.1, both with ${FLAGS}; '${ON}' with metrics.listeners=http://127.0.0.1:<port> ${SCRAPE_INTERVAL_MS > 0 ? `scraped every ${SCRAPE_INTERVAL_MS} ms during its loads (fetch, body read whole, 200 checked)` : 'not scraped during its loads (SCRAPE_INTERVAL_MS=0), once after each'}${CONTROL ? ' — in this A/A control run started without metrics and not scraped' : ''}, '${OFF}' without`,
      warmUpLoads: WARMUP_LOADS,
      order: 'each round: a new pair of brokers (the metrics one started first in odd rounds, second in even ones), warm-up loads, then both shapes, each to both brokers into new topics (deleted after the checks), the metrics broker loaded first in rounds 1-2, 5-6, ... and second in 3-4, 7-8, ...; sync before every load; the pair stopped at the end of the round',
      brokerNodeArgs: [...BROKER_NODE_FLAGS, ...BROKER_NODE_ARGS].join(' '),
    },
    brokers: measured?.brokers,
    shapes: measured?.shapes,
    summaries,
    targets,
    problems,
  };
  const file = join('bench', 'results', `metrics-${date.replace(/[:]/g, '-').replace(/\..*/, '')}${WORDING.fileSuffix}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

  const lines = [
    '',
    `Metrics benchmark ${date}${QUICK ? ' (quick)' : ''}${WORDING.heading}: ${machine.cpu}, load average ${loadStart.join(' ')} at the start, ${loadEnd.join(' ')} at the end; repository at ${buildDetails.commit}, CLI ${CLI}`,
    `${ROUNDS} rounds, kcat, 1 KiB records, acks=1, 1 partition. MB/s: median of the rounds; ratio: median of each round's ratio (rounds in brackets); CPU: the broker's ms per MiB`,
    '',
    `| produce | ${WORDING.onColumn} MB/s | ${WORDING.offColumn} MB/s | ratio | CPU ms/MiB with / without (median round ratio) | scrapes |`,
    '|---|---|---|---|---|---|',
  ];
  for (const summary of summaries) {
    lines.push(
      `| ${summary.shape}, ${summary.records} records | ${summary.medians[ON]} | ${summary.medians[OFF]} | ${percent(summary.medianRoundRatio, 1)} (${summary.roundRatios.map((ratio) => percent(ratio)).join(', ')}) | ` +
        `${summary.cpuMsPerMiBMedians[ON]!.toFixed(2)} / ${summary.cpuMsPerMiBMedians[OFF]!.toFixed(2)} (×${summary.cpuMedianRoundRatio.toFixed(3)}) | ${summary.scrapes} |`,
    );
  }
  lines.push('', '| target | wanted | measured | |', '|---|---|---|---|');
  for (const target of targets) lines.push(`| ${target.target} | ${target.wanted} | ${target.measured} | ${target.met ? 'met' : 'missed'} |`);
  if (problems.length > 0) lines.push('', `problems:\n  ${problems.join('\n  ')}`);
  lines.push('', `written to ${file}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!measured) process.exitCode = 1;
}

await main();
