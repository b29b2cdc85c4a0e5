// The Kafka 4.x APIs a single broker answers the way a cluster would, over real TCP against an
// in-process broker: DescribeTopicPartitions (sorting, unknown topics, paging with cursors),
// ListConfigResources v0/v1, DescribeProducers after a kafkajs idempotent and transactional
// producer, ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments (also through
// kafkajs's admin client), AlterReplicaLogDirs and DescribeQuorum; and the same answers decoded by
// @platformatic/kafka's own codecs.
import '../support/polyfills.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import {
  AlterPartitionReassignmentsApi,
  AlterReplicaLogDirsApi,
  ApiVersionsApi,
  DescribeLogDirsApi,
  DescribeProducersApi,
  DescribeQuorumApi,
  DescribeTopicPartitionsApi,
  type DescribeTopicPartitionsResponse,
  DescribeTransactionsApi,
  ElectLeadersApi,
  ListConfigResourcesApi,
  ListPartitionReassignmentsApi,
  ZERO_UUID,
} from '../../src/protocol/messages/index.js';
import { type TestBroker, createTopic, metadata, startTestBroker, uniqueTopic } from './helpers.js';
import { operationsInBitField } from '../../src/broker/authorized-operations.js';

const platformatic = await import('@platformatic/kafka').catch(() => undefined);

const METADATA_TOPIC = '__cluster_metadata';
/** READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS. */
const TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11];

/** Topics as name -> partition indexes, for comparing pages. */
function pageShape(response: DescribeTopicPartitionsResponse): [string | null, number[]][] {
  return response.topics.map((topic) => [topic.name, topic.partitions.map((partition) => partition.partitionIndex)]);
}

