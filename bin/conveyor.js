#!/usr/bin/env node
// The conveyor command: a thin entry into the compiled CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('conveyor is not built yet: run `npm install` (or `npm run build`) in the project folder first.\n');
  process.exit(1);
}
const { run } = await import(main.href);
await run(process.argv);
