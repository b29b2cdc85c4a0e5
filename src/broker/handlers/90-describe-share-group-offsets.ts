// DescribeShareGroupOffsets (key 90), versions 0-1 (v1 adds Lag, KIP-1226): each share group's
// share-partition start offsets and leader epochs, from the share coordinators, and (v1) the lag
// per partition: end offset - start offset - records acknowledged or archived above it
// (src/coordinator/group/share-group-offsets.ts). Topics null asks for every partition the group
// initialized, an empty list for none.
// Authorization as Kafka's KafkaApis: DESCRIBE on the group, else GROUP_AUTHORIZATION_FAILED for
// it; DESCRIBE on each topic: with topics named, an unauthorized topic's partitions answer
// TOPIC_AUTHORIZATION_FAILED (start offset and lag -1); with topics null, unauthorized topics are
// left out. Share groups switched off (group.coordinator.rebalance.protocols without share):
// UNSUPPORTED_VERSION for each group.
// The end offset is the leader's high watermark (Kafka sends ListOffsets LATEST, READ_UNCOMMITTED,
// to each leader): read here for the partitions this broker leads, asked of the other leaders over
// the inter-broker transport; a leader that cannot be reached leaves the lag -1 (unknown).
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { DescribeShareGroupOffsetsApi, type DescribeShareGroupOffsetsResponse, ListOffsetsApi, type ListOffsetsResponse } from '../../protocol/messages/index.js';
import { type EndOffset, type EndOffsetWanted, type ShareGroupOffsetsResult, ZERO_TOPIC_ID, endOffsetKey } from '../../coordinator/group/share-group-offsets.js';
import type { Transport } from '../../protocol/transport.js';
import { type BrokerServices, notLedHereError } from '../broker-services.js';
import { defineHandler } from './handler.js';

type ResponseGroup = DescribeShareGroupOffsetsResponse['groups'][number];
type ResponseTopic = ResponseGroup['topics'][number];

export const describeShareGroupOffsetsHandler = defineHandler({
  api: DescribeShareGroupOffsetsApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, { broker, connection }) {
    const groups = await Promise.all(
      request.groups.map(async (group): Promise<ResponseGroup> => {
        if (!broker.config.shareGroups.enabled) return groupError(group.groupId, ErrorCode.UNSUPPORTED_VERSION);
        if (!broker.authorization.group(connection, AclOperation.DESCRIBE, group.groupId)) return groupError(group.groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED);
        const canDescribe = (topic: string) => broker.authorization.topic(connection, AclOperation.DESCRIBE, topic);
        const endOffsets = partitionEndOffsets(broker, broker.peers);
        if (group.topics === null) {
          // Clients may not see offsets of topics they may not describe.
          const described = await broker.groupCoordinator.describeShareGroupOffsets(group.groupId, null, endOffsets);
          return responseGroup({ ...described, topics: described.topics.filter((topic) => canDescribe(topic.topicName)) });
        }
        if (group.topics.length === 0) return { groupId: group.groupId, topics: [], errorCode: ErrorCode.NONE, errorMessage: null };
        const authorized = group.topics.filter((topic) => canDescribe(topic.topicName));
        const refused = group.topics.filter((topic) => !canDescribe(topic.topicName));
        const described = await broker.groupCoordinator.describeShareGroupOffsets(group.groupId, authorized, endOffsets);
        if (described.errorCode !== ErrorCode.NONE) return responseGroup(described);
        const answered = responseGroup(described);
        return { ...answered, topics: [...answered.topics, ...refused.map((topic) => refusedTopic(topic.topicName, topic.partitions))] };
      }),
    );
    return { throttleTimeMs: 0, groups };
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, groups: request.groups.map((group) => groupError(group.groupId, errorCode)) };
  },
});

/** How long a leader may take to answer ListOffsets (Kafka's request.timeout.ms default is 30 s; a describe should not wait that long). */
const LIST_OFFSETS_TIMEOUT_MS = 5000;
/** ListOffsets v7: the version with isolation level and current leader epoch that every broker here serves. */
const LIST_OFFSETS_VERSION = 7;
const LATEST_TIMESTAMP = -1n;
const READ_UNCOMMITTED = 0;
/** A broker's ListOffsets, as a follower fetching would send it; -1 is a consumer. */
const CONSUMER_REPLICA_ID = -1;

