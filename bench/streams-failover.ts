// On-demand benchmark of Conveyor Streams' failover (issue 23; not part of `npm run bench`):
// `npx tsx bench/streams-failover.ts`, after `npm run build` (the broker is the CLI build). It
// measures how long a surviving instance takes to resume the work of a failed one, with and
// without a standby replica, in the same run.
//
// One `conveyor start` broker in its own process, default settings except
// group.initial.rebalance.delay.ms=0, data under the temporary directory. The input (--records
// records of --value-bytes over --keys distinct keys, keys k0..k{KEYS-1} in turn, then one `#load`
// sentinel per partition) is written once into a topic of --partitions partitions. The value size
// weighs on the load only: the store and its changelog hold the key and an 8-byte count. Then, in each of --rounds
// rounds, two variants one after the other (their order alternates from round to round, so a
// machine that slows down over the run does not always favour the same one): num.standby.replicas
// = 0 and = 1, each a new application (its own application.id, changelog, output topic and state
// directories). A variant, with two KafkaStreams instances A and B in this process (through tsx):
//
// 1. The app is groupByKey().count() into a store (--store: LevelDB by default, or in_memory),
//    logged to its compacted changelog (one changelog record per input record: there is no record
//    cache); only the counts of the `#` keys (sentinels and markers) go on to the output topic.
// 2. Load: A starts alone and counts the whole input (it has every task); loaded once the output
//    has the `#load` sentinel of every partition. Then B starts; the variant waits until both are
//    RUNNING with the tasks shared (P/2 active each) and, with a standby, until B's standbys have
//    caught up: B's standbyRecords has reached the records of A's changelog partitions (end less
//    earliest offset: exact while the log cleaner has not compacted them, which it does not here,
//    the changelog being far below a segment) and then no longer grows for 1 s. A quiet spell alone
//    is not enough: under load B's loop can stall for seconds with its standbys behind.
// 3. Failure: A leaves (--failure close, the default: a clean close() that commits and sends
//    LeaveGroup, so the measure is the rebalance and the restoration, not a session timeout, which
//    would be the same in both variants and only dilute the difference; or --failure kill: kill(),
//    no LeaveGroup, the coordinator waits for --session-timeout-ms). Right after A's close()/kill()
//    returns (not before, so A cannot be the one that counts it), one fresh `#marker` record is
//    written to each of A's former partitions.
// 4. Measured on B, from the call that fails A: when B noticed (its REBALANCING), when it was
//    RUNNING with all P tasks, and the time to resume: when the output had the counts of every
//    marker, that is when B processed a new record on each partition A had. Also the time to
//    resume less the time to notice (the rebalance and restoration without the chance of where
//    B's heartbeat fell). Beside it, B's restoredRecords and standbyRecords deltas over the failover.
//
// Reported: per variant the median of the rounds, and per round the ratio standby/no-standby of the
// time to resume (the two variants of a round ran within a minute of each other; compare those
// ratios rather than absolute times on a shared machine). Every wait has a time limit
// (--timeout-ms); the broker listens on 127.0.0.1 and is stopped by its pid at the end, also on
// failure. Writes bench/results/streams-failover-<date>.json and prints the setup and a table.
//
// Flags (defaults in brackets): --records [400000], --keys [200000], --value-bytes [100],
// --partitions [4], --rounds [3],
// --store [leveldb | in_memory], --failure [close | kill], --session-timeout-ms [6000] (kill only),
// --heartbeat-ms [500] (how soon B hears of the rebalance; Kafka's default 3000 would add up to 3 s
// of chance to each measure), --timeout-ms [180000] per wait, --no-results.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AdminClient, OffsetSpec, type TopicInfo } from '../src/client/admin-client.js';
import { ClusterClient } from '../src/client/cluster-client.js';
import { Consumer } from '../src/client/consumer.js';
import { Producer, type ProducerRecord } from '../src/client/producer.js';
import { connectTcp } from '../src/node/tcp-byte-stream.js';
import { Consumed, KafkaStreams, Materialized, Produced, Serdes, StreamsBuilder, type Topology } from '../src/streams/index.js';
import { type RunningConveyor, createTopic, startConveyor } from './lib/conveyor.js';
import { buildInfo, machineBase } from './lib/machine.js';
import { sleep, stopServer } from './lib/processes.js';
import { median } from './lib/measurements.js';

