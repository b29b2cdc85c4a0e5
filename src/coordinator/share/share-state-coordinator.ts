// Kafka's share coordinator (KIP-932) for the `__share_group_state` partitions this broker hosts:
// it keeps each share-partition's durable state (state epoch, leader epoch, start offset and the
// delivery state of the in-flight ranges), writes every change as a record before answering, and
// rebuilds the state by replaying those records when a partition loads. Rules as Kafka 4.2's
// ShareCoordinatorShard: Initialize writes a whole Snapshot; a Write appends an Update holding only
// the changed ranges, and after `snapshotUpdateRecordsPerSnapshot` Updates writes a merged Snapshot
// instead; a Read that brings a newer leader epoch records it; Delete writes a tombstone.
// Sans-IO: time comes in as a clock, the partitions as a port, topics from the metadata image.
import type { Clock } from '../../base/clock.js';
import { ErrorCode } from '../../base/error-codes.js';
import type { Logger } from '../../base/logger.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import { SHARE_GROUP_STATE_TOPIC } from '../../metadata/topic-name.js';
import type {
  DeleteShareGroupStateRequest,
  DeleteShareGroupStateResponse,
  InitializeShareGroupStateRequest,
  InitializeShareGroupStateResponse,
  ReadShareGroupStateRequest,
  ReadShareGroupStateResponse,
  ReadShareGroupStateSummaryRequest,
  ReadShareGroupStateSummaryResponse,
  WriteShareGroupStateRequest,
  WriteShareGroupStateResponse,
} from '../../protocol/messages/index.js';
import { readLastOffset } from '../../protocol/records/batch-header.js';
import { decodeRecordBatchSync, recordBatchSpans } from '../../protocol/records/record-batch.js';
import { coordinatorAppendError } from '../append-errors.js';
import { javaStringHashCode } from '../group/group-partition.js';
import type { OffsetsTopicPartitions } from '../group/offsets-topic.js';
import type { PersistedStateBatch } from './share-partition.js';
import type { ShareStateKey, ShareStatePersister, ShareStateRead, ShareStateResult, ShareStateSummary, ShareStateWrite } from './share-state-persister.js';
import { type DecodedShareStateRecord, type ShareSnapshot, type ShareUpdate, buildShareStateBatch, decodeShareStateRecord, shareSnapshotRecord, shareUpdateRecord } from './share-state-records.js';

/** The coordinator's port onto `__share_group_state`: the same shape as the group coordinator's. */
export type ShareStateTopicPartitions = OffsetsTopicPartitions;

export interface ShareStateCoordinatorConfig {
  /** share.coordinator.state.topic.num.partitions: the partition count until the topic exists. */
  readonly numPartitions: number;
  /** share.coordinator.snapshot.update.records.per.snapshot: Updates between two Snapshots of a key. */
  readonly snapshotUpdateRecordsPerSnapshot: number;
  /** How long a request waits for its partition's load before it answers COORDINATOR_LOAD_IN_PROGRESS. */
  readonly loadWaitMs: number;
}

export const DEFAULT_SHARE_STATE_COORDINATOR_CONFIG: ShareStateCoordinatorConfig = {
  numPartitions: 50,
  snapshotUpdateRecordsPerSnapshot: 500,
  loadWaitMs: 3000,
};

export interface ShareStateCoordinatorOptions {
  clock: Clock;
  logger: Logger;
  image: MetadataImage;
  partitions: ShareStateTopicPartitions;
  config?: Partial<ShareStateCoordinatorConfig>;
}

/** Kafka's SharePartitionKey.asCoordinatorKey: the key FindCoordinator (type 2) and the partition hash use. */
export function shareStateCoordinatorKey(key: ShareStateKey): string {
  return `${key.groupId}:${key.topicId}:${key.partition}`;
}

