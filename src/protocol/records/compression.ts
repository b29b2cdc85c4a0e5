// The record batch compression codecs by Kafka codec id: gzip (1), snappy (2), lz4 (3), zstd (4).
// Every decompression takes a byte budget, so a small batch can never make the broker allocate
// without bound (DESIGN.md decision 8); failures are CompressionError with a Kafka error code.
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { CompressionType } from './batch-header.js';
import { CompressionError, CompressionFailure, corrupt, outputTooLarge } from './compression-error.js';
import { compressLz4, compressLz4Sync, decompressLz4, decompressLz4Sync } from './lz4-frame.js';
import { compressSnappy, compressSnappySync, decompressSnappy, decompressSnappySync } from './snappy-codec.js';
import { zstd, zstdBinding } from './native-codecs.js';


const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export function isKnownCodec(codec: number): boolean {
  return codec >= CompressionType.none && codec <= CompressionType.zstd;
}

function unknownCodec(codec: number): CompressionError {
  return new CompressionError(CompressionFailure.unknownCodec, codec, `unknown compression codec id ${codec}`);
}

export function compressSync(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case CompressionType.none:
      return data;
    case CompressionType.gzip:
      return gzipSync(data);
    case CompressionType.snappy:
      return compressSnappySync(data);
    case CompressionType.lz4:
      return compressLz4Sync(data);
    case CompressionType.zstd:
      return zstd().compress(data);
    default:
      throw unknownCodec(codec);
  }
}

/** Compresses off the event loop where the library can (gzip, snappy, lz4); zstd-napi is sync only. */
export async function compress(codec: number, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case CompressionType.gzip:
      return gzipAsync(data);
    case CompressionType.snappy:
      return compressSnappy(data);
    case CompressionType.lz4:
      return compressLz4(data);
    default:
      return compressSync(codec, data);
  }
}

export function decompressSync(codec: number, data: Buffer, maxBytes: number): Buffer {
  switch (codec) {
    case CompressionType.none:
      if (data.length > maxBytes) throw outputTooLarge(codec, maxBytes);
      return data;
    case CompressionType.gzip:
      return gunzipBounded(() => gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes) }), maxBytes);
    case CompressionType.snappy:
      return decompressSnappySync(data, maxBytes);
    case CompressionType.lz4:
      return decompressLz4Sync(data, maxBytes);
    case CompressionType.zstd:
      return decompressZstd(data, maxBytes);
    default:
      throw unknownCodec(codec);
  }
}

export async function decompress(codec: number, data: Buffer, maxBytes: number): Promise<Buffer> {
  switch (codec) {
    case CompressionType.gzip:
      return gunzipBounded(() => gunzipAsync(data, { maxOutputLength: Math.max(1, maxBytes) }), maxBytes);
    case CompressionType.snappy:
      return decompressSnappy(data, maxBytes);
    case CompressionType.lz4:
      return decompressLz4(data, maxBytes);
    default:
      return decompressSync(codec, data, maxBytes);
  }
}

function gunzipBounded(run: () => Buffer, maxBytes: number): Buffer;
function gunzipBounded(run: () => Promise<Buffer>, maxBytes: number): Promise<Buffer>;
function gunzipBounded(run: () => Buffer | Promise<Buffer>, maxBytes: number): Buffer | Promise<Buffer> {
  const check = (output: Buffer): Buffer => {
    if (output.length > maxBytes) throw outputTooLarge(CompressionType.gzip, maxBytes);
    return output;
  };
  const fail = (error: unknown): never => {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw outputTooLarge(CompressionType.gzip, maxBytes);
    throw corrupt(CompressionType.gzip, (error as Error).message);
  };
  try {
    const output = run();
    return output instanceof Promise ? output.then(check, fail) : check(output);
  } catch (error) {
    return fail(error);
  }
}

let zstdContext: ZstdBinding.DCtx | undefined;

/**
 * Streams zstd frames into bounded chunks. Frames may omit their content size (Java streams
 * through zstd-jni), so the declared size is never needed; output is capped chunk by chunk.
 */
function decompressZstd(data: Buffer, maxBytes: number): Buffer {
  const binding = zstdBinding();
  const context = (zstdContext ??= new binding.DCtx());
  const outputChunkBytes = binding.dStreamOutSize();
  const chunks: Buffer[] = [];
  let total = 0;
  let input = data;
  let pending = 1;
  try {
    while (input.length > 0 || pending !== 0) {
      const room = Math.min(Math.max(outputChunkBytes, input.length * 4), maxBytes - total + 1);
      const chunk = Buffer.allocUnsafe(room);
      const [remaining, produced, consumed] = context.decompressStream(chunk, input);
      total += produced;
      if (total > maxBytes) throw outputTooLarge(CompressionType.zstd, maxBytes);
      if (produced === 0 && consumed === 0) throw corrupt(CompressionType.zstd, 'truncated zstd frame');
      chunks.push(chunk.subarray(0, produced));
      input = input.subarray(consumed);
      pending = remaining;
    }
  } catch (error) {
    context.reset(binding.ResetDirective.sessionOnly);
    if (error instanceof CompressionError) throw error;
    throw corrupt(CompressionType.zstd, (error as Error).message);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}
