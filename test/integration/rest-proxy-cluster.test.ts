// The HTTP API against a 3-node cluster: when a partition's leader stops, a produce through the
// API still succeeds (the records that failed on the old leader are sent again to the new one
// after the topic's metadata is read anew, as Kafka's producer retries), and a long poll reads it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { type RestProxy, registerRestProxy } from '../../src/admin/rest-proxy/index.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { waitFor } from '../support/wait.js';

interface Json {
  [key: string]: any;
}

describe('HTTP API on a cluster', { timeout: 60_000 }, () => {
  let cluster: RunningCluster;
  let app: FastifyInstance;
  let proxy: RestProxy;
  let base: string;
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> => {
    const response = await fetch(`${base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, json: text === '' ? {} : JSON.parse(text) };
  };

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
    app = Fastify({ logger: false });
    proxy = await registerRestProxy(app, { clientConfig: new Map([['bootstrap.servers', cluster.node(1).bootstrapServer]]) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  after(async () => {
    await proxy?.close();
    await app?.close();
    await cluster?.close();
  });

  it('produces to a partition whose leader stopped after the API last wrote to it', async () => {
    const id = cluster.clusterId;
    assert.equal((await call('POST', `/v3/clusters/${id}/topics`, { topic_name: 'moving', partitions_count: 6, replication_factor: 3 })).status, 201);
    const partitions = await waitFor('leaders for every partition', async () => {
      const listed = (await call('GET', `/v3/clusters/${id}/topics/moving/partitions`)).json.data as Json[];
      return listed.every((partition) => partition.leader_id > 0) ? listed : undefined;
    });
    const moved = partitions.find((partition) => partition.leader_id !== 1)!;
    const partition = moved.partition_id as number;
    const first = await call('POST', `/v3/clusters/${id}/topics/moving/records`, { partition_id: partition, value: { type: 'STRING', data: 'before' } });
    assert.equal(first.status, 200, JSON.stringify(first.json));
    await cluster.stop(moved.leader_id);
    const second = await call('POST', `/v3/clusters/${id}/topics/moving/records`, { partition_id: partition, value: { type: 'STRING', data: 'after' } });
    assert.equal(second.status, 200, JSON.stringify(second.json));
    assert.equal(second.json.offset, 1);
    const read = await call('GET', `/v3/clusters/${id}/topics/moving/partitions/${partition}/records?offset=0&timeout_ms=5000`);
    assert.deepEqual(read.json.data.map((record: Json) => record.value.data), ['before', 'after']);
  });
});
