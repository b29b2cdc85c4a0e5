// Produce latency while the log cleaner works vs. while it is idle, in one run on one broker:
// an in-process broker on disk holds a compacted topic with many superseded records; one
// connection produces small acks=1 batches to another topic one request at a time, first with
// the cleaner idle, then while `cleanNow()` compacts the big topic. Prints p50/p99/max of both
// and their ratio. Not part of npm test: `node --import tsx bench/cleaner-latency.ts`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../src/index.js';
import { CompressionType } from '../src/protocol/records/batch-header.js';
import { buildRecordBatchSync } from '../src/protocol/records/record-batch.js';
import { createTopic, produceOk } from '../test/integration/helpers.js';
import { RawClient } from '../test/support/raw-client.js';

const COMPACTED_RECORDS = Number(process.env.CLEANER_BENCH_RECORDS ?? 1_000_000);
const COMPACTED_KEYS = 20_000;
const PER_BATCH = 1_000;
const IDLE_REQUESTS = 3_000;
const LATENCY_RECORDS_PER_REQUEST = 10;

interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (quantile: number) => sorted[Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))]!;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1)! };
}

function latencyBatch(sequence: number): Buffer {
  return buildRecordBatchSync(Array.from({ length: LATENCY_RECORDS_PER_REQUEST }, (_, index) => ({ key: Buffer.from(`k${index}`), value: Buffer.from(`latency-${sequence}-${index}-${'x'.repeat(80)}`) })));
}

/** Produces one request at a time until `keepGoing` says stop; returns each request's latency in ms. */
async function measureProduce(client: RawClient, topic: string, keepGoing: (count: number) => boolean): Promise<number[]> {
  const samples: number[] = [];
  while (keepGoing(samples.length)) {
    const batch = latencyBatch(samples.length);
    const startedAt = performance.now();
    await produceOk(client, topic, 0, batch);
    samples.push(performance.now() - startedAt);
  }
  return samples;
}

async function fillCompactedTopic(client: RawClient, topic: string): Promise<void> {
  for (let first = 0; first < COMPACTED_RECORDS; first += PER_BATCH) {
    const records = Array.from({ length: PER_BATCH }, (_, index) => ({ key: Buffer.from(`key-${(first + index) % COMPACTED_KEYS}`), value: Buffer.from(`value-${first + index}-${'v'.repeat(60)}`) }));
    await produceOk(client, topic, 0, buildRecordBatchSync(records, { compression: CompressionType.lz4 }));
  }
  // Roll the segment so all of it is cleanable.
  for (let filler = 0; filler < 2; filler += 1) {
    await produceOk(client, topic, 0, buildRecordBatchSync(Array.from({ length: 200 }, (_, index) => ({ key: Buffer.from(`filler-${filler}-${index}`), value: Buffer.alloc(3000, 0x66) }))));
  }
}

const format = (stats: Percentiles) => `n=${stats.count} p50=${stats.p50.toFixed(3)} ms p99=${stats.p99.toFixed(3)} ms max=${stats.max.toFixed(3)} ms`;

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'conveyor-cleaner-bench-'));
  // A long backoff keeps the background cleaner out of the way; the bench starts passes itself.
  const running = await startBroker({ port: 0, dataDir, storage: 'disk', config: { 'log.cleaner.backoff.ms': 3_600_000 } });
  const client = await RawClient.connect(running.host, running.port);
  try {
    await createTopic(client, 'compacted', 1, { 'cleanup.policy': 'compact', 'segment.bytes': String(1024 * 1024), 'min.cleanable.dirty.ratio': '0.01' });
    await createTopic(client, 'latency', 1);
    const fillStarted = performance.now();
    await fillCompactedTopic(client, 'compacted');
    console.log(`filled: ${COMPACTED_RECORDS} records over ${COMPACTED_KEYS} keys in ${Math.round(performance.now() - fillStarted)} ms`);
    await measureProduce(client, 'latency', (count) => count < 500); // warm-up
    const idle = percentiles(await measureProduce(client, 'latency', (count) => count < IDLE_REQUESTS));
    const cleaner = (running.broker as unknown as { logManager: { cleaner: { cleanNow(): Promise<{ bytesRead: number; recordsRemoved: number; durationMs: number }[]> } } }).logManager.cleaner;
    let cleaning = true;
    const passStarted = performance.now();
    const pass = cleaner.cleanNow().finally(() => (cleaning = false));
    const busy = percentiles(await measureProduce(client, 'latency', () => cleaning));
    const stats = (await pass)[0];
    const passMs = performance.now() - passStarted;
    console.log(`cleaner pass: ${passMs.toFixed(0)} ms, ${((stats?.bytesRead ?? 0) / 1048576).toFixed(1)} MiB read, ${stats?.recordsRemoved ?? 0} records removed`);
    console.log(`produce idle:     ${format(idle)}`);
    console.log(`produce cleaning: ${format(busy)}`);
    console.log(`ratio cleaning/idle: p50 ${(busy.p50 / idle.p50).toFixed(2)}x, p99 ${(busy.p99 / idle.p99).toFixed(2)}x, max ${(busy.max / idle.max).toFixed(2)}x`);
  } finally {
    await client.close();
    await running.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
