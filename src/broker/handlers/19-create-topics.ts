// CreateTopics (key 19), versions 0-7.
// Creates topics through the controller: partition count, replication factor or manual replica
// assignment, and topic configs, each validated (INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
// INVALID_REPLICATION_FACTOR, INVALID_CONFIG naming the key, TOPIC_ALREADY_EXISTS).
// Authorizes as Kafka's ControllerApis.createTopics: CREATE on the cluster (not logged when denied)
// or else CREATE on each topic (TOPIC_AUTHORIZATION_FAILED, "Authorization failed.", nothing
// created or validated for it); a created topic's configs, partition count and replication factor
// are returned only with DESCRIBE_CONFIGS on the topic (else its TopicConfigErrorCode, v5+, is
// TOPIC_AUTHORIZATION_FAILED). Before that, as Kafka: __cluster_metadata is never created
// (INVALID_REQUEST), and a topic named twice goes to the controller, which refuses it.
// controller_mutation_rate (KIP-599): for a client under it, each topic that passes the
// controller's checks is recorded with its partition count, in request order, validate_only
// requests too (as Kafka 4's controller); from v6 a topic is refused with
// THROTTLING_QUOTA_EXCEEDED while the quota is exhausted (strict), before v6 every topic is
// created and the answer carries the throttle time (permissive). The answer's throttleTimeMs is
// the quota's; the dispatcher mutes the connection for it.
// Version notes: v1+ validate_only; v5+ returns partitions, replication factor and configs; v6+
// THROTTLING_QUOTA_EXCEEDED; v7+ the topic id.
import { ErrorCode } from '../../base/error-codes.js';
import { ZERO_UUID } from '../../base/uuid.js';
import { AclOperation, AclResourceType, CLUSTER_RESOURCE_NAME } from '../../metadata/acl.js';
import type { TopicResult } from '../../metadata/controller.js';
import { ConfigResourceType } from '../../metadata/metadata-record.js';
import { effectiveTopicConfigs } from '../../metadata/topic-config.js';
import { CLUSTER_METADATA_TOPIC } from '../../metadata/topic-name.js';
import { CreateTopicsApi } from '../../protocol/messages/index.js';
import { createTopicRequestsOf, createTopicsResponse } from '../create-topics-response.js';
import type { BrokerServices } from '../broker-services.js';
import { createTopicsWithinQuota } from '../quota/controller-mutation-quota.js';
import { defineHandler } from './handler.js';

/** Kafka's first strict version (ControllerApis: strictSinceVersion = 6). */
const STRICT_QUOTA_VERSION = 6;

export const createTopicsHandler = defineHandler({
  api: CreateTopicsApi,
  minVersion: 0,
  maxVersion: 7,
  forwardToController: true,
  async handle(request, { broker, connection, apiVersion, clientId }) {
    const { authorization } = broker;
    const names = request.topics.map((topic) => topic.name);
    const counts = new Map<string, number>();
    for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
    const clusterCreate = authorization.authorize(connection, AclOperation.CREATE, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, false);
    // Kafka's refusals before the controller sees the topic, in its order; duplicates are the controller's.
    const refusal = (name: string): TopicResult | undefined => {
      if (counts.get(name)! > 1) return undefined;
      if (name === CLUSTER_METADATA_TOPIC) return refused(name, ErrorCode.INVALID_REQUEST, `Creation of internal topic ${CLUSTER_METADATA_TOPIC} is prohibited.`);
      if (clusterCreate || authorization.topic(connection, AclOperation.CREATE, name)) return undefined;
      return refused(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.');
    };
    const refusals = request.topics.map((topic) => refusal(topic.name));
    const requests = createTopicRequestsOf(request).filter((_, index) => refusals[index] === undefined);
    const validateOnly = request.validateOnly ?? false;
    const quota = requests.length === 0 ? undefined : broker.clientQuotas?.controllerMutationQuota(connection, clientId, apiVersion >= STRICT_QUOTA_VERSION);
    let created: TopicResult[] = [];
    if (quota) created = await createTopicsWithinQuota(broker.controller, requests, validateOnly, quota);
    else if (requests.length > 0) created = await broker.controller.createTopics(requests, validateOnly);
    let next = 0;
    const results = refusals.map((result) => result ?? created[next++]!);
    const response = createTopicsResponse(results, (name) => describedConfigs(broker, name, request.topics));
    const describable = new Map(names.map((name) => [name, name !== CLUSTER_METADATA_TOPIC && authorization.topic(connection, AclOperation.DESCRIBE_CONFIGS, name, false)]));
    return {
      ...response,
      throttleTimeMs: quota?.throttleTimeMs() ?? 0,
      topics: response.topics.map((topic) =>
        topic.errorCode !== ErrorCode.NONE || describable.get(topic.name)
          ? topic
          : { ...topic, topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, numPartitions: -1, replicationFactor: -1, configs: [] },
      ),
    };
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

function refused(name: string, errorCode: number, errorMessage: string): TopicResult {
  return { name, errorCode, errorMessage, topicId: null, numPartitions: -1, replicationFactor: -1 };
}

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
