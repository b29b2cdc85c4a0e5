// Periodic produce stall probe (not part of `npm run bench`): `node --import tsx bench/produce-stall.ts`.
// One in-process broker (startBroker(), disk storage under /tmp), one connection, one topic with
// one partition; 256 KiB record batches (1 KiB records) sent one request at a time, each timed from
// send to response. Prints the latency distribution, the requests slower than STALL_MS with the
// cumulative bytes sent before them (to see a period), and the garbage collections seen by a
// PerformanceObserver with the requests they overlapped.
//   REQUESTS (default 2000), WARMUP (200), ACKS (1), STALL_MS (20), BATCH_BYTES (262144),
//   STORAGE (disk|memory), CONFIG (JSON of broker config overrides), VERBOSE=1 lists every stall,
//   BUILD=reuse (the perf tool's BatchFactory: memory reused) or BUILD=fresh (buildRecordBatchSync
//   per request, a new buffer each time, as a simple client does).
import { rmSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { BatchFactory, makePayload } from '../src/client/perf-batches.js';
import { KafkaConnection } from '../src/client/kafka-connection.js';
import { startBroker } from '../src/node/start-broker.js';
import { startCluster } from '../src/node/start-cluster.js';
import { ProcessCluster } from '../test/support/cluster-processes.js';
import { BROKER_NODE_FLAGS, CLI, startConveyor } from './lib/conveyor.js';
import { stopServer } from './lib/processes.js';
import { connectTcp } from '../src/node/tcp-byte-stream.js';
import { CreateTopicsApi, MetadataApi, ProduceApi } from '../src/protocol/messages/index.js';
import { buildRecordBatchSync } from '../src/protocol/records/record-batch.js';

const REQUESTS = Number(process.env.REQUESTS ?? 2000);
const WARMUP = Number(process.env.WARMUP ?? 200);
const ACKS = Number(process.env.ACKS ?? 1);
const STALL_MS = Number(process.env.STALL_MS ?? 20);
const BATCH_BYTES = Number(process.env.BATCH_BYTES ?? 256 * 1024);
const RECORD_BYTES = 1024;
const STORAGE = (process.env.STORAGE ?? 'disk') as 'disk' | 'memory';
const CONFIG = JSON.parse(process.env.CONFIG ?? '{}') as Record<string, string | number>;
const MIB = 1024 * 1024;

interface GcEvent {
  startMs: number;
  durationMs: number;
  kind: string;
}
const gcKinds: Record<number, string> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weakcb' };
const gcEvents: GcEvent[] = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
    gcEvents.push({ startMs: entry.startTime, durationMs: entry.duration, kind: gcKinds[kind] ?? String(kind) });
  }
});
observer.observe({ entryTypes: ['gc'] });

// MODE=single (default): one startBroker(); MODE=cluster: startCluster() of 3 nodes, a topic of
// replication factor 3 (min.insync.replicas 2), the load sent to its leader; MODE=process: the
// broker is `conveyor start` in its own process (its GC is not observed here).
const MODE = process.env.MODE ?? 'single';
const topic = 'stall';
let close: () => Promise<void>;
let leaderAddress: string;
if (MODE === 'cluster') {
  const cluster = await startCluster({ brokers: 3, storage: STORAGE, config: CONFIG });
  close = () => cluster.close();
  const admin = await KafkaConnection.open(connectTcp, cluster.node(cluster.nodeIds[0]!).bootstrapServer, 'produce-stall-admin');
  await createTopic(admin, 3);
  leaderAddress = await leaderOf(admin);
  admin.close();
} else if (MODE === 'processes') {
  // Three `conveyor start` processes as bench/replication.ts runs them (CONVEYOR_CLUSTER_NODE_ARGS
  // passes node options, e.g. --trace-gc; GC_LOG_DIR keeps each node's output).
  const cluster = await ProcessCluster.start({ nodes: 3, logLevel: 'warn', nodeArgs: BROKER_NODE_FLAGS, cliEntry: CLI, outputDir: process.env.GC_LOG_DIR, settings: Object.fromEntries(Object.entries(CONFIG).map(([key, value]) => [key, String(value)])) });
  close = () => cluster.stopAll();
  const admin = await KafkaConnection.open(connectTcp, cluster.address(cluster.nodeIds[0]!), 'produce-stall-admin');
  await createTopic(admin, 3);
  leaderAddress = await leaderOf(admin);
  admin.close();
} else if (MODE === 'process') {
  // The broker in its own process (`conveyor start`, the built CLI); NODE_OPTIONS reaches it.
  const conveyor = await startConveyor();
  close = async () => {
    await stopServer(conveyor.server, 30_000);
    rmSync(conveyor.dataDir, { recursive: true, force: true });
  };
  leaderAddress = conveyor.bootstrap;
  const admin = await KafkaConnection.open(connectTcp, leaderAddress, 'produce-stall-admin');
  await createTopic(admin, 1);
  admin.close();
} else {
  const broker = await startBroker({ port: 0, storage: STORAGE, config: CONFIG });
  close = () => broker.close();
  leaderAddress = broker.bootstrapServers;
  const admin = await KafkaConnection.open(connectTcp, leaderAddress, 'produce-stall-admin');
  await createTopic(admin, 1);
  admin.close();
}
const connection = await KafkaConnection.open(connectTcp, leaderAddress, 'produce-stall');

