// A three-node cluster in one process (startCluster): each node a broker and a controller with its
// own data and loopback ports, the metadata quorum over real TCP on the controller listeners.
// kafkajs sees three brokers, creates topics through any of them (forwarded to the active
// controller), produces and consumes in a group across the brokers; then the active controller
// stops and a new one takes over, topics are still created, and DescribeQuorum shows the quorum.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { AdminClient } from '../../src/client/admin-client.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { DescribeQuorumApi } from '../../src/protocol/messages/index.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';

function kafka(bootstrapServers: string): Kafka {
  return new Kafka({ clientId: 'cluster-test', brokers: bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a three-node cluster (startCluster, combined mode)', () => {
  let cluster: RunningCluster;

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
    // Every node registered, as every node's image has it.
    await until(() => cluster.nodeIds.every((id) => cluster.node(id).broker?.services.image.brokers.size === 3), 10_000, 'three registered brokers on every node');
  });

  after(async () => {
    await cluster?.close();
  });

  it('elects one active controller that every node agrees on', () => {
    const controller = cluster.activeController();
    assert.ok(cluster.nodeIds.includes(controller));
    for (const id of cluster.nodeIds) assert.equal(cluster.node(id).broker!.services.quorum.activeControllerId, controller);
  });

  it('shows kafkajs three brokers, creates a topic through a broker that is not the controller, and spreads its partitions', async () => {
    const controller = cluster.activeController();
    const other = cluster.nodeIds.find((id) => id !== controller)!;
    const admin = kafka(cluster.node(other).bootstrapServer).admin();
    await admin.connect();
    try {
      const described = await admin.describeCluster();
      assert.deepEqual(described.brokers.map((broker) => broker.nodeId).sort(), [1, 2, 3]);
      assert.equal(described.controller, controller);
      assert.ok(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 6, replicationFactor: 1 }], waitForLeaders: false }));
      // The other brokers learn of the topic a moment after the controller committed it (as in
      // Kafka, a Metadata request that arrives first answers UNKNOWN_TOPIC_OR_PARTITION).
      await until(() => cluster.nodeIds.every((id) => cluster.node(id).broker?.services.image.topic('orders')?.partitions.size === 6), 10_000, 'every broker to load the topic');
      const metadata = await admin.fetchTopicMetadata({ topics: ['orders'] });
      const leaders = new Set(metadata.topics[0]!.partitions.map((partition) => partition.leader));
      assert.deepEqual([...leaders].sort(), [1, 2, 3], 'partitions are led by all three brokers');
    } finally {
      await admin.disconnect();
    }
    // The CreateTopics request itself, sent to a broker that is not the active controller, is forwarded.
    const connection = await KafkaConnection.open(connectTcp, cluster.node(other).bootstrapServer);
    try {
      const { CreateTopicsApi } = await import('../../src/protocol/messages/index.js');
      const response = await connection.send(CreateTopicsApi, 7, {
        topics: [{ name: 'forwarded', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs: 10_000,
        validateOnly: false,
      });
      assert.equal(response.topics[0]!.errorCode, ErrorCode.NONE);
    } finally {
      connection.close();
    }
  });

  it('forwards configs changes and topic deletion sent to a broker that is not the controller (Envelope)', async () => {
    const controller = cluster.activeController();
    const other = cluster.nodeIds.find((id) => id !== controller)!;
    const { IncrementalAlterConfigsApi, DeleteTopicsApi } = await import('../../src/protocol/messages/index.js');
    const connection = await KafkaConnection.open(connectTcp, cluster.node(other).bootstrapServer);
    try {
      const altered = await connection.send(IncrementalAlterConfigsApi, 1, {
        resources: [{ resourceType: 2, resourceName: 'forwarded', configs: [{ name: 'retention.ms', configOperation: 0, value: '3600000' }] }],
        validateOnly: false,
      });
      assert.equal(altered.responses[0]!.errorCode, ErrorCode.NONE);
      await until(() => cluster.node(controller).broker!.services.image.resourceConfigs(2, 'forwarded').get('retention.ms') === '3600000', 5000, 'the change on the controller');
      const deleted = await connection.send(DeleteTopicsApi, 6, { topics: [{ name: 'forwarded', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], timeoutMs: 10_000 });
      assert.equal(deleted.responses[0]!.errorCode, ErrorCode.NONE);
      await until(() => cluster.nodeIds.every((id) => cluster.node(id).broker!.services.image.topic('forwarded') === undefined), 5000, 'the deletion on every node');
    } finally {
      connection.close();
    }
  });

  it('produces to every partition and consumes them all in a consumer group', async () => {
    const client = kafka(cluster.bootstrapServers);
    const producer = client.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const sent = Array.from({ length: 120 }, (_, index) => ({ key: `key-${index}`, value: `value-${index}`, partition: index % 6 }));
    await producer.send({ topic: 'orders', messages: sent });
    await producer.disconnect();
    const consumer = client.consumer({ groupId: 'cluster-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const received = new Set<string>();
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.add(message.value!.toString());
      },
    });
    try {
      await until(() => received.size === sent.length, 30_000, 'every record consumed');
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual([...received].sort(), sent.map((record) => record.value).sort());
  });

  it('answers DescribeQuorum on the active controller with every voter', async () => {
    const controller = cluster.activeController();
    const connection = await KafkaConnection.open(connectTcp, cluster.node(controller).bootstrapServer);
    try {
      const response = await connection.send(DescribeQuorumApi, 2, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
      const partition = response.topics[0]!.partitions[0]!;
      assert.equal(partition.errorCode, ErrorCode.NONE);
      assert.equal(partition.leaderId, controller);
      assert.deepEqual(partition.currentVoters.map((voter) => voter.replicaId).sort(), [1, 2, 3]);
      assert.ok(partition.highWatermark > 0n);
    } finally {
      connection.close();
    }
  });

  it('moves the active controller when it stops, and keeps creating topics through the others', async () => {
    const old = cluster.activeController();
    const stoppedAt = Date.now();
    await cluster.stop(old);
    await until(() => cluster.activeController() !== -1 && cluster.activeController() !== old, 10_000, 'a new active controller');
    const handoverMs = Date.now() - stoppedAt;
    const survivor = cluster.nodeIds.find((id) => id !== old)!;
    // Conveyor's own admin client: kafkajs's admin refreshes metadata for every topic first and
    // gives up while a partition the stopped node led has no leader (LEADER_NOT_AVAILABLE, as Kafka
    // answers for it).
    await withAdmin(cluster.node(survivor).bootstrapServer, (admin) => admin.createTopic('after-failover', { partitions: 2, replicationFactor: 1 }));
    // The node comes back on its own data and follows the new controller.
    await cluster.restart(old);
    await until(() => cluster.node(old).broker?.services.image.topic('after-failover') !== undefined, 10_000, 'the restarted node to load the new topic');
    assert.ok(handoverMs < 10_000);
  });
});

