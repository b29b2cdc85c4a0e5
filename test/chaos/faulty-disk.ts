// A real disk fault for a broker process: a small tmpfs mounted as one of the node's log
// directories, which the nemesis fills (every write then fails with ENOSPC, as on a full disk) and
// then empties again. (A read-only remount is refused while the broker has files open for
// writing, so that fault is not offered.) Mounting needs root (or CAP_SYS_ADMIN); where it
// is refused, `mount` says why and the campaign runs without disk faults, saying so.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const FILLER = 'chaos-filler';
const mounted = new Set<string>();
let exitHookInstalled = false;

export class FaultyDisk {
  private constructor(readonly dir: string) {}

  /** Mounts a tmpfs of `sizeBytes` at `dir`; a string says why it could not. */
  static mount(dir: string, sizeBytes: number): FaultyDisk | string {
    mkdirSync(dir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'chaos-disk', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      return `mounting a tmpfs at ${dir} failed: ${stderr || (error instanceof Error ? error.message : String(error))}`;
    }
    mounted.add(dir);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const path of mounted) unmount(path);
      });
    }
    return new FaultyDisk(dir);
  }

  /** Fills the file system with one file until a write fails with ENOSPC. */
  fill(): void {
    const { bavail, bsize } = statfsSync(this.dir);
    const fd = openSync(join(this.dir, FILLER), 'w');
    try {
      const chunk = Buffer.alloc(1 << 20);
      for (let left = bavail * bsize + chunk.length; left > 0; left -= chunk.length) writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      closeSync(fd);
    }
  }

  /** Its space back. */
  restore(): void {
    rmSync(join(this.dir, FILLER), { force: true });
  }

  unmount(): void {
    if (mounted.delete(this.dir)) unmount(this.dir);
  }
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    // Already gone.
  }
}