async function leaderOf(admin: KafkaConnection): Promise<string> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const metadata = await admin.send(MetadataApi, 12, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const partition = metadata.topics[0]?.partitions[0];
    const leader = metadata.brokers.find((broker) => broker.nodeId === partition?.leaderId);
    if (partition && partition.isrNodes.length === 3 && leader) return `${leader.host}:${leader.port}`;
  }
  throw new Error('no leader with 3 replicas in sync');
}

async function createTopic(admin: KafkaConnection, replicationFactor: number): Promise<void> {
  const created = await admin.send(CreateTopicsApi, 7, {
    topics: [{ name: topic, numPartitions: 1, replicationFactor, assignments: [], configs: replicationFactor > 1 ? [{ name: 'min.insync.replicas', value: '2' }] : [] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  if (created.topics[0]?.errorCode !== 0) throw new Error(`CreateTopics: error ${created.topics[0]?.errorCode}`);
}

const BUILD = process.env.BUILD ?? 'reuse';
const payload = makePayload(RECORD_BYTES);
const factory = new BatchFactory(payload);
const perBatch = factory.recordsPerBatch(BATCH_BYTES);
interface Sample {
  index: number;
  startMs: number;
  latencyMs: number;
  bytesBefore: number;
}
const samples: Sample[] = [];
let bytesSent = 0;
for (let index = 0; index < WARMUP + REQUESTS; index++) {
  const records =
    BUILD === 'fresh'
      ? buildRecordBatchSync(Array.from({ length: perBatch }, () => ({ value: payload })))
      : factory.build(perBatch, Date.now());
  const startMs = performance.now();
  const response = await connection.send(ProduceApi, 9, { transactionalId: null, acks: ACKS, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  const latencyMs = performance.now() - startMs;
  if (BUILD !== 'fresh') factory.release(records);
  const errorCode = response.responses[0]?.partitionResponses[0]?.errorCode;
  if (errorCode !== 0) throw new Error(`produce ${index}: error ${errorCode}`);
  if (index >= WARMUP) samples.push({ index: index - WARMUP, startMs, latencyMs, bytesBefore: bytesSent });
  bytesSent += records.length;
}
connection.close();
await close();
observer.disconnect();

const sorted = samples.map((sample) => sample.latencyMs).sort((a, b) => a - b);
const quantile = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const stalls = samples.filter((sample) => sample.latencyMs >= STALL_MS);
const gaps = stalls.slice(1).map((stall, i) => stall.index - stalls[i]!.index);
const gapCounts = new Map<number, number>();
for (const gap of gaps) gapCounts.set(gap, (gapCounts.get(gap) ?? 0) + 1);
const first = samples[0]!;
const last = samples.at(-1)!;
const elapsedMs = last.startMs + last.latencyMs - first.startMs;
const timed = gcEvents.filter((gc) => gc.startMs >= first.startMs);
const gcSummary = (events: GcEvent[]) => {
  const byKind: Record<string, { count: number; totalMs: number; maxMs: number }> = {};
  for (const gc of events) {
    const entry = (byKind[gc.kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
    entry.count += 1;
    entry.totalMs = Number((entry.totalMs + gc.durationMs).toFixed(1));
    entry.maxMs = Number(Math.max(entry.maxMs, gc.durationMs).toFixed(1));
  }
  return byKind;
};
// GC time inside stalled requests versus inside the others.
const gcInside = (sample: Sample) =>
  timed.filter((gc) => gc.startMs < sample.startMs + sample.latencyMs && gc.startMs + gc.durationMs > sample.startMs);
const stallGc = stalls.map((stall) => gcInside(stall));
const report = {
  setup: { mode: MODE, leader: leaderAddress, build: BUILD, requests: REQUESTS, warmup: WARMUP, acks: ACKS, batchBytes: BATCH_BYTES, recordsPerBatch: perBatch, storage: STORAGE, config: CONFIG, node: process.version, execArgv: process.execArgv },
  mbPerSec: Number(((samples.reduce((sum, sample) => sum + perBatch * RECORD_BYTES, 0) / MIB) / (elapsedMs / 1000)).toFixed(1)),
  latencyMs: { p50: quantile(0.5), p90: quantile(0.9), p99: quantile(0.99), p999: quantile(0.999), max: sorted.at(-1) },
  stalls: {
    thresholdMs: STALL_MS,
    count: stalls.length,
    perRequests: stalls.length > 0 ? Number((samples.length / stalls.length).toFixed(1)) : null,
    medianMs: stalls.length > 0 ? [...stalls].sort((a, b) => a.latencyMs - b.latencyMs)[Math.floor(stalls.length / 2)]!.latencyMs : null,
    gapsInRequests: Object.fromEntries([...gapCounts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)),
    withGcInside: stallGc.filter((events) => events.length > 0).length,
    withMajorGcInside: stallGc.filter((events) => events.some((gc) => gc.kind === 'major')).length,
  },
  gc: gcSummary(timed),
  gcDuringStalls: gcSummary(stallGc.flat()),
};
for (const key of ['p50', 'p90', 'p99', 'p999', 'max'] as const) report.latencyMs[key] = Number(report.latencyMs[key]!.toFixed(2));
if (process.env.VERBOSE === '1') {
  for (const [i, stall] of stalls.entries()) {
    const events = stallGc[i]!.map((gc) => `${gc.kind} ${gc.durationMs.toFixed(1)}ms@+${(gc.startMs - stall.startMs).toFixed(1)}`).join(', ');
    console.log(`#${stall.index} ${stall.latencyMs.toFixed(1)} ms after ${(stall.bytesBefore / MIB).toFixed(2)} MiB  gc: ${events || '-'}`);
  }
}
console.log(JSON.stringify(report, null, 1));
