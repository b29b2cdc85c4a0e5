// Share groups (KIP-932) codecs as Kafka 4.2.0 has them: each new or changed version round trips
// with hand-written values (absent fields decode to their defaults), and ShareFetch v1, the version
// librdkafka 2.15 sends, is pinned byte for byte so the field order cannot drift.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import { decodeAlterShareGroupOffsetsRequest, decodeAlterShareGroupOffsetsResponse, encodeAlterShareGroupOffsetsRequest, encodeAlterShareGroupOffsetsResponse } from './alter-share-group-offsets.js';
import { decodeDeleteShareGroupOffsetsRequest, decodeDeleteShareGroupOffsetsResponse, encodeDeleteShareGroupOffsetsRequest, encodeDeleteShareGroupOffsetsResponse } from './delete-share-group-offsets.js';
import {
  decodeDescribeShareGroupOffsetsRequest,
  decodeDescribeShareGroupOffsetsResponse,
  encodeDescribeShareGroupOffsetsRequest,
  encodeDescribeShareGroupOffsetsResponse,
  type DescribeShareGroupOffsetsResponse,
} from './describe-share-group-offsets.js';
import {
  decodeReadShareGroupStateSummaryRequest,
  decodeReadShareGroupStateSummaryResponse,
  encodeReadShareGroupStateSummaryRequest,
  encodeReadShareGroupStateSummaryResponse,
  type ReadShareGroupStateSummaryResponse,
} from './read-share-group-state-summary.js';
import { decodeShareGroupMetadataValue, encodeShareGroupMetadataValue } from './records/share-group-metadata-value.js';
import { decodeShareGroupStatePartitionMetadataValue, encodeShareGroupStatePartitionMetadataValue } from './records/share-group-state-partition-metadata-value.js';
import { decodeShareSnapshotKey, encodeShareSnapshotKey } from './records/share-snapshot-key.js';
import { decodeShareSnapshotValue, encodeShareSnapshotValue, type ShareSnapshotValue } from './records/share-snapshot-value.js';
import { decodeShareUpdateKey, encodeShareUpdateKey } from './records/share-update-key.js';
import { decodeShareUpdateValue, encodeShareUpdateValue, type ShareUpdateValue } from './records/share-update-value.js';
import {
  decodeShareAcknowledgeRequest,
  decodeShareAcknowledgeResponse,
  encodeShareAcknowledgeRequest,
  encodeShareAcknowledgeResponse,
  type ShareAcknowledgeRequest,
  type ShareAcknowledgeResponse,
} from './share-acknowledge.js';
import { decodeShareFetchRequest, decodeShareFetchResponse, encodeShareFetchRequest, encodeShareFetchResponse, type ShareFetchRequest, type ShareFetchResponse } from './share-fetch.js';
import { decodeShareGroupDescribeRequest, decodeShareGroupDescribeResponse, encodeShareGroupDescribeRequest, encodeShareGroupDescribeResponse } from './share-group-describe.js';
import { decodeShareGroupHeartbeatRequest, decodeShareGroupHeartbeatResponse, encodeShareGroupHeartbeatRequest, encodeShareGroupHeartbeatResponse } from './share-group-heartbeat.js';
import { decodeWriteShareGroupStateRequest, encodeWriteShareGroupStateRequest, type WriteShareGroupStateRequest } from './write-share-group-state.js';

type Encode<T> = (writer: Writer, version: number, value: T) => void;
type Decode<T> = (reader: Reader, version: number) => T;

function encode<T>(encoder: Encode<T>, version: number, value: T): Buffer {
  const writer = new Writer(64);
  encoder(writer, version, value);
  return writer.toBuffer();
}

/** Encodes, decodes every byte back to `expected`, and re-encodes the decoded value to the same bytes. */
function roundTrip<T>(encoder: Encode<T>, decoder: Decode<T>, version: number, value: T, expected: T = value): Buffer {
  const bytes = encode(encoder, version, value);
  const reader = new Reader(bytes);
  const decoded = decoder(reader, version);
  assert.equal(reader.remaining, 0, 'decoder consumed every byte');
  assert.deepEqual(decoded, expected);
  assert.deepEqual(encode(encoder, version, decoded), bytes, 're-encodes to the same bytes');
  return bytes;
}

