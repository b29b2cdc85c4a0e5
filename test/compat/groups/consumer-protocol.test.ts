// @platformatic/kafka 2.x in KIP-848 consumer groups (groupProtocol 'consumer': ConsumerGroupHeartbeat,
// server-side 'uniform' assignor, incremental revoke-before-assign) against one Conveyor broker:
//   - the group scenario of the classic tests, adapted: members join one by one and the partitions
//     spread evenly; ConsumerGroupDescribe then shows the group Stable, every member at its target
//     assignment; a member killed with SIGKILL loses its partitions only after the broker's session
//     timeout; a member that leaves is gone from the group at once and its partitions move; every
//     record is processed and committed; no partition is ever owned by two members at once (from
//     the members' own timed reports, and as ConsumerGroupDescribe shows it while members come and
//     go); a record is processed twice only if the killed member processed it and never saw its
//     commit acknowledged; after a broker restart a new member resumes at the committed offsets.
//   - a classic member joining a consumer group with members is served inside it (Kafka 4.0, whatever
//     group.consumer.migration.policy says), the two share the partitions; with the policy
//     `disabled`, a consumer-protocol member is refused by a classic group with members
//     (GROUP_ID_NOT_FOUND), which keeps consuming undisturbed (the upgrade itself: online-migration.test.ts).
//   - a static member (group.instance.id) killed keeps its instance id (a new incarnation gets
//     UNRELEASED_INSTANCE_ID) and its partitions until its session expires; then it comes back.
//   - an empty classic group is taken over by consumer-protocol members, which resume at its
//     committed offsets, and back; ListGroups v5 gives the empty group the type of its last members.
// The members are child processes (platformatic-member.ts) so one can be killed without leaving.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaConnection } from '../../../src/client/kafka-connection.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { ListGroupsApi } from '../../../src/protocol/messages/index.js';
import { type TestBroker, startTestBroker } from '../../support/broker.js';
import { requireClient } from '../../support/clients.js';
import { waitFor } from '../../support/wait.js';
import { GROUP_TEST_CONFIG, createTopicAndProducer } from './group-scenario.js';
import {
  GroupMember,
  type MemberClient,
  consumedOffsets,
  consumerGroupSettings,
  describeConsumerGroup,
  describedPartitions,
  duplicateRecords,
  everyRecordProcessed,
  groupRun,
  ownershipOverlaps,
  waitForCommitted,
  waitForEvenSpread,
  waitForSettled,
  watchDescribedOwnership,
  withMemberLogs,
} from './group-members.js';

const SESSION_TIMEOUT_MS = 6_000;
const HEARTBEAT_INTERVAL_MS = 500;
const PARTITIONS = 6;
const PER_ROUND = 5;
/** Generous for a loaded machine; a reassignment takes about a heartbeat interval. */
const WAIT_MS = 45_000;

/** Fast KIP-848 groups: a short broker-side session and heartbeat interval. */
const CONSUMER_GROUP_CONFIG = { ...GROUP_TEST_CONFIG, ...consumerGroupSettings(SESSION_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS) };

