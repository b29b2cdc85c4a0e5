// Building and decoding whole record batches v2: header fields, records, compression and CRC32C.
// The hot path keeps batches opaque (DESIGN.md decision 3); this module serves the places that need
// records themselves: compaction, control markers, internal topics, tools and tests.
import { crc32c } from '../../base/crc32c.js';
import { ErrorCode } from '../../base/error-codes.js';
import { ProtocolError } from '../primitives/protocol-error.js';
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  BatchAttribute,
  BatchField,
  CRC_START,
  CompressionType,
  batchSize,
  hasValidCrc,
  readAttributes,
  readBaseOffset,
  readBaseSequence,
  readBaseTimestamp,
  readLastOffsetDelta,
  readMagic,
  readMaxTimestamp,
  readPartitionLeaderEpoch,
  readProducerEpoch,
  readProducerId,
  readRecordsCount,
  readStoredCrc,
} from './batch-header.js';
import { compress, compressSync, decompress, decompressSync } from './compression.js';
import { type KafkaRecord, type RecordInput, RecordDecodeError, readRecord, recordSize, writeRecord } from './record.js';

export const TimestampType = { createTime: 0, logAppendTime: 1 } as const;
export type TimestampTypeValue = (typeof TimestampType)[keyof typeof TimestampType];

/** The only record batch format Conveyor reads and writes. */
export const RECORD_BATCH_MAGIC = 2;
/** Default bound on decompressed records when a caller gives none (DESIGN.md decision 8). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;
/** The smallest encoded record: a Length varint and six one-byte fields. */
export const MIN_RECORD_BYTES = 7;
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

export interface RecordBatchOptions {
  baseOffset?: number;
  compression?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  partitionLeaderEpoch?: number;
  timestampType?: TimestampTypeValue;
  /** Defaults to the first record's timestamp, as Java's producer writes it. */
  baseTimestamp?: number;
  /** Defaults to the largest record timestamp; LogAppendTime batches carry the append time here. */
  maxTimestamp?: number;
  /** Defaults to the last record's offset delta; compaction keeps the original one. */
  lastOffsetDelta?: number;
}

