// AlterReplicaLogDirs (key 34), versions 1-2.
// Moves partition replicas of this broker to another of its log directories (log.dirs). As Kafka
// checks them, in order: a destination that is not a log directory of this broker answers
// LOG_DIR_NOT_FOUND, a failed one KAFKA_STORAGE_ERROR; a partition the metadata does not have
// answers UNKNOWN_TOPIC_OR_PARTITION; one this broker does not host answers REPLICA_NOT_AVAILABLE.
// A replica not hosted yet is created in the destination when it comes (Kafka's preferred log dir)
// while the answer says REPLICA_NOT_AVAILABLE, which tools retry. A replica already in its
// destination answers NONE at once. Otherwise the answer is NONE once the move has started, as
// Kafka answers before its future replica has caught up: the log is copied in the background while
// the replica serves (ReplicaManager.moveReplica, LogManager.moveLog), and DescribeLogDirs shows
// the copy as the future replica until the move ends.
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
  const { replicaManager } = broker;
  const { logManager } = replicaManager;
  const destination = logManager.logDirs.find((dir) => resolve(dir.path) === resolve(path));
  if (destination === undefined) return ErrorCode.LOG_DIR_NOT_FOUND;
  if (destination.offline) return ErrorCode.KAFKA_STORAGE_ERROR;
  if (broker.image.partition(topic, partitionIndex) === undefined) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  if (replicaManager.isOffline(topic, partitionIndex)) return ErrorCode.KAFKA_STORAGE_ERROR;
  const replica = replicaManager.replica(topic, partitionIndex);
  if (replica === undefined) {
    if (logManager.isMoving(topic, partitionIndex)) return ErrorCode.NONE;
    // A replica on its way here is created in the directory asked for, as Kafka's preferred log dir.
    logManager.preferLogDir(topic, partitionIndex, destination.path);
    return ErrorCode.REPLICA_NOT_AVAILABLE;
  }
  if (logManager.logDirOf(topic, partitionIndex) === destination.path) return ErrorCode.NONE;
  replicaManager.moveReplica(replica, destination.path, broker.clock.monotonicMs()).then(
    () => broker.logger.info('moved a replica to another log directory', { topic, partition: partitionIndex, logDir: destination.path }),
    (error: unknown) => broker.logger.error('could not move a replica to another log directory', { topic, partition: partitionIndex, logDir: destination.path, error }),
  );
  return ErrorCode.NONE;
}