test('consumer protocol: members join, one is killed, one leaves, the broker restarts', { timeout: 150_000 }, async (t) => {
  if (!(await requireClient(t, 'platformatic'))) return;
  const broker = await startTestBroker(CONSUMER_GROUP_CONFIG);
  const run = groupRun(broker, 'orders-848', 'group-848');
  const setup = await createTopicAndProducer(broker, run.topic);
  const watcher = watchDescribedOwnership(broker.bootstrapServers, run.groupId, run.topic);
  try {
    await setup.produceRound(1);
    const joined: GroupMember[] = [];
    for (let count = 1; count <= 4; count++) {
      joined.push(run.start());
      const spread = await waitForEvenSpread(joined);
      t.diagnostic(`${count} member(s): ${JSON.stringify(spread)}`);
    }
    const [killed, leaver, third, fourth] = joined as [GroupMember, GroupMember, GroupMember, GroupMember];

    const settled = await waitForSettled(broker.bootstrapServers, run.groupId, run.topic, 4);
    assert.equal(settled.assignorName, 'uniform');
    assert.equal(settled.assignmentEpoch, settled.groupEpoch, 'the target assignment is the group epoch');
    for (const member of settled.members) assert.equal(member.memberEpoch, settled.groupEpoch, `member ${member.memberId} is at the group's epoch`);
    const described = settled.members.map((member) => describedPartitions(member.assignment, run.topic)).sort();
    assert.deepEqual(described, joined.map((member) => member.currentAssignment!).sort(), 'the broker and the members agree on who owns what');

    await setup.produceRound(2);
    await killed.kill();
    await waitForEvenSpread([leaver, third, fourth]);
    const afterKillMs = Date.now() - killed.killedAt!;
    assert.ok(afterKillMs >= SESSION_TIMEOUT_MS - HEARTBEAT_INTERVAL_MS - 500, `the killed member's partitions move only after the session timeout (moved after ${afterKillMs} ms)`);
    t.diagnostic(`partitions of the killed member reassigned ${afterKillMs} ms after the kill (session timeout ${SESSION_TIMEOUT_MS} ms)`);

    // A leave (ConsumerGroupHeartbeat with member epoch -1) removes the member at once: the
    // broker no longer lists it as soon as its consumer closed, long before a session could expire.
    await leaver.stop();
    const leftAt = Date.now();
    const afterLeave = await describeConsumerGroup(broker.bootstrapServers, run.groupId);
    assert.equal(afterLeave.members.length, 2, 'the member that left is no longer in the group');
    await waitForEvenSpread([third, fourth]);
    t.diagnostic(`partitions of the member that left reassigned ${Date.now() - leftAt} ms after it closed`);

    await setup.produceRound(3);
    await waitFor('every produced record processed', () => (everyRecordProcessed(run.members, 3 * PER_ROUND) ? true : undefined), WAIT_MS);
    await waitForCommitted(setup.admin, run.groupId, run.topic, 3 * PER_ROUND);
    await third.stop();
    await fourth.stop();
    await watcher.stop();

    assert.deepEqual(watcher.overlaps, [], `ConsumerGroupDescribe never showed a partition in two members at once\n${watcher.history.join('\n')}`);
    assert.ok(watcher.polls > 10, `ConsumerGroupDescribe polled while members came and went (${watcher.polls} answers)`);
    assert.deepEqual(ownershipOverlaps(run.members), [], 'no partition owned by two members at once');
    // Revoke before assign, commits before revoking: only a member whose commit never landed can
    // leave records processed but not committed behind: the killed member, or one whose commit was
    // refused (STALE_MEMBER_EPOCH when its epoch moved on while the commit was in flight, as Kafka
    // refuses it). Only those records may be processed again.
    const duplicates = duplicateRecords(run.members);
    const unacknowledged = (member: GroupMember) => member.processed.filter(([partition, offset]) => !member.acknowledged.get(partition)?.has(offset)).map(([partition, offset]) => `${partition}:${offset}`);
    const unacknowledgedByKilled = new Set(unacknowledged(killed));
    const refusedCommits = run.members.filter((member) => member !== killed && member.errors.some((error) => error.includes('STALE_MEMBER_EPOCH')));
    const leftUncommitted = new Set([...unacknowledgedByKilled, ...refusedCommits.flatMap(unacknowledged)]);
    for (const record of duplicates.keys()) assert.ok(leftUncommitted.has(record), `record ${record} processed twice, though no member left it uncommitted (killed or with a refused commit)`);
    t.diagnostic(`records processed twice: ${duplicates.size} (${[...duplicates.keys()].join(' ')}); processed but unacknowledged by the killed member: ${unacknowledgedByKilled.size}, by members with a refused commit: ${leftUncommitted.size - unacknowledgedByKilled.size}`);
    const errors = run.members.flatMap((member) => member.errors);
    if (errors.length > 0) t.diagnostic(`member errors: ${JSON.stringify(errors)}`);

    // Restart the broker: a new member resumes exactly at the committed offsets.
    await setup.close();
    await broker.restart();
    const after = await producerFor(broker, run.topic);
    await after.produceRound(4);
    const resumed = run.start();
    await waitFor('the resumed member to process round 4', () => (everyRecordProcessed([resumed], 4 * PER_ROUND, 3 * PER_ROUND) ? true : undefined), WAIT_MS);
    for (const [partition, offsets] of resumed.committed) assert.equal(Math.min(...offsets), 3 * PER_ROUND, `partition ${partition} resumed at the committed offset`);
    await resumed.stop();
    await after.close();
  } catch (error) {
    throw withMemberLogs(error, run.members);
  } finally {
    await watcher.stop();
    for (const member of run.members) await member.kill();
    await setup.close().catch(() => {});
    await broker.close();
  }
});