// Kafka's base64url text form of the UUID whose 16 bytes are 00 11 22 ... ff.
const TOPIC_ID = Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64url');
const LEADER = { leaderId: 1, leaderEpoch: 4 };
const NODE = { nodeId: 1, host: 'localhost', port: 9092, rack: null };

describe('ShareGroupHeartbeat (76) v0-v1', () => {
  it('round trips a join and an assignment in both versions (v1 has v0 layout)', () => {
    const request = { groupId: 'sg', memberId: 'client-made-id', memberEpoch: 0, rackId: null, subscribedTopicNames: ['t'] };
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      memberId: 'client-made-id',
      memberEpoch: 1,
      heartbeatIntervalMs: 5000,
      assignment: { topicPartitions: [{ topicId: TOPIC_ID, partitions: [0, 1] }] },
    };
    for (const version of [0, 1]) {
      const v0 = encode(encodeShareGroupHeartbeatRequest, 0, request);
      assert.deepEqual(roundTrip(encodeShareGroupHeartbeatRequest, decodeShareGroupHeartbeatRequest, version, request), v0);
      roundTrip(encodeShareGroupHeartbeatResponse, decodeShareGroupHeartbeatResponse, version, response);
    }
  });
});

describe('ShareGroupDescribe (77) v0-v1', () => {
  it('round trips a described group in both versions', () => {
    const response = {
      throttleTimeMs: 0,
      groups: [
        {
          errorCode: 0,
          errorMessage: null,
          groupId: 'sg',
          groupState: 'Stable',
          groupEpoch: 3,
          assignmentEpoch: 3,
          assignorName: 'simple',
          members: [
            {
              memberId: 'm1',
              rackId: null,
              memberEpoch: 3,
              clientId: 'c',
              clientHost: '/127.0.0.1',
              subscribedTopicNames: ['t'],
              assignment: { topicPartitions: [{ topicId: TOPIC_ID, topicName: 't', partitions: [0] }] },
            },
          ],
          authorizedOperations: -2147483648,
        },
      ],
    };
    for (const version of [0, 1]) {
      roundTrip(encodeShareGroupDescribeRequest, decodeShareGroupDescribeRequest, version, { groupIds: ['sg'], includeAuthorizedOperations: true });
      roundTrip(encodeShareGroupDescribeResponse, decodeShareGroupDescribeResponse, version, response);
    }
  });
});

function fetchRequest(version: number): ShareFetchRequest {
  return {
    groupId: 'g',
    memberId: 'm',
    shareSessionEpoch: 0,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 1048576,
    maxRecords: version >= 1 ? 500 : 0,
    batchSize: version >= 1 ? 100 : 0,
    shareAcquireMode: version >= 2 ? 1 : 0,
    isRenewAck: version >= 2,
    topics: [
      {
        topicId: TOPIC_ID,
        partitions: [
          {
            partitionIndex: 3,
            partitionMaxBytes: version === 0 ? 65536 : 0,
            acknowledgementBatches: [{ firstOffset: 10n, lastOffset: 12n, acknowledgeTypes: [1, 1, 3] }],
          },
        ],
      },
    ],
    forgottenTopicsData: [],
  };
}

function fetchResponse(version: number): ShareFetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    acquisitionLockTimeoutMs: version >= 1 ? 30000 : 0,
    responses: [
      {
        topicId: TOPIC_ID,
        partitions: [
          {
            partitionIndex: 3,
            errorCode: 0,
            errorMessage: null,
            acknowledgeErrorCode: 0,
            acknowledgeErrorMessage: null,
            currentLeader: LEADER,
            records: Buffer.from('0102030405', 'hex'),
            acquiredRecords: [{ firstOffset: 13n, lastOffset: 20n, deliveryCount: 1 }],
          },
        ],
      },
    ],
    nodeEndpoints: [NODE],
  };
}

