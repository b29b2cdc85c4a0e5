// Records over HTTP. Produce takes Confluent REST Proxy v3's ProduceRequest: key and value as
// {type: JSON|STRING|BINARY, data} (BINARY is base64), headers as [{name, value (base64)}],
// partition_id and timestamp; several requests may come concatenated in one body (Confluent's
// streaming mode). Consume gives each key and value as {type, data}: JSON when the bytes are UTF-8
// JSON, STRING when they are other UTF-8 text, BINARY (base64) otherwise.
import type { ProducerRecord } from '../../client/producer.js';
import type { KafkaRecord } from '../../protocol/records/record.js';
import { badRequest, unprocessable } from './errors.js';

export type DataType = 'JSON' | 'STRING' | 'BINARY';
const DATA_TYPES: readonly DataType[] = ['JSON', 'STRING', 'BINARY'];

export interface ProduceRequest {
  partition: number | undefined;
  key: { type: DataType; bytes: Buffer } | null;
  value: { type: DataType; bytes: Buffer } | null;
  headers: ProducerRecord['headers'];
  timestamp: number | undefined;
}

/**
 * Splits a body of concatenated JSON values (white space between them allowed) into the values;
 * 400 naming the position when one does not parse.
 */
export function parseJsonSequence(text: string): unknown[] {
  const values: unknown[] = [];
  let at = 0;
  while (true) {
    while (at < text.length && /\s/.test(text[at]!)) at++;
    if (at >= text.length) return values;
    const end = endOfJsonValue(text, at);
    try {
      values.push(JSON.parse(text.slice(at, end)));
    } catch (error) {
      throw badRequest(`the request body is not JSON at character ${at}: ${(error as Error).message}`);
    }
    at = end;
  }
}

/** Where the JSON value starting at `start` ends: after its closing bracket or brace, or at the next white space for a scalar. */
function endOfJsonValue(text: string, start: number): number {
  const first = text[start];
  if (first !== '{' && first !== '[') {
    let end = start;
    if (first === '"') {
      end++;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      return Math.min(end + 1, text.length);
    }
    while (end < text.length && !/[\s{[]/.test(text[end]!)) end++;
    return end;
  }
  let depth = 0;
  let inString = false;
  for (let index = start; index < text.length; index++) {
    const character = text[index]!;
    if (inString) {
      if (character === '\\') index++;
      else if (character === '"') inString = false;
    } else if (character === '"') inString = true;
    else if (character === '{' || character === '[') depth++;
    else if (character === '}' || character === ']') {
      depth--;
      if (depth === 0) return index + 1;
    }
  }
  return text.length;
}

/** One ProduceRequest checked and turned into bytes; 422 naming the field when it is wrong. */
export function parseProduceRequest(body: unknown): ProduceRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw unprocessable('a produce request must be a JSON object');
  const request = body as Record<string, unknown>;
  const partition = request.partition_id;
  if (partition !== undefined && partition !== null && (!Number.isInteger(partition) || (partition as number) < 0)) throw unprocessable('partition_id must be a partition number');
  return {
    partition: partition === undefined || partition === null ? undefined : (partition as number),
    key: parseData(request.key, 'key'),
    value: parseData(request.value, 'value'),
    headers: parseHeaders(request.headers),
    timestamp: parseTimestamp(request.timestamp),
  };
}

function parseData(data: unknown, field: string): { type: DataType; bytes: Buffer } | null {
  if (data === undefined || data === null) return null;
  if (typeof data !== 'object' || Array.isArray(data)) throw unprocessable(`${field} must be an object {"type": "JSON"|"STRING"|"BINARY", "data": ...}`);
  const { type: typeText, data: content, schema, schema_id: schemaId, subject } = data as Record<string, unknown>;
  if (schema !== undefined || schemaId !== undefined || subject !== undefined) throw unprocessable(`${field}: schemas (schema, schema_id, subject) need a schema registry, which Conveyor does not have: use JSON, STRING or BINARY`);
  const type = (typeof typeText === 'string' ? typeText.toUpperCase() : 'JSON') as DataType;
  if (!DATA_TYPES.includes(type)) throw unprocessable(`${field}.type must be JSON, STRING or BINARY, got ${JSON.stringify(typeText)}`);
  if (type === 'JSON') return { type, bytes: Buffer.from(JSON.stringify(content ?? null), 'utf8') };
  if (content === null || content === undefined) return null;
  if (typeof content !== 'string') throw unprocessable(`${field}.data must be a string for type ${type}`);
  if (type === 'STRING') return { type, bytes: Buffer.from(content, 'utf8') };
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content.replace(/\s/g, ''))) throw unprocessable(`${field}.data must be base64 for type BINARY`);
  return { type, bytes: Buffer.from(content, 'base64') };
}

function parseHeaders(headers: unknown): ProducerRecord['headers'] {
  if (headers === undefined || headers === null) return [];
  if (!Array.isArray(headers)) throw unprocessable('headers must be a list of {"name", "value" (base64)}');
  return headers.map((header, index) => {
    const { name, value } = (header ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string') throw unprocessable(`headers[${index}].name must be a string`);
    if (value !== null && value !== undefined && typeof value !== 'string') throw unprocessable(`headers[${index}].value must be base64 or null`);
    return { key: name, value: typeof value === 'string' ? Buffer.from(value, 'base64') : null };
  });
}

function parseTimestamp(timestamp: unknown): number | undefined {
  if (timestamp === undefined || timestamp === null) return undefined;
  const ms = typeof timestamp === 'number' ? timestamp : typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) throw unprocessable('timestamp must be an ISO 8601 date-time or epoch milliseconds');
  return Math.trunc(ms);
}

/** Bytes as {type, data}: JSON for UTF-8 JSON, STRING for other UTF-8 text, BINARY (base64) otherwise. */
export function encodeData(bytes: Buffer | null): { type: DataType; data: unknown } | null {
  if (bytes === null) return null;
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let decoded: string;
  try {
    decoded = text.decode(bytes);
  } catch {
    return { type: 'BINARY', data: bytes.toString('base64') };
  }
  if (decoded.trim() !== '') {
    try {
      return { type: 'JSON', data: JSON.parse(decoded) };
    } catch {
      // UTF-8 text that is not JSON
    }
  }
  return { type: 'STRING', data: decoded };
}

/** A consumed record as the consume endpoints give it. */
export function recordJson(topic: string, partition: number, record: KafkaRecord): Record<string, unknown> {
  return {
    topic_name: topic,
    partition_id: partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: encodeData(record.key),
    value: encodeData(record.value),
    headers: record.headers.map((header) => ({ name: header.key, value: header.value === null ? null : header.value.toString('base64') })),
  };
}
