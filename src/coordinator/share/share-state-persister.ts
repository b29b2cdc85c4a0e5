// The port between share groups and their durable share-partition state (KIP-932). Kafka's
// DefaultStatePersister sends the share-state RPCs (InitializeShareGroupState 83,
// ReadShareGroupState 84, WriteShareGroupState 85, DeleteShareGroupState 86,
// ReadShareGroupStateSummary 87) to the share coordinator that owns the key
// "<groupId>:<topicId>:<partition>" on `__share_group_state`; Conveyor's broker answers locally
// when it leads that partition and sends the RPC to the leader otherwise. The group coordinator
// initializes and deletes state; a share-partition's leader reads and writes it.
import type { PersistedStateBatch } from './share-partition.js';

/** Which share-partition: one share group on one topic-partition (the topic by its id). */
export interface ShareStateKey {
  readonly groupId: string;
  readonly topicId: string;
  readonly partition: number;
}

/** ErrorCode.NONE, or the error the share coordinator answered (with its message when it gave one). */
export interface ShareStateResult {
  readonly errorCode: number;
  readonly errorMessage?: string | null;
}

export interface ShareStateRead extends ShareStateResult {
  /** The group epoch that initialized the state (0 when not found). */
  readonly stateEpoch: number;
  /** SPSO; -1 when initialized but never written (share.auto.offset.reset decides). */
  readonly startOffset: number;
  readonly stateBatches: readonly PersistedStateBatch[];
}

export interface ShareStateSummary extends ShareStateResult {
  readonly stateEpoch: number;
  readonly leaderEpoch: number;
  readonly startOffset: number;
  /** Acknowledged or archived records at or above startOffset; -1 when unknown (KIP-1226). */
  readonly deliveryCompleteCount: number;
}

export interface ShareStateWrite {
  readonly stateEpoch: number;
  /** The writer's leader epoch of the data partition; an older one than the stored is fenced. -1: unchanged. */
  readonly leaderEpoch: number;
  /** The new SPSO; -1: unchanged. */
  readonly startOffset: number;
  /** -1 when not known. */
  readonly deliveryCompleteCount: number;
  /** Only the ranges whose state or delivery count changed (a whole snapshot is fine too). */
  readonly stateBatches: readonly PersistedStateBatch[];
}

/**
 * Each call resolves (never rejects) with the share coordinator's answer: NONE, or an error such
 * as NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE / COORDINATOR_LOAD_IN_PROGRESS (retriable),
 * INVALID_REQUEST (a read or write of a state never initialized, or deleted), FENCED_STATE_EPOCH,
 * FENCED_LEADER_EPOCH, UNKNOWN_TOPIC_OR_PARTITION (the topic or partition is not in the metadata,
 * e.g. deleted). Deleting a state that is not there succeeds.
 */
export interface ShareStatePersister {
  /** Creates (or re-creates, at a newer state epoch) the state with `startOffset` (-1: decided at first read). */
  initialize(key: ShareStateKey, stateEpoch: number, startOffset: number): Promise<ShareStateResult>;
  /** The state, for a leader that starts serving the share-partition at `leaderEpoch`. */
  read(key: ShareStateKey, leaderEpoch: number): Promise<ShareStateRead>;
  write(key: ShareStateKey, state: ShareStateWrite): Promise<ShareStateResult>;
  delete(key: ShareStateKey): Promise<ShareStateResult>;
  readSummary(key: ShareStateKey, leaderEpoch: number): Promise<ShareStateSummary>;
}
