// Authorization on the data path (Produce, Fetch, ListOffsets, Metadata, OffsetForLeaderEpoch) with
// Kafka's StandardAuthorizer, allow.everyone.if.no.acl.found=false: a principal with the ACL Kafka
// requires succeeds and one without gets Kafka's error, with nothing written or read; DENY wins over
// ALLOW; PREFIXED and wildcard ACLs apply; Metadata hides what the principal may not DESCRIBE and
// auto-creates only with CREATE; the authorized-operations fields hold what the ACLs allow; an
// anonymous client on a PLAINTEXT listener gets nothing without an ACL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { operationsInBitField } from '../../src/broker/authorized-operations.js';
import { FetchApi, ListOffsetsApi, MetadataApi, OffsetForLeaderEpochApi, ProduceApi } from '../../src/protocol/messages/index.js';
import { AclOperation, AclPermissionType, AclResourceType, AuthorizedBroker, PatternType } from '../support/authorized-broker.js';
import type { RawClient } from '../support/raw-client.js';
import { batchOf, createTopic, fetchRequest, produce, valuesOf, decodeBatches } from './helpers.js';

const TOPIC = AclResourceType.TOPIC;

describe('authorization of the data path', { timeout: 120_000 }, () => {
  let broker: AuthorizedBroker;
  let admin: RawClient;
  let alice: RawClient;
  before(async () => {
    broker = await AuthorizedBroker.start();
    admin = await broker.raw('admin');
    alice = await broker.raw('alice');
    for (const name of ['orders', 'orders-eu', 'payments', 'audit']) await createTopic(admin, name);
    await produce(admin, 'payments', 0, batchOf(['p0']));
  });
  after(async () => {
    await alice?.close();
    await admin?.close();
    await broker?.close();
  });

  const fetchFrom = async (client: RawClient, topic: string, replicaId = -1) => {
    const response = await client.request(FetchApi, 12, { ...fetchRequest(topic, [{ partition: 0, fetchOffset: 0 }]), replicaId });
    return response.responses[0]!.partitions[0]!;
  };
  const listOffsetError = async (client: RawClient, topic: string) =>
    (await client.request(ListOffsetsApi, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }] })).topics[0]!.partitions[0]!.errorCode;
  const epochError = async (client: RawClient, topic: string) =>
    (await client.request(OffsetForLeaderEpochApi, 4, { replicaId: -1, topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] })).topics[0]!.partitions[0]!.errorCode;
  const metadataOf = (client: RawClient, topics: string[] | null, allowAutoTopicCreation = false) =>
    client.request(MetadataApi, 12, { topics: topics === null ? null : topics.map((name) => ({ name })), allowAutoTopicCreation, includeTopicAuthorizedOperations: true });

  it('Produce needs WRITE on the topic; DENY on a literal name beats ALLOW on a prefix', async () => {
    const refused = await produce(alice, 'orders', 0, batchOf(['nope']));
    assert.equal(refused.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await broker.grant({ principal: 'User:alice', resourceType: TOPIC, resourceName: 'orders', patternType: PatternType.PREFIXED, operation: AclOperation.WRITE });
    assert.equal((await produce(alice, 'orders', 0, batchOf(['a1']))).errorCode, ErrorCode.NONE);
    assert.equal((await produce(alice, 'orders-eu', 0, batchOf(['e1']))).errorCode, ErrorCode.NONE);
    await broker.grant({ principal: 'User:alice', resourceType: TOPIC, resourceName: 'orders-eu', operation: AclOperation.WRITE, permissionType: AclPermissionType.DENY });
    assert.equal((await produce(alice, 'orders-eu', 0, batchOf(['e2']))).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // bob has no ACL at all; a topic that does not exist is refused the same way (its existence is not told).
    const bob = await broker.raw('bob');
    try {
      assert.equal((await produce(bob, 'orders', 0, batchOf(['b']))).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      assert.equal((await produce(bob, 'no-such-topic', 0, batchOf(['b']))).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    } finally {
      await bob.close();
    }
    // Only what was allowed was written: admin reads orders and orders-eu.
    const read = async (topic: string) => valuesOf(decodeBatches((await fetchFrom(admin, topic)).records));
    assert.deepEqual(await read('orders'), ['a1']);
    assert.deepEqual(await read('orders-eu'), ['e1']);
  });

  it('a transactional Produce needs WRITE on its transactional id, or the whole request is refused', async () => {
    await broker.grant({ principal: 'User:alice', resourceType: TOPIC, resourceName: 'audit', operation: AclOperation.WRITE });
    const response = await alice.request(ProduceApi, 9, {
      transactionalId: 'alice-tx',
      acks: -1,
      timeoutMs: 5_000,
      topicData: [{ name: 'audit', partitionData: [{ index: 0, records: batchOf(['t'], { transactional: true, producerId: 1, producerEpoch: 0 }) }] }],
    });
    assert.equal(response.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  it('Fetch needs READ on the topic for a consumer and CLUSTER_ACTION for a follower; ListOffsets and OffsetForLeaderEpoch need DESCRIBE', async () => {
    assert.equal((await fetchFrom(alice, 'payments')).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal((await fetchFrom(alice, 'payments')).records?.length ?? 0, 0);
    assert.equal(await listOffsetError(alice, 'payments'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal(await epochError(alice, 'payments'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // READ implies DESCRIBE.
    await broker.grant({ principal: 'User:alice', resourceType: TOPIC, resourceName: 'payments', operation: AclOperation.READ });
    const fetched = await fetchFrom(alice, 'payments');
    assert.deepEqual([fetched.errorCode, valuesOf(decodeBatches(fetched.records))], [ErrorCode.NONE, ['p0']]);
    assert.equal(await listOffsetError(alice, 'payments'), ErrorCode.NONE);
    assert.equal(await epochError(alice, 'payments'), ErrorCode.NONE);
    // A fetch as follower 1 is a broker's: READ is not enough, CLUSTER_ACTION is.
    assert.equal((await fetchFrom(alice, 'payments', 1)).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await broker.grant({ principal: 'User:alice', resourceType: AclResourceType.CLUSTER, resourceName: 'kafka-cluster', operation: AclOperation.CLUSTER_ACTION });
    assert.notEqual((await fetchFrom(alice, 'payments', 1)).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  });

  it('Metadata lists only what the principal may DESCRIBE, refuses named topics it may not, and auto-creates only with CREATE', async () => {
    const bob = await broker.raw('bob');
    try {
      const names = async (client: RawClient) => (await metadataOf(client, null)).topics.map((topic) => topic.name).sort();
      assert.deepEqual(await names(bob), []);
      assert.deepEqual(await names(admin), ['audit', 'orders', 'orders-eu', 'payments']);
      await broker.grant({ principal: 'User:bob', resourceType: TOPIC, resourceName: 'orders', operation: AclOperation.DESCRIBE });
      assert.deepEqual(await names(bob), ['orders']);
      const named = await metadataOf(bob, ['orders', 'payments', 'ghost']);
      assert.deepEqual(named.topics.map(({ name, errorCode }) => [name, errorCode]), [['orders', ErrorCode.NONE], ['payments', ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['ghost', ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);
      // The authorized operations of orders for bob: DESCRIBE only; for admin, every topic operation.
      assert.deepEqual(operationsInBitField(named.topics[0]!.topicAuthorizedOperations!), [AclOperation.DESCRIBE]);
      assert.deepEqual(operationsInBitField((await metadataOf(admin, ['orders'])).topics[0]!.topicAuthorizedOperations!), [3, 4, 5, 6, 7, 8, 10, 11]);

      // Auto-creation: DESCRIBE alone is not enough; CREATE on the topic is.
      await broker.grant({ principal: 'User:bob', resourceType: TOPIC, resourceName: 'auto-', patternType: PatternType.PREFIXED, operation: AclOperation.DESCRIBE });
      const notCreated = await metadataOf(bob, ['auto-one'], true);
      assert.equal(notCreated.topics[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      assert.ok(!(await names(admin)).includes('auto-one'), 'nothing was created');
      await broker.grant({ principal: 'User:bob', resourceType: TOPIC, resourceName: 'auto-', patternType: PatternType.PREFIXED, operation: AclOperation.CREATE });
      const created = await metadataOf(bob, ['auto-one'], true);
      assert.notEqual(created.topics[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      assert.ok((await names(admin)).includes('auto-one'));
    } finally {
      await bob.close();
    }
  });

  it('an anonymous kafkajs producer on the PLAINTEXT listener is refused; with an ACL for User:ANONYMOUS it writes', async () => {
    const producer = broker.kafka('anonymous').producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await assert.rejects(producer.send({ topic: 'audit', messages: [{ value: 'anon' }] }), /not authorized|TOPIC_AUTHORIZATION_FAILED|authorization/i);
      await broker.grant({ principal: 'User:ANONYMOUS', resourceType: TOPIC, resourceName: '*', operation: AclOperation.WRITE });
      const [sent] = await producer.send({ topic: 'audit', messages: [{ value: 'anon' }] });
      assert.equal(sent!.errorCode, 0);
    } finally {
      await producer.disconnect();
    }
  });

  it('writing __conveyor_transforms (code every broker runs) takes ALTER on the cluster besides WRITE on the topic', async () => {
    await createTopic(admin, '__conveyor_transforms');
    await broker.grant({ principal: 'User:alice', resourceType: TOPIC, resourceName: '__conveyor_transforms', operation: AclOperation.WRITE });
    assert.equal((await produce(alice, '__conveyor_transforms', 0, batchOf(['deploy']))).errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    await broker.grant({ principal: 'User:alice', resourceType: AclResourceType.CLUSTER, resourceName: 'kafka-cluster', operation: AclOperation.ALTER });
    assert.equal((await produce(alice, '__conveyor_transforms', 0, batchOf(['deploy']))).errorCode, ErrorCode.NONE);
  });
});
