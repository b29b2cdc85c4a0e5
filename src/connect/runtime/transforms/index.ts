// Kafka Connect's built-in single message transforms and predicates, and the transformation chain a
// connector's configuration describes (transforms=..., predicates=...). The worker builds a chain
// per task with buildTransformChain; the REST API lists the plugins (GET /connector-plugins) and
// validates their keys with connectorTransformsConfigDef or a class's transformConfigDef.
import type { ConnectConfigDef } from '../../api/config.js';
import { findPredicate, findTransform, predicateEntries, TRANSFORMS_VERSION, transformEntries } from './registry.js';

export { buildTransformChain, type TransformChain, connectorTransformsConfigDef, PREDICATES_CONFIG, TRANSFORMS_CONFIG } from './chain.js';
export { TRANSFORMS_VERSION } from './registry.js';
export { Cast } from './cast.js';
export { ExtractField } from './extract-field.js';
export { Filter } from './filter.js';
export { Flatten } from './flatten.js';
export { HeaderFrom } from './header-from.js';
export { DropHeaders, InsertHeader } from './headers.js';
export { HoistField } from './hoist-field.js';
export { InsertField } from './insert-field.js';
export { MaskField } from './mask-field.js';
export { HasHeaderKey, RecordIsTombstone, TopicNameMatches } from './predicates.js';
export { ReplaceField } from './replace-field.js';
export { RegexRouter, TimestampRouter } from './routers.js';
export { SetSchemaMetadata } from './set-schema-metadata.js';
export { TimestampConverter } from './timestamp-converter.js';
export { KEY_SIDE, type RecordSide, VALUE_SIDE } from './util.js';
export { ValueToKey } from './value-to-key.js';

/** One entry of GET /connector-plugins?connectorsOnly=false for a transform or predicate. */
export interface TransformPluginInfo {
  readonly class: string;
  readonly type: 'transformation' | 'predicate';
  readonly version: string;
}

/** Every built-in transform, by class name. */
export const transformPlugins: readonly TransformPluginInfo[] = transformEntries().map((entry) => ({
  class: entry.className,
  type: 'transformation',
  version: TRANSFORMS_VERSION,
}));

/** Every built-in predicate, by class name. */
export const predicatePlugins: readonly TransformPluginInfo[] = predicateEntries().map((entry) => ({
  class: entry.className,
  type: 'predicate',
  version: TRANSFORMS_VERSION,
}));

/** A transform's own keys (unprefixed), by class name or alias; undefined for an unknown class. */
export function transformConfigDef(className: string): ConnectConfigDef | undefined {
  return findTransform(className)?.configDef;
}

/** A predicate's own keys (unprefixed), by class name or alias; undefined for an unknown class. */
export function predicateConfigDef(className: string): ConnectConfigDef | undefined {
  return findPredicate(className)?.configDef;
}
