// What compaction keeps of one record batch: the latest record per key (by the offset map),
// tombstones until their delete horizon passes, control batches whole, nothing of an aborted
// transaction, and the last batch of each producer (empty if need be) so idempotent producers'
// sequence state survives. Batches at or past the pass's end offset (the last stable offset at
// most) are copied as they are. Kept records keep their offsets; a rewritten batch keeps its base
// offset, last offset delta, producer fields and codec.
import {
  BatchAttribute,
  BatchField,
  isControlBatch,
  readAttributes,
  readBaseOffset,
  readBaseTimestamp,
  rewriteCrc,
} from '../../protocol/records/batch-header.js';
import type { KafkaRecord } from '../../protocol/records/record.js';
import { buildRecordBatch, decodeRecordBatch, type RecordBatchHeader, TimestampType } from '../../protocol/records/record-batch.js';
import { CLEANER_MAX_DECOMPRESSED_BYTES, CLEANER_RECORDS_PER_CLOCK_CHECK } from '../log-limits.js';
import type { OffsetMap } from './offset-map.js';

export interface FilterContext {
  readonly offsetMap: OffsetMap;
  /**
   * The offset map's end: batches from here on were not mapped (the map filled, or they lie at or
   * past the last stable offset, where open transactions are) and are kept unchanged.
   */
  readonly endOffset: number;
  /** Whether the batch holds data of an aborted transaction (all of it is dropped). */
  isAborted(batch: Buffer): boolean;
  readonly nowMs: number;
  /** delete.retention.ms: a tombstone first cleaned now is kept until now plus this. */
  readonly deleteRetentionMs: number;
  /** Whether the batch at `baseOffset` is the last one `producerId` wrote in the log. */
  isLastBatchOfProducer(producerId: number, baseOffset: number): Promise<boolean>;
  /** Called every few records: gives the event loop a turn when the cleaner's time slice is used. */
  pauseIfSliceUsed(): Promise<void> | undefined;
}

export interface FilterOutcome {
  /** The batch to keep (the input itself when nothing changed), or undefined to drop it. */
  readonly batch: Buffer | undefined;
  readonly recordsRemoved: number;
  readonly tombstonesRemoved: number;
  /** The delete horizon of tombstones the kept batch still holds, if any. */
  readonly deleteHorizonMs: number | undefined;
}

/** Filters one batch (a whole, valid batch v2) for compaction. */
export async function filterBatch(batch: Buffer, context: FilterContext): Promise<FilterOutcome> {
  // Control batches (transaction markers) are kept: removing one safely needs its transaction's
  // data gone everywhere below it and a delete horizon, which Conveyor does not track yet.
  if (isControlBatch(batch)) return unchanged(batch, undefined);
  if (readBaseOffset(batch) >= context.endOffset) return unchanged(batch, deleteHorizonOf(batch));
  const aborted = context.isAborted(batch);
  const decoded = await decodeRecordBatch(batch, 0, { verifyCrc: false, maxDecompressedBytes: CLEANER_MAX_DECOMPRESSED_BYTES });
  const horizonMs = deleteHorizonOf(batch);
  let tombstonesRemoved = 0;
  const kept: KafkaRecord[] = [];
  for (let index = 0; index < decoded.records.length; index += 1) {
    const record = decoded.records[index]!;
    // An aborted record goes whatever the map says: it never was a key's latest value.
    if (!aborted && shouldKeep(record, context, horizonMs)) kept.push(record);
    else if (!aborted && record.value === null && record.key !== null && isLatest(record, context)) tombstonesRemoved += 1;
    if (index % CLEANER_RECORDS_PER_CLOCK_CHECK === CLEANER_RECORDS_PER_CLOCK_CHECK - 1) await context.pauseIfSliceUsed();
  }
  const recordsRemoved = decoded.records.length - kept.length;
  const keptTombstones = kept.some((record) => record.value === null);
  if (recordsRemoved === 0 && (!keptTombstones || horizonMs !== undefined)) {
    return unchanged(batch, keptTombstones ? horizonMs : undefined);
  }
  if (kept.length === 0) {
    const keepEmpty = decoded.producerId >= 0 && (await context.isLastBatchOfProducer(decoded.producerId, decoded.baseOffset));
    const emptied = keepEmpty ? await rebuild(decoded, [], undefined) : undefined;
    return { batch: emptied, recordsRemoved, tombstonesRemoved, deleteHorizonMs: undefined };
  }
  const newHorizonMs = keptTombstones ? (horizonMs ?? context.nowMs + context.deleteRetentionMs) : undefined;
  return { batch: await rebuild(decoded, kept, newHorizonMs), recordsRemoved, tombstonesRemoved, deleteHorizonMs: newHorizonMs };
}

function unchanged(batch: Buffer, deleteHorizonMs: number | undefined): FilterOutcome {
  return { batch, recordsRemoved: 0, tombstonesRemoved: 0, deleteHorizonMs };
}

/** The delete horizon a cleaned batch carries (attribute 0x40, in the base timestamp field). */
export function deleteHorizonOf(batch: Buffer): number | undefined {
  return (readAttributes(batch) & BatchAttribute.deleteHorizon) !== 0 ? readBaseTimestamp(batch) : undefined;
}

function isLatest(record: KafkaRecord, context: FilterContext): boolean {
  return record.key !== null && context.offsetMap.get(record.key) <= record.offset;
}

/** Kafka's rule: keyless records go, superseded records go, tombstones go once their horizon passed. */
function shouldKeep(record: KafkaRecord, context: FilterContext, horizonMs: number | undefined): boolean {
  if (record.key === null) return false;
  if (!isLatest(record, context)) return false;
  if (record.value === null && horizonMs !== undefined && horizonMs <= context.nowMs) return false;
  return true;
}

/**
 * A new batch with `records` and the original header facts. With a delete horizon, the base
 * timestamp holds it (records' timestamp deltas are relative to it, so their timestamps stay).
 */
async function rebuild(header: RecordBatchHeader, records: readonly KafkaRecord[], deleteHorizonMs: number | undefined): Promise<Buffer> {
  const logAppendTime = header.timestampType === TimestampType.logAppendTime;
  const maxTimestamp = logAppendTime || records.length === 0 ? header.maxTimestamp : Math.max(...records.map((record) => record.timestamp));
  const batch = await buildRecordBatch(
    records.map((record) => ({ offset: record.offset, timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers, attributes: record.attributes ?? 0 })),
    {
      baseOffset: header.baseOffset,
      compression: header.compression,
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      transactional: header.transactional,
      partitionLeaderEpoch: header.partitionLeaderEpoch,
      timestampType: header.timestampType,
      lastOffsetDelta: header.lastOffsetDelta,
      baseTimestamp: deleteHorizonMs ?? (records[0]?.timestamp ?? header.baseTimestamp),
      maxTimestamp,
    },
  );
  if (deleteHorizonMs !== undefined) {
    batch.writeInt16BE(readAttributes(batch) | BatchAttribute.deleteHorizon, BatchField.attributes);
    rewriteCrc(batch);
  }
  return batch;
}
