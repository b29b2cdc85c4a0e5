// OffsetCommit (key 8), versions 0-9.
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
// 2.1+); v2-4 retention time; v6+ leader epoch; v7+ group.instance.id; v8+ flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { OffsetCommitApi, type OffsetCommitRequest, type OffsetCommitResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const offsetCommitHandler = defineHandler({
  api: OffsetCommitApi,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, { broker, connection, apiVersion }) {
    if (!broker.authorization.group(connection, AclOperation.READ, request.groupId)) return everyPartition(request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const refused = new Set(request.topics.map((topic) => topic.name).filter((name) => !broker.authorization.topic(connection, AclOperation.READ, name)));
    const offsets = request.topics
      .filter((topic) => !refused.has(topic.name))
      .flatMap((topic) =>
        topic.partitions.map((partition) => ({
          topic: topic.name,
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
    let index = 0;
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => ({
          partitionIndex: partition.partitionIndex,
          errorCode: refused.has(topic.name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : errors[index++]!,
        })),
      })),
    };
  },
  errorResponse(request, errorCode) {
    return everyPartition(request, errorCode);
  },
});

function everyPartition(request: OffsetCommitRequest, errorCode: number): OffsetCommitResponse {
  return {
    throttleTimeMs: 0,
    topics: request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode })),
    })),
  };
}
