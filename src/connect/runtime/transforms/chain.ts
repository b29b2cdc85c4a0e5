// A connector's transformation chain, built from its configuration as Kafka Connect's
// ConnectorConfig does: `transforms=a,b` lists the aliases in order, `transforms.a.type` names the
// class and `transforms.a.<key>` configures it; `transforms.a.predicate=p` applies the transform
// only to records for which predicate p (declared by `predicates=p`, `predicates.p.type`,
// `predicates.p.<key>`) holds, or, with `transforms.a.negate=true`, does not.
//
// The configuration is checked first against an enriched definition with every key prefixed
// (Kafka's ConnectorConfig.enrich), so each complaint names the full key ("transforms.a.type",
// "transforms.a.fields"); the same definition serves the REST API's config validation.
import { ConnectConfigDef, ConnectConfigException, type ConnectConfigKey, type ConnectValidator } from '../../api/config.js';
import type { Predicate, Transformation } from '../../api/connector.js';
import type { ConnectRecord } from '../../api/data.js';
import { findPredicate, findTransform, type PluginEntry } from './registry.js';
import { invalidValue } from './util.js';

export const TRANSFORMS_CONFIG = 'transforms';
export const PREDICATES_CONFIG = 'predicates';
const PREDICATE = 'predicate';
const NEGATE = 'negate';

export interface TransformChain {
  /** The record after every stage, or null when a stage dropped it. */
  apply<R extends ConnectRecord>(record: R): R | null;
  /** Closes every transform and predicate. */
  close(): void;
}

interface Stage {
  readonly transform: Transformation<ConnectRecord>;
  readonly predicate: Predicate<ConnectRecord> | null;
  readonly negate: boolean;
}

