import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FaultyDisk } from './faulty-disk.js';

describe('the chaos campaign\'s faulty disk', () => {
  it('fills up (ENOSPC) and comes back writable with its data', (context) => {
    const base = mkdtempSync(join(tmpdir(), 'faulty-disk-test-'));
    const disk = FaultyDisk.mount(join(base, 'disk'), 4 * 1024 * 1024);
    if (typeof disk === 'string') {
      context.skip(disk);
      rmSync(base, { recursive: true, force: true });
      return;
    }
    try {
      const file = join(disk.dir, 'kept');
      writeFileSync(file, 'before');
      disk.fill();
      assert.throws(() => writeFileSync(join(disk.dir, 'more'), Buffer.alloc(64 * 1024)), { code: 'ENOSPC' });
      assert.equal(readFileSync(file, 'utf8'), 'before', 'reads still work');
      disk.restore();
      writeFileSync(join(disk.dir, 'more'), Buffer.alloc(64 * 1024));
      writeFileSync(file, 'after');
      assert.equal(readFileSync(file, 'utf8'), 'after');
    } finally {
      disk.unmount();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
