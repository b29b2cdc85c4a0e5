// The topic configs Produce enforces beyond the batch checks: message.timestamp.before.max.ms and
// after.max.ms (INVALID_TIMESTAMP for the batch, as Kafka's LogValidator) and compression.type
// (a codec makes the broker rewrite batches compressed otherwise). Settings are cached per topic
// until the metadata image changes. With Kafka 4's defaults (before: forever, after: one hour) the
// batch header's max timestamp answers the check, so the hot path decodes nothing unless a record
// may be out of range; only then are the records read, to name each one that is.
import { ErrorCode } from '../base/error-codes.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import { readCompression, readMaxTimestamp, CompressionType, isControlBatch } from '../protocol/records/batch-header.js';
import { buildRecordBatchSync, decodeRecordBatchSync } from '../protocol/records/record-batch.js';
import type { BrokerServices } from './broker-services.js';
import { topicConfigValue } from './config-resources.js';

export interface ProducePolicy {
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  /** The codec every stored batch must use, or null to store batches as produced. */
  compression: number | null;
  /** min.insync.replicas: the ISR an acks=all write needs. */
  minInsyncReplicas: number;
}

export type PolicyOutcome =
  | { ok: true; batch: Buffer }
  | { ok: false; errorCode: number; errorMessage: string; recordErrors: { batchIndex: number; batchIndexErrorMessage: string | null }[] };

const codecsByName: Readonly<Record<string, number | null>> = {
  producer: null,
  uncompressed: CompressionType.none,
  gzip: CompressionType.gzip,
  snappy: CompressionType.snappy,
  lz4: CompressionType.lz4,
  zstd: CompressionType.zstd,
};

const cache = new WeakMap<MetadataImage, { version: number; policies: Map<string, ProducePolicy> }>();

export function producePolicy(broker: BrokerServices, topic: string): ProducePolicy {
  let entry = cache.get(broker.image);
  if (!entry || entry.version !== broker.image.version) {
    entry = { version: broker.image.version, policies: new Map() };
    cache.set(broker.image, entry);
  }
  let policy = entry.policies.get(topic);
  if (!policy) {
    policy = {
      timestampBeforeMaxMs: topicConfigValue(broker, topic, 'message.timestamp.before.max.ms') as number,
      timestampAfterMaxMs: topicConfigValue(broker, topic, 'message.timestamp.after.max.ms') as number,
      compression: codecsByName[topicConfigValue(broker, topic, 'compression.type') as string] ?? null,
      minInsyncReplicas: topicConfigValue(broker, topic, 'min.insync.replicas') as number,
    };
    entry.policies.set(topic, policy);
  }
  return policy;
}

/**
 * Applies `policy` to one validated batch. Timestamps are checked record by record for CreateTime
 * topics only (LogAppendTime replaces them); the batch is rebuilt when its codec is not the topic's.
 */
export function applyProducePolicy(
  batch: Buffer,
  policy: ProducePolicy,
  options: { nowMs: number; logAppendTime: boolean; maxDecompressedBytes: number },
): PolicyOutcome {
  const checkTimestamps = !options.logAppendTime && mayHaveTimestampOutOfRange(batch, policy, options.nowMs);
  const recompress = policy.compression !== null && policy.compression !== readCompression(batch) && !isControlBatch(batch);
  if (!checkTimestamps && !recompress) return { ok: true, batch };
  const decoded = decodeRecordBatchSync(batch, 0, { maxDecompressedBytes: options.maxDecompressedBytes, verifyCrc: false });
  if (checkTimestamps) {
    const failure = timestampFailure(decoded.records, policy, options.nowMs);
    if (failure) return failure;
  }
  if (!recompress) return { ok: true, batch };
  const rebuilt = buildRecordBatchSync(
    decoded.records.map((record) => ({ ...record, offset: record.offset - decoded.baseOffset })),
    {
      compression: policy.compression!,
      producerId: decoded.producerId,
      producerEpoch: decoded.producerEpoch,
      baseSequence: decoded.baseSequence,
      transactional: decoded.transactional,
      timestampType: decoded.timestampType,
      baseTimestamp: decoded.baseTimestamp,
      maxTimestamp: decoded.maxTimestamp,
      lastOffsetDelta: decoded.lastOffsetDelta,
    },
  );
  return { ok: true, batch: rebuilt };
}

/**
 * Whether some record's timestamp may fall outside the topic's range. No record is later than the
 * batch's max timestamp, so the after-limit alone needs no decoding; any before-limit does (a
 * record may be earlier than the batch's first timestamp).
 */
function mayHaveTimestampOutOfRange(batch: Buffer, policy: ProducePolicy, nowMs: number): boolean {
  if (Number.isFinite(policy.timestampBeforeMaxMs)) return true;
  return Number.isFinite(policy.timestampAfterMaxMs) && readMaxTimestamp(batch) - nowMs > policy.timestampAfterMaxMs;
}

function timestampFailure(records: { timestamp: number }[], policy: ProducePolicy, nowMs: number): PolicyOutcome | undefined {
  const recordErrors: { batchIndex: number; batchIndexErrorMessage: string | null }[] = [];
  records.forEach((record, batchIndex) => {
    if (nowMs - record.timestamp > policy.timestampBeforeMaxMs) {
      recordErrors.push({ batchIndex, batchIndexErrorMessage: `timestamp ${record.timestamp} is more than message.timestamp.before.max.ms (${policy.timestampBeforeMaxMs}) before the broker's time ${nowMs}` });
    } else if (record.timestamp - nowMs > policy.timestampAfterMaxMs) {
      recordErrors.push({ batchIndex, batchIndexErrorMessage: `timestamp ${record.timestamp} is more than message.timestamp.after.max.ms (${policy.timestampAfterMaxMs}) after the broker's time ${nowMs}` });
    }
  });
  if (recordErrors.length === 0) return undefined;
  return {
    ok: false,
    errorCode: ErrorCode.INVALID_TIMESTAMP,
    errorMessage: `${recordErrors.length} record(s) out of the topic's timestamp range: ${recordErrors[0]!.batchIndexErrorMessage}`,
    recordErrors,
  };
}
