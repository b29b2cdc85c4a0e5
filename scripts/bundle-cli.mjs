#!/usr/bin/env node
// Bundles the command line into a few files under dist/cli/ (one entry, one chunk per lazily
// loaded command) so `conveyor start` loads a handful of modules instead of hundreds: module
// resolution and compilation dominate start-up on Node 20. Native addons stay external.
import { build } from 'esbuild';

await build({
  entryPoints: { conveyor: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: ['@node-rs/crc32', 'snappy', 'lz4-napi', 'zstd-napi', 'commander', 'nats'],
  logLevel: 'warning',
});
