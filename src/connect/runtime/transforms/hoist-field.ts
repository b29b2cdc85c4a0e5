// HoistField$Key / HoistField$Value: wraps the key or value in a struct (or schemaless map) with
// one field of the configured name; the wrapping struct schema is cached per input schema.
import { ConnectConfigDef, type ParsedConfig } from '../../api/config.js';
import { type ConnectRecord, SchemaBuilder, Struct } from '../../api/data.js';
import { BaseTransformation, type RecordSide, SchemaCache } from './util.js';

const CONFIG_DEF = new ConnectConfigDef().define({
  name: 'field',
  type: 'string',
  importance: 'MEDIUM',
  documentation: 'Field name for the single field that will be created in the resulting Struct or Map.',
});

export class HoistField extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private fieldName = '';
  private readonly schemaCache = new SchemaCache();

  constructor(private readonly side: RecordSide) {
    super();
  }

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  protected setup(config: ParsedConfig): void {
    this.fieldName = config.string('field');
  }

  apply<R extends ConnectRecord>(record: R): R {
    const schema = this.side.schema(record);
    const value = this.side.value(record) ?? null;
    if (schema === null) return this.side.update(record, null, { [this.fieldName]: value });
    const updatedSchema = this.schemaCache.getOrBuild(schema, (inner) => SchemaBuilder.struct().field(this.fieldName, inner).build());
    return this.side.update(record, updatedSchema, new Struct(updatedSchema).put(this.fieldName, value));
  }

  override close(): void {
    this.schemaCache.clear();
  }
}
