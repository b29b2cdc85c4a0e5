// Kafka's internal topics (`__consumer_offsets`, `__transaction_state`) and the coordinators'
// port onto them. A topic is created through the controller the first time something needs it,
// whichever request that is: FindCoordinator, AddOffsetsToTxn, a group or transaction operation.
// Concurrent callers race harmlessly: the loser gets TOPIC_ALREADY_EXISTS and finds the topic in
// the image.
import type { Clock } from '../base/clock.js';
import { ErrorCode } from '../base/error-codes.js';
import type { Logger } from '../base/logger.js';
import type { ControllerChannel } from './controller-channel.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import type { ReplicaManager } from '../replication/replica-manager.js';

/** Segment size of the internal topics, as Kafka's offsets.topic.segment.bytes and transaction.state.log.segment.bytes. */
const INTERNAL_TOPIC_SEGMENT_BYTES = 100 * 1024 * 1024;

export interface InternalTopicWiring {
  /** The topic is created through the active controller, wherever it runs. */
  readonly controllerChannel: ControllerChannel;
  readonly image: MetadataImage;
  readonly logger: Logger;
  readonly replicaManager: ReplicaManager;
  readonly clock: Clock;
}

/** How long creating an internal topic may wait for the active controller. */
const INTERNAL_TOPIC_CREATE_TIMEOUT_MS = 10_000;

/** How long a coordinator's write may wait for the in-sync replicas (Kafka's offsets.commit.timeout.ms). */
const COMMIT_TIMEOUT_MS = 5000;

/** How long a created topic may take to reach this broker's image before the caller gives up for now. */
const IMAGE_CATCH_UP_WAIT_MS = 3000;
const IMAGE_CATCH_UP_POLL_MS = 10;

/** Bytes one coordinator replay read takes at most. */
const REPLAY_READ_MAX_BYTES = 1024 * 1024;

/** A coordinator's port onto the partitions of internal topic `name` this broker hosts. */
export interface InternalTopicPartitions {
  /** Partitions of the topic; 0 before it exists. */
  numPartitions(): number;
  /** Creates the topic if it does not exist yet; true once it exists. */
  ensureTopic(): Promise<boolean>;
  isHosted(partition: number): boolean;
  /** The leader epoch of `partition` hosted here (a transaction coordinator's epoch), -1 if not hosted. */
  leaderEpoch(partition: number): number;
  /** Appends one record batch and resolves once it is committed (the in-sync replicas have it). */
  append(partition: number, batch: Buffer): Promise<void>;
  /** Whole batches from `fromOffset` up to the log end (a bounded chunk), with that end. */
  read(partition: number, fromOffset: number): Promise<{ chunks: Buffer[]; highWatermark: number }>;
}

/** How an internal topic is created: Kafka's offsets.topic.* and transaction.state.log.* settings. */
export interface InternalTopicShape {
  readonly numPartitions: number;
  /** Capped at the unfenced brokers there are when the topic is created (Kafka refuses instead). */
  readonly replicationFactor: number;
  /** The topic's min.insync.replicas, capped at its replication factor; undefined: the broker default. */
  readonly minInsyncReplicas?: number;
  /**
   * Kept forever instead of compacted: `__share_group_state`, whose updates of one share-partition
   * share a key and each count (Kafka creates it with cleanup.policy=delete and retention.ms=-1).
   */
  readonly retainAll?: boolean;
  /** segment.bytes (100 MiB, Kafka's offsets.topic.segment.bytes, when not given). */
  readonly segmentBytes?: number;
}

