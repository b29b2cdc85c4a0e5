import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import { isKafkaError } from '../base/kafka-error.js';
import { buildControlBatchSync, ControlRecordType } from '../protocol/records/control-record.js';
import { buildRecordBatchSync } from '../protocol/records/record-batch.js';
import { crc32c } from '../base/crc32c.js';
import { decodeProducerSnapshot, encodeProducerSnapshot } from './producer-snapshot.js';
import { ProducerStateManager } from './producer-state.js';
import { decodeTransactionIndex, encodeTransactionIndex } from './transaction-index.js';

const batch = (producerId: number, epoch: number, baseSequence: number, count: number, transactional = false) =>
  buildRecordBatchSync(Array.from({ length: count }, () => ({ key: null, value: Buffer.from('v') })), { producerId, producerEpoch: epoch, baseSequence, transactional });
const marker = (producerId: number, epoch: number, type: 0 | 1) => buildControlBatchSync({ type, producerId, producerEpoch: epoch, coordinatorEpoch: 0, timestamp: 0 });

function errorOf(action: () => unknown): number | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return isKafkaError(error) ? error.errorCode : -1;
  }
}

/** Appends like the log does: check, then record at the next offset. */
function append(state: ProducerStateManager, next: { offset: number }, bytes: Buffer, count: number): number | { duplicate: number } {
  const duplicate = state.checkAppend(bytes);
  if (duplicate) return { duplicate: duplicate.baseOffset };
  const base = next.offset;
  state.onAppend(bytes, base, base + count - 1, 0);
  next.offset += count;
  return base;
}

