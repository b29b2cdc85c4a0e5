// OffsetDelete (key 47), version 0.
// Deletes a group's committed offsets for some partitions; GROUP_SUBSCRIBED_TO_TOPIC for topics an
// active member still subscribes to, GROUP_ID_NOT_FOUND for unknown groups, as Kafka.
// Authorizes as Kafka's KafkaApis: DELETE on the group (else GROUP_AUTHORIZATION_FAILED), then
// READ on each topic: a refused topic's partitions answer TOPIC_AUTHORIZATION_FAILED (listed first,
// as Kafka merges them) unless the group itself fails, whose error then stands alone.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { OffsetDeleteApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const offsetDeleteHandler = defineHandler({
  api: OffsetDeleteApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker, connection }) {
    const { authorization } = broker;
    if (!authorization.group(connection, AclOperation.DELETE, request.groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
    const refused = new Set(request.topics.map(({ name }) => name).filter((name) => !authorization.topic(connection, AclOperation.READ, name)));
    const result = await broker.groupCoordinator.deleteOffsets(
      request.groupId,
      request.topics.filter(({ name }) => !refused.has(name)).map(({ name, partitions }) => ({ topic: name, partitions: partitions.map((partition) => partition.partitionIndex) })),
    );
    const answered = result.topics.map(({ topic, partitions }) => ({
      name: topic,
      partitions: partitions.map(({ partition, errorCode }) => ({ partitionIndex: partition, errorCode })),
    }));
    // A group-level error replaces the refused topics' errors, as Kafka's OffsetDeleteResponse.Builder.merge does.
    if (result.errorCode !== ErrorCode.NONE) return { errorCode: result.errorCode, throttleTimeMs: 0, topics: answered };
    const refusedTopics = request.topics
      .filter(({ name }) => refused.has(name))
      .map(({ name, partitions }) => ({ name, partitions: partitions.map(({ partitionIndex }) => ({ partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })) }));
    return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics: [...refusedTopics, ...answered] };
  },
  errorResponse(_request, errorCode) {
    return { errorCode, throttleTimeMs: 0, topics: [] };
  },
});