/**
 * A FindCoordinator (key type 2) key, "groupId:topicId:partition", as Kafka's
 * SharePartitionKey.validate reads it: exactly three tokens, a group id not blank (trimmed), a
 * topic id that is a Uuid and an int32 partition; undefined when it is not one.
 */
export function parseShareStateCoordinatorKey(text: string): ShareStateKey | undefined {
  const tokens = text.split(':');
  if (tokens.length !== 3) return undefined;
  const [group, topicId, partitionText] = tokens as [string, string, string];
  const groupId = group.trim();
  if (groupId.length === 0 || !/^[A-Za-z0-9_-]{22}$/.test(topicId) || !/^[+-]?\d+$/.test(partitionText)) return undefined;
  const partition = Number(partitionText);
  if (partition < -2147483648 || partition > 2147483647) return undefined;
  return { groupId, topicId, partition };
}

/** Which `__share_group_state` partition owns `key`: Kafka's `Utils.abs(key.hashCode) % n`. */
export function shareStatePartitionFor(key: ShareStateKey, numPartitions: number): number {
  const hash = javaStringHashCode(shareStateCoordinatorKey(key));
  return (hash === -2147483648 ? 0 : Math.abs(hash)) % numPartitions;
}

/** One share-partition's state as its records left it, with Kafka's fencing epochs beside it. */
export interface StoredShareState {
  readonly key: ShareStateKey;
  /** The last Snapshot with the later Updates merged in. */
  readonly state: ShareSnapshot;
  readonly updatesSinceSnapshot: number;
  /** The highest leader epoch any record carried (Kafka's leaderEpochMap): older writers are fenced. */
  readonly fenceLeaderEpoch: number;
  /** The highest state epoch any Snapshot carried (Kafka's stateEpochMap). */
  readonly fenceStateEpoch: number;
}

/** A loaded (or loading) `__share_group_state` partition; replaced when the partition is unloaded. */
interface HostedPartition {
  readonly states: Map<string, StoredShareState>;
  loaded: boolean;
  failed: boolean;
  loading: Promise<void>;
}

type Ready = { errorCode: number; errorMessage?: string } | { hosted: HostedPartition };

/** A record this coordinator writes (an Update always has a value). */
type LiveRecord = { type: 'snapshot'; key: ShareStateKey; value: ShareSnapshot | null } | { type: 'update'; key: ShareStateKey; value: ShareUpdate };

const UNINITIALIZED_WRITE = 'Write operation on uninitialized share partition not allowed.';
const UNINITIALIZED_READ = 'Read operation on uninitialized share partition not allowed.';
const NEGATIVE_PARTITION = 'The partition id cannot be negative.';
const EMPTY_GROUP = 'The group id must be non-empty.';

export class ShareStateCoordinator implements ShareStatePersister {
  private readonly config: ShareStateCoordinatorConfig;
  private readonly hosted = new Map<number, HostedPartition>();
  /** One operation at a time per share-partition key: each sees the state its predecessor left. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private stopped = false;

  constructor(private readonly options: ShareStateCoordinatorOptions) {
    this.config = { ...DEFAULT_SHARE_STATE_COORDINATOR_CONFIG, ...options.config };
  }

  /** Partitions of `__share_group_state` as the image has them, else the configured count. */
  numPartitions(): number {
    const count = this.options.image.topic(SHARE_GROUP_STATE_TOPIC)?.partitions.size ?? 0;
    return count > 0 ? count : this.config.numPartitions;
  }

  partitionFor(key: ShareStateKey): number {
    return shareStatePartitionFor(key, this.numPartitions());
  }

  /** Loads every partition hosted here (they also load on first use). */
  async start(): Promise<void> {
    const count = this.options.image.topic(SHARE_GROUP_STATE_TOPIC)?.partitions.size ?? 0;
    for (let partition = 0; partition < count; partition++) {
      if (this.options.partitions.isHosted(partition)) await this.load(partition).loading;
    }
  }

