// DescribeLogDirs (key 35), versions 0-4.
// Lists this broker's one log directory with the partitions it holds (all topics when the request
// names none): each partition's size in bytes, offset lag 0 (there are no future replicas) and
// is_future false. Unknown topics or partitions are left out, as Kafka does.
// Version notes: v2+ flexible; v3+ a top-level error code; v4+ total and usable bytes of the
// volume (-1: not measured, the broker has no file-system statistics port).
import { ErrorCode } from '../../base/error-codes.js';
import { DescribeLogDirsApi, type DescribeLogDirsResponse } from '../../protocol/messages/index.js';
import type { Partition } from '../../replication/partition.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

type TopicResult = DescribeLogDirsResponse['results'][number]['topics'][number];

export const describeLogDirsHandler = defineHandler({
  api: DescribeLogDirsApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker }) {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{ errorCode: ErrorCode.NONE, logDir: broker.config.logDir, topics: await describedTopics(broker, request.topics), totalBytes: -1n, usableBytes: -1n }],
    };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, results: [] };
  },
});

/** Sizes of segments not loaded since start-up are measured on the first request that asks for them. */
async function describedTopics(broker: BrokerServices, wanted: { topic: string; partitions: number[] }[] | null): Promise<TopicResult[]> {
  const byTopic = new Map<string, Partition[]>();
  for (const partition of broker.replicaManager.all()) {
    const request = wanted?.find((topic) => topic.topic === partition.topic);
    if (wanted !== null && (!request || !request.partitions.includes(partition.partitionIndex))) continue;
    byTopic.set(partition.topic, [...(byTopic.get(partition.topic) ?? []), partition]);
  }
  const topics: TopicResult[] = [];
  for (const [name, partitions] of byTopic) {
    const described: TopicResult['partitions'] = [];
    for (const partition of partitions.sort((a, b) => a.partitionIndex - b.partitionIndex)) {
      described.push({ partitionIndex: partition.partitionIndex, partitionSize: BigInt(await partition.log.size()), offsetLag: 0n, isFutureKey: false });
    }
    topics.push({ name, partitions: described });
  }
  return topics;
}
