import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectRecord, LogicalNames, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { TimestampConverter } from './timestamp-converter.js';
import { dateSchema, KEY_SIDE, timestampSchema, VALUE_SIDE } from './util.js';

const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 't', kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: null, timestamp: null, headers: [], ...over,
});

function converter(props: Record<string, string>, side = VALUE_SIDE): TimestampConverter {
  const transform = new TimestampConverter(side);
  transform.configure(props);
  return transform;
}

const MILLIS = Date.UTC(2024, 2, 15, 10, 20, 30, 456);
const WHEN = new Date(MILLIS);

describe('TimestampConverter', () => {
  it('converts a whole schemaless value between kinds, inferring the input kind', () => {
    assert.equal(converter({ 'target.type': 'unix' }).apply(record({ value: WHEN })).value, MILLIS);
    assert.deepEqual(converter({ 'target.type': 'Timestamp' }).apply(record({ value: MILLIS })).value, WHEN);
    assert.equal(converter({ 'target.type': 'string', format: 'yyyy-MM-dd HH:mm:ss.SSS' }).apply(record({ value: MILLIS })).value, '2024-03-15 10:20:30.456');
    assert.deepEqual(converter({ 'target.type': 'Date', format: 'dd/MM/yyyy HH:mm' }).apply(record({ value: '15/03/2024 10:20' })).value, new Date(Date.UTC(2024, 2, 15)));
    assert.deepEqual(converter({ 'target.type': 'Time' }).apply(record({ value: WHEN })).value, new Date(Date.UTC(1970, 0, 1, 10, 20, 30, 456)));
    assert.equal(converter({ 'target.type': 'unix' }).apply(record({ value: null })).value, null);
  });

  it('reads and writes unix times in the configured precision', () => {
    assert.equal(converter({ 'target.type': 'unix', 'unix.precision': 'seconds' }).apply(record({ value: WHEN })).value, Math.trunc(MILLIS / 1000));
    assert.equal(converter({ 'target.type': 'unix', 'unix.precision': 'nanoseconds' }).apply(record({ value: WHEN })).value, BigInt(MILLIS) * 1_000_000n, 'beyond 2^53 stays a bigint');
    assert.deepEqual(converter({ 'target.type': 'Timestamp', 'unix.precision': 'microseconds' }).apply(record({ value: MILLIS * 1000 + 999 })).value, WHEN);
  });

  it('converts a struct field, building the field schema for the target type', () => {
    const schema = SchemaBuilder.struct().field('id', Schemas.INT32).field('at', SchemaBuilder.int64().optional().build()).build();
    const transform = converter({ field: 'at', 'target.type': 'Timestamp' });
    const out = transform.apply(record({ valueSchema: schema, value: new Struct(schema).put('id', 1).put('at', BigInt(MILLIS)) }));
    const at = out.valueSchema!.fields!.find((field) => field.name === 'at')!.schema;
    assert.deepEqual([at.name, at.type, at.optional], [LogicalNames.TIMESTAMP, 'int64', true]);
    assert.deepEqual((out.value as Struct).get('at'), WHEN);
    assert.equal((out.value as Struct).get('id'), 1);
    assert.equal(transform.apply(record({ valueSchema: schema, value: null })).value, null);
  });

  it('converts a whole schema’d key from its schema’s kind', () => {
    const out = converter({ 'target.type': 'string', format: 'yyyyMMdd' }, KEY_SIDE).apply(record({ keySchema: dateSchema(true), key: new Date(Date.UTC(2024, 0, 5)) }));
    assert.deepEqual([out.key, out.keySchema], ['20240105', Schemas.OPTIONAL_STRING]);
    const unix = converter({ 'target.type': 'unix' }, KEY_SIDE).apply(record({ keySchema: timestampSchema(false), key: WHEN }));
    assert.deepEqual([unix.key, unix.keySchema], [BigInt(MILLIS), Schemas.INT64]);
  });

  it('adds a missing schemaless field as null, and converts only the named one', () => {
    assert.deepEqual(converter({ field: 'at', 'target.type': 'unix' }).apply(record({ value: { x: 1 } })).value, { x: 1, at: null });
    assert.deepEqual(converter({ field: 'at', 'target.type': 'unix' }).apply(record({ value: { x: WHEN, at: WHEN } })).value, { x: WHEN, at: MILLIS });
  });

  it('refuses bad inputs and configurations', () => {
    assert.throws(() => converter({ 'target.type': 'unix', format: 'yyyy' }).apply(record({ value: 'nope' })), /Could not parse timestamp: value \(nope\) does not match pattern \(yyyy\)/);
    assert.throws(() => converter({ 'target.type': 'unix' }).apply(record({ value: 1.5 })), /TimestampConverter does not support number objects as timestamps/);
    assert.throws(() => converter({ 'target.type': 'unix' }).apply(record({ valueSchema: Schemas.BOOLEAN, value: true })), /does not correspond to a known timestamp type format/);
    assert.throws(() => converter({ 'target.type': 'string' }), /requires format option to be specified when using string timestamps/);
    assert.throws(() => converter({ 'target.type': 'timestamp' }), /Invalid value timestamp for configuration target.type: String must be one of: string, unix, Date, Time, Timestamp/);
    assert.throws(() => converter({ 'target.type': 'string', format: 'yyyy-qq' }), /requires a SimpleDateFormat-compatible pattern for string timestamps: yyyy-qq/);
    assert.throws(() => converter({}), /Missing required configuration "target.type"/);
  });
});
