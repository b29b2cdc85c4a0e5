// Kafka's ByteArrayConverter (org.apache.kafka.connect.converters.ByteArrayConverter): bytes pass
// through unchanged. Writing takes a Buffer (or any Uint8Array) with a bytes schema or none;
// reading gives the bytes with an optional bytes schema. Also a header converter.
import type { ConnectConfigDef } from '../../api/config.js';
import type { Converter, ConverterHeaders, HeaderConverter } from '../../api/connector.js';
import { DataException, type Schema, type SchemaAndValue, Schemas } from '../../api/data.js';
import { converterConfigDef, parseConverterConfig } from './converter-config.js';
import { describeType } from './logical.js';

const CONFIG_DEF = converterConfigDef();

export class ByteArrayConverter implements Converter, HeaderConverter {
  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  /** isKey absent: configured as a header converter. */
  configure(props: Readonly<Record<string, string>>, isKey?: boolean): void {
    parseConverterConfig(CONFIG_DEF, props, isKey);
  }

  fromConnectData(_topic: string, _headers: ConverterHeaders, schema: Schema | null, value: unknown): Buffer | null {
    if (schema !== null && schema.type !== 'bytes') throw new DataException(`Invalid schema type for ByteArrayConverter: ${schema.type.toUpperCase()}`);
    if (value === null || value === undefined) return null;
    if (!(value instanceof Uint8Array)) throw new DataException(`ByteArrayConverter is not compatible with objects of type ${describeType(value)}`);
    return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }

  toConnectData(_topic: string, _headers: ConverterHeaders, value: Buffer | null): SchemaAndValue {
    return { schema: Schemas.OPTIONAL_BYTES, value };
  }

  fromConnectHeader(topic: string, _headerKey: string, schema: Schema | null, value: unknown): Buffer | null {
    return this.fromConnectData(topic, [], schema, value);
  }

  toConnectHeader(topic: string, _headerKey: string, value: Buffer | null): SchemaAndValue {
    return this.toConnectData(topic, [], value);
  }
}
