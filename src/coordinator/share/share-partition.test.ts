// The share-partition state machine (KIP-932): acquire/accept/release/reject, ownership checks,
// lock expiry, the delivery-count limit, SPSO movement and the persisted snapshot, the in-flight
// limit, member release, restore on a new leader, gap acks, and a seeded randomized run of three
// members checked against a per-offset model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { ManualClock } from '../../testing/log-support.js';
import { AcknowledgeType, type AcknowledgementBatch, RecordState, SharePartition, type SharePartitionConfig } from './share-partition.js';

const { gap, accept, release, reject } = AcknowledgeType;
const config: SharePartitionConfig = { recordLockDurationMs: 30_000, deliveryCountLimit: 3, maxInFlightRecords: 100 };

function partition(overrides: Partial<SharePartitionConfig> = {}, initial: ConstructorParameters<typeof SharePartition>[2] = { startOffset: 0 }) {
  const clock = new ManualClock();
  let changes = 0;
  const sp = new SharePartition({ ...config, ...overrides }, clock, initial, { onStateChanged: () => changes++ });
  return { sp, clock, changes: () => changes };
}

function ack(firstOffset: number, lastOffset: number, ...acknowledgeTypes: number[]): AcknowledgementBatch {
  return { firstOffset, lastOffset, acknowledgeTypes };
}

function batch(firstOffset: number, lastOffset: number, deliveryState: number, deliveryCount: number) {
  return { firstOffset, lastOffset, deliveryState, deliveryCount };
}

