// DeleteRecords (key 21), versions 0-2.
// Moves each partition's log start offset forward to the requested offset (-1 means the high
// watermark), so records below it are no longer readable (Fetch below it gets
// OFFSET_OUT_OF_RANGE) and retention removes their segments. An offset above the high watermark,
// or negative other than -1, gets OFFSET_OUT_OF_RANGE; an offset at or below the current log start
// changes nothing. The answer carries the new low watermark (the log start offset). The log-start
// checkpoint is rewritten before answering, so a crash does not bring the records back.
// Authorizes as Kafka's KafkaApis: DELETE on each topic, else its partitions get
// TOPIC_AUTHORIZATION_FAILED with low watermark -1, before anything is looked up.
// Version notes: v0-1 identical; v2 is flexible.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { DeleteRecordsApi, type DeleteRecordsResponse } from '../../protocol/messages/index.js';
import { type BrokerServices, notLedHereError } from '../broker-services.js';
import { defineHandler } from './handler.js';

type PartitionResult = DeleteRecordsResponse['topics'][number]['partitions'][number];

/** The offset that means "everything up to the high watermark". */
const HIGH_WATERMARK_OFFSET = -1;

export const deleteRecordsHandler = defineHandler({
  api: DeleteRecordsApi,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, { broker, connection }) {
    const deletable = new Map<string, boolean>();
    for (const { name } of request.topics) if (!deletable.has(name)) deletable.set(name, broker.authorization.topic(connection, AclOperation.DELETE, name));
    const topics = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map(({ partitionIndex, offset }) =>
        deletable.get(topic.name)
          ? deleteBelow(broker, topic.name, partitionIndex, Number(offset))
          : { partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED },
      ),
    }));
    if (topics.some((topic) => topic.partitions.some((partition) => partition.errorCode === ErrorCode.NONE))) {
      await broker.replicaManager.logManager.checkpoint();
    }
    return { throttleTimeMs: 0, topics };
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map(({ partitionIndex }) => ({ partitionIndex, lowWatermark: -1n, errorCode })),
      })),
    };
  },
});

function deleteBelow(broker: BrokerServices, topic: string, partitionIndex: number, requested: number): PartitionResult {
  const partition = broker.replicaManager.get(topic, partitionIndex);
  if (!partition) return { partitionIndex, lowWatermark: -1n, errorCode: notLedHereError(broker, topic, partitionIndex) };
  const { log } = partition;
  const offset = requested === HIGH_WATERMARK_OFFSET ? log.highWatermark : requested;
  if (offset < 0 || offset > log.highWatermark) return { partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
  if (log.maybeIncrementLogStartOffset(offset)) {
    broker.logger.info('deleted records', { topic, partition: partitionIndex, logStartOffset: log.logStartOffset });
  }
  return { partitionIndex, lowWatermark: BigInt(log.logStartOffset), errorCode: ErrorCode.NONE };
}
