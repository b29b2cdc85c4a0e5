import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectRecord, Schemas, Struct } from '../../api/data.js';
import { HoistField } from './hoist-field.js';
import { KEY_SIDE, VALUE_SIDE } from './util.js';

const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 't', kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: null, timestamp: null, headers: [], ...over,
});

function hoistField(side = VALUE_SIDE): HoistField {
  const transform = new HoistField(side);
  transform.configure({ field: 'wrapped' });
  return transform;
}

describe('HoistField', () => {
  it('wraps a schemaless value (null included) in a map', () => {
    assert.deepEqual(hoistField().apply(record({ value: 42 })).value, { wrapped: 42 });
    assert.deepEqual(hoistField().apply(record({ value: null })).value, { wrapped: null });
  });

  it('wraps a schema’d key in a struct whose schema is cached', () => {
    const transform = hoistField(KEY_SIDE);
    const out = transform.apply(record({ keySchema: Schemas.INT64, key: 5n, value: 'v' }));
    assert.deepEqual(out.keySchema!.fields!.map((field) => [field.name, field.schema]), [['wrapped', Schemas.INT64]]);
    assert.equal((out.key as Struct).get('wrapped'), 5n);
    assert.equal(out.value, 'v');
    assert.equal(transform.apply(record({ keySchema: Schemas.INT64, key: 6n })).keySchema, out.keySchema);
  });

  it('needs a field name', () => {
    assert.throws(() => new HoistField(VALUE_SIDE).configure({}), /Missing required configuration "field"/);
  });
});
