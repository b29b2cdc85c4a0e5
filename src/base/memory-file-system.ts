// An in-memory file system behind the file-system port: the broker's in-memory storage option and
// the disk that tests and simulations crash. It remembers what each file held at its last fsync, so
// `simulatePowerLoss()` can drop every unsynced write, and it can run out of space or fail on demand.
//
// Default model (deliberately simple): file contents are durable only once synced; directory
// operations (create, rename, unlink, mkdir) are durable at once, as on a journaling file system
// that orders metadata after data. A file created but never synced survives a power loss empty.
//
// Strict model (`strictPowerLoss: { seed }`), closer to what POSIX promises: a directory's entries
// (files and directories created, renamed, unlinked or removed in it) are durable only once that
// directory is synced, so a power loss before that undoes them (a created file vanishes, a renamed
// one returns to its old name, a deleted one comes back with its durable content); and unsynced
// file data survives page by page at random: each page holding unsynced bytes is kept, dropped
// (its durable bytes, or zeros past the durable end) or torn (a prefix of the new bytes, then the
// old ones), and the file ends at its durable or its current length. Every choice is a hash of
// the seed, the power loss's number, the path and the page, so a seed replays the same choices
// for the same files.
import {
  type DirectoryEntry,
  type FileHandle,
  FileSystemError,
  type FileStat,
  type FileSystem,
  type FileSystemSpace,
  type OpenMode,
} from './file-system.js';

export type MemoryFileOperation =
  | 'open'
  | 'read'
  | 'write'
  | 'truncate'
  | 'sync'
  | 'readFile'
  | 'writeFile'
  | 'rename'
  | 'unlink'
  | 'mkdir'
  | 'removeTree'
  | 'readdir'
  | 'stat'
  | 'syncDirectory'
  | 'space';

/** Returns an error code (ENOSPC, EIO, ...) to make `operation` on `path` fail, or undefined. */
export type FaultInjector = (operation: MemoryFileOperation, path: string) => string | undefined;

export interface MemoryFileSystemOptions {
  /** Keep a copy of synced content for power-loss simulation (doubles memory); default true. */
  trackDurability?: boolean;
  /** Total file bytes allowed before writes fail with ENOSPC; default unlimited. */
  capacityBytes?: number;
  /** The strict power-loss model (see the top of this file); default off. */
  strictPowerLoss?: StrictPowerLossOptions;
}

export interface StrictPowerLossOptions {
  /** Seeds every keep/drop/tear choice. */
  seed: number;
  /** The unit a power loss keeps, drops or tears; default 4096. */
  pageBytes?: number;
}

/** What a strict power loss did, for test diagnostics. */
export interface PowerLossReport {
  pagesKept: number;
  pagesDropped: number;
  pagesTorn: number;
  /** Directory entries that came back, vanished or changed because their directory was not synced. */
  entriesUndone: number;
}

/** A 32-bit hash of `text` mixed with `seed` (FNV-1a, then a murmur-style finaliser). */
function hash32(seed: number, text: string): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  return (hash ^ (hash >>> 16)) >>> 0;
}

class MemoryFile {
  readonly kind = 'file';
  data: Buffer = Buffer.alloc(0);
  length = 0;
  durable: Buffer = Buffer.alloc(0);
  durableLength = 0;
  /** Lowest byte position changed since the last sync. */
  dirtyFrom = Number.POSITIVE_INFINITY;

  content(): Buffer {
    return this.data.subarray(0, this.length);
  }

  ensureCapacity(length: number): void {
    if (length <= this.data.length) return;
    const grown = Buffer.alloc(Math.max(length, this.data.length * 2, 64));
    this.data.copy(grown, 0, 0, this.length);
    this.data = grown;
  }

  resize(length: number): void {
    this.ensureCapacity(length);
    if (length > this.length) this.data.fill(0, this.length, length);
    this.length = length;
  }

  markDirty(from: number): void {
    this.dirtyFrom = Math.min(this.dirtyFrom, from);
  }

  sync(): void {
    if (this.dirtyFrom === Number.POSITIVE_INFINITY && this.durableLength === this.length) return;
    const from = Math.min(this.dirtyFrom, this.durableLength, this.length);
    if (this.durable.length < this.length) {
      const grown = Buffer.alloc(Math.max(this.length, this.durable.length * 2));
      this.durable.copy(grown, 0, 0, Math.min(from, this.durableLength));
      this.durable = grown;
    }
    this.data.copy(this.durable, from, from, this.length);
    this.durableLength = this.length;
    this.dirtyFrom = Number.POSITIVE_INFINITY;
  }

