// Produce (key 0), versions 0-11; v0-2 answered UNSUPPORTED_VERSION.
// Versions 0-2 (message format v0/v1) are advertised but refused, as Kafka 4.x does: a client
// that negotiates from the advertised range gets a clear per-partition error instead of a
// closed connection.
// Validates each partition's record batch (exactly one magic-2 batch, CRC32C, counts and offset
// deltas, size) and appends it unchanged but for the offsets and leader epoch stamped in its
// header (DESIGN.md decision 3). acks=0 gets no response; a failed acks=0 request closes the
// connection so the client notices, as Kafka does. acks=1 and acks=-1 answer once the batch is
// written; on a single broker the leader is the whole ISR, so both mean the same.
// Version notes: v3+ carry record batch v2 only (older versions carry message sets and are not
// served); v5+ return the log start offset; v8+ record errors and messages: a refusal that concerns
// some records of the batch (keyless records in a compacted topic, timestamps out of range) names
// each of them, so clients fail exactly those records.
// Topic configs: message.timestamp.before.max.ms / after.max.ms refuse a batch with
// INVALID_TIMESTAMP (per-record errors from v8); compression.type set to a codec makes the broker
// recompress batches produced with another codec (see produce-policy.ts).
// Idempotence and transactions: the log checks producer epochs and sequences (a retried duplicate
// of one of the last five batches gets its original offsets; a gap OUT_OF_ORDER_SEQUENCE_NUMBER;
// an older epoch INVALID_PRODUCER_EPOCH); a transactional batch must go to a partition the
// producer's ongoing transaction holds (AddPartitionsToTxn first), else INVALID_TXN_STATE.
// Authorization (with an authorizer, as Kafka's KafkaApis): transactional batches need WRITE on the
// transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED for the whole request), and each
// topic WRITE (else TOPIC_AUTHORIZATION_FAILED for its partitions, before any other check).
import { AclOperation } from '../../metadata/acl.js';
import { ErrorCode } from '../../base/error-codes.js';
import { isKafkaError } from '../../base/kafka-error.js';
import { ProduceApi, type ProduceRequest, type ProduceResponse } from '../../protocol/messages/index.js';
import { type ValidationResult, validateBatchHeader, validateRecords, validateRecordsSync } from '../../protocol/records/produce-validation.js';
import { BATCH_HEADER_BYTES, CompressionType, isTransactionalBatch, readCompression, readLastOffsetDelta, readProducerEpoch, readProducerId, readRecordsCount } from '../../protocol/records/batch-header.js';
import type { Partition } from '../../replication/partition.js';
import { AppendOrder } from '../append-order.js';
import { type BrokerServices, notLedHereError } from '../broker-services.js';
import type { ConnectionInfo } from '../network/index.js';
import { leaderHint, nodeEndpointHints, wantsLeaderHint } from '../leader-hints.js';
import type { RequestTimer } from '../metrics/broker-metrics.js';
import { DelayedOperation } from '../purgatory/delayed-operations.js';
import { applyProducePolicy, producePolicy } from '../produce-policy.js';
import { TRANSFORMS_TOPIC } from '../transforms/transform-records.js';
import { CLOSE_CONNECTION, NO_RESPONSE, defineHandler } from './handler.js';

type PartitionResponse = ProduceResponse['responses'][number]['partitionResponses'][number];

/** The first Produce version that carries record batch v2 (magic 2); older ones are refused. */
const RECORD_BATCH_MIN_VERSION = 3;

/** Decompressed bytes one produced batch may expand to during validation. */
export const PRODUCE_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;
/** Produce v10 adds the current leader and node endpoints to NOT_LEADER_OR_FOLLOWER answers (KIP-951). */
const LEADER_HINTS_MIN_VERSION = 10;

