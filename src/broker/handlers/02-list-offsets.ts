// ListOffsets (key 2), versions 0-10.
// Offsets by time: earliest (-2, the log start offset), latest (-1, the high watermark; under
// read_committed the last stable offset, below any open transaction), max timestamp (-3), earliest
// local (-4, the log start offset: every segment is local), latest tiered (-5, -1: nothing is
// tiered) and the first offset at or after a timestamp, found through the time index.
// Version notes: v2+ isolation level; v4+ CurrentLeaderEpoch checked and LeaderEpoch returned;
// v5+ may see OFFSET_NOT_AVAILABLE (older versions LEADER_NOT_AVAILABLE instead, both retriable):
// right after a leader change the new leader's high watermark, learnt from follower fetches, may
// lag records the previous leader already acknowledged, so while it is below the log end this
// replica had when it became leader of its epoch (KIP-207), a client's (ReplicaId -1, v1+) latest,
// and a timestamp or max-timestamp lookup that finds nothing or finds an offset at or above the
// high watermark (the last stable offset under read_committed), are refused rather than answered
// with an end that would go back; earliest offsets are answered. The special timestamps need the version that introduced them
// (-3 v7, -4 v8, -5 v9), and an older version or an unknown negative timestamp gets
// UNSUPPORTED_VERSION for that partition, as Kafka's broker answers. v10 (KIP-1075) adds TimeoutMs,
// the time a broker may wait for offsets held in remote (tiered) storage; this broker has no
// remote storage, so every lookup is local and answered at once, and the field changes nothing.
// Some clients take v10 as the sign of a 4.0 broker (kafka-python 2.0.2 cannot name one at all).
//
// v0 is served although Apache Kafka 4.0 removed it (KIP-896): clients set up for brokers older
// than 0.10.1 (kafka-python with such an api_version, librdkafka with such a
// broker.version.fallback, 0.8/0.9-era tools) still send it. Its
// answer is an old-style offset list, computed as Kafka 3.x did (UnifiedLog.legacyFetchOffsetsBefore):
// the candidate offsets are each segment's base offset (raised to the log start offset) and, when
// the active segment holds data, the log end offset (whose time is now); -1 starts from the last
// candidate, -2 from the first, a timestamp from the last candidate whose time is at or before it;
// up to MaxNumOffsets candidates from there going back, in descending order. For a consumer
// (ReplicaId -1) offsets above the high watermark are replaced by the high watermark. A segment's
// time was its file's modification time in Kafka; here it is the segment's largest timestamp (the
// time retention uses, and the segment's creation time while it holds no timestamp), because the
// file system port keeps no modification times and a copied or restored log would lose them.
// Other negative timestamps get UNSUPPORTED_VERSION; a MaxNumOffsets of 0 or less an empty list.
// Authorization (with an authorizer): DESCRIBE on each topic, else TOPIC_AUTHORIZATION_FAILED for
// its partitions, as Kafka's KafkaApis.
import { AclOperation } from '../../metadata/acl.js';
import { ErrorCode } from '../../base/error-codes.js';
import { isKafkaError } from '../../base/kafka-error.js';
import { ListOffsetsApi, type ListOffsetsRequest, type ListOffsetsResponse } from '../../protocol/messages/index.js';
import type { Partition } from '../../replication/partition.js';
import { type BrokerServices, notLedHereError } from '../broker-services.js';
import { defineHandler } from './handler.js';

type PartitionResponse = ListOffsetsResponse['topics'][number]['partitions'][number];
type PartitionRequest = ListOffsetsRequest['topics'][number]['partitions'][number];

export const ListOffsetsTimestamp = { latest: -1, earliest: -2, maxTimestamp: -3, earliestLocal: -4, latestTiered: -5 } as const;

