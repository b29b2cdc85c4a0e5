// Share groups (KIP-932) on the wire against a real broker: ShareGroupHeartbeat assigns one
// partition to several members, ShareFetch acquires records for one member at a time, and
// ShareAcknowledge / piggybacked acknowledgements accept, release and reject them; released
// records are redelivered with a higher delivery count, records whose lock expires come back,
// a dropped connection releases its member's records at once, the delivery-count limit archives
// a record, session epochs are checked, and the state survives a broker restart.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { ZERO_UUID } from '../../src/base/uuid.js';
import { randomUUID } from 'node:crypto';
import {
  DeleteShareGroupOffsetsApi,
  DeleteTopicsApi,
  DescribeConfigsApi,
  FindCoordinatorApi,
  ShareAcknowledgeApi,
  type ShareAcknowledgeResponse,
  ShareFetchApi,
  type ShareFetchResponse,
  ShareGroupDescribeApi,
  ShareGroupHeartbeatApi,
  type ShareGroupHeartbeatResponse,
} from '../../src/protocol/messages/index.js';
import { decodeRecordBatchesSync } from '../../src/protocol/records/record-batch.js';
import type { RawClient } from '../support/raw-client.js';
import { type TestBroker, batchOf, createTopic, metadata, produceOk, startTestBroker, temporaryDirectory, waitFor } from './helpers.js';

const ACCEPT = 1;
const RELEASE = 2;
const REJECT = 3;

/** Short locks and a low delivery limit, so the tests see expiries and archiving quickly. */
const BROKER_CONFIG = {
  'group.share.min.record.lock.duration.ms': 1000,
  'group.share.record.lock.duration.ms': 1000,
  'group.share.delivery.count.limit': 3,
  'group.share.min.heartbeat.interval.ms': 1000,
  'group.share.heartbeat.interval.ms': 1000,
};

interface Delivered {
  offset: number;
  value: string;
  deliveryCount: number;
}

/** One share group member speaking the share RPCs itself over one connection. */
class Member {
  readonly memberId = randomUUID().replaceAll('-', '').slice(0, 22);
  epoch = 0;
  sessionEpoch = 0;
  constructor(
    readonly client: RawClient,
    readonly groupId: string,
    readonly topic: string,
    readonly topicId: string,
  ) {}

  async heartbeat(): Promise<ShareGroupHeartbeatResponse> {
    const response = await this.client.request(ShareGroupHeartbeatApi, 1, {
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch: this.epoch,
      rackId: null,
      subscribedTopicNames: this.epoch === 0 ? [this.topic] : null,
    });
    if (response.errorCode === ErrorCode.NONE) this.epoch = response.memberEpoch;
    return response;
  }

  /** Heartbeats until the assignment names `partitions` of the topic. */
  async joined(partitions: number[]): Promise<void> {
    await waitFor(async () => {
      const response = await this.heartbeat();
      assert.equal(response.errorCode, ErrorCode.NONE, response.errorMessage ?? '');
      const assigned = response.assignment?.topicPartitions.find((entry) => entry.topicId === this.topicId)?.partitions ?? null;
      return assigned !== null && [...assigned].sort().join() === partitions.join();
    }, `${this.memberId} assigned ${partitions.join()}`);
  }

  async fetch(options: { acks?: [number, number, number][]; maxWaitMs?: number; partition?: number } = {}): Promise<ShareFetchResponse> {
    const partition = options.partition ?? 0;
    const response = await this.client.request(ShareFetchApi, 1, {
      groupId: this.groupId,
      memberId: this.memberId,
      shareSessionEpoch: this.sessionEpoch,
      maxWaitMs: options.maxWaitMs ?? 200,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxRecords: 500,
      batchSize: 500,
      topics: [{ topicId: this.topicId, partitions: [{ partitionIndex: partition, acknowledgementBatches: (options.acks ?? []).map(ackBatch) }] }],
      forgottenTopicsData: [],
    });
    if (response.errorCode === ErrorCode.NONE) this.sessionEpoch++;
    return response;
  }

