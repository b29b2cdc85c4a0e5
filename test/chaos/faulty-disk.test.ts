import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FaultyDisk } from './faulty-disk.js';

describe('the chaos campaign\'s faulty disk', () => {
  /** A disk for one test (skipped, saying why, where mounting is refused); unmounted and removed after it. */
  function withDisk(context: { skip(message: string): void }, body: (disk: FaultyDisk) => void): void {
    const base = mkdtempSync(join(tmpdir(), 'faulty-disk-test-'));
    const disk = FaultyDisk.mount(join(base, 'disk'), 8 * 1024 * 1024);
    try {
      if (typeof disk === 'string') return context.skip(disk);
      body(disk);
    } finally {
      if (typeof disk !== 'string') disk.unmount();
      rmSync(base, { recursive: true, force: true });
    }
  }

  it('fills up (ENOSPC) and comes back writable with its data', (context) => {
    withDisk(context, (disk) => {
      const file = join(disk.dir, 'kept');
      writeFileSync(file, 'before');
      disk.fail('full');
      assert.throws(() => writeFileSync(join(disk.dir, 'more'), Buffer.alloc(64 * 1024)), { code: 'ENOSPC' });
      assert.equal(readFileSync(file, 'utf8'), 'before', 'reads still work');
      disk.repair('full');
      writeFileSync(join(disk.dir, 'more'), Buffer.alloc(64 * 1024));
      writeFileSync(file, 'after');
      assert.equal(readFileSync(file, 'utf8'), 'after');
    });
  });

  it('turns read-only under open files (EROFS) and, repaired, is writable again with what was synced', (context) => {
    withDisk(context, (disk) => {
      if (disk.readOnlyUnavailable !== undefined) return context.skip(disk.readOnlyUnavailable);
      const synced = join(disk.dir, 'synced');
      writeFileSync(synced, 'durable', { flush: true });
      execSync('sync');
      const open = openSync(join(disk.dir, 'open'), 'w');
      try {
        disk.fail('read-only');
        assert.throws(() => writeSync(open, Buffer.from('x')) && fsyncSync(open), { code: 'EROFS' });
        assert.throws(() => writeFileSync(join(disk.dir, 'new'), 'x'), { code: 'EROFS' });
        assert.equal(readFileSync(synced, 'utf8'), 'durable', 'reads still work');
      } finally {
        closeSync(open);
      }
      disk.repair('read-only');
      assert.equal(readFileSync(synced, 'utf8'), 'durable', 'what was synced survived the repair');
      writeFileSync(join(disk.dir, 'new'), 'writable again');
      assert.equal(readFileSync(join(disk.dir, 'new'), 'utf8'), 'writable again');
    });
  });
});
