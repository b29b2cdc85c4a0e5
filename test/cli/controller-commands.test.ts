// `conveyor cluster remove-controller` and `add-controller` (KIP-853) against an in-process
// three-node cluster: the CLI from source as a child process takes a voter out of the metadata
// quorum through the controllers' listener (it finds the leader among the addresses given), the
// cluster goes on committing with two voters while the removed node follows as an observer, and
// add-controller makes it a voter again; removing the leader itself hands leadership over; bad
// requests fail with Kafka's error names and a non-zero exit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AdminClient } from '../../src/client/admin-client.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { addController, removeController } from '../../src/cli/controller-commands.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { waitFor } from '../integration/helpers.js';
import { runProcess } from '../support/process.js';

const toolsEntry = fileURLToPath(new URL('./tools-entry.ts', import.meta.url));

describe('conveyor cluster add-controller / remove-controller', () => {
  let cluster: RunningCluster;
  const controllers = () => cluster.nodeIds.map((id) => cluster.node(id).controllerAddress!).join(',');
  const votersOn = (id: number) => [...cluster.node(id).broker!.services.quorum.raft.voters].sort().join(',');
  const directoryIdOf = (id: number) => cluster.node(id).broker!.services.quorum.raft.directoryId;
  const everyNodeSees = (voters: string) => waitFor(() => (cluster.nodeIds.every((id) => votersOn(id) === voters) ? true : undefined), `every node to see voters ${voters}`);
  const conveyor = (...args: string[]) => runProcess(process.execPath, ['--import', 'tsx', toolsEntry, 'cluster', ...args], { timeoutMs: 40_000 });
  const createTopic = async (name: string) => {
    const client = new ClusterClient(connectTcp, cluster.bootstrapServers.split(',')[0]!, 'controller-commands-test');
    try {
      await new AdminClient(client).createTopic(name, { partitions: 1, replicationFactor: 1 });
    } finally {
      client.close();
    }
  };

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
  });

  after(async () => {
    await cluster?.close();
  });

  it('removes a follower from the voters and adds it back, as CLI commands', async () => {
    const leader = cluster.activeController();
    const follower = cluster.nodeIds.find((id) => id !== leader)!;
    // As Kafka's tool, the DRY RUN prints what it would do and changes nothing.
    const dryRun = await conveyor('remove-controller', '--bootstrap-controller', controllers(), '-i', String(follower), '-d', directoryIdOf(follower), '--dry-run');
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.match(dryRun.stdout, new RegExp(`DRY RUN of removing controller ${follower} \\(directory ${directoryIdOf(follower)}\\)`));
    assert.equal(votersOn(leader), '1,2,3');
    const removed = await conveyor('remove-controller', '--bootstrap-controller', controllers(), '--controller-id', String(follower), '--controller-directory-id', directoryIdOf(follower));
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, new RegExp(`Removed controller ${follower} \\(directory ${directoryIdOf(follower)}\\)`));
    const others = cluster.nodeIds.filter((id) => id !== follower).join(',');
    await everyNodeSees(others);
    assert.equal(cluster.node(follower).broker!.services.quorum.raft.isVoter, false);
    // Two voters still commit, and the removed node still follows the log as an observer.
    await createTopic('with-two-voters');
    await waitFor(() => cluster.node(follower).broker!.services.image.topic('with-two-voters'), 'the removed node to load the new topic');
    const description = cluster.node(cluster.activeController()).broker!.services.quorum.raft.describe()!;
    assert.deepEqual(description.voters.map((voter) => voter.replicaId).sort().join(','), others);
    assert.ok(description.observers.some((observer) => observer.replicaId === follower), 'the removed node is not an observer');

    const added = await conveyor('add-controller', '--bootstrap-controller', controllers(), '--controller-id', String(follower), '--controller-directory-id', directoryIdOf(follower), '--controller-endpoint', `CONTROLLER://${cluster.node(follower).controllerAddress}`);
    assert.equal(added.code, 0, added.stderr);
    await everyNodeSees('1,2,3');
    assert.equal(cluster.node(follower).broker!.services.quorum.raft.isVoter, true);
  });

  it('removing the leader itself hands leadership to another voter, which goes on committing', async () => {
    const leader = cluster.activeController();
    await removeController(controllers().split(','), leader, directoryIdOf(leader));
    await waitFor(() => (cluster.activeController() !== -1 && cluster.activeController() !== leader ? true : undefined), 'another leader');
    await everyNodeSees(cluster.nodeIds.filter((id) => id !== leader).join(','));
    await createTopic('after-the-leader-left');
    await addController(controllers().split(','), leader, directoryIdOf(leader), { name: 'CONTROLLER', host: '127.0.0.1', port: Number(cluster.node(leader).controllerAddress!.split(':')[1]) });
    await everyNodeSees('1,2,3');
  });

  it('refuses an unknown voter and a duplicate with the Kafka error names, exiting non-zero', async () => {
    const unknown = await conveyor('remove-controller', '--bootstrap-controller', controllers(), '--controller-id', '9', '--controller-directory-id', directoryIdOf(1));
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /VOTER_NOT_FOUND/);
    // As Kafka's tool, remove-controller needs the voter's directory id; the leader answers
    // INVALID_REQUEST to the zero uuid rather than removing the voter whatever its directory.
    const withoutDirectory = await conveyor('remove-controller', '--bootstrap-controller', controllers(), '--controller-id', '1');
    assert.notEqual(withoutDirectory.code, 0);
    assert.match(withoutDirectory.stderr, /--controller-directory-id/);
    const zeroDirectory = await conveyor('remove-controller', '--bootstrap-controller', controllers(), '--controller-id', '1', '--controller-directory-id', 'AAAAAAAAAAAAAAAAAAAAAA');
    assert.notEqual(zeroDirectory.code, 0);
    assert.match(zeroDirectory.stderr, /INVALID_REQUEST.*Remove voter request didn't include a valid voter/);
    assert.equal(votersOn(1), '1,2,3');
    const duplicate = await conveyor('add-controller', '--bootstrap-controller', controllers(), '--controller-id', '1', '--controller-directory-id', directoryIdOf(1), '--controller-endpoint', cluster.node(1).controllerAddress!);
    assert.notEqual(duplicate.code, 0);
    assert.match(duplicate.stderr, /DUPLICATE_VOTER/);
    // As Kafka's tool, add-controller needs the new voter's directory id (the leader would answer
    // INVALID_REQUEST to a voter without one).
    const noDirectory = await conveyor('add-controller', '--bootstrap-controller', controllers(), '--controller-id', '9', '--controller-endpoint', cluster.node(1).controllerAddress!);
    assert.notEqual(noDirectory.code, 0);
    assert.match(noDirectory.stderr, /directory id/);
  });
});