const { values: flags } = parseArgs({
  options: {
    records: { type: 'string', default: '400000' },
    keys: { type: 'string', default: '200000' },
    'value-bytes': { type: 'string', default: '100' },
    partitions: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    store: { type: 'string', default: 'leveldb' },
    failure: { type: 'string', default: 'close' },
    'session-timeout-ms': { type: 'string', default: '6000' },
    'heartbeat-ms': { type: 'string', default: '500' },
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

function oneOf<T extends string>(name: keyof typeof flags, allowed: readonly T[]): T {
  const value = String(flags[name]);
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`--${name}: one of ${allowed.join(', ')}, not '${value}'`);
  return value as T;
}

const RECORDS = positive('records');
const KEYS = positive('keys');
const VALUE_BYTES = positive('value-bytes');
const PARTITIONS = positive('partitions');
const ROUNDS = positive('rounds');
const STORE = oneOf('store', ['leveldb', 'in_memory'] as const);
const FAILURE = oneOf('failure', ['close', 'kill'] as const);
const SESSION_TIMEOUT_MS = positive('session-timeout-ms');
const HEARTBEAT_MS = positive('heartbeat-ms');
const TIMEOUT_MS = positive('timeout-ms');
const STORE_NAME = 'counts';
/** How long B's standbyRecords must stay unchanged, once it reached A's changelog, to count as caught up. */
const STANDBY_QUIET_MS = 1_000;
if (PARTITIONS < 2) throw new Error('--partitions: at least 2, so that A and B both have tasks');

type Standbys = 0 | 1;

interface Failover {
  standbys: Standbys;
  applicationId: string;
  /** A's active tasks when it failed (B takes these over). */
  failedTasks: string[];
  /** Changelog records of A's partitions (end - earliest offset) when A failed. */
  failedChangelogRecords: number;
  /** With a standby: A's changelog records less what B's standbys had applied when A failed. */
  standbyLagAtFailure: number;
  loadMs: number;
  /** From B's start until both were RUNNING with the tasks shared (and B's standbys caught up). */
  settleMs: number;
  /** close() or kill() of A, from the call until it returned. */
  failMs: number;
  noticedMs: number;
  runningWithAllTasksMs: number;
  resumeMs: number;
  /** resumeMs less noticedMs: the rebalance and the restoration, without the wait for B's next heartbeat. */
  resumeAfterNoticedMs: number;
  restoredRecords: number;
  standbyRecords: number;
}

interface Round {
  round: number;
  failovers: Failover[];
  /** Time to resume with a standby / without, this round. */
  ratio: number;
  /** The same for the time from B's noticing to resuming. */
  ratioAfterNoticed: number;
  loadAverage: number[];
}

let broker: RunningConveyor | undefined;
const running: KafkaStreams[] = [];
const cleanups: string[] = [];

function log(message: string): void {
  process.stderr.write(`[bench:streams-failover] ${message}\n`);
}

function topology(input: string, output: string): Topology {
  const builder = new StreamsBuilder();
  const materialized = Materialized.as<string, number>(STORE_NAME);
  builder
    .stream(input, Consumed.with(Serdes.String(), Serdes.String()))
    .groupByKey()
    .count(undefined, materialized)
    .toStream()
    // Only the sentinels and markers reach the output: the measure watches them, not 400,000 counts.
    .filter((key) => key.startsWith('#'))
    .to(output, Produced.with(Serdes.String(), Serdes.Long()));
  return builder.build();
}

function startInstance(name: string, applicationId: string, input: string, output: string, standbys: Standbys, stateDir: string): KafkaStreams {
  const streams = new KafkaStreams(topology(input, output), {
    'application.id': applicationId,
    'bootstrap.servers': broker!.bootstrap,
    'state.dir': join(stateDir, name),
    'num.standby.replicas': standbys,
    'dsl.default.store.type': STORE === 'leveldb' ? 'rocksDB' : 'in_memory',
    'consumer.heartbeat.interval.ms': HEARTBEAT_MS,
    ...(FAILURE === 'kill' ? { 'consumer.session.timeout.ms': SESSION_TIMEOUT_MS } : {}),
  });
  running.push(streams);
  return streams;
}

/** Writes the input once: RECORDS counted records, then one `#load` sentinel per partition. */
async function writeInput(cluster: ClusterClient, admin: AdminClient, topic: string): Promise<void> {
  await createTopic(broker!.bootstrap, topic, PARTITIONS);
  const producer = new Producer(cluster, await admin.describeTopic(topic), { compression: 0, acks: -1 });
  const value = Buffer.alloc(VALUE_BYTES, 'v');
  const chunk = 5_000;
  for (let sent = 0; sent < RECORDS; sent += chunk) {
    const records: ProducerRecord[] = [];
    for (let index = sent; index < Math.min(sent + chunk, RECORDS); index++) records.push({ topic, key: Buffer.from(`k${index % KEYS}`), value, headers: [] });
    await send(producer, records);
  }
  await send(producer, sentinels(topic, '#load', range(PARTITIONS)));
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, index) => index);
}

