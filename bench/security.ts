// On-demand benchmark of the security features (issue 18; not part of `npm run bench`):
// `npm run bench:security` (= `npx tsx bench/security.ts`), after `npm run build`; BENCH_QUICK=1
// for a smoke run of about two minutes. Two measurements, each in interleaved rounds so that every
// ratio compares numbers from the same moment of a shared machine:
//
// 1. Transport: one `conveyor start` process with three listeners, PLAINTEXT, SSL (TLS 1.3 only,
//    no client certificate) and SASL_SSL with SCRAM-SHA-512 (a user made through the PLAINTEXT
//    listener with AlterUserScramCredentials). Each round produces with kcat (librdkafka) into a new
//    topic over each listener, then reads each topic back with kcat over the same listener; the
//    order of the listeners rotates from round to round. Target: TLS at least 60% of plaintext.
// 2. Authorizer: two `conveyor start` processes, the same but for the authorizer: one with Kafka's
//    StandardAuthorizer and 1,000 ACLs (LITERAL and PREFIXED topic ACLs for many principals, some on
//    the very names the load writes to, and the one that lets alice write), one without an
//    authorizer. kcat produces as alice (SASL_PLAINTEXT, PLAIN) to each in turn, the order
//    alternating from round to round, with large batches and with small requests. Target: the
//    authorizer costs under 5%.
//
// Every record is 1 KiB (the perf tool's payload, one per line), one partition, acks=1, no
// compression, no idempotence; after every produce the topic's end offset is checked. `sync` runs
// before each produce so that no load pays for the writeback of an earlier one. Beside each load's
// throughput, the broker process's CPU time per MiB (from /proc), which the machine's other work
// moves less. Every broker listens on 127.0.0.1 and is stopped by its pid at the end, also on
// failure or Ctrl-C; every load has a time limit, and so has the whole run. Writes
// bench/results/security-<date>[-quick].json and prints a table.
//
// Knobs: CONVEYOR_CLI names another build of the CLI (default bin/conveyor.js, which runs dist/; a
// dist older than the last commit to src/ is reported as a problem); ROUNDS and AUTHZ_ROUNDS set
// the round counts; BENCH_PARTS=transport or =authorizer runs one part; every broker runs with the
// heap flag `npm start` gives one (BROKER_NODE_FLAGS), and BROKER_NODE_ARGS passes more node
// options to the brokers (--cpu-prof ...); AUTHZ_CONTROL=1 starts the 'authorizer' broker
// without one, an A/A run that shows how far two identical brokers measure apart on this machine
// at this moment (result file -control); TRANSPORT_CLIENT=perf measures the transport part with
// `conveyor perf` instead of kcat (result file -perf).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as connectTls } from 'node:tls';
import { AdminClient, type AclBindingInfo } from '../src/client/admin-client.js';
import { ClusterClient } from '../src/client/cluster-client.js';
import { makePayload } from '../src/client/perf-batches.js';
import { LATEST_TIMESTAMP, listOffsets } from '../src/client/perf-topics.js';
import { PipelinedConnection } from '../src/client/pipelined-connection.js';
import { AclOperation, AclPermissionType, AclResourceType, ANY_ACL_FILTER, PatternType } from '../src/metadata/acl.js';
import { connectTcp } from '../src/node/tcp-byte-stream.js';
import { answersApiVersions, BROKER_NODE_FLAGS, createTopic } from './lib/conveyor.js';
import { MIB, type PairedRound, type Throughput, throughputOf } from './lib/measurements.js';
import { freePort, type RunResult, type Server, settleWrites, startServer, stopServer, waitForPort } from './lib/processes.js';
import { buildInfo, commandLines, machineBase, tmpFileSystem } from './lib/machine.js';

const QUICK = process.env.BENCH_QUICK === '1';
const CLI = process.env.CONVEYOR_CLI ?? 'bin/conveyor.js';
const RECORD_BYTES = 1024;
/** Records per transport load: a few seconds each at the rates this machine reaches. */
const RECORDS = QUICK ? 300_000 : 1_000_000;
const TLS_ROUNDS = Number(process.env.ROUNDS ?? 3);
/** A 5% difference is well inside one round's noise here: the authorizer gets more rounds. */
const AUTHZ_ROUNDS = Number(process.env.AUTHZ_ROUNDS ?? (QUICK ? 3 : 7));
/** AUTHZ_CONTROL=1: an A/A run, the 'authorizer' broker started without one (no ACLs): how far apart two identical brokers measure. */
const AUTHZ_CONTROL = process.env.AUTHZ_CONTROL === '1';
/** BROKER_NODE_ARGS: node options for every broker, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (profiles are written as the brokers stop). */
const BROKER_NODE_ARGS = (process.env.BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** BENCH_PARTS=transport or authorizer runs only that part (default: both). */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'transport,authorizer').split(',').map((part) => part.trim()));
const ACKS = '1';
/**
 * TRANSPORT_CLIENT=perf runs the transport part with `conveyor perf produce|consume` (Node's TLS:
 * full 16 KiB TLS records, as Java clients send) instead of kcat (librdkafka 2.0.2, which writes a
 * TLS record per message: about 1 KiB each here). Result file -perf.
 */
const TRANSPORT_CLIENT: 'kcat' | 'perf' = process.env.TRANSPORT_CLIENT === 'perf' ? 'perf' : 'kcat';
const LOAD_TIMEOUT_MS = 120_000;
const START_TIMEOUT_MS = 120_000;
/** The whole run's limit: past it every broker is stopped and the run fails. */
const RUN_TIMEOUT_MS = QUICK ? 6 * 60_000 : 90 * 60_000;
const ACL_COUNT = 1000;
const ACL_BATCH = 100;
const SCRAM_USER = 'bench-scram';
const SCRAM_PASSWORD = 'bench-scram-secret';
const PLAIN_USER = 'alice';
const PLAIN_PASSWORD = 'alice-secret';
/** The topics the authorizer load writes to (alice's PREFIXED WRITE ACL) all start so. */
const AUTHZ_TOPIC_PREFIX = 'bench-authz-';

