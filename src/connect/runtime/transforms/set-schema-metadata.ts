// SetSchemaMetadata$Key / SetSchemaMetadata$Value: sets the name and/or version of the key's or
// value's schema, keeping everything else; a struct is copied onto the renamed schema. A record
// without a schema fails, unless its key or value is null too (then it passes unchanged).
import { ConnectConfigDef, type ParsedConfig } from '../../api/config.js';
import { type ConnectRecord, type Schema, SchemaBuilder, Struct } from '../../api/data.js';
import {
  BaseTransformation,
  readField,
  REPLACE_NULL_WITH_DEFAULT,
  replaceNullWithDefaultKey,
  type RecordSide,
  requireSchema,
  stringOrNull,
  TransformConfigError,
} from './util.js';

const CONFIG_DEF = new ConnectConfigDef()
  .define({ name: 'schema.name', type: 'string', defaultValue: null, importance: 'HIGH', documentation: 'Schema name to set.' })
  .define({ name: 'schema.version', type: 'int', defaultValue: null, importance: 'HIGH', documentation: 'Schema version to set.' })
  .define(replaceNullWithDefaultKey);

export class SetSchemaMetadata extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private schemaName: string | null = null;
  private schemaVersion: number | null = null;
  private replaceNullWithDefault = true;

  constructor(private readonly side: RecordSide) {
    super();
  }

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  protected setup(config: ParsedConfig): void {
    this.schemaName = stringOrNull(config, 'schema.name');
    this.schemaVersion = Object.hasOwn(config.originals, 'schema.version') ? config.number('schema.version') : null;
    this.replaceNullWithDefault = config.boolean(REPLACE_NULL_WITH_DEFAULT);
    if (this.schemaName === null && this.schemaVersion === null) throw new TransformConfigError('Neither schema name nor version configured');
  }

  apply<R extends ConnectRecord>(record: R): R {
    const value = this.side.value(record);
    const schema = this.side.schema(record);
    if ((value === null || value === undefined) && schema === null) return record;
    const updatedSchema = this.updatedSchema(requireSchema(schema, 'updating schema metadata'));
    return this.side.update(record, updatedSchema, this.withSchema(value, updatedSchema));
  }

  private updatedSchema(schema: Schema): Schema {
    const builder = SchemaBuilder.from(schema);
    if (this.schemaName !== null) builder.name(this.schemaName);
    if (this.schemaVersion !== null) builder.version(this.schemaVersion);
    return builder.build();
  }

  /** A struct copied onto the updated schema (same fields); any other value as it is. */
  private withSchema(value: unknown, schema: Schema): unknown {
    if (!(value instanceof Struct)) return value;
    const updated = new Struct(schema);
    for (const field of schema.fields!) updated.put(field.name, readField(value, field.name, this.replaceNullWithDefault));
    return updated;
  }
}
