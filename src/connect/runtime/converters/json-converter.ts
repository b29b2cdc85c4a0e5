// Kafka's JsonConverter (org.apache.kafka.connect.json.JsonConverter): Connect data as JSON. With
// schemas.enable (the default) each key or value is an envelope holding its schema and payload,
//   {"schema":{"type":"int32","optional":false},"payload":42}
// and reading requires exactly those two fields; without it, the bare payload is written and read
// back schemaless. A null Kafka value (a tombstone) is a null schema and value, and a null schema
// with a null value is written as a null Kafka value.
//
// Settings, as Kafka's JsonConverterConfig: schemas.enable (true), schemas.cache.size (1000
// schemas each way, least recently used dropped), decimal.format (BASE64 or NUMERIC, any case)
// and replace.null.with.default (true: a null with a default is written and read as the default).
// The converter also serves as a header converter (each header value is converted alone).
import type { ConnectConfigDef } from '../../api/config.js';
import type { Converter, ConverterHeaders, HeaderConverter } from '../../api/connector.js';
import { DataException, type Schema, type SchemaAndValue } from '../../api/data.js';
import { converterConfigDef, parseConverterConfig } from './converter-config.js';
import { schemaFromJson, schemaToJson } from './json-schema.js';
import { type JsonNode, type JsonObject, parseJsonBytes, writeJson } from './json-text.js';
import { type DecimalFormat, fromJsonNode, type JsonValueOptions, toJsonNode } from './json-values.js';

export const SCHEMAS_ENABLE_CONFIG = 'schemas.enable';
export const SCHEMAS_CACHE_SIZE_CONFIG = 'schemas.cache.size';
export const DECIMAL_FORMAT_CONFIG = 'decimal.format';
export const REPLACE_NULL_WITH_DEFAULT_CONFIG = 'replace.null.with.default';

const CONFIG_DEF = converterConfigDef()
  .define({ name: SCHEMAS_ENABLE_CONFIG, type: 'boolean', defaultValue: true, importance: 'HIGH', group: 'Schemas', orderInGroup: 0, width: 'MEDIUM', displayName: 'Enable Schemas', documentation: 'Include schemas within each of the serialized values and keys.' })
  .define({ name: SCHEMAS_CACHE_SIZE_CONFIG, type: 'int', defaultValue: 1000, importance: 'HIGH', group: 'Schemas', orderInGroup: 1, width: 'MEDIUM', displayName: 'Schema Cache Size', documentation: 'The maximum number of schemas that can be cached in this converter instance.' })
  .define({
    name: DECIMAL_FORMAT_CONFIG, type: 'string', defaultValue: 'BASE64', importance: 'LOW', group: 'Serialization', orderInGroup: 0, width: 'MEDIUM', displayName: 'Decimal Format',
    documentation: "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
    validator: (name, value) => (typeof value === 'string' && ['BASE64', 'NUMERIC'].includes(value.toUpperCase()) ? undefined : `Invalid value ${String(value)} for configuration ${name}: String must be one of (case insensitive): BASE64, NUMERIC`),
    recommendedValues: ['BASE64', 'NUMERIC'],
  })
  .define({ name: REPLACE_NULL_WITH_DEFAULT_CONFIG, type: 'boolean', defaultValue: true, importance: 'LOW', group: 'Serialization', orderInGroup: 1, width: 'MEDIUM', displayName: 'Replace null with default', documentation: 'Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.' });

const ENVELOPE_ERROR = 'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields.'
  + ' If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.';

