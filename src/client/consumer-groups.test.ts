// The shared group mapping without a broker: a ConsumerGroupDescribe group's view (a member that is
// still reconciling keeps its assignment apart from its target), a classic group's consumer-protocol
// assignments (decoded for protocol type "consumer" only), and describeGroupsAt's requests: one
// DescribeGroups, then one ConsumerGroupDescribe for what it answered GROUP_ID_NOT_FOUND, groups
// known as consumer groups straight to the latter, unknown ones left out, other errors thrown.
// Share groups: a ShareGroupDescribe group's view, describeShareGroupsAt (missing groups left out),
// and DescribeShareGroupOffsets answers as start offsets and lags (-1 and errors made plain).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import type { DescribedGroup as ConsumerDescribedGroup } from '../protocol/messages/consumer-group-describe.js';
import type { DescribedGroup as ClassicDescribedGroup } from '../protocol/messages/describe-groups.js';
import { ConsumerGroupDescribeApi, DescribeGroupsApi, DescribeShareGroupOffsetsApi, ListGroupsApi, ShareGroupDescribeApi } from '../protocol/messages/index.js';
import { encodeConsumerProtocolAssignment } from '../protocol/messages/records/index.js';
import { Writer } from '../protocol/primitives/writer.js';
import { KafkaResponseError } from './cluster-client.js';
import type { DescribedGroup as ShareDescribedGroup } from '../protocol/messages/share-group-describe.js';
import { type GroupRequest, classicGroupView, consumerGroupView, describeGroupsAt, describeShareGroupsAt, listGroupsAt, shareGroupOffsetsAt } from './consumer-groups.js';

const TOPIC_ID = '00000000-0000-0000-0000-000000000001';

function consumerGroup(groupId: string, errorCode: number = ErrorCode.NONE): ConsumerDescribedGroup {
  return {
    errorCode,
    errorMessage: errorCode === ErrorCode.NONE ? null : `Group ${groupId} has a problem.`,
    groupId,
    groupState: 'Reconciling',
    groupEpoch: 4,
    assignmentEpoch: 3,
    assignorName: 'range',
    authorizedOperations: -2147483648,
    members: [
      {
        memberId: 'm-1',
        instanceId: 'static-1',
        rackId: 'rack-a',
        memberEpoch: 3,
        clientId: 'client-1',
        clientHost: '/10.0.0.1',
        subscribedTopicNames: [],
        subscribedTopicRegex: 'orders-.*',
        assignment: { topicPartitions: [{ topicId: TOPIC_ID, topicName: 'orders-eu', partitions: [0, 1] }] },
        targetAssignment: { topicPartitions: [{ topicId: TOPIC_ID, topicName: 'orders-eu', partitions: [1] }] },
      },
    ],
  };
}

function assignmentBlob(topic: string, partitions: number[]): Buffer {
  const writer = new Writer();
  writer.writeInt16(1);
  encodeConsumerProtocolAssignment(writer, 1, { assignedPartitions: [{ topic, partitions }], userData: null });
  return writer.toBuffer();
}

function classicGroup(groupId: string, protocolType = 'consumer'): ClassicDescribedGroup {
  return {
    errorCode: ErrorCode.NONE,
    groupId,
    groupState: 'Stable',
    protocolType,
    protocolData: 'range',
    members: [{ memberId: 'c-1', groupInstanceId: null, clientId: 'classic-client', clientHost: '/10.0.0.2', memberMetadata: Buffer.alloc(0), memberAssignment: assignmentBlob('payments', [2, 0]) }],
  };
}

/** A request function answering from `answers` by API name, recording what was asked. */
function fakeRequest(answers: Record<string, (request: any) => unknown>, asked: { api: string; request: unknown; maxVersion: number }[]): GroupRequest {
  return (async (api: { name: string }, request: unknown, maxVersion: number) => {
    asked.push({ api: api.name, request, maxVersion });
    const answer = answers[api.name];
    if (answer === undefined) throw new Error(`unexpected ${api.name}`);
    return answer(request);
  }) as GroupRequest;
}

