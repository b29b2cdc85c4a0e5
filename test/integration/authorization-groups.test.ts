// Authorization of the group and transaction APIs, as Kafka 4.x's KafkaApis decides it, against a
// broker with Kafka's StandardAuthorizer (no ACL means denied): for each API a principal without
// the ACLs Kafka asks for gets exactly Kafka's error in Kafka's field, and one with them succeeds.
// FindCoordinator (DESCRIBE group / transactional id, per key), JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup (READ group), OffsetCommit (READ group, READ topics), OffsetFetch (DESCRIBE group,
// DESCRIBE topics; an all-topics fetch drops the others), DescribeGroups (DESCRIBE, authorized
// operations), ListGroups (DESCRIBE cluster, else per group), DeleteGroups and OffsetDelete
// (DELETE group, READ topics), InitProducerId (WRITE transactional id; IDEMPOTENT_WRITE cluster or
// WRITE on any topic), AddPartitionsToTxn (WRITE transactional id and topics, internal topics
// never), AddOffsetsToTxn, TxnOffsetCommit, EndTxn, WriteTxnMarkers (ALTER or CLUSTER_ACTION),
// DescribeProducers (READ topic), DescribeTransactions and ListTransactions (DESCRIBE
// transactional id, topics filtered). Then kafkajs end to end as alice: a consumer group and a
// transaction with offsets, refused without the ACLs and working with them.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import {
  DeleteGroupsApi,
  DescribeGroupsApi,
  DescribeProducersApi,
  DescribeTransactionsApi,
  FindCoordinatorApi,
  HeartbeatApi,
  InitProducerIdApi,
  JoinGroupApi,
  LeaveGroupApi,
  ListGroupsApi,
  ListTransactionsApi,
  OffsetDeleteApi,
  OffsetFetchApi,
  SyncGroupApi,
  WriteTxnMarkersApi,
} from '../../src/protocol/messages/index.js';
import { AclOperation, AclResourceType, AuthorizedBroker, type User } from '../support/authorized-broker.js';
import {
  addOffsets,
  addPartitions,
  awaitCoordinator,
  commitOffsets,
  committedOffsets,
  endTxn,
  fetchOffsets,
  initTransactional,
  joinAsNewMember,
  KEY_TYPE_GROUP,
  KEY_TYPE_TRANSACTION,
  partitionErrors,
  txnCommitOffsets,
} from '../support/authz-groups-requests.js';
import type { RawClient } from '../support/raw-client.js';
import { createTopic, readAll, valuesOf } from './helpers.js';

const { GROUP, TOPIC, CLUSTER, TRANSACTIONAL_ID } = AclResourceType;
const { READ, WRITE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, IDEMPOTENT_WRITE } = AclOperation;
const { NONE, GROUP_AUTHORIZATION_FAILED, TOPIC_AUTHORIZATION_FAILED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED, UNKNOWN_TOPIC_OR_PARTITION } = ErrorCode;
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

const T1 = 'az-orders'; // two partitions
const T2 = 'az-payments'; // one partition
const E2E_IN = 'az-e2e-in';
const E2E_OUT = 'az-e2e-out';
const MARKERS = 'az-markers';

