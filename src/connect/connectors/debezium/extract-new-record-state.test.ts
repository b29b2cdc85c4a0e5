// ExtractNewRecordState on envelopes built with the shared Debezium schemas.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectRecord, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { ExtractNewRecordState } from './extract-new-record-state.js';
import { envelopeStruct, keyStruct, rowStruct, tableSchemas } from './schemas.js';

const SOURCE = SchemaBuilder.struct().name('test.Source').field('table', Schemas.STRING).field('lsn', Schemas.OPTIONAL_INT64).build();
const tables = tableSchemas('srv.public.t', [{ name: 'id', schema: Schemas.INT32 }, { name: 'name', schema: Schemas.OPTIONAL_STRING }], ['id'], SOURCE);
const row = (id: number, name: string | null) => rowStruct(tables.valueSchema, new Map<string, unknown>([['id', id], ['name', name]]));
const source = new Struct(SOURCE).put('table', 't').put('lsn', 42n);

function event(op: 'c' | 'u' | 'd', before: Struct | null, after: Struct | null): ConnectRecord {
  return {
    topic: 'srv.public.t', kafkaPartition: null, keySchema: tables.keySchema, key: keyStruct(tables, new Map([['id', 1]])),
    valueSchema: tables.envelopeSchema, value: envelopeStruct(tables, op, before, after, source), timestamp: null, headers: [],
  };
}
const tombstone: ConnectRecord = { ...event('d', row(1, 'a'), null), valueSchema: null, value: null };

function transform(props: Record<string, string> = {}): ExtractNewRecordState {
  const smt = new ExtractNewRecordState();
  smt.configure(props);
  return smt;
}

describe('ExtractNewRecordState', () => {
  it('replaces the envelope by the after row; deletes become tombstones by default', () => {
    const smt = transform();
    const created = smt.apply(event('c', null, row(1, 'a')))!;
    assert.equal(created.valueSchema!.name, 'srv.public.t.Value');
    assert.deepEqual([(created.value as Struct).get('id'), (created.value as Struct).get('name')], [1, 'a']);
    assert.equal((created.key as Struct).get('id'), 1, 'the key is kept');
    const deleted = smt.apply(event('d', row(1, 'a'), null))!;
    assert.deepEqual([deleted.value, deleted.valueSchema], [null, null]);
    assert.equal(smt.apply(tombstone), null, 'the original tombstone is dropped: the delete became one');
  });

  it('rewrites deletes with __deleted and adds fields and headers', () => {
    const smt = transform({ 'delete.tombstone.handling.mode': 'rewrite-with-tombstone', 'add.fields': 'op,table,source.lsn', 'add.headers': 'op' });
    const deleted = smt.apply(event('d', row(1, 'a'), null))!;
    const value = deleted.value as Struct;
    assert.deepEqual(deleted.valueSchema!.fields!.map((field) => field.name), ['id', 'name', '__op', '__table', '__source_lsn', '__deleted']);
    assert.deepEqual(['id', '__op', '__table', '__source_lsn', '__deleted'].map((name) => value.get(name)), [1, 'd', 't', 42n, 'true']);
    assert.deepEqual(deleted.headers.map((header) => [header.key, header.value]), [['__op', 'd']]);
    assert.equal((smt.apply(event('u', null, row(1, 'b')))!.value as Struct).get('__deleted'), 'false');
    assert.equal(smt.apply(tombstone), tombstone, 'tombstones kept');
  });

  it('honours the legacy delete.handling.mode and drop.tombstones', () => {
    assert.equal(transform({ 'delete.handling.mode': 'drop' }).apply(event('d', row(1, 'a'), null)), null);
    const none = transform({ 'delete.handling.mode': 'none', 'drop.tombstones': 'false' });
    assert.equal(none.apply(event('d', row(1, 'a'), null))!.value, null);
    assert.equal(none.apply(tombstone), tombstone);
    assert.throws(() => transform({ 'delete.tombstone.handling.mode': 'keep' }), /delete\.tombstone\.handling\.mode/);
  });

  it('passes records that are not change events unchanged', () => {
    const other: ConnectRecord = { topic: 'x', kafkaPartition: null, keySchema: null, key: null, valueSchema: Schemas.STRING, value: 'hello', timestamp: null, headers: [] };
    assert.equal(transform().apply(other), other);
  });
});
