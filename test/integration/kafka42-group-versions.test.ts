// Group API versions Kafka 4.1/4.2 added, over TCP with the raw client: ConsumerGroupDescribe v1
// (each member's MemberType: 1 for a consumer-protocol member, as Kafka 4.2's ConsumerGroupMember;
// v0 has no such field, so it decodes as the default -1).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ConsumerGroupDescribeApi, ConsumerGroupHeartbeatApi } from '../../src/protocol/messages/index.js';
import { type TestBroker, createTopic, startTestBroker, uniqueTopic } from './helpers.js';

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
});
