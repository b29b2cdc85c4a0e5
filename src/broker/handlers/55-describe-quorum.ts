// DescribeQuorum (key 55), versions 0-2.
// The metadata quorum as its Raft leader sees it (quorum/raft-node.ts): partition
// __cluster_metadata-0, the leader, its epoch and high watermark, and each voter's and observer's
// log end offset with its last fetch and last caught-up times (the leader's own are "now", as
// Kafka reports them). Only the quorum leader can answer, so a node of a cluster that is not the
// active controller forwards the request to it (an Envelope, as Kafka's brokers forward it): any
// broker describes the quorum. The controller listener serves it too (controller-listener.ts,
// through `describeQuorumResponse`), where a controller that is not the leader answers
// NOT_LEADER_OR_FOLLOWER for the partition, as Kafka's controllers do. A request that does not
// name exactly __cluster_metadata-0 answers UNKNOWN_TOPIC_OR_PARTITION for each partition it names.
// Needs DESCRIBE on the cluster, as Kafka's ControllerApis (checked where the request is handled,
// with the client's principal): else the top-level error CLUSTER_AUTHORIZATION_FAILED, "Cluster
// authorization failed.", and nothing else; the controller listener checks the same on its own path.
// Version notes: v0-2 flexible; v1 adds each replica's last fetch and last caught-up timestamps;
// v2 adds the replica directory id (none: the zero UUID), error messages and Nodes: each voter's
// endpoints as the voter set names them (its controller listener); a quorum of one without a
// controller listener names this broker's listeners instead.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import { CLUSTER_METADATA_TOPIC } from '../../metadata/topic-name.js';
import { DescribeQuorumApi, type DescribeQuorumRequest, type DescribeQuorumResponse } from '../../protocol/messages/index.js';
import type { RaftMetadataQuorum } from '../../quorum/raft-metadata-quorum.js';
import type { ReplicaDescription } from '../../quorum/raft-node.js';
import { defineHandler } from './handler.js';

const METADATA_PARTITION = 0;

export const describeQuorumHandler = defineHandler({
  api: DescribeQuorumApi,
  minVersion: 0,
  maxVersion: 2,
  forwardToController: true,
  handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.DESCRIBE)) {
      return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', topics: [], nodes: [] };
    }
    return describeQuorumResponse(request, broker.quorum, broker.image);
  },
  errorResponse(_request, errorCode) {
    return { errorCode, errorMessage: null, topics: [], nodes: [] };
  },
});

/**
 * This node's answer to DescribeQuorum: the quorum as it leads it, or NOT_LEADER_OR_FOLLOWER for
 * the partition when it does not lead. `image` (the broker side) names the listeners of a voter
 * the voter set gives no endpoint: a quorum of one without a controller listener.
 */
export function describeQuorumResponse(request: DescribeQuorumRequest, metadataQuorum: RaftMetadataQuorum, image?: MetadataImage): DescribeQuorumResponse {
  const [topic] = request.topics;
  const namesMetadataPartition =
    request.topics.length === 1 && topic!.topicName === CLUSTER_METADATA_TOPIC && topic!.partitions.length === 1 && topic!.partitions[0]!.partitionIndex === METADATA_PARTITION;
  if (!namesMetadataPartition) return partitionErrors(request, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'the metadata quorum is __cluster_metadata-0');
  const quorum = metadataQuorum.raft.describe();
  if (quorum === undefined) return partitionErrors(request, ErrorCode.NOT_LEADER_OR_FOLLOWER, `node ${metadataQuorum.raft.nodeId} is not the quorum leader`);
  const voterEndpoints = new Map(metadataQuorum.raft.voterSet.map((voter) => [voter.id, voter.endpoints]));
  const replica = (described: ReplicaDescription) => ({
    replicaId: described.replicaId,
    replicaDirectoryId: described.directoryId,
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
    nodes: quorum.voters.map(({ replicaId }) => {
      const recorded = voterEndpoints.get(replicaId) ?? [];
      const endpoints = recorded.length > 0 ? recorded : (image?.brokers.get(replicaId)?.endpoints ?? []);
      return { nodeId: replicaId, listeners: endpoints.map(({ name, host, port }) => ({ name, host, port })) };
    }),
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
