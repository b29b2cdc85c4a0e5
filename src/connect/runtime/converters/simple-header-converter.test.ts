// SimpleHeaderConverter: header values written as Kafka's Values.convertToString writes them, and
// read back with the schema Values.parseString infers (booleans, the narrowest integer, float32,
// dates and times, arrays and maps with a common element schema, strings otherwise).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Decimal, type Schema, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { DATE_SCHEMA, decimalSchema, TIME_SCHEMA, TIMESTAMP_SCHEMA } from './logical.js';
import { SimpleHeaderConverter } from './simple-header-converter.js';

const converter = new SimpleHeaderConverter();
converter.configure({});
const text = (schema: Schema | null, value: unknown) => converter.fromConnectHeader('t', 'h', schema, value)?.toString('utf8') ?? null;
const parse = (value: string) => converter.toConnectHeader('t', 'h', Buffer.from(value, 'utf8'));

describe('SimpleHeaderConverter: writing', () => {
  it('writes primitives as their text', () => {
    assert.equal(text(Schemas.STRING, 'plain "text"'), 'plain "text"');
    assert.equal(text(Schemas.INT32, 42), '42');
    assert.equal(text(Schemas.INT64, 9007199254740993n), '9007199254740993');
    assert.equal(text(Schemas.FLOAT32, 3.14), '3.14');
    assert.equal(text(Schemas.FLOAT64, 1), '1.0');
    assert.equal(text(Schemas.BOOLEAN, false), 'false');
    assert.equal(text(Schemas.BYTES, Buffer.from('hi')), 'aGk=');
    assert.equal(text(decimalSchema(2), new Decimal(-12345n, 2)), '-123.45');
  });

  it('writes dates by their logical type, in UTC', () => {
    const moment = new Date(Date.UTC(2024, 0, 31, 13, 45));
    assert.equal(text(DATE_SCHEMA, new Date(Date.UTC(2024, 0, 31))), '2024-01-31');
    assert.equal(text(TIME_SCHEMA, new Date(Date.UTC(1970, 0, 1, 13, 45))), '13:45:00.000Z');
    assert.equal(text(TIMESTAMP_SCHEMA, moment), '2024-01-31T13:45:00.000Z');
    assert.equal(text(TIMESTAMP_SCHEMA, new Date(Date.UTC(2024, 0, 31))), '2024-01-31T00:00:00.000Z');
    assert.equal(text(null, new Date(Date.UTC(2024, 0, 31))), '2024-01-31'); // no schema: Kafka's guess
  });

  it('writes arrays, maps and structs with embedded strings quoted', () => {
    assert.equal(text(SchemaBuilder.array(Schemas.STRING).build(), ['a', 'b "c"', 'd\\e']), '["a","b \\"c\\"","d\\\\e"]');
    assert.equal(text(SchemaBuilder.map(Schemas.STRING, Schemas.INT32).build(), new Map([['x', 1], ['y', 2]])), '{"x":1,"y":2}');
    const schema = SchemaBuilder.struct().field('id', Schemas.INT32).field('name', Schemas.STRING).field('n', SchemaBuilder.int8().defaultValue(3).build()).build();
    assert.equal(text(schema, new Struct(schema).put('id', 7).put('name', 'x')), '{"id":7,"name":"x","n":3}');
    assert.equal(text(null, [1, null, [true]]), '[1,null,[true]]');
  });

  it('writes null as a null header value', () => {
    assert.equal(converter.fromConnectHeader('t', 'h', Schemas.OPTIONAL_STRING, null), null);
    assert.deepEqual(converter.toConnectHeader('t', 'h', null), { schema: null, value: null });
  });
});