describe('SharePartition acquire and acknowledge', () => {
  it('acquires new records with delivery count 1 and accepts them, moving SPSO', () => {
    const { sp } = partition();
    assert.deepEqual(sp.acquire('m1', 0, 10, 100), [{ firstOffset: 0, lastOffset: 9, deliveryCount: 1 }]);
    assert.equal(sp.endOffset, 9);
    assert.equal(sp.nextFetchOffset(), 10);
    assert.deepEqual(sp.snapshot(), { startOffset: 0, stateBatches: [batch(0, 9, RecordState.available, 1)] });
    assert.equal(sp.acknowledge('m1', [ack(0, 4, accept)]), ErrorCode.NONE);
    assert.equal(sp.startOffset, 5);
    assert.deepEqual(sp.snapshot(), { startOffset: 5, stateBatches: [batch(5, 9, RecordState.available, 1)] });
    assert.equal(sp.acknowledge('m1', [ack(5, 9, accept)]), ErrorCode.NONE);
    assert.equal(sp.startOffset, 10);
    assert.equal(sp.endOffset, 9);
    assert.deepEqual(sp.snapshot(), { startOffset: 10, stateBatches: [] });
    assert.equal(sp.rangeCount, 0);
  });

  it('acquires nothing available below fromOffset (the log was read from there)', () => {
    const { sp } = partition();
    sp.acquire('m1', 0, 10, 100);
    assert.equal(sp.acknowledge('m1', [ack(2, 3, release), ack(6, 7, release)]), ErrorCode.NONE);
    // Offsets 2-3 are available but below the read; 6-7 and the new 10-11 are taken.
    assert.deepEqual(sp.acquire('m2', 0, 12, 100, 5), [
      { firstOffset: 6, lastOffset: 7, deliveryCount: 2 },
      { firstOffset: 10, lastOffset: 11, deliveryCount: 1 },
    ]);
    assert.equal(sp.stateOf(2)?.state, RecordState.available);
    // From inside an available range: only its part from fromOffset on.
    assert.equal(sp.acknowledge('m2', [ack(6, 7, release)]), ErrorCode.NONE);
    assert.deepEqual(sp.acquire('m3', 0, 12, 100, 7), [{ firstOffset: 7, lastOffset: 7, deliveryCount: 3 }]);
    assert.equal(sp.stateOf(6)?.state, RecordState.available);
  });

  it('close() stops the lock timers: nothing expires afterwards', () => {
    const { sp, clock, changes } = partition();
    sp.acquire('m1', 0, 5, 100);
    sp.close();
    clock.advance(config.recordLockDurationMs + 1);
    assert.equal(changes(), 0);
    assert.equal(sp.stateOf(0)?.state, RecordState.acquired);
  });

  it('keeps acknowledged records after a hole in flight until SPSO reaches them', () => {
    const { sp } = partition();
    sp.acquire('m1', 0, 10, 100);
    assert.equal(sp.acknowledge('m1', [ack(3, 5, accept)]), ErrorCode.NONE);
    assert.equal(sp.startOffset, 0);
    assert.equal(sp.deliveryCompleteCount, 3);
    assert.deepEqual(sp.snapshot().stateBatches, [batch(0, 2, RecordState.available, 1), batch(3, 5, RecordState.acknowledged, 1), batch(6, 9, RecordState.available, 1)]);
    assert.equal(sp.acknowledge('m1', [ack(8, 8, reject)]), ErrorCode.NONE);
    assert.equal(sp.deliveryCompleteCount, 4);
    assert.equal(sp.acknowledge('m1', [ack(0, 2, reject)]), ErrorCode.NONE);
    assert.equal(sp.startOffset, 6);
    assert.equal(sp.deliveryCompleteCount, 1, 'only the archived 8 is left above SPSO');
    assert.deepEqual(sp.snapshot(), { startOffset: 6, stateBatches: [batch(6, 7, RecordState.available, 1), batch(8, 8, RecordState.archived, 1), batch(9, 9, RecordState.available, 1)] });
  });

  it('release makes records available again with the delivery count kept; the next acquire counts 2', () => {
    const { sp } = partition();
    sp.acquire('m1', 0, 10, 100);
    assert.equal(sp.acknowledge('m1', [ack(4, 6, release)]), ErrorCode.NONE);
    assert.equal(sp.nextFetchOffset(), 4);
    assert.deepEqual(sp.stateOf(5), { state: RecordState.available, deliveryCount: 1, memberId: undefined });
    assert.deepEqual(sp.acquire('m2', 0, 12, 100), [
      { firstOffset: 4, lastOffset: 6, deliveryCount: 2 },
      { firstOffset: 10, lastOffset: 11, deliveryCount: 1 },
    ]);
    assert.equal(sp.stateOf(5)?.memberId, 'm2');
    assert.equal(sp.stateOf(3)?.memberId, 'm1');
  });

  it('reject archives; per-offset types mix accept, release, reject and gap in one batch', () => {
    const { sp } = partition();
    sp.acquire('m1', 0, 6, 100);
    assert.equal(sp.acknowledge('m1', [ack(0, 5, accept, gap, reject, release, accept, accept)]), ErrorCode.NONE);
    assert.equal(sp.startOffset, 3);
    assert.deepEqual(sp.snapshot().stateBatches, [batch(3, 3, RecordState.available, 1), batch(4, 5, RecordState.acknowledged, 1)]);
    assert.deepEqual(sp.acquire('m1', 0, 6, 100), [{ firstOffset: 3, lastOffset: 3, deliveryCount: 2 }]);
  });

  it('a gap ack archives offsets that are not records, inside an acquired range', () => {
    const { sp } = partition();
    sp.acquire('m1', 0, 10, 100);
    // Offsets 2-4 were compacted away: the client reports them as gaps, the rest as accepted.
    assert.equal(sp.acknowledge('m1', [ack(0, 1, accept), ack(2, 4, gap), ack(5, 9, accept)]), ErrorCode.NONE);
    assert.equal(sp.startOffset, 10);
    const { sp: other } = partition();
    other.acquire('m1', 0, 10, 100);
    assert.equal(other.acknowledge('m1', [ack(2, 4, gap)]), ErrorCode.NONE);
    assert.equal(other.stateOf(3)?.state, RecordState.archived);
    assert.deepEqual(other.snapshot().stateBatches[1], batch(2, 4, RecordState.archived, 1));
  });

  it('two members acquire disjoint ranges of one partition', () => {
    const { sp } = partition();
    assert.deepEqual(sp.acquire('m1', 0, 20, 5), [{ firstOffset: 0, lastOffset: 4, deliveryCount: 1 }]);
    assert.deepEqual(sp.acquire('m2', 0, 20, 5), [{ firstOffset: 5, lastOffset: 9, deliveryCount: 1 }]);
    assert.deepEqual(sp.acquire('m1', 0, 12, 5), [{ firstOffset: 10, lastOffset: 11, deliveryCount: 1 }]);
    assert.deepEqual(sp.acquire('m2', 0, 12, 5), []);
    assert.equal(sp.acknowledge('m2', [ack(5, 9, accept)]), ErrorCode.NONE);
    assert.equal(sp.startOffset, 0);
    assert.equal(sp.acknowledge('m1', [ack(0, 4, accept), ack(10, 11, accept)]), ErrorCode.NONE);
    assert.equal(sp.startOffset, 12);
  });

  it('acknowledging what another member holds is INVALID_RECORD_STATE and changes nothing, all batches included', () => {
    const { sp } = partition();
    sp.acquire('m1', 0, 5, 100);
    sp.acquire('m2', 0, 10, 100);
    const before = sp.snapshot();
    // The first batch alone would be fine; the second touches m2's offset 5, so neither applies.
    assert.equal(sp.acknowledge('m1', [ack(0, 2, accept), ack(4, 5, accept)]), ErrorCode.INVALID_RECORD_STATE);
    assert.deepEqual(sp.snapshot(), before);
    assert.equal(sp.stateOf(0)?.state, RecordState.acquired);
    assert.equal(sp.stateOf(5)?.memberId, 'm2');
    // Available (released) offsets are not acquired by anyone either.
    sp.acknowledge('m2', [ack(7, 7, release)]);
    assert.equal(sp.acknowledge('m2', [ack(6, 8, accept)]), ErrorCode.INVALID_RECORD_STATE);
    assert.equal(sp.stateOf(6)?.state, RecordState.acquired);
  });

  it('malformed batches and offsets past SPEO are INVALID_REQUEST; offsets below SPSO are skipped', () => {
    const { sp } = partition();
    sp.acquire('m1', 0, 10, 100);
    assert.equal(sp.acknowledge('m1', [ack(5, 4, accept)]), ErrorCode.INVALID_REQUEST);
    assert.equal(sp.acknowledge('m1', [ack(0, 3)]), ErrorCode.INVALID_REQUEST);
    assert.equal(sp.acknowledge('m1', [ack(0, 3, accept, accept)]), ErrorCode.INVALID_REQUEST);
    assert.equal(sp.acknowledge('m1', [ack(0, 3, 4)]), ErrorCode.INVALID_REQUEST);
    assert.equal(sp.acknowledge('m1', [ack(4, 5, accept), ack(0, 1, accept)]), ErrorCode.INVALID_REQUEST);
    assert.equal(sp.acknowledge('m1', [ack(8, 10, accept)]), ErrorCode.INVALID_REQUEST);
    assert.equal(sp.startOffset, 0);
    assert.equal(sp.acknowledge('m1', [ack(0, 3, accept)]), ErrorCode.NONE);
    assert.equal(sp.acknowledge('m1', [ack(0, 5, accept)]), ErrorCode.NONE, 'only 4-5 are still in flight');
    assert.equal(sp.startOffset, 6);
  });
});

