// Child processes for the benchmark: servers started on loopback and stopped by their pid, loads
// run with a time limit, and resident memory read from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface Server {
  name: string;
  process: ChildProcess;
  pid: number;
  /** What the server printed, kept for error messages. */
  output: () => string;
}

/** Starts a long-running server; output is captured, never inherited. */
export function startServer(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Server {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  return { name, process: child, pid: child.pid, output: () => output };
}

/** Stops a server by its pid (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
export async function stopServer(server: Server, graceMs = 10_000): Promise<void> {
  if (server.process.exitCode !== null || server.process.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
  process.kill(server.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(server.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Whether a server on 127.0.0.1:`port` is ready: by default, whether it accepts a TCP connection. */
export type ReadinessProbe = (port: number) => Promise<boolean>;

/** Milliseconds until `probe` succeeds against 127.0.0.1:`port`, polling every 2 ms. */
export async function waitForPort(port: number, timeoutMs: number, startedMs = performance.now(), server?: Server, probe: ReadinessProbe = canConnect): Promise<number> {
  const deadline = startedMs + timeoutMs;
  for (;;) {
    if (await probe(port)) return performance.now() - startedMs;
    if (server && server.process.exitCode !== null) throw new Error(`${server.name} exited: ${server.output()}`);
    if (performance.now() > deadline) throw new Error(`port ${port} not ready after ${timeoutMs} ms${server ? `: ${server.output()}` : ''}`);
    await sleep(2);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/**
 * Waits for the kernel to write back every dirty page, so the next load does not pay for an
 * earlier one's. With `dropCaches` it then empties the page cache (root only; said once if not
 * allowed): on this VM a load's CPU cost doubled once a few GB of page cache had grown
 * (docs/benchmarks.md, "The page cache's size").
 */
export async function settleWrites(dropCaches = false): Promise<void> {
  const result = await run('sync', [], 300_000);
  if (result.code !== 0) throw new Error(`sync failed: ${result.stderr.slice(-200)}`);
  if (!dropCaches) return;
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1');
  } catch (error) {
    if (!dropCachesRefused) process.stderr.write(`cannot drop the page cache (${String(error)}); loads run without\n`);
    dropCachesRefused = true;
  }
}
let dropCachesRefused = false;

/** Runs a command to completion, killing it (by pid) after `timeoutMs`. */
export function run(command: string, args: string[], timeoutMs: number, options: { stdinFile?: string; stdoutToNull?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/bin/sh', ['-c', shellLine(command, args, options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(-65536);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-65536);
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, elapsedMs: performance.now() - started });
    });
  });
}

/** `exec` makes the shell become the command, so the pid we kill on timeout is the command's own. */
function shellLine(command: string, args: string[], options: { stdinFile?: string; stdoutToNull?: boolean }): string {
  const quoted = [command, ...args].map(quote).join(' ');
  const input = options.stdinFile ? ` < ${quote(options.stdinFile)}` : '';
  const output = options.stdoutToNull ? ' > /dev/null' : '';
  return `exec ${quoted}${input}${output}`;
}

function quote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

/** Resident set size of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

/** Samples a process's RSS every 100 ms until stopped; returns the largest value seen. */
export function sampleRss(pid: number): () => number {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      // The process is gone.
    }
  }, 100);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A free port picked by the kernel. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