async function withAdmin(bootstrap: string, use: (admin: AdminClient) => Promise<void>): Promise<void> {
  const client = new ClusterClient(connectTcp, bootstrap, 'cluster-test');
  try {
    await use(new AdminClient(client));
  } finally {
    client.close();
  }
}

describe('broker sessions: heartbeats, fencing and controlled shutdown', () => {
  let cluster: RunningCluster;

  before(async () => {
    cluster = await startCluster({ brokers: 3, config: { 'broker.heartbeat.interval.ms': 200, 'broker.session.timeout.ms': 1500 } });
    await until(() => cluster.nodeIds.every((id) => cluster.node(id).broker?.services.image.brokers.size === 3), 10_000, 'three registered brokers');
    const admin = kafka(cluster.bootstrapServers).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'spread', numPartitions: 3, replicationFactor: 1 }], waitForLeaders: false });
    } finally {
      await admin.disconnect();
    }
    await until(() => cluster.nodeIds.every((id) => cluster.node(id).broker?.services.image.topic('spread')?.partitions.size === 3), 10_000, 'the topic on every node');
  });

  after(async () => {
    await cluster?.close();
  });

  // The brokers a Metadata request lists (Conveyor's client: kafkajs's admin refuses to answer
  // while a partition has no leader, as during these outages).
  const liveBrokers = async (bootstrap: string) => {
    const client = new ClusterClient(connectTcp, bootstrap, 'cluster-test');
    try {
      return (await client.metadata([])).brokers.map((broker) => broker.nodeId).sort();
    } finally {
      client.close();
    }
  };
  const leaderOf = (observer: number, partition: number) => cluster.node(observer).broker!.services.image.partition('spread', partition)!.leader;

  it('fences a crashed broker after its session times out: clients no longer see it, its partitions have no leader, the others keep working', async () => {
    const controller = cluster.activeController();
    const victim = cluster.nodeIds.find((id) => id !== controller)!;
    const victimPartitions = [0, 1, 2].filter((partition) => leaderOf(controller, partition) === victim);
    assert.ok(victimPartitions.length > 0);
    await cluster.crash(victim);
    await until(async () => (await liveBrokers(cluster.node(controller).bootstrapServer)).length === 2, 10_000, 'the crashed broker fenced');
    assert.deepEqual(await liveBrokers(cluster.node(controller).bootstrapServer), cluster.nodeIds.filter((id) => id !== victim));
    for (const partition of victimPartitions) assert.equal(leaderOf(controller, partition), -1);
    // Partitions on live brokers still take writes (a topic all on live brokers: kafkajs's
    // producer refuses a topic with a leaderless partition, as it does against Kafka).
    const live = cluster.nodeIds.filter((id) => id !== victim);
    await withAdmin(cluster.node(controller).bootstrapServer, (admin) => admin.createTopic('on-the-living', { partitions: 4, replicationFactor: 1 }));
    await until(() => live.every((id) => cluster.node(id).broker?.services.image.topic('on-the-living')?.partitions.size === 4), 10_000, 'the new topic on the live brokers');
    const placed = [...cluster.node(controller).broker!.services.image.topic('on-the-living')!.partitions.values()];
    assert.ok(placed.every((partition) => live.includes(partition.leader)), 'a new topic was placed on the fenced broker');
    const producer = kafka(cluster.node(controller).bootstrapServer).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (const { partitionId } of placed) {
        const [result] = await producer.send({ topic: 'on-the-living', messages: [{ value: 'still here', partition: partitionId }] });
        assert.equal(result!.errorCode, 0);
      }
    } finally {
      await producer.disconnect();
    }
    // Back with a new registration, it leads its partitions again.
    await cluster.restart(victim);
    await until(() => victimPartitions.every((partition) => leaderOf(controller, partition) === victim), 10_000, 'the restarted broker leading again');
    // kafkajs may ask any broker, and the others learn of the registration a moment later.
    await until(async () => (await liveBrokers(cluster.node(controller).bootstrapServer)).length === 3, 10_000, 'three live brokers again');
  });

  it('a clean stop is a controlled shutdown: the broker is fenced before it is gone', async () => {
    const controller = cluster.activeController();
    const leaving = cluster.nodeIds.find((id) => id !== controller)!;
    await cluster.stop(leaving);
    // No session timeout to wait for: the controller fenced it during the shutdown.
    assert.equal(cluster.node(controller).broker!.services.image.brokers.get(leaving)?.fenced, true);
    await cluster.restart(leaving);
    await until(() => cluster.node(controller).broker!.services.image.brokers.get(leaving)?.fenced === false, 10_000, 'the broker back and unfenced');
  });
});

