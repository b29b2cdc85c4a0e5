// The consumer-group scenario every client runs: three members share six partitions, a fourth
// joins, one is killed (its partitions move after the session timeout), one leaves (they move at
// once), every record is processed and committed at least once, and a member started after a
// broker restart resumes exactly at the committed offsets. How long each reassignment took is
// reported, not asserted: "at once" is checked without a stopwatch, by giving the member that
// leaves a session timeout longer than the whole wait for its partitions to move.
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { type TestBroker, startTestBroker } from '../../support/broker.js';
import { waitFor } from '../../support/wait.js';
import { GroupMember, type MemberClient, consumedOffsets, waitForCoverage } from './group-members.js';

export const SESSION_TIMEOUT_MS = 6_000;
/** The member that leaves: its session could not expire within REASSIGNMENT_DEADLINE_MS. */
const LEAVER_SESSION_TIMEOUT_MS = 120_000;
/** Generous for a loaded machine (a reassignment takes about a second), and below the leaver's session timeout. */
const REASSIGNMENT_DEADLINE_MS = 45_000;
const PARTITIONS = 6;
const PER_ROUND = 5;

/** Broker settings for fast group tests: no initial rebalance delay, short sessions allowed. */
export const GROUP_TEST_CONFIG = { 'group.initial.rebalance.delay.ms': 0, 'group.min.session.timeout.ms': 1_000, 'offsets.topic.num.partitions': 5 };

export async function createTopicAndProducer(broker: TestBroker, topic: string) {
  const kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  const producer = kafka.producer();
  await producer.connect();
  const produceRound = async (round: number) => {
    const messages = [];
    for (let partition = 0; partition < PARTITIONS; partition++) {
      for (let index = 0; index < PER_ROUND; index++) messages.push({ partition, value: `r${round}-p${partition}-${index}` });
    }
    await producer.send({ topic, messages });
  };
  const close = async () => {
    await producer.disconnect();
    await admin.disconnect();
  };
  return { admin, produceRound, close };
}

/** `report` receives the measured reassignment times (figures for the test's output, not assertions). */
export async function runGroupScenario(client: MemberClient, assignors = 'range', report: (line: string) => void = () => {}): Promise<void> {
  const broker = await startTestBroker(GROUP_TEST_CONFIG);
  const topic = `orders-${client}`;
  const groupId = `group-${client}`;
  const members: GroupMember[] = [];
  const start = (sessionTimeoutMs = SESSION_TIMEOUT_MS) => {
    const member = GroupMember.start(client, { bootstrapServers: broker.bootstrapServers, topic, groupId, sessionTimeoutMs, assignors });
    members.push(member);
    return member;
  };
  const setup = await createTopicAndProducer(broker, topic);
  try {
    await setup.produceRound(1);
    const [first, second, third] = [start(), start(LEAVER_SESSION_TIMEOUT_MS), start()];
    await waitForCoverage([first!, second!, third!], PARTITIONS, 45_000);
    const fourth = start();
    await waitForCoverage([first!, second!, third!, fourth], PARTITIONS, 45_000);

    await setup.produceRound(2);
    await first!.kill();
    const killedAt = Date.now();
    await waitForCoverage([second!, third!, fourth], PARTITIONS, REASSIGNMENT_DEADLINE_MS);
    const afterKillMs = Date.now() - killedAt;
    // A lower bound: a slow machine only makes it longer. Heartbeats every 500 ms, so the session
    // of the killed member started at most that long before the kill.
    assert.ok(afterKillMs >= SESSION_TIMEOUT_MS - 1_500, `partitions of a killed member move only after its session timeout (moved after ${afterKillMs} ms)`);
    report(`${client}: partitions of the killed member reassigned ${afterKillMs} ms after the kill (session timeout ${SESSION_TIMEOUT_MS} ms)`);

    // The leaver's session timeout is longer than this wait: only its LeaveGroup can move its
    // partitions in time, however slow the machine.
    await second!.stop();
    const leftAt = Date.now();
    await waitForCoverage([third!, fourth], PARTITIONS, REASSIGNMENT_DEADLINE_MS);
    report(`${client}: partitions of the member that left reassigned ${Date.now() - leftAt} ms after it stopped (its session timeout ${LEAVER_SESSION_TIMEOUT_MS} ms)`);

    await setup.produceRound(3);
    await waitFor('every produced record processed and committed', () => (everyRecordConsumed(members, 3 * PER_ROUND) ? true : undefined), 45_000);
    await third!.stop();
    await fourth.stop();
    await checkCommittedAtEnd(setup.admin, groupId, topic, 3 * PER_ROUND);

    // Restart the broker; a new member must resume exactly at the committed offsets.
    await setup.close();
    await broker.restart();
    const after = await createTopicAndProducerAgain(broker, topic);
    await after.produceRound(4);
    const resumed = start();
    await waitFor('the resumed member to process round 4', () => (everyRecordConsumed([resumed], 4 * PER_ROUND, 3 * PER_ROUND) ? true : undefined), 45_000);
    for (const [partition, offsets] of resumed.committed) {
      assert.equal(Math.min(...offsets), 3 * PER_ROUND, `partition ${partition} resumed at the committed offset`);
    }
    await resumed.stop();
    await after.close();
  } catch (error) {
    const logs = members.map((member, index) => `member ${index}: assignments ${JSON.stringify(member.assignments)} errors ${JSON.stringify(member.errors)}\n${member.output}`).join('\n');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`);
  } finally {
    for (const member of members) await member.kill();
    await broker.close();
  }
}

async function createTopicAndProducerAgain(broker: TestBroker, topic: string) {
  const kafka = new Kafka({ brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
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

function everyRecordConsumed(members: readonly GroupMember[], endOffset: number, fromOffset = 0): boolean {
  const union = consumedOffsets(members);
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const offsets = union.get(partition);
    for (let offset = fromOffset; offset < endOffset; offset++) if (!offsets?.has(offset)) return false;
  }
  return true;
}

async function checkCommittedAtEnd(admin: ReturnType<Kafka['admin']>, groupId: string, topic: string, endOffset: number): Promise<void> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  for (const partition of committed!.partitions) {
    assert.equal(Number(partition.offset), endOffset, `committed offset of partition ${partition.partition}`);
  }
}
