// The header transforms: InsertHeader adds a header whose value is a literal read as Connect's
// Values.parseString reads it (so "42" is an int8, "true" a boolean); DropHeaders removes every
// header with one of the listed names.
import { ConnectConfigDef, type ParsedConfig, Validators } from '../../api/config.js';
import type { ConnectRecord, SchemaAndValue } from '../../api/data.js';
import { BaseTransformation } from './util.js';
import { parseLiteral } from './values.js';

const nonNull = (name: string, value: unknown) => (value === null ? `Invalid value null for configuration ${name}: entry must be non null` : undefined);

const INSERT_HEADER_CONFIG = new ConnectConfigDef()
  .define({ name: 'header', type: 'string', importance: 'HIGH', documentation: 'The name of the header.', validator: nonNull })
  .define({
    name: 'value.literal',
    type: 'string',
    importance: 'HIGH',
    documentation: 'The literal value that is to be set as the header value on all records.',
    validator: nonNull,
  });

export class InsertHeader extends BaseTransformation {
  static readonly CONFIG_DEF = INSERT_HEADER_CONFIG;
  private header = '';
  private literal: SchemaAndValue = { schema: null, value: null };

  config(): ConnectConfigDef {
    return INSERT_HEADER_CONFIG;
  }

  protected setup(config: ParsedConfig): void {
    this.header = config.string('header');
    this.literal = parseLiteral(config.string('value.literal'));
  }

  apply<R extends ConnectRecord>(record: R): R {
    return { ...record, headers: [...record.headers, { key: this.header, schema: this.literal.schema, value: this.literal.value }] };
  }
}

const DROP_HEADERS_CONFIG = new ConnectConfigDef().define({
  name: 'headers',
  type: 'list',
  importance: 'HIGH',
  documentation: 'The name of the headers to be removed.',
  validator: Validators.nonEmptyList(),
});

export class DropHeaders extends BaseTransformation {
  static readonly CONFIG_DEF = DROP_HEADERS_CONFIG;
  private headers = new Set<string>();

  config(): ConnectConfigDef {
    return DROP_HEADERS_CONFIG;
  }

  protected setup(config: ParsedConfig): void {
    this.headers = new Set(config.list('headers'));
  }

  apply<R extends ConnectRecord>(record: R): R {
    return { ...record, headers: record.headers.filter((header) => !this.headers.has(header.key)) };
  }
}
