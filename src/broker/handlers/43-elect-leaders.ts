// ElectLeaders (key 43), versions 0-2.
// Preferred (0) or unclean (1) leader election for the requested partitions, as Kafka's controller
// decides it: a partition whose leader is already its preferred replica (preferred) or that has a
// leader at all (unclean) answers ELECTION_NOT_NEEDED; an unknown topic or partition answers
// UNKNOWN_TOPIC_OR_PARTITION. Every partition of a single-node Conveyor is led by its only replica,
// so no election is ever needed (Conveyor's controller cannot elect yet: a partition that would need
// an election answers PREFERRED_LEADER_NOT_AVAILABLE or ELIGIBLE_LEADERS_NOT_AVAILABLE). Null TopicPartitions means every partition of every topic, and
// then, as Kafka does, each topic is listed with only the partitions an election was needed for
// (none). An election type other than 0 or 1 fails the request with INVALID_REQUEST.
// Version notes: v0 has no ElectionType (preferred) and no top-level error code, and answers
// ELECTION_NOT_NEEDED as later versions do (Kafka 4.x does not map it for v0); v1 adds both;
// v2 is flexible.
import { ErrorCode } from '../../base/error-codes.js';
import type { PartitionImage } from '../../metadata/metadata-image.js';
import { ElectLeadersApi, type ElectLeadersRequest, type ElectLeadersResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

type ElectionResult = ElectLeadersResponse['replicaElectionResults'][number];
type PartitionResult = ElectionResult['partitionResult'][number];

export const ElectionType = { preferred: 0, unclean: 1 } as const;

export const electLeadersHandler = defineHandler({
  api: ElectLeadersApi,
  minVersion: 0,
  maxVersion: 2,
  handle(request, { broker }) {
    const electionType = request.electionType ?? ElectionType.preferred;
    if (electionType !== ElectionType.preferred && electionType !== ElectionType.unclean) return errorBody(request, ErrorCode.INVALID_REQUEST);
    const image = broker.image;
    if (request.topicPartitions === null) {
      const results = [...image.topicsByName.values()]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((topic) => ({
          topic: topic.name,
          partitionResult: [...topic.partitions.values()]
            .map((partition) => ({ partitionId: partition.partitionId, ...electionOutcome(partition, electionType) }))
            .filter((result) => result.errorCode !== ErrorCode.ELECTION_NOT_NEEDED),
        }));
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: results };
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      replicaElectionResults: request.topicPartitions.map(({ topic, partitions }) => ({
        topic,
        partitionResult: partitions.map((partitionId): PartitionResult => {
          const partition = image.partition(topic, partitionId);
          if (partition === undefined) {
            return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `no partition ${topic}-${partitionId}` };
          }
          return { partitionId, ...electionOutcome(partition, electionType) };
        }),
      })),
    };
  },
  errorResponse(request, errorCode) {
    return errorBody(request, errorCode);
  },
});

/**
 * Whether `partition` needs an election. Preferred: not while its first replica leads. Unclean: not
 * while it has a leader. Conveyor's controller has no leader election yet (a single node's only
 * replica leads from the start), so a partition that would need one answers that no leader is
 * available, as Kafka does when it finds no acceptable replica.
 */
function electionOutcome(partition: PartitionImage, electionType: number): { errorCode: number; errorMessage: string | null } {
  const hasLeader = partition.leader >= 0;
  if (electionType === ElectionType.preferred) {
    if (hasLeader && partition.leader === partition.replicas[0]) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: null };
    return { errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage: `preferred leader ${partition.replicas[0]} cannot be elected` };
  }
  if (hasLeader) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: null };
  return { errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: 'no eligible replica can be elected' };
}

function errorBody(request: ElectLeadersRequest, errorCode: number): ElectLeadersResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    replicaElectionResults: (request.topicPartitions ?? []).map(({ topic, partitions }) => ({
      topic,
      partitionResult: partitions.map((partitionId) => ({ partitionId, errorCode, errorMessage: null })),
    })),
  };
}
