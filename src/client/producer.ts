// A small producer for tools: picks each record's partition (Kafka's murmur2 of the key, or
// round-robin for records without a key), builds one record batch per partition with the chosen
// codec, and sends one Produce request per leader. Results come back per record, in order.
import { ErrorCode, errorName } from '../base/error-codes.js';
import { ProduceApi } from '../protocol/messages/index.js';
import { buildRecordBatchSync } from '../protocol/records/record-batch.js';
import type { RecordHeader } from '../protocol/records/record.js';
import { type PartitionInfo, type TopicInfo, groupByLeader } from './admin-client.js';
import type { ClusterClient } from './cluster-client.js';

export interface ProducerRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** A fixed partition; otherwise the partitioner decides. */
  partition?: number;
  timestamp?: number;
}

export interface RecordResult {
  partition: number;
  /** The record's offset, or -1 when it failed. */
  offset: number;
  /** null on success; otherwise Kafka's error name and the broker's message. */
  error: string | null;
}

export interface ProducerOptions {
  /** A CompressionType code (none, gzip, snappy, lz4, zstd). */
  compression: number;
  /** -1 (all) or 1, as Kafka's acks (0 gets no answer, so a tool could not report failures). */
  acks: -1 | 1;
}

export class Producer {
  private nextUnkeyedPartition = 0;

  constructor(
    private readonly cluster: ClusterClient,
    private readonly topic: TopicInfo,
    private readonly options: ProducerOptions,
  ) {}

  /** Sends `records` (one batch per partition) and resolves with one result per record. */
  async send(records: readonly ProducerRecord[]): Promise<RecordResult[]> {
    const partitionOf = records.map((record) => this.partitionFor(record));
    const results: RecordResult[] = partitionOf.map((partition) => ({ partition, offset: -1, error: null }));
    const byPartition = new Map<number, number[]>();
    partitionOf.forEach((partition, index) => byPartition.set(partition, [...(byPartition.get(partition) ?? []), index]));
    const leaders = groupByLeader(this.topic.partitions.filter((info) => byPartition.has(info.partition)));
    await Promise.all([...leaders].map(([leader, partitions]) => this.sendToLeader(leader, partitions, byPartition, records, results)));
    return results;
  }

  private async sendToLeader(leader: number, partitions: number[], byPartition: Map<number, number[]>, records: readonly ProducerRecord[], results: RecordResult[]): Promise<void> {
    const now = Date.now();
    const partitionData = partitions.map((partition) => ({
      index: partition,
      records: buildRecordBatchSync(
        byPartition.get(partition)!.map((index) => ({ ...records[index]!, timestamp: records[index]!.timestamp ?? now })),
        { compression: this.options.compression },
      ),
    }));
    const fail = (error: string) => {
      for (const partition of partitions) for (const index of byPartition.get(partition)!) results[index]!.error = error;
    };
    try {
      const response = await this.cluster.request(ProduceApi, {
        transactionalId: null,
        acks: this.options.acks,
        timeoutMs: 30_000,
        topicData: [{ name: this.topic.name, partitionData }],
      }, { address: await this.cluster.addressOf(leader), minVersion: 3, maxVersion: 9 });
      for (const answer of response.responses[0]?.partitionResponses ?? []) {
        const indexes = byPartition.get(answer.index) ?? [];
        indexes.forEach((recordIndex, position) => {
          const result = results[recordIndex]!;
          if (answer.errorCode !== ErrorCode.NONE) result.error = `${errorName(answer.errorCode)}${answer.errorMessage ? `: ${answer.errorMessage}` : ''}`;
          else result.offset = Number(answer.baseOffset) + position;
        });
      }
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    }
  }

  private partitionFor(record: ProducerRecord): number {
    const count = this.topic.partitions.length;
    if (record.partition !== undefined) return record.partition;
    if (record.key !== null) return toPositive(murmur2(record.key)) % count;
    const partition = this.nextUnkeyedPartition % count;
    this.nextUnkeyedPartition++;
    return partition;
  }
}

/** The partitions of a topic, checked to contain `partition` when one is given. */
export function checkPartition(topic: TopicInfo, partition: number | undefined): PartitionInfo | undefined {
  if (partition === undefined) return undefined;
  const found = topic.partitions.find((info) => info.partition === partition);
  if (!found) throw new Error(`topic '${topic.name}' has no partition ${partition} (it has ${topic.partitions.length})`);
  return found;
}

function toPositive(hash: number): number {
  return hash & 0x7fffffff;
}

/** Kafka's murmur2 (seed 0x9747b28c), so keys land where Java and librdkafka's murmur2 put them. */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length - (length % 4);
  for (let index = 0; index < whole; index += 4) {
    let k = data[index]! | (data[index + 1]! << 8) | (data[index + 2]! << 16) | (data[index + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length % 4;
  if (rest === 3) h ^= data[whole + 2]! << 16;
  if (rest >= 2) h ^= data[whole + 1]! << 8;
  if (rest >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}
