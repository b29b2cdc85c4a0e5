/**
 * Serdes: how a stream's keys and values become the bytes of Kafka records and back, with Kafka's
 * wire formats for the built-in types (Kafka's LongSerializer writes 8 big-endian bytes, Integer 4,
 * Double an IEEE 754 big-endian double, String UTF-8), so a Conveyor Streams app and a Java one
 * can share topics. A null value stays null (a tombstone), as Kafka's serdes do.
 */

export interface Serializer<T> {
  serialize(topic: string, value: T | null): Uint8Array | null;
}

export interface Deserializer<T> {
  deserialize(topic: string, bytes: Uint8Array | null): T | null;
}

export interface Serde<T> extends Serializer<T>, Deserializer<T> {}

/** A serde from two functions; null in and out is handled here so the functions see real values only. */
export function serdeFrom<T>(serialize: (value: T) => Uint8Array, deserialize: (bytes: Uint8Array) => T): Serde<T> {
  return {
    serialize: (_topic, value) => (value === null || value === undefined ? null : serialize(value)),
    deserialize: (_topic, bytes) => (bytes === null || bytes === undefined ? null : deserialize(bytes)),
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fixedWidth(bytes: Uint8Array, width: number, type: string): DataView {
  if (bytes.length !== width) throw new SerializationError(`${type} needs ${width} bytes, got ${bytes.length}`);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class SerializationError extends Error {
  override name = 'SerializationError';
}

const stringSerde = serdeFrom<string>(
  (value) => encoder.encode(value),
  (bytes) => decoder.decode(bytes),
);

const bytesSerde = serdeFrom<Uint8Array>(
  (value) => value,
  (bytes) => bytes,
);

/** Kafka's Long as a JavaScript number; a value beyond 2^53 cannot be read exactly and is refused. */
const longSerde = serdeFrom<number>(
  (value) => {
    if (!Number.isSafeInteger(value)) throw new SerializationError(`Long serde takes a safe integer, not ${value}`);
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigInt64(0, BigInt(value));
    return out;
  },
  (bytes) => {
    const value = fixedWidth(bytes, 8, 'Long').getBigInt64(0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new SerializationError(`Long ${value} does not fit a number; use Serdes.BigLong()`);
    }
    return Number(value);
  },
);

const bigLongSerde = serdeFrom<bigint>(
  (value) => {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigInt64(0, BigInt.asIntN(64, value));
    return out;
  },
  (bytes) => fixedWidth(bytes, 8, 'Long').getBigInt64(0),
);

const integerSerde = serdeFrom<number>(
  (value) => {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
      throw new SerializationError(`Integer serde takes a 32-bit integer, not ${value}`);
    }
    const out = new Uint8Array(4);
    new DataView(out.buffer).setInt32(0, value);
    return out;
  },
  (bytes) => fixedWidth(bytes, 4, 'Integer').getInt32(0),
);

const doubleSerde = serdeFrom<number>(
  (value) => {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setFloat64(0, value);
    return out;
  },
  (bytes) => fixedWidth(bytes, 8, 'Double').getFloat64(0),
);

/** Kafka's VoidSerde: keys that are always null. */
const voidSerde: Serde<null> = {
  serialize: (_topic, value) => {
    if (value !== null && value !== undefined) throw new SerializationError('Void serde takes null only');
    return null;
  },
  deserialize: (_topic, bytes) => {
    if (bytes !== null && bytes !== undefined) throw new SerializationError('Void serde reads null only');
    return null;
  },
};

function jsonSerde<T>(): Serde<T> {
  return serdeFrom<T>(
    (value) => encoder.encode(JSON.stringify(value)),
    (bytes) => JSON.parse(decoder.decode(bytes)) as T,
  );
}

/** The built-in serdes, named as Kafka's `Serdes` factory names them. */
export const Serdes = {
  String: (): Serde<string> => stringSerde,
  ByteArray: (): Serde<Uint8Array> => bytesSerde,
  Bytes: (): Serde<Uint8Array> => bytesSerde,
  Long: (): Serde<number> => longSerde,
  BigLong: (): Serde<bigint> => bigLongSerde,
  Integer: (): Serde<number> => integerSerde,
  Double: (): Serde<number> => doubleSerde,
  Void: (): Serde<null> => voidSerde,
  JSON: <T = unknown>(): Serde<T> => jsonSerde<T>(),
  serdeFrom,
} as const;

/** The serdes `default.key.serde` / `default.value.serde` may name, by Kafka's class names or short names. */
export function serdeByName(name: string): Serde<unknown> | undefined {
  const short = name.replace(/^org\.apache\.kafka\.common\.serialization\.Serdes\$/, '').replace(/Serde$/, '').toLowerCase();
  const byName: Record<string, () => Serde<any>> = {
    string: Serdes.String,
    bytearray: Serdes.ByteArray,
    bytes: Serdes.Bytes,
    long: Serdes.Long,
    biglong: Serdes.BigLong,
    integer: Serdes.Integer,
    double: Serdes.Double,
    void: Serdes.Void,
    json: Serdes.JSON,
  };
  return byName[short]?.();
}

/** The serdes `default.key.serde` and `default.value.serde` name, handed to serdes that wrap an unset one. */
export interface DefaultSerdes {
  readonly key: Serde<unknown> | undefined;
  readonly value: Serde<unknown> | undefined;
}

/** A serde built around another that may be unset until the app's defaults are known (at task creation). */
export interface SerdeWithDefaults<T> extends Serde<T> {
  withDefaults(defaults: DefaultSerdes): Serde<T>;
}

export function hasDefaults<T>(serde: Serde<T>): serde is SerdeWithDefaults<T> {
  return typeof (serde as Partial<SerdeWithDefaults<T>>).withDefaults === 'function';
}
