// `conveyor dev` end to end: the full CLI from source (test/support/crash-cli-entry.ts) starts a
// three-node cluster on free ports, each node its own process; kafkajs bootstraps from the printed
// servers, sees three brokers and creates a topic; SIGINT to the dev process stops every node and
// exits 0, leaving no node process and no temporary directory. Also: a taken port is refused,
// naming it, before anything starts. Every process started here is stopped by its pid, even when
// an assertion fails.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from '../integration/helpers.js';
import { runProcess } from '../support/process.js';

const cliEntry = fileURLToPath(new URL('../support/crash-cli-entry.ts', import.meta.url));

interface DevProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the exit code (or signal) once the dev process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDev(args: string[]): DevProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, 'dev', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  assert.ok(child.pid !== undefined, 'the dev process started');
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, pid: child.pid, output: () => text, exited };
}

/** Polls the output for `pattern` until `timeoutMs`, failing early if the process exits. */
async function waitForOutput(dev: DevProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void dev.exited.then(() => {
    exited = true;
  });
  for (;;) {
    const match = dev.output().match(pattern);
    if (match) return match;
    if (exited) throw new Error(`conveyor dev exited before printing ${pattern}:\n${dev.output()}`);
    if (Date.now() > deadline) throw new Error(`conveyor dev did not print ${pattern} within ${timeoutMs} ms:\n${dev.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killByPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

describe('conveyor dev', { timeout: 90_000 }, () => {
  const devProcesses: DevProcess[] = [];
  const nodePids = new Set<number>();
  const directories: string[] = [];
  after(async () => {
    // On failure, nothing is left behind: the dev process and every node it printed, by pid.
    for (const dev of devProcesses) if (dev.child.exitCode === null && dev.child.signalCode === null) killByPid(dev.pid);
    for (const pid of nodePids) if (isAlive(pid)) killByPid(pid);
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
  });

  it('runs three nodes as processes that kafkajs uses as one cluster, and stops them all on SIGINT', { timeout: 60_000 }, async () => {
    const dev = startDev(['--brokers', '3', '--base-port', '0', '--log-level', 'warn']);
    devProcesses.push(dev);
    const [, servers] = await waitForOutput(dev, /^bootstrap servers: (\S+)$/m, 45_000);
    for (const [, pid] of dev.output().matchAll(/^node \d+ pid (\d+)/gm)) nodePids.add(Number(pid));
    const [, dataDir] = dev.output().match(/^data dir: (\S+)/m)!;
    if (dataDir!.startsWith(tmpdir())) directories.push(dataDir!);
    assert.equal(nodePids.size, 3, `three node pids printed:\n${dev.output()}`);
    for (const pid of nodePids) assert.ok(isAlive(pid), `node process ${pid} runs`);
    // Each node runs with the heap flag a broker process gets (docs/benchmarks.md, "The broker's heap").
    for (const pid of nodePids) assert.ok(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--initial-old-space-size=64'), `node process ${pid} has --initial-old-space-size=64`);
    assert.equal(servers!.split(',').length, 3);
    assert.match(servers!, /^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}$/);
    assert.ok(existsSync(dataDir!), 'the data dir exists while the cluster runs');

    const kafka = new Kafka({ clientId: 'dev-cli-test', brokers: servers!.split(','), logLevel: logLevel.NOTHING, retry: { retries: 5 } });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      assert.deepEqual(cluster.brokers.map((broker) => broker.nodeId).sort(), [1, 2, 3]);
      assert.ok([1, 2, 3].includes(cluster.controller!), `controller ${cluster.controller} is a node`);
      const topic = `dev-cli-${process.pid}`;
      assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }), true);
      // Every broker learns of the topic from the metadata log a moment after CreateTopics returns.
      const partitions = await waitFor(async () => {
        try {
          return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length;
        } catch {
          return undefined;
        }
      }, `metadata of ${topic}`, 15_000);
      assert.equal(partitions, 3);
    } finally {
      await admin.disconnect();
    }

    process.kill(dev.pid, 'SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([dev.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 45_000)))]);
    clearTimeout(timer);
    assert.notEqual(exit, 'timeout', `conveyor dev did not exit after SIGINT:\n${dev.output()}`);
    assert.deepEqual(exit, { code: 0, signal: null }, dev.output());
    for (const pid of nodePids) assert.equal(isAlive(pid), false, `node process ${pid} is gone`);
    assert.match(dev.output(), /every node stopped cleanly/);
    assert.equal(existsSync(dataDir!), false, 'the temporary data dir is removed at a clean exit');
  });

  it('refuses a taken port, naming it, and starts nothing', { timeout: 30_000 }, async () => {
    const server = await new Promise<Server>((resolve, reject) => {
      const listening = createServer();
      listening.once('error', reject);
      listening.listen(0, '127.0.0.1', () => resolve(listening));
    });
    try {
      const taken = (server.address() as { port: number }).port;
      const result = await runProcess(process.execPath, ['--import', 'tsx', cliEntry, 'dev', '--brokers', '1', '--base-port', String(taken)], { timeoutMs: 25_000 });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`port ${taken} on 127\\.0\\.0\\.1 \\(node 1's client listener\\) is taken.*--base-port 0`));
      assert.doesNotMatch(result.stdout, /pid/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const none = await runProcess(process.execPath, ['--import', 'tsx', cliEntry, 'dev', '--brokers', '0'], { timeoutMs: 25_000 });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /--brokers must be an integer of at least 1/);
  });
});
