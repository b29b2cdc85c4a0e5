// What every benchmark's report states about where it ran: the machine (CPUs, memory, kernel,
// Node, tool versions) and the build (the commit, uncommitted sources, the CLI bundle and whether
// it is older than the last commit to src/, which would measure stale code).
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { resolve } from 'node:path';

/** A command's output lines, or ['not found'] when it cannot run. */
export function commandLines(command: string, args: string[]): string[] {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n');
  } catch {
    return ['not found'];
  }
}

/** CPUs, memory, kernel and Node version. */
export function machineBase(): Record<string, string> {
  return {
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    memory: `${Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 / 1024)} GiB`,
    kernel: commandLines('uname', ['-r'])[0]!,
    node: process.version,
  };
}

/** The file system type of the temporary directory (where the benchmarks keep data). */
export function tmpFileSystem(): string {
  return commandLines('sh', ['-c', `df -T ${tmpdir()} | tail -1 | awk '{print $2}'`])[0]!;
}

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export interface BuildInfo {
  readonly commit: string;
  readonly uncommittedSourceFiles: string;
  readonly bundle: string;
  /** The bundle's build time, or 'no bundle' (bin/conveyor.js then falls back to dist/src). */
  readonly bundleTime: string;
  /** Set when `cli` is bin/conveyor.js and its bundle is older than the last commit to src/. */
  readonly staleSince?: string;
}

/** The commit and the CLI bundle `cli` runs. */
export function buildInfo(cli: string): BuildInfo {
  const bundle = resolve(resolve(cli), '../../dist/cli/conveyor.js');
  const info = { commit: git('rev-parse', '--short', 'HEAD'), uncommittedSourceFiles: String(git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length), bundle };
  let built: Date;
  try {
    built = statSync(bundle).mtime;
  } catch {
    return { ...info, bundleTime: 'no bundle' };
  }
  const lastSourceCommit = Number(git('log', '-1', '--format=%ct', '--', 'src')) * 1000;
  const stale = cli === 'bin/conveyor.js' && built.getTime() < lastSourceCommit;
  return { ...info, bundleTime: built.toISOString(), ...(stale ? { staleSince: new Date(lastSourceCommit).toISOString() } : {}) };
}
