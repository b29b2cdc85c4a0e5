// Exactly-once copy on a 3-broker cluster while brokers are bounced: the transactional
// consume-transform-produce workload of test/support/eos-workload.ts (an input seeder, the
// exactly-once copier process of exactly-once-copy.test.ts, an aborter, and the final checks: every
// input record exactly once in the output, in input order per partition, nothing aborted, no
// transaction left open, the input holding exactly the acknowledged records, the group's committed
// offsets at the input's end) copies RECORDS records from a 3-partition input topic to a
// 3-partition output topic on a cluster of three real `conveyor start` processes
// (test/support/cluster-processes.ts). The input is written while the copy runs (about 45 s), so
// the copier commits hundreds of small transactions and each fault of this test's schedule lands
// among them:
//   1. kill -9 of the broker leading the copier's __transaction_state partition (its transaction
//      coordinator), restarted once another leader is elected;
//   2. SIGKILL of the copier, restarted at once (the new one fences the old transactional epoch);
//   3. SIGTERM (a clean stop) of the broker leading an output partition, another broker than the
//      first if one leads any, restarted once the partition has a new leader;
//   4. kill -9 of the broker leading the group's __consumer_offsets partition (where the
//      transactions' offsets go), restarted once another leader is elected.
// Each bounce waits for every replica of every partition of the four topics to be back in the ISR
// before the next fault, and counts as a fault for the workload (`bounces`): only a bounce in
// progress, or completed since a client connected, explains that client's connection loss.
//
// RECORDS defaults to 9,000 (about 65 s here); `RECORDS=100000` runs the issue's full figure on
// demand. EOS_VERBOSE=1 streams the copiers' stderr and the progress; EOS_CLUSTER_LOGS=DIR keeps
// every node's whole output there, EOS_CLUSTER_DIR=DIR their data directories. Nothing is hidden:
// a copier exit that is not the test's own SIGKILL, a `copier failed` line or a connection loss no
// bounce explains fails the test with the copiers' stderr (test/support/copier-supervisor.ts); the
// aborter tolerates only connection errors a bounce explains; a copy that stops moving is reported
// with every partition's LSO and high watermark and the group's offsets.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { offsetsPartitionFor } from '../../src/coordinator/group/group-partition.js';
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from '../../src/metadata/topic-name.js';
import { ProcessCluster } from '../support/cluster-processes.js';
import { EOS_CLUSTER_SETTINGS, EOS_DEFAULT_NAMES, EOS_INTERNAL_PARTITIONS, type EosWorkload, leaderOf as workloadLeaderOf, startEosWorkload } from '../support/eos-workload.js';
import { newestPartition, notInSync, runningViews } from '../support/leader-kill-support.js';
import { describeError } from './kafkajs-errors.js';
import { waitFor } from '../support/wait.js';

const RECORDS = Number(process.env.RECORDS ?? 9_000);
/** The input is written in this many sends while the copy runs, SEND_PAUSE_MS apart (about 45 s in all here). */
const SENDS = 300;
const SEND_PAUSE_MS = 100;
/** The input and output topics' partitions, as many as the internal topics' (the in-sync check below takes one count for all four). */
const PARTITIONS = EOS_INTERNAL_PARTITIONS;
const { input: INPUT, output: OUTPUT, group: GROUP, transactionalId: TRANSACTIONAL_ID } = EOS_DEFAULT_NAMES;
/** Short sessions, so a killed broker is fenced and its partitions move within seconds; and what the workload needs. */
const SETTINGS: Record<string, string> = {
  'broker.session.timeout.ms': '3000',
  'broker.heartbeat.interval.ms': '500',
  'replica.fetch.backoff.ms': '100',
  'replica.lag.time.max.ms': '5000',
  ...EOS_CLUSTER_SETTINGS,
};
/** Every topic whose replicas must all be back in the ISR before the next fault. */
const TOPICS = [INPUT, OUTPUT, TRANSACTION_STATE_TOPIC, CONSUMER_OFFSETS_TOPIC];
/** Progress deadlines scale with the run, with a generous margin (the machine is shared). */
const PHASE_TIMEOUT_MS = Math.max(90_000, RECORDS * 4);
const IN_SYNC_BOUND_MS = 60_000;
const ELECTION_BOUND_MS = 30_000;
/** Bounded wait for every output partition's transactions to be ended once the copy is done. */
const SETTLE_BOUND_MS = 30_000;

let cluster: ProcessCluster | undefined;
let logsDir = '';
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  // Last registered first: the workload (copier, aborter, seeder), then the cluster and its logs.
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error(`cleanup: ${describeError(error)}`));
});

/** The bounces so far: a connection error is explained only by one in progress, or completed since the client connected. */
const bounces = { completed: 0, inProgress: false };

function verbose(line: string): void {
  if (process.env.EOS_VERBOSE) console.error(line);
}

/** test/support/wait.ts's waitFor, polling every 100 ms. */
function within<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, intervalMs = 100): Promise<T> {
  return waitFor(what, probe, timeoutMs, intervalMs);
}

