import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectConfigException } from '../../api/config.js';
import { type ConnectRecord, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { ReplaceField } from './replace-field.js';
import { KEY_SIDE, VALUE_SIDE } from './util.js';

const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 't', kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: null, timestamp: null, headers: [], ...over,
});

function replaceField(props: Record<string, string>, side = VALUE_SIDE): ReplaceField {
  const transform = new ReplaceField(side);
  transform.configure(props);
  return transform;
}

const SCHEMA = SchemaBuilder.struct().name('Row').field('id', Schemas.INT32).field('name', Schemas.STRING).field('secret', Schemas.OPTIONAL_STRING).build();
const row = () => new Struct(SCHEMA).put('id', 1).put('name', 'ann').put('secret', 'x');

describe('ReplaceField', () => {
  it('excludes, includes and renames schemaless fields (exclude wins over include)', () => {
    const out = replaceField({ include: 'id,name,secret', exclude: 'secret', renames: 'name:fullName' }).apply(record({ value: { id: 1, name: 'ann', secret: 'x', other: 2 } }));
    assert.deepEqual(out.value, { id: 1, fullName: 'ann' });
  });

  it('builds the struct schema of the kept and renamed fields, keeping its name', () => {
    const out = replaceField({ exclude: 'secret', renames: 'id:key' }).apply(record({ valueSchema: SCHEMA, value: row() }));
    assert.equal(out.valueSchema!.name, 'Row');
    assert.deepEqual(out.valueSchema!.fields!.map((field) => field.name), ['key', 'name']);
    assert.equal((out.value as Struct).get('key'), 1);
    assert.equal((out.value as Struct).get('name'), 'ann');
  });

  it('works on keys, and passes a null key through', () => {
    const transform = replaceField({ include: 'a' }, KEY_SIDE);
    assert.deepEqual(transform.apply(record({ key: { a: 1, b: 2 } })).key, { a: 1 });
    const tombstoneKey = record({ key: null });
    assert.equal(transform.apply(tombstoneKey), tombstoneKey);
  });

  it('reads the deprecated blacklist and whitelist as exclude and include', () => {
    assert.deepEqual(replaceField({ blacklist: 'b' }).apply(record({ value: { a: 1, b: 2 } })).value, { a: 1 });
    assert.deepEqual(replaceField({ whitelist: 'b' }).apply(record({ value: { a: 1, b: 2 } })).value, { b: 2 });
    assert.deepEqual(replaceField({ whitelist: 'b', include: 'a' }).apply(record({ value: { a: 1, b: 2 } })).value, { a: 1 }, 'include wins');
  });

  it('refuses a rename that is not old:new', () => {
    assert.throws(
      () => replaceField({ renames: 'a:b,c' }),
      (error: Error) => error instanceof ConnectConfigException && error.message === 'Invalid value [a:b, c] for configuration renames: Invalid rename mapping: c',
    );
    assert.throws(() => replaceField({ renames: 'a:' }), /Invalid rename mapping: a:/);
  });
});
