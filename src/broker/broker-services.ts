// What request handlers may use: the broker's identity, configuration, metadata, controller,
// partitions and waiting-request queues. Handlers stay thin and delegate to these.
import type { Authorization } from './authorizer/authorization.js';
import type { ClientQuotas } from './quota/client-quotas.js';
import { ErrorCode } from '../base/error-codes.js';
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import type { GroupCoordinator } from '../coordinator/group/group-coordinator.js';
import type { TransactionCoordinator } from '../coordinator/transaction/transaction-coordinator.js';
import type { Controller } from '../metadata/controller.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import type { RaftMetadataQuorum } from '../quorum/raft-metadata-quorum.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { TransactionVerifier } from './transaction-verification.js';
import type { Transport } from '../protocol/transport.js';
import type { SharePartitionManager } from './share/share-partition-manager.js';
import type { ShareStateCoordinator } from '../coordinator/share/share-state-coordinator.js';
import type { BrokerConfig } from './broker-config.js';
import type { ControllerChannel } from './controller-channel.js';
import type { DelayedOperations } from './purgatory/delayed-operations.js';
import type { BrokerMetrics } from './metrics/broker-metrics.js';
import type { SaslAuthenticator } from './sasl-authenticator.js';

export interface SupportedApi {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface BrokerServices {
  readonly nodeId: number;
  /** SASL authentication on the SASL listeners (none: every connection passes). */
  readonly sasl: SaslAuthenticator;
  /** Whether a connection's principal may do an operation on a resource (every answer yes without an authorizer). */
  readonly authorization: Authorization;
  /**
   * The client quotas (undefined: none enforced): the byte rates on Produce and Fetch and
   * request_percentage on every request, applied by the request dispatcher; controller_mutation_rate,
   * recorded by the CreateTopics, DeleteTopics and CreatePartitions handlers.
   */
  readonly clientQuotas?: ClientQuotas;
  readonly clusterId: string;
  readonly config: BrokerConfig;
  readonly image: MetadataImage;
  readonly controller: Controller;
  /** The metadata quorum (Raft on __cluster_metadata-0; a quorum of one on a single node). */
  readonly quorum: RaftMetadataQuorum;
  /** Requests for the active controller: the local controller, or forwarded to the one that is. */
  readonly controllerChannel: ControllerChannel;
  readonly replicaManager: ReplicaManager;
  readonly fetchWaiters: DelayedOperations;
  /** acks=all produces waiting for the in-sync replicas (completed as the high watermark moves). */
  readonly produceWaiters: DelayedOperations;
  /** Consumer groups and committed offsets, kept in `__consumer_offsets`. */
  readonly groupCoordinator: GroupCoordinator;
  /** Share groups' state on the partitions this broker leads, and their members' share sessions (KIP-932). */
  readonly sharePartitions: SharePartitionManager;
  /** Share-partition state kept in the `__share_group_state` partitions this broker leads (Kafka's share coordinator). */
  readonly shareStateCoordinator: ShareStateCoordinator;
  /** Producer ids and transactions, kept in `__transaction_state`. */
  readonly transactionCoordinator: TransactionCoordinator;
  /** Reaches the other brokers on the inter-broker listener (a single node has none). */
  readonly peers: Transport;
  /** Checks a transactional produce against its coordinator, here or on another broker (KIP-890). */
  readonly transactionVerifier: TransactionVerifier;
  readonly clock: Clock;
  readonly logger: Logger;
  /** What the metrics endpoint reports, counted only while one is configured (metrics.listeners). */
  readonly metrics?: BrokerMetrics;
  /** The APIs and versions this broker serves, derived from the handler registry. */
  readonly supportedApis: readonly SupportedApi[];
}

/**
 * The controller id clients are told (Metadata, DescribeCluster): the active controller, which in
 * combined mode is also a broker, so admin requests that need the controller reach it (brokers do
 * not forward them yet); this broker while none is known, since clients such as kafkajs fail on a
 * controller id outside the broker list.
 */
export function advertisedControllerId(broker: BrokerServices): number {
  const active = broker.quorum.activeControllerId;
  return active >= 0 && broker.image.brokers.has(active) ? active : broker.nodeId;
}

/**
 * The error for a partition this broker does not lead: KAFKA_STORAGE_ERROR when its replica here is
 * in a failed log directory, NOT_LEADER_OR_FOLLOWER when the image has
 * it (another broker leads it, or none does yet: clients refresh their metadata and retry),
 * UNKNOWN_TOPIC_OR_PARTITION when it does not exist.
 */
export function notLedHereError(broker: BrokerServices, topic: string, partitionIndex: number): number {
  // A replica in a failed log directory answers as Kafka's offline replicas do.
  if (broker.replicaManager.isOffline(topic, partitionIndex)) return ErrorCode.KAFKA_STORAGE_ERROR;
  return broker.image.topic(topic)?.partitions.has(partitionIndex) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
}
