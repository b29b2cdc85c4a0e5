// ListOffsets (key 2), versions 1-9.
// Offsets by time: earliest (-2, the log start offset), latest (-1, the high watermark; under
// read_committed the last stable offset, below any open transaction), max timestamp (-3) and the
// first offset at or after a timestamp, found through the time index.
// Version notes: v2+ isolation level; v4+ CurrentLeaderEpoch checked and LeaderEpoch returned;
// v0 (old-style offset lists) is not served: no client in use sends it.
import { ErrorCode } from '../../base/error-codes.js';
import { isKafkaError } from '../../base/kafka-error.js';
import { ListOffsetsApi, type ListOffsetsResponse } from '../../protocol/messages/index.js';
import type { Partition } from '../../replication/partition.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

type PartitionResponse = ListOffsetsResponse['topics'][number]['partitions'][number];

export const ListOffsetsTimestamp = { latest: -1, earliest: -2, maxTimestamp: -3, earliestLocal: -4 } as const;

export const listOffsetsHandler = defineHandler({
  api: ListOffsetsApi,
  minVersion: 1,
  maxVersion: 9,
  async handle(request, { broker }) {
    const topics = await Promise.all(
      request.topics.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(
          topic.partitions.map((wanted) => lookUp(broker, topic.name, wanted.partitionIndex, wanted.currentLeaderEpoch ?? -1, Number(wanted.timestamp), (request.isolationLevel ?? 0) === READ_COMMITTED)),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((wanted) => answer(wanted.partitionIndex, errorCode, -1, -1, -1)),
      })),
    };
  },
});

const READ_COMMITTED = 1;

async function lookUp(broker: BrokerServices, topic: string, partitionIndex: number, currentLeaderEpoch: number, timestamp: number, readCommitted: boolean): Promise<PartitionResponse> {
  const partition = broker.replicaManager.get(topic, partitionIndex);
  if (!partition) return answer(partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1, -1, -1);
  const epochError = partition.leaderEpochError(currentLeaderEpoch);
  if (epochError !== ErrorCode.NONE) return answer(partitionIndex, epochError, -1, -1, -1);
  try {
    const found = await offsetFor(partition, timestamp, readCommitted);
    return answer(partitionIndex, ErrorCode.NONE, found.timestamp, found.offset, found.offset === -1 ? -1 : partition.leaderEpoch);
  } catch (error) {
    if (!isKafkaError(error)) throw error;
    return answer(partitionIndex, error.errorCode, -1, -1, -1);
  }
}

async function offsetFor(partition: Partition, timestamp: number, readCommitted: boolean): Promise<{ offset: number; timestamp: number }> {
  const log = partition.log;
  switch (timestamp) {
    case ListOffsetsTimestamp.latest:
      return { offset: readCommitted ? log.producerState.lastStableOffset(log.highWatermark) : log.highWatermark, timestamp: -1 };
    case ListOffsetsTimestamp.earliest:
    case ListOffsetsTimestamp.earliestLocal:
      return { offset: log.logStartOffset, timestamp: -1 };
    case ListOffsetsTimestamp.maxTimestamp:
      return (await partition.maxTimestampOffset()) ?? { offset: -1, timestamp: -1 };
    default:
      if (timestamp < 0) return { offset: -1, timestamp: -1 };
      return (await partition.offsetForTimestamp(timestamp)) ?? { offset: -1, timestamp: -1 };
  }
}

function answer(partitionIndex: number, errorCode: number, timestamp: number, offset: number, leaderEpoch: number): PartitionResponse {
  return {
    partitionIndex,
    errorCode,
    oldStyleOffsets: [],
    timestamp: BigInt(timestamp),
    offset: BigInt(offset),
    leaderEpoch,
  };
}