function sentinels(topic: string, prefix: string, partitions: readonly number[]): ProducerRecord[] {
  return partitions.map((partition) => ({ topic, partition, key: Buffer.from(`${prefix}-p${partition}`), value: Buffer.from('m'), headers: [], timestamp: Date.now() }));
}

async function send(producer: Producer, records: ProducerRecord[]): Promise<void> {
  const failed = (await producer.send(records)).filter((result) => result.error !== null);
  if (failed.length > 0) throw new Error(`${failed.length} records failed: ${failed[0]!.error}`);
}

/** Reads `consumer` until every key of `keys` arrived; the time it took, from `since`. */
async function awaitKeys(consumer: Consumer, keys: readonly string[], since: number, what: string, watched: readonly KafkaStreams[]): Promise<number> {
  const missing = new Set(keys);
  while (missing.size > 0) {
    for (const streams of watched) if (streams.state === 'ERROR') throw new Error(`${what}: an instance failed: ${streams.error?.message}`);
    if (performance.now() - since > TIMEOUT_MS) throw new Error(`${what}: no output for ${[...missing].join(', ')} within ${TIMEOUT_MS} ms`);
    for (const record of await consumer.poll(50)) if (record.key) missing.delete(record.key.toString());
  }
  return performance.now() - since;
}

async function waitUntil(condition: () => boolean, what: string, watched: readonly KafkaStreams[]): Promise<void> {
  const deadline = performance.now() + TIMEOUT_MS;
  while (!condition()) {
    for (const streams of watched) if (streams.state === 'ERROR') throw new Error(`${what}: an instance failed: ${streams.error?.message}`);
    if (performance.now() > deadline) throw new Error(`${what}: not within ${TIMEOUT_MS} ms`);
    await sleep(20);
  }
}

/** Waits until `read()` has not changed for `quietMs`. */
async function waitQuiet(read: () => number, quietMs: number, what: string, watched: readonly KafkaStreams[]): Promise<void> {
  let last = read();
  let since = performance.now();
  await waitUntil(() => {
    const now = read();
    if (now !== last) {
      last = now;
      since = performance.now();
    }
    return performance.now() - since >= quietMs;
  }, what, watched);
}

async function outputConsumer(cluster: ClusterClient, admin: AdminClient, output: TopicInfo, from: 'earliest' | 'latest'): Promise<Consumer> {
  const offsets = await admin.listOffsets(output, from === 'earliest' ? OffsetSpec.earliest : OffsetSpec.latest);
  return new Consumer(cluster, output, new Map(output.partitions.map(({ partition }) => [partition, Math.max(0, offsets.get(partition) ?? 0)])));
}

async function changelogRecords(admin: AdminClient, changelog: string, partitions: readonly number[]): Promise<number> {
  const info = await admin.describeTopic(changelog);
  const earliest = await admin.listOffsets(info, OffsetSpec.earliest);
  const latest = await admin.listOffsets(info, OffsetSpec.latest);
  return partitions.reduce((sum, partition) => sum + (latest.get(partition) ?? 0) - Math.max(0, earliest.get(partition) ?? 0), 0);
}

function partitionOf(task: string): number {
  return Number(task.split('_')[1]);
}