/** The first version that may ask for each special (negative) timestamp (Kafka's ReplicaManager table). */
const TIMESTAMP_MIN_VERSION = new Map<number, number>([
  [ListOffsetsTimestamp.latest, 0],
  [ListOffsetsTimestamp.earliest, 0],
  [ListOffsetsTimestamp.maxTimestamp, 7],
  [ListOffsetsTimestamp.earliestLocal, 8],
  [ListOffsetsTimestamp.latestTiered, 9],
]);

const CONSUMER_REPLICA_ID = -1;
const READ_COMMITTED = 1;

export const listOffsetsHandler = defineHandler({
  api: ListOffsetsApi,
  minVersion: 0,
  maxVersion: 10,
  async handle(request, { broker, apiVersion, connection }) {
    const isolation = (request.isolationLevel ?? 0) === READ_COMMITTED;
    const topics = await Promise.all(
      request.topics.map(async (topic) => {
        const allowed = broker.authorization.topic(connection, AclOperation.DESCRIBE, topic.name);
        const lookUpOne = (wanted: PartitionRequest) => {
          if (!allowed) return answer(wanted.partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1, -1, -1);
          if (apiVersion === 0) return legacyLookUp(broker, topic.name, wanted, request.replicaId === CONSUMER_REPLICA_ID);
          return lookUp(broker, topic.name, wanted, apiVersion, { readCommitted: isolation, fromClient: request.replicaId === CONSUMER_REPLICA_ID });
        };
        return { name: topic.name, partitions: await Promise.all(topic.partitions.map(lookUpOne)) };
      }),
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

function timestampUnsupported(timestamp: number, version: number): boolean {
  if (timestamp >= 0) return false;
  const minVersion = TIMESTAMP_MIN_VERSION.get(timestamp);
  return minVersion === undefined || version < minVersion;
}

/** Who asks: a client (ReplicaId -1) under its isolation level, or a replica or tool. */
interface Asker {
  readonly readCommitted: boolean;
  readonly fromClient: boolean;
}

async function lookUp(broker: BrokerServices, topic: string, wanted: PartitionRequest, version: number, asker: Asker): Promise<PartitionResponse> {
  const partitionIndex = wanted.partitionIndex;
  const timestamp = Number(wanted.timestamp);
  if (timestampUnsupported(timestamp, version)) return answer(partitionIndex, ErrorCode.UNSUPPORTED_VERSION, -1, -1, -1);
  const partition = broker.replicaManager.get(topic, partitionIndex);
  if (!partition) return answer(partitionIndex, notLedHereError(broker, topic, partitionIndex), -1, -1, -1);
  const epochError = partition.leaderEpochError(wanted.currentLeaderEpoch ?? -1);
  if (epochError !== ErrorCode.NONE) return answer(partitionIndex, epochError, -1, -1, -1);
  // Only a client is refused while a new leader's high watermark lags its epoch start (KIP-207).
  const lagging = asker.fromClient && partition.highWatermarkBehindEpochStart;
  const notAvailable = answer(partitionIndex, version >= 5 ? ErrorCode.OFFSET_NOT_AVAILABLE : ErrorCode.LEADER_NOT_AVAILABLE, -1, -1, -1);
  if (lagging && timestamp === ListOffsetsTimestamp.latest) return notAvailable;
  try {
    const found = await offsetFor(partition, timestamp, asker.readCommitted);
    if (lagging && mayLieBeyondHighWatermark(timestamp) && (found.offset === -1 || found.offset >= lastFetchableOffset(partition, asker.readCommitted))) return notAvailable;
    return answer(partitionIndex, ErrorCode.NONE, found.timestamp, found.offset, found.offset === -1 ? -1 : partition.leaderEpoch);
  } catch (error) {
    if (!isKafkaError(error)) throw error;
    return answer(partitionIndex, error.errorCode, -1, -1, -1);
  }
}

/**
 * Lookups whose answer may depend on records the lagging high watermark does not cover yet: a
 * timestamp or the max timestamp found nothing below it, or something at or above it (Kafka's
 * ReplicaManager refuses those too). Earliest offsets and latest tiered (-1 here) do not.
 */
function mayLieBeyondHighWatermark(timestamp: number): boolean {
  return timestamp >= 0 || timestamp === ListOffsetsTimestamp.maxTimestamp;
}

function lastFetchableOffset(partition: Partition, readCommitted: boolean): number {
  const log = partition.log;
  return readCommitted ? log.producerState.lastStableOffset(log.highWatermark) : log.highWatermark;
}

async function offsetFor(partition: Partition, timestamp: number, readCommitted: boolean): Promise<{ offset: number; timestamp: number }> {
  const log = partition.log;
  switch (timestamp) {
    case ListOffsetsTimestamp.latest:
      return { offset: lastFetchableOffset(partition, readCommitted), timestamp: -1 };
    case ListOffsetsTimestamp.earliest:
    case ListOffsetsTimestamp.earliestLocal:
      return { offset: log.logStartOffset, timestamp: -1 };
    case ListOffsetsTimestamp.latestTiered:
      return { offset: -1, timestamp: -1 };
    case ListOffsetsTimestamp.maxTimestamp:
      return (await partition.maxTimestampOffset()) ?? { offset: -1, timestamp: -1 };
    default:
      return (await partition.offsetForTimestamp(timestamp)) ?? { offset: -1, timestamp: -1 };
  }
}

/** ListOffsets v0: an old-style offset list (see the header). */
async function legacyLookUp(broker: BrokerServices, topic: string, wanted: PartitionRequest, fromConsumer: boolean): Promise<PartitionResponse> {
  const partitionIndex = wanted.partitionIndex;
  const timestamp = Number(wanted.timestamp);
  if (timestamp < ListOffsetsTimestamp.earliest) return answer(partitionIndex, ErrorCode.UNSUPPORTED_VERSION, -1, -1, -1);
  const partition = broker.replicaManager.get(topic, partitionIndex);
  if (!partition) return answer(partitionIndex, notLedHereError(broker, topic, partitionIndex), -1, -1, -1);
  try {
    const offsets = await offsetsBefore(partition, timestamp, wanted.maxNumOffsets ?? 1, broker.clock.nowMs());
    const highWatermark = partition.log.highWatermark;
    const visible = fromConsumer && offsets.some((offset) => offset > highWatermark) ? [highWatermark, ...offsets.filter((offset) => offset <= highWatermark)] : offsets;
    return { ...answer(partitionIndex, ErrorCode.NONE, -1, -1, -1), oldStyleOffsets: visible.map(BigInt) };
  } catch (error) {
    return answer(partitionIndex, isKafkaError(error) ? error.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR, -1, -1, -1);
  }
}

async function offsetsBefore(partition: Partition, timestamp: number, maxNumOffsets: number, nowMs: number): Promise<number[]> {
  const log = partition.log;
  const logEndOffset = log.logEndOffset;
  // A segment rolled for a write still in flight starts beyond the log end: not a candidate yet.
  const segments = log.segments().filter((segment) => segment.baseOffset <= logEndOffset);
  await Promise.all(segments.map((segment) => log.ensureLoaded(segment)));
  const candidates = segments.map((segment) => ({ offset: Math.max(segment.baseOffset, log.logStartOffset), timeMs: segment.largestTimestamp }));
  const last = segments.at(-1);
  if (last === undefined || logEndOffset > last.baseOffset) candidates.push({ offset: logEndOffset, timeMs: nowMs });
  let start: number;
  if (timestamp === ListOffsetsTimestamp.latest) start = candidates.length - 1;
  else if (timestamp === ListOffsetsTimestamp.earliest) start = 0;
  else start = candidates.findLastIndex((candidate) => candidate.timeMs <= timestamp);
  const count = Math.max(0, Math.min(maxNumOffsets, start + 1));
  const offsets: number[] = [];
  for (let index = start; offsets.length < count; index -= 1) offsets.push(candidates[index]!.offset);
  return offsets.sort((a, b) => b - a);
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
