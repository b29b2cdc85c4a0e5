// Reduces one of Apache Kafka's message spec files to the protocol facts Conveyor keeps in
// schemas/: names, types, version ranges, tags and defaults. Descriptions and comments stay behind.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The spec folders the project keeps facts from. */
export const SPEC_FOLDERS = ['message', 'metadata', 'group-coordinator', 'transaction-coordinator'] as const;

const MESSAGE_KEYS = ['apiKey', 'type', 'name', 'validVersions', 'flexibleVersions', 'fields', 'commonStructs'];
// A field's own flexibleVersions occurs once: RequestHeader's ClientId, which stays an INT16 string.
const FIELD_KEYS = ['name', 'type', 'versions', 'nullableVersions', 'taggedVersions', 'tag', 'default', 'ignorable', 'flexibleVersions', 'fields'];
const COMMON_STRUCT_KEYS = ['name', 'versions', 'fields'];

export type JsonObject = { [key: string]: unknown };

/** Removes `//` comments outside of strings, which Kafka's spec files carry before and inside the JSON. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (inString) {
      out += char;
      if (char === '\\') out += text[++index] ?? '';
      else if (char === '"') inString = false;
    } else if (char === '/' && text[index + 1] === '/') {
      while (index < text.length && text[index] !== '\n') index++;
      out += '\n';
    } else {
      if (char === '"') inString = true;
      out += char;
    }
  }
  return out;
}

function pick(source: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of keys) {
    if (source[key] === undefined) continue;
    out[key] = key === 'fields' ? (source[key] as JsonObject[]).map(fieldFacts) : source[key];
  }
  return out;
}

function fieldFacts(field: JsonObject): JsonObject {
  return pick(field, FIELD_KEYS);
}

export function specFacts(spec: JsonObject): JsonObject {
  const facts = pick(spec, MESSAGE_KEYS);
  if (Array.isArray(spec.commonStructs)) {
    facts.commonStructs = (spec.commonStructs as JsonObject[]).map((struct) => pick(struct, COMMON_STRUCT_KEYS));
  }
  return facts;
}

/** Every spec file of the kept folders as facts, keyed by `<folder>/<Name>.json`. */
export function readSpecFacts(specsDir: string): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  for (const folder of SPEC_FOLDERS) {
    for (const file of readdirSync(join(specsDir, folder)).sort()) {
      if (!file.endsWith('.json')) continue;
      const spec = JSON.parse(stripComments(readFileSync(join(specsDir, folder, file), 'utf8'))) as JsonObject;
      out.set(`${folder}/${file}`, specFacts(spec));
    }
  }
  return out;
}

/** Stable, reviewable JSON: one field per line, nested fields indented. */
export function formatFacts(facts: JsonObject): string {
  const lines = ['{'];
  const keys = Object.keys(facts);
  keys.forEach((key, index) => {
    const comma = index < keys.length - 1 ? ',' : '';
    const value = facts[key];
    if (key === 'fields' || key === 'commonStructs') {
      lines.push(`  ${JSON.stringify(key)}: [`, ...formatFields(value as JsonObject[], '    '), `  ]${comma}`);
    } else {
      lines.push(`  ${JSON.stringify(key)}: ${JSON.stringify(value)}${comma}`);
    }
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function formatFields(fields: JsonObject[], indent: string): string[] {
  const lines: string[] = [];
  fields.forEach((field, index) => {
    const comma = index < fields.length - 1 ? ',' : '';
    const { fields: children, ...scalars } = field;
    const head = Object.entries(scalars)
      .map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`)
      .join(', ');
    if (Array.isArray(children)) {
      lines.push(`${indent}{ ${head}, "fields": [`, ...formatFields(children as JsonObject[], `${indent}  `), `${indent}]}${comma}`);
    } else {
      lines.push(`${indent}{ ${head} }${comma}`);
    }
  });
  return lines;
}
