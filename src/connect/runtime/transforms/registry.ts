// The built-in transforms and predicates by Kafka class name (InsertField$Value's binary name,
// org.apache.kafka.connect.transforms.InsertField$Value, is what transforms.x.type holds), with
// the short aliases Kafka's plugin scanner gives unambiguous top-level classes ("RegexRouter",
// "TopicNameMatches"; the $Key/$Value classes have none).
import type { ConnectConfigDef } from '../../api/config.js';
import type { Predicate, Transformation } from '../../api/connector.js';
import type { ConnectRecord } from '../../api/data.js';
import { ExtractNewRecordState } from '../../connectors/debezium/extract-new-record-state.js';
import { Cast } from './cast.js';
import { ExtractField } from './extract-field.js';
import { Filter } from './filter.js';
import { Flatten } from './flatten.js';
import { HeaderFrom } from './header-from.js';
import { DropHeaders, InsertHeader } from './headers.js';
import { HoistField } from './hoist-field.js';
import { InsertField } from './insert-field.js';
import { MaskField } from './mask-field.js';
import { HasHeaderKey, RecordIsTombstone, TopicNameMatches } from './predicates.js';
import { ReplaceField } from './replace-field.js';
import { RegexRouter, TimestampRouter } from './routers.js';
import { SetSchemaMetadata } from './set-schema-metadata.js';
import { TimestampConverter } from './timestamp-converter.js';
import { KEY_SIDE, type RecordSide, VALUE_SIDE } from './util.js';
import { ValueToKey } from './value-to-key.js';

/** The version the built-in plugins report (Kafka reports its own; these are Conveyor's). */
export const TRANSFORMS_VERSION = '0.1.0';

const PACKAGE = 'org.apache.kafka.connect.transforms';

export interface PluginEntry<P> {
  readonly className: string;
  readonly configDef: ConnectConfigDef;
  create(): P;
}

export type TransformEntry = PluginEntry<Transformation<ConnectRecord>>;
export type PredicateEntry = PluginEntry<Predicate<ConnectRecord>>;

type SidedClass = { new (side: RecordSide): Transformation<ConnectRecord>; readonly CONFIG_DEF: ConnectConfigDef };
type PlainClass<P> = { new (): P; readonly CONFIG_DEF: ConnectConfigDef };

/** The $Key and $Value entries of a transform that has both. */
function sided(simpleName: string, type: SidedClass): TransformEntry[] {
  return [KEY_SIDE, VALUE_SIDE].map((side) => ({
    className: `${PACKAGE}.${simpleName}$${side.name}`,
    configDef: type.CONFIG_DEF,
    create: () => new type(side),
  }));
}

function plain<P>(className: string, type: PlainClass<P>): PluginEntry<P> {
  return { className, configDef: type.CONFIG_DEF, create: () => new type() };
}

const TRANSFORMS: readonly TransformEntry[] = [
  ...sided('Cast', Cast),
  plain(`${PACKAGE}.DropHeaders`, DropHeaders),
  ...sided('ExtractField', ExtractField),
  plain(`${PACKAGE}.Filter`, Filter),
  ...sided('Flatten', Flatten),
  ...sided('HeaderFrom', HeaderFrom),
  ...sided('HoistField', HoistField),
  ...sided('InsertField', InsertField),
  plain(`${PACKAGE}.InsertHeader`, InsertHeader),
  ...sided('MaskField', MaskField),
  plain(`${PACKAGE}.RegexRouter`, RegexRouter),
  ...sided('ReplaceField', ReplaceField),
  ...sided('SetSchemaMetadata', SetSchemaMetadata),
  ...sided('TimestampConverter', TimestampConverter),
  plain(`${PACKAGE}.TimestampRouter`, TimestampRouter),
  plain(`${PACKAGE}.ValueToKey`, ValueToKey),
  // Debezium's, for the change events of the CDC connectors.
  plain('io.debezium.transforms.ExtractNewRecordState', ExtractNewRecordState),
];

const PREDICATES: readonly PredicateEntry[] = [
  plain(`${PACKAGE}.predicates.HasHeaderKey`, HasHeaderKey),
  plain(`${PACKAGE}.predicates.RecordIsTombstone`, RecordIsTombstone),
  plain(`${PACKAGE}.predicates.TopicNameMatches`, TopicNameMatches),
];

/** Entries by class name and by alias: the simple name of a class without a '$'. */
function index<P>(entries: readonly PluginEntry<P>[]): Map<string, PluginEntry<P>> {
  const byName = new Map<string, PluginEntry<P>>();
  for (const entry of entries) {
    byName.set(entry.className, entry);
    const simpleName = entry.className.slice(entry.className.lastIndexOf('.') + 1);
    if (!simpleName.includes('$')) byName.set(simpleName, entry);
  }
  return byName;
}

const TRANSFORMS_BY_NAME = index(TRANSFORMS);
const PREDICATES_BY_NAME = index(PREDICATES);

export function findTransform(className: string): TransformEntry | undefined {
  return TRANSFORMS_BY_NAME.get(className);
}

export function findPredicate(className: string): PredicateEntry | undefined {
  return PREDICATES_BY_NAME.get(className);
}

export const transformEntries = (): readonly TransformEntry[] => TRANSFORMS;
export const predicateEntries = (): readonly PredicateEntry[] => PREDICATES;
