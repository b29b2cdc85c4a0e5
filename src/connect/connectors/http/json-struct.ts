// Connect schemas inferred from JSON records, for http.value.format=struct: sinks such as the
// PostgreSQL (JDBC) sink need Struct values with schemas, and a REST API's JSON has none. Each
// record's schema comes from that record alone:
//   - a string is an optional string, a boolean an optional boolean, an integer within int64's
//     range an optional int64 (a bigint value), any other number an optional float64;
//   - an object is an optional struct, its fields in the record's order (as JSON.parse keeps
//     them: JavaScript lists integer-like keys such as "7" first), recursively;
//   - an array is an optional array of its elements' schema when they agree, else its JSON text
//     as an optional string. Elements agree when their kinds are equal, integers and other
//     numbers agreeing as float64, structs when their fields have the same names in the same
//     order and agree field by field; null elements agree with anything;
//   - null is an optional string field with a null value. Leaving the field out would make an
//     upsert sink keep the column's old value (the record would not mention it), so a cleared
//     field in the API would never clear the row; an optional field with null clears it.
// Every schema is optional and unnamed, so records of equal shapes get equal schemas (the same
// frozen object, from a small cache, so converters and sinks that cache by schema hit).
// JSON.parse cannot tell 2.0 from 2: a number with no fraction is an integer. An API whose float
// field sometimes has a whole value gives that record an int64 field where others have float64.
import { type Schema, SchemaBuilder, Schemas, Struct } from '../../api/data.js';

/** What a JSON value looks like; `null` (no kind yet) agrees with every other shape. */
type Shape =
  | { readonly kind: 'null' | 'string' | 'int' | 'float' | 'boolean' | 'text' }
  | { readonly kind: 'struct'; readonly fields: readonly (readonly [string, Shape])[] }
  | { readonly kind: 'array'; readonly element: Shape };

const NULL: Shape = { kind: 'null' };
const STRING: Shape = { kind: 'string' };
const INT: Shape = { kind: 'int' };
const FLOAT: Shape = { kind: 'float' };
const BOOLEAN: Shape = { kind: 'boolean' };
/** An array whose elements disagree: its JSON text. */
const TEXT: Shape = { kind: 'text' };

const INT64_LIMIT = 2 ** 63;
/** Distinct shapes whose schemas are kept; beyond it the cache starts over (bounded memory). */
const CACHE_LIMIT = 1000;

export interface SchemaAndJsonValue {
  readonly schema: Schema;
  readonly value: unknown;
}

/** Infers schemas and builds Connect values; one per task (it caches schemas by shape). */
export class JsonStructs {
  private readonly schemas = new Map<string, Schema>();

  /** The record as a Connect value with its schema: an object as a Struct, other JSON as its kind. */
  of(json: unknown): SchemaAndJsonValue {
    const shape = shapeOf(json);
    return { schema: this.schema(shape), value: this.valueOf(json, shape) };
  }

  /** `json` as the Connect value of `shape` (which it fits); nested Structs get their schemas from the cache too. */
  private valueOf(json: unknown, shape: Shape): unknown {
    if (json === null || json === undefined) return null;
    switch (shape.kind) {
      case 'int': return BigInt(json as number);
      case 'text': return JSON.stringify(json);
      case 'array': return (json as unknown[]).map((item) => this.valueOf(item, shape.element));
      case 'struct': {
        const struct = new Struct(this.schema(shape));
        const fields = json as Record<string, unknown>;
        for (const [name, field] of shape.fields) struct.put(name, this.valueOf(fields[name], field));
        return struct;
      }
      default: return json;
    }
  }

  private schema(shape: Shape): Schema {
    const signature = signatureOf(shape);
    const cached = this.schemas.get(signature);
    if (cached) return cached;
    const built = this.build(shape);
    if (this.schemas.size >= CACHE_LIMIT) this.schemas.clear();
    this.schemas.set(signature, built);
    return built;
  }

  private build(shape: Shape): Schema {
    switch (shape.kind) {
      case 'null': case 'string': case 'text': return Schemas.OPTIONAL_STRING;
      case 'int': return Schemas.OPTIONAL_INT64;
      case 'float': return Schemas.OPTIONAL_FLOAT64;
      case 'boolean': return Schemas.OPTIONAL_BOOLEAN;
      case 'array': return SchemaBuilder.array(this.schema(shape.element)).optional().build();
      case 'struct': {
        const builder = SchemaBuilder.struct().optional();
        for (const [name, field] of shape.fields) builder.field(name, this.schema(field));
        return builder.build();
      }
    }
  }
}

function shapeOf(json: unknown): Shape {
  if (json === null || json === undefined) return NULL;
  switch (typeof json) {
    case 'string': return STRING;
    case 'boolean': return BOOLEAN;
    case 'number': return isInt64(json) ? INT : FLOAT;
    case 'object': {
      if (Array.isArray(json)) {
        let element: Shape | null = NULL;
        for (const item of json) {
          element = agree(element, shapeOf(item));
          if (element === null) return TEXT;
        }
        return { kind: 'array', element };
      }
      return { kind: 'struct', fields: Object.entries(json as Record<string, unknown>).map(([name, value]) => [name, shapeOf(value)] as const) };
    }
    default: return STRING;
  }
}

/** The shape both fit, or null when they disagree. */
function agree(a: Shape, b: Shape): Shape | null {
  if (a.kind === 'null') return b;
  if (b.kind === 'null') return a;
  if ((a.kind === 'int' && b.kind === 'float') || (a.kind === 'float' && b.kind === 'int')) return FLOAT;
  if (a.kind !== b.kind) return null;
  if (a.kind === 'array' && b.kind === 'array') {
    const element = agree(a.element, b.element);
    return element === null ? null : { kind: 'array', element };
  }
  if (a.kind === 'struct' && b.kind === 'struct') {
    if (a.fields.length !== b.fields.length) return null;
    const fields: (readonly [string, Shape])[] = [];
    for (let index = 0; index < a.fields.length; index++) {
      const [name, left] = a.fields[index]!;
      const [otherName, right] = b.fields[index]!;
      if (name !== otherName) return null;
      const field = agree(left, right);
      if (field === null) return null;
      fields.push([name, field]);
    }
    return { kind: 'struct', fields };
  }
  return a;
}

function isInt64(value: number): boolean {
  return Number.isInteger(value) && value >= -INT64_LIMIT && value < INT64_LIMIT;
}

function signatureOf(shape: Shape): string {
  switch (shape.kind) {
    case 'array': return `[${signatureOf(shape.element)}]`;
    case 'struct': return `{${shape.fields.map(([name, field]) => `${JSON.stringify(name)}:${signatureOf(field)}`).join(',')}}`;
    default: return shape.kind === 'text' || shape.kind === 'null' ? 'string' : shape.kind;
  }
}
