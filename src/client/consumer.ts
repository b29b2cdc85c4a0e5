// A small consumer for tools: fetches assigned partitions of one topic from their leaders with long
// polling, decodes record batches and hands out records in offset order per partition, skipping
// control batches and records below the position. Positions can be committed through a group.
import { ErrorCode } from '../base/error-codes.js';
import { FetchApi } from '../protocol/messages/index.js';
import { isControlBatch, isTransactionalBatch, readBaseOffset, readLastOffsetDelta, readProducerId } from '../protocol/records/batch-header.js';
import { decodeRecordBatchSync, recordBatchSpans } from '../protocol/records/record-batch.js';
import type { KafkaRecord } from '../protocol/records/record.js';
import { type TopicInfo, groupByLeader } from './admin-client.js';
import { type ClusterClient, KafkaResponseError } from './cluster-client.js';

export interface ConsumedRecord extends KafkaRecord {
  topic: string;
  partition: number;
}

/** Bytes one fetch may return per partition, and in all. */
const PARTITION_MAX_BYTES = 1024 * 1024;
const FETCH_MAX_BYTES = 16 * 1024 * 1024;
/** Decompressed bytes one fetched batch may expand to. */
const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export class Consumer {
  /** The next offset to read per assigned partition. */
  readonly positions: Map<number, number>;
  /** Per partition, the end of what may be read (high watermark; last stable offset for read_committed) as of the last fetch. */
  readonly ends = new Map<number, number>();

  constructor(
    private readonly cluster: ClusterClient,
    private current: TopicInfo,
    positions: ReadonlyMap<number, number>,
    /** read_committed: records of open or aborted transactions are not returned (Kafka's isolation.level). */
    private readonly readCommitted = false,
  ) {
    this.positions = new Map(positions);
  }

  /** How far the position is behind the partition's end as the last fetch saw it (Kafka's records-lag). */
  lag(partition: number): number | undefined {
    const position = this.positions.get(partition);
    const end = this.ends.get(partition);
    return position === undefined || end === undefined ? undefined : Math.max(0, end - position);
  }

  /**
   * One fetch round over every assigned partition: waits up to `maxWaitMs` for data. All or
   * nothing: when a leader's fetch fails (a partition error, a lost connection), the positions go
   * back to where the round began and it throws, so no record is skipped by a caller that retries.
   * `paused`: partitions left out of this round (the caller has enough of their records); with
   * every partition paused the round fetches nothing and answers at once.
   */
  async poll(maxWaitMs: number, paused?: ReadonlySet<number>): Promise<ConsumedRecord[]> {
    const assigned = this.topic.partitions.filter((info) => this.positions.has(info.partition) && !paused?.has(info.partition));
    const before = new Map(this.positions);
    const rounds = await Promise.allSettled([...groupByLeader(assigned)].map(([leader, partitions]) => this.fetchFrom(leader, partitions, maxWaitMs)));
    const failed = rounds.find((round): round is PromiseRejectedResult => round.status === 'rejected');
    if (failed) {
      for (const [partition, position] of before) this.positions.set(partition, position);
      throw failed.reason;
    }
    return rounds.flatMap((round) => (round.status === 'fulfilled' ? round.value : []));
  }

  /** The topic read, as the consumer last learned it (its partitions' leaders). */
  get topic(): TopicInfo {
    return this.current;
  }

  /** New metadata for the topic (leaders moved); the positions stay. */
  setTopic(topic: TopicInfo): void {
    if (topic.name !== this.current.name) throw new Error(`the consumer reads '${this.current.name}', not '${topic.name}'`);
    this.current = topic;
  }

  private async fetchFrom(leader: number, partitions: number[], maxWaitMs: number): Promise<ConsumedRecord[]> {
    const response = await this.cluster.request(FetchApi, {
      replicaId: -1,
      maxWaitMs,
      minBytes: 1,
      maxBytes: FETCH_MAX_BYTES,
      isolationLevel: this.readCommitted ? 1 : 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic: this.topic.name,
        partitions: partitions.map((partition) => ({
          partition,
          currentLeaderEpoch: -1,
          fetchOffset: BigInt(this.positions.get(partition)!),
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: PARTITION_MAX_BYTES,
        })),
      }],
      forgottenTopicsData: [],
      rackId: '',
    }, { address: await this.cluster.addressOf(leader), minVersion: 4, maxVersion: 12 });
    if (response.errorCode) throw new KafkaResponseError(response.errorCode, `fetching ${this.topic.name}`);
    const records: ConsumedRecord[] = [];
    for (const data of response.responses[0]?.partitions ?? []) {
      if (data.errorCode !== ErrorCode.NONE) {
        const position = this.positions.get(data.partitionIndex);
        throw new KafkaResponseError(data.errorCode, `fetching ${this.topic.name}-${data.partitionIndex} at offset ${position}`, data.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE ? `the partition holds offsets ${data.logStartOffset ?? '?'} to ${data.highWatermark}` : null);
      }
      const end = Number(this.readCommitted ? data.lastStableOffset : data.highWatermark);
      if (end >= 0) this.ends.set(data.partitionIndex, end);
      records.push(...this.recordsOf(data.partitionIndex, data.records, this.readCommitted ? data.abortedTransactions ?? [] : []));
    }
    return records;
  }

  /**
   * The records of `blob` at or after the position, in offset order, without control batches and,
   * for read_committed, without the batches of `aborted` transactions: a transactional batch of a
   * producer whose aborted transaction began at or before it is skipped until that producer's
   * abort marker (Kafka's consumer does the same with the fetch's aborted transaction list).
   */
  private recordsOf(partition: number, blob: Buffer | null, aborted: readonly { producerId: bigint; firstOffset: bigint }[]): ConsumedRecord[] {
    if (!blob) return [];
    const position = this.positions.get(partition)!;
    const records: ConsumedRecord[] = [];
    const pending = [...aborted].sort((a, b) => Number(a.firstOffset - b.firstOffset));
    const abortedProducers = new Set<number>();
    let next = position;
    for (const span of recordBatchSpans(blob)) {
      // A truncated last batch is normal (the size limit cut it); the next fetch reads it whole.
      if (span.position + span.sizeInBytes > blob.length) break;
      const baseOffset = readBaseOffset(blob, span.position);
      while (pending.length > 0 && Number(pending[0]!.firstOffset) <= baseOffset + readLastOffsetDelta(blob, span.position)) abortedProducers.add(Number(pending.shift()!.producerId));
      const batch = decodeRecordBatchSync(blob, span.position, { maxDecompressedBytes: MAX_DECOMPRESSED_BYTES });
      next = Math.max(next, batch.baseOffset + batch.lastOffsetDelta + 1);
      const producerId = readProducerId(blob, span.position);
      if (isControlBatch(blob, span.position)) {
        abortedProducers.delete(producerId);
        continue;
      }
      if (isTransactionalBatch(blob, span.position) && abortedProducers.has(producerId)) continue;
      for (const record of batch.records) if (record.offset >= position) records.push({ ...record, topic: this.topic.name, partition });
    }
    this.positions.set(partition, next);
    return records;
  }
}
