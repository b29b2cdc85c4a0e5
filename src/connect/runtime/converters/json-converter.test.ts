// JsonConverter against Kafka's JSON format: golden envelopes written by hand from Kafka's
// JsonSchema field names and order (every primitive type, a struct with optional fields and
// defaults, arrays, maps with string and int keys, each logical type, decimals in BASE64 and
// NUMERIC), round trips, schemaless mode, tombstones, the settings and the error messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataException, Decimal, type Schema, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { JsonConverter } from './json-converter.js';
import { DATE_SCHEMA, decimalSchema, TIME_SCHEMA, TIMESTAMP_SCHEMA } from './logical.js';

function converter(props: Record<string, string> = {}, isKey = false): JsonConverter {
  const created = new JsonConverter();
  created.configure(props, isKey);
  return created;
}

const write = (json: JsonConverter, schema: Schema | null, value: unknown): string | null => json.fromConnectData('topic', [], schema, value)?.toString('utf8') ?? null;
const read = (json: JsonConverter, text: string) => json.toConnectData('topic', [], Buffer.from(text, 'utf8'));

describe('JsonConverter: primitive envelopes', () => {
  const json = converter();
  const cases: [string, Schema, unknown, string][] = [
    ['int8', Schemas.INT8, -12, '{"schema":{"type":"int8","optional":false},"payload":-12}'],
    ['int16', Schemas.INT16, 12345, '{"schema":{"type":"int16","optional":false},"payload":12345}'],
    ['int32', Schemas.INT32, 2147483647, '{"schema":{"type":"int32","optional":false},"payload":2147483647}'],
    ['int64', Schemas.INT64, 9223372036854775807n, '{"schema":{"type":"int64","optional":false},"payload":9223372036854775807}'],
    ['float32', Schemas.FLOAT32, 12.34, '{"schema":{"type":"float","optional":false},"payload":12.34}'],
    ['float64', Schemas.FLOAT64, 1, '{"schema":{"type":"double","optional":false},"payload":1.0}'],
    ['float64, large', Schemas.FLOAT64, 1e21, '{"schema":{"type":"double","optional":false},"payload":1.0E21}'],
    ['boolean', Schemas.BOOLEAN, true, '{"schema":{"type":"boolean","optional":false},"payload":true}'],
    ['string', Schemas.STRING, 'say "hi"\n\u0001é', '{"schema":{"type":"string","optional":false},"payload":"say \\"hi\\"\\n\\u0001é"}'],
    ['bytes', Schemas.BYTES, Buffer.from([0, 1, 2, 255]), '{"schema":{"type":"bytes","optional":false},"payload":"AAEC/w=="}'],
    ['optional string, null', Schemas.OPTIONAL_STRING, null, '{"schema":{"type":"string","optional":true},"payload":null}'],
  ];
  for (const [name, schema, value, expected] of cases) {
    it(`${name} is written as Kafka writes it and read back`, () => {
      assert.equal(write(json, schema, value), expected);
      const back = read(json, expected);
      assert.deepEqual(back.schema, schema);
      const normalized = schema.type === 'float32' ? Math.fround(value as number) : value;
      assert.deepEqual(back.value, normalized);
    });
  }

  it('reads an int64 beyond 2^53 without losing a digit', () => {
    assert.equal(read(json, '{"schema":{"type":"int64","optional":false},"payload":9007199254740993}').value, 9007199254740993n);
    assert.equal(write(json, Schemas.INT64, 9007199254740993n), '{"schema":{"type":"int64","optional":false},"payload":9007199254740993}');
  });

  it('accepts a whole number for int64 and writes NaN and infinities as Jackson does', () => {
    assert.equal(write(json, Schemas.INT64, 42), '{"schema":{"type":"int64","optional":false},"payload":42}');
    assert.equal(write(json, Schemas.FLOAT64, Number.NaN), '{"schema":{"type":"double","optional":false},"payload":"NaN"}');
    assert.equal(read(json, '{"schema":{"type":"double","optional":false},"payload":"-Infinity"}').value, Number.NEGATIVE_INFINITY);
  });

  it('narrows out-of-range integers as Java casts do', () => {
    assert.equal(read(json, '{"schema":{"type":"int8","optional":false},"payload":300}').value, 44);
    assert.equal(read(json, '{"schema":{"type":"int32","optional":false},"payload":12.9}').value, 12);
    assert.equal(read(json, '{"schema":{"type":"int64","optional":false},"payload":1e3}').value, 1000n);
  });
});

