import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectRecord, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { ValueToKey } from './value-to-key.js';

const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 't', kafkaPartition: 0, keySchema: null, key: 'old', valueSchema: null, value: null, timestamp: null, headers: [], ...over,
});

function valueToKey(props: Record<string, string>): ValueToKey {
  const transform = new ValueToKey();
  transform.configure(props);
  return transform;
}

describe('ValueToKey', () => {
  it('makes a schemaless key from value fields (missing ones null)', () => {
    const out = valueToKey({ fields: 'id,region,absent' }).apply(record({ value: { id: 1, region: 'eu', other: 3 } }));
    assert.deepEqual(out.key, { id: 1, region: 'eu', absent: null });
    assert.equal(out.keySchema, null);
    assert.deepEqual(out.value, { id: 1, region: 'eu', other: 3 });
  });

  it('makes a struct key with the fields’ schemas, cached per value schema', () => {
    const schema = SchemaBuilder.struct().field('id', Schemas.INT64).field('name', Schemas.STRING).build();
    const transform = valueToKey({ fields: 'id' });
    const out = transform.apply(record({ valueSchema: schema, value: new Struct(schema).put('id', 4n).put('name', 'n') }));
    assert.deepEqual(out.keySchema!.fields!.map((field) => [field.name, field.schema]), [['id', Schemas.INT64]]);
    assert.equal((out.key as Struct).get('id'), 4n);
    const again = transform.apply(record({ valueSchema: schema, value: new Struct(schema).put('id', 5n).put('name', 'm') }));
    assert.equal(again.keySchema, out.keySchema);
  });

  it('refuses a field the value schema lacks, and a value that is not a map', () => {
    const schema = SchemaBuilder.struct().field('id', Schemas.INT64).build();
    assert.throws(() => valueToKey({ fields: 'nope' }).apply(record({ valueSchema: schema, value: new Struct(schema).put('id', 1n) })), /Field does not exist: nope/);
    assert.throws(() => valueToKey({ fields: 'id' }).apply(record({ value: 'text' })), /Only Map objects supported in absence of schema for \[copying fields from value to key\], found: string/);
  });
});
