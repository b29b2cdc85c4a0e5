// Replicated partitions on a real 3-node cluster over TCP: followers fetch from the leader and
// hold the same batches, acks=all answers once every in-sync replica has the batch, consumers read
// up to the high watermark, a partition led elsewhere answers NOT_LEADER_OR_FOLLOWER, too small an
// ISR refuses acks=all with NOT_ENOUGH_REPLICAS, when the leader crashes the controller elects a
// follower from the ISR that has every acknowledged record, and the crashed broker, restarted,
// catches up and rejoins the ISR.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { FetchApi, ProduceApi } from '../../src/protocol/messages/index.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import type { Partition } from '../../src/replication/partition.js';

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function replicaOn(cluster: RunningCluster, nodeId: number, topic: string, partition: number): Partition | undefined {
  return cluster.node(nodeId).broker?.services.replicaManager.replica(topic, partition);
}

function leaderOf(cluster: RunningCluster, topic: string, partition: number): number {
  for (const nodeId of cluster.nodeIds) {
    const image = cluster.node(nodeId).broker?.services.image.topic(topic)?.partitions.get(partition);
    if (image) return image.leader;
  }
  return -1;
}

describe('replicated partitions on three brokers', () => {
  let cluster: RunningCluster | undefined;
  after(async () => {
    await cluster?.close();
  });

  it('followers copy the leader byte for byte; acks=all survives the leader crash; consumers read everything', async () => {
    cluster = await startCluster({ brokers: 3, storage: 'memory', config: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'replica.fetch.backoff.ms': 100 } });
    const kafka = new Kafka({ clientId: 'replication-test', brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'replicated', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
    await admin.disconnect();
    const active = cluster;
    await until('every node to host a replica', () => active.nodeIds.every((id) => replicaOn(active, id, 'replicated', 0) !== undefined) || undefined);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const values = Array.from({ length: 200 }, (_, index) => `record-${index}`);
    for (let index = 0; index < 100; index += 10) {
      await producer.send({ topic: 'replicated', acks: -1, messages: values.slice(index, index + 10).map((value) => ({ key: value, value })) });
    }
    const leader = leaderOf(cluster, 'replicated', 0);
    const leaderLog = replicaOn(cluster, leader, 'replicated', 0)!.log;
    // acks=all answered: the high watermark covers the 100 records, so every ISR member has them.
    assert.ok(leaderLog.highWatermark >= 100, `high watermark ${leaderLog.highWatermark}`);
    for (const id of cluster.nodeIds.filter((node) => node !== leader)) {
      const follower = await until(`node ${id} to catch up`, () => {
        const replica = replicaOn(active, id, 'replicated', 0);
        return replica && !replica.isLeader && replica.log.logEndOffset === leaderLog.logEndOffset ? replica : undefined;
      });
      const mine = await follower.log.read(0, { maxBytes: 1 << 20, maxOffset: follower.log.logEndOffset, minOneBatch: true });
      const theirs = await leaderLog.read(0, { maxBytes: 1 << 20, maxOffset: leaderLog.logEndOffset, minOneBatch: true });
      assert.deepEqual(Buffer.concat(mine.chunks), Buffer.concat(theirs.chunks), `node ${id}'s replica differs from the leader's`);
    }

    // A follower never serves as leader: Produce there, and a replica's Fetch, get
    // NOT_LEADER_OR_FOLLOWER with the current leader and where it listens (KIP-951), so clients
    // re-route without a metadata refresh. A consumer's Fetch from v11 on is served by the follower
    // up to its high watermark (KIP-392, as Kafka's followers serve it); before v11 it is refused.
    const followerId = cluster.nodeIds.find((id) => id !== leader)!;
    assert.equal(cluster.node(followerId).broker!.services.replicaManager.get('replicated', 0), undefined);
    const leaderImage = cluster.node(followerId).broker!.services.image.topic('replicated')!;
    const leaderAddress = cluster.node(leader).bootstrapServer;
    const connection = await KafkaConnection.open(connectTcp, cluster.node(followerId).bootstrapServer, 'replication-test');
    try {
      const batch = buildRecordBatchSync([{ value: Buffer.from('misrouted') }]);
      const produced = await connection.send(ProduceApi, 11, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'replicated', partitionData: [{ index: 0, records: batch }] }] });
      const refused = produced.responses[0]!.partitionResponses[0]!;
      assert.equal(refused.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.deepEqual(refused.currentLeader, { leaderId: leader, leaderEpoch: leaderImage.partitions.get(0)!.leaderEpoch });
      assert.deepEqual(produced.nodeEndpoints?.map(({ nodeId, host, port }) => [nodeId, `${host}:${port}`]), [[leader, leaderAddress]]);
      const otherFollower = cluster.nodeIds.find((id) => id !== leader && id !== followerId)!;
      const fetchFrom = (replicaId: number) => ({
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'replicated', topicId: leaderImage.topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [],
        rackId: '',
        replicaId,
        replicaState: { replicaId, replicaEpoch: -1n },
      });
      const fetched = await connection.send(FetchApi, 16, fetchFrom(otherFollower));
      const notHere = fetched.responses[0]!.partitions[0]!;
      assert.equal(notHere.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.equal(notHere.currentLeader?.leaderId, leader);
      assert.deepEqual(fetched.nodeEndpoints?.map(({ nodeId }) => nodeId), [leader]);
      const beforeKip392 = await connection.send(FetchApi, 10, fetchFrom(-1));
      assert.equal(beforeKip392.responses[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      const followerLog = replicaOn(cluster, followerId, 'replicated', 0)!.log;
      await until('the follower to know the high watermark', () => (followerLog.highWatermark >= 100 ? true : undefined));
      const fromFollower = (await connection.send(FetchApi, 16, fetchFrom(-1))).responses[0]!.partitions[0]!;
      assert.equal(fromFollower.errorCode, ErrorCode.NONE);
      assert.equal(Number(fromFollower.highWatermark), followerLog.highWatermark);
      assert.ok(Buffer.isBuffer(fromFollower.records) && fromFollower.records.length > 0, 'the follower served records');
    } finally {
      connection.close();
    }

    // The leader dies; the controller fences it and elects a follower from the ISR.
    await cluster.crash(leader);
    for (let index = 100; index < 200; index += 10) {
      await producer.send({ topic: 'replicated', acks: -1, messages: values.slice(index, index + 10).map((value) => ({ key: value, value })) });
    }
    await producer.disconnect();
    const newLeader = await until('a new leader', () => {
      const id = leaderOf(active, 'replicated', 0);
      return id >= 0 && id !== leader ? id : undefined;
    });
    assert.notEqual(newLeader, leader);

    const consumer = kafka.consumer({ groupId: 'replication-readers' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'replicated', fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await until('every acknowledged record', () => (seen.length >= values.length ? true : undefined), 30_000);
    await consumer.disconnect();
    assert.deepEqual(seen, values, 'an acknowledged record was lost, duplicated or reordered');

    // The crashed broker comes back, catches up from the new leader and rejoins the ISR
    // (AlterPartition from the leader, committed by the controller).
    await cluster.restart(leader);
    const isrOf = () => active.node(newLeader).broker?.services.image.topic('replicated')?.partitions.get(0)?.isr ?? [];
    await until('the restarted broker to rejoin the ISR', () => (isrOf().includes(leader) ? true : undefined), 30_000);
    const rejoined = replicaOn(cluster, leader, 'replicated', 0)!;
    const current = replicaOn(cluster, newLeader, 'replicated', 0)!;
    assert.ok(rejoined.log.logEndOffset >= current.log.highWatermark, 'a member of the ISR without the committed records');
  });

  it('the group coordinator moves with the leadership of its __consumer_offsets partition: committed offsets survive its broker', async () => {
    assert.ok(cluster, 'the first test starts the cluster');
    const active = cluster;
    await until('every broker up', () => active.nodeIds.every((id) => active.node(id).broker !== undefined) || undefined);
    const kafka = new Kafka({ clientId: 'replication-test', brokers: active.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'grouped', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: 'grouped', acks: -1, messages: Array.from({ length: 50 }, (_, index) => ({ value: `before-${index}` })) });

    const readAll = async (count: number): Promise<string[]> => {
      const consumer = kafka.consumer({ groupId: 'failover-group' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'grouped', fromBeginning: true });
      const seen: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      await until(`${count} records`, () => (seen.length >= count ? true : undefined), 30_000);
      await consumer.disconnect();
      return seen;
    };
    assert.equal((await readAll(50)).length, 50);
    const committed = async () => Number((await admin.fetchOffsets({ groupId: 'failover-group', topics: ['grouped'] }))[0]!.partitions[0]!.offset);
    assert.equal(await committed(), 50);

    // The broker leading the group's __consumer_offsets partition dies. The topic was created while a
    // broker was down in the first test, so it has the replication factor of the brokers there were.
    const services = active.node(active.nodeIds[0]!).broker!.services;
    const offsetsPartition = services.groupCoordinator.partitionFor('failover-group');
    const offsetsImage = services.image.topic('__consumer_offsets')!.partitions.get(offsetsPartition)!;
    assert.ok(offsetsImage.replicas.length >= 2, '__consumer_offsets is not replicated');
    const coordinator = offsetsImage.leader;
    await active.crash(coordinator);
    await until('a new leader of the offsets partition', () => {
      const survivor = active.nodeIds.find((id) => id !== coordinator)!;
      const leader = active.node(survivor).broker?.services.image.topic('__consumer_offsets')?.partitions.get(offsetsPartition)?.leader;
      return leader !== undefined && leader >= 0 && leader !== coordinator ? true : undefined;
    });
    // kafkajs's admin gives up on NOT_COORDINATOR at once (it does not look the coordinator up
    // again), which a broker answers until its own image has the election: ask until one answers.
    const afterFailover = await until('the new coordinator to answer', () => committed().catch(() => undefined), 30_000);
    assert.equal(afterFailover, 50, 'the committed offset did not survive its coordinator');
    await producer.send({ topic: 'grouped', acks: -1, messages: Array.from({ length: 10 }, (_, index) => ({ value: `after-${index}` })) });
    await producer.disconnect();
    // The group resumes where it committed: only the new records.
    assert.deepEqual(await readAll(10), Array.from({ length: 10 }, (_, index) => `after-${index}`));
    await admin.disconnect();
    await active.restart(coordinator);
  });

  it('acks=all with fewer in-sync replicas than min.insync.replicas is refused with NOT_ENOUGH_REPLICAS', async () => {
    // One replica, so an ISR of one, below min.insync.replicas=2.
    assert.ok(cluster, 'the first test starts the cluster');
    const active = cluster;
    const kafka = new Kafka({ clientId: 'replication-test', brokers: active.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'strict', replicaAssignment: [{ partition: 0, replicas: [active.nodeIds[0]!] }], configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await assert.rejects(producer.send({ topic: 'strict', acks: -1, messages: [{ value: 'x' }] }), (error: Error & { type?: string }) => {
      assert.equal(error.type ?? (error as { cause?: { type?: string } }).cause?.type, 'NOT_ENOUGH_REPLICAS');
      return true;
    });
    // acks=1 does not need the ISR.
    await producer.send({ topic: 'strict', acks: 1, messages: [{ value: 'y' }] });
    await producer.disconnect();
  });

  it('DeleteRecords on the leader moves the log start offset of every replica', async () => {
    assert.ok(cluster, 'the first test starts the cluster');
    const active = cluster;
    // The coordinator test left a broker down: every broker is back first, so trimmed-0 has three replicas.
    for (const id of active.nodeIds) if (!active.node(id).broker) await active.restart(id);
    await until('every broker unfenced', () => active.nodeIds.every((id) => active.nodeIds.every((other) => active.node(id).broker?.services.image.brokers.get(other)?.fenced === false)) || undefined);
    const kafka = new Kafka({ clientId: 'replication-test', brokers: active.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'trimmed', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    await until('every node to host a replica of trimmed-0', () => active.nodeIds.every((id) => replicaOn(active, id, 'trimmed', 0) !== undefined) || undefined);
    const producer = kafka.producer();
    await producer.connect();
    for (let index = 0; index < 100; index += 10) await producer.send({ topic: 'trimmed', acks: -1, messages: Array.from({ length: 10 }, (_, offset) => ({ value: `t${index + offset}` })) });
    await producer.disconnect();
    // kafkajs finds the leader in its cached metadata, which holds only the topics it was asked about.
    await admin.fetchTopicMetadata({ topics: ['trimmed'] });
    await admin.deleteTopicRecords({ topic: 'trimmed', partitions: [{ partition: 0, offset: '40' }] });
    await admin.disconnect();
    // The leader trims at once; each follower takes the leader's log start offset from its next fetch.
    for (const id of active.nodeIds) {
      await until(`node ${id}'s replica of trimmed-0 to start at 40`, () => (replicaOn(active, id, 'trimmed', 0)?.log.logStartOffset === 40 ? true : undefined));
      assert.equal(replicaOn(active, id, 'trimmed', 0)!.log.logEndOffset, 100);
    }
  });
});