describe('JsonConverter: structs, arrays and maps', () => {
  const json = converter();
  const everything = SchemaBuilder.struct().name('com.example.Everything').version(3).doc('one of each')
    .field('i8', Schemas.INT8)
    .field('i16', Schemas.INT16)
    .field('i32', Schemas.INT32)
    .field('i64', Schemas.INT64)
    .field('f32', Schemas.FLOAT32)
    .field('f64', Schemas.FLOAT64)
    .field('flag', Schemas.BOOLEAN)
    .field('text', Schemas.STRING)
    .field('raw', Schemas.BYTES)
    .field('maybe', Schemas.OPTIONAL_STRING)
    .field('count', SchemaBuilder.int32().defaultValue(7).build())
    .field('label', SchemaBuilder.string().optional().defaultValue('none').parameter('note', 'x').build())
    .build();
  const value = new Struct(everything)
    .put('i8', 1).put('i16', 2).put('i32', 3).put('i64', 4n).put('f32', 1.5).put('f64', 2.25)
    .put('flag', false).put('text', 'hello').put('raw', Buffer.from('hi')).put('maybe', null);
  const golden = '{"schema":{"type":"struct","fields":['
    + '{"type":"int8","optional":false,"field":"i8"},'
    + '{"type":"int16","optional":false,"field":"i16"},'
    + '{"type":"int32","optional":false,"field":"i32"},'
    + '{"type":"int64","optional":false,"field":"i64"},'
    + '{"type":"float","optional":false,"field":"f32"},'
    + '{"type":"double","optional":false,"field":"f64"},'
    + '{"type":"boolean","optional":false,"field":"flag"},'
    + '{"type":"string","optional":false,"field":"text"},'
    + '{"type":"bytes","optional":false,"field":"raw"},'
    + '{"type":"string","optional":true,"field":"maybe"},'
    + '{"type":"int32","optional":false,"default":7,"field":"count"},'
    + '{"type":"string","optional":true,"parameters":{"note":"x"},"default":"none","field":"label"}'
    + '],"optional":false,"name":"com.example.Everything","version":3,"doc":"one of each"},'
    + '"payload":{"i8":1,"i16":2,"i32":3,"i64":4,"f32":1.5,"f64":2.25,"flag":false,"text":"hello","raw":"aGk=","maybe":null,"count":7,"label":"none"}}';

  it('writes a struct of every primitive type, optional fields and defaults', () => {
    assert.equal(write(json, everything, value), golden);
  });

  it('reads it back to an equal schema and struct', () => {
    const back = read(json, golden);
    assert.deepEqual(back.schema, everything);
    const struct = back.value as Struct;
    assert.ok(struct instanceof Struct);
    for (const field of ['i8', 'i16', 'i32', 'f32', 'f64', 'flag', 'text', 'maybe', 'count', 'label']) {
      assert.deepEqual(struct.get(field), value.get(field), field);
    }
    assert.equal(struct.get('i64'), 4n);
    assert.deepEqual(struct.get('raw'), Buffer.from('hi'));
  });

  it('with replace.null.with.default=false writes and reads nulls as null', () => {
    const keepNulls = converter({ 'replace.null.with.default': 'false' });
    // A required field left unset is an error now that its default is not used.
    assert.throws(() => write(keepNulls, everything, value), { name: 'DataException', message: 'Conversion error: null value for field that is required and has no default value' });
    const withCount = new Struct(everything);
    for (const field of everything.fields!) withCount.put(field.name, value.getWithoutDefault(field.name));
    withCount.put('count', 7);
    const text = write(keepNulls, everything, withCount)!;
    assert.match(text, /"label":null/);
    const back = read(keepNulls, text).value as Struct;
    assert.equal(back.getWithoutDefault('label'), null);
    assert.throws(() => read(keepNulls, text.replace('"count":7', '"count":null')), { name: 'DataException', message: 'Invalid null value for required INT32 field' });
  });

  it('fills a missing field with its default, and refuses a missing required one', () => {
    const schema = SchemaBuilder.struct().field('a', SchemaBuilder.int64().defaultValue(5n).build()).field('b', Schemas.STRING).build();
    const schemaJson = '{"type":"struct","fields":[{"type":"int64","optional":false,"default":5,"field":"a"},{"type":"string","optional":false,"field":"b"}],"optional":false}';
    const envelope = (payload: string) => `{"schema":${schemaJson},"payload":${payload}}`;
    assert.equal(write(json, schema, new Struct(schema).put('b', 'x')), envelope('{"a":5,"b":"x"}'));
    assert.equal((read(json, envelope('{"b":"x"}')).value as Struct).get('a'), 5n);
    assert.throws(() => read(json, envelope('{"a":1}')), { name: 'DataException', message: 'Invalid null value for required STRING field' });
  });

  it('writes arrays with "items"', () => {
    const schema = SchemaBuilder.array(Schemas.INT32).build();
    const text = '{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2,3]}';
    assert.equal(write(json, schema, [1, 2, 3]), text);
    assert.deepEqual(read(json, text), { schema, value: [1, 2, 3] });
  });

  it('writes a map with string keys as a JSON object', () => {
    const schema = SchemaBuilder.map(Schemas.STRING, Schemas.INT32).build();
    const text = '{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"a":1,"b":2}}';
    assert.equal(write(json, schema, new Map([['a', 1], ['b', 2]])), text);
    assert.deepEqual(read(json, text), { schema, value: new Map([['a', 1], ['b', 2]]) });
  });

  it('writes a map with int keys as an array of [key, value] pairs', () => {
    const schema = SchemaBuilder.map(Schemas.INT32, Schemas.STRING).build();
    const text = '{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":false},"optional":false},"payload":[[1,"one"],[2,"two"]]}';
    assert.equal(write(json, schema, new Map([[1, 'one'], [2, 'two']])), text);
    assert.deepEqual(read(json, text), { schema, value: new Map([[1, 'one'], [2, 'two']]) });
  });

  it('round-trips nested structs, arrays of structs and an optional struct left null', () => {
    const point = SchemaBuilder.struct().name('Point').field('x', Schemas.FLOAT64).field('y', Schemas.FLOAT64).build();
    const shape = SchemaBuilder.struct().name('Shape')
      .field('points', SchemaBuilder.array(point).build())
      .field('centre', SchemaBuilder.struct().name('Point').field('x', Schemas.FLOAT64).field('y', Schemas.FLOAT64).optional().build())
      .field('tags', SchemaBuilder.map(Schemas.STRING, SchemaBuilder.array(Schemas.STRING).build()).optional().build())
      .build();
    const value = new Struct(shape)
      .put('points', [new Struct(point).put('x', 0).put('y', 1.5), new Struct(point).put('x', -2).put('y', 1e-7)])
      .put('tags', new Map([['colour', ['red', 'blue']]]));
    const text = write(json, shape, value)!;
    assert.match(text, /"points":\[\{"x":0.0,"y":1.5\},\{"x":-2.0,"y":1.0E-7\}\],"centre":null,"tags":\{"colour":\["red","blue"\]\}/);
    const back = read(json, text);
    assert.deepEqual(back.schema, shape);
    assert.equal(write(json, back.schema, back.value), text);
  });
});

