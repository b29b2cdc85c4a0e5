// Metadata (key 3), versions 0-12.
// Brokers, cluster id, controller and the requested topics with their partitions, leaders and
// topic ids. Missing topics are created first when the request allows it (v4+ flag; always for
// v0-3) and auto.create.topics.enable is on. On a broker that is not the active controller they
// are sent to it as the client's CreateTopics, as Kafka's brokers send them, and the answer does
// not wait: they are UNKNOWN_TOPIC_OR_PARTITION until this broker's image has them.
// Brokers are described by their endpoints for the listener the request arrived on; only
// registered, unfenced brokers are listed. Partitions are as the image has them (leader, leader
// epoch, replicas, ISR), with Kafka's KRaftMetadataCache rules for what the client can reach: a
// leader that is not registered (or none, -1) is -1 with LEADER_NOT_AVAILABLE; one registered
// without an endpoint for this listener is -1 with LISTENER_NOT_FOUND (v6+; LEADER_NOT_AVAILABLE
// before); replicas whose broker is unregistered, fenced or without the listener are offline
// replicas. The controller id is the active controller when it is among the listed brokers.
// Version notes: v0 asks for all topics with an empty list, v1+ with null, and lists only the
// replicas and ISR members that are online, with REPLICA_NOT_AVAILABLE when some are not; v8+
// authorized operations when asked (cluster: v8-10; topics: v8+); v10+ may name topics by id; v12
// returns null names for topics asked by id that do not exist.
// Authorization (with an authorizer, as Kafka's KafkaApis): a listing of all topics leaves out
// those the principal may not DESCRIBE (without logging); a topic asked for without DESCRIBE is
// TOPIC_AUTHORIZATION_FAILED whether or not it exists (an unknown id stays UNKNOWN_TOPIC_ID);
// auto-creation needs CREATE on the cluster or the topic, else TOPIC_AUTHORIZATION_FAILED; the
// authorized-operations fields hold what the authorizer allows.
// Quotas: auto-created topics are charged to the client's controller_mutation_rate (KIP-599) as a
// strict CreateTopics (Kafka's broker sends one for the client); a topic over the quota is not
// created and is answered UNKNOWN_TOPIC_OR_PARTITION, with no throttle time (autoCreate).
import { AclOperation } from '../../metadata/acl.js';
import { ErrorCode } from '../../base/error-codes.js';
import { ZERO_UUID } from '../../base/uuid.js';
import type { MetadataImage, PartitionImage, TopicImage } from '../../metadata/metadata-image.js';
import { internalTopics, topicNameProblem } from '../../metadata/topic-name.js';
import { encodeRequestHeader } from '../../protocol/headers.js';
import type { CreatableTopic } from '../../protocol/messages/create-topics.js';
import { CreateTopicsApi, MetadataApi, type MetadataRequest, type MetadataResponse } from '../../protocol/messages/index.js';
import { Writer } from '../../protocol/primitives/writer.js';
import { advertisedBrokers, advertisedControllerAmong, partitionAvailability } from '../advertised-brokers.js';
import { authorizedOperations } from '../authorized-operations.js';
import { createTopicsWithinQuota } from '../quota/controller-mutation-quota.js';
import { type BrokerServices, advertisedControllerId } from '../broker-services.js';
import { type RequestContext, defineHandler } from './handler.js';

type ResponseTopic = MetadataResponse['topics'][number];

export const metadataHandler = defineHandler({
  api: MetadataApi,
  minVersion: 0,
  maxVersion: 12,
  handle(request, context) {
    const { broker, apiVersion, connection } = context;
    const topicEntry = (topic: TopicImage) =>
      describeTopic(broker.image, connection.listenerName, apiVersion, topic, request.includeTopicAuthorizedOperations && ((operation) => broker.authorization.topic(connection, operation, topic.name, false)));
    const respond = (topics: ResponseTopic[]) => buildResponse(request, context, topics);
    const wantsAll = request.topics === null || (apiVersion === 0 && request.topics.length === 0);
    if (wantsAll) return respond([...broker.image.topicsByName.values()].filter((topic) => broker.authorization.topic(connection, AclOperation.DESCRIBE, topic.name, false)).map(topicEntry));
    // Asked once per name (topicsToCreate and requestedTopics both need it; a denial is logged once).
    const described = new Map<string, boolean>();
    const mayDescribe = (name: string) => {
      let allowed = described.get(name);
      if (allowed === undefined) described.set(name, (allowed = broker.authorization.topic(connection, AclOperation.DESCRIBE, name)));
      return allowed;
    };
    const { toCreate, refused } = topicsToCreate(request, context, mayDescribe);
    const answer = () => respond(requestedTopics(request, broker, apiVersion, topicEntry, (name) => !refused.has(name) && mayDescribe(name)));
    if (toCreate.length === 0) return answer();
    return autoCreate(context, toCreate).then(answer);
  },
  errorResponse(request, errorCode, context) {
    const unnamed = context.apiVersion >= 12 ? null : '';
    const topics = (request.topics ?? []).map((topic) => emptyTopic(topic.name ?? unnamed, topic.topicId ?? ZERO_UUID, errorCode));
    return buildResponse(request, context, topics);
  },
});

