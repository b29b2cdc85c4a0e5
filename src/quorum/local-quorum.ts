// The metadata quorum of a single node: the metadata log is a local partition log
// (__cluster_metadata-0) that this node alone writes and fsyncs before a change counts as
// committed. A replicated Raft quorum takes its place in a cluster behind the same interface.
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import type { PartitionLog } from '../log/partition-log.js';
import type { MetadataQuorum } from '../metadata/controller.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import type { MetadataRecord } from '../metadata/metadata-record.js';
import { deserializeMetadataRecord, serializeMetadataRecord } from '../metadata/metadata-record-serde.js';
import { buildRecordBatchSync, decodeRecordBatchesSync } from '../protocol/records/record-batch.js';

/** Called after records are committed and applied, before the appending operation completes. */
export type CommitListener = (records: readonly MetadataRecord[]) => Promise<void> | void;

/** Bytes read per step while replaying the metadata log at startup. */
const REPLAY_READ_BYTES = 4 * 1024 * 1024;
/** The epoch of a quorum of one never changes. */
const LEADER_EPOCH = 0;

export class LocalQuorum implements MetadataQuorum {
  private listener: CommitListener = () => {};

  private constructor(
    private readonly log: PartitionLog,
    private readonly image: MetadataImage,
    private readonly clock: Clock,
  ) {}

  /** Replays the whole metadata log into `image` and returns the quorum ready to append. */
  static async open(log: PartitionLog, image: MetadataImage, clock: Clock, logger: Logger): Promise<LocalQuorum> {
    let offset = log.logStartOffset;
    let records = 0;
    while (offset < log.logEndOffset) {
      const read = await log.read(offset, { maxBytes: REPLAY_READ_BYTES, maxOffset: log.logEndOffset, minOneBatch: true });
      if (read.chunks.length === 0) break;
      for (const batch of decodeRecordBatchesSync(Buffer.concat(read.chunks))) {
        for (const record of batch.records) {
          offset = record.offset + 1;
          if (record.offset < log.logStartOffset || !record.value) continue;
          const decoded = deserializeMetadataRecord(record.value);
          if (decoded) image.apply(decoded);
          records++;
        }
        offset = Math.max(offset, batch.baseOffset + batch.lastOffsetDelta + 1);
      }
    }
    if (log.highWatermark < log.logEndOffset) log.updateHighWatermark(log.logEndOffset);
    logger.info('metadata log replayed', { records, endOffset: log.logEndOffset });
    return new LocalQuorum(log, image, clock);
  }

  onCommit(listener: CommitListener): void {
    this.listener = listener;
  }

  async append(records: MetadataRecord[]): Promise<void> {
    if (records.length === 0) return;
    const now = this.clock.nowMs();
    const batch = buildRecordBatchSync(
      records.map((record) => ({ value: serializeMetadataRecord(record), timestamp: now })),
      { baseTimestamp: now },
    );
    await this.log.append(batch, { leaderEpoch: LEADER_EPOCH, appendTimeMs: now });
    await this.log.flush();
    this.log.updateHighWatermark(this.log.logEndOffset);
    for (const record of records) this.image.apply(record);
    await this.listener(records);
  }
}
