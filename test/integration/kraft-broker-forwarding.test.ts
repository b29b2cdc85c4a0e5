// The metadata quorum's admin requests on the broker listener, as a Kafka 3.9/4.x broker serves
// them: DescribeQuorum (55), AddRaftVoter (80) and RemoveRaftVoter (81) sent to any broker are
// forwarded to the active controller (an Envelope over the controller listener), which answers
// from its Raft node; a controller that is not the leader, asked directly on its controller
// listener, answers DescribeQuorum with NOT_LEADER_OR_FOLLOWER, as Kafka's controllers do. Real
// nodes over real TCP: a combined three-node cluster, three dedicated controllers with two brokers,
// and a dynamic quorum (KIP-853) grown and shrunk through broker addresses only.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { randomUuid } from '../../src/base/uuid.js';
import { formatStorage } from '../../src/broker/meta-properties.js';
import { addController } from '../../src/cli/controller-commands.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { NodeFileSystem } from '../../src/node/node-file-system.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { type RunningCluster, freePorts, startCluster } from '../../src/node/start-cluster.js';
import { systemRandom } from '../../src/node/system.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { AddRaftVoterApi, ApiVersionsApi, type DescribeQuorumResponse, DescribeQuorumApi, RemoveRaftVoterApi, ZERO_UUID } from '../../src/protocol/messages/index.js';
import { writeBootstrapCheckpoint } from '../../src/quorum/bootstrap-checkpoint.js';
import { waitFor } from './helpers.js';

const METADATA_PARTITION = { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] };

