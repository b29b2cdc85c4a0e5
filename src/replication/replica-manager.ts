// The replica manager owns the partitions this broker hosts: it creates and deletes their logs as
// the metadata image says, appends produced batches, and tells listeners when a partition's high
// watermark moves so waiting fetches can complete.
import type { Logger } from '../base/logger.js';
import type { LogConfig } from '../log/log-config.js';
import type { LogManager } from '../log/log-manager.js';
import { Partition, partitionKey } from './partition.js';

export type HighWatermarkListener = (partition: Partition) => void;

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly listeners: HighWatermarkListener[] = [];

  constructor(
    readonly logManager: LogManager,
    private readonly logger: Logger,
  ) {}

  get(topic: string, partitionIndex: number): Partition | undefined {
    return this.partitions.get(partitionKey(topic, partitionIndex));
  }

  all(): IterableIterator<Partition> {
    return this.partitions.values();
  }

  onHighWatermarkChange(listener: HighWatermarkListener): void {
    this.listeners.push(listener);
  }

  /** Opens or creates the log of a partition this broker leads. */
  async becomeLeader(topic: string, partitionIndex: number, topicId: string, leaderEpoch: number, config: Partial<LogConfig>): Promise<Partition> {
    const existing = this.get(topic, partitionIndex);
    if (existing && existing.topicId === topicId) {
      existing.leaderEpoch = leaderEpoch;
      return existing;
    }
    const log = await this.logManager.createLog(topic, partitionIndex, config);
    // A log opened at start-up took the broker defaults; the topic's own settings apply from here.
    this.logManager.updateConfig(topic, partitionIndex, config);
    log.leaderEpochCache.assign(leaderEpoch, log.nextOffset);
    if (log.highWatermark < log.logEndOffset) log.updateHighWatermark(log.logEndOffset);
    const partition = new Partition(topic, partitionIndex, topicId, log, leaderEpoch);
    this.partitions.set(partition.key, partition);
    return partition;
  }

  /** Deletes the logs of a topic that the metadata log removed. */
  async deleteTopic(topic: string): Promise<void> {
    const doomed = [...this.partitions.values()].filter((partition) => partition.topic === topic);
    for (const partition of doomed) {
      this.partitions.delete(partition.key);
      this.notify(partition);
      await this.logManager.deleteLog(topic, partition.partitionIndex);
    }
    if (doomed.length > 0) this.logger.info('deleted topic logs', { topic, partitions: doomed.length });
  }

  /** Appends a validated batch and wakes waiters once the high watermark has moved. */
  async append(partition: Partition, batch: Buffer, appendTimeMs: number) {
    const result = await partition.append(batch, appendTimeMs);
    this.notify(partition);
    return result;
  }

  private notify(partition: Partition): void {
    for (const listener of this.listeners) listener(partition);
  }
}
