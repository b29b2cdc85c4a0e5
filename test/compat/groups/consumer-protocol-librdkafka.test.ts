// librdkafka 2.15 (@confluentinc/kafka-javascript, group.protocol=consumer) in KIP-848 consumer
// groups against one Conveyor broker, with the checks of consumer-protocol.test.ts:
//   - members join one by one and the partitions spread evenly; one is killed (its partitions move
//     after the broker's session timeout), one leaves; no partition is ever owned by two members at
//     once (the members' timed reports and ConsumerGroupDescribe polled meanwhile); every record is
//     processed and committed, twice only if the killed member never saw its commit acknowledged.
//   - a regular-expression subscription ('^orders-.*', resolved by the broker): a topic created while
//     the members run is assigned and consumed without restarting them; a topic not matching is not.
//   - a static member (group.instance.id) closed cleanly leaves with member epoch -2 and keeps its
//     partitions; a new process with the same instance id gets them back with the group epoch
//     unchanged and the other member's assignment untouched.
//   - a mixed group: a platformatic member and a librdkafka member share the partitions and consume everything.
// The members are child processes (librdkafka-member.ts, platformatic-member.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestBroker } from '../../support/broker.js';
import { requireClient } from '../../support/clients.js';
import { waitFor } from '../../support/wait.js';
import { GROUP_TEST_CONFIG, createTopicAndProducer } from './group-scenario.js';
import {
  GROUP_PARTITIONS as PARTITIONS,
  GROUP_WAIT_MS as WAIT_MS,
  type GroupMember,
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
const PER_ROUND = 5;
const CONSUMER_GROUP_CONFIG = { ...GROUP_TEST_CONFIG, ...consumerGroupSettings(SESSION_TIMEOUT_MS, HEARTBEAT_INTERVAL_MS) };

test('librdkafka consumer protocol: members join one by one, one is killed, one leaves', { timeout: 90_000 }, async (t) => {
  if (!(await requireClient(t, 'librdkafka-js'))) return;
  const broker = await startTestBroker(CONSUMER_GROUP_CONFIG);
  const run = groupRun(broker, 'rdk-848', 'rdk-group-848');
  const setup = await createTopicAndProducer(broker, run.topic);
  const watcher = watchDescribedOwnership(broker.bootstrapServers, run.groupId, run.topic);
  try {
    await setup.produceRound(1);
    const joined: GroupMember[] = [];
    for (let count = 1; count <= 3; count++) {
      joined.push(run.start('librdkafka-consumer'));
      t.diagnostic(`${count} member(s): ${JSON.stringify(await waitForEvenSpread(joined))}`);
    }
    const [killed, leaver, last] = joined as [GroupMember, GroupMember, GroupMember];
    const settled = await waitForSettled(broker.bootstrapServers, run.groupId, run.topic, 3);
    assert.equal(settled.assignmentEpoch, settled.groupEpoch, 'the target assignment is the group epoch');
    for (const member of settled.members) assert.equal(member.memberEpoch, settled.groupEpoch, `member ${member.memberId} is at the group's epoch`);
    const described = settled.members.map((member) => describedPartitions(member.assignment, run.topic)).sort();
    assert.deepEqual(described, joined.map((member) => member.currentAssignment!).sort(), 'the broker and the members agree on who owns what');

    await setup.produceRound(2);
    await killed.kill();
    await waitForEvenSpread([leaver, last]);
    const afterKillMs = Date.now() - killed.killedAt!;
    assert.ok(afterKillMs >= SESSION_TIMEOUT_MS - HEARTBEAT_INTERVAL_MS - 500, `the killed member's partitions move only after the session timeout (moved after ${afterKillMs} ms)`);
    t.diagnostic(`partitions of the killed member reassigned ${afterKillMs} ms after the kill`);

    await leaver.stop();
    const afterLeave = await describeConsumerGroup(broker.bootstrapServers, run.groupId);
    assert.equal(afterLeave.members.length, 1, 'the member that left (epoch -1) is no longer in the group');
    await waitForEvenSpread([last]);

    await setup.produceRound(3);
    await waitFor('every produced record processed', () => (everyRecordProcessed(run.members, 3 * PER_ROUND) ? true : undefined), WAIT_MS);
    await waitForCommitted(setup.admin, run.groupId, run.topic, 3 * PER_ROUND);
    await last.stop();
    await watcher.stop();

    assert.deepEqual(watcher.overlaps, [], `ConsumerGroupDescribe never showed a partition in two members at once\n${watcher.history.join('\n')}`);
    assert.ok(watcher.polls > 10, `ConsumerGroupDescribe polled while members came and went (${watcher.polls} answers)`);
    assert.deepEqual(ownershipOverlaps(run.members), [], 'no partition owned by two members at once');
    const duplicates = duplicateRecords(run.members);
    const unacknowledgedByKilled = new Set(killed.processed.filter(([partition, offset]) => !killed.acknowledged.get(partition)?.has(offset)).map(([partition, offset]) => `${partition}:${offset}`));
    for (const record of duplicates.keys()) assert.ok(unacknowledgedByKilled.has(record), `record ${record} processed twice, though the killed member did not leave it uncommitted`);
    t.diagnostic(`records processed twice: ${duplicates.size}; processed but unacknowledged by the killed member: ${unacknowledgedByKilled.size}`);
  } catch (error) {
    throw withMemberLogs(error, run.members);
  } finally {
    await watcher.stop();
    for (const member of run.members) await member.kill();
    await setup.close();
    await broker.close();
  }
});

/** topic -> partitions the members own together now (members subscribed to a regex). */
function ownedByTopic(members: readonly GroupMember[]): Map<string, number[]> {
  const owned = new Map<string, number[]>();
  for (const member of members) {
    for (const [topic, partitions] of Object.entries(member.topicAssignments.at(-1) ?? {})) owned.set(topic, [...(owned.get(topic) ?? []), ...partitions].sort((a, b) => a - b));
  }
  return owned;
}

/** Every offset below `to` of every partition of `topic` processed by some member. */
function topicProcessed(members: readonly GroupMember[], topic: string, to: number): boolean {
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (let offset = 0; offset < to; offset++) if (!members.some((member) => member.recordsByTopic.get(topic)?.has(`${partition}:${offset}`))) return false;
  }
  return true;
}

