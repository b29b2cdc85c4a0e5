// On-demand benchmark of replication (not part of `npm run bench`): `node --import tsx
// bench/replication.ts`. In one run, alternating so both see the same moment of a shared machine:
//   - a single `conveyor start` broker, one partition, 1 KiB records, acks=1 (the baseline);
//   - three `conveyor start` nodes of the same build (combined mode, as
//     test/support/cluster-processes.ts starts them), a topic with replication factor 3 and
//     min.insync.replicas=2, acks=all, the load sent to the partition's leader once one acks=all
//     write went through;
// each `conveyor perf produce` for ROUND_MS, WARMUP_ROUNDS uncounted rounds then ROUNDS counted
// ones; then the end-to-end latency of the replicated topic at 10 MB/s (`conveyor perf e2e`,
// acks=all), E2E_RUNS times, each on a new topic, after `sync`. Prints every round and run, the medians of the
// counted ones and the cluster's throughput as a ratio of the single broker's. Every broker runs
// with the heap flag `npm start` gives one (BROKER_NODE_FLAGS); HEAP_FLAG=0 runs them all without
// it; DROP_CACHES=1 (root) empties the page cache before every load. All processes are on
// loopback and stopped by pid. Writes bench/results/replication-<date>[-noflag][-dropcaches].json.
//
// Why a warm-up round: a run's first load lands in a clean page cache. In the first runs of
// 2026-12-08 the single broker's first round measured about twice the rounds after it (508, 555
// and 611 against 216-286 MB/s), when the kernel's dirty memory had reached its background
// threshold (vm.dirty_background_ratio, about 2 GB here) and writeback ran beside the brokers on
// the same cores. The machine's state moves both figures from round to round after that, so each
// round pairs the two loads seconds apart, and medianRoundRatio is the median of those pairs.
import { rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../src/base/error-codes.js';
import { KafkaConnection } from '../src/client/kafka-connection.js';
import { connectTcp } from '../src/node/tcp-byte-stream.js';
import { CreateTopicsApi, MetadataApi, ProduceApi } from '../src/protocol/messages/index.js';
import { buildRecordBatchSync } from '../src/protocol/records/record-batch.js';
import { ProcessCluster } from '../test/support/cluster-processes.js';
import { BROKER_NODE_FLAGS, CLI, perfTool, startConveyor } from './lib/conveyor.js';
import { buildInfo, machineBase, tmpFileSystem } from './lib/machine.js';
import { median } from './lib/measurements.js';
import { settleWrites, stopServer } from './lib/processes.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const WARMUP_ROUNDS = Number(process.env.WARMUP_ROUNDS ?? 1);
const NODE_FLAGS = process.env.HEAP_FLAG === '0' ? [] : BROKER_NODE_FLAGS;
/** CLUSTER_LOG_DIR: keep every cluster node's output (at info level) in <dir>/node-<id>.log. */
const CLUSTER_LOG_DIR = process.env.CLUSTER_LOG_DIR;
/** DROP_CACHES=1: `sync` and an empty page cache before every load (root only; docs/benchmarks.md, "The page cache's size"). */
const DROP_CACHES = process.env.DROP_CACHES === '1';
/** CLUSTER_SETTINGS: server.properties keys for the cluster's nodes, as JSON (e.g. '{"metadata.max.idle.interval.ms":"60000"}'). */
const CLUSTER_SETTINGS = JSON.parse(process.env.CLUSTER_SETTINGS ?? '{}') as Record<string, string>;
const ROUND_MS = Number(process.env.ROUND_MS ?? 4000);
const RECORD_BYTES = 1024;
const E2E_MB_PER_SEC = 10;
const E2E_WARMUP_MS = 2000;
const E2E_MS = 6000;
const E2E_RUNS = Number(process.env.E2E_RUNS ?? 3);
const MIB = 1024 * 1024;

interface Sample {
  mbPerSec: number;
  recordsPerSec: number;
  p99Ms: number;
}

async function produce(bootstrap: string, topic: string, acks: string): Promise<Sample> {
  if (DROP_CACHES) await settleWrites(true);
  const result = await perfTool('produce', bootstrap, ['-t', topic, '--record-size', String(RECORD_BYTES), '--acks', acks, '--batch-size', String(256 * 1024), '--linger-ms', '5', '--duration-ms', String(ROUND_MS)]);
  const seconds = result.elapsedMs / 1000;
  return { mbPerSec: (result.records * RECORD_BYTES) / MIB / seconds, recordsPerSec: result.records / seconds, p99Ms: result.latency?.p99Ms ?? Number.NaN };
}

/** Creates the replicated topic through any node and returns its leader's address. */
async function replicatedTopic(cluster: ProcessCluster, topic: string): Promise<string> {
  const connection = await KafkaConnection.open(connectTcp, cluster.address(cluster.nodeIds[0]!), 'bench-replication');
  try {
    const created = await connection.send(CreateTopicsApi, 7, {
      topics: [{ name: topic, numPartitions: 1, replicationFactor: 3, assignments: [], configs: [{ name: 'min.insync.replicas', value: '2' }] }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    if (created.topics[0]?.errorCode !== 0) throw new Error(`CreateTopics ${topic}: error ${created.topics[0]?.errorCode}`);
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      const metadata = await connection.send(MetadataApi, 12, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      const partition = metadata.topics[0]?.partitions[0];
      const leader = metadata.brokers.find((broker) => broker.nodeId === partition?.leaderId);
      if (partition && partition.isrNodes.length === 3 && leader) {
        const address = `${leader.host}:${leader.port}`;
        // The leader named may not have applied the new topic yet (or no longer leads it): ask again, as a client retries.
        if (await warmUp(address, topic)) return address;
      }
    }
    throw new Error(`${topic} did not get a leader with all three replicas in sync`);
  } finally {
    connection.close();
  }
}

/**
 * One acks=all write before the timed run (false if `address` does not lead `topic` now):
 * followers that fetched before the leader had the new topic wait out replica.fetch.backoff.ms
 * (1 s, as in Kafka), which is not what the run measures.
 */
async function warmUp(address: string, topic: string): Promise<boolean> {
  const connection = await KafkaConnection.open(connectTcp, address, 'bench-replication-warm-up');
  try {
    const records = buildRecordBatchSync([{ value: Buffer.alloc(RECORD_BYTES) }]);
    const response = await connection.send(ProduceApi, 9, { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
    const errorCode = response.responses[0]?.partitionResponses[0]?.errorCode;
    if (errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER || errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return false;
    if (errorCode !== 0) throw new Error(`warm-up write to ${topic}: error ${errorCode}`);
    return true;
  } finally {
    connection.close();
  }
}

const startedAt = new Date();
const loadAtStart = loadavg().map((load) => load.toFixed(2));
const single = await startConveyor(undefined, undefined, [], NODE_FLAGS);
const cluster = await ProcessCluster.start({ nodes: 3, logLevel: CLUSTER_LOG_DIR === undefined ? 'warn' : 'info', outputDir: CLUSTER_LOG_DIR, nodeArgs: NODE_FLAGS, cliEntry: CLI, settings: CLUSTER_SETTINGS });
const singles: Sample[] = [];
const replicated: Sample[] = [];
const warmUps: [Sample, Sample][] = [];
const e2eRuns: { p50Ms: number; p99Ms: number }[] = [];
try {
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    const single1 = await produce(single.bootstrap, `single-${round}`, '1');
    const leader = await replicatedTopic(cluster, `replicated-${round}`);
    const rf3 = await produce(leader, `replicated-${round}`, 'all');
    const counted = round >= WARMUP_ROUNDS;
    if (counted) {
      singles.push(single1);
      replicated.push(rf3);
    } else warmUps.push([single1, rf3]);
    console.log(`${counted ? `round ${round - WARMUP_ROUNDS + 1}` : `warm-up ${round + 1}`}: single acks=1 ${single1.mbPerSec.toFixed(1)} MB/s p99 ${single1.p99Ms.toFixed(1)} ms; RF=3 acks=all ${rf3.mbPerSec.toFixed(1)} MB/s p99 ${rf3.p99Ms.toFixed(1)} ms`);
  }
  // The throughput rounds leave gigabytes of dirty pages; the latency runs should not pay for their
  // writeback (bench:security settles the same way before each load).
  if (E2E_RUNS > 0) await settleWrites(DROP_CACHES);
  for (let run = 0; run < E2E_RUNS; run++) {
    const e2eTopic = `replicated-e2e-${run}`;
    const e2eLeader = await replicatedTopic(cluster, e2eTopic);
    const e2e = await perfTool('e2e', e2eLeader, ['-t', e2eTopic, '--record-size', String(RECORD_BYTES), '--throughput', String(Math.round((E2E_MB_PER_SEC * MIB) / RECORD_BYTES)),
      '--linger-ms', '0', '--acks', 'all', '--duration-ms', String(E2E_WARMUP_MS + E2E_MS), '--warmup-ms', String(E2E_WARMUP_MS), '--fetch-max-wait-ms', '500']);
    e2eRuns.push({ p50Ms: e2e.latency?.p50Ms ?? Number.NaN, p99Ms: e2e.latency?.p99Ms ?? Number.NaN });
    console.log(`e2e ${run + 1}: p50 ${e2eRuns.at(-1)!.p50Ms.toFixed(2)} ms, p99 ${e2eRuns.at(-1)!.p99Ms.toFixed(2)} ms`);
  }
} finally {
  await stopServer(single.server, 30_000);
  rmSync(single.dataDir, { recursive: true, force: true });
  await cluster.stopAll();
}
const singleMb = median(singles.map((sample) => sample.mbPerSec));
const replicatedMb = median(replicated.map((sample) => sample.mbPerSec));
const rounded = (sample: Sample) => Number(sample.mbPerSec.toFixed(1));
const result = {
  date: startedAt.toISOString(),
  machine: { ...machineBase(), filesystem: tmpFileSystem(), loadAverageAtStart: loadAtStart.join(' '), loadAverageAtEnd: loadavg().map((load) => load.toFixed(2)).join(' ') },
  build: buildInfo(CLI),
  rounds: ROUNDS,
  warmUpRounds: WARMUP_ROUNDS,
  roundMs: ROUND_MS,
  nodeFlags: NODE_FLAGS.join(' '),
  dropCaches: DROP_CACHES,
  clusterSettings: CLUSTER_SETTINGS,
  warmUpMbPerSec: { single: warmUps.map((pair) => rounded(pair[0])), rf3: warmUps.map((pair) => rounded(pair[1])) },
  singleAcks1: { medianMbPerSec: Number(singleMb.toFixed(1)), medianP99Ms: median(singles.map((sample) => sample.p99Ms)), roundsMbPerSec: singles.map(rounded) },
  rf3AcksAll: { medianMbPerSec: Number(replicatedMb.toFixed(1)), medianP99Ms: median(replicated.map((sample) => sample.p99Ms)), roundsMbPerSec: replicated.map(rounded) },
  ratio: Number((replicatedMb / singleMb).toFixed(2)),
  // Each round's two loads ran seconds apart, so its ratio is the steadier figure on a shared machine.
  medianRoundRatio: Number(median(replicated.map((sample, index) => sample.mbPerSec / singles[index]!.mbPerSec)).toFixed(2)),
  // A p99 of one 6 s run moves with the machine: the median of E2E_RUNS runs, as the main bench's e2e figure.
  e2eRf3AcksAll10MBps: { medianP50Ms: median(e2eRuns.map((run) => run.p50Ms)), medianP99Ms: median(e2eRuns.map((run) => run.p99Ms)), runs: e2eRuns },
};
const file = join('bench', 'results', `replication-${result.date.replace(/[:]/g, '-').replace(/\..*/, '')}${NODE_FLAGS.length === 0 ? '-noflag' : ''}${DROP_CACHES ? '-dropcaches' : ''}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
console.log(`written to ${file}`);
