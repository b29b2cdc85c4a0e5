// `npm run bench`: one run measures the raw limit, Conveyor with librdkafka (kcat) and with its own
// perf tool, end-to-end latency at fixed loads, Redis Streams and NATS JetStream, start-up, memory
// and 10,000 partitions, all on the same machine at the same time; then writes docs/benchmarks.md,
// docs/benchmarks.svg and bench/results/<date>.json. Every server listens on loopback and is
// stopped by pid; every load has a time limit. Set BENCH_QUICK=1 for a short smoke run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePayload } from '../src/client/perf-batches.js';
import { createTopic, kcatConsume, kcatProduce, perfTool, startConveyor } from './lib/conveyor.js';
import { type BenchRun, type EndToEnd, type LatencyPercentiles, type ManyPartitions, MIB, type PairedConsume, type PairedProduce, type Startup, type Throughput, throughputOf } from './lib/measurements.js';
import { freePort, rssMiB, run, sampleRss, sleep, startServer, stopServer, waitForPort } from './lib/processes.js';
import { writeReport } from './report.js';
import { benchNats } from './peers/nats.js';
import { benchRedis } from './peers/redis.js';
import { commandLines, machineBase, tmpFileSystem } from './lib/machine.js';

const QUICK = process.env.BENCH_QUICK === '1';
const RECORD_SIZES = [1024, 100];
/** Records per throughput run: a few seconds each at the rates this machine reaches. */
const RECORDS = new Map<number, number>(QUICK ? [[1024, 50_000], [100, 200_000]] : [[1024, 1_000_000], [100, 2_000_000]]);
const PEER_RECORDS = new Map<number, number>(QUICK ? [[1024, 20_000], [100, 50_000]] : [[1024, 200_000], [100, 500_000]]);
const PARTITION_COUNTS = [1, 8];
const ACKS = ['1', 'all'];
const BATCH_SIZE_BYTES = 256 * 1024;
const LINGER_MS = 5;
const PERF_DURATION_MS = QUICK ? 1500 : 4000;
/** Consume runs take about a second each: a single one says more about the machine's moment than the broker. */
const CONSUME_ROUNDS = QUICK ? 1 : 3;
/** The produce target's case (1 KiB, 1 partition, acks=1) runs in rounds, each after a raw write. */
const PRODUCE_ROUNDS = QUICK ? 1 : 3;
const E2E_LOADS_MB = [10, 50];
/** Timed part of each e2e run, after E2E_WARMUP_MS in which both ends' JIT warms up (not timed). */
const E2E_DURATION_MS = QUICK ? 2000 : 6000;
const E2E_WARMUP_MS = QUICK ? 500 : 2000;
/** One e2e run's p99 rests on about 600 records: a single moment of a shared machine can move it. */
const E2E_RUNS = QUICK ? 1 : 3;
const STARTUP_RUNS = QUICK ? 2 : 11;
const MANY_PARTITIONS = QUICK ? 1000 : 10_000;

