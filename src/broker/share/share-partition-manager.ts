// The share-partitions this broker leads (KIP-932): for each share group reading a partition led
// here, its SharePartition (which offsets are available, acquired by whom, acknowledged,
// archived), loaded from the share coordinator on first use and written back after every change
// (acknowledgements, releases, lock expiries), so a new leader carries on where this one stopped.
// Acquisitions themselves are not written, as in Kafka: a leader lost mid-lock redelivers those
// records with the delivery count last written.
//
// Records are acquired whole log batches at a time from the next available offset, up to the high
// watermark (read_uncommitted) or the last stable offset (read_committed, where records of aborted
// transactions are archived instead of delivered). The share sessions that name these partitions
// live in `sessions`.
import type { Clock } from '../../base/clock.js';
import { ErrorCode } from '../../base/error-codes.js';
import type { Logger } from '../../base/logger.js';
import { type AcknowledgementBatch, AcknowledgeType, type AcquiredRange, SharePartition } from '../../coordinator/share/share-partition.js';
import type { ShareStateKey, ShareStatePersister } from '../../coordinator/share/share-state-persister.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import { batchSize, isControlBatch, isTransactionalBatch, readBaseOffset, readLastOffset, readProducerId } from '../../protocol/records/batch-header.js';
import type { Partition } from '../../replication/partition.js';
import type { ReplicaManager } from '../../replication/replica-manager.js';
import { type ShareSession, ShareSessionCache } from './share-sessions.js';

/** Where a share group starts reading a partition it never read (share.auto.offset.reset). */
export type ShareAutoOffsetReset = { kind: 'latest' } | { kind: 'earliest' } | { kind: 'by_duration'; durationMs: number };

/** A share group's settings that the partition leader applies (group configs over broker defaults). */
export interface ShareGroupSettings {
  recordLockDurationMs: number;
  autoOffsetReset: ShareAutoOffsetReset;
  readCommitted: boolean;
}

export interface SharePartitionManagerOptions {
  readonly replicaManager: ReplicaManager;
  readonly image: MetadataImage;
  readonly persister: ShareStatePersister;
  readonly clock: Clock;
  readonly logger: Logger;
  /** group.share.delivery.count.limit */
  readonly deliveryCountLimit: number;
  /** group.share.partition.max.record.locks */
  readonly maxInFlightRecords: number;
  /** group.share.max.share.sessions */
  readonly maxShareSessions: number;
  readonly groupSettings: (groupId: string) => ShareGroupSettings;
  /** Wakes the share fetches waiting on a partition (its key): records became available there. */
  readonly wake: (partitionKey: string) => void;
}

/** One share group's state on one partition led here. */
export interface ShareEntry {
  readonly groupId: string;
  readonly stateKey: ShareStateKey;
  readonly partition: Partition;
  readonly leaderEpoch: number;
  readonly stateEpoch: number;
  readonly readCommitted: boolean;
  readonly share: SharePartition;
  /** Writes to the share coordinator, one after another. */
  persisting: Promise<unknown>;
  closed: boolean;
}

/** What one partition gave one fetch: whole log batches, and which of their offsets were acquired. */
export interface AcquiredRecords {
  records: Buffer[];
  bytes: number;
  acquired: AcquiredRange[];
}

const NOTHING: AcquiredRecords = { records: [], bytes: 0, acquired: [] };

/** Share-coordinator answers that pass: the partition delivers nothing now and is loaded again next time. */
const RETRIABLE_STATE_ERRORS: ReadonlySet<number> = new Set([ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.REQUEST_TIMED_OUT]);

export class SharePartitionManager {
  readonly sessions: ShareSessionCache;
  readonly #options: SharePartitionManagerOptions;
  readonly #entries = new Map<string, ShareEntry | Promise<ShareEntry | number>>();

  constructor(options: SharePartitionManagerOptions) {
    this.#options = options;
    this.sessions = new ShareSessionCache(options.maxShareSessions);
  }