/** A list property's items as ConfigDef reads a list (comma-separated, trimmed, empty items dropped). */
function listOf(text: string | undefined): string[] {
  return (text ?? '').split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

function uniqueAliases(): ConnectValidator {
  return (name, value) =>
    Array.isArray(value) && new Set(value).size < value.length ? invalidValue(name, value, 'Duplicate alias provided.') : undefined;
}

/** The kind of plugin an alias list holds, and how to find its classes. */
interface AliasKind {
  readonly config: string;
  readonly group: string;
  readonly noun: 'Transformation' | 'Predicate';
  find(className: string): PluginEntry<unknown> | undefined;
  /** The other kind's lookup, to say "not a Transformation" rather than "not found". */
  findOther(className: string): PluginEntry<unknown> | undefined;
}

const TRANSFORM_KIND: AliasKind = { config: TRANSFORMS_CONFIG, group: 'Transforms', noun: 'Transformation', find: findTransform, findOther: findPredicate };
const PREDICATE_KIND: AliasKind = { config: PREDICATES_CONFIG, group: 'Predicates', noun: 'Predicate', find: findPredicate, findOther: findTransform };

/**
 * The definition of the transform and predicate keys of a connector configuration: `transforms`,
 * `predicates`, each alias's type, predicate and negate keys, and (when the type names a known
 * class) that class's keys under the alias's prefix.
 */
export function connectorTransformsConfigDef(connectorProps: Readonly<Record<string, string>>): ConnectConfigDef {
  const def = new ConnectConfigDef()
    .define(aliasListKey(TRANSFORM_KIND, 'Aliases for the transformations to be applied to records.'))
    .define(aliasListKey(PREDICATE_KIND, 'Aliases for the predicates used by transformations.'));
  const predicateAliases = new Set(listOf(connectorProps[PREDICATES_CONFIG]));
  for (const alias of new Set(listOf(connectorProps[TRANSFORMS_CONFIG]))) {
    addAliasKeys(def, TRANSFORM_KIND, alias, connectorProps, predicateAliases);
  }
  for (const alias of predicateAliases) addAliasKeys(def, PREDICATE_KIND, alias, connectorProps, predicateAliases);
  return def;
}

function aliasListKey(kind: AliasKind, documentation: string): ConnectConfigKey {
  return {
    name: kind.config,
    type: 'list',
    defaultValue: [],
    importance: 'LOW',
    documentation,
    group: kind.group,
    width: 'LONG',
    displayName: kind.group,
    validator: uniqueAliases(),
  };
}

function addAliasKeys(def: ConnectConfigDef, kind: AliasKind, alias: string, props: Readonly<Record<string, string>>, predicateAliases: ReadonlySet<string>): void {
  const prefix = `${kind.config}.${alias}.`;
  const group = `${kind.group}: ${alias}`;
  let order = 0;
  const add = (key: ConnectConfigKey) => def.define({ ...key, group, orderInGroup: ++order });
  add({
    name: `${prefix}type`,
    type: 'class',
    importance: 'HIGH',
    documentation: `Class for the '${alias}' ${kind.noun.toLowerCase()}.`,
    width: 'LONG',
    displayName: `${kind.noun} type for ${alias}`,
    validator: typeValidator(kind, prefix, props),
  });
  if (kind === TRANSFORM_KIND) {
    add({
      name: `${prefix}${PREDICATE}`,
      type: 'string',
      defaultValue: null,
      importance: 'MEDIUM',
      documentation: 'The alias of a predicate used to determine whether to apply this transformation.',
      validator: (name, value) =>
        typeof value === 'string' && value !== '' && !predicateAliases.has(value)
          ? invalidValue(name, value, `Predicate alias '${value}' is not listed in '${PREDICATES_CONFIG}'.`)
          : undefined,
    });
    add({ name: `${prefix}${NEGATE}`, type: 'boolean', defaultValue: false, importance: 'MEDIUM', documentation: 'Whether the configured predicate should be negated.' });
  }
  const entry = kind.find(props[`${prefix}type`]?.trim() ?? '');
  for (const key of entry?.configDef.keys() ?? []) {
    // The implicit predicate and negate keys mask a transform's own keys of those names, as in Kafka.
    if (kind === TRANSFORM_KIND && (key.name === PREDICATE || key.name === NEGATE)) continue;
    add({ ...key, name: `${prefix}${key.name}` });
  }
}

/** The type key names a class of the right kind; negate needs a predicate. */
function typeValidator(kind: AliasKind, prefix: string, props: Readonly<Record<string, string>>): ConnectValidator {
  return (name, value) => {
    if (kind === TRANSFORM_KIND && Object.hasOwn(props, `${prefix}${NEGATE}`) && !Object.hasOwn(props, `${prefix}${PREDICATE}`)) {
      return `Config '${prefix}${NEGATE}' was provided but there is no config '${prefix}${PREDICATE}' defining a predicate to be negated.`;
    }
    if (typeof value !== 'string') return undefined;
    if (kind.find(value)) return undefined;
    return invalidValue(name, value, kind.findOther(value) ? `Not a ${kind.noun}` : `Class ${value} could not be found.`);
  };
}

/** Builds the connector's chain; throws a ConnectConfigException naming the first bad key. */
export function buildTransformChain(connectorProps: Readonly<Record<string, string>>): TransformChain {
  const parsed = connectorTransformsConfigDef(connectorProps).parse(connectorProps);
  const stages = parsed.list(TRANSFORMS_CONFIG).map((alias): Stage => {
    const prefix = `${TRANSFORMS_CONFIG}.${alias}.`;
    const props = parsed.withPrefix(prefix);
    const transform = configured(findTransform(parsed.string(`${prefix}type`))!, withoutImplicitKeys(props), prefix);
    const predicateAlias = parsed.optionalString(`${prefix}${PREDICATE}`);
    if (predicateAlias === null) return { transform, predicate: null, negate: false };
    const predicatePrefix = `${PREDICATES_CONFIG}.${predicateAlias}.`;
    const predicate = configured(findPredicate(parsed.string(`${predicatePrefix}type`))!, parsed.withPrefix(predicatePrefix), predicatePrefix);
    return { transform, predicate, negate: parsed.boolean(`${prefix}${NEGATE}`) };
  });
  return chainOf(stages);
}

function withoutImplicitKeys(props: Record<string, string>): Record<string, string> {
  const { [PREDICATE]: _predicate, [NEGATE]: _negate, ...rest } = props;
  return rest;
}

/** A new configured plugin; its configuration errors are renamed to the prefixed keys. */
function configured<P extends { configure(props: Readonly<Record<string, string>>): void }>(entry: PluginEntry<P>, props: Record<string, string>, prefix: string): P {
  const plugin = entry.create();
  try {
    plugin.configure(props);
  } catch (error) {
    throw prefixedError(error, prefix, entry.className);
  }
  return plugin;
}

function prefixedError(error: unknown, prefix: string, className: string): ConnectConfigException {
  if (error instanceof ConnectConfigException) {
    const key = `${prefix}${error.key}`;
    return new ConnectConfigException(key, error.message.split(`configuration ${error.key}`).join(`configuration ${key}`));
  }
  const where = prefix.slice(0, -1);
  const reason = error instanceof Error ? error.message : String(error);
  return new ConnectConfigException(where, `Invalid configuration for ${where} (${className}): ${reason}`);
}

function chainOf(stages: readonly Stage[]): TransformChain {
  return {
    apply<R extends ConnectRecord>(record: R): R | null {
      let current: R | null = record;
      for (const stage of stages) {
        if (current === null) break;
        if (stage.predicate && stage.negate === stage.predicate.test(current)) continue;
        current = stage.transform.apply(current) as R | null;
      }
      return current;
    },
    close(): void {
      for (const stage of stages) {
        stage.transform.close();
        stage.predicate?.close();
      }
    },
  };
}
