// DescribeShareGroupOffsets (KIP-932, lag from KIP-1226) as Kafka 4.2's GroupCoordinatorService
// answers it: each asked partition's share-partition start offset (SPSO) and leader epoch, read
// from the share coordinator with ReadShareGroupStateSummary, and its lag: the partition's end
// offset (the high watermark, as a READ_UNCOMMITTED ListOffsets LATEST gives it) minus the SPSO
// minus the records at or above the SPSO already acknowledged or archived
// (DeliveryCompleteCount). The lag is what the group has not finished with yet: records never
// delivered, and records delivered but not yet acknowledged (in flight).
//
// Kafka's rules, kept here:
// - Null topics means every partition the group initialized; a group that is not a share group
//   (or does not exist) has none, so the answer is empty, not an error (Kafka 4.2 does not check
//   the group's type here: only ShareGroupDescribe answers GROUP_ID_NOT_FOUND).
// - A topic the metadata does not know answers StartOffset -1 for each asked partition, with the
//   zero topic id, leader epoch 0 and lag -1: absence of data rather than an error.
// - A partition whose summary failed answers StartOffset -1, leader epoch 0, lag -1, no error.
// - Lag is computed only when the summary succeeded with a known SPSO and DeliveryCompleteCount;
//   otherwise it is -1. When the end offset cannot be had, the partition carries that error.
//
// DeleteShareGroupOffsets (KIP-932) of an empty share group: each named topic's share-partition
// states are deleted with the share coordinators and the topic leaves the group's initialized
// partitions (a member subscribing later initializes it afresh, from share.auto.offset.reset).
// Kafka first records the topic as "deleting" and retries a failed deletion on the next request;
// here a topic whose deletion failed stays initialized and answers the error, so a retry deletes it.
import { ErrorCode } from '../../base/error-codes.js';
import type { MetadataImage } from '../../metadata/metadata-image.js';
import type { ShareStatePersister, ShareStateSummary } from '../share/share-state-persister.js';
import type { OffsetsRecord } from './group-records.js';
import type { ShareGroupModel, ShareTopicPartitions } from './share-group.js';
import { shareStatePartitionsRecord } from './share-group-records.js';

/** Kafka's Uuid.ZERO_UUID in base64: the topic id of a topic the metadata does not know. */
export const ZERO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** PartitionFactory.UNINITIALIZED_START_OFFSET and UNINITIALIZED_LAG. */
const UNINITIALIZED = -1;
/** PartitionFactory.DEFAULT_LEADER_EPOCH. */
const DEFAULT_LEADER_EPOCH = 0;

export interface ShareOffsetsTopicRequest {
  topicName: string;
  partitions: readonly number[];
}

export interface ShareOffsetsPartition {
  partitionIndex: number;
  startOffset: number;
  leaderEpoch: number;
  /** -1 when unknown (state not initialized, summary failed, or no end offset known). */
  lag: number;
  errorCode: number;
  errorMessage: string | null;
}

export interface ShareOffsetsTopic {
  topicName: string;
  topicId: string;
  partitions: ShareOffsetsPartition[];
}

export interface ShareGroupOffsetsResult {
  groupId: string;
  errorCode: number;
  errorMessage: string | null;
  topics: ShareOffsetsTopic[];
}

/** A partition whose end offset the lag needs. */
export interface EndOffsetWanted {
  topicName: string;
  topicId: string;
  partition: number;
}

/** The end offset (next offset to be written) of a partition, an error, or unknown (lag -1). */
export type EndOffset = { offset: number } | { errorCode: number; errorMessage?: string | null } | undefined;

/**
 * Finds partitions' end offsets: on the broker, the leader's high watermark. The key of each
 * answer is `endOffsetKey(topicId, partition)`; a partition left out has an unknown lag (-1).
 */
export type PartitionEndOffsets = (partitions: readonly EndOffsetWanted[]) => Promise<ReadonlyMap<string, EndOffset>>;

export function endOffsetKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

export interface ShareGroupOffsetsSources {
  image: MetadataImage;
  /** Without a persister nothing is ever initialized with a share coordinator: no start offsets. */
  persister: ShareStatePersister | undefined;
  endOffsets: PartitionEndOffsets | undefined;
}

