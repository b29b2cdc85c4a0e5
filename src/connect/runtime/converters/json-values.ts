// Connect values to JSON trees and back, as Kafka's JsonConverter does it (convertToJson and
// convertToConnect): int64 as JSON integers (bigint, exact), float32/float64 in Java's notation,
// bytes as base64, maps with string keys as objects and other maps as [key, value] pairs, structs
// as objects, and the logical types Decimal (base64 of its bytes, or a JSON number), Date, Time
// and Timestamp as their underlying integers. A null takes the schema's default when
// replace.null.with.default is on.
//
// Without a schema, the JSON decides: integers come back as numbers (bigint when beyond 2^53),
// other numbers as numbers, objects as plain objects, arrays as arrays. Where Kafka reads a JSON
// value of the wrong kind as 0, false or null (Jackson's lenient accessors), this throws a
// DataException instead; numbers are narrowed as Java's casts narrow them (300 read as int8 is 44).
import { DataException, Decimal, LogicalNames, type Schema, type SchemaType, Struct } from '../../api/data.js';
import { bigDecimalText, integerPart, javaDoubleText, javaFloatText, javaNarrow, parseDecimalText, type DecimalParts } from './java-numbers.js';
import { isIntegralText, JSON_FALSE, JSON_NULL, JSON_TRUE, jsonArray, type JsonNode, jsonNumber, jsonObject, jsonString, nodeTypeName } from './json-text.js';
import {
  dateToDays, daysToDate, decimalFromBytes, decimalToBytes, describeType, isPlainObject,
  millisToTime, millisToTimestamp, schemasEqual, timestampToMillis, timeToMillis,
} from './logical.js';

export type DecimalFormat = 'BASE64' | 'NUMERIC';

export interface JsonValueOptions {
  readonly decimalFormat: DecimalFormat;
  readonly replaceNullWithDefault: boolean;
}

const INT_BITS = { int8: 8, int16: 16, int32: 32, int64: 64 } as const;
type IntType = keyof typeof INT_BITS;

// ---------------------------------------------------------------- Connect to JSON

