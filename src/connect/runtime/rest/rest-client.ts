// Requests between workers (a follower forwarding a change to the leader): JSON over http or, to an
// https listener, over TLS with the worker's own REST TLS settings, so the leader's certificate is
// checked against the worker's trust store and the worker's certificate is presented where the
// leader requires client certificates (ssl.client.auth=required), as Kafka's RestClient does.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ConnectionOptions } from 'node:tls';

export interface WorkerResponse {
  readonly status: number;
  readonly text: string;
}

/** Sends `body` (JSON) with `method` to `url` and reads the whole answer; rejects when no answer comes in `timeoutMs`. */
export function requestWorker(url: string, method: string, body: unknown, timeoutMs: number, tls: ConnectionOptions | undefined): Promise<WorkerResponse> {
  const target = new URL(url);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length };
  return new Promise((resolve, reject) => {
    const onResponse = (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 500, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    };
    // One request per connection (agent: false): a kept-alive socket would hold a command-line
    // process open until the server's keep-alive timeout.
    const request = target.protocol === 'https:' ? httpsRequest(target, { method, headers, timeout: timeoutMs, agent: false, ...tls }, onResponse) : httpRequest(target, { method, headers, timeout: timeoutMs, agent: false }, onResponse);
    request.on('timeout', () => request.destroy(new Error(`no answer from ${target.origin} in ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(payload);
  });
}
