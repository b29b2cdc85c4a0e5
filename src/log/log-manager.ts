// Every partition log in one data directory: loads them at startup (recovering after an unclean
// shutdown), creates and deletes logs, and owns the log-dir files: the recovery-point,
// log-start-offset and replication-offset checkpoints and the clean-shutdown marker. It also runs
// the background work over all logs: the retention scheduler and the log cleaner.
import { forEachBounded } from '../base/bounded.js';
import type { Clock } from '../base/clock.js';
import { ErrorCode } from '../base/error-codes.js';
import { type FileSystem, isNotFoundError, joinPath, makeDirectoryDurably, pathExists } from '../base/file-system.js';
import { KafkaError } from '../base/kafka-error.js';
import type { Logger } from '../base/logger.js';
import { type PartitionOffset, readOffsetCheckpoint, writeOffsetCheckpoint } from './checkpoint-file.js';
import { CleanerCheckpoint } from './cleaner/cleaner-checkpoint.js';
import { LogCleaner } from './cleaner/log-cleaner.js';
import { FileHandleCache } from './file-handle-cache.js';
import { type LogConfig, resolveLogConfig } from './log-config.js';
import {
  CLEAN_SHUTDOWN_FILE,
  deletedDirName,
  isDeletedDirName,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  partitionDirName,
  parsePartitionDirName,
  RECOVERY_POINT_CHECKPOINT_FILE,
  REPLICATION_OFFSET_CHECKPOINT_FILE,
  type TopicPartition,
} from './log-file-names.js';
import { OPEN_FILE_HANDLES_MAX, OPEN_PARTITIONS_CONCURRENCY, TAIL_CACHE_BYTES_TOTAL } from './log-limits.js';
import { PartitionLog, type PartitionLogContext } from './partition-log.js';
import { RetentionScheduler } from './retention.js';
import { SerialQueue } from './serial-queue.js';
import { TailCacheBudget } from './tail-cache.js';

/** log.flush.offset.checkpoint.interval.ms: how often the log-dir checkpoints are rewritten. */
export const CHECKPOINT_INTERVAL_MS_DEFAULT = 60_000;

export interface LogManagerOptions {
  readonly fs: FileSystem;
  readonly dataDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Broker-level defaults (log.segment.bytes, ...) for every log. */
  readonly defaults: LogConfig;
  /** Topic-level overrides applied when existing logs are loaded at startup. */
  readonly configFor?: (topic: string) => Partial<LogConfig> | undefined;
  readonly openFileHandlesMax?: number;
  readonly tailCacheBytes?: number;
  readonly openConcurrency?: number;
  /** Infinity disables the periodic checkpoint (close and flushAll still write them). */
  readonly checkpointIntervalMs?: number;
  /** log.retention.check.interval.ms; Infinity disables the timer (`retention.checkNow()` still works). */
  readonly retentionCheckIntervalMs?: number;
  readonly cleaner?: LogCleanerSettings;
  /**
   * Start retention and the cleaner in open() (the default). The broker passes false and calls
   * startBackgroundWork() once topic configs are applied, so no log is judged by broker defaults.
   */
  readonly startBackgroundWork?: boolean;
}

export interface LogCleanerSettings {
  /** log.cleaner.enable (default true). */
  readonly enabled?: boolean;
  /** log.cleaner.dedupe.buffer.size. */
  readonly dedupeBufferBytes?: number;
  /** log.cleaner.backoff.ms. */
  readonly backoffMs?: number;
  /** Replaces setImmediate between cleaner steps (deterministic tests). */
  readonly yieldToEventLoop?: () => Promise<void>;
}

type Checkpoints = Map<string, number>;

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