/**
 * The end offsets of `partitions`: the high watermark of those this broker leads; with a
 * `transport`, one ListOffsets LATEST (READ_UNCOMMITTED) per other leader, as Kafka's
 * NetworkPartitionMetadataClient. Without one, or when the leader cannot be reached, the end
 * offset is unknown (lag -1); an error a leader answers is the partition's error.
 */
export function partitionEndOffsets(broker: BrokerServices, transport: Transport | undefined) {
  return async (partitions: readonly EndOffsetWanted[]): Promise<Map<string, EndOffset>> => {
    const ends = new Map<string, EndOffset>();
    const byLeader = new Map<number, EndOffsetWanted[]>();
    for (const wanted of partitions) {
      const key = endOffsetKey(wanted.topicId, wanted.partition);
      const partition = broker.replicaManager.get(wanted.topicName, wanted.partition);
      if (partition !== undefined) {
        ends.set(key, { offset: partition.log.highWatermark });
        continue;
      }
      const errorCode = notLedHereError(broker, wanted.topicName, wanted.partition);
      const leader = broker.image.topic(wanted.topicName)?.partitions.get(wanted.partition)?.leader ?? -1;
      if (errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER) ends.set(key, { errorCode });
      else if (transport !== undefined && leader >= 0 && leader !== broker.nodeId) byLeader.set(leader, [...(byLeader.get(leader) ?? []), wanted]);
    }
    await Promise.all([...byLeader].map(([leader, wanted]) => askLeader(transport!, leader, wanted, ends)));
    return ends;
  };
}

async function askLeader(transport: Transport, leader: number, wanted: readonly EndOffsetWanted[], ends: Map<string, EndOffset>): Promise<void> {
  const byTopic = new Map<string, EndOffsetWanted[]>();
  for (const entry of wanted) byTopic.set(entry.topicName, [...(byTopic.get(entry.topicName) ?? []), entry]);
  const request = {
    replicaId: CONSUMER_REPLICA_ID,
    isolationLevel: READ_UNCOMMITTED,
    topics: [...byTopic].map(([name, entries]) => ({ name, partitions: entries.map((entry) => ({ partitionIndex: entry.partition, currentLeaderEpoch: -1, timestamp: LATEST_TIMESTAMP })) })),
  };
  let response: ListOffsetsResponse;
  try {
    response = await transport.send(leader, ListOffsetsApi, LIST_OFFSETS_VERSION, request, LIST_OFFSETS_TIMEOUT_MS);
  } catch {
    // Unreachable leader: the lag is unknown, not an error of the group's.
    return;
  }
  for (const entry of wanted) {
    const answer = response.topics.find((topic) => topic.name === entry.topicName)?.partitions.find((partition) => partition.partitionIndex === entry.partition);
    if (answer === undefined) continue;
    ends.set(endOffsetKey(entry.topicId, entry.partition), answer.errorCode === ErrorCode.NONE ? { offset: Number(answer.offset ?? -1n) } : { errorCode: answer.errorCode });
  }
}

function responseGroup(result: ShareGroupOffsetsResult): ResponseGroup {
  return {
    groupId: result.groupId,
    errorCode: result.errorCode,
    errorMessage: result.errorMessage,
    topics: result.topics.map((topic) => ({
      topicName: topic.topicName,
      topicId: topic.topicId,
      partitions: topic.partitions.map((partition) => ({
        partitionIndex: partition.partitionIndex,
        startOffset: BigInt(partition.startOffset),
        leaderEpoch: partition.leaderEpoch,
        lag: BigInt(partition.lag),
        errorCode: partition.errorCode,
        errorMessage: partition.errorMessage,
      })),
    })),
  };
}

function refusedTopic(topicName: string, partitions: readonly number[]): ResponseTopic {
  return {
    topicName,
    topicId: ZERO_TOPIC_ID,
    partitions: partitions.map((partitionIndex) => ({ partitionIndex, startOffset: -1n, leaderEpoch: 0, lag: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null })),
  };
}

function groupError(groupId: string, errorCode: number): ResponseGroup {
  return { groupId, topics: [], errorCode, errorMessage: null };
}
