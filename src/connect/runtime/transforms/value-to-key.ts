// ValueToKey: replaces the record's key with a struct (or schemaless map) of the listed fields of
// its value. The key schema is a struct of those fields' schemas, cached per value schema.
import { ConnectConfigDef, type ParsedConfig, Validators } from '../../api/config.js';
import { type ConnectRecord, DataException, type Schema, SchemaBuilder, Struct } from '../../api/data.js';
import {
  BaseTransformation,
  fieldOf,
  readField,
  REPLACE_NULL_WITH_DEFAULT,
  replaceNullWithDefaultKey,
  requireMap,
  requireStruct,
  SchemaCache,
} from './util.js';

const PURPOSE = 'copying fields from value to key';

const CONFIG_DEF = new ConnectConfigDef()
  .define({
    name: 'fields',
    type: 'list',
    importance: 'HIGH',
    documentation: 'Field names on the record value to extract as the record key.',
    validator: Validators.nonEmptyList(),
  })
  .define(replaceNullWithDefaultKey);

export class ValueToKey extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private fields: string[] = [];
  private replaceNullWithDefault = true;
  private readonly schemaCache = new SchemaCache();

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  protected setup(config: ParsedConfig): void {
    this.fields = config.list('fields');
    this.replaceNullWithDefault = config.boolean(REPLACE_NULL_WITH_DEFAULT);
  }

  apply<R extends ConnectRecord>(record: R): R {
    return record.valueSchema === null ? this.applySchemaless(record) : this.applyWithSchema(record);
  }

  private applySchemaless<R extends ConnectRecord>(record: R): R {
    const value = requireMap(record.value, PURPOSE);
    const key: Record<string, unknown> = {};
    for (const field of this.fields) key[field] = value[field] ?? null;
    return { ...record, keySchema: null, key };
  }

  private applyWithSchema<R extends ConnectRecord>(record: R): R {
    const value = requireStruct(record.value, PURPOSE);
    const keySchema = this.schemaCache.getOrBuild(value.schema, (schema) => this.keySchema(schema));
    const key = new Struct(keySchema);
    for (const field of this.fields) key.put(field, readField(value, field, this.replaceNullWithDefault));
    return { ...record, keySchema, key, valueSchema: value.schema };
  }

  private keySchema(valueSchema: Schema): Schema {
    const builder = SchemaBuilder.struct();
    for (const name of this.fields) {
      const field = fieldOf(valueSchema, name);
      if (!field) throw new DataException(`Field does not exist: ${name}`);
      builder.field(name, field.schema);
    }
    return builder.build();
  }

  override close(): void {
    this.schemaCache.clear();
  }
}
