#!/usr/bin/env node
// Bundles the command line into a few files under dist/cli/ (one entry, one chunk per lazily
// loaded command) so `conveyor start` loads a handful of modules instead of hundreds: module
// resolution and compilation dominate start-up on Node 20. Native addons stay external; commander
// (CommonJS) is bundled, because importing CommonJS from ESM costs Node's export scanner ~7 MB RSS.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: clear out the previous build's chunks.
rmSync('dist/cli', { recursive: true, force: true });

await build({
  entryPoints: { conveyor: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: ['@node-rs/crc32', 'snappy', 'lz4-napi', 'zstd-napi', 'nats'],
  logLevel: 'warning',
  // commander is CommonJS and bundled in: its require() of Node's built-ins needs a real require.
  banner: { js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);" },
});