test('sequences: duplicates of the last five batches, gaps, new epochs, fencing, unknown producers', () => {
  const state = new ProducerStateManager();
  const next = { offset: 0 };
  for (let index = 0; index < 7; index += 1) assert.equal(append(state, next, batch(1, 0, index * 2, 2), 2), index * 2);
  assert.deepEqual(append(state, next, batch(1, 0, 12, 2), 2), { duplicate: 12 });
  assert.deepEqual(append(state, next, batch(1, 0, 4, 2), 2), { duplicate: 4 });
  assert.equal(errorOf(() => state.checkAppend(batch(1, 0, 2, 2))), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 'older than the last five');
  assert.equal(errorOf(() => state.checkAppend(batch(1, 0, 20, 1))), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(errorOf(() => state.checkAppend(batch(2, 0, 3, 1))), ErrorCode.UNKNOWN_PRODUCER_ID);
  assert.equal(errorOf(() => state.checkAppend(batch(1, 1, 5, 1))), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 'a new epoch starts at 0');
  append(state, next, batch(1, 1, 0, 1), 1);
  assert.equal(errorOf(() => state.checkAppend(batch(1, 0, 14, 1))), ErrorCode.INVALID_PRODUCER_EPOCH);
});

test('transactions: LSO held by the first open transaction, aborted ones indexed, snapshot round trip', () => {
  const state = new ProducerStateManager();
  const next = { offset: 0 };
  append(state, next, batch(5, 0, 0, 3, true), 3);
  append(state, next, batch(6, 0, 0, 2, true), 2);
  assert.equal(state.lastStableOffset(5), 0);
  append(state, next, marker(5, 0, ControlRecordType.abort), 1);
  assert.equal(state.lastStableOffset(5), 0, 'the marker is not below the high watermark yet');
  assert.equal(state.lastStableOffset(6), 3, 'producer 6 still open from offset 3');
  append(state, next, marker(6, 0, ControlRecordType.commit), 1);
  assert.equal(state.lastStableOffset(7), 7);
  assert.deepEqual(state.abortedTransactions(0, 7).map((entry) => [entry.producerId, entry.firstOffset, entry.lastOffset]), [[5, 0, 5]]);
  assert.deepEqual(state.abortedTransactions(6, 7), []);

  const restored = new ProducerStateManager();
  restored.restore(decodeProducerSnapshot(encodeProducerSnapshot(state.producers())).producers, decodeTransactionIndex(encodeTransactionIndex(state.abortedTransactionList)));
  assert.deepEqual(restored.abortedTransactions(0, 7), state.abortedTransactions(0, 7));
  assert.deepEqual(restored.checkAppend(batch(6, 0, 0, 2, true)), { baseOffset: 3, lastOffset: 4 });
  const corrupt = encodeProducerSnapshot(state.producers());
  corrupt[corrupt.length - 1]! ^= 1;
  assert.throws(() => decodeProducerSnapshot(corrupt), /CRC/);
});

test('markers: a coordinator epoch older than the last marker of the producer is fenced; ongoing transactions are known', () => {
  const state = new ProducerStateManager();
  const next = { offset: 0 };
  const markerFrom = (coordinatorEpoch: number, type: 0 | 1) => buildControlBatchSync({ type, producerId: 9, producerEpoch: 0, coordinatorEpoch, timestamp: 0 });
  append(state, next, batch(9, 0, 0, 2, true), 2);
  assert.equal(state.hasOngoingTransaction(9, 0), true);
  assert.equal(state.hasOngoingTransaction(9, 1), false, 'another epoch of the producer');
  append(state, next, markerFrom(3, ControlRecordType.commit), 1);
  assert.equal(state.hasOngoingTransaction(9, 0), false, 'the marker ended it');
  append(state, next, batch(9, 0, 2, 1, true), 1);
  assert.equal(errorOf(() => state.checkAppend(markerFrom(2, ControlRecordType.abort))), ErrorCode.TRANSACTION_COORDINATOR_FENCED, 'a coordinator that lost the partition to epoch 3');
  assert.equal(errorOf(() => state.checkAppend(markerFrom(3, ControlRecordType.abort))), undefined, 'the same coordinator epoch');
  assert.equal(errorOf(() => state.checkAppend(markerFrom(4, ControlRecordType.abort))), undefined, 'a newer coordinator');
});

test('a truncation that cuts off a transaction marker reopens the transaction, so the marker that replaces it indexes the aborted records', () => {
  const state = new ProducerStateManager();
  const next = { offset: 0 };
  append(state, next, batch(9, 0, 0, 1), 1); // offset 0, not transactional
  append(state, next, batch(7, 0, 0, 2, true), 2); // offsets 1-2: the transaction's records
  append(state, next, marker(7, 0, ControlRecordType.commit), 1); // offset 3: a marker this replica had, the leader did not
  assert.deepEqual(state.abortedTransactions(0, 10), []);
  assert.equal(state.lastStableOffset(3), 1, 'ended, but its marker is not below the high watermark (3) yet');

  // A follower truncates at 3 (the new leader's log diverges there) and then takes the leader's abort marker.
  state.truncateFrom(3);
  next.offset = 3;
  assert.equal(state.hasOngoingTransaction(7, 0), true, 'the transaction is open again');
  assert.equal(state.lastStableOffset(3), 1, 'and holds the last stable offset at its first record');
  append(state, next, marker(7, 0, ControlRecordType.abort), 1);
  assert.deepEqual(
    state.abortedTransactions(0, 10).map(({ producerId, firstOffset, lastOffset }) => ({ producerId, firstOffset, lastOffset })),
    [{ producerId: 7, firstOffset: 1, lastOffset: 3 }],
    'read_committed consumers are told to skip offsets 1-2',
  );
});

/** The state a node restarts with from a snapshot written at its clean shutdown (and the transaction index written with it). */
function restarted(state: ProducerStateManager, snapshotBytes = encodeProducerSnapshot(state.producers(), state.endedTransactionList)): ProducerStateManager {
  const snapshot = decodeProducerSnapshot(snapshotBytes);
  const restored = new ProducerStateManager();
  restored.restore(snapshot.producers, decodeTransactionIndex(encodeTransactionIndex(state.abortedTransactionList)), snapshot.endedTransactions);
  return restored;
}

test('after a restart from a snapshot, a truncation that cuts off a commit marker still reopens its transaction for the abort marker that replaces it', () => {
  const state = new ProducerStateManager();
  const next = { offset: 0 };
  append(state, next, batch(7, 0, 0, 2, true), 2); // offsets 0-1
  append(state, next, marker(7, 0, ControlRecordType.commit), 1); // offset 2, above the high watermark (2) at the shutdown
  state.forgetStableBelow(2);
  const restored = restarted(state);
  assert.equal(restored.lastStableOffset(2), 0, 'the ended transaction still holds the LSO until its marker is below the high watermark');
  restored.truncateFrom(2);
  assert.equal(restored.hasOngoingTransaction(7, 0), true, 'the transaction is open again after the restart');
  next.offset = 2;
  append(restored, next, marker(7, 0, ControlRecordType.abort), 1);
  assert.deepEqual(restored.abortedTransactions(0, 10).map(({ firstOffset, lastOffset }) => [firstOffset, lastOffset]), [[0, 2]]);
});

test('after a restart, a truncation that cuts off an abort marker reopens its transaction (also from a version 1 snapshot, through the transaction index)', () => {
  const state = new ProducerStateManager();
  const next = { offset: 0 };
  append(state, next, batch(5, 0, 0, 1), 1); // offset 0, not transactional
  append(state, next, batch(7, 0, 0, 3, true), 3); // offsets 1-3: the aborted transaction's records
  append(state, next, marker(7, 0, ControlRecordType.abort), 1); // offset 4: cut off by the truncation below
  state.forgetStableBelow(4);
  // A version 1 snapshot has no ended transactions: what it wrote before this change.
  const version1 = encodeProducerSnapshot(state.producers());
  version1.writeInt16BE(1, 0);
  const withoutEnded = Buffer.concat([version1.subarray(0, version1.length - 4)]);
  withoutEnded.writeUInt32BE(crc32c(withoutEnded, 6), 2);
  for (const restored of [restarted(state), restarted(state, withoutEnded)]) {
    restored.truncateFrom(4);
    assert.deepEqual(restored.abortedTransactions(0, 10), [], 'the cut-off marker no longer aborts anything');
    assert.equal(restored.lastStableOffset(4), 1, 'the records are not visible: their transaction is open again');
    const replica = { offset: 4 };
    append(restored, replica, batch(5, 0, 1, 1), 1); // offset 4: the new leader's log went on differently
    append(restored, replica, marker(7, 0, ControlRecordType.abort), 1); // offset 5: the coordinator's marker written again
    assert.deepEqual(restored.abortedTransactions(0, 10).map(({ firstOffset, lastOffset }) => [firstOffset, lastOffset]), [[1, 5]], 'read_committed skips offsets 1-3');
  }
});
