// The HTTP source: records out of a REST API polled with GET, and out of webhooks POSTed to it.
//
// Polling. Each response's records (the array at http.response.records.path) become records on
// `topic`, the value the record as JSON text (http.value.format=string, for StringConverter), the
// parsed JSON itself (json: a schemaless value, for JsonConverter) or a Struct with a schema
// inferred from the record (struct, json-struct.ts: for sinks that need schemas, such as the
// PostgreSQL sink). Where to go on from is one of:
//   - http.offset.field: the last record's value of that field (an id, an updated_at) is put into
//     the next request, through a ${offset} placeholder in http.url or the http.offset.param
//     query parameter; the API must answer the records after it. A record whose field equals the
//     offset asked for counts as sent already, so an API that answers inclusively (>=) does not
//     repeat its last record;
//   - http.next.cursor.path: the response names the next page's cursor. Each record's offset is
//     the cursor of its page and how many of that page's records are sent, the last one of a
//     page the next cursor; so when an API's last page has no next cursor and grows in place,
//     only its new records are sent, also after a restart;
//   - neither: every poll sends the whole response again (a snapshot every interval).
// A page with new records is followed at once by the next; otherwise the next request waits
// http.poll.interval.ms. The source partition is {url: http.url} and its offset the position
// after the record, so a restarted task goes on after the last stored one (at least once: what
// was sent after the last offset flush before a crash is sent again). A non-2xx answer, an answer
// that is not JSON or an API out of reach is retried (http.retry.backoff.ms doubling up to
// http.retry.backoff.max.ms, Retry-After honoured) http.max.retries times, then the task fails
// with the status and body; the position never moves past what was answered. A URL is one
// stream: the connector runs one task, whatever tasks.max says.
//
// Webhooks. With webhook.listener (http://host:port) the task serves POST webhook.path: a JSON
// object or an array of them becomes records, and the answer is 200 only once Kafka has
// acknowledged all of them (commitRecord), so a client that got 200 knows its events are stored;
// 400 for a body that is not JSON, 413 over webhook.max.body.bytes, 503 while the task stops or
// has too much unacknowledged. Webhook records have no source offset: a client that got no 200
// sends again. The port must be a fixed one, for clients have to know where to post.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type ConnectValidator, Validators } from '../../api/config.js';
import { ConnectException, type RecordMetadata, SourceConnector, SourceTask } from '../../api/connector.js';
import { type Schema, Schemas, type SourceRecord } from '../../api/data.js';
import { CheckedConfigDef } from './checked-config.js';
import { HttpTransportError, backoffMs, excerpt, httpRequest, httpUrlProblem, parseHeaderList, redacted, retryAfterMs, sleep } from './http-client.js';
import { type JsonPathStep, jsonPathProblem, parseJsonPath, readJsonPath } from './json-path.js';
import { JsonStructs } from './json-struct.js';

const VERSION = '1.0.0';
const OFFSET_PLACEHOLDER = '${offset}';
const HEADER_SEPARATOR = '|';
/** How long poll waits for records before returning none (the worker flushes offsets between polls). */
const IDLE_WAIT_MS = 200;
/** Records handed to the worker per poll. */
const MAX_POLL_RECORDS = 2000;
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Webhook records waiting for Kafka before new posts get 503. */
const MAX_PENDING_WEBHOOK_RECORDS = 10_000;
/** On stop, how long posts whose records are being sent wait for Kafka's acknowledgement. */
const STOP_ACK_WAIT_MS = 2_000;

const GROUP_POLL = 'Polling';
const GROUP_WEBHOOK = 'Webhook';

const singleTopic: ConnectValidator = (name, value) =>
  typeof value !== 'string' || value.trim() === '' ? `Missing required configuration "${name}" which has no default value.`
    : value.includes(',') ? `Invalid value ${value} for configuration ${name}: the HTTP source writes to a single topic` : undefined;

const urlTemplate: ConnectValidator = (name, value) =>
  value === null || value === '' ? undefined : httpUrlProblem(name, String(value).split(OFFSET_PLACEHOLDER).join('0'));

