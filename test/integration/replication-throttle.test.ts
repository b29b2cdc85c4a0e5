// Replication throttles (KIP-73) on a real 3-node cluster over TCP. A topic led by broker 1 with
// replicas 1, 2, 3 and leader.replication.throttled.replicas=*: broker 3 stops, a few MB are
// written (acks=all, to the leader and broker 2), and broker 3 restarts and catches up.
// - Unthrottled default (leader.replication.throttled.rate unset, Long.MAX_VALUE): the throttled
//   replicas list alone holds nothing back; the leader records nothing.
// - With leader.replication.throttled.rate=200 KB/s as the cluster default (set just before the
//   restart, so the quota starts empty): broker 3, outside the
//   ISR, catches up no faster than the quota allows (a lower bound on time only: whatever the quota
//   records in any 10 s is at most the rate over its 11 s window plus one fetch), then rejoins the
//   ISR; acks=all writes during the catch-up go through, broker 2 in the ISR being unthrottled.
// The rate and the lists are ordinary dynamic configs: described with their source, then deleted.
// - follower.replication.throttled.rate on broker 3 with follower.replication.throttled.replicas=*:
//   the same catch-up, held to the rate by broker 3's own fetcher.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { performance } from 'node:perf_hooks';
import { ErrorCode } from '../../src/base/error-codes.js';
import { replicationThrottle } from '../../src/broker/config-resources.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { ConfigSource } from '../../src/metadata/topic-config.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { CreateTopicsApi, DescribeConfigsApi, IncrementalAlterConfigsApi, ProduceApi } from '../../src/protocol/messages/index.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { waitFor } from '../support/wait.js';

const TOPIC = 'throttled';
const KB = 1024;
const RATE = 200 * KB;
/** replica.fetch.max.bytes: the most one follower fetch brings of the partition beyond the quota. */
const FETCH_MAX_BYTES = 128 * KB;
const BATCH_VALUE_BYTES = 60 * KB;
/** About 3 MB per round: more than the rate allows in one 10 s window (11 x 200 KB + one fetch). */
const BATCHES_PER_ROUND = 50;
const BROKER = 4;
const TOPIC_RESOURCE = 2;
const Op = { set: 0, delete: 1 } as const;

const until = <T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => waitFor(what, probe, timeoutMs);