test('librdkafka consumer protocol: a regex subscription picks up a topic created while the members run', { timeout: 60_000 }, async (t) => {
  if (!(await requireClient(t, 'librdkafka-js'))) return;
  const broker = await startTestBroker(CONSUMER_GROUP_CONFIG);
  const run = groupRun(broker, '^orders-.*', 'rdk-regex-848');
  const first = await createTopicAndProducer(broker, 'orders-a');
  const other = await createTopicAndProducer(broker, 'other');
  let second: Awaited<ReturnType<typeof createTopicAndProducer>> | undefined;
  const all = Array.from({ length: PARTITIONS }, (_, partition) => partition);
  try {
    await first.produceRound(1);
    await other.produceRound(1);
    const members = [run.start('librdkafka-consumer'), run.start('librdkafka-consumer')];
    await waitFor('orders-a assigned', () => (JSON.stringify(ownedByTopic(members).get('orders-a')) === JSON.stringify(all) ? true : undefined), WAIT_MS);
    await waitFor('orders-a consumed', () => (topicProcessed(members, 'orders-a', PER_ROUND) ? true : undefined), WAIT_MS);

    // Created while the members run: the broker resolves the regex again and assigns it.
    second = await createTopicAndProducer(broker, 'orders-b');
    await second.produceRound(1);
    const createdAt = Date.now();
    await waitFor('orders-b assigned', () => (JSON.stringify(ownedByTopic(members).get('orders-b')) === JSON.stringify(all) ? true : undefined), WAIT_MS);
    t.diagnostic(`orders-b assigned ${Date.now() - createdAt} ms after it was created: ${JSON.stringify(members.map((member) => member.topicAssignments.at(-1)))}`);
    await waitFor('orders-b consumed', () => (topicProcessed(members, 'orders-b', PER_ROUND) ? true : undefined), WAIT_MS);
    assert.deepEqual(ownedByTopic(members).get('orders-a'), all, 'orders-a is still assigned');
    const described = await describeConsumerGroup(broker.bootstrapServers, run.groupId);
    // librdkafka joins its regular expressions into one, each in parentheses.
    assert.deepEqual(described.members.map((member) => member.subscribedTopicRegex), ['(^orders-.*)', '(^orders-.*)'], 'the broker shows the regex each member subscribed with');

    await other.produceRound(2);
    await first.produceRound(2);
    await waitFor('orders-a round 2 consumed', () => (topicProcessed(members, 'orders-a', 2 * PER_ROUND) ? true : undefined), WAIT_MS);
    for (const member of members) {
      assert.ok(member.topicAssignments.every((topics) => topics.other === undefined), 'the topic not matching is never assigned');
      assert.equal(member.recordsByTopic.get('other'), undefined, 'the topic not matching is never consumed');
    }
  } catch (error) {
    throw withMemberLogs(error, run.members);
  } finally {
    for (const member of run.members) await member.kill();
    await first.close();
    await other.close();
    await second?.close();
    await broker.close();
  }
});

