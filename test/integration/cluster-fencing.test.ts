// A broker is fenced until its metadata has caught up (Kafka's KRaft rule): BrokerRegistration
// writes a fenced RegisterBrokerRecord, the broker heartbeats its applied metadata offset at once,
// and the controller unfences it (UnfenceBrokerRecord) only when that offset has reached the
// registration and the broker does not ask to stay fenced. Seen three ways: the records every start
// leaves in __cluster_metadata (a single node and a three-node cluster, restarts included), a
// restarted broker that only serves once it has the metadata committed while it was down, and
// BrokerRegistration and BrokerHeartbeat sent by hand to the active controller's listener. Also
// metadata.max.idle.interval.ms: an idle active controller appends NoOpRecords, so followers see
// the high watermark move.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import type { Broker } from '../../src/broker/broker.js';
import { resolveBrokerConfig } from '../../src/broker/broker-config.js';
import { ConfigError } from '../../src/base/config-def.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import type { MetadataRecord } from '../../src/metadata/metadata-record.js';
import { deserializeMetadataRecord } from '../../src/metadata/metadata-record-serde.js';
import { CLUSTER_METADATA_TOPIC } from '../../src/metadata/topic-name.js';
import { BrokerHeartbeatApi, BrokerRegistrationApi, MetadataApi } from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { decodeRecordBatchesSync } from '../../src/protocol/records/record-batch.js';
import { startBroker } from '../../src/node/start-broker.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';

function kafka(bootstrapServers: string): Kafka {
  return new Kafka({ clientId: 'fencing-test', brokers: bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Kafka's api key of NoOpRecord. */
const NOOP_API_KEY = 20;

interface LoggedValue {
  /** The metadata record's api key (Kafka's numbering: RegisterBroker 0, UnfenceBroker 8, NoOp 20). */
  apiKey: number;
  /** The record as Conveyor decodes it; null for types the image skips. */
  record: MetadataRecord | null;
}

/** Every metadata record in the node's __cluster_metadata log, in log order (control batches left out). */
async function metadataLog(broker: Broker): Promise<LoggedValue[]> {
  const log = broker.services.replicaManager.logManager.get(CLUSTER_METADATA_TOPIC, 0);
  assert.ok(log, 'the node has a metadata log');
  const values: LoggedValue[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const read = await log.read(offset, { maxBytes: 1024 * 1024, maxOffset: log.logEndOffset, minOneBatch: true });
    const batches = [...decodeRecordBatchesSync(Buffer.concat(read.chunks))];
    if (batches.length === 0) break;
    for (const batch of batches) {
      offset = batch.baseOffset + batch.lastOffsetDelta + 1;
      if (batch.control) continue;
      for (const record of batch.records) {
        if (!record.value) continue;
        const reader = new Reader(record.value);
        reader.readUnsignedVarInt(); // frame version
        values.push({ apiKey: reader.readUnsignedVarInt(), record: deserializeMetadataRecord(record.value) });
      }
    }
  }
  return values;
}

/** Broker `brokerId`'s registrations and (un)fencings, in log order. */
function brokerHistory(values: readonly LoggedValue[], brokerId: number): MetadataRecord[] {
  return values
    .map((value) => value.record)
    .filter((record): record is MetadataRecord => record !== null && 'brokerId' in record && record.brokerId === brokerId && record.type !== 'ProducerIds');
}

/** Checks that every registration in `history` is fenced and followed by the unfencing of its epoch. */
function assertRegisteredFencedThenUnfenced(history: readonly MetadataRecord[], brokerId: number): void {
  const registrations = history.filter((record) => record.type === 'RegisterBroker');
  assert.ok(registrations.length > 0, `broker ${brokerId} registered`);
  for (const registration of registrations) {
    assert.equal(registration.type === 'RegisterBroker' && registration.fenced, true, `broker ${brokerId} epoch ${registration.brokerEpoch} registered fenced`);
    const at = history.indexOf(registration);
    const unfenced = history.findIndex((record) => record.type === 'UnfenceBroker' && record.brokerEpoch === registration.brokerEpoch);
    assert.ok(unfenced > at, `broker ${brokerId} epoch ${registration.brokerEpoch} unfenced after its registration`);
  }
}

describe('a single node (a quorum of one) registers fenced and is unfenced before it serves', () => {
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'conveyor-fencing-'));
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes a fenced registration and then its unfencing, on the first start and on a restart with a new incarnation', async () => {
    const first = await startBroker({ port: 0, dataDir });
    let firstIncarnation: string;
    try {
      const self = first.broker.services.image.brokers.get(1)!;
      assert.equal(self.fenced, false, 'unfenced once startBroker resolves');
      firstIncarnation = self.incarnationId;
      const admin = kafka(first.bootstrapServers).admin();
      await admin.connect();
      try {
        assert.deepEqual((await admin.describeCluster()).brokers.map((broker) => broker.nodeId), [1]);
      } finally {
        await admin.disconnect();
      }
      const history = brokerHistory(await metadataLog(first.broker), 1);
      assertRegisteredFencedThenUnfenced(history, 1);
    } finally {
      await first.close();
    }

    const second = await startBroker({ port: 0, dataDir });
    try {
      const self = second.broker.services.image.brokers.get(1)!;
      assert.equal(self.fenced, false);
      assert.equal(self.brokerEpoch, 2);
      assert.notEqual(self.incarnationId, firstIncarnation);
      const history = brokerHistory(await metadataLog(second.broker), 1);
      assert.deepEqual(
        history.filter((record) => record.type === 'RegisterBroker').map((record) => record.brokerEpoch),
        [1, 2],
      );
      assertRegisteredFencedThenUnfenced(history, 1);
    } finally {
      await second.close();
    }
  });
});

