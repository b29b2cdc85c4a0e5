// AlterReplicaLogDirs (key 34), versions 1-2.
// Moves partition replicas of this broker to another of its log directories. Conveyor has one
// log directory, so the only valid destination is the one a replica is already in, a no-op that
// answers NONE. As Kafka checks them, in order: a destination that is not a log directory of this
// broker answers LOG_DIR_NOT_FOUND; a partition the metadata does not have answers
// UNKNOWN_TOPIC_OR_PARTITION; one this broker does not host answers REPLICA_NOT_AVAILABLE.
// Paths are compared after resolving them, as Kafka compares absolute paths.
// Version notes: v0 is not served (Kafka 4.0 removed it); v1 is v0's format; v2 is flexible.
import { resolve } from 'node:path';
import { ErrorCode } from '../../base/error-codes.js';
import { AlterReplicaLogDirsApi, type AlterReplicaLogDirsRequest, type AlterReplicaLogDirsResponse } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

type TopicResult = AlterReplicaLogDirsResponse['results'][number];

export const alterReplicaLogDirsHandler = defineHandler({
  api: AlterReplicaLogDirsApi,
  minVersion: 1,
  maxVersion: 2,
  handle(request, { broker }) {
    return { throttleTimeMs: 0, results: byTopic(request, (path, topic, partitionIndex) => moveReplica(broker, path, topic, partitionIndex)) };
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, results: byTopic(request, () => errorCode) };
  },
});

/** One result per topic, its partitions in request order (a partition named for two dirs answers twice). */
function byTopic(request: AlterReplicaLogDirsRequest, answer: (path: string, topic: string, partitionIndex: number) => number): TopicResult[] {
  const results = new Map<string, TopicResult>();
  for (const dir of request.dirs) {
    for (const topic of dir.topics) {
      let result = results.get(topic.name);
      if (result === undefined) {
        result = { topicName: topic.name, partitions: [] };
        results.set(topic.name, result);
      }
      for (const partitionIndex of topic.partitions) result.partitions.push({ partitionIndex, errorCode: answer(dir.path, topic.name, partitionIndex) });
    }
  }
  return [...results.values()];
}

function moveReplica(broker: BrokerServices, path: string, topic: string, partitionIndex: number): number {
  if (resolve(path) !== resolve(broker.config.logDir)) return ErrorCode.LOG_DIR_NOT_FOUND;
  if (broker.image.partition(topic, partitionIndex) === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  if (broker.replicaManager.get(topic, partitionIndex) === undefined) return ErrorCode.REPLICA_NOT_AVAILABLE;
  // The replica is already in the destination: nothing to move.
  return ErrorCode.NONE;
}
