// What the HTTP source and sink share: one request over node:http(s) with a connect timeout, an
// overall timeout and a cap on the response body; the parsing of their header lists, status code
// sets and Retry-After; and a backoff sleep that a stopping task can cut short.
// node:http rather than fetch: fetch has no connect timeout of its own without undici's Agent,
// which is not importable without adding the package.
import { type IncomingHttpHeaders, request as httpRequestOf } from 'node:http';
import { request as httpsRequestOf } from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpRequestOptions {
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly connectTimeoutMs: number;
  /** From the request's start to the response's last byte. */
  readonly requestTimeoutMs: number;
  readonly maxResponseBytes: number;
  /** Aborts the request (the task is stopping). */
  readonly signal?: AbortSignal;
}

/** The request did not get a complete response: refused, reset, timed out, too large. */
export class HttpTransportError extends Error {
  override readonly name = 'HttpTransportError';
}

/** Sends one request and resolves with the whole response, whatever its status. */
export function httpRequest(url: URL, options: HttpRequestOptions): Promise<HttpResponse> {
  return new Promise((resolveResponse, rejectResponse) => {
    const describe = `${options.method} ${redacted(url)}`;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (error: Error | null, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) rejectResponse(error);
      else resolveResponse(response!);
    };
    const body = options.body === undefined ? undefined : Buffer.from(options.body, 'utf8');
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined) headers['Content-Length'] = String(body.length);
    const open = url.protocol === 'https:' ? httpsRequestOf : httpRequestOf;
    const request = open(url, { method: options.method, headers });
    const fail = (message: string, cause?: unknown) => {
      finish(new HttpTransportError(`${describe}: ${message}`, cause === undefined ? undefined : { cause }));
      request.destroy();
    };
    const onAbort = () => fail('aborted: the task is stopping');
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(setTimeout(() => fail(`no complete response within ${options.requestTimeoutMs} ms (request.timeout)`), options.requestTimeoutMs));
    request.on('socket', (socket) => {
      // A kept-alive socket is connected already; a new one must connect within the connect timeout.
      if (!socket.connecting) return;
      const timer = setTimeout(() => fail(`could not connect within ${options.connectTimeoutMs} ms (connect timeout)`), options.connectTimeoutMs);
      timers.push(timer);
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(timer));
    });
    request.on('error', (error) => fail(error.message, error));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxResponseBytes) {
          fail(`the response body is larger than ${options.maxResponseBytes} bytes`);
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', (error) => fail(error.message, error));
      response.on('end', () => finish(null, { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.end(body);
  });
}

/** The URL without its user and password, for errors and traces. */
export function redacted(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

/** The problem with `value` as an http(s) URL, or undefined (for validators). */
export function httpUrlProblem(name: string, value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `Invalid value ${value} for configuration ${name}: not a valid URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `Invalid value ${value} for configuration ${name}: the URL must start with http:// or https://`;
  return undefined;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `Name: value` entries separated by `separator` (a value may hold commas, so the separator is not one). */
export function parseHeaderList(text: string | null, separator: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (text === null || text.trim() === '') return headers;
  for (const entry of text.split(separator)) {
    if (entry.trim() === '') continue;
    const colon = entry.indexOf(':');
    if (colon <= 0) throw new Error(`'${entry.trim()}' is not a "Name: value" header`);
    const name = entry.slice(0, colon).trim();
    const value = entry.slice(colon + 1).trim();
    if (!TOKEN.test(name)) throw new Error(`'${name}' is not a valid header name`);
    if (/[\r\n\0]/.test(value)) throw new Error(`the value of header '${name}' holds a line break`);
    headers[name] = value;
  }
  return headers;
}

/**
 * A set of status codes such as `429,500-599` (or `500-`: 500 and up); throws on a bad entry.
 * The empty string is the empty set.
 */
export function parseStatusCodes(text: string): (status: number) => boolean {
  const ranges: [number, number][] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const match = /^(\d{3})(?:\s*-\s*(\d{3})?)?$/.exec(entry);
    if (!match) throw new Error(`'${entry}' is not a status code or a range of them (e.g. 429 or 500-599 or 500-)`);
    const low = Number(match[1]);
    const high = match[2] !== undefined ? Number(match[2]) : entry.includes('-') ? 999 : low;
    if (high < low) throw new Error(`'${entry}' is an empty range`);
    ranges.push([low, high]);
  }
  return (status) => ranges.some(([low, high]) => status >= low && status <= high);
}

/** Retry-After as milliseconds (delta seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | null {
  const value = headers['retry-after'];
  if (typeof value !== 'string' || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Exponential backoff: `baseMs` doubled per attempt already made (0 for the first retry), at most `maxMs`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** Math.min(attempt, 30), maxMs);
}

/** Waits `ms`, or less when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolveSleep) => {
    if (signal?.aborted) {
      resolveSleep();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolveSleep();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** At most `max` characters of a response body for an error message. */
export function excerpt(body: string, max = 1000): string {
  const text = body.trim();
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
