// Kafka 4.0's online migration with real clients (librdkafka 2.15 through
// @confluentinc/kafka-javascript, each member its own process): a running group of classic
// librdkafka members (eager range, or cooperative-sticky) is joined by a librdkafka member with
// group.protocol=consumer. The group becomes a consumer group in place: the classic members stay,
// keep consuming, and are shown as classic members by ConsumerGroupDescribe; the partitions spread
// over all three. When the consumer-protocol member leaves, the group goes back to a classic group
// and the classic members share everything again. Throughout, every record is processed and
// committed, no partition is owned by two members at once, and a record is processed twice only
// if its first processor never saw the commit of it acknowledged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestBroker } from '../../support/broker.js';
import { requireClient } from '../../support/clients.js';
import { waitFor } from '../../support/wait.js';
import { GROUP_TEST_CONFIG, createTopicAndProducer } from './group-scenario.js';
import {
  GROUP_WAIT_MS as WAIT_MS,
  type GroupMember,
  consumerGroupSettings,
  describeConsumerGroup,
  duplicateRecords,
  everyRecordProcessed,
  groupRun,
  ownershipOverlaps,
  waitForCommitted,
  waitForEvenSpread,
  withMemberLogs,
} from './group-members.js';

const PER_ROUND = 5;
const CLASSIC_MEMBER_TYPE = 0;
const CONSUMER_MEMBER_TYPE = 1;
const CONFIG = { ...GROUP_TEST_CONFIG, ...consumerGroupSettings(6_000, 500) };

for (const assignor of ['', 'cooperative-sticky']) {
  const label = assignor === '' ? 'eager range' : assignor;
  test(`online migration: a consumer-protocol member joins and leaves a group of classic librdkafka members (${label})`, { timeout: 120_000 }, async (t) => {
    if (!(await requireClient(t, 'librdkafka-js'))) return;
    const broker = await startTestBroker(CONFIG);
    const suffix = assignor === '' ? 'eager' : 'coop';
    const run = groupRun(broker, `migrate-${suffix}`, `migrate-group-${suffix}`);
    const setup = await createTopicAndProducer(broker, run.topic);
    try {
      // Records come once the classic group has formed: when the second member joins, an eager
      // librdkafka member reports commits done that never reach the coordinator (seen here: no
      // OffsetCommit in that generation), so it would re-read them; that is the client, before any migration.
      const classicA = run.start('librdkafka-classic', undefined, assignor);
      const classicB = run.start('librdkafka-classic', undefined, assignor);
      t.diagnostic(`classic group: ${JSON.stringify(await waitForEvenSpread([classicA, classicB]))}`);
      await setup.produceRound(1);
      assert.notEqual((await describeConsumerGroup(broker.bootstrapServers, run.groupId)).errorCode, 0, 'a classic group is not described as a consumer group');
      await waitFor('round 1 processed', () => (everyRecordProcessed(run.members, PER_ROUND) ? true : undefined), WAIT_MS);

      // The upgrade: the group becomes a consumer group with its classic members in it.
      const modern = run.start('librdkafka-consumer');
      t.diagnostic(`after the upgrade: ${JSON.stringify(await waitForEvenSpread([classicA, classicB, modern]))}`);
      const upgraded = await describeConsumerGroup(broker.bootstrapServers, run.groupId, 1);
      assert.equal(upgraded.errorCode, 0);
      assert.deepEqual(upgraded.members.map((member) => member.memberType).sort(), [CLASSIC_MEMBER_TYPE, CLASSIC_MEMBER_TYPE, CONSUMER_MEMBER_TYPE]);
      await setup.produceRound(2);
      await waitFor('round 2 processed', () => (everyRecordProcessed(run.members, 2 * PER_ROUND) ? true : undefined), WAIT_MS);

      // The downgrade: the consumer-protocol member leaves; the classic members take everything back.
      await modern.stop();
      t.diagnostic(`after the downgrade: ${JSON.stringify(await waitForEvenSpread([classicA, classicB]))}`);
      const [described] = (await setup.admin.describeGroups([run.groupId])).groups;
      assert.equal(described!.state, 'Stable');
      assert.equal(described!.protocolType, 'consumer');
      assert.equal(described!.members.length, 2, 'DescribeGroups describes it as a classic group again');
      await setup.produceRound(3);
      await waitFor('round 3 processed', () => (everyRecordProcessed(run.members, 3 * PER_ROUND) ? true : undefined), WAIT_MS);
      await waitForCommitted(setup.admin, run.groupId, run.topic, 3 * PER_ROUND);

      assert.deepEqual(ownershipOverlaps(run.members), [], 'no partition owned by two members at once');
      const unacknowledged = new Set(run.members.flatMap((member) => member.processed.filter(([partition, offset]) => !member.acknowledged.get(partition)?.has(offset)).map(([partition, offset]) => `${partition}:${offset}`)));
      const duplicates = [...duplicateRecords(run.members).keys()];
      for (const record of duplicates) assert.ok(unacknowledged.has(record), `record ${record} processed twice though its commit was acknowledged`);
      t.diagnostic(`records processed twice: ${duplicates.length}`);
    } catch (error) {
      throw withMemberLogs(error, run.members as GroupMember[]);
    } finally {
      for (const member of run.members) await member.kill();
      await setup.close();
      await broker.close();
    }
  });
}
