import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { StateDirectoryLockedError, lockStateDirectory } from './state-directory.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'conveyor-state-dir-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('the process id is created once and kept across locks of the same directory', async () => {
  const directory = join(root, 'kept', 'app');
  const first = await lockStateDirectory(directory);
  assert.match(first.processId, /^[0-9a-f-]{36}$/);
  assert.equal(await readFile(join(directory, '.lock'), 'utf8'), String(process.pid));
  await first.release();
  await assert.rejects(readFile(join(directory, '.lock'), 'utf8'), { code: 'ENOENT' });
  const second = await lockStateDirectory(directory);
  assert.equal(second.processId, first.processId);
  await second.release();
  const other = await lockStateDirectory(join(root, 'other', 'app'));
  assert.notEqual(other.processId, first.processId);
  await other.release();
});

test('a second lock in this process is refused until the first is released', async () => {
  const directory = join(root, 'twice', 'app');
  const held = await lockStateDirectory(directory);
  await assert.rejects(lockStateDirectory(directory), (error: Error) => error instanceof StateDirectoryLockedError && error.message.includes(directory) && error.message.includes('this process'));
  await held.release();
  await held.release(); // twice is harmless
  const again = await lockStateDirectory(directory);
  assert.equal(again.processId, held.processId);
  await again.release();
});

test('a lock file of a running process is refused, naming it; once that process is gone the lock is taken over', async () => {
  const directory = join(root, 'other-process', 'app');
  const first = await lockStateDirectory(directory);
  const processId = first.processId;
  await first.release();
  // Another process holds the lock: a child that waits until it is stopped (by its pid, below).
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  try {
    await writeFile(join(directory, '.lock'), String(child.pid));
    await assert.rejects(lockStateDirectory(directory), (error: Error) => error instanceof StateDirectoryLockedError && error.message.includes(`process ${child.pid}`) && error.message.includes(join(directory, '.lock')));
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  // Its process is gone (a kill -9 leaves the file behind): the lock is stale.
  const taken = await lockStateDirectory(directory);
  assert.equal(taken.processId, processId);
  assert.equal(await readFile(join(directory, '.lock'), 'utf8'), String(process.pid));
  await taken.release();
});

test('an unreadable process file is replaced by a new process id', async () => {
  const directory = join(root, 'corrupt', 'app');
  const first = await lockStateDirectory(directory);
  await first.release();
  await writeFile(join(directory, 'kafka-streams-process-metadata'), '{"processId": 42');
  const second = await lockStateDirectory(directory);
  assert.notEqual(second.processId, first.processId);
  assert.match(second.processId, /^[0-9a-f-]{36}$/);
  assert.equal(JSON.parse(await readFile(join(directory, 'kafka-streams-process-metadata'), 'utf8')).processId, second.processId);
  await second.release();
});
