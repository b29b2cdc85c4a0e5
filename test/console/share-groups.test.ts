// KIP-932 share groups in the web console, against a live broker: one member, speaking the share
// RPCs itself (ShareGroupHeartbeat v1 until assigned, ShareFetch v1), acquires three records and
// does not acknowledge them. /console/api/groups/:group must answer type share with the epochs,
// assignor, the member and its assignment, and the share-partition's start offset and lag (the
// three records in flight); once the member accepts them (ShareAcknowledge v1), lag 0 and the
// start offset past them. The page shows the same, with no reset form.
import '../support/polyfills.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import {
  ShareAcknowledgeApi,
  type ShareAcknowledgeResponse,
  ShareFetchApi,
  type ShareFetchResponse,
  ShareGroupHeartbeatApi,
  type ShareGroupHeartbeatResponse,
} from '../../src/protocol/messages/index.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { batchOf, createTopic, metadata, produceOk, waitFor } from '../integration/helpers.js';
import { chromiumUnavailable, launchBrowser, screenshot } from '../support/browser.js';
import { RawClient } from '../support/raw-client.js';

interface Json {
  [key: string]: any;
}

const TOPIC = 'console-share-topic';
const GROUP = 'console-share-group';
const ACCEPT = 1;

/** One share group member over its own connection (heartbeat, fetch, acknowledge, nothing more). */
class ShareMember {
  readonly memberId = randomUUID().replaceAll('-', '').slice(0, 22);
  epoch = 0;
  sessionEpoch = 0;
  constructor(
    readonly client: RawClient,
    readonly topicId: string,
  ) {}

  async heartbeat(): Promise<ShareGroupHeartbeatResponse> {
    const response = await this.client.request(ShareGroupHeartbeatApi, 1, {
      groupId: GROUP,
      memberId: this.memberId,
      memberEpoch: this.epoch,
      rackId: null,
      subscribedTopicNames: this.epoch === 0 ? [TOPIC] : null,
    });
    assert.equal(response.errorCode, ErrorCode.NONE, response.errorMessage ?? '');
    this.epoch = response.memberEpoch;
    return response;
  }

  /** Heartbeats until the member is assigned partition 0 of the topic. */
  async joined(): Promise<void> {
    await waitFor(async () => {
      const response = await this.heartbeat();
      const assigned = response.assignment?.topicPartitions.find((entry) => entry.topicId === this.topicId)?.partitions ?? [];
      return assigned.includes(0) ? true : undefined;
    }, 'the member assigned partition 0');
  }

  async fetch(maxWaitMs: number): Promise<ShareFetchResponse> {
    const response = await this.client.request(ShareFetchApi, 1, {
      groupId: GROUP,
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
    assert.equal(response.errorCode, ErrorCode.NONE, `ShareFetch: ${response.errorMessage}`);
    this.sessionEpoch++;
    return response;
  }

  /** Fetches until some records are acquired; returns the acquired offset ranges. */
  async acquire(): Promise<[number, number][]> {
    return waitFor(async () => {
      const ranges = (await this.fetch(200)).responses.flatMap((topic) => topic.partitions.flatMap((partition) => partition.acquiredRecords));
      return ranges.length > 0 ? ranges.map((range): [number, number] => [Number(range.firstOffset), Number(range.lastOffset)]) : undefined;
    }, 'records acquired');
  }

  async accept(firstOffset: number, lastOffset: number): Promise<ShareAcknowledgeResponse> {
    const response = await this.client.request(ShareAcknowledgeApi, 1, {
      groupId: GROUP,
      memberId: this.memberId,
      shareSessionEpoch: this.sessionEpoch,
      topics: [{ topicId: this.topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [{ firstOffset: BigInt(firstOffset), lastOffset: BigInt(lastOffset), acknowledgeTypes: [ACCEPT] }] }] }],
    });
    if (response.errorCode === ErrorCode.NONE) this.sessionEpoch++;
    return response;
  }
}

