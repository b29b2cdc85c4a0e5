// The transaction coordinator's ports over this broker's parts: `__transaction_state` partitions
// through the replica manager (the topic created through the controller on first need), markers
// appended to data partitions (or handed to the group coordinator for `__consumer_offsets`, which
// commits pending transactional offsets), and producer id blocks from the controller.
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import type { GroupCoordinator } from '../coordinator/group/group-coordinator.js';
import { TransactionCoordinator } from '../coordinator/transaction/transaction-coordinator.js';
import type { TransactionMarker } from '../coordinator/transaction/transaction-ports.js';
import type { Controller } from '../metadata/controller.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from '../metadata/topic-name.js';
import { buildControlBatchSync, ControlRecordType } from '../protocol/records/control-record.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { BrokerConfig } from './broker-config.js';
import type { ControllerChannel } from './controller-channel.js';
import { internalTopicPartitions } from './internal-topics.js';

/** Producer ids reserved per ProducerIdsRecord, as Kafka's default block. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

export interface TransactionWiring {
  config: BrokerConfig;
  nodeId: number;
  clock: Clock;
  logger: Logger;
  image: MetadataImage;
  controller: Controller;
  controllerChannel: ControllerChannel;
  replicaManager: ReplicaManager;
  groupCoordinator: GroupCoordinator;
  /** Producer id blocks from the active controller (ControllerChannel: local or forwarded). */
  allocateProducerIdBlock: (blockSize: number) => Promise<{ firstProducerId: number; size: number }>;
}

export function createTransactionCoordinator(wiring: TransactionWiring): TransactionCoordinator {
  const { config, clock, image, replicaManager, groupCoordinator } = wiring;
  return new TransactionCoordinator({
    clock,
    logger: wiring.logger,
    config: {
      transactionStateLogNumPartitions: config.transactionStateLogNumPartitions,
      transactionMaxTimeoutMs: config.transactionMaxTimeoutMs,
      transactionalIdExpirationMs: config.transactionalIdExpirationMs,
      abortTimedOutTransactionsIntervalMs: config.transactionAbortTimedOutTransactionCleanupIntervalMs,
    },
    stateLog: internalTopicPartitions(wiring, TRANSACTION_STATE_TOPIC, {
      numPartitions: config.transactionStateLogNumPartitions,
      replicationFactor: config.transactionStateLogReplicationFactor,
      minInsyncReplicas: config.transactionStateLogMinIsr,
    }),
    markers: {
      writeMarker: async (marker: TransactionMarker) => {
        if (marker.topic === CONSUMER_OFFSETS_TOPIC) {
          if (!groupCoordinator.isOffsetsPartitionHosted(marker.partition)) return false;
          await groupCoordinator.writeTransactionMarker(marker.partition, marker.producerId, marker.producerEpoch, marker.committed, marker.coordinatorEpoch);
          return true;
        }
        const partition = replicaManager.get(marker.topic, marker.partition);
        if (!partition) return image.partition(marker.topic, marker.partition) === undefined ? false : Promise.reject(new Error(`${marker.topic}-${marker.partition} is not hosted yet`));
        const batch = buildControlBatchSync({
          type: marker.committed ? ControlRecordType.commit : ControlRecordType.abort,
          producerId: marker.producerId,
          producerEpoch: marker.producerEpoch,
          coordinatorEpoch: marker.coordinatorEpoch,
          timestamp: clock.nowMs(),
        });
        await replicaManager.append(partition, batch, clock.nowMs());
        return true;
      },
    },
    producerIds: { allocateBlock: () => wiring.allocateProducerIdBlock(PRODUCER_ID_BLOCK_SIZE) },
    partitionExists: (topic, partition) => image.partition(topic, partition) !== undefined,
  });
}