  /**
   * The group's share-partition on `topicId`-`partitionIndex`, loaded if needed, or the error for
   * that partition: UNKNOWN_TOPIC_ID, NOT_LEADER_OR_FOLLOWER / UNKNOWN_TOPIC_OR_PARTITION /
   * KAFKA_STORAGE_ERROR (not led here), or the share coordinator's. NONE: nothing to serve now (the
   * share coordinator is moving; the next request tries again).
   */
  async entry(groupId: string, topicId: string, partitionIndex: number): Promise<ShareEntry | number> {
    const topic = this.#options.image.topicsById.get(topicId);
    if (topic === undefined) return ErrorCode.UNKNOWN_TOPIC_ID;
    const partition = this.#options.replicaManager.get(topic.name, partitionIndex);
    if (partition === undefined) {
      if (this.#options.replicaManager.isOffline(topic.name, partitionIndex)) return ErrorCode.KAFKA_STORAGE_ERROR;
      return topic.partitions.has(partitionIndex) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    }
    const key = entryKey(groupId, topicId, partitionIndex);
    const known = this.#entries.get(key);
    if (known !== undefined) {
      const settled = known instanceof Promise ? await known : known;
      if (typeof settled === 'number') return settled;
      if (!settled.closed && settled.partition === partition && settled.leaderEpoch === partition.leaderEpoch) return settled;
      // A new leader epoch (or replica) since it was loaded: what it holds may be stale.
      this.#close(key, settled);
    }
    const loading = this.#load(groupId, topicId, partition);
    this.#entries.set(key, loading);
    const loaded = await loading;
    if (this.#entries.get(key) === loading) {
      if (typeof loaded === 'number') this.#entries.delete(key);
      else this.#entries.set(key, loaded);
    }
    return typeof loaded === 'number' && RETRIABLE_STATE_ERRORS.has(loaded) ? ErrorCode.NONE : loaded;
  }

  /** The group's settings as its configs and the broker's defaults make them now. */
  settings(groupId: string): ShareGroupSettings {
    return this.#options.groupSettings(groupId);
  }

  /** The entry if it is loaded, without loading it (a waiting fetch's check). */
  loaded(groupId: string, topicId: string, partitionIndex: number): ShareEntry | undefined {
    const known = this.#entries.get(entryKey(groupId, topicId, partitionIndex));
    return known === undefined || known instanceof Promise || known.closed ? undefined : known;
  }

  /** Where this share-partition may acquire up to (exclusive). */
  availableUpTo(entry: ShareEntry): number {
    const log = entry.partition.log;
    const highWatermark = log.highWatermark;
    return entry.readCommitted ? log.producerState.lastStableOffset(highWatermark) : highWatermark;
  }

  /** Whether a fetch would acquire something from `entry` now. */
  canAcquire(entry: ShareEntry): boolean {
    return !entry.closed && entry.share.canAcquire(this.availableUpTo(entry));
  }

  /**
   * Acquires for `memberId` whole log batches from the next available offset, about `maxRecords`
   * records and at most `maxBytes` (at least one batch when `minOneBatch`), and returns them with
   * the acquired ranges (empty when nothing could be acquired). `recordLimit` (ShareFetch v2's
   * ShareAcquireMode 1): at most `maxRecords` offsets, even inside a batch.
   */
  async acquire(entry: ShareEntry, memberId: string, maxRecords: number, maxBytes: number, minOneBatch: boolean, recordLimit = false): Promise<AcquiredRecords> {
    const { share, partition } = entry;
    const log = partition.log;
    if (log.logStartOffset > share.startOffset) share.moveStartOffset(log.logStartOffset);
    const upTo = this.availableUpTo(entry);
    if (entry.closed || maxRecords <= 0 || !share.canAcquire(upTo)) return NOTHING;
    const from = Math.max(share.nextFetchOffset(), log.logStartOffset);
    const read = await log.read(from, { maxBytes, maxOffset: upTo, minOneBatch });
    if (entry.closed) return NOTHING;
    const taken = takeBatches(read.chunks, from, maxRecords);
    if (taken.batches.length === 0) return NOTHING;
    const end = Math.min(taken.endOffset, upTo);
    let acquired = share.acquire(memberId, log.logStartOffset, end, recordLimit ? maxRecords : end - from, from);
    if (acquired.length === 0) return NOTHING;
    if (entry.readCommitted) acquired = this.#archiveAborted(entry, memberId, taken.batches, acquired);
    if (acquired.length === 0) return NOTHING;
    return { records: taken.batches, bytes: taken.bytes, acquired };
  }

  /**
   * Applies a member's acknowledgements to `entry` and writes the new state: NONE, the
   * share-partition's refusal (INVALID_REQUEST, INVALID_RECORD_STATE: nothing changed), or the
   * share coordinator's error (the change is undone by reloading the written state).
   */
  async acknowledge(entry: ShareEntry, memberId: string, batches: readonly AcknowledgementBatch[], allowRenew: boolean): Promise<number> {
    if (entry.closed) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    const errorCode = entry.share.acknowledge(memberId, batches, { allowRenew });
    if (errorCode !== ErrorCode.NONE) return errorCode;
    // Renewing only restarts lock timers: nothing persisted changes.
    if (batches.every((batch) => batch.acknowledgeTypes.every((type) => type === AcknowledgeType.renew))) return ErrorCode.NONE;
    this.#options.wake(entry.partition.key);
    return this.#persist(entry);
  }

  /**
   * A share session ended (closed, replaced, or its connection dropped): its member's records go
   * back. When it was the group's last session here, the group's share-partitions are dropped once
   * their last write is done, as Kafka evicts them: the next member to come loads the state as the
   * share coordinator has it then (an admin deleting the group's offsets meanwhile is seen).
   */
  releaseSession(session: ShareSession): void {
    for (const { topicId, partition } of session.partitions.values()) {
      const entry = this.loaded(session.groupId, topicId, partition);
      if (entry === undefined) continue;
      entry.share.releaseMember(session.memberId);
      void this.#persist(entry);
      this.#options.wake(entry.partition.key);
    }
    if (!this.sessions.hasGroup(session.groupId)) this.#evictGroup(session.groupId);
  }

  #evictGroup(groupId: string): void {
    for (const [key, known] of this.#entries) {
      if (known instanceof Promise || known.groupId !== groupId) continue;
      // A member that came back meanwhile keeps the entry.
      void known.persisting.then(() => {
        if (!this.sessions.hasGroup(groupId)) this.#close(key, known);
      });
    }
  }