/** The current leader of `topic`-`partition`: the newest epoch among the running nodes' Metadata, if that node runs. */
function leaderOf(topic: string, partition: number): Promise<{ leader: number; leaderEpoch: number } | undefined> {
  return workloadLeaderOf(cluster!, topic, partition);
}

/** Why some partition of the four topics is not led by a running node with its full ISR on every node, or undefined. */
async function notAllInSync(): Promise<string | undefined> {
  for (const topic of TOPICS) {
    const reason = notInSync(cluster!, await runningViews(cluster!, topic), PARTITIONS);
    if (reason !== undefined) return `${topic}: ${reason}`;
  }
  return undefined;
}

async function waitAllInSync(what: string): Promise<void> {
  let reason: string | undefined = 'not asked yet';
  await within(what, IN_SYNC_BOUND_MS, async () => {
    reason = await notAllInSync();
    return reason === undefined ? true : undefined;
  }).catch((error: unknown) => {
    throw new Error(`${String(error)} (last seen: ${reason})`);
  });
}

interface Bounce {
  node: number;
  signal: 'SIGKILL' | 'SIGTERM';
  /** Why this node: the partition it led when it was stopped. */
  target: string;
  /** Every partition of the four topics the node led when it was stopped. */
  led: string[];
  /** Input records copied (the group's committed offsets) when it was stopped; -1 if unknown then. */
  copiedAtStop: number;
  electedMs?: number;
  restartMs?: number;
  inSyncMs?: number;
}

/** Partitions of the four topics `node` leads now, as `topic-partition`. */
async function partitionsLedBy(node: number): Promise<string[]> {
  const led: string[] = [];
  for (const topic of TOPICS) {
    const views = await runningViews(cluster!, topic);
    for (let partition = 0; partition < PARTITIONS; partition++) if (newestPartition(views, partition)?.leader === node) led.push(`${topic}-${partition}`);
  }
  return led;
}

/**
 * Stops `node` with `signal`, waits until `topic`-`partition` has another leader, restarts the node
 * after a short pause and waits until every replica is back in the ISR.
 */
async function bounce(node: number, signal: 'SIGKILL' | 'SIGTERM', topic: string, partition: number, copied: number): Promise<Bounce> {
  const record: Bounce = { node, signal, target: `${topic}-${partition}`, led: await partitionsLedBy(node), copiedAtStop: copied };
  const before = (await leaderOf(topic, partition))?.leaderEpoch ?? -1;
  verbose(`bounce: ${signal} of node ${node} (leads ${record.led.join(', ')}) at ${new Date().toISOString()}, ${copied} records copied`);
  const stoppedAt = performance.now();
  bounces.inProgress = true;
  try {
    const status = await cluster!.kill(node, signal);
    if (signal === 'SIGTERM') assert.equal(status.exitCode, 0, `node ${node} stopped cleanly on SIGTERM (status ${JSON.stringify(status)})`);
    await within(`a new leader of ${topic}-${partition} after the ${signal} of node ${node}`, ELECTION_BOUND_MS, async () => {
      const now = await leaderOf(topic, partition);
      return now !== undefined && now.leader !== node && now.leaderEpoch > before ? true : undefined;
    });
    record.electedMs = performance.now() - stoppedAt;
    await delay(500);
    const restartAt = performance.now();
    await cluster!.restart(node);
    record.restartMs = performance.now() - restartAt;
    await waitAllInSync(`node ${node} back in the ISR of every partition after its ${signal}`);
    record.inSyncMs = performance.now() - stoppedAt;
  } finally {
    bounces.completed += 1;
    bounces.inProgress = false;
  }
  verbose(`bounce of node ${node} done: elected ${Math.round(record.electedMs!)} ms, restart ${Math.round(record.restartMs!)} ms, in sync ${Math.round(record.inSyncMs!)} ms`);
  return record;
}

