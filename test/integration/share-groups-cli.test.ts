// `conveyor groups` and a KIP-932 share group against a real broker: a member speaking the share
// RPCs itself (ShareGroupHeartbeat v1, ShareFetch v1, ShareAcknowledge v1) fetches records without
// acknowledging them; the group is listed with type share, and described with its state, epochs,
// member (id, client id, host, assignment) and, per share-partition, START-OFFSET and LAG
// (DescribeShareGroupOffsets v1): the fetched records count in the lag while in flight, and leave it
// once accepted. DescribeShareGroupOffsets is also checked on the wire, and its authorization with
// Kafka's StandardAuthorizer (DESCRIBE on the group, then DESCRIBE on each topic), and
// DeleteShareGroupOffsets of an empty share group.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../../src/base/error-codes.js';
import { DeleteShareGroupOffsetsApi, DescribeShareGroupOffsetsApi, ShareAcknowledgeApi, ShareFetchApi, type ShareFetchResponse, ShareGroupHeartbeatApi } from '../../src/protocol/messages/index.js';
import { AclOperation, AclResourceType, AuthorizedBroker } from '../support/authorized-broker.js';
import { runChecked, runProcess } from '../support/process.js';
import type { RawClient } from '../support/raw-client.js';
import { type TestBroker, batchOf, createTopic, metadata, produceOk, startTestBroker, waitFor } from './helpers.js';

const ACCEPT = 1;
const TOPIC = 'share-cli-topic';
const GROUP = 'share-cli-group';
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

function conveyor(args: string[]) {
  const script = `import(${JSON.stringify(main)}).then((cli) => cli.run(['node', 'conveyor', ...process.argv.slice(1)]))`;
  return [process.execPath, ['--import', 'tsx', '--eval', script, ...args]] as [string, string[]];
}


/** One share group member over one connection: joins, fetches and acknowledges partition 0. */
class Member {
  readonly memberId = randomUUID().replaceAll('-', '').slice(0, 22);
  epoch = 0;
  sessionEpoch = 0;
  constructor(
    readonly client: RawClient,
    readonly topicId: string,
    readonly groupId = GROUP,
  ) {}

  async leave(): Promise<void> {
    const response = await this.client.request(ShareGroupHeartbeatApi, 1, { groupId: this.groupId, memberId: this.memberId, memberEpoch: -1, rackId: null, subscribedTopicNames: null });
    assert.equal(response.errorCode, ErrorCode.NONE);
  }

  async joined(): Promise<void> {
    await waitFor(async () => {
      const response = await this.client.request(ShareGroupHeartbeatApi, 1, { groupId: this.groupId, memberId: this.memberId, memberEpoch: this.epoch, rackId: null, subscribedTopicNames: this.epoch === 0 ? [TOPIC] : null });
      assert.equal(response.errorCode, ErrorCode.NONE, response.errorMessage ?? '');
      this.epoch = response.memberEpoch;
      return response.assignment?.topicPartitions.some((entry) => entry.topicId === this.topicId && entry.partitions.includes(0));
    }, 'member assigned partition 0');
  }

  async fetch(maxWaitMs = 200): Promise<ShareFetchResponse> {
    const response = await this.client.request(ShareFetchApi, 1, {
      groupId: this.groupId,
      memberId: this.memberId,
      shareSessionEpoch: this.sessionEpoch,
      maxWaitMs,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxRecords: 500,
      batchSize: 500,
      topics: [{ topicId: this.topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }],
      forgottenTopicsData: [],
    });
    assert.equal(response.errorCode, ErrorCode.NONE, response.errorMessage ?? '');
    this.sessionEpoch++;
    return response;
  }

  /** The acquired offset ranges of the next fetch that acquires any. */
  async acquire(): Promise<[number, number][]> {
    return waitFor(async () => {
      const ranges = (await this.fetch()).responses.flatMap((topic) => topic.partitions.flatMap((partition) => partition.acquiredRecords));
      return ranges.length > 0 ? ranges.map((range): [number, number] => [Number(range.firstOffset), Number(range.lastOffset)]) : undefined;
    }, 'records acquired');
  }

