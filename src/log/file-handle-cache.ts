// Open file handles shared by every partition log, bounded by an LRU so ten thousand partitions do
// not hold ten thousand descriptors. A handle is pinned while an operation uses it and is closed
// only once unpinned, so eviction never pulls a file out from under a read or write.
import type { FileHandle, FileSystem, OpenMode } from '../base/file-system.js';
import type { Logger } from '../base/logger.js';

interface CachedHandle {
  readonly opening: Promise<FileHandle>;
  pins: number;
  /** Evicted or invalidated: close as soon as the last pin goes. */
  retired: boolean;
}

export class FileHandleCache {
  readonly #fs: FileSystem;
  readonly #maxOpen: number;
  readonly #logger: Logger;
  /** Map order is LRU order: the first entry is the least recently used. */
  readonly #handles = new Map<string, CachedHandle>();
  readonly #closing = new Set<Promise<void>>();

  constructor(fs: FileSystem, maxOpen: number, logger: Logger) {
    this.#fs = fs;
    this.#maxOpen = Math.max(1, maxOpen);
    this.#logger = logger;
  }

  get openCount(): number {
    return this.#handles.size;
  }

  /** Runs `operation` with an open handle for `path` (opened with `mode` if not already open). */
  async use<T>(path: string, mode: OpenMode, operation: (handle: FileHandle) => Promise<T>): Promise<T> {
    const entry = this.#acquire(path, mode);
    try {
      const handle = await entry.opening;
      return await operation(handle);
    } finally {
      entry.pins -= 1;
      if (entry.retired && entry.pins === 0) this.#close(entry);
      // Handles opened while every other one was pinned go once their operations end.
      else this.#evictBeyondLimit();
    }
  }

  /** Closes the handle for `path`, if open (before deleting or renaming the file). */
  async invalidate(path: string): Promise<void> {
    const entry = this.#handles.get(path);
    if (entry !== undefined) this.#retire(path, entry);
    await this.drain();
  }

  /** Closes every handle whose path starts with `prefix` (a directory about to move or go). */
  async invalidateUnder(prefix: string): Promise<void> {
    for (const [path, entry] of [...this.#handles]) {
      if (path.startsWith(prefix)) this.#retire(path, entry);
    }
    await this.drain();
  }

  async closeAll(): Promise<void> {
    await this.invalidateUnder('');
  }

  /** Waits for closes already started. */
  async drain(): Promise<void> {
    while (this.#closing.size > 0) await Promise.all([...this.#closing]);
  }

  #acquire(path: string, mode: OpenMode): CachedHandle {
    let entry = this.#handles.get(path);
    if (entry === undefined) {
      entry = { opening: this.#fs.open(path, mode), pins: 0, retired: false };
      const opened = entry;
      // A failed open must not stay cached; the caller sees the error through `use`.
      opened.opening.catch(() => {
        if (this.#handles.get(path) === opened) this.#handles.delete(path);
      });
      this.#handles.set(path, entry);
    } else {
      this.#handles.delete(path);
      this.#handles.set(path, entry);
    }
    // Pinned before evicting: when every other handle is pinned, the one just opened must not be
    // the one eviction picks (it would be closed under its first operation).
    entry.pins += 1;
    this.#evictBeyondLimit();
    return entry;
  }

  #evictBeyondLimit(): void {
    if (this.#handles.size <= this.#maxOpen) return;
    for (const [path, entry] of this.#handles) {
      if (this.#handles.size <= this.#maxOpen) break;
      if (entry.pins === 0) this.#retire(path, entry);
    }
  }

  #retire(path: string, entry: CachedHandle): void {
    this.#handles.delete(path);
    entry.retired = true;
    if (entry.pins === 0) this.#close(entry);
  }

  #close(entry: CachedHandle): void {
    const closing = entry.opening
      .then((handle) => handle.close())
      .catch((error: unknown) => {
        // An open that failed has nothing to close; a failed close is worth a line, not a crash.
        if (error !== undefined) this.#logger.debug('file handle close failed', { error });
      })
      .finally(() => this.#closing.delete(closing));
    this.#closing.add(closing);
  }
}
