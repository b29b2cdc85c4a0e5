// On-demand benchmark of Conveyor Streams (issue 23; not part of `npm run bench`):
// `npx tsx bench/streams.ts`, after `npm run build` (the broker and the perf tool are the CLI
// build). One `conveyor start` broker in its own process, default settings except
// group.initial.rebalance.delay.ms=0, data under the temporary directory; then, in each of --rounds
// rounds on that broker, one after the other:
//
// 1. The baseline: `conveyor perf produce` (--acks all) of --records records of --record-size bytes
//    into a new topic, then `conveyor perf consume` of it; each tool's own timing. A pipeline goes
//    no faster than the slower of the two, which is the baseline's records/s.
// 2. The input of the Streams runs: --records records of --record-size bytes with --keys distinct
//    keys, written once (not timed) into a topic of --partitions partitions.
// 3. Four Streams runs over that input, each a new application (its own application.id, output
//    topic and state directory), KafkaStreams in this process (through tsx, as the tests run it):
//    - stateless: mapValues then filter (both keep every record) then `to`;
//    - windowed count: groupByKey, 10-second tumbling windows, count, toStream, `to` (no record
//      cache here, so one output per input record);
//    each under at_least_once and exactly_once_v2 (Kafka's commit.interval.ms defaults: 30000 and
//    100). Timed from start() until a read_committed consumer in this process has read --records
//    records from the output topic; the time to the first output record (group join, internal
//    topics, restoration) is reported beside it, and the rate after it.
//
// The ratio: each Streams run's records/s (whole run) to the baseline's. Beside each run, the CPU
// time of the broker process and of this process. `sync` runs before every load. The broker listens
// on 127.0.0.1 and is stopped by its pid at the end, also on failure; every load has a time limit.
// Writes bench/results/streams-<date>.json and prints the setup and a table.
//
// Flags (defaults in brackets): --records [100000], --record-size [100], --keys [1000],
// --partitions [4], --rounds [3], --timeout-ms [180000] per Streams run, --no-results.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AdminClient, type TopicInfo } from '../src/client/admin-client.js';
import { ClusterClient } from '../src/client/cluster-client.js';
import { Consumer } from '../src/client/consumer.js';
import { Producer } from '../src/client/producer.js';
import { connectTcp } from '../src/node/tcp-byte-stream.js';
import { Consumed, KafkaStreams, Produced, Serdes, StreamsBuilder, TimeWindows, type Topology, keyValue } from '../src/streams/index.js';
import { type RunningConveyor, createTopic, perfTool, startConveyor } from './lib/conveyor.js';
import { buildInfo, machineBase } from './lib/machine.js';
import { stopServer } from './lib/processes.js';
import { median } from './lib/measurements.js';

const { values: flags } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    'record-size': { type: 'string', default: '100' },
    keys: { type: 'string', default: '1000' },
    partitions: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    'timeout-ms': { type: 'string', default: '180000' },
    'no-results': { type: 'boolean', default: false },
  },
  strict: true,
});

