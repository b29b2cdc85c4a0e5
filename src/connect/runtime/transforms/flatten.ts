// Flatten$Key / Flatten$Value: flattens nested structs (or schemaless maps) into one level, naming
// each field by joining the names on its path with `delimiter` ('.' by default). Arrays are kept
// as they are; map fields of a struct are refused. A flattened field is optional when it or any
// struct above it is, and takes its default from its own schema or the defaults above it.
import { ConnectConfigDef, type ParsedConfig } from '../../api/config.js';
import { type ConnectRecord, DataException, type Schema, SchemaBuilder, Struct } from '../../api/data.js';
import {
  BaseTransformation,
  copySchemaBasics,
  copySchemaBasicsOf,
  isPlainObject,
  readField,
  requireMap,
  requireStruct,
  type RecordSide,
  type SchemalessMap,
  SchemaCache,
  typeName,
} from './util.js';

const PURPOSE = 'flattening';
const KEPT_TYPES = new Set(['int8', 'int16', 'int32', 'int64', 'float32', 'float64', 'boolean', 'string', 'bytes', 'array']);

const CONFIG_DEF = new ConnectConfigDef().define({
  name: 'delimiter',
  type: 'string',
  defaultValue: '.',
  importance: 'MEDIUM',
  documentation: 'Delimiter to insert between field names from the input record when generating field names for the output record',
});

export class Flatten extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private delimiter = '.';
  private readonly schemaCache = new SchemaCache();

  constructor(private readonly side: RecordSide) {
    super();
  }

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  protected setup(config: ParsedConfig): void {
    this.delimiter = config.string('delimiter');
  }

  private fieldName(prefix: string, name: string): string {
    return prefix === '' ? name : `${prefix}${this.delimiter}${name}`;
  }

  apply<R extends ConnectRecord>(record: R): R {
    const value = this.side.value(record);
    if (value === null || value === undefined) return record;
    const schema = this.side.schema(record);
    if (schema === null) {
      const flattened: SchemalessMap = {};
      this.flattenMap(requireMap(value, PURPOSE), '', flattened);
      return this.side.update(record, null, flattened);
    }
    const struct = requireStruct(value, PURPOSE);
    const updatedSchema = this.schemaCache.getOrBuild(schema, (original) => this.flatSchema(original));
    const flattened = new Struct(updatedSchema);
    this.flattenStruct(struct, '', flattened);
    return this.side.update(record, updatedSchema, flattened);
  }

  private flattenMap(map: SchemalessMap, prefix: string, out: SchemalessMap): void {
    for (const [name, value] of Object.entries(map)) {
      const fieldName = this.fieldName(prefix, name);
      if (isPlainObject(value)) {
        this.flattenMap(value, fieldName, out);
      } else if (value === null || value === undefined || isKeptSchemaless(value)) {
        out[fieldName] = value ?? null;
      } else if (value instanceof Struct) {
        throw new DataException(`Flatten transformation does not support Struct for record without schemas (for field ${fieldName}).`);
      } else {
        throw new DataException(`Flatten transformation was passed a value of type ${typeName(value)} which is not supported by Connect's data API`);
      }
    }
  }

  private flatSchema(schema: Schema): Schema {
    const builder = copySchemaBasics(schema, SchemaBuilder.struct());
    const defaultValue = schema.defaultValue instanceof Struct ? schema.defaultValue : null;
    this.addFlatFields(schema, '', builder, schema.optional, defaultValue);
    return builder.build();
  }

  /** Adds the leaf fields of `schema`, with optionality and defaults inherited from the structs above. */
  private addFlatFields(schema: Schema, prefix: string, builder: SchemaBuilder, optional: boolean, parentDefault: Struct | null): void {
    for (const field of schema.fields!) {
      const fieldName = this.fieldName(prefix, field.name);
      const fieldOptional = optional || field.schema.optional;
      let defaultValue: unknown = field.schema.defaultValue ?? null;
      if (defaultValue === null && parentDefault) defaultValue = readField(parentDefault, field.name, true);
      if (KEPT_TYPES.has(field.schema.type)) {
        const fieldBuilder = copySchemaBasicsOf(field.schema);
        if (fieldOptional) fieldBuilder.optional();
        if (defaultValue !== null) fieldBuilder.defaultValue(defaultValue);
        builder.field(fieldName, fieldBuilder.build());
      } else if (field.schema.type === 'struct') {
        this.addFlatFields(field.schema, fieldName, builder, fieldOptional, defaultValue instanceof Struct ? defaultValue : null);
      } else {
        throw unsupported(field.schema, fieldName);
      }
    }
  }

  private flattenStruct(struct: Struct, prefix: string, out: Struct): void {
    for (const field of struct.schema.fields!) {
      const fieldName = this.fieldName(prefix, field.name);
      const value = readField(struct, field.name, true);
      if (KEPT_TYPES.has(field.schema.type)) {
        out.put(fieldName, value);
      } else if (field.schema.type === 'struct') {
        if (value !== null) this.flattenStruct(requireStruct(value, PURPOSE), fieldName, out);
      } else {
        throw unsupported(field.schema, fieldName);
      }
    }
  }

  override close(): void {
    this.schemaCache.clear();
  }
}

function isKeptSchemaless(value: unknown): boolean {
  return ['boolean', 'string', 'number', 'bigint'].includes(typeof value) || Buffer.isBuffer(value) || Array.isArray(value);
}

function unsupported(schema: Schema, fieldName: string): DataException {
  return new DataException(`Flatten transformation does not support ${schema.type.toUpperCase()} for record with schemas (for field ${fieldName}).`);
}
