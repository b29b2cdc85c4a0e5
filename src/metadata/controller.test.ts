import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import { randomUuid } from '../base/uuid.js';
import { CAUGHT_UP_LAG_MS, Controller, rackAlternated } from './controller.js';
import { MetadataImage } from './metadata-image.js';
import { ManualClock } from '../testing/log-support.js';
import { committingQuorum } from '../testing/metadata-support.js';
import type { AppendedRecord } from './metadata-record.js';
import { imageRecords } from './image-records.js';
import { deserializeMetadataRecord, serializeMetadataRecord } from './metadata-record-serde.js';

function randomSource() {
  return { nextInt: (bound: number) => randomInt(bound), bytes: (length: number) => randomBytes(length) };
}

function setup() {
  const image = new MetadataImage();
  const committed: AppendedRecord[] = [];
  // One record per offset: the applied offset is the number of records committed; replay skips NoOp.
  const quorum = {
    async ensureActive() {},
    async append(records: AppendedRecord[]) {
      for (const record of records) {
        committed.push(record);
        if (record.type !== 'NoOp') image.apply(record);
      }
    },
    get appliedOffset() {
      return committed.length;
    },
  };
  const random = { nextInt: (bound: number) => randomInt(bound), bytes: (length: number) => randomBytes(length) };
  const clock = new ManualClock();
  const options = { image, quorum, clock, random, defaultNumPartitions: 1, defaultReplicationFactor: 1 };
  const controller = new Controller(options);
  /** A broker registered and unfenced, as a starting broker is once it has caught up. */
  const registerLive = async (brokerId: number) => {
    const brokerEpoch = await controller.registerBroker(brokerId, randomUuid(random), [endpoint], null);
    const result = await controller.brokerHeartbeat({ brokerId, brokerEpoch, currentMetadataOffset: quorum.appliedOffset - 1, wantFence: false, wantShutDown: false });
    assert.equal(result.isFenced, false);
    return brokerEpoch;
  };
  return { image, committed, controller, quorum, options, clock, random, registerLive };
}

const endpoint = { name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 };

test('creates a topic with partitions, configs and a non-zero topic id', async () => {
  const { image, controller, registerLive } = setup();
  await registerLive(1);
  const [result] = await controller.createTopics(
    [{ name: 'orders', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }] }],
    false,
  );
  assert.equal(result!.errorCode, ErrorCode.NONE);
  assert.equal(result!.numPartitions, 3);
  const topic = image.topic('orders')!;
  assert.equal(topic.topicId, result!.topicId);
  assert.notEqual(topic.topicId, 'AAAAAAAAAAAAAAAAAAAAAA');
  assert.deepEqual([...topic.partitions.keys()], [0, 1, 2]);
  assert.equal(topic.partitions.get(2)!.leader, 1);
  assert.equal(image.resourceConfigs(2, 'orders').get('retention.ms'), '1000');
});

test('refuses bad names, counts, factors, configs and duplicates with Kafka error codes', async () => {
  const { controller, committed, registerLive } = setup();
  await registerLive(1);
  const base = { numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] };
  const results = await controller.createTopics(
    [
      { ...base, name: 'bad name!' },
      { ...base, name: 'zero', numPartitions: 0 },
      { ...base, name: 'rf', replicationFactor: 3 },
      { ...base, name: 'cfg', configs: [{ name: 'retention.ms', value: 'soon' }] },
      { ...base, name: 'unknown-cfg', configs: [{ name: 'no.such.key', value: '1' }] },
    ],
    false,
  );
  assert.deepEqual(
    results.map((result) => result.errorCode),
    [ErrorCode.INVALID_TOPIC_EXCEPTION, ErrorCode.INVALID_PARTITIONS, ErrorCode.INVALID_REPLICATION_FACTOR, ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_CONFIG],
  );
  assert.match(results[3]!.errorMessage!, /retention\.ms/);
  assert.equal(committed.filter((record) => record.type === 'Topic').length, 0);
  await controller.createTopics([{ ...base, name: 'once' }], false);
  const [again] = await controller.createTopics([{ ...base, name: 'once' }], false);
  assert.equal(again!.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
});

test('validate-only creates nothing; concurrent creates of one name make one topic', async () => {
  const { image, controller, registerLive } = setup();
  await registerLive(1);
  const request = { name: 't', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] };
  const [validated] = await controller.createTopics([request], true);
  assert.equal(validated!.errorCode, ErrorCode.NONE);
  assert.equal(image.topic('t'), undefined);
  const [first, second] = await Promise.all([controller.createTopics([request], false), controller.createTopics([request], false)]);
  assert.deepEqual([first![0]!.errorCode, second![0]!.errorCode].sort(), [ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS]);
});

