// Connect schemas as JsonConverter writes them in its envelope's "schema" (Kafka's JsonSchema):
//   {"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"..."}
// Type names are Connect's except float32 → "float" and float64 → "double"; arrays have "items",
// maps "keys" and "values", structs "fields" (each a schema plus its "field" name). Then come
// "optional", and when present "name", "version", "doc", "parameters" and "default" (the default
// value in the payload's own JSON form), in that order.
import { DataException, type Schema, SchemaBuilder, type SchemaType } from '../../api/data.js';
import { isIntegralText, JSON_FALSE, JSON_TRUE, jsonArray, type JsonNode, jsonNumber, jsonObject, type JsonObject, jsonString } from './json-text.js';
import { fromJsonNode, type JsonValueOptions, toJsonNode } from './json-values.js';

const JSON_TYPE_NAMES: Readonly<Record<SchemaType, string>> = {
  int8: 'int8', int16: 'int16', int32: 'int32', int64: 'int64', float32: 'float', float64: 'double',
  boolean: 'boolean', string: 'string', bytes: 'bytes', array: 'array', map: 'map', struct: 'struct',
};
const CONNECT_TYPES: ReadonlyMap<string, SchemaType> = new Map(Object.entries(JSON_TYPE_NAMES).map(([type, name]) => [name, type as SchemaType]));

/** A schema's JSON form (Kafka's asJsonSchema); `nested` converts inner schemas (and may cache them). */
export function schemaToJson(schema: Schema, options: JsonValueOptions, nested: (schema: Schema) => JsonObject = (inner) => schemaToJson(inner, options, nested)): JsonObject {
  const entries: [string, JsonNode][] = [['type', jsonString(JSON_TYPE_NAMES[schema.type])]];
  if (schema.type === 'array') entries.push(['items', nestedOrNull(schema.valueSchema, nested)]);
  if (schema.type === 'map') entries.push(['keys', nestedOrNull(schema.keySchema, nested)], ['values', nestedOrNull(schema.valueSchema, nested)]);
  if (schema.type === 'struct') entries.push(['fields', jsonArray(schema.fields!.map((field) => withFieldName(nested(field.schema), field.name)))]);
  entries.push(['optional', schema.optional ? JSON_TRUE : JSON_FALSE]);
  if (schema.name !== undefined) entries.push(['name', jsonString(schema.name)]);
  if (schema.version !== undefined) entries.push(['version', jsonNumber(String(schema.version))]);
  if (schema.doc !== undefined) entries.push(['doc', jsonString(schema.doc)]);
  if (schema.parameters !== undefined) entries.push(['parameters', jsonObject(Object.entries(schema.parameters).map(([key, value]) => [key, jsonString(value)] as const))]);
  if (schema.defaultValue !== undefined && schema.defaultValue !== null) entries.push(['default', toJsonNode(schema, schema.defaultValue, options)]);
  return jsonObject(entries);
}

function nestedOrNull(schema: Schema | undefined, nested: (schema: Schema) => JsonObject): JsonNode {
  return schema === undefined ? { kind: 'null' } : nested(schema);
}

function withFieldName(fieldSchema: JsonObject, name: string): JsonObject {
  const fields = new Map(fieldSchema.fields);
  fields.delete('field');
  fields.set('field', jsonString(name));
  return { kind: 'object', fields };
}

/** The schema a JSON schema describes (Kafka's asConnectSchema); null for a JSON null. */
export function schemaFromJson(node: JsonNode, options: JsonValueOptions, nested: (node: JsonNode) => Schema | null = (inner) => schemaFromJson(inner, options, nested)): Schema | null {
  if (node.kind === 'null') return null;
  const fields = node.kind === 'object' ? node.fields : new Map<string, JsonNode>();
  const typeNode = fields.get('type');
  if (typeNode?.kind !== 'string') throw new DataException("Schema must contain 'type' field");
  const builder = builderFor(typeNode.value, fields, nested);
  applyAttributes(builder, fields);
  const defaultNode = fields.get('default');
  if (defaultNode !== undefined) {
    const defaultValue = fromJsonNode(builder.build(), defaultNode, options);
    if (defaultValue !== null) builder.defaultValue(defaultValue);
  }
  return builder.build();
}

function builderFor(typeName: string, fields: ReadonlyMap<string, JsonNode>, nested: (node: JsonNode) => Schema | null): SchemaBuilder {
  const type = CONNECT_TYPES.get(typeName);
  if (type === undefined) throw new DataException(`Unknown schema type: ${typeName}`);
  switch (type) {
    case 'array': {
      const items = innerSchema(fields.get('items'), nested);
      if (!items) throw new DataException('Array schema did not specify the element type');
      return SchemaBuilder.array(items);
    }
    case 'map': {
      const keys = innerSchema(fields.get('keys'), nested);
      if (!keys) throw new DataException('Map schema did not specify the key type');
      const values = innerSchema(fields.get('values'), nested);
      if (!values) throw new DataException('Map schema did not specify the value type');
      return SchemaBuilder.map(keys, values);
    }
    case 'struct': return structBuilder(fields.get('fields'), nested);
    default: return SchemaBuilder.type(type);
  }
}

function innerSchema(node: JsonNode | undefined, nested: (node: JsonNode) => Schema | null): Schema | null {
  return node === undefined ? null : nested(node);
}

function structBuilder(fieldsNode: JsonNode | undefined, nested: (node: JsonNode) => Schema | null): SchemaBuilder {
  if (fieldsNode?.kind !== 'array') throw new DataException('Struct schema\'s "fields" argument is not an array.');
  const builder = SchemaBuilder.struct();
  for (const fieldNode of fieldsNode.items) {
    const name = fieldNode.kind === 'object' ? fieldNode.fields.get('field') : undefined;
    if (name?.kind !== 'string') throw new DataException("Struct schema's field name not specified properly");
    const fieldSchema = nested(fieldNode);
    if (!fieldSchema) throw new DataException(`Struct schema's field ${name.value} has no schema`);
    builder.field(name.value, fieldSchema);
  }
  return builder;
}

/** optional, name, version, doc and parameters; entries of the wrong JSON kind are ignored, as Kafka does. */
function applyAttributes(builder: SchemaBuilder, fields: ReadonlyMap<string, JsonNode>): void {
  const optional = fields.get('optional');
  if (optional?.kind === 'boolean' && optional.value) builder.optional();
  const name = fields.get('name');
  if (name?.kind === 'string') builder.name(name.value);
  const version = fields.get('version');
  if (version?.kind === 'number' && isIntegralText(version.text)) builder.version(Number(BigInt.asIntN(32, BigInt(version.text))));
  const doc = fields.get('doc');
  if (doc?.kind === 'string') builder.doc(doc.value);
  const parameters = fields.get('parameters');
  if (parameters?.kind === 'object') {
    for (const [key, value] of parameters.fields) {
      if (value.kind !== 'string') throw new DataException('Schema parameters must have string values.');
      builder.parameter(key, value.value);
    }
  }
}
