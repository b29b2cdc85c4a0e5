// CRC-32C (Castagnoli), the checksum of record batch v2, computed natively (SIMD) by @node-rs/crc32.
// It is loaded with require, not import: importing a CommonJS module from ESM makes Node start its
// CommonJS export scanner, which costs about 7 MB of resident memory in every broker process.
import { createRequire } from 'node:module';
import type * as Crc32 from '@node-rs/crc32';

// Named apart from `require` so bundlers leave this run-time load alone.
const requireNative = createRequire(import.meta.url);
const nativeCrc32c = (requireNative('@node-rs/crc32') as typeof Crc32).crc32c;

/** CRC-32C of `buffer[start, end)`, as an unsigned 32-bit integer. */
export function crc32c(buffer: Buffer, start = 0, end = buffer.length): number {
  const view = start === 0 && end === buffer.length ? buffer : buffer.subarray(start, end);
  return nativeCrc32c(view) >>> 0;
}
