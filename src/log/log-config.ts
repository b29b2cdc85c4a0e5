// Per-partition log settings in Kafka's vocabulary (segment.bytes, segment.ms, flush.messages, ...)
// with Kafka's defaults; the broker maps topic configs onto this shape.

export type MessageTimestampType = 'CreateTime' | 'LogAppendTime';
/**
 * cleanup.policy entries: `delete` (retention), `compact` (the log cleaner), both, or none (an
 * empty list, Kafka 4.1+): then retention removes only what lies below the log start offset and
 * the cleaner skips the log.
 */
export type CleanupPolicy = 'delete' | 'compact';

export interface LogConfig {
  /** segment.bytes: roll a new segment before the active one would exceed this. */
  segmentBytes: number;
  /** segment.ms: roll once the active segment's first batch is this old. */
  segmentMs: number;
  /** segment.index.bytes: the most bytes each offset/time index may hold before a roll. */
  segmentIndexBytes: number;
  /** index.interval.bytes: log bytes between two offset index entries. */
  indexIntervalBytes: number;
  /** flush.messages: fsync after this many messages (Infinity: leave it to the OS). */
  flushMessages: number;
  /** flush.ms: fsync once unflushed data is this old (Infinity: never by time). */
  flushMs: number;
  /** retention.ms: segments whose largest timestamp is older are deleted (Infinity keeps forever). */
  retentionMs: number;
  /** retention.bytes: oldest segments are deleted while the log is larger; -1 keeps everything. */
  retentionBytes: number;
  /** cleanup.policy: retention applies with `delete`, the log cleaner with `compact`. */
  cleanupPolicy: readonly CleanupPolicy[];
  /** delete.retention.ms: how long the cleaner keeps a tombstone after it first cleaned it. */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms: records younger than this stay uncompacted. */
  minCompactionLagMs: number;
  /** max.compaction.lag.ms: a dirty segment older than this is cleaned whatever the dirty ratio. */
  maxCompactionLagMs: number;
  /** min.cleanable.dirty.ratio: the dirty share of the log that makes it worth cleaning. */
  minCleanableDirtyRatio: number;
  /** file.delete.delay.ms: how long a deleted segment's files stay (as `.deleted`) for readers. */
  fileDeleteDelayMs: number;
  /** message.timestamp.type: LogAppendTime makes the broker stamp each batch. */
  messageTimestampType: MessageTimestampType;
  /** max.message.bytes: the largest batch the log accepts. */
  maxMessageBytes: number;
}

export const defaultLogConfig: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1_073_741_824,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentIndexBytes: 10_485_760,
  indexIntervalBytes: 4096,
  flushMessages: Number.POSITIVE_INFINITY,
  flushMs: Number.POSITIVE_INFINITY,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  cleanupPolicy: Object.freeze(['delete'] as CleanupPolicy[]),
  deleteRetentionMs: 86_400_000,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.POSITIVE_INFINITY,
  minCleanableDirtyRatio: 0.5,
  fileDeleteDelayMs: 60_000,
  messageTimestampType: 'CreateTime',
  maxMessageBytes: 1_048_588,
});

export function resolveLogConfig(base: LogConfig, overrides: Partial<LogConfig> = {}): LogConfig {
  const merged: LogConfig = { ...base };
  for (const [key, value] of Object.entries(overrides) as [keyof LogConfig, LogConfig[keyof LogConfig]][]) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  return merged;
}

export function isCompacted(config: LogConfig): boolean {
  return config.cleanupPolicy.includes('compact');
}

export function hasDeleteRetention(config: LogConfig): boolean {
  return config.cleanupPolicy.includes('delete');
}
