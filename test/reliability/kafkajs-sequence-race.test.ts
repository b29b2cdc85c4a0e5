// kafkajs 2.2.4's idempotent producer can send a partition's next sequence while the request
// holding its previous sequence is still unanswered, and the partition's new leader then refuses it
// with OUT_OF_ORDER_SEQUENCE_NUMBER, which kafkajs does not retry. The path, in its sendMessages:
// one send that spans several brokers sends one request per broker and waits for all of them
// (Promise.all); each request takes its partitions' sequences when it is sent (the counter moves
// at once) and gives them back only when it fails. When one request fails while another is still
// out, the send is retried at once: with fresh metadata, a partition whose leader moved goes to its
// new leader with the counter as the unanswered request left it, one batch ahead. Its lock per
// broker does not help: the two requests go to different brokers.
//
// This is the probable cause of the OUT_OF_ORDER_SEQUENCE_NUMBER the exactly-once workload's aborter
// met once (docs/reliability.md): it was the only client sending one send across brokers (the
// seeder and the copier send one partition at a time), and it now does the same.
//
// The test sets the scene on a 3-node in-process cluster, the client's connection to node 1 going
// through a fault-injecting proxy (src/testing/chaos/fault-network.ts): partition 0 led by node 1,
// partition 1 by node 2, one batch acknowledged on each, then both leaders moved to node 3 (a
// reassignment reordering the replicas, then a preferred election) while the client's metadata
// still names the old ones, and the link from the client to node 1 slowed (a second each way). A
// send to both partitions then fails with OUT_OF_ORDER_SEQUENCE_NUMBER: node 2 answers NOT_LEADER at
// once, the retry sends partition 0 to node 3 with sequence 2 while sequence 1 waits on node 1, and
// node 3's producer state ends at sequence 0 (the scene is set again, on a new topic, when kafkajs
// happened to ask slow node 1 for the fresh metadata: see the test). The same scene with one
// partition per send succeeds: node 1's late NOT_LEADER gives the sequence back before the retry
// takes partition 0 to node 3.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { Kafka, type Producer, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { AlterPartitionReassignmentsApi, ElectLeadersApi } from '../../src/protocol/messages/index.js';
import { FaultNetwork, OUTSIDE_CLIENT } from '../../src/testing/chaos/fault-network.js';
import { waitFor } from '../support/wait.js';
import { describeError, isOutOfOrderSequenceError } from './kafkajs-errors.js';

/** Where each scene starts: partition 0 led by node 1, partition 1 by node 2, node 3 following both. */
const FIRST_REPLICAS = [
  [1, 3, 2],
  [2, 3, 1],
];
/** Where it moves: node 3 leads both. */
const MOVED_REPLICAS = [
  [3, 1, 2],
  [3, 2, 1],
];
/** The extra delay each way on the link from the client to node 1: its answers come late, not never. */
const SLOW_LINK_MS = 1_000;
/** Scenes of the send across brokers at most (see the test); each takes a few seconds. */
const MAX_SCENES = 14;
/** kafkajs's request timeout, above the slow link's round trip. */
const REQUEST_TIMEOUT_MS = 5_000;