async function withConnection<T>(address: string, use: (connection: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = await KafkaConnection.open(connectTcp, address, 'kraft-forwarding-test');
  try {
    return await use(connection);
  } finally {
    connection.close();
  }
}

function describeQuorum(address: string, version = 2): Promise<DescribeQuorumResponse> {
  return withConnection(address, (connection) => connection.send(DescribeQuorumApi, version, METADATA_PARTITION));
}

function onlyPartition(response: DescribeQuorumResponse) {
  assert.equal(response.errorCode, ErrorCode.NONE);
  assert.equal(response.topics.length, 1);
  assert.equal(response.topics[0]!.topicName, '__cluster_metadata');
  assert.equal(response.topics[0]!.partitions.length, 1);
  return response.topics[0]!.partitions[0]!;
}

async function advertisedVersions(address: string): Promise<Map<number, string>> {
  const response = await withConnection(address, (connection) => connection.send(ApiVersionsApi, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' }));
  return new Map(response.apiKeys.map((key) => [key.apiKey, `${key.minVersion}-${key.maxVersion}`]));
}

/** The port of a controller's CONTROLLER listener. */
function controllerPort(cluster: RunningCluster, nodeId: number): number {
  return Number(cluster.node(nodeId).controllerAddress!.split(':')[1]);
}

describe('DescribeQuorum through any node of a combined three-node cluster', () => {
  let cluster: RunningCluster;
  before(async () => {
    cluster = await startCluster({ brokers: 3 });
  });
  after(async () => {
    await cluster?.close();
  });

  it('every broker listener describes the quorum as its leader sees it (brokers that do not lead forward it)', async () => {
    const leader = cluster.activeController();
    assert.ok(leader > 0);
    for (const nodeId of cluster.nodeIds) {
      for (const version of [0, 1, 2]) {
        const response = await describeQuorum(cluster.node(nodeId).bootstrapServer, version);
        const partition = onlyPartition(response);
        assert.equal(partition.errorCode, ErrorCode.NONE, `node ${nodeId} v${version}`);
        assert.equal(partition.leaderId, leader, `node ${nodeId} v${version}: the leader`);
        assert.equal(partition.leaderEpoch, cluster.node(leader).broker!.services.quorum.raft.epoch);
        assert.ok(partition.highWatermark > 0n);
        assert.deepEqual(partition.currentVoters.map((voter) => voter.replicaId).sort(), [1, 2, 3]);
        assert.deepEqual(partition.observers, []);
        if (version >= 2) {
          // Each voter's endpoint is its controller listener, as the voter set names it.
          assert.deepEqual(
            [...response.nodes!].sort((a, b) => a.nodeId - b.nodeId).map((node) => [node.nodeId, node.listeners.map(({ name, host, port }) => [name, host, port])]),
            [1, 2, 3].map((id) => [id, [['CONTROLLER', '127.0.0.1', controllerPort(cluster, id)]]]),
          );
        }
      }
    }
  });

  it('the leader describes the quorum on its controller listener; a controller that does not lead answers NOT_LEADER_OR_FOLLOWER there', async () => {
    const leader = cluster.activeController();
    const leaderPartition = onlyPartition(await describeQuorum(cluster.node(leader).controllerAddress!));
    assert.deepEqual([leaderPartition.errorCode, leaderPartition.leaderId], [ErrorCode.NONE, leader]);
    for (const nodeId of cluster.nodeIds.filter((id) => id !== leader)) {
      const partition = onlyPartition(await describeQuorum(cluster.node(nodeId).controllerAddress!));
      assert.equal(partition.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER, `controller ${nodeId}`);
      assert.deepEqual([partition.leaderId, partition.currentVoters], [0, []], 'zero defaults in a partition error, as Kafka');
    }
    // Anything but __cluster_metadata-0 is unknown, forwarded or not.
    const other = cluster.nodeIds.find((id) => id !== leader)!;
    const unknown = await withConnection(cluster.node(other).bootstrapServer, (connection) =>
      connection.send(DescribeQuorumApi, 2, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 1 }] }] }),
    );
    assert.deepEqual(
      unknown.topics.map((topic) => topic.partitions.map((partition) => [partition.partitionIndex, partition.errorCode])),
      [[[1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
    );
  });

  it('ApiVersions: the broker listener lists DescribeQuorum, AddRaftVoter and RemoveRaftVoter (Kafka: listeners broker and controller); the controller listener lists them too', async () => {
    for (const address of [cluster.node(1).bootstrapServer, cluster.node(1).controllerAddress!]) {
      const versions = await advertisedVersions(address);
      assert.deepEqual(
        [55, 80, 81].map((key) => [key, versions.get(key)]),
        [
          [55, '0-2'],
          [80, '0-0'],
          [81, '0-0'],
        ],
        address,
      );
    }
    // UpdateRaftVoter is a controller-listener API only in Kafka (listeners: controller).
    assert.equal((await advertisedVersions(cluster.node(1).bootstrapServer)).has(82), false);
  });
});

describe('DescribeQuorum through the brokers of three dedicated controllers and two brokers', () => {
  let cluster: RunningCluster;
  before(async () => {
    cluster = await startCluster({ controllers: 3, brokers: 2 });
  });
  after(async () => {
    await cluster?.close();
  });

  it('a broker-only node forwards it to the active controller: the controllers are the voters, the brokers its observers', async () => {
    const leader = cluster.activeController();
    assert.ok([1, 2, 3].includes(leader));
    for (const brokerId of [4, 5]) {
      // Both observers are listed once the leader has seen each fetch in its term.
      const partition = await waitFor(async () => {
        const described = onlyPartition(await describeQuorum(cluster.node(brokerId).bootstrapServer));
        return described.observers.length === 2 ? described : undefined;
      }, `DescribeQuorum through broker ${brokerId} to list both observers`);
      assert.equal(partition.errorCode, ErrorCode.NONE);
      assert.equal(partition.leaderId, leader);
      assert.deepEqual(partition.currentVoters.map((voter) => voter.replicaId).sort(), [1, 2, 3]);
      assert.deepEqual(partition.observers.map((observer) => observer.replicaId).sort(), [4, 5]);
      assert.ok(partition.observers.every((observer) => observer.logEndOffset > 0n), 'the observers fetched the log');
    }
    const response = await describeQuorum(cluster.node(4).bootstrapServer);
    assert.deepEqual(
      [...response.nodes!].sort((a, b) => a.nodeId - b.nodeId).map((node) => [node.nodeId, node.listeners.map(({ port }) => port)]),
      [1, 2, 3].map((id) => [id, [controllerPort(cluster, id)]]),
      'the dedicated controllers are named by their controller listeners',
    );
  });

  it('after the active controller stops, the brokers forward to the new one', async () => {
    const old = cluster.activeController();
    await cluster.stop(old);
    const next = await waitFor(() => {
      const id = cluster.activeController();
      return id > 0 && id !== old ? id : undefined;
    }, 'a new active controller');
    const partition = await waitFor(async () => {
      const described = onlyPartition(await describeQuorum(cluster.node(5).bootstrapServer));
      return described.errorCode === ErrorCode.NONE && described.leaderId === next ? described : undefined;
    }, 'broker 5 to describe the quorum led by the new controller');
    assert.deepEqual(partition.currentVoters.map((voter) => voter.replicaId).sort(), [1, 2, 3]);
  });
});

interface NodeSetup {
  id: number;
  port: number;
  controllerPort: number;
  dataDir: string;
  broker: RunningBroker | undefined;
}

describe('AddRaftVoter and RemoveRaftVoter through broker listeners (KIP-853)', () => {
  const nodes: NodeSetup[] = [];
  after(async () => {
    for (const node of nodes) await node.broker?.close();
    for (const node of nodes) await rm(node.dataDir, { recursive: true, force: true });
  });

  const brokerAddress = (node: NodeSetup) => `127.0.0.1:${node.port}`;
  const controllerEndpoint = (node: NodeSetup) => ({ name: 'CONTROLLER', host: '127.0.0.1', port: node.controllerPort });
  const voters = (node: NodeSetup) => [...node.broker!.broker.services.quorum.raft.voters].sort().join(',');
  const directoryIdOf = (node: NodeSetup) => node.broker!.broker.services.quorum.raft.directoryId;
  const addVoter = (through: NodeSetup, voter: NodeSetup, voterDirectoryId = directoryIdOf(voter), voterId = voter.id) =>
    withConnection(brokerAddress(through), (connection) =>
      connection.send(AddRaftVoterApi, 0, { clusterId: null, timeoutMs: 10_000, voterId, voterDirectoryId, listeners: [controllerEndpoint(voter)] }),
    );
  const removeVoter = (through: NodeSetup, voter: NodeSetup, voterDirectoryId = directoryIdOf(voter), voterId = voter.id) =>
    withConnection(brokerAddress(through), (connection) => connection.send(RemoveRaftVoterApi, 0, { clusterId: null, voterId, voterDirectoryId }));

  it('adds and removes voters sent to brokers that are not the leader, and returns the leader\'s refusals', async () => {
    const ports = await freePorts(6);
    const clusterId = randomUuid(systemRandom);
    const fs = new NodeFileSystem();
    for (let index = 0; index < 3; index++) {
      const node: NodeSetup = { id: index + 1, port: ports[index * 2]!, controllerPort: ports[index * 2 + 1]!, dataDir: await mkdtemp(join(tmpdir(), `conveyor-kraft-fwd-${index + 1}-`)), broker: undefined };
      await formatStorage(fs, node.dataDir, node.id, clusterId, {});
      nodes.push(node);
    }
    const [first, second, third] = nodes as [NodeSetup, NodeSetup, NodeSetup];
    // `storage format --standalone` for the first; the others find it through bootstrap servers.
    await writeBootstrapCheckpoint(fs, first.dataDir, [{ id: 1, directoryId: ZERO_UUID, endpoints: [controllerEndpoint(first)] }], Date.now());
    for (const node of nodes) {
      node.broker = await startBroker({
        dataDir: node.dataDir,
        config: {
          'node.id': node.id,
          'process.roles': 'broker,controller',
          listeners: `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
          'controller.listener.names': 'CONTROLLER',
          'controller.quorum.bootstrap.servers': `127.0.0.1:${first.controllerPort}`,
        },
      });
    }
    assert.equal(voters(first), '1');
    assert.equal(second.broker!.broker.services.quorum.raft.isVoter, false);

    // Node 2 added through node 3's broker listener (an observer): the tool retries while node 2
    // has not caught up (REQUEST_TIMED_OUT, decided by the leader). Only broker addresses are given.
    await addController([brokerAddress(third)], second.id, directoryIdOf(second), controllerEndpoint(second));
    await waitFor(() => nodes.every((node) => voters(node) === '1,2') || undefined, 'every node to see voters 1,2');
    // Only the leader can say DUPLICATE_VOTER (any other node answers NOT_LEADER_OR_FOLLOWER first).
    const duplicate = await addVoter(third, second);
    assert.equal(duplicate.errorCode, ErrorCode.DUPLICATE_VOTER, String(duplicate.errorMessage));

    // Node 3 added through node 2's broker listener (now a voter that follows).
    await waitFor(async () => {
      const answer = await addVoter(second, third);
      if (answer.errorCode === ErrorCode.REQUEST_TIMED_OUT) return undefined;
      assert.equal(answer.errorCode, ErrorCode.NONE, String(answer.errorMessage));
      return true;
    }, 'node 3 added as a voter through node 2');
    await waitFor(() => nodes.every((node) => voters(node) === '1,2,3') || undefined, 'every node to see voters 1,2,3');

    // Node 3 removed through its own broker listener, which forwards to the leader (node 1).
    const removed = await removeVoter(third, third);
    assert.equal(removed.errorCode, ErrorCode.NONE, String(removed.errorMessage));
    await waitFor(() => nodes.every((node) => voters(node) === '1,2') || undefined, 'every node to see voters 1,2 again');
    // The leader's own broker listener answers without forwarding; a follower's forwards.
    for (const through of [first, second]) {
      const missing = await removeVoter(through, third);
      assert.equal(missing.errorCode, ErrorCode.VOTER_NOT_FOUND, `through node ${through.id}: ${missing.errorMessage}`);
    }
  });

  it('answers INVALID_REQUEST to a new voter without a directory id (the zero uuid) or with a negative id, as Kafka\'s leader does', async () => {
    const [first, second, third] = nodes as [NodeSetup, NodeSetup, NodeSetup];
    assert.equal(voters(first), '1,2', 'the test above left voters 1,2 with node 3 an observer');
    // Node 3 has caught up as an observer: with its directory id it could be added.
    for (const through of [first, second, third]) {
      for (const [what, voterDirectoryId, voterId] of [['the zero directory id', ZERO_UUID, third.id], ['a negative id', directoryIdOf(third), -1]] as const) {
        const answer = await addVoter(through, third, voterDirectoryId, voterId);
        assert.equal(answer.errorCode, ErrorCode.INVALID_REQUEST, `${what} through node ${through.id}: ${answer.errorCode} ${answer.errorMessage}`);
        assert.equal(answer.errorMessage, "Add voter request didn't include a valid voter");
      }
    }
    assert.ok(nodes.every((node) => voters(node) === '1,2'), 'a voter was added');
  });

  it('answers INVALID_REQUEST to a voter to remove named without a directory id (the zero uuid) or with a negative id, as Kafka\'s leader does', async () => {
    const [first, second, third] = nodes as [NodeSetup, NodeSetup, NodeSetup];
    assert.equal(voters(first), '1,2', 'the tests above left voters 1,2');
    // Node 1's entry has no directory id (the bootstrap checkpoint above), node 2's has its own: the
    // zero uuid names neither, whatever the entry holds; a negative id names no voter.
    const cases = [['node 1 with the zero directory id', first, ZERO_UUID, first.id], ['node 2 with the zero directory id', second, ZERO_UUID, second.id], ['a negative id', second, directoryIdOf(second), -1]] as const;
    for (const through of [first, second, third]) {
      for (const [what, voter, voterDirectoryId, voterId] of cases) {
        const answer = await removeVoter(through, voter, voterDirectoryId, voterId);
        assert.equal(answer.errorCode, ErrorCode.INVALID_REQUEST, `${what} through node ${through.id}: ${answer.errorCode} ${answer.errorMessage}`);
        assert.equal(answer.errorMessage, "Remove voter request didn't include a valid voter");
      }
    }
    assert.ok(nodes.every((node) => voters(node) === '1,2'), 'a voter was removed');
  });
});
