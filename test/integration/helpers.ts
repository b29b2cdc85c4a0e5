// Shared steps of the integration suites: an in-process broker on port 0 with a raw client, topic
// creation, produce and fetch wrappers, and waiting for a condition with a deadline.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningBroker, startBroker } from '../../src/index.js';
import { ErrorCode } from '../../src/base/error-codes.js';
import {
  CreateTopicsApi,
  type CreateTopicsResponse,
  FetchApi,
  type FetchRequest,
  type FetchResponse,
  ListOffsetsApi,
  MetadataApi,
  type MetadataResponse,
  ProduceApi,
} from '../../src/protocol/messages/index.js';
import { type DecodedBatch, buildRecordBatchSync, decodeRecordBatchesSync } from '../../src/protocol/records/record-batch.js';
import type { RecordInput } from '../../src/protocol/records/record.js';
import { RawClient } from '../support/raw-client.js';

export type PartitionProduceResult = Awaited<ReturnType<typeof produce>>;
export type FetchedPartition = FetchResponse['responses'][number]['partitions'][number];

export interface TestBroker {
  running: RunningBroker;
  client: RawClient;
  /** Another connection to the same broker, closed with the rest. */
  connect(): Promise<RawClient>;
  close(): Promise<void>;
}

export interface TestBrokerOptions {
  config?: Record<string, string | number | boolean>;
  storage?: 'disk' | 'memory';
  dataDir?: string;
}

export async function startTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const running = await startBroker({
    port: 0,
    storage: options.storage ?? 'memory',
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.config ? { config: options.config } : {}),
  });
  const clients: RawClient[] = [];
  const connectClient = async () => {
    const client = await RawClient.connect(running.host, running.port);
    clients.push(client);
    return client;
  };
  const client = await connectClient();
  return {
    running,
    client,
    connect: connectClient,
    async close() {
      await Promise.all(clients.map((each) => each.close()));
      await running.close();
    },
  };
}

export async function temporaryDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'conveyor-it-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Polls `check` until it returns a value other than undefined/false, or fails at the deadline. */
export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, description: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delayMs = 5;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(delayMs * 2, 100);
  }
}