describe('three dedicated controllers and two brokers (process.roles=controller / broker)', () => {
  let cluster: RunningCluster;

  before(async () => {
    cluster = await startCluster({ controllers: 3, brokers: 2 });
    await until(() => [4, 5].every((id) => cluster.node(id).broker?.services.image.brokers.size === 2), 10_000, 'both brokers registered on both brokers');
  });

  after(async () => {
    await cluster?.close();
  });

  it('elects a controller among the controllers; the brokers follow the quorum as observers and serve clients', async () => {
    const controller = cluster.activeController();
    assert.ok([1, 2, 3].includes(controller), `active controller ${controller} is not a dedicated controller`);
    for (const id of [4, 5]) {
      const raft = cluster.node(id).broker!.services.quorum.raft;
      assert.equal(raft.isVoter, false);
      assert.equal(raft.leaderId, controller);
    }
    const client = kafka(cluster.bootstrapServers);
    const admin = client.admin();
    await admin.connect();
    try {
      // Only the brokers are brokers: the controllers never registered as such.
      assert.deepEqual((await admin.describeCluster()).brokers.map((broker) => broker.nodeId).sort(), [4, 5]);
      assert.ok(await admin.createTopics({ topics: [{ topic: 'on-brokers', numPartitions: 4, replicationFactor: 1 }], waitForLeaders: false }));
    } finally {
      await admin.disconnect();
    }
    await until(() => [4, 5].every((id) => cluster.node(id).broker?.services.image.topic('on-brokers')?.partitions.size === 4), 10_000, 'the topic on both brokers');
    const leaders = new Set([...cluster.node(4).broker!.services.image.topic('on-brokers')!.partitions.values()].map((partition) => partition.leader));
    assert.deepEqual([...leaders].sort(), [4, 5]);
    const producer = client.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic: 'on-brokers', messages: Array.from({ length: 8 }, (_, index) => ({ value: `v${index}`, partition: index % 4 })) });
    await producer.disconnect();
    // The quorum survives losing its leader: another controller takes over and topics are still created.
    await cluster.stop(controller);
    await until(() => ![-1, controller].includes(cluster.activeController()), 10_000, 'a new active controller');
    const again = client.admin();
    await again.connect();
    try {
      assert.ok(await again.createTopics({ topics: [{ topic: 'after-controller-failover', numPartitions: 1, replicationFactor: 1 }], waitForLeaders: false }));
    } finally {
      await again.disconnect();
    }
  });
});
