// Writes Kafka wire-protocol primitives into a growable buffer that is reused across messages.
// Large byte payloads (record batches) are referenced rather than copied: `finish()` returns the
// encoded parts and the referenced buffers as a list of chunks for a vectored socket write.
import { ProtocolError } from './protocol-error.js';
import {
  unsignedVarIntSize,
  writeUnsignedVarInt,
  writeVarInt,
  writeVarLong,
  varLongSize,
  VARINT_MAX_BYTES,
} from './varint.js';

/** Payloads at least this large are referenced zero-copy instead of copied into the buffer. */
export const ZERO_COPY_THRESHOLD_BYTES = 4096;
const INITIAL_CAPACITY_BYTES = 1024;
/** Strings shorter than this are written by a byte loop when they are ASCII, which beats Buffer.write. */
const SHORT_STRING_CHARS = 64;
const UUID_BYTES = 16;
const UUID_CHARS = 22;

export class Writer {
  private buffer: Buffer;
  private position = 0;
  /** Start of the bytes not yet handed out as a chunk. */
  private chunkStart = 0;
  private chunks: Buffer[] = [];
  private flushedLength = 0;

  constructor(initialCapacityBytes = INITIAL_CAPACITY_BYTES) {
    this.buffer = Buffer.allocUnsafe(Math.max(16, initialCapacityBytes));
  }

  /** Total bytes written so far, referenced chunks included. */
  get length(): number {
    return this.flushedLength + this.position - this.chunkStart;
  }

  /** Starts a new message in the same buffer; chunks returned by an earlier `finish()` become invalid. */
  reset(): void {
    this.position = 0;
    this.chunkStart = 0;
    this.chunks = [];
    this.flushedLength = 0;
  }

  /** The encoded bytes as chunks: views of the internal buffer and referenced payloads, valid until `reset()`. */
  finish(): Buffer[] {
    this.flushPart();
    return this.chunks;
  }

  /** One contiguous copy of everything written, safe to keep after `reset()`. */
  toBuffer(): Buffer {
    const chunks = this.finish();
    return Buffer.concat(chunks, this.flushedLength);
  }

  writeInt8(value: number): void {
    this.ensure(1);
    this.buffer.writeInt8(value, this.position);
    this.position += 1;
  }

  // Byte stores beat Buffer's range-checked writers on the hot path; values wrap like Kafka's casts.
  writeInt16(value: number): void {
    this.ensure(2);
    const buffer = this.buffer;
    const position = this.position;
    buffer[position] = value >>> 8;
    buffer[position + 1] = value;
    this.position = position + 2;
  }

  writeInt32(value: number): void {
    this.ensure(4);
    const buffer = this.buffer;
    const position = this.position;
    buffer[position] = value >>> 24;
    buffer[position + 1] = value >>> 16;
    buffer[position + 2] = value >>> 8;
    buffer[position + 3] = value;
    this.position = position + 4;
  }

  writeUInt16(value: number): void {
    this.ensure(2);
    this.buffer.writeUInt16BE(value, this.position);
    this.position += 2;
  }

  writeUInt32(value: number): void {
    this.ensure(4);
    this.buffer.writeUInt32BE(value, this.position);
    this.position += 4;
  }

  /** Offsets and timestamps fit in 53 bits, so they take a Number path that avoids BigInt arithmetic. */
  writeInt64(value: bigint): void {
    this.ensure(8);
    const small = Number(value);
    if (Number.isSafeInteger(small)) {
      const high = Math.floor(small / 0x1_0000_0000);
      this.writeInt32(high);
      this.writeInt32(small - high * 0x1_0000_0000);
      return;
    }
    this.buffer.writeBigInt64BE(value, this.position);
    this.position += 8;
  }

  writeFloat64(value: number): void {
    this.ensure(8);
    this.buffer.writeDoubleBE(value, this.position);
    this.position += 8;
  }

