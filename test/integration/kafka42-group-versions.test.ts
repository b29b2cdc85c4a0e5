// Group API versions Kafka 4.1/4.2 added, over TCP with the raw client: ConsumerGroupDescribe v1
// (each member's MemberType: 1 for a consumer-protocol member, as Kafka 4.2's ConsumerGroupMember;
// v0 has no such field, so it decodes as the default -1), and OffsetCommit and OffsetFetch v10
// (topics by id: committed and fetched by id, UNKNOWN_TOPIC_ID per partition for an id the
// metadata does not know, a fetch of all offsets answered by id; v9 still by name; a known id
// the principal may not read answers TOPIC_AUTHORIZATION_FAILED under its id, an unknown one
// UNKNOWN_TOPIC_ID whatever the ACLs, as Kafka's KafkaApis).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ZERO_UUID } from '../../src/base/uuid.js';
import { ConsumerGroupDescribeApi, ConsumerGroupHeartbeatApi, OffsetCommitApi, OffsetFetchApi } from '../../src/protocol/messages/index.js';
import type { OffsetFetchResponse } from '../../src/protocol/messages/offset-fetch.js';
import { AclOperation, AclResourceType, AuthorizedBroker } from '../support/authorized-broker.js';
import { type TestBroker, createTopic, metadata, startTestBroker, uniqueTopic } from './helpers.js';

/** A topic id no topic has (topic ids are random; this one is 1). */
const UNKNOWN_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

/** One fetched group's topics as [topic (id from v10, else name), partition, offset, metadata, error] rows. */
function fetchedRows(response: OffsetFetchResponse, version = 10): [string | undefined, number, bigint, string | null, number][] {
  return response.groups![0]!.topics.flatMap((topic) =>
    topic.partitions.map((partition): [string | undefined, number, bigint, string | null, number] => [
      version >= 10 ? topic.topicId : topic.name,
      partition.partitionIndex,
      partition.committedOffset,
      partition.metadata,
      partition.errorCode,
    ]),
  );
}

describe('Kafka 4.2 group API versions', () => {
  let broker: TestBroker;

  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  it('ConsumerGroupDescribe v1 reports a consumer-protocol member as MemberType 1; v0 carries none', async () => {
    const topic = uniqueTopic('describe-v1');
    await createTopic(broker.client, topic, 2);
    const groupId = `group-${randomUUID()}`;
    const memberId = randomUUID();
    const joined = await broker.client.request(ConsumerGroupHeartbeatApi, 1, {
      groupId,
      memberId,
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: [topic],
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: [],
    });
    assert.equal(joined.errorCode, ErrorCode.NONE, joined.errorMessage ?? '');

    const v1 = await broker.client.request(ConsumerGroupDescribeApi, 1, { groupIds: [groupId], includeAuthorizedOperations: false });
    assert.equal(v1.groups[0]!.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      v1.groups[0]!.members.map((member) => [member.memberId, member.memberType]),
      [[memberId, 1]],
    );
    const v0 = await broker.client.request(ConsumerGroupDescribeApi, 0, { groupIds: [groupId], includeAuthorizedOperations: false });
    assert.deepEqual(
      v0.groups[0]!.members.map((member) => [member.memberId, member.memberType]),
      [[memberId, -1]],
    );
  });

  it('OffsetCommit and OffsetFetch v10 name topics by id; unknown ids answer UNKNOWN_TOPIC_ID; v9 still by name', async () => {
    const topic = uniqueTopic('offsets-v10');
    await createTopic(broker.client, topic, 2);
    const topicId = (await metadata(broker.client, [topic])).topics[0]!.topicId!;
    assert.notEqual(topicId, ZERO_UUID);
    const groupId = `group-${randomUUID()}`;
    const commitBase = { groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null };
    const partition = (partitionIndex: number, offset: number) => ({ partitionIndex, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: `m${offset}` });

    const committed = await broker.client.request(OffsetCommitApi, 10, {
      ...commitBase,
      topics: [
        { topicId, partitions: [partition(0, 5), partition(1, 7)] },
        { topicId: UNKNOWN_ID, partitions: [partition(0, 1)] },
        { topicId: ZERO_UUID, partitions: [partition(2, 1)] },
      ],
    });
    assert.deepEqual(committed.topics.map(({ topicId: id, partitions }) => ({ topicId: id, partitions })), [
      { topicId, partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NONE }, { partitionIndex: 1, errorCode: ErrorCode.NONE }] },
      { topicId: UNKNOWN_ID, partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_ID }] },
      { topicId: ZERO_UUID, partitions: [{ partitionIndex: 2, errorCode: ErrorCode.UNKNOWN_TOPIC_ID }] },
    ]);

    const fetchGroup = (topics: { topicId: string; partitionIndexes: number[] }[] | null) =>
      broker.client.request(OffsetFetchApi, 10, { groups: [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable: false });
    const fetched = await fetchGroup([{ topicId: UNKNOWN_ID, partitionIndexes: [3] }, { topicId, partitionIndexes: [0, 1] }]);
    assert.equal(fetched.groups![0]!.errorCode, ErrorCode.NONE);
    assert.deepEqual(fetchedRows(fetched), [
      [topicId, 0, 5n, 'm5', ErrorCode.NONE],
      [topicId, 1, 7n, 'm7', ErrorCode.NONE],
      [UNKNOWN_ID, 3, -1n, '', ErrorCode.UNKNOWN_TOPIC_ID],
    ]);
    assert.deepEqual(fetchedRows(await fetchGroup(null)), [
      [topicId, 0, 5n, 'm5', ErrorCode.NONE],
      [topicId, 1, 7n, 'm7', ErrorCode.NONE],
    ]);

    // v9 commits and fetches by name, and sees what v10 committed.
    const v9Commit = await broker.client.request(OffsetCommitApi, 9, { ...commitBase, topics: [{ name: topic, partitions: [partition(1, 9)] }] });
    assert.deepEqual(v9Commit.topics.map(({ name, partitions }) => ({ name, partitions })), [{ name: topic, partitions: [{ partitionIndex: 1, errorCode: ErrorCode.NONE }] }]);
    const v9Fetch = await broker.client.request(OffsetFetchApi, 9, { groups: [{ groupId, memberId: null, memberEpoch: -1, topics: [{ name: topic, partitionIndexes: [0, 1] }] }], requireStable: false });
    assert.deepEqual(fetchedRows(v9Fetch, 9), [
      [topic, 0, 5n, 'm5', ErrorCode.NONE],
      [topic, 1, 9n, 'm9', ErrorCode.NONE],
    ]);
  });
});

