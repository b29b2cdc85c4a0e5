// The CreateTopics response built from the controller's results: the same for a client's request
// (handlers/19-create-topics.ts) and for one another broker sent the active controller
// (controller-channel.ts).
import { ErrorCode } from '../base/error-codes.js';
import { ZERO_UUID } from '../base/uuid.js';
import type { TopicResult } from '../metadata/controller.js';
import type { CreatableTopicConfigs } from '../protocol/messages/create-topics.js';
import type { CreateTopicsResponse } from '../protocol/messages/index.js';

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
