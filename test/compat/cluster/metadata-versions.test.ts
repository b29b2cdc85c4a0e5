// Metadata v0-v12 and DescribeCluster v0-v1 on the wire, from a 3-broker cluster with one broker
// stopped: the version branches no client family above reaches (the families ask v1, v5, v6, v9 or
// v12). Every version lists the 2 live brokers; the stopped broker's partition has leader -1 with
// LEADER_NOT_AVAILABLE, its replica in offline_replicas from v5, and its leader epoch from v7; v0
// lists only online replicas and ISR members (Kafka's errorUnavailableEndpoints), v1+ all of them.
// DescribeCluster v0-v2 list the live brokers and the active controller; v2 with
// IncludeFencedBrokers lists the stopped one too, marked fenced. DescribeTopicPartitions
// v0 answers the leaderless partition as Metadata does (LEADER_NOT_AVAILABLE, offline replica).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../../src/base/error-codes.js';
import { KafkaConnection } from '../../../src/client/kafka-connection.js';
import { DescribeClusterApi, DescribeTopicPartitionsApi, MetadataApi, ZERO_UUID } from '../../../src/protocol/messages/index.js';
import { type RunningCluster, startCluster } from '../../../src/node/start-cluster.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { waitFor } from '../../support/wait.js';
import { createTopicWithConveyor } from './cluster-scenario.js';

const TOPIC = 'versions';

describe('Metadata and DescribeCluster versions with a broker stopped', () => {
  let cluster: RunningCluster;
  let connection: KafkaConnection;
  let stopped: number;
  let live: number[];
  let controller: number;

  const everyNode = (ids: readonly number[], check: (image: NonNullable<ReturnType<RunningCluster['node']>['broker']>['services']['image']) => boolean) =>
    waitFor('every node to agree', () => (ids.every((id) => { const broker = cluster.node(id).broker; return broker !== undefined && check(broker.services.image); }) ? true : undefined), 15_000);

  before(async () => {
    cluster = await startCluster({ brokers: 3, config: { 'auto.create.topics.enable': false } });
    await everyNode(cluster.nodeIds, (image) => [1, 2, 3].every((id) => image.brokers.get(id)?.fenced === false));
    await createTopicWithConveyor(cluster.node(1).bootstrapServer, TOPIC, 3);
    await everyNode(cluster.nodeIds, (image) => image.topic(TOPIC)?.partitions.size === 3);
    controller = cluster.activeController();
    stopped = cluster.nodeIds.find((id) => id !== controller)!;
    live = cluster.nodeIds.filter((id) => id !== stopped);
    await cluster.stop(stopped);
    await everyNode(live, (image) => image.brokers.get(stopped)?.fenced === true && [...image.topic(TOPIC)!.partitions.values()].every((partition) => partition.leader !== stopped));
    connection = await KafkaConnection.open(connectTcp, cluster.node(live[0]!).bootstrapServer);
  });

  after(async () => {
    connection?.close();
    await cluster?.close();
  });

  for (let version = 0; version <= 12; version++) {
    it(`Metadata v${version}`, async () => {
      const response = await connection.send(MetadataApi, version, {
        topics: [{ name: TOPIC, topicId: ZERO_UUID }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      assert.deepEqual(response.brokers.map((broker) => broker.nodeId), live);
      if (version >= 1) assert.equal(response.controllerId, controller);
      const image = cluster.node(controller).broker!.services.image;
      const [topic] = response.topics;
      assert.equal(topic?.errorCode, ErrorCode.NONE);
      for (const partition of topic!.partitions) {
        const want = image.partition(TOPIC, partition.partitionIndex)!;
        const leaderless = want.leader === -1;
        const expected = {
          errorCode: leaderless ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
          leaderId: want.leader,
          // Absent before v7, decoded as -1.
          leaderEpoch: version >= 7 ? want.leaderEpoch : -1,
          replicaNodes: version === 0 && leaderless ? [] : want.replicas,
          isrNodes: version === 0 && leaderless ? [] : want.isr,
          // Absent before v5, decoded as empty.
          offlineReplicas: version >= 5 && leaderless ? [stopped] : [],
        };
        const { errorCode, leaderId, leaderEpoch, replicaNodes, isrNodes, offlineReplicas } = partition;
        assert.deepEqual({ errorCode, leaderId, leaderEpoch, replicaNodes, isrNodes, offlineReplicas }, expected, `partition ${partition.partitionIndex}`);
      }
      assert.deepEqual(
        topic!.partitions.filter((partition) => partition.leaderId === -1).map((partition) => image.partition(TOPIC, partition.partitionIndex)!.replicas),
        [[stopped]],
        'exactly the stopped broker\'s partition is leaderless',
      );
    });
  }

  it('DescribeTopicPartitions v0', async () => {
    const response = await connection.send(DescribeTopicPartitionsApi, 0, { topics: [{ name: TOPIC }], responsePartitionLimit: 100, cursor: null });
    const image = cluster.node(controller).broker!.services.image;
    const [topic] = response.topics;
    assert.equal(topic?.errorCode, ErrorCode.NONE);
    assert.equal(topic!.partitions.length, 3);
    for (const partition of topic!.partitions) {
      const want = image.partition(TOPIC, partition.partitionIndex)!;
      const leaderless = want.leader === -1;
      const { errorCode, leaderId, leaderEpoch, replicaNodes, offlineReplicas } = partition;
      assert.deepEqual(
        { errorCode, leaderId, leaderEpoch, replicaNodes, offlineReplicas },
        { errorCode: leaderless ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE, leaderId: want.leader, leaderEpoch: want.leaderEpoch, replicaNodes: want.replicas, offlineReplicas: leaderless ? [stopped] : [] },
        `partition ${partition.partitionIndex}`,
      );
    }
  });

  it('DescribeCluster v2 with IncludeFencedBrokers lists the stopped broker as fenced', async () => {
    const response = await connection.send(DescribeClusterApi, 2, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: true });
    assert.equal(response.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      response.brokers.map(({ brokerId, isFenced }) => `${brokerId}:${isFenced ? 'fenced' : 'live'}`),
      cluster.nodeIds.map((id) => `${id}:${id === stopped ? 'fenced' : 'live'}`),
    );
    assert.equal(response.controllerId, controller);
  });

  for (const version of [0, 1, 2]) {
    it(`DescribeCluster v${version}`, async () => {
      const response = await connection.send(DescribeClusterApi, version, { includeClusterAuthorizedOperations: false, endpointType: 1 });
      assert.equal(response.errorCode, ErrorCode.NONE);
      assert.equal(response.clusterId, cluster.clusterId);
      assert.equal(response.controllerId, controller);
      assert.deepEqual(
        response.brokers.map(({ brokerId, host, port }) => `${brokerId}@${host}:${port}`),
        live.map((id) => `${id}@${cluster.node(id).bootstrapServer}`),
      );
    });
  }
});