test('consumer protocol: a static member killed holds its instance id until its session expires, then comes back', { timeout: 120_000 }, async (t) => {
  if (!(await requireClient(t, 'platformatic'))) return;
  // A session long enough that the refused restart surely comes before it expires, however slow the machine.
  const sessionTimeoutMs = 20_000;
  const broker = await startTestBroker({ ...CONSUMER_GROUP_CONFIG, 'group.consumer.session.timeout.ms': sessionTimeoutMs });
  const run = groupRun(broker, 'static-848', 'static-group-848');
  const setup = await createTopicAndProducer(broker, run.topic);
  try {
    await setup.produceRound(1);
    const first = run.start('platformatic-consumer', 'static-1');
    const second = run.start('platformatic-consumer', 'static-2');
    await waitForEvenSpread([first, second]);
    const settled = await waitForSettled(broker.bootstrapServers, run.groupId, run.topic, 2);
    assert.deepEqual(settled.members.map((member) => member.instanceId).sort(), ['static-1', 'static-2']);
    const firstMemberId = settled.members.find((member) => member.instanceId === 'static-1')!.memberId;

    // Killed, it sent no leave: its instance id stays taken (UNRELEASED_INSTANCE_ID) and its partitions stay its own.
    const secondChanges = second.assignments.length;
    await first.kill();
    const restarted = run.start('platformatic-consumer', 'static-1');
    const refusal = await waitFor('the new incarnation to be refused', () => restarted.errors.find((text) => /UNRELEASED_INSTANCE_ID/.test(text)), WAIT_MS);
    const refusedAfterMs = Date.now() - first.killedAt!;
    t.diagnostic(`refused ${refusedAfterMs} ms after the kill: ${refusal.slice(0, 200)}`);
    const meanwhile = await describeConsumerGroup(broker.bootstrapServers, run.groupId);
    if (refusedAfterMs < sessionTimeoutMs - 2_000) {
      assert.ok(meanwhile.members.some((member) => member.memberId === firstMemberId), 'the killed static member is still in the group');
      assert.equal(second.assignments.length, secondChanges, 'the other member did not get its partitions yet');
    }
    await restarted.exited;

    // Its session expires: the other member takes everything; the instance id is free again.
    await waitForEvenSpread([second]);
    const expiredAfterMs = Date.now() - first.killedAt!;
    assert.ok(expiredAfterMs >= sessionTimeoutMs - HEARTBEAT_INTERVAL_MS - 500, `the static member's partitions moved only after its session timeout (${expiredAfterMs} ms)`);
    const back = run.start('platformatic-consumer', 'static-1');
    await waitForEvenSpread([back, second]);
    await setup.produceRound(2);
    await waitFor('round 2 processed', () => (everyRecordProcessed(run.members, 2 * PER_ROUND) ? true : undefined), WAIT_MS);
    t.diagnostic(`partitions moved ${expiredAfterMs} ms after the kill (session timeout ${sessionTimeoutMs} ms); static-1 came back`);
  } catch (error) {
    throw withMemberLogs(error, run.members);
  } finally {
    for (const member of run.members) await member.kill();
    await setup.close();
    await broker.close();
  }
});

/** The group's state and type as ListGroups v5 lists it. */
async function listedGroup(address: string, groupId: string): Promise<{ groupState?: string; groupType?: string } | undefined> {
  const connection = await KafkaConnection.open(connectTcp, address, 'group-compat-list', { connectTimeoutMs: 5_000, requestTimeoutMs: 10_000 });
  try {
    const response = await connection.send(ListGroupsApi, 5, { statesFilter: [], typesFilter: [] });
    const group = response.groups.find((entry) => entry.groupId === groupId);
    return group === undefined ? undefined : { groupState: group.groupState, groupType: group.groupType };
  } finally {
    connection.close();
  }
}

async function producerFor(broker: TestBroker, topic: string) {
  const producer = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  return {
    produceRound: async (round: number) => {
      const messages = [];
      for (let partition = 0; partition < PARTITIONS; partition++) {
        for (let index = 0; index < PER_ROUND; index++) messages.push({ partition, value: `r${round}-p${partition}-${index}` });
      }
      await producer.send({ topic, messages });
    },
    close: () => producer.disconnect(),
  };
}