describe('ShareFetch (78) v0-v2', () => {
  it('round trips each version, fields of other versions decoding to their defaults', () => {
    for (const version of [0, 1, 2]) {
      roundTrip(encodeShareFetchRequest, decodeShareFetchRequest, version, fetchRequest(version));
      roundTrip(encodeShareFetchResponse, decodeShareFetchResponse, version, fetchResponse(version));
    }
  });

  it('v1 leaves out what only v0 and v2 carry', () => {
    const v1Only = { ...fetchRequest(1), topics: fetchRequest(0).topics, shareAcquireMode: 1, isRenewAck: true };
    roundTrip(encodeShareFetchRequest, decodeShareFetchRequest, 1, v1Only, fetchRequest(1));
    roundTrip(encodeShareFetchResponse, decodeShareFetchResponse, 0, fetchResponse(1), fetchResponse(0));
  });

  it('lays out a v1 request as Kafka 4.2 does (hand-computed bytes)', () => {
    const expected = Buffer.from(
      [
        '02 67', // GroupId "g" (compact string: length + 1)
        '02 6d', // MemberId "m"
        '00000000', // ShareSessionEpoch 0
        '000001f4', // MaxWaitMs 500
        '00000001', // MinBytes 1
        '00100000', // MaxBytes 1 MiB
        '000001f4', // MaxRecords 500 (v1+)
        '00000064', // BatchSize 100 (v1+)
        '02', // Topics: one (compact array: length + 1)
        '00112233445566778899aabbccddeeff', // TopicId
        '02', // Partitions: one
        '00000003', // PartitionIndex 3, and no PartitionMaxBytes after v0
        '02', // AcknowledgementBatches: one
        '000000000000000a', // FirstOffset 10
        '000000000000000c', // LastOffset 12 (inclusive)
        '04 01 01 03', // AcknowledgeTypes [Accept, Accept, Reject]
        '00', // batch tagged fields
        '00', // partition tagged fields
        '00', // topic tagged fields
        '01', // ForgottenTopicsData: empty
        '00', // request tagged fields
      ]
        .join('')
        .replaceAll(' ', ''),
      'hex',
    );
    assert.deepEqual(encode(encodeShareFetchRequest, 1, fetchRequest(1)), expected);
    const reader = new Reader(expected);
    assert.deepEqual(decodeShareFetchRequest(reader, 1), fetchRequest(1));
    assert.equal(reader.remaining, 0);
  });
});

function acknowledgeRequest(version: number): ShareAcknowledgeRequest {
  return {
    groupId: 'g',
    memberId: 'm',
    shareSessionEpoch: 2,
    isRenewAck: version >= 2,
    topics: [{ topicId: TOPIC_ID, partitions: [{ partitionIndex: 0, acknowledgementBatches: [{ firstOffset: 5n, lastOffset: 5n, acknowledgeTypes: [version >= 2 ? 4 : 2] }] }] }],
  };
}

function acknowledgeResponse(version: number): ShareAcknowledgeResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    acquisitionLockTimeoutMs: version >= 2 ? 30000 : 0,
    responses: [{ topicId: TOPIC_ID, partitions: [{ partitionIndex: 0, errorCode: 121, errorMessage: 'bad state', currentLeader: LEADER }] }],
    nodeEndpoints: [NODE],
  };
}

describe('ShareAcknowledge (79) v0-v2', () => {
  it('round trips each version; IsRenewAck and AcquisitionLockTimeoutMs only from v2', () => {
    for (const version of [0, 1, 2]) {
      roundTrip(encodeShareAcknowledgeRequest, decodeShareAcknowledgeRequest, version, acknowledgeRequest(version));
      roundTrip(encodeShareAcknowledgeResponse, decodeShareAcknowledgeResponse, version, acknowledgeResponse(version));
    }
    const v1 = encode(encodeShareAcknowledgeRequest, 1, acknowledgeRequest(1));
    assert.equal(encode(encodeShareAcknowledgeRequest, 2, acknowledgeRequest(1)).length, v1.length + 1, 'v2 adds one bool');
  });
});