export class JsonConverter implements Converter, HeaderConverter {
  private schemasEnabled = true;
  private options: JsonValueOptions = { decimalFormat: 'BASE64', replaceNullWithDefault: true };
  private toJsonCache = new LruCache<Schema, CachedJsonSchema>(1000);
  private fromJsonCache = new LruCache<string, Schema | null>(1000);

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  /** isKey absent: configured as a header converter. */
  configure(props: Readonly<Record<string, string>>, isKey?: boolean): void {
    const config = parseConverterConfig(CONFIG_DEF, props, isKey);
    this.schemasEnabled = config.boolean(SCHEMAS_ENABLE_CONFIG);
    this.options = {
      decimalFormat: config.string(DECIMAL_FORMAT_CONFIG).toUpperCase() as DecimalFormat,
      replaceNullWithDefault: config.boolean(REPLACE_NULL_WITH_DEFAULT_CONFIG),
    };
    const cacheSize = config.number(SCHEMAS_CACHE_SIZE_CONFIG);
    this.toJsonCache = new LruCache(cacheSize);
    this.fromJsonCache = new LruCache(cacheSize);
  }

  fromConnectData(_topic: string, _headers: ConverterHeaders, schema: Schema | null, value: unknown): Buffer | null {
    if (schema === null && (value === null || value === undefined)) return null;
    const payload = writeJson(toJsonNode(schema, value ?? null, this.options));
    if (!this.schemasEnabled) return Buffer.from(payload, 'utf8');
    const schemaText = schema === null ? 'null' : this.cachedJsonSchema(schema).text;
    return Buffer.from(`{"schema":${schemaText},"payload":${payload}}`, 'utf8');
  }

  toConnectData(_topic: string, _headers: ConverterHeaders, value: Buffer | null): SchemaAndValue {
    if (value === null) return { schema: null, value: null };
    const json = parseOrThrow(value);
    if (!this.schemasEnabled) return { schema: null, value: fromJsonNode(null, json, this.options) };
    if (json?.kind !== 'object' || json.fields.size !== 2 || !json.fields.has('schema') || !json.fields.has('payload')) {
      throw new DataException(ENVELOPE_ERROR);
    }
    const schema = this.asConnectSchema(json.fields.get('schema')!);
    return { schema, value: fromJsonNode(schema, json.fields.get('payload'), this.options) };
  }

  fromConnectHeader(topic: string, _headerKey: string, schema: Schema | null, value: unknown): Buffer | null {
    return this.fromConnectData(topic, [], schema, value);
  }

  toConnectHeader(topic: string, _headerKey: string, value: Buffer | null): SchemaAndValue {
    return this.toConnectData(topic, [], value);
  }

  /** A schema's JSON form (Kafka's asJsonSchema). */
  asJsonSchema(schema: Schema): JsonObject {
    return this.cachedJsonSchema(schema).json;
  }

  /** A schema's JSON form and text, from the cache when this schema object was converted recently. */
  private cachedJsonSchema(schema: Schema): CachedJsonSchema {
    const cached = this.toJsonCache.get(schema);
    if (cached) return cached;
    const json = schemaToJson(schema, this.options, (inner) => this.asJsonSchema(inner));
    const entry = { json, text: writeJson(json) };
    this.toJsonCache.set(schema, entry);
    return entry;
  }

  /** The schema a JSON schema describes (Kafka's asConnectSchema); the same text gives the same (cached) schema object. */
  asConnectSchema(json: JsonNode): Schema | null {
    if (json.kind === 'null') return null;
    const key = (json.kind === 'object' ? json.source : undefined) ?? writeJson(json);
    const cached = this.fromJsonCache.get(key);
    if (cached !== undefined) return cached;
    const schema = schemaFromJson(json, this.options, (inner) => this.asConnectSchema(inner));
    // A copy of the key: a slice would keep the whole record's text alive in the cache.
    this.fromJsonCache.set(Buffer.from(key, 'utf8').toString('utf8'), schema);
    return schema;
  }
}

interface CachedJsonSchema {
  readonly json: JsonObject;
  readonly text: string;
}

function parseOrThrow(bytes: Buffer): JsonNode | undefined {
  try {
    return parseJsonBytes(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataException(`Converting byte[] to Kafka Connect data failed due to serialization error: ${reason}`, { cause: error });
  }
}

/** A map that keeps the `capacity` most recently used entries (Kafka's LRUCache); capacity 0 keeps none. */
class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = Math.max(0, capacity);
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }

  get size(): number {
    return this.entries.size;
  }
}
