// On-demand benchmark of the metadata quorum's failover in a cluster of real processes (not part of
// `npm run bench`, whose bench/main.ts runs a fixed list and regenerates its own part of
// docs/benchmarks.md): three `conveyor start` nodes (combined broker+controller, Kafka's KRaft
// keys, formatted directories, 127.0.0.1 ports) run from source through tsx, as the reliability
// tests start them (test/support/cluster-processes.ts).
//
//   npx tsx bench/controller-failover.ts [--kills 20] [--sigterms 5] [--topics 1000] [--rounds 2] [--json FILE]
//
// (a) kill -9 of the active controller, --kills times: time from the kill to a new active controller
//     (a later quorum epoch, confirmed by DescribeQuorum on the node every survivor's Metadata
//     names), against the target controller.quorum.election.timeout.ms + 1 s = 2 s. The killed node
//     is restarted and the cluster settles between kills.
// (b) SIGTERM of the active controller, --sigterms times: the same time, against the target 200 ms
//     (a clean stop resigns with EndQuorumEpoch, so the successor need not wait for a timeout).
// (c) CreateTopics of --topics single-partition topics, one request each, all sent at once on one
//     connection, time to the last answer: on a single `conveyor start` node (a quorum of one) and
//     on a fresh 3-node cluster through the active controller and through a broker that is not it
//     (forwarded), in the same run, each after 200 untimed creates, --rounds timed rounds each;
//     the cluster's medians as ratios of the single node's.
//
// Every process is started on loopback and stopped by its pid, also when a step fails.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ErrorCode } from '../src/base/error-codes.js';
import { KafkaConnection } from '../src/client/kafka-connection.js';
import { connectTcp } from '../src/node/tcp-byte-stream.js';
import { CreateTopicsApi } from '../src/protocol/messages/index.js';
import { BrokerProcess } from '../test/support/crash-broker-process.js';
import { type ActiveController, ProcessCluster, medianAndMax } from '../test/support/cluster-processes.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    sigterms: { type: 'string', default: '5' },
    topics: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'string' },
  },
});
const KILLS = Number(values.kills);
const SIGTERMS = Number(values.sigterms);
const TOPICS = Number(values.topics);
const CREATE_ROUNDS = Number(values.rounds);
/** Untimed creates on each target before its timed rounds. */
const WARMUP_TOPICS = 200;
const KILL_TARGET_MS = 2_000;
const SIGTERM_TARGET_MS = 200;
const FAILOVER_BOUND_MS = 30_000;
/** After a restarted node is ready, before the next fault: it fetches from the leader meanwhile. */
const SETTLE_MS = 1_000;

