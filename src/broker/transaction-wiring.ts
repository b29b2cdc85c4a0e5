// The transaction coordinator's ports over this broker's parts: `__transaction_state` partitions
// through the replica manager (the topic created through the controller on first need), markers
// written on each partition's leader (transaction-markers.ts), and producer id blocks from the
// controller.
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import { TransactionCoordinator } from '../coordinator/transaction/transaction-coordinator.js';
import type { TransactionMarkerWriter } from '../coordinator/transaction/transaction-ports.js';
import type { Controller } from '../metadata/controller.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import { TRANSACTION_STATE_TOPIC } from '../metadata/topic-name.js';
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
  /** Writes markers on the partitions' leaders, this broker or others (TransactionMarkerChannel). */
  markers: TransactionMarkerWriter;
  /** Producer id blocks from the active controller (ControllerChannel: local or forwarded). */
  allocateProducerIdBlock: (blockSize: number) => Promise<{ firstProducerId: number; size: number }>;
}

export function createTransactionCoordinator(wiring: TransactionWiring): TransactionCoordinator {
  const { config, clock, image } = wiring;
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
    markers: wiring.markers,
    producerIds: { allocateBlock: () => wiring.allocateProducerIdBlock(PRODUCER_ID_BLOCK_SIZE) },
    partitionExists: (topic, partition) => image.partition(topic, partition) !== undefined,
    mayBeStale: () => wiring.controllerChannel.mayBeStale(),
  });
}
