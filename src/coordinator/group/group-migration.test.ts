// Kafka 4.0's online migration, driven without I/O: classic clients (eager and cooperative, as the
// Java and librdkafka consumers behave) in a group that a KIP-848 member joins and leaves, under
// each group.consumer.migration.policy; the records replayed on another coordinator; and what
// every step does to ownership (no partition is ever held by two members at once).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { silentLogger } from '../../base/logger.js';
import { decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment, encodeConsumerProtocolSubscription } from '../../protocol/messages/records/index.js';
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import { addTopic, imageWithTopics, MemoryOffsetsTopic, random, StepClock } from '../../testing/group-support.js';
import { rangeAssignor, uniformAssignor } from './assignors.js';
import { toTopicPartitions, type TopicPartitions } from './consumer-group.js';
import type { ConsumerHeartbeatInput } from './consumer-membership.js';
import type { GroupCoordinatorConfig } from './group-context.js';
import { GroupCoordinator } from './group-coordinator.js';
import type { MigrationPolicy } from './group-migration.js';

const EVENTS = 'AAAAAAAAAAAAAAAAAAAABA';
const PARTITIONS = 4;
const CLASSIC_SESSION_MS = 8_000;
const CONSUMER_SESSION_MS = 20_000;

const groupConfig: GroupCoordinatorConfig = {
  offsetsTopicNumPartitions: 4,
  offsetsRetentionMs: 60_000,
  offsetsRetentionCheckIntervalMs: 10_000,
  groupInitialRebalanceDelayMs: 0,
  groupMinSessionTimeoutMs: 1_000,
  groupMaxSessionTimeoutMs: 60_000,
  groupMaxSize: 10,
  offsetMetadataMaxBytes: 100,
};

function setup(policy: MigrationPolicy = 'bidirectional', topic = new MemoryOffsetsTopic(), clock = new StepClock()) {
  const image = imageWithTopics();
  addTopic(image, 'events', EVENTS, PARTITIONS);
  const coordinator = new GroupCoordinator({
    clock,
    random,
    logger: silentLogger,
    config: groupConfig,
    consumerConfig: { sessionTimeoutMs: CONSUMER_SESSION_MS, heartbeatIntervalMs: 1_000, maxSize: 10, assignors: [uniformAssignor, rangeAssignor], migrationPolicy: policy },
    image,
    partitions: topic,
  });
  return { coordinator, clock, topic };
}

/** A classic consumer: eager ones give everything up before they rejoin, cooperative ones report what they own. */
class ClassicClient {
  memberId = '';
  generation = -1;
  owned = new Set<number>();
  protocolName = 'range';

  constructor(
    private readonly coordinator: GroupCoordinator,
    private readonly clock: StepClock,
    readonly name: string,
    readonly cooperative = false,
    readonly instanceId: string | null = null,
  ) {}

  /** A JoinGroup or SyncGroup may wait on a timer (the initial rebalance delay) or on other members: the clock runs meanwhile. */
  private async withClock<T>(pending: Promise<T>): Promise<T> {
    let done = false;
    void pending.finally(() => {
      done = true;
    });
    for (let turn = 0; turn < 200 && !done; turn++) await this.clock.advance(0);
    assert.ok(done, `${this.name}: a classic request did not complete`);
    return pending;
  }

  private subscription(): Buffer {
    const writer = new Writer(64);
    writer.writeInt16(1);
    const ownedPartitions = this.cooperative && this.owned.size > 0 ? [{ topic: 'events', partitions: [...this.owned].sort() }] : [];
    encodeConsumerProtocolSubscription(writer, 1, { topics: ['events'], userData: null, ownedPartitions });
    return writer.toBuffer();
  }

