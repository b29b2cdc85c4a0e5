import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isControlBatch, isTransactionalBatch, readBaseSequence, readProducerEpoch, readProducerId } from './batch-header.js';
import {
  ControlRecordType,
  buildControlBatch,
  buildControlBatchSync,
  decodeControlRecordType,
  decodeEndTransactionMarker,
  encodeControlRecordKey,
  encodeEndTransactionMarkerValue,
} from './control-record.js';
import { RecordDecodeError } from './record.js';
import { decodeRecordBatch } from './record-batch.js';

describe('end transaction markers', () => {
  it('encodes key and value exactly as Kafka does', () => {
    assert.deepEqual(encodeControlRecordKey(ControlRecordType.commit), Buffer.from([0, 0, 0, 1]));
    assert.deepEqual(encodeControlRecordKey(ControlRecordType.abort), Buffer.from([0, 0, 0, 0]));
    assert.deepEqual(encodeEndTransactionMarkerValue(0x01020304), Buffer.from([0, 0, 1, 2, 3, 4]));
  });

  it('decodes markers and leaves other control types alone', () => {
    const key = encodeControlRecordKey(ControlRecordType.abort);
    assert.deepEqual(decodeEndTransactionMarker({ key, value: encodeEndTransactionMarkerValue(9) }), { type: ControlRecordType.abort, coordinatorEpoch: 9 });
    assert.equal(decodeEndTransactionMarker({ key: Buffer.from([0, 0, 0, 5]), value: null }), null);
    // A newer key version still reads by its shared prefix.
    assert.equal(decodeControlRecordType(Buffer.from([0, 1, 0, 1, 0xff])), ControlRecordType.commit);
  });

  it('rejects short or missing keys and values', () => {
    assert.throws(() => decodeControlRecordType(null), RecordDecodeError);
    assert.throws(() => decodeControlRecordType(Buffer.from([0, 0, 1])), RecordDecodeError);
    assert.throws(() => decodeEndTransactionMarker({ key: encodeControlRecordKey(1), value: Buffer.from([0, 0, 0]) }), RecordDecodeError);
    assert.throws(() => decodeEndTransactionMarker({ key: encodeControlRecordKey(1), value: null }), RecordDecodeError);
  });
});

describe('control batches', () => {
  for (const type of [ControlRecordType.commit, ControlRecordType.abort]) {
    it(`carry one ${type === 1 ? 'COMMIT' : 'ABORT'} marker with the transaction's producer`, async () => {
      const options = { type, producerId: 4000, producerEpoch: 3, coordinatorEpoch: 17, timestamp: 1_700_000_000_000, baseOffset: 55, partitionLeaderEpoch: 2 };
      const batch = await buildControlBatch(options);
      assert.deepEqual(buildControlBatchSync(options), batch);
      assert.ok(isControlBatch(batch));
      assert.ok(isTransactionalBatch(batch));
      assert.equal(readProducerId(batch), 4000);
      assert.equal(readProducerEpoch(batch), 3);
      assert.equal(readBaseSequence(batch), -1);
      const decoded = await decodeRecordBatch(batch);
      assert.equal(decoded.baseOffset, 55);
      assert.equal(decoded.partitionLeaderEpoch, 2);
      assert.equal(decoded.records.length, 1);
      assert.deepEqual(decodeEndTransactionMarker(decoded.records[0]!), { type, coordinatorEpoch: 17 });
      assert.equal(decoded.records[0]!.timestamp, 1_700_000_000_000);
    });
  }
});
