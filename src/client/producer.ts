// A small producer for tools and Connect: picks each record's partition (Kafka's murmur2 of the
// key, or round-robin for records without a key), builds one record batch per topic partition with
// the chosen codec, and sends one Produce request per leader. Results come back per record, in order.
import { ErrorCode, errorName } from '../base/error-codes.js';
import { ProduceApi } from '../protocol/messages/index.js';
import { buildRecordBatchSync } from '../protocol/records/record-batch.js';
import type { RecordHeader } from '../protocol/records/record.js';
import type { PartitionInfo, TopicInfo } from './admin-client.js';
import type { ClusterClient } from './cluster-client.js';

export interface ProducerRecord {
  /** The topic, when the producer knows more than one (else its only topic). */
  topic?: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** A fixed partition; otherwise the partitioner decides. */
  partition?: number;
  timestamp?: number;
}

export interface RecordResult {
  topic: string;
  partition: number;
  /** The record's offset, or -1 when it failed. */
  offset: number;
  /** null on success; otherwise Kafka's error name and the broker's message. */
  error: string | null;
  /** Kafka's error code, or -1 when the request failed (connection lost, timed out). */
  errorCode: number;
}

export interface ProducerOptions {
  /** A CompressionType code (none, gzip, snappy, lz4, zstd). */
  compression: number;
  /** -1 (all) or 1, as Kafka's acks (0 gets no answer, so a tool could not report failures). */
  acks: -1 | 1;
}

export class Producer {
  private readonly partitioner = new Partitioner();
  private readonly topics = new Map<string, TopicInfo>();

  constructor(
    private readonly cluster: ClusterClient,
    topics: TopicInfo | readonly TopicInfo[],
    private readonly options: ProducerOptions,
  ) {
    for (const topic of Array.isArray(topics) ? topics : [topics as TopicInfo]) this.topics.set(topic.name, topic);
  }

  /** Adds a topic, or replaces what the producer knows of it (new leaders, more partitions). */
  setTopic(topic: TopicInfo): void {
    this.topics.set(topic.name, topic);
  }

  hasTopic(name: string): boolean {
    return this.topics.has(name);
  }

  /**
   * Sends `records` and resolves with one result per record. Each partition's records go as
   * batches of at most BATCH_BYTES_MAX (Kafka's max.request.size, 1 MiB), one batch per partition
   * per request as Produce v3+ requires, the next only after the one before it was written: a
   * batch whose predecessor failed is not sent (it fails with the same error), so a caller that
   * retries what failed keeps each partition in order.
   */
  async send(records: readonly ProducerRecord[]): Promise<RecordResult[]> {
    const results: RecordResult[] = records.map((record) => {
      const topic = this.topicOf(record);
      return { topic: topic.name, partition: this.partitionFor(topic, record), offset: -1, error: null, errorCode: ErrorCode.NONE };
    });
    // Per "topic partition", its leader and its records' indexes in batches.
    const partitions = new Map<PartitionKey, { leader: number; batches: number[][]; lastBatchBytes: number }>();
    results.forEach((result, index) => {
      const key = partitionKey(result.topic, result.partition);
      let entry = partitions.get(key);
      if (!entry) {
        const leader = this.topics.get(result.topic)!.partitions.find((info) => info.partition === result.partition)?.leader ?? -1;
        entry = { leader, batches: [], lastBatchBytes: 0 };
        partitions.set(key, entry);
      }
      const last = entry.batches.at(-1);
      const size = estimatedSize(records[index]!);
      if (last && entry.lastBatchBytes + size <= BATCH_BYTES_MAX) {
        last.push(index);
        entry.lastBatchBytes += size;
      } else {
        entry.batches.push([index]);
        entry.lastBatchBytes = size;
      }
    });
    const rounds = Math.max(0, ...[...partitions.values()].map((entry) => entry.batches.length));
    for (let round = 0; round < rounds; round++) {
      const byLeader = new Map<number, Map<PartitionKey, number[]>>();
      for (const [key, { leader, batches }] of partitions) {
        const batch = batches[round];
        if (!batch) continue;
        const failed = round > 0 ? results[batches[round - 1]![0]!]! : undefined;
        if (failed && failed.error !== null) {
          for (const index of batch) Object.assign(results[index]!, { error: failed.error, errorCode: failed.errorCode });
          continue;
        }
        const forLeader = byLeader.get(leader) ?? new Map<PartitionKey, number[]>();
        byLeader.set(leader, forLeader);
        forLeader.set(key, batch);
      }
      await Promise.all([...byLeader].map(([leader, batches]) => this.sendToLeader(leader, batches, records, results)));
    }
    return results;
  }