const headerList: ConnectValidator = (name, value) => {
  try {
    parseHeaderList(value === null ? null : String(value), HEADER_SEPARATOR);
    return undefined;
  } catch (error) {
    return `Invalid value ${String(value)} for configuration ${name}: ${(error as Error).message}`;
  }
};

const listenerUrl: ConnectValidator = (name, value) => {
  if (value === null || value === '') return undefined;
  const problem = httpUrlProblem(name, String(value));
  if (problem) return problem;
  const url = new URL(String(value));
  if (url.protocol !== 'http:') return `Invalid value ${String(value)} for configuration ${name}: the webhook listener serves plain http:// (put a TLS proxy in front of it)`;
  if (url.port === '' || url.port === '0') return `Invalid value ${String(value)} for configuration ${name}: give a fixed port (e.g. http://0.0.0.0:8090): clients must know where to post`;
  if (url.pathname !== '/' || url.search !== '') return `Invalid value ${String(value)} for configuration ${name}: a listener is host and port only; set the path with webhook.path`;
  return undefined;
};

const absolutePath: ConnectValidator = (name, value) =>
  typeof value === 'string' && !value.startsWith('/') ? `Invalid value ${value} for configuration ${name}: the path must start with /` : undefined;

const configDef = new CheckedConfigDef((config) => {
  const problems: [string, string][] = [];
  const url = config.optionalString('http.url');
  if (url === null && config.optionalString('webhook.listener') === null) {
    problems.push(['http.url', 'Missing required configuration "http.url" which has no default value (a source needs http.url to poll, or webhook.listener to receive posts, or both).']);
  }
  const offsetField = config.optionalString('http.offset.field');
  const cursorPath = config.optionalString('http.next.cursor.path');
  if (offsetField !== null && cursorPath !== null) {
    problems.push(['http.next.cursor.path', 'Invalid configuration http.next.cursor.path: set either http.offset.field (the offset is a field of the records) or http.next.cursor.path (the response names the next cursor), not both.']);
  }
  if (url !== null && (offsetField !== null || cursorPath !== null) && !url.includes(OFFSET_PLACEHOLDER) && config.optionalString('http.offset.param') === null) {
    problems.push(['http.offset.param', `Invalid configuration http.offset.param: with ${offsetField !== null ? 'http.offset.field' : 'http.next.cursor.path'} the offset must reach the API: put ${OFFSET_PLACEHOLDER} in http.url or name the query parameter in http.offset.param.`]);
  }
  return problems;
})
  .define({ name: 'http.url', type: 'string', defaultValue: null, importance: 'HIGH', group: GROUP_POLL, orderInGroup: 1, validator: urlTemplate, documentation: `The URL to GET. It may hold ${OFFSET_PLACEHOLDER}, replaced by the current offset or cursor. Required unless webhook.listener is set.` })
  .define({ name: 'topic', type: 'string', importance: 'HIGH', orderInGroup: 2, validator: singleTopic, documentation: 'The topic to write the records to.' })
  .define({ name: 'http.headers', type: 'string', defaultValue: null, importance: 'MEDIUM', group: GROUP_POLL, orderInGroup: 3, validator: headerList, documentation: `Headers sent with every request, "Name: value" entries separated by ${HEADER_SEPARATOR} (e.g. Authorization: Bearer abc${HEADER_SEPARATOR}Accept: application/json).` })
  .define({ name: 'http.poll.interval.ms', type: 'long', defaultValue: 5000, importance: 'MEDIUM', group: GROUP_POLL, orderInGroup: 4, validator: Validators.atLeast(1), documentation: 'How long to wait before asking again after a response with no new records.' })
  .define({ name: 'http.response.records.path', type: 'string', defaultValue: '$', importance: 'HIGH', group: GROUP_POLL, orderInGroup: 5, validator: jsonPathProblem, documentation: 'A JSON path (e.g. $.data.items) to the array of records in the response body; $ when the body is the array. A single object there is one record.' })
  .define({ name: 'http.offset.field', type: 'string', defaultValue: null, importance: 'HIGH', group: GROUP_POLL, orderInGroup: 6, validator: jsonPathProblem, documentation: 'A JSON path within a record (e.g. id or $.meta.updated_at) whose last value is the offset the next request continues from.' })
  .define({ name: 'http.offset.param', type: 'string', defaultValue: null, importance: 'MEDIUM', group: GROUP_POLL, orderInGroup: 7, documentation: `A query parameter the offset or cursor is added to the URL as (instead of a ${OFFSET_PLACEHOLDER} placeholder); left out while the offset is empty.` })
  .define({ name: 'http.offset.initial', type: 'string', defaultValue: '', importance: 'MEDIUM', group: GROUP_POLL, orderInGroup: 8, documentation: 'The offset or cursor of the first request, when no offset is stored.' })
  .define({ name: 'http.next.cursor.path', type: 'string', defaultValue: null, importance: 'MEDIUM', group: GROUP_POLL, orderInGroup: 9, validator: jsonPathProblem, documentation: 'A JSON path (e.g. $.next) to the next page\'s cursor in the response body, for APIs that page by cursor. Absent, null or empty: no further page yet.' })
  .define({ name: 'http.record.key.field', type: 'string', defaultValue: null, importance: 'MEDIUM', orderInGroup: 10, validator: jsonPathProblem, documentation: 'A JSON path within a record whose value is the record key: as a string (objects and arrays as JSON text), or with http.value.format=struct the value with its inferred schema (an optional int64 for an integer id, an optional string for a string one); no key when unset.' })
  .define({ name: 'http.value.format', type: 'string', defaultValue: 'string', importance: 'MEDIUM', orderInGroup: 11, validator: Validators.oneOf('string', 'json', 'struct'), recommendedValues: ['string', 'json', 'struct'], documentation: 'string: the value is the record as JSON text with a string schema (for StringConverter). json: the parsed record without a schema (for JsonConverter with schemas.enable=false). struct: a Struct with a schema inferred from each record on its own (for JsonConverter with schemas.enable=true and sinks that need schemas, such as the PostgreSQL sink): strings are optional strings, integers optional int64 (a whole number such as 2.0 too), other numbers optional float64, booleans optional booleans, objects optional structs (fields in the record\'s order), arrays optional arrays of their elements\' schema when the elements agree (integers with other numbers as float64), otherwise the array\'s JSON text as an optional string; a null is an optional string field with a null value, so an upsert sink clears the column rather than keeping its old value. Every schema is optional and unnamed: records of equal shape have equal schemas.' })
  .define({ name: 'http.max.retries', type: 'int', defaultValue: 10, importance: 'MEDIUM', group: GROUP_POLL, orderInGroup: 12, validator: Validators.atLeast(0), documentation: 'How many times a failed request (non-2xx, not JSON, unreachable) is retried before the task fails.' })
  .define({ name: 'http.retry.backoff.ms', type: 'long', defaultValue: 1000, importance: 'LOW', group: GROUP_POLL, orderInGroup: 13, validator: Validators.atLeast(0), documentation: 'The wait before the first retry; it doubles with each retry (a Retry-After header is honoured instead).' })
  .define({ name: 'http.retry.backoff.max.ms', type: 'long', defaultValue: 60_000, importance: 'LOW', group: GROUP_POLL, orderInGroup: 14, validator: Validators.atLeast(0), documentation: 'The longest wait between retries.' })
  .define({ name: 'http.request.timeout.ms', type: 'long', defaultValue: 30_000, importance: 'LOW', group: GROUP_POLL, orderInGroup: 15, validator: Validators.atLeast(1), documentation: 'How long a request may take, from its start to the response\'s last byte.' })
  .define({ name: 'http.connect.timeout.ms', type: 'long', defaultValue: 10_000, importance: 'LOW', group: GROUP_POLL, orderInGroup: 16, validator: Validators.atLeast(1), documentation: 'How long connecting to the API may take.' })
  .define({ name: 'webhook.listener', type: 'string', defaultValue: null, importance: 'MEDIUM', group: GROUP_WEBHOOK, orderInGroup: 1, validator: listenerUrl, documentation: 'Where to accept webhook posts, e.g. http://0.0.0.0:8090 (a fixed port). Off when unset.' })
  .define({ name: 'webhook.path', type: 'string', defaultValue: '/', importance: 'LOW', group: GROUP_WEBHOOK, orderInGroup: 2, validator: absolutePath, documentation: 'The path webhooks are posted to.' })
  .define({ name: 'webhook.max.body.bytes', type: 'int', defaultValue: 1024 * 1024, importance: 'LOW', group: GROUP_WEBHOOK, orderInGroup: 3, validator: Validators.atLeast(1), documentation: 'The largest body a post may have (413 above it).' });

