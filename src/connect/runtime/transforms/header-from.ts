// HeaderFrom$Key / HeaderFrom$Value: copies (operation=copy) or moves (operation=move) fields of
// the key or value into headers: the i-th of `fields` becomes a header named by the i-th of
// `headers`, with the field's schema (null when schemaless). A move also removes the fields, from
// the struct schema too (cached per input schema).
import { ConnectConfigDef, type ParsedConfig, Validators } from '../../api/config.js';
import { type ConnectHeader, type ConnectRecord, type Schema, SchemaBuilder, Struct } from '../../api/data.js';
import {
  BaseTransformation,
  copySchemaBasics,
  readField,
  REPLACE_NULL_WITH_DEFAULT,
  replaceNullWithDefaultKey,
  requireMap,
  requireStruct,
  type RecordSide,
  SchemaCache,
  TransformConfigError,
  validString,
} from './util.js';

const CONFIG_DEF = new ConnectConfigDef()
  .define({
    name: 'fields',
    type: 'list',
    importance: 'HIGH',
    documentation: 'Field names in the record whose values are to be copied or moved to headers.',
    validator: Validators.nonEmptyList(),
  })
  .define({
    name: 'headers',
    type: 'list',
    importance: 'HIGH',
    documentation: 'Header names, in the same order as the field names listed in the fields configuration property.',
    validator: Validators.nonEmptyList(),
  })
  .define({
    name: 'operation',
    type: 'string',
    importance: 'HIGH',
    documentation:
      'Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value).',
    validator: validString('move', 'copy'),
  })
  .define(replaceNullWithDefaultKey);

export class HeaderFrom extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private fields: string[] = [];
  private headers: string[] = [];
  private move = false;
  private replaceNullWithDefault = true;
  private readonly moveSchemaCache = new SchemaCache();

  constructor(private readonly side: RecordSide) {
    super();
  }

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  protected setup(config: ParsedConfig): void {
    this.fields = config.list('fields');
    this.headers = config.list('headers');
    if (this.fields.length !== this.headers.length) {
      throw new TransformConfigError("'fields' config must have the same number of elements as 'headers' config.");
    }
    this.move = config.string('operation') === 'move';
    this.replaceNullWithDefault = config.boolean(REPLACE_NULL_WITH_DEFAULT);
  }

  private get purpose(): string {
    return `header ${this.move ? 'move' : 'copy'}`;
  }

  apply<R extends ConnectRecord>(record: R): R {
    const schema = this.side.schema(record);
    const value = this.side.value(record);
    return schema === null ? this.applySchemaless(record, value) : this.applyWithSchema(record, schema, value);
  }

  private applySchemaless<R extends ConnectRecord>(record: R, value: unknown): R {
    const original = requireMap(value, this.purpose);
    const updated = { ...original };
    const added: ConnectHeader[] = this.fields.map((field, index) => {
      if (this.move) delete updated[field];
      return { key: this.headers[index]!, schema: null, value: original[field] ?? null };
    });
    return { ...this.side.update(record, null, updated), headers: [...record.headers, ...added] };
  }

  private applyWithSchema<R extends ConnectRecord>(record: R, schema: Schema, value: unknown): R {
    const struct = requireStruct(value, this.purpose);
    let updatedSchema = schema;
    let updated = struct;
    if (this.move) {
      updatedSchema = this.moveSchemaCache.getOrBuild(schema, (original) => this.withoutMovedFields(original));
      updated = new Struct(updatedSchema);
      for (const field of updatedSchema.fields!) updated.put(field.name, readField(struct, field.name, this.replaceNullWithDefault));
    }
    const added: ConnectHeader[] = this.fields.map((name, index) => {
      const field = struct.field(name);
      return { key: this.headers[index]!, schema: field.schema, value: readField(struct, name, this.replaceNullWithDefault) };
    });
    return { ...this.side.update(record, updatedSchema, updated), headers: [...record.headers, ...added] };
  }

  private withoutMovedFields(schema: Schema): Schema {
    const builder = copySchemaBasics(schema, SchemaBuilder.struct());
    for (const field of schema.fields!) if (!this.fields.includes(field.name)) builder.field(field.name, field.schema);
    return builder.build();
  }

  override close(): void {
    this.moveSchemaCache.clear();
  }
}
