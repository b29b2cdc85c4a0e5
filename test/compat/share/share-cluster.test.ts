// Share groups (KIP-932) on a cluster of three `conveyor start` processes with librdkafka 2.15.1's
// share consumer (test/clients/share-consumer). The topic, __consumer_offsets and
// __share_group_state have replication factor 3. While two consumers work through the records,
// the broker that coordinates their group is killed with SIGKILL: the group moves to another
// broker (loaded from __consumer_offsets), the killed broker's partitions to other leaders (their
// share-partition state loaded from __share_group_state through the share coordinators), and the
// consumers carry on. Every record ends up accepted exactly once, and the share-group history
// checker finds nothing else wrong either.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../../src/base/error-codes.js';
import { KafkaConnection } from '../../../src/client/kafka-connection.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { FindCoordinatorApi, IncrementalAlterConfigsApi } from '../../../src/protocol/messages/index.js';
import { ShareHistory, checkShareHistory, formatShareReport } from '../../../src/testing/share-checker.js';
import { allClientsRequired } from '../../support/clients.js';
import { ProcessCluster } from '../../support/cluster-processes.js';
import { FAST_FAILOVER_SETTINGS } from '../../support/leader-kill-support.js';
import { type ShareConsumerProcess, addToShareHistory, shareConsumerAvailable, startShareConsumer } from '../../support/share-consumer.js';
import { waitFor } from '../../support/wait.js';

const TOPIC = 'share-cluster';
const GROUP_ID = 'share-cluster-group';
const PARTITIONS = 3;
const PER_ROUND = 100;
const WAIT_MS = 90_000;

const SETTINGS: Record<string, string> = {
  ...FAST_FAILOVER_SETTINGS,
  'offsets.topic.replication.factor': '3',
  'offsets.topic.num.partitions': '3',
  'share.coordinator.state.topic.replication.factor': '3',
  'share.coordinator.state.topic.num.partitions': '3',
  'group.share.min.record.lock.duration.ms': '1000',
  'group.share.record.lock.duration.ms': '5000',
  'group.share.min.heartbeat.interval.ms': '1000',
  'group.share.heartbeat.interval.ms': '1000',
};

const availability = shareConsumerAvailable();
if (!availability.available && allClientsRequired()) throw new Error(`${availability.reason} (CONVEYOR_REQUIRE_ALL_CLIENTS=1)`);

async function ask<Response>(cluster: ProcessCluster, nodeId: number, send: (connection: KafkaConnection) => Promise<Response>): Promise<Response | undefined> {
  let connection: KafkaConnection | undefined;
  try {
    connection = await KafkaConnection.open(connectTcp, cluster.address(nodeId), 'share-cluster-test', { connectTimeoutMs: 2_000, requestTimeoutMs: 5_000 });
    return await send(connection);
  } catch {
    return undefined;
  } finally {
    connection?.close();
  }
}

/** The group's coordinator as `nodeId` answers FindCoordinator, or undefined. */
async function coordinatorOf(cluster: ProcessCluster, nodeId: number): Promise<number | undefined> {
  const response = await ask(cluster, nodeId, (connection) => connection.send(FindCoordinatorApi, 4, { keyType: 0, coordinatorKeys: [GROUP_ID] }));
  const coordinator = response?.coordinators?.[0];
  return coordinator !== undefined && coordinator.errorCode === ErrorCode.NONE ? coordinator.nodeId : undefined;
}

function acceptedCount(consumers: readonly ShareConsumerProcess[]): number {
  const accepted = new Set<string>();
  for (const consumer of consumers) for (const ack of consumer.settledAcks()) if (ack.type === 'accept' && ack.error === 'NO_ERROR') accepted.add(`${ack.partition}:${ack.offset}`);
  return accepted.size;
}

test('share groups on 3 brokers: the group coordinator is killed, every record is still accepted exactly once', { skip: availability.available ? false : availability.reason, timeout: 240_000 }, async (t) => {
  const cluster = await ProcessCluster.start({ nodes: 3, settings: SETTINGS });
  const consumers: ShareConsumerProcess[] = [];
  const kafka = new Kafka({ brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 200 } });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const history = new ShareHistory();
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3 }], waitForLeaders: true });
    await producer.connect();
    // One send per partition, so each record's offset is its send's base offset plus its index.
    const produceRound = async (round: number) => {
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const values = Array.from({ length: PER_ROUND }, (_, index) => `r${round}-p${partition}-${index}`);
        const [metadata] = await producer.send({ topic: TOPIC, messages: values.map((value) => ({ partition, value })) });
        const base = Number(metadata!.baseOffset);
        values.forEach((value, index) => history.send({ process: 'producer', topic: TOPIC, partition, value, outcome: 'ok', offset: base + index }));
      }
    };
    await produceRound(1);
    const altered = await waitFor('the group config set', () =>
      ask(cluster, cluster.nodeIds[0]!, (connection) =>
        connection.send(IncrementalAlterConfigsApi, 1, { resources: [{ resourceType: 32, resourceName: GROUP_ID, configs: [{ name: 'share.auto.offset.reset', configOperation: 0, value: 'earliest' }] }], validateOnly: false }),
      ), WAIT_MS, 200);
    assert.equal(altered.responses[0]?.errorCode, ErrorCode.NONE);

    for (let index = 1; index <= 2; index++) {
      consumers.push(startShareConsumer({ bootstrap: cluster.bootstrapServers, groupId: GROUP_ID, topics: [TOPIC], mode: 'explicit', ackRule: 'accept', clientId: `share-cluster-${index}`, timeoutMs: 200_000, config: { 'max.poll.records': 10 } }));
    }
    await waitFor('some of round 1 accepted', () => (acceptedCount(consumers) >= PER_ROUND ? true : undefined), WAIT_MS, 100);

    const coordinator = await waitFor('the group coordinator', () => coordinatorOf(cluster, cluster.nodeIds[0]!), WAIT_MS);
    await cluster.kill(coordinator, 'SIGKILL');
    const killedAt = Date.now();
    t.diagnostic(`killed node ${coordinator} (the group coordinator) with ${acceptedCount(consumers)} records accepted`);
    await produceRound(2);

    const total = 2 * PARTITIONS * PER_ROUND;
    await waitFor(`all ${total} records accepted`, () => (acceptedCount(consumers) === total ? true : undefined), WAIT_MS, 200).catch((error: Error) => {
      throw new Error(`${error.message}: ${acceptedCount(consumers)} accepted; errors ${JSON.stringify(consumers.map((consumer) => consumer.errors.slice(-3)))}`);
    });
    t.diagnostic(`every record accepted ${Date.now() - killedAt} ms after the kill`);

    consumers.forEach((consumer, index) => addToShareHistory(history, `consumer-${index + 1}`, consumer.events));
    const result = checkShareHistory(history, { drained: true, order: 'per-consumer' });
    // A new leader restores the delivery counts last written; acquisitions are not written (as in
    // Kafka), so across the failover a record may be delivered again with a count seen before.
    const anomalies = result.anomalies.filter((anomaly) => anomaly.kind !== 'delivery-count-not-increasing' && anomaly.kind !== 'concurrent-holders');
    assert.deepEqual(anomalies.map((anomaly) => anomaly.message), [], formatShareReport(result));
    t.diagnostic(JSON.stringify(result.summary));
  } finally {
    await Promise.all(consumers.map((consumer) => consumer.stop().catch(() => undefined)));
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await cluster.stopAll();
  }
});