describe('replication throttles (leader.replication.throttled.rate and .replicas)', () => {
  let cluster: RunningCluster | undefined;
  let connection: KafkaConnection | undefined;
  after(async () => {
    connection?.close();
    await cluster?.close();
  });

  it('hold a follower outside the ISR to the rate on the leader; unthrottled by default; in-sync replication and acks=all unaffected', async (t) => {
    cluster = await startCluster({
      brokers: 3,
      storage: 'memory',
      config: {
        'broker.session.timeout.ms': 3000,
        'broker.heartbeat.interval.ms': 500,
        'replica.fetch.backoff.ms': 100,
        'replica.fetch.max.bytes': FETCH_MAX_BYTES,
        'auto.leader.rebalance.enable': false,
      },
    });
    const active = cluster;
    const leaderServices = () => active.node(1).broker!.services;
    const replicaEnd = (nodeId: number) => active.node(nodeId).broker?.services.replicaManager.replica(TOPIC, 0)?.log.logEndOffset ?? -1;
    const isr = () => leaderServices().image.partition(TOPIC, 0)?.isr ?? [];
    connection = await KafkaConnection.open(connectTcp, active.node(1).bootstrapServer, 'throttle-test');
    const client = connection;

    const alter = async (resourceType: number, resourceName: string, configs: { name: string; op: number; value?: string }[]) => {
      const response = await client.send(IncrementalAlterConfigsApi, 1, {
        resources: [{ resourceType, resourceName, configs: configs.map(({ name, op, value }) => ({ name, configOperation: op, value: value ?? null })) }],
        validateOnly: false,
      });
      const result = response.responses[0]!;
      assert.equal(result.errorCode, ErrorCode.NONE, result.errorMessage ?? '');
      // Applied once every running broker's image has it.
      const [first] = configs;
      const expected = first!.op === Op.set ? first!.value : undefined;
      await until(`${first!.name} applied on every broker`, () =>
        active.nodeIds.every((id) => {
          const image = active.node(id).broker?.services.image;
          return !image || image.resourceConfigs(resourceType, resourceName).get(first!.name) === expected;
        }) || undefined,
      );
    };

    const created = await client.send(CreateTopicsApi, 7, {
      topics: [{ name: TOPIC, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }], configs: [{ name: 'min.insync.replicas', value: '2' }, { name: 'leader.replication.throttled.replicas', value: '*' }] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE, created.topics[0]!.errorMessage ?? '');
    await until('every replica in the ISR', () => (isr().length === 3 && active.nodeIds.every((id) => replicaEnd(id) === 0) ? true : undefined));

    let batchNumber = 0;
    const produce = async (count: number, valueBytes: number) => {
      for (let index = 0; index < count; index++) {
        const value = Buffer.alloc(valueBytes, batchNumber++ % 251);
        const response = await client.send(ProduceApi, 9, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 30_000,
          topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: buildRecordBatchSync([{ value }]) }] }],
        });
        assert.equal(response.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
      }
    };

    /** Stops broker 3, writes a round, restarts it: the ms from its restart to holding the leader's log. */
    const catchUpRound = async (round: string, beforeRestart?: () => Promise<void>, whileCatchingUp?: () => Promise<void>) => {
      await active.stop(3);
      await until('broker 3 out of the ISR', () => (!isr().includes(3) ? true : undefined));
      await produce(BATCHES_PER_ROUND, BATCH_VALUE_BYTES);
      const target = replicaEnd(1);
      await until('broker 2 to hold the round', () => (replicaEnd(2) === target ? true : undefined));
      await beforeRestart?.();
      const started = performance.now();
      await active.restart(3);
      await whileCatchingUp?.();
      await until(`broker 3 to catch up (${round})`, () => (replicaEnd(3) >= target ? true : undefined), 60_000);
      const tookMs = performance.now() - started;
      await until(`broker 3 back in the ISR (${round})`, () => (isr().includes(3) ? true : undefined));
      return tookMs;
    };

    // The unthrottled default: the list names every replica, but no rate is set.
    const unthrottledMs = await catchUpRound('unthrottled');
    assert.equal(replicationThrottle(leaderServices(), 'leader').active(), false, 'no leader rate: the throttle is off');
    assert.equal(replicationThrottle(leaderServices(), 'leader').quota.rate(), 0, 'and records nothing');
    t.diagnostic(`unthrottled: broker 3 caught up with ${BATCHES_PER_ROUND} x ${BATCH_VALUE_BYTES / KB} KB in ${Math.round(unthrottledMs)} ms`);

    // Throttled: 200 KB/s as the cluster default, set once broker 2 holds the round (the bytes it
    // fetched of the throttled partition would count against the quota too, as in Kafka), and
    // described as such on broker 1.
    const setRate = () => alter(BROKER, '', [{ name: 'leader.replication.throttled.rate', op: Op.set, value: String(RATE) }]);
    let writes = '';
    const throttledMs = await catchUpRound('throttled', setRate, async () => {
      // acks=all writes (min.insync.replicas=2) while broker 3 catches up: each is acknowledged once
      // broker 2, in the ISR and never held back, has it.
      const writesStarted = performance.now();
      await produce(5, KB);
      const behind = replicaEnd(3) < replicaEnd(1) && replicationThrottle(leaderServices(), 'leader').quota.isExceeded();
      writes = `5 acks=all writes took ${Math.round(performance.now() - writesStarted)} ms${behind ? ', while broker 3 was still held back' : ''}`;
    });
    const described = await client.send(DescribeConfigsApi, 4, {
      resources: [{ resourceType: BROKER, resourceName: '1', configurationKeys: ['leader.replication.throttled.rate', 'follower.replication.throttled.rate'] }],
      includeSynonyms: true,
      includeDocumentation: false,
    });
    const entries = described.results[0]!.configs;
    assert.deepEqual(entries.map((entry) => [entry.name, entry.value, entry.configSource, entry.readOnly]), [['leader.replication.throttled.rate', String(RATE), ConfigSource.dynamicDefaultBrokerConfig, false]]);
    assert.equal(replicationThrottle(leaderServices(), 'leader').active(), true);
    // Bytes the leader may send broker 3 in any 10 s: the rate over the 11 s window, plus one fetch.
    // Broker 3 needed more (the values alone) than that, so it took more than 10 s.
    const bytes = BATCHES_PER_ROUND * BATCH_VALUE_BYTES;
    const perTenSeconds = RATE * 11 + FETCH_MAX_BYTES;
    const floorMs = Math.floor(bytes / perTenSeconds) * 10_000;
    t.diagnostic(`throttled at ${RATE} B/s: broker 3 caught up with ${bytes} bytes in ${Math.round(throttledMs)} ms (the quota allows no less than ${floorMs} ms); ${writes}`);
    assert.ok(floorMs >= 10_000, 'the round is more than one window can carry');
    assert.ok(throttledMs >= floorMs, `broker 3 caught up in ${Math.round(throttledMs)} ms, faster than the ${RATE} B/s throttle allows (${floorMs} ms)`);
    assert.ok(replicationThrottle(leaderServices(), 'leader').quota.rate() > 0, 'the leader recorded the throttled bytes');

    // Back in the ISR, broker 3 is no longer held back: a write reaches every replica.
    await produce(1, KB);
    await until('every replica to hold the last write', () => (active.nodeIds.every((id) => replicaEnd(id) === replicaEnd(1)) ? true : undefined));

    // Removing the rate and the list leaves the defaults.
    await alter(BROKER, '', [{ name: 'leader.replication.throttled.rate', op: Op.delete }]);
    await alter(TOPIC_RESOURCE, TOPIC, [{ name: 'leader.replication.throttled.replicas', op: Op.delete }]);
    assert.equal(replicationThrottle(leaderServices(), 'leader').active(), false);
    assert.equal(replicationThrottle(leaderServices(), 'leader').isThrottled(TOPIC, 0), false);

    // The follower side: follower.replication.throttled.rate on broker 3 alone (a per-broker
    // config) with follower.replication.throttled.replicas=*: broker 3's own fetcher leaves the
    // partition out of its fetches while its quota is exceeded, so it too takes longer than the
    // quota allows; the leader holds nothing back.
    await alter(TOPIC_RESOURCE, TOPIC, [{ name: 'follower.replication.throttled.replicas', op: Op.set, value: '*' }]);
    await alter(BROKER, '3', [{ name: 'follower.replication.throttled.rate', op: Op.set, value: String(RATE) }]);
    const followerMs = await catchUpRound('follower-throttled');
    t.diagnostic(`follower-throttled at ${RATE} B/s: broker 3 caught up with ${bytes} bytes in ${Math.round(followerMs)} ms (the quota allows no less than ${floorMs} ms)`);
    assert.ok(followerMs >= floorMs, `broker 3 caught up in ${Math.round(followerMs)} ms, faster than its ${RATE} B/s follower throttle allows (${floorMs} ms)`);
    assert.equal(replicationThrottle(leaderServices(), 'leader').active(), false, 'the leader throttled nothing');
    assert.ok(replicationThrottle(active.node(3).broker!.services, 'follower').quota.rate() > 0, "broker 3's follower quota recorded the bytes");
    assert.equal(replicationThrottle(active.node(2).broker!.services, 'follower').active(), false, 'the rate is broker 3\'s alone');
  });
});
