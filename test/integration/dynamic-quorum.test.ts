// A dynamic metadata quorum (KIP-853) in one process over real TCP: the first controller is
// formatted as a standalone voter (its bootstrap checkpoint names it), the others are formatted
// with no initial controllers and find the quorum through controller.quorum.bootstrap.servers
// alone, fetching the log as observers (the leader names where it listens), until
// `add-controller` makes each a voter. The quorum then outlives the first controller's stop, the
// first one is removed, a restarted node rebuilds its voter set from its own log, and a voter
// restarted on another port has its new address recorded through UpdateRaftVoter.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AdminClient } from '../../src/client/admin-client.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { addController, removeController } from '../../src/cli/controller-commands.js';
import { formatStorage } from '../../src/broker/meta-properties.js';
import { NodeFileSystem } from '../../src/node/node-file-system.js';
import { freePorts } from '../../src/node/start-cluster.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { randomUuid } from '../../src/base/uuid.js';
import { systemRandom } from '../../src/node/system.js';
import { writeBootstrapCheckpoint } from '../../src/quorum/bootstrap-checkpoint.js';
import { waitFor } from './helpers.js';

interface NodeSetup {
  id: number;
  port: number;
  controllerPort: number;
  dataDir: string;
  broker: RunningBroker | undefined;
}

describe('a dynamic quorum grown from one standalone controller (KIP-853)', () => {
  const nodes: NodeSetup[] = [];
  after(async () => {
    for (const node of nodes) await node.broker?.close();
    for (const node of nodes) await rm(node.dataDir, { recursive: true, force: true });
  });

  const controllerAddress = (node: NodeSetup) => `127.0.0.1:${node.controllerPort}`;
  const start = async (node: NodeSetup, bootstrap: string) => {
    node.broker = await startBroker({
      dataDir: node.dataDir,
      config: {
        'node.id': node.id,
        'process.roles': 'broker,controller',
        listeners: `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
        'controller.listener.names': 'CONTROLLER',
        'controller.quorum.bootstrap.servers': bootstrap,
      },
    });
  };
  const voters = (node: NodeSetup) => [...node.broker!.broker.services.quorum.raft.voters].sort().join(',');
  const createTopic = async (node: NodeSetup, name: string) => {
    const client = new ClusterClient(connectTcp, `127.0.0.1:${node.port}`, 'dynamic-quorum-test');
    try {
      await new AdminClient(client).createTopic(name, { partitions: 1, replicationFactor: 1 });
    } finally {
      client.close();
    }
  };

  it('adds observers found through bootstrap servers as voters, survives the first one, and removes it', async () => {
    const ports = await freePorts(6);
    const clusterId = randomUuid(systemRandom);
    const fs = new NodeFileSystem();
    const firstDirectoryId = randomUuid(systemRandom);
    for (let index = 0; index < 3; index++) {
      const node: NodeSetup = { id: index + 1, port: ports[index * 2]!, controllerPort: ports[index * 2 + 1]!, dataDir: await mkdtemp(join(tmpdir(), `conveyor-dynamic-${index + 1}-`)), broker: undefined };
      await formatStorage(fs, node.dataDir, node.id, clusterId, index === 0 ? { directoryId: firstDirectoryId } : {});
      nodes.push(node);
    }
    const [first, second, third] = nodes as [NodeSetup, NodeSetup, NodeSetup];
    // `conveyor storage format --standalone` for the first (the voter keyed by its directory id);
    // the others: --no-initial-controllers.
    await writeBootstrapCheckpoint(fs, first.dataDir, [{ id: 1, directoryId: firstDirectoryId, endpoints: [{ name: 'CONTROLLER', host: '127.0.0.1', port: first.controllerPort }] }], Date.now());
    await start(first, controllerAddress(first));
    assert.equal(voters(first), '1');
    await createTopic(first, 'before-growth');

    for (const node of [second, third]) {
      await start(node, controllerAddress(first));
      // An observer: not a voter, yet it has the whole log (and registered as a broker).
      assert.equal(node.broker!.broker.services.quorum.raft.isVoter, false);
      assert.ok(node.broker!.broker.services.image.topic('before-growth'), `node ${node.id} did not load the log`);
      await addController([controllerAddress(first)], node.id, node.broker!.broker.services.quorum.raft.directoryId, { name: 'CONTROLLER', host: '127.0.0.1', port: node.controllerPort });
    }
    await waitFor(() => nodes.every((node) => voters(node) === '1,2,3') || undefined, 'every node to see three voters');
    await createTopic(second, 'with-three-voters');

    // The first controller stops: the two it added elect a leader among themselves and commit.
    await first.broker!.close();
    first.broker = undefined;
    await waitFor(() => [second, third].some((node) => node.broker!.broker.services.quorum.isActive) || undefined, 'a new leader among the added voters');
    await createTopic(second, 'after-the-first-left');
    await removeController([controllerAddress(second), controllerAddress(third)], 1, firstDirectoryId);
    await waitFor(() => [second, third].every((node) => voters(node) === '2,3') || undefined, 'the first controller removed');

    // A restart finds its voters in its own log (no bootstrap checkpoint, no static voters).
    await third.broker!.close();
    third.broker = undefined;
    await start(third, controllerAddress(second));
    assert.equal(voters(third), '2,3');
    await createTopic(third, 'after-the-restart');
    await waitFor(() => second.broker!.broker.services.image.topic('after-the-restart') || undefined, 'the topic on the other voter');

    // Restarted on another controller port, a voter tells the leader (UpdateRaftVoter), and the
    // voter set everyone reads carries its new address: the other voter, restarted in turn, reaches
    // it there (two voters commit only together).
    await third.broker!.close();
    third.broker = undefined;
    third.controllerPort = (await freePorts(1))[0]!;
    await start(third, controllerAddress(second));
    const recorded = () => second.broker?.broker.services.quorum.raft.voterSet.find((voter) => voter.id === 3)?.endpoints[0]?.port;
    await waitFor(() => recorded() === third.controllerPort || undefined, 'the new port of node 3 in the voter set');
    await second.broker!.close();
    second.broker = undefined;
    await start(second, controllerAddress(third));
    await createTopic(second, 'after-the-move');
    await waitFor(() => third.broker!.broker.services.image.topic('after-the-move') || undefined, 'the topic on node 3');
  });
});
