// DeleteShareGroupOffsets (key 92), version 0 (KIP-932): deletes an empty share group's
// share-partition state of the named topics (src/coordinator/group/share-group-offsets.ts); a
// member subscribing later starts them afresh from share.auto.offset.reset. Errors as Kafka's
// KafkaApis: share groups switched off is UNSUPPORTED_VERSION; without DELETE on the group,
// GROUP_AUTHORIZATION_FAILED; a topic without READ answers TOPIC_AUTHORIZATION_FAILED; a missing
// group (or one of another type) GROUP_ID_NOT_FOUND and a group with members NON_EMPTY_GROUP, at
// the top level.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { DeleteShareGroupOffsetsApi } from '../../protocol/messages/index.js';
import { ZERO_TOPIC_ID } from '../../coordinator/group/share-group-offsets.js';
import { defineHandler } from './handler.js';

export const deleteShareGroupOffsetsHandler = defineHandler({
  api: DeleteShareGroupOffsetsApi,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker, connection }) {
    const fail = (errorCode: number, errorMessage: string | null = null) => ({ throttleTimeMs: 0, errorCode, errorMessage, responses: [] });
    if (!broker.config.shareGroups.enabled) return fail(ErrorCode.UNSUPPORTED_VERSION);
    if (!broker.authorization.group(connection, AclOperation.DELETE, request.groupId)) return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const readable = request.topics.filter((topic) => broker.authorization.topic(connection, AclOperation.READ, topic.topicName));
    const refused = request.topics
      .filter((topic) => !readable.includes(topic))
      .map((topic) => ({ topicName: topic.topicName, topicId: ZERO_TOPIC_ID, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null }));
    const result = await broker.groupCoordinator.deleteShareGroupOffsets(
      request.groupId,
      readable.map((topic) => topic.topicName),
    );
    if (result.errorCode !== ErrorCode.NONE) return fail(result.errorCode, result.errorMessage);
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses: [...refused, ...result.responses] };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, responses: [] };
  },
});
