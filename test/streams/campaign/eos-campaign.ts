// On-demand exactly-once campaign for Conveyor Streams (issue 23; not part of `npm test`, too long):
//
//   npm run build && npx tsx test/streams/campaign/eos-campaign.ts [flags]
//
// "An application instance killed with -9 repeatedly while counting 1,000,000 records across 3
// instances: final counts exact, no duplicate output under read_committed." What it does:
//
// 1. Starts one broker (`bin/conveyor.js start`, the build) in its own process on a free loopback
//    port, data under a temporary directory, with short group and transaction-abort timers.
// 2. Creates the input and output topics (--partitions each) and starts --instances worker
//    processes (counting-worker.ts: exactly_once_v2, groupByKey().count() in the default LevelDB
//    store, each count to the output as a Long), each with its own state directory.
// 3. While the workers run, an acks=all producer here writes --records records keyed key-<i>
//    (i drawn from --keys by a seeded RNG) at up to --produce-rate records/s, and a chaos loop
//    SIGKILLs a random live worker (seeded RNG) every --kill-every-ms on average (uniform between
//    half and one and a half of it), then restarts it after up to --restart-delay-ms on the SAME
//    state directory (a killed exactly-once instance must not trust it: there is no checkpoint)
//    or, with --fresh-state, on an emptied one. Kills go on until all the input is counted.
// 4. A read_committed consumer here follows the output from offset 0 the whole time. Once every
//    key's count reached its input count, it waits --settle-ms more (late duplicates), stops the
//    workers (SIGTERM: a clean close), waits until no transaction is open on the output (last
//    stable offset = high watermark) and reads the output to its end.
// 5. Reads the input topic back (what was really written: a retried produce could add records) and
//    checks, per key, that the counts seen in offset order are exactly 1, 2, ..., n_key (no
//    duplicate, no gap, the last one the key's input count), that no key appears that was not
//    input, and that the output holds as many records as the input.
//
// Prints a report (records, instances, kills, restarts, worker errors, wall time, records/s, each
// anomaly as key / expected / seen) and exits 1 on any anomaly or on the timeout. Every process it
// starts is stopped by its pid at the end, also on failure or Ctrl-C, and the temporary directory
// is removed (--keep keeps it). --self-test drop-one (or duplicate-one) corrupts the observation on
// purpose before the check (one output record dropped, or read twice), to show the checker reports
// it: the run must then end in FAIL with that key as its anomaly.
//
// Flags (defaults in brackets, the issue's figures): --records [1000000], --instances [3],
// --keys [10000], --partitions [6], --kill-every-ms [4000], --seed [1], --timeout-ms [2400000],
// --produce-rate [20000] records/s (0: unlimited), --commit-interval-ms [1000],
// --restart-delay-ms [1000], --settle-ms [5000], --stall-ms [300000] (give up when no new output
// record is read committed for that long: a livelock), --transaction-timeout-ms [10000] (the
// workers' producer.transaction.timeout.ms; 10 s is Kafka Streams' default under exactly-once),
// --fresh-state, --keep, --self-test <drop-one|duplicate-one>.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AdminClient, OffsetSpec, type TopicInfo } from '../../../src/client/admin-client.js';
import { ClusterClient } from '../../../src/client/cluster-client.js';
import { Consumer, type ConsumedRecord } from '../../../src/client/consumer.js';
import { Producer, type ProducerRecord } from '../../../src/client/producer.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { type RunningConveyor, createTopic, startConveyor } from '../../../bench/lib/conveyor.js';
import { stopServer } from '../../../bench/lib/processes.js';
import { seededRandom } from '../../support/records.js';

const { values: flags } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    instances: { type: 'string', default: '3' },
    keys: { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '6' },
    'kill-every-ms': { type: 'string', default: '4000' },
    seed: { type: 'string', default: '1' },
    'timeout-ms': { type: 'string', default: '2400000' },
    'produce-rate': { type: 'string', default: '20000' },
    'commit-interval-ms': { type: 'string', default: '1000' },
    'restart-delay-ms': { type: 'string', default: '1000' },
    'settle-ms': { type: 'string', default: '5000' },
    'stall-ms': { type: 'string', default: '300000' },
    'transaction-timeout-ms': { type: 'string', default: '10000' },
    'fresh-state': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'self-test': { type: 'string' },
  },
  strict: true,
});

