// Raw protocol requests for the group and transaction authorization matrix
// (test/integration/authorization-groups.test.ts): each sends one request at the version the
// matrix checks and returns the decoded response, so the test reads as a table of who gets what.
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src/base/error-codes.js';
import {
  AddOffsetsToTxnApi,
  AddPartitionsToTxnApi,
  EndTxnApi,
  FindCoordinatorApi,
  InitProducerIdApi,
  JoinGroupApi,
  OffsetCommitApi,
  OffsetFetchApi,
  TxnOffsetCommitApi,
} from '../../src/protocol/messages/index.js';
import type { RawClient } from './raw-client.js';
import { waitFor } from './wait.js';

export const KEY_TYPE_GROUP = 0;
export const KEY_TYPE_TRANSACTION = 1;

/** Waits until the coordinator for `key` is known (creating the internal topic on first need). */
export async function awaitCoordinator(client: RawClient, key: string, keyType: number): Promise<void> {
  await waitFor(`coordinator for ${key}`, async () => {
    const response = await client.request(FindCoordinatorApi, 4, { keyType, coordinatorKeys: [key] });
    return response.coordinators?.[0]?.errorCode === ErrorCode.NONE ? true : undefined;
  });
}

/** OffsetCommit v8 of offset `offset` for every partition of `topics`, outside any generation. */
export function commitOffsets(client: RawClient, groupId: string, topics: Record<string, number[]>, offset = 5n) {
  return client.request(OffsetCommitApi, 8, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    topics: Object.entries(topics).map(([name, partitions]) => ({
      name,
      partitions: partitions.map((partitionIndex) => ({ partitionIndex, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: 'm' })),
    })),
  });
}

/** The errors of an OffsetCommit (or TxnOffsetCommit) response as `topic-partition: code`, sorted. */
export function partitionErrors(response: { topics: { name?: string; partitions: { partitionIndex: number; errorCode: number }[] }[] }): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const topic of response.topics) for (const { partitionIndex, errorCode } of topic.partitions) errors[`${topic.name}-${partitionIndex}`] = errorCode;
  return errors;
}

/** OffsetFetch v8 for one group: `topics` null asks for every committed offset. */
export async function fetchOffsets(client: RawClient, groupId: string, topics: Record<string, number[]> | null) {
  const response = await client.request(OffsetFetchApi, 8, {
    groups: [{ groupId, topics: topics === null ? null : Object.entries(topics).map(([name, partitionIndexes]) => ({ name, partitionIndexes })) }],
    requireStable: false,
  });
  const group = response.groups?.[0];
  assert.ok(group, 'OffsetFetch answered no group');
  return group;
}

/** A group's committed offsets as `topic-partition: offset` (errors as `error:<code>`). */
export async function committedOffsets(client: RawClient, groupId: string, topics: Record<string, number[]> | null = null): Promise<Record<string, string>> {
  const group = await fetchOffsets(client, groupId, topics);
  assert.equal(group.errorCode, ErrorCode.NONE, `OffsetFetch ${groupId}`);
  const offsets: Record<string, string> = {};
  for (const topic of group.topics) {
    for (const partition of topic.partitions) {
      offsets[`${topic.name}-${partition.partitionIndex}`] = partition.errorCode === ErrorCode.NONE ? String(partition.committedOffset) : `error:${partition.errorCode}`;
    }
  }
  return offsets;
}

/** JoinGroup v5 as a new dynamic member: the MEMBER_ID_REQUIRED round, then the join itself. */
export async function joinAsNewMember(client: RawClient, groupId: string) {
  const request = {
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('subscription') }],
  };
  const first = await client.request(JoinGroupApi, 5, request);
  if (first.errorCode !== ErrorCode.MEMBER_ID_REQUIRED) return first;
  return client.request(JoinGroupApi, 5, { ...request, memberId: first.memberId });
}

export interface TxnProducer {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
}

/** InitProducerId v4 for a transactional id; fails unless it succeeds. */
export async function initTransactional(client: RawClient, transactionalId: string): Promise<TxnProducer> {
  const response = await client.request(InitProducerIdApi, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  assert.equal(response.errorCode, ErrorCode.NONE, `InitProducerId ${transactionalId}`);
  return { transactionalId, producerId: response.producerId, producerEpoch: response.producerEpoch };
}

/** AddPartitionsToTxn v3: the errors as `topic-partition: code`. */
export async function addPartitions(client: RawClient, producer: TxnProducer, topics: Record<string, number[]>): Promise<Record<string, number>> {
  const response = await client.request(AddPartitionsToTxnApi, 3, {
    v3AndBelowTransactionalId: producer.transactionalId,
    v3AndBelowProducerId: producer.producerId,
    v3AndBelowProducerEpoch: producer.producerEpoch,
    v3AndBelowTopics: Object.entries(topics).map(([name, partitions]) => ({ name, partitions })),
  });
  const errors: Record<string, number> = {};
  for (const topic of response.resultsByTopicV3AndBelow ?? []) for (const { partitionIndex, partitionErrorCode } of topic.resultsByPartition) errors[`${topic.name}-${partitionIndex}`] = partitionErrorCode;
  return errors;
}

export async function addOffsets(client: RawClient, producer: TxnProducer, groupId: string): Promise<number> {
  const response = await client.request(AddOffsetsToTxnApi, 3, { transactionalId: producer.transactionalId, producerId: producer.producerId, producerEpoch: producer.producerEpoch, groupId });
  return response.errorCode;
}

/** TxnOffsetCommit v3 (outside any generation): the errors as `topic-partition: code`. */
export async function txnCommitOffsets(client: RawClient, producer: TxnProducer, groupId: string, topics: Record<string, number[]>, offset = 7n): Promise<Record<string, number>> {
  const response = await client.request(TxnOffsetCommitApi, 3, {
    transactionalId: producer.transactionalId,
    groupId,
    producerId: producer.producerId,
    producerEpoch: producer.producerEpoch,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    topics: Object.entries(topics).map(([name, partitions]) => ({
      name,
      partitions: partitions.map((partitionIndex) => ({ partitionIndex, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null })),
    })),
  });
  return partitionErrors(response);
}

export async function endTxn(client: RawClient, producer: TxnProducer, committed: boolean): Promise<number> {
  const response = await client.request(EndTxnApi, 3, { transactionalId: producer.transactionalId, producerId: producer.producerId, producerEpoch: producer.producerEpoch, committed });
  return response.errorCode;
}
