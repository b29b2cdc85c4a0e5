// The real file system behind the file-system port, on node:fs/promises. Only src/node wires it in.
import { constants, promises as fsp } from 'node:fs';
import type { DirectoryEntry, FileHandle, FileStat, FileSystem, FileSystemSpace, OpenMode } from '../base/file-system.js';

const openFlags: Record<OpenMode, number> = {
  read: constants.O_RDONLY,
  readWrite: constants.O_RDWR,
  create: constants.O_RDWR | constants.O_CREAT,
  replace: constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC,
};

class NodeFileHandle implements FileHandle {
  readonly path: string;
  readonly #handle: fsp.FileHandle;

  constructor(path: string, handle: fsp.FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  async read(position: number, length: number, into?: Buffer): Promise<Buffer> {
    const buffer = into === undefined ? Buffer.allocUnsafe(length) : into.subarray(0, length);
    let filled = 0;
    // A regular file may return short reads; keep going until end of file.
    while (filled < length) {
      const { bytesRead } = await this.#handle.read(buffer, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === length ? buffer : buffer.subarray(0, filled);
  }

  async write(buffers: readonly Buffer[], position: number): Promise<void> {
    let pending = buffers.filter((buffer) => buffer.length > 0);
    let offset = position;
    // writev may stop early (IOV_MAX, signals); resubmit what is left.
    while (pending.length > 0) {
      const { bytesWritten } = await this.#handle.writev(pending, offset);
      offset += bytesWritten;
      pending = dropWrittenBytes(pending, bytesWritten);
    }
  }

  async truncate(length: number): Promise<void> {
    await this.#handle.truncate(length);
  }

  async size(): Promise<number> {
    return (await this.#handle.stat()).size;
  }

  async sync(): Promise<void> {
    await this.#handle.sync();
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

function dropWrittenBytes(buffers: Buffer[], written: number): Buffer[] {
  let remaining = written;
  const rest: Buffer[] = [];
  for (const buffer of buffers) {
    if (remaining >= buffer.length) {
      remaining -= buffer.length;
      continue;
    }
    rest.push(remaining > 0 ? buffer.subarray(remaining) : buffer);
    remaining = 0;
  }
  return rest;
}

export class NodeFileSystem implements FileSystem {
  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    return new NodeFileHandle(path, await fsp.open(path, openFlags[mode], 0o644));
  }

  readFile(path: string): Promise<Buffer> {
    return fsp.readFile(path);
  }

  writeFile(path: string, data: Buffer): Promise<void> {
    return fsp.writeFile(path, data);
  }

  rename(from: string, to: string): Promise<void> {
    return fsp.rename(from, to);
  }

  unlink(path: string): Promise<void> {
    return fsp.unlink(path);
  }

  async mkdir(path: string): Promise<boolean> {
    // Resolves with the first directory it made, or undefined when `path` already existed.
    return (await fsp.mkdir(path, { recursive: true })) !== undefined;
  }

  removeTree(path: string): Promise<void> {
    return fsp.rm(path, { recursive: true, force: true });
  }

  async readdir(path: string): Promise<DirectoryEntry[]> {
    const entries = await fsp.readdir(path, { withFileTypes: true });
    return entries.map((entry) => ({ name: entry.name, isDirectory: entry.isDirectory() }));
  }

  async stat(path: string): Promise<FileStat> {
    const stats = await fsp.stat(path);
    return { size: stats.size, isDirectory: stats.isDirectory() };
  }

  async syncDirectory(path: string): Promise<void> {
    const handle = await fsp.open(path, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      // A directory's descriptor has nothing left to write: its close need not be waited for, which
      // saves a round trip to the thread pool on every atomic file write.
      handle.close().catch(() => {});
    }
  }

  async space(path: string): Promise<FileSystemSpace> {
    const stats = await fsp.statfs(path, { bigint: true });
    return { totalBytes: stats.blocks * stats.bsize, usableBytes: stats.bavail * stats.bsize };
  }
}
