// Field paths of KIP-821 (Kafka's transforms.field package): with field.syntax.version=V1 a path is
// one top-level field name; with V2 dots separate nested fields, and a name holding dots is wrapped
// in backticks ("`foo.bar`.baz"), a backtick before a dot inside it escaped with a backslash.
import type { ConnectConfigKey } from '../../api/config.js';
import type { Field, Schema, Struct } from '../../api/data.js';
import { caseInsensitiveValidString, fieldOf, readField, requireMapOrNull, requireStructOrNull, type SchemalessMap, TransformConfigError } from './util.js';

export type FieldSyntaxVersion = 'V1' | 'V2';

export const FIELD_SYNTAX_VERSION = 'field.syntax.version';

export const fieldSyntaxVersionKey: ConnectConfigKey = {
  name: FIELD_SYNTAX_VERSION,
  type: 'string',
  defaultValue: 'V1',
  importance: 'HIGH',
  validator: caseInsensitiveValidString('V1', 'V2'),
  documentation:
    'Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. ' +
    'If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. ' +
    'If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. ' +
    'E.g. to access the subfield `baz` from a field named "foo.bar" in a struct/map the following format can be used to access its elements: "`foo.bar`.baz".',
};

export function fieldSyntaxVersion(text: string): FieldSyntaxVersion {
  return text.toUpperCase() === 'V2' ? 'V2' : 'V1';
}

/** One path to a (possibly nested) field. */
export class SingleFieldPath {
  readonly steps: readonly string[];

  /** Throws a config error for an unclosed backtick. */
  constructor(path: string, version: FieldSyntaxVersion) {
    this.steps = version === 'V1' ? [path] : parseV2(path);
  }

  private get parents(): readonly string[] {
    return this.steps.slice(0, -1);
  }

  private get last(): string {
    return this.steps[this.steps.length - 1]!;
  }

  /** The field at this path in a struct schema, or null. */
  fieldFrom(schema: Schema): Field | null {
    let current = schema;
    for (const step of this.parents) {
      const field = fieldOf(current, step);
      if (!field) return null;
      current = field.schema;
    }
    return fieldOf(current, this.last) ?? null;
  }

  /** The value at this path in a struct, or null when a step is missing or null. */
  valueFromStruct(struct: Struct, replaceNullWithDefault: boolean): unknown {
    let current = struct;
    for (const step of this.parents) {
      if (!fieldOf(current.schema, step)) return null;
      const next = requireStructOrNull(readField(current, step, true), 'nested field access');
      if (!next) return null;
      current = next;
    }
    return fieldOf(current.schema, this.last) ? readField(current, this.last, replaceNullWithDefault) : null;
  }

  /** The value at this path in a schemaless map, or null. */
  valueFromMap(map: SchemalessMap): unknown {
    let current = map;
    for (const step of this.parents) {
      const next = requireMapOrNull(current[step], 'nested field access');
      if (!next) return null;
      current = next;
    }
    return current[this.last] ?? null;
  }
}

/** Splits a V2 path into steps (see the header). */
function parseV2(path: string): string[] {
  const steps: string[] = [];
  let index = 0;
  while (index < path.length) {
    if (path[index] === '`') {
      const [step, next] = readBackticked(path, index);
      steps.push(step);
      index = next;
    } else {
      const dot = path.indexOf('.', index);
      steps.push(path.slice(index, dot < 0 ? path.length : dot));
      index = dot < 0 ? path.length : dot + 1;
    }
  }
  if (path.endsWith('.')) steps.push('');
  return steps;
}

/** The name inside the backticks opening at `open`, and the index after its closing backtick and dot. */
function readBackticked(path: string, open: number): [string, number] {
  let name = '';
  let start = open + 1;
  for (let index = path.indexOf('`', start); ; index = path.indexOf('`', index + 1)) {
    if (index < 0) throw incomplete(path, open);
    const escaped = path[index - 1] === '\\';
    if (index === path.length - 1) {
      if (escaped) throw incomplete(path, open);
      return [name + path.slice(start, index), index + 1];
    }
    if (path[index + 1] !== '.') continue; // a backtick inside the name
    if (escaped) {
      name += `${path.slice(start, index - 1)}\``;
      start = index + 1;
      continue;
    }
    return [name + path.slice(start, index), index + 2];
  }
}

function incomplete(path: string, at: number): TransformConfigError {
  return new TransformConfigError(
    `Incomplete backtick pair in path: [${path}], consider adding a backslash before backtick at position ${at} to escape it`,
  );
}
