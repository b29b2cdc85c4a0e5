// docs/connect.md's configuration reference is generated from the built-in connectors' config
// definitions (scripts/connect-reference.ts); a key added, removed or reworded without running
// `npm run docs:connect` fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { updatedDocument } from '../../scripts/connect-reference.js';

test('docs/connect.md lists every built-in connector\'s configuration as its definition has it', () => {
  const current = readFileSync(new URL('../../docs/connect.md', import.meta.url), 'utf8');
  assert.equal(updatedDocument(current), current, 'run `npm run docs:connect` to regenerate the reference');
});
