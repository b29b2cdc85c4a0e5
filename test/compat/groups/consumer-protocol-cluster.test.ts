// @platformatic/kafka KIP-848 consumer group members (groupProtocol 'consumer') on a cluster of three
// `conveyor start` processes (test/support/cluster-processes.ts), the topic and __consumer_offsets
// with replication factor 3. The broker that coordinates the group (FindCoordinator) is killed with
// SIGKILL while the members consume: another broker becomes the coordinator, loads the group from
// __consumer_offsets, and the members carry on with it: no record is lost and every record ends up
// committed. How long the group took to recover is reported, not asserted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaConnection } from '../../../src/client/kafka-connection.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { FindCoordinatorApi } from '../../../src/protocol/messages/index.js';
import { ProcessCluster } from '../../support/cluster-processes.js';
import { requireClient } from '../../support/clients.js';
import { FAST_FAILOVER_SETTINGS } from '../../support/leader-kill-support.js';
import { waitFor } from '../../support/wait.js';
import { GroupMember, consumedOffsets, describeConsumerGroup, duplicateRecords, ownershipOverlaps } from './group-members.js';

const PARTITIONS = 6;
const PER_ROUND = 5;
const SESSION_TIMEOUT_MS = 10_000;
const WAIT_MS = 60_000;
const TOPIC = 'orders-848-cluster';
const GROUP_ID = 'group-848-cluster';

const SETTINGS: Record<string, string> = {
  ...FAST_FAILOVER_SETTINGS,
  'offsets.topic.replication.factor': '3',
  'offsets.topic.num.partitions': '3',
  'group.consumer.min.session.timeout.ms': '1000',
  'group.consumer.session.timeout.ms': String(SESSION_TIMEOUT_MS),
  'group.consumer.min.heartbeat.interval.ms': '100',
  'group.consumer.heartbeat.interval.ms': '500',
};

/** The group's coordinator as `nodeId` answers FindCoordinator v4, or undefined (no answer, or an error code). */
async function coordinatorOf(cluster: ProcessCluster, nodeId: number): Promise<number | undefined> {
  let connection: KafkaConnection | undefined;
  try {
    connection = await KafkaConnection.open(connectTcp, cluster.address(nodeId), 'group-compat-coordinator', { connectTimeoutMs: 2_000, requestTimeoutMs: 2_000 });
    const response = await connection.send(FindCoordinatorApi, 4, { keyType: 0, coordinatorKeys: [GROUP_ID] });
    const coordinator = response.coordinators?.[0];
    return coordinator !== undefined && coordinator.errorCode === 0 ? coordinator.nodeId : undefined;
  } catch {
    return undefined;
  } finally {
    connection?.close();
  }
}

/** Whether every offset below each partition's end was processed by some member. */
function everyRecordProcessed(members: readonly GroupMember[], ends: ReadonlyMap<number, number>): boolean {
  const union = consumedOffsets(members);
  for (const [partition, end] of ends) {
    for (let offset = 0; offset < end; offset++) if (!union.get(partition)?.has(offset)) return false;
  }
  return true;
}