describe('SharePartition locks and the delivery limit', () => {
  it('an expired lock returns records to available with the delivery count kept', () => {
    const { sp, clock, changes } = partition();
    sp.acquire('m1', 0, 5, 100);
    clock.advance(29_999);
    assert.equal(sp.stateOf(0)?.state, RecordState.acquired);
    clock.advance(1);
    assert.deepEqual(sp.stateOf(0), { state: RecordState.available, deliveryCount: 1, memberId: undefined });
    assert.equal(changes(), 1);
    assert.equal(sp.acknowledge('m1', [ack(0, 4, accept)]), ErrorCode.INVALID_RECORD_STATE);
    assert.deepEqual(sp.acquire('m2', 0, 5, 100), [{ firstOffset: 0, lastOffset: 4, deliveryCount: 2 }]);
  });

  it('a partly acknowledged acquisition expires only for what is still held; an all-settled one never fires', () => {
    const { sp, clock, changes } = partition();
    sp.acquire('m1', 0, 10, 100);
    sp.acknowledge('m1', [ack(0, 4, accept), ack(7, 7, release)]);
    sp.acquire('m2', 0, 10, 100); // re-acquires 7 under its own lock
    clock.advance(30_000);
    assert.equal(changes(), 2, 'both locks expired');
    assert.equal(sp.startOffset, 5);
    assert.deepEqual(sp.snapshot().stateBatches, [batch(5, 6, RecordState.available, 1), batch(7, 7, RecordState.available, 2), batch(8, 9, RecordState.available, 1)]);
    const { sp: settled, clock: clock2, changes: changes2 } = partition();
    settled.acquire('m1', 0, 10, 100);
    settled.acknowledge('m1', [ack(0, 9, accept)]);
    clock2.advance(60_000);
    assert.equal(changes2(), 0);
  });

  it('cancels a lock timer once nothing acquired under it remains (acknowledged, released or member released)', () => {
    const clock = new ManualClock();
    let live = 0;
    // Counts timers scheduled and neither fired nor cancelled, around the shared manual clock.
    const counting = {
      nowMs: () => clock.nowMs(),
      monotonicMs: () => clock.monotonicMs(),
      schedule(delayMs: number, callback: () => void) {
        live++;
        let done = false;
        const cancel = clock.schedule(delayMs, () => {
          done = true;
          live--;
          callback();
        });
        return () => {
          if (!done) live--;
          done = true;
          cancel();
        };
      },
    };
    const sp = new SharePartition(config, counting, { startOffset: 0 });
    sp.acquire('m1', 0, 10, 100);
    sp.acquire('m2', 0, 20, 100);
    sp.acquire('m3', 0, 30, 100);
    assert.equal(live, 3);
    sp.acknowledge('m1', [ack(0, 4, accept)]);
    assert.equal(live, 3, 'm1 still holds 5-9');
    sp.acknowledge('m1', [ack(5, 8, release), ack(9, 9, reject)]);
    assert.equal(live, 2);
    sp.releaseMember('m2');
    assert.equal(live, 1);
    sp.moveStartOffset(30);
    assert.equal(live, 0);
    sp.acquire('m1', 0, 40, 100);
    assert.equal(sp.acknowledge('m1', [ack(30, 39, AcknowledgeType.renew)], { allowRenew: true }), ErrorCode.NONE);
    assert.equal(live, 1, 'renewing everything under a lock replaces its timer');
  });

  it('renew (v2) restarts the lock of the offsets it names, only when allowed and only for the owner', () => {
    const { sp, clock } = partition();
    sp.acquire('m1', 0, 10, 100);
    assert.equal(sp.acknowledge('m1', [ack(0, 4, AcknowledgeType.renew)]), ErrorCode.INVALID_REQUEST);
    clock.advance(20_000);
    assert.equal(sp.acknowledge('m2', [ack(0, 4, AcknowledgeType.renew)], { allowRenew: true }), ErrorCode.INVALID_RECORD_STATE);
    assert.equal(sp.acknowledge('m1', [ack(0, 4, AcknowledgeType.renew)], { allowRenew: true }), ErrorCode.NONE);
    assert.equal(sp.stateOf(2)?.deliveryCount, 1, 'a renewal is not a delivery');
    clock.advance(10_000);
    assert.equal(sp.stateOf(4)?.memberId, 'm1', 'renewed: still held');
    assert.equal(sp.stateOf(5)?.state, RecordState.available, 'not renewed: expired at 30 s');
    clock.advance(19_999);
    assert.equal(sp.stateOf(0)?.state, RecordState.acquired);
    assert.equal(sp.acknowledge('m1', [ack(0, 1, AcknowledgeType.renew, accept)], { allowRenew: true }), ErrorCode.NONE);
    clock.advance(29_999);
    assert.equal(sp.stateOf(0)?.memberId, 'm1');
    assert.equal(sp.stateOf(2)?.state, RecordState.available, 'the first renewal expired');
    clock.advance(1);
    assert.equal(sp.stateOf(0)?.state, RecordState.available);
  });

  it('archives a poison record after deliveryCountLimit deliveries (release and timeout)', () => {
    const { sp, clock } = partition({ deliveryCountLimit: 3 });
    assert.deepEqual(sp.acquire('m1', 0, 1, 10), [{ firstOffset: 0, lastOffset: 0, deliveryCount: 1 }]);
    sp.acknowledge('m1', [ack(0, 0, release)]);
    assert.deepEqual(sp.acquire('m2', 0, 1, 10), [{ firstOffset: 0, lastOffset: 0, deliveryCount: 2 }]);
    clock.advance(30_000);
    assert.equal(sp.stateOf(0)?.state, RecordState.available);
    // The last attempt is delivered alone, though offset 1 is in the log too.
    assert.deepEqual(sp.acquire('m3', 0, 2, 10), [{ firstOffset: 0, lastOffset: 0, deliveryCount: 3 }]);
    clock.advance(30_000);
    // Offset 0 reached the limit: archived, and SPSO passes it.
    assert.equal(sp.startOffset, 1);
    assert.deepEqual(sp.snapshot(), { startOffset: 1, stateBatches: [] });
    assert.deepEqual(sp.acquire('m1', 0, 2, 10), [{ firstOffset: 1, lastOffset: 1, deliveryCount: 1 }]);
    sp.acknowledge('m1', [ack(1, 1, release)]);
    sp.acquire('m1', 0, 2, 10);
    sp.acknowledge('m1', [ack(1, 1, release)]);
    sp.acquire('m1', 0, 2, 10);
    sp.acknowledge('m1', [ack(1, 1, release)]);
    assert.equal(sp.startOffset, 2, 'released at the limit: archived');
  });

  it('isolates often-redelivered records: halves from ceil(limit/2) deliveries, the last attempt alone', () => {
    const { sp } = partition({ deliveryCountLimit: 5 });
    for (let delivery = 1; delivery <= 3; delivery++) {
      assert.deepEqual(sp.acquire('m1', 0, 10, 100), [{ firstOffset: 0, lastOffset: 9, deliveryCount: delivery }]);
      sp.releaseMember('m1');
    }
    // Count 3 reached the throttle (ceil(5/2) = 3): half of the 10, and no new records with them.
    assert.deepEqual(sp.acquire('m1', 0, 20, 100), [{ firstOffset: 0, lastOffset: 4, deliveryCount: 4 }]);
    assert.deepEqual(sp.acquire('m2', 0, 20, 100), [{ firstOffset: 5, lastOffset: 6, deliveryCount: 4 }]);
    assert.deepEqual(sp.acquire('m2', 0, 20, 100), [{ firstOffset: 7, lastOffset: 7, deliveryCount: 4 }]);
    assert.equal(sp.acknowledge('m2', [ack(5, 7, accept)]), ErrorCode.NONE);
    sp.releaseMember('m1');
    // Count 4 = limit - 1: each record goes alone; a fresh record waits behind them.
    assert.deepEqual(sp.acquire('m3', 0, 20, 100), [{ firstOffset: 0, lastOffset: 0, deliveryCount: 5 }]);
    assert.deepEqual(sp.acquire('m3', 0, 20, 100), [{ firstOffset: 1, lastOffset: 1, deliveryCount: 5 }]);
    // With limit 3 the throttle (2) is the last attempt: a whole released batch goes one by one.
    const { sp: small } = partition({ deliveryCountLimit: 3 });
    small.acquire('m1', 0, 10, 100);
    small.releaseMember('m1');
    assert.deepEqual(small.acquire('m1', 0, 10, 100), [{ firstOffset: 0, lastOffset: 9, deliveryCount: 2 }]);
    small.releaseMember('m1');
    assert.deepEqual(small.acquire('m1', 0, 10, 100), [{ firstOffset: 0, lastOffset: 0, deliveryCount: 3 }]);
    // A record acquired normally stops before an isolated one.
    const { sp: mixed } = partition({ deliveryCountLimit: 5 });
    mixed.acquire('m1', 0, 4, 100);
    for (let delivery = 2; delivery <= 4; delivery++) {
      mixed.acknowledge('m1', [ack(2, 3, release)]);
      mixed.acquire('m1', 0, 4, 100);
    }
    mixed.releaseMember('m1');
    assert.deepEqual(mixed.acquire('m2', 0, 10, 100), [{ firstOffset: 0, lastOffset: 1, deliveryCount: 2 }]);
    assert.deepEqual(mixed.acquire('m2', 0, 10, 100), [{ firstOffset: 2, lastOffset: 2, deliveryCount: 5 }]);
  });
});

