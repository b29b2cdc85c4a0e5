// In-process start-up, run with plain node against the compiled build: the time from calling
// startBroker() (modules already imported) to the first accepted TCP connection, on disk storage.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startBroker } from '../dist/src/index.js';

const dataDir = mkdtempSync(join(tmpdir(), 'bench-inproc-'));
const started = performance.now();
const running = await startBroker({ port: 0, dataDir });
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