test('deletes topics by name and id and grows partitions', async () => {
  const { image, controller, registerLive } = setup();
  await registerLive(1);
  const [created] = await controller.createTopics([{ name: 'a', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
  const [grown] = await controller.createPartitions([{ name: 'a', count: 4, assignments: null }], false);
  const [shrink] = await controller.createPartitions([{ name: 'a', count: 2, assignments: null }], false);
  const duplicated = await controller.createPartitions(
    [
      { name: 'a', count: 6, assignments: null },
      { name: 'a', count: 7, assignments: null },
    ],
    false,
  );
  assert.equal(grown!.errorCode, ErrorCode.NONE);
  assert.equal(shrink!.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.deepEqual(duplicated.map((result) => result.errorCode), [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
  assert.equal(image.topic('a')!.partitions.size, 4);
  const [deleted, missing, missingId] = await controller.deleteTopics([
    { name: null, topicId: created!.topicId },
    { name: 'nope', topicId: null },
    { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' },
  ]);
  assert.equal(deleted!.errorCode, ErrorCode.NONE);
  assert.equal(missing!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(missingId!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  assert.equal(image.topic('a'), undefined);
});

const heartbeat = { currentMetadataOffset: -1, wantFence: false, wantShutDown: false };

test('registers a broker fenced and unfences it only once its metadata reaches the registration and it does not want fence', async () => {
  const { image, committed, controller, quorum } = setup();
  const incarnationId = 'q7vKjbdwQvWsVqzvI3oZ3A';
  const brokerEpoch = await controller.registerBroker(1, incarnationId, [endpoint], null);
  const registration = committed.at(-1)!;
  assert.equal(registration.type, 'RegisterBroker');
  assert.equal(registration.type === 'RegisterBroker' && registration.fenced, true);
  assert.equal(registration.type === 'RegisterBroker' && registration.incarnationId, incarnationId);
  assert.equal(image.brokers.get(1)!.fenced, true);
  const registrationOffset = committed.length - 1;

  // Behind its registration: stays fenced, not caught up, nothing appended.
  const behind = await controller.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch, currentMetadataOffset: registrationOffset - 1 });
  assert.deepEqual(behind, { isCaughtUp: false, isFenced: true, shouldShutDown: false });
  // Caught up but asking to stay fenced: stays fenced.
  const wantsFence = await controller.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch, currentMetadataOffset: registrationOffset, wantFence: true });
  assert.deepEqual(wantsFence, { isCaughtUp: true, isFenced: true, shouldShutDown: false });
  assert.equal(committed.length, registrationOffset + 1);
  assert.equal(image.brokers.get(1)!.fenced, true);

  // At its registration: unfenced with one UnfenceBrokerRecord.
  const caughtUp = await controller.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch, currentMetadataOffset: registrationOffset });
  assert.deepEqual(caughtUp, { isCaughtUp: true, isFenced: false, shouldShutDown: false });
  assert.deepEqual(committed.slice(registrationOffset + 1), [{ type: 'UnfenceBroker', brokerId: 1, brokerEpoch }]);
  assert.equal(image.brokers.get(1)!.fenced, false);
  const again = await controller.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch, currentMetadataOffset: quorum.appliedOffset - 1 });
  assert.equal(again.isFenced, false);
  assert.equal(committed.length, registrationOffset + 2, 'an unfenced broker heartbeating appends nothing');
});

/**
 * A controller over a quorum as the Raft one behaves for heartbeats: it reports the last change
 * and each broker's last registration change, confirms its term at once, and holds every append
 * back while `hold` is on, as commits waiting for a slow majority.
 */
function setupCommitting() {
  const base = setup();
  const { image, committed, clock, random } = base;
  let released: Promise<void> = Promise.resolve();
  let release = () => {};
  const quorum = committingQuorum(image, committed, () => released);
  const controller = new Controller({ image, quorum, clock, random, defaultNumPartitions: 1, defaultReplicationFactor: 1 });
  const registerLive = async (brokerId: number) => {
    const brokerEpoch = await controller.registerBroker(brokerId, randomUuid(random), [endpoint], null);
    assert.equal((await controller.brokerHeartbeat({ ...heartbeat, brokerId, brokerEpoch, currentMetadataOffset: quorum.appliedOffset - 1 })).isFenced, false);
    return brokerEpoch;
  };
  const hold = () => {
    released = new Promise<void>((resolve) => (release = resolve));
  };
  return { ...base, controller, quorum, registerLive, hold, release: () => release() };
}

async function turns(count = 10) {
  for (let index = 0; index < count; index++) await new Promise((resolve) => setImmediate(resolve));
}

test('a heartbeat that changes nothing is answered at once while earlier operations wait for their commits; one whose broker is being fenced waits for the fencing', async () => {
  const { controller, quorum, registerLive, hold, release } = setupCommitting();
  const one = await registerLive(1);
  const two = await registerLive(2);
  const offset = quorum.appliedOffset - 1;
  hold();
  let created = false;
  const creating = controller.createTopics([{ name: 'slow', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false).then(() => (created = true));
  await turns();
  const answer = await controller.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch: one, currentMetadataOffset: offset });
  assert.deepEqual(answer, { isCaughtUp: true, isFenced: false, shouldShutDown: false });
  assert.equal(created, false, 'answered while the topic waits for its commit');

  // Broker 2's session expired: its fencing waits behind the topic, and so does its heartbeat,
  // which must not be answered "unfenced, caught up" just before the fencing commits.
  const fencing = controller.fenceBroker(2);
  let answered = false;
  const beating = controller.brokerHeartbeat({ ...heartbeat, brokerId: 2, brokerEpoch: two, currentMetadataOffset: offset }).then((result) => {
    answered = true;
    return result;
  });
  await turns();
  assert.equal(answered, false, 'waits for the fencing under way');
  release();
  await Promise.all([creating, fencing]);
  // Fenced, then unfenced by this heartbeat (it reached its registration), but its image has not
  // applied its fencing and the moves in it: not caught up.
  assert.deepEqual(await beating, { isCaughtUp: false, isFenced: false, shouldShutDown: false });
  assert.equal(controller.image.brokers.get(2)!.fenced, false);
});

test('a session fencing is skipped when its broker was heard from before the fencing\'s turn came', async () => {
  const { controller, registerLive, hold, release } = setupCommitting();
  await registerLive(1);
  hold();
  const creating = controller.createTopics([{ name: 'ahead', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
  let silent = true;
  const fencing = controller.fenceBroker(1, () => silent);
  await turns();
  silent = false; // a heartbeat came while the fencing waited
  release();
  await Promise.all([creating, fencing]);
  assert.equal(controller.image.brokers.get(1)!.fenced, false);
  await controller.fenceBroker(1, () => true);
  assert.equal(controller.image.brokers.get(1)!.fenced, true);
});

test('caught up: a broker may be behind the changes of the last CAUGHT_UP_LAG_MS, never behind an older one or its own registration\'s last change', async () => {
  const { controller, quorum, clock, registerLive } = setupCommitting();
  const one = await registerLive(1);
  clock.advance(CAUGHT_UP_LAG_MS);
  const before = quorum.appliedOffset - 1;
  await controller.createTopics([{ name: 'recent', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
  const beat = (currentMetadataOffset: number) => controller.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch: one, currentMetadataOffset });
  assert.equal((await beat(before)).isCaughtUp, true, 'behind a topic created just now');
  clock.advance(CAUGHT_UP_LAG_MS - 1);
  assert.equal((await beat(before)).isCaughtUp, true);
  clock.advance(1);
  assert.equal((await beat(before)).isCaughtUp, false, 'behind a topic created CAUGHT_UP_LAG_MS ago');
  assert.equal((await beat(quorum.appliedOffset - 1)).isCaughtUp, true);

  // Fenced (its session expired) and unfenced by its next heartbeat just now: it must apply both.
  const atFencing = quorum.appliedOffset - 1;
  await controller.fenceBroker(1);
  const fencedAt = quorum.appliedOffset - 1;
  const unfenced = await beat(atFencing);
  assert.deepEqual(unfenced, { isCaughtUp: false, isFenced: false, shouldShutDown: false }, 'its fencing is not applied');
  assert.equal((await beat(fencedAt)).isCaughtUp, false, 'its unfencing is not applied');
  assert.equal((await beat(quorum.appliedOffset - 1)).isCaughtUp, true);
});

test('a restarted broker registers a new incarnation, fenced again; the old epoch is stale', async () => {
  const { image, controller, quorum, registerLive } = setup();
  const firstEpoch = await registerLive(1);
  const secondEpoch = await controller.registerBroker(1, 'AAAAAAAAAAAAAAAAAAAAAg', [endpoint], null);
  assert.equal(secondEpoch, firstEpoch + 1);
  assert.equal(image.brokers.get(1)!.fenced, true);
  assert.equal(image.brokers.get(1)!.incarnationId, 'AAAAAAAAAAAAAAAAAAAAAg');
  await assert.rejects(
    controller.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch: firstEpoch, currentMetadataOffset: quorum.appliedOffset - 1 }),
    (error: unknown) => error instanceof KafkaError && error.errorCode === ErrorCode.STALE_BROKER_EPOCH,
  );
  // The offset that unfenced the first incarnation is below the second registration.
  const old = await controller.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch: secondEpoch, currentMetadataOffset: quorum.appliedOffset - 2 });
  assert.equal(old.isFenced, true);
  const current = await controller.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch: secondEpoch, currentMetadataOffset: quorum.appliedOffset - 1 });
  assert.equal(current.isFenced, false);
  await assert.rejects(
    controller.brokerHeartbeat({ ...heartbeat, brokerId: 2, brokerEpoch: 1 }),
    (error: unknown) => error instanceof KafkaError && error.errorCode === ErrorCode.BROKER_ID_NOT_REGISTERED,
  );
});

test('a new controller (another term) requires a fenced broker to reach the metadata it has applied', async () => {
  const { controller, options, quorum } = setup();
  const brokerEpoch = await controller.registerBroker(1, 'q7vKjbdwQvWsVqzvI3oZ3A', [endpoint], null);
  const registrationOffset = quorum.appliedOffset - 1;
  await controller.registerBroker(2, 'AAAAAAAAAAAAAAAAAAAAAg', [endpoint], null);
  // The successor did not append broker 1's registration, so it asks for everything it has applied.
  const successor = new Controller(options);
  const atRegistration = await successor.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch, currentMetadataOffset: registrationOffset });
  assert.equal(atRegistration.isFenced, true);
  const atEnd = await successor.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch, currentMetadataOffset: quorum.appliedOffset - 1 });
  assert.equal(atEnd.isFenced, false);
});