describe('share groups in the web console', { timeout: 90_000 }, () => {
  let broker: RunningBroker;
  let admin: RawClient;
  let base: string;
  let member: ShareMember;

  const group = async (): Promise<Json> => {
    const response = await fetch(`${base}/console/api/groups/${GROUP}`);
    const body = (await response.json()) as Json;
    assert.equal(response.status, 200, `GET the group: ${response.status} ${JSON.stringify(body)}`);
    return body;
  };

  before(async () => {
    broker = await startBroker({
      port: 0,
      storage: 'memory',
      // Lag samples every half second, so the lag chart's history fills quickly.
      consoleSampleIntervalMs: 500,
      config: {
        'console.listeners': 'http://127.0.0.1:0',
        'offsets.topic.num.partitions': 1,
        'group.share.min.heartbeat.interval.ms': 1000,
        'group.share.heartbeat.interval.ms': 1000,
        // Long locks: the unacknowledged records stay in flight for the whole test.
        'group.share.record.lock.duration.ms': 60_000,
      },
    });
    base = broker.consoleUrls[0]!.replace(/\/$/, '');
    admin = await RawClient.connect(broker.host, broker.port);
    await createTopic(admin, TOPIC, 1);
    const topicId = (await metadata(admin, [TOPIC])).topics[0]!.topicId!;
    member = new ShareMember(await RawClient.connect(broker.host, broker.port), topicId);
    await member.joined();
    // The first fetch opens the session and initializes the share-partition (share.auto.offset.reset latest: at 0).
    await member.fetch(0);
    await produceOk(admin, TOPIC, 0, batchOf(['a', 'b', 'c']));
    assert.deepEqual(await member.acquire(), [[0, 2]]);
  });

  after(async () => {
    await member?.client.close();
    await admin?.close();
    await broker?.close();
  });

  it('API: type share, epochs, assignor, the member and its assignment, start offset and lag of the records in flight; lag 0 once accepted', async () => {
    const before = await group();
    assert.deepEqual([before.type, before.state, before.assignor, before.groupEpoch, before.assignmentEpoch], ['share', 'Stable', 'simple', member.epoch, member.epoch]);
    assert.equal(before.members.length, 1);
    const [only] = before.members;
    assert.deepEqual([only.memberId, only.memberEpoch, only.clientId, only.subscribedTopicNames, only.assignment], [member.memberId, member.epoch, 'raw-client', [TOPIC], [{ topic: TOPIC, partitions: [0] }]]);
    assert.equal(typeof only.clientHost, 'string');
    assert.deepEqual(before.offsets, [], 'a share group commits no offsets');
    assert.deepEqual(before.shareOffsets, [{ topic: TOPIC, partition: 0, startOffset: 0, lag: 3, error: null }]);
    assert.equal(before.totalLag, 3);
    // Looking at the group makes the server sample its lag: the share lag, not committed offsets' lag.
    const sampled = await waitFor(async () => ((await group()).lagHistory as Json[]).find((sample) => sample.lag > 0), 'a lag sample');
    assert.equal(sampled.lag, 3);

    const accepted = await member.accept(0, 2);
    assert.equal(accepted.errorCode, ErrorCode.NONE);
    assert.deepEqual(accepted.responses[0]?.partitions.map((partition) => partition.errorCode), [ErrorCode.NONE]);
    const after = await waitFor(async () => {
      const answer = await group();
      return answer.shareOffsets[0]?.lag === 0 ? answer : undefined;
    }, 'lag 0 after the acknowledgement');
    assert.deepEqual(after.shareOffsets, [{ topic: TOPIC, partition: 0, startOffset: 3, lag: 0, error: null }]);
    assert.equal(after.totalLag, 0);
  });

  it('API: a group that does not exist is still not found', async () => {
    const response = await fetch(`${base}/console/api/groups/no-such-group`);
    assert.notEqual(response.status, 200);
  });

  it('console: the share group page shows the summary, the member and the share-partition, and no reset form', { skip: chromiumUnavailable() }, async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${broker.consoleUrls[0]!}#/group/${GROUP}`);
      await page.locator('#share-offsets-table').waitFor();
      assert.equal(await page.locator('#group-type').textContent(), 'share');
      assert.equal(await page.locator('#group-state').textContent(), 'Stable');
      assert.equal(await page.locator('#group-assignor').textContent(), 'simple');
      assert.equal(await page.locator('#group-epoch').textContent(), String(member.epoch));
      assert.deepEqual(await page.locator('#members-table th').allTextContents(), ['Member', 'Epoch', 'Client id', 'Host', 'Subscription', 'Assignment']);
      const cells = await page.locator('#members-table tbody tr td').allTextContents();
      assert.deepEqual([cells[0], cells[1], cells[2], cells[4], cells[5]], [member.memberId, String(member.epoch), 'raw-client', TOPIC, `${TOPIC}: 0`]);
      assert.deepEqual(await page.locator('#share-offsets-table th').allTextContents(), ['Topic', 'Partition', 'Start offset', 'Lag']);
      assert.deepEqual(await page.locator('#share-offsets-table tbody tr').allTextContents(), [`${TOPIC}030`]);
      assert.match((await page.locator('#share-lag-note').textContent()) ?? '', /in flight/);
      assert.equal(await page.locator('#reset').count(), 0, 'no reset form for a share group');
      await screenshot(page, 'share-group');
    } finally {
      await browser.close();
    }
  });
});
