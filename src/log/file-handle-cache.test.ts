import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../base/logger.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { FileHandleCache } from './file-handle-cache.js';

describe('file handle cache', () => {
  it('never closes a handle while an operation uses it, even when every handle is pinned', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d');
    const cache = new FileHandleCache(fs, 2, silentLogger);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Two long operations pin both slots; a third file is opened beyond the limit meanwhile.
    const pinned = ['/d/a', '/d/b'].map((path) => cache.use(path, 'create', async (handle) => {
      await held;
      await handle.write([Buffer.from(path)], 0);
    }));
    await new Promise((resolve) => setImmediate(resolve));
    await cache.use('/d/c', 'create', async (handle) => {
      await handle.truncate(0);
      await handle.write([Buffer.from('c')], 0);
    });
    release();
    await Promise.all(pinned);
    await cache.drain();
    assert.ok(cache.openCount <= 2, `open handles ${cache.openCount}`);
    assert.equal((await fs.readFile('/d/c')).toString(), 'c');
    assert.equal((await fs.readFile('/d/a')).toString(), '/d/a');
    await cache.closeAll();
  });

  it('uses many files at once through a small cache', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/d');
    const cache = new FileHandleCache(fs, 4, silentLogger);
    const paths = Array.from({ length: 50 }, (_, index) => `/d/f${index}`);
    await Promise.all(paths.map((path) => cache.use(path, 'create', (handle) => handle.write([Buffer.from(path)], 0))));
    await cache.drain();
    assert.ok(cache.openCount <= 4, `open handles ${cache.openCount}`);
    for (const path of paths) assert.equal((await fs.readFile(path)).toString(), path);
    await cache.closeAll();
  });
});