export class LogManager {
  readonly dataDir: string;
  /** Whether the previous run closed cleanly (no recovery was needed). */
  readonly hadCleanShutdown: boolean;
  /**
   * The broker epoch the previous run recorded in its clean shutdown marker (Kafka's
   * `{"version":0,"brokerEpoch":N}`), or -1: not clean, or no epoch (a single node, an older marker).
   * A broker registers with it, so the controller can tell an unclean shutdown (KIP-966).
   */
  readonly previousBrokerEpoch: number;
  readonly #options: LogManagerOptions;
  readonly #context: PartitionLogContext;
  readonly #logs = new Map<string, PartitionLog>();
  /** Whether any log-dir checkpoint read at open named a partition (stale entries must be rewritten). */
  #checkpointEntriesFound = false;
  readonly #creating = new Map<string, Promise<PartitionLog>>();
  readonly #deletions = new Set<Promise<void>>();
  readonly #checkpointWrites = new SerialQueue();
  /** Syncs of the data dir after logs are created or deleted, shared by everyone waiting at the time. */
  readonly #dataDirSync: CoalescedTask;
  #cancelCheckpointTimer: (() => void) | undefined;
  #retention: RetentionScheduler | undefined;
  #cleaner: LogCleaner | undefined;
  #deleteCounter = 0;
  #closed = false;

