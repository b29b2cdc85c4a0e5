// Maps Kafka's broker defaults and topic overrides onto the log's settings, so the log module
// knows nothing of configuration keys.
import type { LogConfig } from '../log/log-config.js';
import type { LogManagerOptions } from '../log/log-manager.js';
import { topicConfigOverride } from '../metadata/topic-config.js';
import type { BrokerConfig } from './broker-config.js';

export function brokerLogDefaults(config: BrokerConfig): LogConfig {
  return {
    segmentBytes: config.logSegmentBytes,
    segmentMs: config.logRollMs,
    segmentIndexBytes: config.logIndexSizeMaxBytes,
    indexIntervalBytes: config.logIndexIntervalBytes,
    flushMessages: config.logFlushIntervalMessages,
    flushMs: config.logFlushIntervalMs,
    retentionMs: config.logRetentionMs,
    retentionBytes: config.logRetentionBytes,
    messageTimestampType: config.logMessageTimestampType,
    maxMessageBytes: config.messageMaxBytes,
    cleanupPolicy: config.logCleanupPolicy,
    deleteRetentionMs: config.logCleanerDeleteRetentionMs,
    minCompactionLagMs: config.logCleanerMinCompactionLagMs,
    maxCompactionLagMs: config.logCleanerMaxCompactionLagMs,
    minCleanableDirtyRatio: config.logCleanerMinCleanableRatio,
    fileDeleteDelayMs: config.logSegmentDeleteDelayMs,
  };
}

/** Retention and log cleaner settings of the log manager (log.retention.check.interval.ms, log.cleaner.*). */
export function brokerLogBackgroundWork(config: BrokerConfig): Pick<LogManagerOptions, 'retentionCheckIntervalMs' | 'cleaner' | 'startBackgroundWork'> {
  return {
    retentionCheckIntervalMs: config.logRetentionCheckIntervalMs,
    // log.cleaner.threads is accepted; one cleaner serves every log (0 threads turns it off, as in Kafka).
    cleaner: {
      enabled: config.logCleanerEnable && Number(config.values.get('log.cleaner.threads')) > 0,
      backoffMs: config.logCleanerBackoffMs,
      dedupeBufferBytes: config.logCleanerDedupeBufferSize,
    },
    // The broker starts them once topic configs apply to the logs opened at start-up.
    startBackgroundWork: false,
  };
}

const topicKeyToLogField: Readonly<Record<string, keyof LogConfig>> = {
  'segment.bytes': 'segmentBytes',
  'segment.ms': 'segmentMs',
  'segment.index.bytes': 'segmentIndexBytes',
  'index.interval.bytes': 'indexIntervalBytes',
  'flush.messages': 'flushMessages',
  'flush.ms': 'flushMs',
  'retention.ms': 'retentionMs',
  'retention.bytes': 'retentionBytes',
  'message.timestamp.type': 'messageTimestampType',
  'max.message.bytes': 'maxMessageBytes',
  'cleanup.policy': 'cleanupPolicy',
  'delete.retention.ms': 'deleteRetentionMs',
  'min.compaction.lag.ms': 'minCompactionLagMs',
  'max.compaction.lag.ms': 'maxCompactionLagMs',
  'min.cleanable.dirty.ratio': 'minCleanableDirtyRatio',
  'file.delete.delay.ms': 'fileDeleteDelayMs',
};

/** The log settings a topic overrides; the rest come from the broker defaults. */
export function topicLogOverrides(overrides: ReadonlyMap<string, string>): Partial<LogConfig> {
  const result: Partial<Record<keyof LogConfig, unknown>> = {};
  for (const [key, field] of Object.entries(topicKeyToLogField)) {
    const value = topicConfigOverride(overrides, key);
    if (value === undefined) continue;
    result[field] = field === 'retentionMs' && value === -1 ? Number.POSITIVE_INFINITY : value;
  }
  return result as Partial<LogConfig>;
}
