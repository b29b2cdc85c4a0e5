// FileStreamSourceTask closes its file when stopped, even when stop() comes while a poll is
// opening or reading the file (the worker stops a task without waiting for its poll): a handle
// opened after stop() would stay open until garbage collection ("Closing file descriptor N on
// garbage collection"). Open descriptors are counted in /proc/self/fd (Linux).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileStreamSourceTask } from './file-stream-source.js';

/** How many of this process's open descriptors point at `path`. */
async function openDescriptors(path: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    if ((await readlink(join('/proc/self/fd', fd)).catch(() => '')) === path) count++;
  }
  return count;
}

function startedTask(): FileStreamSourceTask {
  const task = new FileStreamSourceTask();
  task.initialize({
    configs: () => ({}),
    offsetStorageReader: { offset: async () => null, offsets: async () => new Map() },
    transactionContext: null,
  });
  return task;
}

describe('FileStreamSourceTask: stop() leaves no file open', { skip: !existsSync('/proc/self/fd') && 'needs /proc/self/fd' }, () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-file-source-'));
    file = join(dir, 'input.txt');
    await writeFile(file, 'one\ntwo\nthree\n');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stop() while the first poll is opening the file: the file ends up closed', async () => {
    const task = startedTask();
    await task.start({ file, topic: 'lines' });
    const polling = task.poll();
    const stopping = task.stop();
    await Promise.all([polling, stopping]);
    assert.equal(await openDescriptors(file), 0, 'no descriptor left open on the file');
  });

  it('stop() after polls read lines closes the file; a later poll opens nothing', async () => {
    const task = startedTask();
    await task.start({ file, topic: 'lines', 'batch.size': '1' });
    const first = await task.poll();
    assert.deepEqual(first?.map((record) => record.value), ['one']);
    assert.equal(await openDescriptors(file), 1, 'open while the task runs (the check sees it)');
    const polling = task.poll();
    await Promise.all([polling, task.stop()]);
    assert.equal(await task.poll(), null);
    assert.equal(await openDescriptors(file), 0);
  });
});
