// DescribeTopicPartitions (key 75), version 0.
// Topics with their partitions (leader, leader epoch, replicas, ISR, eligible leader replicas, last
// known ELR, offline replicas), a page at a time, as Kafka 3.8+ answers it: topics sorted by name;
// an empty topic list means every topic; at most min(ResponsePartitionLimit, the broker's maximum of
// 2000) partitions (at least 1) per response; `Cursor` (topic name, partition index) says where the
// page starts, and `NextCursor` where the next one does when partitions remain. A topic that does not
// exist answers UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for an illegal name) and costs
// nothing of the limit; when every topic is asked for, errors are left out. A cursor whose topic is
// not in the requested list, or whose partition index is negative, fails the request with
// INVALID_REQUEST for every requested topic.
// Authorizes as Kafka's DescribeTopicPartitionsRequestHandler: DESCRIBE on each topic, asked as the
// page is filled (in name order, so not for topics past the page's end); a named topic without it
// answers TOPIC_AUTHORIZATION_FAILED with the zero topic id and no partitions, listed after the
// page, and costs nothing of the limit; when every topic is asked for, such topics are left out.
// Either way Kafka logs the denial. topicAuthorizedOperations: the operations the principal may do
// on the topic (with no authorizer, every operation a topic supports); for a refused topic, omitted.
// Version notes: v0 only (flexible).
import { ErrorCode } from '../../base/error-codes.js';
import { ZERO_UUID } from '../../base/uuid.js';
import { AclOperation } from '../../metadata/acl.js';
import type { MetadataImage, PartitionImage } from '../../metadata/metadata-image.js';
import { internalTopics, topicNameProblem } from '../../metadata/topic-name.js';
import { DescribeTopicPartitionsApi, type DescribeTopicPartitionsResponse } from '../../protocol/messages/index.js';
import { AUTHORIZED_OPERATIONS_OMITTED, authorizedOperations } from '../authorized-operations.js';
import { partitionAvailability } from '../advertised-brokers.js';
import type { BrokerServices } from '../broker-services.js';
import type { ConnectionInfo } from '../network/index.js';
import { defineHandler } from './handler.js';

type ResponseTopic = DescribeTopicPartitionsResponse['topics'][number];
type ResponsePartition = ResponseTopic['partitions'][number];

/** Kafka's max.request.partition.size.limit default: the most partitions one response carries. */
export const DESCRIBE_TOPIC_PARTITIONS_MAX_PARTITIONS = 2000;

export const describeTopicPartitionsHandler = defineHandler({
  api: DescribeTopicPartitionsApi,
  minVersion: 0,
  maxVersion: 0,
  handle(request, { broker, connection }) {
    const { cursor } = request;
    const fetchAll = request.topics.length === 0;
    const after = cursor?.topicName ?? '';
    const names = new Set(fetchAll ? broker.image.topicsByName.keys() : request.topics.map((topic) => topic.name));
    for (const name of names) if (name < after) names.delete(name);
    if (cursor !== null && ((!fetchAll && !names.has(cursor.topicName)) || cursor.partitionIndex < 0)) {
      return errorBody(request.topics.map((topic) => topic.name), ErrorCode.INVALID_REQUEST);
    }
    const limit = Math.max(Math.min(DESCRIBE_TOPIC_PARTITIONS_MAX_PARTITIONS, request.responsePartitionLimit), 1);
    const startIndex = (name: string) => (cursor !== null && name === cursor.topicName ? cursor.partitionIndex : 0);
    const page = describePage(broker, connection, [...names].sort(), startIndex, limit, fetchAll);
    return { throttleTimeMs: 0, ...page };
  },
  errorResponse(request, errorCode) {
    return errorBody(request.topics.map((topic) => topic.name), errorCode);
  },
});

/**
 * One page of topics, in the order given, spending `limit` partitions; unknown topics cost nothing.
 * A topic the principal may not describe is skipped (listed after the page unless `skipErrors`); as
 * Kafka filters the topics lazily, only topics up to the one the page ends at are asked about.
 */
function describePage(
  broker: BrokerServices,
  connection: ConnectionInfo,
  names: string[],
  startIndex: (name: string) => number,
  limit: number,
  skipErrors: boolean,
): Omit<DescribeTopicPartitionsResponse, 'throttleTimeMs'> {
  const { image, authorization } = broker;
  const { listenerName } = connection;
  const topics: ResponseTopic[] = [];
  const refused: ResponseTopic[] = [];
  const answer = (nextCursor: DescribeTopicPartitionsResponse['nextCursor']) => ({ topics: [...topics, ...refused], nextCursor });
  const allowedOperation = (name: string) => (operation: number) => authorization.topic(connection, operation, name, false);
  let remaining = limit;
  for (const name of names) {
    if (!authorization.topic(connection, AclOperation.DESCRIBE, name)) {
      if (!skipErrors) refused.push(refusedEntry(name));
      continue;
    }
    if (remaining === 0) return answer({ topicName: name, partitionIndex: 0 });
    const topic = image.topic(name);
    if (topic === undefined) {
      if (!skipErrors) topics.push(topicEntry(name, topicNameProblem(name) === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION, ZERO_UUID, [], allowedOperation(name)));
      continue;
    }
    const count = topic.partitions.size;
    const start = startIndex(name);
    const end = Math.min(count, start + remaining);
    const partitions: ResponsePartition[] = [];
    for (let index = start; index < end; index++) {
      const partition = topic.partitions.get(index);
      if (partition !== undefined) partitions.push(describePartition(image, listenerName, partition));
    }
    topics.push(topicEntry(name, ErrorCode.NONE, topic.topicId, partitions, allowedOperation(name)));
    if (end < count) return answer({ topicName: name, partitionIndex: end });
    remaining -= partitions.length;
  }
  return answer(null);
}

/**
 * Replicas and ISR as registered. As Kafka's KRaft metadata cache answers: a leader that is not a
 * registered broker (or none) is -1 with LEADER_NOT_AVAILABLE, one without an endpoint for the
 * request's listener -1 with LISTENER_NOT_FOUND; a replica is offline when its broker is unknown,
 * fenced or lacks that listener.
 */
function describePartition(image: MetadataImage, listenerName: string, partition: PartitionImage): ResponsePartition {
  const { leader, offlineReplicas } = partitionAvailability(image, listenerName, partition);
  const errorCode = leader === 'live' ? ErrorCode.NONE : leader === 'none' ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.LISTENER_NOT_FOUND;
  return {
    errorCode,
    partitionIndex: partition.partitionId,
    leaderId: leader === 'live' ? partition.leader : -1,
    leaderEpoch: partition.leaderEpoch,
    replicaNodes: partition.replicas,
    isrNodes: partition.isr,
    // Eligible leader replicas (KIP-966), as the controller keeps them.
    eligibleLeaderReplicas: partition.eligibleLeaderReplicas,
    lastKnownElr: partition.lastKnownElr,
    offlineReplicas,
  };
}

function topicEntry(name: string, errorCode: number, topicId: string, partitions: ResponsePartition[], allowed: (operation: number) => boolean): ResponseTopic {
  return { errorCode, name, topicId, isInternal: internalTopics.has(name), partitions, topicAuthorizedOperations: authorizedOperations('topic', true, allowed) };
}

/** A named topic the principal may not describe, as Kafka answers it: nothing about it disclosed. */
function refusedEntry(name: string): ResponseTopic {
  return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED };
}

function errorBody(names: string[], errorCode: number): DescribeTopicPartitionsResponse {
  return {
    throttleTimeMs: 0,
    topics: names.map((name) => ({ errorCode, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED })),
    nextCursor: null,
  };
}