  /** Every later request answers COORDINATOR_NOT_AVAILABLE (Kafka's inactive coordinator). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * This broker no longer leads `partition` (another broker coordinates its keys now): its state
   * goes, and leading it again loads it afresh from the log. A load under way restores nothing.
   */
  unload(partition: number): void {
    const hosted = this.hosted.get(partition);
    if (hosted === undefined) return;
    this.hosted.delete(partition);
    this.options.logger.info('unloaded __share_group_state partition', { partition, keys: hosted.states.size });
  }

  /** The loaded state of `key` (tests and diagnostics); undefined when absent or not loaded here. */
  storedState(key: ShareStateKey): StoredShareState | undefined {
    const hosted = this.hosted.get(this.partitionFor(key));
    return hosted?.loaded ? hosted.states.get(shareStateCoordinatorKey(key)) : undefined;
  }

  // ---- ShareStatePersister ----

  initialize(key: ShareStateKey, stateEpoch: number, startOffset: number): Promise<ShareStateResult> {
    return this.exclusive(key, async () => {
      const ready = await this.ready(key);
      if ('errorCode' in ready) return ready;
      const stored = ready.hosted.states.get(shareStateCoordinatorKey(key));
      if (stateEpoch !== -1 && stored !== undefined && stored.fenceStateEpoch > stateEpoch) return { errorCode: ErrorCode.FENCED_STATE_EPOCH };
      const unknown = this.unknownTopicPartition(key);
      if (unknown !== undefined) return unknown;
      // A fresh start: nothing of the previous state is merged in.
      const nowMs = this.options.clock.nowMs();
      const snapshot: ShareSnapshot = {
        snapshotEpoch: stored === undefined ? 0 : stored.state.snapshotEpoch + 1,
        stateEpoch,
        leaderEpoch: 0,
        startOffset,
        deliveryCompleteCount: -1,
        createTimestamp: nowMs,
        writeTimestamp: nowMs,
        stateBatches: [],
      };
      return { errorCode: await this.commit(ready.hosted, { type: 'snapshot', key, value: snapshot }) };
    });
  }

  read(key: ShareStateKey, leaderEpoch: number): Promise<ShareStateRead> {
    return this.exclusive(key, async () => {
      const failed = (errorCode: number, errorMessage: string | null = null): ShareStateRead => ({ errorCode, errorMessage, stateEpoch: 0, startOffset: -1, stateBatches: [] });
      const ready = await this.ready(key);
      if ('errorCode' in ready) return failed(ready.errorCode, ready.errorMessage);
      const stored = ready.hosted.states.get(shareStateCoordinatorKey(key));
      if (stored === undefined) return failed(ErrorCode.INVALID_REQUEST, UNINITIALIZED_READ);
      // Unlike a Write, a Read with -1 is fenced by any recorded leader epoch, as in Kafka.
      if (stored.fenceLeaderEpoch > leaderEpoch) return failed(ErrorCode.FENCED_LEADER_EPOCH);
      const unknown = this.unknownTopicPartition(key);
      if (unknown !== undefined) return failed(unknown.errorCode);
      const { state } = stored;
      const result: ShareStateRead = { errorCode: ErrorCode.NONE, stateEpoch: state.stateEpoch, startOffset: state.startOffset, stateBatches: state.stateBatches };
      if (leaderEpoch === -1 || stored.fenceLeaderEpoch === leaderEpoch) return result;
      // A new leader of the share-partition: its epoch is recorded, so the previous leader's writes are fenced.
      const record = this.nextRecord(key, stored, { leaderEpoch, startOffset: state.startOffset, deliveryCompleteCount: state.deliveryCompleteCount, stateBatches: [] }, true);
      const errorCode = await this.commit(ready.hosted, record);
      return errorCode === ErrorCode.NONE ? result : failed(errorCode);
    });
  }

