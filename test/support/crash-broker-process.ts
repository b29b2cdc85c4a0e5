// A broker started as a child process through the CLI (`conveyor start`), for crash tests: spawn it,
// wait for its ready line, collect its stderr, and kill it by pid (SIGKILL for a crash).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_ENTRY = fileURLToPath(new URL('./crash-cli-entry.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The node arguments that run the CLI from source: `node --import tsx <entry> ...args`. */
export function cliCommand(args: string[]): string[] {
  return ['--import', 'tsx', CLI_ENTRY, ...args];
}

/** Runs the CLI to completion (for commands expected to exit, like a bad --set). */
export function runCli(args: string[], timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliCommand(args), { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`conveyor ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    // 'close', not 'exit': the process may exit before its output is read to the end (Node 22 in
    // CI once handed back an empty stderr for a command that had printed its refusal).
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout, stderr });
    });
  });
}

const READY_LINE = /ready on ([^\s]+):(\d+)/;

/** The variable crash-cli-entry.ts reads to hold the log cleaner at a pause point: `<point>[:<skip>]`. */
export const CLEANER_PAUSE_ENV = 'CONVEYOR_TEST_CLEANER_PAUSE';
/** What the child prints once the cleaner is held there. */
export const CLEANER_PAUSED_LINE = /conveyor-test: cleaner paused at (\S+) topic=(\S+) partition=(\d+) baseOffset=(\d+)/;

export class BrokerProcess {
  private output = '';
  private readonly exited: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly host: string,
    readonly port: number,
  ) {
    this.exited = new Promise((resolve) => child.on('exit', (exitCode, signal) => resolve({ exitCode, signal })));
  }

  /**
   * Starts `conveyor start` on a free port with the given data directory and waits until it serves.
   * `env` is added to this process's environment (test hooks read by crash-cli-entry.ts).
   */
  static start(dataDir: string, extraArgs: string[] = [], timeoutMs = 30_000, env: Record<string, string> = {}): Promise<BrokerProcess> {
    const args = cliCommand(['start', '--port', '0', '--data-dir', dataDir, '--log-level', 'info', ...extraArgs]);
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    return new Promise((resolve, reject) => {
      const fail = (reason: string) => {
        clearTimeout(timer);
        if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        reject(new Error(`${reason}; output so far:\n${output}`));
      };
      const timer = setTimeout(() => fail(`broker did not report ready within ${timeoutMs} ms`), timeoutMs);
      const onData = (chunk: string) => {
        output += chunk;
        const ready = READY_LINE.exec(output);
        if (!ready) return;
        clearTimeout(timer);
        child.removeListener('exit', onEarlyExit);
        const broker = new BrokerProcess(child, ready[1]!, Number(ready[2]));
        broker.output = output;
        child.stderr!.removeListener('data', onData);
        child.stdout!.removeListener('data', onData);
        child.stderr!.on('data', (more: string) => (broker.output += more));
        child.stdout!.on('data', (more: string) => (broker.output += more));
        resolve(broker);
      };
      const onEarlyExit = (code: number | null, signal: string | null) => fail(`broker exited before it was ready (code ${code}, signal ${signal})`);
      child.stderr!.setEncoding('utf8').on('data', onData);
      child.stdout!.setEncoding('utf8').on('data', onData);
      child.on('exit', onEarlyExit);
      child.on('error', (error) => fail(`spawn failed: ${error.message}`));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Everything the broker wrote to stdout and stderr so far. */
  get log(): string {
    return this.output;
  }

  /** Kills the broker by its pid with `signal` and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.pid, signal);
    return this.exited;
  }
}