  async accept(firstOffset: number, lastOffset: number): Promise<void> {
    const response = await this.client.request(ShareAcknowledgeApi, 1, {
      groupId: this.groupId,
      memberId: this.memberId,
      shareSessionEpoch: this.sessionEpoch,
      topics: [{ topicId: this.topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [{ firstOffset: BigInt(firstOffset), lastOffset: BigInt(lastOffset), acknowledgeTypes: [ACCEPT] }] }] }],
    });
    assert.equal(response.errorCode, ErrorCode.NONE);
    assert.deepEqual(response.responses.flatMap((topic) => topic.partitions.map((partition) => partition.errorCode)), [ErrorCode.NONE]);
    this.sessionEpoch++;
  }
}

interface DescribedShareGroup {
  groupId: string;
  type: string;
  state: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignor: string;
  members: { memberId: string; clientId: string; host: string; memberEpoch: number; assignment: { topic: string; partitions: number[] }[] }[];
  offsets: { topic: string; partition: number; startOffset: number | null; lag: number | null; error: string | null }[];
}

describe('conveyor groups with a share group', () => {
  let broker: TestBroker;
  let server: string[];

  before(async () => {
    broker = await startTestBroker({ config: { 'group.share.min.heartbeat.interval.ms': 1000, 'group.share.heartbeat.interval.ms': 1000 } });
    server = ['--bootstrap-server', `${broker.running.host}:${broker.running.port}`];
  });

  after(async () => {
    await broker.close();
  });

  async function describeGroup(): Promise<DescribedShareGroup> {
    return JSON.parse((await runChecked(...conveyor(['groups', 'describe', GROUP, ...server, '--json']))).stdout) as DescribedShareGroup;
  }

  it('lists the share group, and describes its member and the records in flight as LAG until they are accepted', { timeout: 120_000 }, async () => {
    await createTopic(broker.client, TOPIC, 1);
    const topicId = (await metadata(broker.client, [TOPIC])).topics[0]!.topicId!;
    const member = new Member(await broker.connect(), topicId);
    await member.joined();
    // The first fetch loads the share-partition: share.auto.offset.reset is latest, so it starts at 0 here.
    await member.fetch(0);
    await produceOk(broker.client, TOPIC, 0, batchOf(['a', 'b', 'c']));
    assert.deepEqual(await member.acquire(), [[0, 2]]);

    const listed = JSON.parse((await runChecked(...conveyor(['groups', 'list', ...server, '--json']))).stdout);
    assert.deepEqual(listed, [{ groupId: GROUP, type: 'share', state: 'Stable', protocolType: 'share' }]);

    const inFlight = await describeGroup();
    assert.equal(inFlight.type, 'share');
    assert.equal(inFlight.state, 'Stable');
    assert.equal(inFlight.assignor, 'simple');
    assert.ok(inFlight.groupEpoch > 0 && inFlight.assignmentEpoch === inFlight.groupEpoch);
    assert.deepEqual(
      inFlight.members.map((entry) => [entry.memberId, entry.memberEpoch, entry.assignment]),
      [[member.memberId, member.epoch, [{ topic: TOPIC, partitions: [0] }]]],
    );
    assert.match(inFlight.members[0]!.host, /127\.0\.0\.1/);
    assert.deepEqual(inFlight.offsets, [{ topic: TOPIC, partition: 0, startOffset: 0, leaderEpoch: 0, lag: 3, error: null }]);

    const text = (await runChecked(...conveyor(['groups', 'describe', GROUP, ...server]))).stdout;
    assert.match(text, /GROUP share-cli-group {2}TYPE share {2}STATE Stable/);
    assert.match(text, /TOPIC\s+PARTITION\s+START-OFFSET\s+LAG\n/);
    assert.match(text, new RegExp(`${TOPIC}\\s+0\\s+0\\s+3\\n`));
    assert.match(text, /CONSUMER-ID\s+HOST\s+CLIENT-ID\s+#PARTITIONS\s+MEMBER-EPOCH\s+ASSIGNMENT/);
    assert.match(text, new RegExp(`${member.memberId}\\s+\\S*127\\.0\\.0\\.1\\s+\\S+\\s+1\\s+${member.epoch}\\s+${TOPIC}:0`));

    // Accepting two of the three: the start offset moves past them and one record is left in flight.
    await member.accept(0, 1);
    const accepted = await describeGroup();
    assert.deepEqual(accepted.offsets, [{ topic: TOPIC, partition: 0, startOffset: 2, leaderEpoch: 0, lag: 1, error: null }]);
    await member.accept(2, 2);
    // Records produced and not yet delivered count too.
    await produceOk(broker.client, TOPIC, 0, batchOf(['d', 'e']));
    assert.deepEqual((await describeGroup()).offsets, [{ topic: TOPIC, partition: 0, startOffset: 3, leaderEpoch: 0, lag: 2, error: null }]);
  });

  it('answers DescribeShareGroupOffsets v0 and v1 on the wire: named partitions, unknown topics, other groups', async () => {
    const response = await broker.client.request(DescribeShareGroupOffsetsApi, 1, {
      groups: [
        { groupId: GROUP, topics: [{ topicName: TOPIC, partitions: [0] }, { topicName: 'no-such-topic', partitions: [0] }] },
        { groupId: 'not-a-group', topics: null },
      ],
    });
    assert.deepEqual(response.groups[0]!.topics.map((topic) => [topic.topicName, topic.partitions.map((partition) => [partition.partitionIndex, partition.startOffset, partition.lag, partition.errorCode])]), [
      [TOPIC, [[0, 3n, 2n, ErrorCode.NONE]]],
      ['no-such-topic', [[0, -1n, -1n, ErrorCode.NONE]]],
    ]);
    assert.deepEqual(response.groups[1], { groupId: 'not-a-group', topics: [], errorCode: ErrorCode.NONE, errorMessage: null });
    const v0 = await broker.client.request(DescribeShareGroupOffsetsApi, 0, { groups: [{ groupId: GROUP, topics: null }] });
    assert.deepEqual(v0.groups[0]!.topics[0]!.partitions.map((partition) => [partition.startOffset, partition.lag ?? -1n]), [[3n, -1n]]);
  });

  it('DeleteShareGroupOffsets deletes the share-partition state of an empty share group only', async () => {
    const topicId = (await metadata(broker.client, [TOPIC])).topics[0]!.topicId!;
    const member = new Member(await broker.connect(), topicId, 'share-cli-delete');
    await member.joined();
    await member.fetch(0);
    const deleteOffsets = () => broker.client.request(DeleteShareGroupOffsetsApi, 0, { groupId: 'share-cli-delete', topics: [{ topicName: TOPIC }] });
    const offsets = async () => (await broker.client.request(DescribeShareGroupOffsetsApi, 1, { groups: [{ groupId: 'share-cli-delete', topics: null }] })).groups[0]!.topics.map((topic) => topic.topicName);
    assert.deepEqual(await offsets(), [TOPIC]);
    const refused = await deleteOffsets();
    assert.equal(refused.errorCode, ErrorCode.NON_EMPTY_GROUP);
    await member.leave();
    const deleted = await deleteOffsets();
    assert.deepEqual([deleted.errorCode, deleted.responses.map((topic) => [topic.topicName, topic.topicId, topic.errorCode])], [ErrorCode.NONE, [[TOPIC, topicId, ErrorCode.NONE]]]);
    assert.deepEqual(await offsets(), []);
    const missing = await broker.client.request(DeleteShareGroupOffsetsApi, 0, { groupId: 'no-such-group', topics: [{ topicName: TOPIC }] });
    assert.equal(missing.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });
});

describe('conveyor groups describe of a missing group', () => {
  for (const [name, config] of [
    ['with share groups', {}],
    ['on a broker without share groups (it closes connections asking for them)', { 'group.coordinator.rebalance.protocols': 'classic,consumer' }],
  ] as const) {
    it(`answers GROUP_ID_NOT_FOUND ${name}`, { timeout: 60_000 }, async () => {
      const broker = await startTestBroker({ config });
      try {
        const missing = await runProcess(...conveyor(['groups', 'describe', 'nobody', '--bootstrap-server', `${broker.running.host}:${broker.running.port}`]));
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, /describing nobody: GROUP_ID_NOT_FOUND/);
      } finally {
        await broker.close();
      }
    });
  }
});

describe('DescribeShareGroupOffsets and DeleteShareGroupOffsets authorize as Kafka', { timeout: 60_000 }, () => {
  let broker: AuthorizedBroker;
  before(async () => {
    broker = await AuthorizedBroker.start();
  });
  after(async () => {
    await broker.close();
  });

  it('needs DESCRIBE on the group; leaves out (all partitions) or refuses (named) topics without DESCRIBE; DeleteShareGroupOffsets needs DELETE on the group', async () => {
    const admin = await broker.raw('admin');
    const alice = await broker.raw('alice');
    try {
      for (const topic of ['az-share-a', 'az-share-b']) await createTopic(admin, topic, 1);
      const memberId = randomUUID().replaceAll('-', '').slice(0, 22);
      // The admin's member initializes both topics' partitions for the group.
      let epoch = 0;
      await waitFor(async () => {
        const response = await admin.request(ShareGroupHeartbeatApi, 1, { groupId: 'az-share', memberId, memberEpoch: epoch, rackId: null, subscribedTopicNames: epoch === 0 ? ['az-share-a', 'az-share-b'] : null });
        assert.equal(response.errorCode, ErrorCode.NONE, response.errorMessage ?? '');
        epoch = response.memberEpoch;
        return (response.assignment?.topicPartitions.length ?? 0) === 2;
      }, 'both topics assigned');
      const all = { groups: [{ groupId: 'az-share', topics: null }] };
      const named = { groups: [{ groupId: 'az-share', topics: [{ topicName: 'az-share-a', partitions: [0] }, { topicName: 'az-share-b', partitions: [0] }] }] };

      const refused = await alice.request(DescribeShareGroupOffsetsApi, 1, all);
      assert.deepEqual(refused.groups, [{ groupId: 'az-share', topics: [], errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null }]);

      await broker.grant(
        { principal: 'User:alice', resourceType: AclResourceType.GROUP, resourceName: 'az-share', operation: AclOperation.DESCRIBE },
        { principal: 'User:alice', resourceType: AclResourceType.TOPIC, resourceName: 'az-share-a', operation: AclOperation.DESCRIBE },
      );
      const filtered = await alice.request(DescribeShareGroupOffsetsApi, 1, all);
      assert.equal(filtered.groups[0]!.errorCode, ErrorCode.NONE);
      assert.deepEqual(filtered.groups[0]!.topics.map((topic) => topic.topicName), ['az-share-a']);
      const partial = await alice.request(DescribeShareGroupOffsetsApi, 1, named);
      assert.deepEqual(
        partial.groups[0]!.topics.map((topic) => [topic.topicName, topic.topicId === 'AAAAAAAAAAAAAAAAAAAAAA', topic.partitions.map((partition) => [partition.startOffset, partition.lag, partition.errorCode])]),
        [
          ['az-share-a', false, [[-1n, -1n, ErrorCode.NONE]]],
          ['az-share-b', true, [[-1n, -1n, ErrorCode.TOPIC_AUTHORIZATION_FAILED]]],
        ],
      );
      // The admin sees both.
      const everything = await admin.request(DescribeShareGroupOffsetsApi, 1, all);
      assert.deepEqual(everything.groups[0]!.topics.map((topic) => topic.topicName), ['az-share-a', 'az-share-b']);

      // DeleteShareGroupOffsets needs DELETE on the group; with it, alice meets the group's own check.
      const deleteRequest = { groupId: 'az-share', topics: [{ topicName: 'az-share-a' }] };
      assert.equal((await alice.request(DeleteShareGroupOffsetsApi, 0, deleteRequest)).errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED);
      await broker.grant({ principal: 'User:alice', resourceType: AclResourceType.GROUP, resourceName: 'az-share', operation: AclOperation.DELETE });
      assert.equal((await alice.request(DeleteShareGroupOffsetsApi, 0, deleteRequest)).errorCode, ErrorCode.NON_EMPTY_GROUP);
    } finally {
      await Promise.all([admin.close(), alice.close()]);
    }
  });
});
