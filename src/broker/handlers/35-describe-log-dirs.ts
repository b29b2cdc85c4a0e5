// DescribeLogDirs (key 35), versions 0-4.
// Lists each of this broker's log directories (log.dirs) with the partitions it holds (all topics
// when the request names none): each partition's size in bytes, offset lag 0 and is_future false;
// a replica being moved (AlterReplicaLogDirs) is also listed in its destination as the future
// replica, is_future true, its offset lag how far its copy is behind the current log's end. A
// failed directory answers KAFKA_STORAGE_ERROR and no partitions, as Kafka's does. Unknown topics
// or partitions are left out, as Kafka does.
// Each online directory reports the total and usable bytes of the file system it is on (KIP-827;
// statfs: blocks and available blocks times the block size, as Java's FileStore; an in-memory
// broker: its capacity limit and what is left of it, or -1 without a limit), a failed one -1. A
// directory whose file system cannot be measured answers UNKNOWN_SERVER_ERROR and no partitions, as
// Kafka's does (an I/O error there is not a storage failure).
// Needs DESCRIBE on the cluster, as in Kafka's KafkaApis; else the answer is no directories and,
// v3+, the top-level error CLUSTER_AUTHORIZATION_FAILED.
// Version notes: v2+ flexible; v3+ a top-level error code; v4+ total and usable bytes.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { DescribeLogDirsApi, type DescribeLogDirsResponse } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

type TopicResult = DescribeLogDirsResponse['results'][number]['topics'][number];

export const describeLogDirsHandler = defineHandler({
  api: DescribeLogDirsApi,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    const results = [];
    const { logManager } = broker.replicaManager;
    for (const dir of logManager.logDirs) {
      if (dir.offline) {
        results.push({ errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir: dir.path, topics: [], totalBytes: -1n, usableBytes: -1n });
        continue;
      }
      let space;
      try {
        space = await logManager.space(dir.path);
      } catch (error) {
        broker.logger.error('could not measure the file system of a log directory', { dir: dir.path, error });
        results.push({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, logDir: dir.path, topics: [], totalBytes: -1n, usableBytes: -1n });
        continue;
      }
      results.push({ errorCode: ErrorCode.NONE, logDir: dir.path, topics: await describedTopics(broker, dir.path, request.topics), totalBytes: space.totalBytes, usableBytes: space.usableBytes });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results };
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, results: [] };
  },
});

/** Sizes of segments not loaded since start-up are measured on the first request that asks for them. */
async function describedTopics(broker: BrokerServices, logDir: string, wanted: { topic: string; partitions: number[] }[] | null): Promise<TopicResult[]> {
  const { logManager } = broker.replicaManager;
  const byTopic = new Map<string, TopicResult['partitions']>();
  const replicas = [...broker.replicaManager.all()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partitionIndex - b.partitionIndex);
  for (const partition of replicas) {
    const { topic, partitionIndex } = partition;
    const request = wanted?.find((entry) => entry.topic === topic);
    if (wanted !== null && (!request || !request.partitions.includes(partitionIndex))) continue;
    const described = byTopic.get(topic) ?? [];
    if (logManager.logDirOf(topic, partitionIndex) === logDir) {
      described.push({ partitionIndex, partitionSize: BigInt(await partition.log.size()), offsetLag: 0n, isFutureKey: false });
    }
    const future = logManager.futureOf(topic, partitionIndex);
    if (future?.logDir === logDir) {
      const lag = Math.max(0, partition.log.logEndOffset - future.logEndOffset);
      described.push({ partitionIndex, partitionSize: BigInt(await future.size()), offsetLag: BigInt(lag), isFutureKey: true });
    }
    if (described.length > 0) byTopic.set(topic, described);
  }
  return [...byTopic].map(([name, partitions]) => ({ name, partitions }));
}
