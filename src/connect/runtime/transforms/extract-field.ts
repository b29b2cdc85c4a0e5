// ExtractField$Key / ExtractField$Value: replaces the key or value with one of its fields (a nested
// one with field.syntax.version=V2), from a struct or a schemaless map; the new schema is the
// field's. A null key or value stays null; with a schema, an unknown field fails even then.
import { ConnectConfigDef, type ParsedConfig } from '../../api/config.js';
import type { ConnectRecord } from '../../api/data.js';
import { FIELD_SYNTAX_VERSION, fieldSyntaxVersion, fieldSyntaxVersionKey, SingleFieldPath } from './field-path.js';
import {
  BaseTransformation,
  REPLACE_NULL_WITH_DEFAULT,
  replaceNullWithDefaultKey,
  requireMapOrNull,
  requireStructOrNull,
  type RecordSide,
} from './util.js';

const PURPOSE = 'field extraction';

const CONFIG_DEF = new ConnectConfigDef()
  .define({ name: 'field', type: 'string', importance: 'MEDIUM', documentation: 'Field name to extract.' })
  .define(replaceNullWithDefaultKey)
  .define(fieldSyntaxVersionKey);

export class ExtractField extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private path = new SingleFieldPath('', 'V1');
  private originalPath = '';
  private replaceNullWithDefault = true;

  constructor(private readonly side: RecordSide) {
    super();
  }

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  protected setup(config: ParsedConfig): void {
    this.originalPath = config.string('field');
    this.path = new SingleFieldPath(this.originalPath, fieldSyntaxVersion(config.string(FIELD_SYNTAX_VERSION)));
    this.replaceNullWithDefault = config.boolean(REPLACE_NULL_WITH_DEFAULT);
  }

  apply<R extends ConnectRecord>(record: R): R {
    const schema = this.side.schema(record);
    const value = this.side.value(record);
    if (schema === null) {
      const map = requireMapOrNull(value, PURPOSE);
      return this.side.update(record, null, map === null ? null : this.path.valueFromMap(map));
    }
    const struct = requireStructOrNull(value, PURPOSE);
    const field = this.path.fieldFrom(schema);
    if (!field) throw new Error(`Unknown field: ${this.originalPath}`);
    return this.side.update(record, field.schema, struct === null ? null : this.path.valueFromStruct(struct, this.replaceNullWithDefault));
  }
}
