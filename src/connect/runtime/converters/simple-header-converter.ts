// Kafka's default header converter (org.apache.kafka.connect.storage.SimpleHeaderConverter): a
// header value is written as its text in UTF-8 (header-values.ts has the forms), and read back
// with a schema inferred from the text: "42" is an int8, "true" a boolean, "[1,2]" an array of
// int8, "2024-01-31" a Date, anything else a string. A null header value is a null schema and value.
import { ConnectConfigDef } from '../../api/config.js';
import type { HeaderConverter } from '../../api/connector.js';
import { type Schema, type SchemaAndValue, Schemas } from '../../api/data.js';
import { headerValueText, parseHeaderText } from './header-values.js';

const CONFIG_DEF = new ConnectConfigDef();

export class SimpleHeaderConverter implements HeaderConverter {
  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  configure(_props: Readonly<Record<string, string>>): void {}

  fromConnectHeader(_topic: string, _headerKey: string, schema: Schema | null, value: unknown): Buffer | null {
    const text = headerValueText(schema, value);
    return text === null ? null : Buffer.from(text, 'utf8');
  }

  /** When the text cannot be read at all, the raw bytes come back with a bytes schema, as in Kafka. */
  toConnectHeader(_topic: string, _headerKey: string, value: Buffer | null): SchemaAndValue {
    if (value === null) return { schema: null, value: null };
    try {
      return parseHeaderText(value.toString('utf8'));
    } catch {
      return { schema: Schemas.BYTES, value };
    }
  }
}
