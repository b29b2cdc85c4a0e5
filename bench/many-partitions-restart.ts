// On-demand benchmark of a restart with many partitions, as bench/main.ts benchManyPartitions runs
// it: start the CLI broker, create a topic of N partitions, produce with the perf tool, stop it with
// SIGTERM, then restart it on the same data directory and time spawn -> first answered request.
//
//   npx tsx bench/many-partitions-restart.ts [--partitions 10000] [--restarts 3] [--keep]
//                                            [--data-dir DIR (reuse a prepared one, skip create/produce)]
//                                            [--node-arg ARG]... (e.g. --node-arg=--cpu-prof)
//
// Each restart is stopped with SIGTERM only once the broker printed that it is ready (before that the
// CLI has no SIGTERM handler and dies without a clean shutdown), so every restart follows a clean one.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { answersApiVersions, CLI, createTopic, perfTool } from './lib/conveyor.js';
import { freePort, type Server, sleep, stopServer, waitForPort } from './lib/processes.js';

const { values } = parseArgs({
  options: {
    partitions: { type: 'string', default: '10000' },
    restarts: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
    'node-arg': { type: 'string', multiple: true, default: [] },
  },
});
const partitions = Number(values.partitions);
const restarts = Number(values.restarts);
const nodeArgs = values['node-arg'];

interface Started {
  server: Server;
  started: number;
  /** Resolves with the milliseconds from spawn until the broker printed its ready line. */
  ready: Promise<number>;
}

function startBroker(dataDir: string, port: number, extraNodeArgs: string[] = []): Started {
  const started = performance.now();
  const args = [...extraNodeArgs, CLI, 'start', '-p', String(port), '-d', dataDir, '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let markReady: (ms: number) => void = () => {};
  const ready = new Promise<number>((resolve) => (markReady = resolve));
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8192);
    if (/ ready on /.test(output)) markReady(performance.now() - started);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  if (child.pid === undefined) throw new Error('broker did not start');
  return { server: { name: 'conveyor', process: child, pid: child.pid, output: () => output }, started, ready };
}

function log(message: string): void {
  process.stderr.write(`[restart-bench] ${message}\n`);
}

const reused = values['data-dir'];
const dataDir = reused ?? mkdtempSync(join(tmpdir(), 'bench-many-restart-'));
try {
  if (reused === undefined) {
    const port = await freePort();
    const { server, started, ready } = startBroker(dataDir, port);
    try {
      log(`first start: ${(await waitForPort(port, 120_000, started, server, answersApiVersions)).toFixed(0)} ms`);
      await ready;
      await sleep(200);
      const createStarted = performance.now();
      await createTopic(`127.0.0.1:${port}`, 'many', partitions);
      log(`create ${partitions} partitions: ${(performance.now() - createStarted).toFixed(0)} ms`);
      const perf = await perfTool('produce', `127.0.0.1:${port}`, ['-t', 'many', '--record-size', '1024', '--acks', '1', '--batch-size', '262144', '--linger-ms', '5', '--duration-ms', '4000']);
      log(`produced ${perf.records} records in ${perf.elapsedMs.toFixed(0)} ms`);
    } finally {
      const stopStarted = performance.now();
      await stopServer(server, 60_000);
      log(`clean stop: ${(performance.now() - stopStarted).toFixed(0)} ms`);
    }
  }
  const times: number[] = [];
  for (let round = 0; round < restarts; round += 1) {
    const port = await freePort();
    const { server, started, ready } = startBroker(dataDir, port, nodeArgs);
    try {
      const ms = await waitForPort(port, 120_000, started, server, answersApiVersions);
      times.push(ms);
      const readyMs = await ready;
      log(`restart ${round + 1}: ${ms.toFixed(0)} ms to the first answered request, ${readyMs.toFixed(0)} ms to ready`);
      // The CLI installs its SIGTERM handler just after printing the ready line.
      await sleep(200);
    } finally {
      const stopStarted = performance.now();
      await stopServer(server, 60_000);
      if (!/shutting down/.test(server.output()) || server.process.exitCode !== 0) log(`restart ${round + 1} did not stop cleanly: ${server.output().slice(-400)}`);
      log(`clean stop: ${(performance.now() - stopStarted).toFixed(0)} ms`);
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  process.stdout.write(`${JSON.stringify({ partitions, restartsMs: times.map((ms) => Math.round(ms)), medianMs: Math.round(median) })}\n`);
} finally {
  if (values.keep || reused !== undefined) log(`data dir kept: ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
}