async function failover(cluster: ClusterClient, admin: AdminClient, input: string, standbys: Standbys, round: number, work: string): Promise<Failover> {
  const applicationId = `failover-s${standbys}-r${round}`;
  const output = `${applicationId}-out`;
  await createTopic(broker!.bootstrap, output, 1);
  const outputInfo = await admin.describeTopic(output);
  const stateDir = join(work, applicationId);
  mkdirSync(stateDir, { recursive: true });
  execFileSync('sync');

  log(`round ${round}, standbys=${standbys}: A loads the state`);
  const loadStarted = performance.now();
  const loadOutput = await outputConsumer(cluster, admin, outputInfo, 'earliest');
  const a = startInstance('a', applicationId, input, output, standbys, stateDir);
  await a.start();
  const loadMs = await awaitKeys(loadOutput, range(PARTITIONS).map((p) => `#load-p${p}`), loadStarted, 'loading', [a]);

  log(`round ${round}, standbys=${standbys}: B joins (A loaded in ${Math.round(loadMs)} ms)`);
  const settleStarted = performance.now();
  const b = startInstance('b', applicationId, input, output, standbys, stateDir);
  await b.start();
  const half = Math.floor(PARTITIONS / 2);
  const shared = () =>
    a.state === 'RUNNING' && b.state === 'RUNNING' && a.localTasks().active.length + b.localTasks().active.length === PARTITIONS && Math.min(a.localTasks().active.length, b.localTasks().active.length) >= half;
  await waitUntil(shared, 'sharing the tasks', [a, b]);
  const changelog = `${applicationId}-${STORE_NAME}-changelog`;
  if (standbys > 0) {
    await waitUntil(() => shared() && b.localTasks().standby.length === a.localTasks().active.length, 'B standing by for A', [a, b]);
    const span = await changelogRecords(admin, changelog, a.localTasks().active.map(partitionOf));
    await waitUntil(() => b.standbyRecords >= span, `B's standbys applying ${span} changelog records`, [a, b]);
    await waitQuiet(() => b.standbyRecords, STANDBY_QUIET_MS, 'B\'s standbys catching up', [a, b]);
  }
  // Settled: still shared after a moment (no rebalance was under way).
  await sleep(1_000);
  await waitUntil(shared, 'sharing the tasks (settled)', [a, b]);
  const settleMs = performance.now() - settleStarted;

  const failedTasks = a.localTasks().active;
  const failedPartitions = failedTasks.map(partitionOf);
  const failedChangelogRecords = await changelogRecords(admin, changelog, failedPartitions);
  const markerOutput = await outputConsumer(cluster, admin, outputInfo, 'latest');
  const markerProducer = new Producer(cluster, await admin.describeTopic(input), { compression: 0, acks: -1 });
  const restoredBefore = b.restoredRecords;
  const standbyBefore = b.standbyRecords;
  let noticed = -1;
  let runningWithAll = -1;
  let failedAt = Number.POSITIVE_INFINITY;
  b.setStateListener((state) => {
    const now = performance.now();
    if (now < failedAt) return;
    if (state === 'REBALANCING' && noticed < 0) noticed = now - failedAt;
    // The runtime applies the assignment before it reports RUNNING, so the task list is final here.
    if (state === 'RUNNING' && runningWithAll < 0 && b.localTasks().active.length === PARTITIONS) runningWithAll = now - failedAt;
  });

  log(`round ${round}, standbys=${standbys}: A fails (${FAILURE}) with tasks ${failedTasks.join(', ')} (${failedChangelogRecords} changelog records)`);
  failedAt = performance.now();
  await (FAILURE === 'close' ? a.close() : a.kill());
  const failMs = performance.now() - failedAt;
  const markers = `#marker-${applicationId}`;
  await send(markerProducer, sentinels(input, markers, failedPartitions));
  const resumeMs = await awaitKeys(markerOutput, failedPartitions.map((p) => `${markers}-p${p}`), failedAt, 'resuming', [b]);
  if (noticed < 0) throw new Error('B processed the markers but never reported REBALANCING after A failed');
  if (runningWithAll < 0) throw new Error(`B processed the markers but never reported RUNNING with all ${PARTITIONS} tasks: ${JSON.stringify(b.localTasks())}`);
  const result: Failover = {
    standbys,
    applicationId,
    failedTasks,
    failedChangelogRecords,
    standbyLagAtFailure: standbys > 0 ? failedChangelogRecords - standbyBefore : failedChangelogRecords,
    loadMs,
    settleMs,
    failMs,
    noticedMs: noticed,
    runningWithAllTasksMs: runningWithAll,
    resumeMs,
    resumeAfterNoticedMs: resumeMs - noticed,
    restoredRecords: b.restoredRecords - restoredBefore,
    standbyRecords: b.standbyRecords - standbyBefore,
  };
  log(`  resumed after ${Math.round(resumeMs)} ms (noticed ${Math.round(noticed)}, RUNNING with all tasks ${Math.round(runningWithAll)}), restored ${result.restoredRecords} records`);
  await b.close();
  rmSync(stateDir, { recursive: true, force: true });
  return result;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-streams-failover-'));
  cleanups.push(work);
  const setup = {
    machine: { ...machineBase(), loadAverageAtStart: loadavg() },
    build: buildInfo('bin/conveyor.js'),
    records: RECORDS,
    keys: KEYS,
    valueBytes: VALUE_BYTES,
    partitions: PARTITIONS,
    store: STORE === 'leveldb' ? 'LevelDB (the default persistent store)' : 'in-memory',
    app: 'groupByKey().count(), logged (one changelog record per input record), at_least_once, Kafka commit.interval.ms default',
    instances: 'two KafkaStreams instances, A and B, in the bench process through tsx; state under the temporary directory',
    failure: FAILURE === 'close' ? 'A.close(): clean leave (commit, checkpoints, LeaveGroup)' : `A.kill(): no LeaveGroup, consumer.session.timeout.ms=${SESSION_TIMEOUT_MS}`,
    heartbeatIntervalMs: HEARTBEAT_MS,
    broker: `bin/conveyor.js start, default settings but group.initial.rebalance.delay.ms=0, data under ${tmpdir()}`,
  };
  log(`setup: ${JSON.stringify(setup)}`);
  broker = await startConveyor(join(work, 'broker'), undefined, ['--set', 'group.initial.rebalance.delay.ms=0']);
  const cluster = new ClusterClient(connectTcp, broker.bootstrap, 'bench-streams-failover');
  const admin = new AdminClient(cluster);
  const rounds: Round[] = [];
  try {
    const input = 'failover-input';
    log(`writing the input: ${RECORDS} records, ${KEYS} keys, ${PARTITIONS} partitions`);
    await writeInput(cluster, admin, input);
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Standbys[] = round % 2 === 1 ? [0, 1] : [1, 0];
      const failovers: Failover[] = [];
      for (const standbys of order) failovers.push(await failover(cluster, admin, input, standbys, round, work));
      const [without, withStandby] = [failovers.find((f) => f.standbys === 0)!, failovers.find((f) => f.standbys === 1)!];
      rounds.push({ round, failovers, ratio: withStandby.resumeMs / without.resumeMs, ratioAfterNoticed: withStandby.resumeAfterNoticedMs / without.resumeAfterNoticedMs, loadAverage: loadavg() });
      log(`round ${round}: standby/no-standby time to resume ×${rounds.at(-1)!.ratio.toFixed(3)}`);
    }
  } finally {
    cluster.close();
  }
  report(setup, rounds);
}


