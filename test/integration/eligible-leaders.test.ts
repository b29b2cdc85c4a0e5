// Eligible leader replicas (KIP-966) on a real cluster over TCP: 3 dedicated controllers and
// brokers 4-6, a topic with replicas [4,5,6] and min.insync.replicas=2.
// - Strict min ISR: with the ISR down to the leader alone, an acks=1 write is acknowledged but the
//   high watermark does not move, so no consumer reads it.
// - The replicas that left the ISR below min ISR are eligible leaders: when the last in-sync
//   replica stops too, the partition has no leader, and the first eligible replica back leads it
//   (before Kafka 4.0 it would wait for the last ISR member), with every acknowledged record and
//   without the unreadable acks=1 one, readable once the ISR is back at min ISR.
// - An eligible replica that comes back from an unclean shutdown (kill -9: its unsynced writes may
//   be gone) loses its place: it does not lead, and the partition waits for the replica that
//   stopped cleanly (eligible, and its last leader). (A last leader alone, back from a crash, does
//   lead again, as before Kafka 4.0: cluster.test.ts's single-replica partitions.)
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { waitFor } from '../support/wait.js';

const TOPIC = 'eligible';

describe('eligible leader replicas (KIP-966)', () => {
  let cluster: RunningCluster | undefined;
  after(async () => {
    await cluster?.close();
  });

  it('an eligible replica leads once the last in-sync one is gone; one back from an unclean shutdown does not', async () => {
    cluster = await startCluster({
      controllers: 3,
      brokers: 3,
      storage: 'memory',
      config: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'replica.fetch.backoff.ms': 100, 'auto.leader.rebalance.enable': false },
    });
    const active = cluster;
    /** The partition as the active controller's image has it. */
    const state = () => {
      const controller = active.activeController();
      const image = controller > 0 ? active.node(controller).broker?.services.image.partition(TOPIC, 0) : undefined;
      if (!image) return undefined;
      return { leader: image.leader, isr: [...image.isr].sort(), elr: [...image.eligibleLeaderReplicas].sort(), lastKnownElr: [...image.lastKnownElr].sort() };
    };
    const until = (what: string, condition: (current: NonNullable<ReturnType<typeof state>>) => boolean) =>
      waitFor(what, () => {
        const current = state();
        return current && condition(current) ? current : undefined;
      }, 20_000);
    const log = (nodeId: number) => active.node(nodeId).broker!.services.replicaManager.replica(TOPIC, 0)!.log;

    const kafka = new Kafka({ clientId: 'elr-test', brokers: active.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, replicaAssignment: [{ partition: 0, replicas: [4, 5, 6] }], configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: false });
    await admin.disconnect();
    await until('a full ISR', (current) => current.isr.length === 3 && current.leader === 4);

    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const acknowledged = Array.from({ length: 20 }, (_, index) => `acked-${index}`);
    for (const value of acknowledged) await producer.send({ topic: TOPIC, acks: -1, messages: [{ value }] });

    // Down to min ISR, then below it: 5 leaves an ISR of [4] and becomes eligible.
    await active.stop(6);
    await until('6 out of the ISR', (current) => current.isr.join(',') === '4,5' && current.elr.length === 0);
    await active.stop(5);
    const belowMin = await until('5 eligible, out of an ISR of 4 alone', (current) => current.isr.join(',') === '4');
    assert.deepEqual(belowMin, { leader: 4, isr: [4], elr: [5], lastKnownElr: [] });

    // Strict min ISR: an acks=1 write is acknowledged, but the high watermark stays.
    await producer.send({ topic: TOPIC, acks: 1, messages: [{ value: 'never-readable' }] });
    await producer.disconnect();
    assert.deepEqual([log(4).logEndOffset, log(4).highWatermark], [21, 20], 'the leader alone, below min ISR, commits nothing');

    // The last in-sync replica stops: no leader, both eligible; 5 comes back first and leads.
    await active.stop(4);
    assert.deepEqual(await until('no leader', (current) => current.leader === -1), { leader: -1, isr: [], elr: [4, 5], lastKnownElr: [4] });
    await active.restart(5);
    assert.deepEqual(await until('5 to lead from the ELR', (current) => current.leader === 5), { leader: 5, isr: [5], elr: [4], lastKnownElr: [] });
    // Alone, 5 is below min ISR too: what it holds becomes readable once 6 is back in its ISR.
    await active.restart(6);
    await until('6 back in the ISR, at min ISR', (current) => current.isr.join(',') === '5,6' && current.elr.length === 0);

    const consumer = kafka.consumer({ groupId: 'elr-readers' });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor('every acknowledged record', () => (seen.length >= acknowledged.length ? true : undefined), 30_000);
    await consumer.disconnect();
    assert.deepEqual(seen, acknowledged, 'every acks=all record, and not the acks=1 one no reader could see');

    // Everyone back: 4 drops its unreadable record.
    await active.restart(4);
    await until('a full ISR again, no ELR', (current) => current.isr.length === 3 && current.elr.length === 0);
    await waitFor('4 to match the leader', () => (log(4).logEndOffset === log(5).logEndOffset ? true : undefined));
    assert.equal(log(4).logEndOffset, 20);

    // An unclean shutdown: 6 stops cleanly, 4 is killed (fenced after its session), leaving 5
    // alone with 4 eligible; 5 stops; 4 restarts without a clean shutdown marker.
    await active.stop(6);
    await until('6 out of the ISR', (current) => current.isr.join(',') === '4,5');
    await active.crash(4);
    await until('4 fenced out of the ISR, eligible', (current) => current.isr.join(',') === '5' && current.elr.join(',') === '4');
    await active.stop(5);
    await until('no leader', (current) => current.leader === -1 && current.elr.join(',') === '4,5');
    await active.restart(4);
    const afterUnclean = await until('4 out of the ELR', (current) => !current.elr.includes(4));
    assert.deepEqual(afterUnclean, { leader: -1, isr: [], elr: [5], lastKnownElr: [5] }, '4 may have lost unsynced writes: no longer eligible');
    // 4 is up and unfenced, yet the partition waits for 5, which stopped cleanly (eligible, and the last leader).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(state()!.leader, -1, 'the replica back from an unclean shutdown did not lead while a clean one may');
    await active.restart(5);
    await until('5 to lead', (current) => current.leader === 5);
  });
});