/** The partitions to describe when the request names them: by topic id, those the image knows. */
export function requestedPartitions(image: MetadataImage, topics: readonly ShareOffsetsTopicRequest[]): { known: Map<string, ShareTopicPartitions>; unknown: ShareOffsetsTopic[] } {
  const known = new Map<string, ShareTopicPartitions>();
  const unknown: ShareOffsetsTopic[] = [];
  for (const topic of topics) {
    const found = image.topic(topic.topicName);
    if (found === undefined) {
      unknown.push({ topicName: topic.topicName, topicId: ZERO_TOPIC_ID, partitions: topic.partitions.map((partitionIndex) => absentPartition(partitionIndex)) });
      continue;
    }
    let entry = known.get(found.topicId);
    if (entry === undefined) known.set(found.topicId, (entry = { topicName: found.name, partitions: new Set() }));
    for (const partition of topic.partitions) entry.partitions.add(partition);
  }
  return { known, unknown };
}

/** The group's initialized partitions of topics that still exist, named as the image names them now. */
export function initializedPartitions(image: MetadataImage, initialized: ReadonlyMap<string, ShareTopicPartitions> | undefined): Map<string, ShareTopicPartitions> {
  const partitions = new Map<string, ShareTopicPartitions>();
  for (const [topicId, entry] of initialized ?? []) {
    const topic = image.topicsById.get(topicId);
    if (topic !== undefined) partitions.set(topicId, { topicName: topic.name, partitions: new Set(entry.partitions) });
  }
  return partitions;
}

/** Reads each partition's summary, then the end offsets of those with a known SPSO, and builds the answer. */
export async function describeShareOffsets(
  sources: ShareGroupOffsetsSources,
  groupId: string,
  partitions: ReadonlyMap<string, ShareTopicPartitions>,
  unknownTopics: readonly ShareOffsetsTopic[] = [],
): Promise<ShareGroupOffsetsResult> {
  const summaries = new Map<string, ShareStateSummary>();
  await Promise.all(
    [...partitions].flatMap(([topicId, entry]) =>
      [...entry.partitions].map(async (partition) => {
        summaries.set(endOffsetKey(topicId, partition), await readSummary(sources.persister, { groupId, topicId, partition }));
      }),
    ),
  );
  const wanted: EndOffsetWanted[] = [];
  for (const [topicId, entry] of partitions) {
    for (const partition of entry.partitions) if (lagComputable(summaries.get(endOffsetKey(topicId, partition))!)) wanted.push({ topicName: entry.topicName, topicId, partition });
  }
  const ends = wanted.length > 0 && sources.endOffsets !== undefined ? await sources.endOffsets(wanted) : new Map<string, EndOffset>();
  const topics: ShareOffsetsTopic[] = [...partitions].map(([topicId, entry]) => ({
    topicName: entry.topicName,
    topicId,
    partitions: [...entry.partitions]
      .sort((a, b) => a - b)
      .map((partition) => describedPartition(partition, summaries.get(endOffsetKey(topicId, partition))!, ends.get(endOffsetKey(topicId, partition)))),
  }));
  topics.sort((a, b) => (a.topicName < b.topicName ? -1 : a.topicName > b.topicName ? 1 : 0));
  return { groupId, errorCode: ErrorCode.NONE, errorMessage: null, topics: [...topics, ...unknownTopics] };
}

async function readSummary(persister: ShareStatePersister | undefined, key: { groupId: string; topicId: string; partition: number }): Promise<ShareStateSummary> {
  if (persister === undefined) return { errorCode: ErrorCode.NONE, stateEpoch: 0, leaderEpoch: DEFAULT_LEADER_EPOCH, startOffset: UNINITIALIZED, deliveryCompleteCount: UNINITIALIZED };
  // The group coordinator leads no partition: the leader epoch is not checked for a summary.
  return persister.readSummary(key, DEFAULT_LEADER_EPOCH);
}

/** Kafka's shouldComputeSharePartitionLag. */
function lagComputable(summary: ShareStateSummary): boolean {
  return summary.errorCode === ErrorCode.NONE && summary.startOffset !== UNINITIALIZED && summary.deliveryCompleteCount !== UNINITIALIZED;
}