  write(key: ShareStateKey, write: ShareStateWrite): Promise<ShareStateResult> {
    return this.exclusive(key, async () => {
      const ready = await this.ready(key);
      if ('errorCode' in ready) return ready;
      const stored = ready.hosted.states.get(shareStateCoordinatorKey(key));
      if (stored === undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: UNINITIALIZED_WRITE };
      if (write.leaderEpoch !== -1 && stored.fenceLeaderEpoch > write.leaderEpoch) return { errorCode: ErrorCode.FENCED_LEADER_EPOCH };
      if (write.stateEpoch !== -1 && stored.fenceStateEpoch > write.stateEpoch) return { errorCode: ErrorCode.FENCED_STATE_EPOCH };
      const unknown = this.unknownTopicPartition(key);
      if (unknown !== undefined) return unknown;
      // As Kafka: a Write keeps the recorded leader epoch (only a Read raises it).
      return { errorCode: await this.commit(ready.hosted, this.nextRecord(key, stored, write, false)) };
    });
  }

  delete(key: ShareStateKey): Promise<ShareStateResult> {
    return this.exclusive(key, async () => {
      const ready = await this.ready(key);
      if ('errorCode' in ready) return ready;
      const unknown = this.unknownTopicPartition(key);
      if (unknown !== undefined) return unknown;
      // Deleting what is not there succeeds and writes nothing.
      if (!ready.hosted.states.has(shareStateCoordinatorKey(key))) return { errorCode: ErrorCode.NONE };
      return { errorCode: await this.commit(ready.hosted, { type: 'snapshot', key, value: null }) };
    });
  }

  readSummary(key: ShareStateKey, _leaderEpoch: number): Promise<ShareStateSummary> {
    return this.exclusive(key, async () => {
      const absent = (errorCode: number, errorMessage: string | null = null): ShareStateSummary => ({ errorCode, errorMessage, stateEpoch: 0, leaderEpoch: 0, startOffset: -1, deliveryCompleteCount: -1 });
      const ready = await this.ready(key);
      if ('errorCode' in ready) return absent(ready.errorCode, ready.errorMessage);
      const unknown = this.unknownTopicPartition(key);
      if (unknown !== undefined) return absent(unknown.errorCode);
      // Neither fenced nor recorded: a summary reader (the group coordinator) leads nothing.
      const stored = ready.hosted.states.get(shareStateCoordinatorKey(key));
      if (stored === undefined) return absent(ErrorCode.NONE);
      const { state } = stored;
      return { errorCode: ErrorCode.NONE, stateEpoch: state.stateEpoch, leaderEpoch: state.leaderEpoch, startOffset: state.startOffset, deliveryCompleteCount: state.deliveryCompleteCount };
    });
  }

  /**
   * Topics were deleted (Kafka's onTopicsDeleted): the state of their share-partitions in the
   * partitions loaded here goes, one tombstone each. Resolves with the keys deleted.
   */
  async onTopicsDeleted(topicIds: ReadonlySet<string>): Promise<ShareStateKey[]> {
    if (this.stopped || topicIds.size === 0) return [];
    const keys = [...this.hosted.values()].filter((hosted) => hosted.loaded).flatMap((hosted) => [...hosted.states.values()].filter((stored) => topicIds.has(stored.key.topicId)).map((stored) => stored.key));
    const deleted = await Promise.all(
      keys.map((key) =>
        this.exclusive(key, async () => {
          // Not through delete(): the image no longer has the topic, which delete() would refuse.
          const hosted = this.hosted.get(this.partitionFor(key));
          if (hosted === undefined || !hosted.states.has(shareStateCoordinatorKey(key))) return false;
          return (await this.commit(hosted, { type: 'snapshot', key, value: null })) === ErrorCode.NONE;
        }),
      ),
    );
    return keys.filter((_, index) => deleted[index]);
  }

  // ---- Records ----

