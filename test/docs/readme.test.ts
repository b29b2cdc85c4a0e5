// Keeps the README's protocol coverage table true: it must list exactly the handlers in the
// registry with the versions ApiVersions advertises.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { handlers, supportedApis } from '../../src/broker/handlers/registry.js';

test('README protocol table matches the handler registry', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = /<!-- protocol-table:start -->([\s\S]*?)<!-- protocol-table:end -->/.exec(readme);
  assert.ok(table, 'README has a protocol table between markers');
  const rows = table[1]!
    .split('\n')
    .filter((line) => /^\| \d+ \|/.test(line))
    .map((line) => line.split('|').map((cell) => cell.trim()));
  const names = new Map(handlers.map((handler) => [handler.api.apiKey, handler.api.name]));
  const expected = supportedApis().map(({ apiKey, minVersion, maxVersion }) => [String(apiKey), names.get(apiKey), `${minVersion}-${maxVersion}`]);
  assert.deepEqual(
    rows.map((cells) => [cells[1], cells[2], cells[3]]),
    expected,
  );
});
