// The native compression libraries, each loaded on first use: a broker whose clients never send
// snappy, lz4 or zstd batches does not pay their memory (about 14 MB of RSS together) or load time.
import { createRequire } from 'node:module';
import type * as Lz4 from 'lz4-napi';
import type * as Snappy from 'snappy';
import type * as Zstd from 'zstd-napi';
import type * as ZstdBinding from 'zstd-napi/binding.js';

// Named apart from `require` so bundlers leave these run-time loads alone.
const requireNative = createRequire(import.meta.url);

let snappyModule: typeof Snappy | undefined;
let lz4Module: typeof Lz4 | undefined;
let zstdModule: typeof Zstd | undefined;
let zstdBindingModule: typeof ZstdBinding | undefined;

export function snappy(): typeof Snappy {
  return (snappyModule ??= requireNative('snappy') as typeof Snappy);
}

export function lz4(): typeof Lz4 {
  return (lz4Module ??= requireNative('lz4-napi') as typeof Lz4);
}

export function zstd(): typeof Zstd {
  return (zstdModule ??= requireNative('zstd-napi') as typeof Zstd);
}

/** The low-level zstd binding, for streaming decompression with bounded output. */
export function zstdBinding(): typeof ZstdBinding {
  // The binding module is CommonJS without named exports, so it loads through require.
  return (zstdBindingModule ??= requireNative('zstd-napi/binding') as typeof ZstdBinding);
}