describe('JsonConverter: logical types', () => {
  const json = converter();
  const day = new Date(Date.UTC(2024, 0, 31));

  it('Date is days since the epoch', () => {
    const text = '{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":19753}';
    assert.equal(write(json, DATE_SCHEMA, day), text);
    assert.deepEqual(read(json, text), { schema: DATE_SCHEMA, value: day });
  });

  it('Time is milliseconds since midnight', () => {
    const time = new Date(Date.UTC(1970, 0, 1, 13, 45));
    const text = '{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":49500000}';
    assert.equal(write(json, TIME_SCHEMA, time), text);
    assert.deepEqual(read(json, text), { schema: TIME_SCHEMA, value: time });
  });

  it('Timestamp is milliseconds since the epoch', () => {
    const timestamp = new Date(Date.UTC(2024, 0, 31, 13, 45));
    const text = '{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":1706708700000}';
    assert.equal(write(json, TIMESTAMP_SCHEMA, timestamp), text);
    assert.deepEqual(read(json, text), { schema: TIMESTAMP_SCHEMA, value: timestamp });
  });

  it('Decimal in BASE64 (the default): the unscaled value\'s two\'s-complement bytes', () => {
    const schema = decimalSchema(2);
    const decimalJson = '{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}}';
    assert.equal(write(json, schema, new Decimal(-12345n, 2)), `{"schema":${decimalJson},"payload":"z8c="}`); // -12345 = 0xCFC7
    assert.equal(write(json, schema, new Decimal(100n, 2)), `{"schema":${decimalJson},"payload":"ZA=="}`); // 1.00
    assert.equal(write(json, schema, new Decimal(128n, 2)), `{"schema":${decimalJson},"payload":"AIA="}`); // 0x0080: a sign byte
    assert.deepEqual(read(json, `{"schema":${decimalJson},"payload":"z8c="}`).value, new Decimal(-12345n, 2));
    assert.deepEqual(read(json, `{"schema":${decimalJson},"payload":"AIA="}`).value, new Decimal(128n, 2));
  });

  it('Decimal in NUMERIC: a JSON number, exact, read at its own scale', () => {
    const numeric = converter({ 'decimal.format': 'numeric' });
    const schema = decimalSchema(2);
    const decimalJson = '{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}}';
    assert.equal(write(numeric, schema, new Decimal(-12345n, 2)), `{"schema":${decimalJson},"payload":-123.45}`);
    assert.equal(write(numeric, schema, new Decimal(100n, 2)), `{"schema":${decimalJson},"payload":1.00}`);
    assert.equal(write(numeric, decimalSchema(0), new Decimal(123456789012345678901234567890n, 0)), `{"schema":${decimalJson.replace('"2"', '"0"')},"payload":123456789012345678901234567890}`);
    assert.deepEqual(read(numeric, `{"schema":${decimalJson},"payload":-123.45}`).value, new Decimal(-12345n, 2));
    assert.deepEqual(read(numeric, `{"schema":${decimalJson},"payload":1.5}`).value, new Decimal(15n, 1));
    assert.equal(write(numeric, schema, new Decimal(15n, 1)), `{"schema":${decimalJson},"payload":1.5}`); // no scale check, as Kafka
    assert.equal(write(numeric, schema, new Decimal(1n, -3)), `{"schema":${decimalJson},"payload":1E+3}`);
    // Either format reads both representations.
    assert.deepEqual(read(json, `{"schema":${decimalJson},"payload":-123.45}`).value, new Decimal(-12345n, 2));
    assert.deepEqual(read(numeric, `{"schema":${decimalJson},"payload":"z8c="}`).value, new Decimal(-12345n, 2));
  });

  it('refuses values that do not fit the logical type', () => {
    assert.throws(() => write(json, DATE_SCHEMA, new Date(Date.UTC(2024, 0, 31, 1))), { name: 'DataException', message: 'Kafka Connect Date type should not have any time fields set to non-zero values.' });
    assert.throws(() => write(json, TIME_SCHEMA, new Date(Date.UTC(2024, 0, 31, 1))), { message: 'Kafka Connect Time type should not have any date fields set to non-zero values.' });
    assert.throws(() => write(json, DATE_SCHEMA, 19753), { message: 'Invalid type for Date, expected Date but was number' });
    assert.throws(() => write(json, decimalSchema(2), new Decimal(1n, 3)), { message: 'Decimal value has mismatching scale for given Decimal schema. Schema has scale 2, value has scale 3.' });
    assert.throws(() => read(json, '{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":1.5}'), { message: 'Invalid type for Date, underlying representation should be integer but was NUMBER' });
    assert.throws(() => read(json, '{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":true}'), { message: 'Invalid type for Decimal, underlying representation should be numeric or bytes but was BOOLEAN' });
  });
});

