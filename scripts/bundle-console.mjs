#!/usr/bin/env node
// Bundles the web console's front end (src/console/app/: TypeScript and one style sheet) into
// dist/console/app.js and dist/console/app-style.css, which the console server serves (src/console/
// assets.ts). No framework, no CDN: what the browser loads is these two files. Run from a
// checkout without a build, the server bundles the same sources in memory instead.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/console', { recursive: true, force: true });

await build({
  entryPoints: { app: 'src/console/app/main.tsx', 'app-style': 'src/console/app/style.css' },
  outdir: 'dist/console',
  bundle: true,
  format: 'iife',
  target: 'es2022',
  minify: true,
  logLevel: 'warning',
  // The outputs are app.js and app-style.css: two entries may not share a name.
  entryNames: '[name]',
});
