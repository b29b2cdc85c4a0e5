// Fetch (key 1), versions 4-17.
// Returns stored batches unchanged (zero copy) for each requested partition, in request order,
// within MaxBytes and PartitionMaxBytes (KIP-74: the first non-empty partition always gets one
// whole batch). When fewer than MinBytes are available the request waits as a delayed operation
// that new appends complete, or MaxWaitMs ends.
// Version notes: v7+ fetch sessions are declined (session id 0, full fetches only); v9+ check
// CurrentLeaderEpoch; v13+ name topics by id (UNKNOWN_TOPIC_ID); every requested partition is
// echoed, as the Java client requires.
// A fetch from a follower (ReplicaId, or ReplicaState from v15, naming a broker) is served by the
// leader up to its log end instead of the high watermark; its fetch offset is that follower's log
// end, which may move the high watermark (and complete acks=all produces). The leader records the
// follower's broker epoch with that position (KIP-903; its ISR proposals name each member by it):
// from v15 the ReplicaEpoch the follower sends, and as Kafka's Replica.updateFetchStateOrThrow does,
// a fetch whose epoch is older than the one this broker's image has for that registered, unfenced
// broker is a stale incarnation's and gets NOT_LEADER_OR_FOLLOWER for each partition, no records,
// and moves nothing. Before v15, and from a v15 follower that sends -1 (not registered yet), the
// epoch is the image's (Kafka records -1 there, which its controller does not check; the image's
// keeps the check that a broker back from a power loss is not proposed under its old positions).
// A follower whose last fetched epoch ends earlier in the leader's log than its fetch offset gets
// the DivergingEpoch to truncate to (KIP-320, v12+) and no records. A topic id the image knows but
// the hosted replica does not have (re-created under the same name, not hosted anew yet) is
// INCONSISTENT_TOPIC_ID, as Kafka's Partition.checkTopicId answers.
// Fetch from the closest replica (KIP-392, v11+): a consumer may fetch from a follower, which
// serves up to its own high watermark; with replica.selector.class set to Kafka's
// RackAwareReplicaSelector, a leader answers a consumer whose RackId names another broker's rack
// with that in-sync follower as PreferredReadReplica and no records, and the client moves there.
// Replication throttle (KIP-73): with leader.replication.throttled.rate set on this broker, a
// follower outside the ISR gets no records of a partition its topic's
// leader.replication.throttled.replicas names (`*` or `partition:thisBroker`) while the measured
// rate is above it (it waits out MaxWaitMs, as in Kafka's DelayedFetch); the bytes of every
// throttled partition sent to a follower are measured.
// Isolation: read_committed returns batches only below the last stable offset (the first offset of
// the earliest open transaction, at most the high watermark) and lists the aborted transactions in
// that range so clients drop their records; read_uncommitted reads up to the high watermark.
// Authorization (with an authorizer, as Kafka's KafkaApis): a follower's fetch needs CLUSTER_ACTION
// on the cluster, a consumer's READ on each topic; a partition refused gets
// TOPIC_AUTHORIZATION_FAILED (after UNKNOWN_TOPIC_ID, before any other check) and moves nothing.
import { AclOperation } from '../../metadata/acl.js';
import { ErrorCode } from '../../base/error-codes.js';
import { isKafkaError } from '../../base/kafka-error.js';
import { ZERO_UUID } from '../../base/uuid.js';
import { ReadLease, readBufferPool } from '../../log/read-buffer-pool.js';
import { FetchApi, type FetchRequest } from '../../protocol/messages/index.js';
import type { FetchResponse as DecodedFetchResponse } from '../../protocol/messages/fetch.js';
import type { EncodableRecords } from '../../protocol/primitives/writer.js';
import type { Partition } from '../../replication/partition.js';
import type { ReplicationThrottle } from '../../replication/replication-quota.js';
import { type BrokerServices, notLedHereError } from '../broker-services.js';
import type { ConnectionInfo } from '../network/index.js';
import { replicationThrottle } from '../config-resources.js';
import { leaderHint, nodeEndpointHints, wantsLeaderHint } from '../leader-hints.js';
import { type BrokerMetrics, waitingRemotely } from '../metrics/broker-metrics.js';
import { DelayedOperation } from '../purgatory/delayed-operations.js';
import { defineHandler } from './handler.js';

