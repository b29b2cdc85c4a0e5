#!/usr/bin/env node
// Bundles the command line into one file, dist/cli/conveyor.js, so `conveyor start` compiles one
// script instead of resolving and compiling hundreds of modules. The file is a single function
// expression, (exports, require, module, __filename, __dirname) => { ...CommonJS... }, that
// bin/conveyor.js compiles with V8's code cache and calls (see there). Commands stay lazy: each
// one's modules run only when it does. Native addons stay external, and so do node-forge (only
// `conveyor certs` loads it; bundled, every command would carry its source) and jose (only a broker
// whose OAUTHBEARER listener validates JWTs loads it), and fastify and prom-client (only `conveyor connect` and a broker with metrics.listeners serve HTTP), and the connectors' client libraries (pg, ...: loaded when a task of theirs starts). bin/conveyor.js runs the bundle in a
// vm.Script, where import() has no loader to call: a dynamic import of an external module becomes
// require() (jose is an ES module, which require() loads from Node 20.19 and 22.12).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const output = 'dist/cli/conveyor.js';

// Also clears out the code caches of the previous build.
rmSync('dist/cli', { recursive: true, force: true });

await build({
  entryPoints: { conveyor: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: ['@node-rs/crc32', 'snappy', 'lz4-napi', 'zstd-napi', 'nats', 'node-forge', 'jose', 'fastify', 'prom-client', 'pg', '@aws-sdk/client-s3', 'hyparquet-writer', 'mysql2', '@vlasky/zongji'],
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
  // The sources are ES modules: `import.meta.url` becomes the bundle's own URL.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: '(function (exports, require, module, __filename, __dirname) {\n"use strict";\nvar __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  footer: { js: '})' },
});

// ASCII only (esbuild escapes strings; a kept comment may not be): one character beyond Latin-1
// makes V8 hold the whole source at two bytes per character, about 1 MB more resident memory.
const text = readFileSync(output, 'utf8');
const ascii = text.replace(/[^\x00-\x7f]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
if (ascii !== text) writeFileSync(output, ascii);