  async acknowledge(acks: [number, number, number][], epoch = this.sessionEpoch): Promise<ShareAcknowledgeResponse> {
    const response = await this.client.request(ShareAcknowledgeApi, 1, {
      groupId: this.groupId,
      memberId: this.memberId,
      shareSessionEpoch: epoch,
      topics: [{ topicId: this.topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: acks.map(ackBatch) }] }],
    });
    if (response.errorCode === ErrorCode.NONE && epoch > 0) this.sessionEpoch++;
    return response;
  }

  /** Fetches until records arrive (or `attempts` fetches found none) and returns the acquired ones. */
  async fetchRecords(attempts = 20): Promise<Delivered[]> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const delivered = acquiredRecords(await this.fetch());
      if (delivered.length > 0) return delivered;
    }
    return [];
  }
}

function ackBatch([firstOffset, lastOffset, type]: [number, number, number]) {
  return { firstOffset: BigInt(firstOffset), lastOffset: BigInt(lastOffset), acknowledgeTypes: [type] };
}

/** The records of a fetch response that fall inside its acquired ranges, as a client delivers them. */
function acquiredRecords(response: ShareFetchResponse): Delivered[] {
  assert.equal(response.errorCode, ErrorCode.NONE, `ShareFetch: ${response.errorMessage}`);
  const delivered: Delivered[] = [];
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      assert.equal(partition.errorCode, ErrorCode.NONE, `partition ${partition.partitionIndex}: ${partition.errorMessage}`);
      assert.notEqual(partition.records, null, 'records are never null from v1 on');
      if (partition.acquiredRecords.length === 0) continue;
      const records = [...decodeRecordBatchesSync(partition.records!)].flatMap((batch) => batch.records);
      for (const range of partition.acquiredRecords) {
        for (const record of records) {
          if (record.offset >= Number(range.firstOffset) && record.offset <= Number(range.lastOffset)) {
            delivered.push({ offset: record.offset, value: record.value!.toString(), deliveryCount: range.deliveryCount });
          }
        }
      }
    }
  }
  return delivered;
}

async function topicIdOf(client: RawClient, topic: string): Promise<string> {
  const response = await metadata(client, [topic]);
  return response.topics[0]!.topicId!;
}