  revertToDurable(): void {
    this.data = Buffer.from(this.durable.subarray(0, this.durableLength));
    this.length = this.durableLength;
    this.dirtyFrom = Number.POSITIVE_INFINITY;
  }

  /**
   * A strict power loss: the file ends at its durable or current length (`keepLength`), and each
   * page from the first unsynced byte on keeps `keptBytes(page)` bytes of new content from the
   * page's start (0: dropped, pageBytes: kept, between: torn), the rest being the durable bytes
   * (zeros past the durable end); past the current length there are no new bytes to keep. Below the first unsynced byte the file equals its durable copy.
   */
  surviveTorn(pageBytes: number, keepLength: boolean, keptBytes: (page: number) => number, report: PowerLossReport): void {
    const unsyncedFrom = Math.min(this.dirtyFrom, this.durableLength, this.length);
    if (unsyncedFrom === this.length && this.length === this.durableLength) return this.revertToDurable();
    const length = keepLength ? this.length : this.durableLength;
    const survived = Buffer.alloc(length);
    this.durable.copy(survived, 0, 0, Math.min(this.durableLength, length));
    for (let page = Math.floor(unsyncedFrom / pageBytes); page * pageBytes < length; page += 1) {
      const pageStart = page * pageBytes;
      const kept = keptBytes(page);
      if (kept === 0) report.pagesDropped += 1;
      else if (kept >= pageBytes) report.pagesKept += 1;
      else report.pagesTorn += 1;
      const from = Math.max(pageStart, unsyncedFrom);
      const to = Math.min(pageStart + kept, pageStart + pageBytes, length);
      // Past the current length there are no new bytes: an undone truncation leaves the old ones.
      if (from < Math.min(to, this.length)) this.data.copy(survived, from, from, Math.min(to, this.length));
    }
    this.data = survived;
    this.length = length;
    this.durable = Buffer.from(survived);
    this.durableLength = length;
    this.dirtyFrom = Number.POSITIVE_INFINITY;
  }
}

class MemoryDirectory {
  readonly kind = 'directory';
  children = new Map<string, MemoryNode>();
  /** Strict mode: the entries as of the last sync of this directory (what a power loss leaves). */
  durableChildren = new Map<string, MemoryNode>();
}

type MemoryNode = MemoryFile | MemoryDirectory;

function splitPath(path: string): string[] {
  return path.split('/').filter((part) => part.length > 0 && part !== '.');
}

function fail(code: string, operation: string, path: string): never {
  throw new FileSystemError(code, `${operation} '${path}'`);
}

export class MemoryFileSystem implements FileSystem {
  readonly #root = new MemoryDirectory();
  readonly #trackDurability: boolean;
  #capacityBytes: number;
  #usedBytes = 0;
  /** Bumped by a power loss; handles from an earlier generation are dead. */
  #generation = 0;
  #faultInjector: FaultInjector | undefined;
  readonly #strict: Required<StrictPowerLossOptions> | undefined;

  constructor(options: MemoryFileSystemOptions = {}) {
    this.#trackDurability = options.trackDurability ?? true;
    this.#capacityBytes = options.capacityBytes ?? Number.POSITIVE_INFINITY;
    const strict = options.strictPowerLoss;
    if (strict !== undefined) {
      if (!this.#trackDurability) throw new Error('the strict power-loss model needs trackDurability');
      const pageBytes = strict.pageBytes ?? 4096;
      if (!Number.isInteger(pageBytes) || pageBytes < 2) throw new Error(`pageBytes must be an integer of at least 2, not ${pageBytes}`);
      this.#strict = { seed: strict.seed, pageBytes };
    }
  }

  /** The strict model's seed, or undefined in the default model. */
  get strictSeed(): number | undefined {
    return this.#strict?.seed;
  }

  /**
   * The current content of every file under `directory` (as the page cache holds it, synced or
   * not), by path; taken synchronously, so a test can capture what was written at the instant of
   * a power cut.
   */
  snapshotFiles(directory = '/'): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    const node = this.#lookup(directory);
    const visit = (dir: MemoryDirectory, path: string) => {
      for (const [name, child] of dir.children) {
        const childPath = path === '/' ? `/${name}` : `${path}/${name}`;
        if (child.kind === 'file') files.set(childPath, Buffer.from(child.content()));
        else visit(child, childPath);
      }
    };
    if (node?.kind === 'directory') visit(node, `/${splitPath(directory).join('/')}`);
    return files;
  }