/** The JSON tree of a Connect value (Kafka's convertToJson). */
export function toJsonNode(schema: Schema | null, value: unknown, options: JsonValueOptions): JsonNode {
  if (value === null || value === undefined) return nullToJson(schema, options);
  if (schema === null) return schemalessToJson(value, options);
  const logical = schema.name === undefined ? undefined : logicalToJson(schema, value, options);
  if (logical) return logical;
  switch (schema.type) {
    case 'int8': case 'int16': case 'int32': case 'int64':
      return jsonNumber(integerText(schema.type, value));
    case 'float32': return floatingToJson(value, 'float32', javaFloatText);
    case 'float64': return floatingToJson(value, 'float64', javaDoubleText);
    case 'boolean':
      if (typeof value !== 'boolean') throw invalidType(schema.type, value);
      return value ? JSON_TRUE : JSON_FALSE;
    case 'string':
      if (typeof value !== 'string') throw invalidType(schema.type, value);
      return jsonString(value);
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw invalidType(schema.type, value);
      return jsonString(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
    case 'array': return arrayToJson(schema, value, options);
    case 'map': return mapToJson(schema, value, options);
    case 'struct': return structToJson(schema, value, options);
  }
}

function nullToJson(schema: Schema | null, options: JsonValueOptions): JsonNode {
  if (schema === null) return JSON_NULL;
  if (hasDefault(schema) && options.replaceNullWithDefault) return toJsonNode(schema, schema.defaultValue, options);
  if (schema.optional) return JSON_NULL;
  throw new DataException('Conversion error: null value for field that is required and has no default value');
}

function hasDefault(schema: Schema): boolean {
  return schema.defaultValue !== undefined && schema.defaultValue !== null;
}

function logicalToJson(schema: Schema, value: unknown, options: JsonValueOptions): JsonNode | undefined {
  switch (schema.name) {
    case LogicalNames.DECIMAL: {
      if (!(value instanceof Decimal)) throw new DataException(`Invalid type for Decimal, expected Decimal but was ${describeType(value)}`);
      // NUMERIC writes the value exactly whatever its scale, as Kafka; BASE64 needs the schema's scale.
      if (options.decimalFormat === 'NUMERIC') return jsonNumber(bigDecimalText(value.unscaled, value.scale));
      return jsonString(decimalToBytes(schema, value).toString('base64'));
    }
    case LogicalNames.DATE: return jsonNumber(String(dateToDays(value)));
    case LogicalNames.TIME: return jsonNumber(String(timeToMillis(value)));
    case LogicalNames.TIMESTAMP: return jsonNumber(String(timestampToMillis(value)));
    default: return undefined;
  }
}

/** An integer value's text, checked against the type's range (a number or a bigint is accepted). */
function integerText(type: IntType, value: unknown): string {
  let integer: bigint;
  if (typeof value === 'bigint') integer = value;
  else if (typeof value === 'number' && Number.isInteger(value)) integer = BigInt(value);
  else throw invalidType(type, value);
  if (BigInt.asIntN(INT_BITS[type], integer) !== integer) throw new DataException(`Invalid value for ${type}: ${integer} is out of range`);
  return integer.toString();
}

/** Java writes NaN and the infinities as the strings "NaN", "Infinity", "-Infinity" (Jackson's default). */
function floatingToJson(value: unknown, type: SchemaType, format: (value: number) => string): JsonNode {
  if (typeof value !== 'number') throw invalidType(type, value);
  return Number.isFinite(value) ? jsonNumber(format(value)) : jsonString(format(value));
}

function arrayToJson(schema: Schema, value: unknown, options: JsonValueOptions): JsonNode {
  if (!Array.isArray(value)) throw invalidType('array', value);
  const elementSchema = schema.valueSchema ?? null;
  return jsonArray(value.map((element: unknown) => toJsonNode(elementSchema, element, options)));
}

function mapToJson(schema: Schema, value: unknown, options: JsonValueOptions): JsonNode {
  const entries = mapEntries(value);
  if (!entries) throw invalidType('map', value);
  return entriesToJson(entries, schema.keySchema ?? null, schema.valueSchema ?? null, schema.keySchema?.type === 'string', options);
}

function mapEntries(value: unknown): [unknown, unknown][] | undefined {
  if (value instanceof Map) return [...(value as Map<unknown, unknown>)];
  if (isPlainObject(value)) return Object.entries(value);
  return undefined;
}

/** A JSON object when the keys are strings, else an array of [key, value] pairs. */
function entriesToJson(entries: [unknown, unknown][], keySchema: Schema | null, valueSchema: Schema | null, objectMode: boolean, options: JsonValueOptions): JsonNode {
  const pairs = entries.map(([key, entryValue]) => [toJsonNode(keySchema, key, options), toJsonNode(valueSchema, entryValue, options)] as const);
  if (!objectMode) return jsonArray(pairs.map((pair) => jsonArray(pair)));
  return jsonObject(pairs.map(([key, entryValue]) => [keyText(key), entryValue] as const));
}

/** Jackson's asText of a key node. */
function keyText(key: JsonNode): string {
  switch (key.kind) {
    case 'string': return key.value;
    case 'number': return key.text;
    case 'boolean': return String(key.value);
    case 'null': return 'null';
    default: return '';
  }
}

function structToJson(schema: Schema, value: unknown, options: JsonValueOptions): JsonNode {
  if (!(value instanceof Struct)) throw invalidType('struct', value);
  if (!schemasEqual(value.schema, schema, true)) throw new DataException('Mismatching schema.');
  return jsonObject(schema.fields!.map((field) => [field.name, toJsonNode(field.schema, value.getWithoutDefault(field.name) ?? null, options)] as const));
}

/** A value without a schema: its JavaScript type says what it is. */
function schemalessToJson(value: unknown, options: JsonValueOptions): JsonNode {
  switch (typeof value) {
    case 'boolean': return value ? JSON_TRUE : JSON_FALSE;
    case 'string': return jsonString(value);
    case 'bigint': return jsonNumber(value.toString());
    case 'number':
      if (Number.isSafeInteger(value)) return jsonNumber(String(value));
      return floatingToJson(value, 'float64', javaDoubleText);
    default: break;
  }
  if (value instanceof Uint8Array) return jsonString(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
  if (Array.isArray(value)) return jsonArray(value.map((element: unknown) => toJsonNode(null, element, options)));
  if (value instanceof Struct) throw new DataException('Mismatching schema: a Struct cannot be written without its schema.');
  const entries = mapEntries(value);
  if (entries) return entriesToJson(entries, null, null, entries.every(([key]) => typeof key === 'string'), options);
  throw new DataException(`${describeType(value)} does not have corresponding schema type; it needs a schema`);
}

function invalidType(type: string, value: unknown): DataException {
  return new DataException(`Invalid type for ${type.toUpperCase()}: ${describeType(value)}`);
}

// ---------------------------------------------------------------- JSON to Connect

/** The Connect value of a JSON tree under `schema` (Kafka's convertToConnect); node undefined: absent. */
export function fromJsonNode(schema: Schema | null, node: JsonNode | undefined, options: JsonValueOptions): unknown {
  if (schema === null) return schemalessFromJson(node);
  if (node === undefined || node.kind === 'null') {
    if (hasDefault(schema) && options.replaceNullWithDefault) return schema.defaultValue;
    if (schema.optional) return null;
    throw new DataException(`Invalid null value for required ${schema.type.toUpperCase()} field`);
  }
  if (schema.name !== undefined) {
    const logical = logicalFromJson(schema, node);
    if (logical !== undefined) return logical;
  }
  switch (schema.type) {
    case 'int8': case 'int16': case 'int32': {
      return Number(javaNarrow(numberOf(schema.type, node), INT_BITS[schema.type]));
    }
    case 'int64': return javaNarrow(numberOf(schema.type, node), 64);
    case 'float32': return Math.fround(floatingFromJson(schema.type, node));
    case 'float64': return floatingFromJson(schema.type, node);
    case 'boolean':
      if (node.kind !== 'boolean') throw unexpectedNode(schema.type, node);
      return node.value;
    case 'string':
      if (node.kind !== 'string') throw unexpectedNode(schema.type, node);
      return node.value;
    case 'bytes':
      if (node.kind !== 'string') throw unexpectedNode(schema.type, node);
      return base64Bytes(node.value, 'Invalid bytes field');
    case 'array': return arrayFromJson(schema, node, options);
    case 'map': return mapFromJson(schema, node, options);
    case 'struct': return structFromJson(schema, node, options);
  }
}

function logicalFromJson(schema: Schema, node: JsonNode): unknown {
  switch (schema.name) {
    case LogicalNames.DECIMAL: return decimalFromJson(schema, node);
    case LogicalNames.DATE: return daysToDate(int32Of('Date', node));
    case LogicalNames.TIME: return millisToTime(int32Of('Time', node));
    case LogicalNames.TIMESTAMP: {
      if (node.kind !== 'number' || !isIntegralText(node.text)) {
        throw new DataException(`Invalid type for Timestamp, underlying representation should be integral but was ${nodeTypeName(node)}`);
      }
      return millisToTimestamp(javaNarrow(parseDecimalText(node.text)!, 64));
    }
    default: return undefined;
  }
}

/** A Decimal from a JSON number (at the number's own scale, as Kafka) or from base64 bytes (at the schema's). */
function decimalFromJson(schema: Schema, node: JsonNode): Decimal {
  if (node.kind === 'number') {
    const { unscaled, scale } = parseDecimalText(node.text)!;
    if (scale >= 0) return new Decimal(unscaled, scale);
    const whole = integerPart({ unscaled, scale });
    if (whole === undefined) throw new DataException(`Decimal value ${node.text} is too large`);
    return new Decimal(whole, 0);
  }
  if (node.kind === 'string') {
    return decimalFromBytes(schema, base64Bytes(node.value, 'Invalid bytes for Decimal field'));
  }
  throw new DataException(`Invalid type for Decimal, underlying representation should be numeric or bytes but was ${nodeTypeName(node)}`);
}

/** Jackson's isInt: an integer literal within int32. */
function int32Of(logicalName: string, node: JsonNode): number {
  if (node.kind === 'number' && isIntegralText(node.text)) {
    const value = BigInt(node.text);
    if (BigInt.asIntN(32, value) === value) return Number(value);
  }
  throw new DataException(`Invalid type for ${logicalName}, underlying representation should be integer but was ${nodeTypeName(node)}`);
}

function numberOf(type: SchemaType, node: JsonNode): DecimalParts {
  if (node.kind !== 'number') throw unexpectedNode(type, node);
  return parseDecimalText(node.text)!;
}

const NON_FINITE: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

function floatingFromJson(type: SchemaType, node: JsonNode): number {
  if (node.kind === 'number') return Number(node.text);
  if (node.kind === 'string' && node.value in NON_FINITE) return NON_FINITE[node.value]!;
  throw unexpectedNode(type, node);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

function base64Bytes(text: string, problem: string): Buffer {
  if (!BASE64.test(text)) throw new DataException(`${problem}: not base64`);
  return Buffer.from(text, 'base64');
}

function arrayFromJson(schema: Schema, node: JsonNode, options: JsonValueOptions): unknown[] {
  if (node.kind !== 'array') throw unexpectedNode('array', node);
  const elementSchema = schema.valueSchema ?? null;
  return node.items.map((item) => fromJsonNode(elementSchema, item, options));
}

function mapFromJson(schema: Schema, node: JsonNode, options: JsonValueOptions): Map<unknown, unknown> {
  const keySchema = schema.keySchema ?? null;
  const valueSchema = schema.valueSchema ?? null;
  const result = new Map<unknown, unknown>();
  if (keySchema === null || keySchema.type === 'string') {
    if (node.kind !== 'object') throw new DataException(`Maps with string fields should be encoded as JSON objects, but found ${nodeTypeName(node)}`);
    for (const [key, item] of node.fields) result.set(key, fromJsonNode(valueSchema, item, options));
    return result;
  }
  if (node.kind !== 'array') throw new DataException(`Maps with non-string fields should be encoded as JSON array of tuples, but found ${nodeTypeName(node)}`);
  for (const entry of node.items) {
    if (entry.kind !== 'array') throw new DataException(`Found invalid map entry instead of array tuple: ${nodeTypeName(entry)}`);
    if (entry.items.length !== 2) throw new DataException(`Found invalid map entry, expected length 2 but found :${entry.items.length}`);
    result.set(fromJsonNode(keySchema, entry.items[0], options), fromJsonNode(valueSchema, entry.items[1], options));
  }
  return result;
}

function structFromJson(schema: Schema, node: JsonNode, options: JsonValueOptions): Struct {
  if (node.kind !== 'object') throw new DataException(`Structs should be encoded as JSON objects, but found ${nodeTypeName(node)}`);
  const struct = new Struct(schema);
  for (const field of schema.fields!) struct.put(field.name, fromJsonNode(field.schema, node.fields.get(field.name), options));
  return struct;
}

function unexpectedNode(type: SchemaType, node: JsonNode): DataException {
  return new DataException(`Invalid value for ${type.toUpperCase()} field: expected ${expectedKind(type)} but found ${nodeTypeName(node)}`);
}

function expectedKind(type: SchemaType): string {
  switch (type) {
    case 'boolean': return 'a JSON boolean';
    case 'string': return 'a JSON string';
    case 'bytes': return 'a base64 JSON string';
    case 'array': return 'a JSON array';
    default: return 'a JSON number';
  }
}

/** Without a schema: JSON kinds map to Connect's (integers as int64, other numbers as float64, objects as maps). */
function schemalessFromJson(node: JsonNode | undefined): unknown {
  if (node === undefined) return null;
  switch (node.kind) {
    case 'null': return null;
    case 'boolean': return node.value;
    case 'string': return node.value;
    case 'number': {
      if (!isIntegralText(node.text)) return Number(node.text);
      const integer = BigInt.asIntN(64, BigInt(node.text));
      return integer >= BigInt(Number.MIN_SAFE_INTEGER) && integer <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(integer) : integer;
    }
    case 'array': return node.items.map(schemalessFromJson);
    case 'object': return Object.fromEntries([...node.fields].map(([key, item]) => [key, schemalessFromJson(item)]));
  }
}