type Protocol = 'PLAINTEXT' | 'SSL' | 'SASL_SSL' | 'SASL_PLAINTEXT';
const TRANSPORTS: readonly Protocol[] = ['PLAINTEXT', 'SSL', 'SASL_SSL'];

/** The producer's batching: the main bench's (large batches) and the Java client's defaults (small requests, where a per-request cost shows most). */
interface ProduceShape {
  name: string;
  batchSizeBytes: number;
  lingerMs: number;
  records: number;
}
const BULK: ProduceShape = { name: 'batch.size 256 KiB, linger.ms 5', batchSizeBytes: 256 * 1024, lingerMs: 5, records: RECORDS };
const SMALL: ProduceShape = { name: 'batch.size 16 KiB, linger.ms 0', batchSizeBytes: 16 * 1024, lingerMs: 0, records: QUICK ? 150_000 : 400_000 };
const AUTHZ_SHAPES = [BULK, SMALL];

interface Broker {
  name: string;
  server: Server;
  dataDir: string;
  ports: Partial<Record<Protocol, number>>;
  properties: Record<string, string>;
  startupMs: number;
}

type Round = PairedRound;

/** A load's throughput and the broker's CPU time during it. */
interface Measured {
  throughput: Throughput;
  brokerCpuMs: number;
}

const servers: Server[] = [];
/** Loads and tools running now, killed by pid if the run stops under them. */
const running = new Set<ChildProcess>();
const cleanups: string[] = [];
const problems: string[] = [];
let stopping: Promise<void> | undefined;

function log(message: string): void {
  process.stderr.write(`[bench:security] ${message}\n`);
}

/**
 * Runs a command to completion, killing it by pid after `timeoutMs` or when the run stops (as
 * lib/processes.ts's run(), but without a shell in between and with the child known to
 * stopEverything, so no kcat outlives the run). The time runs from spawn to exit.
 */
function run(command: string, args: string[], timeoutMs: number, options: { stdinFile?: string; stdoutToNull?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    if (stopping) throw new Error('the run is stopping');
    const stdin = options.stdinFile ? openSync(options.stdinFile, 'r') : 'ignore';
    const started = performance.now();
    const child = spawn(command, args, { stdio: [stdin, options.stdoutToNull ? 'ignore' : 'pipe', 'pipe'] });
    if (typeof stdin === 'number') closeSync(stdin);
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(-65536);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-65536);
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    let elapsedMs = 0;
    child.once('exit', () => {
      elapsedMs = performance.now() - started;
    });
    // Resolved once its output is all read; timed to its exit.
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolvePromise({ code, stdout, stderr, elapsedMs: elapsedMs || performance.now() - started });
    });
  });
}

