// How a broker builds its share-group parts (KIP-932): the share coordinator on the
// `__share_group_state` partitions led here, the router that reaches whichever broker's share
// coordinator owns a share-partition's state, and the share-partition manager that serves
// ShareFetch and ShareAcknowledge for the partitions led here, with each group's settings resolved
// from its group configs over the broker's defaults.
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import { ShareStateCoordinator } from '../coordinator/share/share-state-coordinator.js';
import type { ShareStatePersister } from '../coordinator/share/share-state-persister.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import { SHARE_GROUP_STATE_TOPIC } from '../metadata/topic-name.js';
import type { Transport } from '../protocol/transport.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { BrokerConfig } from './broker-config.js';
import type { ControllerChannel } from './controller-channel.js';
import { internalTopicPartitions } from './internal-topics.js';
import type { DelayedOperations } from './purgatory/delayed-operations.js';
import { type ShareGroupSettings, SharePartitionManager } from './share/share-partition-manager.js';
import { ShareStateRouter } from './share-state-router.js';

export interface ShareWiring {
  readonly config: BrokerConfig;
  readonly image: MetadataImage;
  readonly replicaManager: ReplicaManager;
  readonly controllerChannel: ControllerChannel;
  /** Reaches the other brokers' share coordinators. */
  readonly transport: Transport;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The waiting fetches, woken per partition key: share fetches wait among them. */
  readonly fetchWaiters: DelayedOperations;
  /** A group's share settings (its group configs over the broker's defaults). */
  readonly groupSettings: (groupId: string) => ShareGroupSettings;
}

export interface ShareParts {
  readonly coordinator: ShareStateCoordinator;
  /** Share-partition state wherever its share coordinator is. */
  readonly persister: ShareStatePersister;
  readonly partitions: SharePartitionManager;
}

export function createShareParts(wiring: ShareWiring): ShareParts {
  const { config, image, replicaManager, clock, logger } = wiring;
  const shares = config.shareGroups;
  const topic = internalTopicPartitions({ controllerChannel: wiring.controllerChannel, image, logger, replicaManager, clock }, SHARE_GROUP_STATE_TOPIC, {
    numPartitions: shares.stateTopicNumPartitions,
    replicationFactor: shares.stateTopicReplicationFactor,
    minInsyncReplicas: shares.stateTopicMinIsr,
    segmentBytes: shares.stateTopicSegmentBytes,
    // Every update counts in a replay: Kafka keeps this topic (cleanup.policy=delete, retention.ms=-1).
    retainAll: true,
  });
  const coordinator = new ShareStateCoordinator({
    clock,
    logger: logger.child('share-coordinator'),
    image,
    partitions: topic,
    config: { numPartitions: shares.stateTopicNumPartitions, snapshotUpdateRecordsPerSnapshot: shares.snapshotUpdateRecordsPerSnapshot },
  });
  const persister = new ShareStateRouter({ nodeId: config.nodeId, image, local: coordinator, transport: wiring.transport, ensureTopic: () => topic.ensureTopic(), logger: logger.child('share-state') });
  const partitions = new SharePartitionManager({
    replicaManager,
    image,
    persister,
    clock,
    logger: logger.child('share-partitions'),
    deliveryCountLimit: shares.deliveryCountLimit,
    maxInFlightRecords: shares.partitionMaxRecordLocks,
    maxShareSessions: shares.maxShareSessions,
    groupSettings: wiring.groupSettings,
    wake: (partitionKey) => wiring.fetchWaiters.checkAndComplete(partitionKey),
  });
  return { coordinator, persister, partitions };
}