test(`exactly-once copy of ${RECORDS} records on a 3-broker cluster while brokers are bounced`, { timeout: PHASE_TIMEOUT_MS * 8 }, async () => {
  const startedAt = performance.now();
  logsDir = process.env.EOS_CLUSTER_LOGS ?? (await mkdtemp(join(tmpdir(), 'cluster-eos-logs-')));
  cleanups.push(async () => {
    if (process.env.EOS_CLUSTER_LOGS === undefined) await rm(logsDir, { recursive: true, force: true });
  });
  // EOS_CLUSTER_DIR=DIR keeps the nodes' data directories there (for a post-mortem of a failed run).
  const baseDir = process.env.EOS_CLUSTER_DIR;
  cluster = await ProcessCluster.start({ nodes: 3, settings: SETTINGS, outputDir: logsDir, ...(baseDir === undefined ? {} : { baseDir }) });
  cleanups.push(() => cluster!.stopAll());
  const active = cluster;

  // Creates both topics and waits until they are in sync, then starts the seeder, the aborter and the copier.
  const workload: EosWorkload = await startEosWorkload({
    cluster: active,
    records: RECORDS,
    partitions: PARTITIONS,
    faults: bounces,
    faultName: 'broker bounce',
    sends: SENDS,
    sendPauseMs: SEND_PAUSE_MS,
    log: verbose,
    onCopierStderr: (text, copier) => {
      if (process.env.EOS_VERBOSE) process.stderr.write(`[copier ${copier}] ${text}`);
    },
  });
  cleanups.push(() => workload.stop());
  const copyStartedAt = performance.now();
  verbose(`cluster up and topics in sync after ${Math.round(copyStartedAt - startedAt)} ms`);
  /** Waits for a condition, failing at once if the copier, the aborter or the input producer failed meanwhile. */
  const until = <T>(what: string, check: () => Promise<T | undefined>) => Promise.race([within(what, PHASE_TIMEOUT_MS, check, 200), workload.failed]);
  const guarded = <T>(work: Promise<T>) => Promise.race([work, workload.failed]);
  /** Records copied now (the group's committed offsets), or -1 if they cannot be read at this moment. */
  const copiedNow = () => workload.copiedSoFar().catch(() => -1);
  const seeded = async (fraction: number) => {
    await until(`${fraction * 100}% of the input written`, async () => (workload.seeded() >= RECORDS * fraction ? true : undefined));
    verbose(`${fraction * 100}% written, ${await copiedNow()} copied, after ${Math.round(performance.now() - copyStartedAt)} ms`);
  };
  const printLogs = () => {
    process.stderr.write(`${workload.copierStderr()}\n`);
    for (const id of active.nodeIds) process.stderr.write(`${active.fullLog(id).slice(-4_000)}\n`);
  };
  const done: Bounce[] = [];
  try {
    // The copier's transactions must exist (and with them __transaction_state and __consumer_offsets) before the first bounce.
    await until('the first records copied', async () => ((await workload.copiedSoFar()) > 0 ? true : undefined));
    await seeded(0.1);
    await guarded(waitAllInSync('the internal topics created and in sync'));
    const transactionPartition = offsetsPartitionFor(TRANSACTIONAL_ID, EOS_INTERNAL_PARTITIONS);
    const coordinator = (await guarded(within("a leader of the copier's __transaction_state partition", ELECTION_BOUND_MS, () => leaderOf(TRANSACTION_STATE_TOPIC, transactionPartition))))!;
    done.push(await guarded(bounce(coordinator.leader, 'SIGKILL', TRANSACTION_STATE_TOPIC, transactionPartition, await copiedNow())));

    await seeded(0.35);
    await workload.killCopier();

    await seeded(0.45);
    let outputTarget: { node: number; partition: number } | undefined;
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const leader = await leaderOf(OUTPUT, partition);
      if (leader !== undefined && (outputTarget === undefined || (outputTarget.node === done[0]!.node && leader.leader !== done[0]!.node))) outputTarget = { node: leader.leader, partition };
    }
    assert.ok(outputTarget !== undefined, 'an output partition has a leader');
    done.push(await guarded(bounce(outputTarget.node, 'SIGTERM', OUTPUT, outputTarget.partition, await copiedNow())));

    await seeded(0.65);
    const groupPartition = offsetsPartitionFor(GROUP, EOS_INTERNAL_PARTITIONS);
    const groupCoordinator = (await guarded(within("a leader of the group's __consumer_offsets partition", ELECTION_BOUND_MS, () => leaderOf(CONSUMER_OFFSETS_TOPIC, groupPartition))))!;
    done.push(await guarded(bounce(groupCoordinator.leader, 'SIGKILL', CONSUMER_OFFSETS_TOPIC, groupPartition, await copiedNow())));
  } catch (error) {
    printLogs();
    throw error;
  }

  // The input written and copied (each within PHASE_TIMEOUT_MS), the copier and the aborter stopped, then every check.
  const result = await workload.finish({ timeoutMs: PHASE_TIMEOUT_MS, settleMs: SETTLE_BOUND_MS });
  const figures = [
    `whole test ${Math.round(performance.now() - startedAt)} ms; ${result.summary.split('\n').join('\n# ')}`,
    `bounces: ${done.map((entry) => `${entry.signal} node ${entry.node} for ${entry.target} (led ${entry.led.join(' ')}; ${entry.copiedAtStop} copied; elected ${Math.round(entry.electedMs!)} ms, restart ${Math.round(entry.restartMs!)} ms, in sync ${Math.round(entry.inSyncMs!)} ms)`).join('; ')}`,
  ];
  console.log(`# cluster exactly-once: ${figures.join('\n# ')}`);
  if (result.anomalies.length > 0) printLogs();

  assert.deepEqual(result.anomalies, [], `the exactly-once checks:\n${result.anomalies.join('\n')}`);
  assert.equal(result.acknowledgedRecords, RECORDS, 'every input record acknowledged');
  assert.deepEqual(result.copiers, { launched: 2, killedOnPurpose: 2 }, 'two copiers, each ended by the test (one kill mid-copy, one at the end)');
  assert.equal(done.length, 3, 'three broker bounces');
  for (const entry of done) assert.ok(entry.copiedAtStop < RECORDS, `the ${entry.signal} of node ${entry.node} came after the copy was done (${entry.copiedAtStop} copied)`);
});
