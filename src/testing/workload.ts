// Queue workloads against a real broker over TCP that record a History: pipelined raw producers
// (the project's own protocol client, no retries, so every outcome is exact), a kafkajs producer,
// a reader that polls partitions to their end while checking the CRC of every served batch, and
// offset commits with read-back. Tests inject faults between these steps and run the checker.
import { Kafka, logLevel } from 'kafkajs';
import { KafkaConnection } from '../client/kafka-connection.js';
import { connectTcp } from '../node/tcp-byte-stream.js';
import { CreateTopicsApi, FetchApi, FindCoordinatorApi, OffsetCommitApi, OffsetFetchApi, ProduceApi } from '../protocol/messages/index.js';
import { hasValidCrc, isControlBatch } from '../protocol/records/batch-header.js';
import { buildRecordBatchSync, decodeRecordBatchSync, recordBatchSpans } from '../protocol/records/record-batch.js';
import type { History } from './history.js';

/** A seeded source of numbers in [0, 1) (mulberry32), so a failing run replays from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rejects if `promise` has not settled within `timeoutMs`: a hung broker fails the test, never hangs it. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Creates a topic with topic configs; fails unless the broker created it now. */
export async function createTopic(address: string, topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const connection = await KafkaConnection.open(connectTcp, address, 'workload-admin');
  try {
    const response = await withTimeout(
      connection.send(CreateTopicsApi, 7, {
        topics: [{ name: topic, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
        timeoutMs: 10_000,
        validateOnly: false,
      }),
      15_000,
      `CreateTopics ${topic}`,
    );
    const result = response.topics[0];
    if (result?.errorCode !== 0) throw new Error(`CreateTopics ${topic}: error ${result?.errorCode} ${result?.errorMessage ?? ''}`);
  } finally {
    connection.close();
  }
}

export interface RawProducerOptions {
  address: string;
  process: string;
  topic: string;
  partitions: readonly number[];
  acks: -1 | 0 | 1;
  /** Produce requests kept in flight on the connection (the broker serves five at once). */
  pipelineDepth?: number;
  /** Records per batch are 1..maxRecordsPerBatch. */
  maxRecordsPerBatch?: number;
  /** Padding bytes per value are 0..maxPaddingBytes, so segments fill and roll. */
  maxPaddingBytes?: number;
  random: () => number;
  /** Stop after this many batches (default: until stop() or the connection dies). */
  maxBatches?: number;
}

export interface RunningProducer {
  readonly acknowledgedRecords: number;
  readonly errors: readonly string[];
  /** Stops sending; resolves once every request in flight has settled. */
  stop(): Promise<void>;
  /** Resolves when the producer has stopped on its own (connection lost, maxBatches reached). */
  readonly done: Promise<void>;
}

interface ProducerState {
  sequence: number;
  inFlight: number;
  acknowledged: number;
  stopped: boolean;
  closed: boolean;
  errors: string[];
}

/**
 * Keeps `pipelineDepth` produce requests in flight on one connection, recording each value as
 * a send: 'ok' with its offset, 'fail' with the error code, 'unknown' when the connection died
 * before the answer. Values are `<process>-<batch>-<index>`, unique per history.
 */
export async function startRawProducer(history: History, options: RawProducerOptions): Promise<RunningProducer> {
  const connection = await KafkaConnection.open(connectTcp, options.address, options.process);
  const state: ProducerState = { sequence: 0, inFlight: 0, acknowledged: 0, stopped: false, closed: false, errors: [] };
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const settleIfIdle = () => {
    if ((state.stopped || state.closed) && state.inFlight === 0) {
      connection.close();
      finish();
    }
  };
  const pump = () => {
    while (!state.stopped && !state.closed && state.inFlight < (options.pipelineDepth ?? 4)) {
      if (options.maxBatches !== undefined && state.sequence >= options.maxBatches) state.stopped = true;
      else sendOne(history, options, connection, state, () => {
        pump();
        settleIfIdle();
      });
    }
    settleIfIdle();
  };
  pump();
  return {
    get acknowledgedRecords() {
      return state.acknowledged;
    },
    get errors() {
      return state.errors;
    },
    async stop() {
      state.stopped = true;
      settleIfIdle();
      await done;
    },
    done,
  };
}

/**
 * Produce errors that do not say the batch was not written: REQUEST_TIMED_OUT (7: acks=all gave up
 * waiting for replicas, the leader has it) and NOT_ENOUGH_REPLICAS_AFTER_APPEND (20). Their sends are
 * recorded as 'unknown'; every other error is a refusal ('fail'), and reading its value is an anomaly.
 */
const INDETERMINATE_PRODUCE_ERRORS = new Set([7, 20]);

function sendOne(history: History, options: RawProducerOptions, connection: KafkaConnection, state: ProducerState, next: () => void): void {
  const batchNumber = state.sequence++;
  const partition = options.partitions[batchNumber % options.partitions.length]!;
  const count = 1 + Math.floor(options.random() * (options.maxRecordsPerBatch ?? 5));
  const padding = Math.floor(options.random() * (options.maxPaddingBytes ?? 40));
  const values = Array.from({ length: count }, (_, index) => `${options.process}-${batchNumber}-${index}`);
  const batch = buildRecordBatchSync(values.map((value) => ({ key: Buffer.from(options.process), value: Buffer.from(`${value}|${'x'.repeat(padding)}`) })));
  const record = (outcome: 'ok' | 'fail' | 'unknown', baseOffset?: number, error?: string) => {
    values.forEach((value, index) => {
      const offset = outcome === 'ok' && baseOffset !== undefined && baseOffset >= 0 ? baseOffset + index : undefined;
      history.send({ process: options.process, topic: options.topic, partition, value, outcome, ...(offset !== undefined ? { offset } : {}), ...(error ? { error } : {}) });
    });
  };
  state.inFlight += 1;
  const request = { transactionalId: null, acks: options.acks, timeoutMs: 10_000, topicData: [{ name: options.topic, partitionData: [{ index: partition, records: batch }] }] };
  if (options.acks === 0) {
    // No answer comes for acks=0: the send is recorded as unknown, as nothing was promised.
    void connection.send(ProduceApi, 9, request).catch(() => {});
    record('unknown');
    state.inFlight -= 1;
    queueMicrotask(next);
    return;
  }
  connection.send(ProduceApi, 9, request).then(
    (response) => {
      const result = response.responses[0]?.partitionResponses[0];
      if (result && result.errorCode === 0) {
        record('ok', Number(result.baseOffset));
        state.acknowledged += count;
      } else {
        const error = `error ${result?.errorCode} ${result?.errorMessage ?? ''}`.trim();
        state.errors.push(`${options.topic}-${partition}: ${error}`);
        record(INDETERMINATE_PRODUCE_ERRORS.has(result?.errorCode ?? -1) ? 'unknown' : 'fail', undefined, error);
      }
    },
    (error: unknown) => {
      // The broker died with the request in flight: it may or may not have been written.
      state.closed = true;
      record('unknown', undefined, String(error));
    },
  ).finally(() => {
    state.inFlight -= 1;
    next();
  });
}

export interface ReadOptions {
  address: string;
  process: string;
  topic: string;
  partitions: readonly number[];
  /** Where each partition's reading starts (default 0). */
  fromOffsets?: ReadonlyMap<number, number>;
  isolation?: 'read_uncommitted' | 'read_committed';
  timeoutMs?: number;
  /** Error codes that end a partition's read (recorded in `partitionErrors`) instead of failing it. */
  stopAtErrorCodes?: readonly number[];
}

export interface ReadResult {
  /** Records polled per partition. */
  records: Map<number, number>;
  highWatermarks: Map<number, number>;
  /** Served batches whose CRC did not match, or that did not decode: must stay empty. */
  corruptBatches: string[];
  batches: number;
  /** Partitions whose start offset was past their end, so they were read from offset 0. */
  rereadFromStart: number[];
  /** Partitions whose read ended with one of `stopAtErrorCodes`, and that code. */
  partitionErrors: Map<number, number>;
}

/**
 * Reads every partition from its start offset to the high watermark, recording each record as a
 * poll (after an 'assign' event) and checking the CRC of every batch the broker serves.
 */
export async function readToEnd(history: History, options: ReadOptions): Promise<ReadResult> {
  const connection = await KafkaConnection.open(connectTcp, options.address, options.process);
  const result: ReadResult = { records: new Map(), highWatermarks: new Map(), corruptBatches: [], batches: 0, rereadFromStart: [], partitionErrors: new Map() };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  history.assign(options.process, options.topic, [...options.partitions]);
  try {
    for (const partition of options.partitions) {
      let offset = options.fromOffsets?.get(partition) ?? 0;
      result.records.set(partition, 0);
      for (;;) {
        if (Date.now() > deadline) throw new Error(`reading ${options.topic}-${partition} did not reach the end before the deadline (at ${offset})`);
        const fetched = await withTimeout(fetchOnce(connection, options, partition, offset), 15_000, `fetch ${options.topic}-${partition}@${offset}`);
        if (fetched.errorCode === OFFSET_OUT_OF_RANGE && offset > 0 && result.records.get(partition) === 0) {
          // The log ends below where this reader stopped last time: read it all again.
          result.rereadFromStart.push(partition);
          offset = 0;
          continue;
        }
        if (fetched.errorCode !== 0 && options.stopAtErrorCodes?.includes(fetched.errorCode)) {
          result.partitionErrors.set(partition, fetched.errorCode);
          break;
        }
        if (fetched.errorCode !== 0) throw new Error(`fetch ${options.topic}-${partition}@${offset}: error ${fetched.errorCode}`);
        result.highWatermarks.set(partition, fetched.highWatermark);
        const nextOffset = recordBatches(history, options, partition, offset, fetched.records, result);
        if (nextOffset === offset) break;
        offset = nextOffset;
        if (offset >= fetched.highWatermark) break;
      }
    }
  } finally {
    connection.close();
  }
  return result;
}

const OFFSET_OUT_OF_RANGE = 1;

async function fetchOnce(connection: KafkaConnection, options: ReadOptions, partition: number, offset: number): Promise<{ errorCode: number; records: Buffer | null; highWatermark: number }> {
  const response = await connection.send(FetchApi, 12, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 8 * 1024 * 1024,
    isolationLevel: options.isolation === 'read_committed' ? 1 : 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: options.topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1024 * 1024 }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  const data = response.responses[0]?.partitions[0];
  if (!data) throw new Error(`fetch ${options.topic}-${partition}: empty response`);
  return { errorCode: data.errorCode, records: data.records ?? null, highWatermark: Number(data.highWatermark) };
}

/** Records the polls of one fetch's batches; returns the offset to fetch next. */
function recordBatches(history: History, options: ReadOptions, partition: number, offset: number, records: Buffer | null, result: ReadResult): number {
  if (!records || records.length === 0) return offset;
  let next = offset;
  for (const span of recordBatchSpans(records)) {
    result.batches += 1;
    if (!hasValidCrc(records, span.position)) {
      result.corruptBatches.push(`${options.topic}-${partition}: batch at fetch offset ${offset}, byte ${span.position}: CRC mismatch`);
      continue;
    }
    const batch = decodeRecordBatchSync(records, span.position);
    next = batch.baseOffset + batch.lastOffsetDelta + 1;
    if (isControlBatch(records, span.position)) continue;
    for (const record of batch.records) {
      if (record.offset < offset) continue;
      const value = (record.value?.toString() ?? '').split('|')[0]!;
      history.poll({ process: options.process, topic: options.topic, partition, offset: record.offset, value, isolation: options.isolation ?? 'read_uncommitted' });
      result.records.set(partition, (result.records.get(partition) ?? 0) + 1);
    }
  }
  return next;
}

/** Finds the group's coordinator (which creates `__consumer_offsets` on first use). */
export async function findCoordinator(address: string, group: string): Promise<void> {
  const connection = await KafkaConnection.open(connectTcp, address, 'workload-coordinator');
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const response = await withTimeout(connection.send(FindCoordinatorApi, 3, { key: group, keyType: 0 }), 15_000, 'FindCoordinator');
      if (response.errorCode === 0) return;
      // COORDINATOR_NOT_AVAILABLE while the offsets topic is being created: ask again.
      if (Date.now() > deadline) throw new Error(`FindCoordinator(${group}) kept failing with ${response.errorCode}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    connection.close();
  }
}

/**
 * Commits `offsets` (partition -> next offset) for `group` outside the group protocol
 * (generation -1), recording each as a commit with its outcome.
 */
export async function commitOffsets(history: History, connection: KafkaConnection, process: string, group: string, topic: string, offsets: ReadonlyMap<number, number>): Promise<boolean> {
  const partitions = [...offsets].map(([partitionIndex, offset]) => ({ partitionIndex, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: '' }));
  try {
    const response = await connection.send(OffsetCommitApi, 8, { groupId: group, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, topics: [{ name: topic, partitions }] });
    const byPartition = new Map(response.topics[0]?.partitions.map((partition) => [partition.partitionIndex, partition.errorCode]) ?? []);
    for (const [partition, offset] of offsets) history.commit({ process, group, topic, partition, offset, outcome: byPartition.get(partition) === 0 ? 'ok' : 'fail' });
    return [...byPartition.values()].every((code) => code === 0);
  } catch {
    for (const [partition, offset] of offsets) history.commit({ process, group, topic, partition, offset, outcome: 'unknown' });
    return false;
  }
}

/** Reads the group's committed offsets back with OffsetFetch, recording each as a committed-read. */
export async function readCommittedOffsets(history: History, address: string, process: string, group: string, topic: string, partitions: readonly number[]): Promise<Map<number, number>> {
  const connection = await KafkaConnection.open(connectTcp, address, process);
  try {
    const response = await withTimeout(connection.send(OffsetFetchApi, 7, { groupId: group, topics: [{ name: topic, partitionIndexes: [...partitions] }], requireStable: true }), 15_000, 'OffsetFetch');
    if (response.errorCode) throw new Error(`OffsetFetch(${group}): error ${response.errorCode}`);
    const offsets = new Map<number, number>();
    for (const partition of response.topics?.[0]?.partitions ?? []) {
      if (partition.errorCode !== 0) throw new Error(`OffsetFetch(${group}) ${topic}-${partition.partitionIndex}: error ${partition.errorCode}`);
      offsets.set(partition.partitionIndex, Number(partition.committedOffset));
      history.committedRead({ process, group, topic, partition: partition.partitionIndex, offset: Number(partition.committedOffset) });
    }
    return offsets;
  } finally {
    connection.close();
  }
}

export interface KafkajsProduceOptions {
  bootstrapServers: string;
  process: string;
  topic: string;
  partitions: number;
  batches: number;
  recordsPerBatch: number;
  acks: -1 | 1;
}

/**
 * Produces with kafkajs's own producer (its batching, framing and retries), one send per batch to
 * a chosen partition, recording each value with the offset kafkajs reports.
 */
export async function produceWithKafkajs(history: History, options: KafkajsProduceOptions): Promise<void> {
  const kafka = new Kafka({ clientId: options.process, brokers: [options.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const sends = Array.from({ length: options.batches }, async (_, batchNumber) => {
      const partition = batchNumber % options.partitions;
      const values = Array.from({ length: options.recordsPerBatch }, (_, index) => `${options.process}-${batchNumber}-${index}`);
      try {
        const [metadata] = await producer.send({ topic: options.topic, acks: options.acks, messages: values.map((value) => ({ value, partition })) });
        const baseOffset = Number(metadata?.baseOffset ?? -1);
        values.forEach((value, index) => history.send({ process: options.process, topic: options.topic, partition, value, outcome: 'ok', offset: baseOffset + index }));
      } catch (error) {
        values.forEach((value) => history.send({ process: options.process, topic: options.topic, partition, value, outcome: 'unknown', error: String(error) }));
      }
    });
    await Promise.all(sends);
  } finally {
    await producer.disconnect();
  }
}
