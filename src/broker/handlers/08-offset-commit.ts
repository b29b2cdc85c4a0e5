// OffsetCommit (key 8), versions 0-9.
// Stores committed offsets (with metadata and leader epoch) as records in `__consumer_offsets`
// before answering. Members are fenced by generation and member id; commits with generation -1
// (simple consumers, tools) are accepted while the group has no active members.
// UNKNOWN_TOPIC_OR_PARTITION for partitions that do not exist, OFFSET_METADATA_TOO_LARGE past
// offset.metadata.max.bytes.
// Version notes: v0 no generation or member; v1 per-partition commit timestamp (ignored, as Kafka
// 2.1+); v2-4 retention time; v6+ leader epoch; v7+ group.instance.id; v8+ flexible.
import { OffsetCommitApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const offsetCommitHandler = defineHandler({
  api: OffsetCommitApi,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, { broker, apiVersion }) {
    const offsets = request.topics.flatMap((topic) =>
      topic.partitions.map((partition) => ({
        topic: topic.name,
        partition: partition.partitionIndex,
        offset: Number(partition.committedOffset),
        leaderEpoch: partition.committedLeaderEpoch ?? -1,
        metadata: partition.committedMetadata,
      })),
    );
    const retentionTimeMs = apiVersion >= 2 && apiVersion <= 4 ? Number(request.retentionTimeMs ?? -1n) : -1;
    const errors = await broker.groupCoordinator.commitOffsets({
      groupId: request.groupId,
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
        partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode: errors[index++]! })),
      })),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode })),
      })),
    };
  },
});
