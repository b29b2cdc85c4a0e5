// Authorization of the admin APIs against a broker with Kafka's StandardAuthorizer: for each API, a
// principal without the ACL Kafka 4.x's KafkaApis / ControllerApis ask for gets exactly Kafka's
// error in Kafka's response fields, and nothing changes (no topic created or deleted, no config,
// partition count, log start, credential or quorum changed); once granted, the same request does
// what it does without an authorizer. alice is granted ACLs per test, bob never has any, admin is
// a super user. CreateTopics, DeleteTopics, DeleteRecords, DescribeConfigs, AlterConfigs and
// IncrementalAlterConfigs, CreatePartitions and DescribeTopicPartitions authorize per topic (or per
// config resource); AlterReplicaLogDirs, DescribeLogDirs, ElectLeaders, the reassignment APIs, the
// SCRAM credential APIs, DescribeQuorum, ListConfigResources and the raft voter APIs on the
// cluster; DescribeCluster only in its authorized-operations bit field.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ZERO_UUID } from '../../src/base/uuid.js';
import { AUTHORIZED_OPERATIONS_OMITTED, operationsInBitField } from '../../src/broker/authorized-operations.js';
import {
  AddRaftVoterApi,
  AlterConfigsApi,
  AlterPartitionReassignmentsApi,
  AlterReplicaLogDirsApi,
  AlterUserScramCredentialsApi,
  CreatePartitionsApi,
  CreateTopicsApi,
  DeleteRecordsApi,
  DeleteTopicsApi,
  DescribeClusterApi,
  DescribeConfigsApi,
  DescribeLogDirsApi,
  DescribeQuorumApi,
  DescribeTopicPartitionsApi,
  DescribeUserScramCredentialsApi,
  ElectLeadersApi,
  IncrementalAlterConfigsApi,
  ListConfigResourcesApi,
  ListPartitionReassignmentsApi,
  RemoveRaftVoterApi,
} from '../../src/protocol/messages/index.js';
import type { RawClient } from '../support/raw-client.js';
import { AclOperation, AclResourceType, AuthorizedBroker, type Grant, PatternType, type User } from '../support/authorized-broker.js';
import { batchOf, createTopic, produceOk } from './helpers.js';

const { READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS } = AclOperation;
const CLUSTER = { resourceType: AclResourceType.CLUSTER, resourceName: 'kafka-cluster' };
const TOPIC_CONFIG = 2;
const BROKER_CONFIG = 4;
const BROKER_LOGGER_CONFIG = 8;

const alice = (operation: number, resource: { resourceType: number; resourceName: string; patternType?: number }): Grant => ({ principal: 'User:alice', operation, ...resource });
const topic = (resourceName: string, patternType?: number) => ({ resourceType: AclResourceType.TOPIC, resourceName, patternType });

