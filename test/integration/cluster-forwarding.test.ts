// ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments sent to a broker that is
// not the active controller of a three-node cluster: it forwards them whole to the active
// controller in an Envelope, as Kafka's brokers do, and answers as the controller decided. Without
// forwarding the broker's own controller, not being active, could only refuse (NOT_CONTROLLER), so
// every answer here that is not NOT_CONTROLLER shows the request reached the active controller. The
// active controller's listener accepts exactly these in an Envelope; another controller's refuses
// the Envelope with NOT_CONTROLLER, which the forwarding broker retries, so a client never sees it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { handlers } from '../../src/broker/handlers/registry.js';
import { decodeResponseHeader, encodeRequestHeader, responseHeaderVersion } from '../../src/protocol/headers.js';
import {
  type AnyApiDescriptor,
  AlterPartitionReassignmentsApi,
  BrokerHeartbeatApi,
  BrokerRegistrationApi,
  CreateTopicsApi,
  DeleteTopicsApi,
  ElectLeadersApi,
  EnvelopeApi,
  ListPartitionReassignmentsApi,
} from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type PartitionCodes = [string, [number, number][]][];

function electionCodes(response: { replicaElectionResults: { topic: string; partitionResult: { partitionId: number; errorCode: number }[] }[] }): PartitionCodes {
  return response.replicaElectionResults.map((result) => [result.topic, result.partitionResult.map((partition) => [partition.partitionId, partition.errorCode])]);
}

function reassignmentCodes(response: { responses: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] }): PartitionCodes {
  return response.responses.map((topic) => [topic.name, topic.partitions.map((partition) => [partition.partitionIndex, partition.errorCode])]);
}

/** A whole request frame (header and body), as a client puts it on the wire and an Envelope carries it. */
function requestFrame<Request>(api: AnyApiDescriptor, version: number, request: Request): Buffer {
  const writer = new Writer();
  encodeRequestHeader(writer, { apiKey: api.apiKey, apiVersion: version, correlationId: 4242, clientId: 'envelope-test' });
  api.encodeRequest(writer, version, request);
  return writer.toBuffer();
}

