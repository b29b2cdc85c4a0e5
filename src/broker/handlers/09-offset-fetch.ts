// OffsetFetch (key 9), versions 0-10.
// Returns a group's committed offsets (-1 and empty metadata where none is committed) for the
// requested partitions, or for every committed partition when topics is null (v2+).
// Version notes: v0-1 errors only per partition; v2+ a top-level error; v5+ leader epoch; v7+
// RequireStable: a partition with an offset an open transaction holds answers
// UNSTABLE_OFFSET_COMMIT (KIP-447; Java and librdkafka read_committed consumers ask for it); v8+
// batched groups, each with its own error (platformatic and Java send only these); v9 the member
// id and epoch of a KIP-848 consumer group's member (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH); v10
// (Kafka 4.2, KIP-848) names topics by id: ids the metadata does not know answer UNKNOWN_TOPIC_ID
// per partition after the group's other topics, as Kafka's KafkaApis, and a fetch of every
// committed offset leaves out topics that no longer have an id (deleted ones).
// Authorizes as Kafka's KafkaApis: DESCRIBE on each group (else GROUP_AUTHORIZATION_FAILED), and
// DESCRIBE on each topic: one asked for without it answers TOPIC_AUTHORIZATION_FAILED, and a fetch
// of all the group's offsets (topics null) leaves such topics out.
import { ErrorCode } from '../../base/error-codes.js';
import { ZERO_UUID } from '../../base/uuid.js';
import type { FetchingMember, OffsetFetchResult } from '../../coordinator/group/group-coordinator.js';
import { AclOperation } from '../../metadata/acl.js';
import { OffsetFetchApi } from '../../protocol/messages/index.js';
import type { OffsetFetchRequestTopics, OffsetFetchResponse, OffsetFetchResponseTopics } from '../../protocol/messages/offset-fetch.js';
import type { BrokerServices } from '../broker-services.js';
import type { ConnectionInfo } from '../network/index.js';
import { defineHandler } from './handler.js';

const BATCHED_VERSION = 8;
const TOP_LEVEL_ERROR_VERSION = 2;
const TOPIC_ID_VERSION = 10;

type RequestedTopics = { name: string; partitionIndexes: number[] }[] | null | undefined;
type BatchedTopics = OffsetFetchRequestTopics[] | null;
type ResponseTopics = OffsetFetchResponseTopics[];

export const offsetFetchHandler = defineHandler({
  api: OffsetFetchApi,
  minVersion: 0,
  maxVersion: 10,
  async handle(request, { broker, connection, apiVersion }): Promise<OffsetFetchResponse> {
    const requireStable = apiVersion >= 7 && request.requireStable === true;
    const fetch = (groupId: string, topics: RequestedTopics, member?: FetchingMember) => fetchGroup(broker, connection, groupId, topics, requireStable, apiVersion, member);
    if (apiVersion >= BATCHED_VERSION) {
      const groups = [];
      for (const group of request.groups ?? []) {
        // v9 (KIP-848): a consumer group's member fetches as itself, checked against its epoch.
        const member = apiVersion >= 9 ? { memberId: group.memberId ?? null, memberEpoch: group.memberEpoch ?? -1 } : undefined;
        if (apiVersion < TOPIC_ID_VERSION) {
          const result = await fetch(group.groupId, group.topics as RequestedTopics, member);
          groups.push({ groupId: group.groupId, errorCode: result.errorCode, topics: toTopics(result) });
          continue;
        }
        const { known, unknownIds } = namedTopics(broker, group.topics);
        const result = await fetch(group.groupId, known, member);
        const topics = result.errorCode === ErrorCode.NONE ? [...byTopicId(broker, toTopics(result)), ...unknownIds.map(unknownTopicId)] : [];
        groups.push({ groupId: group.groupId, errorCode: result.errorCode, topics });
      }
      return { throttleTimeMs: 0, groups };
    }
    return singleGroupResponse(await fetch(request.groupId ?? '', request.topics), apiVersion);
  },
  errorResponse(request, errorCode, { apiVersion }) {
    if (apiVersion >= BATCHED_VERSION) {
      return { throttleTimeMs: 0, groups: (request.groups ?? []).map((group) => ({ groupId: group.groupId, errorCode, topics: [] })) };
    }
    return singleGroupResponse(withRequestedOnError({ errorCode, topics: [] }, request.topics), apiVersion);
  },
});

/**
 * One group's offsets as this principal may see them (Kafka's KafkaApis): DESCRIBE on the group,
 * else GROUP_AUTHORIZATION_FAILED as Kafka's OffsetFetchResponse.groupError puts it (on every
 * requested partition below v2, only the group's error from v2); of the topics asked for, those
 * without DESCRIBE answer TOPIC_AUTHORIZATION_FAILED after the others; a fetch of every committed
 * offset leaves them out.
 */
