// The state a partition leader keeps for one share-partition (KIP-932: one share group on one
// topic-partition): which offsets are available, acquired (by which member, under which lock, how
// many times delivered), acknowledged or archived, between the share-partition start offset (SPSO,
// the first offset not yet in a terminal state) and end offset (SPEO, the last offset ever
// acquired). Pure and sans-IO: the caller says which offsets exist in the log, persists
// snapshot() where Kafka would write WriteShareGroupState, and wakes waiting fetches when
// onStateChanged reports a lock expiry. Semantics follow Kafka 4.2's SharePartition and
// InFlightState (docs/research/share-groups.md, section 3.2).
//
// In-flight offsets are kept as a sorted list of ranges tiling [SPSO, SPEO] without holes. Records
// acquired together share one range and one lock timer; a range is split only where an offset in
// it changes differently from its neighbours, and neighbours that became alike are merged again.
import { assert } from '../../base/assert.js';
import type { Clock } from '../../base/clock.js';
import { ErrorCode } from '../../base/error-codes.js';

/** AcknowledgementBatches' AcknowledgeTypes values (ShareFetch / ShareAcknowledge); renew is v2 with IsRenewAck only. */
export const AcknowledgeType = { gap: 0, accept: 1, release: 2, reject: 3, renew: 4 } as const;
export type AcknowledgeTypeValue = (typeof AcknowledgeType)[keyof typeof AcknowledgeType];

/** Record states with Kafka's ids (RecordState.java); the persisted form uses only 0, 2 and 4. */
export const RecordState = { available: 0, acquired: 1, acknowledged: 2, archived: 4 } as const;
export type RecordStateValue = (typeof RecordState)[keyof typeof RecordState];

export interface SharePartitionConfig {
  /** share.record.lock.duration.ms / group.share.record.lock.duration.ms (30000). */
  recordLockDurationMs: number;
  /** group.share.delivery.count.limit (5): a record delivered this often is archived, not redelivered. */
  deliveryCountLimit: number;
  /** group.share.partition.max.record.locks (2000): the most offsets between SPSO and SPEO. */
  maxInFlightRecords: number;
}

/** One range of a ShareFetch response's AcquiredRecords. */
export interface AcquiredRange {
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}

/** One entry of ShareFetch/ShareAcknowledge AcknowledgementBatches: one type for the range, or one per offset. */
export interface AcknowledgementBatch {
  firstOffset: number;
  lastOffset: number;
  acknowledgeTypes: readonly number[];
}

/** A persisted state batch, as ShareSnapshotValue/ShareUpdateValue and ReadShareGroupState carry it. */
export interface PersistedStateBatch {
  firstOffset: number;
  lastOffset: number;
  deliveryState: number;
  deliveryCount: number;
}

/** What WriteShareGroupState carries (state epoch and leader epoch are the caller's business). */
export interface SharePartitionSnapshot {
  startOffset: number;
  stateBatches: PersistedStateBatch[];
}

export interface SharePartitionOptions {
  /** Called after a lock expiry changed the state (persist it; a fetch may now find records). */
  onStateChanged?: () => void;
}

/** An acquisition lock: one timer for every record acquired by one acquire() call. */
interface AcquisitionLock {
  memberId: string;
  cancel: () => void;
  /** Offsets still ACQUIRED under this lock; the timer is cancelled when it drops to 0. */
  held: number;
}

/** A run of offsets in the same state with the same delivery count (and the same lock when acquired). */
interface InFlightRange {
  firstOffset: number;
  lastOffset: number;
  state: RecordStateValue;
  deliveryCount: number;
  lock: AcquisitionLock | undefined;
}

const ackTypeToState: Record<number, RecordStateValue> = {
  [AcknowledgeType.gap]: RecordState.archived,
  [AcknowledgeType.accept]: RecordState.acknowledged,
  [AcknowledgeType.release]: RecordState.available,
  [AcknowledgeType.reject]: RecordState.archived,
};