  /** JoinGroup (twice when the broker first hands out a member id) then SyncGroup; the leader of a classic group assigns round robin. */
  async join(): Promise<number> {
    if (!this.cooperative) this.owned.clear();
    for (let attempt = 0; attempt < 3; attempt++) {
      const joined = await this.withClock(this.coordinator.joinGroup({
        groupId: 'g',
        memberId: this.memberId,
        groupInstanceId: this.instanceId,
        requireKnownMemberId: true,
        clientId: this.name,
        clientHost: '/127.0.0.1',
        rebalanceTimeoutMs: 10_000,
        sessionTimeoutMs: CLASSIC_SESSION_MS,
        protocolType: 'consumer',
        protocols: [{ name: this.protocolName, metadata: this.subscription() }],
      }));
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        this.memberId = joined.memberId;
        continue;
      }
      if (joined.errorCode !== ErrorCode.NONE) return joined.errorCode;
      this.memberId = joined.memberId;
      this.generation = joined.generationId;
      const assignments = joined.leaderId === this.memberId ? roundRobin(joined.members.map(({ memberId }) => memberId)) : [];
      const synced = await this.withClock(this.coordinator.syncGroup({ groupId: 'g', generationId: this.generation, memberId: this.memberId, groupInstanceId: this.instanceId, protocolType: 'consumer', protocolName: joined.protocolName, assignments }));
      if (synced.errorCode !== ErrorCode.NONE) return synced.errorCode;
      this.owned = new Set(assignedEvents(synced.assignment));
      return ErrorCode.NONE;
    }
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }

  heartbeat(): Promise<number> {
    return this.coordinator.heartbeat('g', this.memberId, this.instanceId, this.generation);
  }

  /** Heartbeats and rejoins when told to, as a client's poll loop does. */
  async poll(): Promise<number> {
    const errorCode = await this.heartbeat();
    if (errorCode === ErrorCode.REBALANCE_IN_PROGRESS || errorCode === ErrorCode.ILLEGAL_GENERATION) return this.join();
    return errorCode;
  }
}

function roundRobin(memberIds: string[]): { memberId: string; assignment: Buffer }[] {
  return memberIds.map((memberId, index) => {
    const partitions = Array.from({ length: PARTITIONS }, (_, partition) => partition).filter((partition) => partition % memberIds.length === index);
    const writer = new Writer(32);
    writer.writeInt16(0);
    encodeConsumerProtocolAssignment(writer, 0, { assignedPartitions: [{ topic: 'events', partitions }], userData: null });
    return { memberId, assignment: writer.toBuffer() };
  });
}

function assignedEvents(assignment: Buffer): number[] {
  if (assignment.length === 0) return [];
  const reader = new Reader(assignment);
  const version = reader.readInt16();
  return decodeConsumerProtocolAssignment(reader, version).assignedPartitions.flatMap(({ topic, partitions }) => (topic === 'events' ? partitions : []));
}

/** A KIP-848 client subscribed to `events`. */
class ConsumerClient {
  epoch = 0;
  owned: TopicPartitions = new Map();

  constructor(
    private readonly coordinator: GroupCoordinator,
    readonly memberId: string,
    readonly instanceId: string | null = null,
  ) {}

  async heartbeat(memberEpoch = this.epoch): Promise<number> {
    const joining = memberEpoch === 0;
    const input: ConsumerHeartbeatInput = {
      groupId: 'g',
      memberId: this.memberId,
      memberEpoch,
      instanceId: this.instanceId,
      rackId: null,
      rebalanceTimeoutMs: joining ? 10_000 : -1,
      subscribedTopicNames: joining ? ['events'] : null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: joining ? [] : [...this.owned].map(([topicId, set]) => ({ topicId, partitions: [...set] })),
      clientId: 'kip848',
      clientHost: '/127.0.0.1',
      apiVersion: 1,
    };
    const outcome = await this.coordinator.consumerGroupHeartbeat(input);
    if (outcome.errorCode !== ErrorCode.NONE) return outcome.errorCode;
    this.epoch = outcome.memberEpoch;
    if (outcome.assignment !== null) this.owned = toTopicPartitions(outcome.assignment);
    return ErrorCode.NONE;
  }

  get partitions(): number[] {
    return [...(this.owned.get(EVENTS) ?? [])].sort();
  }
}

type Client = ClassicClient | ConsumerClient;
const ownedBy = (client: Client) => (client instanceof ClassicClient ? [...client.owned] : client.partitions);

function assertNoPartitionTwice(clients: Client[], when: string): void {
  const seen = new Map<number, string>();
  for (const client of clients) {
    const name = client instanceof ClassicClient ? client.name : client.memberId;
    for (const partition of ownedBy(client)) {
      assert.equal(seen.get(partition), undefined, `${when}: partition ${partition} owned by ${seen.get(partition)} and ${name}`);
      seen.set(partition, name);
    }
  }
}

