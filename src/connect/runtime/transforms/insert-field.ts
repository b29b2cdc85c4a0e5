// InsertField$Key / InsertField$Value: adds fields holding the record's topic, partition, offset
// (sink records only) and timestamp, or a static string, to a struct or a schemaless map. A field
// name ending in '!' makes the field required in the new schema, '?' (the default) optional.
// Null keys or values pass through unchanged.
import { ConnectConfigDef, type ParsedConfig } from '../../api/config.js';
import { type ConnectRecord, type Schema, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import {
  BaseTransformation,
  configError,
  copySchemaBasics,
  readField,
  REPLACE_NULL_WITH_DEFAULT,
  replaceNullWithDefaultKey,
  requireMap,
  requireSinkOffset,
  requireStruct,
  type RecordSide,
  SchemaCache,
  stringOrNull,
  timestampSchema,
  TransformConfigError,
} from './util.js';

const OPTIONALITY_DOC = 'Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).';
const PURPOSE = 'field insertion';

const fieldKey = (name: string, documentation: string) =>
  ({ name, type: 'string', defaultValue: null, importance: 'MEDIUM', documentation: `${documentation} ${OPTIONALITY_DOC}` }) as const;

const CONFIG_DEF = new ConnectConfigDef()
  .define(fieldKey('topic.field', 'Field name for Kafka topic.'))
  .define(fieldKey('partition.field', 'Field name for Kafka partition.'))
  .define(fieldKey('offset.field', 'Field name for Kafka offset - only applicable to sink connectors.<br/>'))
  .define(fieldKey('timestamp.field', 'Field name for record timestamp.'))
  .define(fieldKey('static.field', 'Field name for static data field.'))
  .define({ name: 'static.value', type: 'string', defaultValue: null, importance: 'MEDIUM', documentation: 'Static field value, if field name configured.' })
  .define(replaceNullWithDefaultKey);

/** A field to insert: its name and whether its schema is optional. */
interface InsertionSpec {
  readonly name: string;
  readonly optional: boolean;
}

function parseSpec(spec: string | null): InsertionSpec | null {
  if (spec === null) return null;
  if (spec.endsWith('?')) return { name: spec.slice(0, -1), optional: true };
  if (spec.endsWith('!')) return { name: spec.slice(0, -1), optional: false };
  return { name: spec, optional: true };
}

export class InsertField extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private topicField: InsertionSpec | null = null;
  private partitionField: InsertionSpec | null = null;
  private offsetField: InsertionSpec | null = null;
  private timestampField: InsertionSpec | null = null;
  private staticField: InsertionSpec | null = null;
  private staticValue: string | null = null;
  private replaceNullWithDefault = true;
  private readonly schemaCache = new SchemaCache();

  constructor(private readonly side: RecordSide) {
    super();
  }

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  protected setup(config: ParsedConfig): void {
    this.topicField = parseSpec(stringOrNull(config, 'topic.field'));
    this.partitionField = parseSpec(stringOrNull(config, 'partition.field'));
    this.offsetField = parseSpec(stringOrNull(config, 'offset.field'));
    this.timestampField = parseSpec(stringOrNull(config, 'timestamp.field'));
    this.staticField = parseSpec(stringOrNull(config, 'static.field'));
    this.staticValue = stringOrNull(config, 'static.value');
    this.replaceNullWithDefault = config.boolean(REPLACE_NULL_WITH_DEFAULT);
    if (!this.topicField && !this.partitionField && !this.offsetField && !this.timestampField && !this.staticField) {
      throw new TransformConfigError('No field insertion configured');
    }
    if (this.staticField && this.staticValue === null) {
      throw configError('static.value', null, `No value specified for static field: ${this.staticField.name}`);
    }
  }

  apply<R extends ConnectRecord>(record: R): R {
    const value = this.side.value(record);
    if (value === null || value === undefined) return record;
    return this.side.schema(record) === null ? this.applySchemaless(record, value) : this.applyWithSchema(record, value);
  }

  private applySchemaless<R extends ConnectRecord>(record: R, value: unknown): R {
    const updated = { ...requireMap(value, PURPOSE) };
    this.insertions(record, false).forEach(([name, fieldValue]) => (updated[name] = fieldValue));
    return this.side.update(record, null, updated);
  }

  private applyWithSchema<R extends ConnectRecord>(record: R, value: unknown): R {
    const struct = requireStruct(value, PURPOSE);
    const schema = this.schemaCache.getOrBuild(struct.schema, (original) => this.updatedSchema(original));
    const updated = new Struct(schema);
    for (const field of struct.schema.fields!) updated.put(field.name, readField(struct, field.name, this.replaceNullWithDefault));
    this.insertions(record, true).forEach(([name, fieldValue]) => updated.put(name, fieldValue));
    return this.side.update(record, schema, updated);
  }

  /** The fields to add and their values; a schema'd record gets a Date timestamp and a bigint offset. */
  private insertions(record: ConnectRecord, withSchema: boolean): [string, unknown][] {
    const out: [string, unknown][] = [];
    if (this.topicField) out.push([this.topicField.name, record.topic]);
    if (this.partitionField && record.kafkaPartition !== null) out.push([this.partitionField.name, record.kafkaPartition]);
    if (this.offsetField) {
      const offset = requireSinkOffset(record, PURPOSE);
      out.push([this.offsetField.name, withSchema ? BigInt(offset) : offset]);
    }
    if (this.timestampField && record.timestamp !== null) {
      out.push([this.timestampField.name, withSchema ? new Date(record.timestamp) : record.timestamp]);
    }
    if (this.staticField && this.staticValue !== null) out.push([this.staticField.name, this.staticValue]);
    return out;
  }

  private updatedSchema(schema: Schema): Schema {
    const builder = copySchemaBasics(schema, SchemaBuilder.struct());
    for (const field of schema.fields!) builder.field(field.name, field.schema);
    const add = (spec: InsertionSpec | null, optional: Schema, required: Schema) => {
      if (spec) builder.field(spec.name, spec.optional ? optional : required);
    };
    add(this.topicField, Schemas.OPTIONAL_STRING, Schemas.STRING);
    add(this.partitionField, Schemas.OPTIONAL_INT32, Schemas.INT32);
    add(this.offsetField, Schemas.OPTIONAL_INT64, Schemas.INT64);
    add(this.timestampField, timestampSchema(true), timestampSchema(false));
    add(this.staticField, Schemas.OPTIONAL_STRING, Schemas.STRING);
    return builder.build();
  }

  override close(): void {
    this.schemaCache.clear();
  }
}
