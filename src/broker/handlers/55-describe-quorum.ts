// DescribeQuorum (key 55), versions 0-2.
// The metadata quorum as its Raft leader sees it (quorum/raft-node.ts): partition
// __cluster_metadata-0, the leader, its epoch and high watermark, and each voter's and observer's
// log end offset with its last fetch and last caught-up times (the leader's own are "now", as
// Kafka reports them). A node that is not the quorum leader answers NOT_LEADER_OR_FOLLOWER for the
// partition, as Kafka's controllers do. A request that does not name exactly
// __cluster_metadata-0 answers UNKNOWN_TOPIC_OR_PARTITION for each partition it names.
// Version notes: v0-2 flexible; v1 adds each replica's last fetch and last caught-up timestamps;
// v2 adds the replica directory id (none: the zero UUID), error messages and Nodes, the voters'
// endpoints (this broker's listeners: no separate controller listener yet).
import { ErrorCode } from '../../base/error-codes.js';
import { ZERO_UUID } from '../../base/uuid.js';
import { CLUSTER_METADATA_TOPIC } from '../../metadata/topic-name.js';
import { DescribeQuorumApi, type DescribeQuorumRequest, type DescribeQuorumResponse } from '../../protocol/messages/index.js';
import type { ReplicaDescription } from '../../quorum/raft-node.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

const METADATA_PARTITION = 0;

export const describeQuorumHandler = defineHandler({
  api: DescribeQuorumApi,
  minVersion: 0,
  maxVersion: 2,
  handle(request, { broker }) {
    const [topic] = request.topics;
    const namesMetadataPartition =
      request.topics.length === 1 && topic!.topicName === CLUSTER_METADATA_TOPIC && topic!.partitions.length === 1 && topic!.partitions[0]!.partitionIndex === METADATA_PARTITION;
    if (!namesMetadataPartition) return partitionErrors(request, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'the metadata quorum is __cluster_metadata-0');
    return describeQuorum(request, broker);
  },
  errorResponse(_request, errorCode) {
    return { errorCode, errorMessage: null, topics: [], nodes: [] };
  },
});

function describeQuorum(request: DescribeQuorumRequest, broker: BrokerServices): DescribeQuorumResponse {
  const quorum = broker.quorum.raft.describe();
  if (quorum === undefined) return partitionErrors(request, ErrorCode.NOT_LEADER_OR_FOLLOWER, `node ${broker.nodeId} is not the quorum leader`);
  const replica = (described: ReplicaDescription) => ({
    replicaId: described.replicaId,
    replicaDirectoryId: ZERO_UUID,
    logEndOffset: BigInt(described.logEndOffset),
    lastFetchTimestamp: BigInt(described.lastFetchTimestamp),
    lastCaughtUpTimestamp: BigInt(described.lastCaughtUpTimestamp),
  });
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    topics: [
      {
        topicName: CLUSTER_METADATA_TOPIC,
        partitions: [
          {
            partitionIndex: METADATA_PARTITION,
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            leaderId: quorum.leaderId,
            leaderEpoch: quorum.leaderEpoch,
            highWatermark: BigInt(quorum.highWatermark),
            currentVoters: quorum.voters.map(replica),
            observers: quorum.observers.map(replica),
          },
        ],
      },
    ],
    nodes: quorum.voters.map(({ replicaId }) => ({
      nodeId: replicaId,
      listeners: (broker.image.brokers.get(replicaId)?.endpoints ?? []).map(({ name, host, port }) => ({ name, host, port })),
    })),
  };
}
function partitionErrors(request: DescribeQuorumRequest, errorCode: number, errorMessage: string): DescribeQuorumResponse {
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    topics: request.topics.map(({ topicName, partitions }) => ({
      topicName,
      partitions: partitions.map(({ partitionIndex }) => ({
        partitionIndex,
        errorCode,
        errorMessage,
        // Kafka leaves these at their zero defaults in a partition error.
        leaderId: 0,
        leaderEpoch: 0,
        highWatermark: 0n,
        currentVoters: [],
        observers: [],
      })),
    })),
    nodes: [],
  };
}