describe('consumer-groups: the shared mapping of both kinds of group', () => {
  it('maps a ConsumerGroupDescribe group: epochs, assignor, and each member with its subscription, assignment and target', () => {
    assert.deepEqual(consumerGroupView(consumerGroup('g')), {
      groupId: 'g',
      state: 'Reconciling',
      assignor: 'range',
      groupEpoch: 4,
      assignmentEpoch: 3,
      members: [
        {
          memberId: 'm-1',
          instanceId: 'static-1',
          rackId: 'rack-a',
          memberEpoch: 3,
          clientId: 'client-1',
          host: '/10.0.0.1',
          subscribedTopicNames: [],
          subscribedTopicRegex: 'orders-.*',
          assignment: [{ topic: 'orders-eu', partitions: [0, 1] }],
          targetAssignment: [{ topic: 'orders-eu', partitions: [1] }],
        },
      ],
    });
  });

  it("decodes a classic consumer's assignment, and no other protocol's", () => {
    const view = classicGroupView(classicGroup('c'));
    assert.deepEqual(view, {
      groupId: 'c',
      state: 'Stable',
      protocolType: 'consumer',
      protocol: 'range',
      members: [{ memberId: 'c-1', instanceId: null, clientId: 'classic-client', host: '/10.0.0.2', assignment: [{ topic: 'payments', partitions: [2, 0] }] }],
    });
    assert.deepEqual(classicGroupView(classicGroup('w', 'connect')).members[0]!.assignment, []);
  });

  it('describes classic groups with DescribeGroups and the rest with one ConsumerGroupDescribe, in the order asked', async () => {
    const asked: { api: string; request: any; maxVersion: number }[] = [];
    const request = fakeRequest(
      {
        [DescribeGroupsApi.name]: (body: { groups: string[] }) => ({
          groups: body.groups.map((groupId) => (groupId === 'classic' ? classicGroup(groupId) : { ...classicGroup(groupId), errorCode: ErrorCode.GROUP_ID_NOT_FOUND, members: [] })),
        }),
        [ConsumerGroupDescribeApi.name]: (body: { groupIds: string[] }) => ({
          groups: body.groupIds.map((groupId) => consumerGroup(groupId, groupId === 'gone' ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE)),
        }),
      },
      asked,
    );
    const views = await describeGroupsAt(request, ['new-848', 'classic', 'gone', 'known-848'], new Set(['known-848']));
    assert.deepEqual(views.map((view) => [view.groupId, view.type, view.state]), [
      ['new-848', 'consumer', 'Reconciling'],
      ['classic', 'classic', 'Stable'],
      ['known-848', 'consumer', 'Reconciling'],
    ]);
    assert.deepEqual(asked.map(({ api, request: body, maxVersion }) => [api, body.groups ?? body.groupIds, maxVersion]), [
      [DescribeGroupsApi.name, ['new-848', 'classic', 'gone'], 6],
      [ConsumerGroupDescribeApi.name, ['known-848', 'new-848', 'gone'], 0],
    ]);
  });

  it('asks ConsumerGroupDescribe about groups answered Dead with nothing known (DescribeGroups below v6), and keeps the Dead answer of a group it does not know either', async () => {
    const dead = (groupId: string) => ({ ...classicGroup(groupId), groupState: 'Dead', protocolType: '', protocolData: '', members: [] });
    const answers = {
      [DescribeGroupsApi.name]: (body: { groups: string[] }) => ({ groups: body.groups.map(dead) }),
      [ConsumerGroupDescribeApi.name]: (body: { groupIds: string[] }) => ({
        groups: body.groupIds.map((groupId) => consumerGroup(groupId, groupId === 'missing' ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE)),
      }),
    };
    const views = await describeGroupsAt(fakeRequest(answers, []), ['new-848', 'missing']);
    assert.deepEqual(views.map((view) => [view.groupId, view.type, view.state]), [
      ['new-848', 'consumer', 'Reconciling'],
      ['missing', 'classic', 'Dead'],
    ]);
    // A broker without ConsumerGroupDescribe has no consumer groups: its Dead answers stand.
    const old = fakeRequest({ [DescribeGroupsApi.name]: answers[DescribeGroupsApi.name] }, []);
    assert.deepEqual((await describeGroupsAt(old, ['g'])).map((view) => [view.groupId, view.type, view.state]), [['g', 'classic', 'Dead']]);
  });

  it('throws other errors with the group and the broker message', async () => {
    const request = fakeRequest({ [ConsumerGroupDescribeApi.name]: () => ({ groups: [consumerGroup('g', ErrorCode.GROUP_AUTHORIZATION_FAILED)] }) }, []);
    await assert.rejects(describeGroupsAt(request, ['g'], new Set(['g'])), (error: unknown) => {
      assert.ok(error instanceof KafkaResponseError);
      assert.equal(error.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
      assert.match(error.message, /describing group 'g': GROUP_AUTHORIZATION_FAILED \(Group g has a problem\.\)/);
      return true;
    });
  });

  it('lists groups with their type, classic when the broker does not say (ListGroups before v5)', async () => {
    const request = fakeRequest({ [ListGroupsApi.name]: () => ({ errorCode: 0, groups: [{ groupId: 'a', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' }, { groupId: 'b', protocolType: '', groupState: 'Empty' }] }) }, []);
    assert.deepEqual(await listGroupsAt(request), [
      { groupId: 'a', type: 'consumer', state: 'Stable', protocolType: 'consumer' },
      { groupId: 'b', type: 'classic', state: 'Empty', protocolType: '' },
    ]);
  });
});

function shareGroup(groupId: string, errorCode: number = ErrorCode.NONE): ShareDescribedGroup {
  return {
    errorCode,
    errorMessage: errorCode === ErrorCode.NONE ? null : `Group ${groupId} not found.`,
    groupId,
    groupState: 'Stable',
    groupEpoch: 3,
    assignmentEpoch: 3,
    assignorName: 'simple',
    authorizedOperations: -2147483648,
    members: [
      {
        memberId: 's-1',
        rackId: null,
        memberEpoch: 3,
        clientId: 'share-client',
        clientHost: '/10.0.0.3',
        subscribedTopicNames: ['orders'],
        assignment: { topicPartitions: [{ topicId: TOPIC_ID, topicName: 'orders', partitions: [0, 1] }] },
      },
    ],
  };
}

describe('consumer-groups: share groups', () => {
  it('describes share groups with ShareGroupDescribe v1, leaving out groups it does not find', async () => {
    const asked: { api: string; request: any; maxVersion: number }[] = [];
    const request = fakeRequest({ [ShareGroupDescribeApi.name]: (body: { groupIds: string[] }) => ({ groups: body.groupIds.map((groupId) => shareGroup(groupId, groupId === 'sg' ? ErrorCode.NONE : ErrorCode.GROUP_ID_NOT_FOUND)) }) }, asked);
    assert.deepEqual(await describeShareGroupsAt(request, ['sg', 'classic']), [
      {
        groupId: 'sg',
        state: 'Stable',
        assignor: 'simple',
        groupEpoch: 3,
        assignmentEpoch: 3,
        members: [{ memberId: 's-1', rackId: null, memberEpoch: 3, clientId: 'share-client', host: '/10.0.0.3', subscribedTopicNames: ['orders'], assignment: [{ topic: 'orders', partitions: [0, 1] }] }],
      },
    ]);
    assert.deepEqual(asked.map(({ api, maxVersion }) => [api, maxVersion]), [[ShareGroupDescribeApi.name, 1]]);
    const refused = fakeRequest({ [ShareGroupDescribeApi.name]: () => ({ groups: [shareGroup('sg', ErrorCode.GROUP_AUTHORIZATION_FAILED)] }) }, []);
    await assert.rejects(describeShareGroupsAt(refused, ['sg']), /GROUP_AUTHORIZATION_FAILED/);
  });

  it("reads a share group's start offsets and lags (all its partitions), unknown values as null, sorted", async () => {
    const asked: { api: string; request: any; maxVersion: number }[] = [];
    const partition = (partitionIndex: number, startOffset: bigint, lag: bigint | undefined, errorCode: number = ErrorCode.NONE) => ({ partitionIndex, startOffset, leaderEpoch: 2, lag, errorCode, errorMessage: null });
    const request = fakeRequest(
      {
        [DescribeShareGroupOffsetsApi.name]: () => ({
          throttleTimeMs: 0,
          groups: [
            {
              groupId: 'sg',
              errorCode: 0,
              errorMessage: null,
              topics: [
                { topicName: 'orders', topicId: TOPIC_ID, partitions: [partition(1, -1n, -1n), partition(0, 5n, 3n)] },
                { topicName: 'audit', topicId: TOPIC_ID, partitions: [partition(0, 0n, 0n, ErrorCode.NOT_LEADER_OR_FOLLOWER), partition(1, 7n, undefined)] },
              ],
            },
          ],
        }),
      },
      asked,
    );
    assert.deepEqual(await shareGroupOffsetsAt(request, 'sg'), [
      { topic: 'audit', partition: 0, startOffset: null, leaderEpoch: 2, lag: null, error: 'NOT_LEADER_OR_FOLLOWER' },
      // A v0 answer has no lag.
      { topic: 'audit', partition: 1, startOffset: 7, leaderEpoch: 2, lag: null, error: null },
      { topic: 'orders', partition: 0, startOffset: 5, leaderEpoch: 2, lag: 3, error: null },
      { topic: 'orders', partition: 1, startOffset: null, leaderEpoch: 2, lag: null, error: null },
    ]);
    assert.deepEqual(asked.map(({ api, request: body, maxVersion }) => [api, body, maxVersion]), [[DescribeShareGroupOffsetsApi.name, { groups: [{ groupId: 'sg', topics: null }] }, 1]]);
    const failed = fakeRequest({ [DescribeShareGroupOffsetsApi.name]: () => ({ throttleTimeMs: 0, groups: [{ groupId: 'sg', errorCode: ErrorCode.NOT_COORDINATOR, errorMessage: null, topics: [] }] }) }, []);
    await assert.rejects(shareGroupOffsetsAt(failed, 'sg'), /NOT_COORDINATOR/);
  });
});
