// The cleaner-offset-checkpoint file of a log dir, in Kafka's format (version, count, then
// `topic partition offset` lines): for each compacted log, the offset where its dirty part
// begins. Everything below it was cleaned by an earlier pass.
import { type FileSystem, joinPath } from '../../base/file-system.js';
import type { Logger } from '../../base/logger.js';
import { readOffsetCheckpoint, writeOffsetCheckpoint } from '../checkpoint-file.js';
import { CLEANER_OFFSET_CHECKPOINT_FILE, partitionDirName } from '../log-file-names.js';
import { SerialQueue } from '../serial-queue.js';

interface Entry {
  readonly topic: string;
  readonly partition: number;
  offset: number;
}

export class CleanerCheckpoint {
  readonly path: string;
  readonly #fs: FileSystem;
  readonly #entries = new Map<string, Entry>();
  readonly #writes = new SerialQueue();

  private constructor(fs: FileSystem, dataDir: string) {
    this.#fs = fs;
    this.path = joinPath(dataDir, CLEANER_OFFSET_CHECKPOINT_FILE);
  }

  /** Reads the file; a missing or corrupt one (warned) means every log starts dirty from its start. */
  static async load(fs: FileSystem, dataDir: string, logger: Logger): Promise<CleanerCheckpoint> {
    const checkpoint = new CleanerCheckpoint(fs, dataDir);
    for (const entry of (await readOffsetCheckpoint(fs, checkpoint.path, logger)) ?? []) {
      checkpoint.#entries.set(partitionDirName(entry.topic, entry.partition), { ...entry });
    }
    return checkpoint;
  }

  /** The first dirty offset recorded for the log, or undefined if it was never cleaned. */
  get(topic: string, partition: number): number | undefined {
    return this.#entries.get(partitionDirName(topic, partition))?.offset;
  }

  /** Records a new first dirty offset and rewrites the file atomically. */
  update(topic: string, partition: number, offset: number): Promise<void> {
    this.#entries.set(partitionDirName(topic, partition), { topic, partition, offset });
    return this.#write();
  }

  /** Forgets a deleted log. */
  remove(topic: string, partition: number): Promise<void> {
    if (!this.#entries.delete(partitionDirName(topic, partition))) return Promise.resolve();
    return this.#write();
  }

  #write(): Promise<void> {
    return this.#writes.run(() => writeOffsetCheckpoint(this.#fs, this.path, [...this.#entries.values()]));
  }
}
