// OffsetCommit (key 8), versions 0-10.
// Stores committed offsets (with metadata and leader epoch) as records in `__consumer_offsets`
// before answering. Members are fenced by generation and member id; commits with generation -1
// (simple consumers, tools) are accepted while the group has no active members.
// UNKNOWN_TOPIC_OR_PARTITION for partitions that do not exist, OFFSET_METADATA_TOO_LARGE past
// offset.metadata.max.bytes.
// Authorizes as Kafka's KafkaApis: READ on the group (else GROUP_AUTHORIZATION_FAILED for every
// partition), then READ on each topic (else TOPIC_AUTHORIZATION_FAILED for its partitions, ahead
// of UNKNOWN_TOPIC_OR_PARTITION, so a refused client learns nothing of which topics exist); only
// the authorized partitions reach the coordinator, and with none that exists, no group at all.
// Version notes: v0 no generation or member; v1 per-partition commit timestamp (ignored, as Kafka
// 2.1+); v2-4 retention time; v6+ leader epoch; v7+ group.instance.id; v8+ flexible; v10 (Kafka
// 4.2, KIP-848) names topics by id, in the request and the response: an id the metadata does not
// know answers UNKNOWN_TOPIC_ID for its partitions (before authorization, as Kafka, since there
// is no name to authorize), the others are committed by name as below v10.
import { ErrorCode } from '../../base/error-codes.js';
import { ZERO_UUID } from '../../base/uuid.js';
import { AclOperation } from '../../metadata/acl.js';
import { OffsetCommitApi, type OffsetCommitRequest, type OffsetCommitResponse } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

/** The first version that names topics by id instead of by name. */
const TOPIC_ID_VERSION = 10;

type RequestTopic = OffsetCommitRequest['topics'][number];

export const offsetCommitHandler = defineHandler({
  api: OffsetCommitApi,
  minVersion: 0,
  maxVersion: 10,
  async handle(request, { broker, connection, apiVersion }) {
    if (!broker.authorization.group(connection, AclOperation.READ, request.groupId)) return everyPartition(request, ErrorCode.GROUP_AUTHORIZATION_FAILED, apiVersion);
    const names = request.topics.map((topic) => topicName(broker, topic, apiVersion));
    const topicErrors = names.map((name) => {
      if (name === undefined) return ErrorCode.UNKNOWN_TOPIC_ID;
      return broker.authorization.topic(connection, AclOperation.READ, name) ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    });
    const offsets = request.topics
      .flatMap((topic, index) => (topicErrors[index] === ErrorCode.NONE ? [{ topic, name: names[index]! }] : []))
      .flatMap(({ topic, name }) =>
        topic.partitions.map((partition) => ({
          topic: name,
          partition: partition.partitionIndex,
          offset: Number(partition.committedOffset),
          leaderEpoch: partition.committedLeaderEpoch ?? -1,
          metadata: partition.committedMetadata,
        })),
      );
    const retentionTimeMs = apiVersion >= 2 && apiVersion <= 4 ? Number(request.retentionTimeMs ?? -1n) : -1;
    // With every topic refused nothing reaches a group (the coordinator answers a commit of no
    // existing partition itself), as Kafka answers without asking its coordinator.
    const errors = await broker.groupCoordinator.commitOffsets({
      groupId: request.groupId,
      apiVersion,
      generationId: apiVersion >= 1 ? (request.generationIdOrMemberEpoch ?? -1) : -1,
      memberId: apiVersion >= 1 ? (request.memberId ?? '') : '',
      groupInstanceId: request.groupInstanceId ?? null,
      retentionTimeMs,
      offsets,
    });
    let next = 0;
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic, index) => ({
        ...topicKey(topic, apiVersion),
        partitions: topic.partitions.map((partition) => ({
          partitionIndex: partition.partitionIndex,
          errorCode: topicErrors[index] !== ErrorCode.NONE ? topicErrors[index]! : errors[next++]!,
        })),
      })),
    };
  },
  errorResponse(request, errorCode, { apiVersion }) {
    return everyPartition(request, errorCode, apiVersion);
  },
});

/** The topic's name: as sent below v10; from v10 the name of its id, undefined when the id is unknown. */
function topicName(broker: BrokerServices, topic: RequestTopic, apiVersion: number): string | undefined {
  if (apiVersion < TOPIC_ID_VERSION) return topic.name ?? '';
  return broker.image.topicsById.get(topic.topicId ?? ZERO_UUID)?.name;
}

/** How a response names a topic: as the request did (its id from v10, else its name). */
function topicKey(topic: RequestTopic, apiVersion: number): { name: string } | { topicId: string } {
  return apiVersion >= TOPIC_ID_VERSION ? { topicId: topic.topicId ?? ZERO_UUID } : { name: topic.name ?? '' };
}

function everyPartition(request: OffsetCommitRequest, errorCode: number, apiVersion: number): OffsetCommitResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((topic) => ({
      ...topicKey(topic, apiVersion),
      partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode })),
    })),
  };
}