test('librdkafka consumer protocol: a static member closed (epoch -2) comes back to the same partitions, group epoch unchanged', { timeout: 60_000 }, async (t) => {
  if (!(await requireClient(t, 'librdkafka-js'))) return;
  // Long enough for the new process to start and rejoin before the closed member's session expires.
  const sessionTimeoutMs = 20_000;
  const broker = await startTestBroker({ ...CONSUMER_GROUP_CONFIG, 'group.consumer.session.timeout.ms': sessionTimeoutMs });
  const run = groupRun(broker, 'rdk-static-848', 'rdk-static-group-848');
  const setup = await createTopicAndProducer(broker, run.topic);
  try {
    await setup.produceRound(1);
    const hostA = run.start('librdkafka-consumer', 'host-a');
    const hostB = run.start('librdkafka-consumer', 'host-b');
    await waitForEvenSpread([hostA, hostB]);
    const before = await waitForSettled(broker.bootstrapServers, run.groupId, run.topic, 2);
    assert.deepEqual(before.members.map((member) => member.instanceId).sort(), ['host-a', 'host-b']);
    const partitionsOf = (group: typeof before, instanceId: string) => describedPartitions(group.members.find((member) => member.instanceId === instanceId)!.assignment, run.topic);
    const hostBChanges = hostB.assignments.length;

    await hostA.stop();
    const closedAt = Date.now();
    const meanwhile = await describeConsumerGroup(broker.bootstrapServers, run.groupId);
    assert.ok(meanwhile.members.some((member) => member.instanceId === 'host-a'), 'the static member that left with -2 is still in the group');
    assert.deepEqual(partitionsOf(meanwhile, 'host-a'), partitionsOf(before, 'host-a'), 'the static member that left with -2 keeps its partitions');
    assert.equal(meanwhile.groupEpoch, before.groupEpoch, 'its leave did not bump the group epoch');

    const back = run.start('librdkafka-consumer', 'host-a');
    await waitFor('host-a back with its partitions', () => (JSON.stringify(back.currentAssignment) === JSON.stringify(partitionsOf(before, 'host-a')) ? true : undefined), WAIT_MS);
    t.diagnostic(`host-a back ${Date.now() - closedAt} ms after it closed (session timeout ${sessionTimeoutMs} ms)`);
    const after = await waitForSettled(broker.bootstrapServers, run.groupId, run.topic, 2);
    assert.equal(after.groupEpoch, before.groupEpoch, 'the group epoch is unchanged');
    assert.deepEqual(partitionsOf(after, 'host-a'), partitionsOf(before, 'host-a'));
    assert.deepEqual(partitionsOf(after, 'host-b'), partitionsOf(before, 'host-b'));
    assert.equal(hostB.assignments.length, hostBChanges, "the other member's assignment did not change");

    await setup.produceRound(2);
    await waitFor('round 2 processed', () => (everyRecordProcessed(run.members, 2 * PER_ROUND) ? true : undefined), WAIT_MS);
    assert.deepEqual([...back.committed.keys()].sort(), partitionsOf(before, 'host-a'), 'the new incarnation consumed its own partitions');
  } catch (error) {
    throw withMemberLogs(error, run.members);
  } finally {
    for (const member of run.members) await member.kill();
    await setup.close();
    await broker.close();
  }
});

test('librdkafka consumer protocol: a platformatic member and a librdkafka member share one group', { timeout: 60_000 }, async (t) => {
  if (!(await requireClient(t, 'librdkafka-js'))) return;
  if (!(await requireClient(t, 'platformatic'))) return;
  const broker = await startTestBroker(CONSUMER_GROUP_CONFIG);
  const run = groupRun(broker, 'rdk-mixed-848', 'rdk-mixed-group-848');
  const setup = await createTopicAndProducer(broker, run.topic);
  try {
    await setup.produceRound(1);
    const platformatic = run.start('platformatic-consumer');
    const librdkafka = run.start('librdkafka-consumer');
    const spread = await waitForEvenSpread([platformatic, librdkafka]);
    t.diagnostic(`platformatic ${JSON.stringify(spread[0])}, librdkafka ${JSON.stringify(spread[1])}`);
    const settled = await waitForSettled(broker.bootstrapServers, run.groupId, run.topic, 2);
    const byClient = Object.fromEntries(settled.members.map((member) => [member.clientId, describedPartitions(member.assignment, run.topic)]));
    assert.deepEqual(byClient, { [`platformatic-${run.groupId}`]: spread[0], [`librdkafka-${run.groupId}`]: spread[1] }, 'the broker sees both clients in one group, with the partitions each reports');
    await setup.produceRound(2);
    await waitFor('every record processed', () => (everyRecordProcessed(run.members, 2 * PER_ROUND) ? true : undefined), WAIT_MS);
    await waitForCommitted(setup.admin, run.groupId, run.topic, 2 * PER_ROUND);
    assert.deepEqual(ownershipOverlaps(run.members), [], 'no partition owned by two members at once');
    assert.deepEqual([...duplicateRecords(run.members).keys()], [], 'no record processed twice');
  } catch (error) {
    throw withMemberLogs(error, run.members);
  } finally {
    for (const member of run.members) await member.kill();
    await setup.close();
    await broker.close();
  }
});
