import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpTransportError, backoffMs, httpRequest, httpUrlProblem, parseHeaderList, parseStatusCodes, redacted, retryAfterMs } from './http-client.js';

describe('HTTP connectors: header lists, status codes, Retry-After, backoff', () => {
  it('parses "Name: value" lists whose values may hold commas and colons', () => {
    assert.deepEqual(parseHeaderList('Authorization: Bearer a,b:c | X-Test:yes', '|'), { Authorization: 'Bearer a,b:c', 'X-Test': 'yes' });
    assert.deepEqual(parseHeaderList(null, '|'), {});
    assert.deepEqual(parseHeaderList('A: 1;B: 2', ';'), { A: '1', B: '2' });
    assert.throws(() => parseHeaderList('no colon here', '|'), /not a "Name: value" header/);
    assert.throws(() => parseHeaderList('Bad Name: x', '|'), /not a valid header name/);
  });

  it('reads status code sets: codes, closed and open ranges', () => {
    const codes = parseStatusCodes('429, 500-503,599-');
    assert.deepEqual([428, 429, 499, 500, 503, 504, 598, 599, 700].map(codes), [false, true, false, true, true, false, false, true, true]);
    assert.equal(parseStatusCodes('')(500), false);
    assert.throws(() => parseStatusCodes('5xx'), /'5xx' is not a status code/);
    assert.throws(() => parseStatusCodes('503-500'), /empty range/);
  });

  it('reads Retry-After as seconds or as a date', () => {
    assert.equal(retryAfterMs({ 'retry-after': '3' }), 3000);
    assert.equal(retryAfterMs({ 'retry-after': new Date(10_000).toUTCString() }, 4_000), 6_000);
    assert.equal(retryAfterMs({ 'retry-after': 'soon' }), null);
    assert.equal(retryAfterMs({}), null);
  });

  it('doubles the backoff up to its cap', () => {
    assert.deepEqual([0, 1, 2, 3, 10, 100].map((attempt) => backoffMs(attempt, 100, 1000)), [100, 200, 400, 800, 1000, 1000]);
  });

  it('accepts only http and https URLs, and keeps passwords out of messages', () => {
    assert.equal(httpUrlProblem('k', 'https://api.example.com/x'), undefined);
    assert.match(httpUrlProblem('k', 'not a url') ?? '', /Invalid value not a url for configuration k: not a valid URL/);
    assert.match(httpUrlProblem('k', 'ftp://example.com') ?? '', /must start with http/);
    assert.equal(redacted(new URL('http://user:secret@example.com/p')), 'http://example.com/p');
  });
});

describe('HTTP connectors: one request against a real server', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((request, response) => {
      if (request.url === '/slow') return void setTimeout(() => response.end('late'), 2_000).unref();
      if (request.url === '/big') return void response.end('x'.repeat(5000));
      let body = '';
      request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      request.on('end', () => {
        response.writeHead(201, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ method: request.method, body, auth: request.headers.authorization }));
      });
    });
    await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolveClose) => server.close(resolveClose));
  });

  const options = { headers: {}, connectTimeoutMs: 1000, requestTimeoutMs: 500, maxResponseBytes: 1000 };

  it('sends the method, headers and body, and returns the status and body', async () => {
    const response = await httpRequest(new URL(`${base}/echo`), { ...options, method: 'PUT', headers: { Authorization: 'Bearer t' }, body: 'ünï' });
    assert.equal(response.status, 201);
    assert.deepEqual(JSON.parse(response.body), { method: 'PUT', body: 'ünï', auth: 'Bearer t' });
  });

  it('times out, caps the body, and reports a refused connection', async () => {
    await assert.rejects(httpRequest(new URL(`${base}/slow`), { ...options, method: 'GET' }), (error: unknown) => error instanceof HttpTransportError && /within 500 ms/.test(error.message));
    await assert.rejects(httpRequest(new URL(`${base}/big`), { ...options, method: 'GET' }), /larger than 1000 bytes/);
    // A port nothing listens on: take one and close it.
    const closed = createServer();
    await new Promise<void>((resolveListen) => closed.listen(0, '127.0.0.1', resolveListen));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolveClose) => closed.close(resolveClose));
    await assert.rejects(httpRequest(new URL(`http://127.0.0.1:${port}/`), { ...options, method: 'GET' }), (error: unknown) => error instanceof HttpTransportError && /ECONNREFUSED/.test(error.message));
  });

  it('stops at once when aborted', async () => {
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 50);
    await assert.rejects(httpRequest(new URL(`${base}/slow`), { ...options, requestTimeoutMs: 5000, method: 'GET', signal: abort.signal }), /aborted/);
    assert.ok(Date.now() - started < 1000);
  });
});
