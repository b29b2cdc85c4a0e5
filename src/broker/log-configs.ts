// Maps Kafka's broker defaults and topic overrides onto the log's settings, so the log module
// knows nothing of configuration keys.
import type { LogConfig, MessageTimestampType } from '../log/log-config.js';
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
};

/** The log settings a topic overrides; the rest come from the broker defaults. */
export function topicLogOverrides(overrides: ReadonlyMap<string, string>): Partial<LogConfig> {
  const result: Partial<Record<keyof LogConfig, number | MessageTimestampType>> = {};
  for (const [key, field] of Object.entries(topicKeyToLogField)) {
    const value = topicConfigOverride(overrides, key);
    if (value === undefined) continue;
    result[field] = field === 'retentionMs' && value === -1 ? Number.POSITIVE_INFINITY : (value as number | MessageTimestampType);
  }
  return result as Partial<LogConfig>;
}