export async function createTopics(
  client: RawClient,
  topics: { name: string; numPartitions?: number; configs?: Record<string, string> }[],
  options: { version?: number; validateOnly?: boolean } = {},
): Promise<CreateTopicsResponse> {
  return client.request(CreateTopicsApi, options.version ?? 7, {
    topics: topics.map((topic) => ({
      name: topic.name,
      numPartitions: topic.numPartitions ?? 1,
      replicationFactor: 1,
      assignments: [],
      configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
    timeoutMs: 10_000,
    validateOnly: options.validateOnly ?? false,
  });
}

/** Creates one topic and fails the test unless the broker reports success. */
export async function createTopic(client: RawClient, name: string, numPartitions = 1, configs: Record<string, string> = {}): Promise<void> {
  const response = await createTopics(client, [{ name, numPartitions, configs }]);
  assert.equal(response.topics[0]?.errorCode, ErrorCode.NONE, `create ${name}: ${response.topics[0]?.errorMessage}`);
}

export async function metadata(client: RawClient, topics: string[] | null, version = 12, allowAutoTopicCreation = false): Promise<MetadataResponse> {
  return client.request(MetadataApi, version, {
    topics: topics === null ? null : topics.map((name) => ({ name })),
    allowAutoTopicCreation,
    includeTopicAuthorizedOperations: false,
  });
}

/** One batch v2 of records with values (and keys) from strings. */
export function batchOf(values: string[], options: Parameters<typeof buildRecordBatchSync>[1] = {}): Buffer {
  const records: RecordInput[] = values.map((value, index) => ({ key: Buffer.from(`k${index}`), value: Buffer.from(value) }));
  return buildRecordBatchSync(records, options);
}

/** Produces one records blob to one partition and returns that partition's response. */
export async function produce(client: RawClient, topic: string, partition: number, records: Buffer | null, options: { version?: number; acks?: number } = {}) {
  const response = await client.request(ProduceApi, options.version ?? 9, {
    transactionalId: null,
    acks: options.acks ?? 1,
    timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  const result = response.responses[0]?.partitionResponses[0];
  assert.ok(result, 'produce response has no partition');
  return result;
}

/** Produces and fails the test unless the append succeeded; returns the base offset. */
export async function produceOk(client: RawClient, topic: string, partition: number, records: Buffer, version = 9): Promise<number> {
  const result = await produce(client, topic, partition, records, { version });
  assert.equal(result.errorCode, ErrorCode.NONE, `produce to ${topic}-${partition}: ${result.errorMessage}`);
  return Number(result.baseOffset);
}

export interface FetchOptions {
  version?: number;
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  partitionMaxBytes?: number;
  currentLeaderEpoch?: number;
  topicId?: string;
}

export function fetchRequest(topic: string, partitions: { partition: number; fetchOffset: number }[], options: FetchOptions = {}): FetchRequest {
  return {
    replicaId: -1,
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 1,
    maxBytes: options.maxBytes ?? 50 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        ...(options.topicId ? { topicId: options.topicId } : {}),
        partitions: partitions.map(({ partition, fetchOffset }) => ({
          partition,
          currentLeaderEpoch: options.currentLeaderEpoch ?? -1,
          fetchOffset: BigInt(fetchOffset),
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: options.partitionMaxBytes ?? 1024 * 1024,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

/** Fetches one partition from one offset and returns that partition's data. */
export async function fetchPartition(client: RawClient, topic: string, partition: number, fetchOffset: number, options: FetchOptions = {}): Promise<FetchedPartition> {
  const response = await client.request(FetchApi, options.version ?? 12, fetchRequest(topic, [{ partition, fetchOffset }], options));
  assert.equal(response.errorCode ?? 0, ErrorCode.NONE);
  const data = response.responses[0]?.partitions[0];
  assert.ok(data, 'fetch response has no partition');
  return data;
}

export function decodeBatches(records: Buffer | null): DecodedBatch[] {
  return records ? [...decodeRecordBatchesSync(records)] : [];
}

/** Reads a partition from `fromOffset` to its high watermark, batch by batch. */
export async function readAll(client: RawClient, topic: string, partition: number, fromOffset = 0): Promise<DecodedBatch[]> {
  const batches: DecodedBatch[] = [];
  let offset = fromOffset;
  for (;;) {
    const data = await fetchPartition(client, topic, partition, offset);
    assert.equal(data.errorCode, ErrorCode.NONE, `fetch ${topic}-${partition}@${offset}`);
    const decoded = decodeBatches(data.records);
    if (decoded.length === 0) return batches;
    for (const batch of decoded) {
      if (batch.baseOffset + batch.lastOffsetDelta >= offset) batches.push(batch);
    }
    offset = decoded[decoded.length - 1]!.baseOffset + decoded[decoded.length - 1]!.lastOffsetDelta + 1;
    if (offset >= Number(data.highWatermark)) return batches;
  }
}

export function valuesOf(batches: DecodedBatch[]): string[] {
  return batches.flatMap((batch) => batch.records.map((record) => record.value?.toString() ?? '<null>'));
}

export async function listOffset(client: RawClient, topic: string, partition: number, timestamp: number, version = 7) {
  const response = await client.request(ListOffsetsApi, version, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: BigInt(timestamp), maxNumOffsets: 1 }] }],
    timeoutMs: 1000,
  });
  const result = response.topics[0]?.partitions[0];
  assert.ok(result, 'list offsets response has no partition');
  return result;
}

/** The bytes of a stored batch with the two fields the broker stamps (base offset, leader epoch) zeroed. */
export function withoutStampedFields(batch: Buffer): Buffer {
  const copy = Buffer.from(batch);
  copy.writeBigInt64BE(0n, 0);
  copy.writeInt32BE(0, 12);
  return copy;
}

let topicCounter = 0;
/** A topic name unique within this process. */
export function uniqueTopic(prefix = 'topic'): string {
  topicCounter += 1;
  return `${prefix}-${process.pid}-${topicCounter}`;
}
