// Under exactly-once source support the group's leader writes the config topic only through a
// transactional producer (`connect-cluster-<group.id>`, KIP-618): whoever becomes leader fences the
// producer of every earlier leader, so a worker that still believes it leads cannot write. Here an
// impostor claims the leader's transactional id and leaves a transaction open with a connector of
// its own: the real leader's next write is refused as fenced, it rejoins, fences the impostor back
// (aborting its transaction) and the retried write lands; the impostor's connector is never seen.
// A second worker owns one of the connectors: its task configs reach the topic through the leader.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AdminClient } from '../../../src/client/admin-client.js';
import { ClusterClient } from '../../../src/client/cluster-client.js';
import { ProducerFencedError, TransactionalProducer } from '../../../src/client/transactional-producer.js';
import { leaderTransactionalId } from '../../../src/connect/runtime/distributed/distributed-herder.js';
import { ConnectRestError } from '../../../src/connect/runtime/herder.js';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';
import { committedConfigRecords, distributedWorkerConfig, whenLed } from './worker-processes.js';

describe('Connect exactly-once support: the leader writes the config topic transactionally', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let cluster: ClusterClient | undefined;
  const workers: RunningConnect[] = [];
  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0, 'transaction.state.log.num.partitions': 2, 'offsets.topic.num.partitions': 2 } });
    dir = await temporaryDirectory();
  });
  after(async () => {
    cluster?.close();
    for (const worker of workers) await worker.close().catch(() => undefined);
    await broker.close();
    await dir.remove();
  });

  it('fences an impostor leader and routes a non-leader\'s task configs through the leader', async () => {
    const group = uniqueTopic('connect-leader');
    const properties = distributedWorkerConfig(broker.running.bootstrapServers, group, 6_000, { 'exactly.once.source.support': 'enabled', 'heartbeat.interval.ms': '500' });
    for (let index = 0; index < 2; index++) workers.push(await startConnect({ mode: 'distributed', worker: properties }));
    const [first, second] = workers as [RunningConnect, RunningConnect];
    const topic = uniqueTopic('leader-data');
    const sink = (name: string) => ({ 'connector.class': 'FileStreamSink', file: join(dir.path, `${name}.txt`), topics: topic });
    await whenLed(() => first.herder.putConnectorConfig('sink-a', sink('sink-a'), false), 'the group to accept a connector');
    await whenLed(() => second.herder.putConnectorConfig('sink-b', sink('sink-b'), false), 'the group to accept a second connector');
    // The assignor gives each worker a connector: the one on the worker that does not lead can only
    // have its task configs written by handing them to the leader.
    const owners = async () => Promise.all(['sink-a', 'sink-b'].map(async (name) => (await first.herder.connectorStatus(name)).connector.worker_id));
    await waitFor(async () => new Set(await owners()).size === 2 || false, 'each worker to run one connector', 30_000);
    await waitFor(async () => (await first.herder.taskConfigs('sink-a')).length === 1 && (await first.herder.taskConfigs('sink-b')).length === 1, 'both connectors\' task configs to be committed', 30_000);

    cluster = new ClusterClient(connectTcp, broker.running.bootstrapServers);
    const configTopic = `${group}-configs`;
    const keys = async () => (await committedConfigRecords(cluster!, configTopic)).map((record) => record.key);
    assert.deepEqual((await keys()).filter((key) => key.startsWith('commit-')).sort(), ['commit-sink-a', 'commit-sink-b']);

    // The impostor: the leader's transactional id, and an open transaction holding a connector.
    const topicInfo = await new AdminClient(cluster).describeTopic(configTopic);
    const impostor = new TransactionalProducer(cluster, { transactionalId: leaderTransactionalId(group) });
    await impostor.init();
    impostor.beginTransaction();
    await impostor.send([{ topic: configTopic, partition: 0, key: Buffer.from('connector-impostor'), value: Buffer.from(JSON.stringify({ properties: sink('impostor') })), headers: [] }], new Map([[configTopic, topicInfo]]));

    // The leader's next write is refused: its producer was fenced.
    // Through either worker: a non-leader forwards the write to the leader, whose refusal comes back.
    const create = (name: string) => first.herder.putConnectorConfig(name, sink(name), false);
    await assert.rejects(create('sink-c'), (error: unknown) => error instanceof ConnectRestError && error.status === 409 && /fenced/.test(error.message), 'the fenced leader refuses the write');
    // It rejoins, leads again with a new producer (which aborts the impostor's transaction), and the write lands.
    await whenLed(() => create('sink-c'), 'the leader to write again after rejoining');
    await assert.rejects(impostor.commitTransaction(), ProducerFencedError, 'the impostor was fenced by the leader\'s new producer');

    const committed = await keys();
    assert.ok(committed.includes('connector-sink-c'), 'the retried write is committed');
    assert.ok(!committed.includes('connector-impostor'), 'the impostor\'s record never commits');
    await waitFor(() => first.herder.connectors().join() === 'sink-a,sink-b,sink-c' && second.herder.connectors().join() === 'sink-a,sink-b,sink-c', 'both workers to see exactly the three connectors', 15_000);
  });
});