export class HttpSourceConnector extends SourceConnector {
  private props: Readonly<Record<string, string>> = {};

  version(): string {
    return VERSION;
  }
  start(props: Readonly<Record<string, string>>): void {
    configDef.parse(props);
    this.props = props;
  }
  taskClass(): new () => SourceTask {
    return HttpSourceTask;
  }
  /** One task: a URL is one stream of pages, and a listener one port. */
  taskConfigs(_maxTasks: number): Record<string, string>[] {
    return [{ ...this.props }];
  }
  stop(): void {}
  config(): CheckedConfigDef {
    return configDef;
  }
  /** The offsets are the API's own values or cursors: a user may set them to start elsewhere. */
  override alterOffsets(): boolean {
    return true;
  }
}

type Mode = 'offset' | 'cursor' | 'snapshot';

/** A webhook post waiting for Kafka to acknowledge its records. */
interface PendingPost {
  readonly response: ServerResponse;
  remaining: number;
  readonly written: ({ partition: number; offset: number } | null)[];
}

interface Settings {
  readonly url: string | null;
  readonly topic: string;
  readonly headers: Record<string, string>;
  readonly pollIntervalMs: number;
  readonly recordsPath: JsonPathStep[];
  readonly offsetField: JsonPathStep[] | null;
  readonly offsetParam: string | null;
  readonly initialOffset: string;
  readonly cursorPath: JsonPathStep[] | null;
  readonly keyField: JsonPathStep[] | null;
  readonly format: 'string' | 'json' | 'struct';
  readonly maxRetries: number;
  readonly backoffMs: number;
  readonly backoffMaxMs: number;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly listener: URL | null;
  readonly webhookPath: string;
  readonly maxBodyBytes: number;
}

