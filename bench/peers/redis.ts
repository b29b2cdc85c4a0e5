// The Redis Streams peer: redis-server with appendonly everysec (fsync once a second, as Conveyor
// and NATS leave fsync to the OS or a timer), driven by redis-benchmark, Redis's own C load tool.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Throughput, throughputOf } from '../lib/measurements.js';
import { freePort, run, startServer, stopServer, waitForPort } from '../lib/processes.js';
import { makePayload } from '../../src/client/perf-batches.js';

const LOAD_TIMEOUT_MS = 60_000;
/** Pipelined commands per connection and connections: redis-benchmark's way to batch. */
const PIPELINE = 64;
const CLIENTS = 4;
/** Entries one XRANGE returns; reads repeat over the stream's first entries, all in memory. */
const READ_COUNT = 1000;

export async function benchRedis(recordSizes: number[], recordCounts: Map<number, number>): Promise<Throughput[]> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const server = startServer('redis-server', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--protected-mode', 'yes',
  ]);
  const results: Throughput[] = [];
  try {
    await waitForPort(port, 10_000, undefined, server);
    for (const size of recordSizes) {
      const records = recordCounts.get(size)!;
      const stream = `s${size}`;
      const payload = makePayload(size).toString('latin1');
      const add = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-n', String(records), '-c', String(CLIENTS), '-P', String(PIPELINE), '--csv', 'XADD', stream, '*', 'v', payload], LOAD_TIMEOUT_MS);
      results.push(fromCsv(add.stdout, { id: `redis-produce-${size}`, client: 'redis-benchmark (XADD, -P 64, 4 conns)', op: 'produce', recordSizeBytes: size, records }));
      const reads = Math.max(1, Math.floor(records / READ_COUNT));
      const range = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-n', String(reads), '-c', '2', '-P', '1', '--csv', 'XRANGE', stream, '-', '+', 'COUNT', String(READ_COUNT)], LOAD_TIMEOUT_MS);
      const read = fromCsv(range.stdout, { id: `redis-consume-${size}`, client: 'redis-benchmark (XRANGE COUNT 1000)', op: 'consume', recordSizeBytes: size, records: reads });
      results.push(throughputOf({ ...read, records: reads * READ_COUNT, note: 'XRANGE of the first 1000 entries, repeated (Redis reads from memory)' }));
    }
  } finally {
    await stopServer(server);
    await run('rm', ['-rf', dir], 30_000);
  }
  return results;
}

/** redis-benchmark --csv: a header line, then "command","rps",...; elapsed time follows from rps. */
function fromCsv(stdout: string, base: Pick<Throughput, 'id' | 'client' | 'op' | 'recordSizeBytes' | 'records'>): Throughput {
  const line = stdout.trim().split('\n').filter((entry) => /^"/.test(entry) && !entry.startsWith('"test"')).at(-1) ?? '';
  const rps = Number(line.split('","')[1]?.replace(/"/g, ''));
  if (!Number.isFinite(rps) || rps <= 0) throw new Error(`redis-benchmark printed no rate: ${stdout.slice(-300)}`);
  return throughputOf({ ...base, system: 'redis', partitions: 1, acks: 'aof everysec', elapsedMs: (base.records / rps) * 1000 });
}
