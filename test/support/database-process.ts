// A database server process for the connector tests (PostgreSQL, MariaDB): started until its log
// says it is ready, stopped by its process id with the signal its clean shutdown takes (SIGKILL
// after a grace period), and started again with the same arguments for the restart tests.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface DatabaseProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly spawnOptions?: SpawnOptions;
  /** Text in its stderr that says it accepts connections. */
  readonly readyLine: string;
  /** The signal of its clean shutdown (PostgreSQL's fast shutdown is SIGINT, MariaDB's SIGTERM). */
  readonly stopSignal: NodeJS.Signals;
  readonly stopGraceMs: number;
}

export class DatabaseProcess {
  private child: ChildProcess | undefined;

  constructor(private readonly options: DatabaseProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it and waits (30 s at most) for the ready line; a process that exits first fails with its log. */
  async launch(): Promise<void> {
    const { name, command, args, spawnOptions, readyLine } = this.options;
    let log = '';
    const started = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = started;
    started.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
    });
    const deadline = Date.now() + 30_000;
    while (!log.includes(readyLine)) {
      if (started.exitCode !== null || started.signalCode !== null) throw new Error(`${name} exited (${started.exitCode ?? started.signalCode}): ${log}`);
      if (Date.now() > deadline) throw new Error(`${name} did not start within 30 s: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Stops it by its pid: the clean shutdown, SIGKILL when that takes longer than the grace period. */
  async halt(): Promise<void> {
    const running = this.child;
    this.child = undefined;
    if (running?.pid === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    process.kill(running.pid, this.options.stopSignal);
    const timer = setTimeout(() => {
      if (running.pid !== undefined && running.exitCode === null) process.kill(running.pid, 'SIGKILL');
    }, this.options.stopGraceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** A port free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
