// Every partition log in the broker's log directories (log.dirs): loads them at startup
// (recovering after an unclean shutdown), creates and deletes logs, and owns each directory's
// files: the recovery-point, log-start-offset and replication-offset checkpoints and the
// clean-shutdown marker. It also runs the background work over all logs: the retention scheduler
// and the log cleaner.
//
// Several directories work as Kafka's JBOD does: a new log goes to the online directory holding
// the fewest logs; a partition lives in exactly one directory. A directory fails as a whole (Kafka's
// log-dir failure): an I/O error that takes one of its logs offline, a checkpoint that cannot be
// written, or a directory that cannot be read at start takes every log in it offline, and the
// owner is told (onLogDirFailure) so the broker can stop serving those partitions and tell the
// controller. The other directories carry on.
import { forEachBounded } from '../base/bounded.js';
import type { Clock } from '../base/clock.js';
import { ErrorCode } from '../base/error-codes.js';
import { type FileSystem, type FileSystemSpace, isNotFoundError, joinPath, makeDirectoryDurably, pathExists } from '../base/file-system.js';
import { isKafkaError, KafkaError } from '../base/kafka-error.js';
import type { Logger } from '../base/logger.js';
import { type PartitionOffset, readOffsetCheckpoint, writeOffsetCheckpoint } from './checkpoint-file.js';
import { CleanerCheckpoint } from './cleaner/cleaner-checkpoint.js';
import { LogCleaner } from './cleaner/log-cleaner.js';
import { FileHandleCache } from './file-handle-cache.js';
import { carryOver, catchUp } from './log-copy.js';
import { type LogConfig, resolveLogConfig } from './log-config.js';
import {
  CLEAN_SHUTDOWN_FILE,
  deletedDirName,
  futureDirName,
  isDeletedDirName,
  parseFutureDirName,
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
  /** The first log directory: the cleaner's checkpoint and (by the broker's choice) the metadata log live here. */
  readonly dataDir: string;
  /** Every log directory (log.dirs), dataDir first; just [dataDir] when absent. */
  readonly dataDirs?: readonly string[];
  /**
   * Whether a log's I/O error fails its whole directory (Kafka's rule; the default). A single node
   * with one directory passes false: the log alone goes offline and the broker serves the rest, as
   * no other replica could take them over and Kafka's answer (the broker halts) would take
   * everything away.
   */
  readonly logFailureFailsDirectory?: boolean;
  /** Called once for each log directory that fails (after its logs were taken offline). */
  readonly onLogDirFailure?: (dir: string, reason: string) => void;
  /**
   * Whether a failed write takes its log (and so its directory) offline even when it could be
   * undone, as Kafka does for any I/O error: right for a cluster, where another replica can lead.
   * A single node keeps a full disk's logs online instead, refusing appends until space returns.
   */
  readonly offlineOnWriteError?: boolean;
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

/** One of the log directories and what the manager knows of it. */
class LogDirectory {
  offline = false;
  /** Whether the previous run closed this directory cleanly. */
  hadCleanShutdown = true;
  /** The broker epoch in this directory's clean-shutdown marker, or -1. */
  previousBrokerEpoch = -1;
  /** Syncs of the directory after logs are created or deleted, shared by everyone waiting at the time. */
  readonly sync: CoalescedTask;

  constructor(
    readonly path: string,
    fs: FileSystem,
  ) {
    this.sync = new CoalescedTask(() => fs.syncDirectory(path));
  }
}

/** A `<topic>-<partition>.<id>-future` directory: the copy of a move to this log directory. */
type FutureDir = { readonly name: string } & TopicPartition;

/** What a caller can see of a log directory. */
export interface LogDirState {
  readonly path: string;
  readonly offline: boolean;
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

export class LogManager {
  /** The first log directory. */
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
  readonly #dirs: LogDirectory[];
  /** Whether any log-dir checkpoint read at open named a partition (stale entries must be rewritten). */
  #checkpointEntriesFound = false;
  readonly #creating = new Map<string, { dir: LogDirectory; log: Promise<PartitionLog> }>();
  readonly #deletions = new Set<Promise<void>>();
  /** Partitions being moved between directories (moveLog), each with the move's promise. */
  readonly #moving = new Map<string, Promise<PartitionLog>>();
  /** The copies moves are filling, by partition. */
  readonly #futures = new Map<string, { dir: LogDirectory; log: PartitionLog }>();
  /** Partitions whose move was given up (cancelMove) and has not ended yet. */
  readonly #cancelledMoves = new Set<string>();
  /** Directories asked for replicas not hosted yet (preferLogDir). */
  readonly #preferred = new Map<string, string>();
  readonly #checkpointWrites = new SerialQueue();
  #cancelCheckpointTimer: (() => void) | undefined;
  #retention: RetentionScheduler | undefined;
  #cleaner: LogCleaner | undefined;
  #deleteCounter = 0;
  /** Set once open() has reported the directories that failed while opening. */
  #opened = false;
  #closed = false;

  private constructor(options: LogManagerOptions, dirs: LogDirectory[]) {
    this.#options = options;
    this.dataDir = options.dataDir;
    this.#dirs = dirs;
    const online = dirs.filter((dir) => !dir.offline);
    this.hadCleanShutdown = online.every((dir) => dir.hadCleanShutdown);
    // Kafka's rule: the epoch counts only if every directory's marker records the same one.
    const epochs = new Set(online.map((dir) => dir.previousBrokerEpoch));
    this.previousBrokerEpoch = this.hadCleanShutdown && epochs.size === 1 ? [...epochs][0]! : -1;
    const logger = options.logger.child('log');
    this.#context = {
      fs: options.fs,
      clock: options.clock,
      logger,
      handles: new FileHandleCache(options.fs, options.openFileHandlesMax ?? OPEN_FILE_HANDLES_MAX, logger),
      tailCacheBudget: new TailCacheBudget(options.tailCacheBytes ?? TAIL_CACHE_BYTES_TOTAL),
      offlineOnWriteError: options.offlineOnWriteError ?? false,
      onOffline: (log, reason) => this.#logWentOffline(log, reason),
    };
  }

  static async open(options: LogManagerOptions): Promise<LogManager> {
    const paths = options.dataDirs ?? [options.dataDir];
    if (paths[0] !== options.dataDir) throw new Error(`dataDirs must start with dataDir (${options.dataDir})`);
    if (new Set(paths).size !== paths.length) throw new Error(`a log directory is named twice in ${paths.join(',')}`);
    const dirs = paths.map((path) => new LogDirectory(path, options.fs));
    await Promise.all(dirs.map((dir) => openDirectory(options, dir)));
    // The first directory holds the cleaner's checkpoint and the metadata log: without it, no start.
    if (dirs[0]!.offline) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `the first log directory ${options.dataDir} cannot be used`);
    const manager = new LogManager(options, dirs);
    // The cleaner's checkpoint is its own file: read it while the logs load.
    await Promise.all([manager.#loadLogs(), manager.#createBackgroundWork()]);
    for (const dir of manager.#dirs) {
      if (dir.offline) continue;
      try {
        if (dir.hadCleanShutdown) {
          await options.fs.unlink(joinPath(dir.path, CLEAN_SHUTDOWN_FILE));
          await options.fs.syncDirectory(dir.path);
        }
      } catch (error) {
        manager.#failDirectory(dir, `could not remove its clean-shutdown marker: ${String(error)}`);
      }
    }
    if (!manager.hadCleanShutdown && (manager.#logs.size > 0 || manager.#checkpointEntriesFound)) {
      // After recovery the checkpoints must match the logs; a new, empty data dir has nothing to record.
      await manager.checkpoint();
    }
    manager.#opened = true;
    for (const dir of manager.#dirs) if (dir.offline) options.onLogDirFailure?.(dir.path, 'it failed while the logs were opened');
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
    const found = await Promise.all(this.#dirs.map(async (dir) => ({ dir, ...(await this.#scanDirectory(dir)) })));
    await this.#settleInterruptedMoves(found);
    // A partition in two directories (a crash mid-move, or hands in the directories) is refused, as Kafka refuses it.
    const seen = new Map<string, string>();
    for (const { dir, partitions } of found) {
      for (const { topic, partition } of partitions) {
        const key = partitionDirName(topic, partition);
        const other = seen.get(key);
        if (other !== undefined) {
          throw new Error(`log directories for ${key} found in both ${other} and ${dir.path}: delete one of the two copies before starting the broker`);
        }
        seen.set(key, dir.path);
      }
    }
    await Promise.all(found.map(({ dir, partitions }) => this.#loadDirectory(dir, partitions)));
    logger.info('loaded logs', { count: this.#logs.size, cleanShutdown: this.hadCleanShutdown, dirs: this.#dirs.length });
  }

  /**
   * The partitions in one directory and the `-future` copies of interrupted moves (an unreadable
   * directory fails and holds none); removes deleted ones.
   */
  async #scanDirectory(dir: LogDirectory): Promise<{ partitions: TopicPartition[]; futures: FutureDir[] }> {
    const partitions: TopicPartition[] = [];
    const futures: FutureDir[] = [];
    if (dir.offline) return { partitions, futures };
    let entries;
    try {
      entries = await this.#options.fs.readdir(dir.path);
    } catch (error) {
      this.#failDirectory(dir, `could not be read: ${String(error)}`);
      return { partitions, futures };
    }
    for (const entry of entries) {
      if (!entry.isDirectory) continue;
      if (isDeletedDirName(entry.name)) {
        this.#removeInBackground(joinPath(dir.path, entry.name));
        continue;
      }
      const future = parseFutureDirName(entry.name);
      if (future !== undefined) {
        futures.push({ name: entry.name, ...future });
        continue;
      }
      const parsed = parsePartitionDirName(entry.name);
      if (parsed !== undefined && LEGAL_TOPIC.test(parsed.topic)) partitions.push(parsed);
    }
    return { partitions, futures };
  }

  /**
   * A move between directories (moveLog) interrupted by a crash leaves a `-future` copy: if the
   * partition's own log is still there the move had not finished and the copy goes; if not, the
   * copy was complete (it is synced before the old log is taken away) and becomes the log.
   */
  async #settleInterruptedMoves(found: { dir: LogDirectory; partitions: TopicPartition[]; futures: FutureDir[] }[]): Promise<void> {
    for (const { dir, partitions, futures } of found) {
      for (const future of futures) {
        const key = partitionDirName(future.topic, future.partition);
        const live = found.some((other) => other.partitions.some((candidate) => partitionDirName(candidate.topic, candidate.partition) === key));
        const path = joinPath(dir.path, future.name);
        if (live) {
          this.#removeInBackground(path);
          continue;
        }
        this.#context.logger.info('finishing a log move interrupted by a crash', { from: path });
        await this.#options.fs.rename(path, joinPath(dir.path, key));
        await this.#options.fs.syncDirectory(dir.path);
        partitions.push({ topic: future.topic, partition: future.partition });
      }
    }
  }

  async #loadDirectory(dir: LogDirectory, partitions: TopicPartition[]): Promise<void> {
    if (dir.offline) return;
    const logger = this.#context.logger;
    if (!dir.hadCleanShutdown) logger.info('no clean shutdown marker: recovering logs', { dataDir: dir.path });
    const [recoveryPoints, logStartOffsets, highWatermarks] = await Promise.all([
      this.#readCheckpoint(dir, RECOVERY_POINT_CHECKPOINT_FILE),
      this.#readCheckpoint(dir, LOG_START_OFFSET_CHECKPOINT_FILE),
      this.#readCheckpoint(dir, REPLICATION_OFFSET_CHECKPOINT_FILE),
    ]);
    await forEachBounded(partitions, this.#options.openConcurrency ?? OPEN_PARTITIONS_CONCURRENCY, async ({ topic, partition }) => {
      const key = partitionDirName(topic, partition);
      try {
        const log = await this.#loadLog(dir, topic, partition, this.#configFor(topic), {
          recoveryPoint: recoveryPoints.get(key),
          logStartOffset: logStartOffsets.get(key),
          highWatermark: highWatermarks.get(key),
        });
        this.#logs.set(key, log);
      } catch (error) {
        logger.error('could not load partition log; leaving it offline', { dir: joinPath(dir.path, key), error });
      }
    });
  }

  async #readCheckpoint(dir: LogDirectory, name: string): Promise<Checkpoints> {
    const entries = await readOffsetCheckpoint(this.#options.fs, joinPath(dir.path, name), this.#context.logger);
    if (entries !== undefined && entries.length > 0) this.#checkpointEntriesFound = true;
    return new Map((entries ?? []).map((entry) => [partitionDirName(entry.topic, entry.partition), entry.offset]));
  }

  #configFor(topic: string, overrides: Partial<LogConfig> = {}): LogConfig {
    const topicConfig = resolveLogConfig(this.#options.defaults, this.#options.configFor?.(topic) ?? {});
    return resolveLogConfig(topicConfig, overrides);
  }

  #loadLog(
    dir: LogDirectory,
    topic: string,
    partition: number,
    config: LogConfig,
    offsets: { recoveryPoint?: number | undefined; logStartOffset?: number | undefined; highWatermark?: number | undefined },
  ): Promise<PartitionLog> {
    return PartitionLog.load({
      context: this.#context,
      dir: joinPath(dir.path, partitionDirName(topic, partition)),
      topic,
      partition,
      config,
      hadCleanShutdown: dir.hadCleanShutdown,
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

  /**
   * Creates the log (or returns the existing one): idempotent, also under concurrent calls. It goes
   * to `logDir` when given (the metadata log's place), else to the online directory holding the
   * fewest logs (Kafka's choice), the first such in log.dirs order.
   */
  createLog(topic: string, partition: number, config: Partial<LogConfig> = {}, logDir?: string): Promise<PartitionLog> {
    if (this.#closed) return Promise.reject(new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'log manager is closed'));
    if (!LEGAL_TOPIC.test(topic)) return Promise.reject(new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `illegal topic name '${topic}'`));
    if (!Number.isInteger(partition) || partition < 0) {
      return Promise.reject(new KafkaError(ErrorCode.INVALID_PARTITIONS, `illegal partition ${partition}`));
    }
    const key = partitionDirName(topic, partition);
    const existing = this.#logs.get(key);
    if (existing !== undefined) return Promise.resolve(existing);
    const moving = this.#moving.get(key);
    if (moving !== undefined) return moving;
    const creating = this.#creating.get(key);
    if (creating !== undefined) return creating.log;
    const preferred = this.#preferred.get(key);
    this.#preferred.delete(key);
    const wanted = logDir ?? this.#dirs.find((candidate) => candidate.path === preferred && !candidate.offline)?.path;
    const dir = wanted === undefined ? this.#placeNewLog() : this.#dirs.find((candidate) => candidate.path === wanted);
    if (dir === undefined) return Promise.reject(new KafkaError(ErrorCode.LOG_DIR_NOT_FOUND, `${logDir} is not a log directory`));
    if (dir.offline) return Promise.reject(new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log directory ${dir.path} is offline`));
    // A brand-new directory has nothing to recover, whatever the last shutdown looked like.
    const log = PartitionLog.load({
      context: this.#context,
      dir: joinPath(dir.path, key),
      topic,
      partition,
      config: this.#configFor(topic, config),
      hadCleanShutdown: true,
      create: true,
    })
      .then(async (created) => {
        // Many partitions created at once (a new topic) share each directory sync.
        await dir.sync.run();
        if (dir.offline) {
          created.takeOffline(`its directory ${dir.path} failed while it was created`);
          throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log directory ${dir.path} is offline`);
        }
        this.#logs.set(key, created);
        return created;
      })
      .catch((error: unknown) => {
        if (!isKafkaError(error)) this.#failDirectory(dir, `creating ${key} failed: ${String(error)}`);
        throw isKafkaError(error) ? error : new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `could not create ${key} in ${dir.path}: ${String(error)}`);
      })
      .finally(() => this.#creating.delete(key));
    this.#creating.set(key, { dir, log });
    return log;
  }

  /** The online directory with the fewest logs (counting those being created), first in log.dirs order on a tie. */
  #placeNewLog(): LogDirectory | undefined {
    const counts = new Map<LogDirectory, number>(this.#dirs.filter((dir) => !dir.offline).map((dir) => [dir, 0]));
    if (counts.size === 0) return this.#dirs[0];
    // One directory to choose from: no need to count the logs of each (thousands, for every new partition).
    if (counts.size === 1) return counts.keys().next().value;
    const owners = [...this.#logs.values()].map((log) => this.#dirOf(log));
    for (const { dir } of [...this.#creating.values(), ...this.#futures.values()]) owners.push(dir);
    for (const dir of owners) if (dir !== undefined && counts.has(dir)) counts.set(dir, counts.get(dir)! + 1);
    let best: LogDirectory | undefined;
    for (const [dir, count] of counts) if (best === undefined || count < counts.get(best)!) best = dir;
    return best;
  }

  /** The log directory a partition's log lives in. */
  logDirOf(topic: string, partition: number): string | undefined {
    const log = this.#logs.get(partitionDirName(topic, partition));
    return log && this.#dirOf(log)?.path;
  }

  /** The directory a log lives in: the one its own directory was made in (`<dir>/<topic>-<partition>`). */
  #dirOf(log: PartitionLog): LogDirectory | undefined {
    const key = partitionDirName(log.topic, log.partition);
    return this.#dirs.find((dir) => joinPath(dir.path, key) === log.dir);
  }

  /** Every log directory, in log.dirs order, with whether it failed. */
  get logDirs(): LogDirState[] {
    return this.#dirs.map((dir) => ({ path: dir.path, offline: dir.offline }));
  }

  /** The space of the file system a log directory is on (DescribeLogDirs' total and usable bytes). */
  space(logDir: string): Promise<FileSystemSpace> {
    return this.#options.fs.space(logDir);
  }

  /** A log of this manager went offline (an I/O error): its whole directory fails. */
  #logWentOffline(log: PartitionLog, reason: string): void {
    if (this.#options.logFailureFailsDirectory === false) return;
    const dir = this.#dirOf(log);
    if (dir !== undefined) this.#failDirectory(dir, `${log.topic}-${log.partition}: ${reason}`);
  }

  /**
   * Takes a directory offline for good (until a restart): every log in it goes offline, so it serves
   * and accepts nothing more, background work leaves it alone, and its checkpoints are no longer
   * written. The owner hears of it once.
   */
  #failDirectory(dir: LogDirectory, reason: string): void {
    if (dir.offline) return;
    dir.offline = true;
    this.#context.logger.error('log directory failed: its partitions are offline on this broker', { dir: dir.path, reason });
    for (const log of this.#logs.values()) if (this.#dirOf(log) === dir) log.takeOffline(`its log directory ${dir.path} failed`);
    // At open the owner is told once the manager exists (open() reports every offline directory).
    if (this.#opened) this.#options.onLogDirFailure?.(dir.path, reason);
  }

  /**
   * Moves a log to another of the log directories (AlterReplicaLogDirs), as Kafka's future replica
   * does, and returns it reopened there:
   * 1. while the log serves, a copy `<topic>-<partition>.<id>-future` in the destination takes
   *    every batch below its high watermark (log-copy.ts), until it has caught up;
   * 2. `pause()` (the caller stops serving the replica), the log is sealed (appends refused, those
   *    queued written), the copy takes the rest and the log's epochs and start, and is closed;
   * 3. the old directory is renamed away and the copy renamed into place and opened.
   * The replica is unavailable only for step 2 and 3's last records and renames. A crash at any
   * step leaves the original log or a complete copy, which the next start settles
   * (#settleInterruptedMoves). Until the move ends the log stays in its directory (createLog for it
   * during step 3 waits for the move). A move given up (cancelMove) resolves with the log where it
   * stayed.
   */
  moveLog(topic: string, partition: number, destination: string, pause: () => void = () => {}): Promise<PartitionLog> {
    const key = partitionDirName(topic, partition);
    if (this.#closed) return Promise.reject(new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'log manager is closed'));
    if (this.#moving.has(key)) return Promise.reject(new KafkaError(ErrorCode.REASSIGNMENT_IN_PROGRESS, `${key} is being moved already`));
    const log = this.#logs.get(key);
    const from = log && this.#dirOf(log);
    const to = this.#dirs.find((candidate) => candidate.path === destination);
    if (log === undefined || from === undefined) return Promise.reject(new KafkaError(ErrorCode.REPLICA_NOT_AVAILABLE, `no log for ${key}`));
    if (to === undefined) return Promise.reject(new KafkaError(ErrorCode.LOG_DIR_NOT_FOUND, `${destination} is not a log directory`));
    if (from === to) return Promise.resolve(log);
    if (from.offline || to.offline) return Promise.reject(new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log directory ${from.offline ? from.path : to.path} is offline`));
    const move = this.#move(key, log, from, to, pause).finally(() => {
      this.#moving.delete(key);
      this.#futures.delete(key);
      this.#cancelledMoves.delete(key);
    });
    this.#moving.set(key, move);
    return move;
  }

  async #move(key: string, log: PartitionLog, from: LogDirectory, to: LogDirectory, pause: () => void): Promise<PartitionLog> {
    const { topic, partition } = log;
    const { fs } = this.#options;
    const uniqueId = this.#nextDeleteId();
    const futurePath = joinPath(to.path, futureDirName(topic, partition, uniqueId));
    const copy = await PartitionLog.load({ context: this.#context, dir: futurePath, topic, partition, config: log.config, hadCleanShutdown: true, create: true });
    this.#futures.set(key, { dir: to, log: copy });
    const abandoned = () => this.#closed || this.#logs.get(key) !== log || to.offline || this.#cancelledMoves.has(key);
    let sealed = false;
    try {
      await copy.truncateFullyAndStartAt(log.logStartOffset);
      await catchUp(log, copy, () => log.highWatermark, abandoned);
      pause();
      sealed = true;
      await log.seal();
      await catchUp(log, copy, () => log.logEndOffset, abandoned);
      carryOver(log, copy);
      await copy.close();
      await to.sync.run();
    } catch (error) {
      // The original is whole: the copy goes, and a sealed original is opened again where it was.
      await copy.abandon().catch(() => {});
      await fs.removeTree(futurePath).catch(() => {});
      if (sealed && this.#logs.get(key) === log && !from.offline) await this.#reopen(key, log, from);
      const stayed = this.#logs.get(key);
      if (this.#cancelledMoves.has(key) && stayed !== undefined) return stayed;
      throw isKafkaError(error) ? error : new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `could not copy ${key} to ${to.path}: ${String(error)}`);
    }
    this.#logs.delete(key);
    await this.#cleaner?.forget(log);
    await log.close();
    const doomed = joinPath(from.path, deletedDirName(topic, partition, uniqueId));
    await fs.rename(log.dir, doomed);
    await from.sync.run();
    await fs.rename(futurePath, joinPath(to.path, key));
    await to.sync.run();
    this.#removeInBackground(doomed);
    const offsets = { recoveryPoint: copy.logEndOffset, logStartOffset: copy.logStartOffset, highWatermark: copy.highWatermark };
    const moved = await this.#loadLog(to, topic, partition, log.config, offsets);
    this.#logs.set(key, moved);
    await this.checkpoint();
    return moved;
  }

  /** Closes a log and opens it again in the same place (a move that failed after sealing it). */
  async #reopen(key: string, log: PartitionLog, dir: LogDirectory): Promise<void> {
    const offsets = { recoveryPoint: log.logEndOffset, logStartOffset: log.logStartOffset, highWatermark: log.highWatermark };
    this.#logs.delete(key);
    await this.#cleaner?.forget(log);
    await log.close();
    this.#logs.set(key, await this.#loadLog(dir, log.topic, log.partition, log.config, offsets));
  }

  /**
   * The copy a move is filling, if one is: its directory and how far it has come (DescribeLogDirs'
   * future replica). A move given up has none (Kafka drops its future replica at once).
   */
  futureOf(topic: string, partition: number): { logDir: string; logEndOffset: number; size(): Promise<number> } | undefined {
    const key = partitionDirName(topic, partition);
    const future = this.#cancelledMoves.has(key) ? undefined : this.#futures.get(key);
    return future && { logDir: future.dir.path, logEndOffset: future.log.logEndOffset, size: () => future.log.size() };
  }

  /**
   * Gives up the move of a log under way, as Kafka removes a future replica for an
   * AlterReplicaLogDirs naming another directory: the copy stops at its next round, is closed and
   * its `-future` directory removed, and the log stays (or is opened again) where it was. A move
   * whose copy has caught up with the sealed log and is being swapped in finishes. Resolves once
   * the move has ended, either way; at once when none is under way.
   */
  async cancelMove(topic: string, partition: number): Promise<void> {
    const key = partitionDirName(topic, partition);
    const move = this.#moving.get(key);
    if (move === undefined) return;
    this.#cancelledMoves.add(key);
    await move.then(
      () => {},
      () => {},
    );
  }

  /**
   * Where a replica this broker does not host yet should be created (AlterReplicaLogDirs for a
   * replica on its way here, as Kafka's preferred log dir): used once, by the next createLog of it.
   */
  preferLogDir(topic: string, partition: number, logDir: string): void {
    this.#preferred.set(partitionDirName(topic, partition), logDir);
  }

  /** Whether a log is being moved between directories. */
  isMoving(topic: string, partition: number): boolean {
    return this.#moving.has(partitionDirName(topic, partition));
  }

  /** Fails a log directory on purpose (an operator's or a test's fault injection). */
  failLogDir(path: string, reason: string): void {
    const dir = this.#dirs.find((candidate) => candidate.path === path);
    if (dir === undefined) throw new KafkaError(ErrorCode.LOG_DIR_NOT_FOUND, `${path} is not a log directory`);
    this.#failDirectory(dir, reason);
  }

  /**
   * Removes a log: its directory is renamed to `<topic>-<partition>.<id>-delete` at once (so a
   * restart never loads it) and removed in the background.
   */
  async deleteLog(topic: string, partition: number): Promise<void> {
    const key = partitionDirName(topic, partition);
    const log = this.#logs.get(key);
    if (log === undefined) return;
    const dir = this.#dirOf(log)!;
    this.#logs.delete(key);
    await this.#cleaner?.forget(log);
    await log.abandon();
    // An offline directory's files stay as they are: the next start (with the disk fixed) finds the
    // log, and the broker deletes it then if the partition is no longer assigned here.
    if (dir.offline) return;
    const target = joinPath(dir.path, deletedDirName(topic, partition, this.#nextDeleteId()));
    try {
      await this.#options.fs.rename(log.dir, target);
      await dir.sync.run();
    } catch (error) {
      if (isNotFoundError(error)) return;
      this.#failDirectory(dir, `deleting ${key} failed: ${String(error)}`);
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

  /**
   * Rewrites each online directory's recovery-point, log-start-offset and replication-offset
   * checkpoints. A directory whose checkpoints cannot be written fails (Kafka's rule); the others
   * are written all the same.
   */
  checkpoint(): Promise<void> {
    return this.#checkpointWrites.run(async () => {
      const { fs } = this.#options;
      await Promise.all(
        this.#dirs.map(async (dir) => {
          if (dir.offline) return;
          const logs = [...this.#logs.values()].filter((log) => this.#dirOf(log) === dir);
          const entries = (offset: (log: PartitionLog) => number): PartitionOffset[] =>
            logs.map((log) => ({ topic: log.topic, partition: log.partition, offset: offset(log) }));
          try {
            // Three independent files, each replaced atomically: their fsyncs overlap in the thread pool.
            await Promise.all([
              writeOffsetCheckpoint(fs, joinPath(dir.path, RECOVERY_POINT_CHECKPOINT_FILE), entries((log) => log.recoveryPoint)),
              writeOffsetCheckpoint(fs, joinPath(dir.path, LOG_START_OFFSET_CHECKPOINT_FILE), entries((log) => log.logStartOffset)),
              writeOffsetCheckpoint(fs, joinPath(dir.path, REPLICATION_OFFSET_CHECKPOINT_FILE), entries((log) => log.highWatermark)),
            ]);
          } catch (error) {
            this.#failDirectory(dir, `its checkpoints could not be written: ${String(error)}`);
          }
        }),
      );
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
    await Promise.allSettled([...this.#creating.values()].map((creating) => creating.log));
    // A move in progress gives up (its copy goes; the original stays or is opened again).
    await Promise.allSettled([...this.#moving.values()]);
    const unclean = new Set<LogDirectory>();
    await forEachBounded([...this.#logs.values()], OPEN_PARTITIONS_CONCURRENCY, async (log) => {
      try {
        await log.close();
      } catch (error) {
        unclean.add(this.#dirOf(log)!);
        this.#context.logger.error('could not close log cleanly', { dir: log.dir, error });
      }
    });
    await this.checkpoint();
    await this.deletionsSettled();
    await this.#context.handles.closeAll();
    // Each directory whose logs all closed cleanly gets its marker; a failed one gets none.
    await Promise.all(
      this.#dirs.map(async (dir) => {
        if (dir.offline || unclean.has(dir)) return;
        try {
          await writeCleanShutdownMarker(this.#options.fs, dir.path, brokerEpoch);
        } catch (error) {
          this.#context.logger.error('could not write the clean shutdown marker', { dir: dir.path, error });
        }
      }),
    );
  }
}

async function writeCleanShutdownMarker(fs: FileSystem, dir: string, brokerEpoch: number): Promise<void> {
  const handle = await fs.open(joinPath(dir, CLEAN_SHUTDOWN_FILE), 'create');
  try {
    if (brokerEpoch >= 0) await handle.write([Buffer.from(JSON.stringify({ version: 0, brokerEpoch }))], 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.syncDirectory(dir);
}

/** Makes the directory (durably) and reads its clean-shutdown marker; a directory that cannot be made or read is offline. */
async function openDirectory(options: LogManagerOptions, dir: LogDirectory): Promise<void> {
  try {
    await makeDirectoryDurably(options.fs, dir.path);
    const markerPath = joinPath(dir.path, CLEAN_SHUTDOWN_FILE);
    dir.hadCleanShutdown = await pathExists(options.fs, markerPath);
    dir.previousBrokerEpoch = dir.hadCleanShutdown ? await readMarkerEpoch(options.fs, markerPath) : -1;
  } catch (error) {
    dir.offline = true;
    options.logger.error('log directory cannot be used: it is offline', { dir: dir.path, error });
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
