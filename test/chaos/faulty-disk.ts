// A real disk fault for a broker process: a small file system mounted as one of the node's log
// directories, which the nemesis fills (every write then fails with ENOSPC, as on a full disk) or
// turns read-only (every write fails with EROFS, as when ext4 meets an I/O error and remounts
// itself read-only), and then repairs.
//
// The file system is ext4 on a loop device whose image lives in a tmpfs of its own (memory, only as
// much as is written). The read-only fault is ext4's own error path (`trigger_fs_error` in sysfs,
// with `errors=remount-ro`): the file system stops all writes at once, open files included, which
// a `mount -o remount,ro` refuses to do while the broker has files open for writing. Repairing it
// needs the broker stopped: unmount, e2fsck, mount again.
//
// Mounting needs root (or CAP_SYS_ADMIN). Where the loop device or ext4 is missing, the disk is a
// plain tmpfs that can only fill up (`readOnlyUnavailable` says why); where mounting is refused
// altogether, `mount` says why and the campaign runs without disk faults, saying so.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DiskFault } from '../../src/testing/chaos/nemesis.js';

const FILLER = 'chaos-filler';
const mounted = new Set<string>();
let exitHookInstalled = false;

export class FaultyDisk {
  private constructor(
    readonly dir: string,
    /** The ext4 image behind `dir`, and the tmpfs holding it; undefined for a plain tmpfs. */
    private readonly ext4: { readonly image: string; readonly backing: string } | undefined,
    /** Why this disk cannot turn read-only, or undefined when it can. */
    readonly readOnlyUnavailable: string | undefined,
  ) {}

  /** Mounts a file system of `sizeBytes` at `dir`; a string says why it could not. */
  static mount(dir: string, sizeBytes: number): FaultyDisk | string {
    mkdirSync(dir, { recursive: true });
    const backing = `${dir}-backing`;
    const image = join(backing, 'disk.img');
    const ext4 = attempt(() => {
      mkdirSync(backing, { recursive: true });
      run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes + 16 * 1024 * 1024}`, 'chaos-disk-backing', backing]);
      remember(backing);
      run('truncate', ['-s', String(sizeBytes), image]);
      run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
      run('mount', ['-o', 'loop,errors=remount-ro', image, dir]);
      remember(dir);
      const trigger = triggerPath(dir);
      if (!existsSync(trigger)) throw new Error(`${trigger} is missing`);
    });
    if (ext4 === undefined) return new FaultyDisk(dir, { image, backing }, undefined);
    // No ext4 on a loop device here: a tmpfs, which can fill up but not fail read-only.
    for (const path of [dir, backing]) if (mounted.delete(path)) unmount(path);
    const tmpfs = attempt(() => run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'chaos-disk', dir]));
    if (tmpfs !== undefined) return `mounting a tmpfs at ${dir} failed: ${tmpfs}`;
    remember(dir);
    return new FaultyDisk(dir, undefined, `ext4 on a loop device is not available here (${ext4})`);
  }

  /** Starts the fault. */
  fail(fault: DiskFault): void {
    if (fault === 'full') this.#fill();
    else {
      if (this.readOnlyUnavailable !== undefined) throw new Error(this.readOnlyUnavailable);
      execFileSync('sh', ['-c', `echo 1 > ${triggerPath(this.dir)}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
  }

  /** Ends the fault: the space back, or (with the disk's broker stopped: it holds files open) the file system checked and mounted writable again. */
  repair(fault: DiskFault): void {
    if (fault === 'full') {
      rmSync(join(this.dir, FILLER), { force: true });
      return;
    }
    const { image } = this.ext4!;
    run('umount', [this.dir]);
    // e2fsck exits 1 or 2 when it corrected the file system; 4 and up when it could not.
    try {
      execFileSync('e2fsck', ['-fy', image], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      const status = (error as { status?: number }).status ?? 8;
      if (status >= 4) throw new Error(`e2fsck of ${image} failed with exit code ${status}`);
    }
    run('mount', ['-o', 'loop,errors=remount-ro', image, this.dir]);
  }

  /** Fills the file system with one file until a write of even one block fails with ENOSPC. */
  #fill(): void {
    const fd = openSync(join(this.dir, FILLER), 'w');
    try {
      // ext4 refuses a whole write it cannot place: smaller and smaller writes take the rest.
      for (let size = 1 << 20; size >= statfsSync(this.dir).bsize; size >>= 2) {
        const chunk = Buffer.alloc(size);
        try {
          for (;;) writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  unmount(): void {
    if (mounted.delete(this.dir)) unmount(this.dir);
    if (this.ext4 !== undefined && mounted.delete(this.ext4.backing)) unmount(this.ext4.backing);
  }
}

/** ext4's sysfs switch that reports a file-system error (with errors=remount-ro: the file system turns read-only). */
function triggerPath(dir: string): string {
  const source = execFileSync('findmnt', ['-n', '-o', 'SOURCE', '--target', dir], { encoding: 'utf8' }).trim();
  return `/sys/fs/ext4/${basename(source)}/trigger_fs_error`;
}

/** Runs a command; its stderr in the error when it fails. */
function run(command: string, args: readonly string[]): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`${command} ${args.join(' ')}: ${stderr || (error instanceof Error ? error.message : String(error))}`);
  }
}

/** Undefined when `action` ran; otherwise why it failed. */
function attempt(action: () => void): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** A mount to undo when the process exits, whatever happens to the run. */
function remember(path: string): void {
  mounted.add(path);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    // Mounted on top of their backing tmpfs: the disks first.
    for (const path of [...mounted].reverse()) unmount(path);
  });
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    // Already gone.
  }
}
