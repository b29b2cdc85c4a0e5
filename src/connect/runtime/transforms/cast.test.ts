import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectRecord, DataException, Decimal, LogicalNames, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { Cast } from './cast.js';
import { KEY_SIDE, VALUE_SIDE, timestampSchema } from './util.js';

const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 't', kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: null, timestamp: null, headers: [], ...over,
});

function cast(spec: string, side = VALUE_SIDE, extra: Record<string, string> = {}): Cast {
  const transform = new Cast(side);
  transform.configure({ spec, ...extra });
  return transform;
}

const castWhole = (spec: string, schema: ConnectRecord['valueSchema'], value: unknown) => cast(spec).apply(record({ valueSchema: schema, value })).value;

describe('Cast', () => {
  it('casts schemaless fields, adding listed fields that are missing as null', () => {
    const out = cast('a:int8,b:string,c:boolean,d:float32,e:int64,f:int32').apply(record({ value: { a: 300, b: 1.5, c: 'TRUE', d: '2.5', e: '12', x: 1 } }));
    assert.deepEqual(out.value, { a: 44, b: '1.5', c: true, d: 2.5, e: 12, f: null, x: 1 });
  });

  it('casts struct fields, their schemas keeping optionality and casting defaults', () => {
    const schema = SchemaBuilder.struct().name('Row')
      .field('n', SchemaBuilder.int64().optional().defaultValue(7n).build())
      .field('f', Schemas.FLOAT64)
      .field('keep', Schemas.STRING).build();
    const value = new Struct(schema).put('n', null).put('f', 3.99).put('keep', 'k');
    const out = cast('n:string,f:int16').apply(record({ valueSchema: schema, value }));
    const n = out.valueSchema!.fields!.find((field) => field.name === 'n')!.schema;
    assert.deepEqual([n.type, n.optional, n.defaultValue], ['string', true, '7']);
    assert.equal(out.valueSchema!.name, 'Row');
    const struct = out.value as Struct;
    assert.deepEqual([struct.get('n'), struct.get('f'), struct.get('keep')], ['7', 3, 'k']);
    const keepNull = cast('n:string', VALUE_SIDE, { 'replace.null.with.default': 'false' }).apply(record({ valueSchema: schema, value }));
    assert.equal((keepNull.value as Struct).getWithoutDefault('n'), null);
  });

  it('casts a whole key, with a schema and without', () => {
    const out = cast('int32', KEY_SIDE).apply(record({ keySchema: Schemas.OPTIONAL_INT64, key: 5_000_000_000n }));
    assert.equal(out.keySchema!.type, 'int32');
    assert.equal(out.keySchema!.optional, true);
    assert.equal(out.key, 705_032_704, 'int64 to int32 wraps as Java does');
    assert.equal(cast('string', KEY_SIDE).apply(record({ key: 12 })).key, '12');
    const tombstone = record({ key: null });
    assert.equal(cast('string', KEY_SIDE).apply(tombstone), tombstone);
  });

  it('narrows and formats numbers as Java does', () => {
    assert.equal(castWhole('int8', Schemas.FLOAT64, 1e10), -1, 'saturates to int, then wraps to byte');
    assert.equal(castWhole('int32', Schemas.FLOAT64, Number.NaN), 0);
    assert.equal(castWhole('int64', Schemas.FLOAT64, -2.7), -2n);
    assert.equal(castWhole('boolean', Schemas.FLOAT64, 0.5), false, 'a number is true when its integer part is non-zero');
    assert.equal(castWhole('string', Schemas.FLOAT64, 1), '1.0');
    assert.equal(castWhole('string', Schemas.FLOAT64, 1e21), '1.0E21');
    assert.equal(castWhole('string', Schemas.FLOAT32, Math.fround(0.1)), '0.1');
    assert.equal(castWhole('float32', Schemas.FLOAT64, 0.1), Math.fround(0.1));
    assert.equal(castWhole('float64', null, '1.5e3'), 1500);
    assert.equal(castWhole('int32', Schemas.STRING, '-42'), -42);
    assert.throws(() => castWhole('int8', Schemas.STRING, '200'), /Value \(200\) was out of range for requested data type/);
    assert.throws(() => castWhole('int32', Schemas.STRING, '1.5'), /out of range/);
  });

  it('casts bytes to base64, logical types to their encodings, decimals by value', () => {
    assert.equal(castWhole('string', Schemas.BYTES, Buffer.from('hi')), 'aGk=');
    assert.throws(() => castWhole('int32', Schemas.BYTES, Buffer.from('hi')), /Unexpected type in Cast transformation: Buffer/);
    const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
    assert.equal(castWhole('int64', timestampSchema(false), when), BigInt(when.getTime()));
    assert.equal(castWhole('string', timestampSchema(false), when), '2024-01-02T03:04:05.006Z');
    const dateSchema = SchemaBuilder.int32().name(LogicalNames.DATE).build();
    assert.equal(castWhole('int32', dateSchema, new Date(Date.UTC(1970, 0, 11))), 10);
    const out = cast('int64').apply(record({ valueSchema: timestampSchema(false), value: when }));
    assert.equal(out.valueSchema!.name, LogicalNames.TIMESTAMP, 'a whole-value cast keeps the schema name, as Kafka');
    const decimal = SchemaBuilder.bytes().name(LogicalNames.DECIMAL).parameter('scale', '2').build();
    assert.equal(castWhole('int32', decimal, new Decimal(-12345n, 2)), -123);
    assert.equal(castWhole('float64', decimal, new Decimal(-12345n, 2)), -123.45);
    assert.equal(castWhole('string', decimal, new Decimal(-12345n, 2)), '-123.45');
  });

  it('refuses unsupported inputs', () => {
    const arraySchema = SchemaBuilder.array(Schemas.INT32).build();
    assert.throws(() => castWhole('string', arraySchema, [1]), (error: Error) => error instanceof DataException && /does not support casting from ARRAY/.test(error.message));
    assert.throws(() => castWhole('string', null, new Date()), /passed a value of type Date which is not supported/);
  });

  it('refuses bad specs, naming the spec key', () => {
    assert.throws(() => cast(''), /Must specify at least one field to cast/);
    assert.throws(() => cast('a:nope'), /Invalid value \[a:nope\] for configuration spec: Invalid type found in casting spec: nope/);
    assert.throws(() => cast('a:bytes'), /does not support casting to BYTES; supported types are \[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING\]/);
    assert.throws(() => cast('int8,a:int16'), /may only specify a single cast in their spec/);
  });
});
