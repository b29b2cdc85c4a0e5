// A broker binds its ports while its logs open and serves only once it is registered: a taken
// port fails the start with the address named and leaves the data directory usable, and a broker
// that starts serves a first request with itself in the cluster's metadata.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { startBroker } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { createTopic, metadata, temporaryDirectory } from './helpers.js';

describe('broker start-up and its listeners', () => {
  it('fails on a taken port, naming it, and leaves the data directory to the next start', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const address = blocker.address();
    assert.ok(address !== null && typeof address === 'object');
    const directory = await temporaryDirectory();
    try {
      await assert.rejects(
        startBroker({ dataDir: directory.path, config: { listeners: `PLAINTEXT://127.0.0.1:${address.port}` } }),
        new RegExp(`127\\.0\\.0\\.1:${address.port}: address already in use`),
      );
      // The failed start closed its logs: the same directory starts, keeps what it is given, restarts.
      const running = await startBroker({ port: 0, dataDir: directory.path });
      const client = await RawClient.connect(running.host, running.port);
      await createTopic(client, 'after-a-failed-start');
      await client.close();
      await running.close();
      const again = await startBroker({ port: 0, dataDir: directory.path });
      const second = await RawClient.connect(again.host, again.port);
      const described = await metadata(second, ['after-a-failed-start']);
      assert.equal(described.topics[0]?.errorCode, 0);
      await second.close();
      await again.close();
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
      await directory.remove();
    }
  });

  it('answers its first request with itself registered, on a port chosen before the logs opened', async () => {
    const directory = await temporaryDirectory();
    try {
      const running = await startBroker({ port: 0, dataDir: directory.path });
      const client = await RawClient.connect(running.host, running.port);
      const response = await metadata(client, []);
      assert.deepEqual(response.brokers.map((broker) => [broker.nodeId, broker.host, broker.port]), [[running.nodeId, running.host, running.port]]);
      await client.close();
      await running.close();
    } finally {
      await directory.remove();
    }
  });
});
