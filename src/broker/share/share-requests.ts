// What ShareFetch (78) and ShareAcknowledge (79) have in common: the checks of the group and
// member ids, opening and continuing share sessions, applying acknowledgements partition by
// partition, and the leader hints of partitions led elsewhere. Kafka 4.2's KafkaApis and
// SharePartitionManager; docs/research/share-groups.md sections 1.3, 1.4 and 3.1.
import { ErrorCode } from '../../base/error-codes.js';
import type { AcknowledgementBatch } from '../../coordinator/share/share-partition.js';
import { AclOperation } from '../../metadata/acl.js';
import type { BrokerServices } from '../broker-services.js';
import { leaderHint, nodeEndpointHints, wantsLeaderHint } from '../leader-hints.js';
import type { ConnectionInfo } from '../network/index.js';
import { type ShareSession, SHARE_SESSION_CLOSE, SHARE_SESSION_OPEN, sessionPartitionKey } from './share-sessions.js';

/** Kafka's limit on a member id (KafkaApis.isMemberIdValid). */
const MAX_MEMBER_ID_LENGTH = 36;

/** Why the group and member ids of a share request are invalid, if they are. */
export function shareRequestProblem(groupId: string | null, memberId: string | null): string | undefined {
  if (groupId === null || groupId === '') return 'the group id must not be empty';
  if (memberId === null || memberId === '') return 'the member id must not be empty';
  if (memberId.length > MAX_MEMBER_ID_LENGTH) return `the member id must be at most ${MAX_MEMBER_ID_LENGTH} characters`;
  return undefined;
}

/** A request's acknowledgements for one partition, offsets as numbers. */
export interface PartitionAcknowledgements {
  readonly topicId: string;
  readonly partition: number;
  readonly batches: AcknowledgementBatch[];
}

export function partitionAcknowledgements(topicId: string, partition: number, batches: readonly { firstOffset: bigint; lastOffset: bigint; acknowledgeTypes: number[] }[]): PartitionAcknowledgements {
  return { topicId, partition, batches: batches.map((batch) => ({ firstOffset: Number(batch.firstOffset), lastOffset: Number(batch.lastOffset), acknowledgeTypes: batch.acknowledgeTypes })) };
}

/**
 * The session a request continues or opens, or its session-level error: epoch 0 opens (or
 * replaces, releasing the earlier session's records), N continues, -1 closes (the caller releases
 * the records once the request's acknowledgements are applied).
 */
export function shareSession(broker: BrokerServices, groupId: string, memberId: string, epoch: number, connection: ConnectionInfo): ShareSession | number {
  const manager = broker.sharePartitions;
  if (epoch === SHARE_SESSION_OPEN) {
    const opened = manager.sessions.open(groupId, memberId, connection.id);
    if ('errorCode' in opened) return opened.errorCode;
    if (opened.replaced) manager.releaseSession(opened.replaced);
    return opened.session;
  }
  if (epoch < SHARE_SESSION_CLOSE) return ErrorCode.INVALID_SHARE_SESSION_EPOCH;
  const continued = manager.sessions.continue(groupId, memberId, epoch, connection.id);
  return 'errorCode' in continued ? continued.errorCode : continued.session;
}

/**
 * Applies each partition's acknowledgements, in order: its error code by partition key
 * (sessionPartitionKey). A topic the principal may not read gets TOPIC_AUTHORIZATION_FAILED.
 */
export async function applyAcknowledgements(
  broker: BrokerServices,
  connection: ConnectionInfo,
  groupId: string,
  memberId: string,
  acknowledgements: readonly PartitionAcknowledgements[],
  allowRenew: boolean,
): Promise<Map<string, number>> {
  const results = new Map<string, number>();
  for (const { topicId, partition, batches } of acknowledgements) {
    const key = sessionPartitionKey(topicId, partition);
    const topic = broker.image.topicsById.get(topicId);
    if (topic !== undefined && !broker.authorization.topic(connection, AclOperation.READ, topic.name)) {
      results.set(key, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      continue;
    }
    const entry = await broker.sharePartitions.entry(groupId, topicId, partition);
    if (typeof entry === 'number') {
      // Not loaded (the share coordinator is moving): the records are not known acquired here.
      results.set(key, entry === ErrorCode.NONE ? ErrorCode.INVALID_RECORD_STATE : entry);
      continue;
    }
    results.set(key, await broker.sharePartitions.acknowledge(entry, memberId, batches, allowRenew));
  }
  return results;
}

/** CurrentLeader for a partition answered `errorCode`: the image's leader when the client should go there. */
export function currentLeader(broker: BrokerServices, topicId: string, partition: number, errorCode: number): { leaderId: number; leaderEpoch: number } {
  const topic = broker.image.topicsById.get(topicId);
  if (topic === undefined || !wantsLeaderHint(errorCode)) return { leaderId: -1, leaderEpoch: -1 };
  return leaderHint(broker, topic.name, partition);
}

/** NodeEndpoints for the leaders named in CurrentLeader fields. */
export function leaderEndpoints(broker: BrokerServices, listenerName: string, leaders: Iterable<{ leaderId: number }>) {
  const ids = new Set<number>();
  for (const { leaderId } of leaders) if (leaderId >= 0) ids.add(leaderId);
  return nodeEndpointHints(broker, listenerName, ids);
}

/** Groups partition answers by topic id, keeping first-seen order (the responses' shape). */
export function byTopic<T extends { topicId: string }, P>(entries: readonly T[], toPartition: (entry: T) => P): { topicId: string; partitions: P[] }[] {
  const topics = new Map<string, P[]>();
  for (const entry of entries) {
    let partitions = topics.get(entry.topicId);
    if (partitions === undefined) {
      partitions = [];
      topics.set(entry.topicId, partitions);
    }
    partitions.push(toPartition(entry));
  }
  return [...topics].map(([topicId, partitions]) => ({ topicId, partitions }));
}
