import assert from 'node:assert/strict';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { errorCodeOf } from '../base/file-system.js';
import { fileSystemContract } from '../testing/file-system.contract.js';
import { NodeFileSystem } from './node-file-system.js';

fileSystemContract('node', async () => {
  const root = await mkdtemp(join(tmpdir(), 'conveyor-fs-'));
  return { fs: new NodeFileSystem(), root, cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('node file system space', () => {
  it('reports the statfs of the file system holding a path: blocks and available blocks times the block size', async () => {
    const root = await mkdtemp(join(tmpdir(), 'conveyor-fs-'));
    try {
      const fs = new NodeFileSystem();
      const space = await fs.space(root);
      const stats = await statfs(root, { bigint: true });
      assert.equal(space.totalBytes, stats.blocks * stats.bsize);
      assert.ok(space.totalBytes > 0n, `total ${space.totalBytes}`);
      assert.ok(space.usableBytes > 0n && space.usableBytes <= space.totalBytes, `usable ${space.usableBytes} of ${space.totalBytes}`);
      await assert.rejects(fs.space(join(root, 'missing')), (error: unknown) => errorCodeOf(error) === 'ENOENT');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
