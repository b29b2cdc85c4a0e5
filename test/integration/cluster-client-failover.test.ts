// The tools' ClusterClient (src/client/cluster-client.ts) when brokers go away, on a 3-node
// in-process cluster: a broker that restarts is reached again (a closed connection is opened
// anew, not kept), and a request for no broker in particular goes on with the next bootstrap
// address, or a broker the metadata named, when the one in use is down.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { MetadataApi } from '../../src/protocol/messages/index.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';

describe('ClusterClient with brokers that go away', { timeout: 60_000 }, () => {
  let cluster: RunningCluster;
  before(async () => {
    cluster = await startCluster({ brokers: 3, config: { 'broker.heartbeat.interval.ms': 100, 'broker.session.timeout.ms': 1_000 } });
  });
  after(async () => {
    await cluster?.close();
  });

  const brokerIds = async (client: ClusterClient) => (await client.metadata()).brokers.map((broker) => broker.nodeId).sort();

  test('a broker that restarted is reached again through the same client', async () => {
    const address = cluster.node(2).bootstrapServer;
    const client = new ClusterClient(connectTcp, address, 'failover-restart');
    const metadataAt = () => client.request(MetadataApi, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }, { address, minVersion: 1, maxVersion: 12 });
    try {
      assert.equal((await metadataAt()).brokers.length, 3);
      await cluster.crash(2);
      await assert.rejects(metadataAt());
      await cluster.restart(2);
      assert.ok((await metadataAt()).brokers.some((broker) => broker.nodeId === 2));
    } finally {
      client.close();
    }
  });

  test('the next bootstrap address, then the brokers the metadata named, when the one in use is down', async () => {
    const listed = new ClusterClient(connectTcp, `${cluster.node(3).bootstrapServer},${cluster.node(1).bootstrapServer}`, 'failover-list');
    const learned = new ClusterClient(connectTcp, cluster.node(3).bootstrapServer, 'failover-learned');
    try {
      assert.equal(listed.bootstrapServer, cluster.node(3).bootstrapServer);
      await brokerIds(learned);
      await cluster.crash(3);
      assert.ok((await brokerIds(listed)).includes(1));
      assert.equal(listed.bootstrapServer, cluster.node(1).bootstrapServer);
      assert.ok((await brokerIds(learned)).length > 0, 'a broker the metadata named answered');
      assert.notEqual(learned.bootstrapServer, cluster.node(3).bootstrapServer);
    } finally {
      listed.close();
      learned.close();
      await cluster.restart(3);
    }
  });
});
