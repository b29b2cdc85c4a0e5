// The HTTP sink: sends the values of the records it is given to http.api.url (POST, or PUT/PATCH),
// batch.max.size records per request, in the order they were read (so in order per partition).
// A request's body is a JSON array of the values (batch.json.as.array=true), or batch.prefix,
// the values joined by batch.separator, batch.suffix; with the default batch.max.size=1 that is
// one record's value per request. A value goes as JSON: a Struct (a value with a schema) as an
// object of its fields, a map as an object, a string as it is (in an array a string that is not
// JSON text becomes a JSON string), bytes as their UTF-8 text. Null values are skipped, or fail
// the task with behavior.on.null.values=fail.
// put() returns once every request of its records is answered 2xx, so the worker commits the
// offsets of delivered records only: at least once. An answer in retry.on.status.codes (429 and
// 5xx by default) or no answer (refused, reset, timed out) is retried after retry.backoff.ms,
// doubling up to retry.backoff.max.ms, or after the answer's Retry-After, max.retries times; then
// the task fails with the last status and body, as Confluent's HTTP sink does (it does not hand
// the records back with a RetriableException, which would retry forever). Any other non-2xx answer
// refuses the request's records for good: with errors.tolerance=all and a dead letter queue they
// go there through the errant record reporter (every record of that request) and the task goes on;
// otherwise the task fails with the status and body.
import { type ConnectValidator, Validators } from '../../api/config.js';
import { ConnectException, SinkConnector, SinkTask } from '../../api/connector.js';
import { Decimal, LogicalNames, type Schema, type SinkRecord, Struct } from '../../api/data.js';
import { CheckedConfigDef } from './checked-config.js';
import { HttpTransportError, backoffMs, excerpt, httpRequest, httpUrlProblem, parseHeaderList, parseStatusCodes, redacted, retryAfterMs, sleep } from './http-client.js';