type FetchResponse = DecodedFetchResponse<EncodableRecords>;
type PartitionData = FetchResponse['responses'][number]['partitions'][number];

const EMPTY_RECORDS = Buffer.alloc(0);
const READ_COMMITTED = 1;

interface FetchTarget {
  topic: string;
  topicId: string;
  partitionIndex: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  partition: Partition | undefined;
  errorCode: number;
  /** For a follower: where its log diverges from the leader's (it truncates there), if it does. */
  diverging?: { epoch: number; endOffset: number };
  /** KIP-392: the replica on the consumer's rack it should fetch from instead of this leader, or -1. */
  preferredReadReplica: number;
  /** For a follower: the partition is leader-throttled here (its bytes count against the quota). */
  throttled?: boolean;
  /** For a follower outside the ISR of a throttled partition: no records while the quota is exceeded. */
  holdBack?: boolean;
}

interface FetchPlan {
  targets: FetchTarget[];
  /** The follower broker fetching, or -1 for a consumer. */
  replicaId: number;
  /** Topics in request order with the index range of their targets. */
  topics: { topic: string; topicId: string; first: number; count: number }[];
  maxBytes: number;
  minBytes: number;
  readCommitted: boolean;
  minOneBatch: boolean;
  /** Owns the pooled buffers the reads use; released once the response is written. */
  lease: ReadLease;
  /** The leader-side replication throttle, when this follower fetch has throttled partitions. */
  throttle?: ReplicationThrottle;
}

