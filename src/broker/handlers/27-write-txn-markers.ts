// WriteTxnMarkers (key 27), version 1: a transaction coordinator on another broker asks this
// one, as the leader of the partitions named, to end a producer's transaction on them with a
// COMMIT or ABORT control batch. Each partition answers once its marker is committed (every
// in-sync replica has it) or with the error that stopped it; the coordinator retries on errors.
// Only brokers (and, to abort a hanging transaction, Kafka's Admin.abortTransaction) send it.
// Authorizes as Kafka's KafkaApis: ALTER on the cluster (its denial not logged) or CLUSTER_ACTION,
// else CLUSTER_AUTHORIZATION_FAILED for every partition.
// Version notes: v1 is flexible, with v0's fields; Kafka 4.0 removed v0 (KIP-896), so 1 is the
// only version served (v2, Kafka 4.2, is not yet).
import { ErrorCode } from '../../base/error-codes.js';
import { KafkaError } from '../../base/kafka-error.js';
import { AclOperation, AclResourceType, CLUSTER_RESOURCE_NAME } from '../../metadata/acl.js';
import { WriteTxnMarkersApi, type WriteTxnMarkersRequest, type WriteTxnMarkersResponse } from '../../protocol/messages/index.js';
import { writeMarkerHere } from '../transaction-markers.js';
import { defineHandler } from './handler.js';

export const writeTxnMarkersHandler = defineHandler({
  api: WriteTxnMarkersApi,
  minVersion: 1,
  maxVersion: 1,
  async handle(request, { broker, connection }) {
    const { authorization } = broker;
    if (!authorization.authorize(connection, AclOperation.ALTER, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, false) && !authorization.cluster(connection, AclOperation.CLUSTER_ACTION)) {
      return everyPartition(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    return {
      markers: await Promise.all(
        request.markers.map(async (entry) => ({
          producerId: entry.producerId,
          topics: await Promise.all(
            entry.topics.map(async (topic) => ({
              name: topic.name,
              partitions: await Promise.all(
                topic.partitionIndexes.map(async (partitionIndex) => {
                  const marker = { topic: topic.name, partition: partitionIndex, producerId: Number(entry.producerId), producerEpoch: entry.producerEpoch, committed: entry.transactionResult, coordinatorEpoch: entry.coordinatorEpoch };
                  try {
                    await writeMarkerHere(broker, marker);
                    return { partitionIndex, errorCode: ErrorCode.NONE };
                  } catch (error) {
                    if (!(error instanceof KafkaError)) broker.logger.warn('writing a transaction marker failed', { topic: topic.name, partition: partitionIndex, error });
                    return { partitionIndex, errorCode: error instanceof KafkaError ? error.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR };
                  }
                }),
              ),
            })),
          ),
        })),
      ),
    };
  },
  errorResponse(request, errorCode) {
    return everyPartition(request, errorCode);
  },
});

function everyPartition(request: WriteTxnMarkersRequest, errorCode: number): WriteTxnMarkersResponse {
  return {
    markers: request.markers.map((entry) => ({
      producerId: entry.producerId,
      topics: entry.topics.map((topic) => ({ name: topic.name, partitions: topic.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode })) })),
    })),
  };
}