  writeBoolean(value: boolean): void {
    this.ensure(1);
    this.buffer[this.position++] = value ? 1 : 0;
  }

  writeUnsignedVarInt(value: number): void {
    this.ensure(VARINT_MAX_BYTES);
    this.position = writeUnsignedVarInt(this.buffer, this.position, value);
  }

  writeVarInt(value: number): void {
    this.ensure(VARINT_MAX_BYTES);
    this.position = writeVarInt(this.buffer, this.position, value);
  }

  writeVarLong(value: number): void {
    this.ensure(varLongSize(value));
    this.position = writeVarLong(this.buffer, this.position, value);
  }

  /** A UUID in Kafka's base64url text form (22 characters), written as 16 raw bytes. */
  writeUuid(value: string): void {
    this.ensure(UUID_BYTES);
    const written = value.length === UUID_CHARS ? this.buffer.write(value, this.position, UUID_BYTES, 'base64url') : 0;
    if (written !== UUID_BYTES) throw new ProtocolError(`invalid uuid ${JSON.stringify(value)}`);
    this.position += UUID_BYTES;
  }

  writeString(value: string): void {
    const length = byteLengthOf(value);
    if (length > 0x7fff) throw new ProtocolError(`string of ${length} bytes is too long for an INT16 length`);
    this.writeInt16(length);
    this.writeUtf8(value, length);
  }

  writeNullableString(value: string | null): void {
    if (value === null) this.writeInt16(-1);
    else this.writeString(value);
  }

  writeCompactString(value: string): void {
    const length = byteLengthOf(value);
    this.writeUnsignedVarInt(length + 1);
    this.writeUtf8(value, length);
  }

  writeCompactNullableString(value: string | null): void {
    if (value === null) this.writeUnsignedVarInt(0);
    else this.writeCompactString(value);
  }

  writeBytes(value: Buffer): void {
    this.writeInt32(value.length);
    this.writeRaw(value);
  }

  writeNullableBytes(value: Buffer | null): void {
    if (value === null) this.writeInt32(-1);
    else this.writeBytes(value);
  }

  writeCompactBytes(value: Buffer): void {
    this.writeUnsignedVarInt(value.length + 1);
    this.writeRaw(value);
  }

  writeCompactNullableBytes(value: Buffer | null): void {
    if (value === null) this.writeUnsignedVarInt(0);
    else this.writeCompactBytes(value);
  }

  /** Record batches with an INT32 length; large batches are referenced, not copied. */
  writeRecords(value: Buffer | Buffer[] | null): void {
    if (value === null) {
      this.writeInt32(-1);
      return;
    }
    this.writeInt32(totalLengthOf(value));
    this.writeChunks(value);
  }

  writeCompactRecords(value: Buffer | Buffer[] | null): void {
    if (value === null) {
      this.writeUnsignedVarInt(0);
      return;
    }
    this.writeUnsignedVarInt(totalLengthOf(value) + 1);
    this.writeChunks(value);
  }

  /** Raw bytes without a length prefix: buffers of 4 KiB or more are referenced zero-copy. */
  writeBytesChunked(value: Buffer): void {
    if (value.length >= ZERO_COPY_THRESHOLD_BYTES) {
      this.flushPart();
      this.chunks.push(value);
      this.flushedLength += value.length;
    } else {
      this.writeRaw(value);
    }
  }

  /** Raw bytes without a length prefix, always copied. */
  writeRaw(value: Buffer): void {
    this.ensure(value.length);
    value.copy(this.buffer, this.position);
    this.position += value.length;
  }

  writeArrayLength(count: number | null): void {
    this.writeInt32(count === null ? -1 : count);
  }

  writeCompactArrayLength(count: number | null): void {
    this.writeUnsignedVarInt(count === null ? 0 : count + 1);
  }

  /** An empty tag buffer: the common case for flexible versions. */
  writeEmptyTaggedFields(): void {
    this.ensure(1);
    this.buffer[this.position++] = 0;
  }

