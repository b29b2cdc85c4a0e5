// Source offsets: for each connector and source partition ({ "filename": ... }), the last offset
// ({ "position": ... }) whose records Kafka acknowledged. Keys are Kafka Connect's: the JSON array
// [connector, partition]. The standalone worker keeps them in `offset.storage.file.filename`,
// rewritten whole and renamed into place on each flush (so a crash leaves the old or the new
// file, never half of one); the distributed worker will keep them in its offsets topic.
import { readFile, rename, writeFile, open } from 'node:fs/promises';
import type { OffsetStorageReader } from '../api/connector.js';

export type SourcePartition = Readonly<Record<string, unknown>>;
export type SourceOffset = Readonly<Record<string, unknown>>;

export interface OffsetEntry {
  readonly connector: string;
  readonly partition: SourcePartition;
  /** null removes the partition's offset. */
  readonly offset: SourceOffset | null;
}

export interface OffsetStore {
  get(connector: string, partition: SourcePartition): SourceOffset | null;
  /** Every stored partition and offset of `connector`. */
  connectorOffsets(connector: string): { partition: SourcePartition; offset: SourceOffset }[];
  /** Stores `entries` durably; resolves once they would survive a crash. */
  set(entries: readonly OffsetEntry[]): Promise<void>;
}

/** JSON with object keys sorted, so equal partitions give equal keys. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return Number(item);
    if (item && typeof item === 'object' && !Array.isArray(item) && !Buffer.isBuffer(item)) {
      return Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return item;
  });
}

/** Kafka Connect's offset key: the JSON array [connector, partition]. */
export function offsetKey(connector: string, partition: SourcePartition): string {
  return canonicalJson([connector, partition]);
}

export class FileOffsetStore implements OffsetStore {
  private readonly offsets = new Map<string, { connector: string; partition: SourcePartition; offset: SourceOffset }>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string) {}

  /** The store in `path`, with the offsets the file holds (none when it does not exist). */
  static async open(path: string): Promise<FileOffsetStore> {
    const store = new FileOffsetStore(path);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`offset.storage.file.filename: cannot read ${path}: ${(error as Error).message}`);
    }
    if (text !== undefined && text.trim() !== '') {
      let parsed: { offsets?: [string, SourceOffset][] };
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch (error) {
        throw new Error(`offset.storage.file.filename: ${path} is not a Conveyor offsets file (${(error as Error).message})`);
      }
      for (const [key, offset] of parsed.offsets ?? []) {
        const [connector, partition] = JSON.parse(key) as [string, SourcePartition];
        store.offsets.set(key, { connector, partition, offset });
      }
    }
    return store;
  }

  get(connector: string, partition: SourcePartition): SourceOffset | null {
    return this.offsets.get(offsetKey(connector, partition))?.offset ?? null;
  }

  connectorOffsets(connector: string): { partition: SourcePartition; offset: SourceOffset }[] {
    return [...this.offsets.values()].filter((entry) => entry.connector === connector).map(({ partition, offset }) => ({ partition, offset }));
  }

  set(entries: readonly OffsetEntry[]): Promise<void> {
    for (const { connector, partition, offset } of entries) {
      const key = offsetKey(connector, partition);
      if (offset === null) this.offsets.delete(key);
      else this.offsets.set(key, { connector, partition, offset });
    }
    // Writes go one after another; each writes everything known when it starts.
    this.writing = this.writing.then(() => this.write(), () => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    const body = JSON.stringify({ version: 1, offsets: [...this.offsets].map(([key, entry]) => [key, entry.offset]) }, (_key, item: unknown) => (typeof item === 'bigint' ? Number(item) : item));
    const temporary = `${this.path}.tmp`;
    await writeFile(temporary, body);
    const handle = await open(temporary, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.path);
  }
}

/** A connector's view of the store, for its tasks' OffsetStorageReader. */
export function offsetReader(store: OffsetStore, connector: string): OffsetStorageReader {
  return {
    offset: async (partition) => {
      const offset = store.get(connector, partition);
      return offset === null ? null : { ...offset };
    },
    offsets: async (partitions) => new Map(partitions.map((partition) => {
      const offset = store.get(connector, partition);
      return [partition, offset === null ? null : { ...offset }];
    })),
  };
}
