// Writes whole objects to S3 (or any S3-compatible store) with @aws-sdk/client-s3, loaded only
// when a task starts. An object up to s3.part.size goes up in one PutObject; a larger one as a
// multipart upload in parts of s3.part.size (aborted if it cannot be completed, so no parts are
// left behind). Each request is retried s3.part.retries times, waiting s3.retry.backoff.ms and
// doubling; the SDK's own retries are off so that these two settings are the whole story. Errors
// that a retry cannot fix (no such bucket, access denied, bad credentials) fail at once as a
// ConnectException; the others, once the retries are spent, as a RetriableException.
import type { S3Client } from '@aws-sdk/client-s3';
import { ConnectException, RetriableException } from '../../api/connector.js';
import type { S3SinkSettings } from './config.js';

/** The longest single wait between retries, however many there are. */
const MAX_BACKOFF_MS = 30_000;
/** How long to wait for a connection to the store, and for a response to a request. */
const CONNECTION_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 120_000;

export interface ObjectStore {
  /** Writes the object (replacing any object of that name). */
  put(key: string, body: Buffer): Promise<{ multipart: boolean }>;
  close(): void;
}

type Sdk = typeof import('@aws-sdk/client-s3');

export async function openS3Store(settings: S3SinkSettings): Promise<ObjectStore> {
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({
    region: settings.region,
    ...(settings.storeUrl !== null ? { endpoint: settings.storeUrl, forcePathStyle: settings.pathStyle } : {}),
    ...(settings.credentials !== null ? { credentials: settings.credentials } : {}),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
  });
  const store = new S3Store(sdk, client, settings);
  try {
    await store.checkBucket();
  } catch (error) {
    client.destroy();
    throw error;
  }
  return store;
}

class S3Store implements ObjectStore {
  constructor(
    private readonly sdk: Sdk,
    private readonly client: S3Client,
    private readonly settings: S3SinkSettings,
  ) {}

  /** Fails the task at start when the bucket is not there (as Confluent's connector does). */
  async checkBucket(): Promise<void> {
    const { bucket } = this.settings;
    try {
      await this.attempt(`HeadBucket s3://${bucket}`, () => this.client.send(new this.sdk.HeadBucketCommand({ Bucket: bucket })));
    } catch (error) {
      const cause = error instanceof Error ? error.cause : undefined;
      if (statusOf(cause) === 404) throw new ConnectException(`Non-existent S3 bucket: ${bucket}`, { cause });
      throw error;
    }
  }

  async put(key: string, body: Buffer): Promise<{ multipart: boolean }> {
    const { bucket, partSize } = this.settings;
    if (body.length <= partSize) {
      await this.attempt(`PutObject s3://${bucket}/${key}`, () => this.client.send(new this.sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length })));
      return { multipart: false };
    }
    const created = await this.attempt(`CreateMultipartUpload s3://${bucket}/${key}`, () => this.client.send(new this.sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: key })));
    const uploadId = created.UploadId!;
    try {
      const parts: { PartNumber: number; ETag: string }[] = [];
      for (let start = 0, number = 1; start < body.length; start += partSize, number++) {
        const part = body.subarray(start, Math.min(start + partSize, body.length));
        const uploaded = await this.attempt(`UploadPart ${number} of s3://${bucket}/${key}`, () =>
          this.client.send(new this.sdk.UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: number, Body: part, ContentLength: part.length })));
        parts.push({ PartNumber: number, ETag: uploaded.ETag! });
      }
      await this.attempt(`CompleteMultipartUpload s3://${bucket}/${key}`, () =>
        this.client.send(new this.sdk.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } })));
      return { multipart: true };
    } catch (error) {
      // Parts of an upload that is never completed cost storage until they are aborted.
      await this.client.send(new this.sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw error;
    }
  }

  close(): void {
    this.client.destroy();
  }

  /** Runs one request, retrying what may succeed when retried. */
  private async attempt<T>(what: string, request: () => Promise<T>): Promise<T> {
    const { partRetries, retryBackoffMs } = this.settings;
    for (let retry = 0; ; retry++) {
      try {
        return await request();
      } catch (error) {
        const message = `S3 ${what} failed: ${describeError(error)}`;
        if (!retriable(error)) throw new ConnectException(message, { cause: error });
        if (retry >= partRetries) throw new RetriableException(`${message} (after ${partRetries + 1} attempts)`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, Math.min(retryBackoffMs * 2 ** retry, MAX_BACKOFF_MS)));
      }
    }
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** Server errors, throttling, timeouts and network failures may pass; other client errors will not. */
function retriable(error: unknown): boolean {
  const status = statusOf(error);
  const name = (error as { name?: string } | undefined)?.name ?? '';
  if (['RequestTimeout', 'SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeTooSkewed', 'InternalError', 'ServiceUnavailable'].includes(name)) return true;
  if (status === undefined) return true;
  return status >= 500 || status === 408 || status === 429;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = statusOf(error);
  const code = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
  // An error without a body (a HEAD request's 404) has the status code as its only message.
  const message = error.message && error.message !== 'UnknownError' ? error.message : 'no error message';
  return `${code}${message}${status !== undefined ? ` (HTTP ${status})` : ''}`;
}
