// DescribeProducers (key 61), version 0.
// For each requested partition, the idempotent and transactional producers its log keeps state
// for: producer id and epoch, last sequence, last timestamp, coordinator epoch and the start offset
// of the open transaction (-1 when none). Kafka's kafka-transactions.sh describe-producers and
// Admin.describeProducers ask it of the partition leader. A partition the metadata does not have
// answers UNKNOWN_TOPIC_OR_PARTITION; one this broker does not host, NOT_LEADER_OR_FOLLOWER.
// Authorizes READ on each topic, as Kafka's KafkaApis: a refused topic's partitions answer
// TOPIC_AUTHORIZATION_FAILED with Kafka's message, whether or not the topic exists.
// Version notes: v0 only (flexible).
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { DescribeProducersApi, type DescribeProducersResponse } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

type TopicResponse = DescribeProducersResponse['topics'][number];
type PartitionResponse = TopicResponse['partitions'][number];

/** Kafka's Errors.TOPIC_AUTHORIZATION_FAILED.message(), which its ApiError carries. */
const TOPIC_AUTHORIZATION_FAILED_MESSAGE = 'Topic authorization failed.';

export const describeProducersHandler = defineHandler({
  api: DescribeProducersApi,
  minVersion: 0,
  maxVersion: 0,
  handle(request, { broker, connection }) {
    const refused = new Set([...new Set(request.topics.map(({ name }) => name))].filter((name) => !broker.authorization.topic(connection, AclOperation.READ, name)));
    return {
      throttleTimeMs: 0,
      topics: byTopic(request.topics, (name, partitionIndex) =>
        refused.has(name) ? partitionError(partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED, TOPIC_AUTHORIZATION_FAILED_MESSAGE) : describePartition(broker, name, partitionIndex),
      ),
    };
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, topics: byTopic(request.topics, (_name, partitionIndex) => partitionError(partitionIndex, errorCode)) };
  },
});

/** One response entry per topic name (a name requested twice is answered once), in request order. */
function byTopic(topics: { name: string; partitionIndexes: number[] }[], answer: (name: string, partitionIndex: number) => PartitionResponse): TopicResponse[] {
  const answered = new Map<string, TopicResponse>();
  for (const { name, partitionIndexes } of topics) {
    let entry = answered.get(name);
    if (entry === undefined) {
      entry = { name, partitions: [] };
      answered.set(name, entry);
    }
    for (const partitionIndex of partitionIndexes) entry.partitions.push(answer(name, partitionIndex));
  }
  return [...answered.values()];
}

function describePartition(broker: BrokerServices, topic: string, partitionIndex: number): PartitionResponse {
  if (broker.image.partition(topic, partitionIndex) === undefined) return partitionError(partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const partition = broker.replicaManager.get(topic, partitionIndex);
  if (partition === undefined) return partitionError(partitionIndex, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  return {
    partitionIndex,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    activeProducers: partition.activeProducers().map((producer) => ({
      producerId: BigInt(producer.producerId),
      producerEpoch: producer.producerEpoch,
      lastSequence: producer.lastSequence,
      lastTimestamp: BigInt(producer.lastTimestampMs),
      coordinatorEpoch: producer.coordinatorEpoch,
      currentTxnStartOffset: BigInt(producer.currentTxnStartOffset),
    })),
  };
}

function partitionError(partitionIndex: number, errorCode: number, errorMessage: string | null = null): PartitionResponse {
  return { partitionIndex, errorCode, errorMessage, activeProducers: [] };
}
