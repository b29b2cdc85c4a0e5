// ElectLeaders (key 43), versions 0-2.
// Preferred (0) or unclean (1) leader election for the requested partitions, decided by the active
// controller (Controller.electLeaders, Kafka's rules): a partition whose leader is already its
// preferred replica (preferred) or that has a leader at all (unclean) answers ELECTION_NOT_NEEDED;
// a preferred replica that is not an unfenced ISR member answers PREFERRED_LEADER_NOT_AVAILABLE; an
// unclean election with no unfenced replica answers ELIGIBLE_LEADERS_NOT_AVAILABLE; an unknown topic
// or partition answers UNKNOWN_TOPIC_OR_PARTITION; an election commits a PartitionChangeRecord. Null
// TopicPartitions means every partition of every topic, and then, as Kafka does, each topic is listed
// with only the partitions an election was needed for. An election type other than 0 or 1 fails the
// request with INVALID_REQUEST. In a cluster a broker that is not the active controller forwards the
// request to it (Envelope), as Kafka's brokers do; NOT_CONTROLLER if leadership moved mid-election.
// Needs ALTER on the cluster, checked first, as Kafka's ControllerApis: else CLUSTER_AUTHORIZATION_FAILED
// at the top and for every partition named (Kafka's error response).
// Version notes: v0 has no ElectionType (preferred) and no top-level error code, and answers
// ELECTION_NOT_NEEDED as later versions do (Kafka 4.x does not map it for v0); v1 adds both;
// v2 is flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { ElectionType } from '../../metadata/controller.js';
import { ElectLeadersApi, type ElectLeadersRequest, type ElectLeadersResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const electLeadersHandler = defineHandler({
  api: ElectLeadersApi,
  minVersion: 0,
  maxVersion: 2,
  forwardToController: true,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.ALTER)) return errorBody(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const electionType = request.electionType ?? ElectionType.preferred;
    if (electionType !== ElectionType.preferred && electionType !== ElectionType.unclean) return errorBody(request, ErrorCode.INVALID_REQUEST);
    const partitions = request.topicPartitions?.map(({ topic, partitions: partitionIds }) => ({ topic, partitionIds })) ?? null;
    const results = await broker.controller.electLeaders(electionType, partitions);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      replicaElectionResults: results.map(({ topic, partitions: partitionResult }) => ({ topic, partitionResult })),
    };
  },
  errorResponse(request, errorCode) {
    return errorBody(request, errorCode);
  },
});

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