describe('authorization of the admin APIs', { timeout: 60_000 }, () => {
  let broker: AuthorizedBroker;
  const clients = new Map<User, RawClient>();
  const raw = async (user: User) => {
    let client = clients.get(user);
    if (!client) {
      client = await broker.raw(user);
      clients.set(user, client);
    }
    return client;
  };
  const image = () => broker.running.broker.services.image;
  const nodeId = () => broker.running.nodeId;

  before(async () => {
    broker = await AuthorizedBroker.start();
  });
  afterEach(async () => {
    await broker.revokeAll();
  });
  after(async () => {
    for (const client of clients.values()) await client.close();
    await broker?.close();
  });

  it('CreateTopics: CREATE on the cluster or the topic, configs only with DESCRIBE_CONFIGS', async () => {
    const create = (user: User, names: string[], validateOnly = false) =>
      raw(user).then((client) =>
        client.request(CreateTopicsApi, 7, {
          topics: names.map((name) => ({ name, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '60000' }] })),
          timeoutMs: 10_000,
          validateOnly,
        }),
      );
    await createTopic(await raw('admin'), 'ct-existing');
    // bob may not create anything: not even told that ct-existing exists.
    const refused = await create('bob', ['ct-bob', 'ct-existing']);
    assert.deepEqual(
      refused.topics.map(({ name, errorCode, errorMessage, topicId, numPartitions, replicationFactor }) => ({ name, errorCode, errorMessage, topicId, numPartitions, replicationFactor })),
      ['ct-bob', 'ct-existing'].map((name) => ({ name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.', topicId: ZERO_UUID, numPartitions: -1, replicationFactor: -1 })),
    );
    assert.equal(image().topic('ct-bob'), undefined);

    // CREATE on ct-a* but no DESCRIBE_CONFIGS: created, without its configs (TopicConfigErrorCode).
    await broker.grant(alice(CREATE, topic('ct-a', PatternType.PREFIXED)), alice(DESCRIBE_CONFIGS, topic('ct-a-described')));
    const created = await create('alice', ['ct-a-plain', 'ct-a-described', 'ct-other']);
    const [plain, described, other] = created.topics;
    assert.deepEqual([plain!.errorCode, plain!.topicConfigErrorCode, plain!.numPartitions, plain!.replicationFactor, plain!.configs], [ErrorCode.NONE, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1, -1, []]);
    assert.equal(plain!.topicId, image().topic('ct-a-plain')?.topicId);
    assert.deepEqual([described!.errorCode, described!.topicConfigErrorCode, described!.numPartitions, described!.replicationFactor], [ErrorCode.NONE, ErrorCode.NONE, 2, 1]);
    assert.equal(described!.configs?.find((config) => config.name === 'retention.ms')?.value, '60000');
    assert.deepEqual([other!.name, other!.errorCode], ['ct-other', ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
    assert.ok(image().topic('ct-a-described'));
    assert.equal(image().topic('ct-other'), undefined);
    // Authorized for an existing topic, alice learns it exists.
    assert.equal((await create('alice', ['ct-a-plain'])).topics[0]!.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);

    // CREATE on the cluster: any topic; __cluster_metadata never.
    await broker.grant(alice(CREATE, CLUSTER));
    const anyTopic = await create('alice', ['ct-anything', '__cluster_metadata'], true);
    assert.deepEqual(
      anyTopic.topics.map(({ name, errorCode, errorMessage }) => [name, errorCode, errorMessage]),
      [
        ['ct-anything', ErrorCode.NONE, null],
        ['__cluster_metadata', ErrorCode.INVALID_REQUEST, 'Creation of internal topic __cluster_metadata is prohibited.'],
      ],
    );

    // kafkajs's admin sees the refusal as Kafka's error.
    const admin = broker.kafka('bob').admin();
    await admin.connect();
    try {
      await assert.rejects(admin.createTopics({ topics: [{ topic: 'ct-kafkajs' }] }), (error: Error & { errors?: { type?: string }[] }) => error.errors?.[0]?.type === 'TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await admin.disconnect();
    }
    assert.equal(image().topic('ct-kafkajs'), undefined);
  });

  it('DeleteTopics: DELETE on the topic (or the cluster); without DESCRIBE nothing about the topic is disclosed', async () => {
    const admin = await raw('admin');
    for (const name of ['dt-1', 'dt-2', 'dt-3']) await createTopic(admin, name);
    const idOf = (name: string) => image().topic(name)!.topicId;
    const dt1 = idOf('dt-1');
    const unknownId = 'AAAAAAAAAAAAAAAAAAAAAQ';
    const byName = (name: string) => ({ name, topicId: ZERO_UUID });
    const byId = (topicId: string) => ({ name: null, topicId });
    const deleteTopics = async (user: User, topics: { name: string | null; topicId: string }[]) =>
      (await (await raw(user)).request(DeleteTopicsApi, 6, { topics, timeoutMs: 10_000 })).responses.map(({ name, topicId, errorCode, errorMessage }) => ({ name, topicId, errorCode, errorMessage }));
    const refused = (name: string | null, topicId = ZERO_UUID) => ({ name, topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' });

    // Nothing granted: an existing and a missing topic look the same; an id's name is not given.
    assert.deepEqual(await deleteTopics('bob', [byName('dt-1'), byName('dt-missing'), byId(dt1)]), [refused('dt-1'), refused('dt-missing'), refused(null, dt1)]);
    // An unknown id is the controller's answer, before any authorization (as in Kafka).
    assert.deepEqual((await deleteTopics('bob', [byId(unknownId)])).map(({ errorCode }) => errorCode), [ErrorCode.UNKNOWN_TOPIC_ID]);

    // DESCRIBE on dt-*: missing topics are told apart, the id's name is given, still nothing deleted.
    await broker.grant(alice(DESCRIBE, topic('dt-', PatternType.PREFIXED)));
    assert.deepEqual(await deleteTopics('alice', [byName('dt-1'), byName('dt-missing'), byId(dt1)]), [
      refused('dt-1'),
      { name: 'dt-missing', topicId: ZERO_UUID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'topic does not exist' },
      refused('dt-1', dt1),
    ]);
    assert.ok(image().topic('dt-1'));

    // DELETE on dt-2 (which implies DESCRIBE): deleted, by id as by name.
    await broker.grant(alice(DELETE, topic('dt-2')));
    const dt2 = idOf('dt-2');
    assert.deepEqual(await deleteTopics('alice', [byId(dt2), byName('dt-1')]), [refused('dt-1'), { name: 'dt-2', topicId: dt2, errorCode: ErrorCode.NONE, errorMessage: null }]);
    assert.equal(image().topic('dt-2'), undefined);
    // DELETE on the cluster: every topic.
    await broker.grant(alice(DELETE, CLUSTER));
    const dt3 = idOf('dt-3');
    assert.deepEqual(await deleteTopics('alice', [byName('dt-3')]), [{ name: 'dt-3', topicId: dt3, errorCode: ErrorCode.NONE, errorMessage: null }]);
    assert.equal(image().topic('dt-3'), undefined);
    assert.ok(image().topic('dt-1'), 'dt-1 was never deleted');
  });

  it('DeleteRecords: DELETE on the topic', async () => {
    const admin = await raw('admin');
    await createTopic(admin, 'dr');
    await produceOk(admin, 'dr', 0, batchOf(['a', 'b', 'c']));
    const deleteRecords = async (user: User) =>
      (await (await raw(user)).request(DeleteRecordsApi, 2, { topics: [{ name: 'dr', partitions: [{ partitionIndex: 0, offset: 2n }] }, { name: 'dr-missing', partitions: [{ partitionIndex: 0, offset: 0n }] }], timeoutMs: 10_000 })).topics;
    const logStart = () => broker.running.broker.services.replicaManager.get('dr', 0)!.log.logStartOffset;
    assert.deepEqual(await deleteRecords('bob'), [
      { name: 'dr', partitions: [{ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }] },
      { name: 'dr-missing', partitions: [{ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }] },
    ]);
    assert.equal(logStart(), 0);
    await broker.grant(alice(DELETE, topic('dr')), alice(READ, topic('dr-missing')));
    assert.deepEqual(await deleteRecords('alice'), [
      { name: 'dr', partitions: [{ partitionIndex: 0, lowWatermark: 2n, errorCode: ErrorCode.NONE }] },
      { name: 'dr-missing', partitions: [{ partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }] },
    ]);
    assert.equal(logStart(), 2);
  });

  it('DescribeConfigs: DESCRIBE_CONFIGS on the topic, on the cluster for broker resources', async () => {
    await createTopic(await raw('admin'), 'dc', 1, { 'retention.ms': '123456' });
    const resources = [
      { resourceType: TOPIC_CONFIG, resourceName: 'dc', configurationKeys: ['retention.ms'] },
      { resourceType: TOPIC_CONFIG, resourceName: 'dc-missing', configurationKeys: null },
      { resourceType: BROKER_CONFIG, resourceName: String(nodeId()), configurationKeys: ['log.retention.ms'] },
      { resourceType: BROKER_LOGGER_CONFIG, resourceName: String(nodeId()), configurationKeys: null },
    ];
    const describeConfigs = async (user: User) =>
      (await (await raw(user)).request(DescribeConfigsApi, 4, { resources, includeSynonyms: false, includeDocumentation: false })).results.map(({ resourceName, errorCode, errorMessage, configs }) => ({
        resourceName,
        errorCode,
        errorMessage,
        values: configs.map(({ name, value }) => `${name}=${value}`),
      }));
    const topicRefused = { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.', values: [] };
    const clusterRefused = { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', values: [] };
    assert.deepEqual(await describeConfigs('bob'), [
      { resourceName: 'dc', ...topicRefused },
      { resourceName: 'dc-missing', ...topicRefused },
      { resourceName: String(nodeId()), ...clusterRefused },
      { resourceName: String(nodeId()), ...clusterRefused },
    ]);
    // ALTER_CONFIGS implies DESCRIBE_CONFIGS; the cluster's covers broker resources, not topics.
    await broker.grant(alice(ALTER_CONFIGS, topic('dc')), alice(DESCRIBE_CONFIGS, topic('dc-missing')), alice(DESCRIBE_CONFIGS, CLUSTER));
    const described = await describeConfigs('alice');
    assert.deepEqual(described.slice(0, 3), [
      { resourceName: 'dc', errorCode: ErrorCode.NONE, errorMessage: null, values: ['retention.ms=123456'] },
      { resourceName: 'dc-missing', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: "topic 'dc-missing' does not exist", values: [] },
      { resourceName: String(nodeId()), errorCode: ErrorCode.NONE, errorMessage: null, values: ['log.retention.ms=null'] },
    ]);
    // Broker loggers get past authorization, then Conveyor's answer for a type it does not serve.
    assert.equal(described[3]!.errorCode, ErrorCode.INVALID_REQUEST);

    const kafka = broker.kafka('bob').admin();
    await kafka.connect();
    try {
      const result = await kafka.describeConfigs({ resources: [{ type: TOPIC_CONFIG, name: 'dc' }], includeSynonyms: false });
      assert.deepEqual(result.resources.map(({ errorCode, configEntries }) => [errorCode, configEntries.length]), [[ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0]]);
    } catch (error) {
      // kafkajs may raise the resource's error instead of returning it.
      assert.equal((error as { type?: string }).type, 'TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await kafka.disconnect();
    }
  });

  it('IncrementalAlterConfigs: ALTER_CONFIGS on the topic or the cluster, after the checks Kafka makes first', async () => {
    await createTopic(await raw('admin'), 'iac');
    const retention = () => image().resourceConfigs(TOPIC_CONFIG, 'iac').get('retention.ms');
    const set = (name: string, value: string | null) => ({ name, configOperation: 0, value });
    const alter = async (user: User, resources: { resourceType: number; resourceName: string; configs: ReturnType<typeof set>[] }[]) =>
      (await (await raw(user)).request(IncrementalAlterConfigsApi, 1, { resources, validateOnly: false })).responses.map(({ resourceType, resourceName, errorCode, errorMessage }) => [resourceType, resourceName, errorCode, errorMessage]);
    const requests = [
      { resourceType: TOPIC_CONFIG, resourceName: 'iac', configs: [set('retention.ms', '1000')] },
      { resourceType: TOPIC_CONFIG, resourceName: 'iac-missing', configs: [set('retention.ms', '1000')] },
      { resourceType: BROKER_CONFIG, resourceName: '', configs: [set('log.retention.ms', '1000')] },
      { resourceType: BROKER_LOGGER_CONFIG, resourceName: String(nodeId()), configs: [set('root', 'DEBUG')] },
    ];
    assert.deepEqual(await alter('bob', requests), [
      [TOPIC_CONFIG, 'iac', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.'],
      [TOPIC_CONFIG, 'iac-missing', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.'],
      [BROKER_CONFIG, '', ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.'],
      [BROKER_LOGGER_CONFIG, String(nodeId()), ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.'],
    ]);
    assert.equal(retention(), undefined);
    assert.equal(image().resourceConfigs(BROKER_CONFIG, '').get('log.retention.ms'), undefined);
    // Refused before authorization, as Kafka's broker does: a resource named twice, a key named twice,
    // a null value, and an invalid broker change (validated before ALTER_CONFIGS is asked).
    assert.deepEqual(
      await alter('bob', [
        { resourceType: TOPIC_CONFIG, resourceName: 'twice', configs: [] },
        { resourceType: TOPIC_CONFIG, resourceName: 'twice', configs: [] },
        { resourceType: TOPIC_CONFIG, resourceName: 'iac', configs: [set('retention.ms', '1'), set('retention.ms', '2')] },
        { resourceType: TOPIC_CONFIG, resourceName: 'iac-null', configs: [set('retention.ms', null)] },
        { resourceType: BROKER_CONFIG, resourceName: String(nodeId()), configs: [set('log.dirs', '/elsewhere')] },
      ]).then((results) => results.map(([, name, errorCode, errorMessage]) => [name, errorCode, errorMessage])),
      [
        ['twice', ErrorCode.INVALID_REQUEST, 'resource appears more than once in the request'],
        ['twice', ErrorCode.INVALID_REQUEST, 'resource appears more than once in the request'],
        ['iac', ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys'],
        ['iac-null', ErrorCode.INVALID_REQUEST, 'Null value not supported for : retention.ms'],
        [String(nodeId()), ErrorCode.INVALID_REQUEST, 'log.dirs: cannot be changed while the broker runs; set it in server.properties'],
      ],
    );

    await broker.grant(alice(ALTER_CONFIGS, topic('iac')), alice(ALTER_CONFIGS, CLUSTER));
    const altered = await alter('alice', requests);
    assert.deepEqual(altered.slice(0, 3), [
      [TOPIC_CONFIG, 'iac', ErrorCode.NONE, null],
      [TOPIC_CONFIG, 'iac-missing', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.'],
      [BROKER_CONFIG, '', ErrorCode.NONE, null],
    ]);
    assert.equal(altered[3]![2], ErrorCode.INVALID_REQUEST, 'authorized, a broker logger gets Conveyor’s answer for a type it does not serve');
    assert.equal(retention(), '1000');
    assert.equal(image().resourceConfigs(BROKER_CONFIG, '').get('log.retention.ms'), '1000');
  });

  it('AlterConfigs: ALTER_CONFIGS on the topic or the cluster; broker loggers are unknown to it', async () => {
    await createTopic(await raw('admin'), 'ac');
    const alter = async (user: User) =>
      (
        await (await raw(user)).request(AlterConfigsApi, 2, {
          resources: [
            { resourceType: TOPIC_CONFIG, resourceName: 'ac', configs: [{ name: 'retention.ms', value: '2000' }] },
            { resourceType: BROKER_CONFIG, resourceName: String(nodeId()), configs: [{ name: 'log.cleaner.threads', value: '2' }] },
            { resourceType: BROKER_LOGGER_CONFIG, resourceName: String(nodeId()), configs: [] },
          ],
          validateOnly: false,
        })
      ).responses.map(({ resourceType, errorCode, errorMessage }) => [resourceType, errorCode, errorMessage]);
    const [topicResult, brokerResult, loggerResult] = await alter('bob');
    assert.deepEqual(topicResult, [TOPIC_CONFIG, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.']);
    assert.deepEqual(brokerResult, [BROKER_CONFIG, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.']);
    assert.equal(loggerResult![1], ErrorCode.INVALID_REQUEST, 'the legacy API refuses broker loggers before authorizing');
    assert.equal(image().resourceConfigs(TOPIC_CONFIG, 'ac').get('retention.ms'), undefined);

    await broker.grant(alice(ALTER_CONFIGS, topic('ac')), alice(ALTER_CONFIGS, CLUSTER));
    const granted = await alter('alice');
    assert.deepEqual(granted.slice(0, 2), [
      [TOPIC_CONFIG, ErrorCode.NONE, null],
      [BROKER_CONFIG, ErrorCode.NONE, null],
    ]);
    assert.equal(image().resourceConfigs(TOPIC_CONFIG, 'ac').get('retention.ms'), '2000');
  });

  it('CreatePartitions: ALTER on the topic', async () => {
    await createTopic(await raw('admin'), 'cp');
    const grow = async (user: User, topics: string[]) =>
      (await (await raw(user)).request(CreatePartitionsApi, 3, { topics: topics.map((name) => ({ name, count: 2, assignments: null })), timeoutMs: 10_000, validateOnly: false })).results;
    assert.deepEqual(await grow('bob', ['cp', 'cp-missing', 'cp-twice', 'cp-twice']), [
      { name: 'cp', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null },
      { name: 'cp-missing', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null },
      { name: 'cp-twice', errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "topic 'cp-twice' appears more than once in the request" },
      { name: 'cp-twice', errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "topic 'cp-twice' appears more than once in the request" },
    ]);
    assert.equal(image().topic('cp')!.partitions.size, 1);
    await broker.grant(alice(ALTER, topic('cp')));
    assert.deepEqual(await grow('alice', ['cp']), [{ name: 'cp', errorCode: ErrorCode.NONE, errorMessage: null }]);
    assert.equal(image().topic('cp')!.partitions.size, 2);
  });

  it('DescribeTopicPartitions: DESCRIBE on each topic; refused topics after the page, or left out when all are asked for', async () => {
    const admin = await raw('admin');
    for (const name of ['dtp-a', 'dtp-b', 'dtp-c']) await createTopic(admin, name);
    const describeTopics = async (user: User, names: string[], responsePartitionLimit = 2000) =>
      (await (await raw(user)).request(DescribeTopicPartitionsApi, 0, { topics: names.map((name) => ({ name })), responsePartitionLimit, cursor: null })) as {
        topics: { name: string | null; errorCode: number; topicId: string; partitions: unknown[]; topicAuthorizedOperations: number }[];
        nextCursor: { topicName: string; partitionIndex: number } | null;
      };
    await broker.grant(alice(DESCRIBE, topic('dtp-a')), alice(DELETE, topic('dtp-c')));
    const named = await describeTopics('alice', ['dtp-c', 'dtp-b', 'dtp-a', 'dtp-missing']);
    assert.deepEqual(
      named.topics.map(({ name, errorCode, topicId, partitions, topicAuthorizedOperations }) => [name, errorCode, topicId === ZERO_UUID, partitions.length, topicAuthorizedOperations]),
      [
        ['dtp-a', ErrorCode.NONE, false, 1, 1 << DESCRIBE],
        ['dtp-c', ErrorCode.NONE, false, 1, (1 << DELETE) | (1 << DESCRIBE)],
        ['dtp-b', ErrorCode.TOPIC_AUTHORIZATION_FAILED, true, 0, AUTHORIZED_OPERATIONS_OMITTED],
        ['dtp-missing', ErrorCode.TOPIC_AUTHORIZATION_FAILED, true, 0, AUTHORIZED_OPERATIONS_OMITTED],
      ],
    );
    // Every topic: only those alice may describe, silently.
    const all = await describeTopics('alice', []);
    assert.deepEqual(all.topics.map(({ name }) => name), ['dtp-a', 'dtp-c']);
    // A page of one partition: the cursor names the next topic alice may describe.
    const paged = await describeTopics('alice', ['dtp-a', 'dtp-b', 'dtp-c'], 1);
    assert.deepEqual([paged.topics.map(({ name, errorCode }) => [name, errorCode]), paged.nextCursor], [
      [
        ['dtp-a', ErrorCode.NONE],
        ['dtp-b', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ],
      { topicName: 'dtp-c', partitionIndex: 0 },
    ]);
    assert.deepEqual((await describeTopics('bob', [])).topics, []);
    const everything = (await describeTopics('admin', ['dtp-a'])).topics[0]!.topicAuthorizedOperations;
    assert.deepEqual(operationsInBitField(everything), [READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS].sort((a, b) => a - b));
  });

  it('DescribeLogDirs (DESCRIBE) and AlterReplicaLogDirs (ALTER) on the cluster', async () => {
    await createTopic(await raw('admin'), 'ld');
    const describeDirs = async (user: User, version = 4) => (await raw(user)).request(DescribeLogDirsApi, version, { topics: null });
    const refused = await describeDirs('bob');
    assert.deepEqual([refused.errorCode, refused.results], [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, []]);
    assert.deepEqual((await describeDirs('bob', 2)).results, []);
    const [dir] = (await describeDirs('admin')).results;
    const alterDirs = async (user: User) =>
      (await (await raw(user)).request(AlterReplicaLogDirsApi, 2, { dirs: [{ path: dir!.logDir, topics: [{ name: 'ld', partitions: [0] }] }, { path: '/nowhere', topics: [{ name: 'ld', partitions: [0] }] }] })).results;
    assert.deepEqual(await alterDirs('bob'), [
      { topicName: 'ld', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED }] },
      { topicName: 'ld', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED }] },
    ]);
    await broker.grant(alice(DESCRIBE, CLUSTER));
    const described = await describeDirs('alice');
    assert.equal(described.errorCode, ErrorCode.NONE);
    assert.ok(described.results[0]!.topics.some(({ name }) => name === 'ld'));
    assert.equal((await alterDirs('alice'))[0]!.partitions[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'DESCRIBE is not ALTER');
    await broker.grant(alice(ALTER, CLUSTER));
    assert.deepEqual(await alterDirs('alice'), [{ topicName: 'ld', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NONE }, { partitionIndex: 0, errorCode: ErrorCode.LOG_DIR_NOT_FOUND }] }]);
  });

  it('ElectLeaders and AlterPartitionReassignments need ALTER, ListPartitionReassignments DESCRIBE, on the cluster', async () => {
    await createTopic(await raw('admin'), 'el');
    const elect = async (user: User, electionType = 0) => (await raw(user)).request(ElectLeadersApi, 2, { electionType, topicPartitions: [{ topic: 'el', partitions: [0] }], timeoutMs: 10_000 });
    const reassign = async (user: User) => (await raw(user)).request(AlterPartitionReassignmentsApi, 1, { timeoutMs: 10_000, allowReplicationFactorChange: true, topics: [{ name: 'el', partitions: [{ partitionIndex: 0, replicas: null }] }] });
    const list = async (user: User) => (await raw(user)).request(ListPartitionReassignmentsApi, 0, { timeoutMs: 10_000, topics: [{ name: 'el', partitionIndexes: [0] }] });
    const { CLUSTER_AUTHORIZATION_FAILED } = ErrorCode;
    // Authorized before the request is looked at: even a bad election type is refused for that.
    for (const electionType of [0, 5]) {
      const refused = await elect('bob', electionType);
      assert.deepEqual([refused.errorCode, refused.replicaElectionResults], [CLUSTER_AUTHORIZATION_FAILED, [{ topic: 'el', partitionResult: [{ partitionId: 0, errorCode: CLUSTER_AUTHORIZATION_FAILED, errorMessage: null }] }]]);
    }
    const refusedMove = await reassign('bob');
    assert.deepEqual([refusedMove.errorCode, refusedMove.responses], [CLUSTER_AUTHORIZATION_FAILED, [{ name: 'el', partitions: [{ partitionIndex: 0, errorCode: CLUSTER_AUTHORIZATION_FAILED, errorMessage: null }] }]]);
    const refusedList = await list('bob');
    assert.deepEqual([refusedList.errorCode, refusedList.topics], [CLUSTER_AUTHORIZATION_FAILED, [{ name: 'el', partitions: [{ partitionIndex: 0, replicas: [], addingReplicas: [], removingReplicas: [] }] }]]);

    await broker.grant(alice(DESCRIBE, CLUSTER));
    assert.deepEqual([(await list('alice')).errorCode, (await list('alice')).topics], [ErrorCode.NONE, []]);
    assert.equal((await elect('alice')).errorCode, CLUSTER_AUTHORIZATION_FAILED);
    await broker.grant(alice(ALTER, CLUSTER));
    const elected = await elect('alice');
    assert.deepEqual([elected.errorCode, elected.replicaElectionResults[0]!.partitionResult[0]!.errorCode], [ErrorCode.NONE, ErrorCode.ELECTION_NOT_NEEDED]);
    const moved = await reassign('alice');
    assert.deepEqual([moved.errorCode, moved.responses[0]!.partitions[0]!.errorCode], [ErrorCode.NONE, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS]);
  });

  it('DescribeUserScramCredentials (DESCRIBE) and AlterUserScramCredentials (ALTER) on the cluster', async () => {
    const upsertion = (name: string) => ({ name, mechanism: 1, iterations: 4096, salt: Buffer.alloc(16, 1), saltedPassword: Buffer.alloc(32, 2) });
    const alterScram = async (user: User) => (await (await raw(user)).request(AlterUserScramCredentialsApi, 0, { deletions: [{ name: 'zed', mechanism: 1 }], upsertions: [upsertion('carol'), upsertion('zed')] })).results;
    const describeScram = async (user: User, users: string[] | null) => (await raw(user)).request(DescribeUserScramCredentialsApi, 0, { users: users?.map((name) => ({ name })) ?? null });
    assert.deepEqual(await alterScram('bob'), [
      { user: 'carol', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null },
      { user: 'zed', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null },
    ]);
    assert.deepEqual(await describeScram('bob', ['carol', 'dave']), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      errorMessage: 'Cluster authorization failed.',
      results: [0, 1].map(() => ({ user: '', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', credentialInfos: [] })),
    });
    assert.equal((await describeScram('admin', ['carol'])).results[0]!.errorCode, ErrorCode.RESOURCE_NOT_FOUND, 'bob created nothing');

    await broker.grant(alice(DESCRIBE, CLUSTER));
    const listed = await describeScram('alice', null);
    assert.deepEqual([listed.errorCode, listed.results], [ErrorCode.NONE, []]);
    assert.equal((await alterScram('alice'))[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    await broker.grant(alice(ALTER, CLUSTER));
    assert.deepEqual(await alterScram('alice'), [{ user: 'carol', errorCode: ErrorCode.NONE, errorMessage: null }, { user: 'zed', errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: 'Attempt to delete a user credential that does not exist' }]);
    assert.deepEqual((await describeScram('alice', ['carol'])).results, [{ user: 'carol', errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: [{ mechanism: 1, iterations: 4096 }] }]);
  });

  it('DescribeQuorum (DESCRIBE), AddRaftVoter and RemoveRaftVoter (ALTER) on the cluster', async () => {
    const describeQuorum = async (user: User) => (await raw(user)).request(DescribeQuorumApi, 2, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
    const addVoter = async (user: User) => (await raw(user)).request(AddRaftVoterApi, 0, { clusterId: null, timeoutMs: 5_000, voterId: 7, voterDirectoryId: ZERO_UUID, listeners: [] });
    const removeVoter = async (user: User) => (await raw(user)).request(RemoveRaftVoterApi, 0, { clusterId: null, voterId: 7, voterDirectoryId: 'q1mx0PdXRWKVKvyB4Upr7g' });
    const refused = { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
    assert.deepEqual(await describeQuorum('bob'), { ...refused, topics: [], nodes: [] });
    assert.deepEqual(await addVoter('bob'), { throttleTimeMs: 0, ...refused });
    assert.deepEqual(await removeVoter('bob'), { throttleTimeMs: 0, ...refused });

    await broker.grant(alice(DESCRIBE, CLUSTER));
    const quorum = await describeQuorum('alice');
    assert.deepEqual([quorum.errorCode, quorum.topics[0]!.partitions[0]!.leaderId], [ErrorCode.NONE, nodeId()]);
    assert.equal((await addVoter('alice')).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    await broker.grant(alice(ALTER, CLUSTER));
    // Past authorization, the quorum's own answers: a voter without a directory id, an unknown voter.
    assert.equal((await addVoter('alice')).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await removeVoter('alice')).errorCode, ErrorCode.VOTER_NOT_FOUND);
    assert.deepEqual(broker.running.broker.services.quorum.raft.voterSet.map(({ id }) => id), [nodeId()]);
  });

  it('DescribeCluster authorizes only its bit field: the cluster operations allowed with DESCRIBE on it, else 0', async () => {
    const describeCluster = async (user: User, includeClusterAuthorizedOperations = true) =>
      (await raw(user)).request(DescribeClusterApi, 2, { includeClusterAuthorizedOperations, endpointType: 1, includeFencedBrokers: false });
    const bob = await describeCluster('bob');
    assert.deepEqual([bob.errorCode, bob.brokers.map(({ brokerId }) => brokerId), bob.clusterAuthorizedOperations], [ErrorCode.NONE, [nodeId()], 0]);
    assert.equal((await describeCluster('bob', false)).clusterAuthorizedOperations, AUTHORIZED_OPERATIONS_OMITTED);
    // CREATE alone does not let alice see the field; with ALTER (which implies DESCRIBE) she sees both.
    await broker.grant(alice(CREATE, CLUSTER));
    assert.equal((await describeCluster('alice')).clusterAuthorizedOperations, 0);
    await broker.grant(alice(ALTER, CLUSTER));
    assert.deepEqual(operationsInBitField((await describeCluster('alice')).clusterAuthorizedOperations), [CREATE, ALTER, DESCRIBE]);
    assert.equal(operationsInBitField((await describeCluster('admin')).clusterAuthorizedOperations).length, 7);
  });

  it('ListConfigResources needs DESCRIBE_CONFIGS on the cluster, checked before the resource types', async () => {
    await createTopic(await raw('admin'), 'lcr');
    const list = async (user: User, resourceTypes: number[]) => (await raw(user)).request(ListConfigResourcesApi, 1, { resourceTypes });
    assert.deepEqual(await list('bob', [TOPIC_CONFIG]), { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, configResources: [] });
    assert.equal((await list('bob', [99])).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.equal((await (await raw('bob')).request(ListConfigResourcesApi, 0, {})).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    await broker.grant(alice(DESCRIBE_CONFIGS, CLUSTER));
    const listed = await list('alice', [TOPIC_CONFIG]);
    assert.equal(listed.errorCode, ErrorCode.NONE);
    assert.ok(listed.configResources.some(({ resourceName }) => resourceName === 'lcr'));
    assert.equal((await list('alice', [99])).errorCode, ErrorCode.UNSUPPORTED_VERSION);
  });
});
