// In-process start-up, run with plain node against the compiled build: the time from calling
// startBroker() (modules already imported) to the first accepted TCP connection, on disk storage
// (or in memory with the argument `memory`, which shows what the first start's disk work costs).
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startBroker } from '../dist/src/index.js';

const dataDir = mkdtempSync(join(tmpdir(), 'bench-inproc-'));
const started = performance.now();
const storage = process.argv[2] === 'memory' ? 'memory' : 'disk';
const running = await startBroker({ port: 0, dataDir, storage });
await new Promise((resolve, reject) => {
  const socket = connect({ host: '127.0.0.1', port: running.port }, () => {
    socket.destroy();
    resolve();
  });
  socket.once('error', reject);
});
const elapsedMs = performance.now() - started;
await running.close();
rmSync(dataDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ elapsedMs })}\n`);