describe('share-state RPCs (85, 87) and share-group offsets (90-92)', () => {
  it('WriteShareGroupState v1 carries DeliveryCompleteCount, v0 decodes it as -1', () => {
    const request = (count: number): WriteShareGroupStateRequest => ({
      groupId: 'g',
      topics: [
        {
          topicId: TOPIC_ID,
          partitions: [
            { partition: 0, stateEpoch: 1, leaderEpoch: 2, startOffset: 10n, deliveryCompleteCount: count, stateBatches: [{ firstOffset: 10n, lastOffset: 11n, deliveryState: 2, deliveryCount: 1 }] },
          ],
        },
      ],
    });
    roundTrip(encodeWriteShareGroupStateRequest, decodeWriteShareGroupStateRequest, 1, request(7));
    roundTrip(encodeWriteShareGroupStateRequest, decodeWriteShareGroupStateRequest, 0, request(7), request(-1));
  });

  it('ReadShareGroupStateSummary has LeaderEpoch from v0 and DeliveryCompleteCount from v1', () => {
    const response = (count: number): ReadShareGroupStateSummaryResponse => ({
      results: [{ topicId: TOPIC_ID, partitions: [{ partition: 0, errorCode: 0, errorMessage: null, stateEpoch: 1, leaderEpoch: 6, startOffset: 10n, deliveryCompleteCount: count }] }],
    });
    for (const version of [0, 1]) {
      roundTrip(encodeReadShareGroupStateSummaryRequest, decodeReadShareGroupStateSummaryRequest, version, { groupId: 'g', topics: [{ topicId: TOPIC_ID, partitions: [{ partition: 0, leaderEpoch: 6 }] }] });
    }
    roundTrip(encodeReadShareGroupStateSummaryResponse, decodeReadShareGroupStateSummaryResponse, 1, response(3));
    const v0 = roundTrip(encodeReadShareGroupStateSummaryResponse, decodeReadShareGroupStateSummaryResponse, 0, response(3), response(-1));
    // Results(1) TopicId(16) Partitions(1) Partition(4) ErrorCode(2) ErrorMessage(1) StateEpoch(4) LeaderEpoch(4) StartOffset(8) tags(1+1+1).
    assert.equal(v0.length, 1 + 16 + 1 + 4 + 2 + 1 + 4 + 4 + 8 + 3);
  });

  it('DescribeShareGroupOffsets v0-v1 (Lag from v1, null Topics for all)', () => {
    const response = (lag: bigint): DescribeShareGroupOffsetsResponse => ({
      throttleTimeMs: 0,
      groups: [
        {
          groupId: 'g',
          topics: [{ topicName: 't', topicId: TOPIC_ID, partitions: [{ partitionIndex: 0, startOffset: 10n, leaderEpoch: 1, lag, errorCode: 0, errorMessage: null }] }],
          errorCode: 0,
          errorMessage: null,
        },
      ],
    });
    for (const version of [0, 1]) {
      roundTrip(encodeDescribeShareGroupOffsetsRequest, decodeDescribeShareGroupOffsetsRequest, version, { groups: [{ groupId: 'g', topics: null }, { groupId: 'h', topics: [{ topicName: 't', partitions: [0, 2] }] }] });
    }
    roundTrip(encodeDescribeShareGroupOffsetsResponse, decodeDescribeShareGroupOffsetsResponse, 1, response(42n));
    roundTrip(encodeDescribeShareGroupOffsetsResponse, decodeDescribeShareGroupOffsetsResponse, 0, response(42n), response(-1n));
  });

  it('AlterShareGroupOffsets and DeleteShareGroupOffsets v0', () => {
    roundTrip(encodeAlterShareGroupOffsetsRequest, decodeAlterShareGroupOffsetsRequest, 0, { groupId: 'g', topics: [{ topicName: 't', partitions: [{ partitionIndex: 0, startOffset: 5n }] }] });
    roundTrip(encodeAlterShareGroupOffsetsResponse, decodeAlterShareGroupOffsetsResponse, 0, {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      responses: [{ topicName: 't', topicId: TOPIC_ID, partitions: [{ partitionIndex: 0, errorCode: 0, errorMessage: null }] }],
    });
    roundTrip(encodeDeleteShareGroupOffsetsRequest, decodeDeleteShareGroupOffsetsRequest, 0, { groupId: 'g', topics: [{ topicName: 't' }] });
    roundTrip(encodeDeleteShareGroupOffsetsResponse, decodeDeleteShareGroupOffsetsResponse, 0, {
      throttleTimeMs: 0,
      errorCode: 69,
      errorMessage: 'no such group',
      responses: [{ topicName: 't', topicId: TOPIC_ID, errorCode: 0, errorMessage: null }],
    });
  });
});