test('unfencing gives back leaderless partitions; want fence and controlled shutdown fence and move leadership', async () => {
  const { image, controller, quorum, registerLive } = setup();
  const one = await registerLive(1);
  const two = await registerLive(2);
  await controller.createTopics([{ name: 't', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2] }], configs: [] }], false);
  // Broker 2 asks to be fenced: partition 0 keeps leader 1, partition 1 (only 2) loses its leader.
  const fenced = await controller.brokerHeartbeat({ ...heartbeat, brokerId: 2, brokerEpoch: two, currentMetadataOffset: quorum.appliedOffset - 1, wantFence: true });
  assert.deepEqual(fenced, { isCaughtUp: true, isFenced: true, shouldShutDown: false });
  assert.equal(image.partition('t', 1)!.leader, -1);
  assert.deepEqual(image.partition('t', 0)!.isr, [1]);
  // Its next plain heartbeat unfences it and it leads partition 1 again.
  const back = await controller.brokerHeartbeat({ ...heartbeat, brokerId: 2, brokerEpoch: two, currentMetadataOffset: quorum.appliedOffset - 1 });
  assert.equal(back.isFenced, false);
  assert.equal(image.partition('t', 1)!.leader, 2);
  // Broker 1 shuts down: fenced, partition 0 moves to 2 if it is in the ISR (it left it), else none.
  const down = await controller.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch: one, currentMetadataOffset: quorum.appliedOffset - 1, wantShutDown: true });
  assert.deepEqual(down, { isCaughtUp: true, isFenced: true, shouldShutDown: true });
  assert.equal(image.brokers.get(1)!.fenced, true);
  assert.equal(image.partition('t', 0)!.leader, -1);
});