describe('controller APIs sent to a broker that is not the active controller are forwarded to it', () => {
  let cluster: RunningCluster;
  let controllerId: number;
  let otherId: number;
  /** A client connection to a broker that is not the active controller. */
  let other: KafkaConnection;
  /** Connections to the controller listeners, by node id. */
  const controllerListeners = new Map<number, KafkaConnection>();

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
    controllerId = cluster.activeController();
    otherId = cluster.nodeIds.find((id) => id !== controllerId)!;
    other = await KafkaConnection.open(connectTcp, cluster.node(otherId).bootstrapServer);
    for (const id of cluster.nodeIds) {
      const listener = cluster.node(id).broker!.listeners.find((candidate) => candidate.name === 'CONTROLLER')!;
      controllerListeners.set(id, await KafkaConnection.open(connectTcp, `127.0.0.1:${listener.port}`));
    }
  });

  after(async () => {
    other?.close();
    for (const connection of controllerListeners.values()) connection.close();
    await cluster?.close();
  });

  it('marks ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments as controller work', () => {
    for (const api of [ElectLeadersApi, AlterPartitionReassignmentsApi, ListPartitionReassignmentsApi]) {
      assert.equal(handlers.find((handler) => handler.api.apiKey === api.apiKey)?.forwardToController, true, api.name);
    }
  });

  it('ElectLeaders: the controller decides preferred and unclean elections for partitions of made-up brokers that it fenced', async () => {
    // Two brokers registered by hand on the controller listener, so this test decides when each is
    // fenced (a real broker's own heartbeats would unfence it again).
    const controllerListener = controllerListeners.get(controllerId)!;
    const epochs = new Map<number, bigint>();
    const offset = () => BigInt(cluster.node(controllerId).broker!.services.quorum.appliedOffset - 1);
    const beat = async (brokerId: number, wantFence: boolean, wantShutDown = false) => {
      const response = await controllerListener.send(BrokerHeartbeatApi, 1, { brokerId, brokerEpoch: epochs.get(brokerId)!, currentMetadataOffset: offset(), wantFence, wantShutDown });
      assert.equal(response.errorCode, ErrorCode.NONE);
      return response;
    };
    for (const brokerId of [98, 99]) {
      const registered = await controllerListener.send(BrokerRegistrationApi, 4, {
        brokerId,
        clusterId: cluster.clusterId,
        incarnationId: brokerId === 98 ? 'AAAAAAAAAAAAAAAAAAAAmA' : 'AAAAAAAAAAAAAAAAAAAAmQ',
        listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 1, securityProtocol: 0 }],
        features: [],
        rack: null,
        isMigratingZkBroker: false,
        logDirs: [],
        previousBrokerEpoch: -1n,
      });
      assert.equal(registered.errorCode, ErrorCode.NONE);
      epochs.set(brokerId, registered.brokerEpoch);
      assert.equal((await beat(brokerId, false)).isFenced, false);
    }
    const created = await other.send(CreateTopicsApi, 7, {
      topics: [{ name: 'elect', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [98, 99] }], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    const partition = () => cluster.node(controllerId).broker!.services.image.partition('elect', 0)!;
    // 99 fenced leaves the ISR; 98, the last member, leaves it for the ELR (KIP-966) without
    // leading; 99 comes back unfenced, outside the ISR and ELR, so nothing leads the partition.
    await beat(99, true);
    await beat(98, true);
    await beat(99, false);
    assert.deepEqual([partition().leader, partition().isr, partition().eligibleLeaderReplicas], [-1, [], [98]]);

    const elect = (electionType: number, topicPartitions: { topic: string; partitions: number[] }[] | null) =>
      other.send(ElectLeadersApi, 2, { electionType, topicPartitions, timeoutMs: 10_000 });
    const preferred = await elect(0, [{ topic: 'elect', partitions: [0, 5] }]);
    assert.equal(preferred.errorCode, ErrorCode.NONE);
    assert.deepEqual(electionCodes(preferred), [['elect', [[0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE], [5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]]]);

    const unclean = await elect(1, [{ topic: 'elect', partitions: [0] }]);
    assert.deepEqual(electionCodes(unclean), [['elect', [[0, ErrorCode.NONE]]]]);
    await until(
      () => cluster.nodeIds.every((id) => cluster.node(id).broker!.services.image.partition('elect', 0)?.leader === 99),
      10_000,
      'every node to see 99 lead elect-0',
    );
    assert.deepEqual(partition().isr, [99], 'an unclean leader is the whole ISR');
    assert.deepEqual(electionCodes(await elect(1, [{ topic: 'elect', partitions: [0] }])), [['elect', [[0, ErrorCode.ELECTION_NOT_NEEDED]]]]);
    // Every partition: only elect-0 needs an election (its preferred replica, 98, is fenced).
    const all = await elect(0, null);
    assert.deepEqual(
      electionCodes(all).filter(([, partitions]) => partitions.length > 0),
      [['elect', [[0, ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE]]]],
    );
    // An election type Kafka does not have.
    assert.deepEqual(electionCodes(await elect(7, [{ topic: 'elect', partitions: [0] }])), [['elect', [[0, ErrorCode.INVALID_REQUEST]]]]);

    // The made-up brokers go (controlled shutdown) and take their topic with them.
    for (const brokerId of [98, 99]) assert.equal((await beat(brokerId, false, true)).shouldShutDown, true);
    const deleted = await other.send(DeleteTopicsApi, 6, { topics: [{ name: 'elect', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], timeoutMs: 10_000 });
    assert.equal(deleted.responses[0]!.errorCode, ErrorCode.NONE);
  });

  it('AlterPartitionReassignments and ListPartitionReassignments are answered by the active controller', async () => {
    const created = await other.send(CreateTopicsApi, 7, {
      topics: [{ name: 'moves', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [controllerId] }, { partitionIndex: 1, brokerIds: [otherId] }], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    const third = cluster.nodeIds.find((id) => id !== controllerId && id !== otherId)!;
    const reassign = (version: number, partitions: { partitionIndex: number; replicas: number[] | null }[], allowReplicationFactorChange = true) =>
      other.send(AlterPartitionReassignmentsApi, version, { timeoutMs: 10_000, allowReplicationFactorChange, topics: [{ name: 'moves', partitions }] });
    const response = await reassign(0, [
      { partitionIndex: 0, replicas: [controllerId] },
      { partitionIndex: 1, replicas: [third, third] },
      { partitionIndex: 1, replicas: null },
      { partitionIndex: 4, replicas: [otherId] },
    ]);
    assert.equal(response.errorCode, ErrorCode.NONE);
    assert.deepEqual(reassignmentCodes(response), [
      ['moves', [[0, ErrorCode.NONE], [1, ErrorCode.INVALID_REPLICA_ASSIGNMENT], [1, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS], [4, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
    ]);
    const factor = await reassign(1, [{ partitionIndex: 0, replicas: [controllerId, otherId] }], false);
    assert.equal(factor.allowReplicationFactorChange, false);
    assert.deepEqual(reassignmentCodes(factor), [['moves', [[0, ErrorCode.INVALID_REPLICATION_FACTOR]]]]);

    const listed = await other.send(ListPartitionReassignmentsApi, 0, { timeoutMs: 10_000, topics: [{ name: 'moves', partitionIndexes: [0, 1] }] });
    assert.deepEqual([listed.errorCode, listed.topics], [ErrorCode.NONE, []]);
    const listedAll = await other.send(ListPartitionReassignmentsApi, 0, { timeoutMs: 10_000, topics: null });
    assert.deepEqual([listedAll.errorCode, listedAll.topics], [ErrorCode.NONE, []]);

    // kafkajs sends these to the controller Metadata names (the active one) and gets the same.
    const admin = new Kafka({ clientId: 'forwarding-test', brokers: [cluster.node(otherId).bootstrapServer], logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
    await admin.connect();
    try {
      await admin.alterPartitionReassignments({ topics: [{ topic: 'moves', partitionAssignment: [{ partition: 1, replicas: [otherId] }] }] });
      assert.deepEqual(await admin.listPartitionReassignments({}), { topics: [] });
    } finally {
      await admin.disconnect();
    }
  });

  it('the active controller takes these APIs in an Envelope; a controller that is not active refuses the Envelope with NOT_CONTROLLER', async () => {
    const frames = [
      { api: ListPartitionReassignmentsApi as AnyApiDescriptor, version: 0, frame: requestFrame(ListPartitionReassignmentsApi, 0, { timeoutMs: 10_000, topics: null }) },
      { api: ElectLeadersApi as AnyApiDescriptor, version: 2, frame: requestFrame(ElectLeadersApi, 2, { electionType: 0, topicPartitions: [{ topic: 'moves', partitions: [0] }], timeoutMs: 10_000 }) },
      {
        api: AlterPartitionReassignmentsApi as AnyApiDescriptor,
        version: 0,
        frame: requestFrame(AlterPartitionReassignmentsApi, 0, { timeoutMs: 10_000, topics: [{ name: 'moves', partitions: [{ partitionIndex: 0, replicas: [controllerId] }] }] }),
      },
    ];
    const envelope = (nodeId: number, frame: Buffer) =>
      controllerListeners.get(nodeId)!.send(EnvelopeApi, 0, { requestData: frame, requestPrincipal: null, clientHostAddress: Buffer.from([127, 0, 0, 1]) });
    for (const { api, version, frame } of frames) {
      const answered = await envelope(controllerId, frame);
      assert.equal(answered.errorCode, ErrorCode.NONE, api.name);
      const reader = new Reader(answered.responseData!);
      assert.equal(decodeResponseHeader(reader, responseHeaderVersion(api.apiKey, version)).correlationId, 4242, `${api.name}: the client's correlation id`);
      const body = api.decodeResponse(reader, version) as { errorCode?: number };
      assert.equal(body.errorCode, ErrorCode.NONE, api.name);
      const refused = await envelope(otherId, frame);
      assert.deepEqual([refused.errorCode, refused.responseData], [ErrorCode.NOT_CONTROLLER, null], `${api.name} on a controller that is not active`);
    }
    const electedData = (await envelope(controllerId, frames[1]!.frame)).responseData!;
    const electedReader = new Reader(electedData);
    decodeResponseHeader(electedReader, responseHeaderVersion(ElectLeadersApi.apiKey, 2));
    assert.deepEqual(electionCodes(ElectLeadersApi.decodeResponse(electedReader, 2)), [['moves', [[0, ErrorCode.ELECTION_NOT_NEEDED]]]]);
  });
});
