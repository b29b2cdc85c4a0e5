// OffsetDelete (key 47), version 0.
// Deletes a group's committed offsets for some partitions; GROUP_SUBSCRIBED_TO_TOPIC for topics an
// active member still subscribes to, GROUP_ID_NOT_FOUND for unknown groups, as Kafka.
import { OffsetDeleteApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const offsetDeleteHandler = defineHandler({
  api: OffsetDeleteApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker }) {
    const result = await broker.groupCoordinator.deleteOffsets(
      request.groupId,
      request.topics.map(({ name, partitions }) => ({ topic: name, partitions: partitions.map((partition) => partition.partitionIndex) })),
    );
    return {
      errorCode: result.errorCode,
      throttleTimeMs: 0,
      topics: result.topics.map(({ topic, partitions }) => ({
        name: topic,
        partitions: partitions.map(({ partition, errorCode }) => ({ partitionIndex: partition, errorCode })),
      })),
    };
  },
  errorResponse(_request, errorCode) {
    return { errorCode, throttleTimeMs: 0, topics: [] };
  },
});
