// Small requests stay answered while the broker is busy. A real client once saw an ApiVersions
// request go unanswered for 10 s while other connections were flushing under load. Here a broker
// child process is kept busy by 20 connections, each producing large batches with acks=all to a
// partition that fsyncs every batch (flush.messages=1) and fetching its whole partition again and
// again, plus one client that asks for whole partitions and never reads its socket (the broker must
// hold those responses and stop reading it). Meanwhile ApiVersions and Metadata go out on a fresh
// connection every few milliseconds, and every one of them must be answered within a bound that a
// loaded two-core machine meets easily (a few hundred ms is typical) but a stall of 10 s does not.
// The broker runs in its own process, so the probes' times are the broker's, not this process's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { type Socket, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, after, before, describe, it } from 'node:test';
import { ApiVersionsApi, FetchApi, MetadataApi, ProduceApi } from '../../src/protocol/messages/index.js';
import { CompressionType } from '../../src/protocol/records/batch-header.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { BrokerProcess } from '../support/crash-broker-process.js';
import { RawClient, encodeRequestFrame } from '../support/raw-client.js';
import { createTopic, fetchRequest } from './helpers.js';

/** One topic per load, so each load's high watermarks count only its own produces. */
const topicFor = (kind: LoadKind) => `busy-${kind}`;
const LOADED_CONNECTIONS = 20;
/** Each produce carries one batch of 64 records of 4 KiB: 256 KiB. */
const RECORDS_PER_BATCH = 64;
const RECORD_BYTES = 4096;
/** Produce-and-fetch rounds per loaded connection at most (bounds the disk this test writes: 20 x 40 x 256 KiB). */
const MAX_ROUNDS = 40;
/** How long the load runs while probes go out. */
const LOAD_MS = 6_000;
const PROBE_INTERVAL_MS = 5;
/** Probes under way at once at most: a stall holds this many, and new ones wait for one to end. */
const MAX_OUTSTANDING_PROBES = 20;
/** Every probe must be answered within this: generous for a loaded machine, far below a 10 s stall. */
const RESPONSE_BOUND_MS = 5_000;
/** Probes wait this long before giving up, so a stall is measured rather than cut short. */
const PROBE_TIMEOUT_MS = 30_000;
/**
 * Two loads. `plain`: each produce is a 256 KiB uncompressed batch. `gzip-zeros`: each is a
 * 200 KiB gzip batch of 100 MiB of zeros, which Produce must decompress to validate. That once held
 * the event loop about 0.6 s per batch, and twenty together held ApiVersions for up to 18.7 s; it is
 * now decompressed on the thread pool while the partition's appends keep their order.
 */
type LoadKind = 'plain' | 'gzip-zeros';
const LOADS: readonly LoadKind[] = ['plain', 'gzip-zeros'];
const GZIP_ZEROS_RECORDS = 100;

function loadBatch(kind: LoadKind): Buffer {
  if (kind === 'gzip-zeros') return buildRecordBatchSync(Array.from({ length: GZIP_ZEROS_RECORDS }, (_, index) => ({ key: Buffer.from(`k${index}`), value: Buffer.alloc(1024 * 1024) })), { compression: CompressionType.gzip });
  return buildRecordBatchSync(Array.from({ length: RECORDS_PER_BATCH }, (_, index) => ({ key: Buffer.from(`k${index}`), value: randomBytes(RECORD_BYTES) })));
}

/**
 * A load connection: sends a request, skips its response without keeping or decoding it (the
 * responses are megabytes; this process must stay idle enough to measure the probes), repeats.
 */
class LoadConnection {
  private pendingFrameBytes = -1;
  private header = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;
  responses = 0;
  receivedBytes = 0;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => {
      this.failure = error;
    });
    socket.on('close', () => {
      this.failure ??= new Error('connection closed by the broker');
      this.waiting?.();
    });
  }

  static async open(host: string, port: number): Promise<LoadConnection> {
    const socket = netConnect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new LoadConnection(socket);
  }

  /** Sends one frame and resolves once its whole response has arrived (and was dropped). */
  async exchange(frame: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    const answered = new Promise<void>((resolve) => {
      this.waiting = resolve;
    });
    this.socket.write(frame);
    await answered;
    if (this.failure) throw this.failure;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.receivedBytes += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      if (this.pendingFrameBytes < 0) {
        const needed = 4 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(at, at + needed)]);
        at += Math.min(needed, chunk.length - at);
        if (this.header.length < 4) return;
        this.pendingFrameBytes = this.header.readInt32BE(0);
        this.header = Buffer.alloc(0);
      }
      const taken = Math.min(this.pendingFrameBytes, chunk.length - at);
      at += taken;
      this.pendingFrameBytes -= taken;
      if (this.pendingFrameBytes === 0) {
        this.pendingFrameBytes = -1;
        this.responses += 1;
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting?.();
      }
    }
  }
}