describe('SharePartition in-flight window and start offset', () => {
  it('acquires no more than maxInFlightRecords past SPSO, and more once SPSO moves', () => {
    const { sp } = partition({ maxInFlightRecords: 10 });
    assert.deepEqual(sp.acquire('m1', 0, 100, 6), [{ firstOffset: 0, lastOffset: 5, deliveryCount: 1 }]);
    assert.deepEqual(sp.acquire('m2', 0, 100, 6), [{ firstOffset: 6, lastOffset: 9, deliveryCount: 1 }]);
    assert.equal(sp.canAcquire(100), false);
    assert.deepEqual(sp.acquire('m3', 0, 100, 6), []);
    // A released record inside the window can still be acquired at the limit.
    sp.acknowledge('m2', [ack(8, 8, release)]);
    assert.equal(sp.canAcquire(100), true);
    assert.deepEqual(sp.acquire('m3', 0, 100, 6), [{ firstOffset: 8, lastOffset: 8, deliveryCount: 2 }]);
    sp.acknowledge('m1', [ack(0, 2, accept)]);
    assert.equal(sp.startOffset, 3);
    assert.deepEqual(sp.acquire('m3', 0, 100, 6), [{ firstOffset: 10, lastOffset: 12, deliveryCount: 1 }]);
    assert.equal(sp.inFlightCount, 10);
  });

  it('acquires only offsets the log holds and respects maxRecords across available ranges', () => {
    const { sp } = partition();
    assert.deepEqual(sp.acquire('m1', 0, 0, 10), []);
    assert.equal(sp.canAcquire(0), false);
    sp.acquire('m1', 0, 10, 10);
    sp.acknowledge('m1', [ack(1, 2, release), ack(5, 6, release)]);
    assert.deepEqual(sp.acquire('m2', 0, 10, 3), [{ firstOffset: 1, lastOffset: 2, deliveryCount: 2 }, { firstOffset: 5, lastOffset: 5, deliveryCount: 2 }]);
    assert.equal(sp.nextFetchOffset(), 6);
    assert.equal(sp.stateOf(6)?.state, RecordState.available);
  });

  it('moveStartOffset forgets records below it, cancelling their locks; a log start past SPSO does it in acquire', () => {
    const { sp, clock, changes } = partition();
    sp.acquire('m1', 0, 10, 100);
    sp.moveStartOffset(4);
    assert.equal(sp.startOffset, 4);
    assert.deepEqual(sp.snapshot().stateBatches, [batch(4, 9, RecordState.available, 1)]);
    assert.equal(sp.acknowledge('m1', [ack(0, 5, accept)]), ErrorCode.NONE, 'offsets below SPSO are skipped');
    assert.equal(sp.startOffset, 6);
    sp.moveStartOffset(20);
    assert.equal(sp.startOffset, 20);
    assert.equal(sp.endOffset, 19);
    clock.advance(30_000);
    assert.equal(changes(), 0, 'the forgotten records had their lock cancelled');
    assert.deepEqual(sp.acquire('m1', 25, 30, 100), [{ firstOffset: 25, lastOffset: 29, deliveryCount: 1 }]);
    assert.equal(sp.startOffset, 25);
  });

  it('releaseMember returns exactly that member’s records and cancels their timers', () => {
    const { sp, clock, changes } = partition();
    sp.acquire('m1', 0, 5, 100);
    sp.acquire('m2', 0, 10, 100);
    sp.acquire('m1', 0, 12, 100);
    sp.acknowledge('m1', [ack(1, 1, accept)]);
    sp.releaseMember('m1');
    assert.deepEqual(sp.snapshot().stateBatches, [batch(0, 0, RecordState.available, 1), batch(1, 1, RecordState.acknowledged, 1), batch(2, 11, RecordState.available, 1)]);
    assert.equal(sp.stateOf(7)?.memberId, 'm2');
    assert.equal(sp.stateOf(10)?.state, RecordState.available);
    assert.equal(sp.nextFetchOffset(), 0);
    sp.acknowledge('m2', [ack(5, 9, accept)]);
    clock.advance(30_000);
    assert.equal(changes(), 0);
  });

  it('keeps state compact: one range per acquisition, merged again after splits', () => {
    const { sp } = partition({ maxInFlightRecords: 10_000 });
    sp.acquire('m1', 0, 5000, 5000);
    assert.equal(sp.rangeCount, 1);
    const types = Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? release : accept));
    sp.acknowledge('m1', [{ firstOffset: 100, lastOffset: 109, acknowledgeTypes: types }]);
    assert.equal(sp.rangeCount, 12);
    sp.acknowledge('m1', [ack(0, 99, accept)]);
    assert.equal(sp.startOffset, 100);
    sp.releaseMember('m1');
    // 100 available, 101 acked, ..., 108 available, 109 acked, then 110-4999 available: 11 ranges.
    assert.equal(sp.rangeCount, 11);
    sp.acquire('m2', 0, 5000, 1);
    sp.acknowledge('m2', [ack(100, 100, accept)]);
    assert.equal(sp.startOffset, 102);
    assert.equal(sp.rangeCount, 9);
  });
});