  private async sendToLeader(leader: number, partitions: Map<PartitionKey, number[]>, records: readonly ProducerRecord[], results: RecordResult[]): Promise<void> {
    const now = Date.now();
    const fail = (error: string, errorCode: number) => {
      for (const indexes of partitions.values()) {
        for (const index of indexes) Object.assign(results[index]!, { error, errorCode });
      }
    };
    if (leader < 0) return fail('LEADER_NOT_AVAILABLE: the partition has no leader', ErrorCode.LEADER_NOT_AVAILABLE);
    const topicData = new Map<string, { index: number; records: Buffer }[]>();
    for (const indexes of partitions.values()) {
      const { topic, partition } = results[indexes[0]!]!;
      const batch = buildRecordBatchSync(indexes.map((index) => ({ ...records[index]!, timestamp: records[index]!.timestamp ?? now })), { compression: this.options.compression });
      topicData.set(topic, [...(topicData.get(topic) ?? []), { index: partition, records: batch }]);
    }
    try {
      const response = await this.cluster.request(ProduceApi, {
        transactionalId: null,
        acks: this.options.acks,
        timeoutMs: 30_000,
        topicData: [...topicData].map(([name, partitionData]) => ({ name, partitionData })),
      }, { address: await this.cluster.addressOf(leader), minVersion: 3, maxVersion: 9 });
      for (const topicResponse of response.responses) {
        for (const answer of topicResponse.partitionResponses) {
          const indexes = partitions.get(partitionKey(topicResponse.name, answer.index)) ?? [];
          indexes.forEach((recordIndex, position) => {
            const result = results[recordIndex]!;
            if (answer.errorCode !== ErrorCode.NONE) {
              result.error = `${errorName(answer.errorCode)}${answer.errorMessage ? `: ${answer.errorMessage}` : ''}`;
              result.errorCode = answer.errorCode;
            } else result.offset = Number(answer.baseOffset) + position;
          });
        }
      }
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error), -1);
    }
  }

  private topicOf(record: ProducerRecord): TopicInfo {
    if (record.topic === undefined) {
      if (this.topics.size !== 1) throw new Error('a record without a topic, and the producer knows several');
      return this.topics.values().next().value!;
    }
    const topic = this.topics.get(record.topic);
    if (!topic) throw new Error(`the producer does not know topic '${record.topic}'`);
    return topic;
  }

  private partitionFor(topic: TopicInfo, record: ProducerRecord): number {
    return this.partitioner.partitionFor(topic, record);
  }
}

/** Kafka's default partitioning: the record's own partition, else murmur2 of its key, else round-robin per topic. */
export class Partitioner {
  private readonly nextUnkeyed = new Map<string, number>();

  partitionFor(topic: TopicInfo, record: { key: Buffer | null; partition?: number }): number {
    const count = topic.partitions.length;
    if (record.partition !== undefined && record.partition !== null) return record.partition;
    if (record.key !== null) return toPositive(murmur2(record.key)) % count;
    const next = this.nextUnkeyed.get(topic.name) ?? 0;
    this.nextUnkeyed.set(topic.name, next + 1);
    return next % count;
  }
}

/** The most bytes (keys, values and headers, estimated) of one partition's batch: Kafka's max.request.size. */
const BATCH_BYTES_MAX = 1024 * 1024 - 16 * 1024;

function estimatedSize(record: ProducerRecord): number {
  let size = 24 + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const header of record.headers) size += 8 + Buffer.byteLength(header.key) + (header.value?.length ?? 0);
  return size;
}

type PartitionKey = string;
const partitionKey = (topic: string, partition: number): PartitionKey => `${partition}:${topic}`;

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
