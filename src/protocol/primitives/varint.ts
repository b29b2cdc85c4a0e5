// Variable-length integers of the Kafka protocol: unsigned varints (compact lengths, tagged
// fields) and zig-zag signed varints and varlongs (records inside a batch).
// Readers return the value and store the position after it in `cursor.position`, so hot loops
// avoid allocating a result object per call.
import { ProtocolError } from './protocol-error.js';

export interface Cursor {
  position: number;
}

/** Longest encoding of a 32-bit varint in bytes. */
export const VARINT_MAX_BYTES = 5;
/** Longest encoding of a 64-bit varlong in bytes. */
export const VARLONG_MAX_BYTES = 10;

export function readUnsignedVarInt(buffer: Buffer, cursor: Cursor, end = buffer.length): number {
  let position = cursor.position;
  let result = 0;
  let shift = 0;
  for (let count = 0; count < VARINT_MAX_BYTES; count++) {
    if (position >= end) throw new ProtocolError('varint runs past the end of the buffer');
    const byte = buffer[position++]!;
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      cursor.position = position;
      return result >>> 0;
    }
    shift += 7;
  }
  throw new ProtocolError('varint is longer than 5 bytes');
}

export function readVarInt(buffer: Buffer, cursor: Cursor, end = buffer.length): number {
  const raw = readUnsignedVarInt(buffer, cursor, end);
  return (raw >>> 1) ^ -(raw & 1);
}

/** A zig-zag varlong as a number; values beyond 2^53 are refused rather than rounded. */
export function readVarLong(buffer: Buffer, cursor: Cursor, end = buffer.length): number {
  let position = cursor.position;
  let result = 0n;
  let shift = 0n;
  for (let count = 0; count < VARLONG_MAX_BYTES; count++) {
    if (position >= end) throw new ProtocolError('varlong runs past the end of the buffer');
    const byte = buffer[position++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      cursor.position = position;
      const value = (result >> 1n) ^ -(result & 1n);
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new ProtocolError('varlong is outside the safe integer range');
      }
      return Number(value);
    }
    shift += 7n;
  }
  throw new ProtocolError('varlong is longer than 10 bytes');
}

export function unsignedVarIntSize(value: number): number {
  let size = 1;
  let rest = value >>> 7;
  while (rest !== 0) {
    size++;
    rest >>>= 7;
  }
  return size;
}

export function varIntSize(value: number): number {
  return unsignedVarIntSize(((value << 1) ^ (value >> 31)) >>> 0);
}

/** Writes an unsigned varint at `position` and returns the position after it. */
export function writeUnsignedVarInt(buffer: Buffer, position: number, value: number): number {
  let rest = value >>> 0;
  while (rest >= 0x80) {
    buffer[position++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  buffer[position++] = rest;
  return position;
}

export function writeVarInt(buffer: Buffer, position: number, value: number): number {
  return writeUnsignedVarInt(buffer, position, ((value << 1) ^ (value >> 31)) >>> 0);
}

function zigZagLong(value: number): bigint {
  const big = BigInt(value);
  return big >= 0n ? big << 1n : ((-big) << 1n) - 1n;
}

export function varLongSize(value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return varIntSize(value);
  let rest = zigZagLong(value);
  let size = 1;
  while (rest >= 0x80n) {
    size++;
    rest >>= 7n;
  }
  return size;
}

export function writeVarLong(buffer: Buffer, position: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return writeVarInt(buffer, position, value);
  let rest = zigZagLong(value);
  while (rest >= 0x80n) {
    buffer[position++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  buffer[position++] = Number(rest);
  return position;
}
