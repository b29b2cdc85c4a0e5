import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileSystemContract } from './file-system.contract.js';
import { errorCodeOf, pathExists, writeFileAtomically } from './file-system.js';
import { MemoryFileSystem } from './memory-file-system.js';

fileSystemContract('memory', async () => {
  const fs = new MemoryFileSystem();
  await fs.mkdir('/data');
  return { fs, root: '/data', cleanup: async () => {} };
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