  /**
   * Kafka's generateShareStateRecord: an Update with the write's own ranges (merged among
   * themselves), or, once enough Updates followed the last Snapshot, a Snapshot with everything
   * merged and a new snapshot epoch.
   */
  private nextRecord(
    key: ShareStateKey,
    stored: StoredShareState,
    write: Omit<ShareStateWrite, 'stateEpoch'>,
    updateLeaderEpoch: boolean,
  ): LiveRecord {
    const { state } = stored;
    const leaderEpoch = updateLeaderEpoch && write.leaderEpoch !== -1 ? write.leaderEpoch : state.leaderEpoch;
    if (stored.updatesSinceSnapshot >= this.config.snapshotUpdateRecordsPerSnapshot) {
      const startOffset = write.startOffset === -1 ? state.startOffset : write.startOffset;
      const nowMs = this.options.clock.nowMs();
      return {
        type: 'snapshot',
        key,
        value: {
          snapshotEpoch: state.snapshotEpoch + 1,
          stateEpoch: state.stateEpoch,
          leaderEpoch,
          startOffset,
          deliveryCompleteCount: write.deliveryCompleteCount,
          createTimestamp: nowMs,
          writeTimestamp: nowMs,
          stateBatches: combineStateBatches(state.stateBatches, write.stateBatches, startOffset),
        },
      };
    }
    return {
      type: 'update',
      key,
      value: {
        snapshotEpoch: state.snapshotEpoch,
        leaderEpoch,
        startOffset: write.startOffset,
        deliveryCompleteCount: write.deliveryCompleteCount,
        stateBatches: combineStateBatches([], write.stateBatches, write.startOffset),
      },
    };
  }

  /** Appends `record` and, once it is committed, applies it: the state changes only after that. */
  private async commit(hosted: HostedPartition, record: LiveRecord): Promise<number> {
    const partition = this.partitionFor(record.key);
    if (this.stopped || this.hosted.get(partition) !== hosted || !this.options.partitions.isHosted(partition)) return ErrorCode.NOT_COORDINATOR;
    const encoded = record.type === 'snapshot' ? shareSnapshotRecord(record.key, record.value) : shareUpdateRecord(record.key, record.value);
    try {
      await this.options.partitions.append(partition, buildShareStateBatch([encoded], this.options.clock.nowMs()));
    } catch (error) {
      this.options.logger.warn('writing to __share_group_state failed', { partition, key: shareStateCoordinatorKey(record.key), error });
      return coordinatorAppendError(error);
    }
    // Unloaded meanwhile: the record is in the log, and the next leader's replay applies it.
    if (this.hosted.get(partition) === hosted) applyShareStateRecord(hosted.states, record);
    return ErrorCode.NONE;
  }

  /** Creates `__share_group_state` if it does not exist yet: NONE once it exists, else COORDINATOR_NOT_AVAILABLE. */
  async ensureStateTopic(): Promise<number> {
    if (this.options.image.topic(SHARE_GROUP_STATE_TOPIC) !== undefined) return ErrorCode.NONE;
    return (await this.options.partitions.ensureTopic().catch(() => false)) ? ErrorCode.NONE : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  // ---- Loading ----

  /** Whether this broker coordinates `key` now: its partition hosted here and loaded. */
  private async ready(key: ShareStateKey): Promise<Ready> {
    if (this.stopped) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    if (key.groupId.length === 0) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: EMPTY_GROUP };
    if (key.partition < 0) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: NEGATIVE_PARTITION };
    const exists = await this.ensureStateTopic();
    if (exists !== ErrorCode.NONE) return { errorCode: exists };
    const partition = this.partitionFor(key);
    if (!this.options.partitions.isHosted(partition)) return { errorCode: ErrorCode.NOT_COORDINATOR };
    const hosted = this.load(partition);
    if (!hosted.loaded && !hosted.failed) await this.waitAtMost(hosted.loading, this.config.loadWaitMs);
    if (this.hosted.get(partition) !== hosted) return { errorCode: ErrorCode.NOT_COORDINATOR };
    if (hosted.failed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    if (!hosted.loaded) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
    return { hosted };
  }

