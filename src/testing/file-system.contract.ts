// The behaviour every file-system port implementation must share, as one node:test suite that each
// implementation's test file runs against a fresh root directory. Imported by tests only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorCodeOf, type FileSystem, joinPath, pathExists, writeFileAtomically } from '../base/file-system.js';

export interface FileSystemFixture {
  fs: FileSystem;
  /** An existing, empty directory for the test. */
  root: string;
  cleanup(): Promise<void>;
  /** Cuts the power, for implementations that can (then the durability cases run too). */
  powerLoss?: () => void;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => errorCodeOf(error) === code);
}

export function fileSystemContract(name: string, createFixture: () => Promise<FileSystemFixture>): void {
  const withFixture = (test: (fs: FileSystem, root: string, powerLoss: (() => void) | undefined) => Promise<void>) => async () => {
    const fixture = await createFixture();
    try {
      await test(fixture.fs, fixture.root, fixture.powerLoss);
    } finally {
      await fixture.cleanup();
    }
  };

  describe(`file-system contract: ${name}`, () => {
    it('creates, writes, reads back and reports size', withFixture(async (fs, root) => {
      const path = joinPath(root, 'a.log');
      const handle = await fs.open(path, 'create');
      await handle.write([Buffer.from('hello '), Buffer.from('world')], 0);
      assert.equal(await handle.size(), 11);
      assert.equal((await handle.read(6, 5)).toString(), 'world');
      assert.equal((await handle.read(8, 100)).toString(), 'rld');
      assert.equal((await handle.read(50, 10)).length, 0);
      await handle.write([Buffer.from('W')], 6);
      await handle.sync();
      await handle.close();
      assert.equal((await fs.readFile(path)).toString(), 'hello World');
      assert.equal((await fs.stat(path)).size, 11);
    }));

    it('opening a missing file without create fails with ENOENT', withFixture(async (fs, root) => {
      await expectCode(fs.open(joinPath(root, 'missing'), 'readWrite'), 'ENOENT');
      await expectCode(fs.open(joinPath(root, 'missing'), 'read'), 'ENOENT');
      await expectCode(fs.readFile(joinPath(root, 'missing')), 'ENOENT');
      await expectCode(fs.stat(joinPath(root, 'missing')), 'ENOENT');
      await expectCode(fs.readdir(joinPath(root, 'missing')), 'ENOENT');
      await expectCode(fs.open(joinPath(root, 'no-dir', 'file'), 'create'), 'ENOENT');
    }));

    it('create keeps existing content', withFixture(async (fs, root) => {
      const path = joinPath(root, 'keep');
      await fs.writeFile(path, Buffer.from('abc'));
      const handle = await fs.open(path, 'create');
      assert.equal((await handle.read(0, 10)).toString(), 'abc');
      await handle.close();
    }));

    it('truncates and zero-extends', withFixture(async (fs, root) => {
      const handle = await fs.open(joinPath(root, 't'), 'create');
      await handle.write([Buffer.from('abcdef')], 0);
      await handle.truncate(2);
      assert.equal(await handle.size(), 2);
      assert.equal((await handle.read(0, 10)).toString(), 'ab');
      await handle.truncate(4);
      assert.deepEqual([...(await handle.read(0, 10))], [97, 98, 0, 0]);
      await handle.close();
    }));

    it('writeFile replaces content', withFixture(async (fs, root) => {
      const path = joinPath(root, 'w');
      await fs.writeFile(path, Buffer.from('long content'));
      await fs.writeFile(path, Buffer.from('short'));
      assert.equal((await fs.readFile(path)).toString(), 'short');
    }));

    it('makes nested directories, lists and removes trees', withFixture(async (fs, root) => {
      const dir = joinPath(root, 'x', 'y');
      assert.equal(await fs.mkdir(dir), true, 'a new directory');
      assert.equal(await fs.mkdir(dir), false, 'an existing directory');
      await fs.writeFile(joinPath(dir, 'f'), Buffer.from('1'));
      await fs.mkdir(joinPath(dir, 'sub'));
      const entries = (await fs.readdir(dir)).sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(entries, [
        { name: 'f', isDirectory: false },
        { name: 'sub', isDirectory: true },
      ]);
      assert.equal((await fs.stat(dir)).isDirectory, true);
      await fs.removeTree(joinPath(root, 'x'));
      assert.equal(await pathExists(fs, joinPath(root, 'x')), false);
      await fs.removeTree(joinPath(root, 'x'));
    }));

    it('renames files over existing ones and renames directories', withFixture(async (fs, root) => {
      await fs.writeFile(joinPath(root, 'a'), Buffer.from('new'));
      await fs.writeFile(joinPath(root, 'b'), Buffer.from('old'));
      await fs.rename(joinPath(root, 'a'), joinPath(root, 'b'));
      assert.equal((await fs.readFile(joinPath(root, 'b'))).toString(), 'new');
      assert.equal(await pathExists(fs, joinPath(root, 'a')), false);
      await fs.mkdir(joinPath(root, 'd1'));
      await fs.writeFile(joinPath(root, 'd1', 'f'), Buffer.from('x'));
      await fs.rename(joinPath(root, 'd1'), joinPath(root, 'd2'));
      assert.equal((await fs.readFile(joinPath(root, 'd2', 'f'))).toString(), 'x');
      await fs.syncDirectory(root);
    }));

    it('unlinks files; an open handle keeps working', withFixture(async (fs, root) => {
      const path = joinPath(root, 'u');
      await fs.writeFile(path, Buffer.from('data'));
      const handle = await fs.open(path, 'read');
      await fs.unlink(path);
      assert.equal(await pathExists(fs, path), false);
      assert.equal((await handle.read(0, 4)).toString(), 'data');
      await handle.close();
      await expectCode(fs.unlink(path), 'ENOENT');
    }));

    it("empties a file opened with 'replace' and creates a missing one", withFixture(async (fs, root) => {
      const path = joinPath(root, 'r');
      await fs.writeFile(path, Buffer.from('a longer old content'));
      const replaced = await fs.open(path, 'replace');
      assert.equal(await replaced.size(), 0);
      await replaced.write([Buffer.from('new')], 0);
      await replaced.close();
      assert.equal((await fs.readFile(path)).toString(), 'new');
      const created = await fs.open(joinPath(root, 'r2'), 'replace');
      await created.close();
      assert.equal((await fs.readFile(joinPath(root, 'r2'))).length, 0);
    }));

    it('writes over a longer temporary file left by a crash', withFixture(async (fs, root) => {
      const path = joinPath(root, 'checkpoint');
      await fs.writeFile(`${path}.tmp`, Buffer.from('leftover from a write that never finished'));
      await writeFileAtomically(fs, path, Buffer.from('short'));
      assert.equal((await fs.readFile(path)).toString(), 'short');
      assert.deepEqual((await fs.readdir(root)).map((entry) => entry.name), ['checkpoint']);
    }));

    it('writes atomically through a temporary file', withFixture(async (fs, root) => {
      const path = joinPath(root, 'checkpoint');
      await writeFileAtomically(fs, path, Buffer.from('one'));
      await writeFileAtomically(fs, path, Buffer.from('two'));
      assert.equal((await fs.readFile(path)).toString(), 'two');
      assert.deepEqual((await fs.readdir(root)).map((entry) => entry.name), ['checkpoint']);
    }));

    // What the port promises to survive a power loss, whatever else a given implementation loses.
    it('a synced file in a synced directory survives a power loss; an atomic write leaves old or new', withFixture(async (fs, root, powerLoss) => {
      if (powerLoss === undefined) return;
      const path = joinPath(root, 'durable');
      const handle = await fs.open(path, 'create');
      await handle.write([Buffer.from('kept')], 0);
      await handle.sync();
      await handle.close();
      await fs.syncDirectory(root);
      await writeFileAtomically(fs, joinPath(root, 'checkpoint'), Buffer.from('v1'));
      const pending = writeFileAtomically(fs, joinPath(root, 'checkpoint'), Buffer.from('v2'));
      powerLoss();
      await pending.catch(() => {});
      assert.equal((await fs.readFile(path)).toString(), 'kept');
      assert.ok(['v1', 'v2'].includes((await fs.readFile(joinPath(root, 'checkpoint'))).toString()));
    }));

    it('gathers many buffers in one write', withFixture(async (fs, root) => {
      const handle = await fs.open(joinPath(root, 'g'), 'create');
      const buffers = Array.from({ length: 2000 }, (_, index) => Buffer.from([index % 256]));
      await handle.write(buffers, 0);
      const back = await handle.read(0, 2000);
      assert.equal(back.length, 2000);
      assert.equal(back[1999], 1999 % 256);
      await handle.close();
    }));
  });
}