function isTerminal(state: RecordStateValue): boolean {
  return state === RecordState.acknowledged || state === RecordState.archived;
}

function size(range: { firstOffset: number; lastOffset: number }): number {
  return range.lastOffset - range.firstOffset + 1;
}

export class SharePartition {
  readonly #config: SharePartitionConfig;
  readonly #clock: Clock;
  readonly #onStateChanged: (() => void) | undefined;
  #startOffset: number;
  /** Sorted, contiguous, covering exactly [startOffset, endOffset]; empty when endOffset < startOffset. */
  #ranges: InFlightRange[] = [];

  /**
   * `initial` is ReadShareGroupState's answer (or a fresh start offset chosen by
   * share.auto.offset.reset). Restored batches are ownerless; offsets between them that no batch
   * names are available with delivery count 0, as Kafka's gap window treats them.
   */
  constructor(
    config: SharePartitionConfig,
    clock: Clock,
    initial: { startOffset: number; stateBatches?: readonly PersistedStateBatch[] },
    options: SharePartitionOptions = {},
  ) {
    assert(config.deliveryCountLimit >= 1 && config.maxInFlightRecords >= 1, 'invalid share-partition config');
    // -1 (uninitialized) is resolved by the caller through share.auto.offset.reset first.
    assert(initial.startOffset >= 0, 'a share-partition starts at a real offset');
    this.#config = config;
    this.#clock = clock;
    this.#onStateChanged = options.onStateChanged;
    this.#startOffset = initial.startOffset;
    this.#restore(initial.stateBatches ?? []);
  }

  /** SPSO: the first offset not yet acknowledged or archived. */
  get startOffset(): number {
    return this.#startOffset;
  }

  /** SPEO: the last offset ever acquired (startOffset - 1 when nothing is in flight). */
  get endOffset(): number {
    const last = this.#ranges.at(-1);
    return last ? last.lastOffset : this.#startOffset - 1;
  }

  /**
   * Acknowledged or archived offsets at or above SPSO: KIP-1226's DeliveryCompleteCount, which
   * WriteShareGroupState carries next to the state batches.
   */
  get deliveryCompleteCount(): number {
    return this.#ranges.reduce((total, range) => total + (isTerminal(range.state) ? size(range) : 0), 0);
  }

  /** Offsets in [SPSO, SPEO], the count bounded by maxInFlightRecords. */
  get inFlightCount(): number {
    return this.endOffset - this.#startOffset + 1;
  }

  /** Where a fetch should read: the first available in-flight offset, else SPEO + 1. */
  nextFetchOffset(): number {
    const available = this.#ranges.find((range) => range.state === RecordState.available);
    return available ? available.firstOffset : this.endOffset + 1;
  }

  /** Whether acquire() with log end `availableUpTo` (exclusive) would acquire anything. */
  canAcquire(availableUpTo: number): boolean {
    const next = this.nextFetchOffset();
    if (next <= this.endOffset) return next < availableUpTo;
    return next < availableUpTo && this.inFlightCount < this.#config.maxInFlightRecords;
  }

