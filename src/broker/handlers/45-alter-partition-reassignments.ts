// AlterPartitionReassignments (key 45), versions 0-1.
// Moves partitions to new replica sets, or cancels a move in progress (null replicas), checked as
// Kafka's controller checks them: an unknown topic or partition answers UNKNOWN_TOPIC_OR_PARTITION;
// an empty replica list, a replica listed twice or a broker that is not registered answers
// INVALID_REPLICA_ASSIGNMENT; a change of replica count when v1's AllowReplicationFactorChange is
// false answers INVALID_REPLICATION_FACTOR; a cancel with no reassignment in progress answers
// NO_REASSIGNMENT_IN_PROGRESS. Conveyor runs no reassignments, so the only valid target is a
// partition's current replica set (on one node: this broker), which is a no-op success.
// Version notes: v0 flexible; v1 (Kafka 4.1, KIP-860) adds AllowReplicationFactorChange to the
// request (default true) and echoes it in the response.
import { ErrorCode } from '../../base/error-codes.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import { AlterPartitionReassignmentsApi, type AlterPartitionReassignmentsResponse } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

type PartitionResponse = AlterPartitionReassignmentsResponse['responses'][number]['partitions'][number];

export const alterPartitionReassignmentsHandler = defineHandler({
  api: AlterPartitionReassignmentsApi,
  minVersion: 0,
  maxVersion: 1,
  handle(request, { broker }) {
    const allowReplicationFactorChange = request.allowReplicationFactorChange ?? true;
    return {
      throttleTimeMs: 0,
      allowReplicationFactorChange,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses: request.topics.map(({ name, partitions }) => ({
        name,
        partitions: partitions.map(({ partitionIndex, replicas }) => ({ partitionIndex, ...reassign(broker.image, name, partitionIndex, replicas, allowReplicationFactorChange) })),
      })),
    };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      allowReplicationFactorChange: request.allowReplicationFactorChange ?? true,
      errorCode,
      errorMessage: null,
      responses: [],
    };
  },
});

function reassign(image: MetadataImage, topic: string, partitionIndex: number, target: number[] | null, allowReplicationFactorChange: boolean): Omit<PartitionResponse, 'partitionIndex'> {
  const partition = image.partition(topic, partitionIndex);
  if (partition === undefined) return failure(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${topic}-${partitionIndex}`);
  // Cancelling: nothing is ever being reassigned here.
  if (target === null) return failure(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, `no reassignment of ${topic}-${partitionIndex} is in progress`);
  if (target.length === 0) return failure(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'the replica list is empty');
  const seen = new Set<number>();
  for (const brokerId of [...target].sort((a, b) => a - b)) {
    if (!image.brokers.has(brokerId)) return failure(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `broker ${brokerId} is not registered`);
    if (seen.has(brokerId)) return failure(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `broker ${brokerId} is listed more than once`);
    seen.add(brokerId);
  }
  if (!allowReplicationFactorChange && target.length !== partition.replicas.length) {
    return failure(ErrorCode.INVALID_REPLICATION_FACTOR, `the reassignment changes the replication factor from ${partition.replicas.length} to ${target.length}`);
  }
  if (target.length === partition.replicas.length && target.every((brokerId, index) => partition.replicas[index] === brokerId)) {
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }
  // Registered brokers other than the current replicas exist only in a cluster, which moves data
  // between brokers; Conveyor does not reassign replicas yet.
  return failure(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `moving ${topic}-${partitionIndex} from [${partition.replicas.join(',')}] to [${target.join(',')}] is not supported`);
}

function failure(errorCode: number, errorMessage: string): Omit<PartitionResponse, 'partitionIndex'> {
  return { errorCode, errorMessage };
}
