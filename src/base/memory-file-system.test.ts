import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileSystemContract } from '../testing/file-system.contract.js';
import { errorCodeOf, makeDirectoryDurably, parentPath, pathExists, writeFileAtomically } from './file-system.js';
import { MemoryFileSystem } from './memory-file-system.js';

fileSystemContract('memory', async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdir('/data');
  return { fs, root: '/data', cleanup: async () => {}, powerLoss: () => fs.simulatePowerLoss() };
});

fileSystemContract('memory, strict power loss', async () => {
  const fs = new MemoryFileSystem({ strictPowerLoss: { seed: 7 } });
  await fs.mkdir('/data');
  await fs.syncDirectory('/');
  return { fs, root: '/data', cleanup: async () => {}, powerLoss: () => fs.simulatePowerLoss() };
});

/** A file at `path` holding `content`, synced, in a synced directory. */
async function durableFile(fs: MemoryFileSystem, path: string, content: string): Promise<void> {
  const handle = await fs.open(path, 'create');
  await handle.write([Buffer.from(content)], 0);
  await handle.sync();
  await handle.close();
  await fs.syncDirectory(parentPath(path));
}

/** Replaces `path` through a synced temporary file and a rename, without syncing the directory. */
async function replaceWithoutDirectorySync(fs: MemoryFileSystem, path: string, content: string): Promise<void> {
  const handle = await fs.open(`${path}.tmp`, 'replace');
  await handle.write([Buffer.from(content)], 0);
  await handle.sync();
  await handle.close();
  await fs.rename(`${path}.tmp`, path);
}

async function contentOf(fs: MemoryFileSystem, path: string): Promise<string | undefined> {
  return (await pathExists(fs, path)) ? (await fs.readFile(path)).toString() : undefined;
}

describe('memory file system, strict power loss: directory entries', () => {
  const strict = () => new MemoryFileSystem({ strictPowerLoss: { seed: 1 } });

  it('undoes a rename whose directory was not synced: the file returns to its old name', async () => {
    for (const [fs, expected] of [
      [new MemoryFileSystem(), { target: 'new', temporary: undefined }],
      // The temporary file's own creation was never made durable either.
      [strict(), { target: 'old', temporary: undefined }],
    ] as const) {
      await fs.mkdir('/d');
      await fs.syncDirectory('/');
      await durableFile(fs, '/d/checkpoint', 'old');
      await replaceWithoutDirectorySync(fs, '/d/checkpoint', 'new');
      fs.simulatePowerLoss();
      assert.deepEqual({ target: await contentOf(fs, '/d/checkpoint'), temporary: await contentOf(fs, '/d/checkpoint.tmp') }, expected, fs.strictSeed === undefined ? 'default model' : 'strict model');
    }
  });

  it('puts a durable file renamed without a directory sync back under its old name', async () => {
    const fs = strict();
    await fs.mkdir('/d');
    await fs.syncDirectory('/');
    await durableFile(fs, '/d/00000000000000000000.log', 'segment');
    await fs.rename('/d/00000000000000000000.log', '/d/00000000000000000000.log.deleted');
    const report = fs.simulatePowerLoss();
    assert.equal(await contentOf(fs, '/d/00000000000000000000.log'), 'segment');
    assert.equal(await pathExists(fs, '/d/00000000000000000000.log.deleted'), false);
    assert.equal(report.entriesUndone, 2);
  });

  it('keeps a rename once its directory is synced', async () => {
    const fs = strict();
    await fs.mkdir('/d');
    await fs.syncDirectory('/');
    await durableFile(fs, '/d/checkpoint', 'old');
    await writeFileAtomically(fs, '/d/checkpoint', Buffer.from('new'));
    fs.simulatePowerLoss();
    assert.equal(await contentOf(fs, '/d/checkpoint'), 'new');
    assert.equal(await contentOf(fs, '/d/checkpoint.tmp'), undefined);
  });

  it('drops a created file, even one whose content was synced, until its directory is synced', async () => {
    const fs = strict();
    await fs.mkdir('/d');
    await fs.syncDirectory('/');
    const handle = await fs.open('/d/segment', 'create');
    await handle.write([Buffer.from('records')], 0);
    await handle.sync();
    const report = fs.simulatePowerLoss();
    assert.equal(await pathExists(fs, '/d/segment'), false);
    assert.equal(report.entriesUndone, 1);
    await durableFile(fs, '/d/segment', 'records');
    fs.simulatePowerLoss();
    assert.equal(await contentOf(fs, '/d/segment'), 'records');
  });

  it('brings back a deleted file and a removed tree until the directory is synced', async () => {
    const fs = strict();
    await fs.mkdir('/d/sub');
    await fs.syncDirectory('/');
    await fs.syncDirectory('/d');
    await durableFile(fs, '/d/sub/f', 'data');
    await fs.unlink('/d/sub/f');
    await fs.removeTree('/d/sub');
    fs.simulatePowerLoss();
    assert.equal(await contentOf(fs, '/d/sub/f'), 'data');
    await fs.removeTree('/d/sub');
    await fs.syncDirectory('/d');
    fs.simulatePowerLoss();
    assert.equal(await pathExists(fs, '/d/sub'), false);
  });

  it('drops a directory made by mkdir until its parent is synced', async () => {
    const fs = strict();
    await fs.mkdir('/data');
    fs.simulatePowerLoss();
    assert.equal(await pathExists(fs, '/data'), false);
  });

  it('makeDirectoryDurably syncs the parent of every directory it makes, and only looks at one already there', async () => {
    const fs = strict();
    const calls: string[] = [];
    for (const name of ['mkdir', 'syncDirectory'] as const) {
      const original = fs[name].bind(fs);
      fs[name] = ((path: string) => {
        calls.push(`${name} ${path}`);
        return original(path);
      }) as never;
    }
    assert.equal(await makeDirectoryDurably(fs, '/a/b/c'), true);
    assert.deepEqual(calls, ['mkdir /a/b/c', 'syncDirectory /', 'syncDirectory /a', 'syncDirectory /a/b']);
    fs.simulatePowerLoss();
    assert.equal(await pathExists(fs, '/a/b/c'), true);
    calls.length = 0;
    assert.equal(await makeDirectoryDurably(fs, '/a/b/c'), false);
    assert.deepEqual(calls, [], 'an existing directory: a stat, no mkdir and no sync');
    await fs.writeFile('/a/file', Buffer.from('x'));
    await assert.rejects(makeDirectoryDurably(fs, '/a/file'), (error) => errorCodeOf(error) !== undefined, 'a file is no directory');
  });
});

