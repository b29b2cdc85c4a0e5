// The file-system port (DESIGN.md decision 7): the only way domain code touches files, so tests and
// simulations can swap in an in-memory disk that loses unsynced writes or runs out of space.
// Paths are POSIX-style strings joined with `joinPath`; errors carry Node-style `code` strings.

/**
 * How `open` treats the file: 'read' and 'readWrite' need it to exist, 'create' makes it if
 * missing, 'replace' also empties it if present (O_TRUNC: one call, where a truncate is another).
 */
export type OpenMode = 'read' | 'readWrite' | 'create' | 'replace';

export interface FileHandle {
  readonly path: string;
  /**
   * Up to `length` bytes from `position`; fewer only at end of file. With `into` (at least `length`
   * bytes long) the bytes land there and a view of it is returned instead of a new buffer.
   */
  read(position: number, length: number, into?: Buffer): Promise<Buffer>;
  /** Writes every byte of `buffers`, back to back, starting at `position` (a gathered write). */
  write(buffers: readonly Buffer[], position: number): Promise<void>;
  /** Shrinks (or zero-extends) the file to `length` bytes. */
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  /** Makes the file's data durable (fsync). Until then a power loss may drop it. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface DirectoryEntry {
  readonly name: string;
  readonly isDirectory: boolean;
}

export interface FileStat {
  readonly size: number;
  readonly isDirectory: boolean;
}

/**
 * The space of the file system (volume) holding a path, as Java's FileStore reports it; -1n:
 * unknown. Bigints: a volume's byte count may pass 2^53, and the protocol carries int64s.
 */
export interface FileSystemSpace {
  /** Its size in bytes (statfs: blocks × block size). */
  readonly totalBytes: bigint;
  /** The bytes an unprivileged writer can still use (statfs: available blocks × block size). */
  readonly usableBytes: bigint;
}

export interface FileSystem {
  open(path: string, mode: OpenMode): Promise<FileHandle>;
  readFile(path: string): Promise<Buffer>;
  /** Creates or replaces the file's content; not durable until synced. */
  writeFile(path: string, data: Buffer): Promise<void>;
  /** Moves a file or directory, replacing a file already at `to`. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file. */
  unlink(path: string): Promise<void>;
  /**
   * Creates a directory and any missing parents; succeeds if it already exists. Resolves true when
   * this call created it (a new directory holds nothing to read).
   */
  mkdir(path: string): Promise<boolean>;
  /** Removes a directory and everything under it; succeeds if it is already gone. */
  removeTree(path: string): Promise<void>;
  readdir(path: string): Promise<DirectoryEntry[]>;
  /** Throws a FileSystemError with code 'ENOENT' when nothing is at `path`. */
  stat(path: string): Promise<FileStat>;
  /** Makes a directory's entries (created, renamed, removed files) durable. */
  syncDirectory(path: string): Promise<void>;
  /** The space of the file system holding `path` (statfs); ENOENT when nothing is at `path`. */
  space(path: string): Promise<FileSystemSpace>;
}

/** The failure every implementation throws: `code` uses Node's names (ENOENT, ENOSPC, EIO, ...). */
export class FileSystemError extends Error {
  override name = 'FileSystemError';
  readonly code: string;

  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function isNotFoundError(error: unknown): boolean {
  return errorCodeOf(error) === 'ENOENT';
}

export function joinPath(...parts: string[]): string {
  return parts.filter((part) => part.length > 0).join('/').replace(/\/{2,}/g, '/');
}

/** The directory part of `path` ('.' when there is none). */
export function parentPath(path: string): string {
  const index = path.replace(/\/+$/, '').lastIndexOf('/');
  if (index < 0) return '.';
  return index === 0 ? '/' : path.slice(0, index);
}

/**
 * Creates directory `path` and any missing parents so that they survive a power loss: a new
 * directory's entry is durable only once the directory holding it is synced, so each directory
 * that gained an entry is synced. Resolves true when this call created `path`.
 */
export async function makeDirectoryDurably(fs: FileSystem, path: string): Promise<boolean> {
  // A directory already there needs nothing more (a start on an existing data directory): no mkdir
  // after the stat, one round trip to the file system's threads fewer. Anything else at `path` is
  // left to mkdir, which refuses it.
  const found = await statIfPresent(fs, path);
  if (found?.isDirectory === true) return false;
  const missing: string[] = [];
  if (found === undefined) {
    for (let directory = path; ; directory = parentPath(directory)) {
      missing.push(directory);
      const parent = parentPath(directory);
      if (parent === directory || (await pathExists(fs, parent))) break;
    }
  }
  const created = await fs.mkdir(path);
  // The parents of the created directories, deepest last; each holds a new entry.
  for (const directory of missing.reverse()) await fs.syncDirectory(parentPath(directory));
  return created;
}

/** Removes the file at `path`; one that is already gone is fine. */
export async function removeIfPresent(fs: FileSystem, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (error) {
    if (!isNotFoundError(error)) throw error;
  }
}

/** Whether `path` exists (file or directory). */
export async function pathExists(fs: FileSystem, path: string): Promise<boolean> {
  return (await statIfPresent(fs, path)) !== undefined;
}

/** What is at `path`, or undefined when nothing is. */
async function statIfPresent(fs: FileSystem, path: string): Promise<FileStat | undefined> {
  try {
    return await fs.stat(path);
  } catch (error) {
    if (isNotFoundError(error)) return undefined;
    throw error;
  }
}

/**
 * Replaces `path` with `data` so that a crash leaves either the old or the new content: write a
 * temporary file, fsync it, rename it over the target, then fsync the directory. Five round trips
 * to the file system's threads in a row: checkpoints and meta.properties lie on the paths of a
 * broker's first start and of a leader's first append, so none is spent that order does not need.
 */
export async function writeFileAtomically(fs: FileSystem, path: string, data: Buffer): Promise<void> {
  const temporaryPath = `${path}.tmp`;
  const handle = await fs.open(temporaryPath, 'replace');
  try {
    await handle.write([data], 0);
    await handle.sync();
  } catch (error) {
    await handle.close();
    throw error;
  }
  // The temporary file is complete and durable: closing it and renaming it are independent.
  await Promise.all([handle.close(), fs.rename(temporaryPath, path)]);
  await fs.syncDirectory(parentPath(path));
}