/** The missing topics to create, and those the principal may not create (CREATE on the cluster or the topic). */
function topicsToCreate(request: MetadataRequest, { broker, apiVersion, connection }: RequestContext, mayDescribe: (name: string) => boolean): { toCreate: string[]; refused: Set<string> } {
  const allowed = (apiVersion < 4 || request.allowAutoTopicCreation !== false) && broker.config.autoCreateTopicsEnable;
  const refused = new Set<string>();
  if (!allowed || !request.topics) return { toCreate: [], refused };
  const names = new Set<string>();
  let clusterCreate: boolean | undefined;
  for (const topic of request.topics) {
    const name = topic.name;
    if (!name || broker.image.topic(name) || topicNameProblem(name) || internalTopics.has(name) || names.has(name) || refused.has(name) || !mayDescribe(name)) continue;
    clusterCreate ??= broker.authorization.cluster(connection, AclOperation.CREATE, false);
    if (clusterCreate || broker.authorization.topic(connection, AclOperation.CREATE, name)) names.add(name);
    else refused.add(name);
  }
  return { toCreate: [...names], refused };
}

/**
 * Creates missing topics for the client, as Kafka's broker does: a CreateTopics of the client's (its
 * principal and client id) at the controller's latest version, so a controller_mutation_rate
 * quota of the client applies strictly: topics are admitted in request order while its bucket is
 * not negative, each charged its partition count (num.partitions), and the rest are not created.
 * Kafka's controller refuses those with THROTTLING_QUOTA_EXCEEDED in an answer only the broker sees:
 * the client gets UNKNOWN_TOPIC_OR_PARTITION for them (they do not exist), no throttle time from
 * this quota and no mute, and creates them on a later Metadata request once the bucket has refilled.
 * On the active controller the topics are created before the answer (which then describes them);
 * elsewhere they are sent to it (sendForCreation).
 */
async function autoCreate(context: RequestContext, names: string[]): Promise<void> {
  const { broker, connection, clientId } = context;
  const requests = names.map((name) => ({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] }));
  if (broker.controllerChannel.forwards) {
    sendForCreation(context, requests);
    return;
  }
  const quota = broker.clientQuotas?.controllerMutationQuota(connection, clientId, true);
  if (quota) await createTopicsWithinQuota(broker.controller, requests, false, quota);
  else await broker.controller.createTopics(requests, false);
}

/** The CreateTopics version a broker sends the active controller for auto-created topics (the latest: strict quota). */
const AUTO_CREATE_VERSION = 7;
/** CreateTopics' timeout_ms in those requests (Kafka's: request.timeout.ms, 30 s by default). */
const AUTO_CREATE_TIMEOUT_MS = 30_000;
/** Per broker, the topics sent for creation and not yet answered (Kafka's inflightTopics). */
const sentTopics = new WeakMap<BrokerServices['controllerChannel'], Set<string>>();

/**
 * On a broker that is not the active controller, as Kafka's DefaultAutoTopicCreationManager: the
 * topics go to the active controller as the client's own CreateTopics (in an Envelope with its
 * principal and address, its client id and correlation id in the header), where the client's
 * quotas and ACLs apply; the Metadata answer does not wait for it, and gives them
 * UNKNOWN_TOPIC_OR_PARTITION until this broker's image has them. A topic already sent and not yet
 * answered is not sent again. The controller's answer is only logged.
 */
function sendForCreation({ broker, connection, clientId, correlationId }: RequestContext, requests: CreatableTopic[]): void {
  let inFlight = sentTopics.get(broker.controllerChannel);
  if (inFlight === undefined) sentTopics.set(broker.controllerChannel, (inFlight = new Set()));
  const sending = requests.filter(({ name }) => !inFlight.has(name));
  if (sending.length === 0) return;
  for (const { name } of sending) inFlight.add(name);
  const writer = new Writer();
  encodeRequestHeader(writer, { apiKey: CreateTopicsApi.apiKey, apiVersion: AUTO_CREATE_VERSION, correlationId, clientId });
  CreateTopicsApi.encodeRequest(writer, AUTO_CREATE_VERSION, { topics: sending, timeoutMs: AUTO_CREATE_TIMEOUT_MS, validateOnly: false });
  const names = sending.map(({ name }) => name);
  broker.controllerChannel
    .forward(writer.toBuffer(), connection.remoteAddress, connection.principal)
    .then(
      (answer) => broker.logger.debug(answer === undefined ? 'auto-creation left to the next Metadata request: this node is the active controller now' : 'auto-creation answered by the active controller', { topics: names.join(',') }),
      (error: unknown) => broker.logger.debug('auto-creation not answered by the active controller', { topics: names.join(','), error: String(error) }),
    )
    .finally(() => {
      for (const name of names) inFlight.delete(name);
    });
}

