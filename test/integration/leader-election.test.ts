// Leader elections the controller makes by itself, on a real 3-node cluster over TCP:
// - auto.leader.rebalance.enable: a partition's preferred replica (its first) that crashed, came
//   back and caught up leads again after the next imbalance check
//   (leader.imbalance.check.interval.seconds), without any admin request;
// - unclean.leader.election.enable: when a partition's last in-sync replica is gone and a replica
//   outside the ISR comes back, a topic that allows it elects that replica (losing what only the
//   ISR had: the test checks the loss is exactly the records written while that replica was down),
//   and a topic that does not waits for its ISR.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { waitFor } from '../support/wait.js';

/** waitFor with a longer default: cluster changes here take a session timeout or two. */
const until = <T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> => waitFor(what, probe, 20_000);

/** The partition as the active controller's image has it (what it elects from). */
function partitionState(cluster: RunningCluster, topic: string, partition: number): { leader: number; isr: readonly number[] } | undefined {
  const controller = cluster.activeController();
  const image = controller > 0 ? cluster.node(controller).broker?.services.image.partition(topic, partition) : undefined;
  return image && { leader: image.leader, isr: image.isr };
}

describe('elections the controller makes by itself', () => {
  let cluster: RunningCluster | undefined;
  after(async () => {
    await cluster?.close();
  });

  it('moves leadership back to the preferred replica once it is in sync again; elects uncleanly only where the topic allows it', async () => {
    // Dedicated controllers (1-3), so brokers (4-6) can be lost two at a time with a quorum left.
    // On disk: a crash keeps what was written (in memory, it would lose what was not fsynced,
    // and the unclean leader's log would be shorter for that reason too).
    cluster = await startCluster({
      controllers: 3,
      brokers: 3,
      storage: 'disk',
      config: { 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500, 'replica.fetch.backoff.ms': 100, 'leader.imbalance.check.interval.seconds': 1 },
    });
    const active = cluster;
    const kafka = new Kafka({ clientId: 'leader-election-test', brokers: active.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'balanced', replicaAssignment: [{ partition: 0, replicas: [4, 5, 6] }] },
        { topic: 'risky', replicaAssignment: [{ partition: 0, replicas: [5, 6] }], configEntries: [{ name: 'unclean.leader.election.enable', value: 'true' }] },
        { topic: 'careful', replicaAssignment: [{ partition: 0, replicas: [5, 6] }] },
      ],
      // Waited for below on the controller's image: kafkajs's own wait asks one broker's Metadata
      // and gives up on UNKNOWN_TOPIC_OR_PARTITION before the topics reach that broker.
      waitForLeaders: false,
    });
    await admin.disconnect();
    const fullIsr = (topic: string, size: number) => until(`${topic}-0 with a full ISR`, () => (partitionState(active, topic, 0)?.isr.length === size ? true : undefined));
    await fullIsr('balanced', 3);
    assert.equal(partitionState(active, 'balanced', 0)!.leader, 4);

    // Auto rebalance: the preferred leader 4 crashes; another replica leads; 4 comes back, rejoins
    // the ISR, and the next check hands the partition back to it.
    await active.crash(4);
    await until('balanced-0 led by 5 or 6', () => ([5, 6].includes(partitionState(active, 'balanced', 0)?.leader ?? -1) ? true : undefined));
    await active.restart(4);
    await until('balanced-0 led by its preferred replica 4 again', () => (partitionState(active, 'balanced', 0)?.leader === 4 ? true : undefined));

    // Unclean: both two-replica topics lose replica 6 (out of their ISRs), take records that only
    // 5 then has, and lose 5. Replica 6 comes back: 'risky' elects it, 'careful' waits for 5.
    await fullIsr('risky', 2);
    await fullIsr('careful', 2);
    const producer = kafka.producer();
    await producer.connect();
    for (const topic of ['risky', 'careful']) await producer.send({ topic, acks: -1, messages: [{ value: 'before' }] });
    await active.crash(6);
    await until('6 out of both ISRs', () => (['risky', 'careful'].every((topic) => partitionState(active, topic, 0)?.isr.join(',') === '5') ? true : undefined));
    for (const topic of ['risky', 'careful']) await producer.send({ topic, acks: 1, messages: [{ value: 'only-on-2' }] });
    await producer.disconnect();
    await active.crash(5);
    await until('no leader for either', () => (['risky', 'careful'].every((topic) => partitionState(active, topic, 0)?.leader === -1) ? true : undefined));
    await active.restart(6);
    await until('risky-0 led by 6 alone', () => {
      const state = partitionState(active, 'risky', 0);
      return state?.leader === 6 && state.isr.join(',') === '6' ? true : undefined;
    });
    // Its last in-sync replica left the ISR for the ELR (KIP-966) and is its last known leader.
    assert.deepEqual(partitionState(active, 'careful', 0), { leader: -1, isr: [] }, 'careful-0 waits for its last in-sync replica');
    const careful0 = active.node(active.activeController()).broker!.services.image.partition('careful', 0)!;
    assert.deepEqual([careful0.eligibleLeaderReplicas, careful0.lastKnownElr], [[5], [5]]);
    // What 6 holds is what risky-0 has now: the acknowledged acks=1 record only 5 had is gone.
    const risky = await until('risky-0 hosted as leader on 6', () => active.node(6).broker?.services.replicaManager.get('risky', 0));
    assert.equal(risky.log.logEndOffset, 1, 'only the record written before 6 went down');
    // 5 comes back (from a kill -9, so no longer eligible, but the last known leader): careful-0 is
    // led by it again, with nothing lost.
    await active.restart(5);
    await until('careful-0 led by 5', () => (partitionState(active, 'careful', 0)?.leader === 5 ? true : undefined));
    const careful = await until('careful-0 hosted as leader on 5', () => active.node(5).broker?.services.replicaManager.get('careful', 0));
    assert.equal(careful.log.logEndOffset, 2);
  });
});
