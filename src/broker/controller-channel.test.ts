import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import { silentLogger } from '../base/logger.js';
import { randomUuid } from '../base/uuid.js';
import { type BrokerHeartbeat, Controller } from '../metadata/controller.js';
import { MetadataImage } from '../metadata/metadata-image.js';
import type { AppendedRecord } from '../metadata/metadata-record.js';
import type { AssignReplicasToDirsRequest, AssignReplicasToDirsResponse } from '../protocol/messages/index.js';
import { type Transport, TransportError } from '../protocol/transport.js';
import type { RaftMetadataQuorum } from '../quorum/raft-metadata-quorum.js';
import { ManualClock } from '../testing/log-support.js';
import { committingQuorum } from '../testing/metadata-support.js';
import { ControllerChannel } from './controller-channel.js';

const random = { nextInt: (bound: number) => randomInt(bound), bytes: (length: number) => randomBytes(length) };
const endpoint = { name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 };

/**
 * A channel on node 1, the active controller itself (`active`) or reaching controller 5 through
 * `transport`; with `ownBroker`, the controller knows node 1's broker as its own.
 */
function setup(options: { active: boolean; transport?: Transport; ownBroker?: boolean }) {
  const image = new MetadataImage();
  const clock = new ManualClock();
  const committed: AppendedRecord[] = [];
  // A deposed controller that does not know it yet: its appends never commit.
  let deposed = false;
  // It answers heartbeats that change nothing at once, as the Raft quorum lets it (a deposed
  // controller that does not know it yet still believes it is active).
  const metadataQuorum = committingQuorum(image, committed, () => (deposed ? new Promise<void>(() => {}) : Promise.resolve()));
  const controller = new Controller({ image, quorum: metadataQuorum, clock, random, defaultNumPartitions: 1, defaultReplicationFactor: 1, ...(options.ownBroker ? { localBrokerId: 1 } : {}) });
  const heartbeats: BrokerHeartbeat[] = [];
  const heartbeat = controller.brokerHeartbeat.bind(controller);
  controller.brokerHeartbeat = (beat) => {
    heartbeats.push(beat);
    return heartbeat(beat);
  };
  const quorum = {
    isActive: options.active,
    activeControllerId: options.active ? 1 : 5,
    get appliedOffset() {
      return committed.length;
    },
    // Appends straight to the log (no controller queue), committed unless deposed.
    confirmLeadership: () => metadataQuorum.append([{ type: 'NoOp' }]),
    raft: {
      epoch: 1,
      log: {
        get endOffset() {
          return committed.length;
        },
      },
      get highWatermark() {
        return committed.length;
      },
    },
  } as unknown as RaftMetadataQuorum;
  const unreachable: Transport = {
    send: () => Promise.reject(new TransportError('unreachable', 5, 'no transport in this test')),
  };
  const channel = new ControllerChannel({ nodeId: 1, clusterId: 'c', quorum, controller, image, transport: options.transport ?? unreachable, clustered: true, clock, logger: silentLogger });
  const depose = () => {
    deposed = true;
  };
  return { image, clock, controller, channel, heartbeats, committed, depose };
}

/** Lets promise callbacks run, advancing the manual clock `ms` at a time `times` times (retry backoffs). */
async function settle(clock: ManualClock, times = 20, ms = 100) {
  for (let index = 0; index < times; index++) {
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(ms);
  }
}

test('a broker waits for the controller to unfence it with heartbeats, unless its registration\'s batch unfenced it (the controller\'s own broker)', async () => {
  for (const ownBroker of [false, true]) {
    const { image, clock, channel, heartbeats } = setup({ active: true, ownBroker });
    const brokerEpoch = await channel.registerThisBroker([endpoint], null, randomUuid(random), clock.monotonicMs() + 10_000);
    assert.equal(image.brokers.get(1)!.fenced, !ownBroker);
    await channel.awaitUnfenced(brokerEpoch, clock.monotonicMs() + 10_000);
    assert.equal(image.brokers.get(1)!.fenced, false);
    assert.equal(heartbeats.length, ownBroker ? 0 : 1, ownBroker ? 'already unfenced: no heartbeat' : 'one heartbeat unfences it');
  }
});

