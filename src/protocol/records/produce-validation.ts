// The checks a produce request's records pass before they are appended, mirroring Kafka's
// ProduceRequest.validateRecords, UnifiedLog.analyzeAndValidateRecords and LogValidator: framing,
// size, CRC32C, batch header rules, then a walk over every record. Malformed input always yields an
// error code, never an exception.
//
// Two deliberate differences from Kafka, because Conveyor appends the client's bytes unchanged
// (DESIGN.md decision 3) instead of rebuilding batches:
// - bytes after the one batch are rejected (Kafka trims a partial trailing batch silently);
// - record offset deltas must be exactly 0..count-1 (Kafka rewrites a compressed batch whose inner
//   offsets are wrong).
import { ErrorCode } from '../../base/error-codes.js';
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  BatchField,
  CompressionType,
  batchSize,
  hasValidCrc,
  isControlBatch,
  readBaseOffset,
  readBaseSequence,
  readCompression,
  readLastOffsetDelta,
  readMagic,
  readProducerId,
  readRecordsCount,
} from './batch-header.js';
import { CompressionError } from './compression-error.js';
import { decompress, decompressSync, isKnownCodec } from './compression.js';
import { MIN_RECORD_BYTES, RECORD_BATCH_MAGIC } from './record-batch.js';

export type ValidationResult = { errorCode: 0; errorMessage?: undefined } | { errorCode: number; errorMessage: string };

export interface ProduceValidationOptions {
  /** The topic's max.message.bytes: the largest batch, header included. */
  maxMessageBytes: number;
  produceVersion: number;
  /** Bound on a compressed batch's records once decompressed (zip-bomb protection). */
  maxDecompressedBytes: number;
}

const VALID: ValidationResult = { errorCode: ErrorCode.NONE };
/** Kafka's smallest legal batch length field (LegacyRecord.RECORD_OVERHEAD_V0). */
const MIN_LENGTH_FIELD = 14;
/** zstd needs Produce v7 (KIP-110). */
const ZSTD_MIN_PRODUCE_VERSION = 7;

function invalid(errorCode: number, errorMessage: string): ValidationResult {
  return { errorCode, errorMessage };
}

/** Validates without awaiting; compressed batches decompress on the calling thread. */
export function validateProducedRecordsSync(records: Buffer | null, options: ProduceValidationOptions): ValidationResult {
  const framing = validateBatchHeader(records, options);
  if (framing.errorCode !== ErrorCode.NONE || records === null) return framing;
  return validateRecordsSync(records, options);
}

/** The records of a batch whose header validateBatchHeader accepted, without awaiting. */
export function validateRecordsSync(records: Buffer, options: ProduceValidationOptions): ValidationResult {
  const section = records.subarray(BATCH_HEADER_BYTES);
  const codec = readCompression(records);
  if (codec === CompressionType.none) return walkRecords(section, readRecordsCount(records));
  let decompressed: Buffer;
  try {
    decompressed = decompressSync(codec, section, options.maxDecompressedBytes);
  } catch (error) {
    return decompressionFailure(error);
  }
  return walkRecords(decompressed, readRecordsCount(records));
}

/** Validates, decompressing off the event loop where the codec library allows it. */
export async function validateProducedRecords(records: Buffer | null, options: ProduceValidationOptions): Promise<ValidationResult> {
  const framing = validateBatchHeader(records, options);
  if (framing.errorCode !== ErrorCode.NONE || records === null) return framing;
  return validateRecords(records, options);
}

/** The records of a batch whose header validateBatchHeader accepted, decompressing off the event loop where the codec library allows it. */
export async function validateRecords(records: Buffer, options: ProduceValidationOptions): Promise<ValidationResult> {
  const codec = readCompression(records);
  if (codec === CompressionType.none) return walkRecords(records.subarray(BATCH_HEADER_BYTES), readRecordsCount(records));
  let decompressed: Buffer;
  try {
    decompressed = await decompress(codec, records.subarray(BATCH_HEADER_BYTES), options.maxDecompressedBytes);
  } catch (error) {
    return decompressionFailure(error);
  }
  return walkRecords(decompressed, readRecordsCount(records));
}

function decompressionFailure(error: unknown): ValidationResult {
  if (error instanceof CompressionError) return invalid(error.errorCode, error.message);
  return invalid(ErrorCode.CORRUPT_MESSAGE, `compressed records do not decompress: ${(error as Error).message}`);
}

/**
 * Every check that reads only the 61-byte header and the CRC, in Kafka's order. A success means
 * `records` holds exactly one complete batch v2 with a valid CRC.
 */
