import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectRecord, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { HeaderFrom } from './header-from.js';
import { KEY_SIDE, VALUE_SIDE } from './util.js';

const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 't', kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: null, timestamp: null,
  headers: [{ key: 'existing', schema: null, value: 1 }], ...over,
});

function headerFrom(props: Record<string, string>, side = VALUE_SIDE): HeaderFrom {
  const transform = new HeaderFrom(side);
  transform.configure(props);
  return transform;
}

const SCHEMA = SchemaBuilder.struct().name('Row').field('id', Schemas.INT32).field('user', Schemas.OPTIONAL_STRING).field('keep', Schemas.STRING).build();
const row = () => new Struct(SCHEMA).put('id', 3).put('user', 'ann').put('keep', 'k');

describe('HeaderFrom', () => {
  it('copies schemaless fields to headers without schemas', () => {
    const out = headerFrom({ fields: 'id,user', headers: 'h_id,h_user', operation: 'copy' }).apply(record({ value: { id: 3, user: 'ann' } }));
    assert.deepEqual(out.value, { id: 3, user: 'ann' });
    assert.deepEqual(out.headers, [
      { key: 'existing', schema: null, value: 1 },
      { key: 'h_id', schema: null, value: 3 },
      { key: 'h_user', schema: null, value: 'ann' },
    ]);
  });

  it('moves struct fields to headers with their schemas, dropping them from the schema', () => {
    const out = headerFrom({ fields: 'id,user', headers: 'h_id,h_user', operation: 'move' }, KEY_SIDE).apply(record({ keySchema: SCHEMA, key: row() }));
    assert.deepEqual(out.keySchema!.fields!.map((field) => field.name), ['keep']);
    assert.equal(out.keySchema!.name, 'Row');
    assert.equal((out.key as Struct).get('keep'), 'k');
    assert.deepEqual(out.headers.slice(1), [
      { key: 'h_id', schema: Schemas.INT32, value: 3 },
      { key: 'h_user', schema: Schemas.OPTIONAL_STRING, value: 'ann' },
    ]);
  });

  it('moves schemaless fields out of the map', () => {
    const out = headerFrom({ fields: 'id', headers: 'h', operation: 'move' }).apply(record({ value: { id: 3, user: 'ann' } }));
    assert.deepEqual(out.value, { user: 'ann' });
  });

  it('refuses mismatched lists and an unknown operation', () => {
    assert.throws(() => headerFrom({ fields: 'a,b', headers: 'h', operation: 'copy' }), /'fields' config must have the same number of elements as 'headers' config./);
    assert.throws(() => headerFrom({ fields: 'a', headers: 'h', operation: 'MOVE' }), /Invalid value MOVE for configuration operation: String must be one of: move, copy/);
  });
});
