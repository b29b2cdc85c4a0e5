import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectRecord, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { Flatten } from './flatten.js';
import { KEY_SIDE, VALUE_SIDE } from './util.js';

const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 't', kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: null, timestamp: null, headers: [], ...over,
});

function flatten(props: Record<string, string> = {}, side = VALUE_SIDE): Flatten {
  const transform = new Flatten(side);
  transform.configure(props);
  return transform;
}

describe('Flatten', () => {
  it('flattens schemaless maps, keeping arrays and nulls', () => {
    const value = { id: 1, address: { city: 'Oslo', geo: { lat: 59.9 } }, tags: ['a', { b: 1 }], none: null };
    assert.deepEqual(flatten().apply(record({ value })).value, { id: 1, 'address.city': 'Oslo', 'address.geo.lat': 59.9, tags: ['a', { b: 1 }], none: null });
    assert.deepEqual(flatten({ delimiter: '_' }, KEY_SIDE).apply(record({ key: { a: { b: 1 } } })).key, { a_b: 1 });
  });

  it('flattens structs; fields under an optional struct become optional and inherit defaults', () => {
    const geo = SchemaBuilder.struct().optional().field('lat', Schemas.FLOAT64).build();
    const inner = SchemaBuilder.struct().field('city', Schemas.STRING).field('geo', geo).build();
    const defaultInner = new Struct(inner).put('city', 'Nowhere');
    const innerWithDefault = SchemaBuilder.struct().field('city', Schemas.STRING).field('geo', geo).defaultValue(defaultInner).build();
    const schema = SchemaBuilder.struct().name('Person').field('id', Schemas.INT32).field('address', innerWithDefault).field('tags', SchemaBuilder.array(Schemas.STRING).build()).build();
    const value = new Struct(schema).put('id', 1).put('address', new Struct(innerWithDefault).put('city', 'Oslo').put('geo', null)).put('tags', ['x']);
    const out = flatten().apply(record({ valueSchema: schema, value }));
    const fields = out.valueSchema!.fields!;
    assert.deepEqual(fields.map((field) => field.name), ['id', 'address.city', 'address.geo.lat', 'tags']);
    assert.equal(out.valueSchema!.name, 'Person');
    const city = fields[1]!.schema;
    assert.deepEqual([city.optional, city.defaultValue], [false, 'Nowhere']);
    assert.equal(fields[2]!.schema.optional, true);
    assert.deepEqual(fields[3]!.schema.valueSchema, Schemas.STRING);
    const struct = out.value as Struct;
    assert.deepEqual([struct.get('id'), struct.get('address.city'), struct.getWithoutDefault('address.geo.lat'), struct.get('tags')], [1, 'Oslo', undefined, ['x']]);
  });

  it('refuses map fields of structs and unsupported schemaless values; passes null through', () => {
    const schema = SchemaBuilder.struct().field('m', SchemaBuilder.map(Schemas.STRING, Schemas.STRING).build()).build();
    assert.throws(() => flatten().apply(record({ valueSchema: schema, value: new Struct(schema).put('m', new Map()) })), /Flatten transformation does not support MAP for record with schemas \(for field m\)/);
    assert.throws(() => flatten().apply(record({ value: { d: new Date() } })), /passed a value of type Date/);
    const tombstone = record({ value: null });
    assert.equal(flatten().apply(tombstone), tombstone);
  });
});