/**
 * Every client polls, until all partitions are owned once and nothing moves; ownership is checked
 * after each poll (in turn, for a consumer group, which answers a classic member at once) or after
 * each round (side by side, for a classic group's rebalance).
 */
async function settle(clients: Client[], when: string, sideBySide = false): Promise<void> {
  for (let round = 0; round < 15; round++) {
    const before = JSON.stringify(clients.map(ownedBy));
    const poll = async (client: Client, index: number) => {
      const errorCode = client instanceof ClassicClient ? await client.poll() : await client.heartbeat();
      assert.equal(errorCode, ErrorCode.NONE, `${when}: a poll of client ${index} failed with ${errorCode}`);
    };
    if (sideBySide) {
      // As separate processes do: a rebalance of a classic group waits for all of its members.
      await Promise.all(clients.map(poll));
      assertNoPartitionTwice(clients, when);
    } else {
      for (const [index, client] of clients.entries()) {
        await poll(client, index);
        assertNoPartitionTwice(clients, when);
      }
    }
    const owned = clients.flatMap(ownedBy).sort();
    if (JSON.stringify(clients.map(ownedBy)) === before && owned.length === PARTITIONS) return;
  }
  assert.fail(`${when}: the group did not settle: ${JSON.stringify(clients.map(ownedBy))}`);
}

async function classicGroupOfTwo({ coordinator, clock }: { coordinator: GroupCoordinator; clock: StepClock }, cooperative = false): Promise<[ClassicClient, ClassicClient]> {
  const first = new ClassicClient(coordinator, clock, 'classic-1', cooperative);
  const second = new ClassicClient(coordinator, clock, 'classic-2', cooperative);
  assert.equal(await first.join(), ErrorCode.NONE);
  // The second join rebalances the group: the first member hears of it by heartbeat and rejoins, the leader assigns.
  const secondJoined = second.join();
  for (let turn = 0; turn < 50; turn++) {
    if ((await first.heartbeat()) === ErrorCode.REBALANCE_IN_PROGRESS) {
      assert.equal(await first.join(), ErrorCode.NONE);
      break;
    }
    await clock.advance(0);
  }
  assert.equal(await secondJoined, ErrorCode.NONE);
  await settle([first, second], 'the classic group', true);
  return [first, second];
}

