// DescribeShareGroupOffsets (key 90), versions 0-1 (v1 adds Lag, KIP-1226): each share group's
// share-partition start offsets and leader epochs, from the share coordinators, and (v1) the lag
// per partition: end offset - start offset - records acknowledged or archived above it
// (src/coordinator/group/share-group-offsets.ts). Topics null asks for every partition the group
// initialized, an empty list for none.
// Authorization as Kafka's KafkaApis: DESCRIBE on the group, else GROUP_AUTHORIZATION_FAILED for
// it; DESCRIBE on each topic: with topics named, an unauthorized topic's partitions answer
// TOPIC_AUTHORIZATION_FAILED (start offset and lag -1); with topics null, unauthorized topics are
// left out. Share groups switched off (group.coordinator.rebalance.protocols without share):
// UNSUPPORTED_VERSION for each group.
// The end offset is the leader's high watermark (Kafka sends ListOffsets LATEST, READ_UNCOMMITTED,
// to each leader). Handlers here reach no other broker, so a partition this broker does not lead
// answers lag -1 (unknown), without an error.
import { ErrorCode } from '../../base/error-codes.js';
import { AclOperation } from '../../metadata/acl.js';
import { DescribeShareGroupOffsetsApi, type DescribeShareGroupOffsetsResponse } from '../../protocol/messages/index.js';
import { type EndOffset, type EndOffsetWanted, type ShareGroupOffsetsResult, ZERO_TOPIC_ID, endOffsetKey } from '../../coordinator/group/share-group-offsets.js';
import { type BrokerServices, notLedHereError } from '../broker-services.js';
import { defineHandler } from './handler.js';

type ResponseGroup = DescribeShareGroupOffsetsResponse['groups'][number];
type ResponseTopic = ResponseGroup['topics'][number];

export const describeShareGroupOffsetsHandler = defineHandler({
  api: DescribeShareGroupOffsetsApi,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, { broker, connection }) {
    const groups = await Promise.all(
      request.groups.map(async (group): Promise<ResponseGroup> => {
        if (!broker.config.shareGroups.enabled) return groupError(group.groupId, ErrorCode.UNSUPPORTED_VERSION);
        if (!broker.authorization.group(connection, AclOperation.DESCRIBE, group.groupId)) return groupError(group.groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED);
        const canDescribe = (topic: string) => broker.authorization.topic(connection, AclOperation.DESCRIBE, topic);
        const endOffsets = async (partitions: readonly EndOffsetWanted[]) => new Map(partitions.map((wanted) => [endOffsetKey(wanted.topicId, wanted.partition), localEndOffset(broker, wanted)]));
        if (group.topics === null) {
          // Clients may not see offsets of topics they may not describe.
          const described = await broker.groupCoordinator.describeShareGroupOffsets(group.groupId, null, endOffsets);
          return responseGroup({ ...described, topics: described.topics.filter((topic) => canDescribe(topic.topicName)) });
        }
        if (group.topics.length === 0) return { groupId: group.groupId, topics: [], errorCode: ErrorCode.NONE, errorMessage: null };
        const authorized = group.topics.filter((topic) => canDescribe(topic.topicName));
        const refused = group.topics.filter((topic) => !canDescribe(topic.topicName));
        const described = await broker.groupCoordinator.describeShareGroupOffsets(group.groupId, authorized, endOffsets);
        if (described.errorCode !== ErrorCode.NONE) return responseGroup(described);
        const answered = responseGroup(described);
        return { ...answered, topics: [...answered.topics, ...refused.map((topic) => refusedTopic(topic.topicName, topic.partitions))] };
      }),
    );
    return { throttleTimeMs: 0, groups };
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, groups: request.groups.map((group) => groupError(group.groupId, errorCode)) };
  },
});

/** The high watermark when this broker leads the partition; unknown (lag -1) when another does. */
function localEndOffset(broker: BrokerServices, wanted: EndOffsetWanted): EndOffset {
  const partition = broker.replicaManager.get(wanted.topicName, wanted.partition);
  if (partition !== undefined) return { offset: partition.log.highWatermark };
  const errorCode = notLedHereError(broker, wanted.topicName, wanted.partition);
  return errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER ? undefined : { errorCode };
}

function responseGroup(result: ShareGroupOffsetsResult): ResponseGroup {
  return {
    groupId: result.groupId,
    errorCode: result.errorCode,
    errorMessage: result.errorMessage,
    topics: result.topics.map((topic) => ({
      topicName: topic.topicName,
      topicId: topic.topicId,
      partitions: topic.partitions.map((partition) => ({
        partitionIndex: partition.partitionIndex,
        startOffset: BigInt(partition.startOffset),
        leaderEpoch: partition.leaderEpoch,
        lag: BigInt(partition.lag),
        errorCode: partition.errorCode,
        errorMessage: partition.errorMessage,
      })),
    })),
  };
}

function refusedTopic(topicName: string, partitions: readonly number[]): ResponseTopic {
  return {
    topicName,
    topicId: ZERO_TOPIC_ID,
    partitions: partitions.map((partitionIndex) => ({ partitionIndex, startOffset: -1n, leaderEpoch: 0, lag: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null })),
  };
}

function groupError(groupId: string, errorCode: number): ResponseGroup {
  return { groupId, topics: [], errorCode, errorMessage: null };
}
