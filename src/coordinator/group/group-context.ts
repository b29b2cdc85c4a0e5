// What the group state machine and the offset store share: the clock, the limits from the broker
// configuration, member-id randomness, and a way to make records durable in the group's
// `__consumer_offsets` partition before a response is sent.
import type { Clock, RandomSource } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { Group } from './group.js';
import type { OffsetsRecord } from './group-records.js';

export interface GroupCoordinatorConfig {
  offsetsTopicNumPartitions: number;
  offsetsRetentionMs: number;
  /** How often expired offsets and dead groups are swept (Kafka's offsets.retention.check.interval.ms). */
  offsetsRetentionCheckIntervalMs: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
  /** Longest committed metadata string (Kafka's offset.metadata.max.bytes). */
  offsetMetadataMaxBytes: number;
}

export interface GroupContext {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly config: GroupCoordinatorConfig;
  readonly logger: Logger;
  /** Appends `records` to the group's partition and resolves with an error code once durable (NONE on success). */
  store(group: Group, records: OffsetsRecord[]): Promise<number>;
}