function log(message: string): void {
  process.stderr.write(`[controller-failover] ${message}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Failover {
  signal: 'SIGKILL' | 'SIGTERM';
  from: ActiveController;
  to: ActiveController;
  /** Signal -> a node confirms (DescribeQuorum) that it leads a later epoch. */
  newControllerMs: number;
  /** Signal -> every survivor's Metadata names the new controller. */
  agreedMs: number;
  /** Signal -> the old process has exited. */
  exitMs: number;
  /** The active controller after the restart and the settling pause, if not `to` (an election no fault caused). */
  movedTo?: ActiveController | 'none';
}

/** Signals the active controller, measures the handover, restarts the node and lets the cluster settle. */
async function failover(cluster: ProcessCluster, signal: 'SIGKILL' | 'SIGTERM'): Promise<Failover> {
  const from = await cluster.waitForActiveController({ timeoutMs: FAILOVER_BOUND_MS });
  const survivors = cluster.nodeIds.filter((id) => id !== from.nodeId);
  const signalledAt = performance.now();
  let exitMs = Number.NaN;
  const exited = cluster.kill(from.nodeId, signal).then(() => {
    exitMs = performance.now() - signalledAt;
  });
  let to: ActiveController | undefined;
  let newControllerMs = Number.NaN;
  while (to === undefined) {
    const found = await cluster.findActiveController({ askNodes: survivors, exclude: from.nodeId, timeoutMs: 500 });
    if (found !== undefined && found.epoch > from.epoch) {
      newControllerMs = performance.now() - signalledAt;
      to = found;
    } else {
      if (performance.now() - signalledAt > FAILOVER_BOUND_MS) throw new Error(`no new active controller ${FAILOVER_BOUND_MS} ms after ${signal} of node ${from.nodeId}`);
      await sleep(2);
    }
  }
  let agreedMs = Number.NaN;
  for (;;) {
    const reported = await Promise.all(survivors.map((id) => cluster.reportedController(id, 500).catch(() => -1)));
    if (reported.every((id) => id === to.nodeId)) {
      agreedMs = performance.now() - signalledAt;
      break;
    }
    if (performance.now() - signalledAt > FAILOVER_BOUND_MS) throw new Error(`survivors still report ${reported} after ${signal} of node ${from.nodeId}`);
    await sleep(2);
  }
  await exited;
  await cluster.restart(from.nodeId);
  await sleep(SETTLE_MS);
  const after = await cluster.findActiveController();
  const movedTo = after === undefined ? 'none' : after.nodeId !== to.nodeId || after.epoch !== to.epoch ? after : undefined;
  return { signal, from, to, newControllerMs, agreedMs, exitMs, ...(movedTo === undefined ? {} : { movedTo }) };
}

/** `count` CreateTopics requests of one single-partition topic each, all sent at once on one connection; ms to the last answer. */
async function createTopics(address: string, prefix: string, count: number): Promise<number> {
  const connection = await KafkaConnection.open(connectTcp, address, 'failover-bench', { requestTimeoutMs: 300_000 });
  try {
    const startedAt = performance.now();
    const answers = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        connection.send(CreateTopicsApi, 7, {
          topics: [{ name: `${prefix}-${index}`, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
          timeoutMs: 120_000,
          validateOnly: false,
        }),
      ),
    );
    const elapsedMs = performance.now() - startedAt;
    const failed = answers.filter((answer) => answer.topics[0]?.errorCode !== ErrorCode.NONE);
    if (failed.length > 0) throw new Error(`${failed.length} of ${count} CreateTopics failed, e.g. ${JSON.stringify(failed[0])}`);
    return elapsedMs;
  } finally {
    connection.close();
  }
}

function median(values: number[]): number {
  return medianAndMax(values).median;
}

function summary(values: number[]): string {
  const { median, max } = medianAndMax(values);
  return `median ${Math.round(median)} ms, max ${Math.round(max)} ms`;
}

async function main(): Promise<void> {
  const setup = `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, loopback, each node its own process (tsx, from source)`;
  log(setup);
  const kills: Failover[] = [];
  const sigterms: Failover[] = [];
  const problems: string[] = [];
  /** Runs one timed step of (c); a failure is recorded and the run goes on. */
  const attempt = async (name: string, step: () => Promise<number>): Promise<number | undefined> => {
    try {
      const ms = await step();
      log(`(c) ${name}: ${Math.round(ms)} ms`);
      return ms;
    } catch (error) {
      const message = `(c) ${name}: ${error instanceof Error ? error.message : String(error)}`;
      problems.push(message);
      log(`failed: ${message}`);
      return undefined;
    }
  };
  const single: number[] = [];
  const viaController: number[] = [];
  const viaFollower: number[] = [];

  const cluster = await ProcessCluster.start({ nodes: 3, logLevel: 'warn' });
  try {
    for (let round = 1; round <= KILLS; round++) {
      const result = await failover(cluster, 'SIGKILL');
      kills.push(result);
      log(`(a) kill -9 ${round}/${KILLS}: node ${result.from.nodeId} (epoch ${result.from.epoch}) -> node ${result.to.nodeId} (epoch ${result.to.epoch}) in ${Math.round(result.newControllerMs)} ms, agreed at ${Math.round(result.agreedMs)} ms`);
    }
    for (let round = 1; round <= SIGTERMS; round++) {
      const result = await failover(cluster, 'SIGTERM');
      sigterms.push(result);
      log(`(b) SIGTERM ${round}/${SIGTERMS}: node ${result.from.nodeId} (epoch ${result.from.epoch}) -> node ${result.to.nodeId} (epoch ${result.to.epoch}) in ${Math.round(result.newControllerMs)} ms, agreed at ${Math.round(result.agreedMs)} ms, exited at ${Math.round(result.exitMs)} ms`);
    }
  } catch (error) {
    for (const id of cluster.nodeIds) log(cluster.fullLog(id).slice(-4_000));
    throw error;
  } finally {
    await cluster.stopAll();
  }

  // (c) on fresh processes: one node alone, then a fresh 3-node cluster. Each target first takes
  // WARMUP_TOPICS untimed creates (JIT), then CREATE_ROUNDS timed rounds of TOPICS.
  const singleDir = await mkdtemp(join(tmpdir(), 'failover-bench-single-'));
  const alone = await BrokerProcess.start(singleDir, ['--log-level', 'warn'], 60_000);
  try {
    const address = `${alone.host}:${alone.port}`;
    await attempt('one node warm-up', () => createTopics(address, 'single-warmup', WARMUP_TOPICS));
    for (let round = 1; round <= CREATE_ROUNDS; round++) {
      const ms = await attempt(`one node, round ${round}`, () => createTopics(address, `single-${round}`, TOPICS));
      if (ms !== undefined) single.push(ms);
    }
  } finally {
    await alone.kill('SIGTERM');
    await rm(singleDir, { recursive: true, force: true });
  }
  const fresh = await ProcessCluster.start({ nodes: 3, logLevel: 'warn' });
  try {
    const active = await fresh.waitForActiveController();
    const other = fresh.nodeIds.find((id) => id !== active.nodeId)!;
    await attempt('cluster warm-up through the controller', () => createTopics(fresh.address(active.nodeId), 'leader-warmup', WARMUP_TOPICS));
    await attempt('cluster warm-up through another broker', () => createTopics(fresh.address(other), 'forwarded-warmup', WARMUP_TOPICS));
    for (let round = 1; round <= CREATE_ROUNDS; round++) {
      const leaderMs = await attempt(`cluster through the active controller (node ${active.nodeId}), round ${round}`, () => createTopics(fresh.address(active.nodeId), `leader-${round}`, TOPICS));
      if (leaderMs !== undefined) viaController.push(leaderMs);
      const forwardedMs = await attempt(`cluster through node ${other} (forwarded), round ${round}`, () => createTopics(fresh.address(other), `forwarded-${round}`, TOPICS));
      if (forwardedMs !== undefined) viaFollower.push(forwardedMs);
    }
    const now = await fresh.findActiveController();
    if (now?.nodeId !== active.nodeId || now.epoch !== active.epoch) problems.push(`(c) the active controller moved during the creates: node ${active.nodeId} epoch ${active.epoch} -> ${now === undefined ? 'none' : `node ${now.nodeId} epoch ${now.epoch}`}`);
    if (problems.some((problem) => problem.startsWith('(c)'))) for (const id of fresh.nodeIds) log(fresh.fullLog(id).slice(-3_000));
  } finally {
    await fresh.stopAll();
  }

  const killTimes = kills.map((entry) => entry.newControllerMs);
  const moved = [...kills, ...sigterms].flatMap((entry, index) =>
    entry.movedTo === undefined ? [] : [`after ${entry.signal} #${index < kills.length ? index + 1 : index - kills.length + 1}: node ${entry.to.nodeId} epoch ${entry.to.epoch} -> ${entry.movedTo === 'none' ? 'none' : `node ${entry.movedTo.nodeId} epoch ${entry.movedTo.epoch}`}`],
  );
  const ratio = (values: number[]) => (values.length > 0 && single.length > 0 ? `x${(median(values) / median(single)).toFixed(2)}` : 'n/a');
  const shown = (values: number[]) => (values.length > 0 ? `${Math.round(median(values))} ms` : 'failed');
  const termTimes = sigterms.map((entry) => entry.newControllerMs);
  const lines = [
    `Setup: ${setup}.`,
    '',
    '| What | Measured | Target |',
    '|---|---|---|',
    `| (a) kill -9 of the active controller -> new active controller (${kills.length} kills) | ${summary(killTimes)}; every survivor's Metadata agrees: ${summary(kills.map((entry) => entry.agreedMs))} | ${KILL_TARGET_MS} ms (${killTimes.filter((ms) => ms <= KILL_TARGET_MS).length} of ${kills.length} within) |`,
    `| (b) SIGTERM of the active controller -> new active controller (${sigterms.length} stops) | ${summary(termTimes)}; every survivor agrees: ${summary(sigterms.map((entry) => entry.agreedMs))}; old process exited: ${summary(sigterms.map((entry) => entry.exitMs))} | ${SIGTERM_TARGET_MS} ms (${termTimes.filter((ms) => ms <= SIGTERM_TARGET_MS).length} of ${sigterms.length} within) |`,
    `| (c) ${TOPICS} CreateTopics (1 partition each, all at once on one connection) to the last answer, median of the rounds that succeeded (${CREATE_ROUNDS} tried) | one node ${shown(single)}; cluster via the controller ${shown(viaController)} (${ratio(viaController)}), via another broker ${shown(viaFollower)} (${ratio(viaFollower)}) | - |`,
    '',
    `kill -9, each (ms): ${killTimes.map(Math.round).join(', ')}`,
    `SIGTERM, each (ms): ${termTimes.map(Math.round).join(', ')}`,
    `CreateTopics rounds (ms): one node ${single.map(Math.round).join(', ')}; via the controller ${viaController.map(Math.round).join(', ')}; via another broker ${viaFollower.map(Math.round).join(', ')}`,
    `Elections no fault caused (the controller had moved by the end of the restart and settling pause): ${moved.length === 0 ? 'none' : moved.join('; ')}`,
    ...(problems.length > 0 ? ['', 'Problems:', ...problems.map((problem) => `- ${problem}`)] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (values.json !== undefined) {
    await writeFile(values.json, `${JSON.stringify({ date: new Date().toISOString(), setup, problems, kills, sigterms, createTopics: { topics: TOPICS, rounds: CREATE_ROUNDS, singleMs: single, viaControllerMs: viaController, viaFollowerMs: viaFollower } }, null, 2)}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
