// ReplaceField$Key / ReplaceField$Value: keeps only the `include` fields (all when empty), drops the
// `exclude` ones (exclude wins), and renames fields with `renames` (old:new pairs), on a struct or a
// schemaless map. The pre-3.0 names blacklist and whitelist are read as exclude and include when
// those are not set (Kafka 4.0 dropped them). Null keys or values pass through unchanged.
import { ConnectConfigDef, type ConfigValue, type ParsedConfig } from '../../api/config.js';
import { type ConnectRecord, type Schema, SchemaBuilder, Struct } from '../../api/data.js';
import {
  BaseTransformation,
  configError,
  copySchemaBasics,
  invalidValue,
  javaSplit,
  readField,
  REPLACE_NULL_WITH_DEFAULT,
  replaceNullWithDefaultKey,
  requireMap,
  requireStruct,
  type RecordSide,
  SchemaCache,
} from './util.js';

const PURPOSE = 'field replacement';
/** Deprecated names and the names they stand for. */
const DEPRECATED_ALIASES: readonly [current: string, deprecated: string][] = [
  ['exclude', 'blacklist'],
  ['include', 'whitelist'],
];

/** Old:new pairs; a pair without exactly one colon is refused. */
function parseRenames(mappings: readonly string[], key = 'renames'): Map<string, string> {
  const renames = new Map<string, string>();
  for (const mapping of mappings) {
    const parts = javaSplit(mapping, ':');
    if (parts.length !== 2) throw configError(key, mappings, `Invalid rename mapping: ${mapping}`);
    renames.set(parts[0]!, parts[1]!);
  }
  return renames;
}

function validateRenames(name: string, value: ConfigValue): string | undefined {
  const mappings = Array.isArray(value) ? value : [];
  const bad = mappings.find((mapping) => javaSplit(mapping, ':').length !== 2);
  return bad === undefined ? undefined : invalidValue(name, mappings, `Invalid rename mapping: ${bad}`);
}

const CONFIG_DEF = new ConnectConfigDef()
  .define({ name: 'exclude', type: 'list', defaultValue: [], importance: 'MEDIUM', documentation: 'Fields to exclude. This takes precedence over the fields to include.' })
  .define({ name: 'blacklist', type: 'list', defaultValue: null, importance: 'LOW', documentation: 'Deprecated. Use exclude instead.' })
  .define({ name: 'include', type: 'list', defaultValue: [], importance: 'MEDIUM', documentation: 'Fields to include. If specified, only these fields will be used.' })
  .define({ name: 'whitelist', type: 'list', defaultValue: null, importance: 'LOW', documentation: 'Deprecated. Use include instead.' })
  .define({ name: 'renames', type: 'list', defaultValue: [], importance: 'MEDIUM', documentation: 'Field rename mappings.', validator: validateRenames })
  .define(replaceNullWithDefaultKey);

export class ReplaceField extends BaseTransformation {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private exclude = new Set<string>();
  private include = new Set<string>();
  private renames = new Map<string, string>();
  private reverseRenames = new Map<string, string>();
  private replaceNullWithDefault = true;
  private readonly schemaCache = new SchemaCache();

  constructor(private readonly side: RecordSide) {
    super();
  }

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  /** Reads blacklist/whitelist as exclude/include when only the old name is set. */
  override configure(props: Readonly<Record<string, string>>): void {
    const translated = { ...props };
    for (const [current, deprecated] of DEPRECATED_ALIASES) {
      if (!Object.hasOwn(props, deprecated)) continue;
      if (!Object.hasOwn(props, current)) translated[current] = props[deprecated]!;
      delete translated[deprecated];
    }
    super.configure(translated);
  }

  protected setup(config: ParsedConfig): void {
    this.exclude = new Set(config.list('exclude'));
    this.include = new Set(config.list('include'));
    this.renames = parseRenames(config.list('renames'));
    this.reverseRenames = new Map([...this.renames].map(([from, to]) => [to, from]));
    this.replaceNullWithDefault = config.boolean(REPLACE_NULL_WITH_DEFAULT);
  }

  private keeps(name: string): boolean {
    return !this.exclude.has(name) && (this.include.size === 0 || this.include.has(name));
  }

  private renamed(name: string): string {
    return this.renames.get(name) ?? name;
  }

  apply<R extends ConnectRecord>(record: R): R {
    const value = this.side.value(record);
    if (value === null || value === undefined) return record;
    return this.side.schema(record) === null ? this.applySchemaless(record, value) : this.applyWithSchema(record, value);
  }

  private applySchemaless<R extends ConnectRecord>(record: R, value: unknown): R {
    const updated: Record<string, unknown> = {};
    for (const [name, fieldValue] of Object.entries(requireMap(value, PURPOSE))) {
      if (this.keeps(name)) updated[this.renamed(name)] = fieldValue;
    }
    return this.side.update(record, null, updated);
  }

  private applyWithSchema<R extends ConnectRecord>(record: R, value: unknown): R {
    const struct = requireStruct(value, PURPOSE);
    const schema = this.schemaCache.getOrBuild(struct.schema, (original) => this.updatedSchema(original));
    const updated = new Struct(schema);
    for (const field of schema.fields!) {
      const original = this.reverseRenames.get(field.name) ?? field.name;
      updated.put(field.name, readField(struct, original, this.replaceNullWithDefault));
    }
    return this.side.update(record, schema, updated);
  }

  private updatedSchema(schema: Schema): Schema {
    const builder = copySchemaBasics(schema, SchemaBuilder.struct());
    for (const field of schema.fields!) if (this.keeps(field.name)) builder.field(this.renamed(field.name), field.schema);
    return builder.build();
  }

  override close(): void {
    this.schemaCache.clear();
  }
}
