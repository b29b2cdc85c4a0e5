// Runs client programs (kcat, python drivers) as child processes with a deadline, collecting their
// output. A process that overruns its deadline is killed by its own pid, never by name.
import { spawn } from 'node:child_process';

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function runProcess(command: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
      });
    });
    // A child that exits early closes stdin; the resulting EPIPE is reported through its exit code.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a command and fails with its stderr when it times out or exits non-zero. */
export async function runChecked(command: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  const result = await runProcess(command, args, options);
  if (result.timedOut || result.code !== 0) {
    const how = result.timedOut ? `timed out after ${options.timeoutMs ?? 60_000} ms` : `exited with ${result.code ?? result.signal}`;
    throw new Error(`${command} ${args.slice(0, 6).join(' ')} ${how}\nstderr:\n${tail(result.stderr)}\nstdout:\n${tail(result.stdout)}`);
  }
  return result;
}

/** Runs a Python driver script that reads one JSON document on stdin and prints one on stdout. */
export async function runPythonJson<T>(script: string, command: string, payload: unknown, timeoutMs = 60_000): Promise<T> {
  const result = await runChecked(PYTHON, [script, command], { input: JSON.stringify(payload), timeoutMs });
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`${script} ${command} printed no JSON\nstdout:\n${tail(result.stdout)}\nstderr:\n${tail(result.stderr)}`);
  }
}

/**
 * The Debian Python: the client libraries (python3-confluent-kafka, python3-kafka) are installed for
 * it, while the python3 first on PATH may be another interpreter without them. CONVEYOR_PYTHON
 * overrides it (e.g. /nonexistent, to see CONVEYOR_REQUIRE_ALL_CLIENTS=1 fail the Python suites).
 */
export const PYTHON = process.env.CONVEYOR_PYTHON || '/usr/bin/python3';

function tail(text: string, max = 4000): string {
  return text.length <= max ? text : `...${text.slice(-max)}`;
}
