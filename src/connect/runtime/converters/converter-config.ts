// What every converter's configuration shares (Kafka's ConverterConfig): `converter.type`, which
// says whether the converter handles keys, values or headers. The worker does not pass it: it
// follows from how the converter is configured (configure(props, isKey) for keys and values,
// configure(props) for headers), and is filled in here before the props are parsed.
import { ConnectConfigDef, type ParsedConfig, Validators } from '../../api/config.js';

export const CONVERTER_TYPE_CONFIG = 'converter.type';
export type ConverterType = 'key' | 'value' | 'header';

/** A new definition holding `converter.type`; each converter adds its own keys. */
export function converterConfigDef(): ConnectConfigDef {
  return new ConnectConfigDef().define({
    name: CONVERTER_TYPE_CONFIG,
    type: 'string',
    importance: 'LOW',
    documentation: 'How this converter will be used.',
    validator: Validators.oneOf('key', 'value', 'header'),
  });
}

/** The props with `converter.type` set from isKey (undefined: a header converter, unless the props say). */
export function withConverterType(props: Readonly<Record<string, string>>, isKey: boolean | undefined): Record<string, string> {
  if (isKey === undefined) return { [CONVERTER_TYPE_CONFIG]: 'header', ...props };
  return { ...props, [CONVERTER_TYPE_CONFIG]: isKey ? 'key' : 'value' };
}

/** Parses a converter's props with its definition, `converter.type` filled in. */
export function parseConverterConfig(def: ConnectConfigDef, props: Readonly<Record<string, string>>, isKey: boolean | undefined): ParsedConfig {
  return def.parse(withConverterType(props, isKey));
}

/** The version each built-in converter reports (GET /connector-plugins). */
export const CONVERTER_VERSION = '1.0.0';
