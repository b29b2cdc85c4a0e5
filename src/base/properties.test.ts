// parseProperties reads a Kafka properties file as java.util.Properties does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProperties } from './config-def.js';

test('separators, comments, blanks and continuations', () => {
  const parsed = parseProperties([
    '# a comment',
    '! another',
    '  bootstrap.servers = localhost:9092  ',
    'listeners: PLAINTEXT://:9092',
    'log.dirs /tmp/a',
    'empty=',
    'bare',
    'plugin.path=/opt/a,\\',
    '    /opt/b',
    '',
  ].join('\n'));
  assert.deepEqual([...parsed], [
    ['bootstrap.servers', 'localhost:9092'],
    ['listeners', 'PLAINTEXT://:9092'],
    ['log.dirs', '/tmp/a'],
    ['empty', ''],
    ['bare', ''],
    ['plugin.path', '/opt/a,/opt/b'],
  ]);
});

test('escapes: a regular expression written as for Java, escaped separators in keys, unicode', () => {
  const parsed = parseProperties([
    'table.include.list=public\\\\.(customers|orders)',
    'legacy=public\\.t',
    'key\\=with\\:separators=v',
    'tab=a\\tb',
    'unicode=caf\\u00e9',
    'ends.in.backslash=C:\\\\',
    'kept.space=a\\ ',
  ].join('\n'));
  assert.equal(parsed.get('table.include.list'), 'public\\.(customers|orders)');
  assert.equal(parsed.get('legacy'), 'public.t', 'a backslash before another character stands for that character');
  assert.equal(parsed.get('key=with:separators'), 'v');
  assert.equal(parsed.get('tab'), 'a\tb');
  assert.equal(parsed.get('unicode'), 'café');
  assert.equal(parsed.get('ends.in.backslash'), 'C:\\', 'an escaped backslash at the end is not a continuation');
  assert.equal(parsed.get('kept.space'), 'a ');
});
