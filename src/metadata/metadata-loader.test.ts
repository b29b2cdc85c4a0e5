import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRecordBatchSync } from '../protocol/records/record-batch.js';
import { MetadataImage } from './metadata-image.js';
import { MetadataLoader } from './metadata-loader.js';
import type { AppendedRecord } from './metadata-record.js';
import { serializeMetadataRecord } from './metadata-record-serde.js';

const TOPIC_ID = 'q7vKjbdwQvWsVqzvI3oZ3A';

function batch(baseOffset: number, records: AppendedRecord[]): Buffer {
  return buildRecordBatchSync(
    records.map((record) => ({ value: serializeMetadataRecord(record), timestamp: 0 })),
    { baseOffset },
  );
}

test('lastChangeOffset: the offset of the last record that changed the image, NoOpRecords and control batches aside; a snapshot counts at its end', () => {
  const loader = new MetadataLoader(new MetadataImage());
  assert.equal(loader.lastChangeOffset, -1);
  const log = Buffer.concat([
    // 0: a new leader's LeaderChange (a control batch: its content is not a metadata record).
    buildRecordBatchSync([{ key: Buffer.from([0, 0, 0, 2]), value: Buffer.from([0, 0]), timestamp: 0 }], { baseOffset: 0, control: true }),
    // 1-2: a topic and its partition, in one batch.
    batch(1, [
      { type: 'Topic', name: 'orders', topicId: TOPIC_ID },
      { type: 'Partition', topicId: TOPIC_ID, partitionId: 0, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 },
    ]),
    // 3, 4: idle NoOpRecords.
    batch(3, [{ type: 'NoOp' }]),
    batch(4, [{ type: 'NoOp' }]),
  ]);
  const loaded = loader.apply(log, 5);
  assert.equal(loaded.nextOffset, 5);
  assert.equal(loader.lastChangeOffset, 2, 'the partition record; not the NoOps after it');
  // A change after them moves it; a batch at or above the high watermark is not applied.
  loader.apply(Buffer.concat([batch(5, [{ type: 'Config', resourceType: 2, resourceName: 'orders', name: 'retention.ms', value: '1000' }]), batch(6, [{ type: 'RemoveTopic', topicId: TOPIC_ID }])]), 6);
  assert.equal(loader.nextOffset, 6);
  assert.equal(loader.lastChangeOffset, 5);
  // A snapshot ending at 40 holds changes up to 39, whatever its records.
  loader.loadSnapshot([serializeMetadataRecord({ type: 'Topic', name: 'orders', topicId: TOPIC_ID })], 40);
  assert.equal(loader.lastChangeOffset, 39);
  assert.equal(loader.nextOffset, 40);
});

test('registrationChangeOffset: the end of the batch of each broker\'s last registration, fencing, unfencing or directory change; after a snapshot, at most its end', () => {
  const loader = new MetadataLoader(new MetadataImage());
  assert.equal(loader.registrationChangeOffset(1), -1);
  const endpoints = [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 }];
  loader.apply(
    Buffer.concat([
      batch(0, [
        { type: 'RegisterBroker', brokerId: 1, incarnationId: TOPIC_ID, brokerEpoch: 1, endpoints, rack: null, fenced: true },
        { type: 'RegisterBroker', brokerId: 2, incarnationId: 'AAAAAAAAAAAAAAAAAAAAAg', brokerEpoch: 2, endpoints, rack: null, fenced: true },
      ]),
      batch(2, [{ type: 'UnfenceBroker', brokerId: 1, brokerEpoch: 1 }]),
      batch(3, [{ type: 'Topic', name: 'orders', topicId: TOPIC_ID }]),
      batch(4, [
        { type: 'FenceBroker', brokerId: 2, brokerEpoch: 2 },
        { type: 'Partition', topicId: TOPIC_ID, partitionId: 0, replicas: [1, 2], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 },
      ]),
      batch(6, [{ type: 'NoOp' }]),
    ]),
    7,
  );
  assert.equal(loader.registrationChangeOffset(1), 2, 'its unfencing; not the topic after it');
  assert.equal(loader.registrationChangeOffset(2), 5, 'its fencing\'s batch, with the leadership moves in it');
  assert.equal(loader.registrationChangeOffset(3), -1, 'never registered');
  loader.apply(batch(7, [{ type: 'BrokerRegistrationChange', brokerId: 1, brokerEpoch: 1, logDirs: [] }]), 8);
  assert.equal(loader.registrationChangeOffset(1), 7);
  // A snapshot does not say where in it a broker's registration last changed: its end stands for it.
  loader.loadSnapshot([serializeMetadataRecord({ type: 'Topic', name: 'orders', topicId: TOPIC_ID })], 40);
  assert.equal(loader.registrationChangeOffset(1), 39);
  loader.apply(batch(40, [{ type: 'FenceBroker', brokerId: 1, brokerEpoch: 1 }]), 41);
  assert.equal(loader.registrationChangeOffset(1), 40);
  assert.equal(loader.registrationChangeOffset(2), 39);
});
