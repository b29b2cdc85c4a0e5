// A task's converters (key, value, header) and the conversions between Connect records and
// Kafka's bytes, each step run through the task's error handler under Kafka's stage name.
// A connector's own key.converter/value.converter/header.converter (with its `<key>.` prefixed
// settings) override the worker's, as in Kafka Connect.
import type { ParsedConfig } from '../api/config.js';
import type { Converter, HeaderConverter } from '../api/connector.js';
import type { ConnectHeader, ConnectRecord } from '../api/data.js';
import type { RecordHeader } from '../../protocol/records/record.js';
import { createConverter, createHeaderConverter } from './converters/index.js';
import { type ErrorHandler, SKIP, type Stage } from './error-handler.js';

export interface KafkaBytes {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeader[];
}

export interface ConvertedData {
  readonly keySchema: ConnectRecord['keySchema'];
  readonly key: unknown;
  readonly valueSchema: ConnectRecord['valueSchema'];
  readonly value: unknown;
  readonly headers: ConnectHeader[];
}

export class RecordConverters {
  private constructor(
    private readonly key: Converter,
    private readonly keyClass: string,
    private readonly value: Converter,
    private readonly valueClass: string,
    private readonly header: HeaderConverter,
    private readonly headerClass: string,
  ) {}

  /** The converters `connectorConfig` names, else the worker's. */
  static create(worker: ParsedConfig, connectorConfig: ParsedConfig): RecordConverters {
    const pick = (name: 'key.converter' | 'value.converter' | 'header.converter') => {
      const own = connectorConfig.optionalString(name);
      return own === null
        ? { className: worker.string(name), props: worker.withPrefix(`${name}.`) }
        : { className: own, props: connectorConfig.withPrefix(`${name}.`) };
    };
    const key = pick('key.converter');
    const value = pick('value.converter');
    const header = pick('header.converter');
    return new RecordConverters(
      createConverter(key.className, key.props, true), key.className,
      createConverter(value.className, value.props, false), value.className,
      createHeaderConverter(header.className, header.props), header.className,
    );
  }

  /** A record's Connect data as Kafka bytes, or SKIP when a tolerated error dropped it. */
  async toKafka(record: ConnectRecord, errors: ErrorHandler, describe: () => string): Promise<KafkaBytes | typeof SKIP> {
    const headers: RecordHeader[] = [];
    for (const header of record.headers) {
      const value = await errors.execute(this.context('HEADER_CONVERTER', this.headerClass, describe), () => this.header.fromConnectHeader(record.topic, header.key, header.schema, header.value));
      if (value === SKIP) return SKIP;
      headers.push({ key: header.key, value });
    }
    const key = await errors.execute(this.context('KEY_CONVERTER', this.keyClass, describe), () => this.key.fromConnectData(record.topic, headers, record.keySchema, record.key));
    if (key === SKIP) return SKIP;
    const value = await errors.execute(this.context('VALUE_CONVERTER', this.valueClass, describe), () => this.value.fromConnectData(record.topic, headers, record.valueSchema, record.value));
    if (value === SKIP) return SKIP;
    return { key, value, headers };
  }

  /**
   * A record's Connect data as Kafka bytes, without the error handler: a converter's error is
   * thrown. What Kafka's errant record reporter does with a record the sink task built itself.
   */
  toKafkaDirect(record: ConnectRecord): KafkaBytes {
    const headers: RecordHeader[] = record.headers.map((header) => ({ key: header.key, value: this.header.fromConnectHeader(record.topic, header.key, header.schema, header.value) }));
    return {
      key: this.key.fromConnectData(record.topic, headers, record.keySchema, record.key),
      value: this.value.fromConnectData(record.topic, headers, record.valueSchema, record.value),
      headers,
    };
  }

  /** Kafka bytes as Connect data, or SKIP when a tolerated error dropped the record. */
  async fromKafka(topic: string, bytes: KafkaBytes, errors: ErrorHandler, describe: () => string): Promise<ConvertedData | typeof SKIP> {
    const key = await errors.execute(this.context('KEY_CONVERTER', this.keyClass, describe), () => this.key.toConnectData(topic, bytes.headers, bytes.key));
    if (key === SKIP) return SKIP;
    const value = await errors.execute(this.context('VALUE_CONVERTER', this.valueClass, describe), () => this.value.toConnectData(topic, bytes.headers, bytes.value));
    if (value === SKIP) return SKIP;
    const headers: ConnectHeader[] = [];
    for (const header of bytes.headers) {
      const converted = await errors.execute(this.context('HEADER_CONVERTER', this.headerClass, describe), () => this.header.toConnectHeader(topic, header.key, header.value));
      if (converted === SKIP) return SKIP;
      headers.push({ key: header.key, schema: converted.schema, value: converted.value });
    }
    return { keySchema: key.schema, key: key.value, valueSchema: value.schema, value: value.value, headers };
  }

  private context(stage: Stage, className: string, record: () => string) {
    return { stage, className, record };
  }
}