describe('Kafka 4.x APIs on a single broker', () => {
  let broker: TestBroker;
  let nodeId: number;
  // Three topics whose names sort a < b < c within this run.
  const prefix = uniqueTopic('k4');
  const [a, b, c] = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];

  before(async () => {
    broker = await startTestBroker();
    nodeId = broker.running.nodeId;
    await createTopic(broker.client, c, 1);
    await createTopic(broker.client, a, 3);
    await createTopic(broker.client, b, 2);
  });
  after(async () => {
    await broker?.close();
  });

  it('ApiVersions advertises each new API with its versions', async () => {
    const response = await broker.client.request(ApiVersionsApi, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    const served = new Map(response.apiKeys.map((key) => [key.apiKey, `${key.minVersion}-${key.maxVersion}`]));
    assert.deepEqual(
      [34, 43, 45, 46, 55, 61, 74, 75].map((key) => [key, served.get(key)]),
      [
        [34, '1-2'],
        [43, '0-2'],
        [45, '0-1'],
        [46, '0-0'],
        [55, '0-2'],
        [61, '0-0'],
        [74, '0-1'],
        [75, '0-0'],
      ],
    );
  });

  describe('DescribeTopicPartitions', () => {
    const describeTopics = (names: string[], responsePartitionLimit = 2000, cursor: { topicName: string; partitionIndex: number } | null = null) =>
      broker.client.request(DescribeTopicPartitionsApi, 0, { topics: names.map((name) => ({ name })), responsePartitionLimit, cursor });

    it('describes the named topics sorted by name, with partitions as Metadata has them', async () => {
      const missing = `${prefix}-b-missing`;
      const response = await describeTopics([c, missing, a, b]);
      assert.deepEqual(pageShape(response), [
        [a, [0, 1, 2]],
        [b, [0, 1]],
        [missing, []],
        [c, [0]],
      ]);
      assert.equal(response.nextCursor, null);
      const known = await metadata(broker.client, [a]);
      const topicA = response.topics[0]!;
      assert.equal(topicA.errorCode, ErrorCode.NONE);
      assert.equal(topicA.topicId, known.topics[0]!.topicId);
      assert.equal(topicA.isInternal, false);
      assert.deepEqual(operationsInBitField(topicA.topicAuthorizedOperations), TOPIC_OPERATIONS);
      for (const partition of topicA.partitions) {
        const fromMetadata = known.topics[0]!.partitions.find((entry) => entry.partitionIndex === partition.partitionIndex)!;
        assert.deepEqual(
          {
            errorCode: partition.errorCode,
            leaderId: partition.leaderId,
            leaderEpoch: partition.leaderEpoch,
            replicaNodes: partition.replicaNodes,
            isrNodes: partition.isrNodes,
            eligibleLeaderReplicas: partition.eligibleLeaderReplicas,
            lastKnownElr: partition.lastKnownElr,
            offlineReplicas: partition.offlineReplicas,
          },
          {
            errorCode: ErrorCode.NONE,
            leaderId: nodeId,
            leaderEpoch: fromMetadata.leaderEpoch,
            replicaNodes: [nodeId],
            isrNodes: [nodeId],
            eligibleLeaderReplicas: [],
            lastKnownElr: [],
            offlineReplicas: [],
          },
        );
      }
      const unknown = response.topics[2]!;
      assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.equal(unknown.topicId, ZERO_UUID);
    });

    it('answers INVALID_TOPIC_EXCEPTION for an illegal topic name', async () => {
      const response = await describeTopics(['bad name!']);
      assert.equal(response.topics[0]!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    });

    it('pages by ResponsePartitionLimit, resuming at NextCursor', async () => {
      const first = await describeTopics([a, b, c], 2);
      assert.deepEqual(pageShape(first), [[a, [0, 1]]]);
      assert.deepEqual(first.nextCursor, { topicName: a, partitionIndex: 2 });
      const second = await describeTopics([a, b, c], 2, first.nextCursor);
      assert.deepEqual(pageShape(second), [
        [a, [2]],
        [b, [0]],
      ]);
      assert.deepEqual(second.nextCursor, { topicName: b, partitionIndex: 1 });
      const third = await describeTopics([a, b, c], 2, second.nextCursor);
      assert.deepEqual(pageShape(third), [
        [b, [1]],
        [c, [0]],
      ]);
      assert.equal(third.nextCursor, null);
    });

    it('points the cursor at the next topic when a page ends at a topic boundary, and reads a limit below 1 as 1', async () => {
      const exact = await describeTopics([a, b, c], 3);
      assert.deepEqual(pageShape(exact), [[a, [0, 1, 2]]]);
      assert.deepEqual(exact.nextCursor, { topicName: b, partitionIndex: 0 });
      const tiny = await describeTopics([b], 0);
      assert.deepEqual(pageShape(tiny), [[b, [0]]]);
      assert.deepEqual(tiny.nextCursor, { topicName: b, partitionIndex: 1 });
    });

    it('describes every topic for an empty list, sorted, from the cursor on', async () => {
      const all = await describeTopics([]);
      const names = all.topics.map((topic) => topic.name!);
      assert.deepEqual(names, [...names].sort());
      for (const name of [a, b, c]) assert.ok(names.includes(name), `${name} listed`);
      assert.ok(all.topics.every((topic) => topic.errorCode === ErrorCode.NONE));
      const fromB = await describeTopics([], 2000, { topicName: b, partitionIndex: 1 });
      assert.deepEqual(fromB.topics[0] && pageShape({ ...fromB, topics: [fromB.topics[0]] }), [[b, [1]]]);
      assert.ok(!fromB.topics.some((topic) => topic.name === a));
    });

    it('refuses a cursor outside the requested topics or with a negative partition (INVALID_REQUEST)', async () => {
      const outside = await describeTopics([a, b], 2000, { topicName: c, partitionIndex: 0 });
      assert.deepEqual(
        outside.topics.map((topic) => [topic.name, topic.errorCode]),
        [
          [a, ErrorCode.INVALID_REQUEST],
          [b, ErrorCode.INVALID_REQUEST],
        ],
      );
      const negative = await describeTopics([a], 2000, { topicName: a, partitionIndex: -1 });
      assert.deepEqual(
        negative.topics.map((topic) => topic.errorCode),
        [ErrorCode.INVALID_REQUEST],
      );
    });
  });

  describe('ListConfigResources', () => {
    it('v0 (ListClientMetricsResources) lists client-metrics resources: none', async () => {
      const response = await broker.client.request(ListConfigResourcesApi, 0, {});
      assert.deepEqual(response, { throttleTimeMs: 0, errorCode: ErrorCode.NONE, configResources: [] });
    });

    it('v1 with no types lists brokers, broker loggers and topics in Kafka order', async () => {
      const response = await broker.client.request(ListConfigResourcesApi, 1, { resourceTypes: [] });
      assert.equal(response.errorCode, ErrorCode.NONE);
      const types = response.configResources.map((resource) => resource.resourceType);
      assert.deepEqual([...new Set(types)], [8, 4, 2]);
      const named = (type: number) => response.configResources.filter((resource) => resource.resourceType === type).map((resource) => resource.resourceName);
      assert.deepEqual(named(8), [String(nodeId)]);
      assert.deepEqual(named(4), [String(nodeId)]);
      const topics = named(2);
      assert.deepEqual(topics, [...topics].sort());
      for (const name of [a, b, c]) assert.ok(topics.includes(name), `${name} listed`);
    });

    it('v1 lists only the requested types, and fails with UNSUPPORTED_VERSION for an unknown type', async () => {
      const topicsOnly = await broker.client.request(ListConfigResourcesApi, 1, { resourceTypes: [2] });
      assert.ok(topicsOnly.configResources.length >= 3);
      assert.ok(topicsOnly.configResources.every((resource) => resource.resourceType === 2));
      const groupsAndMetrics = await broker.client.request(ListConfigResourcesApi, 1, { resourceTypes: [32, 16] });
      assert.deepEqual(groupsAndMetrics.configResources, []);
      assert.equal(groupsAndMetrics.errorCode, ErrorCode.NONE);
      const unknown = await broker.client.request(ListConfigResourcesApi, 1, { resourceTypes: [2, 64] });
      assert.deepEqual(unknown, { throttleTimeMs: 0, errorCode: ErrorCode.UNSUPPORTED_VERSION, configResources: [] });
    });
  });

  describe('DescribeProducers', () => {
    it('describes a kafkajs idempotent producer and a transactional one, open and then committed', async () => {
      const topic = uniqueTopic('k4-producers');
      await createTopic(broker.client, topic, 1);
      const kafka = new Kafka({ brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING });
      const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      const transactional = kafka.producer({ transactionalId: `${topic}-txn`, idempotent: true, maxInFlightRequests: 1 });
      const startedMs = Date.now();
      try {
        await idempotent.connect();
        await idempotent.send({ topic, messages: [{ value: 'one', partition: 0 }, { value: 'two', partition: 0 }] });
        await idempotent.send({ topic, messages: [{ value: 'three', partition: 0 }] });
        await transactional.connect();
        const transaction = await transactional.transaction();
        await transaction.send({ topic, messages: [{ value: 'x', partition: 0 }, { value: 'y', partition: 0 }] });

        const describe = async () => {
          const response = await broker.client.request(DescribeProducersApi, 0, { topics: [{ name: topic, partitionIndexes: [0] }] });
          const partition = response.topics[0]!.partitions[0]!;
          assert.equal(partition.errorCode, ErrorCode.NONE);
          return partition.activeProducers;
        };
        const txnDescribed = await broker.client.request(DescribeTransactionsApi, 0, { transactionalIds: [`${topic}-txn`] });
        const txnProducerId = txnDescribed.transactionStates[0]!.producerId;
        const open = await describe();
        assert.equal(open.length, 2);
        const txnOpen = open.find((producer) => producer.producerId === txnProducerId)!;
        const plain = open.find((producer) => producer.producerId !== txnProducerId)!;
        // Offsets 0-2 are the idempotent producer's three records; the transaction starts at 3.
        assert.deepEqual(
          { epoch: plain.producerEpoch, lastSequence: plain.lastSequence, coordinatorEpoch: plain.coordinatorEpoch, txnStart: plain.currentTxnStartOffset },
          { epoch: 0, lastSequence: 2, coordinatorEpoch: -1, txnStart: -1n },
        );
        assert.deepEqual(
          { epoch: txnOpen.producerEpoch, lastSequence: txnOpen.lastSequence, txnStart: txnOpen.currentTxnStartOffset },
          { epoch: txnDescribed.transactionStates[0]!.producerEpoch, lastSequence: 1, txnStart: 3n },
        );
        for (const producer of open) {
          assert.ok(Number(producer.lastTimestamp) >= startedMs - 1000 && Number(producer.lastTimestamp) <= Date.now() + 1000, `timestamp ${producer.lastTimestamp}`);
        }

        await transaction.commit();
        const committed = (await describe()).find((producer) => producer.producerId === txnProducerId)!;
        assert.equal(committed.currentTxnStartOffset, -1n);
        assert.ok(committed.coordinatorEpoch >= 0, `coordinator epoch ${committed.coordinatorEpoch} from the commit marker`);
        assert.equal(committed.lastSequence, 1);
      } finally {
        await idempotent.disconnect();
        await transactional.disconnect();
      }
    });

    it('answers UNKNOWN_TOPIC_OR_PARTITION for partitions the cluster does not have', async () => {
      const response = await broker.client.request(DescribeProducersApi, 0, {
        topics: [
          { name: a, partitionIndexes: [0, 7] },
          { name: `${prefix}-nope`, partitionIndexes: [0] },
        ],
      });
      assert.deepEqual(
        response.topics.map((topic) => [topic.name, topic.partitions.map((partition) => [partition.partitionIndex, partition.errorCode, partition.activeProducers.length])]),
        [
          [
            a,
            [
              [0, ErrorCode.NONE, 0],
              [7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
            ],
          ],
          [`${prefix}-nope`, [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0]]],
        ],
      );
    });
  });

  describe('ElectLeaders', () => {
    const request = (electionType: number, topicPartitions: { topic: string; partitions: number[] }[] | null) => ({ electionType, topicPartitions, timeoutMs: 10_000 });

    for (const version of [0, 1, 2]) {
      it(`v${version}: ELECTION_NOT_NEEDED for partitions led by their preferred replica, UNKNOWN_TOPIC_OR_PARTITION for unknown ones`, async () => {
        const response = await broker.client.request(
          ElectLeadersApi,
          version,
          request(0, [
            { topic: a, partitions: [0, 2, 9] },
            { topic: `${prefix}-nope`, partitions: [0] },
          ]),
        );
        assert.deepEqual(
          response.replicaElectionResults.map((result) => [result.topic, result.partitionResult.map((partition) => [partition.partitionId, partition.errorCode])]),
          [
            [
              a,
              [
                [0, ErrorCode.ELECTION_NOT_NEEDED],
                [2, ErrorCode.ELECTION_NOT_NEEDED],
                [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
              ],
            ],
            [`${prefix}-nope`, [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
          ],
        );
        if (version >= 1) assert.equal(response.errorCode, ErrorCode.NONE);
      });
    }

    it('unclean elections are not needed either; null partitions list every topic with no partition', async () => {
      const unclean = await broker.client.request(ElectLeadersApi, 2, request(1, [{ topic: b, partitions: [1] }]));
      assert.equal(unclean.replicaElectionResults[0]!.partitionResult[0]!.errorCode, ErrorCode.ELECTION_NOT_NEEDED);
      const all = await broker.client.request(ElectLeadersApi, 2, request(0, null));
      const topics = all.replicaElectionResults.map((result) => result.topic);
      for (const name of [a, b, c]) assert.ok(topics.includes(name), `${name} listed`);
      assert.ok(all.replicaElectionResults.every((result) => result.partitionResult.length === 0));
      const bad = await broker.client.request(ElectLeadersApi, 2, request(5, [{ topic: a, partitions: [0] }]));
      assert.equal(bad.replicaElectionResults[0]!.partitionResult[0]!.errorCode, ErrorCode.INVALID_REQUEST);
    });
  });

  describe('partition reassignments', () => {
    const reassign = (version: number, partitions: { partitionIndex: number; replicas: number[] | null }[], allowReplicationFactorChange = true, topic = a) =>
      broker.client.request(AlterPartitionReassignmentsApi, version, { timeoutMs: 10_000, allowReplicationFactorChange, topics: [{ name: topic, partitions }] });
    const codes = (response: { responses: { partitions: { partitionIndex: number; errorCode: number }[] }[] }) =>
      response.responses.flatMap((topic) => topic.partitions.map((partition) => [partition.partitionIndex, partition.errorCode]));

    it('AlterPartitionReassignments: the current replica is a no-op, anything else is refused as Kafka refuses it', async () => {
      for (const version of [0, 1]) {
        const response = await reassign(version, [
          { partitionIndex: 0, replicas: [nodeId] },
          { partitionIndex: 1, replicas: [nodeId + 1] },
          { partitionIndex: 2, replicas: null },
        ]);
        assert.equal(response.errorCode, ErrorCode.NONE);
        assert.deepEqual(codes(response), [
          [0, ErrorCode.NONE],
          [1, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
          [2, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS],
        ]);
      }
      const malformed = await reassign(0, [
        { partitionIndex: 0, replicas: [] },
        { partitionIndex: 1, replicas: [nodeId, nodeId] },
        { partitionIndex: 5, replicas: [nodeId] },
      ]);
      assert.deepEqual(codes(malformed), [
        [0, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
        [1, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
        [5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ]);
      const unknownTopic = await reassign(0, [{ partitionIndex: 0, replicas: [nodeId] }], true, `${prefix}-nope`);
      assert.deepEqual(codes(unknownTopic), [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]);
      const after = await metadata(broker.client, [a]);
      assert.ok(after.topics[0]!.partitions.every((partition) => partition.replicaNodes.length === 1 && partition.replicaNodes[0] === nodeId));
    });

    it('AlterPartitionReassignments v1 echoes AllowReplicationFactorChange', async () => {
      const kept = await reassign(1, [{ partitionIndex: 0, replicas: [nodeId] }], false);
      assert.equal(kept.allowReplicationFactorChange, false);
      assert.deepEqual(codes(kept), [[0, ErrorCode.NONE]]);
      const allowed = await reassign(1, [{ partitionIndex: 0, replicas: [nodeId] }], true);
      assert.equal(allowed.allowReplicationFactorChange, true);
    });

    it('ListPartitionReassignments: none in progress, for all topics or named ones (unknown ones omitted)', async () => {
      const all = await broker.client.request(ListPartitionReassignmentsApi, 0, { timeoutMs: 10_000, topics: null });
      assert.deepEqual(all, { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics: [] });
      const named = await broker.client.request(ListPartitionReassignmentsApi, 0, {
        timeoutMs: 10_000,
        topics: [
          { name: a, partitionIndexes: [0, 1] },
          { name: `${prefix}-nope`, partitionIndexes: [0] },
        ],
      });
      assert.deepEqual(named.topics, []);
    });

    it('kafkajs admin: alterPartitionReassignments and listPartitionReassignments', async () => {
      const admin = new Kafka({ brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
      await admin.connect();
      try {
        await admin.alterPartitionReassignments({ topics: [{ topic: b, partitionAssignment: [{ partition: 0, replicas: [nodeId] }] }] });
        await assert.rejects(
          admin.alterPartitionReassignments({ topics: [{ topic: b, partitionAssignment: [{ partition: 1, replicas: [nodeId + 7] }] }] }),
          // kafkajs gathers the partitions' errors into a KafkaJSAggregateError.
          (error: Error & { errors?: { type?: string }[] }) => error.errors?.some((each) => each.type === 'INVALID_REPLICA_ASSIGNMENT') === true,
        );
        assert.deepEqual(await admin.listPartitionReassignments({ topics: [{ topic: b, partitions: [0, 1] }] }), { topics: [] });
        assert.deepEqual(await admin.listPartitionReassignments({}), { topics: [] });
      } finally {
        await admin.disconnect();
      }
    });
  });

  describe('AlterReplicaLogDirs', () => {
    it('moving a replica to its current log dir is a no-op; unknown dirs and partitions are refused', async () => {
      const logDirs = await broker.client.request(DescribeLogDirsApi, 4, { topics: null });
      const logDir = logDirs.results[0]!.logDir;
      for (const version of [1, 2]) {
        const response = await broker.client.request(AlterReplicaLogDirsApi, version, {
          dirs: [
            { path: logDir, topics: [{ name: a, partitions: [0, 1] }, { name: `${prefix}-nope`, partitions: [0] }] },
            { path: `${logDir}-elsewhere`, topics: [{ name: b, partitions: [0] }] },
          ],
        });
        assert.deepEqual(
          response.results.map((result) => [result.topicName, result.partitions.map((partition) => [partition.partitionIndex, partition.errorCode])]),
          [
            [
              a,
              [
                [0, ErrorCode.NONE],
                [1, ErrorCode.NONE],
              ],
            ],
            [`${prefix}-nope`, [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
            [b, [[0, ErrorCode.LOG_DIR_NOT_FOUND]]],
          ],
        );
      }
    });
  });

  describe('DescribeQuorum', () => {
    const metadataPartition = { topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }] };

    it('describes a quorum of one: this node leads in epoch 1, its log end is the high watermark, and grows with metadata', async () => {
      const before = await broker.client.request(DescribeQuorumApi, 0, metadataPartition);
      assert.equal(before.errorCode, ErrorCode.NONE);
      const partition = before.topics[0]!.partitions[0]!;
      assert.equal(before.topics[0]!.topicName, METADATA_TOPIC);
      assert.equal(partition.errorCode, ErrorCode.NONE);
      assert.equal(partition.leaderId, nodeId);
      // A quorum of one elects itself at each start: epoch 1 on a new data directory.
      assert.equal(partition.leaderEpoch, 1);
      assert.ok(partition.highWatermark > 0n, 'metadata records were committed');
      assert.deepEqual(
        partition.currentVoters.map((voter) => [voter.replicaId, voter.logEndOffset]),
        [[nodeId, partition.highWatermark]],
      );
      assert.deepEqual(partition.observers, []);
      await createTopic(broker.client, uniqueTopic('k4-quorum'), 1);
      const afterCreate = await broker.client.request(DescribeQuorumApi, 0, metadataPartition);
      assert.ok(afterCreate.topics[0]!.partitions[0]!.highWatermark > partition.highWatermark, 'creating a topic appends metadata records');
    });

    it('v1 reports the leader as fetched and caught up now; v2 adds the directory id and the node with its listeners', async () => {
      const startedMs = BigInt(Date.now());
      const v1 = await broker.client.request(DescribeQuorumApi, 1, metadataPartition);
      const voter = v1.topics[0]!.partitions[0]!.currentVoters[0]!;
      assert.ok(voter.lastFetchTimestamp! >= startedMs - 1000n && voter.lastFetchTimestamp! <= BigInt(Date.now()) + 1000n);
      assert.equal(voter.lastCaughtUpTimestamp, voter.lastFetchTimestamp);
      const v2 = await broker.client.request(DescribeQuorumApi, 2, metadataPartition);
      assert.equal(v2.errorMessage, null);
      // The voter's metadata log directory id (KIP-853), from its meta.properties.
      const directoryId = v2.topics[0]!.partitions[0]!.currentVoters[0]!.replicaDirectoryId;
      assert.match(directoryId ?? '', /^[A-Za-z0-9_-]{22}$/);
      assert.notEqual(directoryId, ZERO_UUID);
      assert.deepEqual(
        v2.nodes!.map((node) => [node.nodeId, node.listeners.map((listener) => [listener.host, listener.port])]),
        [[nodeId, [[broker.running.host, broker.running.port]]]],
      );
      assert.ok(v2.nodes![0]!.listeners[0]!.name.length > 0);
    });

    it('answers UNKNOWN_TOPIC_OR_PARTITION for anything but __cluster_metadata-0', async () => {
      const response = await broker.client.request(DescribeQuorumApi, 2, { topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 1 }] }] });
      assert.equal(response.errorCode, ErrorCode.NONE);
      assert.deepEqual(
        response.topics.map((topic) => [topic.topicName, topic.partitions.map((partition) => [partition.partitionIndex, partition.errorCode])]),
        [[METADATA_TOPIC, [[1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]]],
      );
      const other = await broker.client.request(DescribeQuorumApi, 0, { topics: [{ topicName: a, partitions: [{ partitionIndex: 0 }] }] });
      assert.equal(other.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });
  });

  describe('@platformatic/kafka codecs', { skip: platformatic === undefined ? '@platformatic/kafka is not installed' : false }, () => {
    it("decode the answers with a real client's own implementation of each API", async () => {
      const kafka = platformatic!;
      const connection = new kafka.Connection('conveyor-kafka4-test');
      await connection.connect(broker.running.host, broker.running.port);
      try {
        const described = await kafka.describeTopicPartitionsV0.api.async(connection, [{ name: b }, { name: a }], 2000, undefined);
        assert.deepEqual(
          described.topics.map((topic) => [topic.name, topic.partitions.map((partition) => [partition.partitionIndex, partition.leaderId])]),
          [
            [
              a,
              [
                [0, nodeId],
                [1, nodeId],
                [2, nodeId],
              ],
            ],
            [
              b,
              [
                [0, nodeId],
                [1, nodeId],
              ],
            ],
          ],
        );
        const paged = await kafka.describeTopicPartitionsV0.api.async(connection, [{ name: a }], 1, { topicName: a, partitionIndex: 1 });
        assert.deepEqual(paged.nextCursor, { topicName: a, partitionIndex: 2 });

        const configResources = await kafka.listConfigResourcesV1.api.async(connection, [4]);
        assert.deepEqual(configResources.configResources, [{ resourceName: String(nodeId), resourceType: 4 }]);

        const producers = await kafka.describeProducersV0.api.async(connection, [{ name: c, partitionIndexes: [0] }]);
        assert.deepEqual(producers.topics[0].partitions[0].activeProducers, []);

        const quorum = await kafka.describeQuorumV2.api.async(connection, [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }]);
        assert.equal(quorum.topics[0].partitions[0].leaderId, nodeId);
        assert.equal(quorum.nodes[0].nodeId, nodeId);
        assert.equal(quorum.nodes[0].listeners[0].port, broker.running.port);

        const reassigned = await kafka.alterPartitionReassignmentsV1.api.async(connection, 10_000, false, [{ name: c, partitions: [{ partitionIndex: 0, replicas: [nodeId] }] }]);
        assert.equal(reassigned.allowReplicationFactorChange, false);
        assert.equal(reassigned.responses[0].partitions[0].errorCode, ErrorCode.NONE);

        const listed = await kafka.listPartitionReassignmentsV0.api.async(connection, 10_000, [{ name: c, partitionIndexes: [0] }]);
        assert.deepEqual(listed.topics, []);

        const logDirs = await broker.client.request(DescribeLogDirsApi, 4, { topics: null });
        const moved = await kafka.alterReplicaLogDirsV2.api.async(connection, [{ path: logDirs.results[0]!.logDir, topics: [{ name: c, partitions: [0] }] }]);
        assert.equal(moved.results[0].partitions[0].errorCode, ErrorCode.NONE);
      } finally {
        await connection.close();
      }
    });
  });
});
