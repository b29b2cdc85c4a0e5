// DeleteTopics (key 20), versions 0-6.
// Deletes topics through the controller; their logs are removed when the metadata log says so.
// Version notes: v0-5 name topics in TopicNames; v6+ in Topics by name or topic id
// (UNKNOWN_TOPIC_ID for unknown ids); v5+ carries error messages.
import { ErrorCode } from '../../base/error-codes.js';
import { ZERO_UUID } from '../../base/uuid.js';
import { DeleteTopicsApi, type DeleteTopicsRequest } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

function requestedTopics(request: DeleteTopicsRequest, apiVersion: number) {
  if (apiVersion >= 6) {
    return (request.topics ?? []).map((topic) => ({ name: topic.name ?? null, topicId: topic.topicId && topic.topicId !== ZERO_UUID ? topic.topicId : null }));
  }
  return (request.topicNames ?? []).map((name) => ({ name, topicId: null }));
}

export const deleteTopicsHandler = defineHandler({
  api: DeleteTopicsApi,
  minVersion: 0,
  maxVersion: 6,
  forwardToController: true,
  async handle(request, { broker, apiVersion }) {
    if (!broker.config.deleteTopicEnable) return errorBody(request, apiVersion, ErrorCode.TOPIC_DELETION_DISABLED);
    const results = await broker.controller.deleteTopics(requestedTopics(request, apiVersion));
    return {
      throttleTimeMs: 0,
      responses: results.map((result) => ({
        name: result.name,
        topicId: result.topicId ?? ZERO_UUID,
        errorCode: result.errorCode,
        errorMessage: result.errorMessage,
      })),
    };
  },
  errorResponse(request, errorCode, { apiVersion }) {
    return errorBody(request, apiVersion, errorCode);
  },
});

function errorBody(request: DeleteTopicsRequest, apiVersion: number, errorCode: number) {
  return {
    throttleTimeMs: 0,
    responses: requestedTopics(request, apiVersion).map((topic) => ({
      name: topic.name,
      topicId: topic.topicId ?? ZERO_UUID,
      errorCode,
      errorMessage: null,
    })),
  };
}