  /**
   * Acquires for `memberId` up to `maxRecords` records among the offsets the log holds,
   * [logStartOffset, availableUpTo): first the available in-flight ones from the lowest up, then new
   * offsets after SPEO as far as the in-flight limit allows. Each acquisition adds one delivery.
   * Records redelivered often are acquired apart, in a call of their own (#redeliveryCap).
   * Returns the acquired ranges (one per run of equal delivery count), empty when nothing could be.
   * `fromOffset`: available offsets below it are left alone (the caller read the log from there, so
   * it could not deliver them).
   */
  acquire(memberId: string, logStartOffset: number, availableUpTo: number, maxRecords: number, fromOffset = 0): AcquiredRange[] {
    if (logStartOffset > this.#startOffset) this.moveStartOffset(logStartOffset);
    let budget = maxRecords;
    if (budget <= 0) return [];
    const lock: AcquisitionLock = { memberId, cancel: () => {}, held: 0 };
    const acquired: InFlightRange[] = [];

    // Re-acquire available in-flight records; this never widens the window, so the limit does not apply.
    let isolated = false;
    for (let index = 0; index < this.#ranges.length && budget > 0 && !isolated; index++) {
      const range = this.#ranges[index]!;
      if (range.state !== RecordState.available || range.firstOffset >= availableUpTo || range.lastOffset < fromOffset) continue;
      if (range.firstOffset < fromOffset) {
        // The part from `fromOffset` on is the next range, considered in the next round.
        this.#splitBefore(fromOffset);
        continue;
      }
      let last = Math.min(range.lastOffset, availableUpTo - 1, range.firstOffset + budget - 1);
      const cap = this.#redeliveryCap(range);
      if (cap !== undefined) {
        // Redelivered often: delivered apart from everything else, so that one bad record does not
        // use up the delivery attempts of its neighbours.
        isolated = true;
        if (acquired.length > 0) break;
        last = Math.min(last, range.firstOffset + cap - 1);
      }
      if (last < range.lastOffset) this.#splitBefore(last + 1);
      range.state = RecordState.acquired;
      range.deliveryCount++;
      range.lock = lock;
      budget -= size(range);
      acquired.push(range);
    }

    // New records after SPEO, within the in-flight window.
    const first = this.endOffset + 1;
    const last = Math.min(availableUpTo - 1, this.#startOffset + this.#config.maxInFlightRecords - 1, first + budget - 1);
    if (budget > 0 && last >= first && !isolated) {
      const range: InFlightRange = { firstOffset: first, lastOffset: last, state: RecordState.acquired, deliveryCount: 1, lock };
      this.#ranges.push(range);
      acquired.push(range);
    }

    if (acquired.length === 0) return [];
    lock.held = acquired.reduce((total, range) => total + size(range), 0);
    lock.cancel = this.#clock.schedule(this.#config.recordLockDurationMs, () => this.#expire(lock));
    const result = acquiredRanges(acquired);
    this.#normalize();
    return result;
  }

  /**
   * How many records of an available range may be acquired, alone, when its records were delivered
   * often (undefined: no limit). Kafka 4.2 (SharePartition.acquireSubsetBatchRecords): a record on
   * its last attempt (count = limit - 1, when limit > 2) goes alone; from count max(2, ceil(limit/2))
   * on, the batch is halved with each further attempt. Kafka halves its log-batch size; this halves
   * the available range, the closest thing kept here.
   */
  #redeliveryCap(range: InFlightRange): number | undefined {
    const limit = this.#config.deliveryCountLimit;
    if (limit > 2 && range.deliveryCount === limit - 1) return 1;
    const throttleFrom = Math.max(2, Math.ceil(limit / 2));
    if (range.deliveryCount < throttleFrom) return undefined;
    return Math.max(1, size(range) >> (range.deliveryCount - throttleFrom + 1));
  }

  /**
   * Applies a member's acknowledgements to this partition, all or nothing, as Kafka does: returns
   * NONE, INVALID_REQUEST (malformed batches, or offsets past SPEO) or INVALID_RECORD_STATE (an
   * offset at or above SPSO that `memberId` has not acquired), and on an error changes nothing.
   * Offsets below SPSO are already settled and are skipped. Renew (4) restarts the lock of the
   * offsets it names and is accepted only with `allowRenew` (ShareFetch/ShareAcknowledge v2 with
   * IsRenewAck); otherwise it is INVALID_REQUEST.
   */
  acknowledge(memberId: string, batches: readonly AcknowledgementBatch[], options: { allowRenew?: boolean } = {}): number {
    const malformed = validateBatches(batches, options.allowRenew ?? false);
    if (malformed !== ErrorCode.NONE) return malformed;
    for (const batch of batches) {
      const error = this.#checkOwned(memberId, batch.firstOffset, batch.lastOffset);
      if (error !== ErrorCode.NONE) return error;
    }
    const renewal: AcquisitionLock = { memberId, cancel: () => {}, held: 0 };
    for (const batch of batches) {
      for (const run of typeRuns(batch)) {
        const first = Math.max(run.firstOffset, this.#startOffset);
        if (run.lastOffset < first) continue;
        if (run.type === AcknowledgeType.renew) this.#relock(first, run.lastOffset, renewal);
        else this.#transition(first, run.lastOffset, ackTypeToState[run.type]!);
      }
    }
    if (renewal.held > 0) renewal.cancel = this.#clock.schedule(this.#config.recordLockDurationMs, () => this.#expire(renewal));
    this.#settle();
    return ErrorCode.NONE;
  }

  /**
   * Stops every acquisition lock timer (the leader gave the partition up): nothing changes state
   * here any more, and the next leader restores the persisted state.
   */
  close(): void {
    for (const range of this.#ranges) range.lock?.cancel();
  }

  /** Releases every record `memberId` holds (share session closed or its connection dropped). */
  releaseMember(memberId: string): void {
    const owned = this.#ranges.filter((range) => range.state === RecordState.acquired && range.lock?.memberId === memberId);
    for (const range of owned) this.#transition(range.firstOffset, range.lastOffset, RecordState.available);
    this.#settle();
  }

  /**
   * The log no longer holds offsets below `offset` (retention, DeleteRecords): SPSO jumps there and
   * everything below is forgotten, acquired records included (their locks are cancelled; a later
   * acknowledgement of them is skipped).
   */
  moveStartOffset(offset: number): void {
    if (offset <= this.#startOffset) return;
    if (offset <= this.endOffset) this.#splitBefore(offset);
    while (this.#ranges.length > 0 && this.#ranges[0]!.firstOffset < offset) {
      this.#release(this.#ranges.shift()!);
    }
    this.#startOffset = offset;
    this.#settle();
  }

  /**
   * The persisted form: SPSO and the in-flight ranges that a new leader needs, merged. ACQUIRED is
   * not a persisted state (ids 0, 2, 4 only): acquired records are written as available with their
   * delivery count, this delivery included, which is what a lock expiry would leave. Available
   * ranges never delivered are left out; a restore treats unnamed offsets the same way.
   */
  snapshot(): SharePartitionSnapshot {
    const stateBatches: PersistedStateBatch[] = [];
    for (const range of this.#ranges) {
      const deliveryState = range.state === RecordState.acquired ? RecordState.available : range.state;
      if (deliveryState === RecordState.available && range.deliveryCount === 0) continue;
      const previous = stateBatches.at(-1);
      if (
        previous &&
        previous.lastOffset + 1 === range.firstOffset &&
        previous.deliveryState === deliveryState &&
        previous.deliveryCount === range.deliveryCount
      ) {
        previous.lastOffset = range.lastOffset;
      } else {
        stateBatches.push({ firstOffset: range.firstOffset, lastOffset: range.lastOffset, deliveryState, deliveryCount: range.deliveryCount });
      }
    }
    return { startOffset: this.#startOffset, stateBatches };
  }

  /** The state of one offset, for tests and diagnostics (undefined outside [SPSO, SPEO]). */
  stateOf(offset: number): { state: RecordStateValue; deliveryCount: number; memberId: string | undefined } | undefined {
    const index = this.#indexOf(offset);
    if (index < 0) return undefined;
    const range = this.#ranges[index]!;
    return { state: range.state, deliveryCount: range.deliveryCount, memberId: range.lock?.memberId };
  }

  /** The number of internal ranges: a measure of compactness, for tests. */
  get rangeCount(): number {
    return this.#ranges.length;
  }

  #restore(batches: readonly PersistedStateBatch[]): void {
    const sorted = [...batches].sort((a, b) => a.firstOffset - b.firstOffset);
    let next = this.#startOffset;
    for (const batch of sorted) {
      const first = Math.max(batch.firstOffset, next);
      if (batch.lastOffset < first) continue; // below SPSO, or overlapping an earlier batch
      if (first > next) this.#ranges.push({ firstOffset: next, lastOffset: first - 1, state: RecordState.available, deliveryCount: 0, lock: undefined });
      this.#ranges.push({ firstOffset: first, lastOffset: batch.lastOffset, state: restoredState(batch, this.#config.deliveryCountLimit), deliveryCount: batch.deliveryCount, lock: undefined });
      next = batch.lastOffset + 1;
    }
    this.#advanceStartOffset();
    this.#normalize();
  }

  /** INVALID_REQUEST past SPEO, INVALID_RECORD_STATE where an offset ≥ SPSO is not acquired by `memberId`. */
  #checkOwned(memberId: string, firstOffset: number, lastOffset: number): number {
    if (lastOffset < this.#startOffset) return ErrorCode.NONE;
    if (lastOffset > this.endOffset) return ErrorCode.INVALID_REQUEST;
    let index = this.#indexOf(Math.max(firstOffset, this.#startOffset));
    for (; index < this.#ranges.length && this.#ranges[index]!.firstOffset <= lastOffset; index++) {
      const range = this.#ranges[index]!;
      if (range.state !== RecordState.acquired || range.lock?.memberId !== memberId) return ErrorCode.INVALID_RECORD_STATE;
    }
    return ErrorCode.NONE;
  }

  /**
   * Moves the acquired offsets [first, last] to `target`, clearing their owner. Going back to
   * available means archived instead once the delivery count reached the limit.
   */
  #transition(first: number, last: number, target: RecordStateValue): void {
    this.#splitBefore(first);
    this.#splitBefore(last + 1);
    for (let index = this.#indexOf(first); index < this.#ranges.length && this.#ranges[index]!.firstOffset <= last; index++) {
      const range = this.#ranges[index]!;
      assert(range.state === RecordState.acquired, 'only acquired records change state');
      this.#release(range);
      range.state = target === RecordState.available && range.deliveryCount >= this.#config.deliveryCountLimit ? RecordState.archived : target;
    }
  }

  /** Moves the acquired offsets [first, last] under `lock` (a renewed lock timer), keeping their state. */
  #relock(first: number, last: number, lock: AcquisitionLock): void {
    this.#splitBefore(first);
    this.#splitBefore(last + 1);
    for (let index = this.#indexOf(first); index < this.#ranges.length && this.#ranges[index]!.firstOffset <= last; index++) {
      const range = this.#ranges[index]!;
      assert(range.state === RecordState.acquired, 'only acquired records are renewed');
      this.#release(range);
      range.lock = lock;
      lock.held += size(range);
    }
  }

  /** Drops a range's hold on its lock, cancelling the timer when nothing is left under it. */
  #release(range: InFlightRange): void {
    const lock = range.lock;
    if (!lock) return;
    range.lock = undefined;
    lock.held -= size(range);
    if (lock.held <= 0) lock.cancel();
  }

  #expire(lock: AcquisitionLock): void {
    const held = this.#ranges.filter((range) => range.lock === lock);
    if (held.length === 0) return;
    for (const range of held) this.#transition(range.firstOffset, range.lastOffset, RecordState.available);
    this.#settle();
    this.#onStateChanged?.();
  }

