// Share group records in `__consumer_offsets`: Kafka 4.2's framing and field layout (checked byte
// by byte for the group epoch record, whose value gained MetadataHash in 4.2), round trips of every
// type, tombstones, and the replay that rebuilds a group from the last value per key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toTopicPartitions } from './consumer-group.js';
import { ShareGroupMember, ShareGroupModel } from './share-group.js';
import {
  ShareGroupReplay,
  decodeShareGroupRecord,
  shareCurrentAssignmentRecord,
  shareGroupEpochRecord,
  shareGroupTombstones,
  shareMemberMetadataRecord,
  shareMemberTombstones,
  shareStatePartitionsRecord,
  shareTargetAssignmentEpochRecord,
  shareTargetAssignmentMemberRecord,
} from './share-group-records.js';

const ORDERS = 'AAAAAAAAAAAAAAAAAAAAAg';

function replayOf(records: { key: Buffer; value: Buffer | null }[]): ShareGroupReplay {
  const replay = new ShareGroupReplay();
  for (const { key, value } of records) replay.apply(decodeShareGroupRecord(key, value)!);
  return replay;
}

describe('share group records', () => {
  test('type 11 (group epoch): key = int16 11 + GroupId; value = int16 0, Epoch int32, MetadataHash int64, no tags', () => {
    const { key, value } = shareGroupEpochRecord('g', { epoch: 7, metadataHash: -2n });
    assert.deepEqual(key, Buffer.from([0, 11, 0, 1, 0x67]));
    assert.deepEqual(value, Buffer.from([0, 0, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0]));
    assert.deepEqual(decodeShareGroupRecord(key, value), { type: 'share-epoch', group: 'g', epoch: { epoch: 7, metadataHash: -2n } });
  });

  test('type 15 (state partitions): InitializingTopics comes first, then InitializedTopics and DeletingTopics', () => {
    const model = new ShareGroupModel('g');
    model.initializing.set(ORDERS, { topicName: 'orders', partitions: new Set([1]) });
    model.initialized.set(ORDERS, { topicName: 'orders', partitions: new Set([0]) });
    const { key, value } = shareStatePartitionsRecord('g', model);
    assert.deepEqual(key.subarray(0, 2), Buffer.from([0, 15]));
    // Value version 0, then a compact array of one InitializingTopics entry (length + 1 = 2).
    assert.deepEqual(value!.subarray(0, 3), Buffer.from([0, 0, 2]));
    assert.deepEqual(decodeShareGroupRecord(key, value), {
      type: 'share-state-partitions',
      group: 'g',
      metadata: {
        initializingTopics: [{ topicId: ORDERS, topicName: 'orders', partitions: [1] }],
        initializedTopics: [{ topicId: ORDERS, topicName: 'orders', partitions: [0] }],
        deletingTopics: [],
      },
    });
  });

  test('every type names its key type; members, targets and current assignments round-trip', () => {
    const member = new ShareGroupMember('m1');
    member.rackId = 'rack';
    member.clientId = 'client';
    member.clientHost = '/1.2.3.4';
    member.subscribedTopicNames = ['orders'];
    member.memberEpoch = 3;
    member.previousMemberEpoch = 2;
    member.assigned = toTopicPartitions([{ topicId: ORDERS, partitions: [1, 0] }]);
    const records = [
      shareMemberMetadataRecord('g', 'm1', member),
      shareTargetAssignmentEpochRecord('g', 3),
      shareTargetAssignmentMemberRecord('g', 'm1', member.assigned),
      shareCurrentAssignmentRecord('g', 'm1', member),
    ];
    assert.deepEqual(
      records.map(({ key }) => key.readInt16BE(0)),
      [10, 12, 13, 14],
    );
    assert.deepEqual(decodeShareGroupRecord(records[0]!.key, records[0]!.value), {
      type: 'share-member',
      group: 'g',
      memberId: 'm1',
      metadata: { rackId: 'rack', clientId: 'client', clientHost: '/1.2.3.4', subscribedTopicNames: ['orders'] },
    });
    assert.deepEqual(decodeShareGroupRecord(records[3]!.key, records[3]!.value), {
      type: 'share-current',
      group: 'g',
      memberId: 'm1',
      assignment: { memberEpoch: 3, previousMemberEpoch: 2, state: 2, assignedPartitions: [{ topicId: ORDERS, partitions: [0, 1] }] },
    });
  });

  test('records of other types are not share records', () => {
    const offsetCommitKey = Buffer.from([0, 1, 0, 1, 0x67]);
    assert.equal(decodeShareGroupRecord(offsetCommitKey, null), undefined);
    const consumerEpochKey = Buffer.from([0, 3, 0, 1, 0x67]);
    assert.equal(decodeShareGroupRecord(consumerEpochKey, null), undefined);
  });

  test('replay keeps the last value per key and forgets what tombstones deleted', () => {
    const model = new ShareGroupModel('g');
    model.initialized.set(ORDERS, { topicName: 'orders', partitions: new Set([0, 1]) });
    model.initializing.set(ORDERS, { topicName: 'orders', partitions: new Set([2]) });
    const member = (id: string) => {
      const each = new ShareGroupMember(id);
      each.subscribedTopicNames = ['orders'];
      each.memberEpoch = 4;
      each.assigned = toTopicPartitions([{ topicId: ORDERS, partitions: [0] }]);
      return each;
    };
    const replay = replayOf([
      shareGroupEpochRecord('g', { epoch: 3, metadataHash: 5n }),
      shareMemberMetadataRecord('g', 'm1', member('m1')),
      shareMemberMetadataRecord('g', 'm2', member('m2')),
      shareCurrentAssignmentRecord('g', 'm1', member('m1')),
      shareTargetAssignmentMemberRecord('g', 'm1', member('m1').assigned),
      shareStatePartitionsRecord('g', model),
      shareGroupEpochRecord('g', { epoch: 4, metadataHash: 6n }),
      shareTargetAssignmentEpochRecord('g', 4),
      ...shareMemberTombstones('g', 'm2'),
    ]);
    const restored = replay.restore('g')!;
    assert.equal(restored.groupEpoch, 4);
    assert.equal(restored.metadataHash, 6n);
    assert.equal(restored.assignmentEpoch, 4);
    assert.deepEqual([...restored.members.keys()], ['m1']);
    assert.equal(restored.members.get('m1')!.memberEpoch, 4);
    assert.deepEqual([...restored.initialized.get(ORDERS)!.partitions], [0, 1]);
    assert.deepEqual([...restored.initializing.get(ORDERS)!.partitions], [2]);
    assert.equal(restored.initializingSinceMs.get(`${ORDERS}:2`), -Infinity, 'asked again at the next heartbeat');
    const deleted = replayOf([shareGroupEpochRecord('g', { epoch: 3, metadataHash: 5n }), ...shareGroupTombstones('g')]);
    assert.equal(deleted.restore('g'), undefined);
  });
});