interface Probe {
  api: 'ApiVersions' | 'Metadata';
  /** From the request's write to its whole response; undefined when it never came. */
  responseMs: number | undefined;
  error?: string;
}

function percentile(sorted: readonly number[], quantile: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))]!;
}

async function timed<T>(request: () => Promise<T>): Promise<{ ms: number | undefined; error?: string }> {
  const started = performance.now();
  try {
    await request();
    return { ms: performance.now() - started };
  } catch (error) {
    return { ms: undefined, error: error instanceof Error ? error.message : String(error) };
  }
}

/** A fresh connection, ApiVersions on it, then Metadata; both timed. */
async function probeOnce(broker: BrokerProcess, probes: Probe[], connectTimes: number[]): Promise<void> {
  const connectStarted = performance.now();
  let client: RawClient;
  try {
    client = await RawClient.connect(broker.host, broker.port, PROBE_TIMEOUT_MS);
  } catch (error) {
    probes.push({ api: 'ApiVersions', responseMs: undefined, error: `connect: ${error instanceof Error ? error.message : String(error)}` });
    return;
  }
  connectTimes.push(performance.now() - connectStarted);
  try {
    const versions = await timed(() => client.request(ApiVersionsApi, 3, { clientSoftwareName: 'latency-probe', clientSoftwareVersion: '1' }, { timeoutMs: PROBE_TIMEOUT_MS }));
    probes.push({ api: 'ApiVersions', responseMs: versions.ms, ...(versions.error ? { error: versions.error } : {}) });
    const topics = await timed(() => client.request(MetadataApi, 12, { topics: [{ name: topicFor('plain') }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { timeoutMs: PROBE_TIMEOUT_MS }));
    probes.push({ api: 'Metadata', responseMs: topics.ms, ...(topics.error ? { error: topics.error } : {}) });
  } finally {
    void client.close();
  }
}

describe('small requests under load', { timeout: 180_000 }, () => {
  let dataDir: string;
  let broker: BrokerProcess | undefined;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'conveyor-latency-'));
    broker = await BrokerProcess.start(dataDir, ['--set', 'log.retention.check.interval.ms=600000']);
    const admin = await RawClient.connect(broker.host, broker.port);
    for (const kind of LOADS) await createTopic(admin, topicFor(kind), LOADED_CONNECTIONS, { 'flush.messages': '1' });
    await admin.close();
  });
  after(async () => {
    if (broker) await broker.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  for (const kind of LOADS) {
    it(`answers every ApiVersions and Metadata on a fresh connection while 20 connections produce (${kind}) and fetch`, (context) => runLoad(context, kind));
  }

  async function runLoad(context: TestContext, kind: LoadKind): Promise<void> {
    const live = broker!;
    const TOPIC = topicFor(kind);
    let stopping = false;

    // 20 connections: produce 256 KiB with acks=all (fsynced before the answer), then fetch the
    // whole partition from its start, until the load time is over.
    let produced = 0;
    let fetched = 0;
    let fetchedBytes = 0;
    const loaders = await Promise.all(Array.from({ length: LOADED_CONNECTIONS }, () => LoadConnection.open(live.host, live.port)));
    const loading = loaders.map(async (connection, partition) => {
      const batch = loadBatch(kind);
      const produceFrame = encodeRequestFrame(ProduceApi, 9, 1, { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: TOPIC, partitionData: [{ index: partition, records: batch }] }] });
      const fetchFrame = encodeRequestFrame(FetchApi, 12, 2, fetchRequest(TOPIC, [{ partition, fetchOffset: 0 }], { maxBytes: 64 * 1024 * 1024, partitionMaxBytes: 64 * 1024 * 1024 }));
      for (let round = 0; round < MAX_ROUNDS && !stopping; round += 1) {
        await connection.exchange(produceFrame);
        produced += 1;
        const before = connection.receivedBytes;
        await connection.exchange(fetchFrame);
        fetched += 1;
        fetchedBytes += connection.receivedBytes - before;
      }
    });

    // One client asks for every partition whole, again and again, and never reads: its responses
    // pile up in the broker until the broker stops reading its requests.
    const stalled = netConnect({ host: live.host, port: live.port });
    await new Promise<void>((resolve, reject) => {
      stalled.once('connect', resolve);
      stalled.once('error', reject);
    });
    stalled.pause();
    stalled.on('error', () => {});
    const everyPartition = Array.from({ length: LOADED_CONNECTIONS }, (_, partition) => ({ partition, fetchOffset: 0 }));
    const stalledFetch = encodeRequestFrame(FetchApi, 12, 3, fetchRequest(TOPIC, everyPartition, { maxBytes: 64 * 1024 * 1024, partitionMaxBytes: 8 * 1024 * 1024 }));
    const stalledTimer = setInterval(() => {
      if (stalled.writableLength < 1024 * 1024) stalled.write(stalledFetch);
    }, 50);

    // The probes: a fresh connection every few milliseconds, one after the other, for the load's time.
    const probes: Probe[] = [];
    const connectTimes: number[] = [];
    const probing = (async () => {
      const until = performance.now() + LOAD_MS;
      const outstanding = new Set<Promise<void>>();
      while (performance.now() < until) {
        const probe = probeOnce(live, probes, connectTimes).finally(() => outstanding.delete(probe));
        outstanding.add(probe);
        if (outstanding.size >= MAX_OUTSTANDING_PROBES) await Promise.race(outstanding);
        await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
      }
      await Promise.all(outstanding);
    })();

    try {
      await probing;
    } finally {
      stopping = true;
      clearInterval(stalledTimer);
    }
    await Promise.all(loading);
    stalled.destroy();
    for (const connection of loaders) connection.close();

    // Every acknowledged produce is in the log: the load went through the whole append path.
    const check = await RawClient.connect(live.host, live.port);
    const ends = await check.request(FetchApi, 12, fetchRequest(TOPIC, everyPartition, { maxBytes: 1, partitionMaxBytes: 1 }));
    await check.close();
    const records = ends.responses[0]!.partitions.reduce((sum, partition) => sum + Number(partition.highWatermark), 0);
    assert.equal(records, produced * (kind === 'gzip-zeros' ? GZIP_ZEROS_RECORDS : RECORDS_PER_BATCH), 'every acknowledged batch is below the high watermark');

    // The load was real: every connection produced and fetched, and megabytes went out.
    const answered = probes.filter((probe) => probe.responseMs !== undefined).map((probe) => probe.responseMs!).sort((a, b) => a - b);
    const summary = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return `p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`;
    };
    context.diagnostic(`load: ${produced} produces of ${kind === 'gzip-zeros' ? '100 MiB of gzip zeros' : `${(RECORDS_PER_BATCH * RECORD_BYTES) / 1024} KiB`} (acks=all, flush.messages=1), ${fetched} whole-partition fetches, ${(fetchedBytes / 1024 / 1024).toFixed(0)} MiB fetched`);
    context.diagnostic(`probes: ${probes.length} requests on ${connectTimes.length} fresh connections; responses ${summary(answered)}; connects ${summary(connectTimes)}`);
    for (const api of ['ApiVersions', 'Metadata'] as const) {
      const times = probes.filter((probe) => probe.api === api && probe.responseMs !== undefined).map((probe) => probe.responseMs!);
      context.diagnostic(`${api}: ${summary(times)}`);
    }
    assert.ok(produced >= LOADED_CONNECTIONS && fetched >= LOADED_CONNECTIONS, `every loaded connection produced and fetched (${produced} produces, ${fetched} fetches)`);
    assert.ok(probes.length >= 20, `probes went out throughout the load (${probes.length})`);

    const failed = probes.filter((probe) => probe.responseMs === undefined);
    assert.deepEqual(failed, [], 'every probe was answered');
    const slow = probes.filter((probe) => probe.responseMs! >= RESPONSE_BOUND_MS);
    assert.deepEqual(slow, [], `every probe answered within ${RESPONSE_BOUND_MS} ms`);
    const slowConnects = connectTimes.filter((ms) => ms >= RESPONSE_BOUND_MS);
    assert.deepEqual(slowConnects, [], `every probe connection accepted within ${RESPONSE_BOUND_MS} ms`);
  }
});
