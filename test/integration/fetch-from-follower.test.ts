// Fetching from the closest replica (KIP-392) on a real 3-node cluster over TCP, one broker per
// rack (broker.rack r1, r2, r3) and replica.selector.class set to Kafka's RackAwareReplicaSelector:
// - the leader answers a consumer's Fetch naming another broker's rack with that in-sync follower
//   as PreferredReadReplica and no records, at once (no MaxWaitMs wait); a consumer on the
//   leader's own rack, with no rack, or before Fetch v11 is served by the leader;
// - the follower serves the consumer up to its own high watermark;
// - a kafkajs consumer with rackId reads every record, and its Fetch requests for the partition
//   go to the broker on its rack after the first redirect.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { FetchApi } from '../../src/protocol/messages/index.js';
import { waitFor } from '../support/wait.js';

const TOPIC = 'nearby';
const RECORDS = 300;

/** waitFor with a longer default: cluster changes here take a session timeout or two. */
const until = <T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> => waitFor(what, probe, 20_000);

function consumerFetch(rackId: string, maxWaitMs = 0) {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
    rackId,
  };
}

describe('fetch from the closest replica (KIP-392)', () => {
  let cluster: RunningCluster | undefined;
  after(async () => {
    await cluster?.close();
  });

  it('sends a consumer to the in-sync follower on its rack, which serves it; kafkajs with rackId follows', async () => {
    cluster = await startCluster({
      brokers: 3,
      storage: 'memory',
      config: { 'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector', 'replica.fetch.backoff.ms': 100 },
      nodeConfig: (nodeId) => ({ 'broker.rack': `r${nodeId}` }),
    });
    const active = cluster;
    const kafka = new Kafka({ clientId: 'nearby-test', brokers: active.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    // Led by 1 (its first replica); 2 and 3 follow.
    await admin.createTopics({ topics: [{ topic: TOPIC, replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }] }], waitForLeaders: false });
    await admin.disconnect();
    await until('every replica hosted and in the ISR', () => active.node(1).broker?.services.image.partition(TOPIC, 0)?.isr.length === 3 || undefined);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: RECORDS }, (_, index) => ({ value: `v${index}` })) });
    await producer.disconnect();
    // Every follower has the records and knows the high watermark.
    for (const id of [2, 3]) {
      await until(`node ${id} caught up`, () => (active.node(id).broker!.services.replicaManager.replica(TOPIC, 0)!.log.highWatermark >= RECORDS ? true : undefined));
      await until(`the leader to know node ${id} has it all`, () => ((active.node(1).broker!.services.replicaManager.get(TOPIC, 0)!.followers.get(id)?.logEndOffset ?? -1) >= RECORDS ? true : undefined));
    }

    const leader = await KafkaConnection.open(connectTcp, active.node(1).bootstrapServer, 'nearby-test');
    const follower = await KafkaConnection.open(connectTcp, active.node(3).bootstrapServer, 'nearby-test');
    try {
      // A consumer on r3 is sent to broker 3, with no records and without waiting out MaxWaitMs.
      const started = Date.now();
      const redirected = (await leader.send(FetchApi, 12, consumerFetch('r3', 5_000))).responses[0]!.partitions[0]!;
      assert.equal(redirected.errorCode, ErrorCode.NONE);
      assert.equal(redirected.preferredReadReplica, 3);
      assert.equal(Number(redirected.highWatermark), RECORDS);
      assert.ok(!redirected.records || (redirected.records as Buffer).length === 0, 'no records with a redirect');
      assert.ok(Date.now() - started < 4_000, 'answered at once');
      // On the leader's rack, with no rack, or before v11: the leader serves it.
      for (const [version, rack] of [[12, 'r1'], [12, ''], [10, 'r3']] as const) {
        const served = (await leader.send(FetchApi, version, consumerFetch(rack))).responses[0]!.partitions[0]!;
        assert.equal(served.errorCode, ErrorCode.NONE);
        assert.equal(served.preferredReadReplica ?? -1, -1, `v${version} rack '${rack}'`);
        assert.ok((served.records as Buffer).length > 0, `v${version} rack '${rack}' got records`);
      }
      // The follower serves the consumer, up to its high watermark.
      const nearby = (await follower.send(FetchApi, 12, consumerFetch('r3'))).responses[0]!.partitions[0]!;
      assert.equal(nearby.errorCode, ErrorCode.NONE);
      assert.equal(Number(nearby.highWatermark), RECORDS);
      assert.ok((nearby.records as Buffer).length > 0);
    } finally {
      leader.close();
      follower.close();
    }

    // kafkajs on rack r2: after the leader's redirect, it fetches the partition from broker 2.
    const fetchesTo = new Map<string, number>();
    const consumer = kafka.consumer({ groupId: 'nearby-readers', rackId: 'r2' });
    consumer.on(consumer.events.REQUEST, ({ payload }) => {
      if (payload.apiName === 'Fetch') fetchesTo.set(payload.broker, (fetchesTo.get(payload.broker) ?? 0) + 1);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const seen = new Set<string>();
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.add(message.value!.toString());
      },
    });
    await until('kafkajs to read every record', () => (seen.size === RECORDS ? true : undefined));
    await consumer.disconnect();
    const nearBroker = active.node(2).bootstrapServer;
    assert.ok((fetchesTo.get(nearBroker) ?? 0) > 0, `kafkajs fetched from the broker on its rack: ${JSON.stringify([...fetchesTo])}`);
    assert.equal(seen.size, RECORDS);
  });
});