function positive(name: keyof typeof flags): number {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name}: a positive integer, not '${String(flags[name])}'`);
  return value;
}

const RECORDS = positive('records');
const RECORD_BYTES = positive('record-size');
const KEYS = positive('keys');
const PARTITIONS = positive('partitions');
const ROUNDS = positive('rounds');
const RUN_TIMEOUT_MS = positive('timeout-ms');
const PERF_TIMEOUT_MS = 120_000;
const WINDOW_MS = 10_000;

type Pipeline = 'stateless' | 'windowed-count';
type Guarantee = 'at_least_once' | 'exactly_once_v2';

interface Rate {
  records: number;
  elapsedMs: number;
  recordsPerSec: number;
}

interface StreamsRun extends Rate {
  pipeline: Pipeline;
  guarantee: Guarantee;
  firstOutputMs: number;
  afterFirstOutputRecordsPerSec: number;
  benchCpuMs: number;
  brokerCpuMs: number;
  ratio: number;
}

interface Round {
  round: number;
  perfProduce: Rate;
  perfConsume: Rate;
  baselineRecordsPerSec: number;
  runs: StreamsRun[];
  loadAverage: number[];
}

let broker: RunningConveyor | undefined;
const cleanups: string[] = [];

function log(message: string): void {
  process.stderr.write(`[bench:streams] ${message}\n`);
}

function rate(records: number, elapsedMs: number): Rate {
  return { records, elapsedMs, recordsPerSec: records / (elapsedMs / 1000) };
}

/** The broker process's CPU time (user + system) in ms, from /proc. */
function processCpuMs(pid: number): number {
  const fields = execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function thisProcessCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function topology(pipeline: Pipeline, input: string, output: string): Topology {
  const builder = new StreamsBuilder();
  const stream = builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()));
  if (pipeline === 'stateless') {
    stream
      .mapValues((value) => value)
      .filter((_key, value) => value !== null)
      .to(output, Produced.with(Serdes.String(), Serdes.ByteArray()));
  } else {
    stream
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(WINDOW_MS))
      .count()
      .toStream()
      .map((windowed, count) => keyValue(`${windowed.key}@${windowed.window.start}`, count))
      .to(output, Produced.with(Serdes.String(), Serdes.Long()));
  }
  return builder.build();
}

/** Writes the keyed input once: RECORDS records, keys k0..k{KEYS-1} in turn, timestamps now. */
async function writeInput(cluster: ClusterClient, admin: AdminClient, topic: string): Promise<void> {
  await createTopic(broker!.bootstrap, topic, PARTITIONS);
  const info = await admin.describeTopic(topic);
  const producer = new Producer(cluster, info, { compression: 0, acks: -1 });
  const value = Buffer.alloc(RECORD_BYTES, 'v');
  const chunk = 5_000;
  for (let sent = 0; sent < RECORDS; sent += chunk) {
    const records = [];
    for (let index = sent; index < Math.min(sent + chunk, RECORDS); index++) records.push({ topic, key: Buffer.from(`k${index % KEYS}`), value, headers: [], timestamp: Date.now() });
    const results = await producer.send(records);
    const failed = results.filter((result) => result.error !== null).length;
    if (failed > 0) throw new Error(`writing the input: ${failed} records failed`);
  }
}

/** Reads the output topic read_committed until `expected` records arrived; the time of the first and the last. */
async function countOutput(cluster: ClusterClient, output: TopicInfo, expected: number, started: number): Promise<{ firstMs: number; lastMs: number }> {
  const consumer = new Consumer(cluster, output, new Map(output.partitions.map(({ partition }) => [partition, 0])), true);
  let seen = 0;
  let firstMs = -1;
  while (seen < expected) {
    if (performance.now() - started > RUN_TIMEOUT_MS) throw new Error(`only ${seen} of ${expected} output records within ${RUN_TIMEOUT_MS} ms`);
    const records = await consumer.poll(100);
    if (records.length > 0 && firstMs < 0) firstMs = performance.now() - started;
    seen += records.length;
  }
  if (seen !== expected) throw new Error(`${seen} output records, ${expected} expected`);
  return { firstMs, lastMs: performance.now() - started };
}

async function streamsRun(cluster: ClusterClient, admin: AdminClient, input: string, pipeline: Pipeline, guarantee: Guarantee, round: number, baseline: number, work: string): Promise<StreamsRun> {
  const name = `${pipeline}-${guarantee}-r${round}`;
  const output = `out-${name}`;
  await createTopic(broker!.bootstrap, output, PARTITIONS);
  const outputInfo = await admin.describeTopic(output);
  const stateDir = join(work, name);
  mkdirSync(stateDir, { recursive: true });
  settleWrites();
  const streams = new KafkaStreams(topology(pipeline, input, output), {
    'application.id': `bench-${name}`,
    'bootstrap.servers': broker!.bootstrap,
    'processing.guarantee': guarantee,
    'state.dir': stateDir,
  });
  const cpuBefore = { bench: thisProcessCpuMs(), broker: processCpuMs(broker!.server.pid) };
  const started = performance.now();
  await streams.start();
  try {
    const { firstMs, lastMs } = await countOutput(cluster, outputInfo, RECORDS, started);
    const whole = rate(RECORDS, lastMs);
    return {
      ...whole,
      pipeline,
      guarantee,
      firstOutputMs: firstMs,
      afterFirstOutputRecordsPerSec: RECORDS / ((lastMs - firstMs) / 1000),
      benchCpuMs: thisProcessCpuMs() - cpuBefore.bench,
      brokerCpuMs: processCpuMs(broker!.server.pid) - cpuBefore.broker,
      ratio: whole.recordsPerSec / baseline,
    };
  } finally {
    await streams.close();
  }
}

function settleWrites(): void {
  execFileSync('sync');
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-streams-'));
  cleanups.push(work);
  const setup = {
    machine: { ...machineBase(), loadAverageAtStart: loadavg() },
    build: buildInfo('bin/conveyor.js'),
    records: RECORDS,
    recordSizeBytes: RECORD_BYTES,
    keys: KEYS,
    partitions: PARTITIONS,
    perf: { acks: 'all', compression: 'none' },
    streams: 'KafkaStreams in the bench process through tsx, default store (LevelDB), one instance, Kafka commit.interval.ms defaults',
    broker: `bin/conveyor.js start, default settings but group.initial.rebalance.delay.ms=0, data under ${tmpdir()}`,
  };
  broker = await startConveyor(join(work, 'broker'), undefined, ['--set', 'group.initial.rebalance.delay.ms=0']);
  const cluster = new ClusterClient(connectTcp, broker.bootstrap, 'bench-streams');
  const admin = new AdminClient(cluster);
  const rounds: Round[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const perfTopic = `perf-${round}`;
      await createTopic(broker.bootstrap, perfTopic, PARTITIONS);
      settleWrites();
      log(`round ${round}: perf produce`);
      const produced = await perfTool('produce', broker.bootstrap, ['-t', perfTopic, '-n', String(RECORDS), '--record-size', String(RECORD_BYTES), '--acks', 'all', '--duration-ms', String(PERF_TIMEOUT_MS - 10_000)]);
      settleWrites();
      log(`round ${round}: perf consume`);
      const consumed = await perfTool('consume', broker.bootstrap, ['-t', perfTopic, '-n', String(RECORDS), '--duration-ms', String(PERF_TIMEOUT_MS - 10_000)]);
      const perfProduce = rate(produced.records, produced.elapsedMs);
      const perfConsume = rate(consumed.records, consumed.elapsedMs);
      const baselineRecordsPerSec = Math.min(perfProduce.recordsPerSec, perfConsume.recordsPerSec);
      const input = `input-${round}`;
      log(`round ${round}: writing the keyed input`);
      await writeInput(cluster, admin, input);
      const runs: StreamsRun[] = [];
      for (const pipeline of ['stateless', 'windowed-count'] as const) {
        for (const guarantee of ['at_least_once', 'exactly_once_v2'] as const) {
          log(`round ${round}: ${pipeline}, ${guarantee}`);
          const run = await streamsRun(cluster, admin, input, pipeline, guarantee, round, baselineRecordsPerSec, work);
          log(`  ${Math.round(run.recordsPerSec)} records/s (×${run.ratio.toFixed(3)} of perf), first output after ${Math.round(run.firstOutputMs)} ms`);
          runs.push(run);
        }
      }
      rounds.push({ round, perfProduce, perfConsume, baselineRecordsPerSec, runs, loadAverage: loadavg() });
    }
  } finally {
    cluster.close();
  }
  report(setup, rounds);
}


function report(setup: Record<string, unknown>, rounds: Round[]): void {
  const lines = [`Setup: ${JSON.stringify(setup)}`, '', '| run | records/s (median of rounds) | × perf baseline (per round) | first output ms | records/s after it |', '|---|---|---|---|---|'];
  lines.push(`| perf produce / consume (baseline: the slower) | ${Math.round(median(rounds.map((r) => r.baselineRecordsPerSec)))} | 1 | – | – |`);
  for (const pipeline of ['stateless', 'windowed-count'] as const) {
    for (const guarantee of ['at_least_once', 'exactly_once_v2'] as const) {
      const runs = rounds.map((round) => round.runs.find((run) => run.pipeline === pipeline && run.guarantee === guarantee)!);
      lines.push(
        `| ${pipeline}, ${guarantee} | ${Math.round(median(runs.map((run) => run.recordsPerSec)))} | ${runs.map((run) => run.ratio.toFixed(3)).join(', ')} | ${Math.round(median(runs.map((run) => run.firstOutputMs)))} | ${Math.round(median(runs.map((run) => run.afterFirstOutputRecordsPerSec)))} |`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (flags['no-results']) return;
  mkdirSync('bench/results', { recursive: true });
  const file = join('bench/results', `streams-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ setup, rounds }, null, 2)}\n`);
  log(`results in ${file}`);
}

try {
  await main();
} finally {
  if (broker !== undefined) await stopServer(broker.server);
  for (const path of cleanups) rmSync(path, { recursive: true, force: true });
}
