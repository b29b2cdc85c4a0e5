// ShareFetch (key 78), versions 1-2: a share group member's fetch from the partitions this broker
// leads (KIP-932). Each request opens (epoch 0), continues (N) or closes (-1) the member's share
// session here, applies the acknowledgements it carries (their results in AcknowledgeErrorCode),
// and acquires records for the member: whole log batches from each partition's next available
// offset, returned with the acquired offset ranges and their delivery counts; the client delivers
// only the acquired offsets, and holds them for AcquisitionLockTimeoutMs. Nothing to acquire: the
// request waits up to MaxWaitMs for records (new ones, or ones released or expired).
// Version notes: v0 (Kafka 4.0's early access) was removed in Kafka 4.1, so it is not served; v1
// adds MaxRecords and BatchSize; v2 adds IsRenewAck (renew-only requests), AcknowledgeType 4 and
// ShareAcquireMode (0: whole batches, about MaxRecords; 1: at most MaxRecords records).
// Errors as Kafka: INVALID_REQUEST (bad ids, acknowledgements while opening a session),
// GROUP_AUTHORIZATION_FAILED, SHARE_SESSION_NOT_FOUND, INVALID_SHARE_SESSION_EPOCH,
// SHARE_SESSION_LIMIT_REACHED at the top; per partition UNKNOWN_TOPIC_ID, NOT_LEADER_OR_FOLLOWER
// (with the leader), TOPIC_AUTHORIZATION_FAILED, INVALID_RECORD_STATE for acknowledgements.
import { ErrorCode } from '../../base/error-codes.js';
import type { AcquiredRange } from '../../coordinator/share/share-partition.js';
import { AclOperation } from '../../metadata/acl.js';
import { ShareFetchApi, type ShareFetchResponse } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import type { ConnectionInfo } from '../network/index.js';
import { DelayedOperation } from '../purgatory/delayed-operations.js';
import type { ShareEntry } from '../share/share-partition-manager.js';
import { applyAcknowledgements, byTopic, currentLeader, leaderEndpoints, partitionAcknowledgements, shareRequestProblem, shareSession } from '../share/share-requests.js';
import { type ShareSession, SHARE_SESSION_CLOSE, SHARE_SESSION_OPEN, sessionPartitionKey } from '../share/share-sessions.js';
import { defineHandler } from './handler.js';

/** ShareAcquireMode 1 (record_limit, v2): no more than MaxRecords records, even if that splits a batch. */
const RECORD_LIMIT_MODE = 1;

/** One partition's part of the answer. */
interface PartitionAnswer {
  topicId: string;
  partition: number;
  errorCode: number;
  acknowledgeErrorCode: number | undefined;
  records: Buffer[];
  acquired: AcquiredRange[];
}

/** A partition of the session that can be fetched now. */
interface Fetchable {
  topicId: string;
  partition: number;
  entry: ShareEntry;
}

