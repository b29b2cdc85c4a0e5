// DescribeQuorum (key 55), versions 0-2.
// The metadata quorum, as Kafka's KRaft leader describes it. Conveyor's metadata quorum is this
// node alone (quorum/local-quorum.ts): partition __cluster_metadata-0, leader this node, the leader
// epoch of the metadata log, the high watermark (the metadata log's committed end: a quorum of one
// commits what it has flushed), one voter (this node, its log end offset; the leader's last fetch
// and caught-up times are "now", as Kafka reports its own) and no observers. A request that does
// not name exactly __cluster_metadata-0 answers UNKNOWN_TOPIC_OR_PARTITION for each partition it
// names.
// Version notes: v0-2 flexible; v1 adds each replica's last fetch and last caught-up timestamps;
// v2 adds the replica directory id (none: the zero UUID), error messages and Nodes, the voters'
// endpoints (Conveyor has no separate controller listener: this broker's listeners).
import { ErrorCode } from '../../base/error-codes.js';
import { ZERO_UUID } from '../../base/uuid.js';
import { CLUSTER_METADATA_TOPIC } from '../../metadata/topic-name.js';
import { DescribeQuorumApi, type DescribeQuorumRequest, type DescribeQuorumResponse } from '../../protocol/messages/index.js';
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
    return describeLocalQuorum(broker);
  },
  errorResponse(_request, errorCode) {
    return { errorCode, errorMessage: null, topics: [], nodes: [] };
  },
});

function describeLocalQuorum(broker: BrokerServices): DescribeQuorumResponse {
  const log = broker.replicaManager.logManager.get(CLUSTER_METADATA_TOPIC, METADATA_PARTITION);
  if (log === undefined) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, errorMessage: 'the metadata log is not open', topics: [], nodes: [] };
  const now = BigInt(broker.clock.nowMs());
  const self = broker.image.brokers.get(broker.nodeId);
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
            leaderId: broker.nodeId,
            leaderEpoch: Math.max(log.leaderEpochCache.latestEpoch, 0),
            highWatermark: BigInt(log.highWatermark),
            currentVoters: [{ replicaId: broker.nodeId, replicaDirectoryId: ZERO_UUID, logEndOffset: BigInt(log.logEndOffset), lastFetchTimestamp: now, lastCaughtUpTimestamp: now }],
            observers: [],
          },
        ],
      },
    ],
    nodes: [{ nodeId: broker.nodeId, listeners: (self?.endpoints ?? []).map(({ name, host, port }) => ({ name, host, port })) }],
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