export class HttpSourceTask extends SourceTask {
  private settings!: Settings;
  private mode: Mode = 'snapshot';
  private sourcePartition: Readonly<Record<string, unknown>> = {};
  /** The offset or cursor the next request asks for. */
  private position: string | number = '';
  /** Cursor mode: how many records of the current cursor's page are sent already. */
  private skip = 0;
  /** Records for the worker's next poll, polled and posted alike, in order. */
  private queue: SourceRecord[] = [];
  private fatal: Error | null = null;
  private stopping = false;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  /** Resolves the poller's wait once the worker has taken `pageEnd`, the last record of its page. */
  private drained: (() => void) | undefined;
  private pageEnd: SourceRecord | undefined;
  private poller: Promise<void> | undefined;
  private server: Server | undefined;
  private readonly posts = new Set<PendingPost>();
  private readonly postOf = new WeakMap<SourceRecord, PendingPost>();
  private pendingWebhookRecords = 0;
  /** http.value.format=struct: schemas inferred from the records (cached by shape). */
  private readonly structs = new JsonStructs();

  version(): string {
    return VERSION;
  }

  async start(props: Readonly<Record<string, string>>): Promise<void> {
    const config = configDef.parse(props);
    const path = (name: string) => {
      const text = config.optionalString(name);
      return text === null ? null : parseJsonPath(text);
    };
    const listener = config.optionalString('webhook.listener');
    this.settings = {
      url: config.optionalString('http.url'),
      topic: config.string('topic').trim(),
      headers: parseHeaderList(config.optionalString('http.headers'), HEADER_SEPARATOR),
      pollIntervalMs: config.number('http.poll.interval.ms'),
      recordsPath: parseJsonPath(config.string('http.response.records.path')),
      offsetField: path('http.offset.field'),
      offsetParam: config.optionalString('http.offset.param'),
      initialOffset: config.string('http.offset.initial'),
      cursorPath: path('http.next.cursor.path'),
      keyField: path('http.record.key.field'),
      format: config.string('http.value.format').toLowerCase() as Settings['format'],
      maxRetries: config.number('http.max.retries'),
      backoffMs: config.number('http.retry.backoff.ms'),
      backoffMaxMs: config.number('http.retry.backoff.max.ms'),
      requestTimeoutMs: config.number('http.request.timeout.ms'),
      connectTimeoutMs: config.number('http.connect.timeout.ms'),
      listener: listener === null ? null : new URL(listener),
      webhookPath: config.string('webhook.path'),
      maxBodyBytes: config.number('webhook.max.body.bytes'),
    };
    const { url } = this.settings;
    this.mode = this.settings.cursorPath ? 'cursor' : this.settings.offsetField ? 'offset' : 'snapshot';
    if (url !== null) {
      this.sourcePartition = { url };
      this.position = this.settings.initialOffset;
      const stored = this.mode === 'snapshot' ? null : await this.context.offsetStorageReader.offset(this.sourcePartition);
      if (this.mode === 'offset' && (typeof stored?.offset === 'string' || typeof stored?.offset === 'number')) this.position = stored.offset;
      if (this.mode === 'cursor' && stored && (typeof stored.cursor === 'string' || typeof stored.cursor === 'number')) {
        this.position = stored.cursor;
        this.skip = typeof stored.skip === 'number' && stored.skip >= 0 ? stored.skip : 0;
      }
    }
    if (this.settings.listener) await this.listen(this.settings.listener);
    if (url !== null) this.poller = this.pollLoop();
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.fatal) throw this.fatal;
    if (this.stopping) return null;
    if (this.queue.length === 0) {
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, IDLE_WAIT_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolveWait();
        };
      });
      this.wake = undefined;
    }
    if (this.fatal) throw this.fatal;
    if (this.stopping || this.queue.length === 0) return null;
    const batch = this.queue.splice(0, MAX_POLL_RECORDS);
    if (this.pageEnd !== undefined && batch.includes(this.pageEnd)) {
      this.pageEnd = undefined;
      this.drained?.();
    }
    return batch;
  }

  /** Kafka has the record: a webhook post is answered once it has all of its records. */
  override commitRecord(record: SourceRecord, metadata: RecordMetadata | null): void {
    const post = this.postOf.get(record);
    if (!post) return;
    this.postOf.delete(record);
    this.pendingWebhookRecords--;
    post.written.push(metadata ? { partition: metadata.partition, offset: metadata.offset } : null);
    post.remaining--;
    if (post.remaining === 0) {
      this.posts.delete(post);
      answer(post.response, 200, { records: post.written.length, written: post.written });
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    this.wake?.();
    this.drained?.();
    // Posts with records not handed to the worker will not be stored: the client must send again.
    const unsent = new Set(this.queue.map((record) => this.postOf.get(record)).filter((post): post is PendingPost => post !== undefined));
    this.queue = [];
    for (const post of unsent) this.refuse(post);
    // Posts whose records are being sent get their 200 if Kafka acknowledges them soon.
    const deadline = Date.now() + STOP_ACK_WAIT_MS;
    while (this.posts.size > 0 && Date.now() < deadline) await sleep(20);
    for (const post of [...this.posts]) this.refuse(post);
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
    }
    await this.poller;
  }

  // ---- polling ----

  private async pollLoop(): Promise<void> {
    while (!this.stopping) {
      let body: unknown;
      try {
        body = await this.fetchPage();
        if (this.stopping) return;
        const { records, again } = this.recordsOf(body);
        if (records.length > 0) {
          const drained = new Promise<void>((resolveDrained) => {
            this.drained = resolveDrained;
          });
          this.pageEnd = records[records.length - 1];
          this.queue.push(...records);
          this.wake?.();
          // The next page waits until the worker has taken these: memory stays bounded by a page.
          await drained;
          this.drained = undefined;
        }
        if (!again) await sleep(this.settings.pollIntervalMs, this.abort.signal);
      } catch (error) {
        if (this.stopping) return;
        this.fatal = error instanceof Error ? error : new ConnectException(String(error));
        this.wake?.();
        return;
      }
    }
  }

  /** The URL of the next request: the position in the placeholder or the offset parameter. */
  private requestUrl(): URL {
    const position = String(this.position);
    const url = new URL(this.settings.url!.split(OFFSET_PLACEHOLDER).join(encodeURIComponent(position)));
    if (this.mode !== 'snapshot' && this.settings.offsetParam !== null && position !== '') url.searchParams.set(this.settings.offsetParam, position);
    return url;
  }

  /** The parsed body of a 2xx answer, after retries; throws a ConnectException when they run out. */
  private async fetchPage(): Promise<unknown> {
    const { maxRetries } = this.settings;
    for (let attempt = 0; ; attempt++) {
      const url = this.requestUrl();
      let failure: string;
      let wait: number | null = null;
      try {
        const response = await httpRequest(url, {
          method: 'GET',
          headers: { Accept: 'application/json', ...this.settings.headers },
          connectTimeoutMs: this.settings.connectTimeoutMs,
          requestTimeoutMs: this.settings.requestTimeoutMs,
          maxResponseBytes: MAX_RESPONSE_BYTES,
          signal: this.abort.signal,
        });
        if (response.status >= 200 && response.status < 300) {
          try {
            return response.body.trim() === '' ? null : JSON.parse(response.body);
          } catch (error) {
            failure = `HTTP ${response.status} with a body that is not JSON (${(error as Error).message}): ${excerpt(response.body)}`;
          }
        } else {
          failure = `HTTP ${response.status}: ${excerpt(response.body)}`;
          wait = retryAfterMs(response.headers);
        }
      } catch (error) {
        if (this.stopping) throw error;
        failure = error instanceof HttpTransportError ? error.message : `GET ${redacted(url)}: ${(error as Error).message}`;
      }
      if (attempt >= maxRetries) {
        throw new ConnectException(`GET ${redacted(url)} failed ${attempt + 1} time(s), giving up after http.max.retries=${maxRetries}: ${failure}`);
      }
      await sleep(wait ?? backoffMs(attempt, this.settings.backoffMs, this.settings.backoffMaxMs), this.abort.signal);
      if (this.stopping) throw new ConnectException('stopped');
    }
  }

  /** The records of a page not sent yet, with their offsets; `again`: ask for the next page at once. */
  private recordsOf(body: unknown): { records: SourceRecord[]; again: boolean } {
    const found = readJsonPath(body, this.settings.recordsPath);
    const items = found === undefined || found === null ? [] : Array.isArray(found) ? found : [found];
    if (this.mode === 'snapshot') return { records: items.map((item) => this.record(item, this.sourcePartition, null)), again: false };
    if (this.mode === 'offset') {
      const asked = String(this.position);
      const records: SourceRecord[] = [];
      for (const item of items) {
        const offset = readJsonPath(item, this.settings.offsetField!);
        if (typeof offset !== 'string' && typeof offset !== 'number') {
          throw new ConnectException(`a record has no string or number at http.offset.field ${pathText(this.settings.offsetField!)}, so the source cannot tell where to go on from: ${excerpt(JSON.stringify(item) ?? 'undefined', 300)}`);
        }
        if (String(offset) === asked) continue;
        records.push(this.record(item, this.sourcePartition, { offset }));
        this.position = offset;
      }
      return { records, again: records.length > 0 };
    }
    const cursor = this.position;
    const next = readJsonPath(body, this.settings.cursorPath!);
    const moved = (typeof next === 'string' || typeof next === 'number') && next !== '' && String(next) !== String(cursor);
    const fresh = items.slice(this.skip);
    const records = fresh.map((item, index) => this.record(item, this.sourcePartition, { cursor, skip: this.skip + index + 1 }));
    if (moved) {
      // The page's last record carries the next cursor: once it is stored, this page is done.
      const last = records.pop();
      if (last) records.push({ ...last, sourceOffset: { cursor: next, skip: 0 } });
      this.position = next as string | number;
      this.skip = 0;
    } else {
      this.skip = Math.max(this.skip, items.length);
    }
    return { records, again: moved };
  }

  private record(item: unknown, sourcePartition: Readonly<Record<string, unknown>> | null, sourceOffset: Readonly<Record<string, unknown>> | null): SourceRecord {
    const { keyField, format, topic } = this.settings;
    let keySchema: Schema | null = null;
    let key: unknown = null;
    let valueSchema: Schema | null;
    let value: unknown;
    if (format === 'struct') {
      if (keyField !== null) ({ schema: keySchema, value: key } = this.structs.of(readJsonPath(item, keyField)));
      ({ schema: valueSchema, value } = this.structs.of(item));
    } else {
      if (keyField !== null) {
        keySchema = Schemas.OPTIONAL_STRING;
        key = keyText(readJsonPath(item, keyField));
      }
      valueSchema = format === 'json' ? null : Schemas.STRING;
      value = format === 'json' ? item : typeof item === 'string' ? item : JSON.stringify(item);
    }
    return {
      topic,
      kafkaPartition: null,
      keySchema,
      key,
      valueSchema,
      value,
      timestamp: null,
      headers: [],
      sourcePartition,
      sourceOffset,
    };
  }

  // ---- webhooks ----

  private async listen(listener: URL): Promise<void> {
    const server = createServer((request, response) => {
      this.onPost(request, response).catch((error: unknown) => answer(response, 500, { error: (error as Error).message }));
    });
    const host = listener.hostname.replace(/^\[|\]$/g, '');
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(Number(listener.port), host, () => {
        server.off('error', rejectListen);
        resolveListen();
      });
    }).catch((error: unknown) => {
      throw new ConnectException(`could not listen for webhooks on webhook.listener=${listener.href}: ${(error as Error).message}`);
    });
    this.server = server;
  }

  private async onPost(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://webhook').pathname;
    if (path !== this.settings.webhookPath) {
      answer(response, 404, { error: `no webhook at ${path}; post to ${this.settings.webhookPath}` });
      return;
    }
    if (request.method !== 'POST') {
      response.setHeader('Allow', 'POST');
      answer(response, 405, { error: 'webhooks are posted (POST)' });
      return;
    }
    if (this.stopping) {
      answer(response, 503, { error: 'the connector task is stopping; send again later' });
      return;
    }
    const body = await readBody(request, this.settings.maxBodyBytes);
    if (body === null) {
      response.setHeader('Connection', 'close');
      answer(response, 413, { error: `the body is larger than webhook.max.body.bytes=${this.settings.maxBodyBytes}` });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (error) {
      answer(response, 400, { error: `the body is not JSON: ${(error as Error).message}` });
      return;
    }
    const items = Array.isArray(parsed) ? parsed : [parsed];
    if (this.stopping) {
      answer(response, 503, { error: 'the connector task is stopping; send again later' });
      return;
    }
    if (items.length === 0) {
      answer(response, 200, { records: 0, written: [] });
      return;
    }
    if (this.pendingWebhookRecords + items.length > MAX_PENDING_WEBHOOK_RECORDS) {
      response.setHeader('Retry-After', '1');
      answer(response, 503, { error: 'too many posts are waiting for Kafka; send again later' });
      return;
    }
    const post: PendingPost = { response, remaining: items.length, written: [] };
    const records = items.map((item) => this.record(item, null, null));
    for (const record of records) this.postOf.set(record, post);
    this.posts.add(post);
    this.pendingWebhookRecords += records.length;
    this.queue.push(...records);
    this.wake?.();
  }

  private refuse(post: PendingPost): void {
    this.posts.delete(post);
    answer(post.response, 503, { error: 'the connector task stopped before Kafka acknowledged these records; send again' });
  }
}

/** The body, or null when it is larger than `limit` (the rest is read and dropped, so the answer can be sent). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolveBody, rejectBody) => {
    const declared = Number(request.headers['content-length']);
    let tooLarge = Number.isFinite(declared) && declared > limit;
    if (tooLarge) {
      request.resume();
      resolveBody(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        resolveBody(null);
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolveBody(tooLarge ? null : Buffer.concat(chunks)));
    request.on('error', rejectBody);
  });
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

function keyText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function pathText(steps: readonly JsonPathStep[]): string {
  return `$${steps.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('')}`;
}