describe('stored share-group records', () => {
  it('__consumer_offsets type 11 value v0 has MetadataHash after Epoch', () => {
    const bytes = roundTrip(encodeShareGroupMetadataValue, decodeShareGroupMetadataValue, 0, { epoch: 5, metadataHash: 0x0102030405060708n });
    assert.deepEqual(bytes, Buffer.from('00000005' + '0102030405060708' + '00', 'hex'));
  });

  it('__consumer_offsets type 15 value v0 has InitializingTopics first', () => {
    const value = {
      initializingTopics: [{ topicId: TOPIC_ID, topicName: 'a', partitions: [0] }],
      initializedTopics: [],
      deletingTopics: [{ topicId: TOPIC_ID, topicName: 'b' }],
    };
    const bytes = roundTrip(encodeShareGroupStatePartitionMetadataValue, decodeShareGroupStatePartitionMetadataValue, 0, value);
    assert.equal(bytes[0], 2, 'InitializingTopics: one entry');
  });

  it('__share_group_state keys are record types 0 (snapshot) and 1 (update)', () => {
    const key = { groupId: 'g', topicId: TOPIC_ID, partition: 3 };
    const snapshot = roundTrip(encodeShareSnapshotKey, decodeShareSnapshotKey, 0, key);
    assert.deepEqual(roundTrip(encodeShareUpdateKey, decodeShareUpdateKey, 1, key), snapshot, 'the same fields, non-flexible');
    assert.deepEqual(snapshot, Buffer.concat([Buffer.from('0001' + '67', 'hex'), Buffer.from('00112233445566778899aabbccddeeff', 'hex'), Buffer.from('00000003', 'hex')]));
  });

  it('__share_group_state values round trip; DeliveryCompleteCount is tag 0, absent when -1', () => {
    const batch = { firstOffset: 10n, lastOffset: 19n, deliveryState: 4, deliveryCount: 5 };
    const snapshot = (count: number): ShareSnapshotValue => ({
      snapshotEpoch: 1,
      stateEpoch: 0,
      leaderEpoch: 2,
      startOffset: 10n,
      deliveryCompleteCount: count,
      createTimestamp: 1700000000000n,
      writeTimestamp: 1700000000001n,
      stateBatches: [batch],
    });
    const withCount = roundTrip(encodeShareSnapshotValue, decodeShareSnapshotValue, 0, snapshot(4));
    const without = roundTrip(encodeShareSnapshotValue, decodeShareSnapshotValue, 0, snapshot(-1));
    // One tagged field: count, then tag 0, size 4, int32 — 6 more bytes than an empty tag buffer.
    assert.equal(withCount.length, without.length + 6);
    const update = (count: number): ShareUpdateValue => ({ snapshotEpoch: 1, leaderEpoch: 2, startOffset: -1n, deliveryCompleteCount: count, stateBatches: [batch] });
    roundTrip(encodeShareUpdateValue, decodeShareUpdateValue, 0, update(9));
    roundTrip(encodeShareUpdateValue, decodeShareUpdateValue, 0, update(-1));
  });
});
