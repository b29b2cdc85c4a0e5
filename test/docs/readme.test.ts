// Keeps the README's protocol tables true. The first (served) table must list exactly the handlers
// in the registry with the versions ApiVersions advertises, give Kafka 4.x's range for each, and
// explain every difference in its Notes. The second (not served yet) table must name no API the
// registry serves, and give each row Kafka 4.x's range and the issue area that brings it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { handlers, supportedApis } from '../../src/broker/handlers/registry.js';

const AREAS = new Set(['cluster', 'security', 'groups', 'metrics']);
const RANGE = /^\d+-\d+$/;

function protocolTables(): { served: string[][]; notServed: string[][] } {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = /<!-- protocol-table:start -->([\s\S]*?)<!-- protocol-table:end -->/.exec(readme);
  assert.ok(section, 'README has a protocol table between markers');
  const parts = section[1]!.split('<!-- protocol-table:not-served -->');
  assert.equal(parts.length, 2, 'the protocol section has one <!-- protocol-table:not-served --> separator');
  const rows = (text: string) =>
    text
      .split('\n')
      .filter((line) => /^\| \d+ \|/.test(line))
      .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
  return { served: rows(parts[0]!), notServed: rows(parts[1]!) };
}

test('README served table matches the handler registry, with Kafka 4.x ranges and notes for differences', () => {
  const { served } = protocolTables();
  const names = new Map(handlers.map((handler) => [handler.api.apiKey, handler.api.name]));
  const expected = supportedApis().map(({ apiKey, minVersion, maxVersion }) => [String(apiKey), names.get(apiKey), `${minVersion}-${maxVersion}`]);
  assert.deepEqual(
    served.map((cells) => cells.slice(0, 3)),
    expected,
  );
  for (const [key, name, versions, kafka, notes] of served) {
    assert.match(kafka ?? '', RANGE, `${key} ${name}: Kafka 4.x range`);
    if (versions !== kafka) assert.ok((notes ?? '').length > 0, `${key} ${name}: serves ${versions}, Kafka 4.x ${kafka}, but no note says why`);
  }
});

test('README not-served table names no API the registry serves, each with its Kafka 4.x range and area', () => {
  const { notServed } = protocolTables();
  assert.ok(notServed.length > 0, 'the not-served table has rows');
  const servedKeys = new Set(supportedApis().map(({ apiKey }) => String(apiKey)));
  const seen = new Set<string>();
  for (const [key, name, kafka, area] of notServed) {
    assert.ok(!servedKeys.has(key!), `${key} ${name} is served (in the registry) but listed as not served`);
    assert.ok(!seen.has(key!), `${key} ${name} is listed twice`);
    seen.add(key!);
    assert.match(name ?? '', /^[A-Z][A-Za-z]+$/, `${key}: API name`);
    assert.match(kafka ?? '', RANGE, `${key} ${name}: Kafka 4.x range`);
    assert.ok(AREAS.has(area ?? ''), `${key} ${name}: area ${area} is one of ${[...AREAS].join(', ')}`);
  }
  const keys = notServed.map(([key]) => Number(key));
  assert.deepEqual(
    keys,
    [...keys].sort((a, b) => a - b),
    'rows in key order',
  );
});