test('places replicas on unfenced brokers only', async () => {
  const { controller, registerLive } = setup();
  await registerLive(1);
  await controller.registerBroker(2, 'AAAAAAAAAAAAAAAAAAAAAg', [endpoint], null);
  const [tooMany] = await controller.createTopics([{ name: 'two', numPartitions: 1, replicationFactor: 2, assignments: [], configs: [] }], false);
  assert.equal(tooMany!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
});

test('appends a NoOpRecord only after the idle interval passed without any other append', async () => {
  const { committed, controller, clock, registerLive } = setup();
  const noOps = () => committed.filter((record) => record.type === 'NoOp').length;
  await registerLive(1);
  // Nothing appended for less than the interval: no NoOp, and the next is due when the interval ends.
  clock.advance(200);
  assert.equal(await controller.appendNoOpIfIdle(500), 300);
  assert.equal(noOps(), 0);
  // Another append restarts the interval.
  clock.advance(200);
  await controller.createTopics([{ name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
  clock.advance(400);
  assert.equal(await controller.appendNoOpIfIdle(500), 100);
  assert.equal(noOps(), 0);
  // Idle for the whole interval: one NoOp, which itself counts as an append.
  clock.advance(100);
  assert.equal(await controller.appendNoOpIfIdle(500), 500);
  assert.equal(noOps(), 1);
  assert.equal(committed.at(-1)!.type, 'NoOp');
  assert.equal(await controller.appendNoOpIfIdle(500), 500);
  assert.equal(noOps(), 1);
});

test('ElectLeaders: a preferred replica back in the ISR leads again; unclean elections pick an unfenced ISR member, else any unfenced replica', async () => {
  const { image, committed, controller, quorum, registerLive } = setup();
  const epochs = new Map<number, number>();
  for (const id of [1, 2, 3]) epochs.set(id, await registerLive(id));
  const [created] = await controller.createTopics(
    [{ name: 't', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2, 3] }, { partitionIndex: 2, brokerIds: [3] }], configs: [] }],
    false,
  );
  const topicId = created!.topicId!;
  const fence = (brokerId: number) =>
    controller.brokerHeartbeat({ ...heartbeat, brokerId, brokerEpoch: epochs.get(brokerId)!, currentMetadataOffset: quorum.appliedOffset - 1, wantFence: true });
  const unfence = (brokerId: number) => controller.brokerHeartbeat({ ...heartbeat, brokerId, brokerEpoch: epochs.get(brokerId)!, currentMetadataOffset: quorum.appliedOffset - 1 });
  const codes = (results: { topic: string; partitions: { partitionId: number; errorCode: number }[] }[]) =>
    results.map(({ topic, partitions }) => [topic, partitions.map(({ partitionId, errorCode }) => [partitionId, errorCode])]);

  // Every partition led by its preferred replica: nothing to do; unknown ones are named.
  assert.deepEqual(codes(await controller.electLeaders(0, [{ topic: 't', partitionIds: [0, 1, 7] }, { topic: 'nope', partitionIds: [0] }])), [
    ['t', [[0, ErrorCode.ELECTION_NOT_NEEDED], [1, ErrorCode.ELECTION_NOT_NEEDED], [7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
    ['nope', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
  ]);

  // Leadership of t-0 moved to 2 with 1 still in the ISR (as a follower that caught up would be).
  await quorum.append([{ type: 'PartitionChange', topicId, partitionId: 0, leader: 2, isr: [1, 2] }]);
  const epochBefore = image.partition('t', 0)!.leaderEpoch;
  const before = committed.length;
  // Named twice, elected once.
  assert.deepEqual(codes(await controller.electLeaders(0, [{ topic: 't', partitionIds: [0, 0] }])), [['t', [[0, ErrorCode.NONE], [0, ErrorCode.NONE]]]]);
  assert.deepEqual(committed.slice(before), [{ type: 'PartitionChange', topicId, partitionId: 0, leader: 1, isr: [1, 2] }]);
  assert.equal(image.partition('t', 0)!.leader, 1);
  assert.equal(image.partition('t', 0)!.leaderEpoch, epochBefore + 1);
  // An unclean election is not needed while there is a leader.
  assert.deepEqual(codes(await controller.electLeaders(1, [{ topic: 't', partitionIds: [0] }])), [['t', [[0, ErrorCode.ELECTION_NOT_NEEDED]]]]);

  // The preferred replica fenced: not available.
  await quorum.append([{ type: 'PartitionChange', topicId, partitionId: 0, leader: 2, isr: [1, 2] }]);
  await fence(1);
  assert.deepEqual(image.partition('t', 0)!.isr, [2], 'fencing took 1 out of the ISR');
  assert.deepEqual(codes(await controller.electLeaders(0, [{ topic: 't', partitionIds: [0] }])), [['t', [[0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]]]]);
  await unfence(1);
  // Unfenced but out of the ISR: still not available (only the ISR may lead cleanly).
  assert.deepEqual(codes(await controller.electLeaders(0, [{ topic: 't', partitionIds: [0] }])), [['t', [[0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]]]]);

  // t-1: 2 and 3 fenced; 3, the last in-sync replica, leaves the ISR for the ELR (KIP-966) and
  // nothing leads; then 2 comes back, outside both.
  await fence(2);
  await fence(3);
  assert.deepEqual([image.partition('t', 1)!.leader, image.partition('t', 1)!.isr, image.partition('t', 1)!.eligibleLeaderReplicas], [-1, [], [3]]);
  await unfence(2);
  assert.equal(image.partition('t', 1)!.leader, -1, 'unfencing 2 does not make it leader: it is not in the ISR or the ELR');
  // All partitions: only those needing an election are listed (t-0 has no available preferred, t-1 and t-2 no leader).
  const all = await controller.electLeaders(0, null);
  assert.deepEqual(codes(all), [['t', [[0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE], [1, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE], [2, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]]]]);
  // Unclean: t-1 goes to the unfenced replica 2, which becomes the whole ISR; t-2's only replica is fenced.
  assert.deepEqual(codes(await controller.electLeaders(1, [{ topic: 't', partitionIds: [1, 2] }])), [['t', [[1, ErrorCode.NONE], [2, ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE]]]]);
  assert.deepEqual([image.partition('t', 1)!.leader, image.partition('t', 1)!.isr, image.partition('t', 1)!.eligibleLeaderReplicas], [2, [2], []], 'an unclean election drops the ELR');
  // Unclean with an unfenced ISR member: that member leads and the ISR is kept.
  await unfence(3);
  assert.equal(image.partition('t', 2)!.leader, 3, 'unfencing gave t-2 back to 3');
  await quorum.append([{ type: 'PartitionChange', topicId, partitionId: 1, leader: -1, isr: [2, 3] }]);
  await fence(2);
  assert.deepEqual([image.partition('t', 1)!.leader, image.partition('t', 1)!.isr], [-1, [3]]);
  await quorum.append([{ type: 'PartitionChange', topicId, partitionId: 1, leader: -1, isr: [2, 3] }]);
  assert.deepEqual(codes(await controller.electLeaders(1, [{ topic: 't', partitionIds: [1] }])), [['t', [[1, ErrorCode.NONE]]]]);
  assert.deepEqual([image.partition('t', 1)!.leader, image.partition('t', 1)!.isr], [3, [2, 3]]);
});

test('AlterPartitionReassignments: invalid targets are refused as Kafka refuses them, and append nothing', async () => {
  const { committed, controller, registerLive } = setup();
  await registerLive(1);
  await registerLive(2);
  await controller.createTopics([{ name: 'r', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] }], false);
  const before = committed.length;
  const results = await controller.alterPartitionReassignments(
    [
      {
        topic: 'r',
        partitions: [
          { partitionId: 0, replicas: [1, 7] },
          { partitionId: 0, replicas: [1, 1] },
          { partitionId: 0, replicas: [] },
          { partitionId: 0, replicas: null },
          { partitionId: 3, replicas: [1] },
        ],
      },
      { topic: 'nope', partitions: [{ partitionId: 0, replicas: [1] }] },
    ],
    true,
  );
  assert.deepEqual(
    results.map(({ topic, partitions }) => [topic, partitions.map((partition) => partition.errorCode)]),
    [
      ['r', [ErrorCode.INVALID_REPLICA_ASSIGNMENT, ErrorCode.INVALID_REPLICA_ASSIGNMENT, ErrorCode.INVALID_REPLICA_ASSIGNMENT, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
      ['nope', [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]],
    ],
  );
  const [fixed] = await controller.alterPartitionReassignments([{ topic: 'r', partitions: [{ partitionId: 0, replicas: [1] }] }], false);
  assert.equal(fixed!.partitions[0]!.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
  const [same] = await controller.alterPartitionReassignments([{ topic: 'r', partitions: [{ partitionId: 0, replicas: [1, 2] }] }], false);
  assert.equal(same!.partitions[0]!.errorCode, ErrorCode.NONE, 'the current replicas: nothing to do');
  const [twice] = await controller.alterPartitionReassignments([{ topic: 'r', partitions: [{ partitionId: 0, replicas: [1, 2] }, { partitionId: 0, replicas: [2, 1] }] }], true);
  assert.deepEqual(twice!.partitions.map((partition) => partition.errorCode), [ErrorCode.NONE, ErrorCode.INVALID_REQUEST]);
  assert.equal(committed.length, before);
  assert.deepEqual(controller.listPartitionReassignments(null), []);
});

test('AlterPartitionReassignments: new replicas are added, join the ISR, and then the old ones leave; a leaving leader hands over', async () => {
  const { image, controller, registerLive } = setup();
  const epochs = new Map<number, number>();
  for (const id of [1, 2, 3, 4]) epochs.set(id, await registerLive(id));
  await controller.createTopics([{ name: 'm', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] }], false);
  const topicId = image.topic('m')!.topicId;
  const partition = () => image.partition('m', 0)!;
  const expand = (isr: number[]) =>
    controller.alterPartition(partition().leader, epochs.get(partition().leader)!, [
      { topicId, partitionId: 0, leaderEpoch: partition().leaderEpoch, partitionEpoch: partition().partitionEpoch, isr: isr.map((brokerId) => ({ brokerId, brokerEpoch: epochs.get(brokerId)! })) },
    ]);

  const [started] = await controller.alterPartitionReassignments([{ topic: 'm', partitions: [{ partitionId: 0, replicas: [3, 4] }] }], false);
  assert.equal(started!.partitions[0]!.errorCode, ErrorCode.NONE);
  const leaderEpoch = partition().leaderEpoch;
  assert.deepEqual(
    { replicas: partition().replicas, adding: partition().addingReplicas, removing: partition().removingReplicas, isr: partition().isr, leader: partition().leader },
    { replicas: [3, 4, 1, 2], adding: [3, 4], removing: [1, 2], isr: [1, 2], leader: 1 },
    'the target first, then the replicas that leave; the leader stays until the move completes',
  );
  assert.deepEqual(controller.listPartitionReassignments(null), [{ topic: 'm', partitions: [{ partitionId: 0, replicas: [3, 4, 1, 2], addingReplicas: [3, 4], removingReplicas: [1, 2] }] }]);
  assert.deepEqual(controller.listPartitionReassignments([{ topic: 'm', partitionIds: [0, 5] }, { topic: 'other', partitionIds: [0] }]).length, 1);
  // CreatePartitions during the move takes partition 0's factor from its target, not its widened list.
  const [grown] = await controller.createPartitions([{ name: 'm', count: 2, assignments: null }], false);
  assert.equal(grown!.errorCode, ErrorCode.NONE);
  assert.equal(image.partition('m', 1)!.replicas.length, 2);

  // 3 catches up: it joins the ISR, the move goes on.
  const [partial] = await expand([1, 2, 3]);
  assert.equal(partial!.errorCode, ErrorCode.NONE);
  assert.deepEqual(partition().isr, [1, 2, 3]);
  assert.deepEqual(partition().addingReplicas, [3, 4]);
  // 4 catches up: the move completes in the same change; leader 1 leaves, so 3 (first target in sync) leads.
  const [completed] = await expand([1, 2, 3, 4]);
  assert.equal(completed!.errorCode, ErrorCode.NONE);
  assert.deepEqual(
    { replicas: partition().replicas, adding: partition().addingReplicas, removing: partition().removingReplicas, isr: partition().isr, leader: partition().leader, leaderEpoch: partition().leaderEpoch },
    { replicas: [3, 4], adding: [], removing: [], isr: [3, 4], leader: 3, leaderEpoch: leaderEpoch + 1 },
  );
  assert.deepEqual(completed, { errorCode: ErrorCode.NONE, leaderId: 3, leaderEpoch: leaderEpoch + 1, isr: [3, 4], partitionEpoch: partition().partitionEpoch });
  assert.deepEqual(controller.listPartitionReassignments(null), []);

  // A reorder or a shrink of in-sync replicas completes at once.
  const [shrunk] = await controller.alterPartitionReassignments([{ topic: 'm', partitions: [{ partitionId: 0, replicas: [4] }] }], true);
  assert.equal(shrunk!.partitions[0]!.errorCode, ErrorCode.NONE);
  assert.deepEqual({ replicas: partition().replicas, isr: partition().isr, leader: partition().leader }, { replicas: [4], isr: [4], leader: 4 });
});

test('AlterPartitionReassignments: a cancel (or a target equal to the original replicas) goes back; a new target replaces the move in progress', async () => {
  const { image, controller, registerLive } = setup();
  const epochs = new Map<number, number>();
  for (const id of [1, 2, 3, 4]) epochs.set(id, await registerLive(id));
  await controller.createTopics([{ name: 'c', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] }], false);
  const topicId = image.topic('c')!.topicId;
  const partition = () => image.partition('c', 0)!;
  const move = async (replicas: number[] | null, allow = true) => (await controller.alterPartitionReassignments([{ topic: 'c', partitions: [{ partitionId: 0, replicas }] }], allow))[0]!.partitions[0]!.errorCode;

  assert.equal(await move([1, 3]), ErrorCode.NONE);
  assert.deepEqual([partition().replicas, partition().addingReplicas, partition().removingReplicas], [[1, 3, 2], [3], [2]]);
  assert.equal(await move(null), ErrorCode.NONE, 'cancel');
  assert.deepEqual([partition().replicas, partition().addingReplicas, partition().removingReplicas, partition().isr], [[1, 2], [], [], [1, 2]]);
  assert.equal(await move(null), ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);

  assert.equal(await move([1, 3]), ErrorCode.NONE);
  assert.equal(await move([1, 2]), ErrorCode.NONE, 'the original replicas: a cancel');
  assert.deepEqual([partition().replicas, partition().addingReplicas], [[1, 2], []]);

  // 3 joined the ISR of a move to [1, 3]; a new target [1, 4] replaces it: 3 leaves the replicas and the ISR at once.
  assert.equal(await move([1, 3]), ErrorCode.NONE);
  const [expanded] = await controller.alterPartition(1, epochs.get(1)!, [
    { topicId, partitionId: 0, leaderEpoch: partition().leaderEpoch, partitionEpoch: partition().partitionEpoch, isr: [1, 2].map((brokerId) => ({ brokerId, brokerEpoch: epochs.get(brokerId)! })) },
  ]);
  assert.equal(expanded!.errorCode, ErrorCode.NONE);
  assert.equal(await move([1, 4, 3], false), ErrorCode.INVALID_REPLICATION_FACTOR, 'the factor is counted against the original replicas');
  assert.equal(await move([1, 4]), ErrorCode.NONE);
  assert.deepEqual([partition().replicas, partition().addingReplicas, partition().removingReplicas], [[1, 4, 2], [4], [2]]);

  // A fenced leader during a move: an in-sync replica takes over; the move carries on.
  await controller.fenceBroker(1);
  assert.equal(partition().leader, 2);
  assert.deepEqual(partition().addingReplicas, [4]);
});

test('AlterPartition: the leader shrinks and expands the ISR in its epochs; stale, foreign and ineligible proposals are refused and append nothing', async () => {
  const { image, controller, committed, registerLive } = setup();
  const one = await registerLive(1);
  const two = await registerLive(2);
  const three = await registerLive(3);
  await controller.createTopics([{ name: 'r', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }], configs: [] }], false);
  const topicId = image.topic('r')!.topicId;
  const partition = () => image.partition('r', 0)!;
  const member = (brokerId: number, brokerEpoch = -1) => ({ brokerId, brokerEpoch });
  const propose = (isr: { brokerId: number; brokerEpoch: number }[], overrides: { leaderEpoch?: number; partitionEpoch?: number } = {}) => ({
    topicId,
    partitionId: 0,
    leaderEpoch: overrides.leaderEpoch ?? partition().leaderEpoch,
    partitionEpoch: overrides.partitionEpoch ?? partition().partitionEpoch,
    isr,
  });

  // The leader drops 3: committed, with the new partition epoch in the answer.
  const before = partition().partitionEpoch;
  const [shrunk] = await controller.alterPartition(1, one, [propose([member(1), member(2)])]);
  assert.deepEqual(shrunk, { errorCode: ErrorCode.NONE, leaderId: 1, leaderEpoch: partition().leaderEpoch, isr: [1, 2], partitionEpoch: before + 1 });
  assert.deepEqual(partition().isr, [1, 2]);
  assert.equal(partition().partitionEpoch, before + 1);

  const appended = committed.length;
  const refused = async (brokerId: number, brokerEpoch: number, change: ReturnType<typeof propose>) => (await controller.alterPartition(brokerId, brokerEpoch, [change]))[0]!.errorCode;
  assert.equal(await refused(1, one, propose([member(1), member(2), member(3)], { partitionEpoch: before })), ErrorCode.INVALID_UPDATE_VERSION);
  assert.equal(await refused(1, one, propose([member(1), member(2), member(3)], { leaderEpoch: partition().leaderEpoch + 1 })), ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal(await refused(2, two, propose([member(1), member(2), member(3)])), ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.equal(await refused(1, one, propose([member(2), member(3)])), ErrorCode.INVALID_REQUEST, 'an ISR without its leader');
  assert.equal(await refused(1, one, propose([member(1), member(4)])), ErrorCode.INVALID_REQUEST, 'a member that is not a replica');
  // 3 as the leader saw it in an older incarnation's epoch is not eligible.
  assert.equal(await refused(1, one, propose([member(1), member(2), member(3, three - 1)])), ErrorCode.INELIGIBLE_REPLICA);
  await assert.rejects(controller.alterPartition(1, one - 1, [propose([member(1), member(2), member(3)])]), (error: unknown) => error instanceof KafkaError && error.errorCode === ErrorCode.STALE_BROKER_EPOCH);
  assert.equal(committed.length, appended, 'a refused proposal appended a record');

  // 3 caught up again: the leader adds it back.
  const [expanded] = await controller.alterPartition(1, one, [propose([member(1), member(2), member(3, three)])]);
  assert.equal(expanded!.errorCode, ErrorCode.NONE);
  assert.deepEqual(partition().isr, [1, 2, 3]);
});

test('places replicas rack by rack: each partition on as many racks as its replication factor, leaders spread evenly', async () => {
  const { image, controller, quorum, random } = setup();
  const racks: Record<number, string> = { 1: 'a', 2: 'a', 3: 'b', 4: 'b', 5: 'c', 6: 'c' };
  for (const id of [1, 2, 3, 4, 5, 6]) {
    const brokerEpoch = await controller.registerBroker(id, randomUuid(random), [endpoint], racks[id]!);
    await controller.brokerHeartbeat({ ...heartbeat, brokerId: id, brokerEpoch, currentMetadataOffset: quorum.appliedOffset - 1 });
  }
  const [created] = await controller.createTopics([{ name: 'spread', numPartitions: 12, replicationFactor: 3, assignments: [], configs: [] }], false);
  assert.equal(created!.errorCode, ErrorCode.NONE);
  const leaders = new Map<number, number>();
  for (const partition of image.topic('spread')!.partitions.values()) {
    assert.equal(new Set(partition.replicas.map((id) => racks[id])).size, 3, `partition ${partition.partitionId} on [${partition.replicas.join(',')}] does not span three racks`);
    leaders.set(partition.leader, (leaders.get(partition.leader) ?? 0) + 1);
  }
  assert.deepEqual([...leaders.values()], [2, 2, 2, 2, 2, 2], 'leaders are not spread evenly');
  assert.deepEqual(rackAlternated([{ brokerId: 2, rack: null }, { brokerId: 1, rack: null }]), [1, 2], 'without racks: id order');
});

test('unclean.leader.election.enable: the last in-sync leader fenced hands over to a live replica outside the ISR (topic, cluster or node default), or a returning one leads', async () => {
  const { image, controller, quorum, registerLive, options } = setup();
  const elections: string[] = [];
  const uncleanController = new Controller({ ...options, onUncleanElection: (topic, partition, leader, lostIsr) => elections.push(`${topic}-${partition}:${leader}<-${lostIsr.join(',')}`) });
  const epochs = new Map<number, number>();
  for (const id of [1, 2]) epochs.set(id, await registerLive(id));
  await controller.createTopics(
    [
      { name: 'careful', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] },
      { name: 'reckless', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [{ name: 'unclean.leader.election.enable', value: 'true' }] },
    ],
    false,
  );
  const heartbeatOf = (brokerId: number, flags: { wantFence?: boolean } = {}) =>
    uncleanController.brokerHeartbeat({ ...heartbeat, brokerId, brokerEpoch: epochs.get(brokerId)!, currentMetadataOffset: quorum.appliedOffset - 1, ...flags });
  // 2 falls out of both ISRs (it lagged), then the leader 1 is fenced: it is the last in-sync replica.
  for (const topic of ['careful', 'reckless']) {
    const { topicId } = image.topic(topic)!;
    await quorum.append([{ type: 'PartitionChange', topicId, partitionId: 0, leader: 1, isr: [1] }]);
  }
  await heartbeatOf(1, { wantFence: true });
  assert.deepEqual(
    [image.partition('careful', 0)!.leader, image.partition('careful', 0)!.isr, image.partition('careful', 0)!.eligibleLeaderReplicas],
    [-1, [], [1]],
    'clean only: the partition waits for its last in-sync replica, now an eligible leader replica (KIP-966)',
  );
  assert.deepEqual([image.partition('reckless', 0)!.leader, image.partition('reckless', 0)!.isr], [2, [2]], 'unclean: the live replica outside the ISR leads alone');
  assert.deepEqual(elections, ['reckless-0:2<-1']);

  // The cluster-wide dynamic default turns it on for every topic without its own setting; a
  // replica that comes back to a leaderless partition from outside the ISR then leads it.
  await heartbeatOf(2, { wantFence: true });
  await quorum.append([{ type: 'Config', resourceType: 4, resourceName: '', name: 'unclean.leader.election.enable', value: 'true' }]);
  await heartbeatOf(2);
  assert.deepEqual([image.partition('careful', 0)!.leader, image.partition('careful', 0)!.isr], [2, [2]]);
  assert.deepEqual(elections, ['reckless-0:2<-1', 'careful-0:2<-1']);
});

test("unclean.leader.election.enable: the node's own default applies below the topic's setting", async () => {
  const { image, controller, quorum, registerLive, options } = setup();
  const uncleanByDefault = new Controller({ ...options, uncleanLeaderElectionEnable: true });
  const epochs = new Map<number, number>();
  for (const id of [1, 2]) epochs.set(id, await registerLive(id));
  await controller.createTopics(
    [
      { name: 'plain', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] },
      { name: 'strict', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [{ name: 'unclean.leader.election.enable', value: 'false' }] },
    ],
    false,
  );
  for (const topic of ['plain', 'strict']) await quorum.append([{ type: 'PartitionChange', topicId: image.topic(topic)!.topicId, partitionId: 0, leader: 1, isr: [1] }]);
  await uncleanByDefault.brokerHeartbeat({ ...heartbeat, brokerId: 1, brokerEpoch: epochs.get(1)!, currentMetadataOffset: quorum.appliedOffset - 1, wantFence: true });
  assert.equal(image.partition('plain', 0)!.leader, 2);
  assert.equal(image.partition('strict', 0)!.leader, -1);
});

test('auto leader rebalance: partitions led elsewhere go back to their preferred replica when it is an unfenced ISR member', async () => {
  const { image, controller, quorum, registerLive } = setup();
  for (const id of [1, 2, 3]) await registerLive(id);
  await controller.createTopics(
    [{ name: 't', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2, 3] }, { partitionIndex: 2, brokerIds: [3, 1] }], configs: [] }],
    false,
  );
  const { topicId } = image.topic('t')!;
  assert.equal(await controller.balanceLeaders(), 0, 'balanced already');
  // t-0 led by 2 (1 in the ISR), t-1 led by 3 with 2 out of the ISR: only t-0 can move back.
  await quorum.append([
    { type: 'PartitionChange', topicId, partitionId: 0, leader: 2, isr: [1, 2] },
    { type: 'PartitionChange', topicId, partitionId: 1, leader: 3, isr: [3] },
  ]);
  assert.equal(await controller.balanceLeaders(), 1);
  assert.deepEqual([0, 1, 2].map((partition) => image.partition('t', partition)!.leader), [1, 3, 3]);
});

