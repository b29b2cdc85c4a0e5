// Builds sample values for any schema struct at a version, straight from the schema model:
// non-default values (or nulls and empty lists) for fields in that version, and the value a
// decoder must return, where fields absent from the version carry their defaults.
import {
  defaultsToNull,
  inRange,
  isNullableAt,
  type FieldModel,
  type FieldType,
  type PrimitiveName,
  type StructModel,
} from '../../scripts/codegen/schema-model.js';

export type Variant = 'values' | 'nulls';
type Sample = Record<string, unknown>;

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** Deterministic non-default values: a counter makes every field differ from its neighbours. */
export class SampleBuilder {
  private counter = 0;

  constructor(private readonly variant: Variant) {}

  struct(struct: StructModel, version: number): Sample {
    const out: Sample = {};
    for (const field of struct.fields) {
      if (inRange(field.versions, version)) out[field.property] = this.field(field, version);
    }
    return out;
  }

  private field(field: FieldModel, version: number): unknown {
    if (this.variant === 'nulls' && isNullableAt(field, version)) return null;
    const type = field.type;
    if (type.kind === 'array') {
      if (this.variant === 'nulls') return [];
      return [this.value(field, type.element, version), this.value(field, type.element, version)];
    }
    return this.value(field, type, version);
  }

  private value(field: FieldModel, type: FieldType, version: number): unknown {
    if (type.kind === 'struct') return this.struct(type.struct, version);
    if (type.kind === 'array') throw new Error('nested arrays');
    return this.primitive(type.name, field);
  }

  private primitive(name: PrimitiveName, field: FieldModel): unknown {
    const n = ++this.counter;
    switch (name) {
      case 'int8':
        return 10 + (n % 100);
      case 'int16':
        return 1000 + n;
      case 'int32':
        return 100_000 + n;
      case 'int64':
        return 10_000_000_000n + BigInt(n);
      case 'uint16':
        return 40_000 + n;
      case 'uint32':
        return 3_000_000_000 + n;
      case 'float64':
        return 1.5 + n;
      case 'bool':
        return !(field.defaultText === true || field.defaultText === 'true');
      case 'string':
        return n % 3 === 0 ? `tópico-${n}` : `name-${n}`;
      case 'bytes':
        return Buffer.from([n & 0xff, 1, 2, 3]);
      case 'records':
        return Buffer.from([9, 8, 7, n & 0xff, 6]);
      case 'uuid': {
        const bytes = Buffer.alloc(16, n & 0xff);
        bytes[0] = 0x42;
        return bytes.toString('base64url');
      }
    }
  }
}

/** The value a decoder returns for `sample` at `version`: absent fields take their defaults. */
export function expectedDecoded(struct: StructModel, version: number, sample: Sample): Sample {
  const out: Sample = {};
  for (const field of struct.fields) {
    if (!inRange(field.versions, version)) {
      out[field.property] = defaultValue(field);
      continue;
    }
    const value = sample[field.property];
    out[field.property] = expectedField(field.type, version, value);
  }
  return out;
}

function expectedField(type: FieldType, version: number, value: unknown): unknown {
  if (value === null) return null;
  if (type.kind === 'array') return (value as unknown[]).map((item) => expectedField(type.element, version, item));
  if (type.kind === 'struct') return expectedDecoded(type.struct, version, value as Sample);
  return value;
}

export function defaultValue(field: FieldModel): unknown {
  const type = field.type;
  if (defaultsToNull(field)) return null;
  if (type.kind === 'array') return [];
  if (type.kind === 'struct') return defaultStruct(type.struct);
  const text = field.defaultText;
  switch (type.name) {
    case 'int64':
      return text === undefined ? 0n : BigInt(text as string | number);
    case 'bool':
      return text === true || text === 'true';
    case 'string':
      return text === undefined ? '' : String(text);
    case 'uuid':
      return ZERO_UUID;
    case 'bytes':
      return Buffer.alloc(0);
    case 'records':
      return null;
    default:
      return text === undefined ? 0 : Number(text);
  }
}

export function defaultStruct(struct: StructModel): Sample {
  const out: Sample = {};
  for (const field of struct.fields) out[field.property] = defaultValue(field);
  return out;
}
