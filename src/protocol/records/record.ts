// One record inside a record batch v2 (Kafka's DefaultRecord): its in-memory shape and its wire
// encoding, where every integer is a zig-zag varint or varlong and offsets and timestamps are deltas
// from the batch's base offset and base timestamp.
import { ErrorCode } from '../../base/error-codes.js';
import { KafkaError } from '../../base/kafka-error.js';
import {
  type Cursor,
  readVarInt,
  readVarLong,
  varIntSize,
  varLongSize,
  writeVarInt,
  writeVarLong,
} from '../primitives/varint.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface KafkaRecord {
  /** Absolute offset: the batch's base offset plus the record's offset delta. */
  offset: number;
  /** Milliseconds since the epoch; for LogAppendTime batches, the batch's max timestamp. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** The record attributes byte; unused by Kafka so far, kept for faithful round trips. */
  attributes?: number;
}

/** The same shape under the name the protocol uses; shadows the TypeScript utility type on import. */
export type Record = KafkaRecord;

/** A record to encode; what is left out takes the batch defaults (next offset, base timestamp). */
export interface RecordInput {
  offset?: number;
  timestamp?: number;
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: RecordHeader[];
  attributes?: number;
}

/** Thrown when record bytes do not decode; Kafka reports such records as CORRUPT_MESSAGE. */
export class RecordDecodeError extends KafkaError {
  override name = 'RecordDecodeError';

  constructor(message: string, errorCode: number = ErrorCode.CORRUPT_MESSAGE) {
    super(errorCode, message);
  }
}

/** Deltas of one record relative to its batch. */
export interface RecordDeltas {
  offsetDelta: number;
  timestampDelta: number;
}

function nullableBytesSize(bytes: Buffer | null | undefined): number {
  return bytes == null ? varIntSize(-1) : varIntSize(bytes.length) + bytes.length;
}

/** Bytes of the record body, i.e. everything after its Length varint. */
export function recordBodySize(record: RecordInput, deltas: RecordDeltas): number {
  let size = 1 + varLongSize(deltas.timestampDelta) + varIntSize(deltas.offsetDelta);
  size += nullableBytesSize(record.key) + nullableBytesSize(record.value);
  const headers = record.headers ?? [];
  size += varIntSize(headers.length);
  for (const header of headers) {
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    size += varIntSize(keyBytes) + keyBytes + nullableBytesSize(header.value);
  }
  return size;
}

/** Total encoded size, Length varint included. */
export function recordSize(record: RecordInput, deltas: RecordDeltas): number {
  const body = recordBodySize(record, deltas);
  return varIntSize(body) + body;
}

function writeNullableBytes(buffer: Buffer, position: number, bytes: Buffer | null | undefined): number {
  if (bytes == null) return writeVarInt(buffer, position, -1);
  const after = writeVarInt(buffer, position, bytes.length);
  bytes.copy(buffer, after);
  return after + bytes.length;
}

/** Writes the record at `position` and returns the position after it. */
export function writeRecord(buffer: Buffer, position: number, record: RecordInput, deltas: RecordDeltas): number {
  let at = writeVarInt(buffer, position, recordBodySize(record, deltas));
  buffer.writeInt8(record.attributes ?? 0, at++);
  at = writeVarLong(buffer, at, deltas.timestampDelta);
  at = writeVarInt(buffer, at, deltas.offsetDelta);
  at = writeNullableBytes(buffer, at, record.key);
  at = writeNullableBytes(buffer, at, record.value);
  const headers = record.headers ?? [];
  at = writeVarInt(buffer, at, headers.length);
  for (const header of headers) {
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    at = writeVarInt(buffer, at, keyBytes);
    at += buffer.write(header.key, at, keyBytes, 'utf8');
    at = writeNullableBytes(buffer, at, header.value);
  }
  return at;
}

/** What a record's timestamp and offset are relative to. */
export interface RecordContext {
  baseOffset: number;
  baseTimestamp: number;
  /** Set for LogAppendTime batches: every record then reports this timestamp. */
  logAppendTime: number | null;
}

function readNullableBytes(buffer: Buffer, cursor: Cursor, end: number, what: string): Buffer | null {
  const length = readVarInt(buffer, cursor, end);
  if (length === -1) return null;
  if (length < -1 || cursor.position + length > end) throw new RecordDecodeError(`invalid ${what} length ${length}`);
  const bytes = buffer.subarray(cursor.position, cursor.position + length);
  cursor.position += length;
  return bytes;
}

/**
 * Reads one record at `cursor.position` (not beyond `end`) and moves the cursor past it. Keys,
 * values and header values are views into `buffer`, not copies.
 */
export function readRecord(buffer: Buffer, cursor: Cursor, end: number, context: RecordContext): KafkaRecord {
  const bodyLength = readVarInt(buffer, cursor, end);
  const bodyStart = cursor.position;
  const bodyEnd = bodyStart + bodyLength;
  if (bodyLength < 1 || bodyEnd > end) throw new RecordDecodeError(`invalid record length ${bodyLength}`);
  const attributes = buffer.readInt8(cursor.position++);
  const timestampDelta = readSmallVarLong(buffer, cursor, bodyEnd);
  const offsetDelta = readVarInt(buffer, cursor, bodyEnd);
  const key = readNullableBytes(buffer, cursor, bodyEnd, 'key');
  const value = readNullableBytes(buffer, cursor, bodyEnd, 'value');
  const headers = readHeaders(buffer, cursor, bodyEnd);
  if (cursor.position !== bodyEnd) throw new RecordDecodeError('record length does not match its fields');
  return {
    offset: context.baseOffset + offsetDelta,
    timestamp: context.logAppendTime ?? context.baseTimestamp + timestampDelta,
    key,
    value,
    headers,
    attributes,
  };
}

/** Timestamp deltas are nearly always small: read those as varints and keep BigInt for the rest. */
function readSmallVarLong(buffer: Buffer, cursor: Cursor, end: number): number {
  const position = cursor.position;
  for (let index = position; index < position + 4 && index < end; index++) {
    if ((buffer[index]! & 0x80) === 0) return readVarInt(buffer, cursor, end);
  }
  return readVarLong(buffer, cursor, end);
}

function readHeaders(buffer: Buffer, cursor: Cursor, end: number): RecordHeader[] {
  const count = readVarInt(buffer, cursor, end);
  // Each header takes at least two bytes, which bounds the array before it is allocated.
  if (count < 0 || count * 2 > end - cursor.position) throw new RecordDecodeError(`invalid header count ${count}`);
  const headers: RecordHeader[] = [];
  for (let index = 0; index < count; index++) {
    const keyLength = readVarInt(buffer, cursor, end);
    if (keyLength < 0 || cursor.position + keyLength > end) throw new RecordDecodeError(`invalid header key length ${keyLength}`);
    const key = buffer.toString('utf8', cursor.position, cursor.position + keyLength);
    cursor.position += keyLength;
    headers.push({ key, value: readNullableBytes(buffer, cursor, end, 'header value') });
  }
  return headers;
}
