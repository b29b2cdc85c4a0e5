// Partition reassignment (KIP-455) on a real 3-node cluster over TCP, driven by kafkajs's admin
// client as an operator's tool would: a partition moves from brokers [1,2] to [2,3] while an
// idempotent acks=all producer keeps writing; the new replica catches up from the leader and joins
// the ISR, then the move completes, the leaving leader hands over, and the leaving replica's log is
// deleted. Every acknowledged record is read back once. A move toward a stopped broker stays in
// progress (ListPartitionReassignments shows it) until the broker returns; a cancel goes back to
// the original replicas; a broker that was down while its replica was moved away deletes that
// stray log when it starts; a running follower that leaves stops fetching and deletes its log.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { AlterPartitionReassignmentsApi } from '../../src/protocol/messages/index.js';
import { waitFor } from '../support/wait.js';

const TOPIC = 'moving';

/** Waits until `condition` holds. */
const until = (what: string, condition: () => boolean, timeoutMs?: number) => waitFor(what, () => condition() || undefined, timeoutMs);

describe('partition reassignment on three brokers', () => {
  let cluster: RunningCluster | undefined;
  after(async () => {
    await cluster?.close();
  });

  it('moves a partition while a producer writes; a move to a stopped broker waits; a cancel goes back; a stray replica is deleted at start', async () => {
    cluster = await startCluster({ brokers: 3, storage: 'memory', config: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'replica.fetch.backoff.ms': 100 } });
    const active = cluster;
    const partitionImage = () => {
      for (const id of active.nodeIds) {
        const image = active.node(id).broker?.services.image.partition(TOPIC, 0);
        if (image) return image;
      }
      throw new Error('no running node has the partition');
    };
    const hostedOn = (nodeId: number) => active.node(nodeId).broker?.services.replicaManager.replica(TOPIC, 0);
    const logOn = (nodeId: number) => [...(active.node(nodeId).broker?.services.replicaManager.logManager.logs() ?? [])].some((log) => log.topic === TOPIC);

    const kafka = new Kafka({ clientId: 'reassignment-test', brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
    // kafkajs's admin does not retry a request whose connection a stopped broker closed: a fresh one after each stop.
    let admin = kafka.admin();
    await admin.connect();
    // Every partition (the internal topics' too) with all its replicas in the ISR, on every running node.
    // A node stopped before the one stopped last is back in an ISR could take the only in-sync
    // replica of a partition with it, and kafkajs's admin fails its metadata refresh on the
    // leaderless partition (once in a CI-equivalent run).
    const inSync = () =>
      active.nodeIds.every((id) => {
        const image = active.node(id).broker?.services.image;
        return image === undefined || [...image.topicsByName.values()].every((topic) => [...topic.partitions.values()].every((partition) => partition.isr.length === partition.replicas.length));
      });
    const stop = async (nodeId: number) => {
      await until(`every partition in sync before node ${nodeId} stops`, inSync, 30_000);
      await admin.disconnect();
      await active.stop(nodeId);
      admin = kafka.admin();
      await admin.connect();
    };
    await admin.createTopics({ topics: [{ topic: TOPIC, replicaAssignment: [{ partition: 0, replicas: [1, 2] }], configEntries: [{ name: 'min.insync.replicas', value: '1' }] }], waitForLeaders: true });
    await until('both replicas hosted', () => hostedOn(1) !== undefined && hostedOn(2) !== undefined);

    // A producer writing throughout the move, one record per send, acks=all.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const acknowledged: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let index = 0; writing; index++) {
        const value = `record-${index}`;
        await producer.send({ topic: TOPIC, acks: -1, messages: [{ key: value, value: value.repeat(20) }] });
        acknowledged.push(value);
      }
    })();
    await until('some records written', () => acknowledged.length >= 200, 20_000);

    // Move [1,2] -> [2,3]: 3 is added and catches up, then 1 (the leader) leaves and 2 leads.
    await admin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [2, 3] }] }] });
    await until('the move to complete', () => partitionImage().replicas.join(',') === '2,3' && partitionImage().addingReplicas.length === 0, 30_000);
    const listed = await admin.listPartitionReassignments({});
    assert.deepEqual(listed.topics, [], 'nothing left in progress');
    assert.equal(partitionImage().leader, 2, 'the first in-sync replica of the target leads once the leader left');
    assert.deepEqual([...partitionImage().isr].sort(), [2, 3]);
    await until("node 1's replica and log to be deleted", () => hostedOn(1) === undefined && !logOn(1));
    const before = acknowledged.length;
    await until('the producer to carry on after the leader moved', () => acknowledged.length >= before + 100, 20_000);
    writing = false;
    await writer;
    await producer.disconnect();

    // The new replica holds exactly the leader's batches.
    const leaderLog = hostedOn(2)!.log;
    await until('node 3 to catch up', () => hostedOn(3)?.log.logEndOffset === leaderLog.logEndOffset);
    const mine = await hostedOn(3)!.log.read(0, { maxBytes: 64 << 20, maxOffset: leaderLog.logEndOffset, minOneBatch: true });
    const theirs = await leaderLog.read(0, { maxBytes: 64 << 20, maxOffset: leaderLog.logEndOffset, minOneBatch: true });
    assert.deepEqual(Buffer.concat(mine.chunks), Buffer.concat(theirs.chunks), "node 3's replica differs from the leader's");

    // Every acknowledged record is read once.
    const consumer = kafka.consumer({ groupId: 'reassignment-readers' });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.key!.toString()) });
    await until('every acknowledged record', () => seen.length >= acknowledged.length, 30_000);
    await consumer.disconnect();
    assert.deepEqual(seen, acknowledged, 'every acknowledged record, once, in order');

    // A move toward a stopped broker stays in progress, listed, until the broker is back.
    await stop(1);
    await admin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [3, 1] }] }] });
    const inProgress = await admin.listPartitionReassignments({});
    assert.deepEqual(inProgress.topics, [{ name: TOPIC, partitions: [{ partition: 0, replicas: [3, 1, 2], addingReplicas: [1], removingReplicas: [2] }] }]);
    await cluster.restart(1);
    await until('the move to [3,1] to complete once 1 is back', () => partitionImage().replicas.join(',') === '3,1' && partitionImage().addingReplicas.length === 0, 30_000);
    assert.equal(partitionImage().leader, 3);
    await until("node 2's replica to be deleted", () => hostedOn(2) === undefined && !logOn(2));

    // A cancel goes back to the replicas before the move (AlterPartitionReassignments with null replicas).
    await stop(2);
    await admin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [3, 2] }] }] });
    assert.deepEqual(partitionImage().addingReplicas, [2]);
    const connection = await KafkaConnection.open(connectTcp, cluster.node(3).bootstrapServer, 'reassignment-test');
    try {
      const cancel = () => connection.send(AlterPartitionReassignmentsApi, 0, { timeoutMs: 10_000, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, replicas: null }] }] });
      const cancelled = await cancel();
      assert.equal(cancelled.responses[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
      await until('the cancel to reach every running image', () => [1, 3].every((id) => active.node(id).broker?.services.image.partition(TOPIC, 0)?.addingReplicas.length === 0));
      assert.deepEqual(partitionImage().replicas, [3, 1]);
      assert.equal((await cancel()).responses[0]!.partitions[0]!.errorCode, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
    } finally {
      connection.close();
    }

    // Node 3 is stopped while the partition moves off it to [1,2]; when it starts again its stray log goes.
    await cluster.restart(2);
    await stop(3);
    await admin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [1, 2] }] }] });
    await until('the move off the stopped broker to complete', () => partitionImage().replicas.join(',') === '1,2' && partitionImage().addingReplicas.length === 0, 30_000);
    await cluster.restart(3);
    assert.equal(hostedOn(3), undefined);
    assert.equal(logOn(3), false, 'node 3 deleted the log of the partition moved off it while it was down');

    // A running follower leaves ([1,2] -> [1,3]): its fetcher stops and its log goes; the leader stays.
    await admin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [1, 3] }] }] });
    await until('the move of the follower to complete', () => partitionImage().replicas.join(',') === '1,3' && partitionImage().addingReplicas.length === 0, 30_000);
    assert.equal(partitionImage().leader, 1);
    await until("node 2's replica and log to be deleted", () => hostedOn(2) === undefined && !logOn(2));
    await until('node 3 to hold every record again', () => hostedOn(3)?.log.logEndOffset === hostedOn(1)?.log.logEndOffset);
    await admin.disconnect();
  });
});