function report(setup: Record<string, unknown>, rounds: Round[]): void {
  const lines = [
    `Setup: ${JSON.stringify(setup)}`,
    '',
    '| num.standby.replicas | time to resume ms (median) | B noticed ms | B RUNNING with all tasks ms | A close/kill ms | B restored records | B standby records | A\'s changelog records | B\'s standby lag at failure |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const standbys of [0, 1] as const) {
    const runs = rounds.map((round) => round.failovers.find((f) => f.standbys === standbys)!);
    const m = (pick: (f: Failover) => number) => Math.round(median(runs.map(pick)));
    lines.push(`| ${standbys} | ${m((f) => f.resumeMs)} | ${m((f) => f.noticedMs)} | ${m((f) => f.runningWithAllTasksMs)} | ${m((f) => f.failMs)} | ${m((f) => f.restoredRecords)} | ${m((f) => f.standbyRecords)} | ${m((f) => f.failedChangelogRecords)} | ${m((f) => f.standbyLagAtFailure)} |`);
  }
  lines.push(
    '',
    '| round | resume ms, 0 standbys | resume ms, 1 standby | ratio standby / no standby | after B noticed ms, 0 / 1 | ratio after B noticed |',
    '|---|---|---|---|---|---|',
  );
  for (const round of rounds) {
    const of = (standbys: Standbys) => round.failovers.find((f) => f.standbys === standbys)!;
    lines.push(
      `| ${round.round} | ${Math.round(of(0).resumeMs)} | ${Math.round(of(1).resumeMs)} | ${round.ratio.toFixed(3)} | ${Math.round(of(0).resumeAfterNoticedMs)} / ${Math.round(of(1).resumeAfterNoticedMs)} | ${round.ratioAfterNoticed.toFixed(3)} |`,
    );
  }
  lines.push(`| median | | | ${median(rounds.map((round) => round.ratio)).toFixed(3)} | | ${median(rounds.map((round) => round.ratioAfterNoticed)).toFixed(3)} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (flags['no-results']) return;
  mkdirSync('bench/results', { recursive: true });
  const file = join('bench/results', `streams-failover-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ setup, rounds }, null, 2)}\n`);
  log(`results in ${file}`);
}

try {
  await main();
} finally {
  // Instances left by a failed run: killed, so their loops stop and the process can exit.
  for (const streams of running) if (streams.state !== 'NOT_RUNNING') await streams.kill().catch(() => undefined);
  if (broker !== undefined) await stopServer(broker.server);
  for (const path of cleanups) rmSync(path, { recursive: true, force: true });
}