describe('memory file system, strict power loss: torn pages', () => {
  const PAGE = 16;
  /** A synced first page of 'a', then three unsynced pages of 'b', 'c', 'd'; returns what survives. */
  async function survivor(seed: number): Promise<string> {
    const fs = new MemoryFileSystem({ strictPowerLoss: { seed, pageBytes: PAGE } });
    await fs.mkdir('/d');
    await fs.syncDirectory('/');
    await durableFile(fs, '/d/f', 'a'.repeat(PAGE));
    const handle = await fs.open('/d/f', 'readWrite');
    await handle.write([Buffer.from('b'.repeat(PAGE) + 'c'.repeat(PAGE) + 'd'.repeat(PAGE))], PAGE);
    fs.simulatePowerLoss();
    return (await fs.readFile('/d/f')).toString('latin1');
  }

  it('keeps the synced page, and keeps, drops or tears each unsynced page, the same way for the same seed', async () => {
    const outcomes = new Set<string>();
    let shortFiles = 0;
    for (let seed = 1; seed <= 40; seed += 1) {
      const survived = await survivor(seed);
      assert.equal(survived, await survivor(seed), `seed ${seed} replays`);
      assert.equal(survived.slice(0, PAGE), 'a'.repeat(PAGE), `seed ${seed}: the synced page survives`);
      if (survived.length === PAGE) {
        shortFiles += 1;
        continue;
      }
      assert.equal(survived.length, 4 * PAGE, `seed ${seed}: the durable or the written length`);
      for (const [index, letter] of ['b', 'c', 'd'].entries()) {
        const page = survived.slice((index + 1) * PAGE, (index + 2) * PAGE);
        const kept = page.length - page.replace(new RegExp(`^${letter}+`), '').length;
        assert.match(page, new RegExp(`^${letter}*\u0000*$`), `seed ${seed}: page ${index + 1} is a prefix of its new bytes, then zeros`);
        outcomes.add(kept === PAGE ? 'kept' : kept === 0 ? 'dropped' : 'torn');
      }
    }
    assert.deepEqual([...outcomes].sort(), ['dropped', 'kept', 'torn']);
    assert.ok(shortFiles > 0 && shortFiles < 40, `some power losses keep the durable length (${shortFiles} of 40)`);
  });

  it('undoes an unsynced truncation or keeps it, never anything else', async () => {
    for (let seed = 1; seed <= 10; seed += 1) {
      const fs = new MemoryFileSystem({ strictPowerLoss: { seed, pageBytes: 4 } });
      await fs.syncDirectory('/');
      await durableFile(fs, '/f', '0123456789');
      const handle = await fs.open('/f', 'readWrite');
      await handle.truncate(3);
      fs.simulatePowerLoss();
      const survived = (await fs.readFile('/f')).toString();
      assert.ok(['012', '0123456789'].includes(survived), `seed ${seed}: ${JSON.stringify(survived)}`);
    }
  });
});