  private load(partition: number): HostedPartition {
    const existing = this.hosted.get(partition);
    if (existing !== undefined && !existing.failed) return existing;
    const hosted: HostedPartition = { states: new Map(), loaded: false, failed: false, loading: Promise.resolve() };
    this.hosted.set(partition, hosted);
    hosted.loading = this.replay(partition, hosted).then(
      () => {
        hosted.loaded = true;
      },
      (error: unknown) => {
        // The next request starts the load again.
        hosted.failed = true;
        this.options.logger.warn('loading __share_group_state partition failed', { partition, error });
      },
    );
    return hosted;
  }

  /** Rebuilds the keys of one partition from its records, in log order. */
  private async replay(partition: number, hosted: HostedPartition): Promise<void> {
    let nextOffset = 0;
    let count = 0;
    for (;;) {
      const { chunks, highWatermark } = await this.options.partitions.read(partition, nextOffset);
      if (chunks.length === 0 || nextOffset >= highWatermark) break;
      // Unloaded while replaying: this broker no longer coordinates these keys.
      if (this.hosted.get(partition) !== hosted) return;
      for (const chunk of chunks) {
        for (const span of recordBatchSpans(chunk)) {
          nextOffset = Math.max(nextOffset, readLastOffset(chunk, span.position) + 1);
          const batch = decodeRecordBatchSync(chunk, span.position);
          if (batch.control) continue;
          for (const record of batch.records) {
            if (record.key === null) continue;
            const decoded = decodeShareStateRecord(record.key, record.value);
            if (decoded === undefined) continue;
            applyShareStateRecord(hosted.states, decoded);
            count++;
          }
        }
      }
    }
    if (count > 0) this.options.logger.info('loaded __share_group_state partition', { partition, records: count, keys: hosted.states.size });
  }

  private waitAtMost(promise: Promise<void>, waitMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const cancel = this.options.clock.schedule(waitMs, resolve);
      void promise.then(() => {
        cancel();
        resolve();
      });
    });
  }

  private exclusive<T>(key: ShareStateKey, operation: () => Promise<T>): Promise<T> {
    const id = shareStateCoordinatorKey(key);
    const previous = this.queues.get(id) ?? Promise.resolve();
    const run = previous.then(operation);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return run;
  }

  /** Kafka answers UNKNOWN_TOPIC_OR_PARTITION for a share-partition whose topic-partition the image lacks. */
  private unknownTopicPartition(key: ShareStateKey): ShareStateResult | undefined {
    const topic = this.options.image.topicsById.get(key.topicId);
    if (topic !== undefined && key.partition < topic.partitions.size) return undefined;
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  }
}

/**
 * Applies one record to the replayed state, live or on load (Kafka's ShareCoordinatorShard.replay):
 * a Snapshot replaces the key's state, an Update merges into it, a tombstone forgets the key.
 */
export function applyShareStateRecord(states: Map<string, StoredShareState>, record: DecodedShareStateRecord): void {
  const id = shareStateCoordinatorKey(record.key);
  const existing = states.get(id);
  if (record.type === 'snapshot') {
    if (record.value === null) {
      states.delete(id);
      return;
    }
    const snapshot = record.value;
    states.set(id, {
      key: record.key,
      state: snapshot,
      updatesSinceSnapshot: 0,
      fenceLeaderEpoch: Math.max(existing?.fenceLeaderEpoch ?? snapshot.leaderEpoch, snapshot.leaderEpoch),
      fenceStateEpoch: Math.max(existing?.fenceStateEpoch ?? snapshot.stateEpoch, snapshot.stateEpoch),
    });
    return;
  }
  const update = record.value;
  if (update === null) return;
  if (existing === undefined) {
    // An Update without a Snapshot before it (Kafka takes it as the state, with state epoch 0).
    states.set(id, {
      key: record.key,
      state: { ...update, stateEpoch: 0, createTimestamp: 0, writeTimestamp: 0 },
      updatesSinceSnapshot: 1,
      fenceLeaderEpoch: update.leaderEpoch,
      fenceStateEpoch: 0,
    });
    return;
  }
  const soFar = existing.state;
  const startOffset = update.startOffset === -1 ? soFar.startOffset : update.startOffset;
  states.set(id, {
    key: existing.key,
    state: {
      ...soFar,
      startOffset,
      leaderEpoch: update.leaderEpoch === -1 ? soFar.leaderEpoch : update.leaderEpoch,
      deliveryCompleteCount: update.deliveryCompleteCount,
      stateBatches: combineStateBatches(soFar.stateBatches, update.stateBatches, startOffset),
    },
    updatesSinceSnapshot: existing.updatesSinceSnapshot + 1,
    fenceLeaderEpoch: Math.max(existing.fenceLeaderEpoch, update.leaderEpoch),
    fenceStateEpoch: existing.fenceStateEpoch,
  });
}