async function main(): Promise<void> {
  const problems: string[] = [];
  const attempt = async <T>(name: string, step: () => Promise<T>): Promise<T | undefined> => {
    log(`${name}...`);
    try {
      return await step();
    } catch (error) {
      const message = `${name}: ${error instanceof Error ? error.message : String(error)}`;
      problems.push(message);
      log(`  failed: ${message}`);
      return undefined;
    }
  };
  log('building (npm run build)');
  try {
    execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  } catch {
    // tsc still emits; a type error in code under way elsewhere should not stop a measurement.
    problems.push('npm run build reported type errors; the run used what tsc emitted');
  }
  const work = mkdtempSync(join(tmpdir(), 'bench-work-'));
  const throughput: Throughput[] = [];
  let endToEnd: EndToEnd[] = [];
  let startup: Startup | undefined;
  let manyPartitions: ManyPartitions | undefined;
  let timerLateness: LatencyPercentiles | undefined;
  let pairedConsume: PairedConsume[] | undefined;
  let pairedProduce: PairedProduce[] | undefined;
  try {
    const inputs = writeInputFiles(work);
    await settleWrites('input files');
    throughput.push(...((await attempt('raw limit', () => rawLimit(work))) ?? []));
    const conveyor = await attempt('conveyor matrix', () => conveyorMatrix(work, inputs));
    if (conveyor) {
      throughput.push(...conveyor.throughput);
      pairedConsume = conveyor.pairedConsume;
      pairedProduce = conveyor.pairedProduce;
      endToEnd = conveyor.endToEnd;
      startup = conveyor.startup;
      timerLateness = conveyor.timerLateness;
    }
    throughput.push(...((await attempt('redis streams', () => benchRedis(RECORD_SIZES, PEER_RECORDS))) ?? []));
    throughput.push(...((await attempt('nats jetstream', () => benchNats(RECORD_SIZES, PEER_RECORDS))) ?? []));
    manyPartitions = await attempt(`${MANY_PARTITIONS} partitions`, () => benchManyPartitions());
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const result: BenchRun = { date: new Date().toISOString(), machine: machine(), throughput, endToEnd, startup, manyPartitions, timerLateness, pairedConsume, pairedProduce, problems };
  writeReport(result, QUICK);
  log(`done${problems.length > 0 ? ` with ${problems.length} problems:\n  ${problems.join('\n  ')}` : ''}`);
}

/**
 * Waits until the kernel has written back every dirty page (`sync`), so the next measurement does
 * not pay for the writeback of files an earlier step wrote (the input files alone are 2.5 GB).
 */
async function settleWrites(after: string): Promise<void> {
  const started = performance.now();
  const result = await run('sync', [], 600_000);
  if (result.code !== 0) throw new Error(`sync failed: ${result.stderr.slice(-200)}`);
  const tookMs = performance.now() - started;
  if (tookMs > 100) log(`  (writeback of ${after} took ${(tookMs / 1000).toFixed(1)} s)`);
}

/** kcat reads one record per line: the perf tool's payload, so every client sends the same bytes. */
function writeInputFiles(work: string): Map<number, string> {
  const files = new Map<number, string>();
  for (const size of RECORD_SIZES) {
    const line = Buffer.concat([makePayload(size), Buffer.from('\n')]);
    const count = RECORDS.get(size)!;
    const file = join(work, `records-${size}.txt`);
    const perChunk = Math.max(1, Math.floor((8 * MIB) / line.length));
    const chunk = Buffer.concat(Array.from({ length: perChunk }, () => line));
    const parts: Buffer[] = [];
    for (let written = 0; written < count; written += perChunk) parts.push(written + perChunk <= count ? chunk : chunk.subarray(0, (count - written) * line.length));
    writeFileSync(file, Buffer.concat(parts));
    files.set(size, file);
  }
  return files;
}

/**
 * The same batches over loopback TCP into a file with no protocol; then the file back out, as a
 * stream and as 1 MiB answers to one request at a time (what a consumer with one fetch in flight
 * can get at best).
 */
async function rawLimit(work: string): Promise<Throughput[]> {
  const results: Throughput[] = [];
  for (const size of RECORD_SIZES) {
    const file = rawFile(work, size);
    const records = RECORDS.get(size)!;
    const rawCase = async (serverMode: RawMode, op: 'produce' | 'consume', id: string, client: string) => {
      const elapsedMs = await rawRun(serverMode, file, size);
      results.push(throughputOf({ id, system: 'raw', client, op, recordSizeBytes: size, partitions: 1, acks: '-', records, elapsedMs }));
    };
    await settleWrites('earlier raw cases');
    await rawCase('sink', 'produce', `raw-produce-${size}`, 'node socket → file');
    await rawCase('source', 'consume', `raw-consume-${size}`, 'file → node socket');
    await rawCase('serve', 'consume', `raw-fetch-${size}`, 'file → node socket, 1 MiB per request');
  }
  return results;
}

type RawMode = 'sink' | 'source' | 'serve';

function rawFile(work: string, size: number): string {
  return join(work, `raw-${size}.bin`);
}

/** One raw transfer (bench/raw-sink.ts ↔ bench/raw-client.ts); `sink` writes `file`, the others read it. */
async function rawRun(serverMode: RawMode, file: string, size: number): Promise<number> {
  const clientArgs = { sink: ['send', String(size), String(RECORDS.get(size)!), String(BATCH_SIZE_BYTES)], source: ['receive'], serve: ['request'] }[serverMode];
  const port = await freePort();
  const server = startServer(`raw ${serverMode}`, process.execPath, ['--import', 'tsx', 'bench/raw-sink.ts', serverMode, String(port), file]);
  try {
    await waitForPort(port, 30_000, undefined, server);
    const result = await run(process.execPath, ['--import', 'tsx', 'bench/raw-client.ts', clientArgs[0]!, String(port), ...clientArgs.slice(1)], 120_000);
    return (JSON.parse(result.stdout.trim()) as { elapsedMs: number }).elapsedMs;
  } finally {
    await stopServer(server);
  }
}

/**
 * Consume in CONSUME_ROUNDS rounds of: the raw stream read of the same bytes, kcat, the perf tool.
 * The table gets each client's median round; the rounds are kept for the paired ratios.
 */
async function consumeRounds(work: string, bootstrap: string, size: number, partitions: number): Promise<{ throughput: Throughput[]; paired: PairedConsume }> {
  const records = RECORDS.get(size)!;
  const topic = `kcat-${size}-${partitions}-1`;
  const kcatRuns: Throughput[] = [];
  const perfRuns: Throughput[] = [];
  const paired: PairedConsume = { recordSizeBytes: size, partitions, rounds: [] };
  for (let round = 0; round < CONSUME_ROUNDS; round++) {
    const rawElapsedMs = await rawRun('source', rawFile(work, size), size);
    const kcat = await kcatConsume({ bootstrap, topic, recordSizeBytes: size, partitions, records });
    const consumed = await perfTool('consume', bootstrap, ['-t', topic, '-n', String(records), '--duration-ms', '60000']);
    const perf = throughputOf({ id: `perf-consume-${size}-${partitions}p`, system: 'conveyor', client: 'conveyor perf', op: 'consume', recordSizeBytes: size, partitions, acks: '-', records: consumed.records, elapsedMs: consumed.elapsedMs });
    const raw = throughputOf({ id: 'raw', system: 'raw', client: '', op: 'consume', recordSizeBytes: size, partitions: 1, acks: '-', records, elapsedMs: rawElapsedMs });
    kcatRuns.push(kcat);
    perfRuns.push(perf);
    paired.rounds.push({ rawReadMbPerSec: raw.mbPerSec, kcatMbPerSec: kcat.mbPerSec, perfMbPerSec: perf.mbPerSec });
  }
  const note = `median of ${CONSUME_ROUNDS} rounds`;
  return { throughput: [{ ...medianRun(kcatRuns), note }, { ...medianRun(perfRuns), note }], paired };
}

/** One produce case: kcat from the input file, then the perf tool for the same time budget, each into a new topic. */
async function produceCase(bootstrap: string, inputs: Map<number, string>, size: number, partitions: number, acks: string, topicSuffix = ''): Promise<{ kcat: Throughput; perf: Throughput }> {
  const kcatTopic = `kcat-${size}-${partitions}-${acks}${topicSuffix}`;
  await createTopic(bootstrap, kcatTopic, partitions);
  await settleWrites('earlier cases');
  log(`  kcat produce ${size} B, ${partitions} partitions, acks=${acks}${topicSuffix}`);
  const kcat = await kcatProduce({ bootstrap, topic: kcatTopic, recordSizeBytes: size, partitions, acks, records: RECORDS.get(size)!, inputFile: inputs.get(size)!, batchSizeBytes: BATCH_SIZE_BYTES, lingerMs: LINGER_MS });
  await settleWrites('kcat produce');
  log(`  perf produce ${size} B, ${partitions} partitions, acks=${acks}${topicSuffix}`);
  const result = await perfTool('produce', bootstrap, ['-t', `perf-${size}-${partitions}-${acks}${topicSuffix}`, '--partitions', String(partitions), '--record-size', String(size), '--acks', acks,
    '--batch-size', String(BATCH_SIZE_BYTES), '--linger-ms', String(LINGER_MS), '--duration-ms', String(PERF_DURATION_MS)]);
  const perf = throughputOf({ id: `perf-produce-${size}-${partitions}p-acks${acks}`, system: 'conveyor', client: 'conveyor perf', op: 'produce', recordSizeBytes: size, partitions, acks, records: result.records, elapsedMs: result.elapsedMs, latency: result.latency });
  return { kcat, perf };
}

/**
 * Produce in PRODUCE_ROUNDS rounds of: the raw write of the same batches (into a scratch file),
 * kcat, the perf tool. As for consume, the target is judged per round against the raw limit
 * measured seconds before, not minutes; the table gets each client's median round.
 */
async function produceRounds(work: string, bootstrap: string, inputs: Map<number, string>, size: number, partitions: number, acks: string): Promise<{ throughput: Throughput[]; paired: PairedProduce }> {
  const scratch = join(work, `raw-${size}-produce-round.bin`);
  const kcatRuns: Throughput[] = [];
  const perfRuns: Throughput[] = [];
  const paired: PairedProduce = { recordSizeBytes: size, partitions, acks, rounds: [] };
  for (let round = 0; round < PRODUCE_ROUNDS; round++) {
    await settleWrites('earlier cases');
    const rawElapsedMs = await rawRun('sink', scratch, size);
    rmSync(scratch, { force: true });
    const raw = throughputOf({ id: 'raw', system: 'raw', client: '', op: 'produce', recordSizeBytes: size, partitions: 1, acks: '-', records: RECORDS.get(size)!, elapsedMs: rawElapsedMs });
    // The first round's kcat topic is the one the consume rounds read.
    const { kcat, perf } = await produceCase(bootstrap, inputs, size, partitions, acks, round === 0 ? '' : `-round${round + 1}`);
    kcatRuns.push(kcat);
    perfRuns.push(perf);
    paired.rounds.push({ rawWriteMbPerSec: raw.mbPerSec, kcatMbPerSec: kcat.mbPerSec, perfMbPerSec: perf.mbPerSec });
  }
  const note = `median of ${PRODUCE_ROUNDS} rounds`;
  return { throughput: [{ ...medianRun(kcatRuns), note }, { ...medianRun(perfRuns), note }], paired };
}

function medianRun(runs: Throughput[]): Throughput {
  return [...runs].sort((a, b) => a.mbPerSec - b.mbPerSec)[Math.floor(runs.length / 2)]!;
}

async function conveyorMatrix(work: string, inputs: Map<number, string>): Promise<{ throughput: Throughput[]; endToEnd: EndToEnd[]; startup: Startup; timerLateness: LatencyPercentiles | undefined; pairedConsume: PairedConsume[]; pairedProduce: PairedProduce[] }> {
  await settleWrites('raw files');
  const startupRuns = await startupTimes();
  const broker = await startConveyor();
  const throughput: Throughput[] = [];
  const pairedConsume: PairedConsume[] = [];
  const pairedProduce: PairedProduce[] = [];
  const endToEnd: EndToEnd[] = [];
  let idleRssMiB = 0;
  let loadRssMiB = 0;
  let timerLateness: LatencyPercentiles | undefined;
  try {
    await sleep(500);
    idleRssMiB = rssMiB(broker.server.pid);
    const stopSampling = sampleRss(broker.server.pid);
    for (const size of RECORD_SIZES) {
      for (const partitions of PARTITION_COUNTS) {
        for (const acks of ACKS) {
          if (size === 1024 && partitions === 1 && acks === '1') {
            log(`  produce ${size} B, ${partitions} partition, acks=${acks} (${PRODUCE_ROUNDS} rounds, each after a raw write)`);
            const rounds = await produceRounds(work, broker.bootstrap, inputs, size, partitions, acks);
            throughput.push(...rounds.throughput);
            pairedProduce.push(rounds.paired);
            continue;
          }
          const { kcat, perf } = await produceCase(broker.bootstrap, inputs, size, partitions, acks);
          throughput.push(kcat, perf);
        }
        log(`  consume ${size} B, ${partitions} partitions (${CONSUME_ROUNDS} rounds, each after a raw read)`);
        const consumed = await consumeRounds(work, broker.bootstrap, size, partitions);
        throughput.push(...consumed.throughput);
        pairedConsume.push(consumed.paired);
      }
    }
    loadRssMiB = stopSampling();
    const jitter = await run(process.execPath, ['bench/timer-jitter.mjs', '3000'], 30_000);
    timerLateness = JSON.parse(jitter.stdout.trim()) as LatencyPercentiles;
    for (const mb of E2E_LOADS_MB) {
      const size = 1024;
      log(`  e2e at ${mb} MB/s (${E2E_RUNS} runs)`);
      const runs: EndToEnd[] = [];
      for (let index = 0; index < E2E_RUNS; index++) {
        const e2e = await perfTool('e2e', broker.bootstrap, ['-t', `e2e-${mb}-${index}`, '--partitions', '1', '--record-size', String(size), '--throughput', String(Math.round((mb * MIB) / size)),
          '--linger-ms', '0', '--acks', '1', '--duration-ms', String(E2E_WARMUP_MS + E2E_DURATION_MS), '--warmup-ms', String(E2E_WARMUP_MS), '--fetch-max-wait-ms', '500']);
        runs.push({ targetMbPerSec: mb, recordSizeBytes: size, achievedMbPerSec: (e2e.records * size) / MIB / (e2e.elapsedMs / 1000), latency: e2e.latency!, warmupMs: E2E_WARMUP_MS, timedMs: E2E_DURATION_MS });
      }
      // The run with the median p99 stands for the load; every run's p99 is kept beside it.
      const chosen = [...runs].sort((a, b) => a.latency.p99Ms - b.latency.p99Ms)[Math.floor(runs.length / 2)]!;
      endToEnd.push({ ...chosen, runsP99Ms: runs.map((entry) => entry.latency.p99Ms) });
    }
  } finally {
    await stopServer(broker.server);
    rmSync(broker.dataDir, { recursive: true, force: true });
  }
  return { throughput, endToEnd, startup: { ...startupRuns, idleRssMiB, loadRssMiB }, timerLateness, pairedConsume, pairedProduce };
}

/** CLI: spawn to the first answered request, on a new data dir. In-process: startBroker() to connection. */
async function startupTimes(): Promise<Omit<Startup, 'idleRssMiB' | 'loadRssMiB'>> {
  const cliRunsMs: number[] = [];
  const inProcessRunsMs: number[] = [];
  const inProcessMemoryRunsMs: number[] = [];
  const bareRunsMs: number[] = [];
  for (let index = 0; index < STARTUP_RUNS; index++) {
    const broker = await startConveyor();
    cliRunsMs.push(broker.startupMs);
    await stopServer(broker.server);
    rmSync(broker.dataDir, { recursive: true, force: true });
    inProcessRunsMs.push(await inProcessStartup('disk'));
    inProcessMemoryRunsMs.push(await inProcessStartup('memory'));
    bareRunsMs.push(await inProcessStartup('bare'));
  }
  return { cliRunsMs, cliMedianMs: median(cliRunsMs), inProcessRunsMs, inProcessMedianMs: median(inProcessRunsMs), inProcessMemoryMedianMs: median(inProcessMemoryRunsMs), bareListenConnectMedianMs: median(bareRunsMs) };
}

async function inProcessStartup(mode: 'disk' | 'memory' | 'bare'): Promise<number> {
  const result = await run(process.execPath, ['bench/in-process-startup.mjs', mode], 30_000);
  return (JSON.parse(result.stdout.trim()) as { elapsedMs: number }).elapsedMs;
}

/** One topic with many partitions: create it, produce across all of them, restart and time start-up. */
async function benchManyPartitions(): Promise<ManyPartitions> {
  const first = await startConveyor();
  const dataDir = first.dataDir;
  let createMs = 0;
  let produce: Throughput | undefined;
  try {
    const started = performance.now();
    await createTopic(first.bootstrap, 'many', MANY_PARTITIONS);
    createMs = performance.now() - started;
    const perf = await perfTool('produce', first.bootstrap, ['-t', 'many', '--record-size', '1024', '--acks', '1', '--batch-size', String(BATCH_SIZE_BYTES), '--linger-ms', String(LINGER_MS), '--duration-ms', String(PERF_DURATION_MS)]);
    produce = throughputOf({ id: `perf-produce-1024-${MANY_PARTITIONS}p-acks1`, system: 'conveyor', client: 'conveyor perf', op: 'produce', recordSizeBytes: 1024, partitions: MANY_PARTITIONS, acks: '1', records: perf.records, elapsedMs: perf.elapsedMs, latency: perf.latency });
  } finally {
    await stopServer(first.server, 60_000);
  }
  if (produce === undefined) throw new Error('no produce result');
  const second = await startConveyor(dataDir);
  try {
    await sleep(500);
    return { partitions: MANY_PARTITIONS, createMs, restartToConnectionMs: second.startupMs, produce, idleRssMiB: rssMiB(second.server.pid) };
  } finally {
    await stopServer(second.server, 60_000);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function machine(): Record<string, string> {
  const first = (command: string, args: string[]) => commandLines(command, args)[0]!;
  return {
    ...machineBase(),
    kcat: first('kcat', ['-V']),
    redis: first('redis-server', ['--version']),
    nats: first('nats-server', ['--version']),
    filesystem: tmpFileSystem(),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

await main();