export const produceHandler = defineHandler({
  api: ProduceApi,
  minVersion: 0,
  maxVersion: 11,
  handle(request, { broker, apiVersion, connection, timer }) {
    if (apiVersion < RECORD_BATCH_MIN_VERSION) return request.acks === 0 ? CLOSE_CONNECTION : errorBody(request, ErrorCode.UNSUPPORTED_VERSION);
    if (request.acks !== 0 && request.acks !== 1 && request.acks !== -1) {
      return errorBody(request, ErrorCode.INVALID_REQUIRED_ACKS);
    }
    const denied = broker.authorization.enabled ? deniedTopics(request, broker, connection) : undefined;
    if (denied === TRANSACTIONAL_ID_DENIED) return request.acks === 0 ? CLOSE_CONNECTION : errorBody(request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const appendTimeMs = broker.clock.nowMs();
    // Appends start in request order per partition: here, synchronously, or, for a compressed batch
    // validated off the event loop, in the turn taken here (append-order.ts).
    const deferredRefusals: Promise<boolean>[] = [];
    const topics = request.topicData.map((topic) => ({
      name: topic.name,
      partitions: topic.partitionData.map((data) =>
        denied?.has(topic.name) ? partitionError(data.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED, null) : appendPartition(
          broker,
          { topic: topic.name, index: data.index, records: data.records, apiVersion, appendTimeMs, transactionalId: request.transactionalId ?? null, deferredRefusals, timer },
          request.acks === -1 ? request.timeoutMs : undefined,
        ),
      ),
    }));
    if (request.acks === 0) {
      const failed = topics.some((topic) => topic.partitions.some((partition) => !(partition instanceof Promise) && partition.errorCode !== ErrorCode.NONE));
      if (failed) return CLOSE_CONNECTION;
      if (deferredRefusals.length === 0) return NO_RESPONSE;
      return Promise.all(deferredRefusals).then((refused) => (refused.includes(true) ? CLOSE_CONNECTION : NO_RESPONSE));
    }
    return Promise.all(
      topics.map(async (topic) => ({ name: topic.name, partitionResponses: await Promise.all(topic.partitions) })),
    ).then((responses) => withLeaderHints(broker, connection.listenerName, apiVersion, { responses, throttleTimeMs: 0 }));
  },
  errorResponse(request, errorCode) {
    return errorBody(request, errorCode);
  },
});

const TRANSACTIONAL_ID_DENIED = Symbol('transactional id denied');

/** The topics the principal may not WRITE, or TRANSACTIONAL_ID_DENIED for transactional batches without WRITE on their transactional id. */
function deniedTopics(request: ProduceRequest, broker: BrokerServices, connection: ConnectionInfo): Set<string> | typeof TRANSACTIONAL_ID_DENIED {
  const transactional = request.topicData.some((topic) => topic.partitionData.some(({ records }) => records !== null && records.length >= BATCH_HEADER_BYTES && isTransactionalBatch(records)));
  if (transactional) {
    const transactionalId = request.transactionalId ?? null;
    if (transactionalId === null || !broker.authorization.transactionalId(connection, AclOperation.WRITE, transactionalId)) return TRANSACTIONAL_ID_DENIED;
  }
  const denied = new Set<string>();
  for (const { name } of request.topicData) {
    if (!denied.has(name) && !broker.authorization.topic(connection, AclOperation.WRITE, name)) denied.add(name);
    // A record there is code every broker runs (broker transforms): it takes ALTER on the cluster too.
    else if (name === TRANSFORMS_TOPIC && !broker.authorization.cluster(connection, AclOperation.ALTER)) denied.add(name);
  }
  return denied;
}

/** Turns of the partitions' appends, so those behind an asynchronous validation keep arrival order. */
const appendOrder = new AppendOrder();

/** One partition's data in a Produce request, with what its append needs from the request. */
interface PartitionAppend {
  readonly topic: string;
  readonly index: number;
  readonly records: Buffer | null;
  readonly apiVersion: number;
  readonly appendTimeMs: number;
  readonly transactionalId: string | null;
  /** Refusals decided after validation off the event loop (acks=0 closes the connection on one). */
  readonly deferredRefusals: Promise<boolean>[];
  /** Times the wait for the in-sync replicas, while metrics are on. */
  readonly timer: RequestTimer | undefined;
}

/** Counts a partition's append for the metrics, once its outcome is known (BrokerTopicMetrics). */
function counted(broker: BrokerServices, append: PartitionAppend, response: PartitionResponse | Promise<PartitionResponse>): PartitionResponse | Promise<PartitionResponse> {
  const metrics = broker.metrics;
  if (metrics === undefined) return response;
  const count = (settled: PartitionResponse) => {
    const { records, topic } = append;
    if (settled.errorCode === ErrorCode.NONE && records !== null && records.length >= BATCH_HEADER_BYTES) metrics.recordProduced(topic, records.length, readRecordsCount(records));
    else metrics.recordProduceFailed(topic);
    return settled;
  };
  return response instanceof Promise ? response.then(count) : count(response);
}

function appendPartition(broker: BrokerServices, append: PartitionAppend, replicationTimeoutMs: number | undefined): PartitionResponse | Promise<PartitionResponse> {
  return counted(broker, append, appendAndReplicate(broker, append, replicationTimeoutMs));
}

function appendAndReplicate(
  broker: BrokerServices,
  append: PartitionAppend,
  /** acks=all: how long to wait for the ISR (the request's timeout); undefined for acks=1. */
  replicationTimeoutMs: number | undefined,
): PartitionResponse | Promise<PartitionResponse> {
  const { topic, index, records } = append;
  const partition = broker.replicaManager.get(topic, index);
  if (!partition) return partitionError(index, notLedHereError(broker, topic, index), null);
  if (replicationTimeoutMs !== undefined) {
    const { minInsyncReplicas } = producePolicy(broker, topic);
    if (partition.isr.length < minInsyncReplicas) {
      return partitionError(index, ErrorCode.NOT_ENOUGH_REPLICAS, `${topic}-${index} has ${partition.isr.length} in-sync replica(s) [${partition.isr.join(',')}], fewer than min.insync.replicas ${minInsyncReplicas}`);
    }
  }
  const appended = appendChecked(broker, partition, append);
  if (replicationTimeoutMs === undefined) return appended;
  const lastOffsetDelta = records && records.length >= BATCH_HEADER_BYTES ? readLastOffsetDelta(records) : 0;
  return Promise.resolve(appended).then((response) =>
    response.errorCode === ErrorCode.NONE ? awaitReplication(broker, partition, topic, response, Number(response.baseOffset) + lastOffsetDelta, replicationTimeoutMs, append.timer) : response,
  );
}

/**
 * acks=all: answers once the high watermark passes the batch (every in-sync replica has it), as a
 * delayed operation the followers' fetches complete; NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR
 * shrank below min.insync.replicas meanwhile, NOT_LEADER_OR_FOLLOWER if this broker stopped
 * leading, REQUEST_TIMED_OUT at the request's timeout.
 */
function awaitReplication(
  broker: BrokerServices,
  partition: Partition,
  topic: string,
  response: PartitionResponse,
  lastOffset: number,
  timeoutMs: number,
  timer: RequestTimer | undefined,
): PartitionResponse | Promise<PartitionResponse> {
  const outcome = (): PartitionResponse | undefined => {
    if (broker.replicaManager.get(topic, response.index) !== partition) {
      return partitionError(response.index, ErrorCode.NOT_LEADER_OR_FOLLOWER, `broker ${broker.nodeId} stopped leading ${topic}-${response.index}`);
    }
    if (partition.highWatermark <= lastOffset) return undefined;
    const { minInsyncReplicas } = producePolicy(broker, topic);
    if (partition.isr.length < minInsyncReplicas) {
      return partitionError(response.index, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, `${topic}-${response.index} has ${partition.isr.length} in-sync replica(s), fewer than min.insync.replicas ${minInsyncReplicas}`);
    }
    return response;
  };
  const now = outcome();
  if (now) return now;
  timer?.remoteStarted();
  return new Promise((resolve) => {
    const done = (answer: PartitionResponse) => {
      timer?.remoteEnded();
      resolve(answer);
    };
    const operation = new DelayedProduce(outcome, () => partitionError(response.index, ErrorCode.REQUEST_TIMED_OUT, `the in-sync replicas of ${topic}-${response.index} did not all have the batch within ${timeoutMs} ms`), done);
    broker.produceWaiters.tryCompleteElseWatch(operation, [partition.key], timeoutMs);
  });
}

/** An acks=all partition response waiting for the ISR: completed by the high watermark, or its timeout. */
class DelayedProduce extends DelayedOperation {
  #result: PartitionResponse | undefined;

  constructor(
    private readonly outcome: () => PartitionResponse | undefined,
    private readonly timedOut: () => PartitionResponse,
    private readonly resolve: (response: PartitionResponse) => void,
  ) {
    super();
  }

  canComplete(): boolean {
    this.#result = this.outcome();
    return this.#result !== undefined;
  }

  protected onComplete(): void {
    this.resolve(this.#result ?? this.outcome() ?? this.timedOut());
  }
}

function appendChecked(broker: BrokerServices, partition: Partition, append: PartitionAppend): PartitionResponse | Promise<PartitionResponse> {
  const { topic, index, records, apiVersion, appendTimeMs, transactionalId, deferredRefusals } = append;
  const options = { maxMessageBytes: partition.log.config.maxMessageBytes, produceVersion: apiVersion, maxDecompressedBytes: PRODUCE_MAX_DECOMPRESSED_BYTES };
  const header = validateBatchHeader(records, options);
  if (header.errorCode !== ErrorCode.NONE || !records) return partitionError(index, header.errorCode || ErrorCode.INVALID_RECORD, header.errorMessage ?? 'no records');
  const compressed = readCompression(records) !== CompressionType.none;
  if (!compressed && !appendOrder.busy(partition)) {
    return appendValidated(broker, partition, topic, index, records, validateRecordsSync(records, options), appendTimeMs, transactionalId);
  }
  // A compressed batch may expand to hundreds of MiB: it is decompressed on the thread pool, not on
  // the event loop every other connection shares; this partition's later appends wait their turn,
  // which ends as soon as this append has started (not completed), so appends still pipeline.
  const turn = appendOrder.take(partition);
  const validation = compressed ? validateRecords(records, options) : Promise.resolve(validateRecordsSync(records, options));
  deferredRefusals.push(validation.then((result) => result.errorCode !== ErrorCode.NONE));
  const startAppend = ([result]: [ValidationResult, void]) => {
    try {
      return appendValidated(broker, partition, topic, index, records, result, appendTimeMs, transactionalId);
    } finally {
      turn.done();
    }
  };
  const giveUpTurn = (error: unknown) => {
    turn.done();
    throw error;
  };
  return Promise.all([validation, turn.ready]).then(startAppend, giveUpTurn);
}

function appendValidated(
  broker: BrokerServices,
  partition: Partition,
  topic: string,
  index: number,
  records: Buffer,
  validation: ValidationResult,
  appendTimeMs: number,
  transactionalId: string | null,
): PartitionResponse | Promise<PartitionResponse> {
  if (validation.errorCode !== ErrorCode.NONE) {
    return partitionError(index, validation.errorCode || ErrorCode.INVALID_RECORD, validation.errorMessage ?? 'no records');
  }
  if (isTransactionalBatch(records)) {
    const verified = broker.transactionVerifier.verify(topic, index, partition, transactionalId, readProducerId(records), readProducerEpoch(records));
    if (typeof verified !== 'number') return verified.then((errorCode) => appendVerified(broker, partition, topic, index, records, appendTimeMs, errorCode));
    if (verified !== ErrorCode.NONE) return notInTransaction(index, topic, verified);
  }
  return appendPoliced(broker, partition, topic, index, records, appendTimeMs);
}

function appendVerified(broker: BrokerServices, partition: Partition, topic: string, index: number, records: Buffer, appendTimeMs: number, errorCode: number): PartitionResponse | Promise<PartitionResponse> {
  return errorCode === ErrorCode.NONE ? appendPoliced(broker, partition, topic, index, records, appendTimeMs) : notInTransaction(index, topic, errorCode);
}

function notInTransaction(index: number, topic: string, errorCode: number): PartitionResponse {
  return partitionError(index, errorCode, `partition ${topic}-${index} is not in the producer's ongoing transaction`);
}

function appendPoliced(broker: BrokerServices, partition: Partition, topic: string, index: number, records: Buffer, appendTimeMs: number): PartitionResponse | Promise<PartitionResponse> {
  const policed = applyProducePolicy(records, producePolicy(broker, topic), {
    nowMs: appendTimeMs,
    logAppendTime: partition.log.config.messageTimestampType === 'LogAppendTime',
    maxDecompressedBytes: PRODUCE_MAX_DECOMPRESSED_BYTES,
  });
  if (!policed.ok) return { ...partitionError(index, policed.errorCode, policed.errorMessage), recordErrors: policed.recordErrors };
  return broker.replicaManager.append(partition, policed.batch, appendTimeMs).then(
    (result) => ({
      index,
      errorCode: ErrorCode.NONE,
      baseOffset: BigInt(result.baseOffset),
      logAppendTimeMs: BigInt(result.logAppendTimeMs),
      logStartOffset: BigInt(result.logStartOffset),
      recordErrors: [],
      errorMessage: null,
    }),
    (error: unknown) => {
      if (!isKafkaError(error)) throw error;
      broker.logger.warn('append failed', { topic, partition: index, error: error.message });
      const recordErrors = error.recordErrors.map(({ batchIndex, message }) => ({ batchIndex, batchIndexErrorMessage: message }));
      return { ...partitionError(index, error.errorCode, error.message), recordErrors };
    },
  );
}

/** KIP-951 (v10+): the current leader of every partition refused as not led here, and where it listens. */
function withLeaderHints(broker: BrokerServices, listenerName: string, apiVersion: number, response: ProduceResponse): ProduceResponse {
  if (apiVersion < LEADER_HINTS_MIN_VERSION) return response;
  const leaders = new Set<number>();
  for (const topic of response.responses) {
    for (const partition of topic.partitionResponses) {
      if (!wantsLeaderHint(partition.errorCode)) continue;
      partition.currentLeader = leaderHint(broker, topic.name, partition.index);
      if (partition.currentLeader.leaderId >= 0) leaders.add(partition.currentLeader.leaderId);
    }
  }
  if (leaders.size > 0) response.nodeEndpoints = nodeEndpointHints(broker, listenerName, leaders);
  return response;
}

function partitionError(index: number, errorCode: number, errorMessage: string | null): PartitionResponse {
  return { index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage };
}

function errorBody(request: ProduceRequest, errorCode: number): ProduceResponse {
  return {
    responses: request.topicData.map((topic) => ({
      name: topic.name,
      partitionResponses: topic.partitionData.map((data) => partitionError(data.index, errorCode, null)),
    })),
    throttleTimeMs: 0,
  };
}