export function validateBatchHeader(records: Buffer | null, options: ProduceValidationOptions): ValidationResult {
  const framing = validateFraming(records, options.produceVersion);
  if (framing.errorCode !== ErrorCode.NONE || records === null) return framing;
  if (readBaseOffset(records) !== 0) return invalid(ErrorCode.INVALID_RECORD, 'the base offset of a produced batch must be 0');
  if (records.length > options.maxMessageBytes) {
    return invalid(ErrorCode.MESSAGE_TOO_LARGE, `batch of ${records.length} bytes exceeds max.message.bytes ${options.maxMessageBytes}`);
  }
  if (!hasValidCrc(records)) return invalid(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC32C mismatch');
  return validateBatchFields(records);
}

/** ProduceRequest.validateRecords and the batch iterator's own checks: one complete batch v2. */
function validateFraming(records: Buffer | null, produceVersion: number): ValidationResult {
  if (records === null || records.length < BATCH_LOG_OVERHEAD) {
    return invalid(ErrorCode.INVALID_RECORD, 'produce requests must carry exactly one record batch per partition');
  }
  const lengthField = records.readInt32BE(BatchField.length);
  if (lengthField < MIN_LENGTH_FIELD) return invalid(ErrorCode.CORRUPT_MESSAGE, `record batch length ${lengthField} is below the minimum`);
  if (records.length <= BatchField.magic) return invalid(ErrorCode.INVALID_RECORD, 'record batch is truncated');
  const magic = readMagic(records);
  if (magic < 0 || magic > RECORD_BATCH_MAGIC) return invalid(ErrorCode.CORRUPT_MESSAGE, `invalid magic ${magic}`);
  const size = batchSize(records);
  if (size > records.length) return invalid(ErrorCode.INVALID_RECORD, 'record batch is truncated');
  if (magic !== RECORD_BATCH_MAGIC) return invalid(ErrorCode.INVALID_RECORD, 'produce requests must use record batch magic 2');
  if (size < BATCH_HEADER_BYTES) return invalid(ErrorCode.CORRUPT_MESSAGE, `record batch size ${size} is below the 61-byte header`);
  const codec = readCompression(records);
  if (!isKnownCodec(codec)) return invalid(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `unknown compression codec id ${codec}`);
  if (codec === CompressionType.zstd && produceVersion < ZSTD_MIN_PRODUCE_VERSION) {
    return invalid(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `zstd needs produce version ${ZSTD_MIN_PRODUCE_VERSION} or later`);
  }
  if (size !== records.length) return invalid(ErrorCode.INVALID_RECORD, 'produce requests must carry exactly one record batch per partition');
  return VALID;
}

/** LogValidator.validateBatch for batches from clients. */
function validateBatchFields(records: Buffer): ValidationResult {
  const offsetRange = readLastOffsetDelta(records) + 1;
  const count = readRecordsCount(records);
  if (offsetRange <= 0) return invalid(ErrorCode.INVALID_RECORD, `invalid last offset delta ${offsetRange - 1}`);
  if (count <= 0) return invalid(ErrorCode.INVALID_RECORD, `invalid records count ${count}`);
  if (count !== offsetRange) return invalid(ErrorCode.INVALID_RECORD, `records count ${count} does not match the offset range ${offsetRange}`);
  if (isControlBatch(records)) return invalid(ErrorCode.INVALID_RECORD, 'clients may not write control records');
  if (readProducerId(records) >= 0 && readBaseSequence(records) < 0) {
    return invalid(ErrorCode.INVALID_RECORD, `invalid base sequence ${readBaseSequence(records)} for a producer id`);
  }
  return VALID;
}

/**
 * Walks `count` records that must fill `section` exactly, reading only lengths and offset deltas and
 * skipping payloads, so nothing is allocated per record. Every inner length is checked against the
 * record length, as Kafka's record reader does: a record that decodes here decodes in every client.
 */
export function walkRecords(section: Buffer, count: number): ValidationResult {
  if (count * MIN_RECORD_BYTES > section.length) return invalid(ErrorCode.INVALID_RECORD, `${count} records cannot fit in ${section.length} bytes`);
  const walker = new RecordWalker(section);
  for (let index = 0; index < count; index++) {
    const problem = walker.record(index);
    if (problem !== null) return invalid(ErrorCode.INVALID_RECORD, `record ${index}: ${problem}`);
  }
  if (walker.position !== section.length) return invalid(ErrorCode.INVALID_RECORD, 'bytes remain after the last record of the batch');
  return VALID;
}

/** Reads record framing in place; `failed` replaces exceptions so the walk stays allocation-free. */
class RecordWalker {
  position = 0;
  private end: number;
  private failed = false;

  constructor(private readonly buffer: Buffer) {
    this.end = buffer.length;
  }

  /** Skips one record, returning what is wrong with it or null. */
  record(expectedOffsetDelta: number): string | null {
    this.end = this.buffer.length;
    const bodyLength = this.varInt();
    if (this.failed || bodyLength < 1 || this.position + bodyLength > this.buffer.length) return 'invalid record length';
    this.end = this.position + bodyLength;
    this.position += 1; // attributes
    this.skipVarLong(); // timestamp delta
    const offsetDelta = this.varInt();
    if (this.failed) return 'truncated record';
    if (offsetDelta !== expectedOffsetDelta) return `offset delta ${offsetDelta} where ${expectedOffsetDelta} was expected`;
    if (!this.skipBytes(-1) || !this.skipBytes(-1)) return 'invalid key or value length';
    const headerCount = this.varInt();
    if (this.failed || headerCount < 0) return 'invalid header count';
    for (let header = 0; header < headerCount; header++) {
      if (!this.skipBytes(0) || !this.skipBytes(-1)) return 'invalid header';
    }
    if (this.position !== this.end) return 'record length does not match its fields';
    return null;
  }

  /** Skips a length-prefixed field; `minimum` is -1 where null is allowed, else 0. */
  private skipBytes(minimum: number): boolean {
    const length = this.varInt();
    if (this.failed || length < minimum || this.position + Math.max(0, length) > this.end) return false;
    if (length > 0) this.position += length;
    return true;
  }

  private varInt(): number {
    let raw = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.position >= this.end) break;
      const byte = this.buffer[this.position++]!;
      raw |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return (raw >>> 1) ^ -(raw & 1);
    }
    this.failed = true;
    return 0;
  }

  private skipVarLong(): void {
    for (let count = 0; count < 10; count++) {
      if (this.position >= this.end) break;
      if ((this.buffer[this.position++]! & 0x80) === 0) return;
    }
    this.failed = true;
  }
}