describe('SimpleHeaderConverter: reading', () => {
  const cases: [string, Schema | null, unknown][] = [
    ['true', Schemas.BOOLEAN, true],
    ['false', Schemas.BOOLEAN, false],
    ['null', null, null],
    ['42', Schemas.INT8, 42],
    [' -128 ', Schemas.INT8, -128],
    ['300', Schemas.INT16, 300],
    ['70000', Schemas.INT32, 70000],
    ['5000000000', Schemas.INT64, 5000000000n],
    ['1.0', Schemas.INT8, 1],
    ['1.5', Schemas.FLOAT32, 1.5],
    ['1e300', Schemas.FLOAT64, 1e300],
    ['123456789012345678901234567890', decimalSchema(0), new Decimal(123456789012345678901234567890n, 0)],
    ['2024-01-31', DATE_SCHEMA, new Date(Date.UTC(2024, 0, 31))],
    ['13:45:00.000Z', TIME_SCHEMA, new Date(Date.UTC(1970, 0, 1, 13, 45))],
    ['2024-01-31T13:45:00.000Z', TIMESTAMP_SCHEMA, new Date(Date.UTC(2024, 0, 31, 13, 45))],
    ['hello world', Schemas.STRING, 'hello world'],
    ['', Schemas.STRING, ''],
    ['   ', Schemas.STRING, '   '],
    ['12:30', Schemas.STRING, '12:30'],
    ['2024-02-30', Schemas.STRING, '2024-02-30'],
    ['true}', Schemas.STRING, 'true}'],
    ['.5', Schemas.STRING, '.5'],
    ['[a,b]', Schemas.STRING, '[a,b]'],
    ['[1,2', Schemas.STRING, '[1,2'],
    ['[1,2] tail', Schemas.STRING, '[1,2] tail'],
    ['{"a":1', Schemas.STRING, '{"a":1'],
  ];
  for (const [input, schema, value] of cases) {
    it(`${JSON.stringify(input)} → ${schema ? schema.name ?? schema.type : 'null'}`, () => {
      assert.deepEqual(parse(input), { schema, value });
    });
  }

  it('reads arrays with a common element schema: integers widen, a null makes it optional', () => {
    assert.deepEqual(parse('[1, 2, 300]'), { schema: SchemaBuilder.array(Schemas.INT16).build(), value: [1, 2, 300] });
    assert.deepEqual(parse('[1,5000000000]'), { schema: SchemaBuilder.array(Schemas.INT64).build(), value: [1n, 5000000000n] });
    assert.deepEqual(parse('[1,null,2.5]'), { schema: SchemaBuilder.array(Schemas.OPTIONAL_FLOAT32).build(), value: [1, null, 2.5] });
    assert.deepEqual(parse('["a","b \\"c\\""]'), { schema: SchemaBuilder.array(Schemas.STRING).build(), value: ['a', 'b "c"'] });
    assert.deepEqual(parse('[[1],[2]]'), { schema: SchemaBuilder.array(SchemaBuilder.array(Schemas.INT8).build()).build(), value: [[1], [2]] });
    assert.deepEqual(parse('[2024-01-31T13:45:00.000Z]'), { schema: SchemaBuilder.array(TIMESTAMP_SCHEMA).build(), value: [new Date(Date.UTC(2024, 0, 31, 13, 45))] });
  });

  it('reads arrays without a common schema as arrays of anything', () => {
    const mixed = parse('[1,"a",true]');
    assert.equal(mixed.schema?.type, 'array');
    assert.equal(mixed.schema?.valueSchema, undefined);
    assert.deepEqual(mixed.value, [1, 'a', true]);
    assert.deepEqual(parse('[]').value, []);
  });

  it('reads maps', () => {
    assert.deepEqual(parse('{"x":1,"y":2}'), { schema: SchemaBuilder.map(Schemas.STRING, Schemas.INT8).build(), value: new Map([['x', 1], ['y', 2]]) });
    assert.deepEqual(parse('{1:"one",2:"two"}'), { schema: SchemaBuilder.map(Schemas.INT8, Schemas.STRING).build(), value: new Map([[1, 'one'], [2, 'two']]) });
    const mixedValues = parse('{"a":1,"b":"x"}');
    assert.deepEqual(mixedValues.schema, { type: 'map', optional: false, keySchema: Schemas.STRING });
    assert.deepEqual(mixedValues.value, new Map<string, unknown>([['a', 1], ['b', 'x']]));
    assert.deepEqual(parse('{null:1}'), { schema: Schemas.STRING, value: '{null:1}' });
  });

  it('round-trips what it writes', () => {
    const values: [Schema, unknown][] = [
      [Schemas.INT16, 1000],
      [Schemas.INT64, 9007199254740993n],
      [Schemas.FLOAT32, Math.fround(2.5)],
      [Schemas.BOOLEAN, true],
      [Schemas.STRING, 'just text'],
      [SchemaBuilder.array(Schemas.STRING).build(), ['a', 'quote " and \\ backslash', '']],
      [SchemaBuilder.map(Schemas.STRING, Schemas.INT32).build(), new Map([['k', 100000]])],
      [DATE_SCHEMA, new Date(Date.UTC(1999, 11, 31))],
      [TIMESTAMP_SCHEMA, new Date(Date.UTC(2024, 0, 31, 0, 0, 0, 1))],
    ];
    for (const [schema, value] of values) {
      assert.deepEqual(parse(text(schema, value)!), { schema, value }, JSON.stringify(String(value)));
    }
  });

  it('does not stack-overflow on deep nesting', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    assert.deepEqual(parse(deep), { schema: Schemas.STRING, value: deep });
  });
});