  /** Writes the tag and returns a mark (an absolute offset); the caller writes the value, then `endTaggedField(mark)`. */
  beginTaggedField(tag: number): number {
    this.writeUnsignedVarInt(tag);
    return this.length;
  }

  /** Inserts the value's size (an unsigned varint) in front of the value written since `beginTaggedField`. */
  endTaggedField(mark: number): void {
    const size = this.length - mark;
    const sizeBytes = unsignedVarIntSize(size);
    this.ensure(sizeBytes);
    const start = mark - this.flushedLength + this.chunkStart;
    if (start < this.chunkStart) throw new ProtocolError('a tagged field cannot contain zero-copy chunks');
    this.buffer.copyWithin(start + sizeBytes, start, this.position);
    writeUnsignedVarInt(this.buffer, start, size);
    this.position += sizeBytes;
  }

  /** Overwrites an INT32 at an absolute offset already written, e.g. a frame size reserved up front. */
  patchInt32(offset: number, value: number): void {
    let chunkOffset = offset;
    for (const chunk of this.chunks) {
      if (chunkOffset + 4 <= chunk.length) {
        chunk.writeInt32BE(value, chunkOffset);
        return;
      }
      chunkOffset -= chunk.length;
    }
    const position = this.chunkStart + chunkOffset;
    if (chunkOffset < 0 || position + 4 > this.position) throw new ProtocolError(`cannot patch offset ${offset}`);
    this.buffer.writeInt32BE(value, position);
  }

  private writeChunks(value: Buffer | Buffer[]): void {
    if (Buffer.isBuffer(value)) {
      this.writeBytesChunked(value);
      return;
    }
    for (const chunk of value) this.writeBytesChunked(chunk);
  }

  private writeUtf8(value: string, length: number): void {
    this.ensure(length);
    if (length === value.length && length < SHORT_STRING_CHARS) {
      const buffer = this.buffer;
      let position = this.position;
      for (let index = 0; index < length; index++) buffer[position++] = value.charCodeAt(index);
      this.position = position;
      return;
    }
    this.position += this.buffer.write(value, this.position, length, 'utf8');
  }

  /** Hands the bytes written since the last chunk to the chunk list. */
  private flushPart(): void {
    if (this.position > this.chunkStart) {
      this.chunks.push(this.buffer.subarray(this.chunkStart, this.position));
      this.flushedLength += this.position - this.chunkStart;
      this.chunkStart = this.position;
    }
  }

  private ensure(size: number): void {
    if (this.position + size <= this.buffer.length) return;
    this.grow(size);
  }

  /** Chunks already handed out keep the old buffer alive, so only the pending part moves. */
  private grow(size: number): void {
    const pending = this.position - this.chunkStart;
    const capacity = Math.max(this.buffer.length * 2, pending + size, INITIAL_CAPACITY_BYTES);
    const next = Buffer.allocUnsafe(capacity);
    this.buffer.copy(next, 0, this.chunkStart, this.position);
    this.buffer = next;
    this.chunkStart = 0;
    this.position = pending;
  }
}

/** UTF-8 length; ASCII strings (the usual topic names and ids) skip the native call. */
function byteLengthOf(value: string): number {
  const length = value.length;
  if (length < SHORT_STRING_CHARS) {
    let ascii = true;
    for (let index = 0; index < length; index++) {
      if (value.charCodeAt(index) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return length;
  }
  return Buffer.byteLength(value, 'utf8');
}

function totalLengthOf(value: Buffer | Buffer[]): number {
  if (Buffer.isBuffer(value)) return value.length;
  let total = 0;
  for (const chunk of value) total += chunk.length;
  return total;
}

/** Record batches as an encoder accepts them: one buffer, a list of chunks written zero-copy, or null. */
export type EncodableRecords = Buffer | Buffer[] | null;
