// Connect's data model: schemas, structs and the records that connectors, converters and
// transforms pass around. It follows Kafka Connect's (org.apache.kafka.connect.data) so that a
// record's schema means the same here as in a Java worker, and JsonConverter's envelope is Kafka's.
//
// Values by schema type: int8/int16/int32/float32/float64 are numbers, int64 is a bigint (a
// number is accepted on input), boolean, string, bytes is a Buffer, array an array, map a Map,
// struct a Struct. Logical types keep Kafka's names: Timestamp, Date and Time are Date objects,
// Decimal is a Decimal. Schemaless values are plain JSON-like values (objects for maps).

export type SchemaType =
  | 'int8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64'
  | 'boolean' | 'string' | 'bytes' | 'array' | 'map' | 'struct';

export interface Field {
  readonly name: string;
  readonly index: number;
  readonly schema: Schema;
}

export interface Schema {
  readonly type: SchemaType;
  readonly optional: boolean;
  readonly defaultValue?: unknown;
  /** A logical or record name, such as org.apache.kafka.connect.data.Timestamp. */
  readonly name?: string;
  readonly version?: number;
  readonly doc?: string;
  readonly parameters?: Readonly<Record<string, string>>;
  /** Struct fields, in order. */
  readonly fields?: readonly Field[];
  /** A map's key schema. */
  readonly keySchema?: Schema;
  /** An array's element schema or a map's value schema. */
  readonly valueSchema?: Schema;
}

/** Builds schemas: `SchemaBuilder.struct().field('id', Schemas.INT32).optional().build()`. */
export class SchemaBuilder {
  private isOptional = false;
  private defaultVal: unknown;
  private schemaName: string | undefined;
  private schemaVersion: number | undefined;
  private schemaDoc: string | undefined;
  private params: Record<string, string> | undefined;
  private readonly fieldList: Field[] = [];

  private constructor(
    readonly type: SchemaType,
    private readonly keys?: Schema,
    private readonly values?: Schema,
  ) {}

  static type(type: SchemaType): SchemaBuilder {
    return new SchemaBuilder(type);
  }
  static int8(): SchemaBuilder { return new SchemaBuilder('int8'); }
  static int16(): SchemaBuilder { return new SchemaBuilder('int16'); }
  static int32(): SchemaBuilder { return new SchemaBuilder('int32'); }
  static int64(): SchemaBuilder { return new SchemaBuilder('int64'); }
  static float32(): SchemaBuilder { return new SchemaBuilder('float32'); }
  static float64(): SchemaBuilder { return new SchemaBuilder('float64'); }
  static bool(): SchemaBuilder { return new SchemaBuilder('boolean'); }
  static string(): SchemaBuilder { return new SchemaBuilder('string'); }
  static bytes(): SchemaBuilder { return new SchemaBuilder('bytes'); }
  static struct(): SchemaBuilder { return new SchemaBuilder('struct'); }
  static array(valueSchema: Schema): SchemaBuilder { return new SchemaBuilder('array', undefined, valueSchema); }
  static map(keySchema: Schema, valueSchema: Schema): SchemaBuilder { return new SchemaBuilder('map', keySchema, valueSchema); }

  /** A builder that starts as a copy of `schema` (fields included). */
  static from(schema: Schema): SchemaBuilder {
    const builder = new SchemaBuilder(schema.type, schema.keySchema, schema.valueSchema);
    builder.isOptional = schema.optional;
    builder.defaultVal = schema.defaultValue;
    builder.schemaName = schema.name;
    builder.schemaVersion = schema.version;
    builder.schemaDoc = schema.doc;
    builder.params = schema.parameters ? { ...schema.parameters } : undefined;
    for (const field of schema.fields ?? []) builder.field(field.name, field.schema);
    return builder;
  }

  optional(): this { this.isOptional = true; return this; }
  required(): this { this.isOptional = false; return this; }
  defaultValue(value: unknown): this { this.defaultVal = value; return this; }
  name(name: string): this { this.schemaName = name; return this; }
  version(version: number): this { this.schemaVersion = version; return this; }
  doc(doc: string): this { this.schemaDoc = doc; return this; }
  parameter(key: string, value: string): this {
    this.params = { ...this.params, [key]: value };
    return this;
  }

  field(name: string, schema: Schema): this {
    if (this.type !== 'struct') throw new DataException(`cannot add field '${name}' to a ${this.type} schema`);
    if (this.fieldList.some((field) => field.name === name)) throw new DataException(`field '${name}' is already defined`);
    this.fieldList.push({ name, index: this.fieldList.length, schema });
    return this;
  }

  build(): Schema {
    const schema: { -readonly [K in keyof Schema]: Schema[K] } = { type: this.type, optional: this.isOptional };
    if (this.defaultVal !== undefined) schema.defaultValue = this.defaultVal;
    if (this.schemaName !== undefined) schema.name = this.schemaName;
    if (this.schemaVersion !== undefined) schema.version = this.schemaVersion;
    if (this.schemaDoc !== undefined) schema.doc = this.schemaDoc;
    if (this.params !== undefined) schema.parameters = this.params;
    if (this.type === 'struct') schema.fields = [...this.fieldList];
    if (this.keys) schema.keySchema = this.keys;
    if (this.values) schema.valueSchema = this.values;
    return Object.freeze(schema);
  }
}

