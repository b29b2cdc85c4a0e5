// The NATS JetStream peer: nats-server -js with file storage (it fsyncs on a timer, as Conveyor
// and Redis everysec leave it to the OS), driven by nats-load.ts on the official nats.js client.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Throughput, throughputOf } from '../lib/measurements.js';
import { freePort, run, startServer, stopServer, waitForPort } from '../lib/processes.js';

const LOAD_TIMEOUT_MS = 90_000;

export async function benchNats(recordSizes: number[], recordCounts: Map<number, number>): Promise<Throughput[]> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-nats-'));
  const server = startServer('nats-server', 'nats-server', ['-js', '-sd', dir, '-a', '127.0.0.1', '-p', String(port)]);
  const results: Throughput[] = [];
  try {
    await waitForPort(port, 10_000, undefined, server);
    for (const size of recordSizes) {
      const records = recordCounts.get(size)!;
      for (const op of ['produce', 'consume'] as const) {
        const load = await run(process.execPath, ['--import', 'tsx', 'bench/peers/nats-load.ts', op, String(port), `S${size}`, String(size), String(records)], LOAD_TIMEOUT_MS);
        const parsed = JSON.parse(load.stdout.trim().split('\n').at(-1) ?? 'null') as { elapsedMs: number } | null;
        if (!parsed) throw new Error(`nats-load ${op} failed: ${load.stderr.slice(-300)}`);
        results.push(throughputOf({
          id: `nats-${op}-${size}`, system: 'nats', client: op === 'produce' ? 'nats.js async publish (window 1024)' : 'nats.js ordered consumer',
          op, recordSizeBytes: size, partitions: 1, acks: 'stream ack', records, elapsedMs: parsed.elapsedMs,
        }));
      }
    }
  } finally {
    await stopServer(server);
    await run('rm', ['-rf', dir], 30_000);
  }
  return results;
}
