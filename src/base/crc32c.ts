// CRC-32C (Castagnoli), the checksum of record batch v2, computed natively (SIMD) by @node-rs/crc32.
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C of `buffer[start, end)`, as an unsigned 32-bit integer. */
export function crc32c(buffer: Buffer, start = 0, end = buffer.length): number {
  const view = start === 0 && end === buffer.length ? buffer : buffer.subarray(start, end);
  return nativeCrc32c(view) >>> 0;
}
