// A consumer group's committed offsets seen from outside the group (as Kafka's admin client does
// for Connect's sink offsets, KIP-875): read them, set them and delete them, through the group's
// coordinator. Setting uses generation -1 and no member id, which a coordinator accepts only
// while the group has no members.
import { ErrorCode } from '../base/error-codes.js';
import { FindCoordinatorApi, OffsetCommitApi, OffsetDeleteApi, OffsetFetchApi, type OffsetFetchResponse } from '../protocol/messages/index.js';
import { type ClusterClient, KafkaResponseError, hostPort } from './cluster-client.js';

const GROUP_KEY_TYPE = 0;

export interface GroupOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** The host:port of the coordinator of `groupId`. */
export async function findGroupCoordinator(cluster: ClusterClient, groupId: string): Promise<string> {
  const response = await cluster.request(FindCoordinatorApi, { key: groupId, keyType: GROUP_KEY_TYPE }, { maxVersion: 3 });
  if (response.errorCode) throw new KafkaResponseError(response.errorCode, `finding the coordinator of group '${groupId}'`, response.errorMessage);
  return hostPort(response.host ?? '', response.port ?? 0);
}

/** Every committed offset of the group. */
export async function fetchGroupOffsets(cluster: ClusterClient, groupId: string): Promise<GroupOffset[]> {
  const address = await findGroupCoordinator(cluster, groupId);
  const response = await cluster.request(OffsetFetchApi, { groupId, topics: null, requireStable: false }, { address, minVersion: 2, maxVersion: 7 });
  if (response.errorCode) throw new KafkaResponseError(response.errorCode, `reading offsets of group '${groupId}'`);
  return (response.topics ?? []).flatMap((topic) => topic.partitions
    .filter((partition) => partition.errorCode === ErrorCode.NONE && partition.committedOffset >= 0n)
    .map((partition) => ({ topic: topic.name, partition: partition.partitionIndex, offset: Number(partition.committedOffset) })));
}

/** Sets committed offsets of a group without members. */
export async function commitGroupOffsets(cluster: ClusterClient, groupId: string, offsets: readonly GroupOffset[]): Promise<void> {
  if (offsets.length === 0) return;
  const address = await findGroupCoordinator(cluster, groupId);
  const byTopic = new Map<string, GroupOffset[]>();
  for (const offset of offsets) byTopic.set(offset.topic, [...(byTopic.get(offset.topic) ?? []), offset]);
  const response = await cluster.request(OffsetCommitApi, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [...byTopic].map(([name, entries]) => ({
      name,
      partitions: entries.map((entry) => ({ partitionIndex: entry.partition, committedOffset: BigInt(entry.offset), committedLeaderEpoch: -1, committedMetadata: null })),
    })),
  }, { address, minVersion: 2, maxVersion: 7 });
  const failed = response.topics.flatMap((topic) => topic.partitions).find((partition) => partition.errorCode !== ErrorCode.NONE);
  if (failed) throw new KafkaResponseError(failed.errorCode, `setting offsets of group '${groupId}'`);
}

/** Deletes the group's committed offsets of these partitions (OffsetDelete). */
export async function deleteGroupOffsets(cluster: ClusterClient, groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<void> {
  if (partitions.length === 0) return;
  const address = await findGroupCoordinator(cluster, groupId);
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  const response = await cluster.request(OffsetDeleteApi, {
    groupId,
    topics: [...byTopic].map(([name, indexes]) => ({ name, partitions: indexes.map((partitionIndex) => ({ partitionIndex })) })),
  }, { address });
  if (response.errorCode && response.errorCode !== ErrorCode.GROUP_ID_NOT_FOUND) throw new KafkaResponseError(response.errorCode, `deleting offsets of group '${groupId}'`);
  const failed = response.topics.flatMap((topic) => topic.partitions).find((partition) => partition.errorCode !== ErrorCode.NONE);
  if (failed) throw new KafkaResponseError(failed.errorCode, `deleting offsets of group '${groupId}'`);
}

/** An OffsetFetch answer's committed offsets by topic and partition; partitions without a commit (or with an error) are left out. */
export function committedByTopic(response: OffsetFetchResponse): Map<string, Map<number, number>> {
  const offsets = new Map<string, Map<number, number>>();
  for (const topic of response.topics ?? []) {
    const byPartition = new Map<number, number>();
    for (const partition of topic.partitions) {
      if (partition.errorCode === ErrorCode.NONE && partition.committedOffset >= 0n) byPartition.set(partition.partitionIndex, Number(partition.committedOffset));
    }
    offsets.set(topic.name, byPartition);
  }
  return offsets;
}
