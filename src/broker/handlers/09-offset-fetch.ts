// OffsetFetch (key 9), versions 0-9.
// Returns a group's committed offsets (-1 and empty metadata where none is committed) for the
// requested partitions, or for every committed partition when topics is null (v2+).
// Version notes: v0-1 errors only per partition; v2+ a top-level error; v5+ leader epoch; v7+
// RequireStable: a partition with an offset an open transaction holds answers
// UNSTABLE_OFFSET_COMMIT (KIP-447; Java and librdkafka read_committed consumers ask for it); v8+
// batched groups, each with its own error (platformatic and Java send only these).
import { ErrorCode } from '../../base/error-codes.js';
import type { OffsetFetchResult } from '../../coordinator/group/group-coordinator.js';
import { OffsetFetchApi } from '../../protocol/messages/index.js';
import type { OffsetFetchResponse } from '../../protocol/messages/offset-fetch.js';
import { defineHandler } from './handler.js';

const BATCHED_VERSION = 8;

type RequestedTopics = { name: string; partitionIndexes: number[] }[] | null | undefined;

export const offsetFetchHandler = defineHandler({
  api: OffsetFetchApi,
  minVersion: 0,
  maxVersion: 9,
  async handle(request, { broker, apiVersion }): Promise<OffsetFetchResponse> {
    const requireStable = apiVersion >= 7 && request.requireStable === true;
    const fetch = (groupId: string, topics: RequestedTopics) =>
      broker.groupCoordinator.fetchOffsets(groupId, topics ? topics.map(({ name, partitionIndexes }) => ({ topic: name, partitions: partitionIndexes })) : null, requireStable);
    if (apiVersion >= BATCHED_VERSION) {
      const groups = [];
      for (const group of request.groups ?? []) {
        const result = await fetch(group.groupId, group.topics);
        groups.push({ groupId: group.groupId, errorCode: result.errorCode, topics: toTopics(withRequestedOnError(result, group.topics)) });
      }
      return { throttleTimeMs: 0, groups };
    }
    const result = await fetch(request.groupId ?? '', request.topics);
    return singleGroupResponse(withRequestedOnError(result, request.topics), apiVersion);
  },
  errorResponse(request, errorCode, { apiVersion }) {
    if (apiVersion >= BATCHED_VERSION) {
      return { throttleTimeMs: 0, groups: (request.groups ?? []).map((group) => ({ groupId: group.groupId, errorCode, topics: [] })) };
    }
    return singleGroupResponse(withRequestedOnError({ errorCode, topics: [] }, request.topics), apiVersion);
  },
});

/** On a group-level error, v0-1 can only report it per requested partition, so list those. */
function withRequestedOnError(result: OffsetFetchResult, requested: RequestedTopics): OffsetFetchResult {
  if (result.errorCode === ErrorCode.NONE || !requested) return result;
  return {
    errorCode: result.errorCode,
    topics: requested.map(({ name, partitionIndexes }) => ({
      topic: name,
      partitions: partitionIndexes.map((partition) => ({ partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: result.errorCode })),
    })),
  };
}

function toTopics(result: OffsetFetchResult) {
  return result.topics.map(({ topic, partitions }) => ({
    name: topic,
    partitions: partitions.map((partition) => ({
      partitionIndex: partition.partition,
      committedOffset: BigInt(partition.offset),
      committedLeaderEpoch: partition.leaderEpoch,
      metadata: partition.metadata,
      errorCode: partition.errorCode,
    })),
  }));
}

function singleGroupResponse(result: OffsetFetchResult, apiVersion: number): OffsetFetchResponse {
  // Below v2 there is no top-level error; the per-partition codes carry it.
  return { throttleTimeMs: 0, errorCode: apiVersion >= 2 ? result.errorCode : ErrorCode.NONE, topics: toTopics(result) };
}

