// In-process start-up, run with plain node against the compiled build: the time from calling
// startBroker() (modules already imported) to the first accepted TCP connection, on disk storage
// (or in memory with the argument `memory`, which shows what the first start's disk work costs).
// With the argument `bare`, the same span for a plain `net` server that does nothing: Node's own
// first listen and first connection in a fresh process, the floor under any broker's start.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startBroker } from '../dist/src/index.js';

const mode = process.argv[2] ?? 'disk';
const dataDir = mkdtempSync(join(tmpdir(), 'bench-inproc-'));
const started = performance.now();
const running = mode === 'bare' ? await bareServer() : await startBroker({ port: 0, dataDir, storage: mode === 'memory' ? 'memory' : 'disk' });
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

/** A server listening on a free loopback port that closes every connection. */
async function bareServer() {
  const server = createServer((socket) => socket.destroy());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, close: () => new Promise((resolve) => server.close(resolve)) };
}
