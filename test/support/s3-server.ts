// A local S3-API server for tests: s3rver (objects in a fresh temporary directory) behind a plain
// node:http server on 127.0.0.1 and a free port. The wrapper records every request (method and
// path with query) so tests can see how an object went up (PutObject or a multipart upload), and
// can inject failures: the next requests answered 500 without being handled, or handled (the
// object stored) and then answered 500, as a store that lost its response would. Also a small
// client for listing and reading objects back. stop() closes the server and removes the directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

/** s3rver ships no types; this is the part of it used here. */
interface S3rverInstance {
  configureBuckets(): Promise<void>;
  callback(): (request: IncomingMessage, response: ServerResponse) => void;
  logger: { close(): void };
}
type S3rverConstructor = new (options: { silent: boolean; directory: string; configureBuckets: { name: string }[] }) => S3rverInstance;

export const S3_ACCESS_KEY = 'S3RVER';
export const S3_SECRET_KEY = 'S3RVER';

export interface S3Request {
  readonly method: string;
  /** The path and query, such as /bucket/topics/t/partition=0/t+0+0000000000.json?x-id=PutObject. */
  readonly url: string;
}

export type S3Fault = 'reject' | 'store-then-fail';

export interface S3Server {
  /** http://127.0.0.1:<port> (the store.url of a connector). */
  readonly url: string;
  readonly requests: S3Request[];
  /** Answers the next `count` requests matching `match` (default: any) with 500 InternalError. */
  failNext(count: number, fault?: S3Fault, match?: (request: S3Request) => boolean): void;
  /** Stops injecting failures. */
  clearFaults(): void;
  readonly client: S3Client;
  /** Every key in the bucket under `prefix`, sorted (once no upload is in flight). */
  listKeys(bucket: string, prefix?: string): Promise<string[]>;
  getObject(bucket: string, key: string): Promise<Buffer>;
  stop(): Promise<void>;
}

export async function startS3Server(buckets: readonly string[]): Promise<S3Server> {
  const require = createRequire(import.meta.url);
  const S3rver = require('s3rver') as S3rverConstructor;
  const directory = await mkdtemp(join(tmpdir(), 'conveyor-s3-'));
  const s3rver = new S3rver({ silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  await s3rver.configureBuckets();
  const handle = s3rver.callback();
  const requests: S3Request[] = [];
  let faults: { remaining: number; fault: S3Fault; match: (request: S3Request) => boolean } | null = null;
  const failure = (response: ServerResponse) => {
    response.statusCode = 500;
    response.setHeader('content-type', 'application/xml');
    response.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>Injected failure</Message></Error>');
  };
  // s3rver writes an object's file as the request streams in, and lists it meanwhile: reads wait
  // until no write is in flight, so a test never sees an object half written.
  let writesInFlight = 0;
  const quiet = async () => {
    while (writesInFlight > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  const server: Server = createServer((request, response) => {
    const entry = { method: request.method ?? '', url: request.url ?? '' };
    requests.push(entry);
    if (entry.method === 'PUT' || entry.method === 'POST') {
      writesInFlight++;
      response.once('close', () => writesInFlight--);
    }
    if (faults && faults.remaining > 0 && faults.match(entry)) {
      faults.remaining--;
      if (faults.fault === 'reject') {
        // Read the body first, so the client sees the answer rather than a reset connection.
        request.resume();
        request.on('end', () => failure(response));
        return;
      }
      // Let s3rver store the object, then replace its answer with a failure.
      const { writeHead, end } = response;
      response.writeHead = (() => response) as typeof response.writeHead;
      response.setHeader = (() => response) as typeof response.setHeader;
      response.end = (() => {
        response.writeHead = writeHead;
        response.end = end;
        delete (response as Partial<ServerResponse>).setHeader;
        failure(response);
        return response;
      }) as typeof response.end;
    }
    handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new S3Client({ region: 'us-west-2', endpoint: url, forcePathStyle: true, credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY } });
  let stopped = false;
  return {
    url,
    requests,
    client,
    failNext(count, fault = 'reject', match = () => true) {
      faults = { remaining: count, fault, match };
    },
    clearFaults() {
      faults = null;
    },
    async listKeys(bucket, prefix) {
      await quiet();
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) keys.push(object.Key!);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async getObject(bucket, key) {
      await quiet();
      const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await answer.Body!.transformToByteArray());
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      s3rver.logger.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
