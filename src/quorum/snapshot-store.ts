// The metadata log's snapshots on disk (KIP-630), beside the log's segments in
// `__cluster_metadata-0`: `<20-digit end offset>-<10-digit epoch>.checkpoint`, as Kafka names them.
// A snapshot this node takes is written whole to a `.checkpoint.writing` file, synced, and renamed
// into place (then the directory is synced), so a crash leaves either the complete snapshot or a
// temporary file that the next start removes. A follower fetching a snapshot from the leader fills
// a `.checkpoint.part` file the same way, chunk by chunk, and renames it once complete.
import type { FileHandle, FileSystem } from '../base/file-system.js';
import { joinPath, removeIfPresent } from '../base/file-system.js';
import type { Logger } from '../base/logger.js';
import type { OffsetAndEpoch } from './raft-log.js';

const SUFFIX = '.checkpoint';
/** A snapshot being fetched from the leader. */
const PARTIAL_SUFFIX = '.checkpoint.part';
/** A snapshot this node is writing itself (its own name: a fetch of the same id may be under way). */
const WRITING_SUFFIX = '.checkpoint.writing';
const NAME = /^(\d{20})-(\d{10})\.checkpoint$/;

export function snapshotFileName(id: OffsetAndEpoch): string {
  return `${String(id.offset).padStart(20, '0')}-${String(id.epoch).padStart(10, '0')}${SUFFIX}`;
}

export function sameSnapshot(a: OffsetAndEpoch | undefined, b: OffsetAndEpoch | undefined): boolean {
  return a !== undefined && b !== undefined && a.offset === b.offset && a.epoch === b.epoch;
}

/** A snapshot being received from the leader, chunk by chunk. */
export interface PartialSnapshot {
  readonly id: OffsetAndEpoch;
  /** Bytes received so far (the position of the next chunk). */
  readonly position: number;
}

