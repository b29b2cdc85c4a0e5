// The cluster-wide share-state persister: answered here when this broker leads the key's
// `__share_group_state` partition, else by the leader over the share-state RPCs (encoded and
// decoded as on the wire), and COORDINATOR_NOT_AVAILABLE with no leader or no answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import { silentLogger } from '../base/logger.js';
import {
  ShareStateCoordinator,
  answerDeleteShareGroupState,
  answerInitializeShareGroupState,
  answerReadShareGroupState,
  answerReadShareGroupStateSummary,
  answerWriteShareGroupState,
} from '../coordinator/share/share-state-coordinator.js';
import type { ShareStateKey } from '../coordinator/share/share-state-persister.js';
import { SHARE_GROUP_STATE_TOPIC } from '../metadata/topic-name.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import type { ApiDescriptor } from '../protocol/messages/index.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { type Transport, TransportError } from '../protocol/transport.js';
import { StepClock } from '../testing/group-support.js';
import { DATA_TOPIC_ID, MemoryShareStateTopic, imageWithShareStateTopic } from '../testing/share-support.js';
import { ShareStateRouter } from './share-state-router.js';

const KEY: ShareStateKey = { groupId: 'g1', topicId: DATA_TOPIC_ID, partition: 0 };

function coordinatorOn(image: MetadataImage) {
  const topic = new MemoryShareStateTopic();
  return { coordinator: new ShareStateCoordinator({ clock: new StepClock(), logger: silentLogger, image, partitions: topic }), topic };
}

/** A transport to node 1, whose share coordinator answers through the RPCs' codecs. */
class RpcTransport implements Transport {
  readonly sent: { nodeId: number; apiKey: number; version: number }[] = [];
  failWith: TransportError | undefined;
  constructor(private readonly remote: ShareStateCoordinator) {}
  // biome-ignore lint/suspicious/noExplicitAny: as Transport.
  async send<Request, Response>(nodeId: number, api: ApiDescriptor<any, Response, Request, any>, version: number, request: Request): Promise<Response> {
    this.sent.push({ nodeId, apiKey: api.apiKey, version });
    if (this.failWith !== undefined) throw this.failWith;
    const writer = new Writer();
    api.encodeRequest(writer, version, request);
    const decoded = api.decodeRequest(new Reader(writer.toBuffer()), version);
    const answer = await this.answer(api.apiKey, decoded);
    const out = new Writer();
    api.encodeResponse(out, version, answer);
    return api.decodeResponse(new Reader(out.toBuffer()), version);
  }
  // biome-ignore lint/suspicious/noExplicitAny: dispatch on the API key.
  private answer(apiKey: number, request: any): Promise<unknown> {
    switch (apiKey) {
      case 83:
        return answerInitializeShareGroupState(this.remote, request);
      case 84:
        return answerReadShareGroupState(this.remote, request);
      case 85:
        return answerWriteShareGroupState(this.remote, request);
      case 86:
        return answerDeleteShareGroupState(this.remote, request);
      default:
        assert.equal(apiKey, 87);
        return answerReadShareGroupStateSummary(this.remote, request);
    }
  }
}

/** Node `nodeId`'s router; `__share_group_state` is led by node 1 (the support image). */
function setup(nodeId: number) {
  const image = imageWithShareStateTopic();
  const local = coordinatorOn(image);
  const remote = coordinatorOn(image);
  const transport = new RpcTransport(remote.coordinator);
  let ensured = 0;
  const router = new ShareStateRouter({
    nodeId,
    image,
    local: local.coordinator,
    transport,
    ensureTopic: async () => {
      ensured++;
      return false;
    },
  });
  return { router, image, local, remote, transport, ensured: () => ensured };
}

