// The generator's view of a schema file: version ranges, field types, structs and defaults,
// resolved from the facts in schemas/. Shared by the code generator and the round-trip tests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface VersionRange {
  readonly low: number;
  /** Infinity for an open range ("3+"); below `low` for an empty one ("none"). */
  readonly high: number;
}

export const NO_VERSIONS: VersionRange = { low: 0, high: -1 };

export function parseVersions(text: string | undefined, fallback: VersionRange): VersionRange {
  if (text === undefined) return fallback;
  if (text === 'none') return NO_VERSIONS;
  if (text.endsWith('+')) return { low: Number(text.slice(0, -1)), high: Infinity };
  const [low, high] = text.split('-');
  return { low: Number(low), high: Number(high ?? low) };
}

export function inRange(range: VersionRange, version: number): boolean {
  return version >= range.low && version <= range.high;
}

export const PRIMITIVE_TYPES = [
  'int8', 'int16', 'int32', 'int64', 'uint16', 'uint32', 'float64', 'bool', 'string', 'bytes', 'records', 'uuid',
] as const;
export type PrimitiveName = (typeof PRIMITIVE_TYPES)[number];

export type FieldType =
  | { readonly kind: 'primitive'; readonly name: PrimitiveName }
  | { readonly kind: 'struct'; readonly struct: StructModel }
  | { readonly kind: 'array'; readonly element: FieldType };

export interface FieldModel {
  /** Kafka's field name, e.g. MaxWaitMs. */
  readonly name: string;
  /** The TypeScript property: the Kafka name with its first character lower-cased. */
  readonly property: string;
  readonly type: FieldType;
  readonly versions: VersionRange;
  readonly nullableVersions: VersionRange;
  readonly taggedVersions: VersionRange;
  readonly tag: number | undefined;
  readonly defaultText: string | number | boolean | undefined;
}

export interface StructModel {
  /** The schema's struct name; the root struct carries the message name. */
  readonly name: string;
  /** Name of the TypeScript interface, prefixed when two structs of one file collide. */
  typeName: string;
  readonly fields: FieldModel[];
  /** Message versions in which this struct can appear. */
  readonly presentVersions: Set<number>;
}

export interface MessageModel {
  readonly name: string;
  readonly kind: string;
  readonly apiKey: number | undefined;
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange;
  readonly root: StructModel;
  /** Nested and common structs, in order of first appearance. */
  readonly structs: StructModel[];
  /** The schemas/ subfolder this message came from. */
  readonly folder: string;
}

interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  fields?: RawField[];
}

interface RawMessage {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: RawField[];
  commonStructs?: { name: string; versions?: string; fields: RawField[] }[];
}

export function versionList(range: VersionRange): number[] {
  const out: number[] = [];
  for (let version = range.low; version <= range.high; version++) out.push(version);
  return out;
}

export function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function buildMessage(raw: RawMessage, folder: string): MessageModel {
  const validVersions = parseVersions(raw.validVersions, NO_VERSIONS);
  const structs: StructModel[] = [];
  const byName = new Map<string, StructModel>();
  const common = new Map((raw.commonStructs ?? []).map((struct) => [struct.name, struct.fields]));

  const defineStruct = (name: string, rawFields: RawField[], nested = true): StructModel => {
    const struct: StructModel = { name, typeName: name, fields: [], presentVersions: new Set() };
    byName.set(name, struct);
    if (nested) structs.push(struct);
    struct.fields.push(...rawFields.map(buildField));
    return struct;
  };

  const resolveType = (typeText: string, rawField: RawField): FieldType => {
    if (typeText.startsWith('[]')) return { kind: 'array', element: resolveType(typeText.slice(2), rawField) };
    if ((PRIMITIVE_TYPES as readonly string[]).includes(typeText)) return { kind: 'primitive', name: typeText as PrimitiveName };
    let struct = byName.get(typeText);
    if (rawField.fields !== undefined) {
      if (struct !== undefined) throw new Error(`${raw.name}: struct ${typeText} defined twice`);
      struct = defineStruct(typeText, rawField.fields);
    } else if (struct === undefined) {
      const commonFields = common.get(typeText);
      if (commonFields === undefined) throw new Error(`${raw.name}: unknown type ${typeText}`);
      struct = defineStruct(typeText, commonFields);
    }
    return { kind: 'struct', struct };
  };

  const buildField = (rawField: RawField): FieldModel => {
    const taggedVersions = parseVersions(rawField.taggedVersions, NO_VERSIONS);
    // Kafka lets a tagged field omit "versions"; it then exists exactly in its tagged versions.
    const versions = parseVersions(rawField.versions, taggedVersions);
    return {
      name: rawField.name,
      property: lowerFirst(rawField.name),
      type: resolveType(rawField.type, rawField),
      versions,
      nullableVersions: parseVersions(rawField.nullableVersions, NO_VERSIONS),
      taggedVersions,
      tag: rawField.tag,
      defaultText: rawField.default,
    };
  };

  const root = defineStruct(raw.name, raw.fields, false);
  markPresence(root, new Set(versionList(validVersions)));
  return {
    name: raw.name,
    kind: raw.type,
    apiKey: raw.apiKey,
    validVersions,
    flexibleVersions: parseVersions(raw.flexibleVersions, NO_VERSIONS),
    root,
    structs,
    folder,
  };
}

