// How a broker builds its share-group parts (KIP-932): the share-partition manager that serves
// ShareFetch and ShareAcknowledge for the partitions led here, with the group's settings resolved
// from its group configs over the broker's defaults.
import type { Clock } from '../base/clock.js';
import { ErrorCode } from '../base/error-codes.js';
import type { Logger } from '../base/logger.js';
import type { ShareStatePersister } from '../coordinator/share/share-state-persister.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { DelayedOperations } from './purgatory/delayed-operations.js';
import { type ShareGroupSettings, SharePartitionManager } from './share/share-partition-manager.js';

/** Kafka 4.2's defaults (group.share.*), until the broker's share keys and group configs are read. */
const DEFAULT_SETTINGS: ShareGroupSettings = { recordLockDurationMs: 30_000, autoOffsetReset: { kind: 'latest' }, readCommitted: false };

export interface ShareWiring {
  readonly image: MetadataImage;
  readonly replicaManager: ReplicaManager;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The waiting fetches, woken per partition key: share fetches wait among them. */
  readonly fetchWaiters: DelayedOperations;
  readonly persister: ShareStatePersister;
}

export function createSharePartitions(wiring: ShareWiring): SharePartitionManager {
  return new SharePartitionManager({
    replicaManager: wiring.replicaManager,
    image: wiring.image,
    persister: wiring.persister,
    clock: wiring.clock,
    logger: wiring.logger.child('share-partitions'),
    deliveryCountLimit: 5,
    maxInFlightRecords: 2000,
    maxShareSessions: 2000,
    groupSettings: () => DEFAULT_SETTINGS,
    wake: (partitionKey) => wiring.fetchWaiters.checkAndComplete(partitionKey),
  });
}

/** Answers every call COORDINATOR_NOT_AVAILABLE: the share coordinator is not wired in yet. */
export const NO_SHARE_COORDINATOR: ShareStatePersister = {
  initialize: async () => ({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }),
  read: async () => ({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, stateEpoch: 0, startOffset: -1, stateBatches: [] }),
  write: async () => ({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }),
  delete: async () => ({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }),
  readSummary: async () => ({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, stateEpoch: 0, leaderEpoch: -1, startOffset: -1, deliveryCompleteCount: -1 }),
};
