// bin/conveyor.js runs the CLI bundle through V8's code cache: the first run of a command saves
// one, later runs start from it untouched, a cache V8 refuses is replaced, and the CLI works the
// same throughout. It also gives `start` the broker's heap flag, on a Node that can (execve).
// Runs the built bundle (dist/cli), so it is skipped before `npm run build`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { temporaryDirectory } from './helpers.js';

const bin = fileURLToPath(new URL('../../bin/conveyor.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/cli/conveyor.js', import.meta.url)));
const skip = built ? false : 'dist/cli is not built';

function conveyor(cacheDir: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, CONVEYOR_CODE_CACHE: cacheDir } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The cache files in `dir` by command, with the inode of each (a rewrite renames a new file in). */
function caches(dir: string): Map<string, number> {
  if (!existsSync(dir)) return new Map();
  return new Map(readdirSync(dir).map((name) => [name.slice(0, name.indexOf('-')), statSync(join(dir, name)).ino]));
}

/**
 * `conveyor start` (after `nodeFlags`) until it prints its ready line, then SIGTERM (to its pid)
 * and its exit status; `commandLine` is what /proc gave for that pid once it was ready.
 */
async function startAndStop(cacheDir: string, dataDir: string, nodeFlags: string[] = []): Promise<{ ready: string; exitCode: number | null; commandLine: string[] }> {
  const child: ChildProcess = spawn(process.execPath, [...nodeFlags, bin, 'start', '--port', '0', '--data-dir', dataDir], { env: { ...process.env, CONVEYOR_CODE_CACHE: cacheDir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line: ${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.includes(' ready on '));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve(line);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', () => reject(new Error(`exited before ready: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const commandLine = readFileSync(`/proc/${child.pid!}/cmdline`, 'utf8').split('\0');
  // The CLI installs its signal handlers before it prints the ready line.
  process.kill(child.pid!, 'SIGTERM');
  return { ready, exitCode: await exited, commandLine };
}

describe('CLI code cache', { skip }, () => {
  it('saves a cache on the first run of a command and starts from it, unchanged, afterwards', async () => {
    const directory = await temporaryDirectory();
    try {
      const cacheDir = join(directory.path, 'cache');
      const first = conveyor(cacheDir, ['topics', '--help']);
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /create, list, describe, alter and delete topics/);
      const saved = caches(cacheDir);
      assert.deepEqual([...saved.keys()], ['topics']);

      const second = conveyor(cacheDir, ['topics', '--help']);
      assert.equal(second.status, 0, second.stderr);
      assert.equal(second.stdout, first.stdout);
      assert.deepEqual(caches(cacheDir), saved, 'a cache V8 accepted is not written again');

      // A typo or a bare --help shares one cache instead of adding a file per spelling.
      conveyor(cacheDir, ['no-such-command']);
      conveyor(cacheDir, ['another-typo']);
      assert.deepEqual([...caches(cacheDir).keys()].sort(), ['other', 'topics']);
    } finally {
      await directory.remove();
    }
  });

  it('replaces a cache V8 refuses and runs the command as usual', async () => {
    const directory = await temporaryDirectory();
    try {
      const cacheDir = join(directory.path, 'cache');
      const expected = conveyor(cacheDir, ['topics', '--help']).stdout;
      const [name] = readdirSync(cacheDir);
      assert.ok(name);
      writeFileSync(join(cacheDir, name), Buffer.alloc(4096, 0x5a));
      const broken = statSync(join(cacheDir, name)).ino;
      const result = conveyor(cacheDir, ['topics', '--help']);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, expected);
      assert.notEqual(statSync(join(cacheDir, name)).ino, broken, 'the refused cache was replaced');
      assert.ok(statSync(join(cacheDir, name)).size > 4096, 'by a real one');
    } finally {
      await directory.remove();
    }
  });

  it('starts the broker from the cache its first start saved', async () => {
    const directory = await temporaryDirectory();
    try {
      const cacheDir = join(directory.path, 'cache');
      const first = await startAndStop(cacheDir, join(directory.path, 'data'));
      assert.equal(first.exitCode, 0);
      const saved = caches(cacheDir);
      assert.ok(saved.has('start'));
      const second = await startAndStop(cacheDir, join(directory.path, 'data'));
      assert.match(second.ready, /Conveyor broker 1 ready on localhost:\d+/);
      assert.equal(second.exitCode, 0);
      assert.deepEqual(caches(cacheDir), saved);
    } finally {
      await directory.remove();
    }
  });

  // Node 22.15 and later have process.execve (not yet in @types/node 20).
  const execve = typeof (process as { execve?: unknown }).execve === 'function' ? false : `process.execve needs Node 22.15 (this is ${process.version})`;
  it('runs `start` as the process it was started as, with the broker heap flag added or the one given kept', { skip: execve }, async () => {
    const directory = await temporaryDirectory();
    try {
      const cacheDir = join(directory.path, 'cache');
      const added = await startAndStop(cacheDir, join(directory.path, 'data'));
      assert.equal(added.exitCode, 0);
      assert.match(added.ready, /Conveyor broker 1 ready on/);
      // The pid the test spawned is the broker's: the flag arrived without a process of its own.
      assert.ok(added.commandLine.includes('--initial-old-space-size=64'), added.commandLine.join(' '));
      const given = await startAndStop(cacheDir, join(directory.path, 'data'), ['--initial-old-space-size=128']);
      assert.equal(given.exitCode, 0);
      assert.ok(given.commandLine.includes('--initial-old-space-size=128'), given.commandLine.join(' '));
      assert.ok(!given.commandLine.includes('--initial-old-space-size=64'), given.commandLine.join(' '));
    } finally {
      await directory.remove();
    }
  });

  it('keeps no cache when CONVEYOR_CODE_CACHE=off', async () => {
    const result = conveyor('off', ['topics', '--help']);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(!existsSync('off'), 'no directory named off');
  });
});
