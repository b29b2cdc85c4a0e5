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
  const metadataQuorum = {
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
    raft: { epoch: 1 },
  } as unknown as RaftMetadataQuorum;
  const unreachable: Transport = {
    send: () => Promise.reject(new TransportError('unreachable', 5, 'no transport in this test')),
  };
  const channel = new ControllerChannel({ nodeId: 1, clusterId: 'c', quorum, controller, image, transport: options.transport ?? unreachable, clustered: true, clock, logger: silentLogger });
  return { image, clock, controller, channel, heartbeats, committed };
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
