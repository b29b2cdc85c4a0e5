// Conveyor as the benchmark runs it: the CLI broker in its own process, topics made through the
// internal client, and the perf tool and kcat as loads.
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BROKER_HEAP_FLAG } from '../../src/cli/start-command.js';
import { ensureTopic } from '../../src/client/perf-topics.js';
import { PipelinedConnection } from '../../src/client/pipelined-connection.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { type LatencyPercentiles, type Throughput, throughputOf } from './measurements.js';
import { freePort, run, type Server, startServer, waitForPort } from './processes.js';

export const CLI = 'bin/conveyor.js';
const LOAD_TIMEOUT_MS = 120_000;

export interface RunningConveyor {
  server: Server;
  port: number;
  dataDir: string;
  bootstrap: string;
  startupMs: number;
}

/** The node flags `npm start` runs a broker with, and `conveyor start` on Node 22.15 and later (bin/conveyor.js says why). */
export const BROKER_NODE_FLAGS: readonly string[] = [BROKER_HEAP_FLAG];

/**
 * Starts `conveyor start` (with `nodeFlags`, BROKER_NODE_FLAGS unless given) on a free loopback
 * port; startupMs runs from spawn to the first answered request. (A broker binds its port before
 * it is ready, as Kafka's does, so a connection alone proves nothing: the kernel completes it
 * while the broker still opens its logs.)
 */
export async function startConveyor(dataDir = mkdtempSync(join(tmpdir(), 'bench-conveyor-')), port?: number, extraArgs: string[] = [], nodeFlags: readonly string[] = BROKER_NODE_FLAGS): Promise<RunningConveyor> {
  const chosen = port ?? (await freePort());
  const started = performance.now();
  const server = startServer('conveyor', process.execPath, [...nodeFlags, CLI, 'start', '-p', String(chosen), '-d', dataDir, '--log-level', 'warn', ...extraArgs]);
  const startupMs = await waitForPort(chosen, 120_000, started, server, answersApiVersions);
  return { server, port: chosen, dataDir, bootstrap: `127.0.0.1:${chosen}`, startupMs };
}

/** ApiVersions v0, correlation id 1, no client id: the first request every Kafka client sends. */
const API_VERSIONS_REQUEST = Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xff]);

/** Whether the broker on 127.0.0.1:`port` answers ApiVersions without an error. */
export function answersApiVersions(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const finish = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.once('connect', () => socket.write(API_VERSIONS_REQUEST));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // Size, then correlation id and error code: complete once the whole frame is here.
      if (received.length < 4 || received.length < 4 + received.readInt32BE(0)) return;
      finish(received.length >= 10 && received.readInt32BE(4) === 1 && received.readInt16BE(8) === 0);
    });
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

export async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const connection = await PipelinedConnection.open(connectTcp, bootstrap);
  try {
    await ensureTopic(connection, topic, partitions);
  } finally {
    connection.close();
  }
}

interface PerfJson {
  records: number;
  elapsedMs: number;
  errors: number;
  latency?: LatencyPercentiles & { count: number };
}

/** `conveyor perf <kind> --json` in its own process. */
export async function perfTool(kind: 'produce' | 'consume' | 'e2e', bootstrap: string, args: string[]): Promise<PerfJson> {
  const result = await run(process.execPath, [CLI, 'perf', kind, '-b', bootstrap, '--json', ...args], LOAD_TIMEOUT_MS);
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.code !== 0 || !line.startsWith('{')) throw new Error(`perf ${kind} failed (${result.code}): ${result.stderr.slice(-400)}`);
  const parsed = JSON.parse(line) as PerfJson;
  if (parsed.errors > 0) throw new Error(`perf ${kind}: ${parsed.errors} records failed: ${result.stderr.slice(-400)}`);
  return parsed;
}

export interface KcatCase {
  bootstrap: string;
  topic: string;
  recordSizeBytes: number;
  partitions: number;
  acks: string;
  records: number;
  inputFile: string;
  batchSizeBytes: number;
  lingerMs: number;
}

/** kcat -P from a file of lines: librdkafka's producer; the time is kcat's whole run, delivery included. */
export async function kcatProduce(c: KcatCase): Promise<Throughput> {
  const result = await run('kcat', [
    '-P', '-b', c.bootstrap, '-t', c.topic,
    '-X', `acks=${c.acks}`, '-X', `linger.ms=${c.lingerMs}`, '-X', `batch.size=${c.batchSizeBytes}`,
    '-X', 'batch.num.messages=1000000', '-X', 'queue.buffering.max.messages=2000000', '-X', 'queue.buffering.max.kbytes=2097151',
    '-X', 'compression.codec=none', '-X', 'enable.idempotence=false',
  ], LOAD_TIMEOUT_MS, { stdinFile: c.inputFile });
  if (result.code !== 0) throw new Error(`kcat -P failed: ${result.stderr.slice(-400)}`);
  return throughputOf({
    id: `kcat-produce-${c.recordSizeBytes}-${c.partitions}p-acks${c.acks}`, system: 'conveyor', client: 'kcat (librdkafka 2.0.2)', op: 'produce',
    recordSizeBytes: c.recordSizeBytes, partitions: c.partitions, acks: c.acks, records: c.records, elapsedMs: result.elapsedMs,
  });
}

/** kcat -C from the beginning to the end of every partition, values to /dev/null. */
export async function kcatConsume(c: Omit<KcatCase, 'inputFile' | 'acks' | 'batchSizeBytes' | 'lingerMs'>): Promise<Throughput> {
  const result = await run('kcat', ['-C', '-b', c.bootstrap, '-t', c.topic, '-o', 'beginning', '-e', '-q', '-c', String(c.records)], LOAD_TIMEOUT_MS, { stdoutToNull: true });
  if (result.code !== 0) throw new Error(`kcat -C failed: ${result.stderr.slice(-400)}`);
  return throughputOf({
    id: `kcat-consume-${c.recordSizeBytes}-${c.partitions}p`, system: 'conveyor', client: 'kcat (librdkafka 2.0.2)', op: 'consume',
    recordSizeBytes: c.recordSizeBytes, partitions: c.partitions, acks: '-', records: c.records, elapsedMs: result.elapsedMs,
  });
}
