import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectRecord, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { ExtractField } from './extract-field.js';
import { SingleFieldPath } from './field-path.js';
import { KEY_SIDE, VALUE_SIDE } from './util.js';

const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 't', kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: null, timestamp: null, headers: [], ...over,
});

function extractField(props: Record<string, string>, side = VALUE_SIDE): ExtractField {
  const transform = new ExtractField(side);
  transform.configure(props);
  return transform;
}

const INNER = SchemaBuilder.struct().field('zip', Schemas.STRING).build();
const OUTER = SchemaBuilder.struct().field('id', Schemas.INT32).field('address', INNER).field('a.b', Schemas.STRING).build();
const outer = () => new Struct(OUTER).put('id', 9).put('address', new Struct(INNER).put('zip', '1000')).put('a.b', 'dotted');

describe('ExtractField', () => {
  it('extracts a schemaless field, and null for a missing field or a null value', () => {
    assert.equal(extractField({ field: 'id' }).apply(record({ value: { id: 3 } })).value, 3);
    assert.equal(extractField({ field: 'x' }).apply(record({ value: { id: 3 } })).value, null);
    assert.equal(extractField({ field: 'id' }).apply(record({ value: null })).value, null);
  });

  it('extracts a struct field with its schema, from the key too', () => {
    const out = extractField({ field: 'id' }, KEY_SIDE).apply(record({ keySchema: OUTER, key: outer() }));
    assert.equal(out.key, 9);
    assert.equal(out.keySchema, Schemas.INT32);
  });

  it('reads a nested path with field.syntax.version=V2, dots in names within backticks', () => {
    const v2 = extractField({ field: 'address.zip', 'field.syntax.version': 'v2' });
    const out = v2.apply(record({ valueSchema: OUTER, value: outer() }));
    assert.deepEqual([out.value, out.valueSchema], ['1000', Schemas.STRING]);
    assert.equal(extractField({ field: '`a.b`', 'field.syntax.version': 'V2' }).apply(record({ valueSchema: OUTER, value: outer() })).value, 'dotted');
    assert.equal(extractField({ field: 'a.b' }).apply(record({ valueSchema: OUTER, value: outer() })).value, 'dotted', 'V1 reads the name as it is');
    assert.equal(extractField({ field: 'address.zip', 'field.syntax.version': 'V2' }).apply(record({ value: { address: { zip: '2000' } } })).value, '2000');
  });

  it('refuses an unknown struct field and a bad syntax version', () => {
    assert.throws(() => extractField({ field: 'nope' }).apply(record({ valueSchema: OUTER, value: null })), /Unknown field: nope/);
    assert.throws(() => extractField({ field: 'x', 'field.syntax.version': 'V3' }), /String must be one of \(case insensitive\): V1, V2/);
    assert.throws(() => extractField({ field: '`a.b', 'field.syntax.version': 'V2' }), /Incomplete backtick pair in path: \[`a.b\]/);
  });

  it('splits V2 paths as Kafka does', () => {
    const steps = (path: string) => new SingleFieldPath(path, 'V2').steps;
    assert.deepEqual(steps('a.b.c'), ['a', 'b', 'c']);
    assert.deepEqual(steps('`a.b`.c'), ['a.b', 'c']);
    assert.deepEqual(steps('`a\\`.b`.c'), ['a`.b', 'c']);
    assert.deepEqual(steps('`a`b`.c'), ['a`b', 'c']);
    assert.deepEqual(steps('a.'), ['a', '']);
    assert.deepEqual(new SingleFieldPath('a.b', 'V1').steps, ['a.b']);
  });
});