function integer(name: keyof typeof flags, min: number): number {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name}: an integer of at least ${min}, not '${String(flags[name])}'`);
  return value;
}

const RECORDS = integer('records', 1);
const INSTANCES = integer('instances', 1);
const KEYS = integer('keys', 1);
const PARTITIONS = integer('partitions', 1);
const KILL_EVERY_MS = integer('kill-every-ms', 0);
const SEED = integer('seed', 0);
const TIMEOUT_MS = integer('timeout-ms', 1);
const PRODUCE_RATE = integer('produce-rate', 0);
const COMMIT_INTERVAL_MS = integer('commit-interval-ms', 1);
const RESTART_DELAY_MS = integer('restart-delay-ms', 0);
const SETTLE_MS = integer('settle-ms', 0);
const STALL_MS = integer('stall-ms', 1);
const TRANSACTION_TIMEOUT_MS = integer('transaction-timeout-ms', 1);
if (flags['self-test'] !== undefined && !['drop-one', 'duplicate-one'].includes(flags['self-test'])) throw new Error(`--self-test: drop-one or duplicate-one, not '${flags['self-test']}'`);
const APPLICATION_ID = 'eos-campaign';
const INPUT = 'eos-campaign-input';
const OUTPUT = 'eos-campaign-output';
const PRODUCE_CHUNK = 1000;
const WORKER = join(import.meta.dirname, 'counting-worker.ts');
/** How long a stopped worker gets to close cleanly, and the final drain to find no open transaction. */
const STOP_GRACE_MS = 20_000;
const DRAIN_MS = 60_000;

// Seeded randomness (test/support's mulberry32): the same --seed gives the same keys and the same kill plan.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function log(message: string): void {
  process.stderr.write(`[eos-campaign ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---- Workers ----

interface Slot {
  readonly index: number;
  readonly stateDir: string;
  child: ChildProcess | undefined;
  state: string;
  /** The worker's last output lines, for error reports. */
  tail: string[];
  /** Set while this process stops the worker on purpose (kill or final stop). */
  stopping: boolean;
}

interface WorkerError {
  slot: number;
  code: number | null;
  signal: string | null;
  tail: string;
}

const slots: Slot[] = [];
const workerErrors: WorkerError[] = [];
let finishing = false;
let restarts = 0;

function alive(slot: Slot): boolean {
  return slot.child !== undefined && slot.child.exitCode === null && slot.child.signalCode === null;
}

function startWorker(slot: Slot, bootstrap: string): void {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, bootstrap, APPLICATION_ID, INPUT, OUTPUT, slot.stateDir, String(COMMIT_INTERVAL_MS), String(TRANSACTION_TIMEOUT_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  slot.child = child;
  slot.state = 'STARTING';
  slot.stopping = false;
  const keep = (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      const state = /^state (\w+)/.exec(line);
      if (state) slot.state = state[1]!;
      if (!line.startsWith('counted ')) slot.tail = [...slot.tail, line].slice(-12);
    }
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  child.once('exit', (code, signal) => {
    slot.state = 'DEAD';
    if (slot.stopping || slot.child !== child) return;
    // Not stopped by us: the instance failed (state ERROR, exit 3) or crashed. Report it, restart it.
    workerErrors.push({ slot: slot.index, code, signal, tail: slot.tail.join(' / ') });
    log(`worker ${slot.index} exited by itself (code ${code}, signal ${signal}): ${slot.tail.slice(-3).join(' / ')}`);
    if (!finishing) {
      setTimeout(() => {
        if (!finishing && !alive(slot)) {
          restarts++;
          startWorker(slot, bootstrap);
        }
      }, 500);
    }
  });
}

/** Stops a worker by its pid and waits for its exit: SIGKILL at once, or SIGTERM then SIGKILL after `graceMs`. */
async function stopWorker(slot: Slot, signal: 'SIGKILL' | 'SIGTERM', graceMs = STOP_GRACE_MS): Promise<void> {
  const child = slot.child;
  if (child === undefined || !alive(slot)) return;
  slot.stopping = true;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => {
    if (alive(slot)) child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

// ---- The chaos loop ----

interface Chaos {
  kills: number;
  killsWhileRunning: number;
}

async function chaosLoop(bootstrap: string, done: () => boolean, chaos: Chaos): Promise<void> {
  if (KILL_EVERY_MS === 0) return;
  const rng = seededRandom(SEED * 2 + 1);
  while (!done()) {
    const wait = KILL_EVERY_MS * (0.5 + rng());
    const until = performance.now() + wait;
    while (performance.now() < until && !done()) await sleep(Math.min(100, until - performance.now()));
    if (done()) return;
    const candidates = slots.filter(alive);
    if (candidates.length === 0) continue;
    const victim = candidates[Math.floor(rng() * candidates.length)]!;
    if (victim.state === 'RUNNING') chaos.killsWhileRunning++;
    await stopWorker(victim, 'SIGKILL');
    chaos.kills++;
    await sleep(rng() * RESTART_DELAY_MS);
    if (finishing) return;
    if (flags['fresh-state']) rmSync(victim.stateDir, { recursive: true, force: true });
    restarts++;
    startWorker(victim, bootstrap);
  }
}

// ---- Input ----

interface Production {
  /** Records acknowledged per key (retried records counted once). */
  readonly counts: Map<string, number>;
  acknowledged: number;
  retried: number;
  finished: boolean;
}

/** Writes RECORDS records (acks=all) at up to PRODUCE_RATE records/s; failed records are sent again. */
async function produceInput(cluster: ClusterClient, admin: AdminClient, production: Production, stop: () => boolean): Promise<void> {
  const rng = seededRandom(SEED * 2);
  let info = await admin.describeTopic(INPUT);
  const producer = new Producer(cluster, info, { compression: 0, acks: -1 });
  const started = performance.now();
  for (let sent = 0; sent < RECORDS && !stop(); sent += PRODUCE_CHUNK) {
    let records: ProducerRecord[] = [];
    for (let index = sent; index < Math.min(sent + PRODUCE_CHUNK, RECORDS); index++) {
      records.push({ key: Buffer.from(`key-${Math.floor(rng() * KEYS)}`), value: Buffer.from(`v-${index}`), headers: [], timestamp: Date.now() });
    }
    for (let attempt = 0; records.length > 0; attempt++) {
      if (attempt > 0) {
        if (attempt > 20 || stop()) throw new Error(`producing the input: ${records.length} records still failing after ${attempt} attempts`);
        production.retried += records.length;
        await sleep(200);
        info = await admin.describeTopic(INPUT).catch(() => info);
        producer.setTopic(info);
      }
      const results = await producer.send(records).catch((error: unknown) => records.map(() => ({ error: String(error) })));
      const failed: ProducerRecord[] = [];
      results.forEach((result, index) => {
        if (result.error !== null) failed.push(records[index]!);
        else {
          const key = records[index]!.key!.toString();
          production.counts.set(key, (production.counts.get(key) ?? 0) + 1);
          production.acknowledged++;
        }
      });
      records = failed;
    }
    if (PRODUCE_RATE > 0) {
      const due = started + ((sent + PRODUCE_CHUNK) / PRODUCE_RATE) * 1000;
      if (due > performance.now()) await sleep(due - performance.now());
    }
  }
  production.finished = true;
}

/** The input as written, read back from offset 0 to the end: records per key. */
async function readInputBack(cluster: ClusterClient, admin: AdminClient): Promise<{ counts: Map<string, number>; total: number }> {
  const info = await admin.describeTopic(INPUT);
  const ends = await admin.listOffsets(info, OffsetSpec.latest);
  const consumer = new Consumer(cluster, info, new Map(info.partitions.map(({ partition }) => [partition, 0])), false);
  const counts = new Map<string, number>();
  let total = 0;
  const deadline = performance.now() + 300_000;
  while (info.partitions.some(({ partition }) => (consumer.positions.get(partition) ?? 0) < (ends.get(partition) ?? 0))) {
    if (performance.now() > deadline) throw new Error('reading the input back took over 300 s');
    for (const record of await consumer.poll(100)) {
      if ((ends.get(record.partition) ?? 0) <= record.offset) continue;
      const key = record.key?.toString() ?? '<null>';
      counts.set(key, (counts.get(key) ?? 0) + 1);
      total++;
    }
  }
  return { counts, total };
}

// ---- Output, read_committed ----

class OutputObserver {
  /** Per key, the counts in the order read (offset order: a key has one partition). */
  readonly seen = new Map<string, number[]>();
  total = 0;
  readErrors = 0;
  undecodable = 0;
  private readonly consumer: Consumer;

  constructor(cluster: ClusterClient, readonly info: TopicInfo) {
    this.consumer = new Consumer(cluster, info, new Map(info.partitions.map(({ partition }) => [partition, 0])), true);
  }

  /** One poll; a failed fetch leaves the positions where they were, so it is retried. */
  async pollOnce(maxWaitMs: number): Promise<void> {
    let records: ConsumedRecord[];
    try {
      records = await this.consumer.poll(maxWaitMs);
    } catch {
      this.readErrors++;
      await sleep(200);
      return;
    }
    for (const record of records) this.add(record);
  }

  private add(record: ConsumedRecord): void {
    const key = record.key?.toString() ?? '<null>';
    let count = Number.NaN;
    if (record.value !== null && record.value.length === 8) count = Number(record.value.readBigInt64BE(0));
    else this.undecodable++;
    let list = this.seen.get(key);
    if (!list) this.seen.set(key, (list = []));
    list.push(count);
    this.total++;
  }

  /** Whether the consumer has read up to `ends` in every partition. */
  reached(ends: ReadonlyMap<number, number>): boolean {
    return this.info.partitions.every(({ partition }) => (this.consumer.positions.get(partition) ?? 0) >= (ends.get(partition) ?? 0));
  }
}

/** Every key's highest count seen reached its acknowledged input count. */
function allCounted(production: Production, observer: OutputObserver): boolean {
  if (!production.finished) return false;
  for (const [key, count] of production.counts) {
    const list = observer.seen.get(key);
    if (!list || Math.max(...list.slice(-4)) < count) return false;
  }
  return true;
}

/**
 * Waits until no transaction is open on the output (read_committed end = high watermark in every
 * partition) and reads to that end. Returns whether it got there within DRAIN_MS.
 */
async function drain(admin: AdminClient, observer: OutputObserver): Promise<boolean> {
  const deadline = performance.now() + DRAIN_MS;
  while (performance.now() < deadline) {
    const stable = await admin.listOffsets(observer.info, OffsetSpec.latest, true).catch(() => undefined);
    const high = await admin.listOffsets(observer.info, OffsetSpec.latest, false).catch(() => undefined);
    if (stable && high && [...high].every(([partition, end]) => stable.get(partition) === end)) {
      while (!observer.reached(stable)) {
        if (performance.now() > deadline) return false;
        await observer.pollOnce(100);
      }
      return true;
    }
    await observer.pollOnce(100);
  }
  return false;
}

/** For the progress line: the output's end and, per partition, the open transaction (LSO below the end) that holds readers back. */
async function outputDetail(admin: AdminClient, observer: OutputObserver): Promise<string> {
  const stable = await admin.listOffsets(observer.info, OffsetSpec.latest, true).catch(() => undefined);
  const high = await admin.listOffsets(observer.info, OffsetSpec.latest, false).catch(() => undefined);
  if (!stable || !high) return 'output offsets unknown';
  const held = [...high].filter(([partition, end]) => (stable.get(partition) ?? 0) < end).map(([partition, end]) => `p${partition} ${stable.get(partition)}<${end}`);
  return `output end ${[...high.values()].reduce((a, b) => a + b, 0)} (with markers and aborted), open: ${held.length === 0 ? 'none' : held.join(' ')}`;
}

// ---- The check ----

interface Anomaly {
  key: string;
  expected: number;
  seen: string;
  /** What went wrong: a count repeated or going back (a duplicate), a count skipped (a loss), or a correct prefix that stops short. */
  kind: 'duplicate' | 'gap' | 'incomplete' | 'too many';
}

/** Per key, the counts must be exactly 1..n in order, n the key's input count; no key without input. */
function check(expected: ReadonlyMap<string, number>, seen: ReadonlyMap<string, readonly number[]>): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const key of new Set([...expected.keys(), ...seen.keys()])) {
    const n = expected.get(key) ?? 0;
    const counts = seen.get(key) ?? [];
    const first = counts.findIndex((count, index) => count !== index + 1);
    if (first === -1 && counts.length === n) continue;
    const duplicates = counts.filter((count, index) => index > 0 && count <= counts[index - 1]!).length;
    const gaps = counts.filter((count, index) => count > (index > 0 ? counts[index - 1]! : 0) + 1).length;
    const where = first === -1 ? `ends at ${counts.length}` : `#${first + 1} is ${counts[first]} after ${first > 0 ? counts[first - 1] : 'nothing'}`;
    const kind = duplicates > 0 ? 'duplicate' : gaps > 0 ? 'gap' : counts.length < n ? 'incomplete' : 'too many';
    anomalies.push({ key, expected: n, kind, seen: `${counts.length} outputs, last ${counts.at(-1) ?? 'none'}, ${where}; ${duplicates} repeated/backward, ${gaps} skipping` });
  }
  return anomalies.sort((a, b) => a.key.localeCompare(b.key, 'en', { numeric: true }));
}

/** For --self-test: removes one observed count from the middle of the busiest key, or repeats it. */
function corruptObservation(observer: OutputObserver, how: string): string {
  let busiest: [string, number[]] | undefined;
  for (const entry of observer.seen) if (!busiest || entry[1].length > busiest[1].length) busiest = entry;
  if (!busiest || busiest[1].length === 0) return 'nothing to drop';
  const index = Math.floor(busiest[1].length / 2);
  if (how === 'duplicate-one') {
    busiest[1].splice(index, 0, busiest[1][index]!);
    observer.total++;
    return `read count ${busiest[1][index]} of ${busiest[0]} twice`;
  }
  const [dropped] = busiest[1].splice(index, 1);
  observer.total--;
  return `dropped count ${dropped} of ${busiest[0]}`;
}

// ---- Main ----

let broker: RunningConveyor | undefined;
let work: string | undefined;

async function main(): Promise<number> {
  if (!existsSync('dist/cli/conveyor.js') && !existsSync('dist/src/cli/main.js')) throw new Error('no build: run `npm run build` first (the broker runs as bin/conveyor.js)');
  work = mkdtempSync(join(tmpdir(), 'eos-campaign-'));
  const started = performance.now();
  const deadline = started + TIMEOUT_MS;
  const timedOut = () => performance.now() > deadline;
  // A stall: no new committed output record for STALL_MS while input is still uncounted.
  let lastOutput = { total: 0, at: performance.now() };
  const stalled = () => performance.now() - lastOutput.at > STALL_MS;
  const giveUp = () => timedOut() || stalled();
  log(`records ${RECORDS}, instances ${INSTANCES}, keys ${KEYS}, partitions ${PARTITIONS}, kill every ~${KILL_EVERY_MS} ms, seed ${SEED}, timeout ${TIMEOUT_MS} ms, work ${work}`);
  broker = await startConveyor(join(work, 'broker'), undefined, [
    '--set', 'group.initial.rebalance.delay.ms=0',
    '--set', 'group.min.session.timeout.ms=500',
    '--set', 'transaction.abort.timed.out.transaction.cleanup.interval.ms=500',
  ]);
  log(`broker pid ${broker.server.pid} on ${broker.bootstrap}`);
  const cluster = new ClusterClient(connectTcp, broker.bootstrap, 'eos-campaign');
  const admin = new AdminClient(cluster);
  try {
    await createTopic(broker.bootstrap, INPUT, PARTITIONS);
    await createTopic(broker.bootstrap, OUTPUT, PARTITIONS);
    const observer = new OutputObserver(cluster, await admin.describeTopic(OUTPUT));
    for (let index = 0; index < INSTANCES; index++) {
      const slot: Slot = { index, stateDir: join(work, `state-${index}`), child: undefined, state: 'NEW', tail: [], stopping: false };
      mkdirSync(slot.stateDir, { recursive: true });
      slots.push(slot);
      startWorker(slot, broker.bootstrap);
    }
    const production: Production = { counts: new Map(), acknowledged: 0, retried: 0, finished: false };
    let counted = false;
    let productionError: unknown;
    const producing = produceInput(cluster, admin, production, giveUp).catch((error: unknown) => {
      productionError = error;
    });
    const chaos: Chaos = { kills: 0, killsWhileRunning: 0 };
    const killing = chaosLoop(broker.bootstrap, () => counted || giveUp() || productionError !== undefined, chaos);
    let lastProgress = performance.now();
    while (!counted && !giveUp() && productionError === undefined) {
      await observer.pollOnce(200);
      if (observer.total !== lastOutput.total) lastOutput = { total: observer.total, at: performance.now() };
      counted = allCounted(production, observer);
      if (performance.now() - lastProgress > 10_000) {
        lastProgress = performance.now();
        log(`produced ${production.acknowledged}, output ${observer.total}, ${await outputDetail(admin, observer)}, kills ${chaos.kills}, restarts ${restarts}, worker errors ${workerErrors.length}, workers ${slots.map((slot) => slot.state).join(' ')}`);
      }
    }
    await killing;
    await producing;
    const countedMs = performance.now() - started;
    log(counted ? `every key counted after ${Math.round(countedMs)} ms; settling ${SETTLE_MS} ms` : productionError !== undefined ? `producing failed: ${String(productionError)}` : stalled() ? `stalled: no new committed output for ${STALL_MS} ms` : 'timed out');
    const settleUntil = performance.now() + SETTLE_MS;
    while (counted && performance.now() < settleUntil) await observer.pollOnce(100);
    finishing = true;
    await Promise.all(slots.map((slot) => stopWorker(slot, 'SIGTERM')));
    const drained = await drain(admin, observer);
    const input = await readInputBack(cluster, admin);
    const dropped = flags['self-test'] !== undefined ? corruptObservation(observer, flags['self-test']) : undefined;
    const anomalies = check(input.counts, observer.seen);
    const totalAnomaly = observer.total !== input.total;
    const wallMs = performance.now() - started;
    const failed = anomalies.length > 0 || totalAnomaly || !counted || !drained || observer.undecodable > 0 || productionError !== undefined;
    const lines = [
      '',
      `EOS campaign (exactly_once_v2, groupByKey().count(), LevelDB store, restarts on the ${flags['fresh-state'] ? 'emptied' : 'same'} state directory), seed ${SEED}`,
      `records: ${input.total} input (${production.acknowledged} acknowledged, ${production.retried} sent again), ${input.counts.size} keys, ${PARTITIONS} partitions`,
      `instances: ${INSTANCES}; kills (SIGKILL): ${chaos.kills} (${chaos.killsWhileRunning} while RUNNING); restarts: ${restarts}; worker errors (exited by themselves): ${workerErrors.length}`,
      counted
        ? `wall time: ${(wallMs / 1000).toFixed(1)} s (all counted at ${(countedMs / 1000).toFixed(1)} s); ${Math.round(input.total / (countedMs / 1000))} records/s`
        : `wall time: ${(wallMs / 1000).toFixed(1)} s (gave up at ${(countedMs / 1000).toFixed(1)} s)`,
      `output (read_committed): ${observer.total} records, ${observer.seen.size} keys; drained with no open transaction: ${drained}; read retries: ${observer.readErrors}${observer.undecodable > 0 ? `; undecodable values: ${observer.undecodable}` : ''}`,
      ...(dropped ? [`self-test: ${dropped}`] : []),
      `total output = total input: ${totalAnomaly ? `NO (${observer.total} vs ${input.total})` : 'yes'}`,
      `anomalies: ${anomalies.length} keys (${(['duplicate', 'gap', 'too many', 'incomplete'] as const).map((kind) => `${kind}: ${anomalies.filter((a) => a.kind === kind).length}`).join(', ')}; incomplete = counts 1..k correct but k below the input count)`,
      ...anomalies.slice(0, 50).map((a) => `  key ${a.key}: expected 1..${a.expected}, seen ${a.seen}`),
      ...(anomalies.length > 50 ? [`  ... and ${anomalies.length - 50} more`] : []),
      ...workerErrors.slice(0, 10).map((e) => `  worker ${e.slot} error (code ${e.code}, signal ${e.signal}): ${e.tail.slice(0, 600)}`),
      ...(!counted ? [`NOT all counted: ${productionError !== undefined ? `producing failed: ${String(productionError)}` : stalled() ? `stalled: no new output record read committed for ${STALL_MS} ms (${observer.total} read by then)` : `timeout after ${TIMEOUT_MS} ms`}`] : []),
      `result: ${failed ? 'FAIL' : 'PASS'}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return failed ? 1 : 0;
  } finally {
    cluster.close();
  }
}

/** Stops every worker and the broker by their pids and removes the temporary directory. */
async function cleanUp(): Promise<void> {
  finishing = true;
  await Promise.all(slots.map((slot) => stopWorker(slot, 'SIGKILL')));
  if (broker !== undefined) await stopServer(broker.server);
  if (work !== undefined && !flags.keep) rmSync(work, { recursive: true, force: true });
  else if (work !== undefined) log(`kept ${work}`);
}

process.once('SIGINT', () => {
  log('interrupted');
  void cleanUp().finally(() => process.exit(130));
});

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  log(`failed: ${error instanceof Error ? error.stack : String(error)}`);
} finally {
  await cleanUp();
}
process.exit(exitCode);
