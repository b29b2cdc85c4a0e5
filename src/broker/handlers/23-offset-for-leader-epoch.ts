// OffsetForLeaderEpoch (key 23), versions 0-4.
// For each partition, the largest leader epoch at or below the requested one and the offset where
// it ended (the next epoch's start offset, or the log end offset for the current epoch), answered
// by the log's leader epoch cache, as Kafka does. Clients use it to detect log truncation after a
// leader change (Java validates positions with it once v3+ is advertised); on a single node the
// epoch never changes, so the answer for the current epoch is the log end offset.
// CurrentLeaderEpoch (v2+) is checked like Fetch: older gets FENCED_LEADER_EPOCH, newer
// UNKNOWN_LEADER_EPOCH; -1 skips the check. An epoch the cache does not know gets epoch -1 and end
// offset -1 with no error.
// Version notes: v1+ return the leader epoch; v2+ current leader epoch; v3+ replica id; v4 flexible.
// Authorization (with an authorizer, as Kafka's KafkaApis): CLUSTER_ACTION on the cluster (the
// brokers' own use) allows every topic; otherwise DESCRIBE per topic (consumers, KIP-320), else
// TOPIC_AUTHORIZATION_FAILED for its partitions.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { OffsetForLeaderEpochApi, type OffsetForLeaderEpochResponse } from '../../protocol/messages/index.js';
import { type BrokerServices, notLedHereError } from '../broker-services.js';
import { defineHandler } from './handler.js';

type EpochEndOffset = OffsetForLeaderEpochResponse['topics'][number]['partitions'][number];

export const offsetForLeaderEpochHandler = defineHandler({
  api: OffsetForLeaderEpochApi,
  minVersion: 0,
  maxVersion: 4,
  handle(request, { broker, connection }) {
    const clusterAction = broker.authorization.cluster(connection, AclOperation.CLUSTER_ACTION, false);
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => {
        const allowed = clusterAction || broker.authorization.topic(connection, AclOperation.DESCRIBE, topic.topic);
        return {
          topic: topic.topic,
          partitions: topic.partitions.map((wanted) => (allowed ? endOffset(broker, topic.topic, wanted.partition, wanted.currentLeaderEpoch ?? -1, wanted.leaderEpoch) : failed(wanted.partition, ErrorCode.TOPIC_AUTHORIZATION_FAILED))),
        };
      }),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({ topic: topic.topic, partitions: topic.partitions.map(({ partition }) => failed(partition, errorCode)) })),
    };
  },
});

function endOffset(broker: BrokerServices, topic: string, partitionIndex: number, currentLeaderEpoch: number, leaderEpoch: number): EpochEndOffset {
  const partition = broker.replicaManager.get(topic, partitionIndex);
  if (!partition) return failed(partitionIndex, notLedHereError(broker, topic, partitionIndex));
  const epochError = partition.leaderEpochError(currentLeaderEpoch);
  if (epochError !== ErrorCode.NONE) return failed(partitionIndex, epochError);
  const found = partition.log.leaderEpochCache.endOffsetFor(leaderEpoch);
  return { errorCode: ErrorCode.NONE, partition: partitionIndex, leaderEpoch: found.epoch, endOffset: BigInt(found.endOffset) };
}

function failed(partition: number, errorCode: number): EpochEndOffset {
  return { errorCode, partition, leaderEpoch: -1, endOffset: -1n };
}