  #settle(): void {
    this.#advanceStartOffset();
    this.#normalize();
  }

  /** SPSO passes leading acknowledged/archived ranges, which are then forgotten. */
  #advanceStartOffset(): void {
    let drop = 0;
    while (drop < this.#ranges.length && isTerminal(this.#ranges[drop]!.state)) drop++;
    if (drop === 0) return;
    this.#startOffset = this.#ranges[drop - 1]!.lastOffset + 1;
    this.#ranges.splice(0, drop);
  }

  /** Merges neighbours in the same state with the same delivery count and lock. */
  #normalize(): void {
    const merged: InFlightRange[] = [];
    for (const range of this.#ranges) {
      const previous = merged.at(-1);
      if (previous && previous.state === range.state && previous.deliveryCount === range.deliveryCount && previous.lock === range.lock) {
        previous.lastOffset = range.lastOffset;
      } else {
        merged.push(range);
      }
    }
    this.#ranges = merged;
  }

  /** Ensures a range starts at `offset` (when it lies inside one). */
  #splitBefore(offset: number): void {
    const index = this.#indexOf(offset);
    if (index < 0) return;
    const range = this.#ranges[index]!;
    if (range.firstOffset === offset) return;
    const tail: InFlightRange = { ...range, firstOffset: offset };
    range.lastOffset = offset - 1;
    this.#ranges.splice(index + 1, 0, tail);
  }

  /** The index of the range holding `offset`, or -1 (binary search). */
  #indexOf(offset: number): number {
    let low = 0;
    let high = this.#ranges.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const range = this.#ranges[middle]!;
      if (offset < range.firstOffset) high = middle - 1;
      else if (offset > range.lastOffset) low = middle + 1;
      else return middle;
    }
    return -1;
  }
}