describe('JsonConverter: schemas.enable=false and null schemas', () => {
  const plain = converter({ 'schemas.enable': 'false' });

  it('writes the bare payload', () => {
    const schema = SchemaBuilder.struct().field('id', Schemas.INT64).field('name', Schemas.STRING).build();
    assert.equal(write(plain, schema, new Struct(schema).put('id', 1n).put('name', 'a')), '{"id":1,"name":"a"}');
    assert.equal(write(plain, Schemas.OPTIONAL_STRING, null), 'null');
  });

  it('reads plain JSON without a schema: objects, arrays, integers (bigint past 2^53), floats', () => {
    const back = read(plain, ' {"a": 1, "b": [true, null, "x"], "c": 1.5, "d": 9007199254740993, "e": {"f": -0.5e1}} ');
    assert.deepEqual(back, { schema: null, value: { a: 1, b: [true, null, 'x'], c: 1.5, d: 9007199254740993n, e: { f: -5 } } });
  });

  it('writes schemaless values by their JavaScript type', () => {
    const value = { a: 1, b: [true, null, 'x'], c: 1.5, d: 9007199254740993n, e: Buffer.from('hi'), f: new Map<unknown, unknown>([[1, 'one']]) };
    assert.equal(write(plain, null, value), '{"a":1,"b":[true,null,"x"],"c":1.5,"d":9007199254740993,"e":"aGk=","f":[[1,"one"]]}');
  });

  it('keeps a "__proto__" key as data', () => {
    const back = read(plain, '{"__proto__":{"polluted":true}}').value as Record<string, unknown>;
    assert.deepEqual(Object.keys(back), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('reads empty input as null', () => {
    assert.deepEqual(plain.toConnectData('topic', [], Buffer.alloc(0)), { schema: null, value: null });
  });

  it('with schemas enabled, a value without a schema has "schema":null', () => {
    const json = converter();
    const text = write(json, null, { a: [1, 2] });
    assert.equal(text, '{"schema":null,"payload":{"a":[1,2]}}');
    assert.deepEqual(read(json, text!), { schema: null, value: { a: [1, 2] } });
  });
});

describe('JsonConverter: tombstones', () => {
  for (const props of [{}, { 'schemas.enable': 'false' }] as Record<string, string>[]) {
    it(`a null Kafka value is a null schema and value, and back (${JSON.stringify(props)})`, () => {
      const json = converter(props);
      assert.deepEqual(json.toConnectData('topic', [], null), { schema: null, value: null });
      assert.equal(json.fromConnectData('topic', [], null, null), null);
      assert.equal(json.fromConnectData('topic', [], null, undefined), null);
    });
  }
});

describe('JsonConverter: reading JSON written elsewhere', () => {
  it('accepts whitespace, any field order and the "schema" after the "payload"', () => {
    const json = converter();
    const text = `{
      "payload": {"c1": 10000, "c2": "bar", "create_ts": 1501834166000},
      "schema": {
        "type": "struct", "optional": false, "name": "foobar",
        "fields": [
          {"type": "int32", "optional": true, "field": "c1"},
          {"type": "string", "optional": true, "field": "c2"},
          {"type": "int64", "optional": false, "name": "org.apache.kafka.connect.data.Timestamp", "version": 1, "field": "create_ts"}
        ]
      }
    }`;
    const back = read(json, text);
    const struct = back.value as Struct;
    assert.equal(back.schema?.name, 'foobar');
    assert.equal(struct.get('c1'), 10000);
    assert.equal(struct.get('c2'), 'bar');
    assert.deepEqual(struct.get('create_ts'), new Date(1501834166000));
  });

  it('caches schemas: the same schema text gives the same schema object', () => {
    const json = converter();
    const text = '{"schema":{"type":"string","optional":false},"payload":"a"}';
    assert.equal(read(json, text).schema, read(json, text.replace('"a"', '"b"')).schema);
    const uncached = converter({ 'schemas.cache.size': '0' });
    const first = read(uncached, text).schema;
    const second = read(uncached, text).schema;
    assert.notEqual(first, second);
    assert.deepEqual(first, second);
  });
});

describe('JsonConverter: errors', () => {
  const json = converter();
  const envelopeMessage = 'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields.'
    + ' If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.';

  it('plain JSON with schemas.enable=true names the setting', () => {
    for (const text of ['{"a":1}', '{"schema":null,"payload":1,"extra":2}', '[1,2]', '42', '']) {
      assert.throws(() => read(json, text), (error: unknown) => error instanceof DataException && error.message === envelopeMessage, text);
    }
  });

  it('malformed JSON is a serialization error', () => {
    for (const text of ['{"schema":', '{"a":1} x', '{a:1}', "{'a':1}", '[1,]', '"\u0001"']) {
      assert.throws(() => read(json, text), (error: unknown) => error instanceof DataException && error.message.startsWith('Converting byte[] to Kafka Connect data failed due to serialization error: '), text);
    }
    assert.throws(() => json.toConnectData('topic', [], Buffer.from([0x7b, 0xff, 0x7d])), { name: 'DataException' });
  });

  it('bad schemas', () => {
    const cases: [string, string][] = [
      ['{"optional":false}', "Schema must contain 'type' field"],
      ['{"type":"uuid"}', 'Unknown schema type: uuid'],
      ['{"type":"array"}', 'Array schema did not specify the element type'],
      ['{"type":"map","values":{"type":"string"}}', 'Map schema did not specify the key type'],
      ['{"type":"struct"}', 'Struct schema\'s "fields" argument is not an array.'],
      ['{"type":"struct","fields":[{"type":"int8"}]}', "Struct schema's field name not specified properly"],
      ['{"type":"string","parameters":{"a":1}}', 'Schema parameters must have string values.'],
    ];
    for (const [schema, message] of cases) {
      assert.throws(() => read(json, `{"schema":${schema},"payload":null}`), { name: 'DataException', message }, schema);
    }
  });

  it('payloads that do not fit the schema', () => {
    const envelope = (schema: string, payload: string) => `{"schema":${schema},"payload":${payload}}`;
    assert.throws(() => read(json, envelope('{"type":"int32"}', '"7"')), { message: 'Invalid value for INT32 field: expected a JSON number but found STRING' });
    assert.throws(() => read(json, envelope('{"type":"int32"}', 'null')), { message: 'Invalid null value for required INT32 field' });
    assert.throws(() => read(json, envelope('{"type":"bytes"}', '"not base64!"')), { message: 'Invalid bytes field: not base64' });
    assert.throws(() => read(json, envelope('{"type":"struct","fields":[]}', '[]')), { message: 'Structs should be encoded as JSON objects, but found ARRAY' });
    assert.throws(() => read(json, envelope('{"type":"map","keys":{"type":"string"},"values":{"type":"int8"}}', '[]')), { message: 'Maps with string fields should be encoded as JSON objects, but found ARRAY' });
    assert.throws(() => read(json, envelope('{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}}', '{"1":1}')), { message: 'Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT' });
    assert.throws(() => read(json, envelope('{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}}', '[[1]]')), { message: 'Found invalid map entry, expected length 2 but found :1' });
  });

  it('values that do not fit their schema on writing', () => {
    assert.throws(() => write(json, Schemas.INT32, 'seven'), { name: 'DataException', message: 'Invalid type for INT32: string' });
    assert.throws(() => write(json, Schemas.INT8, 128), { message: 'Invalid value for int8: 128 is out of range' });
    assert.throws(() => write(json, Schemas.STRING, null), { message: 'Conversion error: null value for field that is required and has no default value' });
    const a = SchemaBuilder.struct().name('A').field('x', Schemas.INT8).build();
    const b = SchemaBuilder.struct().name('B').field('x', Schemas.INT8).build();
    assert.throws(() => write(json, b, new Struct(a).put('x', 1)), { message: 'Mismatching schema.' });
    assert.throws(() => write(json, null, new Date()), { message: 'Date does not have corresponding schema type; it needs a schema' });
  });

  it('bad settings are refused', () => {
    assert.throws(() => converter({ 'decimal.format': 'HEX' }), /decimal.format/);
    assert.throws(() => converter({ 'schemas.enable': 'yes' }), /schemas.enable/);
    assert.throws(() => converter({ 'schemas.cache.size': 'many' }), /schemas.cache.size/);
  });
});

describe('JsonConverter as a header converter', () => {
  it('converts each header value alone, in the envelope', () => {
    const json = new JsonConverter();
    json.configure({});
    const bytes = json.fromConnectHeader('topic', 'h', Schemas.INT32, 5);
    assert.equal(bytes?.toString(), '{"schema":{"type":"int32","optional":false},"payload":5}');
    assert.deepEqual(json.toConnectHeader('topic', 'h', bytes), { schema: Schemas.INT32, value: 5 });
    assert.deepEqual(json.toConnectHeader('topic', 'h', null), { schema: null, value: null });
  });
});