  /**
   * Overwrites the current content of a file in place, outside the port (no fault injection, no
   * durability tracking: the bytes become the durable content too). For tests that tamper with
   * what a power loss left.
   */
  tamperFile(path: string, content: Buffer): void {
    const file = this.#file(path, 'tamper');
    this.#usedBytes += content.length - file.length;
    file.data = Buffer.from(content);
    file.length = content.length;
    file.durable = Buffer.from(content);
    file.durableLength = content.length;
    file.dirtyFrom = Number.POSITIVE_INFINITY;
  }

  /** Bytes held by all files. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  setCapacityBytes(capacityBytes: number): void {
    this.#capacityBytes = capacityBytes;
  }

  setFaultInjector(injector: FaultInjector | undefined): void {
    this.#faultInjector = injector;
  }

  /** Drops every write not yet synced and invalidates every open handle, as a power cut would. */
  simulatePowerLoss(): PowerLossReport {
    if (!this.#trackDurability) throw new Error('power loss needs trackDurability');
    this.#generation += 1;
    this.#usedBytes = 0;
    const report: PowerLossReport = { pagesKept: 0, pagesDropped: 0, pagesTorn: 0, entriesUndone: 0 };
    if (this.#strict !== undefined) {
      this.#strictPowerLoss(this.#strict, report);
      return report;
    }
    this.#visitFiles(this.#root, (file) => {
      file.revertToDurable();
      this.#usedBytes += file.length;
    });
    return report;
  }

  #strictPowerLoss(strict: Required<StrictPowerLossOptions>, report: PowerLossReport): void {
    const { seed, pageBytes } = strict;
    const generation = this.#generation;
    const seen = new Set<MemoryFile>();
    const restore = (directory: MemoryDirectory, path: string) => {
      report.entriesUndone += countDifferences(directory.children, directory.durableChildren);
      directory.children = new Map(directory.durableChildren);
      for (const [name, child] of directory.children) {
        const childPath = `${path}/${name}`;
        if (child.kind === 'directory') {
          restore(child, childPath);
          continue;
        }
        // A file reachable under two names (a rename whose two directories were synced apart) is one file.
        if (seen.has(child)) continue;
        seen.add(child);
        const keepLength = hash32(seed, `${generation}:${childPath}:length`) % 2 === 0;
        child.surviveTorn(
          pageBytes,
          keepLength,
          (page) => {
            const choice = hash32(seed, `${generation}:${childPath}:${page}`);
            const kind = choice % 3;
            if (kind === 0) return pageBytes;
            if (kind === 1) return 0;
            return 1 + ((choice >>> 2) % (pageBytes - 1));
          },
          report,
        );
        this.#usedBytes += child.length;
      }
    };
    restore(this.#root, '');
  }

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    this.#inject('open', path);
    let file = this.#lookup(path);
    if (file === undefined) {
      if (mode !== 'create' && mode !== 'replace') fail('ENOENT', 'open', path);
      file = new MemoryFile();
      this.#attach(path, file, 'open');
    }
    if (file.kind !== 'file') fail('EISDIR', 'open', path);
    if (mode === 'replace') this.resizeFile(file, 0);
    return new MemoryFileHandle(this, path, file, mode === 'read', this.#generation);
  }

  async readFile(path: string): Promise<Buffer> {
    this.#inject('readFile', path);
    return Buffer.from(this.#file(path, 'readFile').content());
  }

  async writeFile(path: string, data: Buffer): Promise<void> {
    this.#inject('writeFile', path);
    let file = this.#lookup(path);
    if (file === undefined) {
      file = new MemoryFile();
      this.#attach(path, file, 'writeFile');
    }
    if (file.kind !== 'file') fail('EISDIR', 'writeFile', path);
    this.writeAt(file, [data], 0, path);
    this.resizeFile(file, data.length);
  }

  async rename(from: string, to: string): Promise<void> {
    this.#inject('rename', from);
    const [fromParent, fromName] = this.#parentOf(from, 'rename');
    const node = fromParent.children.get(fromName);
    if (node === undefined) fail('ENOENT', 'rename', from);
    const [toParent, toName] = this.#parentOf(to, 'rename');
    const existing = toParent.children.get(toName);
    if (existing !== undefined && existing.kind !== node.kind) fail(existing.kind === 'directory' ? 'EISDIR' : 'ENOTDIR', 'rename', to);
    if (existing?.kind === 'directory' && existing.children.size > 0) fail('ENOTEMPTY', 'rename', to);
    if (existing?.kind === 'file' && existing !== node) this.#usedBytes -= existing.length;
    fromParent.children.delete(fromName);
    toParent.children.set(toName, node);
  }

  async unlink(path: string): Promise<void> {
    this.#inject('unlink', path);
    const [parent, name] = this.#parentOf(path, 'unlink');
    const node = parent.children.get(name);
    if (node === undefined) fail('ENOENT', 'unlink', path);
    if (node.kind !== 'file') fail('EISDIR', 'unlink', path);
    parent.children.delete(name);
    this.#usedBytes -= node.length;
  }

  async mkdir(path: string): Promise<boolean> {
    this.#inject('mkdir', path);
    let directory = this.#root;
    let created = false;
    for (const part of splitPath(path)) {
      let child = directory.children.get(part);
      if (child === undefined) {
        child = new MemoryDirectory();
        directory.children.set(part, child);
        created = true;
      }
      if (child.kind !== 'directory') fail('ENOTDIR', 'mkdir', path);
      directory = child;
    }
    return created;
  }

  async removeTree(path: string): Promise<void> {
    this.#inject('removeTree', path);
    const parts = splitPath(path);
    const name = parts.pop();
    if (name === undefined) fail('EPERM', 'removeTree', path);
    const parent = this.#walk(parts);
    const node = parent?.kind === 'directory' ? parent.children.get(name) : undefined;
    if (parent?.kind !== 'directory' || node === undefined) return;
    parent.children.delete(name);
    if (node.kind === 'file') this.#usedBytes -= node.length;
    else this.#visitFiles(node, (file) => (this.#usedBytes -= file.length));
  }

  async readdir(path: string): Promise<DirectoryEntry[]> {
    this.#inject('readdir', path);
    const node = this.#lookup(path);
    if (node === undefined) fail('ENOENT', 'readdir', path);
    if (node.kind !== 'directory') fail('ENOTDIR', 'readdir', path);
    return [...node.children].map(([name, child]) => ({ name, isDirectory: child.kind === 'directory' }));
  }

  async stat(path: string): Promise<FileStat> {
    this.#inject('stat', path);
    const node = this.#lookup(path);
    if (node === undefined) fail('ENOENT', 'stat', path);
    return { size: node.kind === 'file' ? node.length : 0, isDirectory: node.kind === 'directory' };
  }

  async syncDirectory(path: string): Promise<void> {
    this.#inject('syncDirectory', path);
    const node = this.#lookup(path);
    if (node === undefined) fail('ENOENT', 'syncDirectory', path);
    if (this.#strict !== undefined && node.kind === 'directory') node.durableChildren = new Map(node.children);
  }

  /**
   * The capacity (`capacityBytes`, `setCapacityBytes`) as the total and what the files leave of it
   * as the usable bytes; -1n for both without a capacity (it then never runs out of space).
   */
  async space(path: string): Promise<FileSystemSpace> {
    this.#inject('space', path);
    if (this.#lookup(path) === undefined) fail('ENOENT', 'space', path);
    if (!Number.isFinite(this.#capacityBytes)) return { totalBytes: -1n, usableBytes: -1n };
    const capacity = Math.max(0, Math.floor(this.#capacityBytes));
    return { totalBytes: BigInt(capacity), usableBytes: BigInt(Math.max(0, capacity - this.#usedBytes)) };
  }

  /** Used by handles: copies `buffers` into `file` at `position`, enforcing capacity. */
  writeAt(file: MemoryFile, buffers: readonly Buffer[], position: number, path: string): void {
    const length = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
    const end = position + length;
    const growth = Math.max(0, end - file.length);
    if (this.#usedBytes + growth > this.#capacityBytes) fail('ENOSPC', 'write', path);
    if (end > file.length) this.resizeFile(file, end);
    let offset = position;
    for (const buffer of buffers) {
      buffer.copy(file.data, offset);
      offset += buffer.length;
    }
    if (this.#trackDurability) file.markDirty(position);
  }

  resizeFile(file: MemoryFile, length: number): void {
    this.#usedBytes += length - file.length;
    file.resize(length);
    if (this.#trackDurability) file.markDirty(length);
  }

  syncFile(file: MemoryFile): void {
    if (this.#trackDurability) file.sync();
  }

  checkGeneration(generation: number, path: string): void {
    if (generation !== this.#generation) fail('EIO', 'handle lost in power loss', path);
  }

  inject(operation: MemoryFileOperation, path: string): void {
    this.#inject(operation, path);
  }

  #inject(operation: MemoryFileOperation, path: string): void {
    const code = this.#faultInjector?.(operation, path);
    if (code !== undefined) fail(code, `injected fault on ${operation}`, path);
  }

  #walk(parts: readonly string[]): MemoryNode | undefined {
    let node: MemoryNode = this.#root;
    for (const part of parts) {
      if (node.kind !== 'directory') return undefined;
      const child: MemoryNode | undefined = node.children.get(part);
      if (child === undefined) return undefined;
      node = child;
    }
    return node;
  }

  #lookup(path: string): MemoryNode | undefined {
    return this.#walk(splitPath(path));
  }

  #file(path: string, operation: string): MemoryFile {
    const node = this.#lookup(path);
    if (node === undefined) fail('ENOENT', operation, path);
    if (node.kind !== 'file') fail('EISDIR', operation, path);
    return node;
  }

  #parentOf(path: string, operation: string): [MemoryDirectory, string] {
    const parts = splitPath(path);
    const name = parts.pop();
    if (name === undefined) fail('EPERM', operation, path);
    const parent = this.#walk(parts);
    if (parent === undefined) fail('ENOENT', operation, path);
    if (parent.kind !== 'directory') fail('ENOTDIR', operation, path);
    return [parent, name];
  }

  #attach(path: string, node: MemoryNode, operation: string): void {
    const [parent, name] = this.#parentOf(path, operation);
    parent.children.set(name, node);
  }

  #visitFiles(directory: MemoryDirectory, visit: (file: MemoryFile) => void): void {
    for (const child of directory.children.values()) {
      if (child.kind === 'file') visit(child);
      else this.#visitFiles(child, visit);
    }
  }
}

/** Entries whose name or node differ between two versions of a directory. */
function countDifferences(current: ReadonlyMap<string, MemoryNode>, durable: ReadonlyMap<string, MemoryNode>): number {
  let differences = 0;
  for (const [name, node] of current) if (durable.get(name) !== node) differences += 1;
  for (const name of durable.keys()) if (!current.has(name)) differences += 1;
  return differences;
}

class MemoryFileHandle implements FileHandle {
  readonly path: string;
  readonly #fs: MemoryFileSystem;
  readonly #file: MemoryFile;
  readonly #readOnly: boolean;
  readonly #generation: number;
  #closed = false;

  constructor(fs: MemoryFileSystem, path: string, file: MemoryFile, readOnly: boolean, generation: number) {
    this.#fs = fs;
    this.path = path;
    this.#file = file;
    this.#readOnly = readOnly;
    this.#generation = generation;
  }

  async read(position: number, length: number, into?: Buffer): Promise<Buffer> {
    this.#check('read');
    const end = Math.min(this.#file.length, position + length);
    if (end <= position) return Buffer.alloc(0);
    if (into === undefined) return Buffer.from(this.#file.data.subarray(position, end));
    this.#file.data.copy(into, 0, position, end);
    return into.subarray(0, end - position);
  }

  async write(buffers: readonly Buffer[], position: number): Promise<void> {
    this.#checkWritable('write');
    this.#fs.writeAt(this.#file, buffers, position, this.path);
  }

  async truncate(length: number): Promise<void> {
    this.#checkWritable('truncate');
    this.#fs.resizeFile(this.#file, length);
  }

  async size(): Promise<number> {
    this.#check('size');
    return this.#file.length;
  }

  async sync(): Promise<void> {
    this.#check('sync');
    this.#fs.inject('sync', this.path);
    this.#fs.syncFile(this.#file);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #check(operation: MemoryFileOperation | 'size'): void {
    if (this.#closed) fail('EBADF', operation, this.path);
    this.#fs.checkGeneration(this.#generation, this.path);
    if (operation === 'read') this.#fs.inject('read', this.path);
  }

  #checkWritable(operation: 'write' | 'truncate'): void {
    this.#check(operation);
    if (this.#readOnly) fail('EBADF', operation, this.path);
    this.#fs.inject(operation, this.path);
  }
}