describe('Kafka 4.2 OffsetCommit and OffsetFetch v10 under ACLs', () => {
  let authz: AuthorizedBroker;

  before(async () => {
    authz = await AuthorizedBroker.start();
  });
  after(async () => {
    await authz.close();
  });

  it('a known id without READ on its topic answers TOPIC_AUTHORIZATION_FAILED by id; an unknown id UNKNOWN_TOPIC_ID', async () => {
    const admin = await authz.raw('admin');
    const alice = await authz.raw('alice');
    try {
      const topic = uniqueTopic('offsets-v10-acl');
      await createTopic(admin, topic, 1);
      const topicId = (await metadata(admin, [topic])).topics[0]!.topicId!;
      const groupId = `group-${randomUUID()}`;
      const commit = { groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null };
      const offsetOf = (offset: number) => [{ partitionIndex: 0, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null }];
      const byAdmin = await admin.request(OffsetCommitApi, 10, { ...commit, topics: [{ topicId, partitions: offsetOf(4) }] });
      assert.equal(byAdmin.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
      await authz.grant({ principal: 'User:alice', resourceType: AclResourceType.GROUP, resourceName: groupId, operation: AclOperation.READ });

      const byAlice = await alice.request(OffsetCommitApi, 10, { ...commit, topics: [{ topicId, partitions: offsetOf(9) }, { topicId: UNKNOWN_ID, partitions: offsetOf(9) }] });
      assert.deepEqual(
        byAlice.topics.map(({ topicId: id, partitions }) => [id, partitions.map(({ errorCode }) => errorCode)]),
        [
          [topicId, [ErrorCode.TOPIC_AUTHORIZATION_FAILED]],
          [UNKNOWN_ID, [ErrorCode.UNKNOWN_TOPIC_ID]],
        ],
      );
      const fetchAs = (topics: { topicId: string; partitionIndexes: number[] }[] | null) =>
        alice.request(OffsetFetchApi, 10, { groups: [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable: false });
      assert.deepEqual(fetchedRows(await fetchAs([{ topicId, partitionIndexes: [0] }, { topicId: UNKNOWN_ID, partitionIndexes: [0] }])), [
        [topicId, 0, -1n, '', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
        [UNKNOWN_ID, 0, -1n, '', ErrorCode.UNKNOWN_TOPIC_ID],
      ]);
      // Every committed offset: the topic alice may not describe is left out.
      assert.deepEqual(fetchedRows(await fetchAs(null)), []);
    } finally {
      await alice.close();
      await admin.close();
    }
  });
});