describe('SharePartition restore', () => {
  it('a new leader restores a snapshot and continues: counts kept, gaps fresh, terminal records skipped', () => {
    const { sp } = partition({ deliveryCountLimit: 5 });
    sp.acquire('m1', 0, 10, 100);
    sp.acknowledge('m1', [ack(0, 1, accept), ack(3, 3, accept), ack(5, 5, release), ack(6, 6, reject)]);
    sp.acquire('m2', 0, 12, 100); // 2 (count 2), 4, 7-9 held by m1 still; 5 reacquired (count 2), 10-11 new
    const saved = sp.snapshot();
    assert.deepEqual(saved, {
      startOffset: 2,
      stateBatches: [batch(2, 2, RecordState.available, 1), batch(3, 3, RecordState.acknowledged, 1), batch(4, 4, RecordState.available, 1), batch(5, 5, RecordState.available, 2), batch(6, 6, RecordState.archived, 1), batch(7, 11, RecordState.available, 1)],
    });
    const { sp: next } = partition({ deliveryCountLimit: 5 }, saved);
    assert.equal(next.startOffset, 2);
    assert.equal(next.endOffset, 11);
    assert.deepEqual(next.acquire('m3', 0, 14, 100), [
      { firstOffset: 2, lastOffset: 2, deliveryCount: 2 },
      { firstOffset: 4, lastOffset: 4, deliveryCount: 2 },
      { firstOffset: 5, lastOffset: 5, deliveryCount: 3 },
      { firstOffset: 7, lastOffset: 11, deliveryCount: 2 },
      { firstOffset: 12, lastOffset: 13, deliveryCount: 1 },
    ]);
    assert.equal(next.acknowledge('m3', [ack(2, 2, accept), ack(4, 5, accept), ack(7, 13, accept)]), ErrorCode.NONE);
    assert.deepEqual(next.snapshot(), { startOffset: 14, stateBatches: [] });
  });

  it('restores batches with holes between them, below SPSO, and at the delivery limit', () => {
    const { sp } = partition({}, {
      startOffset: 10,
      stateBatches: [batch(5, 11, RecordState.available, 1), batch(14, 14, RecordState.acknowledged, 1), batch(16, 16, RecordState.available, 3)],
    });
    assert.equal(sp.startOffset, 10);
    assert.equal(sp.endOffset, 16);
    assert.equal(sp.stateOf(12)?.deliveryCount, 0);
    assert.equal(sp.stateOf(16)?.state, RecordState.archived);
    assert.deepEqual(sp.acquire('m1', 0, 20, 100), [
      { firstOffset: 10, lastOffset: 11, deliveryCount: 2 },
      { firstOffset: 12, lastOffset: 13, deliveryCount: 1 },
      { firstOffset: 15, lastOffset: 15, deliveryCount: 1 },
      { firstOffset: 17, lastOffset: 19, deliveryCount: 1 },
    ]);
    const { sp: terminal } = partition({}, { startOffset: 0, stateBatches: [batch(0, 4, RecordState.acknowledged, 1), batch(5, 6, RecordState.archived, 2)] });
    assert.equal(terminal.startOffset, 7);
    assert.equal(terminal.rangeCount, 0);
  });
});