describe('online migration between the classic and the consumer protocols', () => {
  for (const cooperative of [false, true]) {
    test(`a KIP-848 member joins a ${cooperative ? 'cooperative' : 'eager'} classic group: it upgrades, and the classic members keep working in it`, async () => {
      const context = setup();
      const { coordinator } = context;
      const [first, second] = await classicGroupOfTwo(context, cooperative);
      const generation = first.generation;
      assert.equal(coordinator.listGroups().groups[0]!.type, 'classic');

      const kip848 = new ConsumerClient(coordinator, 'kip848-member');
      assert.equal(await kip848.heartbeat(), ErrorCode.NONE);
      assert.deepEqual(kip848.partitions, [], 'partitions the classic members still own are not handed out');
      assert.deepEqual(coordinator.listGroups().groups.map(({ type, protocolType }) => ({ type, protocolType })), [{ type: 'consumer', protocolType: 'consumer' }]);
      const [described] = await coordinator.consumerGroupDescribe(['g']);
      assert.equal(described!.members.length, 3);
      assert.deepEqual(described!.members.map((member) => member.usesClassicProtocol).sort(), [false, true, true]);
      const classicEpochs = described!.members.filter((member) => member.usesClassicProtocol).map((member) => member.memberEpoch);
      assert.deepEqual(classicEpochs, [generation, generation], 'each classic member kept its generation as its member epoch');
      assert.ok(described!.groupEpoch > generation, 'the new member moved the group epoch');

      // The classic members learn of the new epoch by heartbeat and rejoin; nothing is ever owned twice.
      await settle([first, second, kip848], 'after the upgrade');
      assert.ok(kip848.partitions.length > 0, 'the new member got partitions');
      assert.equal(first.generation, second.generation);
      const [after] = await coordinator.consumerGroupDescribe(['g']);
      assert.equal(after!.groupState, 'Stable');
      assert.ok(after!.members.every((member) => member.memberEpoch === after!.groupEpoch));

      // A classic member commits with its generation, which is its member epoch.
      const commit = (generationId: number) =>
        coordinator.commitOffsets({ groupId: 'g', apiVersion: 7, memberId: first.memberId, generationId, groupInstanceId: null, retentionTimeMs: -1, offsets: [{ topic: 'events', partition: [...first.owned][0] ?? 0, offset: 5, leaderEpoch: -1, metadata: null }] });
      assert.deepEqual(await commit(first.generation), [ErrorCode.NONE]);
      assert.deepEqual(await commit(first.generation - 1), [ErrorCode.ILLEGAL_GENERATION]);
      coordinator.stop();
    });
  }

  test('the last KIP-848 member leaves: the group goes back to classic and rebalances', async () => {
    const context = setup();
    const { coordinator } = context;
    const [first, second] = await classicGroupOfTwo(context);
    const kip848 = new ConsumerClient(coordinator, 'kip848-member');
    await kip848.heartbeat();
    await settle([first, second, kip848], 'after the upgrade');
    const [upgraded] = await coordinator.consumerGroupDescribe(['g']);

    assert.equal(await kip848.heartbeat(-1), ErrorCode.NONE);
    const listed = coordinator.listGroups().groups[0]!;
    assert.equal(listed.type, 'classic');
    assert.equal(listed.state, 'PreparingRebalance', 'the downgraded group rebalances');
    const described = await coordinator.describeGroup('g');
    assert.equal(described.errorCode, ErrorCode.NONE);
    assert.deepEqual(described.members.map((member) => member.memberId).sort(), [first.memberId, second.memberId].sort());
    kip848.owned = new Map();

    await settle([first, second], 'after the downgrade', true);
    assert.ok(first.generation > upgraded!.groupEpoch, 'the classic generation carries on from the group epoch');
    assert.equal((await coordinator.describeGroup('g')).state, 'Stable');
    coordinator.stop();
  });

  test('the last KIP-848 member goes silent: its session expiry downgrades the group too', async () => {
    const context = setup();
    const { coordinator, clock } = context;
    const [first, second] = await classicGroupOfTwo(context);
    const kip848 = new ConsumerClient(coordinator, 'kip848-member');
    await kip848.heartbeat();
    await settle([first, second, kip848], 'after the upgrade');
    // The classic members keep heartbeating (their sessions are shorter); the KIP-848 member does not.
    for (let elapsed = 0; elapsed <= CONSUMER_SESSION_MS; elapsed += 2_000) {
      await clock.advance(2_000);
      assert.equal(await first.heartbeat(), coordinator.listGroups().groups[0]!.type === 'classic' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE);
      await second.heartbeat();
    }
    assert.equal(coordinator.listGroups().groups[0]!.type, 'classic');
    await settle([first, second], 'after the downgrade', true);
    coordinator.stop();
  });

  test('static members: an upgraded instance replaces its classic incarnation at once; a stale classic incarnation is fenced', async () => {
    const { coordinator, clock } = setup();
    const kip848 = new ConsumerClient(coordinator, 'kip848-member');
    await kip848.heartbeat();
    const classic = new ClassicClient(coordinator, clock, 'static-classic', true, 'instance-1');
    assert.equal(await classic.join(), ErrorCode.NONE);
    await settle([kip848, classic], 'a static classic member joined');
    // The same instance restarted with an old client id under its old member id, while the live one holds the instance: fenced.
    const stale = new ClassicClient(coordinator, clock, 'stale', true, 'instance-1');
    stale.memberId = 'not-the-holder';
    assert.equal(await stale.join(), ErrorCode.FENCED_INSTANCE_ID);
    // A known member id without its instance in the group: UNKNOWN_MEMBER_ID.
    const orphan = new ClassicClient(coordinator, clock, 'orphan', true, 'instance-9');
    orphan.memberId = 'someone';
    assert.equal(await orphan.join(), ErrorCode.UNKNOWN_MEMBER_ID);
    // The instance comes back on the consumer protocol (a rolling upgrade; classic clients send no LeaveGroup): it takes over.
    const upgraded = new ConsumerClient(coordinator, 'upgraded-instance-1', 'instance-1');
    assert.equal(await upgraded.heartbeat(), ErrorCode.NONE);
    classic.owned.clear();
    await settle([kip848, upgraded], 'the upgraded instance took over');
    const [described] = await coordinator.consumerGroupDescribe(['g']);
    assert.deepEqual(described!.members.map((member) => [member.memberId, member.instanceId, member.usesClassicProtocol]).sort(), [['kip848-member', null, false], ['upgraded-instance-1', 'instance-1', false]]);
    coordinator.stop();
  });

  test('a classic member that joins a consumer group is served in it', async () => {
    const { coordinator, clock } = setup();
    const kip848 = new ConsumerClient(coordinator, 'kip848-member');
    await kip848.heartbeat();
    assert.deepEqual(kip848.partitions, [0, 1, 2, 3]);
    const classic = new ClassicClient(coordinator, clock, 'classic-late', true);
    assert.equal(await classic.join(), ErrorCode.NONE);
    await settle([kip848, classic], 'a classic member joined');
    assert.equal(kip848.partitions.length, 2);
    assert.equal(classic.owned.size, 2);
    // It leaves with LeaveGroup; the group stays a consumer group with its KIP-848 member.
    assert.deepEqual((await coordinator.leaveGroup('g', [{ memberId: classic.memberId, groupInstanceId: null }])).memberErrors, [ErrorCode.NONE]);
    classic.owned.clear();
    await settle([kip848], 'the classic member left');
    assert.equal(coordinator.listGroups().groups[0]!.type, 'consumer');
    coordinator.stop();
  });

  test('policies: disabled refuses the upgrade; upgrade keeps a group of classic members a consumer group', async () => {
    const disabled = setup('disabled');
    await classicGroupOfTwo(disabled);
    const refused = await disabled.coordinator.consumerGroupHeartbeat({ groupId: 'g', memberId: 'x', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 1_000, subscribedTopicNames: ['events'], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [], clientId: 'c', clientHost: '/h', apiVersion: 1 });
    assert.equal(refused.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.match(refused.errorMessage ?? '', /group\.consumer\.migration\.policy is disabled/);
    disabled.coordinator.stop();

    const upgradeOnly = setup('upgrade');
    const [first, second] = await classicGroupOfTwo(upgradeOnly);
    const kip848 = new ConsumerClient(upgradeOnly.coordinator, 'kip848-member');
    await kip848.heartbeat();
    await kip848.heartbeat(-1);
    assert.equal(upgradeOnly.coordinator.listGroups().groups[0]!.type, 'consumer', 'no downgrade under the upgrade policy');
    await settle([first, second], 'classic members in a consumer group');
    upgradeOnly.coordinator.stop();
  });

  test('the upgraded group replays on another coordinator, classic members included', async () => {
    const topic = new MemoryOffsetsTopic();
    const clock = new StepClock();
    const context = setup('bidirectional', topic, clock);
    const { coordinator } = context;
    const [first, second] = await classicGroupOfTwo(context);
    const kip848 = new ConsumerClient(coordinator, 'kip848-member');
    await kip848.heartbeat();
    await settle([first, second, kip848], 'after the upgrade');
    coordinator.stop();

    const next = setup('bidirectional', topic, clock);
    await next.coordinator.start();
    const [described] = await next.coordinator.consumerGroupDescribe(['g']);
    assert.equal(described!.members.filter((member) => member.usesClassicProtocol).length, 2);
    // The classic members carry on with the new coordinator at their generation.
    assert.equal(await next.coordinator.heartbeat('g', first.memberId, null, first.generation), ErrorCode.NONE);
    // A silent classic member is fenced after its own session timeout, not the consumer protocol's.
    for (let elapsed = 0; elapsed < CLASSIC_SESSION_MS + 1_000; elapsed += 1_000) {
      await clock.advance(1_000);
      await next.coordinator.heartbeat('g', first.memberId, null, first.generation);
      await next.coordinator.consumerGroupHeartbeat({ groupId: 'g', memberId: kip848.memberId, memberEpoch: kip848.epoch, instanceId: null, rackId: null, rebalanceTimeoutMs: -1, subscribedTopicNames: null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: null, clientId: 'kip848', clientHost: '/127.0.0.1', apiVersion: 1 });
    }
    const [after] = await next.coordinator.consumerGroupDescribe(['g']);
    assert.deepEqual(after!.members.map((member) => member.memberId).sort(), [first.memberId, kip848.memberId].sort(), `${second.name} was fenced after ${CLASSIC_SESSION_MS} ms`);
    next.coordinator.stop();
  });
});
