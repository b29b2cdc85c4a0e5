// Topic set-up for load tools: create a topic if it is missing and learn its partitions and their
// start or end offsets, each with one request.
import { CreateTopicsApi, ListOffsetsApi, MetadataApi } from '../protocol/messages/index.js';
import type { PipelinedConnection } from './pipelined-connection.js';

const TOPIC_ALREADY_EXISTS = 36;
const CREATE_TIMEOUT_MS = 60_000;
/** ListOffsets timestamps: the log start (-2) or the log end (-1). */
export const EARLIEST_TIMESTAMP = -2n;
export const LATEST_TIMESTAMP = -1n;

/** Creates `topic` with `partitions` partitions unless it exists; returns its partition count. */
export async function ensureTopic(connection: PipelinedConnection, topic: string, partitions: number | undefined): Promise<number> {
  const existing = await partitionCount(connection, topic);
  if (existing > 0) return existing;
  const response = await connection.send(CreateTopicsApi, 4, {
    topics: [{ name: topic, numPartitions: partitions ?? 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: CREATE_TIMEOUT_MS,
    validateOnly: false,
  });
  const result = response.topics[0];
  if (result && result.errorCode !== 0 && result.errorCode !== TOPIC_ALREADY_EXISTS) {
    throw new Error(`creating topic ${topic} failed: error ${result.errorCode} ${result.errorMessage ?? ''}`);
  }
  return partitionCount(connection, topic);
}

/** The topic's partition count, or 0 when it does not exist. */
export async function partitionCount(connection: PipelinedConnection, topic: string): Promise<number> {
  const response = await connection.send(MetadataApi, 4, { topics: [{ name: topic }], allowAutoTopicCreation: false });
  const found = response.topics.find((entry) => entry.name === topic);
  return found && found.errorCode === 0 ? found.partitions.length : 0;
}

/** Offsets of `partitions` at `timestamp` (EARLIEST_TIMESTAMP or LATEST_TIMESTAMP). */
export async function listOffsets(connection: PipelinedConnection, topic: string, partitions: number[], timestamp: bigint): Promise<Map<number, number>> {
  const response = await connection.send(ListOffsetsApi, 2, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
  });
  const offsets = new Map<number, number>();
  for (const entry of response.topics[0]?.partitions ?? []) {
    if (entry.errorCode !== 0) throw new Error(`ListOffsets for ${topic}-${entry.partitionIndex} failed: error ${entry.errorCode}`);
    offsets.set(entry.partitionIndex, Number(entry.offset ?? 0n));
  }
  return offsets;
}
