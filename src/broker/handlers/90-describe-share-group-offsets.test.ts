// The end offsets DescribeShareGroupOffsets computes lag from, without a network: the high watermark
// of a partition led here, one ListOffsets LATEST (READ_UNCOMMITTED) per other leader through a
// fake transport, a leader's error as the partition's error, an unreachable leader or no transport
// as unknown (left out: lag -1), and a partition that does not exist as UNKNOWN_TOPIC_OR_PARTITION.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../base/error-codes.js';
import { MetadataImage } from '../../metadata/metadata-image.js';
import type { ListOffsetsRequest } from '../../protocol/messages/index.js';
import { TransportError, type Transport } from '../../protocol/transport.js';
import type { BrokerServices } from '../broker-services.js';
import { partitionEndOffsets } from './90-describe-share-group-offsets.js';

const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAABQ';

/** `orders` with partitions 0 (led here, node 1), 1 and 3 (node 2) and 2 (node 3). */
function fakeBroker(): BrokerServices {
  const image = new MetadataImage();
  image.apply({ type: 'Topic', name: 'orders', topicId: TOPIC_ID });
  for (const [partitionId, leader] of [[0, 1], [1, 2], [2, 3], [3, 2]] as const) {
    image.apply({ type: 'Partition', topicId: TOPIC_ID, partitionId, replicas: [leader], isr: [leader], leader, leaderEpoch: 0, partitionEpoch: 0 });
  }
  const replicaManager = {
    get: (topic: string, partition: number) => (topic === 'orders' && partition === 0 ? { log: { highWatermark: 10 } } : undefined),
    isOffline: () => false,
  };
  return { nodeId: 1, image, replicaManager } as unknown as BrokerServices;
}

function fakeTransport(sent: { nodeId: number; version: number; request: ListOffsetsRequest }[]): Transport {
  return {
    async send(nodeId: number, _api: unknown, version: number, request: unknown) {
      sent.push({ nodeId, version, request: request as ListOffsetsRequest });
      if (nodeId === 3) throw new TransportError('unreachable', 3, 'node 3 is down');
      const partitions = (request as ListOffsetsRequest).topics[0]!.partitions.map(({ partitionIndex }) =>
        partitionIndex === 1 ? { partitionIndex, errorCode: ErrorCode.NONE, timestamp: -1n, offset: 7n, leaderEpoch: 0 } : { partitionIndex, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, timestamp: -1n, offset: -1n, leaderEpoch: -1 },
      );
      return { throttleTimeMs: 0, topics: [{ name: 'orders', partitions }] };
    },
  } as Transport;
}

const wanted = [0, 1, 2, 3, 9].map((partition) => ({ topicName: 'orders', topicId: TOPIC_ID, partition }));

describe('DescribeShareGroupOffsets end offsets', () => {
  it('reads the local high watermark and asks each other leader once with ListOffsets LATEST', async () => {
    const sent: { nodeId: number; version: number; request: ListOffsetsRequest }[] = [];
    const ends = await partitionEndOffsets(fakeBroker(), fakeTransport(sent))(wanted);
    assert.deepEqual(Object.fromEntries(ends), {
      [`${TOPIC_ID}:0`]: { offset: 10 },
      [`${TOPIC_ID}:1`]: { offset: 7 },
      [`${TOPIC_ID}:3`]: { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER },
      [`${TOPIC_ID}:9`]: { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    });
    assert.deepEqual(
      sent.map(({ nodeId, request }) => [nodeId, request.replicaId, request.isolationLevel, request.topics.map((topic) => [topic.name, topic.partitions.map((partition) => [partition.partitionIndex, partition.timestamp])])]),
      [
        [2, -1, 0, [['orders', [[1, -1n], [3, -1n]]]]],
        [3, -1, 0, [['orders', [[2, -1n]]]]],
      ],
    );
  });

  it('without a transport, partitions led elsewhere are unknown', async () => {
    const ends = await partitionEndOffsets(fakeBroker(), undefined)(wanted);
    assert.deepEqual(Object.fromEntries(ends), { [`${TOPIC_ID}:0`]: { offset: 10 }, [`${TOPIC_ID}:9`]: { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION } });
  });
});
