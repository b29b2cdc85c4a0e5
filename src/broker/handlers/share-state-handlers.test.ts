// The share-state RPC handlers (83-87): CLUSTER_ACTION only (else CLUSTER_AUTHORIZATION_FAILED for
// every partition, nothing written), otherwise answered by the broker's share coordinator.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { silentLogger } from '../../base/logger.js';
import { ShareStateCoordinator } from '../../coordinator/share/share-state-coordinator.js';
import { AclOperation } from '../../metadata/acl.js';
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import { StepClock } from '../../testing/group-support.js';
import { DATA_TOPIC_ID, MemoryShareStateTopic, imageWithShareStateTopic } from '../../testing/share-support.js';
import { initializeShareGroupStateHandler } from './83-initialize-share-group-state.js';
import { readShareGroupStateHandler } from './84-read-share-group-state.js';
import { writeShareGroupStateHandler } from './85-write-share-group-state.js';
import { deleteShareGroupStateHandler } from './86-delete-share-group-state.js';
import { readShareGroupStateSummaryHandler } from './87-read-share-group-state-summary.js';
import type { RequestContext } from './handler.js';

function setup(clusterAction: boolean) {
  const topic = new MemoryShareStateTopic();
  const shareStateCoordinator = new ShareStateCoordinator({ clock: new StepClock(), logger: silentLogger, image: imageWithShareStateTopic(), partitions: topic });
  const context = (apiVersion: number) =>
    ({
      apiVersion,
      broker: { authorization: { cluster: (_connection: unknown, operation: number) => clusterAction && operation === AclOperation.CLUSTER_ACTION }, shareStateCoordinator },
      connection: {},
    }) as unknown as RequestContext;
  return { topic, context };
}

/** One topic with partition 0 and `fields` (typed as each request's partition data). */
const partitions = <Fields extends object>(fields: Fields) => [{ topicId: DATA_TOPIC_ID, partitions: [{ partition: 0, ...fields }] }];

test('without CLUSTER_ACTION every partition is CLUSTER_AUTHORIZATION_FAILED and nothing is written', async () => {
  const { topic, context } = setup(false);
  const denied = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  const codes = (response: unknown) => (response as { results: { partitions: { errorCode: number }[] }[] }).results.flatMap((result) => result.partitions.map((entry) => entry.errorCode));
  assert.deepEqual(codes(await initializeShareGroupStateHandler.handle({ groupId: 'g', topics: partitions({ stateEpoch: 0, startOffset: 0n }) }, context(0))), [denied]);
  assert.deepEqual(codes(await readShareGroupStateHandler.handle({ groupId: 'g', topics: partitions({ leaderEpoch: 0 }) }, context(0))), [denied]);
  assert.deepEqual(codes(await writeShareGroupStateHandler.handle({ groupId: 'g', topics: partitions({ stateEpoch: 0, leaderEpoch: 0, startOffset: 0n, stateBatches: [] }) }, context(1))), [denied]);
  assert.deepEqual(codes(await deleteShareGroupStateHandler.handle({ groupId: 'g', topics: partitions({}) }, context(0))), [denied]);
  assert.deepEqual(codes(await readShareGroupStateSummaryHandler.handle({ groupId: 'g', topics: partitions({ leaderEpoch: 0 }) }, context(1))), [denied]);
  assert.equal(topic.appends, 0);
});

test('with CLUSTER_ACTION the share coordinator answers; the summary goes through its v0 and v1 codecs', async () => {
  const { topic, context } = setup(true);
  const initialized = await initializeShareGroupStateHandler.handle({ groupId: 'g', topics: partitions({ stateEpoch: 2, startOffset: 7n }) }, context(0));
  assert.deepEqual(initialized, { results: [{ topicId: DATA_TOPIC_ID, partitions: [{ partition: 0, errorCode: 0, errorMessage: null }] }] });
  await writeShareGroupStateHandler.handle({ groupId: 'g', topics: partitions({ stateEpoch: 2, leaderEpoch: 0, startOffset: 8n, deliveryCompleteCount: 3, stateBatches: [] }) }, context(1));
  const request = { groupId: 'g', topics: partitions({ leaderEpoch: 0 }) };
  const summary = await readShareGroupStateSummaryHandler.handle(request, context(1));
  for (const version of [0, 1]) {
    const writer = new Writer();
    readShareGroupStateSummaryHandler.api.encodeResponse(writer, version, summary as never);
    const decoded = readShareGroupStateSummaryHandler.api.decodeResponse(new Reader(writer.toBuffer()), version);
    assert.deepEqual(decoded.results[0]?.partitions[0], { partition: 0, errorCode: 0, errorMessage: null, stateEpoch: 2, leaderEpoch: 0, startOffset: 8n, deliveryCompleteCount: version === 1 ? 3 : -1 });
  }
  assert.equal(topic.appends, 2);
});
