import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectRecord, DataException, Decimal, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { MaskField } from './mask-field.js';
import { KEY_SIDE, VALUE_SIDE } from './util.js';

const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 't', kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: null, timestamp: null, headers: [], ...over,
});

function maskField(props: Record<string, string>, side = VALUE_SIDE): MaskField {
  const transform = new MaskField(side);
  transform.configure(props);
  return transform;
}

describe('MaskField', () => {
  it('masks schemaless values with the empty value of their type, adding missing fields as null', () => {
    const value = { s: 'secret', n: 12, f: 1.5, b: true, l: [1], m: { a: 1 }, nil: null, kept: 'k' };
    const out = maskField({ fields: 's,n,f,b,l,m,nil,missing' }).apply(record({ value }));
    assert.deepEqual(out.value, { s: '', n: 0, f: 0, b: false, l: [], m: {}, nil: null, kept: 'k', missing: null });
  });

  it('masks struct fields by their schema type, and the key with $Key', () => {
    const schema = SchemaBuilder.struct()
      .field('s', Schemas.STRING).field('i', Schemas.INT64).field('d', SchemaBuilder.bytes().name('org.apache.kafka.connect.data.Decimal').parameter('scale', '2').build())
      .field('t', SchemaBuilder.int64().name('org.apache.kafka.connect.data.Timestamp').build()).field('other', Schemas.STRING).build();
    const key = new Struct(schema).put('s', 'x').put('i', 5n).put('d', new Decimal(1234n, 2)).put('t', new Date(5)).put('other', 'o');
    const out = maskField({ fields: 's,i,d,t' }, KEY_SIDE).apply(record({ keySchema: schema, key }));
    const masked = out.key as Struct;
    assert.equal(out.keySchema, schema);
    assert.equal(masked.get('s'), '');
    assert.equal(masked.get('i'), 0n);
    assert.deepEqual(masked.get('d'), new Decimal(0n, 2));
    assert.deepEqual(masked.get('t'), new Date(0));
    assert.equal(masked.get('other'), 'o');
  });

  it('uses a replacement converted to numeric and string field types', () => {
    const schema = SchemaBuilder.struct().field('s', Schemas.STRING).field('i', Schemas.INT32).field('f', Schemas.FLOAT64).field('l', Schemas.INT64).build();
    const value = new Struct(schema).put('s', 'x').put('i', 7).put('f', 2.5).put('l', 9n);
    const out = maskField({ fields: 's,i,f,l', replacement: '12' }).apply(record({ valueSchema: schema, value })).value as Struct;
    assert.deepEqual([out.get('s'), out.get('i'), out.get('f'), out.get('l')], ['12', 12, 12, 12n]);
    assert.throws(() => maskField({ fields: 'i', replacement: 'abc' }).apply(record({ valueSchema: schema, value })), /Unable to convert abc/);
    assert.throws(() => maskField({ fields: 'b', replacement: 'x' }).apply(record({ value: { b: true } })), /Cannot mask value of type boolean with custom replacement/);
  });

  it('refuses values it cannot mask and configurations without fields', () => {
    assert.throws(() => maskField({ fields: 'b' }).apply(record({ value: { b: Buffer.from('x') } })), (error: Error) => error instanceof DataException && /Cannot mask value of type: Buffer/.test(error.message));
    assert.throws(() => maskField({}), /Missing required configuration "fields"/);
    assert.throws(() => maskField({ fields: '' }), /fields: Empty list/);
    assert.throws(() => maskField({ fields: 'a', replacement: '' }), /replacement: String must be non-empty/);
  });
});