export interface RecordBatchHeader {
  baseOffset: number;
  /** Whole batch, including the 12 bytes of base offset and length. */
  sizeInBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: number;
  timestampType: TimestampTypeValue;
  transactional: boolean;
  control: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

export interface DecodedBatch extends RecordBatchHeader {
  records: KafkaRecord[];
}

export interface DecodeOptions {
  maxDecompressedBytes?: number;
  /** Checks the CRC32C before decoding; on by default. */
  verifyCrc?: boolean;
}

interface PlannedBatch {
  header: RecordBatchHeader;
  records: Buffer;
}

export async function buildRecordBatch(records: readonly RecordInput[], options: RecordBatchOptions = {}): Promise<Buffer> {
  const planned = planBatch(records, options);
  return assembleBatch(planned.header, await compress(planned.header.compression, planned.records));
}

export function buildRecordBatchSync(records: readonly RecordInput[], options: RecordBatchOptions = {}): Buffer {
  const planned = planBatch(records, options);
  return assembleBatch(planned.header, compressSync(planned.header.compression, planned.records));
}

/** Resolves defaults, computes deltas and encodes the uncompressed records section. */
function planBatch(records: readonly RecordInput[], options: RecordBatchOptions): PlannedBatch {
  const baseOffset = options.baseOffset ?? 0;
  const firstTimestamp = records.find((record) => record.timestamp !== undefined)?.timestamp;
  const baseTimestamp = options.baseTimestamp ?? firstTimestamp ?? (records.length === 0 ? NO_TIMESTAMP : Date.now());
  const deltas = recordDeltas(records, baseOffset, baseTimestamp);
  const body = Buffer.allocUnsafe(records.reduce((sum, record, index) => sum + recordSize(record, deltas[index]!), 0));
  let position = 0;
  let maxTimestamp = records.length === 0 ? NO_TIMESTAMP : baseTimestamp;
  records.forEach((record, index) => {
    const recordDeltas = deltas[index]!;
    position = writeRecord(body, position, record, recordDeltas);
    maxTimestamp = Math.max(maxTimestamp, baseTimestamp + recordDeltas.timestampDelta);
  });
  const timestampType = options.timestampType ?? TimestampType.createTime;
  const compression = options.compression ?? CompressionType.none;
  const header: RecordBatchHeader = {
    baseOffset,
    sizeInBytes: 0,
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
    magic: RECORD_BATCH_MAGIC,
    crc: 0,
    attributes: batchAttributes(compression, timestampType, options),
    compression,
    timestampType,
    transactional: options.transactional ?? false,
    control: options.control ?? false,
    lastOffsetDelta: options.lastOffsetDelta ?? (records.length === 0 ? 0 : deltas[deltas.length - 1]!.offsetDelta),
    baseTimestamp,
    maxTimestamp: options.maxTimestamp ?? maxTimestamp,
    producerId: options.producerId ?? NO_PRODUCER_ID,
    producerEpoch: options.producerEpoch ?? NO_PRODUCER_EPOCH,
    baseSequence: options.baseSequence ?? NO_SEQUENCE,
    recordsCount: records.length,
  };
  return { header, records: body };
}

/** Records without an offset take the next one; records without a timestamp take the base. */
function recordDeltas(records: readonly RecordInput[], baseOffset: number, baseTimestamp: number) {
  let nextOffsetDelta = 0;
  return records.map((record) => {
    const offsetDelta = record.offset === undefined ? nextOffsetDelta : record.offset - baseOffset;
    nextOffsetDelta = offsetDelta + 1;
    return { offsetDelta, timestampDelta: (record.timestamp ?? baseTimestamp) - baseTimestamp };
  });
}

function batchAttributes(compression: number, timestampType: TimestampTypeValue, options: RecordBatchOptions): number {
  let attributes = compression & BatchAttribute.compressionMask;
  if (timestampType === TimestampType.logAppendTime) attributes |= BatchAttribute.timestampTypeLogAppendTime;
  if (options.transactional) attributes |= BatchAttribute.transactional;
  if (options.control) attributes |= BatchAttribute.control;
  return attributes;
}

function assembleBatch(header: RecordBatchHeader, records: Buffer): Buffer {
  const batch = Buffer.allocUnsafe(BATCH_HEADER_BYTES + records.length);
  batch.writeBigInt64BE(BigInt(header.baseOffset), BatchField.baseOffset);
  batch.writeInt32BE(batch.length - BATCH_LOG_OVERHEAD, BatchField.length);
  batch.writeInt32BE(header.partitionLeaderEpoch, BatchField.partitionLeaderEpoch);
  batch.writeInt8(RECORD_BATCH_MAGIC, BatchField.magic);
  batch.writeInt16BE(header.attributes, BatchField.attributes);
  batch.writeInt32BE(header.lastOffsetDelta, BatchField.lastOffsetDelta);
  batch.writeBigInt64BE(BigInt(header.baseTimestamp), BatchField.baseTimestamp);
  batch.writeBigInt64BE(BigInt(header.maxTimestamp), BatchField.maxTimestamp);
  batch.writeBigInt64BE(BigInt(header.producerId), BatchField.producerId);
  batch.writeInt16BE(header.producerEpoch, BatchField.producerEpoch);
  batch.writeInt32BE(header.baseSequence, BatchField.baseSequence);
  batch.writeInt32BE(header.recordsCount, BatchField.recordsCount);
  records.copy(batch, BATCH_HEADER_BYTES);
  batch.writeUInt32BE(crc32c(batch, CRC_START), BatchField.crc);
  return batch;
}

/** Reads every header field of the batch at `position`; the caller ensures 61 bytes are there. */
export function readRecordBatchHeader(buffer: Buffer, position = 0): RecordBatchHeader {
  const attributes = readAttributes(buffer, position);
  return {
    baseOffset: readBaseOffset(buffer, position),
    sizeInBytes: batchSize(buffer, position),
    partitionLeaderEpoch: readPartitionLeaderEpoch(buffer, position),
    magic: readMagic(buffer, position),
    crc: readStoredCrc(buffer, position),
    attributes,
    compression: attributes & BatchAttribute.compressionMask,
    timestampType: (attributes & BatchAttribute.timestampTypeLogAppendTime) !== 0 ? TimestampType.logAppendTime : TimestampType.createTime,
    transactional: (attributes & BatchAttribute.transactional) !== 0,
    control: (attributes & BatchAttribute.control) !== 0,
    lastOffsetDelta: readLastOffsetDelta(buffer, position),
    baseTimestamp: readBaseTimestamp(buffer, position),
    maxTimestamp: readMaxTimestamp(buffer, position),
    producerId: readProducerId(buffer, position),
    producerEpoch: readProducerEpoch(buffer, position),
    baseSequence: readBaseSequence(buffer, position),
    recordsCount: readRecordsCount(buffer, position),
  };
}

export async function decodeRecordBatch(buffer: Buffer, position = 0, options: DecodeOptions = {}): Promise<DecodedBatch> {
  const header = checkedHeader(buffer, position, options);
  const section = buffer.subarray(position + BATCH_HEADER_BYTES, position + header.sizeInBytes);
  const maxBytes = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const records = header.compression === CompressionType.none ? section : await decompress(header.compression, section, maxBytes);
  return { ...header, records: readRecords(records, header) };
}

export function decodeRecordBatchSync(buffer: Buffer, position = 0, options: DecodeOptions = {}): DecodedBatch {
  const header = checkedHeader(buffer, position, options);
  const section = buffer.subarray(position + BATCH_HEADER_BYTES, position + header.sizeInBytes);
  const maxBytes = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const records = header.compression === CompressionType.none ? section : decompressSync(header.compression, section, maxBytes);
  return { ...header, records: readRecords(records, header) };
}

function checkedHeader(buffer: Buffer, position: number, options: DecodeOptions): RecordBatchHeader {
  if (position < 0 || buffer.length - position < BATCH_HEADER_BYTES) throw new RecordDecodeError('record batch is truncated');
  const size = batchSize(buffer, position);
  if (size < BATCH_HEADER_BYTES) throw new RecordDecodeError(`record batch size ${size} is below the 61-byte header`);
  if (position + size > buffer.length) throw new RecordDecodeError('record batch is truncated');
  const magic = readMagic(buffer, position);
  if (magic !== RECORD_BATCH_MAGIC) throw new RecordDecodeError(`unsupported record batch magic ${magic}`, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
  if ((options.verifyCrc ?? true) && !hasValidCrc(buffer, position)) throw new RecordDecodeError('record batch CRC32C mismatch');
  return readRecordBatchHeader(buffer, position);
}

/** Decodes exactly `recordsCount` records that must fill the records section to its last byte. */
function readRecords(section: Buffer, header: RecordBatchHeader): KafkaRecord[] {
  const count = header.recordsCount;
  if (count < 0 || count * MIN_RECORD_BYTES > section.length) throw new RecordDecodeError(`invalid records count ${count}`);
  const context = {
    baseOffset: header.baseOffset,
    baseTimestamp: header.baseTimestamp,
    logAppendTime: header.timestampType === TimestampType.logAppendTime ? header.maxTimestamp : null,
  };
  const cursor = { position: 0 };
  const records: KafkaRecord[] = [];
  try {
    for (let index = 0; index < count; index++) records.push(readRecord(section, cursor, section.length, context));
  } catch (error) {
    if (error instanceof ProtocolError) throw new RecordDecodeError(error.message);
    throw error;
  }
  if (cursor.position !== section.length) throw new RecordDecodeError('bytes remain after the last record of the batch');
  return records;
}

export interface BatchSpan {
  position: number;
  sizeInBytes: number;
}

/**
 * The complete batches in concatenated batch bytes (a fetch response, a log segment read), without
 * decoding them. Stops at a truncated trailing batch, which fetch responses routinely end with.
 */
export function* recordBatchSpans(buffer: Buffer): Generator<BatchSpan> {
  let position = 0;
  while (buffer.length - position >= BATCH_LOG_OVERHEAD) {
    const size = batchSize(buffer, position);
    if (size < BATCH_HEADER_BYTES) throw new RecordDecodeError(`record batch size ${size} is below the 61-byte header`);
    if (position + size > buffer.length) return;
    yield { position, sizeInBytes: size };
    position += size;
  }
}

export async function* decodeRecordBatches(buffer: Buffer, options: DecodeOptions = {}): AsyncGenerator<DecodedBatch> {
  for (const span of recordBatchSpans(buffer)) yield await decodeRecordBatch(buffer, span.position, options);
}

export function* decodeRecordBatchesSync(buffer: Buffer, options: DecodeOptions = {}): Generator<DecodedBatch> {
  for (const span of recordBatchSpans(buffer)) yield decodeRecordBatchSync(buffer, span.position, options);
}
