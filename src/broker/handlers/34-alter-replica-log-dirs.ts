// AlterReplicaLogDirs (key 34), versions 1-2.
// Moves partition replicas of this broker to another of its log directories (log.dirs). As Kafka
// checks them, in order: a destination that is not a log directory of this broker answers
// LOG_DIR_NOT_FOUND, a failed one KAFKA_STORAGE_ERROR; a partition the metadata does not have
// answers UNKNOWN_TOPIC_OR_PARTITION; one this broker does not host answers REPLICA_NOT_AVAILABLE.
// A replica not hosted yet is created in the destination when it comes (Kafka's preferred log dir)
// while the answer says REPLICA_NOT_AVAILABLE, which tools retry. A replica already in its
// destination, and not being moved, answers NONE at once. Otherwise the answer is NONE once the
// move has started, as Kafka answers before its future replica has caught up: the log is copied in
// the background while the replica serves (ReplicaManager.moveReplica, LogManager.moveLog), and
// DescribeLogDirs shows the copy as the future replica until the move ends. As Kafka's
// alterReplicaLogDirs, a request for a replica being moved replaces the move: the same destination
// changes nothing; another one gives the running copy up (its -future directory removed) and
// starts a new copy there; the replica's current directory cancels the move.
// Paths are compared after resolving them, as Kafka compares absolute paths.
// Needs ALTER on the cluster, as in Kafka's KafkaApis; else every partition answers
// CLUSTER_AUTHORIZATION_FAILED, one topic entry per directory and topic named (Kafka's error response).
// Version notes: v0 is not served (Kafka 4.0 removed it); v1 is v0's format; v2 is flexible.
import { resolve } from 'node:path';
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { AlterReplicaLogDirsApi, type AlterReplicaLogDirsRequest, type AlterReplicaLogDirsResponse } from '../../protocol/messages/index.js';
import type { ReplicaMoveOutcome } from '../../replication/replica-manager.js';
import type { BrokerServices } from '../broker-services.js';
import { defineHandler } from './handler.js';

type TopicResult = AlterReplicaLogDirsResponse['results'][number];

export const alterReplicaLogDirsHandler = defineHandler({
  api: AlterReplicaLogDirsApi,
  minVersion: 1,
  maxVersion: 2,
  handle(request, { broker, connection }) {
    if (!broker.authorization.cluster(connection, AclOperation.ALTER)) return errorBody(request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    return { throttleTimeMs: 0, results: byTopic(request, (path, topic, partitionIndex) => moveReplica(broker, path, topic, partitionIndex)) };
  },
  errorResponse(request, errorCode) {
    return errorBody(request, errorCode);
  },
});

/** Kafka's error response: one result per directory and topic, every partition with `errorCode`. */
function errorBody(request: AlterReplicaLogDirsRequest, errorCode: number): AlterReplicaLogDirsResponse {
  return {
    throttleTimeMs: 0,
    results: request.dirs.flatMap((dir) => dir.topics.map((topic) => ({ topicName: topic.name, partitions: topic.partitions.map((partitionIndex) => ({ partitionIndex, errorCode })) }))),
  };
}

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
  // A replica being moved is not hosted while its copy is swapped in: the request is for the move.
  const moving = replicaManager.isMoving(topic, partitionIndex);
  if (replicaManager.replica(topic, partitionIndex) === undefined && !moving) {
    // A replica on its way here is created in the directory asked for, as Kafka's preferred log dir.
    logManager.preferLogDir(topic, partitionIndex, destination.path);
    return ErrorCode.REPLICA_NOT_AVAILABLE;
  }
  if (!moving && logManager.logDirOf(topic, partitionIndex) === destination.path) return ErrorCode.NONE;
  const where = { topic, partition: partitionIndex, logDir: destination.path };
  replicaManager.moveReplica(topic, partitionIndex, destination.path, broker.clock.monotonicMs()).then(
    (outcome) => broker.logger.info(MOVE_OUTCOMES[outcome], where),
    (error: unknown) => broker.logger.error('could not move a replica to another log directory', { ...where, error }),
  );
  return ErrorCode.NONE;
}

const MOVE_OUTCOMES: Record<ReplicaMoveOutcome, string> = {
  moved: 'moved a replica to another log directory',
  stayed: 'a replica stays in its log directory: its move was cancelled',
  replaced: 'a move of a replica to another log directory was replaced by a later request',
};
