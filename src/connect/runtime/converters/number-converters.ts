// Kafka's fixed-width converters (org.apache.kafka.connect.converters): a value is written as
// Kafka's serializers write it, big-endian: ShortConverter 2 bytes (int16), IntegerConverter 4
// (int32), LongConverter 8 (int64), FloatConverter 4 (IEEE float32), DoubleConverter 8 (float64),
// and BooleanConverter one byte, 1 or 0. Reading gives the value with the optional schema of its
// type; bytes of the wrong length are a DataException. The schema given on writing is not
// consulted, as in Kafka (BooleanConverter refuses a non-boolean one). Null stays null.
import type { ConnectConfigDef } from '../../api/config.js';
import type { Converter, ConverterHeaders, HeaderConverter } from '../../api/connector.js';
import { DataException, type Schema, type SchemaAndValue, Schemas } from '../../api/data.js';
import { converterConfigDef, parseConverterConfig } from './converter-config.js';
import { describeType } from './logical.js';

const CONFIG_DEF = converterConfigDef();

/** How one fixed-width type is written and read. */
interface FixedWidthCodec {
  /** Kafka's name for the type in error messages ("integer", "long"...). */
  readonly typeName: string;
  /** The deserializer Kafka names when the size is wrong. */
  readonly deserializerName: string;
  readonly schema: Schema;
  readonly size: number;
  /** Writes the value, or returns a reason it cannot be written. */
  write(value: unknown, buffer: Buffer): string | undefined;
  read(buffer: Buffer): unknown;
}

abstract class FixedWidthConverter implements Converter, HeaderConverter {
  protected abstract readonly codec: FixedWidthCodec;

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  /** isKey absent: configured as a header converter. */
  configure(props: Readonly<Record<string, string>>, isKey?: boolean): void {
    parseConverterConfig(CONFIG_DEF, props, isKey);
  }

  fromConnectData(_topic: string, _headers: ConverterHeaders, _schema: Schema | null, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    const buffer = Buffer.alloc(this.codec.size);
    const problem = this.codec.write(value, buffer);
    if (problem !== undefined) throw new DataException(`Failed to serialize to ${this.codec.typeName}: ${problem}`);
    return buffer;
  }

  toConnectData(_topic: string, _headers: ConverterHeaders, value: Buffer | null): SchemaAndValue {
    if (value === null) return { schema: this.codec.schema, value: null };
    if (value.length !== this.codec.size) {
      throw new DataException(`Failed to deserialize ${this.codec.typeName}: Size of data received by ${this.codec.deserializerName} is not ${this.codec.size}`);
    }
    return { schema: this.codec.schema, value: this.codec.read(value) };
  }

  fromConnectHeader(topic: string, _headerKey: string, schema: Schema | null, value: unknown): Buffer | null {
    return this.fromConnectData(topic, [], schema, value);
  }

  toConnectHeader(topic: string, _headerKey: string, value: Buffer | null): SchemaAndValue {
    return this.toConnectData(topic, [], value);
  }
}

/** An integer (a number or a bigint) that fits `bits` signed bits, or a reason it does not. */
function checkedInteger(value: unknown, bits: 16 | 32 | 64): bigint | string {
  let integer: bigint;
  if (typeof value === 'bigint') integer = value;
  else if (typeof value === 'number' && Number.isInteger(value)) integer = BigInt(value);
  else return `was ${describeType(value)}${typeof value === 'number' ? ` ${value}, not an integer` : ''}`;
  return BigInt.asIntN(bits, integer) === integer ? integer : `${integer} is out of range`;
}

function integerCodec(typeName: string, deserializerName: string, schema: Schema, bits: 16 | 32 | 64): FixedWidthCodec {
  const size = bits / 8;
  return {
    typeName, deserializerName, schema, size,
    write(value, buffer) {
      const integer = checkedInteger(value, bits);
      if (typeof integer === 'string') return integer;
      if (bits === 64) buffer.writeBigInt64BE(integer);
      else buffer.writeIntBE(Number(integer), 0, size);
      return undefined;
    },
    read: (buffer) => (bits === 64 ? buffer.readBigInt64BE() : buffer.readIntBE(0, size)),
  };
}

function floatingCodec(typeName: string, deserializerName: string, schema: Schema, size: 4 | 8): FixedWidthCodec {
  return {
    typeName, deserializerName, schema, size,
    write(value, buffer) {
      if (typeof value !== 'number') return `was ${describeType(value)}`;
      if (size === 4) buffer.writeFloatBE(value);
      else buffer.writeDoubleBE(value);
      return undefined;
    },
    read: (buffer) => (size === 4 ? buffer.readFloatBE() : buffer.readDoubleBE()),
  };
}

export class ShortConverter extends FixedWidthConverter {
  protected readonly codec = integerCodec('short', 'ShortDeserializer', Schemas.OPTIONAL_INT16, 16);
}

export class IntegerConverter extends FixedWidthConverter {
  protected readonly codec = integerCodec('integer', 'IntegerDeserializer', Schemas.OPTIONAL_INT32, 32);
}

/** int64 values are bigints; a number that is a whole number is accepted on writing. */
export class LongConverter extends FixedWidthConverter {
  protected readonly codec = integerCodec('long', 'LongDeserializer', Schemas.OPTIONAL_INT64, 64);
}

export class FloatConverter extends FixedWidthConverter {
  protected readonly codec = floatingCodec('float', 'FloatDeserializer', Schemas.OPTIONAL_FLOAT32, 4);
}

export class DoubleConverter extends FixedWidthConverter {
  protected readonly codec = floatingCodec('double', 'DoubleDeserializer', Schemas.OPTIONAL_FLOAT64, 8);
}

/** Kafka's BooleanConverter: one byte, 1 for true and 0 for false; any other byte is an error. */
export class BooleanConverter extends FixedWidthConverter {
  protected readonly codec: FixedWidthCodec = {
    typeName: 'boolean', deserializerName: 'BooleanDeserializer', schema: Schemas.OPTIONAL_BOOLEAN, size: 1,
    write(value, buffer) {
      if (typeof value !== 'boolean') return `BooleanConverter is not compatible with objects of type ${describeType(value)}`;
      buffer[0] = value ? 1 : 0;
      return undefined;
    },
    read(buffer) {
      if (buffer[0] === 1) return true;
      if (buffer[0] === 0) return false;
      throw new DataException(`Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: ${(buffer[0]! << 24) >> 24}`);
    },
  };

  override fromConnectData(topic: string, headers: ConverterHeaders, schema: Schema | null, value: unknown): Buffer | null {
    if (schema !== null && schema.type !== 'boolean') throw new DataException(`Invalid schema type for BooleanConverter: ${schema.type.toUpperCase()}`);
    return super.fromConnectData(topic, headers, schema, value);
  }
}
