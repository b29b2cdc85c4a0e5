import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JavaPattern } from './java-regex.js';

describe('JavaPattern', () => {
  it('matches the whole input, with Java-only syntax translated', () => {
    assert.equal(new JavaPattern('a|ab').matches('ab'), true);
    assert.equal(new JavaPattern('b').matches('ab'), false);
    assert.equal(new JavaPattern('(?i)TOPIC').matches('topic'), true);
    assert.equal(new JavaPattern('\\Qa.b\\E').matches('a.b'), true);
    assert.equal(new JavaPattern('\\Qa.b\\E').matches('axb'), false);
    assert.equal(new JavaPattern('\\Aab+c\\z').matches('abbc'), true);
    assert.equal(new JavaPattern('a++b').matches('aab'), true, 'possessive quantifiers are accepted');
    assert.equal(new JavaPattern('[+]+').matches('++'), true);
  });

  it('replaces the first match as Matcher.replaceFirst does', () => {
    // Like Java, replaceFirst searches again: for a|ab it replaces "a", not the whole match.
    assert.equal(new JavaPattern('a|ab').replaceFirst('ab', 'x'), 'xb');
    assert.equal(new JavaPattern('(a)(b)?(c)').replaceFirst('ac', '[$1|$2|$3]'), '[a||c]', 'an unmatched group is empty');
    assert.equal(new JavaPattern('(a)').replaceFirst('a', '$10'), 'a0', 'digits are taken while they name a group');
    assert.equal(new JavaPattern('(?<word>\\w+)').replaceFirst('hi', '<${word}> \\$1'), '<hi> $1');
    assert.throws(() => new JavaPattern('a').replaceFirst('a', '$x'), /Illegal group reference/);
    assert.throws(() => new JavaPattern('a').replaceFirst('a', 'x\\'), /character to be escaped is missing/);
    assert.throws(() => new JavaPattern('a').replaceFirst('a', '${nope}'), /No group with name \{nope\}/);
  });

  it('refuses a pattern that does not compile', () => {
    assert.throws(() => new JavaPattern('(unclosed'));
  });
});