test('consumer protocol on 3 brokers: the coordinator is killed, the group carries on with the next one', { timeout: 150_000 }, async (t) => {
  if (!(await requireClient(t, 'platformatic'))) return;
  const cluster = await ProcessCluster.start({ nodes: 3, settings: SETTINGS });
  const members: GroupMember[] = [];
  const kafka = new Kafka({ brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 200 } });
  const admin = kafka.admin();
  // Idempotent: a send retried across the kill must not write a record twice (the test counts offsets).
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3 }], waitForLeaders: true });
    await producer.connect();
    const produceRound = async (round: number) => {
      const messages = [];
      for (let partition = 0; partition < PARTITIONS; partition++) {
        for (let index = 0; index < PER_ROUND; index++) messages.push({ partition, value: `r${round}-p${partition}-${index}` });
      }
      await producer.send({ topic: TOPIC, messages });
    };
    /** Each partition's high watermark: what the group must process and commit. */
    const endOffsets = async () => {
      const offsets = await admin.fetchTopicOffsets(TOPIC);
      const ends = new Map(offsets.map(({ partition, high }) => [partition, Number(high)]));
      const unexpected = [...ends].filter(([, end]) => end % PER_ROUND !== 0);
      if (unexpected.length > 0) t.diagnostic(`partitions with records written twice by the idempotent producer: ${JSON.stringify(unexpected)}`);
      return ends;
    };
    let lastCommitted = '';
    const committedEverywhere = (ends: ReadonlyMap<number, number>) =>
      waitFor(
        `the group's committed offsets to reach ${JSON.stringify([...ends])}`,
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId: GROUP_ID, topics: [TOPIC] });
          lastCommitted = JSON.stringify(committed!.partitions.map(({ partition, offset }) => [partition, offset]));
          return committed!.partitions.length === PARTITIONS && committed!.partitions.every((partition) => Number(partition.offset) === ends.get(partition.partition)) ? true : undefined;
        },
        WAIT_MS,
        250,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; last answer ${lastCommitted}; acknowledged by the members ${members.map((member) => JSON.stringify([...member.acknowledged].map(([partition, offsets]) => [partition, Math.max(...offsets)]))).join(' ')}`);
      });

    await produceRound(1);
    for (let index = 0; index < 2; index++) {
      members.push(GroupMember.start('platformatic-consumer', { bootstrapServers: cluster.bootstrapServers, topic: TOPIC, groupId: GROUP_ID, sessionTimeoutMs: SESSION_TIMEOUT_MS }));
    }
    await waitFor('two members with 3 partitions each', () => (members.every((member) => member.currentAssignment?.length === 3) ? true : undefined), WAIT_MS, 100);
    const firstEnds = await endOffsets();
    await waitFor('round 1 processed', () => (everyRecordProcessed(members, firstEnds) ? true : undefined), WAIT_MS);
    await committedEverywhere(firstEnds);

    const coordinator = await waitFor('the group coordinator', () => coordinatorOf(cluster, cluster.nodeIds[0]!), WAIT_MS);
    const before = await describeConsumerGroup(cluster.address(coordinator), GROUP_ID);
    assert.equal(before.groupState, 'Stable');
    t.diagnostic(`coordinator: node ${coordinator}, group epoch ${before.groupEpoch}, members ${before.members.map((member) => `${member.memberId.slice(0, 8)}@${member.memberEpoch}`).join(' ')}`);
    const assignmentsBefore = members.map((member) => member.assignmentChanges.length);

    // The members are busy with round 2 (processing, committing) when their coordinator dies.
    await produceRound(2);
    await cluster.kill(coordinator, 'SIGKILL');
    const killedAt = Date.now();
    // Commits the members saw acknowledged before the kill: partition -> the committed offset (last acknowledged record + 1).
    const acknowledgedBeforeKill = new Map<number, number>();
    for (const member of members) for (const [partition, offsets] of member.acknowledged) acknowledgedBeforeKill.set(partition, Math.max(acknowledgedBeforeKill.get(partition) ?? 0, Math.max(...offsets) + 1));
    const survivors = cluster.nodeIds.filter((nodeId) => nodeId !== coordinator);
    const successor = await waitFor(
      'another broker to coordinate the group',
      async () => {
        const answer = await coordinatorOf(cluster, survivors[0]!);
        return answer !== undefined && answer !== coordinator ? answer : undefined;
      },
      WAIT_MS,
      100,
    );
    const coordinatorMovedMs = Date.now() - killedAt;
    const after = await waitFor(
      'the new coordinator to have the group Stable with both members',
      async () => {
        const group = await describeConsumerGroup(cluster.address(successor), GROUP_ID);
        return group.errorCode === 0 && group.groupState === 'Stable' && group.members.length === 2 ? group : undefined;
      },
      WAIT_MS,
      100,
    );
    const groupBackMs = Date.now() - killedAt;
    t.diagnostic(`new coordinator: node ${successor} after ${coordinatorMovedMs} ms; group Stable there after ${groupBackMs} ms: epoch ${after.groupEpoch}, members ${after.members.map((member) => `${member.memberId.slice(0, 8)}@${member.memberEpoch}`).join(' ')}`);
    assert.deepEqual(after.members.map((member) => member.memberId).sort(), before.members.map((member) => member.memberId).sort(), 'the same members, loaded from __consumer_offsets');
    // An OffsetCommit answered before the kill is durable: the new coordinator has it (or a later one).
    const [loaded] = await admin.fetchOffsets({ groupId: GROUP_ID, topics: [TOPIC] });
    const lost = loaded!.partitions.filter(({ partition, offset }) => Number(offset) < (acknowledgedBeforeKill.get(partition) ?? 0));
    t.diagnostic(`committed offsets acknowledged before the kill ${JSON.stringify([...acknowledgedBeforeKill].sort())}; the new coordinator's ${JSON.stringify(loaded!.partitions.map(({ partition, offset }) => [partition, Number(offset)]))}`);
    assert.deepEqual(lost.map(({ partition, offset }) => `p${partition}: ${offset} < ${acknowledgedBeforeKill.get(partition)}`), [], 'acknowledged commits survive the coordinator\'s kill');

    await produceRound(3);
    const producedAt = Date.now();
    const finalEnds = await endOffsets();
    await waitFor('rounds 2 and 3 processed', () => (everyRecordProcessed(members, finalEnds) ? true : undefined), WAIT_MS);
    await committedEverywhere(finalEnds);
    t.diagnostic(`rounds 2 and 3 processed and committed ${Date.now() - producedAt} ms after round 3 was produced (${Date.now() - killedAt} ms after the kill)`);

    const duplicates = duplicateRecords(members);
    const whoProcessed = (record: string) => members.flatMap((member, index) => member.processed.filter(([partition, offset]) => `${partition}:${offset}` === record).map(() => index));
    if (duplicates.size > 0) t.diagnostic(`processed twice: ${[...duplicates.keys()].map((record) => `${record} by ${JSON.stringify(whoProcessed(record))}`).join(' ')}`);
    t.diagnostic(`records processed twice: ${duplicates.size}; assignment changes after the kill: ${members.map((member, index) => JSON.stringify(member.assignmentChanges.slice(assignmentsBefore[index]).map((change) => change.partitions))).join(' ')}`);
    assert.deepEqual(ownershipOverlaps(members), [], 'no partition owned by two members at once');
    // What the members went through, in ms after the kill: their errors and assignment changes.
    members.forEach((member, index) => {
      const timeline = [
        ...member.errorLog.map(({ at, error }) => ({ at, text: error.slice(0, 140) })),
        ...member.assignmentChanges.filter((change) => (change.at ?? 0) >= killedAt).map((change) => ({ at: change.at!, text: `assigned ${JSON.stringify(change.partitions)}` })),
      ].sort((a, b) => a.at - b.at);
      if (timeline.length > 0) t.diagnostic(`member ${index}: ${timeline.map(({ at, text }) => `+${at - killedAt} ${text}`).join(' || ')}`);
    });
    for (const member of members) await member.stop();
  } catch (error) {
    const logs = members.map((member, index) => `member ${index}: assignments ${JSON.stringify(member.assignmentChanges)} errors ${JSON.stringify(member.errors.slice(-10))}\n${member.output}`).join('\n');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`);
  } finally {
    for (const member of members) await member.kill();
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
    await cluster.stopAll();
  }
});