export const fetchHandler = defineHandler({
  api: FetchApi,
  minVersion: 4,
  maxVersion: 17,
  async handle(request, { broker, apiVersion, afterResponse, connection, timer }) {
    if (request.sessionId !== undefined && request.sessionId !== 0) {
      return { ...emptyResponse(), errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    }
    const lease = new ReadLease(readBufferPool);
    afterResponse(() => lease.release());
    const plan = planFetch(request, broker, apiVersion, lease, connection);
    // Kafka's RequestMetrics keep consumers' and followers' fetches apart as well.
    if (timer !== undefined && broker.metrics !== undefined) timer.alsoAs = broker.metrics.countersFor(plan.replicaId >= 0 ? 'FetchFollower' : 'FetchConsumer');
    // Taken before the read: an append that lands while the read is under way must still wake the wait.
    const progressAtStart = plan.targets.map((target) => (target.partition ? progressOf(plan, target.partition) : 0));
    const first = await readPlan(plan);
    // A consumer sent to another replica is told at once, as Kafka does.
    const redirected = plan.targets.some((target) => target.preferredReadReplica >= 0);
    if (first.bytes >= plan.minBytes || request.maxWaitMs <= 0 || first.hasError || redirected || plan.targets.length === 0) {
      recordThrottled(plan, first.partitions);
      if (broker.metrics) countFetched(broker.metrics, plan, first.partitions);
      return withLeaderHints(broker, connection.listenerName, apiVersion, toResponse(plan, first.partitions));
    }
    const waited = await waitingRemotely(timer, new Promise<ReadOutcome>((resolve, reject) => {
      const operation = new DelayedFetch(plan, first.bytes, progressAtStart, resolve, reject);
      broker.fetchWaiters.tryCompleteElseWatch(operation, operation.keys(), request.maxWaitMs);
    }));
    recordThrottled(plan, waited.partitions);
    if (broker.metrics) countFetched(broker.metrics, plan, waited.partitions);
    return withLeaderHints(broker, connection.listenerName, apiVersion, toResponse(plan, waited.partitions));
  },
  errorResponse(request, errorCode) {
    return {
      ...emptyResponse(),
      responses: request.topics.map((topic) => ({
        topic: topic.topic ?? '',
        topicId: topic.topicId ?? ZERO_UUID,
        partitions: topic.partitions.map((partition) => emptyPartition(partition.partition, errorCode, false)),
      })),
    };
  },
});

function planFetch(request: FetchRequest, broker: BrokerServices, apiVersion: number, lease: ReadLease, connection: ConnectionInfo): FetchPlan {
  const replicaId = (apiVersion >= 15 ? request.replicaState?.replicaId : request.replicaId) ?? -1;
  const { authorization } = broker;
  const followerDenied = replicaId >= 0 && !authorization.cluster(connection, AclOperation.CLUSTER_ACTION);
  // KIP-392: consumers from v11 on may read from a follower, and say which rack they are on.
  const mayReadFollower = replicaId < 0 && apiVersion >= 11;
  // The follower's broker epoch goes with its positions (KIP-903: an ISR proposal names the
  // incarnation whose fetches it rests on, which the controller checks).
  const { replicaEpoch, staleEpoch } = replicaId >= 0 ? followerEpoch(broker, replicaId, apiVersion >= 15 ? Number(request.replicaState?.replicaEpoch ?? -1n) : -1) : { replicaEpoch: -1, staleEpoch: false };
  const clientRack = mayReadFollower && broker.config.rackAwareReplicaSelector ? (request.rackId ?? '') : '';
  const targets: FetchTarget[] = [];
  const topics: FetchPlan['topics'] = [];
  for (const requested of request.topics) {
    const byId = apiVersion >= 13;
    const image = byId ? broker.image.topicsById.get(requested.topicId ?? ZERO_UUID) : broker.image.topic(requested.topic ?? '');
    const topicName = image?.name ?? requested.topic ?? '';
    const topicId = image?.topicId ?? requested.topicId ?? ZERO_UUID;
    topics.push({ topic: topicName, topicId, first: targets.length, count: requested.partitions.length });
    const denied = !(byId && !image) && (followerDenied || (replicaId < 0 && !authorization.topic(connection, AclOperation.READ, topicName)));
    for (const wanted of requested.partitions) {
      if (denied) {
        targets.push({ topic: topicName, topicId, partitionIndex: wanted.partition, fetchOffset: Number(wanted.fetchOffset), partitionMaxBytes: wanted.partitionMaxBytes, partition: undefined, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, preferredReadReplica: -1 });
        continue;
      }
      const partition = image ? (broker.replicaManager.get(image.name, wanted.partition) ?? (mayReadFollower ? followerReplica(broker, image.name, wanted.partition) : undefined)) : undefined;
      let errorCode: number = ErrorCode.NONE;
      if (!image) errorCode = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (!partition) errorCode = notLedHereError(broker, image.name, wanted.partition);
      else if (byId && partition.topicId !== image.topicId) errorCode = ErrorCode.INCONSISTENT_TOPIC_ID;
      else errorCode = partition.leaderEpochError(wanted.currentLeaderEpoch ?? -1);
      const target: FetchTarget = {
        topic: topicName,
        topicId,
        partitionIndex: wanted.partition,
        fetchOffset: Number(wanted.fetchOffset),
        partitionMaxBytes: wanted.partitionMaxBytes,
        partition,
        errorCode,
        preferredReadReplica: clientRack !== '' && partition?.isLeader && errorCode === ErrorCode.NONE ? preferredReadReplica(broker, partition, clientRack, Number(wanted.fetchOffset)) : -1,
      };
      if (partition && errorCode === ErrorCode.NONE && replicaId >= 0) target.errorCode = followerFetched(broker, partition, replicaId, replicaEpoch, staleEpoch, target, wanted.lastFetchedEpoch ?? -1);
      targets.push(target);
    }
  }
  const plan: FetchPlan = {
    targets,
    replicaId,
    topics,
    maxBytes: Math.min(request.maxBytes ?? 0x7fffffff, broker.config.fetchMaxBytes),
    minBytes: request.minBytes,
    readCommitted: (request.isolationLevel ?? 0) === READ_COMMITTED,
    minOneBatch: apiVersion >= 3,
    lease,
  };
  if (replicaId >= 0) markThrottled(broker, plan);
  return plan;
}

/**
 * The broker epoch a follower's fetch comes under, and whether it is stale: `sent` is the v15+
 * ReplicaEpoch (-1 when absent or before v15). As Kafka: stale when older than the epoch the image
 * has for that broker registered and unfenced (a newer one than the image's is taken: this image
 * may lag); -1 is never stale and falls back to the image's epoch here (see the header).
 */
function followerEpoch(broker: BrokerServices, replicaId: number, sent: number): { replicaEpoch: number; staleEpoch: boolean } {
  const registered = broker.image.brokers.get(replicaId);
  if (sent < 0) return { replicaEpoch: registered?.brokerEpoch ?? -1, staleEpoch: false };
  const alive = registered && !registered.fenced ? registered.brokerEpoch : undefined;
  return { replicaEpoch: sent, staleEpoch: alive !== undefined && alive > sent };
}

/**
 * Kafka's leader-side replication throttle: marks the partitions of a follower's fetch that
 * leader.replication.throttled.replicas names for this broker, and of those the ones the follower
 * is outside the ISR of. Nothing to do (one version check) while no leader rate is set.
 */
function markThrottled(broker: BrokerServices, plan: FetchPlan): void {
  const throttle = replicationThrottle(broker, 'leader');
  if (!throttle.active()) return;
  let any = false;
  for (const target of plan.targets) {
    const { partition } = target;
    if (!partition || target.errorCode !== ErrorCode.NONE || !throttle.isThrottled(target.topic, target.partitionIndex)) continue;
    target.throttled = true;
    target.holdBack = !partition.isr.includes(plan.replicaId);
    any = true;
  }
  if (any) plan.throttle = throttle;
}

/** Counts the bytes of the throttled partitions in a follower's response against the leader quota. */
function recordThrottled(plan: FetchPlan, partitions: readonly PartitionData[]): void {
  if (!plan.throttle) return;
  let bytes = 0;
  plan.targets.forEach((target, index) => {
    if (target.throttled) bytes += recordsSize(partitions[index]?.records ?? null);
  });
  plan.throttle.quota.record(bytes);
}

/** Counts each answered partition for the metrics (BrokerTopicMetrics: bytes out to consumers or followers, failed fetches). */
function countFetched(metrics: BrokerMetrics, plan: FetchPlan, partitions: readonly PartitionData[]): void {
  plan.targets.forEach((target, index) => {
    const data = partitions[index];
    metrics.recordFetched(target.topic, recordsSize(data?.records ?? null), plan.replicaId >= 0, data === undefined || data.errorCode !== ErrorCode.NONE);
  });
}

/** Whether the throttle holds `target` back now: a follower outside the ISR while the leader quota is exceeded. */
function heldBack(target: FetchTarget, quotaExceeded: boolean): boolean {
  return quotaExceeded && target.holdBack === true;
}

/** A replica this broker follows, which a consumer may read up to its high watermark (KIP-392). */
function followerReplica(broker: BrokerServices, topic: string, partitionIndex: number): Partition | undefined {
  const replica = broker.replicaManager.replica(topic, partitionIndex);
  return replica && !replica.isLeader ? replica : undefined;
}

/**
 * Kafka's RackAwareReplicaSelector: the leader itself when it is on the consumer's rack (-1: no
 * redirect), else the in-sync, unfenced follower on that rack that has the fetch offset and the
 * most of the log, else the leader.
 */
function preferredReadReplica(broker: BrokerServices, partition: Partition, clientRack: string, fetchOffset: number): number {
  const rackOf = (brokerId: number) => broker.image.brokers.get(brokerId)?.rack ?? null;
  if (rackOf(broker.nodeId) === clientRack) return -1;
  let preferred = -1;
  let preferredEnd = -1;
  for (const brokerId of partition.isr) {
    if (brokerId === broker.nodeId || rackOf(brokerId) !== clientRack || broker.image.brokers.get(brokerId)?.fenced !== false) continue;
    const logEnd = partition.followers.get(brokerId)?.logEndOffset ?? -1;
    if (logEnd >= fetchOffset && logEnd > preferredEnd) {
      preferred = brokerId;
      preferredEnd = logEnd;
    }
  }
  return preferred;
}

/**
 * A follower's fetch on the leader: checks its last fetched epoch against the leader's log (a
 * divergence is answered with where to truncate, and says nothing of its log end), else records
 * its log end under its broker epoch, which may move the high watermark. Returns the partition's
 * error: NOT_LEADER_OR_FOLLOWER for a stale incarnation's fetch, whose position is not recorded
 * (Kafka's updateFetchStateOrThrow, which a divergence skips as it does here).
 */
function followerFetched(broker: BrokerServices, partition: Partition, replicaId: number, replicaEpoch: number, staleEpoch: boolean, target: FetchTarget, lastFetchedEpoch: number): number {
  target.diverging = partition.divergence(lastFetchedEpoch, target.fetchOffset);
  if (target.diverging) return ErrorCode.NONE;
  if (staleEpoch) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
  broker.replicaManager.followerFetched(partition, replicaId, target.fetchOffset, broker.clock.monotonicMs(), replicaEpoch);
  return ErrorCode.NONE;
}

interface ReadOutcome {
  partitions: PartitionData[];
  bytes: number;
  hasError: boolean;
}

async function readPlan(plan: FetchPlan): Promise<ReadOutcome> {
  const partitions: PartitionData[] = [];
  let remaining = plan.maxBytes;
  let bytes = 0;
  let hasError = false;
  const quotaExceeded = plan.throttle?.quota.isExceeded() ?? false;
  for (const target of plan.targets) {
    const data = await readTarget(target, plan, remaining, bytes === 0 && plan.minOneBatch, heldBack(target, quotaExceeded));
    const size = recordsSize(data.records);
    remaining = Math.max(0, remaining - size);
    bytes += size;
    if (data.errorCode !== ErrorCode.NONE) hasError = true;
    partitions.push(data);
  }
  return { partitions, bytes, hasError };
}

async function readTarget(target: FetchTarget, plan: FetchPlan, remaining: number, minOneBatch: boolean, throttled: boolean): Promise<PartitionData> {
  const { partition } = target;
  if (!partition || target.errorCode !== ErrorCode.NONE) return emptyPartition(target.partitionIndex, target.errorCode, plan.readCommitted);
  const log = partition.log;
  const highWatermark = log.highWatermark;
  const lastStableOffset = log.producerState.lastStableOffset(highWatermark);
  const base = {
    ...emptyPartition(target.partitionIndex, ErrorCode.NONE, plan.readCommitted),
    highWatermark: BigInt(highWatermark),
    lastStableOffset: BigInt(lastStableOffset),
    logStartOffset: BigInt(log.logStartOffset),
  };
  if (target.diverging) return { ...base, divergingEpoch: { epoch: target.diverging.epoch, endOffset: BigInt(target.diverging.endOffset) } };
  if (target.preferredReadReplica >= 0) return { ...base, preferredReadReplica: target.preferredReadReplica };
  if (throttled) return base;
  try {
    const maxBytes = Math.min(target.partitionMaxBytes, remaining);
    if (maxBytes <= 0 && !minOneBatch) return base;
    const maxOffset = plan.replicaId >= 0 ? log.logEndOffset : plan.readCommitted ? lastStableOffset : highWatermark;
    const result = await log.read(target.fetchOffset, { maxBytes, maxOffset, minOneBatch, lease: plan.lease });
    if (result.chunks.length === 0) return base;
    const abortedTransactions = plan.readCommitted ? abortedIn(partition, target.fetchOffset, maxOffset) : null;
    return { ...base, records: result.chunks, abortedTransactions };
  } catch (error) {
    if (!isKafkaError(error)) throw error;
    return { ...base, errorCode: error.errorCode };
  }
}

function abortedIn(partition: Partition, fetchOffset: number, upperBoundOffset: number): PartitionData['abortedTransactions'] {
  return partition.log.producerState
    .abortedTransactions(fetchOffset, upperBoundOffset)
    .map((aborted) => ({ producerId: BigInt(aborted.producerId), firstOffset: BigInt(aborted.firstOffset) }));
}

function recordsSize(records: PartitionData['records']): number {
  if (!records) return 0;
  if (Buffer.isBuffer(records)) return records.length;
  let size = 0;
  for (const chunk of records as Buffer[]) size += chunk.length;
  return size;
}

/** What a follower waits for is any append; a consumer, what the high watermark passes. */
function progressOf(plan: FetchPlan, partition: Partition): number {
  return plan.replicaId >= 0 ? partition.appendedBytes : partition.committedBytes;
}

/** A fetch waiting for MinBytes: woken by appends to any of its partitions, or by its timeout. */
class DelayedFetch extends DelayedOperation {
  constructor(
    private readonly plan: FetchPlan,
    private readonly bytesAtStart: number,
    /** Each target's progress counter before the first read. */
    private readonly progressAtStart: readonly number[],
    private readonly resolve: (outcome: ReadOutcome) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    super();
  }

  keys(): string[] {
    return this.plan.targets.flatMap((target) => (target.partition ? [target.partition.key] : []));
  }

  canComplete(): boolean {
    let bytes = this.bytesAtStart;
    // As Kafka's DelayedFetch: what a throttled follower may not have yet does not complete the wait.
    const quotaExceeded = this.plan.throttle?.quota.isExceeded() ?? false;
    this.plan.targets.forEach((target, index) => {
      if (target.partition && !heldBack(target, quotaExceeded)) bytes += progressOf(this.plan, target.partition) - this.progressAtStart[index]!;
    });
    return bytes >= this.plan.minBytes;
  }

  protected onComplete(): void {
    readPlan(this.plan).then(this.resolve, this.reject);
  }
}

/** KIP-951: the current leader of partitions refused as not led here (v12+) and where it listens (v16+). */
function withLeaderHints(broker: BrokerServices, listenerName: string, apiVersion: number, response: FetchResponse): FetchResponse {
  if (apiVersion < 12) return response;
  const leaders = new Set<number>();
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      if (!wantsLeaderHint(partition.errorCode)) continue;
      partition.currentLeader = leaderHint(broker, topic.topic ?? '', partition.partitionIndex);
      if (partition.currentLeader.leaderId >= 0) leaders.add(partition.currentLeader.leaderId);
    }
  }
  if (apiVersion >= 16 && leaders.size > 0) response.nodeEndpoints = nodeEndpointHints(broker, listenerName, leaders);
  return response;
}

function emptyPartition(partitionIndex: number, errorCode: number, readCommitted: boolean): PartitionData {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    abortedTransactions: readCommitted ? [] : null,
    preferredReadReplica: -1,
    records: EMPTY_RECORDS,
  };
}

function emptyResponse(): FetchResponse {
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses: [] };
}

function toResponse(plan: FetchPlan, partitions: PartitionData[]): FetchResponse {
  return {
    ...emptyResponse(),
    responses: plan.topics.map(({ topic, topicId, first, count }) => ({
      topic,
      topicId,
      partitions: partitions.slice(first, first + count),
    })),
  };
}
