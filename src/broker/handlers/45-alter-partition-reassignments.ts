// AlterPartitionReassignments (key 45), versions 0-1.
// Moves partitions to new replica sets, or cancels a move in progress (null replicas), checked by
// the active controller as Kafka's checks them (Controller.alterPartitionReassignments): an unknown
// topic or partition answers UNKNOWN_TOPIC_OR_PARTITION; an empty replica list, a replica listed
// twice or a broker that is not registered answers INVALID_REPLICA_ASSIGNMENT; a change of replica
// count when v1's AllowReplicationFactorChange is false answers INVALID_REPLICATION_FACTOR; a cancel
// with no reassignment in progress answers NO_REASSIGNMENT_IN_PROGRESS. A valid target starts the
// move: the new replicas catch up from the leader, and once all are in the ISR the old ones leave
// and delete their logs (src/metadata/reassignment.ts). In a cluster a broker that is not the active controller forwards the request to it (Envelope), as
// Kafka's brokers do; NOT_CONTROLLER if leadership moved meanwhile.
// Needs ALTER on the cluster, as Kafka's ControllerApis: else CLUSTER_AUTHORIZATION_FAILED at the top
// and for every partition named (Kafka's error response, which every failure of the request uses).
// Version notes: v0 flexible; v1 (Kafka 4.1, KIP-860) adds AllowReplicationFactorChange to the
// request (default true) and echoes it in the response.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { AlterPartitionReassignmentsApi, type AlterPartitionReassignmentsRequest, type AlterPartitionReassignmentsResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const alterPartitionReassignmentsHandler = defineHandler({
  api: AlterPartitionReassignmentsApi,
  minVersion: 0,
  maxVersion: 1,
  forwardToController: true,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.ALTER)) return errorBody(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const allowReplicationFactorChange = request.allowReplicationFactorChange ?? true;
    const results = await broker.controller.alterPartitionReassignments(
      request.topics.map(({ name, partitions }) => ({ topic: name, partitions: partitions.map(({ partitionIndex, replicas }) => ({ partitionId: partitionIndex, replicas })) })),
      allowReplicationFactorChange,
    );
    return {
      throttleTimeMs: 0,
      allowReplicationFactorChange,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses: results.map(({ topic, partitions }) => ({
        name: topic,
        partitions: partitions.map(({ partitionId, errorCode, errorMessage }) => ({ partitionIndex: partitionId, errorCode, errorMessage })),
      })),
    };
  },
  errorResponse(request, errorCode) {
    return errorBody(request, errorCode);
  },
});

function errorBody(request: AlterPartitionReassignmentsRequest, errorCode: number): AlterPartitionReassignmentsResponse {
  return {
    throttleTimeMs: 0,
    allowReplicationFactorChange: request.allowReplicationFactorChange ?? true,
    errorCode,
    errorMessage: null,
    responses: request.topics.map(({ name, partitions }) => ({ name, partitions: partitions.map(({ partitionIndex }) => ({ partitionIndex, errorCode, errorMessage: null })) })),
  };
}