describe('share groups on the wire', () => {
  let broker: TestBroker;

  before(async () => {
    broker = await startTestBroker({ config: BROKER_CONFIG });
  });

  after(async () => {
    await broker.close();
  });

  async function setUp(topic: string, groupId: string, members: number): Promise<Member[]> {
    await createTopic(broker.client, topic, 1);
    const topicId = await topicIdOf(broker.client, topic);
    const joined: Member[] = [];
    for (let index = 0; index < members; index++) joined.push(new Member(await broker.connect(), groupId, topic, topicId));
    for (const member of joined) await member.joined([0]);
    // Every member opens its session first: share.auto.offset.reset is latest.
    for (const member of joined) acquiredRecords(await member.fetch({ maxWaitMs: 0 }));
    return joined;
  }

  it('delivers each record to one member at a time; released records come back to another, counted', async () => {
    const [a, b] = await setUp('share-basic', 'share-basic-group', 2);
    await produceOk(broker.client, 'share-basic', 0, batchOf(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']));
    const first = await a!.fetchRecords();
    assert.deepEqual(first.map((record) => record.value), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    assert.ok(first.every((record) => record.deliveryCount === 1));
    assert.deepEqual(acquiredRecords(await b!.fetch({ maxWaitMs: 100 })), [], 'nothing is left for the other member');

    const acked = await a!.acknowledge([[0, 2, ACCEPT], [3, 5, RELEASE]]);
    assert.equal(acked.errorCode, ErrorCode.NONE);
    assert.deepEqual(acked.responses[0]?.partitions.map((partition) => partition.errorCode), [ErrorCode.NONE]);
    const second = await b!.fetchRecords();
    assert.deepEqual(second.map((record) => [record.value, record.deliveryCount]), [['r3', 2], ['r4', 2], ['r5', 2]]);

    // An offset the member does not hold (accepted already, or held by another) is refused whole.
    const refused = await a!.acknowledge([[3, 3, ACCEPT]]);
    assert.equal(refused.responses[0]?.partitions[0]?.errorCode, ErrorCode.INVALID_RECORD_STATE);

    // Acknowledgements ride on the next fetch too.
    const piggybacked = await b!.fetch({ acks: [[3, 5, ACCEPT]], maxWaitMs: 0 });
    assert.equal(piggybacked.responses[0]?.partitions[0]?.acknowledgeErrorCode, ErrorCode.NONE);
    assert.equal(piggybacked.acquisitionLockTimeoutMs, 1000);
    await produceOk(broker.client, 'share-basic', 0, batchOf(['r6']));
    const next = [...(await a!.fetchRecords()), ...(await b!.fetchRecords(1))];
    assert.deepEqual(next.map((record) => [record.offset, record.value, record.deliveryCount]), [[6, 'r6', 1]], 'accepted records never come back');
  });

  it('redelivers records whose acquisition lock expired, and archives a record at the delivery limit', async () => {
    const [a] = await setUp('share-locks', 'share-locks-group', 1);
    await produceOk(broker.client, 'share-locks', 0, batchOf(['poison', 'fine']));
    const counts: number[] = [];
    for (let delivery = 1; delivery <= 3; delivery++) {
      const records = await a!.fetchRecords(40);
      const poison = records.find((record) => record.value === 'poison');
      assert.ok(poison, `delivery ${delivery} of the poison record`);
      counts.push(poison.deliveryCount);
      // The first time the lock is left to expire; then the record is released.
      if (delivery === 1) continue;
      const fine = records.find((record) => record.value === 'fine');
      const acks: [number, number, number][] = [[poison.offset, poison.offset, RELEASE]];
      if (fine) acks.push([fine.offset, fine.offset, ACCEPT]);
      assert.equal((await a!.acknowledge(acks)).responses[0]?.partitions[0]?.errorCode, ErrorCode.NONE);
    }
    assert.deepEqual(counts, [1, 2, 3]);
    assert.deepEqual(await a!.fetchRecords(5), [], 'delivered 3 times (the limit): archived, never delivered again');
  });

  it('releases a member\'s records at once when its connection drops', async () => {
    const [a, b] = await setUp('share-drop', 'share-drop-group', 2);
    await produceOk(broker.client, 'share-drop', 0, batchOf(['x', 'y']));
    assert.equal((await a!.fetchRecords()).length, 2);
    await a!.client.close();
    // Well within the 1 s lock: the close released them.
    const started = Date.now();
    const again = await b!.fetchRecords();
    assert.deepEqual(again.map((record) => [record.value, record.deliveryCount]), [['x', 2], ['y', 2]]);
    assert.ok(Date.now() - started < 900, `released at the close, not by the lock (${Date.now() - started} ms)`);
  });

  it('checks share session epochs and request shapes', async () => {
    const [a] = await setUp('share-epochs', 'share-epochs-group', 1);
    const stale = await a!.client.request(ShareFetchApi, 1, {
      groupId: a!.groupId,
      memberId: a!.memberId,
      shareSessionEpoch: a!.sessionEpoch + 5,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxRecords: 10,
      batchSize: 10,
      topics: [],
      forgottenTopicsData: [],
    });
    assert.equal(stale.errorCode, ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    assert.equal((await a!.acknowledge([[0, 0, ACCEPT]], 0)).errorCode, ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    const stranger = new Member(a!.client, a!.groupId, a!.topic, a!.topicId);
    stranger.sessionEpoch = 3;
    assert.equal((await stranger.fetch()).errorCode, ErrorCode.SHARE_SESSION_NOT_FOUND);
    stranger.sessionEpoch = 0;
    assert.equal((await stranger.fetch({ acks: [[0, 0, ACCEPT]] })).errorCode, ErrorCode.INVALID_REQUEST, 'acknowledgements cannot open a session');
    const nameless = await a!.client.request(ShareFetchApi, 1, { groupId: a!.groupId, memberId: '', shareSessionEpoch: 0, maxWaitMs: 0, minBytes: 1, maxBytes: 1, maxRecords: 1, batchSize: 1, topics: [], forgottenTopicsData: [] });
    assert.equal(nameless.errorCode, ErrorCode.INVALID_REQUEST);
    const closed = await a!.acknowledge([], -1);
    assert.equal(closed.errorCode, ErrorCode.NONE);
    assert.equal((await a!.acknowledge([], -1)).errorCode, ErrorCode.SHARE_SESSION_NOT_FOUND, 'a closed session is gone');
  });

  it('describes the group with its members and their assignment', async () => {
    const [a, b] = await setUp('share-describe', 'share-describe-group', 2);
    const response = await broker.client.request(ShareGroupDescribeApi, 1, { groupIds: ['share-describe-group', 'no-such-share-group'], includeAuthorizedOperations: false });
    const [group, missing] = response.groups;
    assert.equal(group?.errorCode, ErrorCode.NONE);
    assert.equal(group?.groupState, 'Stable');
    assert.equal(group?.assignorName, 'simple');
    assert.deepEqual(group?.members.map((member) => member.memberId).sort(), [a!.memberId, b!.memberId].sort());
    for (const member of group!.members) assert.deepEqual(member.assignment.topicPartitions.map((entry) => [entry.topicName, entry.partitions]), [['share-describe', [0]]]);
    assert.equal(missing?.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('drops a group\'s share-partitions when its last session ends, so a later offsets deletion is seen', async () => {
    const [a] = await setUp('share-evict', 'share-evict-group', 1);
    await produceOk(broker.client, 'share-evict', 0, batchOf(['e0', 'e1', 'e2']));
    assert.equal((await a!.fetchRecords()).length, 3);
    assert.equal((await a!.acknowledge([[0, 2, ACCEPT]])).responses[0]?.partitions[0]?.errorCode, ErrorCode.NONE);
    const manager = broker.running.broker.services.sharePartitions;
    assert.notEqual(manager.loaded('share-evict-group', a!.topicId, 0), undefined);
    assert.equal((await a!.acknowledge([], -1)).errorCode, ErrorCode.NONE, 'the session closes');
    await waitFor(() => manager.loaded('share-evict-group', a!.topicId, 0) === undefined, 'the share-partition dropped');
    a!.epoch = -1;
    assert.equal((await a!.heartbeat()).errorCode, ErrorCode.NONE, 'the member leaves');
    const deleted = await broker.client.request(DeleteShareGroupOffsetsApi, 0, { groupId: 'share-evict-group', topics: [{ topicName: 'share-evict' }] });
    assert.equal(deleted.errorCode, ErrorCode.NONE);
    assert.deepEqual(deleted.responses.map((topic) => topic.errorCode), [ErrorCode.NONE]);
    await produceOk(broker.client, 'share-evict', 0, batchOf(['e3', 'e4']));
    // A new member starts where share.auto.offset.reset says (latest: offset 5), not at the old start offset 3.
    const b = new Member(await broker.connect(), 'share-evict-group', 'share-evict', a!.topicId);
    await b.joined([0]);
    assert.deepEqual(acquiredRecords(await b.fetch({ maxWaitMs: 200 })), []);
    await produceOk(broker.client, 'share-evict', 0, batchOf(['e5']));
    assert.deepEqual((await b.fetchRecords()).map((record) => [record.offset, record.value]), [[5, 'e5']]);
  });

  it('drops the share-partition state of a deleted topic', async () => {
    const [a] = await setUp('share-deleted', 'share-deleted-group', 1);
    const key = { groupId: 'share-deleted-group', topicId: a!.topicId, partition: 0 };
    const coordinator = broker.running.broker.services.shareStateCoordinator;
    assert.notEqual(coordinator.storedState(key), undefined, 'the group initialized the partition\'s state');
    const deleted = await broker.client.request(DeleteTopicsApi, 6, { topics: [{ name: 'share-deleted', topicId: ZERO_UUID }], topicNames: [], timeoutMs: 10_000 });
    assert.equal(deleted.responses[0]?.errorCode, ErrorCode.NONE);
    await waitFor(() => coordinator.storedState(key) === undefined, 'the state tombstoned');
  });

  it('v2: acquires at most MaxRecords records in record-limit mode, and renews locks with renew-only acknowledgements', async () => {
    const [a, b] = await setUp('share-v2', 'share-v2-group', 2);
    await produceOk(broker.client, 'share-v2', 0, batchOf(['v0', 'v1', 'v2', 'v3', 'v4', 'v5']));
    const fetchV2 = (member: Member, mode: number, maxRecords: number) =>
      member.client.request(ShareFetchApi, 2, {
        groupId: member.groupId,
        memberId: member.memberId,
        shareSessionEpoch: member.sessionEpoch++,
        maxWaitMs: 500,
        minBytes: 1,
        maxBytes: 1 << 20,
        maxRecords,
        batchSize: maxRecords,
        shareAcquireMode: mode,
        isRenewAck: false,
        topics: [{ topicId: member.topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }],
        forgottenTopicsData: [],
      });
    const limited = acquiredRecords(await fetchV2(a!, 1, 2));
    assert.deepEqual(limited.map((record) => record.offset), [0, 1], 'record-limit mode splits the batch');
    const batched = acquiredRecords(await fetchV2(b!, 0, 2));
    assert.deepEqual(batched.map((record) => record.offset), [2, 3, 4, 5], 'batch mode takes the rest of the batch');

    // a renews its records' locks every 0.6 s: without that they would expire after 1 s.
    for (let round = 0; round < 3; round++) {
      await new Promise((resolve) => setTimeout(resolve, 600));
      const renewed = await a!.client.request(ShareAcknowledgeApi, 2, {
        groupId: a!.groupId,
        memberId: a!.memberId,
        shareSessionEpoch: a!.sessionEpoch++,
        isRenewAck: true,
        topics: [{ topicId: a!.topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [ackBatch([0, 1, 4])] }] }],
      });
      assert.equal(renewed.responses[0]?.partitions[0]?.errorCode, ErrorCode.NONE);
      assert.equal(renewed.acquisitionLockTimeoutMs, 1000);
    }
    assert.equal((await a!.acknowledge([[0, 1, ACCEPT]])).responses[0]?.partitions[0]?.errorCode, ErrorCode.NONE, 'still held by a after 1.8 s');
    const renewWithoutFlag = await b!.acknowledge([[2, 5, 4]]);
    assert.equal(renewWithoutFlag.responses[0]?.partitions[0]?.errorCode, ErrorCode.INVALID_REQUEST, 'renew needs v2 with IsRenewAck');
  });

  it('finds a share-partition\'s share coordinator with FindCoordinator key type 2 (v6)', async () => {
    const [a] = await setUp('share-find', 'share-find-group', 1);
    const find = (version: number, key: string) => broker.client.request(FindCoordinatorApi, version, { keyType: 2, coordinatorKeys: [key] });
    const found = await find(6, `share-find-group:${a!.topicId}:0`);
    assert.equal(found.coordinators?.[0]?.errorCode, ErrorCode.NONE);
    assert.equal(found.coordinators?.[0]?.nodeId, broker.running.nodeId);
    assert.equal((await find(6, 'share-find-group:not-a-topic-id:0')).coordinators?.[0]?.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await find(5, `share-find-group:${a!.topicId}:0`)).coordinators?.[0]?.errorCode, ErrorCode.INVALID_REQUEST);
  });

  it('keeps __share_group_state forever instead of compacting it (each update of a share-partition counts)', async () => {
    await setUp('share-state-topic', 'share-state-topic-group', 1);
    const response = await broker.client.request(DescribeConfigsApi, 4, {
      resources: [{ resourceType: 2, resourceName: '__share_group_state', configurationKeys: ['cleanup.policy', 'retention.ms'] }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const configs = Object.fromEntries(response.results[0]!.configs.map((config) => [config.name, config.value]));
    assert.deepEqual(configs, { 'cleanup.policy': 'delete', 'retention.ms': '-1' });
  });
});

describe('share-partition state across a broker restart', () => {
  it('keeps accepted records accepted and released ones available', async () => {
    const dir = await temporaryDirectory();
    let broker = await startTestBroker({ storage: 'disk', dataDir: dir.path, config: BROKER_CONFIG });
    try {
      await createTopic(broker.client, 'share-restart', 1);
      const topicId = await topicIdOf(broker.client, 'share-restart');
      const a = new Member(await broker.connect(), 'share-restart-group', 'share-restart', topicId);
      await a.joined([0]);
      acquiredRecords(await a.fetch({ maxWaitMs: 0 }));
      await produceOk(broker.client, 'share-restart', 0, batchOf(['s0', 's1', 's2', 's3']));
      assert.equal((await a.fetchRecords()).length, 4);
      assert.equal((await a.acknowledge([[0, 1, ACCEPT], [2, 2, REJECT], [3, 3, RELEASE]])).responses[0]?.partitions[0]?.errorCode, ErrorCode.NONE);
      await broker.close();

      broker = await startTestBroker({ storage: 'disk', dataDir: dir.path, config: BROKER_CONFIG });
      const b = new Member(await broker.connect(), 'share-restart-group', 'share-restart', topicId);
      await b.joined([0]);
      const redelivered = await b.fetchRecords(40);
      assert.deepEqual(redelivered.map((record) => [record.offset, record.value, record.deliveryCount]), [[3, 's3', 2]]);
    } finally {
      await broker.close();
      await dir.remove();
    }
  });
});