test('eligible leader replicas (KIP-966): replicas that leave an ISR below min ISR stay eligible and lead before the last known leader; an unclean shutdown takes a replica out of the ELR', async () => {
  const { image, controller, quorum, registerLive, random } = setup();
  const epochs = new Map<number, number>();
  for (const id of [1, 2, 3]) epochs.set(id, await registerLive(id));
  await controller.createTopics([{ name: 'e', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }], configs: [{ name: 'min.insync.replicas', value: '2' }] }], false);
  const topicId = image.topic('e')!.topicId;
  const partition = () => image.partition('e', 0)!;
  const state = () => ({ leader: partition().leader, isr: partition().isr, elr: partition().eligibleLeaderReplicas, lastKnownElr: partition().lastKnownElr });
  const beat = (brokerId: number, wantFence: boolean) =>
    controller.brokerHeartbeat({ ...heartbeat, brokerId, brokerEpoch: epochs.get(brokerId)!, currentMetadataOffset: quorum.appliedOffset - 1, wantFence });
  const alter = (isr: number[]) =>
    controller.alterPartition(partition().leader, epochs.get(partition().leader)!, [
      { topicId, partitionId: 0, leaderEpoch: partition().leaderEpoch, partitionEpoch: partition().partitionEpoch, isr: isr.map((brokerId) => ({ brokerId, brokerEpoch: epochs.get(brokerId)! })) },
    ]);

  // At min ISR or above there is no ELR.
  await alter([1, 2]);
  assert.deepEqual(state(), { leader: 1, isr: [1, 2], elr: [], lastKnownElr: [] });
  // Below it, the replica that leaves is eligible: the high watermark no longer moves without it.
  await alter([1]);
  assert.deepEqual(state(), { leader: 1, isr: [1], elr: [2], lastKnownElr: [] });
  await beat(2, true);
  await beat(3, true);
  // The last in-sync replica fenced: the ISR empties, it joins the ELR and is the last known leader.
  await beat(1, true);
  assert.deepEqual(state(), { leader: -1, isr: [], elr: [2, 1], lastKnownElr: [1] });
  // 3 (never eligible) comes back: no leader; 2 (eligible) comes back: it leads, and is the ISR.
  await beat(3, false);
  assert.equal(partition().leader, -1);
  await beat(2, false);
  assert.deepEqual(state(), { leader: 2, isr: [2], elr: [1], lastKnownElr: [] });

  // 1 restarts without a clean shutdown of its epoch: it may have lost unsynced writes, so it is no longer eligible.
  epochs.set(1, await controller.registerBroker(1, randomUuid(random), [endpoint], null, undefined, -1));
  assert.deepEqual(state(), { leader: 2, isr: [2], elr: [], lastKnownElr: [] });
  // 2, the last in-sync replica, is fenced: 1 comes back, but the partition waits for 2 (eligible,
  // and the last known leader); an unclean election takes 1.
  await beat(2, true);
  assert.deepEqual(state(), { leader: -1, isr: [], elr: [2], lastKnownElr: [2] });
  await beat(1, false);
  assert.equal(partition().leader, -1, 'a replica back from an unclean shutdown does not lead while a cleanly stopped one may');
  const [elected] = await controller.electLeaders(1, [{ topic: 'e', partitionIds: [0] }]);
  assert.equal(elected!.partitions[0]!.errorCode, ErrorCode.NONE);
  assert.deepEqual(state(), { leader: 1, isr: [1], elr: [], lastKnownElr: [] }, 'an unclean election drops the ELR');

  // A clean restart (the epoch it registered with) keeps an ELR member's place.
  await beat(2, false);
  await alter([1, 2]);
  await alter([1]);
  assert.deepEqual(state(), { leader: 1, isr: [1], elr: [2], lastKnownElr: [] });
  epochs.set(2, await controller.registerBroker(2, randomUuid(random), [endpoint], null, undefined, epochs.get(2)!));
  assert.deepEqual(state(), { leader: 1, isr: [1], elr: [2], lastKnownElr: [] });

  // The last known leader alone (its ELR place lost to an unclean shutdown) leads again when back,
  // as the last in-sync replica did before Kafka 4.0: nothing safer is left.
  await beat(2, false);
  await beat(2, true);
  await beat(1, true);
  assert.deepEqual(state(), { leader: -1, isr: [], elr: [2, 1], lastKnownElr: [1] });
  epochs.set(1, await controller.registerBroker(1, randomUuid(random), [endpoint], null, undefined, -1));
  epochs.set(2, await controller.registerBroker(2, randomUuid(random), [endpoint], null, undefined, -1));
  assert.deepEqual(state(), { leader: -1, isr: [], elr: [], lastKnownElr: [1] });
  await beat(2, false);
  assert.equal(partition().leader, -1);
  await beat(1, false);
  assert.deepEqual(state(), { leader: 1, isr: [1], elr: [], lastKnownElr: [] });
});

