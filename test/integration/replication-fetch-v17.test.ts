// The replica fetch as a Kafka 4 follower and leader speak it (KIP-903, KIP-516), on real 3-node
// clusters over TCP:
// - the leader takes a v15+ fetch's ReplicaState.ReplicaEpoch as the follower's broker epoch: a
//   stale one (older than the registered epoch) gets NOT_LEADER_OR_FOLLOWER and moves nothing, a
//   newer one is recorded and goes into the ISR proposal, which the controller then refuses, and the
//   right one puts the follower back in the ISR; v12 and a v15 ReplicaEpoch of -1 keep the image's;
// - the follower's fetcher sends v17 with ReplicaId -1, ReplicaState carrying its broker epoch and
//   topics by id; after the topic is deleted and re-created under its name the old replica gets
//   UNKNOWN_TOPIC_ID and is left alone, and the new one takes the new topic's records only;
// - the brokers' own followers, fetching while a topic is deleted and re-created, converge on the
//   new topic's records only.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { silentLogger } from '../../src/base/logger.js';
import { MemoryFileSystem } from '../../src/base/memory-file-system.js';
import { NodeTransport } from '../../src/client/node-transport.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { defaultLogConfig } from '../../src/log/log-config.js';
import { LogManager } from '../../src/log/log-manager.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { systemClock } from '../../src/node/system.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { FetchApi, type FetchRequest, type FetchResponse } from '../../src/protocol/messages/index.js';
import { decodeRecordBatchesSync } from '../../src/protocol/records/record-batch.js';
import type { Transport } from '../../src/protocol/transport.js';
import type { Partition } from '../../src/replication/partition.js';
import { ReplicaFetcherManager } from '../../src/replication/replica-fetcher.js';
import { ReplicaManager } from '../../src/replication/replica-manager.js';
import { waitFor } from './helpers.js';

/** helpers' waitFor, description first, with this file's longer default. */
const until = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> => waitFor(probe, what, timeoutMs);

function replicaOn(cluster: RunningCluster, nodeId: number, topic: string): Partition | undefined {
  return cluster.node(nodeId).broker?.services.replicaManager.replica(topic, 0);
}

function imageOf(cluster: RunningCluster, nodeId: number) {
  return cluster.node(nodeId).broker!.services.image;
}

