// CreateTopics (key 19), versions 0-7.
// Creates topics through the controller: partition count, replication factor or manual replica
// assignment, and topic configs, each validated (INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
// INVALID_REPLICATION_FACTOR, INVALID_CONFIG naming the key, TOPIC_ALREADY_EXISTS).
// Version notes: v1+ validate_only; v5+ returns partitions, replication factor and configs; v7+
// the topic id.
import { ZERO_UUID } from '../../base/uuid.js';
import { ConfigResourceType } from '../../metadata/metadata-record.js';
import { effectiveTopicConfigs } from '../../metadata/topic-config.js';
import { CreateTopicsApi } from '../../protocol/messages/index.js';
import { createTopicRequestsOf, createTopicsResponse } from '../create-topics-response.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

export const createTopicsHandler = defineHandler({
  api: CreateTopicsApi,
  minVersion: 0,
  maxVersion: 7,
  forwardToController: true,
  async handle(request, { broker }) {
    const results = await broker.controller.createTopics(
      createTopicRequestsOf(request),
      request.validateOnly ?? false,
    );
    return createTopicsResponse(results, (name) => describedConfigs(broker, name, request.topics));
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        topicId: ZERO_UUID,
        errorCode,
        errorMessage: null,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      })),
    };
  },
});


function describedConfigs(broker: BrokerServices, name: string, requested: { name: string; configs: { name: string; value: string | null }[] }[]) {
  // With validate_only the topic does not exist, so its configs come from the request itself.
  const stored = broker.image.resourceConfigs(ConfigResourceType.topic, name);
  const overrides = broker.image.topic(name)
    ? stored
    : new Map((requested.find((topic) => topic.name === name)?.configs ?? []).flatMap(({ name: key, value }) => (value === null ? [] : [[key, value] as const])));
  return effectiveTopicConfigs(overrides, broker.config).map(({ name: key, value, source }) => ({
    name: key,
    value,
    readOnly: false,
    configSource: source,
    isSensitive: false,
  }));
}
