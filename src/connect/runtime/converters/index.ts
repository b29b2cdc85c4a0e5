// The built-in converters by class name: what key.converter, value.converter and
// header.converter may name. Each is found by Kafka's full class name, its simple name, or the
// simple name without its "Converter" suffix (Kafka's aliases: JsonConverter, Json). Every
// converter here also serves as a header converter, as in Kafka; SimpleHeaderConverter is only one.
import type { ConnectConfigDef } from '../../api/config.js';
import type { Converter, HeaderConverter } from '../../api/connector.js';
import { ByteArrayConverter } from './byte-array-converter.js';
import { CONVERTER_VERSION } from './converter-config.js';
import { JsonConverter } from './json-converter.js';
import { BooleanConverter, DoubleConverter, FloatConverter, IntegerConverter, LongConverter, ShortConverter } from './number-converters.js';
import { SimpleHeaderConverter } from './simple-header-converter.js';
import { StringConverter } from './string-converter.js';

export { ByteArrayConverter } from './byte-array-converter.js';
export { CONVERTER_VERSION } from './converter-config.js';
export { JsonConverter } from './json-converter.js';
export { BooleanConverter, DoubleConverter, FloatConverter, IntegerConverter, LongConverter, ShortConverter } from './number-converters.js';
export { SimpleHeaderConverter } from './simple-header-converter.js';
export { StringConverter } from './string-converter.js';

/** A converter that is both a Converter and a HeaderConverter (configure's isKey absent: as a header converter). */
type DualConverter = Converter & HeaderConverter & { configure(props: Readonly<Record<string, string>>, isKey?: boolean): void; config(): ConnectConfigDef };
type HeaderOnlyConverter = HeaderConverter & { config(): ConnectConfigDef };

interface ConverterClass {
  readonly className: string;
  readonly create: () => DualConverter | HeaderOnlyConverter;
  /** Whether it can convert keys and values (SimpleHeaderConverter cannot). */
  readonly isConverter: boolean;
}

const CLASSES: readonly ConverterClass[] = [
  { className: 'org.apache.kafka.connect.converters.BooleanConverter', create: () => new BooleanConverter(), isConverter: true },
  { className: 'org.apache.kafka.connect.converters.ByteArrayConverter', create: () => new ByteArrayConverter(), isConverter: true },
  { className: 'org.apache.kafka.connect.converters.DoubleConverter', create: () => new DoubleConverter(), isConverter: true },
  { className: 'org.apache.kafka.connect.converters.FloatConverter', create: () => new FloatConverter(), isConverter: true },
  { className: 'org.apache.kafka.connect.converters.IntegerConverter', create: () => new IntegerConverter(), isConverter: true },
  { className: 'org.apache.kafka.connect.converters.LongConverter', create: () => new LongConverter(), isConverter: true },
  { className: 'org.apache.kafka.connect.converters.ShortConverter', create: () => new ShortConverter(), isConverter: true },
  { className: 'org.apache.kafka.connect.json.JsonConverter', create: () => new JsonConverter(), isConverter: true },
  { className: 'org.apache.kafka.connect.storage.SimpleHeaderConverter', create: () => new SimpleHeaderConverter(), isConverter: false },
  { className: 'org.apache.kafka.connect.storage.StringConverter', create: () => new StringConverter(), isConverter: true },
];

/** The entries of GET /connector-plugins for converters and header converters. */
export const converterPlugins: { class: string; type: 'converter' | 'header_converter'; version: string }[] = [
  ...CLASSES.filter((entry) => entry.isConverter).map((entry) => ({ class: entry.className, type: 'converter' as const, version: CONVERTER_VERSION })),
  ...CLASSES.map((entry) => ({ class: entry.className, type: 'header_converter' as const, version: CONVERTER_VERSION })),
];

/** The full class name, the simple name, and the simple name without "Converter" / "HeaderConverter". */
function aliasesOf(className: string): string[] {
  const simple = className.slice(className.lastIndexOf('.') + 1);
  const pruned = simple.replace(/(Header)?Converter$/, '');
  return pruned === '' || pruned === simple ? [className, simple] : [className, simple, pruned];
}

function findClass(className: string): ConverterClass | undefined {
  const wanted = className.trim();
  return CLASSES.find((entry) => aliasesOf(entry.className).includes(wanted));
}

function notFound(className: string, kind: 'Converter' | 'HeaderConverter', candidates: readonly ConverterClass[]): Error {
  const available = candidates.map((entry) => entry.className).join(', ');
  return new Error(`Failed to find any class that implements ${kind} and which name matches ${className}, available ${kind === 'Converter' ? 'converters' : 'header converters'} are: ${available}`);
}

/** A configured key (isKey) or value converter; throws naming the class when there is no such converter. */
export function createConverter(className: string, props: Readonly<Record<string, string>>, isKey: boolean): Converter {
  const found = findClass(className);
  if (!found?.isConverter) throw notFound(className, 'Converter', CLASSES.filter((entry) => entry.isConverter));
  const converter = found.create() as DualConverter;
  converter.configure(props, isKey);
  return converter;
}

/** A configured header converter; throws naming the class when there is no such header converter. */
export function createHeaderConverter(className: string, props: Readonly<Record<string, string>>): HeaderConverter {
  const found = findClass(className);
  if (!found) throw notFound(className, 'HeaderConverter', CLASSES);
  const converter = found.create();
  converter.configure(props);
  return converter;
}

/** The configuration definition of a converter class (for /connector-plugins/{plugin}/config), or undefined. */
export function converterPluginConfig(className: string): ConnectConfigDef | undefined {
  return findClass(className)?.create().config();
}