/** Kafka's order of precedence where ranges overlap: the higher delivery count, then the higher state. */
function precedence(a: PersistedStateBatch, b: PersistedStateBatch): number {
  return a.deliveryCount !== b.deliveryCount ? a.deliveryCount - b.deliveryCount : a.deliveryState - b.deliveryState;
}

/**
 * The state ranges of `soFar` and `added` as one sorted, non-overlapping list (the result of
 * Kafka's PersisterStateBatchCombiner): ranges wholly below `startOffset` are dropped and those
 * across it cut (-1: nothing is dropped); where ranges overlap, each offset takes the range of
 * highest precedence (delivery count, then state: what a later write holds); adjacent ranges with
 * the same count and state join.
 */
export function combineStateBatches(soFar: readonly PersistedStateBatch[], added: readonly PersistedStateBatch[], startOffset: number): PersistedStateBatch[] {
  const kept: PersistedStateBatch[] = [];
  for (const batch of [...soFar, ...added]) {
    if (startOffset === -1 || batch.firstOffset >= startOffset) kept.push(batch);
    else if (batch.lastOffset >= startOffset) kept.push({ ...batch, firstOffset: startOffset });
  }
  if (kept.length < 2) return kept.map((batch) => ({ ...batch }));
  kept.sort((a, b) => a.firstOffset - b.firstOffset);
  // Sweep the boundaries: between two consecutive ones the covering ranges do not change.
  const boundaries = [...new Set(kept.flatMap((batch) => [batch.firstOffset, batch.lastOffset + 1]))].sort((a, b) => a - b);
  const merged: PersistedStateBatch[] = [];
  let active: PersistedStateBatch[] = [];
  let next = 0;
  for (let index = 0; index + 1 < boundaries.length; index++) {
    const from = boundaries[index] as number;
    const to = (boundaries[index + 1] as number) - 1;
    while (next < kept.length && (kept[next] as PersistedStateBatch).firstOffset <= from) active.push(kept[next++] as PersistedStateBatch);
    active = active.filter((batch) => batch.lastOffset >= from);
    if (active.length === 0) continue;
    const winner = active.reduce((best, batch) => (precedence(batch, best) > 0 ? batch : best));
    const last = merged[merged.length - 1];
    if (last !== undefined && last.lastOffset + 1 === from && precedence(last, winner) === 0) last.lastOffset = to;
    else merged.push({ firstOffset: from, lastOffset: to, deliveryState: winner.deliveryState, deliveryCount: winner.deliveryCount });
  }
  return merged;
}

// ---- The share-state RPCs (83-87), answered by a persister: the handlers stay thin ----

/** Kafka's ShareCoordinatorService answers a request with no group, topics or partitions with no results. */
function malformed(request: { groupId: string; topics: { partitions: unknown[] }[] }): boolean {
  return request.groupId.length === 0 || request.topics.length === 0 || request.topics.some((topic) => topic.partitions.length === 0);
}

