// Differences from Apache Kafka 4.x that real clients' own integration suites tripped over, each
// pinned by a test over TCP: internal topics created by whichever request needs them first,
// brokers described per listener, authorized operations, no group from a commit of unknown
// partitions, per-record produce errors, Produce's advertised range.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { operationsInBitField } from '../../src/broker/authorized-operations.js';
import { ApiVersionsApi, DescribeClusterApi, DescribeGroupsApi, FindCoordinatorApi, ListGroupsApi, ListOffsetsApi, MetadataApi, OffsetCommitApi, OffsetDeleteApi, ProduceApi, ZERO_UUID } from '../../src/protocol/messages/index.js';
import { RawClient } from '../support/raw-client.js';
import { type RunningBroker, startBroker } from '../../src/index.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { type TestBroker, createTopic, createTopics, produce, startTestBroker, uniqueTopic } from './helpers.js';

const CONSUMER_OFFSETS = '__consumer_offsets';
const TRANSACTION_STATE = '__transaction_state';

async function topicExists(broker: TestBroker, topic: string): Promise<boolean> {
  const response = await broker.client.request(MetadataApi, 12, { topics: [{ topicId: ZERO_UUID, name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  return response.topics[0]?.errorCode === ErrorCode.NONE;
}

describe('internal topics are created by the first request that needs them', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ config: { 'offsets.topic.num.partitions': 3, 'transaction.state.log.num.partitions': 2 } });
  });
  after(async () => {
    await broker.close();
  });

  it('a kafkajs transactional producer sends offsets on a broker where no group ever looked up its coordinator', async () => {
    const topic = uniqueTopic('eos-fresh');
    assert.equal(await topicExists(broker, CONSUMER_OFFSETS), false, 'the broker starts without __consumer_offsets');
    const kafka = new Kafka({ clientId: 'eos-fresh', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 50 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({ transactionalId: 'eos-fresh-tx', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages: [{ key: 'k', value: 'v' }] });
      // AddOffsetsToTxn is the first request to need __consumer_offsets: no FindCoordinator for a group came before it.
      await transaction.sendOffsets({ consumerGroupId: 'eos-fresh-group', topics: [{ topic, partitions: [{ partition: 0, offset: '7' }] }] });
      await transaction.commit();
      const committed = await admin.fetchOffsets({ groupId: 'eos-fresh-group', topics: [topic] });
      assert.deepEqual(
        committed[0]?.partitions.map(({ partition, offset }) => ({ partition, offset })),
        [{ partition: 0, offset: '7' }],
      );
      assert.equal(await topicExists(broker, CONSUMER_OFFSETS), true);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('FindCoordinator for a transactional id creates __transaction_state with its configured partitions', async () => {
    const fresh = await startTestBroker({ config: { 'transaction.state.log.num.partitions': 2 } });
    try {
      assert.equal(await topicExists(fresh, TRANSACTION_STATE), false);
      const response = await fresh.client.request(FindCoordinatorApi, 4, { keyType: 1, coordinatorKeys: ['txn-a'] });
      const coordinator = response.coordinators?.[0];
      assert.equal(coordinator?.errorCode, ErrorCode.NONE);
      assert.equal(coordinator?.nodeId, fresh.running.nodeId);
      const described = await fresh.client.request(MetadataApi, 12, { topics: [{ topicId: ZERO_UUID, name: TRANSACTION_STATE }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      assert.equal(described.topics[0]?.errorCode, ErrorCode.NONE);
      assert.equal(described.topics[0]?.partitions.length, 2);
      assert.equal(described.topics[0]?.isInternal, true);
    } finally {
      await fresh.close();
    }
  });
});

describe('brokers are described by the endpoints of the listener the request arrived on', () => {
  let broker: RunningBroker;
  let externalPort: number;
  let plaintextPort: number;
  let internalPort: number;
  const clients: RawClient[] = [];
  const connectTo = async (port: number) => {
    const client = await RawClient.connect('127.0.0.1', port);
    clients.push(client);
    return client;
  };
  before(async () => {
    // PLAINTEXT is advertised at an address no client can reach (as a container's internal name is
    // from outside); EXTERNAL at the address it is bound to; INTERNAL is bound but not advertised.
    // startBroker's own address is the first advertised one, unreachable here: connect by bound port.
    broker = await startBroker({
      port: 0,
      storage: 'memory',
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0,EXTERNAL://127.0.0.1:0,INTERNAL://127.0.0.1:0',
        'advertised.listeners': 'PLAINTEXT://127.0.0.1:1,EXTERNAL://127.0.0.1:0',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT,INTERNAL:PLAINTEXT',
      },
    });
    const boundPort = (name: string) => broker.broker.listeners.find((listener) => listener.name === name)!.port;
    externalPort = boundPort('EXTERNAL');
    plaintextPort = boundPort('PLAINTEXT');
    internalPort = boundPort('INTERNAL');
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await broker.close();
  });

  it('Metadata, FindCoordinator and DescribeCluster answer with the endpoint of the listener asked', async () => {
    const nodeId = broker.nodeId;
    const plaintext = await connectTo(plaintextPort);
    const external = await connectTo(externalPort);
    for (const [client, port] of [
      [plaintext, 1],
      [external, externalPort],
    ] as const) {
      const metadata = await client.request(MetadataApi, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      assert.deepEqual(
        metadata.brokers.map(({ nodeId: id, host, port: brokerPort }) => ({ id, host, port: brokerPort })),
        [{ id: nodeId, host: '127.0.0.1', port }],
      );
      const found = await client.request(FindCoordinatorApi, 4, { keyType: 0, coordinatorKeys: ['listener-group'] });
      assert.deepEqual(
        found.coordinators?.map(({ nodeId: id, port: brokerPort, errorCode }) => ({ id, port: brokerPort, errorCode })),
        [{ id: nodeId, port, errorCode: ErrorCode.NONE }],
      );
      const cluster = await client.request(DescribeClusterApi, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      assert.deepEqual(
        cluster.brokers.map(({ brokerId, port: brokerPort }) => ({ brokerId, port: brokerPort })),
        [{ brokerId: nodeId, port }],
      );
    }
  });

  it('a listener this broker does not advertise lists no broker, and its coordinator is not available', async () => {
    const internal = await connectTo(internalPort);
    const metadata = await internal.request(MetadataApi, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.deepEqual(metadata.brokers, []);
    const found = await internal.request(FindCoordinatorApi, 4, { keyType: 0, coordinatorKeys: ['listener-group'] });
    assert.equal(found.coordinators?.[0]?.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });

  it('kafkajs bootstrapped on the external listener produces and consumes through it', async () => {
    const topic = uniqueTopic('external');
    const kafka = new Kafka({ clientId: 'external', brokers: [`127.0.0.1:${externalPort}`], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 50 } });
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: uniqueTopic('external-group') });
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'a', value: 'through EXTERNAL' }] });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const value = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no record consumed within 20 s')), 20_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve(message.value?.toString() ?? '');
          },
        });
      });
      assert.equal(value, 'through EXTERNAL');
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});

