// The JSON reader and writer under JsonConverter, and the Java number forms it writes: numbers keep
// their text, strings get Jackson's escapes, malformed or hostile input is refused with a
// JsonSyntaxError, and doubles, floats and decimals print as Double/Float/BigDecimal.toString.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bigDecimalText, javaDoubleText, javaFloatText, javaNarrow, parseDecimalText } from './java-numbers.js';
import { JsonSyntaxError, parseJson, parseJsonBytes, quoteJson, writeJson } from './json-text.js';

describe('parseJson and writeJson', () => {
  it('keeps number text exactly and writes compactly', () => {
    const text = ' { "big" : 123456789012345678901234567890 , "f" : -1.50e-3 , "list" : [ 1 , true , null , "x" ] , "o" : { } } ';
    assert.equal(writeJson(parseJson(text)!), '{"big":123456789012345678901234567890,"f":-1.50e-3,"list":[1,true,null,"x"],"o":{}}');
  });

  it('accepts leading zeros, as Kafka\'s deserializer does', () => {
    assert.deepEqual(parseJson('007'), { kind: 'number', text: '007' });
  });

  it('decodes escapes and surrogate pairs', () => {
    assert.deepEqual(parseJson('"a\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00"'), { kind: 'string', value: 'a"b\\c/d\né😀' });
  });

  it('is empty (undefined) for whitespace only', () => {
    assert.equal(parseJson(''), undefined);
    assert.equal(parseJson(' \n\t'), undefined);
  });

  it('skips a UTF-8 byte order mark and refuses invalid UTF-8', () => {
    assert.deepEqual(parseJsonBytes(Buffer.from([0xef, 0xbb, 0xbf, 0x31])), { kind: 'number', text: '1' });
    assert.throws(() => parseJsonBytes(Buffer.from([0x22, 0xc3, 0x22])), JsonSyntaxError);
  });

  it('keeps the last of duplicate keys', () => {
    assert.equal(writeJson(parseJson('{"a":1,"a":2}')!), '{"a":2}');
  });

  it('refuses malformed JSON with the offset', () => {
    for (const text of ['{', '[1 2]', '{"a" 1}', '01.', '.5', '+1', 'tru', 'NaN', '"\\x"', '"\\u12"', '"a', '"line\nbreak"', '1 2', '{"a":1,}']) {
      assert.throws(() => parseJson(text), (error: unknown) => error instanceof JsonSyntaxError && / at offset \d+/.test(error.message), text);
    }
  });

  it('limits nesting and number length', () => {
    assert.equal(writeJson(parseJson('['.repeat(1000) + ']'.repeat(1000))!), '['.repeat(1000) + ']'.repeat(1000));
    assert.throws(() => parseJson('['.repeat(1002) + ']'.repeat(1002)), /nested deeper than 1000/);
    assert.throws(() => parseJson('1'.repeat(1001)), /longer than 1000/);
  });

  it('escapes as Jackson does: short escapes, other controls as uppercase \\u00XX, lone surrogates kept', () => {
    assert.equal(quoteJson('plain é 😀'), '"plain é 😀"');
    assert.equal(quoteJson('"\\\b\t\n\f\r\u0000\u001f/'), '"\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u001F/"');
    assert.equal(quoteJson('a\ud800b'), '"a\\uD800b"');
  });
});

describe('Java number text', () => {
  it('Double.toString', () => {
    const cases: [number, string][] = [
      [0, '0.0'], [-0, '-0.0'], [1, '1.0'], [-1.5, '-1.5'], [100, '100.0'], [0.001, '0.001'], [0.000999, '9.99E-4'],
      [1234567, '1234567.0'], [1e7, '1.0E7'], [123456789.123, '1.23456789123E8'], [0.1 + 0.2, '0.30000000000000004'],
      [Number.MAX_VALUE, '1.7976931348623157E308'], [Number.MIN_VALUE, '4.9E-324'], [1e21, '1.0E21'], [1e-7, '1.0E-7'],
      [Number.NaN, 'NaN'], [Number.POSITIVE_INFINITY, 'Infinity'], [Number.NEGATIVE_INFINITY, '-Infinity'],
    ];
    for (const [value, text] of cases) assert.equal(javaDoubleText(value), text, String(value));
  });

  it('Float.toString, of the float32 nearest the value', () => {
    const cases: [number, string][] = [
      [3.14, '3.14'], [1, '1.0'], [0.1, '0.1'], [1e10, '1.0E10'], [16777217, '1.6777216E7'], [1.4e-45, '1.4E-45'], [3.4028235e38, '3.4028235E38'], [-2.5e-4, '-2.5E-4'],
    ];
    for (const [value, text] of cases) assert.equal(javaFloatText(value), text, String(value));
  });

  it('BigDecimal.toString', () => {
    const cases: [bigint, number, string][] = [
      [12345n, 2, '123.45'], [-12345n, 2, '-123.45'], [100n, 2, '1.00'], [5n, 3, '0.005'], [0n, 0, '0'], [0n, 2, '0.00'],
      [1n, -3, '1E+3'], [123n, -1, '1.23E+3'], [123n, 10, '1.23E-8'], [1n, 6, '0.000001'], [1n, 7, '1E-7'],
    ];
    for (const [unscaled, scale, text] of cases) assert.equal(bigDecimalText(unscaled, scale), text, text);
  });

  it('reads decimal text as BigDecimal does', () => {
    assert.deepEqual(parseDecimalText('-1.50'), { unscaled: -150n, scale: 2 });
    assert.deepEqual(parseDecimalText('1e3'), { unscaled: 1n, scale: -3 });
    assert.deepEqual(parseDecimalText('1.5E+2'), { unscaled: 15n, scale: -1 });
    assert.deepEqual(parseDecimalText('+.5'), { unscaled: 5n, scale: 1 });
    assert.equal(parseDecimalText('1.2.3'), undefined);
    assert.equal(parseDecimalText('.'), undefined);
  });

  it('narrows as Java casts do: truncate, then keep the low bits', () => {
    assert.equal(javaNarrow(parseDecimalText('300')!, 8), 44n);
    assert.equal(javaNarrow(parseDecimalText('-12.9')!, 32), -12n);
    assert.equal(javaNarrow(parseDecimalText('4294967297')!, 32), 1n);
    assert.equal(javaNarrow(parseDecimalText('1e100')!, 64), 0n);
    assert.equal(javaNarrow(parseDecimalText('1e-100')!, 64), 0n);
  });
});
