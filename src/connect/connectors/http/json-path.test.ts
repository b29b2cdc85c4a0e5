import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonPathProblem, parseJsonPath, readJsonPath } from './json-path.js';

describe('HTTP connectors: JSON paths', () => {
  it('parses $, member names, quoted names and indexes, with or without the $', () => {
    assert.deepEqual(parseJsonPath('$'), []);
    assert.deepEqual(parseJsonPath(''), []);
    assert.deepEqual(parseJsonPath('$.data.items'), ['data', 'items']);
    assert.deepEqual(parseJsonPath('data.items'), ['data', 'items']);
    assert.deepEqual(parseJsonPath("$['odd key'].list[2]"), ['odd key', 'list', 2]);
    assert.deepEqual(parseJsonPath('$["a.b"]'), ['a.b']);
  });

  it('refuses what it does not support, saying why', () => {
    assert.throws(() => parseJsonPath('$..items'), /empty member name/);
    assert.throws(() => parseJsonPath('$.items[*]'), /only array indexes and quoted names/);
    assert.throws(() => parseJsonPath('$.items[0'), /unclosed/);
    assert.match(jsonPathProblem('http.offset.field', '$.a[?(@.x)]') ?? '', /Invalid value .* for configuration http\.offset\.field/);
    assert.equal(jsonPathProblem('http.offset.field', null), undefined);
  });

  it('reads the value at a path, undefined where a step is missing or of the wrong kind', () => {
    const body = { data: { items: [{ id: 1 }, { id: 2 }] }, next: null };
    assert.deepEqual(readJsonPath(body, parseJsonPath('$.data.items')), [{ id: 1 }, { id: 2 }]);
    assert.equal(readJsonPath(body, parseJsonPath('$.data.items[1].id')), 2);
    assert.equal(readJsonPath(body, parseJsonPath('$.next')), null);
    assert.equal(readJsonPath(body, parseJsonPath('$.missing.deeper')), undefined);
    assert.equal(readJsonPath(body, parseJsonPath('$.data[0]')), undefined);
    assert.equal(readJsonPath(body, parseJsonPath('$.data.items.length')), undefined, 'no array properties');
    assert.equal(readJsonPath({}, parseJsonPath('$.constructor')), undefined, 'no inherited members');
    assert.deepEqual(readJsonPath(body, []), body);
  });
});