  /** A client connection closed: its share sessions end. */
  connectionClosed(connectionId: number): void {
    if (this.sessions.size === 0) return;
    for (const session of this.sessions.removeConnection(connectionId)) this.releaseSession(session);
  }

  /** This broker no longer leads `partition`: its share-partitions are dropped (the next leader loads them). */
  leadershipLost(partition: Partition): void {
    for (const [key, known] of this.#entries) {
      if (!(known instanceof Promise) && known.partition === partition) this.#close(key, known);
    }
  }

  /** Every loaded share-partition, for diagnostics (in-flight records). */
  *entries(): Generator<ShareEntry> {
    for (const known of this.#entries.values()) if (!(known instanceof Promise) && !known.closed) yield known;
  }

  /** Stops every lock timer (the broker is stopping). */
  close(): void {
    for (const [key, known] of this.#entries) if (!(known instanceof Promise)) this.#close(key, known);
  }

  async #load(groupId: string, topicId: string, partition: Partition): Promise<ShareEntry | number> {
    const { persister, clock, logger } = this.#options;
    const stateKey: ShareStateKey = { groupId, topicId, partition: partition.partitionIndex };
    const leaderEpoch = partition.leaderEpoch;
    const read = await persister.read(stateKey, leaderEpoch);
    if (read.errorCode !== ErrorCode.NONE) {
      logger.debug('share-partition state not read', { groupId, topic: partition.topic, partition: partition.partitionIndex, errorCode: read.errorCode, message: read.errorMessage ?? null });
      return read.errorCode;
    }
    const settings = this.#options.groupSettings(groupId);
    const fresh = read.startOffset < 0;
    const startOffset = fresh ? await this.#resetOffset(partition, settings.autoOffsetReset) : read.startOffset;
    let entry: ShareEntry | undefined;
    const share = new SharePartition(
      { recordLockDurationMs: settings.recordLockDurationMs, deliveryCountLimit: this.#options.deliveryCountLimit, maxInFlightRecords: this.#options.maxInFlightRecords },
      clock,
      { startOffset: Math.max(startOffset, partition.log.logStartOffset), stateBatches: read.stateBatches },
      {
        // A lock expired: the records are available again (or archived); write that and wake fetches.
        onStateChanged: () => {
          if (entry === undefined || entry.closed) return;
          void this.#persist(entry);
          this.#options.wake(partition.key);
        },
      },
    );
    entry = { groupId, stateKey, partition, leaderEpoch, stateEpoch: read.stateEpoch, readCommitted: settings.readCommitted, share, persisting: Promise.resolve(), closed: false };
    // The start chosen by share.auto.offset.reset is written at once, so a later leader starts there too.
    if (fresh) {
      const written = await this.#persist(entry);
      if (written !== ErrorCode.NONE) return written;
    }
    return entry;
  }

  async #resetOffset(partition: Partition, reset: ShareAutoOffsetReset): Promise<number> {
    const log = partition.log;
    if (reset.kind === 'earliest') return log.logStartOffset;
    if (reset.kind === 'latest') return log.highWatermark;
    const found = await partition.offsetForTimestamp(this.#options.clock.nowMs() - reset.durationMs);
    return found === null ? log.highWatermark : found.offset;
  }

  /** Writes the entry's state; on a refusal the entry is dropped, so the next use reloads what was written. */
  #persist(entry: ShareEntry): Promise<number> {
    const { persister, logger } = this.#options;
    const write = entry.persisting.then(async () => {
      if (entry.closed) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
      const snapshot = entry.share.snapshot();
      const result = await persister.write(entry.stateKey, {
        stateEpoch: entry.stateEpoch,
        leaderEpoch: entry.leaderEpoch,
        startOffset: snapshot.startOffset,
        deliveryCompleteCount: entry.share.deliveryCompleteCount,
        stateBatches: snapshot.stateBatches,
      });
      if (result.errorCode !== ErrorCode.NONE && !entry.closed) {
        logger.warn('share-partition state not written: it is reloaded on next use', { groupId: entry.groupId, topic: entry.partition.topic, partition: entry.partition.partitionIndex, errorCode: result.errorCode });
        this.#close(entryKey(entry.groupId, entry.stateKey.topicId, entry.stateKey.partition), entry);
      }
      return result.errorCode;
    });
    entry.persisting = write.catch(() => undefined);
    return write;
  }

  #close(key: string, entry: ShareEntry): void {
    entry.closed = true;
    entry.share.close();
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
  }