describe('brokers of a three-node cluster are fenced until caught up', () => {
  let cluster: RunningCluster;

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
  });

  after(async () => {
    await cluster?.close();
  });

  it('registers every broker fenced and unfences it before startCluster resolves', async () => {
    for (const id of cluster.nodeIds) {
      const self = cluster.node(id).broker!.services.image.brokers.get(id);
      assert.equal(self?.fenced, false, `node ${id} sees itself unfenced once started`);
    }
    const values = await metadataLog(cluster.node(cluster.activeController()).broker!);
    for (const id of cluster.nodeIds) assertRegisteredFencedThenUnfenced(brokerHistory(values, id), id);
  });

  it('unfences a registration only when its heartbeat has reached the registration offset and it does not want fence', async () => {
    const controllerId = cluster.activeController();
    const controller = cluster.node(controllerId).broker!;
    const listener = controller.listeners.find((candidate) => candidate.name === 'CONTROLLER')!;
    const connection = await KafkaConnection.open(connectTcp, `127.0.0.1:${listener.port}`);
    const brokerId = 99;
    const image = () => controller.services.image.brokers.get(brokerId);
    try {
      const registered = await connection.send(BrokerRegistrationApi, 4, {
        brokerId,
        clusterId: cluster.clusterId,
        incarnationId: 'q7vKjbdwQvWsVqzvI3oZ3A',
        listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 1, securityProtocol: 0 }],
        features: [],
        rack: null,
        isMigratingZkBroker: false,
        logDirs: [],
        previousBrokerEpoch: -1n,
      });
      assert.equal(registered.errorCode, ErrorCode.NONE);
      const brokerEpoch = registered.brokerEpoch;
      assert.equal(image()?.fenced, true, 'registered fenced');
      assert.equal(image()?.incarnationId, 'q7vKjbdwQvWsVqzvI3oZ3A');
      // The registration is applied on the controller, so it is at or below its applied offset.
      const registrationOffset = BigInt(controller.services.quorum.appliedOffset - 1);
      const beat = (currentMetadataOffset: bigint, wantFence = false, wantShutDown = false, epoch = brokerEpoch) =>
        connection.send(BrokerHeartbeatApi, 1, { brokerId, brokerEpoch: epoch, currentMetadataOffset, wantFence, wantShutDown });

      const behind = await beat(-1n);
      assert.deepEqual([behind.errorCode, behind.isCaughtUp, behind.isFenced], [ErrorCode.NONE, false, true]);
      const wantsFence = await beat(registrationOffset, true);
      assert.deepEqual([wantsFence.errorCode, wantsFence.isCaughtUp, wantsFence.isFenced], [ErrorCode.NONE, true, true]);
      assert.equal(image()?.fenced, true, 'still fenced: behind, then asking to stay fenced');

      const stale = await beat(registrationOffset, false, false, brokerEpoch - 1n);
      assert.equal(stale.errorCode, ErrorCode.STALE_BROKER_EPOCH);
      assert.equal(image()?.fenced, true);

      const caughtUp = await beat(registrationOffset);
      assert.deepEqual([caughtUp.errorCode, caughtUp.isCaughtUp, caughtUp.isFenced], [ErrorCode.NONE, true, false]);
      await until(() => cluster.nodeIds.every((id) => cluster.node(id).broker!.services.image.brokers.get(brokerId)?.fenced === false), 10_000, 'broker 99 unfenced on every node');

      // Kafka's controlled shutdown, so the made-up broker leaves no trace clients could see.
      const down = await beat(registrationOffset, false, true);
      assert.deepEqual([down.errorCode, down.isFenced, down.shouldShutDown], [ErrorCode.NONE, true, true]);
      await until(() => cluster.nodeIds.every((id) => cluster.node(id).broker!.services.image.brokers.get(brokerId)?.fenced === true), 10_000, 'broker 99 fenced again on every node');
    } finally {
      connection.close();
    }
  });

  it('a restarted broker registers a new incarnation and serves only once it has the metadata committed while it was down', async () => {
    const controllerId = cluster.activeController();
    const restarted = cluster.nodeIds.find((id) => id !== controllerId)!;
    const other = cluster.nodeIds.find((id) => id !== controllerId && id !== restarted)!;
    const before = cluster.node(restarted).broker!.services.image.brokers.get(restarted)!;
    await cluster.crash(restarted);

    // Metadata committed while it is down: topics created through another broker.
    const admin = kafka(cluster.node(other).bootstrapServer).admin();
    await admin.connect();
    try {
      const topics = Array.from({ length: 20 }, (_, index) => ({ topic: `while-down-${index}`, numPartitions: 2, replicationFactor: 1 }));
      assert.ok(await admin.createTopics({ topics, waitForLeaders: false }));
    } finally {
      await admin.disconnect();
    }
    const controller = cluster.node(cluster.activeController()).broker!;
    await until(() => controller.services.image.topic('while-down-19') !== undefined, 10_000, 'the topics on the controller');

    await cluster.restart(restarted);
    const node = cluster.node(restarted).broker!;
    // Started means unfenced, which means caught up: every topic committed while it was down is here.
    for (let index = 0; index < 20; index++) assert.ok(node.services.image.topic(`while-down-${index}`), `while-down-${index} loaded before serving`);
    const self = node.services.image.brokers.get(restarted)!;
    assert.equal(self.fenced, false);
    assert.ok(self.brokerEpoch > before.brokerEpoch, 'a new broker epoch');
    assert.notEqual(self.incarnationId, before.incarnationId, 'a new incarnation id');

    // In the log: the new registration is fenced, comes after the topics, and is unfenced later.
    const values = await metadataLog(controller);
    const history = brokerHistory(values, restarted);
    assertRegisteredFencedThenUnfenced(history, restarted);
    const records = values.map((value) => value.record);
    const registration = records.findIndex((record) => record?.type === 'RegisterBroker' && record.brokerId === restarted && record.brokerEpoch === self.brokerEpoch);
    const lastTopic = records.findIndex((record) => record?.type === 'Topic' && record.name === 'while-down-19');
    assert.ok(lastTopic >= 0 && registration > lastTopic, 'the new registration follows what was committed while the broker was down');

    // Its own Metadata answers list it and the topics (the other brokers learn of its unfencing a
    // moment later, as they learn of any committed record).
    const direct = await KafkaConnection.open(connectTcp, cluster.node(restarted).bootstrapServer);
    try {
      const metadata = await direct.send(MetadataApi, 12, { topics: [{ name: 'while-down-0', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      assert.ok(metadata.brokers.some((broker) => broker.nodeId === restarted), 'the restarted broker is in its own metadata');
      assert.equal(metadata.topics[0]!.errorCode, ErrorCode.NONE);
      assert.equal(metadata.topics[0]!.partitions.length, 2);
    } finally {
      direct.close();
    }
  });

  it('the idle active controller appends NoOp records every metadata.max.idle.interval.ms, so followers see the high watermark move', async () => {
    const controllerId = cluster.activeController();
    const follower = cluster.node(cluster.nodeIds.find((id) => id !== controllerId)!).broker!;
    const noOps = async () => (await metadataLog(follower)).filter((value) => value.apiKey === NOOP_API_KEY).length;
    const before = await noOps();
    const highWatermark = follower.services.quorum.raft.highWatermark;
    // Nothing else is being changed: only NoOps can move the log on.
    await until(async () => (await noOps()) >= before + 3, 15_000, 'three more NoOp records on a follower');
    // The follower learns each new high watermark from a later fetch's answer, and loads up to it.
    await until(() => follower.services.quorum.raft.highWatermark >= highWatermark + 3, 10_000, 'the follower to learn a higher high watermark');
    await until(() => follower.services.quorum.appliedOffset >= highWatermark + 3, 10_000, 'the follower to apply up to it');
  });
});

describe('metadata.max.idle.interval.ms', () => {
  it('refuses a value that is not a non-negative int, naming the key', () => {
    for (const value of ['-1', 'soon', '1.5', '2147483648', '']) {
      assert.throws(
        () => resolveBrokerConfig({ 'metadata.max.idle.interval.ms': value }),
        (error: unknown) => error instanceof ConfigError && error.key === 'metadata.max.idle.interval.ms' && error.message.includes('metadata.max.idle.interval.ms'),
        `refuses '${value}'`,
      );
    }
    assert.equal(resolveBrokerConfig({}).metadataMaxIdleIntervalMs, 500);
  });

  it('0 appends no NoOp records', async () => {
    const cluster = await startCluster({ brokers: 3, config: { 'metadata.max.idle.interval.ms': 0 } });
    try {
      const controller = cluster.node(cluster.activeController()).broker!;
      // Four default idle intervals: with NoOps on, at least three would be in the log by now.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const values = await metadataLog(controller);
      assert.ok(values.length > 0, 'the log has the registrations');
      assert.equal(values.filter((value) => value.apiKey === NOOP_API_KEY).length, 0);
    } finally {
      await cluster.close();
    }
  });
});