test('consumer protocol: a classic member is served inside a consumer group; with the migration policy disabled a consumer member is refused by a classic group', { timeout: 120_000 }, async (t) => {
  if (!(await requireClient(t, 'platformatic'))) return;
  const broker = await startTestBroker({ ...CONSUMER_GROUP_CONFIG, 'group.consumer.migration.policy': 'disabled' });
  const consumerRun = groupRun(broker, 'mixed-848', 'consumer-group-848');
  const classicRun = groupRun(broker, 'mixed-classic', 'classic-group-848');
  const setup = await createTopicAndProducer(broker, consumerRun.topic);
  const classicSetup = await createTopicAndProducer(broker, classicRun.topic);
  try {
    await setup.produceRound(1);
    await classicSetup.produceRound(1);
    const consumerMember = consumerRun.start('platformatic-consumer');
    const classicMember = classicRun.start('platformatic');
    await waitForEvenSpread([consumerMember]);
    await waitForEvenSpread([classicMember]);

    // JoinGroup on a consumer group with members: the classic member is served inside it (Kafka 4.0).
    const joiner = consumerRun.start('platformatic');
    t.diagnostic(`a classic member in the consumer group: ${JSON.stringify(await waitForEvenSpread([consumerMember, joiner]))}`);
    const described = await describeConsumerGroup(broker.bootstrapServers, consumerRun.groupId, 1);
    assert.deepEqual(described.members.map((member) => member.memberType).sort(), [0, 1], 'one classic member, one consumer-protocol member');
    // ConsumerGroupHeartbeat on a classic group with members, the upgrade disabled: GROUP_ID_NOT_FOUND (Kafka 4).
    const heartbeatIntruder = classicRun.start('platformatic-consumer');
    const heartbeatError = await waitFor('the consumer member to be refused', () => heartbeatIntruder.errors.find((text) => /GROUP_ID_NOT_FOUND/.test(text)), WAIT_MS);
    t.diagnostic(`consumer member on the classic group: ${heartbeatError}`);
    await heartbeatIntruder.exited;
    assert.deepEqual(heartbeatIntruder.assignments, [], 'the consumer member never got a partition');

    // Both groups consume the next round: the consumer group with both its members, the classic group undisturbed.
    await setup.produceRound(2);
    await classicSetup.produceRound(2);
    await waitFor('the consumer group to process round 2', () => (everyRecordProcessed([consumerMember, joiner], 2 * PER_ROUND) ? true : undefined), WAIT_MS);
    await waitFor('the classic group to process round 2', () => (everyRecordProcessed([classicMember], 2 * PER_ROUND) ? true : undefined), WAIT_MS);
    assert.equal(classicMember.assignments.length, 1, 'the classic group did not rebalance');
    assert.deepEqual(ownershipOverlaps([consumerMember, joiner]), [], 'no partition owned by both members at once');
  } catch (error) {
    throw withMemberLogs(error, [...consumerRun.members, ...classicRun.members]);
  } finally {
    for (const member of [...consumerRun.members, ...classicRun.members]) await member.kill();
    await setup.close();
    await classicSetup.close();
    await broker.close();
  }
});

test('consumer protocol: an empty classic group taken over by consumer members resumes at its offsets, and back', { timeout: 120_000 }, async (t) => {
  if (!(await requireClient(t, 'platformatic'))) return;
  const broker = await startTestBroker(CONSUMER_GROUP_CONFIG);
  const run = groupRun(broker, 'switch-848', 'switch-group-848');
  const setup = await createTopicAndProducer(broker, run.topic);
  /** One generation of the group: `client` members process round `round` from where the last left off, commit it all and leave. */
  const generation = async (client: MemberClient, round: number) => {
    await setup.produceRound(round);
    const members = [run.start(client), run.start(client)];
    await waitForEvenSpread(members);
    await waitFor(`${client} members to process round ${round}`, () => (everyRecordProcessed(members, round * PER_ROUND, (round - 1) * PER_ROUND) ? true : undefined), WAIT_MS);
    for (const [partition, offsets] of consumedOffsets(members)) assert.equal(Math.min(...offsets), (round - 1) * PER_ROUND, `${client}: partition ${partition} resumed at the committed offset`);
    await waitForCommitted(setup.admin, run.groupId, run.topic, round * PER_ROUND);
    for (const member of members) await member.stop();
    // ListGroups v5: the empty group keeps the type of the protocol its last members spoke.
    const listed = await listedGroup(broker.bootstrapServers, run.groupId);
    assert.deepEqual(listed, { groupState: 'Empty', groupType: client === 'platformatic' ? 'classic' : 'consumer' }, `the group after ${client} members left`);
  };
  try {
    await generation('platformatic', 1);
    await generation('platformatic-consumer', 2);
    const described = await describeConsumerGroup(broker.bootstrapServers, run.groupId);
    assert.equal(described.groupState, 'Empty', 'the consumer group is empty once its members left');
    await generation('platformatic', 3);
    const [offsets] = await setup.admin.fetchOffsets({ groupId: run.groupId, topics: [run.topic] });
    assert.deepEqual(offsets!.partitions.map((partition) => Number(partition.offset)), Array(PARTITIONS).fill(3 * PER_ROUND));
  } catch (error) {
    throw withMemberLogs(error, run.members);
  } finally {
    for (const member of run.members) await member.kill();
    await setup.close();
    await broker.close();
  }
});
