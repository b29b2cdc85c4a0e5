// Kafka's StringConverter (org.apache.kafka.connect.storage.StringConverter): a value is written
// as its string form (String(value); a string as it is) in `converter.encoding`, and read back as
// an optional string. Null stays null both ways. Also a header converter.
//
// Encodings, by Java's charset names (any case): UTF-8 (the default), UTF-16 (written big-endian
// with a byte order mark, read by its mark), UTF-16BE, UTF-16LE, ISO-8859-1 and US-ASCII.
// Characters an encoding cannot hold are written as '?', as Java does; another name is refused
// when the converter is configured.
import { ConnectConfigException, type ConnectConfigDef } from '../../api/config.js';
import type { Converter, ConverterHeaders, HeaderConverter } from '../../api/connector.js';
import { type Schema, type SchemaAndValue, Schemas } from '../../api/data.js';
import { converterConfigDef, parseConverterConfig } from './converter-config.js';

export const ENCODING_CONFIG = 'converter.encoding';

const CONFIG_DEF = converterConfigDef()
  .define({ name: ENCODING_CONFIG, type: 'string', defaultValue: 'UTF-8', importance: 'HIGH', width: 'MEDIUM', displayName: 'Encoding', documentation: 'The name of the Java character set to use for encoding strings as byte arrays.' });

export interface Charset {
  encode(text: string): Buffer;
  decode(bytes: Buffer): string;
}

const utf8: Charset = {
  encode: (text) => Buffer.from(text, 'utf8'),
  decode: (bytes) => bytes.toString('utf8'),
};

const utf16le: Charset = {
  encode: (text) => Buffer.from(text, 'utf16le'),
  decode: (bytes) => bytes.toString('utf16le') + (bytes.length % 2 === 1 ? '\ufffd' : ''),
};

const utf16be: Charset = {
  encode: (text) => Buffer.from(text, 'utf16le').swap16(),
  decode: (bytes) => {
    const even = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)));
    return even.swap16().toString('utf16le') + (bytes.length % 2 === 1 ? '\ufffd' : '');
  },
};

/** Java's UTF-16: written big-endian after a byte order mark; read by the mark, big-endian without one. */
const utf16: Charset = {
  encode: (text) => Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be.encode(text)]),
  decode: (bytes) => {
    if (bytes[0] === 0xfe && bytes[1] === 0xff) return utf16be.decode(bytes.subarray(2));
    if (bytes[0] === 0xff && bytes[1] === 0xfe) return utf16le.decode(bytes.subarray(2));
    return utf16be.decode(bytes);
  },
};

/** A single-byte charset holding code points below `limit`; others are written as '?', read as U+FFFD. */
function singleByte(limit: number): Charset {
  return {
    encode: (text) => Buffer.from(Array.from(text, (char) => (char.codePointAt(0)! < limit ? char.codePointAt(0)! : 0x3f))),
    decode: (bytes) => Array.from(bytes, (byte) => (byte < limit ? String.fromCharCode(byte) : '\ufffd')).join(''),
  };
}

const CHARSETS: ReadonlyMap<string, Charset> = new Map([
  ['UTF-8', utf8], ['UTF8', utf8],
  ['UTF-16', utf16], ['UTF16', utf16],
  ['UTF-16BE', utf16be], ['UNICODEBIGUNMARKED', utf16be],
  ['UTF-16LE', utf16le], ['UNICODELITTLEUNMARKED', utf16le],
  ['ISO-8859-1', singleByte(0x100)], ['ISO8859_1', singleByte(0x100)], ['ISO8859-1', singleByte(0x100)], ['LATIN1', singleByte(0x100)],
  ['US-ASCII', singleByte(0x80)], ['ASCII', singleByte(0x80)],
]);

/** The charset a Java charset name stands for; throws naming the setting when there is none. */
export function charsetFor(name: string): Charset {
  const charset = CHARSETS.get(name.trim().toUpperCase());
  if (!charset) throw new ConnectConfigException(ENCODING_CONFIG, `Unsupported encoding ${name} (supported: UTF-8, UTF-16, UTF-16BE, UTF-16LE, ISO-8859-1, US-ASCII)`);
  return charset;
}

export class StringConverter implements Converter, HeaderConverter {
  private charset: Charset = utf8;

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  /** isKey absent: configured as a header converter. */
  configure(props: Readonly<Record<string, string>>, isKey?: boolean): void {
    this.charset = charsetFor(parseConverterConfig(CONFIG_DEF, props, isKey).string(ENCODING_CONFIG));
  }

  fromConnectData(_topic: string, _headers: ConverterHeaders, _schema: Schema | null, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    return this.charset.encode(typeof value === 'string' ? value : String(value));
  }

  toConnectData(_topic: string, _headers: ConverterHeaders, value: Buffer | null): SchemaAndValue {
    return { schema: Schemas.OPTIONAL_STRING, value: value === null ? null : this.charset.decode(value) };
  }

  fromConnectHeader(topic: string, _headerKey: string, schema: Schema | null, value: unknown): Buffer | null {
    return this.fromConnectData(topic, [], schema, value);
  }

  toConnectHeader(topic: string, _headerKey: string, value: Buffer | null): SchemaAndValue {
    return this.toConnectData(topic, [], value);
  }
}