// ---- log directories (KIP-858) -------------------------------------------------------------------

const MIGRATING = 'AAAAAAAAAAAAAAAAAAAAAA';
const UNASSIGNED = 'AAAAAAAAAAAAAAAAAAAAAQ';
const LOST = 'AAAAAAAAAAAAAAAAAAAAAg';

/** A controller whose brokers register the given log directories and are unfenced. */
async function setupWithDirs(dirs: Record<number, string[]>) {
  const context = setup();
  const { controller, quorum, random } = context;
  const epochs = new Map<number, number>();
  const register = async (brokerId: number, previousBrokerEpoch = -1) => {
    const brokerEpoch = await controller.registerBroker(brokerId, randomUuid(random), [endpoint], null, undefined, previousBrokerEpoch, dirs[brokerId]);
    epochs.set(brokerId, brokerEpoch);
    const result = await controller.brokerHeartbeat({ ...heartbeat, brokerId, brokerEpoch, currentMetadataOffset: quorum.appliedOffset - 1 });
    assert.equal(result.isFenced, false);
    return brokerEpoch;
  };
  for (const id of Object.keys(dirs)) await register(Number(id));
  const beat = (brokerId: number, offlineLogDirs: string[] = [], wantFence = false) =>
    controller.brokerHeartbeat({ ...heartbeat, brokerId, brokerEpoch: epochs.get(brokerId)!, currentMetadataOffset: quorum.appliedOffset - 1, wantFence, offlineLogDirs });
  return { ...context, epochs, register, beat };
}