describe('memory file system power loss', () => {
  it('drops unsynced writes and keeps synced ones', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d');
    const handle = await fs.open('/d/log', 'create');
    await handle.write([Buffer.from('synced')], 0);
    await handle.sync();
    await handle.write([Buffer.from('-lost')], 6);
    await handle.write([Buffer.from('S')], 0);
    fs.simulatePowerLoss();
    assert.equal((await fs.readFile('/d/log')).toString(), 'synced');
    await assert.rejects(handle.read(0, 1), (error: unknown) => errorCodeOf(error) === 'EIO');
  });

  it('keeps a file created but never synced, empty', async () => {
    const fs = new MemoryFileSystem();
    await fs.writeFile('/never-synced', Buffer.from('abc'));
    fs.simulatePowerLoss();
    assert.equal(await pathExists(fs, '/never-synced'), true);
    assert.equal((await fs.readFile('/never-synced')).length, 0);
  });

  it('undoes an unsynced truncation and keeps atomic writes', async () => {
    const fs = new MemoryFileSystem();
    const handle = await fs.open('/f', 'create');
    await handle.write([Buffer.from('0123456789')], 0);
    await handle.sync();
    await handle.truncate(3);
    await handle.write([Buffer.from('abc')], 3);
    await handle.sync();
    await handle.write([Buffer.from('zz')], 8);
    await writeFileAtomically(fs, '/checkpoint', Buffer.from('v1'));
    fs.simulatePowerLoss();
    assert.equal((await fs.readFile('/f')).toString(), '012abc');
    assert.equal((await fs.readFile('/checkpoint')).toString(), 'v1');
  });

  it('fails writes with ENOSPC past its capacity and leaves the file unchanged', async () => {
    const fs = new MemoryFileSystem({ capacityBytes: 8 });
    const handle = await fs.open('/f', 'create');
    await handle.write([Buffer.from('12345')], 0);
    await assert.rejects(handle.write([Buffer.from('6789')], 5), (error: unknown) => errorCodeOf(error) === 'ENOSPC');
    assert.equal(await handle.size(), 5);
    assert.equal(fs.usedBytes, 5);
  });

  it('injects faults per operation', async () => {
    const fs = new MemoryFileSystem();
    fs.setFaultInjector((operation, path) => (operation === 'sync' && path.endsWith('.log') ? 'EIO' : undefined));
    const handle = await fs.open('/a.log', 'create');
    await assert.rejects(handle.sync(), (error: unknown) => errorCodeOf(error) === 'EIO');
    fs.setFaultInjector(undefined);
    await handle.sync();
  });
});

describe('memory file system space', () => {
  it('reports its capacity as the total and what the files leave of it as usable', async () => {
    const fs = new MemoryFileSystem({ capacityBytes: 100 });
    await fs.mkdir('/data');
    assert.deepEqual(await fs.space('/data'), { totalBytes: 100n, usableBytes: 100n });
    await fs.writeFile('/data/a', Buffer.alloc(30));
    const handle = await fs.open('/data/b', 'create');
    await handle.write([Buffer.alloc(25)], 0);
    assert.deepEqual(await fs.space('/'), { totalBytes: 100n, usableBytes: 45n });
    await handle.truncate(5);
    await handle.close();
    assert.deepEqual(await fs.space('/data/a'), { totalBytes: 100n, usableBytes: 65n });
    fs.setCapacityBytes(20);
    assert.deepEqual(await fs.space('/data'), { totalBytes: 20n, usableBytes: 0n }, 'files past a lowered capacity leave nothing');
  });

  it('reports -1 for both without a capacity, fails with ENOENT for a missing path, and takes injected faults', async () => {
    const fs = new MemoryFileSystem();
    await fs.writeFile('/a', Buffer.alloc(10));
    assert.deepEqual(await fs.space('/a'), { totalBytes: -1n, usableBytes: -1n });
    await assert.rejects(fs.space('/missing'), (error: unknown) => errorCodeOf(error) === 'ENOENT');
    fs.setFaultInjector((operation) => (operation === 'space' ? 'EIO' : undefined));
    await assert.rejects(fs.space('/a'), (error: unknown) => errorCodeOf(error) === 'EIO');
  });
});