export function internalTopicPartitions(wiring: InternalTopicWiring, name: string, shape: InternalTopicShape): InternalTopicPartitions {
  const { replicaManager, image, clock } = wiring;
  const hosted = (partition: number) => {
    const found = replicaManager.get(name, partition);
    if (!found) throw new Error(`${name}-${partition} is not hosted here`);
    return found;
  };
  return {
    numPartitions: () => image.topic(name)?.partitions.size ?? 0,
    ensureTopic: () => ensureInternalTopic(wiring, name, shape),
    // A broker whose session may have lapsed (ControllerChannel.mayBeStale: cut off, or paused
    // past broker.session.timeout.ms) may have lost the partition without its image knowing yet,
    // and another coordinator may have moved the state on: its coordinators serve nothing from
    // what they hold (NOT_COORDINATOR) until a heartbeat is accepted again (Kafka has no such guard;
    // the chaos campaign read committed offsets going back from a node just resumed).
    isHosted: (partition) => replicaManager.get(name, partition) !== undefined && !wiring.controllerChannel.mayBeStale(),
    leaderEpoch: (partition) => replicaManager.get(name, partition)?.leaderEpoch ?? -1,
    append: async (partition, batch) => {
      const leader = hosted(partition);
      const appended = await replicaManager.append(leader, batch, clock.nowMs());
      // Committed: every in-sync replica has it, so it survives this broker (a replicated topic).
      await replicaManager.whenCommitted(leader, appended.lastOffset, COMMIT_TIMEOUT_MS, clock);
    },
    read: async (partition, fromOffset) => {
      // A new leader replays its whole log: it holds everything committed, and what it holds above
      // its high watermark is what the partition will commit under its leadership.
      const { log } = hosted(partition);
      const result = await log.read(Math.max(fromOffset, log.logStartOffset), { maxBytes: REPLAY_READ_MAX_BYTES, maxOffset: log.logEndOffset, minOneBatch: true });
      return { chunks: result.chunks, highWatermark: log.logEndOffset };
    },
  };
}

/** Creates the compacted internal topic `name` unless the image has it; true once it exists. */
export async function ensureInternalTopic(wiring: InternalTopicWiring, name: string, shape: InternalTopicShape): Promise<boolean> {
  const { controllerChannel, image, logger, clock } = wiring;
  if (image.topic(name)) return true;
  // A single node (or a cluster still starting) gets what it can hold: Kafka would refuse to create
  // the topic until enough brokers have registered, leaving a lone broker without coordinators.
  const brokers = [...image.brokers.values()].filter((broker) => !broker.fenced).length;
  const replicationFactor = Math.max(1, Math.min(shape.replicationFactor, brokers));
  const configs = [
    ...(shape.retainAll ? [{ name: 'cleanup.policy', value: 'delete' }, { name: 'retention.ms', value: '-1' }] : [{ name: 'cleanup.policy', value: 'compact' }]),
    { name: 'segment.bytes', value: String(shape.segmentBytes ?? INTERNAL_TOPIC_SEGMENT_BYTES) },
  ];
  if (shape.minInsyncReplicas !== undefined) configs.push({ name: 'min.insync.replicas', value: String(Math.min(shape.minInsyncReplicas, replicationFactor)) });
  const [result] = await controllerChannel.createTopics(
    [{ name, numPartitions: shape.numPartitions, replicationFactor, assignments: [], configs }],
    false,
    clock.monotonicMs() + INTERNAL_TOPIC_CREATE_TIMEOUT_MS,
  );
  // Created by another node's controller, the topic reaches this image a moment later: waited
  // for a little, so the caller can answer now (not every client retries COORDINATOR_NOT_AVAILABLE:
  // kafkajs gives up AddOffsetsToTxn on it). Past the wait, the caller answers that error.
  const created = result !== undefined && (result.errorCode === ErrorCode.NONE || result.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS);
  for (let waitedMs = 0; created && image.topic(name) === undefined && waitedMs < IMAGE_CATCH_UP_WAIT_MS; waitedMs += IMAGE_CATCH_UP_POLL_MS) {
    await new Promise<void>((resolve) => clock.schedule(IMAGE_CATCH_UP_POLL_MS, resolve));
  }
  const exists = image.topic(name) !== undefined;
  if (!exists && result) logger.warn(`creating ${name} failed`, { errorCode: result.errorCode, message: result.errorMessage });
  return exists;
}
