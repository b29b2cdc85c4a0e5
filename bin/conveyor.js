#!/usr/bin/env node
// The conveyor command: a thin entry into the bundled CLI (dist/cli, built by `npm run build`),
// falling back to the plain compiled modules when the bundle is missing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const candidates = [new URL('../dist/cli/conveyor.js', import.meta.url), new URL('../dist/src/cli/main.js', import.meta.url)];
const main = candidates.find((url) => existsSync(fileURLToPath(url)));
if (!main) {
  process.stderr.write('conveyor is not built yet: run `npm install` (or `npm run build`) in the project folder first.\n');
  process.exit(1);
}
const { run } = await import(main.href);
await run(process.argv);