const primitive = (type: SchemaType, optional: boolean): Schema => Object.freeze({ type, optional });

/** Kafka Connect's ready-made primitive schemas (Schema.INT32_SCHEMA, OPTIONAL_STRING_SCHEMA, ...). */
export const Schemas = {
  INT8: primitive('int8', false),
  INT16: primitive('int16', false),
  INT32: primitive('int32', false),
  INT64: primitive('int64', false),
  FLOAT32: primitive('float32', false),
  FLOAT64: primitive('float64', false),
  BOOLEAN: primitive('boolean', false),
  STRING: primitive('string', false),
  BYTES: primitive('bytes', false),
  OPTIONAL_INT8: primitive('int8', true),
  OPTIONAL_INT16: primitive('int16', true),
  OPTIONAL_INT32: primitive('int32', true),
  OPTIONAL_INT64: primitive('int64', true),
  OPTIONAL_FLOAT32: primitive('float32', true),
  OPTIONAL_FLOAT64: primitive('float64', true),
  OPTIONAL_BOOLEAN: primitive('boolean', true),
  OPTIONAL_STRING: primitive('string', true),
  OPTIONAL_BYTES: primitive('bytes', true),
} as const;

/** A bad value for a schema, an unknown field, a value a converter cannot read: Connect's DataException. */
export class DataException extends Error {
  override readonly name = 'DataException';
}

/** A value of a struct schema: one value per field, checked against the field's schema by `validate`. */
export class Struct {
  private readonly values: unknown[];

  constructor(readonly schema: Schema) {
    if (schema.type !== 'struct') throw new DataException(`a Struct needs a struct schema, not ${schema.type}`);
    this.values = new Array<unknown>(schema.fields!.length).fill(undefined);
  }

  field(name: string): Field {
    const field = this.schema.fields!.find((candidate) => candidate.name === name);
    if (!field) throw new DataException(`'${name}' is not a field of ${this.schema.name ?? 'this struct'}`);
    return field;
  }

  /** The field's value, or its schema's default when it is unset or null (as Kafka's Struct.get). */
  get(name: string): unknown {
    const field = this.field(name);
    const value = this.values[field.index];
    return value === undefined || value === null ? (field.schema.defaultValue ?? null) : value;
  }

  /** The value as put, undefined when never set (no default applied). */
  getWithoutDefault(name: string): unknown {
    return this.values[this.field(name).index];
  }

  put(name: string, value: unknown): this {
    this.values[this.field(name).index] = value;
    return this;
  }

  /** Throws a DataException when a required field has no value. */
  validate(): void {
    for (const field of this.schema.fields!) {
      const value = this.values[field.index];
      if ((value === undefined || value === null) && !field.schema.optional && field.schema.defaultValue === undefined) {
        throw new DataException(`field '${field.name}' is required and has no value`);
      }
    }
  }
}

/** Kafka's Decimal logical type: an unscaled integer and a scale (value = unscaled × 10^-scale). */
export class Decimal {
  constructor(readonly unscaled: bigint, readonly scale: number) {}
  toString(): string {
    if (this.scale < 0) return (this.unscaled * 10n ** BigInt(-this.scale)).toString();
    const negative = this.unscaled < 0n;
    const digits = (negative ? -this.unscaled : this.unscaled).toString().padStart(this.scale + 1, '0');
    const whole = this.scale === 0 ? digits : `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`;
    return negative ? `-${whole}` : whole;
  }
}

export const LogicalNames = {
  DECIMAL: 'org.apache.kafka.connect.data.Decimal',
  DATE: 'org.apache.kafka.connect.data.Date',
  TIME: 'org.apache.kafka.connect.data.Time',
  TIMESTAMP: 'org.apache.kafka.connect.data.Timestamp',
} as const;

export interface ConnectHeader {
  readonly key: string;
  readonly schema: Schema | null;
  readonly value: unknown;
}

/** What both kinds of record share (Connect's ConnectRecord). */
export interface ConnectRecord {
  readonly topic: string;
  /** null lets the producer's partitioner decide. */
  readonly kafkaPartition: number | null;
  readonly keySchema: Schema | null;
  readonly key: unknown;
  readonly valueSchema: Schema | null;
  readonly value: unknown;
  /** Milliseconds since the epoch, or null. */
  readonly timestamp: number | null;
  readonly headers: readonly ConnectHeader[];
}

/** A record a source task produced: where in the source system it came from and how far it got. */
export interface SourceRecord extends ConnectRecord {
  readonly sourcePartition: Readonly<Record<string, unknown>> | null;
  readonly sourceOffset: Readonly<Record<string, unknown>> | null;
}

/** A record read from Kafka for a sink task. */
export interface SinkRecord extends ConnectRecord {
  readonly kafkaPartition: number;
  readonly kafkaOffset: number;
  /** CreateTime or LogAppendTime, as Kafka's TimestampType names them. */
  readonly timestampType: 'CreateTime' | 'LogAppendTime' | 'NoTimestampType';
  /** The topic, partition and offset the record was read from, before any transform changed them. */
  readonly originalTopic: string;
  readonly originalKafkaPartition: number;
  readonly originalKafkaOffset: number;
}

/** A schema and a value, as a converter's toConnectData returns them. */
export interface SchemaAndValue {
  readonly schema: Schema | null;
  readonly value: unknown;
}