export const shareFetchHandler = defineHandler({
  api: ShareFetchApi,
  minVersion: 1,
  maxVersion: 2,
  async handle(request, { broker, apiVersion, connection }): Promise<ShareFetchResponse<Buffer[]>> {
    const problem = shareRequestProblem(request.groupId, request.memberId);
    if (problem !== undefined) return failure(ErrorCode.INVALID_REQUEST, problem);
    const groupId = request.groupId!;
    const memberId = request.memberId!;
    if (!broker.authorization.group(connection, AclOperation.READ, groupId)) return failure(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const renewOnly = apiVersion >= 2 && request.isRenewAck === true;
    if (renewOnly && (request.maxBytes !== 0 || request.minBytes !== 0 || (request.maxRecords ?? 0) !== 0 || request.maxWaitMs !== 0)) {
      return failure(ErrorCode.INVALID_REQUEST, 'a renewing ShareFetch must have MaxBytes, MinBytes, MaxRecords and MaxWaitMs 0');
    }
    const epoch = request.shareSessionEpoch;
    const acknowledgements = request.topics.flatMap((topic) =>
      topic.partitions.filter((partition) => partition.acknowledgementBatches.length > 0).map((partition) => partitionAcknowledgements(topic.topicId, partition.partitionIndex, partition.acknowledgementBatches)),
    );
    if (epoch === SHARE_SESSION_OPEN && acknowledgements.length > 0) return failure(ErrorCode.INVALID_REQUEST, 'acknowledgements cannot open a share session');
    const session = shareSession(broker, groupId, memberId, epoch, connection);
    if (typeof session === 'number') return failure(session);
    if (epoch !== SHARE_SESSION_CLOSE) {
      for (const topic of request.topics) for (const partition of topic.partitions) session.add(topic.topicId, partition.partitionIndex);
      for (const topic of request.forgottenTopicsData) for (const partition of topic.partitions) session.forget(topic.topicId, partition);
    }
    const acknowledged = await applyAcknowledgements(broker, connection, groupId, memberId, acknowledgements, renewOnly);
    const answers = new Map<string, PartitionAnswer>();
    for (const { topicId, partition } of acknowledgements) {
      answerFor(answers, topicId, partition).acknowledgeErrorCode = acknowledged.get(sessionPartitionKey(topicId, partition));
    }
    const lockDurationMs = broker.sharePartitions.settings(groupId).recordLockDurationMs;
    if (epoch === SHARE_SESSION_CLOSE) {
      broker.sharePartitions.releaseSession(session);
      return respond(broker, connection.listenerName, answers, lockDurationMs);
    }
    if (renewOnly) return respond(broker, connection.listenerName, answers, lockDurationMs);

    const fetchable = await fetchablePartitions(broker, connection, session, answers);
    const maxRecords = request.maxRecords ?? Number.MAX_SAFE_INTEGER;
    const recordLimit = apiVersion >= 2 && request.shareAcquireMode === RECORD_LIMIT_MODE;
    const acquire = () => acquireFrom(broker, fetchable, memberId, session, { maxRecords, maxBytes: request.maxBytes, recordLimit }, answers);
    let fetched = await acquire();
    const anyError = [...answers.values()].some((answer) => answer.errorCode !== ErrorCode.NONE);
    if (fetched === 0 && !anyError && request.maxWaitMs > 0 && fetchable.length > 0) {
      await new Promise<void>((resolve) => {
        const operation = new DelayedShareFetch(broker, fetchable, resolve);
        broker.fetchWaiters.tryCompleteElseWatch(operation, operation.keys(), request.maxWaitMs);
      });
      fetched = await acquire();
    }
    // Opening a session lists every partition; later requests only those with something to say.
    if (epoch === SHARE_SESSION_OPEN) for (const { topicId, partition } of session.partitions.values()) answerFor(answers, topicId, partition);
    return respond(broker, connection.listenerName, answers, lockDurationMs);
  },
  errorResponse(_request, errorCode) {
    return failure(errorCode);
  },
});

/** The session's partitions that can be fetched now; the others get their error in `answers`. */
async function fetchablePartitions(broker: BrokerServices, connection: ConnectionInfo, session: ShareSession, answers: Map<string, PartitionAnswer>): Promise<Fetchable[]> {
  const fetchable: Fetchable[] = [];
  for (const { topicId, partition } of session.partitions.values()) {
    const topic = broker.image.topicsById.get(topicId);
    if (topic !== undefined && !broker.authorization.topic(connection, AclOperation.READ, topic.name)) {
      answerFor(answers, topicId, partition).errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      continue;
    }
    const entry = await broker.sharePartitions.entry(session.groupId, topicId, partition);
    if (typeof entry !== 'number') fetchable.push({ topicId, partition, entry });
    else if (entry !== ErrorCode.NONE) answerFor(answers, topicId, partition).errorCode = entry;
  }
  return fetchable;
}

/**
 * Acquires records from the fetchable partitions until MaxRecords or MaxBytes is reached, starting
 * from a partition that moves with the session epoch so that none is always served last. Returns
 * how many offsets were acquired.
 */
async function acquireFrom(
  broker: BrokerServices,
  fetchable: readonly Fetchable[],
  memberId: string,
  session: ShareSession,
  limits: { maxRecords: number; maxBytes: number; recordLimit: boolean },
  answers: Map<string, PartitionAnswer>,
): Promise<number> {
  let records = limits.maxRecords;
  let bytes = limits.maxBytes;
  let acquiredTotal = 0;
  const start = fetchable.length === 0 ? 0 : session.nextEpoch % fetchable.length;
  for (let step = 0; step < fetchable.length && records > 0 && bytes > 0; step++) {
    const { topicId, partition, entry } = fetchable[(start + step) % fetchable.length]!;
    const got = await broker.sharePartitions.acquire(entry, memberId, records, bytes, acquiredTotal === 0, limits.recordLimit);
    if (got.acquired.length === 0) continue;
    const answer = answerFor(answers, topicId, partition);
    answer.records.push(...got.records);
    answer.acquired.push(...got.acquired);
    const count = got.acquired.reduce((total, range) => total + range.lastOffset - range.firstOffset + 1, 0);
    acquiredTotal += count;
    records -= count;
    bytes -= got.bytes;
  }
  return acquiredTotal;
}

/** Waits until one of the fetch's partitions has something to acquire (or the wait times out). */
class DelayedShareFetch extends DelayedOperation {
  constructor(
    private readonly broker: BrokerServices,
    private readonly fetchable: readonly Fetchable[],
    private readonly done: () => void,
  ) {
    super();
  }

  keys(): string[] {
    return this.fetchable.map(({ entry }) => entry.partition.key);
  }

  canComplete(): boolean {
    return this.fetchable.some(({ entry }) => this.broker.sharePartitions.canAcquire(entry));
  }

  protected onComplete(): void {
    this.done();
  }
}

function answerFor(answers: Map<string, PartitionAnswer>, topicId: string, partition: number): PartitionAnswer {
  const key = sessionPartitionKey(topicId, partition);
  let answer = answers.get(key);
  if (answer === undefined) {
    answer = { topicId, partition, errorCode: ErrorCode.NONE, acknowledgeErrorCode: undefined, records: [], acquired: [] };
    answers.set(key, answer);
  }
  return answer;
}

function respond(broker: BrokerServices, listenerName: string, answers: Map<string, PartitionAnswer>, lockDurationMs: number): ShareFetchResponse<Buffer[]> {
  const leaders: { leaderId: number }[] = [];
  const responses = byTopic([...answers.values()], (answer) => {
    const leader = currentLeader(broker, answer.topicId, answer.partition, answer.errorCode);
    leaders.push(leader);
    return {
      partitionIndex: answer.partition,
      errorCode: answer.errorCode,
      errorMessage: null,
      acknowledgeErrorCode: answer.acknowledgeErrorCode ?? ErrorCode.NONE,
      acknowledgeErrorMessage: null,
      currentLeader: leader,
      // Never null from v1 on: clients drop a response whose records are null.
      records: answer.records,
      acquiredRecords: answer.acquired.map((range) => ({ firstOffset: BigInt(range.firstOffset), lastOffset: BigInt(range.lastOffset), deliveryCount: range.deliveryCount })),
    };
  });
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, acquisitionLockTimeoutMs: lockDurationMs, responses, nodeEndpoints: leaderEndpoints(broker, listenerName, leaders) };
}

function failure(errorCode: number, errorMessage: string | null = null): ShareFetchResponse<Buffer[]> {
  return { throttleTimeMs: 0, errorCode, errorMessage, acquisitionLockTimeoutMs: 0, responses: [], nodeEndpoints: [] };
}