test('the channel registers the log directories, and reports offline ones in a heartbeat at once and in every one after', async () => {
  const { image, clock, controller, channel, heartbeats } = setup({ active: true });
  const [a, b] = [randomUuid(random), randomUuid(random)];
  const brokerEpoch = await channel.registerThisBroker([endpoint], null, randomUuid(random), clock.monotonicMs() + 10_000, -1, [a, b]);
  assert.deepEqual(image.brokers.get(1)!.logDirs, [a, b]);
  await channel.awaitUnfenced(brokerEpoch, clock.monotonicMs() + 10_000);
  await controller.createTopics([{ name: 't', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
  await channel.assignReplicasToDirs([{ topicId: image.topic('t')!.topicId, partitionIndex: 0, directoryId: a }], clock.monotonicMs() + 10_000);
  assert.deepEqual(image.partition('t', 0)!.directories, [a]);

  const stop = channel.startHeartbeats(() => brokerEpoch, 60_000, 120_000);
  const before = heartbeats.length;
  channel.reportOfflineLogDirs([a]);
  await settle(clock, 5, 0);
  assert.equal(heartbeats.length, before + 1, 'a heartbeat goes at once, not after the 60 s interval');
  assert.deepEqual(heartbeats.at(-1)!.offlineLogDirs, [a]);
  assert.deepEqual(image.brokers.get(1)!.logDirs, [b]);
  assert.equal(image.partition('t', 0)!.leader, -1, 'the only replica is on the failed directory');
  // The same directory again: nothing new to say.
  channel.reportOfflineLogDirs([a]);
  await settle(clock, 5, 0);
  assert.equal(heartbeats.length, before + 1);
  // The regular heartbeat names it too.
  clock.advance(60_000);
  await settle(clock, 5, 0);
  assert.equal(heartbeats.length, before + 2);
  assert.deepEqual(heartbeats.at(-1)!.offlineLogDirs, [a]);
  stop();
});

test('assignReplicasToDirs batches concurrent calls into one AssignReplicasToDirs, retries NOT_CONTROLLER, drops obsolete assignments and rejects on other errors', async () => {
  const sent: AssignReplicasToDirsRequest[] = [];
  const answers: ((request: AssignReplicasToDirsRequest) => AssignReplicasToDirsResponse)[] = [];
  const transport: Transport = {
    send: async (nodeId, api, _version, request) => {
      assert.equal(nodeId, 5);
      assert.equal(api.apiKey, 73);
      sent.push(request as AssignReplicasToDirsRequest);
      const answer = answers.shift();
      if (!answer) throw new TransportError('unreachable', 5, 'controller gone');
      return answer(request as AssignReplicasToDirsRequest) as never;
    },
  };
  const { clock, channel } = setup({ active: false, transport });
  const [a, b] = [randomUuid(random), randomUuid(random)];
  const [t1, t2] = [randomUuid(random), randomUuid(random)];
  const echo = (errorFor: (topicId: string, partitionIndex: number) => number) => (request: AssignReplicasToDirsRequest): AssignReplicasToDirsResponse => ({
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    directories: request.directories.map((directory) => ({
      id: directory.id,
      topics: directory.topics.map((topic) => ({ topicId: topic.topicId, partitions: topic.partitions.map(({ partitionIndex }) => ({ partitionIndex, errorCode: errorFor(topic.topicId, partitionIndex) })) })),
    })),
  });
  answers.push(() => ({ throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, directories: [] }));
  answers.push(echo((topicId) => (topicId === t2 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.NONE)));
  const deadline = clock.monotonicMs() + 10_000;
  const first = channel.assignReplicasToDirs([{ topicId: t1, partitionIndex: 0, directoryId: a }, { topicId: t1, partitionIndex: 1, directoryId: b }], deadline);
  const second = channel.assignReplicasToDirs([{ topicId: t2, partitionIndex: 0, directoryId: a }, { topicId: t1, partitionIndex: 1, directoryId: a }], deadline);
  await settle(clock);
  await first;
  await second;
  assert.equal(sent.length, 2, 'one request, retried once after NOT_CONTROLLER');
  assert.deepEqual(sent[0], sent[1]);
  const named = sent[1]!.directories.flatMap((directory) => directory.topics.flatMap((topic) => topic.partitions.map((partition) => `${directory.id}/${topic.topicId}:${partition.partitionIndex}`)));
  // The later assignment of t1-1 (to a) is the one sent.
  assert.deepEqual(named.sort(), [`${a}/${t1}:0`, `${a}/${t1}:1`, `${a}/${t2}:0`].sort());

  answers.push(echo(() => ErrorCode.INVALID_REQUEST));
  const refused = channel.assignReplicasToDirs([{ topicId: t1, partitionIndex: 0, directoryId: b }], deadline);
  const checked = assert.rejects(refused, (error: unknown) => error instanceof KafkaError && error.errorCode === ErrorCode.INVALID_REQUEST);
  await settle(clock);
  await checked;

  // No controller answers (transport failures, retried): REQUEST_TIMED_OUT at the deadline.
  const late = channel.assignReplicasToDirs([{ topicId: t1, partitionIndex: 0, directoryId: b }], clock.monotonicMs() + 1_000);
  const timedOut = assert.rejects(late, (error: unknown) => error instanceof KafkaError && error.errorCode === ErrorCode.REQUEST_TIMED_OUT);
  await settle(clock, 30);
  await timedOut;
});

/**
 * Broker 2 heartbeating to node 1, the active controller, with an image of its own that applies
 * the committed records only while `following` (its metadata fetches get through); `hold` keeps
 * heartbeat answers back until released (an answer read only after a pause).
 */
async function remoteBroker() {
  const controllerSide = setup({ active: true });
  const { committed } = controllerSide;
  const image = new MetadataImage();
  let applied = 0;
  let following = true;
  let reachable = true;
  const held: (() => void)[] = [];
  let hold = false;
  const follow = () => {
    if (!following) return;
    for (; applied < committed.length; applied++) if (committed[applied]!.type !== 'NoOp') image.apply(committed[applied] as never);
  };
  const transport: Transport = {
    send: async (nodeId, api, _version, request) => {
      if (!reachable) throw new TransportError('unreachable', nodeId, 'cut off');
      const answer = api.apiKey === 62 ? await controllerSide.channel.registerBroker(request as never) : await controllerSide.channel.brokerHeartbeatRequest(request as never);
      if (hold) await new Promise<void>((resolve) => held.push(resolve));
      follow();
      return answer as never;
    },
  };
  const quorum = {
    isActive: false,
    activeControllerId: 1,
    get appliedOffset() {
      return applied;
    },
    raft: { epoch: 1 },
  } as unknown as RaftMetadataQuorum;
  const channel = new ControllerChannel({ nodeId: 2, clusterId: 'c', quorum, controller: controllerSide.controller, image, transport, clustered: true, clock: controllerSide.clock, logger: silentLogger });
  return {
    ...controllerSide,
    channel,
    brokerImage: image,
    follow,
    setFollowing: (value: boolean) => {
      following = value;
      follow();
    },
    setReachable: (value: boolean) => {
      reachable = value;
    },
    setHold: (value: boolean) => {
      hold = value;
      if (!value) for (const release of held.splice(0)) release();
    },
  };
}

test('a broker back from a pause trusts its image only once a heartbeat sent after the pause finds it caught up, not as soon as it is unfenced', async () => {
  const side = await remoteBroker();
  const { clock, channel, controller, brokerImage } = side;
  const registering = channel.registerThisBroker([endpoint], null, randomUuid(random), clock.monotonicMs() + 10_000);
  await settle(clock, 5, 0);
  const brokerEpoch = await registering;
  const unfencing = channel.awaitUnfenced(brokerEpoch, clock.monotonicMs() + 10_000);
  await settle(clock, 5, 10);
  await unfencing;
  const stop = channel.startHeartbeats(() => brokerEpoch, 1_000, 3_000);
  await settle(clock, 15, 100);
  assert.equal(channel.mayBeStale(), false, 'heartbeats accepted');

  // Paused: no heartbeat gets through for longer than the session, and the controller fences it.
  side.setReachable(false);
  side.setFollowing(false);
  await settle(clock, 40, 100);
  assert.equal(channel.mayBeStale(), true, 'no heartbeat accepted for a session');
  await controller.fenceBroker(2);
  assert.equal(controller.image.brokers.get(2)!.fenced, true);
  assert.equal(brokerImage.brokers.get(2)!.fenced, false, 'its own image has not heard');

  // Resumed: its heartbeats get through at once, its metadata fetches not yet. The controller
  // unfences it (its metadata reached its registration), but its image lacks the fencing.
  side.setReachable(true);
  await settle(clock, 15, 100);
  assert.equal(controller.image.brokers.get(2)!.fenced, false, 'unfenced again');
  assert.equal(channel.mayBeStale(), true, 'unfenced, but its image is behind: still not trusted');

  // Its metadata catches up: the next heartbeat, soon rather than an interval later, says so.
  side.setFollowing(true);
  await settle(clock, 3, 50);
  assert.equal(channel.mayBeStale(), false, 'caught up: trusted again within a couple of retries');

  // An answer held across a pause counts from when its heartbeat left, not from when it is read.
  side.setHold(true);
  await settle(clock, 15, 100);
  await settle(clock, 30, 100);
  assert.equal(channel.mayBeStale(), true, 'nothing answered for a session');
  side.setHold(false);
  await settle(clock, 1, 0);
  assert.equal(channel.mayBeStale(), true, 'the answer read now is to a heartbeat sent a session ago');
  await settle(clock, 15, 100);
  assert.equal(channel.mayBeStale(), false);
  stop();
});

test('a controller paused and deposed meanwhile does not tell its own broker it is caught up: a majority must still follow it', async () => {
  const { clock, channel, committed, depose } = setup({ active: true, ownBroker: true });
  const brokerEpoch = await channel.registerThisBroker([endpoint], null, randomUuid(random), clock.monotonicMs() + 10_000);
  await channel.awaitUnfenced(brokerEpoch, clock.monotonicMs() + 10_000);
  const stop = channel.startHeartbeats(() => brokerEpoch, 1_000, 3_000);
  await settle(clock, 15, 100);
  assert.equal(channel.mayBeStale(), false, 'its heartbeats confirmed');
  assert.ok(committed.some((record) => record.type === 'NoOp'), 'confirmed by a committed NoOpRecord');

  // Deposed while paused: its own image says nothing changed, but nothing it appends commits now.
  depose();
  await settle(clock, 40, 100);
  assert.equal(channel.mayBeStale(), true, 'no heartbeat could be confirmed for a session');
  stop();
});

test('a node that stood still for less than a session distrusts its image until a heartbeat sent afterwards finds it caught up', async () => {
  const side = await remoteBroker();
  const { clock, channel } = side;
  const registering = channel.registerThisBroker([endpoint], null, randomUuid(random), clock.monotonicMs() + 10_000);
  await settle(clock, 5, 0);
  const unfencing = channel.awaitUnfenced(await registering, clock.monotonicMs() + 10_000);
  await settle(clock, 5, 10);
  await unfencing;
  const stop = channel.startHeartbeats(() => 1, 1_000, 9_000);
  await settle(clock, 15, 100);
  assert.equal(channel.mayBeStale(), false);

  // A heartbeat on its way (answered, the answer not read yet) when the node stops for 3 s: within
  // the session, but leaderships may move meanwhile. Requests read before its timers run find it
  // stale, and it stays so until a heartbeat sent afterwards is answered caught up.
  side.setHold(true);
  await settle(clock, 11, 100);
  side.setFollowing(false);
  await side.controller.createTopics([{ name: 'moved', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], false);
  clock.jump(3_000);
  assert.equal(channel.mayBeStale(), true, 'back from standing still, before any timer ran');
  clock.advance(0);
  assert.equal(channel.mayBeStale(), true, 'its check ran: no heartbeat since');
  side.setHold(false);
  await settle(clock, 1, 0);
  assert.equal(channel.mayBeStale(), true, 'the answer read now is to a heartbeat sent before it stood still');
  await settle(clock, 5, 10);
  assert.equal(channel.mayBeStale(), true, 'the heartbeat sent afterwards finds its image behind');
  side.setFollowing(true);
  await settle(clock, 3, 50);
  assert.equal(channel.mayBeStale(), false, 'caught up');
  stop();
});
