import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectRecord, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { SetSchemaMetadata } from './set-schema-metadata.js';
import { KEY_SIDE, VALUE_SIDE } from './util.js';

const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 't', kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: null, timestamp: null, headers: [], ...over,
});

function setMetadata(props: Record<string, string>, side = VALUE_SIDE): SetSchemaMetadata {
  const transform = new SetSchemaMetadata(side);
  transform.configure(props);
  return transform;
}

describe('SetSchemaMetadata', () => {
  it('renames a struct schema and moves the struct onto it', () => {
    const schema = SchemaBuilder.struct().name('old').version(1).doc('d').field('a', Schemas.INT32).build();
    const out = setMetadata({ 'schema.name': 'com.example.New', 'schema.version': '3' }).apply(record({ valueSchema: schema, value: new Struct(schema).put('a', 1) }));
    assert.deepEqual([out.valueSchema!.name, out.valueSchema!.version, out.valueSchema!.doc], ['com.example.New', 3, 'd']);
    assert.equal((out.value as Struct).schema, out.valueSchema);
    assert.equal((out.value as Struct).get('a'), 1);
  });

  it('sets only what is configured, on a primitive key too', () => {
    const schema = SchemaBuilder.string().name('keep').version(1).build();
    const out = setMetadata({ 'schema.version': '2' }, KEY_SIDE).apply(record({ keySchema: schema, key: 'k' }));
    assert.deepEqual([out.keySchema!.name, out.keySchema!.version, out.key], ['keep', 2, 'k']);
  });

  it('passes a null schemaless value, refuses a schemaless one, and needs a name or version', () => {
    const tombstone = record();
    assert.equal(setMetadata({ 'schema.name': 'n' }).apply(tombstone), tombstone);
    assert.throws(() => setMetadata({ 'schema.name': 'n' }).apply(record({ value: 'x' })), /Schema required for \[updating schema metadata\]/);
    assert.throws(() => setMetadata({}), /Neither schema name nor version configured/);
    assert.throws(() => setMetadata({ 'schema.version': 'two' }), /Invalid value two for configuration schema.version/);
  });
});