function shareKey(groupId: string, topicId: string, partition: number): ShareStateKey {
  return { groupId, topicId, partition };
}

function messageOf(result: ShareStateResult): string | null {
  return result.errorMessage ?? null;
}

function wireBatches(batches: readonly PersistedStateBatch[]) {
  return batches.map((batch) => ({ firstOffset: BigInt(batch.firstOffset), lastOffset: BigInt(batch.lastOffset), deliveryState: batch.deliveryState, deliveryCount: batch.deliveryCount }));
}

/**
 * The share-state RPCs' common shape: one answer per requested partition, in request order, each
 * for the share-partition key of the request's group, the topic id and the partition. A request
 * without a group, topics or partitions gets no results, as Kafka answers it.
 */
async function perPartition<Entry extends { partition: number }, Answer>(
  request: { groupId: string; topics: { topicId: string; partitions: Entry[] }[] },
  answer: (key: ShareStateKey, entry: Entry) => Promise<Answer>,
): Promise<{ results: { topicId: string; partitions: Answer[] }[] }> {
  if (malformed(request)) return { results: [] };
  const results = await Promise.all(
    request.topics.map(async (topic) => ({
      topicId: topic.topicId,
      partitions: await Promise.all(topic.partitions.map((entry) => answer(shareKey(request.groupId, topic.topicId, entry.partition), entry))),
    })),
  );
  return { results };
}

/** A partition's answer that carries only the outcome. */
function outcome(partition: number, result: ShareStateResult) {
  return { partition, errorCode: result.errorCode, errorMessage: messageOf(result) };
}

export function answerInitializeShareGroupState(persister: ShareStatePersister, request: InitializeShareGroupStateRequest): Promise<InitializeShareGroupStateResponse> {
  return perPartition(request, async (key, entry) => outcome(entry.partition, await persister.initialize(key, entry.stateEpoch, Number(entry.startOffset))));
}

export function answerReadShareGroupState(persister: ShareStatePersister, request: ReadShareGroupStateRequest): Promise<ReadShareGroupStateResponse> {
  return perPartition(request, async (key, entry) => {
    const result = await persister.read(key, entry.leaderEpoch);
    return { ...outcome(entry.partition, result), stateEpoch: result.stateEpoch, startOffset: BigInt(result.startOffset), stateBatches: wireBatches(result.stateBatches) };
  });
}

export function answerWriteShareGroupState(persister: ShareStatePersister, request: WriteShareGroupStateRequest): Promise<WriteShareGroupStateResponse> {
  return perPartition(request, async (key, entry) =>
    outcome(
      entry.partition,
      await persister.write(key, {
        stateEpoch: entry.stateEpoch,
        leaderEpoch: entry.leaderEpoch,
        startOffset: Number(entry.startOffset),
        deliveryCompleteCount: entry.deliveryCompleteCount ?? -1,
        stateBatches: entry.stateBatches.map((batch) => ({ firstOffset: Number(batch.firstOffset), lastOffset: Number(batch.lastOffset), deliveryState: batch.deliveryState, deliveryCount: batch.deliveryCount })),
      }),
    ),
  );
}

export function answerDeleteShareGroupState(persister: ShareStatePersister, request: DeleteShareGroupStateRequest): Promise<DeleteShareGroupStateResponse> {
  return perPartition(request, async (key, entry) => outcome(entry.partition, await persister.delete(key)));
}

export function answerReadShareGroupStateSummary(persister: ShareStatePersister, request: ReadShareGroupStateSummaryRequest): Promise<ReadShareGroupStateSummaryResponse> {
  return perPartition(request, async (key, entry) => {
    const result = await persister.readSummary(key, entry.leaderEpoch);
    return {
      ...outcome(entry.partition, result),
      stateEpoch: result.stateEpoch,
      leaderEpoch: result.leaderEpoch,
      startOffset: BigInt(result.startOffset),
      deliveryCompleteCount: result.deliveryCompleteCount,
    };
  });
}
