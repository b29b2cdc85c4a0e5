// Metadata snapshots (KIP-630) through real brokers: with a small
// metadata.log.max.record.bytes.between.snapshots, the quorum writes `.checkpoint` snapshots and
// drops the log before the one before the newest; a restarted node rebuilds its image from its
// snapshot and the log after it; a broker that was down while the quorum snapshotted catches up by
// fetching the leader's snapshot (FetchSnapshot); and a broker cut off while a topic was deleted
// drops that topic's logs when the snapshot it fetches no longer has it.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { startBroker } from '../../src/node/start-broker.js';

const SMALL_SNAPSHOTS = { 'metadata.log.max.record.bytes.between.snapshots': 2048 };

function admin(bootstrapServers: string) {
  return new Kafka({ clientId: 'snapshot-test', brokers: bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } }).admin();
}

/** The end offsets of the metadata snapshots on disk, oldest first. */
function checkpoints(dataDir: string): number[] {
  return readdirSync(join(dataDir, '__cluster_metadata-0'))
    .filter((name) => name.endsWith('.checkpoint'))
    .map((name) => Number(name.split('-')[0]))
    .sort((a, b) => a - b);
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('metadata snapshots on a single node', () => {
  let dataDir: string;
  after(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('writes snapshots, drops the log before them, and restarts from the newest one with every topic and config', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'conveyor-snapshots-'));
    let broker = await startBroker({ port: 0, dataDir, config: SMALL_SNAPSHOTS });
    const topics = Array.from({ length: 40 }, (_, index) => `snap-${index}`);
    try {
      const client = admin(`127.0.0.1:${broker.port}`);
      await client.connect();
      // In four requests: each leaves more than a snapshot's worth of records, so several are taken.
      for (let index = 0; index < topics.length; index += 10) {
        await client.createTopics({ topics: topics.slice(index, index + 10).map((topic) => ({ topic, numPartitions: 2 })) });
      }
      await client.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: 'snap-3', configEntries: [{ name: 'retention.ms', value: '123456' }] }] });
      await client.deleteTopics({ topics: ['snap-0', 'snap-1'] });
      await client.disconnect();
      const raft = broker.broker.services.quorum.raft;
      // The log starts at the snapshot before the newest (kept for a follower still fetching it).
      await until(() => raft.log.startOffset > 0, 5000, 'a second snapshot, and the log before the first dropped');
      assert.ok(raft.log.startOffset < raft.latestSnapshot!.offset, 'the log after the previous snapshot was dropped as well');
      assert.deepEqual(checkpoints(dataDir), [raft.log.startOffset, raft.latestSnapshot!.offset], 'expected the newest snapshot and the one before it');
    } finally {
      await broker.close();
    }

    broker = await startBroker({ port: 0, dataDir, config: SMALL_SNAPSHOTS });
    try {
      const { image, quorum } = broker.broker.services;
      assert.ok(quorum.raft.log.startOffset > 0, 'the restarted log starts at its snapshot');
      assert.deepEqual(checkpoints(dataDir), [quorum.raft.latestSnapshot!.offset], 'a restart keeps the newest snapshot only');
      assert.deepEqual([...image.topicsByName.keys()].filter((name) => name.startsWith('snap-')).sort(), topics.slice(2).sort());
      assert.equal(image.resourceConfigs(2, 'snap-3').get('retention.ms'), '123456');
      const client = admin(`127.0.0.1:${broker.port}`);
      await client.connect();
      const listed = await client.listTopics();
      await client.disconnect();
      assert.deepEqual(listed.filter((name) => name.startsWith('snap-')).sort(), topics.slice(2).sort());
    } finally {
      await broker.close();
    }
  });
});

describe('metadata snapshots in a cluster of three controllers and three brokers', () => {
  let cluster: RunningCluster | undefined;
  after(async () => {
    await cluster?.close();
  });

  it('a broker that was down catches up through the leader snapshot, and one cut off drops the logs of a topic deleted meanwhile', async () => {
    // Dedicated controllers keep their quorum while two brokers are away; the brokers are the
    // quorum's observers, which fetch snapshots as voters do (the simulation covers voters).
    cluster = await startCluster({ controllers: 3, brokers: 3, config: SMALL_SNAPSHOTS });
    const running = cluster;
    const [down, cutOff, healthy] = [4, 5, 6];
    await until(() => running.nodeIds.every((id) => running.node(id).broker?.services.image.brokers.size === 3), 10_000, 'three registered brokers');
    const client = admin(running.node(healthy).bootstrapServer);
    await client.connect();
    try {
      // A topic with a partition on every broker, to be deleted while one broker is cut off.
      await client.createTopics({ topics: [{ topic: 'doomed', numPartitions: 6 }], waitForLeaders: false });
      const hosts = (id: number, topic: string) => [...running.node(id).broker!.services.replicaManager.all()].some((partition) => partition.topic === topic);
      await until(() => hosts(cutOff, 'doomed'), 10_000, 'the cut-off broker to host a doomed partition');

      // Deleted before the other broker stops: kafkajs's admin refreshes metadata for all topics
      // and gives up on a partition without a leader (LEADER_NOT_AVAILABLE, as Kafka answers).
      running.isolate(cutOff);
      await client.deleteTopics({ topics: ['doomed'] });
      await running.stop(down);
      const topics = Array.from({ length: 40 }, (_, index) => `later-${index}`);
      await client.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: false });
      const leader = running.activeController();
      const leaderRaft = running.node(leader).broker!.services.quorum.raft;
      await until(() => leaderRaft.log.startOffset > 0, 10_000, 'the leader to snapshot and drop its log');
      assert.ok(hosts(cutOff, 'doomed'), 'the cut-off broker learned of the deletion while cut off');

      await running.restart(down);
      running.heal();
      for (const id of [down, cutOff]) {
        const services = () => running.node(id).broker?.services;
        await until(() => topics.every((topic) => services()?.image.topic(topic) !== undefined), 20_000, `broker ${id} to load the later topics`);
        assert.equal(services()!.image.topic('doomed'), undefined, `broker ${id} still has the deleted topic`);
        assert.ok((services()!.quorum.raft.latestSnapshot?.offset ?? 0) > 0, `broker ${id} holds no snapshot`);
        assert.ok(services()!.quorum.raft.log.startOffset > 0, `broker ${id} kept its whole log`);
        assert.ok(services()!.quorum.raft.snapshotsInstalled >= 1, `broker ${id} did not fetch the leader's snapshot`);
      }
      // The cut-off broker learned of the deletion only from the snapshot, and dropped its logs.
      await until(() => !hosts(cutOff, 'doomed'), 10_000, 'the cut-off broker to delete the doomed logs');
      const fresh = admin(running.node(down).bootstrapServer);
      await fresh.connect();
      const listed = await fresh.listTopics();
      await fresh.disconnect();
      assert.ok(topics.every((topic) => listed.includes(topic)));
      assert.ok(!listed.includes('doomed'));
    } finally {
      await client.disconnect();
    }
  });
});