describe('authorized operations: every operation of the resource type when asked, with no authorizer', () => {
  // Kafka's ACL operation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8,
  // CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
  const TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11];
  const GROUP_OPERATIONS = [3, 6, 8, 10, 11];
  const CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12];
  const OMITTED = -2147483648;
  let broker: TestBroker;
  const topic = uniqueTopic('authorized');
  before(async () => {
    broker = await startTestBroker();
    await createTopic(broker.client, topic, 1);
  });
  after(async () => {
    await broker.close();
  });

  it('Metadata v8-10 answers topic and cluster operations when asked, and omits them otherwise', async () => {
    for (const version of [8, 10]) {
      const asked = await broker.client.request(MetadataApi, version, { topics: [{ topicId: ZERO_UUID, name: topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: true, includeTopicAuthorizedOperations: true });
      assert.deepEqual(operationsInBitField(asked.topics[0]!.topicAuthorizedOperations!), TOPIC_OPERATIONS);
      assert.deepEqual(operationsInBitField(asked.clusterAuthorizedOperations!), CLUSTER_OPERATIONS);
      const notAsked = await broker.client.request(MetadataApi, version, { topics: [{ topicId: ZERO_UUID, name: topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
      assert.equal(notAsked.topics[0]!.topicAuthorizedOperations, OMITTED);
      assert.equal(notAsked.clusterAuthorizedOperations, OMITTED);
    }
    const v12 = await broker.client.request(MetadataApi, 12, { topics: [{ topicId: ZERO_UUID, name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true });
    assert.deepEqual(operationsInBitField(v12.topics[0]!.topicAuthorizedOperations!), TOPIC_OPERATIONS);
  });

  it('DescribeCluster and DescribeGroups v3+ answer the cluster and group operations when asked', async () => {
    const cluster = await broker.client.request(DescribeClusterApi, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
    assert.deepEqual(operationsInBitField(cluster.clusterAuthorizedOperations), CLUSTER_OPERATIONS);
    const quiet = await broker.client.request(DescribeClusterApi, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    assert.equal(quiet.clusterAuthorizedOperations, OMITTED);
    for (const version of [3, 5]) {
      const groups = await broker.client.request(DescribeGroupsApi, version, { groups: ['no-such-group'], includeAuthorizedOperations: true });
      assert.deepEqual(operationsInBitField(groups.groups[0]!.authorizedOperations!), GROUP_OPERATIONS);
    }
  });
});

describe('an OffsetCommit whose partitions all do not exist creates no group', () => {
  let broker: TestBroker;
  const topic = uniqueTopic('commit-known');
  before(async () => {
    broker = await startTestBroker();
    await createTopic(broker.client, topic, 1);
  });
  after(async () => {
    await broker.close();
  });

  const commit = (groupId: string, topicName: string) =>
    broker.client.request(OffsetCommitApi, 8, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: topicName, partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
  const listedGroups = async () => (await broker.client.request(ListGroupsApi, 4, { statesFilter: [] })).groups.map((group) => group.groupId);

  it('answers UNKNOWN_TOPIC_OR_PARTITION, and OffsetDelete then finds no group', async () => {
    const committed = await commit('ghost-group', 'no-such-topic');
    assert.equal(committed.topics[0]?.partitions[0]?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.ok(!(await listedGroups()).includes('ghost-group'));
    const deleted = await broker.client.request(OffsetDeleteApi, 0, { groupId: 'ghost-group', topics: [{ name: topic, partitions: [{ partitionIndex: 0 }] }] });
    assert.equal(deleted.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('a commit with one partition that exists still creates the group', async () => {
    const committed = await commit('real-group', topic);
    assert.equal(committed.topics[0]?.partitions[0]?.errorCode, ErrorCode.NONE);
    assert.ok((await listedGroups()).includes('real-group'));
    const deleted = await broker.client.request(OffsetDeleteApi, 0, { groupId: 'real-group', topics: [{ name: topic, partitions: [{ partitionIndex: 0 }] }] });
    assert.equal(deleted.errorCode, ErrorCode.NONE);
  });
});

describe('Produce names each refused record (v8+) and advertises v0 while refusing v0-2', () => {
  let broker: TestBroker;
  const compacted = uniqueTopic('compacted');
  const plain = uniqueTopic('plain');
  before(async () => {
    broker = await startTestBroker();
    await createTopic(broker.client, compacted, 1, { 'cleanup.policy': 'compact' });
    await createTopic(broker.client, plain, 1);
  });
  after(async () => {
    await broker.close();
  });

  const logEndOffset = async (topic: string) => {
    const response = await broker.client.request(ListOffsetsApi, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }] });
    return Number(response.topics[0]!.partitions[0]!.offset);
  };
  const keyed = (key: string | null, value: string) => ({ key: key === null ? null : Buffer.from(key), value: Buffer.from(value) });

  it('keyless records in a compacted topic: INVALID_RECORD with one RecordError per keyless record, nothing appended', async () => {
    for (const compression of [0, 1]) {
      const batch = buildRecordBatchSync([keyed('a', '1'), keyed(null, '2'), keyed('c', '3'), keyed(null, '4')], { compression });
      const result = await produce(broker.client, compacted, 0, batch, { version: 9 });
      assert.equal(result.errorCode, ErrorCode.INVALID_RECORD);
      assert.deepEqual(result.recordErrors?.map((error) => error.batchIndex), [1, 3]);
      for (const error of result.recordErrors ?? []) assert.match(error.batchIndexErrorMessage ?? '', /without key/);
      assert.match(result.errorMessage ?? '', /2 record\(s\) without a key/);
    }
    assert.equal(await logEndOffset(compacted), 0);
    const allKeyed = await produce(broker.client, compacted, 0, buildRecordBatchSync([keyed('a', '1'), keyed('b', '2')]), { version: 9 });
    assert.equal(allKeyed.errorCode, ErrorCode.NONE);
    assert.equal(allKeyed.recordErrors?.length, 0);
  });

  it('before v8 the same refusal is the partition error alone', async () => {
    const batch = buildRecordBatchSync([keyed(null, 'x'), keyed('b', 'y')]);
    const result = await produce(broker.client, compacted, 0, batch, { version: 7 });
    assert.equal(result.errorCode, ErrorCode.INVALID_RECORD);
    assert.deepEqual(result.recordErrors ?? [], []);
  });

  it('timestamps past message.timestamp.after.max.ms (one hour by default, as Kafka 4) are named record by record', async () => {
    const now = Date.now();
    const hour = 3_600_000;
    const batch = buildRecordBatchSync([
      { ...keyed('a', 'now'), timestamp: now },
      { ...keyed('b', 'far future'), timestamp: now + 2 * hour },
      { ...keyed('c', 'soon'), timestamp: now + 60_000 },
    ]);
    const result = await produce(broker.client, plain, 0, batch, { version: 9 });
    assert.equal(result.errorCode, ErrorCode.INVALID_TIMESTAMP);
    assert.deepEqual(result.recordErrors?.map((error) => error.batchIndex), [1]);
    const inRange = buildRecordBatchSync([{ ...keyed('a', 'now'), timestamp: now }, { ...keyed('c', 'soon'), timestamp: now + 60_000 }]);
    assert.equal((await produce(broker.client, plain, 0, inRange, { version: 9 })).errorCode, ErrorCode.NONE);
  });

  it('ApiVersions advertises Produce from v0; v0-2 requests get UNSUPPORTED_VERSION per partition', async () => {
    const versions = await broker.client.request(ApiVersionsApi, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    const produceRange = versions.apiKeys.find((key) => key.apiKey === ProduceApi.apiKey);
    assert.deepEqual([produceRange?.minVersion, produceRange?.maxVersion], [0, 11]);
    for (const version of [0, 2]) {
      const response = await broker.client.request(ProduceApi, version, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: plain, partitionData: [{ index: 0, records: Buffer.alloc(0) }] }] });
      assert.equal(response.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    }
  });
});

describe('an excessively large CreateTopics is refused as a policy violation, not an unknown error', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker();
  });
  after(async () => {
    await broker.close();
  });

  it('60,000 partitions in one request: POLICY_VIOLATION for every topic it would have created, nothing created', async () => {
    const huge = uniqueTopic('huge');
    const small = uniqueTopic('small');
    const response = await createTopics(broker.client, [
      { name: huge, numPartitions: 60_000 },
      { name: small, numPartitions: 2 },
    ]);
    assert.deepEqual(
      response.topics.map(({ name, errorCode }) => ({ name, errorCode })),
      [
        { name: huge, errorCode: ErrorCode.POLICY_VIOLATION },
        { name: small, errorCode: ErrorCode.POLICY_VIOLATION },
      ],
    );
    assert.match(response.topics[0]?.errorMessage ?? '', /excessively large/);
    const described = await broker.client.request(MetadataApi, 12, { topics: [{ topicId: ZERO_UUID, name: huge }, { topicId: ZERO_UUID, name: small }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.deepEqual(described.topics.map((topic) => topic.errorCode), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    await createTopic(broker.client, small, 2);
  });
});
