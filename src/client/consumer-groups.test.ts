// The shared group mapping without a broker: a ConsumerGroupDescribe group's view (a member that is
// still reconciling keeps its assignment apart from its target), a classic group's consumer-protocol
// assignments (decoded for protocol type "consumer" only), and describeGroupsAt's requests: one
// DescribeGroups, then one ConsumerGroupDescribe for what it answered GROUP_ID_NOT_FOUND, groups
// known as consumer groups straight to the latter, unknown ones left out, other errors thrown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import type { DescribedGroup as ConsumerDescribedGroup } from '../protocol/messages/consumer-group-describe.js';
import type { DescribedGroup as ClassicDescribedGroup } from '../protocol/messages/describe-groups.js';
import { ConsumerGroupDescribeApi, DescribeGroupsApi, ListGroupsApi } from '../protocol/messages/index.js';
import { encodeConsumerProtocolAssignment } from '../protocol/messages/records/index.js';
import { Writer } from '../protocol/primitives/writer.js';
import { KafkaResponseError } from './cluster-client.js';
import { type GroupRequest, classicGroupView, consumerGroupView, describeGroupsAt, listGroupsAt } from './consumer-groups.js';

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
