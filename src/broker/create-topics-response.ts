// CreateTopics between the wire and the controller: the request's topics as the controller takes
// them, and the response built from its results; the same for a client's request
// (handlers/19-create-topics.ts) and for one another broker sent the active controller
// (controller-channel.ts).
import { ErrorCode } from '../base/error-codes.js';
import { ZERO_UUID } from '../base/uuid.js';
import type { CreateTopicRequest, TopicResult } from '../metadata/controller.js';
import type { CreatableTopicConfigs } from '../protocol/messages/create-topics.js';
import type { CreateTopicsRequest, CreateTopicsResponse } from '../protocol/messages/index.js';

export function createTopicsResponse(results: readonly TopicResult[], configsOf: (name: string) => CreatableTopicConfigs[] | null): CreateTopicsResponse {
  return {
    throttleTimeMs: 0,
    topics: results.map((result) => ({
      name: result.name,
      topicId: result.topicId ?? ZERO_UUID,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      numPartitions: result.numPartitions,
      replicationFactor: result.replicationFactor,
      configs: result.errorCode === ErrorCode.NONE ? configsOf(result.name) : null,
    })),
  };
}

/** The request's topics as the controller takes them. */
export function createTopicRequestsOf(request: CreateTopicsRequest): CreateTopicRequest[] {
  return request.topics.map((topic) => ({
    name: topic.name,
    numPartitions: topic.numPartitions,
    replicationFactor: topic.replicationFactor,
    assignments: topic.assignments.map(({ partitionIndex, brokerIds }) => ({ partitionIndex, brokerIds })),
    configs: topic.configs.map(({ name, value }) => ({ name, value })),
  }));
}
