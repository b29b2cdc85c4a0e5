// A file system for tests that need a replica's move between log directories to stay under way:
// test/integration/log-dirs.test.ts (AlterReplicaLogDirs replacing or cancelling a move) and
// test/integration/reassign-partitions-cli.test.ts (--cancel calling a move back).
import type { FileHandle, FileSystem, OpenMode } from '../../src/base/file-system.js';
import type { MemoryFileSystem } from '../../src/base/memory-file-system.js';

/**
 * A memory file system whose writes into a move's copy (a `-future` directory) in `holdIn` wait
 * until `release()`: a copy to that directory stays under way for as long as a test needs.
 */
export class HeldCopies implements FileSystem {
  #holdIn: string | undefined;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly inner: MemoryFileSystem) {}

  hold(logDir: string): void {
    this.#holdIn = `${logDir}/`;
  }

  release(): void {
    this.#holdIn = undefined;
    for (const resume of this.#waiting.splice(0)) resume();
  }

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    const handle = await this.inner.open(path, mode);
    if (!path.includes('-future/')) return handle;
    return {
      path: handle.path,
      read: (position, length, into) => handle.read(position, length, into),
      write: async (buffers, position) => {
        while (this.#holdIn !== undefined && path.startsWith(this.#holdIn)) await new Promise<void>((resume) => this.#waiting.push(resume));
        return handle.write(buffers, position);
      },
      truncate: (length) => handle.truncate(length),
      size: () => handle.size(),
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  }

  readFile = (path: string) => this.inner.readFile(path);
  writeFile = (path: string, data: Buffer) => this.inner.writeFile(path, data);
  rename = (from: string, to: string) => this.inner.rename(from, to);
  unlink = (path: string) => this.inner.unlink(path);
  mkdir = (path: string) => this.inner.mkdir(path);
  removeTree = (path: string) => this.inner.removeTree(path);
  readdir = (path: string) => this.inner.readdir(path);
  stat = (path: string) => this.inner.stat(path);
  syncDirectory = (path: string) => this.inner.syncDirectory(path);
  space = (path: string) => this.inner.space(path);
}