test('the leader of the key partition answers locally, without the transport', async () => {
  const { router, local, remote, transport } = setup(1);
  assert.equal((await router.initialize(KEY, 1, 0)).errorCode, ErrorCode.NONE);
  assert.equal((await router.write(KEY, { stateEpoch: 1, leaderEpoch: 0, startOffset: 0, deliveryCompleteCount: 1, stateBatches: [{ firstOffset: 0, lastOffset: 0, deliveryState: 2, deliveryCount: 1 }] })).errorCode, ErrorCode.NONE);
  assert.deepEqual((await router.read(KEY, 0)).stateBatches, [{ firstOffset: 0, lastOffset: 0, deliveryState: 2, deliveryCount: 1 }]);
  assert.equal((await router.readSummary(KEY, 0)).deliveryCompleteCount, 1);
  assert.equal((await router.delete(KEY)).errorCode, ErrorCode.NONE);
  assert.equal(transport.sent.length, 0);
  assert.ok(local.topic.appends > 0);
  assert.equal(remote.topic.appends, 0);
});

test('another broker leads the key partition: each call goes there as its RPC, answers included', async () => {
  const { router, local, remote, transport } = setup(2);
  assert.equal((await router.initialize(KEY, 3, 5)).errorCode, ErrorCode.NONE);
  assert.equal((await router.write(KEY, { stateEpoch: 3, leaderEpoch: 1, startOffset: 6, deliveryCompleteCount: 2, stateBatches: [{ firstOffset: 6, lastOffset: 9, deliveryState: 0, deliveryCount: 1 }] })).errorCode, ErrorCode.NONE);
  assert.deepEqual(await router.read(KEY, 4), { errorCode: ErrorCode.NONE, errorMessage: null, stateEpoch: 3, startOffset: 6, stateBatches: [{ firstOffset: 6, lastOffset: 9, deliveryState: 0, deliveryCount: 1 }] });
  assert.deepEqual(await router.readSummary(KEY, 0), { errorCode: ErrorCode.NONE, errorMessage: null, stateEpoch: 3, leaderEpoch: 4, startOffset: 6, deliveryCompleteCount: 2 });
  const fenced = await router.write(KEY, { stateEpoch: 3, leaderEpoch: 1, startOffset: -1, deliveryCompleteCount: -1, stateBatches: [] });
  assert.equal(fenced.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
  assert.equal((await router.delete(KEY)).errorCode, ErrorCode.NONE);
  const uninitialized = await router.read(KEY, 4);
  assert.equal(uninitialized.errorCode, ErrorCode.INVALID_REQUEST);
  assert.match(uninitialized.errorMessage ?? '', /uninitialized/);
  assert.deepEqual(
    transport.sent.map(({ nodeId, apiKey, version }) => `${nodeId}:${apiKey}v${version}`),
    ['1:83v0', '1:85v1', '1:84v0', '1:87v1', '1:85v1', '1:86v0', '1:84v0'],
  );
  assert.equal(local.topic.appends, 0);
  assert.ok(remote.topic.appends > 0);
});

test('no answer from the leader, or no leader, is COORDINATOR_NOT_AVAILABLE', async () => {
  const { router, transport, image } = setup(2);
  transport.failWith = new TransportError('timeout', 1, 'no answer');
  assert.equal((await router.initialize(KEY, 1, 0)).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal((await router.read(KEY, 0)).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  transport.failWith = undefined;
  const topic = image.topic(SHARE_GROUP_STATE_TOPIC);
  assert.ok(topic !== undefined);
  for (const partition of topic.partitions.values()) partition.leader = -1;
  const sent = transport.sent.length;
  assert.equal((await router.readSummary(KEY, 0)).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal(transport.sent.length, sent);
});

test('the topic is created on first use; until it exists, COORDINATOR_NOT_AVAILABLE', async () => {
  const { router, image, ensured } = setup(1);
  const topic = image.topic(SHARE_GROUP_STATE_TOPIC);
  assert.ok(topic !== undefined);
  image.topicsByName.delete(SHARE_GROUP_STATE_TOPIC);
  assert.equal((await router.initialize(KEY, 1, 0)).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal(ensured(), 1);
});