export class SnapshotStore {
  /** Complete snapshots, oldest first. */
  #snapshots: OffsetAndEpoch[] = [];
  #partial: { id: OffsetAndEpoch; handle: FileHandle; position: number } | undefined;

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    private readonly logger: Logger,
  ) {}

  /** Lists the snapshots in `dir` and removes partial ones a crash left behind. */
  static async open(fs: FileSystem, dir: string, logger: Logger): Promise<SnapshotStore> {
    const store = new SnapshotStore(fs, dir, logger);
    for (const entry of await fs.readdir(dir)) {
      if (entry.isDirectory) continue;
      if (entry.name.endsWith(PARTIAL_SUFFIX) || entry.name.endsWith(WRITING_SUFFIX)) {
        logger.info('removing a partial snapshot', { file: entry.name });
        await removeIfPresent(fs, joinPath(dir, entry.name));
        continue;
      }
      const match = NAME.exec(entry.name);
      if (match) store.#snapshots.push({ offset: Number(match[1]), epoch: Number(match[2]) });
    }
    store.#snapshots.sort((a, b) => a.offset - b.offset);
    return store;
  }

  /** The newest complete snapshot, if any. */
  get latest(): OffsetAndEpoch | undefined {
    return this.#snapshots.at(-1);
  }

  has(id: OffsetAndEpoch): boolean {
    return this.#snapshots.some((snapshot) => sameSnapshot(snapshot, id));
  }

  /** The complete snapshot that ends at `offset`, if any. */
  endingAt(offset: number): OffsetAndEpoch | undefined {
    return this.#snapshots.find((snapshot) => snapshot.offset === offset);
  }

  /**
   * Writes a complete snapshot durably (nothing when one of that id is installed already: two
   * snapshots of one id hold the same committed state). A fetch of the same id under way is dropped.
   */
  async write(id: OffsetAndEpoch, bytes: Buffer): Promise<void> {
    if (this.has(id)) return;
    if (this.#partial && sameSnapshot(this.#partial.id, id)) await this.abandonPartial();
    const handle = await this.fs.open(this.#path(id, WRITING_SUFFIX), 'replace');
    try {
      await handle.write([bytes], 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.#install(id, WRITING_SUFFIX);
  }

  async size(id: OffsetAndEpoch): Promise<number> {
    return (await this.fs.stat(this.#path(id, SUFFIX))).size;
  }

  /** Up to `maxBytes` of the snapshot from `position` (FetchSnapshot). */
  async read(id: OffsetAndEpoch, position: number, maxBytes: number): Promise<Buffer> {
    const handle = await this.fs.open(this.#path(id, SUFFIX), 'read');
    try {
      const size = await handle.size();
      return await handle.read(position, Math.max(0, Math.min(maxBytes, size - position)));
    } finally {
      await handle.close();
    }
  }

  async readAll(id: OffsetAndEpoch): Promise<Buffer> {
    return this.fs.readFile(this.#path(id, SUFFIX));
  }

  /** The snapshot being fetched, if any. */
  get partial(): PartialSnapshot | undefined {
    return this.#partial && { id: this.#partial.id, position: this.#partial.position };
  }

  /**
   * Appends a fetched chunk at `position` of snapshot `id` (a new id starts over). Returns true
   * once `size` bytes have arrived and the snapshot is installed.
   */
  async receive(id: OffsetAndEpoch, position: number, chunk: Buffer, size: number): Promise<boolean> {
    if (this.#partial && !sameSnapshot(this.#partial.id, id)) await this.abandonPartial();
    // This node wrote that very snapshot itself meanwhile: it is here, complete.
    if (this.has(id)) {
      await this.abandonPartial();
      return true;
    }
    if (!this.#partial) {
      if (position !== 0) return false;
      this.#partial = { id, handle: await this.fs.open(this.#path(id, PARTIAL_SUFFIX), 'replace'), position: 0 };
    }
    const partial = this.#partial;
    if (position !== partial.position) return false;
    await partial.handle.write([chunk], position);
    partial.position += chunk.length;
    if (partial.position < size) return false;
    this.#partial = undefined;
    try {
      await partial.handle.sync();
    } finally {
      await partial.handle.close();
    }
    await this.#install(id, PARTIAL_SUFFIX);
    return true;
  }

  /** Drops a partly fetched snapshot (the leader moved on, or this node stops following). */
  async abandonPartial(): Promise<void> {
    const partial = this.#partial;
    if (!partial) return;
    this.#partial = undefined;
    await partial.handle.close();
    await removeIfPresent(this.fs, this.#path(partial.id, PARTIAL_SUFFIX));
  }

  /** Deletes every snapshot older than `id` (the log before `id` is gone, so are they). */
  async deleteBefore(id: OffsetAndEpoch): Promise<void> {
    const doomed = this.#snapshots.filter((snapshot) => snapshot.offset < id.offset);
    if (doomed.length === 0) return;
    this.#snapshots = this.#snapshots.filter((snapshot) => snapshot.offset >= id.offset);
    for (const snapshot of doomed) await removeIfPresent(this.fs, this.#path(snapshot, SUFFIX));
  }

  async close(): Promise<void> {
    const partial = this.#partial;
    this.#partial = undefined;
    await partial?.handle.close();
  }

  async #install(id: OffsetAndEpoch, from: string): Promise<void> {
    await this.fs.rename(this.#path(id, from), this.#path(id, SUFFIX));
    await this.fs.syncDirectory(this.dir);
    if (!this.has(id)) this.#snapshots.push(id);
    this.#snapshots.sort((a, b) => a.offset - b.offset);
    this.logger.info('snapshot installed', { endOffset: id.offset, epoch: id.epoch });
  }

  #path(id: OffsetAndEpoch, suffix: string): string {
    return joinPath(this.dir, snapshotFileName(id).replace(SUFFIX, suffix));
  }
}