/** A tiny deterministic PRNG (mulberry32). */
function prng(seed: number): (bound: number) => number {
  let state = seed >>> 0;
  return (bound) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * bound);
  };
}

type ModelState = 'available' | 'acquired' | 'accepted' | 'archived';
interface ModelOffset {
  state: ModelState;
  deliveries: number;
  holder?: string;
  deadline?: number;
  accepts: number;
}

describe('SharePartition randomized', () => {
  for (const seed of [1, 2, 3, 42, 2024]) {
    it(`three members against a per-offset model, seed ${seed}`, () => {
      const limit = [4, 5, 6][seed % 3]!;
      const throttleFrom = Math.max(2, Math.ceil(limit / 2));
      const lockMs = 1000;
      const maxInFlight = 40;
      const clock = new ManualClock();
      const sp = new SharePartition({ recordLockDurationMs: lockMs, deliveryCountLimit: limit, maxInFlightRecords: maxInFlight }, clock, { startOffset: 0 });
      const random = prng(seed);
      const members = ['a', 'b', 'c'];
      const model: ModelOffset[] = [];
      let logEnd = 0;
      let speo = -1;
      let lastSpso = 0;

      const expire = () => {
        for (const offset of model) {
          if (offset.state === 'acquired' && offset.deadline! <= clock.nowMs()) settle(offset, 'available');
        }
      };
      const settle = (offset: ModelOffset, state: ModelState) => {
        offset.state = state === 'available' && offset.deliveries >= limit ? 'archived' : state;
        delete offset.holder;
        delete offset.deadline;
      };
      const modelSpso = () => {
        let offset = lastSpso;
        while (offset < model.length && offset <= speo && (model[offset]!.state === 'accepted' || model[offset]!.state === 'archived')) offset++;
        return offset;
      };
      const held = (member: string) => model.flatMap((offset, index) => (offset.state === 'acquired' && offset.holder === member ? [index] : []));

      const acquire = (member: string, maxRecords: number) => {
        const spso = modelSpso();
        const expected: number[] = [];
        let isolated = false;
        for (let offset = spso; offset <= speo && offset < logEnd && expected.length < maxRecords && !isolated; offset++) {
          const entry = model[offset]!;
          if (entry.state !== 'available') continue;
          // Often-redelivered records go apart: alone on the last attempt, else half their run per attempt.
          const throttled = entry.deliveries === limit - 1 || entry.deliveries >= throttleFrom;
          if (!throttled) {
            expected.push(offset);
            continue;
          }
          isolated = true;
          if (expected.length > 0) break;
          const sameRun = (index: number) => model[index]?.state === 'available' && model[index]!.deliveries === entry.deliveries && index <= speo;
          let runEnd = offset;
          while (sameRun(runEnd + 1)) runEnd++;
          const cap = entry.deliveries === limit - 1 ? 1 : Math.max(1, (runEnd - offset + 1) >> (entry.deliveries - throttleFrom + 1));
          for (let next = offset; next <= runEnd && next < logEnd && expected.length < Math.min(cap, maxRecords); next++) expected.push(next);
        }
        for (let offset = speo + 1; !isolated && offset < logEnd && offset < spso + maxInFlight && expected.length < maxRecords; offset++) expected.push(offset);
        const ranges = sp.acquire(member, 0, logEnd, maxRecords);
        const got = ranges.flatMap((range) => Array.from({ length: range.lastOffset - range.firstOffset + 1 }, (_, index) => ({ offset: range.firstOffset + index, count: range.deliveryCount })));
        assert.deepEqual(got.map((entry) => entry.offset), expected, 'acquired offsets');
        for (const { offset, count } of got) {
          const entry = model[offset]!;
          assert.notEqual(entry.state, 'acquired', `offset ${offset} acquired twice at once`);
          entry.deliveries++;
          assert.equal(count, entry.deliveries, `delivery count of ${offset}`);
          assert.ok(count <= limit);
          entry.state = 'acquired';
          entry.holder = member;
          entry.deadline = clock.nowMs() + lockMs;
          speo = Math.max(speo, offset);
        }
      };

      const acknowledge = (member: string, offsets: number[], typeOf: () => number) => {
        // One batch per run of consecutive offsets, with a single type or one per offset.
        const batches: AcknowledgementBatch[] = [];
        for (const offset of offsets) {
          const previous = batches.at(-1);
          if (previous && previous.lastOffset + 1 === offset) {
            previous.lastOffset = offset;
            (previous.acknowledgeTypes as number[]).push(typeOf());
          } else {
            batches.push({ firstOffset: offset, lastOffset: offset, acknowledgeTypes: [typeOf()] });
          }
        }
        for (const entry of batches) {
          const types = entry.acknowledgeTypes as number[];
          if (types.every((type) => type === types[0]) && random(2) === 0) entry.acknowledgeTypes = [types[0]!];
        }
        assert.equal(sp.acknowledge(member, batches), ErrorCode.NONE);
        for (const entry of batches) {
          for (let offset = entry.firstOffset; offset <= entry.lastOffset; offset++) {
            const type = entry.acknowledgeTypes.length === 1 ? entry.acknowledgeTypes[0]! : entry.acknowledgeTypes[offset - entry.firstOffset]!;
            const target: ModelState = type === accept ? 'accepted' : type === release ? 'available' : 'archived';
            if (target === 'accepted') model[offset]!.accepts++;
            settle(model[offset]!, target);
          }
        }
      };

      const check = () => {
        const spso = modelSpso();
        assert.equal(sp.startOffset, spso, 'SPSO');
        assert.ok(sp.startOffset >= lastSpso, 'SPSO monotonic');
        lastSpso = spso;
        assert.equal(sp.endOffset, Math.max(speo, spso - 1), 'SPEO');
        assert.ok(sp.inFlightCount <= maxInFlight);
        const complete = model.filter((offset, index) => index >= spso && index <= speo && (offset.state === 'accepted' || offset.state === 'archived')).length;
        assert.equal(sp.deliveryCompleteCount, complete, 'delivery complete count');
        const firstAvailable = model.findIndex((offset, index) => index >= spso && index <= speo && offset.state === 'available');
        assert.equal(sp.nextFetchOffset(), firstAvailable >= 0 ? firstAvailable : sp.endOffset + 1, 'next fetch offset');
        for (let offset = spso; offset <= speo; offset++) {
          const entry = model[offset]!;
          const actual = sp.stateOf(offset);
          const state = { available: RecordState.available, acquired: RecordState.acquired, accepted: RecordState.acknowledged, archived: RecordState.archived }[entry.state];
          assert.deepEqual(actual, { state, deliveryCount: entry.deliveries, memberId: entry.holder }, `offset ${offset}`);
        }
      };

      for (let step = 0; step < 600; step++) {
        if (random(3) === 0) {
          logEnd += random(8);
          while (model.length < logEnd) model.push({ state: 'available', deliveries: 0, accepts: 0 });
        }
        const member = members[random(members.length)]!;
        const action = random(10);
        if (action < 4) {
          acquire(member, 1 + random(12));
        } else if (action < 7) {
          const mine = held(member).filter(() => random(3) > 0);
          const types = [accept, accept, accept, release, reject, gap];
          acknowledge(member, mine, () => types[random(types.length)]!);
        } else if (action === 7) {
          // Acknowledging offsets someone else holds, or nobody, fails and changes nothing.
          const foreign = model.flatMap((offset, index) => (index >= sp.startOffset && index <= sp.endOffset && offset.holder !== member ? [index] : []));
          if (foreign.length > 0) {
            const offset = foreign[random(foreign.length)]!;
            const before = sp.snapshot();
            assert.equal(sp.acknowledge(member, [ack(offset, offset, accept)]), ErrorCode.INVALID_RECORD_STATE);
            assert.deepEqual(sp.snapshot(), before);
          }
        } else if (action === 8) {
          if (random(4) === 0) {
            sp.releaseMember(member);
            for (const offset of held(member)) settle(model[offset]!, 'available');
          }
        } else {
          clock.advance(random(600));
          expire();
        }
        check();
      }

      // Drain: members keep accepting whatever they get until SPSO reaches the log end.
      for (let round = 0; sp.startOffset < logEnd; round++) {
        assert.ok(round < 10_000, 'drain terminates');
        const member = members[round % members.length]!;
        acquire(member, 1 + random(12));
        acknowledge(member, held(member), () => accept);
        if (round % 7 === 6) {
          clock.advance(lockMs);
          expire();
        }
        check();
      }
      for (const [offset, entry] of model.entries()) {
        assert.ok(entry.accepts <= 1, `offset ${offset} accepted ${entry.accepts} times`);
        assert.ok(entry.accepts === 1 || entry.state === 'archived', `offset ${offset} neither accepted nor archived`);
        assert.ok(entry.deliveries <= limit);
      }
      assert.ok(model.some((entry) => entry.deliveries === limit), 'the run reached the delivery limit somewhere');
    });
  }
});
