// MaskField$Key / MaskField$Value: replaces the listed fields' values with an empty value of their
// type (0, false, '', empty array or map, the epoch for a date), or with `replacement` converted
// to the field's type (numbers and strings only). Null field values stay null. As Kafka's, a
// schemaless map gains the listed fields it lacks, with null values.
import { ConnectConfigDef, type ParsedConfig, Validators } from '../../api/config.js';
import { type ConnectRecord, DataException, Decimal, type SchemaType, Struct } from '../../api/data.js';
import {
  BaseTransformation,
  isPlainObject,
  readField,
  REPLACE_NULL_WITH_DEFAULT,
  replaceNullWithDefaultKey,
  requireMap,
  requireStruct,
  type RecordSide,
  stringOrNull,
  typeName,
} from './util.js';
import { toDecimal } from './values.js';

const PURPOSE = 'mask fields';

const CONFIG_DEF = new ConnectConfigDef()
  .define({ name: 'fields', type: 'list', importance: 'HIGH', documentation: 'Names of fields to mask.', validator: Validators.nonEmptyList() })
  .define({
    name: 'replacement',
    type: 'string',
    defaultValue: null,
    importance: 'LOW',
    documentation: "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).",
    validator: (name, value) => (value === null ? undefined : Validators.nonEmptyString()(name, value)),
  })
  .define(replaceNullWithDefaultKey);

/** The type a value is masked as: its field schema's type, or (schemaless) what the value looks like. */
function inferredType(value: unknown): SchemaType | 'decimal' | 'date' | null {
  if (value instanceof Decimal) return 'decimal';
  if (value instanceof Date) return 'date';
  switch (typeof value) {
    case 'boolean': return 'boolean';
    case 'string': return 'string';
    case 'bigint': return 'int64';
    case 'number': return Number.isInteger(value) ? 'int64' : 'float64';
    default: return null;
  }
}

function emptyValue(value: unknown, type: ReturnType<typeof inferredType>): unknown {
  if (Array.isArray(value)) return [];
  if (value instanceof Map) return new Map();
  if (isPlainObject(value)) return {};
  switch (type) {
    case 'boolean': return false;
    case 'string': return '';
    case 'date': return new Date(0);
    case 'decimal': return new Decimal(0n, (value as Decimal).scale);
    case 'int64': return typeof value === 'bigint' ? 0n : 0;
    case 'int8': case 'int16': case 'int32': case 'float32': case 'float64': return 0;
    default: throw new DataException(`Cannot mask value of type: ${typeName(value)}`);
  }
}

function replacementValue(value: unknown, type: ReturnType<typeof inferredType>, replacement: string): unknown {
  const number = () => {
    const parsed = Number(replacement.trim());
    if (replacement.trim() === '' || Number.isNaN(parsed)) throw new DataException(`Unable to convert ${replacement} (string) to number`);
    return parsed;
  };
  switch (type) {
    case 'string': return replacement;
    case 'int8': case 'int16': case 'int32': return Math.trunc(number());
    case 'int64': return typeof value === 'bigint' ? BigInt(Math.trunc(number())) : Math.trunc(number());
    case 'float32': return Math.fround(number());
    case 'float64': return number();
    case 'decimal':
      try {
        return toDecimal(replacement);
      } catch {
        throw new DataException(`Unable to convert ${replacement} (string) to number`);
      }
    default: throw new DataException(`Cannot mask value of type ${typeName(value)} with custom replacement.`);
  }
}

export class MaskField extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private maskedFields = new Set<string>();
  private replacement: string | null = null;
  private replaceNullWithDefault = true;

  constructor(private readonly side: RecordSide) {
    super();
  }

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  protected setup(config: ParsedConfig): void {
    this.maskedFields = new Set(config.list('fields'));
    this.replacement = stringOrNull(config, 'replacement');
    this.replaceNullWithDefault = config.boolean(REPLACE_NULL_WITH_DEFAULT);
  }

  apply<R extends ConnectRecord>(record: R): R {
    const value = this.side.value(record);
    return this.side.schema(record) === null ? this.applySchemaless(record, value) : this.applyWithSchema(record, value);
  }

  private applySchemaless<R extends ConnectRecord>(record: R, value: unknown): R {
    const original = requireMap(value, PURPOSE);
    const updated = { ...original };
    for (const field of this.maskedFields) updated[field] = this.masked(original[field], inferredType(original[field]));
    return this.side.update(record, null, updated);
  }

  private applyWithSchema<R extends ConnectRecord>(record: R, value: unknown): R {
    const struct = requireStruct(value, PURPOSE);
    const updated = new Struct(struct.schema);
    for (const field of struct.schema.fields!) {
      const original = readField(struct, field.name, this.replaceNullWithDefault);
      const type = original instanceof Decimal || original instanceof Date ? inferredType(original) : field.schema.type;
      updated.put(field.name, this.maskedFields.has(field.name) ? this.masked(original, type) : original);
    }
    return this.side.update(record, struct.schema, updated);
  }

  private masked(value: unknown, type: ReturnType<typeof inferredType>): unknown {
    if (value === null || value === undefined) return null;
    return this.replacement === null ? emptyValue(value, type) : replacementValue(value, type, this.replacement);
  }
}