function describedPartition(partitionIndex: number, summary: ShareStateSummary, end: EndOffset): ShareOffsetsPartition {
  const ok = summary.errorCode === ErrorCode.NONE;
  const base = {
    partitionIndex,
    startOffset: ok ? summary.startOffset : UNINITIALIZED,
    leaderEpoch: ok ? summary.leaderEpoch : DEFAULT_LEADER_EPOCH,
    lag: UNINITIALIZED,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
  };
  if (!lagComputable(summary) || end === undefined) return base;
  // As Kafka: a failed end-offset lookup is the partition's error, with no offsets.
  if ('errorCode' in end) return { partitionIndex, startOffset: 0, leaderEpoch: 0, lag: UNINITIALIZED, errorCode: end.errorCode, errorMessage: end.errorMessage ?? null };
  // The end offset is the next offset to be written, so no +1.
  return { ...base, lag: end.offset - summary.startOffset - summary.deliveryCompleteCount };
}

function absentPartition(partitionIndex: number): ShareOffsetsPartition {
  return { partitionIndex, startOffset: UNINITIALIZED, leaderEpoch: DEFAULT_LEADER_EPOCH, lag: UNINITIALIZED, errorCode: ErrorCode.NONE, errorMessage: null };
}

export interface DeletedShareOffsetsTopic {
  topicName: string;
  topicId: string;
  errorCode: number;
  errorMessage: string | null;
}

export interface DeleteShareOffsetsResult {
  errorCode: number;
  errorMessage: string | null;
  responses: DeletedShareOffsetsTopic[];
}

/** Share-state errors that mean the state is gone already: nothing left to delete. */
const ALREADY_DELETED = new Set<number>([ErrorCode.GROUP_ID_NOT_FOUND, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);

/**
 * Deletes the share-partition states of `topicNames` for an empty share group (the caller checked
 * it is one and empty), then records the group's remaining initialized partitions through `store`.
 */
export async function deleteShareOffsets(
  model: ShareGroupModel,
  image: MetadataImage,
  persister: ShareStatePersister | undefined,
  topicNames: readonly string[],
  store: (records: OffsetsRecord[]) => Promise<number>,
): Promise<DeleteShareOffsetsResult> {
  const responses: DeletedShareOffsetsTopic[] = [];
  // The eligible topics leave the initialized partitions before the first wait, as Kafka moves them
  // to "deleting" at once: a member joining meanwhile is not assigned a partition being deleted.
  const eligible: { topicName: string; topicId: string; entry: ShareTopicPartitions }[] = [];
  for (const topicName of new Set(topicNames)) {
    const topic = image.topic(topicName);
    const entry = topic === undefined ? undefined : model.initialized.get(topic.topicId);
    if (topic === undefined || entry === undefined) {
      const errorMessage = topic === undefined ? 'This server does not host this topic-partition.' : 'There is no offset information to delete.';
      responses.push({ topicName, topicId: ZERO_TOPIC_ID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage });
      continue;
    }
    model.initialized.delete(topic.topicId);
    eligible.push({ topicName, topicId: topic.topicId, entry });
  }
  const deleted: string[] = [];
  for (const { topicName, topicId, entry } of eligible) {
    const results = persister === undefined ? [] : await Promise.all([...entry.partitions].map((partition) => persister.delete({ groupId: model.groupId, topicId, partition })));
    const failed = results.find(({ errorCode }) => errorCode !== ErrorCode.NONE && !ALREADY_DELETED.has(errorCode));
    if (failed !== undefined) {
      // Still there: initialized again, for a retry to delete.
      if (!model.initialized.has(topicId)) model.initialized.set(topicId, entry);
      responses.push({ topicName, topicId, errorCode: failed.errorCode, errorMessage: failed.errorMessage ?? null });
      continue;
    }
    deleted.push(topicId);
    responses.push({ topicName, topicId, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  if (deleted.length === 0) return { errorCode: ErrorCode.NONE, errorMessage: null, responses };
  const stored = await store([shareStatePartitionsRecord(model.groupId, model)]);
  if (stored !== ErrorCode.NONE) return { errorCode: stored, errorMessage: null, responses: [] };
  return { errorCode: ErrorCode.NONE, errorMessage: null, responses };
}