test('log directories: a registration records them; reserved, duplicate and already registered ids are refused as Kafka refuses them', async () => {
  const a = randomUuid(randomSource());
  const b = randomUuid(randomSource());
  const { image, controller, committed, random } = await setupWithDirs({ 1: [a, b], 2: [] });
  assert.deepEqual(image.brokers.get(1)!.logDirs, [a, b]);
  assert.deepEqual(image.brokers.get(2)!.logDirs, []);
  const refused = async (brokerId: number, logDirs: string[], message: RegExp) => {
    const before = committed.length;
    await assert.rejects(controller.registerBroker(brokerId, randomUuid(random), [endpoint], null, undefined, -1, logDirs), (error: unknown) => {
      assert.ok(error instanceof KafkaError);
      assert.equal(error.errorCode, ErrorCode.INVALID_REGISTRATION);
      assert.match(error.message, message);
      return true;
    });
    assert.equal(committed.length, before, 'nothing is written for a refused registration');
  };
  await refused(3, [UNASSIGNED], /Reserved/);
  await refused(3, [LOST, randomUuid(random)], /Reserved/);
  await refused(3, [MIGRATING], /Reserved/);
  // Reserved means the first 64 bits zero and the last below 100 (Kafka's DirectoryId.reserved): 99 is, 100 is not.
  await refused(3, [Buffer.from([...Array(15).fill(0), 99]).toString('base64url')], /Reserved/);
  const notReserved = Buffer.from([...Array(15).fill(0), 100]).toString('base64url');
  const c = randomUuid(random);
  await refused(3, [c, c], /Duplicate/);
  await refused(3, [c, b], /Broker 1 is already registered with directory/);
  // The broker itself registering its directories again (a restart) is fine, and so is an id that is not reserved.
  await controller.registerBroker(1, randomUuid(random), [endpoint], null, undefined, -1, [b, a]);
  assert.deepEqual(image.brokers.get(1)!.logDirs, [b, a]);
  await controller.registerBroker(3, randomUuid(random), [endpoint], null, undefined, -1, [notReserved]);
  assert.deepEqual(image.brokers.get(3)!.logDirs, [notReserved]);
});

test('log directories: new replicas start in the broker\'s only directory, UNASSIGNED if it has several, MIGRATING if it registered none (creates, new partitions, reassignments)', async () => {
  const random = randomSource();
  const [d1, d2a, d2b, d4] = [randomUuid(random), randomUuid(random), randomUuid(random), randomUuid(random)];
  const { image, controller, epochs } = await setupWithDirs({ 1: [d1], 2: [d2a, d2b], 3: [], 4: [d4] });
  const [created] = await controller.createTopics([{ name: 'd', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }], configs: [] }], false);
  assert.equal(created!.errorCode, ErrorCode.NONE);
  assert.deepEqual(image.partition('d', 0)!.directories, [d1, UNASSIGNED, MIGRATING]);
  await controller.createPartitions([{ name: 'd', count: 2, assignments: [[3, 1, 2]] }], false);
  assert.deepEqual(image.partition('d', 1)!.directories, [MIGRATING, d1, UNASSIGNED]);
  // Automatic placement too.
  await controller.createTopics([{ name: 'auto', numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] }], false);
  const expected: Record<number, string> = { 1: d1, 2: UNASSIGNED, 3: MIGRATING, 4: d4 };
  for (const partition of image.topic('auto')!.partitions.values()) assert.deepEqual(partition.directories, [expected[partition.replicas[0]!]]);

  // A reassignment adds 4 (its only directory) and removes 3; the replicas that stay keep theirs.
  const topicId = image.topic('d')!.topicId;
  await controller.assignReplicasToDirs(2, epochs.get(2)!, [{ topicId, partitionId: 0, directoryId: d2b }]);
  const [moved] = await controller.alterPartitionReassignments([{ topic: 'd', partitions: [{ partitionId: 0, replicas: [2, 1, 4] }] }], true);
  assert.equal(moved!.partitions[0]!.errorCode, ErrorCode.NONE);
  const during = image.partition('d', 0)!;
  assert.deepEqual(during.replicas, [2, 1, 4, 3]);
  assert.deepEqual(during.directories, [d2b, d1, d4, MIGRATING]);
  // 4 catches up: the reassignment completes, and 3's entry goes with it.
  const [done] = await controller.alterPartition(during.leader, epochs.get(during.leader)!, [
    { topicId, partitionId: 0, leaderEpoch: during.leaderEpoch, partitionEpoch: during.partitionEpoch, isr: [1, 2, 3, 4].map((brokerId) => ({ brokerId, brokerEpoch: epochs.get(brokerId)! })) },
  ]);
  assert.equal(done!.errorCode, ErrorCode.NONE);
  assert.deepEqual(image.partition('d', 0)!.replicas, [2, 1, 4]);
  assert.deepEqual(image.partition('d', 0)!.directories, [d2b, d1, d4]);
});

test('AssignReplicasToDirs: a replica\'s directory is recorded; Kafka\'s errors for a stale broker epoch, an unknown topic or partition, and a broker that is not a replica', async () => {
  const random = randomSource();
  const [a, b, c] = [randomUuid(random), randomUuid(random), randomUuid(random)];
  const { image, controller, committed, epochs } = await setupWithDirs({ 1: [a, b], 2: [c], 3: [] });
  await controller.createTopics([{ name: 'x', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [2, 1] }], configs: [] }], false);
  const topicId = image.topic('x')!.topicId;
  assert.deepEqual(image.partition('x', 0)!.directories, [UNASSIGNED, c]);

  for (const [brokerId, brokerEpoch] of [[1, epochs.get(1)! + 1], [9, 1]] as const) {
    await assert.rejects(controller.assignReplicasToDirs(brokerId, brokerEpoch, [{ topicId, partitionId: 0, directoryId: a }]), (error: unknown) => error instanceof KafkaError && error.errorCode === ErrorCode.STALE_BROKER_EPOCH);
  }
  const epochBefore = image.partition('x', 0)!.partitionEpoch;
  const results = await controller.assignReplicasToDirs(1, epochs.get(1)!, [
    { topicId, partitionId: 0, directoryId: a },
    { topicId: randomUuid(random), partitionId: 0, directoryId: a },
    { topicId, partitionId: 7, directoryId: a },
    { topicId, partitionId: 1, directoryId: b },
  ]);
  assert.deepEqual(results, [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_ID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.NONE]);
  assert.deepEqual(image.partition('x', 0)!.directories, [a, c]);
  assert.deepEqual(image.partition('x', 1)!.directories, [c, b]);
  assert.equal(image.partition('x', 0)!.partitionEpoch, epochBefore + 1, 'a directory change is a partition change');
  assert.equal(image.partition('x', 0)!.leader, 1);
  assert.deepEqual(image.partition('x', 0)!.isr, [1, 2]);
  const [notReplica] = await controller.assignReplicasToDirs(3, epochs.get(3)!, [{ topicId, partitionId: 0, directoryId: MIGRATING }]);
  assert.equal(notReplica, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  // The same assignment again changes nothing.
  const before = committed.length;
  assert.deepEqual(await controller.assignReplicasToDirs(1, epochs.get(1)!, [{ topicId, partitionId: 0, directoryId: a }]), [ErrorCode.NONE]);
  assert.equal(committed.length, before);
  // Moved to the other directory, then (later in the same request) back: the later one counts.
  await controller.assignReplicasToDirs(1, epochs.get(1)!, [{ topicId, partitionId: 0, directoryId: b }, { topicId, partitionId: 0, directoryId: a }]);
  assert.equal(committed.length, before);

  // A directory the broker has not registered online is offline: the replica leaves the ISR and
  // its leadership, as on a failed directory.
  const unknownDir = randomUuid(random);
  assert.deepEqual(await controller.assignReplicasToDirs(1, epochs.get(1)!, [{ topicId, partitionId: 0, directoryId: unknownDir }]), [ErrorCode.NONE]);
  const offline = image.partition('x', 0)!;
  assert.deepEqual({ leader: offline.leader, isr: offline.isr, directories: offline.directories }, { leader: 2, isr: [2], directories: [unknownDir, c] });
  // A preferred election does not bring it back while its directory is offline.
  const [preferred] = await controller.electLeaders(0, [{ topic: 'x', partitionIds: [0] }]);
  assert.equal(preferred!.partitions[0]!.errorCode, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
});