describe('group and transaction APIs authorize as Kafka', { timeout: 60_000 }, () => {
  let broker: AuthorizedBroker;
  let admin: RawClient;
  let alice: RawClient;
  let bob: RawClient;

  const allow = (user: User, resourceType: number, resourceName: string, operation: number) => broker.grant({ principal: `User:${user}`, resourceType, resourceName, operation });

  before(async () => {
    broker = await AuthorizedBroker.start({ 'offsets.topic.num.partitions': '2', 'transaction.state.log.num.partitions': '2' });
    [admin, alice, bob] = await Promise.all([broker.raw('admin'), broker.raw('alice'), broker.raw('bob')]);
    await createTopic(admin, T1, 2);
    for (const topic of [T2, E2E_IN, E2E_OUT, MARKERS]) await createTopic(admin, topic, 1);
    await awaitCoordinator(admin, 'warm-up', KEY_TYPE_GROUP);
    await awaitCoordinator(admin, 'warm-up', KEY_TYPE_TRANSACTION);
  });
  afterEach(async () => {
    await broker.revokeAll();
  });
  after(async () => {
    await Promise.all([admin?.close(), alice?.close(), bob?.close()]);
    await broker?.close();
  });

  it('FindCoordinator needs DESCRIBE on the group or transactional id, per key', async () => {
    const single = ({ errorCode, errorMessage, nodeId, host, port }: { errorCode?: number; errorMessage?: string | null; nodeId?: number; host?: string; port?: number }) => ({ errorCode, errorMessage, nodeId, host, port });
    assert.deepEqual(single(await alice.request(FindCoordinatorApi, 3, { key: 'fc-group', keyType: KEY_TYPE_GROUP })), {
      errorCode: GROUP_AUTHORIZATION_FAILED,
      errorMessage: 'Group authorization failed.',
      nodeId: -1,
      host: '',
      port: -1,
    });
    assert.deepEqual(single(await alice.request(FindCoordinatorApi, 3, { key: 'fc-txn', keyType: KEY_TYPE_TRANSACTION })), {
      errorCode: TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      errorMessage: 'Transactional Id authorization failed.',
      nodeId: -1,
      host: '',
      port: -1,
    });
    await allow('alice', GROUP, 'fc-group', DESCRIBE);
    await allow('alice', TRANSACTIONAL_ID, 'fc-txn', DESCRIBE);
    const nodeId = broker.running.nodeId;
    const groups = await alice.request(FindCoordinatorApi, 4, { keyType: KEY_TYPE_GROUP, coordinatorKeys: ['fc-group', 'fc-other'] });
    assert.deepEqual(
      groups.coordinators?.map(({ key, errorCode, errorMessage, nodeId }) => ({ key, errorCode, errorMessage, nodeId })),
      [
        { key: 'fc-group', errorCode: NONE, errorMessage: null, nodeId },
        { key: 'fc-other', errorCode: GROUP_AUTHORIZATION_FAILED, errorMessage: null, nodeId: -1 },
      ],
    );
    const txns = await alice.request(FindCoordinatorApi, 4, { keyType: KEY_TYPE_TRANSACTION, coordinatorKeys: ['fc-other', 'fc-txn'] });
    assert.deepEqual(
      txns.coordinators?.map(({ key, errorCode }) => [key, errorCode]),
      [
        ['fc-other', TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
        ['fc-txn', NONE],
      ],
    );
    assert.equal((await alice.request(FindCoordinatorApi, 3, { key: 'fc-group', keyType: KEY_TYPE_GROUP })).nodeId, nodeId);
  });

  it('JoinGroup, SyncGroup, Heartbeat and LeaveGroup need READ on the group (DESCRIBE is not enough)', async () => {
    const groupId = 'jg-group';
    await allow('alice', GROUP, groupId, DESCRIBE);
    const refusedJoin = await joinAsNewMember(alice, groupId);
    assert.deepEqual(
      { errorCode: refusedJoin.errorCode, generationId: refusedJoin.generationId, memberId: refusedJoin.memberId, leader: refusedJoin.leader, protocolName: refusedJoin.protocolName, members: refusedJoin.members },
      { errorCode: GROUP_AUTHORIZATION_FAILED, generationId: -1, memberId: '', leader: '', protocolName: '', members: [] },
    );
    const sync = (client: RawClient, memberId: string, generationId: number, assignments: { memberId: string; assignment: Buffer }[] = []) =>
      client.request(SyncGroupApi, 3, { groupId, generationId, memberId, groupInstanceId: null, assignments });
    const heartbeat = (client: RawClient, memberId: string, generationId: number) => client.request(HeartbeatApi, 3, { groupId, generationId, memberId, groupInstanceId: null });
    const leave = (client: RawClient, memberId: string) => client.request(LeaveGroupApi, 3, { groupId, members: [{ memberId, groupInstanceId: null }] });
    const rejoin = await alice.request(JoinGroupApi, 5, { groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: 'someone', groupInstanceId: null, protocolType: 'consumer', protocols: [] });
    assert.deepEqual([rejoin.errorCode, rejoin.memberId], [GROUP_AUTHORIZATION_FAILED, ''], "Kafka's error response names no member");
    assert.equal((await sync(alice, 'someone', 1)).errorCode, GROUP_AUTHORIZATION_FAILED);
    assert.equal((await heartbeat(alice, 'someone', 1)).errorCode, GROUP_AUTHORIZATION_FAILED);
    assert.deepEqual(await leave(alice, 'someone'), { throttleTimeMs: 0, errorCode: GROUP_AUTHORIZATION_FAILED, members: [] });

    await allow('alice', GROUP, groupId, READ);
    const joined = await joinAsNewMember(alice, groupId);
    assert.equal(joined.errorCode, NONE);
    assert.equal(joined.leader, joined.memberId);
    const synced = await sync(alice, joined.memberId, joined.generationId, [{ memberId: joined.memberId, assignment: Buffer.from('mine') }]);
    assert.deepEqual([synced.errorCode, synced.assignment.toString()], [NONE, 'mine']);
    assert.equal((await heartbeat(alice, joined.memberId, joined.generationId)).errorCode, NONE);
    // bob may not touch alice's group: refused before the member is even looked at.
    assert.equal((await heartbeat(bob, joined.memberId, joined.generationId)).errorCode, GROUP_AUTHORIZATION_FAILED);
    assert.deepEqual(await leave(bob, joined.memberId), { throttleTimeMs: 0, errorCode: GROUP_AUTHORIZATION_FAILED, members: [] });
    assert.equal((await heartbeat(alice, joined.memberId, joined.generationId)).errorCode, NONE, 'bob did not remove alice');
    assert.deepEqual(await leave(alice, joined.memberId), { throttleTimeMs: 0, errorCode: NONE, members: [{ memberId: joined.memberId, groupInstanceId: null, errorCode: NONE }] });
  });

  it('OffsetCommit needs READ on the group, then READ on each topic (ahead of UNKNOWN_TOPIC_OR_PARTITION)', async () => {
    assert.deepEqual(partitionErrors(await commitOffsets(alice, 'oc-group', { [T1]: [0, 1] })), { [`${T1}-0`]: GROUP_AUTHORIZATION_FAILED, [`${T1}-1`]: GROUP_AUTHORIZATION_FAILED });
    await allow('alice', GROUP, 'oc-group', READ);
    await allow('alice', TOPIC, T1, READ);
    await allow('alice', TOPIC, 'oc-missing', READ);
    const committed = await commitOffsets(alice, 'oc-group', { [T1]: [0, 1], [T2]: [0], 'oc-nope': [0], 'oc-missing': [0] });
    assert.deepEqual(partitionErrors(committed), {
      [`${T1}-0`]: NONE,
      [`${T1}-1`]: NONE,
      [`${T2}-0`]: TOPIC_AUTHORIZATION_FAILED,
      'oc-nope-0': TOPIC_AUTHORIZATION_FAILED,
      'oc-missing-0': UNKNOWN_TOPIC_OR_PARTITION,
    });
    assert.deepEqual(await committedOffsets(admin, 'oc-group'), { [`${T1}-0`]: '5', [`${T1}-1`]: '5' });

    // Every topic refused: Kafka answers without the coordinator, so no group comes into being.
    await allow('alice', GROUP, 'oc-untouched', READ);
    assert.deepEqual(partitionErrors(await commitOffsets(alice, 'oc-untouched', { [T2]: [0] })), { [`${T2}-0`]: TOPIC_AUTHORIZATION_FAILED });
    const described = await admin.request(DescribeGroupsApi, 5, { groups: ['oc-untouched'], includeAuthorizedOperations: false });
    assert.equal(described.groups[0]?.groupState, 'Dead');
  });

  it('OffsetFetch needs DESCRIBE on the group; topics without DESCRIBE are refused, or dropped from an all-topics fetch', async () => {
    const groupId = 'of-group';
    assert.deepEqual(partitionErrors(await commitOffsets(admin, groupId, { [T1]: [0, 1], [T2]: [0] })), { [`${T1}-0`]: NONE, [`${T1}-1`]: NONE, [`${T2}-0`]: NONE });

    assert.deepEqual(await fetchOffsets(alice, groupId, { [T1]: [0] }), { groupId, errorCode: GROUP_AUTHORIZATION_FAILED, topics: [] });
    // v2-7: the group's error only; v0-1 have no top-level error, so every requested partition carries it.
    const v5 = await alice.request(OffsetFetchApi, 5, { groupId, topics: [{ name: T1, partitionIndexes: [0] }], requireStable: false });
    assert.deepEqual([v5.errorCode, v5.topics], [GROUP_AUTHORIZATION_FAILED, []]);
    const v1 = await alice.request(OffsetFetchApi, 1, { groupId, topics: [{ name: T1, partitionIndexes: [0, 1] }] });
    assert.deepEqual(
      v1.topics?.flatMap((topic) => topic.partitions.map(({ partitionIndex, committedOffset, errorCode }) => [topic.name, partitionIndex, committedOffset, errorCode])),
      [
        [T1, 0, -1n, GROUP_AUTHORIZATION_FAILED],
        [T1, 1, -1n, GROUP_AUTHORIZATION_FAILED],
      ],
    );

    await allow('alice', GROUP, groupId, DESCRIBE);
    await allow('alice', TOPIC, T1, DESCRIBE);
    const asked = await fetchOffsets(alice, groupId, { [T1]: [0, 1], [T2]: [0] });
    assert.equal(asked.errorCode, NONE);
    assert.deepEqual(
      asked.topics.flatMap((topic) => topic.partitions.map(({ partitionIndex, committedOffset, errorCode }) => [topic.name, partitionIndex, committedOffset, errorCode])),
      [
        [T1, 0, 5n, NONE],
        [T1, 1, 5n, NONE],
        [T2, 0, -1n, TOPIC_AUTHORIZATION_FAILED],
      ],
    );
    assert.deepEqual(await committedOffsets(alice, groupId, null), { [`${T1}-0`]: '5', [`${T1}-1`]: '5' });
    assert.deepEqual(await committedOffsets(admin, groupId, null), { [`${T1}-0`]: '5', [`${T1}-1`]: '5', [`${T2}-0`]: '5' });
  });

  it('DescribeGroups needs DESCRIBE per group and reports the authorized operations; ListGroups lists what may be described', async () => {
    for (const groupId of ['dg-visible', 'dg-hidden']) await commitOffsets(admin, groupId, { [T1]: [0] });
    await allow('alice', GROUP, 'dg-visible', DESCRIBE);
    const describe = async () => {
      const response = await alice.request(DescribeGroupsApi, 5, { groups: ['dg-hidden', 'dg-visible'], includeAuthorizedOperations: true });
      return response.groups.map(({ groupId, errorCode, groupState, authorizedOperations }) => ({ groupId, errorCode, groupState, authorizedOperations }));
    };
    assert.deepEqual(await describe(), [
      { groupId: 'dg-hidden', errorCode: GROUP_AUTHORIZATION_FAILED, groupState: '', authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED },
      { groupId: 'dg-visible', errorCode: NONE, groupState: 'Empty', authorizedOperations: 1 << DESCRIBE },
    ]);
    await allow('alice', GROUP, 'dg-visible', READ);
    assert.equal((await describe())[1]?.authorizedOperations, (1 << READ) | (1 << DESCRIBE));

    const listed = async (client: RawClient) => (await client.request(ListGroupsApi, 4, { statesFilter: [] })).groups.map((group) => group.groupId).sort();
    assert.deepEqual(await listed(alice), ['dg-visible']);
    assert.deepEqual(await listed(bob), []);
    await allow('bob', CLUSTER, 'kafka-cluster', DESCRIBE);
    const all = await listed(bob);
    assert.ok(all.includes('dg-visible') && all.includes('dg-hidden') && all.length >= 2, `bob lists every group with DESCRIBE on the cluster: ${all}`);
  });

  it('DeleteGroups needs DELETE per group; OffsetDelete needs DELETE on the group and READ on each topic', async () => {
    for (const groupId of ['del-a', 'del-b']) await commitOffsets(admin, groupId, { [T1]: [0] });
    await commitOffsets(admin, 'od-group', { [T1]: [0], [T2]: [0] });
    await allow('alice', GROUP, 'del-a', DELETE);
    await allow('alice', GROUP, 'del-b', READ); // READ (and the DESCRIBE it implies) is not DELETE
    const deleted = await alice.request(DeleteGroupsApi, 2, { groupsNames: ['del-b', 'del-a'] });
    assert.deepEqual(deleted.results, [
      { groupId: 'del-a', errorCode: NONE },
      { groupId: 'del-b', errorCode: GROUP_AUTHORIZATION_FAILED },
    ]);
    const states = await admin.request(DescribeGroupsApi, 5, { groups: ['del-a', 'del-b'] });
    assert.deepEqual(
      states.groups.map(({ groupId, groupState }) => [groupId, groupState]),
      [
        ['del-a', 'Dead'],
        ['del-b', 'Empty'],
      ],
    );

    const offsetDelete = (groupId: string, topics: string[]) => alice.request(OffsetDeleteApi, 0, { groupId, topics: topics.map((name) => ({ name, partitions: [{ partitionIndex: 0 }] })) });
    await allow('alice', GROUP, 'od-group', READ);
    assert.deepEqual(await offsetDelete('od-group', [T1]), { errorCode: GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] });
    await allow('alice', GROUP, 'od-group', DELETE);
    await allow('alice', TOPIC, T1, READ);
    assert.deepEqual(await offsetDelete('od-group', [T1, T2]), {
      errorCode: NONE,
      throttleTimeMs: 0,
      topics: [
        { name: T2, partitions: [{ partitionIndex: 0, errorCode: TOPIC_AUTHORIZATION_FAILED }] },
        { name: T1, partitions: [{ partitionIndex: 0, errorCode: NONE }] },
      ],
    });
    assert.deepEqual(await committedOffsets(admin, 'od-group'), { [`${T2}-0`]: '5' });
    // The group's own error replaces the refused topics', as Kafka merges them.
    await allow('alice', GROUP, 'od-nonexistent', DELETE);
    assert.deepEqual(await offsetDelete('od-nonexistent', [T2]), { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, throttleTimeMs: 0, topics: [] });
  });

  it('InitProducerId needs WRITE on the transactional id, or for idempotence IDEMPOTENT_WRITE on the cluster or WRITE on any topic', async () => {
    const init = (client: RawClient, transactionalId: string | null) => client.request(InitProducerIdApi, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    assert.deepEqual(await init(alice, null), { throttleTimeMs: 0, errorCode: CLUSTER_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 });
    await allow('alice', TOPIC, T2, WRITE);
    const idempotent = await init(alice, null);
    assert.equal(idempotent.errorCode, NONE);
    assert.ok(idempotent.producerId >= 0n);
    assert.equal((await init(bob, null)).errorCode, CLUSTER_AUTHORIZATION_FAILED);
    await allow('bob', CLUSTER, 'kafka-cluster', IDEMPOTENT_WRITE);
    assert.equal((await init(bob, null)).errorCode, NONE);

    assert.deepEqual(await init(alice, 'ip-txn'), { throttleTimeMs: 0, errorCode: TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 });
    assert.equal((await init(alice, '')).errorCode, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'an empty transactional id is authorized too');
    await allow('alice', TRANSACTIONAL_ID, 'ip-txn', DESCRIBE);
    assert.equal((await init(alice, 'ip-txn')).errorCode, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'DESCRIBE is not enough');
    await allow('alice', TRANSACTIONAL_ID, 'ip-txn', WRITE);
    assert.equal((await init(alice, 'ip-txn')).errorCode, NONE);
  });

  it('a transaction: AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn need WRITE on the transactional id and their own ACLs', async () => {
    const groupId = 'tx-group';
    await allow('alice', TRANSACTIONAL_ID, 'tx-alice', WRITE);
    const producer = await initTransactional(alice, 'tx-alice');
    // bob may DESCRIBE alice's transactional id and her other group, which lets him write neither.
    await allow('bob', TRANSACTIONAL_ID, 'tx-alice', DESCRIBE);
    await allow('alice', GROUP, 'tx-other-group', DESCRIBE);

    assert.deepEqual(await addPartitions(bob, producer, { [T1]: [0, 1] }), { [`${T1}-0`]: TRANSACTIONAL_ID_AUTHORIZATION_FAILED, [`${T1}-1`]: TRANSACTIONAL_ID_AUTHORIZATION_FAILED });
    await allow('alice', TOPIC, T1, WRITE);
    await allow('alice', TOPIC, 'tx-nope', WRITE);
    await allow('alice', TOPIC, '__consumer_offsets', WRITE);
    assert.deepEqual(await addPartitions(alice, producer, { [T1]: [0], [T2]: [0], 'tx-nope': [0], __consumer_offsets: [0] }), {
      [`${T1}-0`]: ErrorCode.OPERATION_NOT_ATTEMPTED,
      [`${T2}-0`]: TOPIC_AUTHORIZATION_FAILED,
      'tx-nope-0': UNKNOWN_TOPIC_OR_PARTITION,
      '__consumer_offsets-0': TOPIC_AUTHORIZATION_FAILED,
    });
    const describeAsAdmin = async () => (await admin.request(DescribeTransactionsApi, 0, { transactionalIds: ['tx-alice'] })).transactionStates[0]!;
    assert.deepEqual((await describeAsAdmin()).topics, [], 'nothing was added');
    assert.deepEqual(await addPartitions(alice, producer, { [T1]: [0] }), { [`${T1}-0`]: NONE });

    // TxnOffsetCommit with every topic refused answers before the transaction is checked (its
    // offsets partition is not in the transaction yet, which would be INVALID_TXN_STATE).
    await allow('alice', GROUP, groupId, READ);
    await allow('alice', TOPIC, 'tx-nope', READ);
    assert.deepEqual(await txnCommitOffsets(alice, producer, groupId, { [T2]: [0], 'tx-nope': [0] }), { [`${T2}-0`]: TOPIC_AUTHORIZATION_FAILED, 'tx-nope-0': UNKNOWN_TOPIC_OR_PARTITION });

    assert.equal(await addOffsets(bob, producer, groupId), TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert.equal(await addOffsets(alice, producer, 'tx-other-group'), GROUP_AUTHORIZATION_FAILED);
    assert.equal(await addOffsets(alice, producer, groupId), NONE);

    assert.deepEqual(await txnCommitOffsets(bob, producer, groupId, { [T1]: [0] }), { [`${T1}-0`]: TRANSACTIONAL_ID_AUTHORIZATION_FAILED });
    assert.deepEqual(await txnCommitOffsets(alice, producer, 'tx-other-group', { [T1]: [0] }), { [`${T1}-0`]: GROUP_AUTHORIZATION_FAILED });
    await allow('alice', TOPIC, T1, READ);
    assert.deepEqual(await txnCommitOffsets(alice, producer, groupId, { [T1]: [0], [T2]: [0] }), { [`${T1}-0`]: NONE, [`${T2}-0`]: TOPIC_AUTHORIZATION_FAILED });

    // DescribeTransactions: DESCRIBE on the id (WRITE implies it), topics filtered by DESCRIBE.
    // admin (a super user) adds a partition of T2, which alice may not DESCRIBE.
    assert.deepEqual(await addPartitions(admin, producer, { [T2]: [0] }), { [`${T2}-0`]: NONE });
    const described = (await alice.request(DescribeTransactionsApi, 0, { transactionalIds: ['tx-alice', 'tx-unknown-to-alice'] })).transactionStates;
    const sortedTopics = (topics: { topic: string }[]) => topics.map(({ topic }) => topic).sort();
    assert.deepEqual(
      described.map(({ transactionalId, errorCode, transactionState, topics }) => ({ transactionalId, errorCode, transactionState, topics: sortedTopics(topics) })),
      [
        // __consumer_offsets: alice's WRITE on it (granted above) implies DESCRIBE.
        { transactionalId: 'tx-alice', errorCode: NONE, transactionState: 'Ongoing', topics: ['__consumer_offsets', T1] },
        { transactionalId: 'tx-unknown-to-alice', errorCode: TRANSACTIONAL_ID_AUTHORIZATION_FAILED, transactionState: '', topics: [] },
      ],
    );
    assert.deepEqual(described[1], {
      errorCode: TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      transactionalId: 'tx-unknown-to-alice',
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: 0n,
      producerId: 0n,
      producerEpoch: 0,
      topics: [],
    });
    assert.deepEqual(sortedTopics((await describeAsAdmin()).topics), ['__consumer_offsets', T1, T2]);

    // ListTransactions lists only the ids the principal may DESCRIBE.
    await initTransactional(admin, 'tx-admin');
    const listed = async (client: RawClient) => (await client.request(ListTransactionsApi, 1, { stateFilters: [], producerIdFilters: [], durationFilter: -1n })).transactionStates.map((state) => state.transactionalId).sort();
    assert.deepEqual(await listed(alice), ['tx-alice']);
    assert.deepEqual(await listed(bob), ['tx-alice'], 'DESCRIBE is enough to list');
    assert.ok((await listed(admin)).includes('tx-admin'));

    assert.equal(await endTxn(bob, producer, true), TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert.equal((await describeAsAdmin()).transactionState, 'Ongoing');
    assert.equal(await endTxn(alice, producer, true), NONE);
    assert.deepEqual(await committedOffsets(admin, groupId), { [`${T1}-0`]: '7' });
  });

  it('WriteTxnMarkers needs CLUSTER_ACTION or ALTER on the cluster', async () => {
    const markers = async (client: RawClient) => {
      const response = await client.request(WriteTxnMarkersApi, 1, {
        markers: [{ producerId: 4242n, producerEpoch: 0, transactionResult: false, coordinatorEpoch: 0, topics: [{ name: MARKERS, partitionIndexes: [0] }] }],
      });
      return response.markers.flatMap((marker) => marker.topics.flatMap((topic) => topic.partitions.map(({ partitionIndex, errorCode }) => [marker.producerId, topic.name, partitionIndex, errorCode])));
    };
    assert.deepEqual(await markers(alice), [[4242n, MARKERS, 0, CLUSTER_AUTHORIZATION_FAILED]]);
    assert.deepEqual(await markers(bob), [[4242n, MARKERS, 0, CLUSTER_AUTHORIZATION_FAILED]]);
    await allow('alice', CLUSTER, 'kafka-cluster', CLUSTER_ACTION);
    await allow('bob', CLUSTER, 'kafka-cluster', ALTER);
    assert.deepEqual(await markers(alice), [[4242n, MARKERS, 0, NONE]]);
    assert.deepEqual(await markers(bob), [[4242n, MARKERS, 0, NONE]]);
  });

  it('DescribeProducers needs READ on each topic, existing or not', async () => {
    const describe = async () => {
      const response = await alice.request(DescribeProducersApi, 0, { topics: [{ name: T2, partitionIndexes: [0] }, { name: 'dp-nope', partitionIndexes: [0] }] });
      return response.topics.map(({ name, partitions }) => [name, partitions.map(({ errorCode, errorMessage }) => [errorCode, errorMessage])]);
    };
    const refused = [TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.'];
    assert.deepEqual(await describe(), [
      [T2, [refused]],
      ['dp-nope', [refused]],
    ]);
    await allow('alice', TOPIC, T2, READ);
    await allow('alice', TOPIC, 'dp-nope', READ);
    assert.deepEqual(await describe(), [
      [T2, [[NONE, null]]],
      ['dp-nope', [[UNKNOWN_TOPIC_OR_PARTITION, null]]],
    ]);
  });

  it('kafkajs as alice: a consumer group is refused without READ on the group and consumes with it', async () => {
    const producer = broker.kafka('admin').producer();
    await producer.connect();
    await producer.send({ topic: E2E_IN, messages: ['a', 'b', 'c'].map((value) => ({ value })) });
    await producer.disconnect();
    await allow('alice', TOPIC, E2E_IN, READ);

    const consumeAs = async (groupId: string, wanted: number) => {
      const consumer = broker.kafka('alice', `authz-consumer-${groupId}`).consumer({ groupId, retry: { retries: 0 } });
      const values: string[] = [];
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: E2E_IN, fromBeginning: true });
        const outcome = new Promise<Error | undefined>((resolve) => {
          consumer.on(consumer.events.CRASH, (event) => resolve(event.payload.error));
          void consumer.run({
            eachMessage: async ({ message }) => {
              values.push(String(message.value));
              if (values.length === wanted) resolve(undefined);
            },
          });
        });
        return { error: await outcome, values };
      } finally {
        await consumer.disconnect();
      }
    };
    // No ACL on the group: FindCoordinator answers GROUP_AUTHORIZATION_FAILED, which kafkajs
    // reports as not finding the coordinator; DESCRIBE only: JoinGroup answers it, and kafkajs
    // crashes with it.
    const unknown = await consumeAs('e2e-group', 3);
    assert.equal(unknown.error?.name, 'KafkaJSGroupCoordinatorNotFound', `refused: ${unknown.error}`);
    assert.deepEqual(unknown.values, []);
    await allow('alice', GROUP, 'e2e-group', DESCRIBE);
    const refused = await consumeAs('e2e-group', 3);
    assert.equal((refused.error as { type?: string } | undefined)?.type, 'GROUP_AUTHORIZATION_FAILED', `refused: ${refused.error}`);
    assert.deepEqual(refused.values, []);

    await allow('alice', GROUP, 'e2e-group', READ);
    const consumed = await consumeAs('e2e-group', 3);
    assert.equal(consumed.error, undefined);
    assert.deepEqual(consumed.values, ['a', 'b', 'c']);
    assert.deepEqual(await committedOffsets(admin, 'e2e-group'), { [`${E2E_IN}-0`]: '3' });
  });

  it('kafkajs as alice: a transaction with offsets is refused without its ACLs and commits with them', async () => {
    const transactional = (transactionalId: string) => broker.kafka('alice', `authz-txn-${transactionalId}`).producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, retry: { retries: 1, initialRetryTime: 50 } });
    // kafkajs first asks for an idempotent producer id (no transactional id): IDEMPOTENT_WRITE on
    // the cluster or WRITE on some topic, else CLUSTER_AUTHORIZATION_FAILED.
    const unidentified = transactional('e2e-tx');
    try {
      await assert.rejects(unidentified.connect(), (error: { type?: string }) => error.type === 'CLUSTER_AUTHORIZATION_FAILED');
    } finally {
      await unidentified.disconnect();
    }
    await allow('alice', TOPIC, E2E_OUT, WRITE);
    // No ACL on the transactional id: FindCoordinator answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    // (kafkajs: no coordinator found); DESCRIBE only: InitProducerId answers it.
    const attempt = async (check: (error: { type?: string; name?: string }) => boolean) => {
      const refused = transactional('e2e-tx');
      try {
        await refused.connect();
        await assert.rejects(refused.transaction(), check);
      } finally {
        await refused.disconnect();
      }
    };
    await attempt((error) => error.name === 'KafkaJSGroupCoordinatorNotFound');
    await allow('alice', TRANSACTIONAL_ID, 'e2e-tx', DESCRIBE);
    await attempt((error) => error.type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED');

    await allow('alice', TRANSACTIONAL_ID, 'e2e-tx', WRITE);
    await allow('alice', GROUP, 'e2e-tx-group', READ);
    await allow('alice', TOPIC, E2E_IN, READ);
    const producer = transactional('e2e-tx');
    try {
      await producer.connect();
      const transaction = await producer.transaction();
      await transaction.send({ topic: E2E_OUT, messages: [{ value: 'x' }, { value: 'y' }] });
      await transaction.sendOffsets({ consumerGroupId: 'e2e-tx-group', topics: [{ topic: E2E_IN, partitions: [{ partition: 0, offset: '2' }] }] });
      await transaction.commit();
    } finally {
      await producer.disconnect();
    }
    assert.deepEqual(await committedOffsets(admin, 'e2e-tx-group'), { [`${E2E_IN}-0`]: '2' });
    const batches = await readAll(admin, E2E_OUT, 0);
    assert.deepEqual(valuesOf(batches.filter((batch) => !batch.control)), ['x', 'y']);
    assert.deepEqual(
      batches.map((batch) => [batch.control, batch.transactional]),
      [
        [false, true],
        [true, true],
      ],
      'the records and their COMMIT marker',
    );
    const state = (await admin.request(DescribeTransactionsApi, 0, { transactionalIds: ['e2e-tx'] })).transactionStates[0];
    assert.equal(state?.transactionState, 'CompleteCommit');
  });
});