function markPresence(struct: StructModel, versions: Set<number>): void {
  let grew = false;
  for (const version of versions) {
    if (!struct.presentVersions.has(version)) {
      struct.presentVersions.add(version);
      grew = true;
    }
  }
  if (!grew) return;
  for (const field of struct.fields) {
    const child = structOf(field.type);
    if (child === undefined) continue;
    markPresence(child, new Set([...struct.presentVersions].filter((version) => inRange(field.versions, version))));
  }
}

export function structOf(type: FieldType): StructModel | undefined {
  if (type.kind === 'struct') return type.struct;
  if (type.kind === 'array') return structOf(type.element);
  return undefined;
}

/** Required in TypeScript: present in every version where its struct appears, and never tagged. */
export function isRequired(field: FieldModel, struct: StructModel): boolean {
  if (field.taggedVersions.high >= field.taggedVersions.low) return false;
  for (const version of struct.presentVersions) if (!inRange(field.versions, version)) return false;
  return true;
}

/** Nullable in at least one version where the field exists. */
export function isEverNullable(field: FieldModel): boolean {
  const low = Math.max(field.versions.low, field.nullableVersions.low);
  const high = Math.min(field.versions.high, field.nullableVersions.high);
  return low <= high || (field.type.kind === 'primitive' && field.type.name === 'records');
}

export function isNullableAt(field: FieldModel, version: number): boolean {
  if (field.type.kind === 'primitive' && field.type.name === 'records') return true;
  return inRange(field.nullableVersions, version);
}

export function isTaggedAt(field: FieldModel, version: number): boolean {
  return inRange(field.taggedVersions, version);
}

/** Whether the field's default is null: Kafka's "null" default, or records, which default to null. */
export function defaultsToNull(field: FieldModel): boolean {
  if (field.type.kind === 'primitive' && field.type.name === 'records') return true;
  return isEverNullable(field) && (field.defaultText === 'null' || field.defaultText === null);
}

export function structHasRecords(struct: StructModel, seen = new Set<StructModel>()): boolean {
  if (seen.has(struct)) return false;
  seen.add(struct);
  return struct.fields.some((field) => typeHasRecords(field.type, seen));
}

export function typeHasRecords(type: FieldType, seen = new Set<StructModel>()): boolean {
  if (type.kind === 'primitive') return type.name === 'records';
  if (type.kind === 'array') return typeHasRecords(type.element, seen);
  return structHasRecords(type.struct, seen);
}

export function loadMessages(schemasDir: string): MessageModel[] {
  const out: MessageModel[] = [];
  for (const folder of readdirSync(schemasDir).sort()) {
    for (const file of readdirSync(join(schemasDir, folder)).sort()) {
      if (!file.endsWith('.json')) continue;
      const raw = JSON.parse(readFileSync(join(schemasDir, folder, file), 'utf8')) as RawMessage;
      out.push(buildMessage(raw, folder));
    }
  }
  return out;
}

/** `ApiVersions` -> `api-versions`, `KRaftVersionRecord` -> `kraft-version-record`. */
export function kebabCase(name: string): string {
  return name
    .replace('KRaft', 'Kraft')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}
