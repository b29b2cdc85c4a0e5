// Reads Kafka wire-protocol primitives from a buffer, bounded by an end position. Every length
// or count is checked against the bytes that remain before anything is allocated, so malformed
// input fails with a ProtocolError and never with a RangeError or an oversized allocation.
import { ProtocolError } from './protocol-error.js';
import { readUnsignedVarInt, readVarInt, readVarLong } from './varint.js';

const EMPTY_BUFFER = Buffer.alloc(0);

export class Reader {
  readonly buffer: Buffer;
  position: number;
  readonly end: number;

  constructor(buffer: Buffer, position = 0, end = buffer.length) {
    if (position < 0 || end > buffer.length || position > end) {
      throw new ProtocolError(`reader bounds ${position}..${end} outside a ${buffer.length}-byte buffer`);
    }
    this.buffer = buffer;
    this.position = position;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  /** Fails unless `size` more bytes are available; returns the position before them. */
  private take(size: number): number {
    const position = this.position;
    if (size > this.end - position) {
      throw new ProtocolError(`need ${size} bytes at position ${position}, only ${this.end - position} remain`);
    }
    this.position = position + size;
    return position;
  }

  skip(size: number): void {
    if (!Number.isInteger(size) || size < 0) throw new ProtocolError(`cannot skip ${size} bytes`);
    this.take(size);
  }

  readInt8(): number {
    return this.buffer.readInt8(this.take(1));
  }

  readInt16(): number {
    const position = this.take(2);
    const buffer = this.buffer;
    return (((buffer[position]! << 8) | buffer[position + 1]!) << 16) >> 16;
  }

  readInt32(): number {
    const position = this.take(4);
    const buffer = this.buffer;
    return (buffer[position]! << 24) | (buffer[position + 1]! << 16) | (buffer[position + 2]! << 8) | buffer[position + 3]!;
  }

  readUInt16(): number {
    return this.buffer.readUInt16BE(this.take(2));
  }

  readUInt32(): number {
    return this.buffer.readUInt32BE(this.take(4));
  }

  /** Values within 53 bits (all real offsets and timestamps) are built from a Number, which is cheaper. */
  readInt64(): bigint {
    const position = this.take(8);
    const buffer = this.buffer;
    const high = (buffer[position]! << 24) | (buffer[position + 1]! << 16) | (buffer[position + 2]! << 8) | buffer[position + 3]!;
    if (high >= -0x20_0000 && high < 0x20_0000) {
      const low = buffer.readUInt32BE(position + 4);
      return BigInt(high * 0x1_0000_0000 + low);
    }
    return buffer.readBigInt64BE(position);
  }

  readFloat64(): number {
    return this.buffer.readDoubleBE(this.take(8));
  }

  /** Kafka treats any non-zero byte as true. */
  readBoolean(): boolean {
    return this.buffer[this.take(1)] !== 0;
  }

  readUnsignedVarInt(): number {
    return readUnsignedVarInt(this.buffer, this, this.end);
  }

  readVarInt(): number {
    return readVarInt(this.buffer, this, this.end);
  }

  readVarLong(): number {
    return readVarLong(this.buffer, this, this.end);
  }

  readUuid(): string {
    const position = this.take(16);
    return this.buffer.toString('base64url', position, position + 16);
  }

  readString(): string {
    const value = this.readNullableString();
    if (value === null) throw new ProtocolError('non-nullable string is null');
    return value;
  }

  readNullableString(): string | null {
    const length = this.readInt16();
    if (length < 0) {
      if (length !== -1) throw new ProtocolError(`invalid string length ${length}`);
      return null;
    }
    return this.readUtf8(length);
  }

  readCompactString(): string {
    const value = this.readCompactNullableString();
    if (value === null) throw new ProtocolError('non-nullable compact string is null');
    return value;
  }

  readCompactNullableString(): string | null {
    const lengthPlusOne = this.readUnsignedVarInt();
    if (lengthPlusOne === 0) return null;
    return this.readUtf8(lengthPlusOne - 1);
  }

  readBytes(): Buffer {
    const value = this.readNullableBytes();
    if (value === null) throw new ProtocolError('non-nullable bytes are null');
    return value;
  }

  /** A view into the input buffer, not a copy. */
  readNullableBytes(): Buffer | null {
    const length = this.readInt32();
    if (length < 0) {
      if (length !== -1) throw new ProtocolError(`invalid bytes length ${length}`);
      return null;
    }
    return this.readView(length);
  }

  readCompactBytes(): Buffer {
    const value = this.readCompactNullableBytes();
    if (value === null) throw new ProtocolError('non-nullable compact bytes are null');
    return value;
  }

  readCompactNullableBytes(): Buffer | null {
    const lengthPlusOne = this.readUnsignedVarInt();
    if (lengthPlusOne === 0) return null;
    return this.readView(lengthPlusOne - 1);
  }

  /** Records are nullable bytes in every version; the batch bytes stay a view into the frame. */
  readRecords(): Buffer | null {
    return this.readNullableBytes();
  }

  readCompactRecords(): Buffer | null {
    return this.readCompactNullableBytes();
  }

  /** An INT32 element count: -1 is null. Each element takes at least one byte, so the count is bounded by what remains. */
  readArrayLength(): number | null {
    const count = this.readInt32();
    if (count < 0) {
      if (count !== -1) throw new ProtocolError(`invalid array length ${count}`);
      return null;
    }
    return this.checkCount(count);
  }

  /** An unsigned varint N+1 element count: 0 is null. */
  readCompactArrayLength(): number | null {
    const countPlusOne = this.readUnsignedVarInt();
    if (countPlusOne === 0) return null;
    return this.checkCount(countPlusOne - 1);
  }

  /** Skips a whole tag buffer: used where no tagged field is known. */
  skipTaggedFields(): void {
    let count = this.readUnsignedVarInt();
    this.checkCount(count);
    while (count-- > 0) {
      this.readUnsignedVarInt();
      this.skip(this.readUnsignedVarInt());
    }
  }

  /**
   * Reads a tagged field's size and returns the position where the field must end; the caller
   * decodes the value and then calls `endTaggedField` with it.
   */
  beginTaggedField(): number {
    const size = this.readUnsignedVarInt();
    if (size > this.remaining) throw new ProtocolError(`tagged field of ${size} bytes runs past the end`);
    return this.position + size;
  }

  /** A known field shorter than its declared size is tolerated (newer writers may append); a longer one is corrupt. */
  endTaggedField(fieldEnd: number): void {
    if (this.position > fieldEnd) throw new ProtocolError('tagged field overruns its declared size');
    this.position = fieldEnd;
  }

  private checkCount(count: number): number {
    if (count > this.end - this.position) {
      throw new ProtocolError(`count ${count} exceeds the ${this.end - this.position} bytes that remain`);
    }
    return count;
  }

  private readUtf8(length: number): string {
    if (length === 0) {
      return '';
    }
    const position = this.take(length);
    return this.buffer.toString('utf8', position, position + length);
  }

  private readView(length: number): Buffer {
    if (length === 0) return EMPTY_BUFFER;
    const position = this.take(length);
    return this.buffer.subarray(position, position + length);
  }
}
