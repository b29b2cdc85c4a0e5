import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSystemContract } from '../testing/file-system.contract.js';
import { NodeFileSystem } from './node-file-system.js';

fileSystemContract('node', async () => {
  const root = await mkdtemp(join(tmpdir(), 'conveyor-fs-'));
  return { fs: new NodeFileSystem(), root, cleanup: () => rm(root, { recursive: true, force: true }) };
});