const VERSION = '1.0.0';
/** Longest Retry-After honoured; a longer one is taken as this. */
const RETRY_AFTER_MAX_MS = 15 * 60_000;
/** An endpoint's answer is only read for errors: this much is plenty. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

const url: ConnectValidator = (name, value) => (typeof value === 'string' ? httpUrlProblem(name, value) : undefined);

const statusCodes: ConnectValidator = (name, value) => {
  try {
    parseStatusCodes(String(value ?? ''));
    return undefined;
  } catch (error) {
    return `Invalid value ${String(value)} for configuration ${name}: ${(error as Error).message}`;
  }
};

const configDef = new CheckedConfigDef((config) => {
  try {
    parseHeaderList(config.optionalString('headers'), config.string('header.separator') || '|');
    return [];
  } catch (error) {
    return [['headers', `Invalid value ${config.string('headers')} for configuration headers: ${(error as Error).message}`]];
  }
})
  .define({ name: 'http.api.url', type: 'string', importance: 'HIGH', orderInGroup: 1, validator: url, documentation: 'The URL the records are sent to.' })
  .define({ name: 'request.method', type: 'string', defaultValue: 'POST', importance: 'HIGH', orderInGroup: 2, validator: Validators.oneOf('POST', 'PUT', 'PATCH'), recommendedValues: ['POST', 'PUT', 'PATCH'], documentation: 'The HTTP method of the requests.' })
  .define({ name: 'headers', type: 'string', defaultValue: null, importance: 'MEDIUM', orderInGroup: 3, documentation: 'Headers sent with every request, "Name: value" entries separated by header.separator (e.g. Authorization: Bearer abc|X-Source: kafka). Content-Type is application/json unless set here.' })
  .define({ name: 'header.separator', type: 'string', defaultValue: '|', importance: 'LOW', orderInGroup: 4, documentation: 'The separator between the entries of headers.' })
  .define({ name: 'batch.max.size', type: 'int', defaultValue: 1, importance: 'HIGH', group: 'Batching', orderInGroup: 1, validator: Validators.atLeast(1), documentation: 'The most records sent in one request.' })
  .define({ name: 'batch.json.as.array', type: 'boolean', defaultValue: false, importance: 'HIGH', group: 'Batching', orderInGroup: 2, documentation: 'true: a request\'s body is a JSON array of its records\' values; false: batch.prefix, the values joined by batch.separator, batch.suffix.' })
  .define({ name: 'batch.prefix', type: 'string', defaultValue: '', importance: 'LOW', group: 'Batching', orderInGroup: 3, documentation: 'Text before a batch\'s values (batch.json.as.array=false).' })
  .define({ name: 'batch.suffix', type: 'string', defaultValue: '', importance: 'LOW', group: 'Batching', orderInGroup: 4, documentation: 'Text after a batch\'s values (batch.json.as.array=false).' })
  .define({ name: 'batch.separator', type: 'string', defaultValue: ',', importance: 'LOW', group: 'Batching', orderInGroup: 5, documentation: 'Text between a batch\'s values (batch.json.as.array=false).' })
  .define({ name: 'behavior.on.null.values', type: 'string', defaultValue: 'ignore', importance: 'LOW', orderInGroup: 5, validator: Validators.oneOf('ignore', 'fail'), recommendedValues: ['ignore', 'fail'], documentation: 'What a record with a null value (a tombstone) does: ignore (skipped) or fail (the task).' })
  .define({ name: 'max.retries', type: 'int', defaultValue: 10, importance: 'MEDIUM', group: 'Retries', orderInGroup: 1, validator: Validators.atLeast(0), documentation: 'How many times a request is retried (a status in retry.on.status.codes, or no answer) before the task fails.' })
  .define({ name: 'retry.backoff.ms', type: 'long', defaultValue: 3000, importance: 'MEDIUM', group: 'Retries', orderInGroup: 2, validator: Validators.atLeast(0), documentation: 'The wait before the first retry; it doubles with each retry, up to retry.backoff.max.ms. A Retry-After header is honoured instead.' })
  .define({ name: 'retry.backoff.max.ms', type: 'long', defaultValue: 60_000, importance: 'LOW', group: 'Retries', orderInGroup: 3, validator: Validators.atLeast(0), documentation: 'The longest wait between retries.' })
  .define({ name: 'retry.on.status.codes', type: 'string', defaultValue: '429,500-599', importance: 'MEDIUM', group: 'Retries', orderInGroup: 4, validator: statusCodes, documentation: 'The statuses that are retried, codes and ranges (e.g. 429,500-599 or 500-). Any other non-2xx status refuses the records for good.' })
  .define({ name: 'request.timeout.ms', type: 'long', defaultValue: 30_000, importance: 'LOW', group: 'Retries', orderInGroup: 5, validator: Validators.atLeast(1), documentation: 'How long a request may take, from its start to the answer\'s last byte.' })
  .define({ name: 'http.connect.timeout.ms', type: 'long', defaultValue: 10_000, importance: 'LOW', group: 'Retries', orderInGroup: 6, validator: Validators.atLeast(1), documentation: 'How long connecting to the endpoint may take.' });

export class HttpSinkConnector extends SinkConnector {
  private props: Readonly<Record<string, string>> = {};

  version(): string {
    return VERSION;
  }
  start(props: Readonly<Record<string, string>>): void {
    configDef.parse(props);
    this.props = props;
  }
  taskClass(): new () => SinkTask {
    return HttpSinkTask;
  }
  taskConfigs(maxTasks: number): Record<string, string>[] {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }
  stop(): void {}
  config(): CheckedConfigDef {
    return configDef;
  }
  override alterOffsets(): boolean {
    return true;
  }
}

export class HttpSinkTask extends SinkTask {
  private url!: URL;
  private method = 'POST';
  private headers: Record<string, string> = {};
  private batchSize = 1;
  private asArray = false;
  private prefix = '';
  private suffix = '';
  private separator = ',';
  private failOnNull = false;
  private maxRetries = 10;
  private backoffBaseMs = 3000;
  private backoffMaxMs = 60_000;
  private retriable: (status: number) => boolean = () => false;
  private requestTimeoutMs = 30_000;
  private connectTimeoutMs = 10_000;
  private readonly abort = new AbortController();

  version(): string {
    return VERSION;
  }

  start(props: Readonly<Record<string, string>>): void {
    const config = configDef.parse(props);
    this.url = new URL(config.string('http.api.url'));
    this.method = config.string('request.method').toUpperCase();
    const headers = parseHeaderList(config.optionalString('headers'), config.string('header.separator') || '|');
    const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
    this.headers = hasContentType ? headers : { 'Content-Type': 'application/json', ...headers };
    this.batchSize = config.number('batch.max.size');
    this.asArray = config.boolean('batch.json.as.array');
    this.prefix = config.string('batch.prefix');
    this.suffix = config.string('batch.suffix');
    this.separator = config.string('batch.separator');
    this.failOnNull = config.string('behavior.on.null.values').toLowerCase() === 'fail';
    this.maxRetries = config.number('max.retries');
    this.backoffBaseMs = config.number('retry.backoff.ms');
    this.backoffMaxMs = config.number('retry.backoff.max.ms');
    this.retriable = parseStatusCodes(config.string('retry.on.status.codes'));
    this.requestTimeoutMs = config.number('request.timeout.ms');
    this.connectTimeoutMs = config.number('http.connect.timeout.ms');
  }

  /** Sends every record before returning: the worker commits only what put() took. */
  async put(records: readonly SinkRecord[]): Promise<void> {
    let batch: { record: SinkRecord; text: string }[] = [];
    for (const record of records) {
      const text = valueText(record.value, record.valueSchema);
      if (text === null) {
        if (this.failOnNull) throw new ConnectException(`the record at ${describe(record)} has a null value (behavior.on.null.values=fail)`);
        continue;
      }
      batch.push({ record, text });
      if (batch.length >= this.batchSize) {
        await this.send(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await this.send(batch);
  }

  stop(): void {
    // A put abandoned by the worker stops retrying.
    this.abort.abort();
  }

  private body(batch: readonly { text: string }[]): string {
    if (this.asArray) return `[${batch.map(({ text }) => (isJsonText(text) ? text : JSON.stringify(text))).join(',')}]`;
    return `${this.prefix}${batch.map(({ text }) => text).join(this.separator)}${this.suffix}`;
  }

  private async send(batch: readonly { record: SinkRecord; text: string }[]): Promise<void> {
    const body = this.body(batch);
    const target = `${this.method} ${redacted(this.url)}`;
    for (let attempt = 0; ; attempt++) {
      let failure: string;
      let wait: number | null = null;
      try {
        const response = await httpRequest(this.url, {
          method: this.method,
          headers: this.headers,
          body,
          connectTimeoutMs: this.connectTimeoutMs,
          requestTimeoutMs: this.requestTimeoutMs,
          maxResponseBytes: MAX_RESPONSE_BYTES,
          signal: this.abort.signal,
        });
        if (response.status >= 200 && response.status < 300) return;
        const refusal = `HTTP ${response.status} from ${target}: ${excerpt(response.body)}`;
        if (!this.retriable(response.status)) {
          await this.refused(batch, refusal);
          return;
        }
        failure = refusal;
        const retryAfter = retryAfterMs(response.headers);
        if (retryAfter !== null) wait = Math.min(retryAfter, RETRY_AFTER_MAX_MS);
      } catch (error) {
        if (!(error instanceof HttpTransportError)) throw error;
        failure = error.message;
      }
      if (this.abort.signal.aborted) throw new ConnectException(`stopped before ${target} succeeded: ${failure}`);
      if (attempt >= this.maxRetries) {
        throw new ConnectException(`${target} failed ${attempt + 1} time(s), giving up after max.retries=${this.maxRetries} (records ${describe(batch[0]!.record)} to ${describe(batch[batch.length - 1]!.record)}): ${failure}`);
      }
      await sleep(wait ?? backoffMs(attempt, this.backoffBaseMs, this.backoffMaxMs), this.abort.signal);
    }
  }

  /** A non-retriable answer: the records go to the dead letter queue when the connector has one, else the task fails. */
  private async refused(batch: readonly { record: SinkRecord }[], refusal: string): Promise<void> {
    const reporter = this.context.errantRecordReporter;
    if (!reporter) throw new ConnectException(refusal);
    for (const { record } of batch) await reporter(record, new ConnectException(refusal));
  }
}

function describe(record: SinkRecord): string {
  return `${record.topic}-${record.kafkaPartition}@${record.kafkaOffset}`;
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A record value as request text: strings and bytes as they are, everything else as JSON; null for a null value. */
export function valueText(value: unknown, schema: Schema | null): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return JSON.stringify(toJson(value, schema));
}

/** Connect data as plain JSON values: structs and maps as objects, logical types as JSON-friendly forms. */
export function toJson(value: unknown, schema: Schema | null): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Struct) {
    const object: Record<string, unknown> = {};
    for (const field of value.schema.fields ?? []) object[field.name] = toJson(value.get(field.name), field.schema);
    return object;
  }
  if (value instanceof Date) {
    const text = value.toISOString();
    // Kafka's Date is a day and Time a time of day: the ISO forms of just those.
    if (schema?.name === LogicalNames.DATE) return text.slice(0, 10);
    if (schema?.name === LogicalNames.TIME) return text.slice(11);
    return text;
  }
  if (value instanceof Decimal) return Number(value.toString());
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value instanceof Map) {
    const object: Record<string, unknown> = {};
    for (const [key, item] of value) object[String(key)] = toJson(item, schema?.valueSchema ?? null);
    return object;
  }
  if (Array.isArray(value)) return value.map((item) => toJson(item, schema?.valueSchema ?? null));
  if (typeof value === 'object') {
    const object: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) object[key] = toJson(item, null);
    return object;
  }
  return value;
}