async function fetchGroup(
  broker: BrokerServices,
  connection: ConnectionInfo,
  groupId: string,
  requested: RequestedTopics,
  requireStable: boolean,
  apiVersion: number,
  member: FetchingMember | undefined,
): Promise<OffsetFetchResult> {
  const { authorization, groupCoordinator } = broker;
  if (!authorization.group(connection, AclOperation.DESCRIBE, groupId)) {
    const refused = { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
    return apiVersion < TOP_LEVEL_ERROR_VERSION ? withRequestedOnError(refused, requested) : refused;
  }
  if (!requested) {
    const result = await groupCoordinator.fetchOffsets(groupId, null, requireStable, member);
    if (result.errorCode !== ErrorCode.NONE) return result;
    return { errorCode: result.errorCode, topics: result.topics.filter(({ topic }) => authorization.topic(connection, AclOperation.DESCRIBE, topic)) };
  }
  const authorized = requested.filter(({ name }) => authorization.topic(connection, AclOperation.DESCRIBE, name));
  const fetched = await groupCoordinator.fetchOffsets(groupId, authorized.map(({ name, partitionIndexes }) => ({ topic: name, partitions: partitionIndexes })), requireStable, member);
  const result = withRequestedOnError(fetched, authorized);
  if (result.errorCode !== ErrorCode.NONE || authorized.length === requested.length) return result;
  const refused = requested.filter((topic) => !authorized.includes(topic));
  return {
    errorCode: result.errorCode,
    topics: [
      ...result.topics,
      ...refused.map(({ name, partitionIndexes }) => ({
        topic: name,
        partitions: partitionIndexes.map((partition) => ({ partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
      })),
    ],
  };
}

/** On a group-level error, v0-1 can only report it per requested partition, so list those. */
function withRequestedOnError(result: OffsetFetchResult, requested: RequestedTopics): OffsetFetchResult {
  if (result.errorCode === ErrorCode.NONE || !requested) return result;
  return {
    errorCode: result.errorCode,
    topics: requested.map(({ name, partitionIndexes }) => ({
      topic: name,
      partitions: partitionIndexes.map((partition) => ({ partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: result.errorCode })),
    })),
  };
}

function toTopics(result: OffsetFetchResult) {
  return result.topics.map(({ topic, partitions }) => ({
    name: topic,
    partitions: partitions.map((partition) => ({
      partitionIndex: partition.partition,
      committedOffset: BigInt(partition.offset),
      committedLeaderEpoch: partition.leaderEpoch,
      metadata: partition.metadata,
      errorCode: partition.errorCode,
    })),
  }));
}

function singleGroupResponse(result: OffsetFetchResult, apiVersion: number): OffsetFetchResponse {
  // Below v2 there is no top-level error; the per-partition codes carry it.
  return { throttleTimeMs: 0, errorCode: apiVersion >= TOP_LEVEL_ERROR_VERSION ? result.errorCode : ErrorCode.NONE, topics: toTopics(result) };
}

/** v10's requested topics by name, those whose id the metadata knows; the others apart. */
function namedTopics(broker: BrokerServices, requested: BatchedTopics): { known: RequestedTopics; unknownIds: { topicId: string; partitionIndexes: number[] }[] } {
  if (!requested) return { known: null, unknownIds: [] };
  const known: { name: string; partitionIndexes: number[] }[] = [];
  const unknownIds: { topicId: string; partitionIndexes: number[] }[] = [];
  for (const { topicId = ZERO_UUID, partitionIndexes } of requested) {
    const topic = broker.image.topicsById.get(topicId);
    if (topic) known.push({ name: topic.name, partitionIndexes });
    else unknownIds.push({ topicId, partitionIndexes });
  }
  return { known, unknownIds };
}

/** v10's response topics by id instead of name; a topic without an id (deleted since) cannot be named, so it is left out, as Kafka. */
function byTopicId(broker: BrokerServices, topics: ResponseTopics): ResponseTopics {
  return topics.flatMap(({ name, partitions }) => {
    const topic = broker.image.topicsByName.get(name ?? '');
    return topic ? [{ topicId: topic.topicId, partitions }] : [];
  });
}

function unknownTopicId({ topicId, partitionIndexes }: { topicId: string; partitionIndexes: number[] }): OffsetFetchResponseTopics {
  return {
    topicId,
    partitions: partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNKNOWN_TOPIC_ID })),
  };
}