test('a heartbeat reporting a log directory offline moves leadership and ISR off the replicas in it only, records the directories still online, and elections skip those replicas while ELR rules hold', async () => {
  const random = randomSource();
  const [a, b, c] = [randomUuid(random), randomUuid(random), randomUuid(random)];
  const { image, controller, committed, epochs, register, beat } = await setupWithDirs({ 1: [a, b], 2: [c] });
  await controller.createTopics(
    [{ name: 'j', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }, { partitionIndex: 1, brokerIds: [1, 2] }], configs: [{ name: 'min.insync.replicas', value: '2' }] }],
    false,
  );
  const topicId = image.topic('j')!.topicId;
  await controller.assignReplicasToDirs(1, epochs.get(1)!, [{ topicId, partitionId: 0, directoryId: a }, { topicId, partitionId: 1, directoryId: b }]);
  const state = (partitionId: number) => {
    const partition = image.partition('j', partitionId)!;
    return { leader: partition.leader, isr: partition.isr, elr: partition.eligibleLeaderReplicas, lastKnownElr: partition.lastKnownElr, directories: partition.directories };
  };
  const p1Before = image.partition('j', 1)!.partitionEpoch;

  // Directory a fails on broker 1: partition 0 (in a) loses 1 from its ISR (into the ELR: the ISR
  // is below min ISR) and its leadership moves to 2; partition 1 (in b) is untouched.
  const before = committed.length;
  const result = await beat(1, [a]);
  assert.equal(result.isFenced, false);
  assert.deepEqual(state(0), { leader: 2, isr: [2], elr: [1], lastKnownElr: [], directories: [a, c] });
  assert.deepEqual(state(1), { leader: 1, isr: [1, 2], elr: [], lastKnownElr: [], directories: [b, c] });
  assert.equal(image.partition('j', 1)!.partitionEpoch, p1Before);
  assert.deepEqual(image.brokers.get(1)!.logDirs, [b]);
  assert.deepEqual(committed.slice(before).map((record) => record.type), ['PartitionChange', 'BrokerRegistrationChange']);
  assert.deepEqual(committed.at(-1), { type: 'BrokerRegistrationChange', brokerId: 1, brokerEpoch: epochs.get(1)!, logDirs: [b] });
  // Later heartbeats name it again: nothing new to do.
  const after = committed.length;
  await beat(1, [a]);
  assert.equal(committed.length, after);
  // A directory the broker never registered changes nothing either.
  await beat(1, [a, randomUuid(random)]);
  assert.equal(committed.length, after);

  // 2 is fenced: partition 0's eligible replica 1 is on the offline directory, so it does not lead;
  // partition 1 keeps its leader 1 (its directory b is online) and 2 becomes eligible there.
  await beat(2, [], true);
  assert.deepEqual(state(0), { leader: -1, isr: [], elr: [1, 2], lastKnownElr: [2], directories: [a, c] });
  assert.deepEqual(state(1), { leader: 1, isr: [1], elr: [2], lastKnownElr: [], directories: [b, c] });
  const [unclean] = await controller.electLeaders(1, [{ topic: 'j', partitionIds: [0] }]);
  assert.equal(unclean!.partitions[0]!.errorCode, ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, 'no election takes a replica on an offline directory');

  // Broker 1 restarts cleanly and registers both directories again: a is online, and 1, an
  // eligible leader replica of partition 0, leads it once unfenced.
  await register(1, epochs.get(1)!);
  assert.deepEqual(image.brokers.get(1)!.logDirs, [a, b]);
  assert.deepEqual(state(0), { leader: 1, isr: [1], elr: [2], lastKnownElr: [], directories: [a, c] });
});

test('a heartbeat that fences a broker and reports a directory offline, and one reporting every directory offline', async () => {
  const random = randomSource();
  const [a, b, c] = [randomUuid(random), randomUuid(random), randomUuid(random)];
  const { image, controller, committed, epochs, beat } = await setupWithDirs({ 1: [a, b], 2: [c] });
  await controller.createTopics([{ name: 'k', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] }], false);
  const topicId = image.topic('k')!.topicId;
  await controller.assignReplicasToDirs(1, epochs.get(1)!, [{ topicId, partitionId: 0, directoryId: a }]);
  // Both at once: the directory first, then the fence; the outcome is one consistent state.
  await beat(1, [a], true);
  assert.deepEqual(image.brokers.get(1)!.logDirs, [b]);
  assert.equal(image.brokers.get(1)!.fenced, true);
  assert.deepEqual({ leader: image.partition('k', 0)!.leader, isr: image.partition('k', 0)!.isr }, { leader: 2, isr: [2] });
  // Unfenced again, 1 does not lead the partition whose replica is on the failed directory.
  await beat(1, [a]);
  assert.equal(image.brokers.get(1)!.fenced, false);
  await beat(2, [], true);
  assert.equal(image.partition('k', 0)!.leader, -1);

  // Every directory of 2 offline: its partitions lose it; the registration keeps its list (Kafka
  // writes an empty one, which changes nothing), so Conveyor writes none.
  await beat(2);
  assert.equal(image.brokers.get(2)!.fenced, false);
  assert.equal(image.partition('k', 0)!.leader, 2);
  const before = committed.length;
  await beat(2, [c]);
  assert.deepEqual(image.brokers.get(2)!.logDirs, [c]);
  assert.equal(image.partition('k', 0)!.leader, -1);
  assert.ok(committed.slice(before).every((record) => record.type === 'PartitionChange'));
});

test('log directories survive a snapshot: the image written as records and replayed, through Kafka\'s record formats, is the same', async () => {
  const random = randomSource();
  const [a, b, c] = [randomUuid(random), randomUuid(random), randomUuid(random)];
  const { image, controller, epochs, beat } = await setupWithDirs({ 1: [a, b], 2: [c], 3: [] });
  await controller.createTopics([{ name: 's', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }, { partitionIndex: 1, brokerIds: [2, 1] }], configs: [] }], false);
  const topicId = image.topic('s')!.topicId;
  await controller.assignReplicasToDirs(1, epochs.get(1)!, [{ topicId, partitionId: 0, directoryId: a }]);
  await beat(1, [b]);
  const copy = new MetadataImage();
  for (const record of imageRecords(image)) {
    const decoded = deserializeMetadataRecord(serializeMetadataRecord(record));
    assert.ok(decoded);
    copy.apply(decoded);
  }
  assert.deepEqual([...copy.brokers.values()].map((broker) => [broker.brokerId, broker.logDirs]), [[1, [a]], [2, [c]], [3, []]]);
  assert.deepEqual(copy.partition('s', 0)!.directories, [a, c, MIGRATING]);
  assert.deepEqual(copy.partition('s', 1)!.directories, [c, UNASSIGNED]);
  assert.deepEqual(copy.topic('s'), image.topic('s'));
  assert.deepEqual(copy.brokers, image.brokers);
});