/** Stops every load and broker this run started, by pid, and removes its files; safe to call more than once. */
function stopEverything(): Promise<void> {
  stopping ??= (async () => {
    for (const child of running) {
      try {
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await Promise.all(servers.map((server) => stopServer(server, 30_000).catch((error: unknown) => log(`stopping ${server.name} (pid ${server.pid}): ${String(error)}`))));
    for (const dir of cleanups) rmSync(dir, { recursive: true, force: true });
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the brokers`);
    void stopEverything().finally(() => process.exit(130));
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The list rotated left by `by`: each round starts with a different case. */
function rotate<T>(list: readonly T[], by: number): T[] {
  const shift = by % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}

// ---------------------------------------------------------------------------------------------
// Brokers

/** `conveyor start -c <file>` with `listeners` on free loopback ports plus `settings`; ready once PLAINTEXT answers ApiVersions. */
async function startBroker(name: string, work: string, listeners: Protocol[], settings: Record<string, string>): Promise<Broker> {
  const ports: Partial<Record<Protocol, number>> = {};
  for (const listener of listeners) ports[listener] = await freePort();
  const dataDir = join(work, `${name}-data`);
  const properties: Record<string, string> = {
    listeners: listeners.map((listener) => `${listener}://127.0.0.1:${ports[listener]}`).join(','),
    'log.dirs': dataDir,
    ...settings,
  };
  const file = join(work, `${name}.properties`);
  writeFileSync(file, `${Object.entries(properties).map(([key, value]) => `${key}=${value}`).join('\n')}\n`);
  if (stopping) throw new Error('the run is stopping');
  const started = performance.now();
  const server = startServer(name, process.execPath, [...BROKER_NODE_FLAGS, ...BROKER_NODE_ARGS, CLI, 'start', '-c', file, '--log-level', 'warn']);
  servers.push(server);
  const startupMs = await waitForPort(ports.PLAINTEXT!, START_TIMEOUT_MS, started, server, answersApiVersions);
  return { name, server, dataDir, ports, properties, startupMs };
}

function bootstrap(broker: Broker, protocol: Protocol): string {
  return `127.0.0.1:${broker.ports[protocol]}`;
}

async function withAdmin<T>(broker: Broker, action: (admin: AdminClient) => Promise<T>): Promise<T> {
  const cluster = new ClusterClient(connectTcp, bootstrap(broker, 'PLAINTEXT'), 'bench-security-admin');
  try {
    return await action(new AdminClient(cluster));
  } finally {
    cluster.close();
  }
}

/** The end offset of partition 0 of `topic`, through the PLAINTEXT listener. */
async function endOffset(broker: Broker, topic: string): Promise<number> {
  const connection = await PipelinedConnection.open(connectTcp, bootstrap(broker, 'PLAINTEXT'));
  try {
    return (await listOffsets(connection, topic, [0], LATEST_TIMESTAMP)).get(0) ?? -1;
  } finally {
    connection.close();
  }
}

/** The TLS version and cipher a Node client negotiates with the SSL listener. */
function tlsHandshake(port: number, ca: string): Promise<{ protocol: string; cipher: string }> {
  return new Promise((resolvePromise, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, ca: readFileSync(ca), timeout: 10_000 });
    socket.once('secureConnect', () => {
      const result = { protocol: socket.getProtocol() ?? 'unknown', cipher: socket.getCipher().standardName };
      socket.destroy();
      resolvePromise(result);
    });
    socket.once('timeout', () => socket.destroy(new Error('TLS handshake timed out')));
    socket.once('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// Loads (kcat)

interface ClientSecurity {
  protocol: Protocol;
  caFile?: string;
  /** kcat unless said (the transport part's TRANSPORT_CLIENT). */
  client?: 'kcat' | 'perf';
  /** For the perf tool: its --command-config file for this listener (none for PLAINTEXT). */
  configFile?: string;
}

/** kcat's -X settings for a listener. */
function securityArgs(security: ClientSecurity): string[] {
  const x = (setting: string) => ['-X', setting];
  const ssl = security.caFile ? x(`ssl.ca.location=${security.caFile}`) : [];
  switch (security.protocol) {
    case 'PLAINTEXT':
      return [];
    case 'SSL':
      return [...x('security.protocol=ssl'), ...ssl];
    case 'SASL_SSL':
      return [...x('security.protocol=sasl_ssl'), ...ssl, ...x('sasl.mechanisms=SCRAM-SHA-512'), ...x(`sasl.username=${SCRAM_USER}`), ...x(`sasl.password=${SCRAM_PASSWORD}`)];
    case 'SASL_PLAINTEXT':
      return [...x('security.protocol=sasl_plaintext'), ...x('sasl.mechanisms=PLAIN'), ...x(`sasl.username=${PLAIN_USER}`), ...x(`sasl.password=${PLAIN_PASSWORD}`)];
  }
}

/** kcat -P of `shape.records` lines of `inputFile` into `topic`; the time is kcat's whole run, delivery included. */
async function kcatProduce(address: string, security: ClientSecurity, topic: string, inputFile: string, shape: ProduceShape, label: string): Promise<Throughput> {
  const result = await run('kcat', [
    '-P', '-b', address, '-t', topic, ...securityArgs(security),
    '-X', `acks=${ACKS}`, '-X', `linger.ms=${shape.lingerMs}`, '-X', `batch.size=${shape.batchSizeBytes}`,
    '-X', 'batch.num.messages=1000000', '-X', 'queue.buffering.max.messages=2000000', '-X', 'queue.buffering.max.kbytes=2097151',
    '-X', 'compression.codec=none', '-X', 'enable.idempotence=false', '-X', 'message.timeout.ms=60000',
  ], LOAD_TIMEOUT_MS, { stdinFile: inputFile });
  if (result.code !== 0) throw new Error(`kcat -P ${label} failed (${result.code ?? 'killed: time limit or the run stopping'}): ${result.stderr.slice(-400)}`);
  return throughputOf({
    id: `kcat-produce-${label}`, system: 'conveyor', client: 'kcat (librdkafka 2.0.2)', op: 'produce',
    recordSizeBytes: RECORD_BYTES, partitions: 1, acks: ACKS, records: shape.records, elapsedMs: result.elapsedMs, note: label,
  });
}

/** kcat -C of `records` records of `topic` from the beginning, values to /dev/null. */
async function kcatConsume(address: string, security: ClientSecurity, topic: string, records: number, label: string): Promise<Throughput> {
  const result = await run('kcat', ['-C', '-b', address, '-t', topic, ...securityArgs(security), '-o', 'beginning', '-e', '-q', '-c', String(records)], LOAD_TIMEOUT_MS, { stdoutToNull: true });
  if (result.code !== 0) throw new Error(`kcat -C ${label} failed (${result.code ?? 'killed: time limit or the run stopping'}): ${result.stderr.slice(-400)}`);
  return throughputOf({
    id: `kcat-consume-${label}`, system: 'conveyor', client: 'kcat (librdkafka 2.0.2)', op: 'consume',
    recordSizeBytes: RECORD_BYTES, partitions: 1, acks: '-', records, elapsedMs: result.elapsedMs, note: label,
  });
}

/** A --command-config file for the perf tool on `protocol`'s listener (Kafka's client keys), or undefined for PLAINTEXT. */
function perfConfigFile(work: string, protocol: Protocol, caFile: string): string | undefined {
  const ssl = ['ssl.truststore.type=PEM', `ssl.truststore.location=${caFile}`];
  const settings: Partial<Record<Protocol, string[]>> = {
    SSL: ['security.protocol=SSL', ...ssl],
    SASL_SSL: ['security.protocol=SASL_SSL', ...ssl, 'sasl.mechanism=SCRAM-SHA-512', `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${SCRAM_USER}" password="${SCRAM_PASSWORD}";`],
  };
  const lines = settings[protocol];
  if (lines === undefined) return undefined;
  const file = join(work, `perf-${protocol.toLowerCase()}.properties`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** `conveyor perf produce|consume` of `records` 1 KiB records; the time is the tool's own (from its first send or fetch). */
async function perfLoad(op: 'produce' | 'consume', address: string, security: ClientSecurity, topic: string, records: number, shape: ProduceShape | undefined, label: string): Promise<Throughput> {
  const config = security.configFile === undefined ? [] : ['--command-config', security.configFile];
  const shapeArgs = shape === undefined ? [] : ['--record-size', String(RECORD_BYTES), '--batch-size', String(shape.batchSizeBytes), '--linger-ms', String(shape.lingerMs), '--acks', ACKS];
  const result = await run(process.execPath, [CLI, 'perf', op, '-b', address, '-t', topic, '--json', '--num-records', String(records), ...shapeArgs, ...config], LOAD_TIMEOUT_MS);
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.code !== 0 || !line.startsWith('{')) throw new Error(`perf ${op} ${label} failed (${result.code ?? 'killed: time limit or the run stopping'}): ${result.stderr.slice(-400)}`);
  const parsed = JSON.parse(line) as { records: number; elapsedMs: number; errors: number };
  if (parsed.errors > 0 || parsed.records !== records) throw new Error(`perf ${op} ${label}: ${parsed.records} records, ${parsed.errors} failed, ${records} expected`);
  return throughputOf({
    id: `perf-${op}-${label}`, system: 'conveyor', client: 'conveyor perf', op,
    recordSizeBytes: RECORD_BYTES, partitions: 1, acks: op === 'produce' ? ACKS : '-', records, elapsedMs: parsed.elapsedMs, note: label,
  });
}

/** One record per line, the perf tool's payload: `records` lines. */
function writeInput(work: string, records: number): string {
  const line = Buffer.concat([makePayload(RECORD_BYTES), Buffer.from('\n')]);
  const file = join(work, `records-${records}.txt`);
  const perChunk = Math.floor((8 * MIB) / line.length);
  const chunk = Buffer.concat(Array.from({ length: perChunk }, () => line));
  const parts: Buffer[] = [];
  for (let written = 0; written < records; written += perChunk) parts.push(written + perChunk <= records ? chunk : chunk.subarray(0, (records - written) * line.length));
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User plus system CPU time of a process and all its threads so far, from /proc. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (in parentheses, which may hold spaces): utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Runs a load and measures the broker's CPU time over it. */
async function measured(broker: Broker, load: () => Promise<Throughput>): Promise<Measured> {
  const before = cpuMs(broker.server.pid);
  const throughput = await load();
  return { throughput, brokerCpuMs: cpuMs(broker.server.pid) - before };
}

/** Produces into a new topic and checks that every record arrived. */
async function producedTopic(broker: Broker, security: ClientSecurity, topic: string, inputFile: string, shape: ProduceShape, label: string): Promise<Measured> {
  await createTopic(bootstrap(broker, 'PLAINTEXT'), topic, 1);
  await settleWrites();
  const address = bootstrap(broker, security.protocol);
  const produced = await measured(broker, () => (security.client === 'perf' ? perfLoad('produce', address, security, topic, shape.records, shape, label) : kcatProduce(address, security, topic, inputFile, shape, label)));
  const end = await endOffset(broker, topic);
  if (end !== shape.records) throw new Error(`${label}: ${topic} ends at offset ${end} after ${security.client ?? 'kcat'} produced ${shape.records} records`);
  return produced;
}

// ---------------------------------------------------------------------------------------------
// 1. Transport: PLAINTEXT, SSL, SASL_SSL on one broker

interface TransportResult {
  broker: { startupMs: number; properties: Record<string, string> };
  tls: { protocol: string; cipher: string };
  produce: Round[];
  consume: Round[];
}

async function transport(work: string, certs: string, inputFile: string): Promise<TransportResult> {
  const broker = await startBroker('transport', work, ['PLAINTEXT', 'SSL', 'SASL_SSL'], {
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': join(certs, 'broker-keystore.pem'),
    'ssl.enabled.protocols': 'TLSv1.3',
    'ssl.client.auth': 'none',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
  });
  const caFile = join(certs, 'ca.pem');
  const configFiles = new Map(TRANSPORTS.map((protocol) => [protocol, TRANSPORT_CLIENT === 'perf' ? perfConfigFile(work, protocol, caFile) : undefined]));
  const security = (protocol: Protocol): ClientSecurity => ({ protocol, caFile, client: TRANSPORT_CLIENT, configFile: configFiles.get(protocol) });
  const tls = await tlsHandshake(broker.ports.SSL!, caFile);
  log(`  transport broker (pid ${broker.server.pid}) up in ${Math.round(broker.startupMs)} ms; TLS: ${tls.protocol} ${tls.cipher}`);
  const created = await withAdmin(broker, (admin) => admin.alterUserScramCredentials([{ user: SCRAM_USER, mechanism: 'SCRAM-SHA-512', password: SCRAM_PASSWORD, iterations: 4096 }], []));
  if (created[0]?.errorCode !== 0) throw new Error(`AlterUserScramCredentials ${SCRAM_USER}: ${JSON.stringify(created)}`);
  const produce: Round[] = [];
  const consume: Round[] = [];
  for (let round = 0; round < TLS_ROUNDS; round++) {
    const order = rotate(TRANSPORTS, round);
    const produced: Round = { round: round + 1, order, mbPerSec: {}, recordsPerSec: {}, elapsedMs: {}, brokerCpuMsPerMiB: {} };
    const consumed: Round = { round: round + 1, order, mbPerSec: {}, recordsPerSec: {}, elapsedMs: {}, brokerCpuMsPerMiB: {} };
    for (const protocol of order) {
      const result = await producedTopic(broker, security(protocol), `transport-${protocol.toLowerCase()}-${round + 1}`, inputFile, BULK, `${protocol} round ${round + 1}`);
      record(produced, protocol, result);
    }
    for (const protocol of order) {
      const topic = `transport-${protocol.toLowerCase()}-${round + 1}`;
      const label = `${protocol} round ${round + 1}`;
      const address = bootstrap(broker, protocol);
      const client = security(protocol);
      const result = await measured(broker, () => (client.client === 'perf' ? perfLoad('consume', address, client, topic, RECORDS, undefined, label) : kcatConsume(address, client, topic, RECORDS, label)));
      record(consumed, protocol, result);
    }
    produce.push(produced);
    consume.push(consumed);
    log(`  round ${round + 1} (${order.join(', ')}): produce ${describeRound(produced, TRANSPORTS)}; consume ${describeRound(consumed, TRANSPORTS)}`);
  }
  return { broker: { startupMs: broker.startupMs, properties: broker.properties }, tls, produce, consume };
}

function record(round: Round, key: string, { throughput, brokerCpuMs }: Measured): void {
  round.mbPerSec[key] = round1(throughput.mbPerSec);
  round.recordsPerSec[key] = Math.round(throughput.recordsPerSec);
  round.elapsedMs[key] = Math.round(throughput.elapsedMs);
  round.brokerCpuMsPerMiB[key] = round3(brokerCpuMs / ((throughput.records * throughput.recordSizeBytes) / MIB));
}

function describeRound(round: Round, keys: readonly string[]): string {
  return keys.map((key) => `${key} ${round.mbPerSec[key]?.toFixed(1)} MB/s (broker ${round.brokerCpuMsPerMiB[key]?.toFixed(2)} CPU ms/MiB)`).join(', ');
}

// ---------------------------------------------------------------------------------------------
// 2. Authorizer: StandardAuthorizer with 1,000 ACLs against no authorizer

/** The 1,000 ACLs: what a cluster with many services might hold, some on the load's own topic names. */
function aclSet(): { acls: AclBindingInfo[]; description: string } {
  const acls: AclBindingInfo[] = [];
  const allow = (principal: string, resourceName: string, patternType: number, operation: number): AclBindingInfo => ({
    resourceType: AclResourceType.TOPIC, resourceName, patternType, principal, host: '*', operation, permissionType: AclPermissionType.ALLOW,
  });
  const pad = (n: number) => String(n).padStart(3, '0');
  for (let i = 0; i < 200; i++) {
    acls.push(allow(`User:svc-${pad(i)}`, `orders-${pad(i)}`, PatternType.LITERAL, AclOperation.WRITE));
    acls.push(allow(`User:svc-${pad(i)}`, `orders-${pad(i)}`, PatternType.LITERAL, AclOperation.READ));
    acls.push(allow(`User:svc-${pad(i)}`, `team-${pad(i)}-`, PatternType.PREFIXED, AclOperation.READ));
    acls.push(allow(`User:svc-${pad(i)}`, `team-${pad(i)}-`, PatternType.PREFIXED, AclOperation.DESCRIBE));
  }
  // Other principals' ACLs on the names alice writes to (bench-authz-<n>) and on prefixes of them:
  // the authorizer finds these for every request of the load and must pass over them.
  for (let i = 0; i < 150; i++) acls.push(allow(`User:reader-${pad(i)}`, `${AUTHZ_TOPIC_PREFIX}${i}`, PatternType.LITERAL, AclOperation.READ));
  for (let i = 0; i < 49; i++) acls.push(allow(`User:auditor-${pad(i)}`, i === 0 ? AUTHZ_TOPIC_PREFIX : `${AUTHZ_TOPIC_PREFIX}${i}`, PatternType.PREFIXED, AclOperation.DESCRIBE));
  acls.push(allow(`User:${PLAIN_USER}`, AUTHZ_TOPIC_PREFIX, PatternType.PREFIXED, AclOperation.WRITE));
  if (acls.length !== ACL_COUNT) throw new Error(`the ACL set has ${acls.length} ACLs, not ${ACL_COUNT}`);
  return {
    acls,
    description:
      `${ACL_COUNT} ALLOW topic ACLs, host *: 200 principals User:svc-NNN with LITERAL WRITE and READ on orders-NNN and PREFIXED READ and DESCRIBE on team-NNN- (800); ` +
      `150 LITERAL READ on ${AUTHZ_TOPIC_PREFIX}0..149 (the load's topic names) for User:reader-NNN; 49 PREFIXED DESCRIBE on ${AUTHZ_TOPIC_PREFIX} and ${AUTHZ_TOPIC_PREFIX}1..48 for User:auditor-NNN; ` +
      `1 PREFIXED WRITE on ${AUTHZ_TOPIC_PREFIX} for User:${PLAIN_USER} (the producer). LITERAL: 550, PREFIXED: 450; allow.everyone.if.no.acl.found=false`,
  };
}

interface AuthorizerResult {
  acls: string;
  aclsCreateMs: number;
  brokers: Record<string, { startupMs: number; properties: Record<string, string> }>;
  shapes: { shape: string; records: number; rounds: Round[] }[];
}

async function authorizer(work: string, inputs: Map<number, string>): Promise<AuthorizerResult> {
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${PLAIN_USER}="${PLAIN_PASSWORD}";`;
  const common = { 'sasl.enabled.mechanisms': 'PLAIN', 'listener.name.sasl_plaintext.plain.sasl.jaas.config': jaas };
  const withAcls = await startBroker('authorizer', work, ['PLAINTEXT', 'SASL_PLAINTEXT'], AUTHZ_CONTROL ? common : {
    ...common,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': 'User:ANONYMOUS',
    'allow.everyone.if.no.acl.found': 'false',
  });
  const without = await startBroker('no-authorizer', work, ['PLAINTEXT', 'SASL_PLAINTEXT'], common);
  log(`  brokers up: with the authorizer (pid ${withAcls.server.pid}) in ${Math.round(withAcls.startupMs)} ms, without (pid ${without.server.pid}) in ${Math.round(without.startupMs)} ms`);

  const { acls, description } = AUTHZ_CONTROL ? { acls: [], description: 'none: AUTHZ_CONTROL=1, an A/A run, both brokers without an authorizer' } : aclSet();
  const started = performance.now();
  if (!AUTHZ_CONTROL) await withAdmin(withAcls, async (admin) => {
    for (let index = 0; index < acls.length; index += ACL_BATCH) {
      const results = await admin.createAcls(acls.slice(index, index + ACL_BATCH));
      const failed = results.find((result) => result.errorCode !== 0);
      if (failed) throw new Error(`CreateAcls batch at ${index}: ${failed.error} ${failed.message ?? ''}`);
    }
    const described = await admin.describeAcls(ANY_ACL_FILTER);
    if (described.length !== ACL_COUNT) throw new Error(`DescribeAcls lists ${described.length} ACLs after creating ${ACL_COUNT}`);
  });
  const aclsCreateMs = performance.now() - started;
  log(AUTHZ_CONTROL ? '  AUTHZ_CONTROL=1: no authorizer on either broker (A/A)' : `  ${ACL_COUNT} ACLs created in batches of ${ACL_BATCH} in ${Math.round(aclsCreateMs)} ms`);
  if (!AUTHZ_CONTROL) await checkAuthorizerRefuses(withAcls, inputs.get(SMALL.records) ?? inputs.get(BULK.records)!);

  const brokers = [withAcls, without];
  const shapes: AuthorizerResult['shapes'] = AUTHZ_SHAPES.map((shape) => ({ shape: shape.name, records: shape.records, rounds: [] }));
  let topicNumber = 0;
  for (let round = 0; round < AUTHZ_ROUNDS; round++) {
    const order = round % 2 === 0 ? brokers : [...brokers].reverse();
    for (const [index, shape] of AUTHZ_SHAPES.entries()) {
      const rounds = shapes[index]!.rounds;
      const entry: Round = { round: round + 1, order: order.map((broker) => broker.name), mbPerSec: {}, recordsPerSec: {}, elapsedMs: {}, brokerCpuMsPerMiB: {} };
      for (const broker of order) {
        const topic = `${AUTHZ_TOPIC_PREFIX}${topicNumber++}`;
        const result = await producedTopic(broker, { protocol: 'SASL_PLAINTEXT' }, topic, inputs.get(shape.records)!, shape, `${broker.name} ${shape.name} round ${round + 1}`);
        record(entry, broker.name, result);
      }
      rounds.push(entry);
      const ratio = entry.mbPerSec.authorizer! / entry.mbPerSec['no-authorizer']!;
      log(`  round ${round + 1}, ${shape.name} (${entry.order.join(', ')}): ${describeRound(entry, ['authorizer', 'no-authorizer'])}; ×${ratio.toFixed(3)}`);
    }
  }
  return {
    acls: description,
    aclsCreateMs: Math.round(aclsCreateMs),
    brokers: Object.fromEntries(brokers.map((broker) => [broker.name, { startupMs: Math.round(broker.startupMs), properties: broker.properties }])),
    shapes,
  };
}

/** The authorizer is on: alice may not write outside her prefix (a short kcat run that must deliver nothing). */
async function checkAuthorizerRefuses(broker: Broker, inputFile: string): Promise<void> {
  const topic = 'not-alices-topic';
  await createTopic(bootstrap(broker, 'PLAINTEXT'), topic, 1);
  const oneLine = join(tmpdir(), `bench-security-one-line-${process.pid}.txt`);
  writeFileSync(oneLine, readFileSync(inputFile).subarray(0, RECORD_BYTES + 1));
  try {
    await run('kcat', ['-P', '-b', bootstrap(broker, 'SASL_PLAINTEXT'), '-t', topic, ...securityArgs({ protocol: 'SASL_PLAINTEXT' }), '-X', 'message.timeout.ms=5000'], 30_000, { stdinFile: oneLine });
  } finally {
    rmSync(oneLine, { force: true });
  }
  const end = await endOffset(broker, topic);
  if (end !== 0) throw new Error(`the authorizer let alice write ${end} records to ${topic}, which no ACL allows her`);
}

// ---------------------------------------------------------------------------------------------
// Run, summary, result file

function machine(): Record<string, string> {
  return {
    ...machineBase(),
    kcat: commandLines('kcat', ['-V']).find((line) => line.startsWith('Version')) ?? 'not found',
    openssl: commandLines('openssl', ['version'])[0]!,
    filesystem: tmpFileSystem(),
  };
}

/** What was measured: the commit, the CLI build, and whether that build is older than the sources. */
function build(): Record<string, string> {
  const info = buildInfo(CLI);
  if (info.staleSince) problems.push(`dist/cli/conveyor.js (${info.bundleTime}) is older than the last commit to src/ (${info.staleSince}): run npm run build`);
  return {
    /** The repository's HEAD; the broker is the CLI below, which may be another build (CONVEYOR_CLI). */
    commit: info.commit,
    uncommittedSourceFiles: info.uncommittedSourceFiles,
    cli: resolve(CLI),
    bundle: `${info.bundle} (built ${info.bundleTime})`,
  };
}

interface Summary {
  label: string;
  /** Median MB/s of each case over the rounds. */
  medians: Record<string, number>;
  /** Each round's throughput ratio of `subject` to `baseline`; the target is judged on their median. */
  roundRatios: number[];
  medianRoundRatio: number;
  ratioOfMedians: number;
  /** Median broker CPU ms per MiB of each case, and each round's ratio of `subject`'s to `baseline`'s (above 1: the subject costs the broker more CPU). */
  cpuMsPerMiBMedians: Record<string, number>;
  cpuRoundRatios: number[];
  cpuMedianRoundRatio: number;
}

function summarize(label: string, rounds: Round[], subject: string, baseline: string, keys: string[]): Summary {
  const medians = Object.fromEntries(keys.map((key) => [key, round1(median(rounds.map((entry) => entry.mbPerSec[key]!)))]));
  const roundRatios = rounds.map((entry) => round3(entry.mbPerSec[subject]! / entry.mbPerSec[baseline]!));
  const cpuMsPerMiBMedians = Object.fromEntries(keys.map((key) => [key, round3(median(rounds.map((entry) => entry.brokerCpuMsPerMiB[key]!)))]));
  const cpuRoundRatios = rounds.map((entry) => round3(entry.brokerCpuMsPerMiB[subject]! / entry.brokerCpuMsPerMiB[baseline]!));
  return {
    label,
    medians,
    roundRatios,
    medianRoundRatio: round3(median(roundRatios)),
    ratioOfMedians: round3(medians[subject]! / medians[baseline]!),
    cpuMsPerMiBMedians,
    cpuRoundRatios,
    cpuMedianRoundRatio: round3(median(cpuRoundRatios)),
  };
}

/** A ratio as a percentage: one decimal for the medians a target is judged on, whole numbers for the rounds. */
function percent(ratio: number, decimals = 0): string {
  return `${(ratio * 100).toFixed(decimals)}%`;
}

/** "62.5% (rounds 60%, 80%, 39%)". */
function ratioText(median: number, rounds: number[]): string {
  return `${percent(median, 1)} (rounds ${rounds.map((ratio) => percent(ratio)).join(', ')})`;
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    log(`the run passed its limit of ${RUN_TIMEOUT_MS / 60_000} min: stopping the brokers`);
    void stopEverything().finally(() => process.exit(1));
  }, RUN_TIMEOUT_MS);
  watchdog.unref();
  const date = new Date().toISOString();
  const loadStart = loadavg().map((value) => Math.round(value * 100) / 100);
  const buildInfo = build();
  const work = mkdtempSync(join(tmpdir(), 'bench-security-'));
  cleanups.push(work);
  log(`${QUICK ? 'quick run' : 'run'}: ${TLS_ROUNDS} transport rounds of ${RECORDS} records, ${AUTHZ_ROUNDS} authorizer rounds; CLI ${CLI} (commit ${buildInfo.commit}); load average ${loadStart.join(' ')}`);
  let transportResult: TransportResult | undefined;
  let authorizerResult: AuthorizerResult | undefined;
  try {
    const certs = join(work, 'certs');
    mkdirSync(certs);
    const made = await run(process.execPath, [CLI, 'certs', 'create', certs], 60_000);
    if (made.code !== 0) throw new Error(`conveyor certs create failed: ${made.stderr.slice(-400)}`);
    const inputs = new Map<number, string>();
    for (const records of new Set([RECORDS, SMALL.records])) inputs.set(records, writeInput(work, records));
    await settleWrites();
    const attempt = async <T>(part: string, title: string, step: () => Promise<T>): Promise<T | undefined> => {
      if (!PARTS.has(part)) return undefined;
      log(title);
      try {
        return await step();
      } catch (error) {
        problems.push(`${part}: ${error instanceof Error ? error.message : String(error)}`);
        log(`  failed: ${problems.at(-1)}`);
        return undefined;
      }
    };
    transportResult = await attempt('transport', '1. transport: PLAINTEXT, SSL and SASL_SSL (SCRAM-SHA-512) on one broker', () => transport(work, certs, inputs.get(RECORDS)!));
    // The transport broker is not needed any more: stop it so it does not share the cores.
    const transportServer = servers.find((server) => server.name === 'transport');
    if (transportServer) await stopServer(transportServer, 30_000);
    authorizerResult = await attempt('authorizer', `2. authorizer: StandardAuthorizer with ${ACL_COUNT} ACLs against none, SASL_PLAINTEXT (PLAIN) as ${PLAIN_USER}`, () => authorizer(work, inputs));
  } finally {
    await stopEverything();
    clearTimeout(watchdog);
  }
  const loadEnd = loadavg().map((value) => Math.round(value * 100) / 100);

  const summaries: Summary[] = [];
  const targets: { target: string; wanted: string; measured: string; met: boolean }[] = [];
  if (transportResult) {
    for (const [op, rounds] of [['produce', transportResult.produce], ['consume', transportResult.consume]] as const) {
      for (const subject of ['SSL', 'SASL_SSL']) {
        const summary = summarize(`${op} ${subject} / PLAINTEXT`, rounds, subject, 'PLAINTEXT', [...TRANSPORTS]);
        summaries.push(summary);
        if (subject === 'SSL') {
          targets.push({
            target: `TLS ${op}, 1 KiB, 1 partition${op === 'produce' ? ', acks=1' : ''}`,
            wanted: '≥ 60% of PLAINTEXT',
            measured: `${summary.medians.SSL} MB/s against ${summary.medians.PLAINTEXT} MB/s: ${ratioText(summary.medianRoundRatio, summary.roundRatios)}; broker CPU per MiB ×${summary.cpuMedianRoundRatio.toFixed(2)}`,
            met: summary.medianRoundRatio >= 0.6,
          });
        }
      }
    }
  }
  if (authorizerResult) {
    for (const shape of authorizerResult.shapes) {
      const summary = summarize(`produce with ${AUTHZ_CONTROL ? 'no authorizer (A/A control)' : `${ACL_COUNT} ACLs`} / no authorizer, ${shape.shape}`, shape.rounds, 'authorizer', 'no-authorizer', ['authorizer', 'no-authorizer']);
      summaries.push(summary);
      targets.push({
        target: `authorizer${AUTHZ_CONTROL ? ' (A/A control: no authorizer on either)' : ''}, produce ${shape.shape}`,
        wanted: '< 5% slower',
        measured: `${summary.medians.authorizer} MB/s against ${summary.medians['no-authorizer']} MB/s: ${ratioText(summary.medianRoundRatio, summary.roundRatios)}; broker CPU per MiB ×${summary.cpuMedianRoundRatio.toFixed(2)}`,
        met: summary.medianRoundRatio > 0.95,
      });
    }
  }

  const machineInfo = machine();
  const result = {
    date,
    quick: QUICK,
    machine: { ...machineInfo, loadAverageAtStart: loadStart.join(' '), loadAverageAtEnd: loadEnd.join(' ') },
    build: buildInfo,
    setup: {
      recordSizeBytes: RECORD_BYTES,
      partitions: 1,
      acks: ACKS,
      brokerNodeArgs: [...BROKER_NODE_FLAGS, ...BROKER_NODE_ARGS].join(' '),
      client: 'kcat (librdkafka 2.0.2): -P from a file of one record per line, compression none, enable.idempotence=false; -C from the beginning to the end, values to /dev/null',
      transportClient: TRANSPORT_CLIENT === 'perf'
        ? 'conveyor perf produce|consume (Node TLS, 16 KiB TLS records), its own timing; the authorizer part uses kcat'
        : 'kcat, as above (about 1 KiB TLS records: one per message)',
      transport: {
        records: RECORDS,
        rounds: TLS_ROUNDS,
        producer: BULK.name,
        listeners: 'one broker: PLAINTEXT, SSL (ssl.enabled.protocols=TLSv1.3, ssl.client.auth=none, RSA 2048 certificate from conveyor certs create) and SASL_SSL (SCRAM-SHA-512, 4096 iterations)',
        order: 'each round: a new topic produced over each listener, then each read back over the same listener; the listener order rotates each round',
      },
      authorizer: {
        rounds: AUTHZ_ROUNDS,
        control: AUTHZ_CONTROL,
        shapes: AUTHZ_SHAPES.map((shape) => `${shape.name}: ${shape.records} records`),
        listeners: 'two brokers, PLAINTEXT (topic creation, ACLs) and SASL_PLAINTEXT with PLAIN; kcat as User:alice over SASL_PLAINTEXT; one has the StandardAuthorizer and super.users=User:ANONYMOUS, the other no authorizer',
        order: 'each round: both shapes, each to both brokers into new topics, the broker order alternating each round',
      },
    },
    transport: transportResult,
    authorizer: authorizerResult,
    summaries,
    targets,
    problems,
  };
  const file = join('bench', 'results', `security-${date.replace(/[:]/g, '-').replace(/\..*/, '')}${AUTHZ_CONTROL ? '-control' : ''}${TRANSPORT_CLIENT === 'perf' ? '-perf' : ''}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

  const lines = ['', `Security benchmark ${date}${QUICK ? ' (quick)' : ''}: ${machineInfo.cpu}, load average ${loadStart.join(' ')} at the start, ${loadEnd.join(' ')} at the end; repository at ${buildInfo.commit}, CLI ${CLI}`];
  if (transportResult) {
    lines.push(`Transport (${TRANSPORT_CLIENT === 'perf' ? 'conveyor perf' : 'kcat'}): ${transportResult.tls.protocol} ${transportResult.tls.cipher}; ${TLS_ROUNDS} rounds of ${RECORDS} × 1 KiB records, ${BULK.name}, acks=1, 1 partition. MB/s: median of the rounds; ratios: median of each round's ratio; CPU: the broker's ms per MiB`, '');
    lines.push('| op | PLAINTEXT MB/s | SSL MB/s | SASL_SSL MB/s | SSL / PLAINTEXT | SASL_SSL / PLAINTEXT | CPU PLAINTEXT / SSL / SASL_SSL |', '|---|---|---|---|---|---|---|');
    for (const op of ['produce', 'consume']) {
      const ssl = summaries.find((summary) => summary.label === `${op} SSL / PLAINTEXT`)!;
      const sasl = summaries.find((summary) => summary.label === `${op} SASL_SSL / PLAINTEXT`)!;
      const cpu = TRANSPORTS.map((protocol) => ssl.cpuMsPerMiBMedians[protocol]!.toFixed(2)).join(' / ');
      lines.push(`| ${op} | ${ssl.medians.PLAINTEXT} | ${ssl.medians.SSL} | ${ssl.medians.SASL_SSL} | ${ratioText(ssl.medianRoundRatio, ssl.roundRatios)} | ${ratioText(sasl.medianRoundRatio, sasl.roundRatios)} | ${cpu} |`);
    }
  }
  if (authorizerResult) {
    lines.push('', `Authorizer${AUTHZ_CONTROL ? ' (A/A control: neither broker has one)' : `: ${ACL_COUNT} ACLs created in ${authorizerResult.aclsCreateMs} ms`}; ${AUTHZ_ROUNDS} rounds, kcat as ${PLAIN_USER} over SASL_PLAINTEXT (PLAIN), 1 KiB records, acks=1, 1 partition`, '');
    lines.push('| produce | with StandardAuthorizer MB/s | no authorizer MB/s | ratio | CPU ms/MiB with / without |', '|---|---|---|---|---|');
    for (const shape of authorizerResult.shapes) {
      const summary = summaries.find((entry) => entry.label.endsWith(shape.shape))!;
      lines.push(`| ${shape.shape}, ${shape.records} records | ${summary.medians.authorizer} | ${summary.medians['no-authorizer']} | ${ratioText(summary.medianRoundRatio, summary.roundRatios)} | ${summary.cpuMsPerMiBMedians.authorizer!.toFixed(2)} / ${summary.cpuMsPerMiBMedians['no-authorizer']!.toFixed(2)} (×${summary.cpuMedianRoundRatio.toFixed(2)}) |`);
    }
  }
  lines.push('', '| target | wanted | measured | |', '|---|---|---|---|');
  for (const target of targets) lines.push(`| ${target.target} | ${target.wanted} | ${target.measured} | ${target.met ? 'met' : 'missed'} |`);
  if (problems.length > 0) lines.push('', `problems:\n  ${problems.join('\n  ')}`);
  lines.push('', `written to ${file}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if ((PARTS.has('transport') && !transportResult) || (PARTS.has('authorizer') && !authorizerResult)) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await stopEverything();
  process.exitCode = 1;
}
