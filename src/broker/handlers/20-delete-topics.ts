// DeleteTopics (key 20), versions 0-6.
// Deletes topics through the controller; their logs are removed when the metadata log says so.
// Authorizes as Kafka's ControllerApis.deleteTopics: DELETE on the cluster (not logged when denied)
// allows every topic; else a topic named without DESCRIBE on it gets TOPIC_AUTHORIZATION_FAILED
// (whether or not it exists), one that does not exist UNKNOWN_TOPIC_OR_PARTITION, one without
// DELETE TOPIC_AUTHORIZATION_FAILED. A topic id is resolved first (unknown: UNKNOWN_TOPIC_ID); one
// without DELETE gets TOPIC_AUTHORIZATION_FAILED, with its name only if it is DESCRIBE-able. Refused
// topics are listed before the deleted ones (Kafka shuffles the whole list).
// controller_mutation_rate (KIP-599): for a client under it, each topic that exists and may be
// deleted is recorded with its partition count, in request order (a topic named twice once); from
// v5 a topic is refused with THROTTLING_QUOTA_EXCEEDED while the quota is exhausted (strict), before
// v5 every topic is deleted and the answer carries the throttle time (permissive). The answer's
// throttleTimeMs is the quota's; the dispatcher mutes the connection for it.
// Version notes: v0-5 name topics in TopicNames; v6+ in Topics by name or topic id
// (UNKNOWN_TOPIC_ID for unknown ids); v5+ carries error messages and THROTTLING_QUOTA_EXCEEDED.
import { ErrorCode } from '../../base/error-codes.js';
import { ZERO_UUID } from '../../base/uuid.js';
import { AclOperation, AclResourceType, CLUSTER_RESOURCE_NAME } from '../../metadata/acl.js';
import { DeleteTopicsApi, type DeleteTopicsRequest, type DeleteTopicsResponse } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import type { ConnectionInfo } from '../network/index.js';
import { type ControllerMutationQuota, THROTTLING_QUOTA_EXCEEDED_MESSAGE } from '../quota/controller-mutation-quota.js';
import { defineHandler } from './handler.js';

/** Kafka's first strict version (ControllerApis: strictSinceVersion = 5). */
const STRICT_QUOTA_VERSION = 5;

type DeletableTopicResult = DeleteTopicsResponse['responses'][number];
type RequestedTopic = { name: string | null; topicId: string | null };

function requestedTopics(request: DeleteTopicsRequest, apiVersion: number): RequestedTopic[] {
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
  async handle(request, { broker, apiVersion, connection, clientId }) {
    if (!broker.config.deleteTopicEnable) return errorBody(request, apiVersion, ErrorCode.TOPIC_DELETION_DISABLED);
    const refused: DeletableTopicResult[] = [];
    let allowed: RequestedTopic[] = [];
    const clusterDelete = broker.authorization.authorize(connection, AclOperation.DELETE, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, false);
    for (const topic of requestedTopics(request, apiVersion)) {
      const refusal = clusterDelete ? undefined : deletionRefusal(broker, connection, topic);
      if (refusal) refused.push(refusal);
      else allowed.push(topic);
    }
    const quota = allowed.length === 0 ? undefined : broker.clientQuotas?.controllerMutationQuota(connection, clientId, apiVersion >= STRICT_QUOTA_VERSION);
    if (quota) allowed = withinQuota(broker, allowed, quota, refused);
    const results = allowed.length === 0 ? [] : await broker.controller.deleteTopics(allowed);
    return {
      throttleTimeMs: quota?.throttleTimeMs() ?? 0,
      responses: [
        ...refused,
        ...results.map((result) => ({
          name: result.name,
          topicId: result.topicId ?? ZERO_UUID,
          errorCode: result.errorCode,
          errorMessage: result.errorMessage,
        })),
      ],
    };
  },
  errorResponse(request, errorCode, { apiVersion }) {
    return errorBody(request, apiVersion, errorCode);
  },
});

/**
 * The topics a client under controller_mutation_rate may delete: each one the image has is recorded
 * with its partition count, in request order (a topic named twice, by name or id, once); one a
 * strict quota refuses goes to `refused` as THROTTLING_QUOTA_EXCEEDED. Topics the image does not
 * have are left to the controller, which answers them unknown, unrecorded.
 */
function withinQuota(broker: BrokerServices, topics: RequestedTopic[], quota: ControllerMutationQuota, refused: DeletableTopicResult[]): RequestedTopic[] {
  const recorded = new Set<string>();
  return topics.filter((requested) => {
    const topic = requested.name !== null && requested.name !== '' ? broker.image.topic(requested.name) : requested.topicId === null ? undefined : broker.image.topicsById.get(requested.topicId);
    if (topic === undefined || recorded.has(topic.topicId)) return true;
    recorded.add(topic.topicId);
    if (quota.record(topic.partitions.size)) return true;
    refused.push({ name: topic.name, topicId: topic.topicId, errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: THROTTLING_QUOTA_EXCEEDED_MESSAGE });
    return false;
  });
}

/**
 * Kafka's answer for a topic the principal may not delete, or undefined when the controller decides
 * (deletable, or a name or id it does not know: it answers UNKNOWN_TOPIC_OR_PARTITION or UNKNOWN_TOPIC_ID).
 */
function deletionRefusal(broker: BrokerServices, connection: ConnectionInfo, topic: RequestedTopic): DeletableTopicResult | undefined {
  const byName = topic.name !== null && topic.name !== '';
  const name = byName ? topic.name! : topic.topicId === null ? undefined : broker.image.topicsById.get(topic.topicId)?.name;
  if (name === undefined) return undefined;
  const describable = broker.authorization.topic(connection, AclOperation.DESCRIBE, name);
  const deletable = broker.authorization.topic(connection, AclOperation.DELETE, name);
  const authorizationFailed = (shownName: string | null, topicId: string) => ({ name: shownName, topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' });
  if (!byName) return deletable ? undefined : authorizationFailed(describable ? name : null, topic.topicId!);
  if (!describable) return authorizationFailed(name, ZERO_UUID);
  // Describable but not there: Kafka looks the name up before it checks DELETE. Answered here, as the
  // controller would, so that a topic created meanwhile is not deleted without DELETE on it.
  if (!broker.image.topic(name)) return { name, topicId: ZERO_UUID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'topic does not exist' };
  return deletable ? undefined : authorizationFailed(name, ZERO_UUID);
}

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