function kafkaFor(cluster: RunningCluster): Kafka {
  return new Kafka({ clientId: 'fetch-v17-test', brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
}

async function createTopic(kafka: Kafka, topic: string, replicas?: number[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const layout = replicas ? { replicaAssignment: [{ partition: 0, replicas }] } : { numPartitions: 1, replicationFactor: 3 };
    await admin.createTopics({ topics: [{ topic, ...layout }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function deleteTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.disconnect();
  }
}

async function produce(kafka: Kafka, topic: string, values: readonly string[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (const value of values) await producer.send({ topic, acks: 1, messages: [{ value }] });
  } finally {
    await producer.disconnect();
  }
}

/** The record values in `partition`'s log, in offset order. */
async function valuesIn(partition: Partition): Promise<string[]> {
  const log = partition.log;
  const read = await log.read(log.logStartOffset, { maxBytes: 1 << 22, maxOffset: log.logEndOffset, minOneBatch: true });
  return [...decodeRecordBatchesSync(Buffer.concat(read.chunks))].flatMap((batch) => (batch.control ? [] : batch.records.map((record) => record.value?.toString() ?? '')));
}

describe('replica fetch v17: ReplicaState broker epochs and topic ids', () => {
  let cluster: RunningCluster | undefined;
  afterEach(async () => {
    cluster?.heal();
    await cluster?.close();
    cluster = undefined;
  });

  it("the leader takes a v15+ fetch's ReplicaEpoch as the follower's epoch: stale ones refused, the ISR proposal carries it", async () => {
    // A long session keeps the isolated follower registered and unfenced; a short lag time takes it out of the ISR.
    cluster = await startCluster({ brokers: 3, storage: 'memory', config: { 'broker.session.timeout.ms': 120_000, 'broker.heartbeat.interval.ms': 500, 'replica.lag.time.max.ms': 1500, 'replica.fetch.backoff.ms': 100 } });
    const active = cluster;
    const kafka = kafkaFor(active);
    await createTopic(kafka, 'epochs');
    await until('every node to host a replica', () => active.nodeIds.every((id) => replicaOn(active, id, 'epochs')));
    await produce(kafka, 'epochs', ['a', 'b', 'c']);
    const leader = imageOf(active, active.nodeIds[0]!).topic('epochs')!.partitions.get(0)!.leader;
    const follower = active.nodeIds.find((id) => id !== leader && id !== active.activeController())!;
    const leaderPartition = replicaOn(active, leader, 'epochs')!;
    const logEnd = leaderPartition.log.logEndOffset;
    const registered = imageOf(active, leader).brokers.get(follower)!.brokerEpoch;
    assert.ok(registered >= 1, `broker epoch ${registered}`);
    await until('the follower to catch up', () => leaderPartition.followers.get(follower)?.logEndOffset === logEnd);
    assert.equal(leaderPartition.followers.get(follower)!.brokerEpoch, registered, 'the real follower fetches under its registered epoch');

    // The real follower can no longer reach the leader: from here on only this test fetches as it.
    active.isolate(follower);
    const isr = () => imageOf(active, leader).topic('epochs')!.partitions.get(0)!.isr;
    await until('the silent follower to leave the ISR', () => !isr().includes(follower));
    const topicId = imageOf(active, leader).topic('epochs')!.topicId;
    const leaderEpoch = leaderPartition.leaderEpoch;
    const connection = await KafkaConnection.open(connectTcp, active.node(leader).bootstrapServer, 'fetch-v17-test');
    const fetchAs = (version: number, replicaEpoch: number, fetchOffset: number): Promise<FetchResponse> => {
      const request: FetchRequest = {
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'epochs', topicId, partitions: [{ partition: 0, currentLeaderEpoch: leaderEpoch, fetchOffset: BigInt(fetchOffset), lastFetchedEpoch: -1, logStartOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [],
        rackId: '',
        replicaId: version >= 15 ? -1 : follower,
        replicaState: { replicaId: follower, replicaEpoch: BigInt(replicaEpoch) },
      };
      return connection.send(FetchApi, version, request);
    };
    try {
      // A stale incarnation (older than the registered epoch): refused, and its position is not taken.
      const before = { ...leaderPartition.followers.get(follower)! };
      const stale = (await fetchAs(17, registered - 1, logEnd)).responses[0]!.partitions[0]!;
      assert.equal(stale.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.ok(!Buffer.isBuffer(stale.records) || stale.records.length === 0, 'a stale follower got records');
      assert.deepEqual(leaderPartition.followers.get(follower), before, 'a stale fetch moved the follower position');

      // A newer epoch than the leader's image has is taken (the image may lag), and the ISR proposal
      // names the follower by it: the controller refuses a member under an epoch it never registered.
      const newer = (await fetchAs(17, registered + 7, logEnd)).responses[0]!.partitions[0]!;
      assert.equal(newer.errorCode, ErrorCode.NONE);
      assert.equal(leaderPartition.followers.get(follower)!.brokerEpoch, registered + 7);
      const watchUntil = Date.now() + 2500;
      while (Date.now() < watchUntil) {
        assert.ok(!isr().includes(follower), 'the follower rejoined the ISR under an epoch it is not registered with');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }

      // Its registered epoch: back in the ISR.
      const current = (await fetchAs(17, registered, logEnd)).responses[0]!.partitions[0]!;
      assert.equal(current.errorCode, ErrorCode.NONE);
      assert.equal(leaderPartition.followers.get(follower)!.brokerEpoch, registered);
      await until('the follower to rejoin the ISR', () => isr().includes(follower));

      // No epoch: a v15+ ReplicaEpoch of -1, and v12 (no ReplicaState), keep the image's.
      for (const [version, sent] of [[17, -1], [15, -1], [12, registered + 7]] as const) {
        await fetchAs(17, registered + 3, logEnd);
        const answer = (await fetchAs(version, sent, logEnd)).responses[0]!.partitions[0]!;
        assert.equal(answer.errorCode, ErrorCode.NONE, `v${version}`);
        assert.equal(leaderPartition.followers.get(follower)!.brokerEpoch, registered, `v${version} with ReplicaEpoch ${sent}`);
      }
    } finally {
      connection.close();
    }
  });

  it('a follower fetches v17 with ReplicaState and topic ids, and a re-created topic gets none of the old fetch state', async () => {
    cluster = await startCluster({ brokers: 3, storage: 'memory', config: { 'broker.session.timeout.ms': 120_000, 'broker.heartbeat.interval.ms': 500, 'replica.fetch.backoff.ms': 100 } });
    const active = cluster;
    const kafka = kafkaFor(active);
    await createTopic(kafka, 'shadowed');
    await until('every node to host a replica', () => active.nodeIds.every((id) => replicaOn(active, id, 'shadowed')));
    const leader = imageOf(active, active.nodeIds[0]!).topic('shadowed')!.partitions.get(0)!.leader;
    const followerId = active.nodeIds.find((id) => id !== leader && id !== active.activeController())!;
    const registered = imageOf(active, leader).brokers.get(followerId)!.brokerEpoch;
    // The broker's own follower is cut off; a follower of the same id made of the real replica
    // manager, log and fetcher takes its place, its requests and answers seen on the way.
    active.isolate(followerId);

    const logManager = await LogManager.open({ fs: new MemoryFileSystem(), dataDir: '/shadow', clock: systemClock, logger: silentLogger, defaults: defaultLogConfig, checkpointIntervalMs: Number.POSITIVE_INFINITY });
    const replicas = new ReplicaManager(logManager, silentLogger, followerId);
    const nodeTransport = new NodeTransport({ connect: connectTcp, clock: systemClock, clientId: 'shadow-follower', addresses: [[leader, active.node(leader).bootstrapServer]] });
    const sent: { version: number; request: FetchRequest }[] = [];
    const answers: { topicId: string; errorCode: number }[] = [];
    const transport: Transport = {
      async send(nodeId, api, version, request, timeoutMs) {
        sent.push({ version, request: request as FetchRequest });
        const response = await nodeTransport.send(nodeId, api, version, request, timeoutMs);
        for (const topic of (response as FetchResponse).responses) for (const partition of topic.partitions) answers.push({ topicId: topic.topicId ?? '', errorCode: partition.errorCode });
        return response;
      },
    };
    const fetchers = new ReplicaFetcherManager({
      localBrokerId: followerId,
      transport,
      clock: systemClock,
      logger: silentLogger,
      config: { waitMaxMs: 200, minBytes: 1, maxBytes: 1 << 20, responseMaxBytes: 1 << 22, backoffMs: 100, requestTimeoutMs: 5000 },
      stillFollows: (partition) => !partition.isLeader && replicas.replica(partition.topic, partition.partitionIndex) === partition,
      onProgress: (partition) => replicas.notify(partition),
      brokerEpoch: () => registered,
    });
    replicas.onFollowChange((partition) => fetchers.follow(partition));
    const hostAsImageSays = async () => {
      const topic = imageOf(active, leader).topic('shadowed')!;
      const assigned = topic.partitions.get(0)!;
      return replicas.host('shadowed', 0, topic.topicId, { leaderId: assigned.leader, leaderEpoch: assigned.leaderEpoch, partitionEpoch: assigned.partitionEpoch, replicas: [...assigned.replicas], isr: [...assigned.isr] }, {}, systemClock.monotonicMs());
    };
    try {
      const oldTopicId = imageOf(active, leader).topic('shadowed')!.topicId;
      const old = await hostAsImageSays();
      const oldValues = Array.from({ length: 20 }, (_, index) => `old-${index}`);
      await produce(kafka, 'shadowed', oldValues);
      const leaderOld = replicaOn(active, leader, 'shadowed')!;
      await until('the shadow follower to catch up', () => old.log.logEndOffset === leaderOld.log.logEndOffset);
      assert.deepEqual(await valuesIn(old), oldValues);
      assert.equal(leaderOld.followers.get(followerId)!.brokerEpoch, registered, 'the leader recorded the epoch the follower sent');
      assert.ok(sent.length > 0);
      for (const { version, request } of sent) {
        assert.equal(version, 17, 'the follower fetches with Fetch v17');
        assert.deepEqual(request.replicaState, { replicaId: followerId, replicaEpoch: BigInt(registered) });
        assert.deepEqual(request.topics.map((topic) => topic.topicId), [oldTopicId]);
      }

      // The topic is deleted and re-created under its name while the old replica still fetches: the
      // leader no longer knows the old id, which the follower backs off on and applies nothing of.
      await deleteTopic(kafka, 'shadowed');
      await until('every broker to drop the topic', () => active.nodeIds.every((id) => id === followerId || imageOf(active, id).topic('shadowed') === undefined));
      // Led by the same leader again (not by the cut-off broker, whose id the shadow fetches under).
      const other = active.nodeIds.find((id) => id !== leader && id !== followerId)!;
      await createTopic(kafka, 'shadowed', [leader, other, followerId]);
      const newValues = ['new-0', 'new-1', 'new-2'];
      await produce(kafka, 'shadowed', newValues);
      const newTopicId = imageOf(active, leader).topic('shadowed')!.topicId;
      assert.notEqual(newTopicId, oldTopicId);
      const newLeader = imageOf(active, leader).topic('shadowed')!.partitions.get(0)!.leader;
      assert.equal(newLeader, leader, 'the re-created topic is led by its first replica');
      await until('the old id refused with UNKNOWN_TOPIC_ID', () => answers.some((answer) => answer.topicId === oldTopicId && answer.errorCode === ErrorCode.UNKNOWN_TOPIC_ID));
      assert.equal(replicas.replica('shadowed', 0), old, 'still the old replica');
      assert.deepEqual(await valuesIn(old), oldValues, 'the old replica took records of the new topic');

      // The image here catches up: the old replica goes, the new one fetches the new topic by its id.
      await replicas.removeReplica(old);
      const recreated = await hostAsImageSays();
      assert.notEqual(recreated, old);
      const leaderNew = replicaOn(active, newLeader, 'shadowed')!;
      await until('the new replica to catch up', () => recreated.log.logEndOffset === leaderNew.log.logEndOffset && recreated.log.logEndOffset > 0);
      assert.deepEqual(await valuesIn(recreated), newValues);
      const lastRequest = sent.at(-1)!.request;
      assert.deepEqual(lastRequest.topics.map((topic) => topic.topicId), [newTopicId]);
    } finally {
      fetchers.close();
      nodeTransport.close();
      await logManager.close();
    }
  });

  it("the brokers' followers converge on a re-created topic's records only", async () => {
    cluster = await startCluster({ brokers: 3, storage: 'memory', config: { 'replica.fetch.backoff.ms': 100 } });
    const active = cluster;
    const kafka = kafkaFor(active);
    await createTopic(kafka, 'reborn');
    await until('every node to host a replica', () => active.nodeIds.every((id) => replicaOn(active, id, 'reborn')));
    const oldTopicId = replicaOn(active, active.nodeIds[0]!, 'reborn')!.topicId;
    const oldValues = Array.from({ length: 30 }, (_, index) => `old-${index}`);
    await produce(kafka, 'reborn', oldValues);
    await until('every replica to hold the old records', () => active.nodeIds.every((id) => replicaOn(active, id, 'reborn')?.log.logEndOffset === oldValues.length));

    await deleteTopic(kafka, 'reborn');
    await createTopic(kafka, 'reborn');
    const newValues = ['new-0', 'new-1', 'new-2', 'new-3', 'new-4'];
    await produce(kafka, 'reborn', newValues);
    const newTopicId = await until('every node to know the new topic', () => {
      const ids = active.nodeIds.map((id) => imageOf(active, id).topic('reborn')?.topicId);
      return ids.every((id) => id !== undefined && id !== oldTopicId && id === ids[0]) ? ids[0] : undefined;
    });
    for (const id of active.nodeIds) {
      const replica = await until(`node ${id} to hold the new topic's records`, () => {
        const partition = replicaOn(active, id, 'reborn');
        return partition?.topicId === newTopicId && partition.log.logEndOffset === newValues.length ? partition : undefined;
      });
      assert.deepEqual(await valuesIn(replica), newValues, `node ${id} holds records of the deleted topic`);
    }
  });
});
