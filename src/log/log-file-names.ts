// Kafka's file and directory names: `<topic>-<partition>` directories holding
// `<20-digit base offset>.log/.index/.timeindex` segments, plus the checkpoint and marker names.

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
export const DELETE_DIR_SUFFIX = '-delete';
export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
export const REPLICATION_OFFSET_CHECKPOINT_FILE = 'replication-offset-checkpoint';
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
/** Suffix of a segment the cleaner is still writing; discarded by recovery. */
export const CLEANED_FILE_SUFFIX = '.cleaned';
/** Suffix of a cleaned segment ready to replace the old ones; recovery completes the swap. */
export const SWAP_FILE_SUFFIX = '.swap';
/** Suffix of a segment removed from the log, kept for file.delete.delay.ms so reads in flight finish. */
export const DELETED_FILE_SUFFIX = '.deleted';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** The 20-digit, zero-padded base offset that names a segment's files. */
export function offsetFileName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

/** The base offset in a segment file name, or undefined if the name is not `<digits><suffix>`. */
export function parseOffsetFileName(name: string, suffix: string): number | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const digits = name.slice(0, -suffix.length);
  return /^\d{20}$/.test(digits) ? Number(digits) : undefined;
}

export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Parses `<topic>-<partition>`; the topic may itself contain '-' (e.g. `__cluster_metadata-0`). */
export function parsePartitionDirName(name: string): TopicPartition | undefined {
  const match = /^(.+)-(\d+)$/.exec(name);
  if (match === null) return undefined;
  const partition = Number(match[2]);
  if (!Number.isSafeInteger(partition) || partition > 0x7fffffff) return undefined;
  return { topic: match[1]!, partition };
}

/** `<topic>-<partition>.<id>-delete`, the name a deleted log's directory gets until it is removed. */
export function deletedDirName(topic: string, partition: number, uniqueId: string): string {
  return `${partitionDirName(topic, partition)}.${uniqueId}${DELETE_DIR_SUFFIX}`;
}

export function isDeletedDirName(name: string): boolean {
  return /^.+-\d+\.[0-9a-z]+-delete$/.test(name);
}

/**
 * `<topic>-<partition>.<id>-future`, a log being moved into another log directory
 * (AlterReplicaLogDirs): complete only once the move has taken the old copy away.
 */
export function futureDirName(topic: string, partition: number, uniqueId: string): string {
  return `${partitionDirName(topic, partition)}.${uniqueId}-future`;
}

/** The partition a future log's directory is for, or undefined if `name` is not one. */
export function parseFutureDirName(name: string): TopicPartition | undefined {
  const match = /^(.+-\d+)\.[0-9a-z]+-future$/.exec(name);
  return match === null ? undefined : parsePartitionDirName(match[1]!);
}