  /**
   * read_committed: records of aborted transactions are never delivered. The acquired offsets of
   * batches an aborted transaction wrote are archived at once (Kafka 4.2 leaves them out of
   * AcquiredRecords the same way) and the rest is returned.
   */
  #archiveAborted(entry: ShareEntry, memberId: string, batches: readonly Buffer[], acquired: AcquiredRange[]): AcquiredRange[] {
    const first = acquired[0]!.firstOffset;
    const last = acquired.at(-1)!.lastOffset;
    const aborted = entry.partition.log.producerState.abortedTransactions(first, last + 1);
    if (aborted.length === 0) return acquired;
    const abortedRanges: { firstOffset: number; lastOffset: number }[] = [];
    for (const batch of batches) {
      if (!isTransactionalBatch(batch) || isControlBatch(batch)) continue;
      const producerId = readProducerId(batch);
      const base = readBaseOffset(batch);
      if (aborted.some((txn) => txn.producerId === producerId && txn.firstOffset <= base && base <= txn.lastOffset)) {
        abortedRanges.push({ firstOffset: base, lastOffset: readLastOffset(batch) });
      }
    }
    const archived = intersect(abortedRanges, acquired);
    if (archived.length === 0) return acquired;
    entry.share.acknowledge(memberId, archived.map((range) => ({ ...range, acknowledgeTypes: [AcknowledgeType.gap] })));
    void this.#persist(entry);
    return subtract(acquired, archived);
  }
}

function entryKey(groupId: string, topicId: string, partitionIndex: number): string {
  return `${groupId}\u0000${topicId}\u0000${partitionIndex}`;
}

/**
 * Whole batches from `from` on until about `maxRecords` offsets are covered: the batches (views
 * into the read chunks), their bytes, and the offset after the last one.
 */
function takeBatches(chunks: readonly Buffer[], from: number, maxRecords: number): { batches: Buffer[]; bytes: number; endOffset: number } {
  const batches: Buffer[] = [];
  let bytes = 0;
  let endOffset = from;
  for (const chunk of chunks) {
    for (let position = 0; position < chunk.length; ) {
      const size = batchSize(chunk, position);
      const lastOffset = readLastOffset(chunk, position);
      if (lastOffset >= from) {
        batches.push(chunk.subarray(position, position + size));
        bytes += size;
        endOffset = lastOffset + 1;
        if (endOffset - from >= maxRecords) return { batches, bytes, endOffset };
      }
      position += size;
    }
  }
  return { batches, bytes, endOffset };
}

type Span = { firstOffset: number; lastOffset: number };

/** The parts of `spans` inside `ranges` (both sorted). */
function intersect(spans: readonly Span[], ranges: readonly Span[]): Span[] {
  const result: Span[] = [];
  for (const span of spans) {
    for (const range of ranges) {
      const firstOffset = Math.max(span.firstOffset, range.firstOffset);
      const lastOffset = Math.min(span.lastOffset, range.lastOffset);
      if (firstOffset <= lastOffset) result.push({ firstOffset, lastOffset });
    }
  }
  return result.sort((a, b) => a.firstOffset - b.firstOffset);
}

/** `acquired` without the offsets of `removed` (sorted, each inside one acquired range). */
function subtract(acquired: readonly AcquiredRange[], removed: readonly Span[]): AcquiredRange[] {
  const result: AcquiredRange[] = [];
  for (const range of acquired) {
    let next = range.firstOffset;
    for (const cut of removed) {
      if (cut.lastOffset < range.firstOffset || cut.firstOffset > range.lastOffset) continue;
      if (cut.firstOffset > next) result.push({ firstOffset: next, lastOffset: cut.firstOffset - 1, deliveryCount: range.deliveryCount });
      next = Math.max(next, cut.lastOffset + 1);
    }
    if (next <= range.lastOffset) result.push({ firstOffset: next, lastOffset: range.lastOffset, deliveryCount: range.deliveryCount });
  }
  return result;
}
