import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectConfigException } from '../../api/config.js';
import { DataException, LogicalNames, type Schema, SchemaBuilder, Schemas, type SinkRecord, type SourceRecord, Struct } from '../../api/data.js';
import { InsertField } from './insert-field.js';
import { KEY_SIDE, VALUE_SIDE } from './util.js';

const sink = (over: Partial<SinkRecord> = {}): SinkRecord => ({
  topic: 'orders', kafkaPartition: 3, keySchema: null, key: null, valueSchema: null, value: null, timestamp: 1_700_000_000_000, headers: [],
  kafkaOffset: 42, timestampType: 'CreateTime', originalTopic: 'orders', originalKafkaPartition: 3, originalKafkaOffset: 42, ...over,
});
const source = (over: Partial<SourceRecord> = {}): SourceRecord => ({
  topic: 'orders', kafkaPartition: null, keySchema: null, key: null, valueSchema: null, value: null, timestamp: null, headers: [],
  sourcePartition: { file: 'a' }, sourceOffset: { line: 1 }, ...over,
});

function insertField(side = VALUE_SIDE, props: Record<string, string> = {}): InsertField {
  const transform = new InsertField(side);
  transform.configure(props);
  return transform;
}

const ALL = { 'topic.field': 'topic!', 'partition.field': 'partition', 'offset.field': 'offset?', 'timestamp.field': 'ts', 'static.field': 'origin!', 'static.value': 'conveyor' };

describe('InsertField', () => {
  it('adds metadata and a static field to a schemaless value, keeping the record otherwise', () => {
    const record = sink({ value: { id: 1 } });
    const out = insertField(VALUE_SIDE, ALL).apply(record);
    assert.deepEqual(out.value, { id: 1, topic: 'orders', partition: 3, offset: 42, ts: 1_700_000_000_000, origin: 'conveyor' });
    assert.equal(out.kafkaOffset, 42);
    assert.equal(out.originalTopic, 'orders');
    assert.deepEqual(record.value, { id: 1 }, 'the input record is not changed');
  });

  it('builds a struct schema with the optionality of the ! and ? suffixes, cached per schema', () => {
    const schema = SchemaBuilder.struct().name('Order').version(2).field('id', Schemas.INT32).build();
    const transform = insertField(VALUE_SIDE, ALL);
    const out = transform.apply(sink({ valueSchema: schema, value: new Struct(schema).put('id', 7) }));
    const updated = out.valueSchema as Schema;
    assert.equal(updated.name, 'Order');
    assert.equal(updated.version, 2);
    const fieldSchema = (name: string) => updated.fields!.find((field) => field.name === name)!.schema;
    assert.deepEqual([fieldSchema('topic').type, fieldSchema('topic').optional], ['string', false]);
    assert.deepEqual([fieldSchema('partition').type, fieldSchema('partition').optional], ['int32', true]);
    assert.deepEqual([fieldSchema('offset').type, fieldSchema('offset').optional], ['int64', true]);
    assert.equal(fieldSchema('ts').name, LogicalNames.TIMESTAMP);
    assert.equal(fieldSchema('origin').optional, false);
    const struct = out.value as Struct;
    assert.equal(struct.get('id'), 7);
    assert.equal(struct.get('topic'), 'orders');
    assert.equal(struct.get('offset'), 42n);
    assert.deepEqual(struct.get('ts'), new Date(1_700_000_000_000));
    const again = transform.apply(sink({ valueSchema: schema, value: new Struct(schema).put('id', 8) }));
    assert.equal(again.valueSchema, updated, 'the second record of the same schema reuses the built schema');
  });

  it('works on the key with the $Key variant', () => {
    const out = insertField(KEY_SIDE, { 'topic.field': 't' }).apply(sink({ key: { k: 1 }, value: 'v' }));
    assert.deepEqual(out.key, { k: 1, t: 'orders' });
    assert.equal(out.value, 'v');
  });

  it('skips partition and timestamp when the record has none; refuses the offset of a source record', () => {
    const transform = insertField(VALUE_SIDE, { 'partition.field': 'p', 'timestamp.field': 'ts' });
    assert.deepEqual(transform.apply(source({ value: {} })).value, {});
    const withOffset = insertField(VALUE_SIDE, { 'offset.field': 'o' });
    assert.throws(() => withOffset.apply(source({ value: {} })), /Only SinkRecord supported for \[field insertion\], found: SourceRecord/);
  });

  it('passes null values through and refuses values that are not maps or structs', () => {
    const transform = insertField(VALUE_SIDE, { 'topic.field': 't' });
    const tombstone = sink({ value: null });
    assert.equal(transform.apply(tombstone), tombstone);
    assert.throws(() => transform.apply(sink({ value: 'text' })), (error: Error) => error instanceof DataException && /Only Map objects supported/.test(error.message));
  });

  it('copies defaults for null fields unless replace.null.with.default=false', () => {
    const schema = SchemaBuilder.struct().field('n', SchemaBuilder.int32().optional().defaultValue(5).build()).build();
    const value = new Struct(schema).put('n', null);
    assert.equal((insertField(VALUE_SIDE, { 'topic.field': 't' }).apply(sink({ valueSchema: schema, value })).value as Struct).get('n'), 5);
    const keepNull = insertField(VALUE_SIDE, { 'topic.field': 't', 'replace.null.with.default': 'false' });
    assert.equal((keepNull.apply(sink({ valueSchema: schema, value })).value as Struct).getWithoutDefault('n'), null);
  });

  it('refuses a configuration that inserts nothing, and a static field without a value', () => {
    assert.throws(() => insertField(VALUE_SIDE, {}), /No field insertion configured/);
    assert.throws(
      () => insertField(VALUE_SIDE, { 'static.field': 's' }),
      (error: Error) => error instanceof ConnectConfigException && error.key === 'static.value' && /No value specified for static field: s/.test(error.message),
    );
  });
});