/** A restored batch's state; an available one already delivered `limit` times can never be delivered again. */
function restoredState(batch: PersistedStateBatch, deliveryCountLimit: number): RecordStateValue {
  if (batch.deliveryState === RecordState.acknowledged || batch.deliveryState === RecordState.archived) return batch.deliveryState;
  return batch.deliveryCount >= deliveryCountLimit ? RecordState.archived : RecordState.available;
}

/** Kafka's checks of AcknowledgementBatches (KafkaApis.validateAcknowledgementBatches). */
function validateBatches(batches: readonly AcknowledgementBatch[], allowRenew: boolean): number {
  let previousLast = -Infinity;
  for (const batch of batches) {
    if (batch.firstOffset > batch.lastOffset || batch.firstOffset <= previousLast) return ErrorCode.INVALID_REQUEST;
    const types = batch.acknowledgeTypes;
    if (types.length === 0 || (types.length > 1 && types.length !== size(batch))) return ErrorCode.INVALID_REQUEST;
    const known = (type: number) => ackTypeToState[type] !== undefined || (allowRenew && type === AcknowledgeType.renew);
    if (!types.every(known)) return ErrorCode.INVALID_REQUEST;
    previousLast = batch.lastOffset;
  }
  return ErrorCode.NONE;
}

/** A batch as runs of consecutive offsets with the same acknowledgement type. */
function typeRuns(batch: AcknowledgementBatch): { firstOffset: number; lastOffset: number; type: number }[] {
  const types = batch.acknowledgeTypes;
  if (types.length === 1) return [{ firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, type: types[0]! }];
  const runs: { firstOffset: number; lastOffset: number; type: number }[] = [];
  types.forEach((type, index) => {
    const offset = batch.firstOffset + index;
    const previous = runs.at(-1);
    if (previous && previous.type === type) previous.lastOffset = offset;
    else runs.push({ firstOffset: offset, lastOffset: offset, type });
  });
  return runs;
}

/** Acquired ranges as a response carries them: neighbours with the same delivery count joined. */
function acquiredRanges(ranges: readonly InFlightRange[]): AcquiredRange[] {
  const result: AcquiredRange[] = [];
  for (const range of ranges) {
    const previous = result.at(-1);
    if (previous && previous.lastOffset + 1 === range.firstOffset && previous.deliveryCount === range.deliveryCount) {
      previous.lastOffset = range.lastOffset;
    } else {
      result.push({ firstOffset: range.firstOffset, lastOffset: range.lastOffset, deliveryCount: range.deliveryCount });
    }
  }
  return result;
}
