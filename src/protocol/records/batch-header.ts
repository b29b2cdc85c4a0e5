// The fixed 61-byte header of a record batch v2 (magic 2), read and patched in place.
// Batches stay opaque bytes on the hot path (DESIGN.md decision 3); this module is the one place
// that knows where each header field lives. Offsets are JavaScript numbers: Conveyor keeps every
// offset below 2^53, which the log asserts on append.
import { crc32c } from '../../base/crc32c.js';

export const BatchField = {
  baseOffset: 0,
  length: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordsCount: 57,
} as const;

/** Size of the header; records start here. */
export const BATCH_HEADER_BYTES = 61;
/** Bytes before the Length field's count starts: baseOffset (8) and length (4). */
export const BATCH_LOG_OVERHEAD = 12;
/** The CRC covers the bytes from the attributes field to the end of the batch. */
export const CRC_START = BatchField.attributes;

export const CompressionType = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionTypeValue = (typeof CompressionType)[keyof typeof CompressionType];

export const BatchAttribute = {
  compressionMask: 0x07,
  timestampTypeLogAppendTime: 0x08,
  transactional: 0x10,
  control: 0x20,
  deleteHorizon: 0x40,
} as const;

/** Total size in bytes of the batch starting at `position` (needs 12 readable bytes). */
export function batchSize(buffer: Buffer, position = 0): number {
  return buffer.readInt32BE(position + BatchField.length) + BATCH_LOG_OVERHEAD;
}

export function readBaseOffset(buffer: Buffer, position = 0): number {
  return Number(buffer.readBigInt64BE(position + BatchField.baseOffset));
}

export function readLastOffsetDelta(buffer: Buffer, position = 0): number {
  return buffer.readInt32BE(position + BatchField.lastOffsetDelta);
}

/** The offset of the last record of the batch. */
export function readLastOffset(buffer: Buffer, position = 0): number {
  return readBaseOffset(buffer, position) + readLastOffsetDelta(buffer, position);
}

export function readMagic(buffer: Buffer, position = 0): number {
  return buffer.readInt8(position + BatchField.magic);
}

export function readAttributes(buffer: Buffer, position = 0): number {
  return buffer.readInt16BE(position + BatchField.attributes);
}

export function readCompression(buffer: Buffer, position = 0): number {
  return readAttributes(buffer, position) & BatchAttribute.compressionMask;
}

export function isControlBatch(buffer: Buffer, position = 0): boolean {
  return (readAttributes(buffer, position) & BatchAttribute.control) !== 0;
}

export function isTransactionalBatch(buffer: Buffer, position = 0): boolean {
  return (readAttributes(buffer, position) & BatchAttribute.transactional) !== 0;
}

export function readPartitionLeaderEpoch(buffer: Buffer, position = 0): number {
  return buffer.readInt32BE(position + BatchField.partitionLeaderEpoch);
}

export function readBaseTimestamp(buffer: Buffer, position = 0): number {
  return Number(buffer.readBigInt64BE(position + BatchField.baseTimestamp));
}

export function readMaxTimestamp(buffer: Buffer, position = 0): number {
  return Number(buffer.readBigInt64BE(position + BatchField.maxTimestamp));
}

export function readProducerId(buffer: Buffer, position = 0): number {
  return Number(buffer.readBigInt64BE(position + BatchField.producerId));
}

export function readProducerEpoch(buffer: Buffer, position = 0): number {
  return buffer.readInt16BE(position + BatchField.producerEpoch);
}

export function readBaseSequence(buffer: Buffer, position = 0): number {
  return buffer.readInt32BE(position + BatchField.baseSequence);
}

export function readRecordsCount(buffer: Buffer, position = 0): number {
  return buffer.readInt32BE(position + BatchField.recordsCount);
}

export function readStoredCrc(buffer: Buffer, position = 0): number {
  return buffer.readUInt32BE(position + BatchField.crc);
}

/** Whether the stored CRC matches the batch bytes (the whole batch must be in `buffer`). */
export function hasValidCrc(buffer: Buffer, position = 0): boolean {
  const end = position + batchSize(buffer, position);
  return crc32c(buffer, position + CRC_START, end) === readStoredCrc(buffer, position);
}

/** Stamps offsets and the leader epoch; both lie outside the CRC, so it stays valid. */
export function patchBaseOffsetAndEpoch(buffer: Buffer, position: number, baseOffset: number, leaderEpoch: number): void {
  buffer.writeBigInt64BE(BigInt(baseOffset), position + BatchField.baseOffset);
  buffer.writeInt32BE(leaderEpoch, position + BatchField.partitionLeaderEpoch);
}

/**
 * Sets the LogAppendTime timestamp type and max timestamp, then recomputes the CRC, which covers
 * both fields. Used only for topics with message.timestamp.type=LogAppendTime.
 */
export function patchLogAppendTime(buffer: Buffer, position: number, appendTimeMs: number): void {
  const attributes = readAttributes(buffer, position) | BatchAttribute.timestampTypeLogAppendTime;
  buffer.writeInt16BE(attributes, position + BatchField.attributes);
  buffer.writeBigInt64BE(BigInt(appendTimeMs), position + BatchField.maxTimestamp);
  rewriteCrc(buffer, position);
}

export function rewriteCrc(buffer: Buffer, position = 0): void {
  const end = position + batchSize(buffer, position);
  buffer.writeUInt32BE(crc32c(buffer, position + CRC_START, end), position + BatchField.crc);
}