  private constructor(options: LogManagerOptions, hadCleanShutdown: boolean, previousBrokerEpoch: number) {
    this.#options = options;
    this.dataDir = options.dataDir;
    this.hadCleanShutdown = hadCleanShutdown;
    this.previousBrokerEpoch = previousBrokerEpoch;
    const logger = options.logger.child('log');
    this.#context = {
      fs: options.fs,
      clock: options.clock,
      logger,
      handles: new FileHandleCache(options.fs, options.openFileHandlesMax ?? OPEN_FILE_HANDLES_MAX, logger),
      tailCacheBudget: new TailCacheBudget(options.tailCacheBytes ?? TAIL_CACHE_BYTES_TOTAL),
    };
    this.#dataDirSync = new CoalescedTask(() => options.fs.syncDirectory(options.dataDir));
  }

  static async open(options: LogManagerOptions): Promise<LogManager> {
    await makeDirectoryDurably(options.fs, options.dataDir);
    const markerPath = joinPath(options.dataDir, CLEAN_SHUTDOWN_FILE);
    const clean = await pathExists(options.fs, markerPath);
    const manager = new LogManager(options, clean, clean ? await readMarkerEpoch(options.fs, markerPath) : -1);
    // The cleaner's checkpoint is its own file: read it while the logs load.
    await Promise.all([manager.#loadLogs(), manager.#createBackgroundWork()]);
    if (manager.hadCleanShutdown) {
      await options.fs.unlink(markerPath);
      await options.fs.syncDirectory(options.dataDir);
    } else if (manager.#logs.size > 0 || manager.#checkpointEntriesFound) {
      // After recovery the checkpoints must match the logs; a new, empty data dir has nothing to record.
      await manager.checkpoint();
    }
    manager.#armCheckpointTimer();
    if (options.startBackgroundWork !== false) manager.startBackgroundWork();
    return manager;
  }

  async #createBackgroundWork(): Promise<void> {
    const { clock } = this.#options;
    const logger = this.#context.logger;
    this.#retention = new RetentionScheduler({
      clock,
      logger,
      checkIntervalMs: this.#options.retentionCheckIntervalMs,
      target: { logs: () => this.#onlineLogs(), afterDeletion: () => this.checkpoint() },
    });
    const settings = this.#options.cleaner ?? {};
    if (settings.enabled === false) return;
    this.#cleaner = new LogCleaner({
      clock,
      logger: logger.child('cleaner'),
      checkpoint: await CleanerCheckpoint.load(this.#options.fs, this.dataDir, logger),
      logs: () => this.#onlineLogs(),
      dedupeBufferBytes: settings.dedupeBufferBytes,
      backoffMs: settings.backoffMs,
      yieldToEventLoop: settings.yieldToEventLoop,
    });
  }

  /** Logs not taken offline by an I/O error: retention and the cleaner leave offline ones alone. */
  *#onlineLogs(): IterableIterator<PartitionLog> {
    for (const log of this.#logs.values()) if (!log.isOffline) yield log;
  }

  /** Starts the retention scheduler and the log cleaner (idempotent). */
  startBackgroundWork(): void {
    if (this.#closed) return;
    this.#retention?.start();
    this.#cleaner?.start();
  }

  /** The retention scheduler (tests and tools run `checkNow()`). */
  get retention(): RetentionScheduler {
    return this.#retention!;
  }

  /** The log cleaner, unless log.cleaner.enable is false. */
  get cleaner(): LogCleaner | undefined {
    return this.#cleaner;
  }

  async #loadLogs(): Promise<void> {
    const logger = this.#context.logger;
    if (!this.hadCleanShutdown) logger.info('no clean shutdown marker: recovering logs', { dataDir: this.dataDir });
    const [recoveryPoints, logStartOffsets, highWatermarks, entries] = await Promise.all([
      this.#readCheckpoint(RECOVERY_POINT_CHECKPOINT_FILE),
      this.#readCheckpoint(LOG_START_OFFSET_CHECKPOINT_FILE),
      this.#readCheckpoint(REPLICATION_OFFSET_CHECKPOINT_FILE),
      this.#options.fs.readdir(this.dataDir),
    ]);
    const partitions: TopicPartition[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory) continue;
      if (isDeletedDirName(entry.name)) {
        this.#removeInBackground(joinPath(this.dataDir, entry.name));
        continue;
      }
      const parsed = parsePartitionDirName(entry.name);
      if (parsed !== undefined && LEGAL_TOPIC.test(parsed.topic)) partitions.push(parsed);
    }
    await forEachBounded(partitions, this.#options.openConcurrency ?? OPEN_PARTITIONS_CONCURRENCY, async ({ topic, partition }) => {
      const key = partitionDirName(topic, partition);
      try {
        const log = await this.#loadLog(topic, partition, this.#configFor(topic), {
          recoveryPoint: recoveryPoints.get(key),
          logStartOffset: logStartOffsets.get(key),
          highWatermark: highWatermarks.get(key),
        });
        this.#logs.set(key, log);
      } catch (error) {
        logger.error('could not load partition log; leaving it offline', { dir: joinPath(this.dataDir, key), error });
      }
    });
    logger.info('loaded logs', { count: this.#logs.size, cleanShutdown: this.hadCleanShutdown });
  }

  async #readCheckpoint(name: string): Promise<Checkpoints> {
    const entries = await readOffsetCheckpoint(this.#options.fs, joinPath(this.dataDir, name), this.#context.logger);
    if (entries !== undefined && entries.length > 0) this.#checkpointEntriesFound = true;
    return new Map((entries ?? []).map((entry) => [partitionDirName(entry.topic, entry.partition), entry.offset]));
  }

  #configFor(topic: string, overrides: Partial<LogConfig> = {}): LogConfig {
    const topicConfig = resolveLogConfig(this.#options.defaults, this.#options.configFor?.(topic) ?? {});
    return resolveLogConfig(topicConfig, overrides);
  }

  #loadLog(
    topic: string,
    partition: number,
    config: LogConfig,
    offsets: { recoveryPoint?: number | undefined; logStartOffset?: number | undefined; highWatermark?: number | undefined },
  ): Promise<PartitionLog> {
    return PartitionLog.load({
      context: this.#context,
      dir: joinPath(this.dataDir, partitionDirName(topic, partition)),
      topic,
      partition,
      config,
      hadCleanShutdown: this.hadCleanShutdown,
      ...offsets,
    });
  }

  /** Every open partition log. */
  logs(): IterableIterator<PartitionLog> {
    return this.#logs.values();
  }

  get size(): number {
    return this.#logs.size;
  }

  /** File descriptors currently held open (bounded by openFileHandlesMax). */
  get openFileHandleCount(): number {
    return this.#context.handles.openCount;
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.#logs.get(partitionDirName(topic, partition));
  }

  /** Creates the log (or returns the existing one): idempotent, also under concurrent calls. */
  createLog(topic: string, partition: number, config: Partial<LogConfig> = {}): Promise<PartitionLog> {
    if (this.#closed) return Promise.reject(new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'log manager is closed'));
    if (!LEGAL_TOPIC.test(topic)) return Promise.reject(new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `illegal topic name '${topic}'`));
    if (!Number.isInteger(partition) || partition < 0) {
      return Promise.reject(new KafkaError(ErrorCode.INVALID_PARTITIONS, `illegal partition ${partition}`));
    }
    const key = partitionDirName(topic, partition);
    const existing = this.#logs.get(key);
    if (existing !== undefined) return Promise.resolve(existing);
    let creating = this.#creating.get(key);
    if (creating === undefined) {
      // A brand-new directory has nothing to recover, whatever the last shutdown looked like.
      creating = PartitionLog.load({
        context: this.#context,
        dir: joinPath(this.dataDir, key),
        topic,
        partition,
        config: this.#configFor(topic, config),
        hadCleanShutdown: true,
        create: true,
      })
        .then(async (log) => {
          // Many partitions created at once (a new topic) share each directory sync.
          await this.#dataDirSync.run();
          this.#logs.set(key, log);
          return log;
        })
        .finally(() => this.#creating.delete(key));
      this.#creating.set(key, creating);
    }
    return creating;
  }

  /**
   * Removes a log: its directory is renamed to `<topic>-<partition>.<id>-delete` at once (so a
   * restart never loads it) and removed in the background.
   */
  async deleteLog(topic: string, partition: number): Promise<void> {
    const key = partitionDirName(topic, partition);
    const log = this.#logs.get(key);
    if (log === undefined) return;
    this.#logs.delete(key);
    await this.#cleaner?.forget(log);
    await log.abandon();
    const target = joinPath(this.dataDir, deletedDirName(topic, partition, this.#nextDeleteId()));
    try {
      await this.#options.fs.rename(log.dir, target);
      await this.#dataDirSync.run();
    } catch (error) {
      if (isNotFoundError(error)) return;
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `could not delete ${log.dir}: ${String(error)}`);
    }
    this.#removeInBackground(target);
  }

  #nextDeleteId(): string {
    this.#deleteCounter += 1;
    const time = this.#options.clock.nowMs().toString(16).padStart(12, '0');
    return `${time}${this.#deleteCounter.toString(16).padStart(20, '0')}`;
  }

  #removeInBackground(path: string): void {
    const removal = this.#options.fs
      .removeTree(path)
      .catch((error: unknown) => this.#context.logger.warn('could not remove deleted log directory', { dir: path, error }))
      .finally(() => this.#deletions.delete(removal));
    this.#deletions.add(removal);
  }

  /** Resolves once background directory removals started so far have finished. */
  async deletionsSettled(): Promise<void> {
    while (this.#deletions.size > 0) await Promise.all([...this.#deletions]);
  }

  updateConfig(topic: string, partition: number, config: Partial<LogConfig>): void {
    const log = this.get(topic, partition);
    if (log === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no log for ${topic}-${partition}`);
    log.updateConfig(resolveLogConfig(log.config, config));
  }

  /** Flushes every log, then rewrites the log-dir checkpoints. */
  async flushAll(): Promise<void> {
    await forEachBounded([...this.#logs.values()], OPEN_PARTITIONS_CONCURRENCY, (log) => log.flush());
    await this.checkpoint();
  }

  /** Rewrites the recovery-point, log-start-offset and replication-offset checkpoints. */
  checkpoint(): Promise<void> {
    return this.#checkpointWrites.run(async () => {
      const logs = [...this.#logs.values()];
      const entries = (offset: (log: PartitionLog) => number): PartitionOffset[] =>
        logs.map((log) => ({ topic: log.topic, partition: log.partition, offset: offset(log) }));
      const { fs } = this.#options;
      // Three independent files, each replaced atomically: their fsyncs overlap in the thread pool.
      await Promise.all([
        writeOffsetCheckpoint(fs, joinPath(this.dataDir, RECOVERY_POINT_CHECKPOINT_FILE), entries((log) => log.recoveryPoint)),
        writeOffsetCheckpoint(fs, joinPath(this.dataDir, LOG_START_OFFSET_CHECKPOINT_FILE), entries((log) => log.logStartOffset)),
        writeOffsetCheckpoint(fs, joinPath(this.dataDir, REPLICATION_OFFSET_CHECKPOINT_FILE), entries((log) => log.highWatermark)),
      ]);
    });
  }

  #armCheckpointTimer(): void {
    const intervalMs = this.#options.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS_DEFAULT;
    if (!Number.isFinite(intervalMs) || this.#closed) return;
    this.#cancelCheckpointTimer = this.#options.clock.schedule(intervalMs, () => {
      this.#cancelCheckpointTimer = undefined;
      this.checkpoint()
        .catch((error: unknown) => this.#context.logger.warn('periodic checkpoint failed', { error }))
        .finally(() => this.#armCheckpointTimer());
    });
  }

  /**
   * Flushes and closes every log, writes the checkpoints and, only if all of that succeeded, the
   * clean-shutdown marker that lets the next start skip recovery.
   */
  /** Closes every log; if all closed cleanly, writes the clean shutdown marker with `brokerEpoch` (-1: none). */
  async close(brokerEpoch = -1): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelCheckpointTimer?.();
    // Background work stops first, so nothing renames segment files under a closing log.
    await this.#cleaner?.stop();
    await this.#retention?.stop();
    await Promise.allSettled([...this.#creating.values()]);
    let clean = true;
    await forEachBounded([...this.#logs.values()], OPEN_PARTITIONS_CONCURRENCY, async (log) => {
      try {
        await log.close();
      } catch (error) {
        clean = false;
        this.#context.logger.error('could not close log cleanly', { dir: log.dir, error });
      }
    });
    await this.checkpoint();
    await this.deletionsSettled();
    await this.#context.handles.closeAll();
    if (clean) await this.#writeCleanShutdownMarker(brokerEpoch);
  }

  async #writeCleanShutdownMarker(brokerEpoch: number): Promise<void> {
    const handle = await this.#options.fs.open(joinPath(this.dataDir, CLEAN_SHUTDOWN_FILE), 'create');
    try {
      if (brokerEpoch >= 0) await handle.write([Buffer.from(JSON.stringify({ version: 0, brokerEpoch }))], 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.#options.fs.syncDirectory(this.dataDir);
  }
}

/** The broker epoch in a clean shutdown marker, or -1 when it has none (empty, or not Kafka's JSON). */
async function readMarkerEpoch(fs: FileSystem, path: string): Promise<number> {
  try {
    const parsed: unknown = JSON.parse((await fs.readFile(path)).toString('utf8'));
    const epoch = (parsed as { brokerEpoch?: unknown }).brokerEpoch;
    return typeof epoch === 'number' && Number.isSafeInteger(epoch) && epoch >= 0 ? epoch : -1;
  } catch {
    return -1;
  }
}

/**
 * A task many callers want run after their own change (a directory sync after creating a file):
 * a caller that arrives while a run is in progress waits for the next run, which starts once that
 * one ends and serves every caller that arrived meanwhile. So n concurrent callers cost about two
 * runs, not n, and each caller's change happened before the run it waits for started.
 */
class CoalescedTask {
  readonly #task: () => Promise<void>;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  constructor(task: () => Promise<void>) {
    this.#task = task;
  }

  run(): Promise<void> {
    if (this.#queued !== undefined) return this.#queued;
    const running = this.#running;
    if (running === undefined) return this.#start();
    const queued: Promise<void> = running.then(
      () => this.#startQueued(queued),
      () => this.#startQueued(queued),
    );
    this.#queued = queued;
    return queued;
  }

  #startQueued(queued: Promise<void>): Promise<void> {
    if (this.#queued === queued) this.#queued = undefined;
    return this.#start();
  }

  #start(): Promise<void> {
    const running = this.#task().finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}
