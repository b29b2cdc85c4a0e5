// One partition replica hosted by this broker: its log, its leader epoch and the high watermark.
// On a single node the leader is the only in-sync replica, so the high watermark follows the log
// end as soon as a write completes; the follower fetcher and ISR tracking join here later.
import type { AppendResult, PartitionLog } from '../log/partition-log.js';

export class Partition {
  /** Bytes ever appended through this broker: delayed fetches compare it to decide when to wake. */
  appendedBytes = 0;

  constructor(
    readonly topic: string,
    readonly partitionIndex: number,
    readonly topicId: string,
    readonly log: PartitionLog,
    public leaderEpoch: number,
  ) {}

  get key(): string {
    return partitionKey(this.topic, this.partitionIndex);
  }

  get highWatermark(): number {
    return this.log.highWatermark;
  }

  /** Appends one validated batch; offsets are assigned synchronously, in call order. */
  async append(batch: Buffer, appendTimeMs: number): Promise<AppendResult> {
    const result = await this.log.append(batch, { leaderEpoch: this.leaderEpoch, appendTimeMs });
    this.appendedBytes += batch.length;
    // A single replica is the whole ISR: what is written is committed.
    if (this.log.logEndOffset > this.log.highWatermark) this.log.updateHighWatermark(this.log.logEndOffset);
    return result;
  }
}

/** The key of a partition in maps and delayed-operation watch lists. */
export function partitionKey(topic: string, partitionIndex: number): string {
  return `${topic}\u0000${partitionIndex}`;
}
