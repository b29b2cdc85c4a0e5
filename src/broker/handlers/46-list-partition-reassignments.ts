// ListPartitionReassignments (key 46), version 0.
// The reassignments in progress: all of them for null Topics, else those of the named topics and
// partitions (unknown topics and partitions are left out, as Kafka does), with each one's replicas
// and the replicas being added and removed (see 45-alter-partition-reassignments.ts). In a
// cluster a broker that is not the active controller forwards the request to it (Envelope), as
// Kafka's brokers do: the controller is the one that knows the reassignments.
// Needs DESCRIBE on the cluster, as Kafka's ControllerApis: else CLUSTER_AUTHORIZATION_FAILED, with
// the named topics and partitions listed without replicas (Kafka's error response).
// Version notes: v0 only (flexible).
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { ListPartitionReassignmentsApi, type ListPartitionReassignmentsRequest, type ListPartitionReassignmentsResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const listPartitionReassignmentsHandler = defineHandler({
  api: ListPartitionReassignmentsApi,
  minVersion: 0,
  maxVersion: 0,
  forwardToController: true,
  handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.DESCRIBE)) return errorBody(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const named = request.topics?.map(({ name, partitionIndexes }) => ({ topic: name, partitionIds: partitionIndexes })) ?? null;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: broker.controller.listPartitionReassignments(named).map(({ topic, partitions }) => ({
        name: topic,
        partitions: partitions.map(({ partitionId, replicas, addingReplicas, removingReplicas }) => ({ partitionIndex: partitionId, replicas, addingReplicas, removingReplicas })),
      })),
    };
  },
  errorResponse(request, errorCode) {
    return errorBody(request, errorCode);
  },
});

function errorBody(request: ListPartitionReassignmentsRequest, errorCode: number): ListPartitionReassignmentsResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    errorMessage: null,
    topics: (request.topics ?? []).map(({ name, partitionIndexes }) => ({
      name,
      partitions: partitionIndexes.map((partitionIndex) => ({ partitionIndex, replicas: [], addingReplicas: [], removingReplicas: [] })),
    })),
  };
}