function requestedTopics(request: MetadataRequest, broker: BrokerServices, apiVersion: number, topicEntry: (topic: TopicImage) => ResponseTopic, authorized: (name: string) => boolean): ResponseTopic[] {
  return (request.topics ?? []).map((requested) => {
    const name = requested.name ?? null;
    const topicId = requested.topicId ?? ZERO_UUID;
    if ((name === null || name === '') && topicId !== ZERO_UUID) {
      const byId = broker.image.topicsById.get(topicId);
      // Names are nullable in responses from v12 only; older versions answer an unknown id with ''.
      if (!byId) return emptyTopic(apiVersion >= 12 ? null : '', topicId, ErrorCode.UNKNOWN_TOPIC_ID);
      // Kafka: topic ids are not secret, so an existing one not authorized is answered as such, without its name.
      return authorized(byId.name) ? topicEntry(byId) : emptyTopic(apiVersion >= 12 ? null : '', topicId, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    }
    if (name === null) return emptyTopic(apiVersion >= 12 ? null : '', ZERO_UUID, ErrorCode.INVALID_REQUEST);
    if (!authorized(name)) return emptyTopic(name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const topic = broker.image.topic(name);
    if (topic) return topicEntry(topic);
    const errorCode = topicNameProblem(name) ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return emptyTopic(name, ZERO_UUID, errorCode);
  });
}

/** `authorizedOps`: the authorizer's answer per operation when the client asked for authorized operations, else false. */
function describeTopic(image: MetadataImage, listenerName: string, apiVersion: number, topic: TopicImage, authorizedOps: ((operation: number) => boolean) | false | undefined): ResponseTopic {
  const partitions = [...topic.partitions.values()]
    .sort((a, b) => a.partitionId - b.partitionId)
    .map((partition) => describePartition(image, listenerName, apiVersion, partition));
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: internalTopics.has(topic.name),
    partitions,
    topicAuthorizedOperations: authorizedOperations('topic', !!authorizedOps, authorizedOps || undefined),
  };
}

function describePartition(image: MetadataImage, listenerName: string, apiVersion: number, partition: PartitionImage): ResponseTopic['partitions'][number] {
  const { leader, offlineReplicas } = partitionAvailability(image, listenerName, partition);
  // v0 lists only the online replicas and ISR members (Kafka's errorUnavailableEndpoints).
  const onlineOnly = apiVersion === 0 && offlineReplicas.length > 0;
  const replicaNodes = onlineOnly ? partition.replicas.filter((id) => !offlineReplicas.includes(id)) : partition.replicas;
  const isrNodes = onlineOnly ? partition.isr.filter((id) => !offlineReplicas.includes(id)) : partition.isr;
  let errorCode: number = ErrorCode.NONE;
  if (leader === 'none') errorCode = ErrorCode.LEADER_NOT_AVAILABLE;
  else if (leader === 'no-listener') errorCode = apiVersion >= 6 ? ErrorCode.LISTENER_NOT_FOUND : ErrorCode.LEADER_NOT_AVAILABLE;
  else if (replicaNodes.length < partition.replicas.length || isrNodes.length < partition.isr.length) errorCode = ErrorCode.REPLICA_NOT_AVAILABLE;
  return {
    errorCode,
    partitionIndex: partition.partitionId,
    leaderId: leader === 'live' ? partition.leader : -1,
    leaderEpoch: partition.leaderEpoch,
    replicaNodes,
    isrNodes,
    offlineReplicas,
  };
}

function emptyTopic(name: string | null, topicId: string, errorCode: number): ResponseTopic {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: authorizedOperations('topic', false) };
}

function buildResponse(request: MetadataRequest, { broker, connection }: RequestContext, topics: ResponseTopic[]): MetadataResponse {
  const brokers = advertisedBrokers(broker.image, connection.listenerName);
  return {
    throttleTimeMs: 0,
    brokers,
    clusterId: broker.clusterId,
    controllerId: advertisedControllerAmong(brokers, advertisedControllerId(broker), broker.nodeId),
    topics,
    clusterAuthorizedOperations: authorizedOperations('cluster', request.includeClusterAuthorizedOperations, (operation) => broker.authorization.cluster(connection, operation, false)),
  };
}