describe('kafkajs 2.2.4: a send across brokers retried while one request is unanswered', () => {
  let cluster: RunningCluster | undefined;
  const network = new FaultNetwork();
  after(async () => {
    await network.close();
    await cluster?.close();
  });

  it('sends a sequence ahead of the unanswered one to the new leader (OUT_OF_ORDER_SEQUENCE_NUMBER); one partition per send does not', async () => {
    cluster = await startCluster({ brokers: 3, config: { 'auto.leader.rebalance.enable': false, 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'replica.fetch.backoff.ms': 100 } });
    const active = cluster;
    const portOf = (nodeId: number) => Number(active.node(nodeId).bootstrapServer.split(':')[1]);
    // Node 1's listener, as the client reaches it: through the proxy. The bootstrap is nodes 2 and 3, direct.
    const nodeOnePort = portOf(1);
    const proxyPort = await network.addProxy('1', '127.0.0.1', nodeOnePort);
    const kafka = new Kafka({
      clientId: 'sequence-race',
      brokers: [active.node(2).bootstrapServer, active.node(3).bootstrapServer],
      logLevel: logLevel.NOTHING,
      requestTimeout: REQUEST_TIMEOUT_MS,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
      socketFactory: ({ host, port, onConnect }) => connect({ host, port: port === nodeOnePort ? proxyPort : port }, onConnect),
    });
    const admin = kafka.admin();
    await admin.connect();
    const tools = await KafkaConnection.open(connectTcp, active.node(3).bootstrapServer, 'sequence-race-tools');
    const producers: Producer[] = [];
    try {
      const image = (topic: string, partition: number) => active.node(3).broker?.services.image.partition(topic, partition);
      /** Every node's image has the partitions led by the first of `replicas`, in that order, with all of them in sync. */
      const settled = (topic: string, replicas: number[][]) =>
        active.nodeIds.every((id) =>
          replicas.every((order, partition) => {
            const view = active.node(id).broker?.services.image.partition(topic, partition);
            return view !== undefined && view.leader === order[0] && view.replicas.join() === order.join() && view.isr.length === 3;
          }),
        );
      /** Reorders each partition's replicas to `replicas`, then elects each one's preferred (first) replica. */
      const moveLeaders = async (topic: string, replicas: number[][]) => {
        const reassigned = await tools.send(AlterPartitionReassignmentsApi, 0, { timeoutMs: 10_000, topics: [{ name: topic, partitions: replicas.map((order, partitionIndex) => ({ partitionIndex, replicas: order })) }] });
        assert.deepEqual(reassigned.responses.flatMap((entry) => entry.partitions.map((partition) => partition.errorCode)), [ErrorCode.NONE, ErrorCode.NONE]);
        await waitFor(`${topic}'s replicas reordered on every node`, () => active.nodeIds.every((id) => replicas.every((order, partition) => active.node(id).broker?.services.image.partition(topic, partition)?.replicas.join() === order.join())) || undefined);
        const elected = await tools.send(ElectLeadersApi, 2, { electionType: 0, topicPartitions: [{ topic, partitions: replicas.map((_, partition) => partition) }], timeoutMs: 10_000 });
        const codes = elected.replicaElectionResults.flatMap((result) => result.partitionResult.map((partition) => partition.errorCode));
        assert.ok(codes.every((code) => code === ErrorCode.NONE || code === ErrorCode.ELECTION_NOT_NEEDED), `preferred elections: ${codes.join()}`);
        await waitFor(`${topic}'s leaders moved to ${replicas.map((order) => order[0]).join(', ')} on every node`, () => settled(topic, replicas) || undefined);
      };
      /**
       * A topic led by nodes 1 and 2, a new idempotent producer with one batch acknowledged on each
       * partition, then both leaders moved to node 3 behind the producer's back and node 1's link slowed.
       */
      const setScene = async (topic: string): Promise<Producer> => {
        await admin.createTopics({ topics: [{ topic, replicaAssignment: FIRST_REPLICAS.map((replicas, partition) => ({ partition, replicas })), configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
        await waitFor(`${topic} led by nodes 1 and 2 with every replica in sync`, () => settled(topic, FIRST_REPLICAS) || undefined);
        const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
        producers.push(producer);
        await producer.connect();
        await producer.send({ topic, acks: -1, messages: [0, 1].map((partition) => ({ partition, value: `first-${partition}` })) });
        await moveLeaders(topic, MOVED_REPLICAS);
        network.setFaults({ minDelayMs: SLOW_LINK_MS }, OUTSIDE_CLIENT, '1');
        return producer;
      };
      /** The last sequence node 3's producer state holds for the partition's one producer. */
      const lastSequenceOnNodeThree = (topic: string, partition: number) => {
        const producersHere = active.node(3).broker?.services.replicaManager.replica(topic, partition)?.activeProducers() ?? [];
        assert.equal(producersHere.length, 1, `${topic}-${partition} on node 3 knows one producer`);
        return producersHere[0]!.lastSequence;
      };

      // One send across both brokers: refused. kafkajs asks a connected broker at random for the
      // fresh metadata; when it asks node 1, that request waits behind the unanswered one, whose
      // NOT_LEADER then gives the sequence back first. So the scene is set again until kafkajs asks
      // another node (one time in two or three).
      let refused: unknown;
      let scenes = 0;
      while (refused === undefined && scenes < MAX_SCENES) {
        scenes++;
        const topic = `race-across-${scenes}`;
        const across = await setScene(topic);
        refused = await across.send({ topic, acks: -1, messages: [0, 1].map((partition) => ({ partition, value: `second-${partition}` })) }).then(
          () => undefined,
          (error: unknown) => error,
        );
        network.heal();
        if (refused === undefined) continue;
        assert.ok(isOutOfOrderSequenceError(refused), `expected OUT_OF_ORDER_SEQUENCE_NUMBER, got ${describeError(refused)}`);
        // Node 3 holds sequence 0 of partition 0 (the first batch) and nothing after: the refused batch came with sequence 2.
        assert.equal(lastSequenceOnNodeThree(topic, 0), 0);
        assert.equal(image(topic, 0)?.leader, 3);
      }
      assert.ok(refused !== undefined, `the send across both brokers succeeded in each of ${scenes} scenes`);

      // The same scene, one partition per send: node 1's late NOT_LEADER gives the sequence back before the retry takes it to node 3.
      const apart = await setScene('race-apart');
      for (const partition of [0, 1]) await apart.send({ topic: 'race-apart', acks: -1, messages: [{ partition, value: `second-${partition}` }] });
      assert.equal(lastSequenceOnNodeThree('race-apart', 0), 1);
      assert.equal(lastSequenceOnNodeThree('race-apart', 1), 1);
    } finally {
      network.heal();
      for (const producer of producers) await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      tools.close();
    }
  });
});
