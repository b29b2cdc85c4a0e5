// `conveyor cluster describe` against an in-process three-node cluster (startCluster) and a single
// broker (a quorum of one): the CLI from source as a child process (tools-entry.ts) names the
// brokers, the active controller, and the metadata quorum as kafka-metadata-quorum.sh shows it:
// leader, epoch, high watermark, voters, and per replica its log end offset and lag, which reaches
// 0 for every voter. describeQuorum itself, in process, retries once on the controller Metadata
// names when the node it asked first does not lead the quorum.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeQuorum } from '../../src/cli/cluster-command.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { waitFor } from '../integration/helpers.js';
import { type ProcessResult, runProcess } from '../support/process.js';

const toolsEntry = fileURLToPath(new URL('./tools-entry.ts', import.meta.url));

async function describeCluster(bootstrapServer: string, json: boolean): Promise<ProcessResult> {
  const result = await runProcess(process.execPath, ['--import', 'tsx', toolsEntry, 'cluster', 'describe', '--bootstrap-server', bootstrapServer, ...(json ? ['--json'] : [])], { timeoutMs: 20_000 });
  assert.equal(result.code, 0, `conveyor cluster describe failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

interface Described {
  clusterId: string;
  controllerId: number;
  brokers: { nodeId: number; host: string; port: number; rack: string | null; fenced: boolean | null }[];
  quorum: {
    describedBy: number;
    leaderId: number;
    leaderEpoch: number;
    highWatermark: number;
    maxFollowerLag: number;
    currentVoters: number[];
    currentObservers: number[];
    replicas: { nodeId: number; status: string; logEndOffset: number; lag: number; lastFetchMsAgo: number | null; lastCaughtUpMsAgo: number | null }[];
  } | null;
}

/** Runs describe --json until every voter has caught up (lag 0) under the leader `leader()` names, within the bound. */
async function describeCaughtUp(bootstrapServer: string, voters: number, leader?: () => number): Promise<Described> {
  return waitFor(
    async () => {
      const described = JSON.parse((await describeCluster(bootstrapServer, true)).stdout) as Described;
      const quorum = described.quorum;
      if (quorum === null || (leader !== undefined && quorum.leaderId !== leader())) return undefined;
      return quorum.currentVoters.length === voters && quorum.replicas.every((replica) => replica.lag === 0) ? described : undefined;
    },
    'every voter with lag 0',
    30_000,
  );
}

describe('conveyor cluster describe', { timeout: 120_000 }, () => {
  describe('a three-node cluster', () => {
    let cluster: RunningCluster;
    before(async () => {
      cluster = await startCluster({ brokers: 3 });
    });
    after(() => cluster?.close());

    it('names the leader, its epoch and three voters with lag 0', { timeout: 60_000 }, async () => {
      const first = await waitFor(() => (cluster.activeController() >= 0 ? cluster.activeController() : undefined), 'an active controller');
      const follower = cluster.nodeIds.find((id) => id !== first)!;
      // The leader as the quorum reports it (an election could move it meanwhile; then it is asked again).
      const described = await describeCaughtUp(cluster.node(follower).bootstrapServer, 3, () => cluster.activeController());
      const quorum = described.quorum!;
      const leader = quorum.leaderId;
      assert.equal(described.clusterId, cluster.clusterId);
      assert.equal(described.controllerId, leader);
      assert.deepEqual(described.brokers.map((broker) => [broker.nodeId, `${broker.host}:${broker.port}`]), cluster.nodeIds.map((id) => [id, cluster.node(id).bootstrapServer]));
      assert.equal(quorum.describedBy, leader);
      assert.ok(quorum.leaderEpoch >= 1, `epoch ${quorum.leaderEpoch}`);
      assert.ok(quorum.highWatermark >= 1, `high watermark ${quorum.highWatermark}`);
      assert.equal(quorum.maxFollowerLag, 0);
      assert.deepEqual(quorum.currentVoters, [1, 2, 3]);
      assert.deepEqual(quorum.currentObservers, []);
      assert.deepEqual(quorum.replicas.map((replica) => [replica.nodeId, replica.status]), [[leader, 'Leader'], ...cluster.nodeIds.filter((id) => id !== leader).map((id) => [id, 'Follower'])]);
      for (const replica of quorum.replicas) {
        assert.equal(replica.logEndOffset, quorum.highWatermark, `node ${replica.nodeId} is at the high watermark`);
        assert.ok(replica.lastFetchMsAgo !== null && replica.lastFetchMsAgo < 30_000, `node ${replica.nodeId} fetched recently`);
        assert.ok(replica.lastCaughtUpMsAgo !== null, `node ${replica.nodeId} has caught up`);
      }

      // The same in the text people read, asking the leader directly.
      const text = (await describeCluster(cluster.node(leader).bootstrapServer, false)).stdout;
      const textLeader = Number(text.match(/^LeaderId:\s+(\d+)$/m)?.[1]);
      assert.ok(cluster.nodeIds.includes(textLeader), text);
      assert.match(text, new RegExp(`^Controller: ${textLeader}$`, 'm'));
      assert.match(text, /^LeaderEpoch:\s+\d+$/m);
      assert.match(text, /^HighWatermark:\s+\d+$/m);
      assert.match(text, /^CurrentVoters:\s+\[1,2,3\]$/m);
      assert.match(text, /^CurrentObservers:\s+\[\]$/m);
      assert.match(text, /^NODE\s+STATUS\s+LOG END OFFSET\s+LAG\s+LAST FETCH\s+LAST CAUGHT UP$/m);
      assert.match(text, new RegExp(`^${textLeader}\\s+Leader\\s+\\d+\\s+\\d+\\s+\\d+ ms ago\\s+\\d+ ms ago$`, 'm'));
      assert.equal(text.match(/^\d+\s+Follower\s+/gm)?.length, 2);
    });

    it('describes the quorum through a broker that does not lead it (the broker forwards DescribeQuorum)', { timeout: 30_000 }, async () => {
      const leader = await waitFor(() => (cluster.activeController() >= 0 ? cluster.activeController() : undefined), 'an active controller');
      const follower = cluster.nodeIds.find((id) => id !== leader)!;
      const client = new ClusterClient(connectTcp, cluster.node(follower).bootstrapServer);
      try {
        const metadata = await client.metadata([]);
        // As if Metadata had named a node that does not lead: it answers for the leader.
        const quorum = await describeQuorum(client, { ...metadata, controllerId: follower });
        assert.equal(quorum.describedBy, follower);
        // The leader then (unless an election moved it meanwhile).
        assert.ok(cluster.nodeIds.includes(quorum.leaderId));
        assert.notEqual(quorum.leaderId, -1);
      } finally {
        client.close();
      }
    });

    it('lists a stopped broker as fenced (DescribeCluster v2), then live again after its restart', { timeout: 60_000 }, async () => {
      const leader = await waitFor(() => (cluster.activeController() >= 0 ? cluster.activeController() : undefined), 'an active controller');
      const stopped = cluster.nodeIds.find((id) => id !== leader)!;
      const asked = cluster.node(leader).bootstrapServer;
      await cluster.stop(stopped);
      await waitFor(() => cluster.node(leader).broker!.services.image.brokers.get(stopped)?.fenced === true || undefined, 'the stopped broker fenced');
      const fenced = JSON.parse((await describeCluster(asked, true)).stdout) as Described;
      assert.deepEqual(fenced.brokers.map((broker) => [broker.nodeId, broker.fenced]), cluster.nodeIds.map((id) => [id, id === stopped]));
      assert.match((await describeCluster(asked, false)).stdout, /FENCED/);
      await cluster.restart(stopped);
      await waitFor(() => cluster.node(leader).broker!.services.image.brokers.get(stopped)?.fenced === false || undefined, 'the restarted broker unfenced');
      const live = JSON.parse((await describeCluster(asked, true)).stdout) as Described;
      assert.deepEqual(live.brokers.map((broker) => [broker.nodeId, broker.fenced]), cluster.nodeIds.map((id) => [id, false]));
    });
  });

  describe('a single broker', () => {
    let broker: RunningBroker;
    before(async () => {
      broker = await startBroker({ port: 0, storage: 'memory' });
    });
    after(() => broker?.close());

    it('is a quorum of one: itself the leader and only voter, with lag 0', { timeout: 30_000 }, async () => {
      const described = await describeCaughtUp(broker.bootstrapServers, 1);
      assert.equal(described.controllerId, broker.nodeId);
      const quorum = described.quorum!;
      assert.equal(quorum.leaderId, broker.nodeId);
      assert.ok(quorum.leaderEpoch >= 1);
      assert.deepEqual(quorum.currentVoters, [broker.nodeId]);
      assert.deepEqual(quorum.replicas.map((replica) => [replica.nodeId, replica.status, replica.lag]), [[broker.nodeId, 'Leader', 0]]);
      const text = (await describeCluster(broker.bootstrapServers, false)).stdout;
      assert.match(text, new RegExp(`^CurrentVoters:\\s+\\[${broker.nodeId}\\]$`, 'm'));
      assert.match(text, /^MaxFollowerLag:\s+0$/m);
    });
  });
});
